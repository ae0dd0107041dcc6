//! Input validation and the control projection (CONTRACT 7.3.1).

use serde_json::{Map, Value};

use sf_core::error::{ApiError, Issue};

/// One editable control as Bob projects it (`CopilotPane.tsx`), keeping only
/// well-typed fields so later steps never have to re-check shapes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Control {
    pub path: String,
    pub panel_id: Option<String>,
    pub group_id: Option<String>,
    pub group_label: Option<String>,
    pub type_: Option<String>,
    pub kind: Option<String>,
    pub label: Option<String>,
    /// `(label, value)` pairs; present only if every option was well-formed.
    pub options: Option<Vec<(String, String)>>,
    pub enum_values: Option<Vec<String>>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub item_id_path: Option<String>,
}

impl Control {
    /// The values an enum control accepts (its `enumValues`, then its
    /// options' values), at most `n`, for prompts and explanations.
    pub fn choices(&self, n: usize) -> Vec<&str> {
        self.enum_values
            .iter()
            .flatten()
            .map(String::as_str)
            .chain(self.options.iter().flatten().map(|(_, v)| v.as_str()))
            .take(n)
            .collect()
    }

    /// The label to show people: the label, else the path.
    pub fn display(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.path)
    }
    /// Grouping key for the light-edit policy: `groupId | groupLabel | panelId`.
    pub fn group_key(&self) -> Option<&str> {
        self.group_id
            .as_deref()
            .or(self.group_label.as_deref())
            .or(self.panel_id.as_deref())
    }
}

/// A validated request.
#[derive(Debug, Clone, PartialEq)]
pub struct CopilotInput {
    pub session_id: String,
    pub prompt: String,
    pub widget_type: String,
    pub current_config: Map<String, Value>,
    pub controls: Vec<Control>,
}

fn trimmed(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Validates `input`; every problem is reported at once, in contract order.
pub fn parse_input(input: &Value) -> Result<CopilotInput, ApiError> {
    // A non-object input is reported field by field like an empty object:
    // Bob shows the first issue, and "Missing required value" is the useful one.
    let empty = Map::new();
    let obj = input.as_object().unwrap_or(&empty);
    let mut issues = Vec::new();
    let session_id = trimmed(obj.get("sessionId"));
    if session_id.is_none() {
        issues.push(Issue::new("input.sessionId", "Missing required value"));
    }
    let prompt = trimmed(obj.get("prompt"));
    if prompt.is_none() {
        issues.push(Issue::new("input.prompt", "Missing required value"));
    }
    let widget_type = trimmed(obj.get("widgetType"));
    if widget_type.is_none() {
        issues.push(Issue::new("input.widgetType", "Missing required value"));
    }
    let config = obj.get("currentConfig").and_then(Value::as_object);
    if config.is_none() {
        issues.push(Issue::new(
            "input.currentConfig",
            "currentConfig must be an object",
        ));
    }
    let controls = obj.get("controls").and_then(Value::as_array);
    if controls.is_none() {
        issues.push(Issue::new("input.controls", "controls must be an array"));
    }
    match (session_id, prompt, widget_type, config, controls) {
        (Some(session_id), Some(prompt), Some(widget_type), Some(config), Some(controls))
            if issues.is_empty() =>
        {
            Ok(CopilotInput {
                session_id,
                prompt,
                widget_type,
                current_config: config.clone(),
                controls: controls.iter().filter_map(project_control).collect(),
            })
        }
        _ => Err(ApiError::bad_request("Invalid input").with_issues(issues)),
    }
}

/// Keeps a control only if it has a non-blank string path; drops ill-typed fields.
pub fn project_control(v: &Value) -> Option<Control> {
    let o = v.as_object()?;
    let path = o.get("path")?.as_str()?.trim();
    if path.is_empty() {
        return None;
    }
    let s = |k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    let options = o.get("options").and_then(Value::as_array).and_then(|a| {
        a.iter()
            .map(|opt| {
                let label = opt.get("label")?.as_str()?;
                let value = opt.get("value")?.as_str()?;
                Some((label.to_owned(), value.to_owned()))
            })
            .collect::<Option<Vec<_>>>()
    });
    let enum_values = o.get("enumValues").and_then(Value::as_array).and_then(|a| {
        a.iter()
            .map(|x| x.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
    });
    Some(Control {
        path: path.to_owned(),
        panel_id: s("panelId"),
        group_id: s("groupId"),
        group_label: s("groupLabel"),
        type_: s("type"),
        kind: s("kind"),
        label: s("label"),
        options,
        enum_values,
        min: o.get("min").and_then(Value::as_f64),
        max: o.get("max").and_then(Value::as_f64),
        item_id_path: s("itemIdPath"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_issue_is_reported_in_contract_order() {
        let err = parse_input(&json!({"prompt": "  "})).unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(err.message, "Invalid input");
        let body = err.to_json();
        assert_eq!(
            body["error"]["issues"],
            json!([
                {"path":"input.sessionId","message":"Missing required value"},
                {"path":"input.prompt","message":"Missing required value"},
                {"path":"input.widgetType","message":"Missing required value"},
                {"path":"input.currentConfig","message":"currentConfig must be an object"},
                {"path":"input.controls","message":"controls must be an array"}
            ])
        );
    }

    #[test]
    fn controls_are_projected_and_ill_typed_fields_dropped() {
        let inp = parse_input(&json!({
            "sessionId":" s ","prompt":" hi ","widgetType":"faq","currentConfig":{},
            "controls":[
                {"path":"  "},
                "nope",
                {"path":"a","kind":"enum","enumValues":["x",1],"options":[{"label":"X","value":"x"}],"min":"3","max":9}
            ]
        }))
        .unwrap();
        assert_eq!(inp.session_id, "s");
        assert_eq!(inp.prompt, "hi");
        assert_eq!(inp.controls.len(), 1);
        let c = &inp.controls[0];
        assert_eq!(c.enum_values, None);
        assert_eq!(c.options, Some(vec![("X".into(), "x".into())]));
        assert_eq!((c.min, c.max), (None, Some(9.0)));
    }
}
