//! The conventions of the operations commands (`env`, `openapi`, `tenant`,
//! `routing`, `policy schema`): one JSON object on stdout by default,
//! `--format table` for people, errors as `{"error":{"code","message","hint"}}`
//! on stderr, and the exit codes of the charter: 0 ok, 1 validation, 2 auth,
//! 3 external API. Colour only when the stream is a terminal and `NO_COLOR`
//! is unset.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object on stdout (for scripts and CI).
    #[default]
    Json,
    /// Aligned columns for people.
    Table,
}

/// The flags every operations command takes.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Output: `json` (default, one object) or `table`.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Environment (local, dev, prod; `production`/`development` are accepted).
    #[arg(long = "env", env = "SF_ENV")]
    pub env: Option<String>,
    /// The `.sf.json` to read (default: found upwards from the current directory).
    #[arg(long, env = "SF_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Exit codes (CLI Spec v1, "Error policy").
pub const EXIT_VALIDATION: i32 = 1;
pub const EXIT_AUTH: i32 = 2;
pub const EXIT_EXTERNAL: i32 = 3;

/// A failure as the user sees it: a stable code, what happened, what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Fail {
    pub exit: i32,
    pub code: &'static str,
    pub message: String,
    pub hint: String,
    /// Extra fields for the error object (e.g. the list of problems).
    pub details: Option<Box<Value>>,
}

impl Fail {
    pub fn validation(
        code: &'static str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::new(EXIT_VALIDATION, code, message, hint)
    }
    pub fn auth(code: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::new(EXIT_AUTH, code, message, hint)
    }
    pub fn external(
        code: &'static str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::new(EXIT_EXTERNAL, code, message, hint)
    }
    fn new(
        exit: i32,
        code: &'static str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self {
            exit,
            code,
            message: message.into(),
            hint: hint.into(),
            details: None,
        }
    }
    pub fn to_json(&self) -> Value {
        let mut e = json!({"code": self.code, "message": self.message, "hint": self.hint});
        if let (Some(d), Some(m)) = (&self.details, e.as_object_mut()) {
            m.insert("details".into(), (**d).clone());
        }
        json!({ "error": e })
    }
}

/// What a command prints on success: the JSON object, and its table.
pub struct Output {
    pub json: Value,
    pub table: String,
}

impl Output {
    pub fn new(json: Value, table: String) -> Self {
        Self { json, table }
    }
}

/// Prints the result the way `format` asks and answers the exit code.
/// A failure still prints its `details` as the result on stdout when
/// `partial` is given (e.g. the list of problems `env validate` found).
pub fn finish(format: Format, r: Result<Output, Fail>) -> i32 {
    match r {
        Ok(o) => {
            print_out(format, &o);
            0
        }
        Err(f) => {
            print_err(format, &f);
            f.exit
        }
    }
}

/// Like [`finish`], with a result to print before the failure (a report
/// whose content is the problem list).
pub fn finish_with(format: Format, partial: Option<Output>, f: Fail) -> i32 {
    if let Some(o) = partial {
        print_out(format, &o);
    }
    print_err(format, &f);
    f.exit
}

fn print_out(format: Format, o: &Output) {
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&o.json).unwrap_or_default() + "\n",
        Format::Table => o.table.clone(),
    };
    write_stdout(&text);
}

fn print_err(format: Format, f: &Fail) {
    let text = match format {
        Format::Json => f.to_json().to_string() + "\n",
        Format::Table => {
            let red = paint_err("error", "1;31");
            let hint = paint_err("hint", "1;36");
            format!("{red}[{}]: {}\n{hint}: {}\n", f.code, f.message, f.hint)
        }
    };
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
}

/// Writes to stdout; a closed pipe (`| head`) is not worth a panic.
pub fn write_stdout(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes()).and_then(|_| o.flush());
}

fn colour(stream_is_tty: bool) -> bool {
    stream_is_tty && std::env::var_os("NO_COLOR").is_none()
}

/// `text` in the ANSI style `sgr` when stdout is a terminal.
pub fn paint(text: &str, sgr: &str) -> String {
    if colour(std::io::stdout().is_terminal()) {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

fn paint_err(text: &str, sgr: &str) -> String {
    if colour(std::io::stderr().is_terminal()) {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// Left-aligned columns, widths from the content, a dashed rule under the head.
pub fn grid(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(x) = w.get_mut(i) {
                *x = (*x).max(c.chars().count());
            }
        }
    }
    let line = |cells: &[String]| {
        let mut out = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = w.get(i).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join("  ");
        out.truncate(out.trim_end().len());
        out + "\n"
    };
    let mut out = line(&head.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    out += &line(&w.iter().map(|n| "-".repeat(*n)).collect::<Vec<_>>());
    for r in rows {
        out += &line(r);
    }
    out
}

/// A JSON value as a table cell.
pub fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_envelope_has_code_message_and_hint() {
        let f = Fail::auth(
            "AUTH_FAILED",
            "the admin API answered 401",
            "set SF_ADMIN_TOKEN",
        );
        assert_eq!(
            f.to_json(),
            json!({"error": {"code": "AUTH_FAILED", "message": "the admin API answered 401", "hint": "set SF_ADMIN_TOKEN"}})
        );
        assert_eq!(f.exit, 2);
        assert_eq!(Fail::validation("X", "m", "h").exit, 1);
        assert_eq!(Fail::external("X", "m", "h").exit, 3);
    }

    #[test]
    fn grid_aligns_columns() {
        let g = grid(&["a", "bb"], &[vec!["xyz".into(), "1".into()]]);
        assert_eq!(g, "a    bb\n---  --\nxyz  1\n");
    }
}
