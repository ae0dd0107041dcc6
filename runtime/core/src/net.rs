//! The network guard every feature and both hosts use: URL syntax, candidate
//! extraction from free text, and the SSRF checks (CONTRACT 9).
//!
//! The guard has two halves. [`blocked_reason`] looks at the URL alone and
//! refuses every non-web scheme, userinfo, other ports, local names and IP
//! literals in any notation (decimal, hex, octal, short forms, IPv6 and
//! IPv4-mapped IPv6). [`check_resolved`] looks at the addresses a name
//! resolves to and refuses every special-purpose range; it is pure so the
//! host can call it between resolving and connecting (see [`PublicOnly`]).
#![allow(async_fn_in_trait)] // futures are intentionally !Send, see ports.rs

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Marker in the request extensions of every page fetch. A host that sees it
/// must: resolve the host name itself, refuse the request with
/// `FetchError::Blocked(reason)` when [`check_resolved`] fails, connect only to
/// the addresses it checked (no second lookup: DNS rebinding), and return
/// 3xx responses as they are (the engine follows and re-checks redirects).
/// On Cloudflare the Worker's fetch sandbox already refuses private ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicOnly;

/// A host's DNS lookup, for hosts that want [`resolve_public`].
pub trait Resolver {
    async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, String>;
}

// ---------------------------------------------------------------- parsing

/// An absolute http(s)-like URL split the way the guard needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    pub scheme: String,
    pub has_userinfo: bool,
    /// Lowercased; IPv6 literals keep their brackets.
    pub host: String,
    /// Explicit port as written (may be invalid).
    pub port: Option<String>,
    /// Path, query and fragment; starts with `/`.
    pub rest: String,
}

impl ParsedUrl {
    /// The port the request would use; `None` when the written port is not a number.
    pub fn effective_port(&self) -> Option<u32> {
        match self.port.as_deref() {
            None | Some("") => Some(if self.scheme == "http" { 80 } else { 443 }),
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 6 => p.parse().ok(),
            Some(_) => None,
        }
    }

    /// Serialised form used for display, de-duplication and fetching.
    pub fn serialize(&self) -> String {
        let default = if self.scheme == "http" { "80" } else { "443" };
        let port = match self.port.as_deref() {
            Some(p) if !p.is_empty() && p.trim_start_matches('0') != default => format!(":{p}"),
            _ => String::new(),
        };
        let at = if self.has_userinfo { "user@" } else { "" };
        format!("{}://{at}{}{port}{}", self.scheme, self.host, self.rest)
    }
}

/// Parses `scheme://authority/rest`. `\` counts as `/`, as browsers do for
/// web URLs, so `http://evil\@good` cannot hide a host behind userinfo.
pub fn parse_url(s: &str) -> Option<ParsedUrl> {
    let s = s.trim();
    let (scheme, after) = s.split_once("://")?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return None;
    }
    let end = after.find(['/', '\\', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    let (has_userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (true, &authority[i + 1..]),
        None => (false, authority),
    };
    let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
        let close = stripped.find(']')?;
        let host = &hostport[..close + 2];
        let tail = &stripped[close + 1..];
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(p.to_owned()),
            None if tail.is_empty() => None,
            None => return None,
        };
        (host.to_owned(), port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p.to_owned())),
            None => (hostport.to_owned(), None),
        }
    };
    let rest = rest.replace('\\', "/");
    let rest = if rest.starts_with('/') {
        rest
    } else {
        format!("/{rest}")
    };
    Some(ParsedUrl {
        scheme: scheme.to_ascii_lowercase(),
        has_userinfo,
        host: host.to_lowercase(),
        port,
        rest,
    })
}

/// `normalizeUrl`: URLs without a scheme are taken as `https://`.
pub fn normalize_url(candidate: &str) -> Option<ParsedUrl> {
    if candidate.contains("://") {
        parse_url(candidate)
    } else {
        parse_url(&format!("https://{}", candidate.trim()))
    }
}

// ---------------------------------------------------------------- extraction

fn url_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '<' | '>' | '"' | '\'' | ')')
}

fn strip_trailing(s: &str) -> &str {
    s.trim_end_matches([')', ',', '.', ';'])
}

