//! Diagnostics in the style of rustc: what is wrong, where (file:line:col
//! relative to the policy root, so output is the same on every machine), the
//! offending line with a caret, and how to fix it.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    /// Path relative to the policy root, `/`-separated.
    pub file: String,
    /// 1-based; 0 when the problem has no single place (e.g. a missing file).
    pub line: u64,
    pub col: u64,
    /// The source line at `line`, captured when the diagnostic is made.
    pub excerpt: Option<String>,
    pub help: Option<String>,
}

/// Every problem found, in file order. Never empty when returned as an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
    /// Everything, ready for a terminal (`color`) or a log/snapshot.
    pub fn render(&self, color: bool) -> String {
        let mut out = String::new();
        for d in &self.0 {
            out.push_str(&d.render(color));
            out.push('\n');
        }
        let n = self.0.len();
        let summary = format!(
            "could not compile the policy due to {} previous error{}",
            n,
            if n == 1 { "" } else { "s" }
        );
        out.push_str(&paint(color, "1;31", "error"));
        out.push_str(&paint(color, "1", &format!(": {summary}")));
        out.push('\n');
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for Diagnostics {}

fn paint(color: bool, code: &str, s: &str) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

impl Diagnostic {
    /// `error: <message>` followed by [`Diagnostic::body`].
    pub fn render(&self, color: bool) -> String {
        format!(
            "{}{}\n{}",
            paint(color, "1;31", "error"),
            paint(color, "1", &format!(": {}", self.message)),
            self.body(color)
        )
    }

    /// The message without the `error: ` prefix, for `compile_error!` (rustc
    /// adds its own prefix).
    pub fn render_for_rustc(&self) -> String {
        format!("{}\n{}", self.message, self.body(false))
    }

    fn body(&self, color: bool) -> String {
        let blue = |s: &str| paint(color, "1;34", s);
        let mut out = String::new();
        let gutter = if self.line == 0 {
            1
        } else {
            self.line.to_string().len()
        };
        let pad = " ".repeat(gutter);
        if self.line == 0 {
            out.push_str(&format!("{pad}{} {}\n", blue("-->"), self.file));
        } else {
            out.push_str(&format!(
                "{pad}{} {}:{}:{}\n",
                blue("-->"),
                self.file,
                self.line,
                self.col
            ));
        }
        if let (Some(src), true) = (&self.excerpt, self.line > 0) {
            let src = src.trim_end();
            out.push_str(&format!("{pad} {}\n", blue("|")));
            out.push_str(&format!(
                "{} {} {}\n",
                blue(&self.line.to_string()),
                blue("|"),
                src
            ));
            let col0 = (self.col.max(1) - 1) as usize;
            let lead: String = src
                .chars()
                .take(col0)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let width = caret_width(src, col0);
            out.push_str(&format!(
                "{pad} {} {}{}\n",
                blue("|"),
                lead,
                paint(color, "1;31", &"^".repeat(width))
            ));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!(
                "{pad} {} {}: {}\n",
                blue("="),
                paint(color, "1", "help"),
                help
            ));
        }
        out
    }
}

/// How many characters the caret underlines: a quoted scalar to its closing
/// quote, a plain scalar to the next flow delimiter or comment, one character
/// for the start of a collection.
fn caret_width(line: &str, col0: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(col0).collect();
    let Some(&first) = rest.first() else {
        return 1;
    };
    if first == '"' || first == '\'' {
        let end = rest[1..].iter().position(|&c| c == first);
        return end.map(|e| e + 2).unwrap_or(rest.len()).max(1);
    }
    if first == '{' || first == '[' {
        // The whole flow collection when it closes on this line.
        let close = if first == '{' { '}' } else { ']' };
        let mut depth = 0usize;
        for (i, &c) in rest.iter().enumerate() {
            if c == first {
                depth += 1;
            } else if c == close {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
        }
        return 1;
    }
    let mut n = 0;
    for (i, &c) in rest.iter().enumerate() {
        if c == ',' || c == ']' || c == '}' || (c == '#' && i > 0 && rest[i - 1] == ' ') {
            break;
        }
        if c == ':' && rest.get(i + 1).is_none_or(|n| *n == ' ') {
            break;
        }
        n = i + 1;
    }
    let s: String = rest[..n].iter().collect();
    s.trim_end().chars().count().max(1)
}

/// Levenshtein distance over chars; small inputs only.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate when it is plausibly a typo of `wrong`.
pub fn did_you_mean<'a, I>(wrong: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (wrong.chars().count() / 3).max(2);
    let lw = wrong.to_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            let d = if c.to_lowercase() == lw {
                0
            } else {
                edit_distance(&lw, &c.to_lowercase())
            };
            (d, c)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `help:` text for an unknown name: a suggestion if one is close, else the list.
pub fn unknown_help(wrong: &str, kind: &str, known: &[&str]) -> String {
    match did_you_mean(wrong, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "declare the {kind} first, or use one of: {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rustc_style() {
        let d = Diagnostic {
            message: "unknown provider `deepsek`".into(),
            file: "agents.yaml".into(),
            line: 14,
            col: 17,
            excerpt: Some("    providers: [deepsek, amazon]".into()),
            help: Some("did you mean `deepseek`?".into()),
        };
        assert_eq!(
            d.render(false),
            "error: unknown provider `deepsek`\n  --> agents.yaml:14:17\n   |\n14 |     providers: [deepsek, amazon]\n   |                 ^^^^^^^\n   = help: did you mean `deepseek`?\n"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("deepsek", ["deepseek", "openai"]),
            Some("deepseek")
        );
        assert_eq!(did_you_mean("zzzzzz", ["deepseek", "openai"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn caret_covers_quoted_and_plain_scalars() {
        assert_eq!(caret_width(r#"  path: "/v1/x" # c"#, 8), 7);
        assert_eq!(caret_width("  auth: beerer", 8), 6);
        assert_eq!(caret_width("  - { id: a, b: c }", 4), 15);
        assert_eq!(caret_width("  x: [a, [b]", 5), 1);
    }
}
