//! The local server as the web app's host, over HTTP: a small build served beside `/v1` with the
//! deployed security headers, SPA routing, no way out of the build's folder, and the files
//! bucket's CORS rules letting a page of the server's origin upload through a presigned URL (the
//! emulator enforces them on the browser's preflight as S3 does).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::OnceLock;

use esign_e2e::{Api, Reply};
use serde_json::json;

const FRAME_ANCESTORS: &str = "https://portal.example.com";
const SECRET: &str = "outside-the-build-7f3a";

/// A build like Vite's, in a temporary folder, beside a file that must never be served.
fn dist() -> &'static PathBuf {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("esign-e2e-web-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let dist = dir.join("dist");
        std::fs::create_dir_all(dist.join("assets")).expect("dist");
        let write = |rel: &str, text: &str| std::fs::write(dist.join(rel), text).expect("write");
        write(
            "index.html",
            "<!doctype html><title>esign</title><script type=module src=/assets/app-1a2b3c.js></script>",
        );
        write("assets/app-1a2b3c.js", "console.log('app')");
        write("assets/app-4d5e6f.css", "body{margin:0}");
        write("favicon.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
        write(".env", SECRET);
        std::fs::write(dir.join("outside.txt"), SECRET).expect("outside");
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.join("outside.txt"), dist.join("leak.txt")).expect("symlink");
        dist
    })
}

/// A client of the test server's listener that serves this build (see [`Api::web_app`]).
fn api() -> Api {
    Api::web_app(dist(), FRAME_ANCESTORS)
}

fn assert_security_headers(r: &Reply) {
    let emulator = esign_api::web::origin_of(esign_e2e::emulator()).expect("emulator origin");
    assert_eq!(
        r.header("content-security-policy"),
        Some(esign_api::web::content_security_policy(Some(&emulator), FRAME_ANCESTORS).as_str())
    );
    let csp = r.header("content-security-policy").unwrap_or("");
    assert!(csp.contains("script-src 'self';") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.ends_with(&format!("frame-ancestors {FRAME_ANCESTORS}")), "{csp}");
    assert!(csp.contains(&format!("connect-src 'self' {emulator};")), "presigned URLs reach the files store: {csp}");
    assert_eq!(r.header("strict-transport-security"), Some(esign_api::web::HSTS));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.header("permissions-policy"), Some(esign_api::web::PERMISSIONS_POLICY));
}

fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.raw).into_owned()
}