/// URL-like strings in a prompt, in order of appearance, de-duplicated:
/// full `http(s)://` URLs and bare domains (`example.com/path`), skipping
/// e-mail domains and domains inside a full URL.
pub fn extract_candidates(prompt: &str) -> Vec<String> {
    let lower = prompt.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut found: Vec<(usize, usize, String)> = Vec::new();
    let mut i = 0;
    while i < lower.len() {
        let rest = &lower[i..];
        let starts = rest.starts_with("http://") || rest.starts_with("https://");
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if starts && boundary {
            let len = prompt[i..]
                .find(|c| !url_char(c))
                .unwrap_or(prompt.len() - i);
            let raw = strip_trailing(&prompt[i..i + len]);
            if raw
                .split_once("://")
                .is_some_and(|(_, after)| !after.is_empty())
            {
                found.push((i, i + len, raw.to_owned()));
            }
            i += len.max(1);
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    let full_spans: Vec<(usize, usize)> = found.iter().map(|(a, b, _)| (*a, *b)).collect();
    let inside_full = |p: usize| full_spans.iter().any(|(a, b)| p >= *a && p < *b);
    let domain_char = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'.';
    let mut j = 0;
    while j < bytes.len() {
        if !domain_char(bytes[j]) || (j > 0 && domain_char(bytes[j - 1])) {
            j += 1;
            continue;
        }
        let start = j;
        let mut end = j;
        while end < bytes.len() && domain_char(bytes[end]) {
            end += 1;
        }
        j = end;
        let run = &lower[start..end];
        let lead = run.len() - run.trim_start_matches('.').len();
        let host = run[lead..].trim_end_matches(['.', '-']);
        let preceded_by_at = start > 0 && bytes[start - 1] == b'@';
        if inside_full(start) || preceded_by_at || !is_bare_domain(host) {
            continue;
        }
        let host_start = start + lead;
        let mut host_end = host_start + host.len();
        if host_end == end && bytes.get(end) == Some(&b'/') {
            let tail = prompt[end..]
                .find(|c| !url_char(c))
                .map_or(prompt.len(), |n| end + n);
            if tail > end + 1 {
                host_end = tail;
            }
        }
        let raw = strip_trailing(&prompt[host_start..host_end]);
        found.push((host_start, host_end, raw.to_owned()));
        j = j.max(host_end);
    }
    found.sort_by_key(|(a, _, _)| *a);
    let mut out: Vec<String> = Vec::new();
    for (_, _, s) in found {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// `label(.label)+` ending in an alphabetic TLD of at least two letters.
fn is_bare_domain(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && labels
            .last()
            .is_some_and(|t| t.len() >= 2 && t.bytes().all(|b| b.is_ascii_alphabetic()))
}

/// Distinct normalised URLs of a prompt (`example.com` and
/// `https://example.com` are one URL).
pub fn distinct_urls(prompt: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in extract_candidates(prompt) {
        if let Some(u) = normalize_url(&c) {
            let s = u.serialize();
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

// ---------------------------------------------------------------- the guard

/// Why `url` may not be fetched, as a short reason code shown to the user in
/// parentheses; `None` when the URL itself is acceptable (its addresses are
/// checked after resolution).
pub fn blocked_reason(url: &ParsedUrl) -> Option<&'static str> {
    if url.scheme != "http" && url.scheme != "https" {
        return Some("unsupported_protocol");
    }
    if url.has_userinfo {
        return Some("userinfo_not_allowed");
    }
    match url.effective_port() {
        None => return Some("invalid_port"),
        Some(80 | 443) => {}
        Some(_) => return Some("port_not_allowed"),
    }
    // A trailing dot names the same host ("localhost." is localhost).
    let host = url.host.strip_suffix('.').unwrap_or(&url.host);
    if host.is_empty() {
        return Some("invalid_host");
    }
    if host == "localhost" || host.ends_with(".localhost") {
        return Some("localhost_not_allowed");
    }
    const LOCAL_SUFFIXES: [&str; 5] = [".local", ".internal", ".localdomain", ".home.arpa", ".lan"];
    if LOCAL_SUFFIXES.iter().any(|s| host.ends_with(s)) {
        return Some("local_domain_not_allowed");
    }
    if host.starts_with('[') || host.contains(':') {
        return Some("ip_not_allowed");
    }
    if ends_in_number(host) {
        return match parse_ipv4_number(host) {
            None => Some("invalid_ip"),
            Some(ip) if ip_class(IpAddr::V4(ip)).is_some() => Some("private_ip"),
            Some(_) => Some("ip_not_allowed"),
        };
    }
    let labels_ok = host.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    // Single-label names resolve through search domains to internal hosts.
    if !labels_ok || !host.contains('.') {
        return Some("invalid_host");
    }
    None
}

/// WHATWG "ends in a number": the last label is decimal digits or `0x` hex,
/// so the whole host is parsed as an IPv4 address in some notation.
fn ends_in_number(host: &str) -> bool {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    let Some(last) = parts.last() else {
        return false;
    };
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    last.strip_prefix("0x")
        .or_else(|| last.strip_prefix("0X"))
        .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// IPv4 in any notation browsers accept: 1-4 parts, each decimal, `0x` hex
/// or `0`-prefixed octal, the last part filling the remaining bytes
/// (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1` are all 127.0.0.1).
pub fn parse_ipv4_number(host: &str) -> Option<Ipv4Addr> {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(parts.len());
    for p in &parts {
        let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X"))
        {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (*p, 10)
        };
        let n = if digits.is_empty() {
            if p.is_empty() {
                return None;
            }
            0
        } else {
            u64::from_str_radix(digits, radix).ok()?
        };
        nums.push(n);
    }
    let (last, init) = nums.split_last()?;
    if init.iter().any(|n| *n > 255) {
        return None;
    }
    let last_bits = 8 * (5 - nums.len() as u32);
    if *last >= 1u64 << last_bits {
        return None;
    }
    let mut v: u64 = 0;
    for (i, n) in init.iter().enumerate() {
        v |= n << (24 - 8 * i as u32);
    }
    v |= last;
    Some(Ipv4Addr::from(u32::try_from(v).ok()?))
}

/// The special-purpose class of an address, `None` for public unicast.
pub fn ip_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => ipv4_class(v4),
        IpAddr::V6(v6) => ipv6_class(v6),
    }
}

fn ipv4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let class = match (a, b, c) {
        (0, _, _) => "unspecified",
        (10, _, _) => "private",
        (100, 64..=127, _) => "cgnat",
        (127, _, _) => "loopback",
        (169, 254, _) => "link_local",
        (172, 16..=31, _) => "private",
        (192, 0, 0) => "reserved",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (192, 88, 99) => "reserved",
        (192, 168, _) => "private",
        (198, 18..=19, _) => "benchmark",
        (224..=239, _, _) => "multicast",
        (255, 255, 255) if ip == Ipv4Addr::BROADCAST => "broadcast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    };
    Some(class)
}

fn ipv6_class(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // An IPv4 address in IPv6 clothing is refused whatever it embeds: the
    // stack may route it to the IPv4 address, public or not.
    if s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0) {
        return Some("ipv4_mapped");
    }
    let class = match s[0] {
        0x0064 if s[1] == 0xff9b => "nat64",
        0x0100 if s[1..4] == [0, 0, 0] => "reserved",
        0x2001 if s[1] == 0x0db8 => "documentation",
        0x2001 if s[1] < 0x0200 => "reserved",
        0x2002 => "reserved",
        0x3fff if s[1] < 0x1000 => "documentation",
        x if x & 0xfe00 == 0xfc00 => "private",
        x if x & 0xffc0 == 0xfe80 => "link_local",
        x if x & 0xffc0 == 0xfec0 => "private",
        x if x & 0xff00 == 0xff00 => "multicast",
        x if x & 0xe000 != 0x2000 => "reserved",
        _ => return None,
    };
    Some(class)
}

/// The post-resolution half of the guard: every address must be public
/// unicast (one bad address refuses the name, so a resolver answering a
/// mix cannot steer the connection). Empty answers are refused too.
pub fn check_resolved(addrs: &[IpAddr]) -> Result<(), String> {
    if addrs.is_empty() {
        return Err("dns_no_address".into());
    }
    for ip in addrs {
        if let Some(class) = ip_class(*ip) {
            return Err(format!("resolved_{class}"));
        }
    }
    Ok(())
}

/// Resolves `host` with the host's resolver and returns the addresses to
/// connect to, or the reason the name is refused.
pub async fn resolve_public<R: Resolver>(r: &R, host: &str) -> Result<Vec<IpAddr>, String> {
    let addrs = r.resolve(host).await.map_err(|_| "dns_failed".to_owned())?;
    check_resolved(&addrs)?;
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(u: &str) -> Option<&'static str> {
        normalize_url(u).and_then(|p| blocked_reason(&p))
    }

    #[test]
    fn candidates_full_and_bare_in_order() {
        assert_eq!(
            extract_candidates(
                "Update my FAQs based on https://example.com and https://example.org."
            ),
            vec!["https://example.com", "https://example.org"]
        );
        assert_eq!(
            extract_candidates(
                "use example.com/pricing), not joe@mail.example.net or (www.acme.io)"
            ),
            vec!["example.com/pricing", "www.acme.io"]
        );
        assert_eq!(
            extract_candidates("http://127.0.0.1:8080/x?y=1"),
            vec!["http://127.0.0.1:8080/x?y=1"]
        );
        assert!(extract_candidates("version 1.2.3, e.g. this").is_empty());
        assert_eq!(
            distinct_urls("example.com and https://example.com/ and HTTPS://Example.com"),
            vec!["https://example.com/"]
        );
    }

    #[test]
    fn guard_reasons_for_url_shapes() {
        let cases = [
            ("ftp://example.com/", Some("unsupported_protocol")),
            (
                "https://user:pass@example.com",
                Some("userinfo_not_allowed"),
            ),
            ("https://example.com@evil.com", Some("userinfo_not_allowed")),
            ("http://example.com:8080", Some("port_not_allowed")),
            ("http://example.com:x", Some("invalid_port")),
            ("https://example.com:443/", None),
            ("http://example.com:80/", None),
            ("http://localhost", Some("localhost_not_allowed")),
            ("http://localhost.", Some("localhost_not_allowed")),
            ("http://api.localhost/", Some("localhost_not_allowed")),
            ("https://internal.local", Some("local_domain_not_allowed")),
            ("https://db.internal", Some("local_domain_not_allowed")),
            ("http://intranet/", Some("invalid_host")),
            ("http://exa mple.com/", Some("invalid_host")),
            ("http://[::1]/", Some("ip_not_allowed")),
            ("http://[::ffff:127.0.0.1]/", Some("ip_not_allowed")),
            ("http://[2606:4700::1]/", Some("ip_not_allowed")),
            ("http://127.0.0.1", Some("private_ip")),
            ("http://10.0.0.5", Some("private_ip")),
            ("http://192.168.1.10", Some("private_ip")),
            ("http://172.16.0.1", Some("private_ip")),
            (
                "http://169.254.169.254/latest/meta-data",
                Some("private_ip"),
            ),
            ("http://100.64.0.1", Some("private_ip")),
            ("http://0.0.0.0", Some("private_ip")),
            ("http://2130706433/", Some("private_ip")),
            ("http://0x7f.1/", Some("private_ip")),
            ("http://0177.0.0.1/", Some("private_ip")),
            ("http://127.1/", Some("private_ip")),
            ("http://0x7f000001/", Some("private_ip")),
            ("http://198.18.0.1/", Some("private_ip")),
            ("http://8.8.8.8/", Some("ip_not_allowed")),
            ("http://134744072/", Some("ip_not_allowed")),
            ("http://999.1.1.1/", Some("invalid_ip")),
            ("http://1.2.3.4.5/", Some("invalid_ip")),
            ("http://evil.com\\@good.com/", None),
            ("https://example.com/faq", None),
            ("example.org", None),
        ];
        for (u, want) in cases {
            assert_eq!(reason(u), want, "{u}");
        }
        // The backslash ends the authority: the host is evil.com, not good.com.
        assert_eq!(
            normalize_url("http://evil.com\\@good.com/").map(|p| p.host),
            Some("evil.com".into())
        );
    }

    #[test]
    fn every_special_range_is_refused_after_resolution() {
        let blocked = [
            ("0.1.2.3", "unspecified"),
            ("10.1.2.3", "private"),
            ("100.64.0.1", "cgnat"),
            ("100.127.255.254", "cgnat"),
            ("127.0.0.1", "loopback"),
            ("169.254.169.254", "link_local"),
            ("172.31.255.255", "private"),
            ("192.0.0.8", "reserved"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("192.168.0.1", "private"),
            ("198.18.0.1", "benchmark"),
            ("198.19.255.255", "benchmark"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:8.8.8.8", "ipv4_mapped"),
            ("::ffff:127.0.0.1", "ipv4_mapped"),
            ("64:ff9b::a00:1", "nat64"),
            ("2001:db8::1", "documentation"),
            ("2001::1", "reserved"),
            ("fc00::1", "private"),
            ("fd12:3456::1", "private"),
            ("fe80::1", "link_local"),
            ("ff02::1", "multicast"),
            ("4000::1", "reserved"),
        ];
        for (ip, class) in blocked {
            let addr: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_class(addr), Some(class), "{ip}");
            assert_eq!(check_resolved(&[addr]), Err(format!("resolved_{class}")));
        }
        for ip in [
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "198.20.0.1",
            "2606:4700::6810:85e5",
        ] {
            let addr: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_class(addr), None, "{ip}");
        }
        let public: IpAddr = "93.184.216.34".parse().unwrap();
        let private: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(
            check_resolved(&[public, private]),
            Err("resolved_private".into())
        );
        assert_eq!(check_resolved(&[]), Err("dns_no_address".into()));
    }

    #[test]
    fn ipv4_notations() {
        let lo = Some(Ipv4Addr::new(127, 0, 0, 1));
        for h in [
            "127.0.0.1",
            "2130706433",
            "0x7f.1",
            "0177.0.0.1",
            "127.1",
            "0x7F.0.0.1",
            "127.0.0.1.",
        ] {
            assert_eq!(parse_ipv4_number(h), lo, "{h}");
        }
        assert_eq!(parse_ipv4_number("256.0.0.1"), None);
        assert_eq!(parse_ipv4_number("1.2.3.4.5"), None);
        assert_eq!(parse_ipv4_number("08.1.1.1"), None);
    }
}
