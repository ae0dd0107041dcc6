//! Every fixture under fixtures/policy/invalid/ is rejected, and its first
//! diagnostic has the expected message, file, line and column. One test per
//! rule. (The macro-level snapshots of the same cases are in
//! codegen/macros/tests/ui/.)

use std::path::{Path, PathBuf};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/policy/invalid")
        .join(name)
}

fn diags(name: &str) -> sf_codegen::Diagnostics {
    match sf_codegen::compile(&case(name)) {
        Ok(_) => panic!("fixture `{name}` compiled but must fail"),
        Err(d) => d,
    }
}

/// Asserts the number of errors and the first one's place, message and help.
fn expect(name: &str, count: usize, file: &str, line: u64, col: u64, message: &str, help: &str) {
    let d = diags(name);
    let first = &d.0[0];
    assert_eq!(
        (
            first.file.as_str(),
            first.line,
            first.col,
            first.message.as_str()
        ),
        (file, line, col, message),
        "{d}"
    );
    assert!(
        first.help.as_deref().unwrap_or("").contains(help),
        "help of `{name}` lacks `{help}`:\n{d}"
    );
    assert_eq!(d.len(), count, "{d}");
}

#[test]
fn yaml_syntax() {
    expect(
        "yaml_syntax",
        1,
        "agents.yaml",
        27,
        20,
        "invalid YAML: illegal placement of ':' indicator",
        "unclosed `[`",
    );
}

#[test]
fn unknown_field_suggests_the_right_one() {
    expect(
        "unknown_field",
        1,
        "agents.yaml",
        48,
        5,
        "unknown field `taskclass` in agents.yaml",
        "did you mean `taskClass`?",
    );
}

#[test]
fn duplicate_agent_id() {
    // The other errors are the budgets row, the prompt and the scoring of the agent that lost its id.
    expect(
        "duplicate_agent_id",
        4,
        "agents.yaml",
        33,
        9,
        "duplicate agent `sdr.widget.copilot.v1`",
        "already declared at agents.yaml:21:9",
    );
}

#[test]
fn alias_colliding_with_an_id() {
    expect(
        "alias_collision",
        1,
        "agents.yaml",
        46,
        15,
        "alias `sdr.copilot` collides with the agent id",
        "agents.yaml:9:9",
    );
}

#[test]
fn two_names_one_rust_identifier() {
    expect(
        "rust_ident_collision",
        1,
        "policy/environments.yaml",
        4,
        49,
        "stage names `cloud-dev` and `cloud_dev` both become the Rust name `CloudDev`",
        "rename one of them",
    );
}

#[test]
fn unknown_provider() {
    expect(
        "unknown_provider",
        1,
        "agents.yaml",
        62,
        27,
        "unknown provider `openia`",
        "did you mean `openai`?",
    );
}

#[test]
fn unknown_model() {
    expect(
        "unknown_model",
        1,
        "policy/profiles.yaml",
        15,
        60,
        "unknown model `gpt-4o-mnii`",
        "did you mean `gpt-4o-mini`?",
    );
}

#[test]
fn unknown_profile() {
    expect(
        "unknown_profile",
        1,
        "policy/profiles.yaml",
        38,
        10,
        "unknown profile `paid_standrad`",
        "did you mean `paid_standard`?",
    );
}

#[test]
fn unknown_environment() {
    expect(
        "unknown_environment",
        1,
        "policy/endpoints.yaml",
        18,
        88,
        "unknown environment `locale`",
        "did you mean `local`?",
    );
}

#[test]
fn unknown_plan() {
    expect(
        "unknown_plan",
        1,
        "policy/budgets.yaml",
        12,
        9,
        "unknown plan `minibobb`",
        "did you mean `minibob`?",
    );
}

#[test]
fn default_provider_not_supported() {
    expect(
        "default_provider_not_supported",
        1,
        "agents.yaml",
        75,
        22,
        "default provider `anthropic` is not among the providers of agent `l10n.prague.strings.v1`",
        "add `anthropic` to `providers`",
    );
}

