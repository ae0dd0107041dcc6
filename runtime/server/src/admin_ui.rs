//! The admin UI's static files under `/admin/` (everything there except the
//! admin API, `/admin/v1/...`), embedded at build time by `build.rs` from
//! `admin/dist/admin/`. Built without the UI, `/admin/` answers a page that
//! says how to build it. The UI routes with the URL hash, so only real files
//! and `/admin/` itself exist.

/// `(url path, bytes)`, sorted by path.
static FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/admin_ui.rs"));

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>San Francisco admin: UI not built</title></head><body>\
<h1>The admin UI is not in this build</h1>\
<p>This <code>sf</code> binary was built without <code>admin/dist</code>. Build the UI, then the binary:</p>\
<pre>cd admin &amp;&amp; npm ci &amp;&amp; npm run build &amp;&amp; cd .. &amp;&amp; cargo build -p sf-cli</pre>\
<p>(<code>bash scripts/test.sh</code> does both.) The admin API under <code>/admin/v1/</code> works without it.</p>\
</body></html>";

/// Whether `path` belongs to the UI (not to the API or another route).
pub fn is_ui_path(path: &str) -> bool {
    (path == "/admin" || path.starts_with("/admin/")) && !path.starts_with("/admin/v1/")
}

/// Whether this build embeds the UI.
pub fn built() -> bool {
    !FILES.is_empty()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn respond(
    status: u16,
    ctype: &str,
    cache: &str,
    body: Vec<u8>,
    extra: Option<(http::HeaderName, &'static str)>,
) -> http::Response<Vec<u8>> {
    let mut res = http::Response::new(body);
    *res.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    let h = res.headers_mut();
    if let Ok(v) = http::HeaderValue::from_str(ctype) {
        h.insert(http::header::CONTENT_TYPE, v);
    }
    if let Ok(v) = http::HeaderValue::from_str(cache) {
        h.insert(http::header::CACHE_CONTROL, v);
    }
    h.insert(
        http::header::X_CONTENT_TYPE_OPTIONS,
        http::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        http::header::X_FRAME_OPTIONS,
        http::HeaderValue::from_static("DENY"),
    );
    h.insert(
        http::header::CONTENT_SECURITY_POLICY,
        http::HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    if let Some((k, v)) = extra {
        h.insert(k, http::HeaderValue::from_static(v));
    }
    res
}

/// The answer for a UI path (see [`is_ui_path`]): the file, `/admin` →
/// `/admin/`, 404 for a missing file, 405 for anything but GET/HEAD.
pub fn serve(method: &http::Method, path: &str) -> http::Response<Vec<u8>> {
    let text = "text/plain; charset=utf-8";
    if method != http::Method::GET && method != http::Method::HEAD {
        return respond(
            405,
            text,
            "no-store",
            b"Method not allowed".to_vec(),
            Some((http::header::ALLOW, "GET, HEAD")),
        );
    }
    if path == "/admin" {
        return respond(
            308,
            text,
            "no-store",
            Vec::new(),
            Some((http::header::LOCATION, "/admin/")),
        );
    }
    let want = if path == "/admin/" {
        "/admin/index.html"
    } else {
        path
    };
    if !built() && want == "/admin/index.html" {
        return respond(
            200,
            "text/html; charset=utf-8",
            "no-store",
            NOT_BUILT.as_bytes().to_vec(),
            None,
        );
    }
    match FILES.binary_search_by(|(p, _)| (*p).cmp(want)) {
        Ok(i) => {
            let (p, bytes) = FILES[i];
            // Vite names the bundles by their content hash; index.html is not.
            let cache = if p.starts_with("/admin/assets/") {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            let body = if method == http::Method::HEAD {
                Vec::new()
            } else {
                bytes.to_vec()
            };
            respond(200, content_type(p), cache, body, None)
        }
        Err(_) => respond(404, text, "no-store", b"Not found".to_vec(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_paths_leave_the_api_alone() {
        assert!(is_ui_path("/admin/"));
        assert!(is_ui_path("/admin"));
        assert!(is_ui_path("/admin/assets/index-abc.js"));
        assert!(!is_ui_path("/admin/v1/metrics"));
        assert!(!is_ui_path("/administrator"));
        assert!(!is_ui_path("/healthz"));
    }

    #[test]
    fn the_index_answers_built_or_not() {
        let res = serve(&http::Method::GET, "/admin/");
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()[http::header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        let body = String::from_utf8_lossy(res.body()).to_string();
        if built() {
            assert!(body.contains("<div id=\"app\""), "{body}");
        } else {
            assert!(body.contains("npm run build"), "{body}");
        }
        assert_eq!(serve(&http::Method::GET, "/admin").status(), 308);
        assert_eq!(serve(&http::Method::POST, "/admin/").status(), 405);
        assert_eq!(serve(&http::Method::GET, "/admin/nope.js").status(), 404);
    }
}
