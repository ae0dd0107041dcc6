//! What every feature knows about the isolate it runs in: the host's ports and
//! the environment facts read once from the variables (an isolate's variables do
//! not change while it lives). The composition root builds one per isolate
//! (Worker) or per thread (native host) and hands it to every feature.

use crate::error::ApiError;
use crate::grants::{self, Grant, GrantNames};
use crate::policy::{Environment, Profile, Provider, Var};
use crate::ports::{Clock, Host, Vars};

/// The secret grants are signed with.
pub const GRANT_SECRET_VAR: &str = Var::AiGrantHmacSecret.name();

/// Values a grant's `ai.profile` may take: the policy's profiles.
const PROFILE_NAMES: [&str; Profile::ALL.len()] = {
    let mut names = [""; Profile::ALL.len()];
    let mut i = 0;
    while i < Profile::ALL.len() {
        names[i] = Profile::ALL[i].name();
        i += 1;
    }
    names
};

/// The variable naming the environment (`local`, `dev`, `prod`).
pub const ENVIRONMENT_VAR: &str = Var::Environment.name();

pub struct Isolate<H: Host> {
    host: H,
    /// `ENVIRONMENT`, trimmed.
    env_name: Option<String>,
    env: Option<Environment>,
    /// Provider names a grant may carry here (grantable and enabled in this environment).
    grantable: Vec<&'static str>,
}

impl<H: Host> Isolate<H> {
    pub fn new(host: H) -> Self {
        let env_name = host
            .vars()
            .var(ENVIRONMENT_VAR)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        let env = env_name.as_deref().and_then(Environment::from_name);
        Self {
            host,
            env_name,
            env,
            grantable: grantable_providers(env),
        }
    }

    pub fn host(&self) -> &H {
        &self.host
    }

    /// `ENVIRONMENT` as configured (trimmed), if any.
    pub fn environment_name(&self) -> Option<&str> {
        self.env_name.as_deref()
    }

    /// `ENVIRONMENT` when it names one of the policy's environments.
    pub fn environment(&self) -> Option<Environment> {
        self.env
    }

    /// Provider names a grant's `ai.allowedProviders` may list here.
    pub fn grantable_providers(&self) -> &[&'static str] {
        &self.grantable
    }

    /// Verifies a grant token with [`GRANT_SECRET_VAR`] against this isolate's
    /// provider and profile names (500 naming the variable when it is unset).
    pub fn verify_grant(&self, token: &str) -> Result<Grant, ApiError> {
        let secret = self
            .host
            .vars()
            .var(GRANT_SECRET_VAR)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ApiError::missing_var(GRANT_SECRET_VAR))?;
        let names = GrantNames {
            providers: &self.grantable,
            profiles: &PROFILE_NAMES,
        };
        grants::verify_grant(token, secret.as_bytes(), self.host.clock().now_ms(), &names)
    }
}

/// Whether `p` may be used in this environment at all.
pub fn provider_enabled(p: Provider, env: Option<Environment>) -> bool {
    match p.environments() {
        None => true,
        Some(envs) => env.is_some_and(|e| envs.contains(&e)),
    }
}

/// Provider names a grant may list in `ai.allowedProviders` here.
pub fn grantable_providers(env: Option<Environment>) -> Vec<&'static str> {
    Provider::ALL
        .iter()
        .copied()
        .filter(|p| p.grantable() && provider_enabled(*p, env))
        .map(Provider::name)
        .collect()
}
