//! `esign-local`: every route of the API in one process on 127.0.0.1, against the emulator at
//! `AWS_ENDPOINT_URL`, whose resources it first creates from `infra/template.yaml`.
//!
//! Environment: `ESIGN_LOCAL_ADDR` (default 127.0.0.1:3000), `ESIGN_TEMPLATE` (default
//! infra/template.yaml), `ESIGN_LOCAL_PREFIX` (default esign-local), `ESIGN_MODE` (default
//! development here), `ESIGN_OPERATOR_KEYS` (clear keys, hashed at start-up) and/or
//! `ESIGN_OPERATOR_KEY_HASHES`, `ESIGN_OPERATORS` (identifiers operators sign in with by code),
//! `ESIGN_SESSION_IDLE_SECS` and `ESIGN_SESSION_MAX_SECS`, `ESIGN_AWS_CALL_LOG` (records the AWS
//! calls each route's function makes, as JSON lines).

use std::process::ExitCode;

use esign_api::local::{LocalSetup, local_platform, serve};
use esign_core::Mode;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
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
    let setup = LocalSetup {
        endpoint,
        template: env_or("ESIGN_TEMPLATE", "infra/template.yaml").into(),
        prefix: env_or("ESIGN_LOCAL_PREFIX", "esign-local"),
        config,
    };
    let platform = match local_platform(&setup).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("esign-local: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("esign-local: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("esign-local: serving http://{addr}/v1 ({:?} mode)", setup.config.mode);
    if let Err(e) = serve(listener, platform).await {
        eprintln!("esign-local: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