#[test]
fn the_app_is_served_with_the_deployed_headers() {
    let api = api();
    let index = api.get("/").send();
    assert_eq!(index.status, 200);
    assert_eq!(index.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    assert!(text(&index).contains("<title>esign</title>"));
    assert_security_headers(&index);

    let js = api.get("/assets/app-1a2b3c.js").send();
    assert_eq!((js.status, text(&js).as_str()), (200, "console.log('app')"));
    assert_eq!(js.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(js.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert_security_headers(&js);
    let css = api.get("/assets/app-4d5e6f.css").send();
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    let icon = api.get("/favicon.svg").send();
    assert_eq!((icon.status, icon.header("content-type")), (200, Some("image/svg+xml")));
    assert_eq!(icon.header("cache-control"), Some("no-cache"));

    let head = api.call("HEAD", "/assets/app-1a2b3c.js").send();
    assert_eq!((head.status, head.raw.len()), (200, 0));
    assert_security_headers(&head);
    let post = api.post("/sign-in").json(&json!({})).send();
    assert_eq!((post.status, post.header("allow")), (405, Some("GET, HEAD")));
}

#[test]
fn app_routes_get_the_index_and_missing_files_a_404() {
    let api = api();
    for route in ["/sign-in", "/operator", "/seals/seal_01J0/grants", "/assets", "/v1x/not-the-api"] {
        let r = api.get(route).send();
        assert_eq!(r.status, 200, "{route}");
        assert!(text(&r).contains("<title>esign</title>"), "{route}");
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{route}");
        assert_security_headers(&r);
    }
    for missing in ["/assets/app-000000.js", "/robots.txt"] {
        let r = api.get(missing).send();
        assert_eq!(r.status, 404, "{missing}");
        assert_security_headers(&r);
    }
}

/// Sends `path` exactly as written (an HTTP client would normalise `..`); answers the status line
/// and the whole answer.
fn raw_get(base: &str, path: &str) -> (String, String) {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("answer");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    (answer.lines().next().unwrap_or("").to_owned(), answer)
}

#[test]
fn nothing_outside_the_build_is_served() {
    let api = api();
    let mut escapes = vec![
        "/../outside.txt",
        "/assets/../../outside.txt",
        "/%2e%2e/outside.txt",
        "/%2E%2E%2Foutside.txt",
        "/assets/..%2f..%2foutside.txt",
        "/.env",
        "/%2eenv",
        "/assets/%2e%2e/.env",
        "/..%5coutside.txt",
        "/%00",
        "/%zz",
    ];
    if cfg!(unix) {
        escapes.push("/leak.txt"); // a symbolic link out of the build
    }
    for path in escapes {
        let (status, answer) = raw_get(&api.base, path);
        assert!(status.contains(" 404 ") || status.contains(" 400 "), "{path}: {status}");
        assert!(!answer.contains(SECRET), "{path} leaked the file");
    }
}

#[test]
fn the_api_answers_as_before() {
    let api = api();
    for (path, status) in [("/v1/members", 401), ("/v1/nothing", 404), ("/v1", 404)] {
        let r = api.get(path).send();
        assert_eq!((r.status, r.header("content-type")), (status, Some("application/problem+json")), "{path}");
        assert!(r.header("content-security-policy").is_none(), "{path}: the API's answers are unchanged");
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    let check = api.post("/v1/checks/registration").json(&json!({"contact_email": "nope"})).send();
    assert_eq!((check.status, check.body["errors"][0]["field"].as_str()), (200, Some("contact_email")));
}

#[test]
fn a_page_of_the_servers_origin_may_upload_through_a_presigned_url() {
    let api = api();
    let (id, key, _) = api.register("CORS Co");
    let letter = b"%PDF-1.4\n% a letter\n".to_vec();
    let ticket = api
        .post(&format!("/v1/enterprises/{id}/verification/letter"))
        .key(&key)
        .json(&json!({"content_type": "application/pdf", "size": letter.len()}))
        .send();
    assert_eq!(ticket.status, 201, "{:?}", ticket.body);
    let url = ticket.body["upload_url"].as_str().expect("upload url");

    // The browser's preflight from the web app's origin is allowed ...
    let preflight = |origin: &str| {
        api.call("OPTIONS", url)
            .header("origin", origin)
            .header("access-control-request-method", "PUT")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight(&api.base);
    assert_eq!(ok.status, 200, "{}", text(&ok));
    assert_eq!(ok.header("access-control-allow-origin"), Some(api.base.as_str()));
    assert!(ok.header("access-control-allow-methods").is_some_and(|m| m.contains("PUT")), "{:?}", ok.headers);
    // ... and from another origin refused: a browser goes no further than a preflight that is not
    // a 2xx (moto's server adds its own permissive CORS headers to every answer, this one too).
    let other = preflight("https://evil.example.com");
    assert_eq!(other.status, 403, "{}", text(&other));

    // The upload itself, as the browser sends it, gets the header the browser needs to see it.
    let put = api.put(url).header("origin", &api.base).raw("application/pdf", letter).send();
    assert_eq!(put.status, 200, "{}", text(&put));
    assert_eq!(put.header("access-control-allow-origin"), Some(api.base.as_str()));
    assert!(put.header("access-control-expose-headers").is_some_and(|h| h.contains("ETag")), "{:?}", put.headers);
}

#[test]
fn the_embedded_signing_pages_may_be_framed_by_customers_and_nothing_else_is() {
    let api = api();
    let emulator = esign_api::web::origin_of(esign_e2e::emulator()).expect("emulator origin");
    let embed = api.get("/embed/sign/ctr_0123").send();
    assert_eq!(embed.status, 200);
    assert!(text(&embed).contains("<title>esign</title>"), "SPA routing serves the app");
    let ancestors = esign_api::web::default_embed_ancestors(esign_core::Mode::Development);
    assert_eq!(
        embed.header("content-security-policy"),
        Some(esign_api::web::content_security_policy(Some(&emulator), ancestors).as_str())
    );
    assert_eq!(embed.header("referrer-policy"), Some("no-referrer"));
    // The rest of the app keeps its own frame-ancestors, even a path that merely starts alike.
    for path in ["/", "/contracts/ctr_0123", "/embedded"] {
        assert_security_headers(&api.get(path).send());
    }
}
