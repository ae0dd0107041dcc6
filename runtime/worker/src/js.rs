//! Conversions between Rust values and JavaScript values shared by the ports
//! and the event handlers.

use js_sys::{Reflect, JSON};
use wasm_bindgen::JsValue;

/// Best human-readable text of a thrown JS value (an `Error`'s message, a
/// string, or its JSON).
pub(crate) fn js_message(v: &JsValue) -> String {
    if let Some(s) = v.as_string() {
        return s;
    }
    if let Ok(m) = Reflect::get(v, &JsValue::from_str("message")) {
        if let Some(s) = m.as_string() {
            return s;
        }
    }
    JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "unknown JavaScript error".to_owned())
}

/// Converts a JSON value to a plain JS value (objects stay objects; going
/// through serde-wasm-bindgen would turn them into `Map`s).
pub(crate) fn json_to_js(v: &serde_json::Value) -> Result<JsValue, String> {
    let text = serde_json::to_string(v).map_err(|e| e.to_string())?;
    JSON::parse(&text).map_err(|e| js_message(&e))
}

/// Converts any structured-clonable JS value to JSON (`undefined` becomes `null`).
pub(crate) fn js_to_json(v: &JsValue) -> Result<serde_json::Value, String> {
    if v.is_undefined() {
        return Ok(serde_json::Value::Null);
    }
    let text = JSON::stringify(v)
        .map_err(|e| js_message(&e))?
        .as_string()
        .unwrap_or_else(|| "null".to_owned());
    serde_json::from_str(&text).map_err(|e| e.to_string())
}
