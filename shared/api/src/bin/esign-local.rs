//! `esign-local`: every route of the API in one process on 127.0.0.1, against the emulator at
//! `AWS_ENDPOINT_URL`, whose resources it first creates from `infra/template.yaml`.
//!
//! Environment: `ESIGN_LOCAL_ADDR` (default 127.0.0.1:3000), `ESIGN_TEMPLATE` (default
//! infra/template.yaml), `ESIGN_LOCAL_PREFIX` (default esign-local), `ESIGN_MODE` (default
//! development here), `ESIGN_OPERATOR_KEYS` (clear keys, hashed at start-up) and/or
//! `ESIGN_OPERATOR_KEY_HASHES`, `ESIGN_OPERATORS` (identifiers operators sign in with by code),
//! `ESIGN_SESSION_IDLE_SECS` and `ESIGN_SESSION_MAX_SECS`, `ESIGN_AWS_CALL_LOG` (records the AWS
//! calls each route's function makes, as JSON lines), `ESIGN_PUBLIC_URL` (default: the server's
//! own address; where certificates say the CRLs and the OCSP responder are),
//! `ESIGN_LOCAL_EVIDENCE_SECS` (default 0, never: runs the scheduled `generate-evidence` every so
//! many seconds, as its one-minute schedule does when deployed; `scripts/local.sh` sets 5).
//!
//! The built web app is served at every path outside `/v1` from `ESIGN_WEB_DIR` (default
//! `web/dist` when it holds an `index.html`), with the deployed security headers;
//! `ESIGN_FRAME_ANCESTORS` (default `'none'`) says who may frame it. The files bucket's CORS
//! rules allow the server's own origin and those in `ESIGN_WEB_ORIGINS` (comma-separated, e.g.
//! a development server's), so pages there upload through presigned URLs.

use std::process::ExitCode;

use std::net::SocketAddr;
use std::path::PathBuf;

use esign_api::local::{LocalSetup, local_platform, serve_with_web};
use esign_api::web::{WebApp, default_embed_ancestors, origin_of};
use esign_core::Mode;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// The origins a browser reaches the server at: its address, and `localhost` for a loopback or
/// unspecified one (an unspecified address answers on loopback too).
fn own_origins(addr: SocketAddr) -> Vec<String> {
    let port = addr.port();
    if addr.ip().is_unspecified() {
        return vec![format!("http://127.0.0.1:{port}"), format!("http://localhost:{port}")];
    }
    let mut origins = vec![format!("http://{addr}")];
    if addr.ip().is_loopback() {
        origins.push(format!("http://localhost:{port}"));
    }
    origins
}

/// The web app's folder: `ESIGN_WEB_DIR`, or `web/dist` when it holds a build.
fn web_dir() -> Option<PathBuf> {
    match std::env::var("ESIGN_WEB_DIR").ok().filter(|d| !d.is_empty()) {
        Some(dir) => Some(dir.into()),
        None => Some(PathBuf::from("web/dist")).filter(|d| d.join("index.html").is_file()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    esign_api::init_tracing();
    let addr = env_or("ESIGN_LOCAL_ADDR", "127.0.0.1:3000");
    let mut config = match esign_aws::local_config_from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("esign-local: {e}");
            return ExitCode::FAILURE;
        }
    };
    if std::env::var("ESIGN_MODE").is_err() {
        config.mode = Mode::Development;
    }
    if config.operator_keys.is_empty() {
        eprintln!(
            "esign-local: warning: neither ESIGN_OPERATOR_KEYS nor ESIGN_OPERATOR_KEY_HASHES is set, so nobody can \
             review submissions"
        );
    }
    if let Err(e) = esign_aws::calls::install_from_env() {
        eprintln!("esign-local: {e}");
        return ExitCode::FAILURE;
    }
    let Some(endpoint) = std::env::var("AWS_ENDPOINT_URL").ok().filter(|e| !e.is_empty()) else {
        eprintln!(
            "esign-local: AWS_ENDPOINT_URL is not set: the local server provisions an emulator (moto or \
             LocalStack), never a real account; start one with scripts/emulator.sh"
        );
        return ExitCode::FAILURE;
    };
    let web = match web_dir() {
        None => None,
        Some(dir) => {
            let frame_ancestors = env_or("ESIGN_FRAME_ANCESTORS", "'none'");
            let embed_ancestors = env_or("ESIGN_EMBED_ANCESTORS", default_embed_ancestors(config.mode));
            match WebApp::new(&dir, origin_of(&endpoint).as_deref(), &frame_ancestors)
                .and_then(|w| w.with_embed_ancestors(&embed_ancestors))
            {
                Ok(web) => Some(web),
                Err(e) => {
                    eprintln!("esign-local: ESIGN_WEB_DIR: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    // Listening first: the bucket's CORS rules name the address actually bound.
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("esign-local: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bound = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("esign-local: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Embedded signing links point at this server unless ESIGN_WEB_URL names another.
    if config.web_url.is_none() {
        config.web_url = Some(format!("http://{bound}"));
    }
    // Certificates name this server's CRLs and OCSP responder unless ESIGN_PUBLIC_URL says otherwise.
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{bound}"));
    }
    let mut web_origins = own_origins(bound);
    web_origins.extend(
        std::env::var("ESIGN_WEB_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned),
    );
    // No EventBridge locally: generate-evidence runs on the server's own tick when asked.
    let evidence_every = match env_or("ESIGN_LOCAL_EVIDENCE_SECS", "0").parse::<u64>() {
        Ok(0) => None,
        Ok(secs) => Some(std::time::Duration::from_secs(secs)),
        Err(_) => {
            eprintln!("esign-local: ESIGN_LOCAL_EVIDENCE_SECS is a number of seconds (0: never)");
            return ExitCode::FAILURE;
        }
    };
    let setup = LocalSetup {
        endpoint,
        template: env_or("ESIGN_TEMPLATE", "infra/template.yaml").into(),
        prefix: env_or("ESIGN_LOCAL_PREFIX", "esign-local"),
        config,
        web_origins,
        evidence_every,
    };
    let platform = match local_platform(&setup).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("esign-local: {e}");
            return ExitCode::FAILURE;
        }
    };
    match &web {
        Some(web) => eprintln!(
            "esign-local: serving http://{bound}/ (the web app in {}) and http://{bound}/v1 ({:?} mode)",
            web.root().display(),
            setup.config.mode
        ),
        None => eprintln!("esign-local: serving http://{bound}/v1 ({:?} mode; no web app built)", setup.config.mode),
    }
    if let Err(e) = serve_with_web(listener, platform, web).await {
        eprintln!("esign-local: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