#[test]
fn profile_default_provider_without_models() {
    expect(
        "profile_default_provider",
        1,
        "policy/profiles.yaml",
        30,
        22,
        "default provider `anthropic` has no models in profile `curated_premium`",
        "pick one of its providers (openai)",
    );
}

#[test]
fn default_model_not_allowed() {
    expect("default_model_not_allowed", 1, "policy/profiles.yaml", 14, 28, "default model `deepseek-reasoner` is not in the allowed list of `deepseek` in profile `paid_standard`", "add `deepseek-reasoner` to `allowed`");
}

#[test]
fn empty_allowed_list() {
    expect(
        "empty_allowed_list",
        1,
        "policy/profiles.yaml",
        17,
        58,
        "empty allowed model list for `groq` in profile `paid_standard`",
        "allowed: [llama-3.3-70b-versatile]",
    );
}

#[test]
fn agent_without_usable_provider() {
    expect(
        "no_usable_provider",
        1,
        "agents.yaml",
        74,
        16,
        "agent `l10n.prague.strings.v1` has no usable provider under profile `curated_premium`",
        "offers `openai`",
    );
}

#[test]
fn missing_budget_cell() {
    expect("missing_budget_cell", 1, "policy/budgets.yaml", 52, 3, "missing budget cell: agent `agent.personalization.preview.v1` has no budget for profile `paid_premium`", "add `paid_premium:");
}

#[test]
fn zero_budget() {
    expect(
        "zero_budget",
        1,
        "policy/budgets.yaml",
        23,
        71,
        "maxRequests must be a positive number, found 0",
        "at least 1",
    );
}

#[test]
fn negative_budget() {
    expect(
        "negative_budget",
        1,
        "policy/budgets.yaml",
        24,
        35,
        "maxTokens must be a positive number, found -600",
        "at least 1",
    );
}

#[test]
fn over_cap_budget() {
    expect(
        "over_cap_budget",
        1,
        "policy/budgets.yaml",
        61,
        35,
        "maxTokens 22000 is above the ceiling of 8000",
        "at most 8000",
    );
}

#[test]
fn minibob_override_above_mint_caps() {
    expect(
        "minibob_over_mint_cap",
        1,
        "policy/budgets.yaml",
        19,
        30,
        "maxTokens 1420 is above the mint cap of 1200",
        "at most 1200",
    );
}

#[test]
fn duplicate_route() {
    expect(
        "duplicate_route",
        1,
        "policy/endpoints.yaml",
        18,
        48,
        "route `l10n_plan_v2` (POST /v1/l10n/plan) duplicates route `l10n_plan` (/v1/l10n/plan)",
        "policy/endpoints.yaml:17:45",
    );
}

#[test]
fn overlapping_route() {
    expect("overlapping_route", 1, "policy/endpoints.yaml", 18, 49, "route `preview_latest` (GET /v1/personalization/preview/latest) overlaps route `personalization_preview_status` (/v1/personalization/preview/{jobId})", "exactly one route");
}

#[test]
fn unknown_auth_scheme() {
    expect(
        "unknown_auth_scheme",
        1,
        "policy/endpoints.yaml",
        12,
        62,
        "unknown auth scheme `paris-signatur`",
        "did you mean `paris-signature`?",
    );
}

#[test]
fn model_without_price() {
    expect(
        "model_without_price",
        1,
        "policy/providers.yaml",
        49,
        15,
        "model `gpt-4o` has no outputUsdPer1m",
        "add `outputUsdPer1m:",
    );
}

#[test]
fn yaml_bomb_deep_nesting() {
    let d = diags("yaml_bomb_depth");
    assert_eq!(d.len(), 1, "{d}");
    assert_eq!(
        (d.0[0].file.as_str(), d.0[0].line),
        ("agents.yaml", 2),
        "{d}"
    );
    assert!(
        d.0[0]
            .message
            .starts_with("YAML rejected: recursion limit exceeded"),
        "{d}"
    );
}

#[test]
fn yaml_bomb_alias_explosion_is_rejected_quickly() {
    let t = std::time::Instant::now();
    let d = diags("yaml_bomb_aliases");
    assert_eq!(d.len(), 1, "{d}");
    assert_eq!(d.0[0].file, "agents.yaml", "{d}");
    assert!(
        d.0[0]
            .message
            .starts_with("YAML rejected: alias replay limit exceeded"),
        "{d}"
    );
    assert!(t.elapsed().as_secs() < 10);
}

