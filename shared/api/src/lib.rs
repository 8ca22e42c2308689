//! The HTTP edge of the platform: the route table ([`routes`]), request handling with
//! problem+json errors ([`handler`], [`problem`]), the Lambda adapter ([`lambda`]) and the
//! local server that serves every route in one process ([`local`]), with the built web app
//! beside them ([`web`]).

pub mod cookie;
pub mod handler;
pub mod lambda;
pub mod local;
pub mod problem;
pub mod routes;
pub mod web;

pub use handler::{ApiRequest, ApiResponse, handle, handle_operation};
pub use routes::{Operation, ROUTES};

/// Logs to stderr, filtered by `RUST_LOG` (default `info`). Safe to call more than once.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}
