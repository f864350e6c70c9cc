//! CSRF tokens and the cookies that carry web sessions, for every state-changing request of a
//! web surface. A token is derived from a secret the browser holds in an HttpOnly cookie (a
//! session, or a one-time sign-in cookie), so a page served inside that session can show it and
//! a cross-site page cannot know it; the browser does not send SameSite=Strict cookies with a
//! cross-site POST either, and `Sec-Fetch-Site` names one when the browser tells.

use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::Response;

/// The token for `purpose` (e.g. "sign-out") under a 256-bit `secret`: a keyed BLAKE3 hash, so
/// one purpose's token says nothing about another's or about the secret.
pub fn token(secret: &[u8; 32], purpose: &str) -> String {
    blake3::keyed_hash(secret, purpose.as_bytes())
        .to_hex()
        .to_string()
}

/// Compares two tokens without leaking where they differ; an empty expected token never matches.
pub fn matches(given: &str, expected: &str) -> bool {
    // Comparing digests of both makes the comparison constant-time (blake3::Hash's `==` is).
    !expected.is_empty() && blake3::hash(given.as_bytes()) == blake3::hash(expected.as_bytes())
}

/// Does the browser say this request comes from another site (`Sec-Fetch-Site: cross-site`)?
pub fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
}

/// Does this state-changing request come from anywhere but a page of this origin, as far as
/// the browser tells? `Sec-Fetch-Site` other than `same-origin` (or `none`: typed or
/// bookmarked), or an `Origin` other than `https://` and the host the request was addressed to
/// (`uri`'s authority over HTTP/2, `Host` over HTTP/1.1). `Origin: null` tells nothing: our
/// own pages send it, since `Referrer-Policy: no-referrer` makes the browser hide the origin
/// of their form posts. A request that tells nothing (an older browser, a tool) is judged by
/// its CSRF token alone.
pub fn foreign(headers: &HeaderMap, uri: &Uri) -> bool {
    let fetch_site = headers.get("sec-fetch-site").map(HeaderValue::as_bytes);
    if fetch_site.is_some_and(|v| v != b"same-origin" && v != b"none") {
        return true;
    }
    let Some(origin) = headers
        .get(header::ORIGIN)
        .filter(|o| o.as_bytes() != b"null")
    else {
        return false;
    };
    let host = uri
        .authority()
        .map(|a| a.as_str().as_bytes())
        .or_else(|| headers.get(header::HOST).map(HeaderValue::as_bytes));
    match (origin.as_bytes().strip_prefix(b"https://"), host) {
        (Some(from), Some(to)) => !from.eq_ignore_ascii_case(to),
        _ => true,
    }
}

/// The value of the cookie `name` the browser sent, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// `response` with a `Set-Cookie: cookie` header added (a value that is not a valid header is
/// left out: cookies are built from hex tokens and fixed attributes).
pub fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The attributes of every session cookie: scripts cannot read it, it goes only over HTTPS and
/// never with a request another site starts.
pub fn session_cookie(name: &str, value: &str, max_age_s: i64) -> String {
    format!("{name}={value}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={max_age_s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_by_secret_and_purpose_and_match_only_themselves() {
        let (a, b) = ([7u8; 32], [8u8; 32]);
        assert_ne!(token(&a, "sign-out"), token(&b, "sign-out"));
        assert_ne!(token(&a, "sign-out"), token(&a, "assign"));
        assert!(matches(&token(&a, "x"), &token(&a, "x")));
        assert!(!matches(&token(&a, "x"), &token(&a, "y")));
        assert!(!matches("", ""), "an empty expected token never matches");
    }

    #[test]
    fn cookies_are_read_by_exact_name_and_cross_site_requests_are_told() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a_session=1; session=2"),
        );
        assert_eq!(cookie(&h, "session").as_deref(), Some("2"));
        assert_eq!(cookie(&h, "other"), None);
        assert!(!cross_site(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(cross_site(&h));
        let uri = Uri::from_static("/incidents/x");
        let mut own = HeaderMap::new();
        own.insert(header::HOST, HeaderValue::from_static("hub.example:8443"));
        assert!(!foreign(&own, &uri), "no Origin, no Sec-Fetch-Site");
        own.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://hub.example:8443"),
        );
        own.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(!foreign(&own, &uri));
        let mut hidden = own.clone();
        hidden.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!foreign(&hidden, &uri), "our own page under no-referrer");
        for (k, v) in [
            ("origin", "https://evil.example"),
            ("origin", "http://hub.example:8443"),
            ("sec-fetch-site", "same-site"),
            ("sec-fetch-site", "cross-site"),
        ] {
            let mut other = own.clone();
            other.insert(k, HeaderValue::from_static(v));
            assert!(foreign(&other, &uri), "{k}: {v}");
        }
        assert_eq!(
            session_cookie("s", "ab", 0),
            "s=ab; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0"
        );
    }
}
