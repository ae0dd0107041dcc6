//! The `Vars` port on `env` (`[vars]` and secrets).

use js_sys::{Reflect, JSON};
use sf_core::ports::Vars;
use wasm_bindgen::JsValue;
use worker::Env;

/// `[vars]` and secrets: both are properties of `env`. Non-string vars
/// (TOML tables) are returned as their JSON text.
pub struct CfVars(pub(crate) Env);

impl Vars for CfVars {
    fn var(&self, name: &str) -> Option<String> {
        let v = Reflect::get(&self.0, &JsValue::from_str(name)).ok()?;
        if v.is_undefined() || v.is_null() {
            return None;
        }
        if let Some(s) = v.as_string() {
            return Some(s);
        }
        JSON::stringify(&v).ok()?.as_string()
    }
}
