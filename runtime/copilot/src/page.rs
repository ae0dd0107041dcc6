//! Reading one public page for the copilot (CONTRACT 9.3): fetched through the
//! host with the network guard of `sf_core::net` on every hop (redirects are
//! followed here and re-checked), cut at [`MAX_PAGE_BYTES`], and its HTML
//! turned into text.

use std::time::Duration;

use sf_core::net::{blocked_reason, normalize_url, ParsedUrl, PublicOnly};
use sf_core::ports::{Clock, Fetch, FetchError};

/// Page bytes read at most (the rest is cut, CONTRACT 9.3).
pub const MAX_PAGE_BYTES: usize = 750_000;
/// Redirect hops followed at most; each hop is re-checked by the guard.
pub const MAX_REDIRECTS: usize = 3;

/// One page read for the copilot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub final_url: String,
    pub title: Option<String>,
    pub text: String,
    pub truncated: bool,
}

/// Why a page could not be read. Details are for logs; users see the URL
/// and at most the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// The guard refused the URL or a redirect target (reason code).
    Blocked(String),
    /// The final response was not 2xx.
    Status(u16),
    Failed(String),
}

/// Resolves a `Location` header against the URL it came from.
fn resolve_location(base: &ParsedUrl, loc: &str) -> Option<String> {
    let loc = loc.trim();
    let lower = loc.to_ascii_lowercase();
    if lower.contains("://") {
        return Some(loc.to_owned());
    }
    if let Some(rest) = loc.strip_prefix("//") {
        return Some(format!("{}://{rest}", base.scheme));
    }
    let origin = ParsedUrl {
        rest: String::new(),
        ..base.clone()
    }
    .serialize();
    if loc.starts_with('/') {
        return Some(format!("{origin}{loc}"));
    }
    let path = base.rest.split(['?', '#']).next().unwrap_or("/");
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    Some(format!("{origin}{dir}{loc}"))
}

/// One document as fetched: the final URL, the body (cut at the caller's
/// limit) and whether it is HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub final_url: String,
    pub body: String,
    pub is_html: bool,
    pub truncated: bool,
}

/// Reads one public page: guard on every hop, at most [`MAX_REDIRECTS`]
/// redirects, one deadline for the whole exchange, HTML or plain text only,
/// at most [`MAX_PAGE_BYTES`] bytes.
pub async fn fetch_page<F: Fetch, C: Clock>(
    fetch: &F,
    clock: &C,
    url: &str,
    timeout_ms: u64,
) -> Result<Page, PageError> {
    let doc = fetch_document(fetch, clock, url, timeout_ms, MAX_PAGE_BYTES).await?;
    let (title, text) = if doc.is_html {
        html_to_text(&doc.body)
    } else {
        (None, collapse_ws(&doc.body))
    };
    Ok(Page {
        final_url: doc.final_url,
        title,
        text,
        truncated: doc.truncated,
    })
}

/// [`fetch_page`] without the conversion to text, cut at `max_bytes`: for
/// readers that want the page's head as well as its words.
pub async fn fetch_document<F: Fetch, C: Clock>(
    fetch: &F,
    clock: &C,
    url: &str,
    timeout_ms: u64,
    max_bytes: usize,
) -> Result<Document, PageError> {
    let deadline = clock.now_ms().saturating_add(timeout_ms.max(250));
    let mut current = url.to_owned();
    for hop in 0..=MAX_REDIRECTS {
        let parsed =
            normalize_url(&current).ok_or_else(|| PageError::Blocked("invalid_url".into()))?;
        if let Some(reason) = blocked_reason(&parsed) {
            return Err(PageError::Blocked(reason.into()));
        }
        let target = parsed.serialize();
        let target = target.split('#').next().unwrap_or(&target).to_owned();
        let mut req = http::Request::get(&target)
            .header(
                "accept",
                "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1",
            )
            .header("accept-language", "en-US,en;q=0.9")
            .header(
                "user-agent",
                "Mozilla/5.0 (compatible; SanFranciscoCopilot/1.0; +https://clickeen.com)",
            )
            .header("cache-control", "no-cache")
            .body(Vec::new())
            .map_err(|e| PageError::Failed(format!("request: {e}")))?;
        req.extensions_mut().insert(PublicOnly);
        let left = deadline.saturating_sub(clock.now_ms());
        if left == 0 {
            return Err(PageError::Failed("timeout".into()));
        }
        let res = match fetch.fetch(req, Duration::from_millis(left)).await {
            Ok(r) => r,
            Err(FetchError::Blocked(reason)) => return Err(PageError::Blocked(reason)),
            Err(FetchError::Timeout) => return Err(PageError::Failed("timeout".into())),
            Err(FetchError::Network(m)) => return Err(PageError::Failed(m)),
        };
        let status = res.status().as_u16();
        if matches!(status, 301 | 302 | 303 | 307 | 308) {
            if hop == MAX_REDIRECTS {
                return Err(PageError::Failed("too many redirects".into()));
            }
            let loc = res
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| PageError::Failed("redirect without location".into()))?;
            current = resolve_location(&parsed, loc)
                .ok_or_else(|| PageError::Failed("bad redirect location".into()))?;
            continue;
        }
        if !(200..300).contains(&status) {
            return Err(PageError::Status(status));
        }
        let ctype = res
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let is_html = ctype.contains("text/html") || ctype.contains("application/xhtml");
        if !is_html && !ctype.contains("text/plain") {
            return Err(PageError::Failed(format!("content type {ctype}")));
        }
        let body = res.into_body();
        let truncated = body.len() > max_bytes;
        let body = &body[..body.len().min(max_bytes)];
        if body.is_empty() {
            return Err(PageError::Failed("empty body".into()));
        }
        return Ok(Document {
            final_url: target,
            body: String::from_utf8_lossy(body).into_owned(),
            is_html,
            truncated,
        });
    }
    Err(PageError::Failed("too many redirects".into()))
}