#[test]
fn all_errors_are_reported_not_just_the_first() {
    // unknown_plan's file is budgets.yaml; break two more things in a copy.
    let dir = std::env::temp_dir().join(format!("sf-policy-multi-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("policy")).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let budgets = std::fs::read_to_string(root.join("policy/budgets.yaml")).unwrap();
    let broken = budgets.replace("plan: minibob", "plan: minibobb").replace(
        "{ maxTokens: 280, timeoutMs: 15000, maxRequests: 1 }",
        "{ maxTokens: 0, timeoutMs: 15000, maxRequests: 1 }",
    );
    std::fs::write(dir.join("policy/budgets.yaml"), broken).unwrap();
    std::fs::write(dir.join("EXTENDS"), root.to_str().unwrap()).unwrap();
    let d = match sf_codegen::compile(&dir) {
        Ok(_) => panic!("must fail"),
        Err(d) => d,
    };
    let _ = std::fs::remove_dir_all(&dir);
    let msgs: Vec<&str> = d.iter().map(|x| x.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "unknown plan `minibobb`",
            "maxTokens must be a positive number, found 0"
        ],
        "{d}"
    );
}

#[test]
fn unknown_var_reference_suggests_the_declared_one() {
    expect(
        "unknown_var_reference",
        1,
        "policy/providers.yaml",
        28,
        22,
        "unknown variable `DEEPSEEK_APIKEY`",
        "did you mean `DEEPSEEK_API_KEY`? (declared in policy/vars.yaml)",
    );
}

#[test]
fn cron_naming_an_undeclared_job() {
    expect(
        "cron_undeclared_job",
        1,
        "policy/jobs.yaml",
        18,
        31,
        "unknown job `retension`",
        "did you mean `retention`?",
    );
}

#[test]
fn duplicate_var() {
    expect(
        "duplicate_var",
        1,
        "policy/vars.yaml",
        202,
        11,
        "duplicate variable `SF_SELFTEST`",
        "already declared at policy/vars.yaml:198:11",
    );
}

#[test]
fn cron_field_out_of_range() {
    expect(
        "invalid_cron",
        1,
        "policy/jobs.yaml",
        18,
        13,
        "invalid cron expression `0 25 * * *`: hour `25`: 25 is outside 0-23",
        "minute (0-59) hour (0-23)",
    );
}

#[test]
fn var_not_upper_snake() {
    expect(
        "var_not_upper_snake",
        1,
        "policy/vars.yaml",
        46,
        11,
        "variable name `sf-concurrency-cap` is not UPPER_SNAKE_CASE",
        "e.g. `SF_CONCURRENCY_CAP`",
    );
}

#[test]
fn queue_kind_naming_an_undeclared_queue() {
    expect(
        "kind_unknown_queue",
        1,
        "policy/queues.yaml",
        29,
        36,
        "unknown queue `l10m`",
        "did you mean `l10n`?",
    );
}

#[test]
fn var_unknown_environment() {
    expect(
        "var_unknown_environment",
        1,
        "policy/vars.yaml",
        26,
        30,
        "unknown environment `production`",
        "`local`, `dev`, `prod` (declared in policy/environments.yaml)",
    );
}

#[test]
fn command_declared_twice() {
    expect(
        "duplicate_command",
        1,
        "policy/queues.yaml",
        28,
        76,
        "command `personalization.preview.enqueue` is declared twice",
        "already declared at policy/queues.yaml:27:",
    );
}

#[test]
fn secret_with_default() {
    expect(
        "secret_with_default",
        1,
        "policy/vars.yaml",
        104,
        14,
        "secret `GROQ_API_KEY` has a default",
        "remove `default`",
    );
}

#[test]
fn prompt_file_missing() {
    expect(
        "prompt_file_missing",
        1,
        "policy/prompts.yaml",
        9,
        63,
        "prompt file `policy/prompts/sdr-copilot.md` not found",
        "create `policy/prompts/sdr-copilot.md`",
    );
}

#[test]
fn prompt_for_an_unknown_agent() {
    expect(
        "prompt_unknown_agent",
        1,
        "policy/prompts.yaml",
        9,
        14,
        "unknown agent `sdr.copilott`",
        "did you mean `sdr.copilot`?",
    );
}

#[test]
fn fallback_model_not_in_catalogue() {
    expect(
        "fallback_model_not_in_catalogue",
        1,
        "policy/providers.yaml",
        43,
        35,
        "fallback model `nova-2-pro-v1` is not among the models of provider `openai`",
        "`gpt-4o-mini`",
    );
}

#[test]
fn approvals_unknown_operation() {
    expect(
        "approvals_unknown_operation",
        1,
        "policy/approvals.yaml",
        35,
        15,
        "unknown operation `financial_transaction`",
        "did you mean `financial_transactions`?",
    );
}

#[test]
fn credential_set_outside_credential_vars() {
    expect(
        "credential_set_outside_credential_vars",
        1,
        "policy/providers.yaml",
        84,
        24,
        "`NOVA_MODEL` is in a credential set of provider `amazon` but not in its `credentialVars`",
        "add `NOVA_MODEL` to `credentialVars`",
    );
}

#[test]
fn approvals_threshold_over_budget() {
    expect(
        "approvals_threshold_over_budget",
        1,
        "policy/approvals.yaml",
        33,
        23,
        "costThresholdUsd 75 of caller `agency` is above its dailyBudgetUsd 50",
        "lower the threshold or raise the budget",
    );
}

#[test]
fn code_completeness_cases_have_a_sound_policy() {
    // These fail in Rust (a job without a runner, a kind without a consumer),
    // not in the policy: the trybuild .stderr shows the missing trait item.
    for name in ["job_without_runner", "kind_without_consumer"] {
        if let Err(d) = sf_codegen::compile(&case(name)) {
            panic!("`{name}` must compile as a policy:\n{d}");
        }
    }
}

#[test]
fn approvals_no_callers() {
    expect(
        "approvals_no_callers",
        1,
        "policy/approvals.yaml",
        29,
        10,
        "no callers: `callers` is empty",
        "declare at least one caller",
    );
}

#[test]
fn approvals_unknown_provider() {
    expect(
        "approvals_unknown_provider",
        1,
        "policy/approvals.yaml",
        17,
        20,
        "unknown provider `deepsek`",
        "did you mean `deepseek`?",
    );
}

#[test]
fn job_reading_an_undeclared_variable() {
    expect(
        "job_undeclared_var",
        1,
        "policy/jobs.yaml",
        13,
        155,
        "unknown variable `SF_RETENTION_MAX_DELETE`",
        "did you mean `SF_RETENTION_MAX_DELETES`?",
    );
}

#[test]
fn tenancy_unknown_model() {
    expect(
        "tenancy_unknown_model",
        1,
        "policy/tenancy.yaml",
        22,
        38,
        "unknown model `deepseek-chatt` for provider `deepseek`",
        "did you mean `deepseek-chat`?",
    );
}

#[test]
fn approvals_caller_with_an_undeclared_token_variable() {
    expect(
        "approvals_undeclared_token_var",
        1,
        "policy/approvals.yaml",
        31,
        15,
        "unknown variable `SF_APPROVALS_AGENCY_TOKN`",
        "did you mean `SF_APPROVALS_AGENCY_TOKEN`?",
    );
}

#[test]
fn tenancy_unknown_provider() {
    expect(
        "tenancy_unknown_provider",
        1,
        "policy/tenancy.yaml",
        21,
        21,
        "unknown provider `openia`",
        "did you mean `openai`?",
    );
}

#[test]
fn tenancy_unknown_tier() {
    expect(
        "tenancy_unknown_tier",
        1,
        "policy/tenancy.yaml",
        25,
        14,
        "unknown tier `fre`",
        "did you mean `free`?",
    );
}

#[test]
fn tenancy_missing_tier() {
    expect(
        "tenancy_missing_tier",
        1,
        "policy/tenancy.yaml",
        27,
        3,
        "missing tier `premium`",
        "the routing rubric needs it",
    );
}
