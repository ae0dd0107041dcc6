//! The model catalogue of the compiled policy (policy/providers.yaml), as
//! the operations commands name models: `provider/model`, or a bare model id.

use sf_core::policy::Model;

/// `provider/model` or `model` to the catalogue's model (the provider must
/// be the one whose catalogue declares it).
pub fn find(name: &str) -> Option<Model> {
    let name = name.trim();
    // Workers AI ids have slashes of their own (`@cf/meta/...`).
    Model::from_name(name).or_else(|| {
        let (p, m) = name.split_once('/')?;
        Model::from_name(m).filter(|x| x.provider().name() == p)
    })
}

/// Every model as `provider/model`, in policy order.
pub fn all() -> Vec<String> {
    Model::ALL
        .iter()
        .map(|m| format!("{}/{}", m.provider().name(), m.name()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_resolve_with_or_without_the_provider() {
        assert!(super::find("openai/gpt-4o").is_some());
        assert!(super::find("gpt-4o").is_some());
        assert!(super::find("deepseek/gpt-4o").is_none());
        assert!(super::find("@cf/meta/llama").is_none());
        assert!(super::find("@cf/meta/llama-3.1-8b-instruct").is_some());
        assert!(super::find("workersai/@cf/meta/llama-3.1-8b-instruct").is_some());
    }
}