// ---------------------------------------------------------------- HTML to text

const BLOCK_TAGS: [&str; 24] = [
    "p",
    "div",
    "br",
    "hr",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "main",
    "aside",
    "blockquote",
    "pre",
];
const DROP_TAGS: [&str; 6] = ["script", "style", "noscript", "template", "svg", "iframe"];

/// `(title, text)` of an HTML document: dropped script-like elements,
/// newlines for block boundaries, tags removed, entities decoded, whitespace
/// collapsed. Not a parser: good enough to give a model the words of a page.
pub fn html_to_text(html: &str) -> (Option<String>, String) {
    let lower = html.to_ascii_lowercase();
    let mut title = None;
    let mut out = String::with_capacity(html.len() / 2);
    let mut i = 0;
    while i < html.len() {
        let Some(rel) = html[i..].find('<') else {
            out.push_str(&html[i..]);
            break;
        };
        out.push_str(&html[i..i + rel]);
        i += rel;
        if lower[i..].starts_with("<!--") {
            i = lower[i..].find("-->").map_or(html.len(), |e| i + e + 3);
            continue;
        }
        let Some(close) = html[i..].find('>') else {
            break;
        };
        let tag = &lower[i + 1..i + close];
        let is_end = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        i += close + 1;
        if !is_end && (DROP_TAGS.contains(&name.as_str()) || name == "title") {
            let end_tag = format!("</{name}");
            let end = lower[i..].find(&end_tag).map_or(html.len(), |e| i + e);
            if name == "title" && title.is_none() {
                let t = collapse_ws(&decode_entities(&html[i..end]));
                if !t.is_empty() {
                    title = Some(t);
                }
            }
            i = lower[end..].find('>').map_or(html.len(), |e| end + e + 1);
            continue;
        }
        if BLOCK_TAGS.contains(&name.as_str()) {
            out.push('\n');
        } else {
            out.push(' ');
        }
    }
    (title, collapse_ws(&decode_entities(&out)))
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        let end = rest.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let ent = &rest[1..e];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => {
                    let num = ent.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(h) => u32::from_str_radix(h, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Collapses runs of spaces within lines and drops blank lines.
fn collapse_ws(s: &str) -> String {
    s.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text() {
        let html = "<html><head><title>Acme &amp; Co</title><style>p{}</style><script>alert(1)</script></head>\
                    <body><h1>Welcome</h1><p>We sell <b>rockets</b>&nbsp;&#38; more.</p><!-- hidden --><br>Bye</body></html>";
        let (title, text) = html_to_text(html);
        assert_eq!(title.as_deref(), Some("Acme & Co"));
        assert_eq!(text, "Welcome\nWe sell rockets & more.\nBye");
    }

    #[test]
    fn relative_redirects() {
        let base = normalize_url("https://example.com/a/b?q=1").unwrap();
        assert_eq!(
            resolve_location(&base, "/x").as_deref(),
            Some("https://example.com/x")
        );
        assert_eq!(
            resolve_location(&base, "c").as_deref(),
            Some("https://example.com/a/c")
        );
        assert_eq!(
            resolve_location(&base, "//other.org/").as_deref(),
            Some("https://other.org/")
        );
        assert_eq!(
            resolve_location(&base, "http://127.0.0.1/").as_deref(),
            Some("http://127.0.0.1/")
        );
    }
}
