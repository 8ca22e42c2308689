//! The built web app, served by the local server beside `/v1` as CloudFront serves it when
//! deployed: a file of the build when the path names one (never outside the build's folder),
//! else `index.html` for the app's own routes (SPA routing; a missing path with a file extension
//! is a 404, as the deployed routing function leaves it to the bucket), with the same security
//! headers as the deployed response headers policy.

use std::path::{Component, Path, PathBuf};

use bytes::Bytes;
use http::Method;

use crate::handler::ApiResponse;

/// `Strict-Transport-Security` (two years, as deployed).
pub const HSTS: &str = "max-age=63072000; includeSubDomains";
/// `Permissions-Policy`: no powerful feature for anyone.
pub const PERMISSIONS_POLICY: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=()";
/// `Cache-Control` of the build's content-hashed files (`/assets/*`).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebError {
    #[error("the web app folder {0} has no index.html (build it with `npm run build` in web/)")]
    NoIndex(String),
    #[error("cannot read the web app folder {0}: {1}")]
    Folder(String, String),
    #[error("frame-ancestors {0:?}: {1}")]
    FrameAncestors(String, &'static str),
}

/// Checks a `frame-ancestors` source list (`'none'`, or `'self'` and host or scheme sources):
/// nothing in it can end the directive or add another.
pub fn frame_ancestors(list: &str) -> Result<String, WebError> {
    let bad = |why| WebError::FrameAncestors(list.to_owned(), why);
    let sources: Vec<&str> = list.split_ascii_whitespace().collect();
    if sources.is_empty() {
        return Err(bad("give 'none', 'self' or origins"));
    }
    for s in &sources {
        let keyword = matches!(*s, "'none'" | "'self'");
        let source = !s.starts_with('\'')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "-._~:/*[]".contains(c))
            && s.chars().any(|c| c.is_ascii_alphanumeric());
        if !keyword && !source {
            return Err(bad("each source is 'self', a scheme (https:) or an origin (https://portal.example.com)"));
        }
    }
    if sources.len() > 1 && sources.contains(&"'none'") {
        return Err(bad("'none' stands alone"));
    }
    Ok(sources.join(" "))
}

/// The scheme, host and port of a URL (`http://127.0.0.1:4599/x` → `http://127.0.0.1:4599`).
pub fn origin_of(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str().filter(|s| *s == "http" || *s == "https")?;
    Some(format!("{scheme}://{}", uri.authority()?.as_str().rsplit('@').next()?))
}

/// The `Content-Security-Policy` of the web app: everything from its own origin, uploads and
/// downloads through presigned URLs to `files_origin`, framed only by `frame_ancestors`.
pub fn content_security_policy(files_origin: Option<&str>, frame_ancestors: &str) -> String {
    let connect = match files_origin {
        Some(o) => format!("'self' {o}"),
        None => "'self'".to_owned(),
    };
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; \
         connect-src {connect}; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors {frame_ancestors}"
    )
}

/// What the local server serves outside `/v1`.
#[derive(Debug, Clone)]
pub struct WebApp {
    /// The build's folder, canonical: nothing outside it is ever served.
    root: PathBuf,
    headers: Vec<(String, String)>,
}

/// What a path names in the build.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    File(PathBuf),
    Index,
    NotFound,
}

