//! The session cookie at the HTTP edge: found in the request's `Cookie` headers (read within a
//! bound, other cookies ignored) and written as `Set-Cookie`.

use esign_core::sessions::{SESSION_COOKIE, SessionToken};
use http::HeaderMap;

/// The most bytes of `Cookie` headers read; cookies past it are ignored.
pub const MAX_COOKIE_BYTES: usize = 8 * 1024;
/// The most cookies read.
const MAX_COOKIES: usize = 64;

/// What the request says about its session.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionCookie {
    /// No session cookie.
    Absent,
    /// A session cookie whose value cannot be a session token.
    Malformed,
    Present(SessionToken),
}

/// The session cookie among the request's cookies (the first one of that name).
pub fn session_cookie(headers: &HeaderMap) -> SessionCookie {
    let mut budget = MAX_COOKIE_BYTES;
    let mut seen = 0;
    for value in headers.get_all(http::header::COOKIE) {
        let bytes = value.as_bytes();
        if bytes.len() > budget {
            break;
        }
        budget -= bytes.len();
        // A header that is not visible ASCII holds no cookie of ours.
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            seen += 1;
            if seen > MAX_COOKIES {
                return SessionCookie::Absent;
            }
            let Some((name, val)) = pair.split_once('=') else { continue };
            if name.trim() == SESSION_COOKIE {
                let val = val.trim();
                let val = val.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(val);
                return match SessionToken::parse(val) {
                    Some(t) => SessionCookie::Present(t),
                    None => SessionCookie::Malformed,
                };
            }
        }
    }
    SessionCookie::Absent
}

/// `Set-Cookie` for a new session, living `max_age_secs` (the session's absolute lifetime).
pub fn set_session(token: &SessionToken, max_age_secs: u64) -> String {
    format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_secs}", token.expose())
}

/// `Set-Cookie` that makes the browser forget the session cookie.
pub fn clear_session() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    const TOKEN: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(http::header::COOKIE, HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    fn present() -> SessionCookie {
        SessionCookie::Present(SessionToken::parse(TOKEN).unwrap())
    }

    #[test]
    fn finds_the_session_among_other_cookies() {
        let line = format!("theme=dark; {SESSION_COOKIE}={TOKEN}; lang=zh-CN");
        assert_eq!(session_cookie(&headers(&[line.as_bytes()])), present());
        // In a second header line (HTTP/2 splits cookies), quoted, with spaces.
        let quoted = format!(" {SESSION_COOKIE} = \"{TOKEN}\" ");
        assert_eq!(session_cookie(&headers(&[b"a=1", quoted.as_bytes()])), present());
        assert_eq!(session_cookie(&headers(&[b"a=1; b; =c; esign_session=x"])), SessionCookie::Absent);
        assert_eq!(session_cookie(&HeaderMap::new()), SessionCookie::Absent);
    }

    #[test]
    fn a_bad_value_is_malformed_never_a_panic() {
        for bad in ["", "short", &format!("{TOKEN}A"), &TOKEN.replace('A', "+"), "!".repeat(43).as_str()] {
            let line = format!("{SESSION_COOKIE}={bad}");
            assert_eq!(session_cookie(&headers(&[line.as_bytes()])), SessionCookie::Malformed, "{bad:?}");
        }
        // Bytes that are not visible ASCII: that header is skipped.
        let mut raw = format!("{SESSION_COOKIE}={TOKEN}").into_bytes();
        raw.push(0xff);
        assert_eq!(session_cookie(&headers(&[&raw])), SessionCookie::Absent);
    }

    #[test]
    fn reading_is_bounded() {
        let big = format!("pad={}", "x".repeat(MAX_COOKIE_BYTES));
        let ours = format!("{SESSION_COOKIE}={TOKEN}");
        assert_eq!(session_cookie(&headers(&[big.as_bytes(), ours.as_bytes()])), SessionCookie::Absent);
        let many = (0..100).map(|i| format!("c{i}=v")).collect::<Vec<_>>().join("; ") + "; " + &ours;
        assert_eq!(session_cookie(&headers(&[many.as_bytes()])), SessionCookie::Absent);
        let few = (0..10).map(|i| format!("c{i}=v")).collect::<Vec<_>>().join("; ") + "; " + &ours;
        assert_eq!(session_cookie(&headers(&[few.as_bytes()])), present());
    }

    #[test]
    fn set_cookie_attributes() {
        let t = SessionToken::parse(TOKEN).unwrap();
        assert_eq!(
            set_session(&t, 43200),
            format!("__Host-esign_session={TOKEN}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=43200")
        );
        assert!(clear_session().starts_with("__Host-esign_session=;") && clear_session().ends_with("Max-Age=0"));
    }
}
