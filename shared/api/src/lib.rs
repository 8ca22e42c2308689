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
///
/// `RUST_LOG` is read as a list of `target=level` directives and a default level (`warn`,
/// `esign_core=debug,info`), [`Targets`](tracing_subscriber::filter::Targets)' syntax: unlike
/// `EnvFilter` it needs no regular expressions, which kept two regex crates (about 150 KB) in
/// every Lambda package. A value it cannot read means `info`.
pub fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let layer = tracing_subscriber::fmt::layer().with_ansi(ansi).with_writer(std::io::stderr);
    let _ = tracing_subscriber::registry().with(layer).with(filter).try_init();
}

/// The filter `RUST_LOG` asks for: `info` when unset, empty or unreadable.
pub fn log_filter(rust_log: Option<&str>) -> tracing_subscriber::filter::Targets {
    rust_log
        .filter(|s| !s.trim().is_empty())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| tracing_subscriber::filter::Targets::new().with_default(tracing::Level::INFO))
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    #[test]
    fn rust_log_is_read_as_targets() {
        let f = super::log_filter(Some("warn,esign_core=debug"));
        assert!(f.would_enable("esign_core::contracts", &Level::DEBUG));
        assert!(!f.would_enable("esign_api", &Level::INFO));
        assert!(f.would_enable("esign_api", &Level::WARN));
        for unset in [None, Some(""), Some("esign_api=loud")] {
            let f = super::log_filter(unset);
            assert!(f.would_enable("esign_api", &Level::INFO) && !f.would_enable("esign_api", &Level::DEBUG));
        }
    }
}