impl WebApp {
    /// The app built into `dir` (which must hold `index.html`), with the security headers for
    /// uploads to `files_origin` and framing by `frame_ancestors` (checked by [`frame_ancestors`]).
    pub fn new(dir: &Path, files_origin: Option<&str>, frame_ancestors: &str) -> Result<Self, WebError> {
        let root = dir.canonicalize().map_err(|e| WebError::Folder(dir.display().to_string(), e.to_string()))?;
        if !root.join("index.html").is_file() {
            return Err(WebError::NoIndex(dir.display().to_string()));
        }
        let csp = content_security_policy(files_origin, &self::frame_ancestors(frame_ancestors)?);
        let headers = [
            ("content-security-policy", csp.as_str()),
            ("strict-transport-security", HSTS),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("permissions-policy", PERMISSIONS_POLICY),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        Ok(WebApp { root, headers })
    }

    /// The folder served.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The security headers every answer outside `/v1` carries.
    pub fn security_headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// Answers a request for `path` (not under `/v1`).
    pub async fn serve(&self, method: &Method, path: &str) -> ApiResponse {
        if method != Method::GET && method != Method::HEAD {
            let mut resp = self.text(405, "method not allowed");
            resp.headers.push(("allow".into(), "GET, HEAD".into()));
            return resp;
        }
        let (file, cache) = match self.target(path) {
            Target::File(file) => {
                let cache = if path.starts_with("/assets/") { IMMUTABLE } else { "no-cache" };
                (file, cache)
            }
            Target::Index => (self.root.join("index.html"), "no-cache"),
            Target::NotFound => return self.text(404, "not found"),
        };
        let read = tokio::task::spawn_blocking({
            let file = file.clone();
            move || std::fs::read(file)
        })
        .await;
        let Ok(Ok(body)) = read else {
            tracing::warn!(file = %file.display(), "a file of the web app could not be read");
            return self.text(404, "not found");
        };
        let mut headers = vec![
            ("content-type".to_owned(), content_type(&file).to_owned()),
            ("cache-control".to_owned(), cache.to_owned()),
        ];
        headers.extend(self.headers.iter().cloned());
        let body = if method == Method::HEAD { Bytes::new() } else { Bytes::from(body) };
        ApiResponse { status: 200, headers, body }
    }

    fn text(&self, status: u16, text: &'static str) -> ApiResponse {
        let mut headers = vec![
            ("content-type".to_owned(), "text/plain; charset=utf-8".to_owned()),
            ("cache-control".to_owned(), "no-cache".to_owned()),
        ];
        headers.extend(self.headers.iter().cloned());
        ApiResponse { status, headers, body: Bytes::from_static(text.as_bytes()) }
    }

    /// The file a request path names, if it is one of the build's: decoded, each segment a plain
    /// name (no `..`, no hidden files, no separators), and once symbolic links are followed
    /// still inside the build's folder.
    fn target(&self, path: &str) -> Target {
        let Some(decoded) = percent_decode(path) else { return Target::NotFound };
        let segments: Vec<&str> = decoded.split('/').filter(|s| !s.is_empty()).collect();
        let plain = |s: &&str| {
            !s.starts_with('.')
                && !s.chars().any(|c| c == '\\' || c == ':' || c.is_control())
                && matches!(Path::new(s).components().next(), Some(Component::Normal(_)))
        };
        if !segments.iter().all(plain) {
            return Target::NotFound;
        }
        let Some(last) = segments.last() else { return Target::Index };
        let candidate = segments.iter().fold(self.root.clone(), |p, s| p.join(s));
        match candidate.canonicalize() {
            Ok(real) if !real.starts_with(&self.root) => Target::NotFound,
            Ok(real) if real.is_file() => Target::File(real),
            // A folder, or nothing: the app's own route, unless it names a file (an extension).
            _ if last.contains('.') => Target::NotFound,
            _ => Target::Index,
        }
    }
}

/// `%XX` decoded; `None` for a bad escape or a result that is not UTF-8.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The content type of a build file, by its extension.
fn content_type(file: &Path) -> &'static str {
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csp_names_the_files_origin_and_the_frame_ancestors() {
        let csp = content_security_policy(Some("http://127.0.0.1:4599"), "'none'");
        assert_eq!(
            csp,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; \
             connect-src 'self' http://127.0.0.1:4599; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        );
        assert!(!csp.contains("unsafe"));
        assert!(content_security_policy(None, "'self'").contains("connect-src 'self';"));
    }

    #[test]
    fn frame_ancestors_cannot_smuggle_a_directive() {
        assert_eq!(frame_ancestors("'none'").unwrap(), "'none'");
        assert_eq!(
            frame_ancestors(" 'self'  https://portal.example.com https://*.example.org ").unwrap(),
            "'self' https://portal.example.com https://*.example.org"
        );
        for bad in [
            "",
            "  ",
            "'none' 'self'",
            "'self'; script-src *",
            "https://a.example.com,https://b",
            "'unsafe-inline'",
            "*",
        ] {
            assert!(frame_ancestors(bad).is_err(), "{bad:?}");
        }
        // Any whitespace separates sources; one space joins them.
        assert_eq!(frame_ancestors("'self'\nhttps://a.example.com").unwrap(), "'self' https://a.example.com");
    }

    #[test]
    fn origins_of_urls() {
        assert_eq!(origin_of("http://127.0.0.1:4599").as_deref(), Some("http://127.0.0.1:4599"));
        assert_eq!(origin_of("https://s3.example.com/bucket/key?x=1").as_deref(), Some("https://s3.example.com"));
        assert_eq!(origin_of("ftp://x"), None);
        assert_eq!(origin_of("not a url"), None);
    }

    #[test]
    fn paths_decode_or_are_refused() {
        assert_eq!(percent_decode("/a%20b").as_deref(), Some("/a b"));
        assert_eq!(percent_decode("/%2e%2e/x").as_deref(), Some("/../x"));
        assert_eq!(percent_decode("/%zz"), None);
        assert_eq!(percent_decode("/%2"), None);
        assert_eq!(percent_decode("/%ff"), None);
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type(Path::new("a/index.html")), "text/html; charset=utf-8");
        assert_eq!(content_type(Path::new("app-1a2b.JS")), "text/javascript; charset=utf-8");
        assert_eq!(content_type(Path::new("x.woff2")), "font/woff2");
        assert_eq!(content_type(Path::new("LICENSE")), "application/octet-stream");
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("esign-web-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("dist/assets")).unwrap();
        std::fs::write(dir.join("dist/index.html"), "<!doctype html>").unwrap();
        std::fs::write(dir.join("dist/assets/app-1a2b.js"), "1").unwrap();
        std::fs::write(dir.join("dist/.env"), "secret").unwrap();
        std::fs::write(dir.join("outside.txt"), "secret").unwrap();
        dir
    }

    #[test]
    fn targets_stay_inside_the_build() {
        let dir = scratch("targets");
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.join("outside.txt"), dir.join("dist/leak.txt")).unwrap();
        let app = WebApp::new(&dir.join("dist"), None, "'none'").unwrap();
        let root = app.root().to_owned();
        assert_eq!(app.target("/"), Target::Index);
        assert_eq!(app.target("/sign-in"), Target::Index);
        assert_eq!(app.target("/seals/seal_1/grants"), Target::Index);
        assert_eq!(app.target("/assets"), Target::Index);
        assert_eq!(app.target("/assets/app-1a2b.js"), Target::File(root.join("assets/app-1a2b.js")));
        assert_eq!(app.target("//assets//app-1a2b.js"), Target::File(root.join("assets/app-1a2b.js")));
        assert_eq!(app.target("/assets/missing.js"), Target::NotFound);
        for escape in [
            "/../outside.txt",
            "/%2e%2e/outside.txt",
            "/assets/..%2f..%2foutside.txt",
            "/.env",
            "/%2eenv",
            "/a\\..\\b",
            "/leak.txt",
            "/%00",
        ] {
            assert_eq!(app.target(escape), Target::NotFound, "{escape}");
        }
        assert!(matches!(WebApp::new(&dir, None, "'none'"), Err(WebError::NoIndex(_))));
        assert!(matches!(WebApp::new(&dir.join("nothing"), None, "'none'"), Err(WebError::Folder(..))));
        assert!(matches!(WebApp::new(&dir.join("dist"), None, "'self';"), Err(WebError::FrameAncestors(..))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
