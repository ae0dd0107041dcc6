#!/usr/bin/env bash
# Validates the generated documents with validators from PyPI:
#   docs/openapi.json          with openapi-spec-validator (OpenAPI 3.1)
#   docs/schemas/*.schema.json with jsonschema (draft 2020-12 metaschema), and every
#                              policy file (agents.yaml, policy/*.yaml) against its schema
# Installs both into the git-ignored .tools/docs-venv; if they cannot be installed
# (offline), the check is skipped with a message. That the files are current is
# cli/tests/generated_docs.rs's job (cargo test).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.tools/docs-venv

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import openapi_spec_validator, jsonschema, yaml" 2>/dev/null; then
  echo "validate-docs: installing openapi-spec-validator into $VENV"
  python3 -m venv "$VENV"
  if ! "$VENV/bin/pip" install -q --disable-pip-version-check "openapi-spec-validator>=0.7,<0.9" "jsonschema>=4.18" "PyYAML>=6"; then
    echo "validate-docs: SKIPPED: the validators could not be installed from PyPI (offline?)"
    exit 0
  fi
fi

"$VENV/bin/python" - <<'PY'
import glob, json, os, sys
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

spec, _ = read_from_filename("docs/openapi.json")
validate(spec)
print(f"validate-docs: docs/openapi.json is valid OpenAPI {spec['openapi']} ({len(spec['paths'])} paths)")

bad = 0
files = ["agents.yaml"] + sorted(glob.glob("policy/*.yaml"))
for f in files:
    stem = os.path.basename(f)[: -len(".yaml")]
    with open(f"docs/schemas/{stem}.schema.json") as fh:
        schema = json.load(fh)
    Draft202012Validator.check_schema(schema)
    with open(f) as fh:
        doc = yaml.safe_load(fh)
    errors = sorted(Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    for e in errors:
        bad += 1
        print(f"validate-docs: {f}: {'.'.join(map(str, e.path)) or '<root>'}: {e.message}")
print(f"validate-docs: {len(files)} policy files checked against their schemas, {bad} errors")
sys.exit(1 if bad else 0)
PY
