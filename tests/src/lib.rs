//! Harness for the end-to-end tests: one local server per test process (the suite is one test
//! binary, `tests/tests/e2e.rs`, whose tests run on threads of one process), on a random port of
//! 127.0.0.1, serving every route against the emulator (started by `scripts/emulator.sh` when
//! `AWS_ENDPOINT_URL` is not set) with resources provisioned from `infra/template.yaml` under a
//! prefix of their own. Tests talk to it over real HTTP with a plain client.
//!
//! What a test changes on the server stays its own: faults are per KMS key
//! ([`faults::fail_key`], [`faults::hold_key`]), a moved clock belongs to a listener of its own
//! ([`Api::with_own_clock`]), and the web app is served on a listener of its own
//! ([`Api::web_app`]).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use ureq::Agent;

/// The operator key the test server accepts.
pub const OPERATOR_KEY: &str = "op-e2e-key-0123456789abcdefghij";
/// The identifier an operator signs in with (a code sent there) on the test server.
pub const OPERATOR_EMAIL: &str = "reviewer-e2e@example.com";
/// How long a session may stay unused, and lasts at most, on [`Api::short_sessions`]'s server.
pub const SHORT_SESSION_IDLE: std::time::Duration = std::time::Duration::from_secs(2);
pub const SHORT_SESSION_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// The repository's root (read at run time: a target directory shared between clones may hold a
/// binary compiled in another clone).
pub fn repo_root() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into())).join("..")
}

fn emulator_endpoint() -> String {
    if let Some(url) = std::env::var("AWS_ENDPOINT_URL").ok().filter(|u| !u.is_empty()) {
        return url;
    }
    let out = Command::new(repo_root().join("scripts/emulator.sh")).output().expect("scripts/emulator.sh runs");
    assert!(out.status.success(), "the emulator did not start: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 endpoint").trim().to_owned()
}

struct Server {
    base: String,
    /// The same platform on the same resources, with short sessions.
    short_sessions_base: String,
    /// A listener bound from the start (the files bucket's CORS rules name its origin) that
    /// serves the platform and, once a test hands one over ([`Api::web_app`]), the web app.
    web_base: String,
    web_app: Mutex<Option<tokio::sync::oneshot::Sender<esign_api::web::WebApp>>>,
    endpoint: String,
    prefix: String,
    /// The server's runtime, ports and configuration, for listeners made later
    /// ([`Api::with_own_clock`]).
    runtime: tokio::runtime::Handle,
    ports: esign_core::Ports,
    config: esign_core::Config,
    /// The platform `base` serves, for the scheduled functions a test runs ([`Api::run_scheduled`]).
    platform: esign_core::Platform,
}

/// The same ports (the same resources) with another clock.
fn ports_with_clock(ports: &esign_core::Ports, clock: Arc<dyn esign_core::ports::Clock>) -> esign_core::Ports {
    esign_core::Ports {
        store: ports.store.clone(),
        blobs: ports.blobs.clone(),
        clock,
        authority: ports.authority.clone(),
        notifier: ports.notifier.clone(),
        queue: ports.queue.clone(),
        webhook_sender: ports.webhook_sender.clone(),
        secrets: ports.secrets.clone(),
    }
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        // With ESIGN_AWS_CALL_LOG set, every AWS call the server makes is appended there, named
        // after the function of its route (scripts/test.sh then checks the template's policies).
        // Without it, a recorder that only counts: each answer then names the AWS calls its
        // request made (esign_api::local::AWS_CALLS_HEADER), which tests/contracts/round_trips.rs reads.
        if !esign_aws::calls::install_from_env().expect("the AWS call log") {
            let _ = esign_aws::calls::install(std::sync::Arc::new(esign_aws::calls::CallCounts::default()));
        }
        let endpoint = emulator_endpoint();
        let server_endpoint = endpoint.clone();
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let mut setup = esign_api::local::LocalSetup {
            template: repo_root().join("infra/template.yaml"),
            prefix: format!("e2e-{}-{}", std::process::id(), nanos % 1_000_000),
            config: esign_core::Config {
                mode: esign_core::Mode::Development,
                operator_keys: esign_core::auth::OperatorKeys::from_list(OPERATOR_KEY).expect("operator key"),
                operators: esign_core::sessions::Operators::from_list(OPERATOR_EMAIL).expect("operator identities"),
                // Webhook retries within a second or two, not minutes.
                webhooks: esign_core::WebhookConfig {
                    backoff_base: std::time::Duration::from_millis(200),
                    backoff_max: std::time::Duration::from_secs(1),
                    timeout: std::time::Duration::from_secs(2),
                    sweep_after: std::time::Duration::from_secs(2),
                    ..esign_core::WebhookConfig::default()
                },
                ..esign_core::Config::default()
            },
            endpoint,
            // Set once the ports are known: the bucket's CORS rules allow the listeners' origins.
            web_origins: Vec::new(),
            // The tests run the scheduled functions themselves (round trips are counted per request).
            evidence_every: None,
        };
        let prefix = setup.prefix.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        if std::env::var_os("RUST_LOG").is_some() {
            use tracing_subscriber::layer::SubscriberExt;
            use tracing_subscriber::util::SubscriberInitExt;
            let filter = esign_api::log_filter(std::env::var("RUST_LOG").ok().as_deref());
            let layer = tracing_subscriber::fmt::layer().with_test_writer();
            let _ = tracing_subscriber::registry().with(layer).with(filter).try_init();
        }
        let (web_tx, web_rx) = tokio::sync::oneshot::channel::<esign_api::web::WebApp>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let addr = listener.local_addr().expect("addr");
                let web_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let web_addr = web_listener.local_addr().expect("addr");
                setup.web_origins = vec![format!("http://{addr}"), format!("http://{web_addr}")];
                // Certificates name this server's CRLs and OCSP responder.
                setup.config.public_url = Some(format!("http://{addr}"));
                let (mut ports, queue) = esign_api::local::local_ports(&setup).await.expect("local ports");
                ports.authority = Arc::new(faults::Faulty(ports.authority.clone()));
                let short_ports = ports_with_clock(&ports, ports.clock.clone());
                let short_config = esign_core::Config {
                    sessions: esign_core::sessions::SessionConfig::new(SHORT_SESSION_IDLE, SHORT_SESSION_MAX)
                        .expect("short sessions"),
                    ..setup.config.clone()
                };
                // Embedded signing links point at this server.
                setup.config.web_url = Some(format!("http://{addr}"));
                let kept = (ports_with_clock(&ports, ports.clock.clone()), setup.config.clone());
                let platform = esign_core::Platform::new(ports, setup.config.clone());
                esign_api::local::spawn_webhook_worker(platform.clone(), queue);
                esign_api::local::publish_crls(&platform).await.expect("the CRLs");
                let short = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let short_addr = short.local_addr().expect("addr");
                let handle = tokio::runtime::Handle::current();
                tx.send((addr, short_addr, web_addr, handle, kept, platform.clone())).expect("send addr");
                tokio::spawn(esign_api::local::serve(short, esign_core::Platform::new(short_ports, short_config)));
                let web_platform = platform.clone();
                tokio::spawn(async move {
                    let web = web_rx.await.ok();
                    esign_api::local::serve_with_web(web_listener, web_platform, web).await
                });
                esign_api::local::serve(listener, platform).await.expect("serve");
            });
        });
        let (addr, short, web_addr, runtime, (ports, config), platform) = rx.recv().expect("the test server started");
        Server {
            base: format!("http://{addr}"),
            short_sessions_base: format!("http://{short}"),
            web_base: format!("http://{web_addr}"),
            web_app: Mutex::new(Some(web_tx)),
            endpoint: server_endpoint,
            prefix,
            runtime,
            ports,
            config,
            platform,
        }
    })
}

/// Failures and time travel the test server can be told to have: faults are per KMS key (a test
/// makes its own seal's key fail), time travel per listener ([`crate::Api::with_own_clock`]).
pub mod faults {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicI64, Ordering};

    use esign_core::ports::*;
    use time::OffsetDateTime;

    static FAILING_KEYS: Mutex<Vec<String>> = Mutex::new(Vec::new());

    /// Makes every signature with this KMS key fail (as if KMS went down), or work again.
    pub fn fail_key(key_id: &str, failing: bool) {
        let mut keys = FAILING_KEYS.lock().expect("fault lock");
        keys.retain(|k| k != key_id);
        if failing {
            keys.push(key_id.to_owned());
        }
    }

    static HELD_KEYS: Mutex<Vec<String>> = Mutex::new(Vec::new());
    static REACHED_KEYS: Mutex<Vec<String>> = Mutex::new(Vec::new());

    /// Holds every signing with this KMS key at its start (before the first signature) until
    /// released, so a test can change things while a signing is under way.
    pub fn hold_key(key_id: &str, held: bool) {
        let mut keys = HELD_KEYS.lock().expect("fault lock");
        keys.retain(|k| k != key_id);
        if held {
            keys.push(key_id.to_owned());
        }
    }

    /// Whether a signing with this key is waiting at the hold (see [`hold_key`]).
    pub fn key_reached(key_id: &str) -> bool {
        REACHED_KEYS.lock().expect("fault lock").iter().any(|k| k == key_id)
    }

    fn is_held(key_id: &str) -> bool {
        HELD_KEYS.lock().expect("fault lock").iter().any(|k| k == key_id)
    }

    /// The clock of a listener made by [`Api::with_own_clock`](crate::Api::with_own_clock): the
    /// system's, moved by [`SkewedClock::skew`] for that listener only (not KMS's or the TSA's).
    #[derive(Clone, Default)]
    pub struct SkewedClock(std::sync::Arc<AtomicI64>);

    impl SkewedClock {
        /// Moves this clock by `secs` from now on.
        pub fn skew(&self, secs: i64) {
            self.0.fetch_add(secs, Ordering::SeqCst);
        }
    }

    impl Clock for SkewedClock {
        fn now(&self) -> OffsetDateTime {
            OffsetDateTime::now_utc() + time::Duration::seconds(self.0.load(Ordering::SeqCst))
        }
    }

    /// The real authority, whose seal signers fail for the keys named in [`fail_key`].
    pub(crate) struct Faulty(pub std::sync::Arc<dyn SealAuthority>);

    #[async_trait::async_trait]
    impl SealAuthority for Faulty {
        async fn create_seal_key(&self, a: KeyAlgorithm, d: &str) -> Result<String, AuthorityError> {
            self.0.create_seal_key(a, d).await
        }
        async fn issue_seal_certificate(
            &self,
            key_id: &str,
            subject: &SealSubject,
            not_after: OffsetDateTime,
        ) -> Result<IssuedCertificate, AuthorityError> {
            self.0.issue_seal_certificate(key_id, subject, not_after).await
        }
        async fn disable_key(&self, key_id: &str) -> Result<(), AuthorityError> {
            self.0.disable_key(key_id).await
        }
        async fn ca_certificates_pem(&self) -> Result<String, AuthorityError> {
            self.0.ca_certificates_pem().await
        }
        async fn timestamp(&self, request: &[u8]) -> Result<Vec<u8>, AuthorityError> {
            self.0.timestamp(request).await
        }
        async fn issuing_certificate_der(&self) -> Result<Vec<u8>, AuthorityError> {
            self.0.issuing_certificate_der().await
        }
        async fn evidence_signer(&self) -> Result<Box<dyn esign_pades::Signer>, AuthorityError> {
            self.0.evidence_signer().await
        }
        async fn sign_crl(
            &self,
            issuer: CaLevel,
            content: &esign_pki::crl::CrlContent,
        ) -> Result<Vec<u8>, AuthorityError> {
            self.0.sign_crl(issuer, content).await
        }
        async fn ocsp_respond(
            &self,
            request: &esign_pki::ocsp::ParsedRequest,
            statuses: &[esign_pki::ocsp::OcspStatus],
            now: OffsetDateTime,
        ) -> Result<Vec<u8>, AuthorityError> {
            self.0.ocsp_respond(request, statuses, now).await
        }
        async fn seal_signer(
            &self,
            key_id: &str,
            chain_pem: &str,
        ) -> Result<Box<dyn esign_pades::Signer>, AuthorityError> {
            if is_held(key_id) {
                REACHED_KEYS.lock().expect("fault lock").push(key_id.to_owned());
                for _ in 0..1200 {
                    if !is_held(key_id) {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(25)).await;
                }
                REACHED_KEYS.lock().expect("fault lock").retain(|k| k != key_id);
            }
            let signer = self.0.seal_signer(key_id, chain_pem).await?;
            if FAILING_KEYS.lock().expect("fault lock").iter().any(|k| k == key_id) {
                return Ok(Box::new(Failing(signer)));
            }
            Ok(signer)
        }
    }

    struct Failing(Box<dyn esign_pades::Signer>);

    #[async_trait::async_trait]
    impl esign_pades::Signer for Failing {
        fn algorithm(&self) -> esign_pades::SignatureAlgorithm {
            self.0.algorithm()
        }
        fn certificate_chain(&self) -> &[esign_pki::Certificate] {
            self.0.certificate_chain()
        }
        async fn sign(&self, _der: &[u8]) -> Result<Vec<u8>, esign_pades::PadesError> {
            Err(esign_pades::PadesError::Signer("KMS Sign failed (injected by the test)".into()))
        }
    }
}

/// The emulator the test server uses.
pub fn emulator() -> &'static str {
    &server().endpoint
}

/// The test server's records table, for tests that look behind the API (e.g. at a seal's KMS
/// key id, which the API never shows).
pub fn records_table() -> String {
    esign_aws::provision::local_name(&server().prefix, "RecordsTable")
}

/// An answer: status, headers and body (JSON when it parses).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The problem type's slug (`urn:esign:problem:<slug>`).
    pub fn problem(&self) -> &str {
        self.body["type"].as_str().unwrap_or("").trim_start_matches("urn:esign:problem:")
    }

    /// Field names of a validation problem.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["field"].as_str().map(str::to_owned))
            .collect()
    }

    /// Rule code reported for a field.
    pub fn code_of(&self, field: &str) -> Option<String> {
        self.body["errors"].as_array()?.iter().find(|e| e["field"] == field)?["code"].as_str().map(str::to_owned)
    }
}

/// A client of the test server.
pub struct Api {
    pub base: String,
    agent: Agent,
    /// The platform behind `base` (on its clock), when a test may run scheduled functions on it.
    platform: Option<esign_core::Platform>,
    /// The records table of a server of its own ([`Api::isolated`]).
    table: Option<String>,
}

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}

/// A request under construction.
pub struct Call<'a> {
    api: &'a Api,
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
}

impl Call<'_> {
    pub fn key(mut self, key: &str) -> Self {
        self.headers.push(("authorization".into(), format!("Bearer {key}")));
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
    /// Sends the session cookie of `session`.
    pub fn session(mut self, session: &Session) -> Self {
        self.headers.push(("cookie".into(), format!("theme=dark; {}; lang=zh", session.cookie)));
        self
    }
    /// Sends the session cookie and its CSRF token (what the web app does on a write).
    pub fn session_write(self, session: &Session) -> Self {
        let csrf = session.csrf.clone();
        self.session(session).header("x-csrf-token", &csrf)
    }
    pub fn json(mut self, v: &Value) -> Self {
        self.body = Some(("application/json".into(), v.to_string().into_bytes()));
        self
    }
    pub fn raw(mut self, content_type: &str, bytes: Vec<u8>) -> Self {
        self.body = Some((content_type.into(), bytes));
        self
    }
    pub fn send(self) -> Reply {
        let url =
            if self.path.starts_with("http") { self.path.clone() } else { format!("{}{}", self.api.base, self.path) };
        self.api.request(self.method, &url, &self.headers, self.body)
    }
}

/// A signed-in session: the cookie (`name=value`) and the session's body.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub body: Value,
    /// The whole `Set-Cookie` the sign-in answered.
    pub set_cookie: String,
}

impl Api {
    pub fn new() -> Self {
        let server = server();
        Api { platform: Some(server.platform.clone()), ..Self::at(server.base.clone()) }
    }

    /// A client of the same server with short sessions ([`SHORT_SESSION_IDLE`] unused,
    /// [`SHORT_SESSION_MAX`] at most), on the same resources.
    pub fn short_sessions() -> Self {
        Self::at(server().short_sessions_base.clone())
    }

    /// A client of a listener of its own on the test server's platform and resources, whose
    /// clock only the returned handle moves (codes, sessions and links expiring): no other test
    /// sees the skew.
    pub fn with_own_clock() -> (Self, faults::SkewedClock) {
        let server = server();
        let clock = faults::SkewedClock::default();
        let ports = ports_with_clock(&server.ports, Arc::new(clock.clone()));
        let platform = esign_core::Platform::new(ports, server.config.clone());
        let listener = server.runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let addr = listener.local_addr().expect("addr");
        server.runtime.spawn(esign_api::local::serve(listener, platform.clone()));
        (Api { platform: Some(platform), ..Self::at(format!("http://{addr}")) }, clock)
    }

    /// A client of a server of its own: its own resources in the emulator (a prefix of its own:
    /// table, buckets, keys, CA), its own clock (moved by the returned handle) and `configure`'s
    /// changes to the test server's configuration. For the tests of the scheduled functions,
    /// which work on everything due in the table: there they see only the test's own records,
    /// and no other test sees what they do. Costs a provisioning and a CA bootstrap (seconds).
    pub fn isolated(configure: impl FnOnce(&mut esign_core::Config)) -> (Self, faults::SkewedClock) {
        let server = server();
        let clock = faults::SkewedClock::default();
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let mut config = server.config.clone();
        configure(&mut config);
        let endpoint = server.endpoint.clone();
        let prefix = format!("e2e-own-{}-{}", std::process::id(), nanos % 1_000_000_000);
        let table = esign_aws::provision::local_name(&prefix, "RecordsTable");
        let own_clock = clock.clone();
        let (platform, addr) = server.runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            config.public_url = Some(format!("http://{addr}"));
            config.web_url = Some(format!("http://{addr}"));
            let setup = esign_api::local::LocalSetup {
                template: repo_root().join("infra/template.yaml"),
                prefix,
                config,
                endpoint,
                web_origins: vec![format!("http://{addr}")],
                evidence_every: None,
            };
            let (ports, queue) = esign_api::local::local_ports(&setup).await.expect("local ports");
            let ports = ports_with_clock(&ports, Arc::new(own_clock));
            let platform = esign_core::Platform::new(ports, setup.config.clone());
            esign_api::local::spawn_webhook_worker(platform.clone(), queue);
            esign_api::local::publish_crls(&platform).await.expect("the CRLs");
            tokio::spawn(esign_api::local::serve(listener, platform.clone()));
            (platform, addr)
        });
        (Api { platform: Some(platform), table: Some(table), ..Self::at(format!("http://{addr}")) }, clock)
    }

    /// The records table behind this client's server (the test server's: [`records_table`]).
    pub fn records_table(&self) -> String {
        self.table.clone().unwrap_or_else(records_table)
    }

    /// Runs one tick of the scheduled function `name` (e.g. `generate-evidence`) on this client's
    /// platform (its clock too), as its Lambda function does ([`esign_api::lambda::run_scheduled`]);
    /// answers what the run answered and the AWS calls it made, in order (`Service.Operation`,
    /// without those that only filled a cache the process keeps, as the calls header counts).
    pub fn run_scheduled(&self, name: &'static str) -> (Value, Vec<String>) {
        self.run_on_platform(name, move |platform| async move {
            esign_api::lambda::run_scheduled(&platform, name).await.map_err(|e| e.to_string())
        })
    }

    /// Runs one invocation of the migration `backfill-long-term` with `payload` (`{}` to start,
    /// `{"after": next}` to go on), as its Lambda function does; answers like [`Api::run_scheduled`].
    pub fn run_backfill(&self, payload: Value) -> (Value, Vec<String>) {
        self.run_on_platform(esign_api::lambda::BACKFILL_LONG_TERM, move |platform| async move {
            esign_api::lambda::backfill_long_term(&platform, payload).await.map_err(|e| e.to_string())
        })
    }

    fn run_on_platform<F, W>(&self, name: &str, work: W) -> (Value, Vec<String>)
    where
        W: FnOnce(esign_core::Platform) -> F,
        F: std::future::Future<Output = Result<Value, String>>,
    {
        let platform =
            self.platform.clone().expect("a client of a platform of the tests' (Api::new, with_own_clock, isolated)");
        let (done, calls) = server().runtime.block_on(esign_aws::calls::capturing(work(platform)));
        let done = done.unwrap_or_else(|e| panic!("{name}: {e}"));
        let calls = calls
            .iter()
            .filter(|c| c.transmitted && !c.cached)
            .map(|c| format!("{}.{}", c.service, c.operation))
            .collect();
        (done, calls)
    }

    /// A client of the test server's listener that serves, beside the same platform under `/v1`,
    /// the web app built in `dir` at every other path, framed only by `frame_ancestors` (the files
    /// bucket's CORS rules allow its origin). The first call's app is the one served: call it the
    /// same way everywhere.
    pub fn web_app(dir: &Path, frame_ancestors: &str) -> Self {
        let server = server();
        if let Some(tx) = server.web_app.lock().expect("web app lock").take() {
            let files = esign_api::web::origin_of(&server.endpoint);
            let web = esign_api::web::WebApp::new(dir, files.as_deref(), frame_ancestors)
                .and_then(|w| {
                    w.with_embed_ancestors(esign_api::web::default_embed_ancestors(esign_core::Mode::Development))
                })
                .expect("the web app");
            let _ = tx.send(web);
        }
        Self::at(server.web_base.clone())
    }

    fn at(base: String) -> Self {
        let agent: Agent = Agent::config_builder().http_status_as_error(false).build().into();
        Api { base, agent, platform: None, table: None }
    }

    /// Asks for a sign-in code to `identifier` (`audience` member or operator); the answer.
    pub fn start_sign_in(&self, identifier: &str, audience: &str) -> Reply {
        self.post("/v1/sessions/code").json(&json!({"identifier": identifier, "audience": audience})).send()
    }

    /// Signs in with the newest code in the outbox to `recipient` for that challenge.
    pub fn enter_code(&self, challenge: &Reply, recipient: &str, member_id: Option<&str>) -> Reply {
        assert_eq!(challenge.status, 202, "{:?}", challenge.body);
        let (code, _) = self.latest_code(recipient);
        let mut body = json!({"challenge_id": challenge.body["challenge_id"], "code": code});
        if let Some(m) = member_id {
            body["member_id"] = json!(m);
        }
        self.post("/v1/sessions").json(&body).send()
    }

    /// The session a successful sign-in answer set.
    pub fn session_of(reply: &Reply) -> Session {
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        let set_cookie = reply.header("set-cookie").expect("a session cookie").to_owned();
        let cookie = set_cookie.split(';').next().expect("name=value").trim().to_owned();
        let csrf = reply.body["csrf_token"].as_str().expect("a CSRF token").to_owned();
        Session { cookie, csrf, body: reply.body.clone(), set_cookie }
    }

    /// Signs in (code by `identifier`, read from the outbox at `recipient`) as the only account.
    pub fn sign_in(&self, identifier: &str, recipient: &str, audience: &str) -> Session {
        let challenge = self.start_sign_in(identifier, audience);
        Self::session_of(&self.enter_code(&challenge, recipient, None))
    }

    pub fn call(&self, method: &'static str, path: &str) -> Call<'_> {
        Call { api: self, method, path: path.to_owned(), headers: Vec::new(), body: None }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.call("GET", path)
    }
    pub fn post(&self, path: &str) -> Call<'_> {
        self.call("POST", path)
    }
    pub fn delete(&self, path: &str) -> Call<'_> {
        self.call("DELETE", path)
    }
    pub fn put(&self, path: &str) -> Call<'_> {
        self.call("PUT", path)
    }

    fn request(&self, method: &str, url: &str, headers: &[(String, String)], body: Option<(String, Vec<u8>)>) -> Reply {
        let mut builder = http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            builder = builder.header(k, v);
        }
        let bytes = match body {
            Some((ct, b)) => {
                builder = builder.header("content-type", ct);
                b
            }
            None => Vec::new(),
        };
        let req = builder.body(bytes).expect("request");
        let mut resp = self.agent.run(req).unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let headers =
            resp.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
        let raw = resp.body_mut().with_config().limit(50 * 1024 * 1024).read_to_vec().expect("body");
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply { status, headers, body, raw }
    }

    /// Registers an enterprise; returns (enterprise id, admin key, admin member id).
    pub fn register(&self, name: &str) -> (String, String, String) {
        let r = self.post("/v1/enterprises").json(&registration(name)).send();
        assert_eq!(r.status, 201, "{:?}", r.body);
        (
            r.body["enterprise"]["id"].as_str().expect("id").to_owned(),
            r.body["api_key"].as_str().expect("key").to_owned(),
            r.body["admin"]["id"].as_str().expect("admin id").to_owned(),
        )
    }

    /// The code in the newest development-outbox message to `recipient` (as the phone or
    /// mailbox shows it), and that message's body.
    pub fn latest_code(&self, recipient: &str) -> (String, String) {
        let to = recipient.replace('%', "%25").replace('+', "%2B").replace('@', "%40").replace(' ', "%20");
        let outbox = self.get(&format!("/v1/dev/outbox?recipient={to}&limit=1")).send();
        assert_eq!(outbox.status, 200, "{:?}", outbox.body);
        let body = outbox.body["items"][0]["body"].as_str().expect("a message to the recipient").to_owned();
        let code = body.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a 6-digit code").to_owned();
        (code, body)
    }

    /// Confirms a member's mobile (`sms`) or email (`email`) at `recipient` with the code sent
    /// there, read from the development outbox; `key` is the member's own. Signing codes go only
    /// to confirmed contacts.
    pub fn confirm_contact(&self, key: &str, member_id: &str, channel: &str, recipient: &str) {
        let sent = self
            .post(&format!("/v1/members/{member_id}/contacts/confirm"))
            .key(key)
            .json(&json!({"channel": channel}))
            .send();
        assert_eq!(sent.status, 201, "{:?}", sent.body);
        let otp = sent.body["otp_id"].as_str().expect("otp id").to_owned();
        let (code, _) = self.latest_code(recipient);
        let r = self
            .post(&format!("/v1/members/{member_id}/contacts/verify"))
            .key(key)
            .json(&json!({"channel": channel, "otp_id": otp, "code": code}))
            .send();
        assert_eq!(r.status, 200, "{:?}", r.body);
        let field = if channel == "sms" { "mobile_confirmed" } else { "email_confirmed" };
        assert_eq!(r.body[field], true, "{:?}", r.body);
    }

    /// Registers, submits real-name authentication and has an operator approve it.
    pub fn verified_enterprise(&self, name: &str) -> (String, String, String) {
        let (id, key, admin) = self.register(name);
        let r = self.post(&format!("/v1/enterprises/{id}/verification")).key(&key).json(&submission()).send();
        assert_eq!(r.status, 202, "{:?}", r.body);
        let vid = r.body["verification"]["id"].as_str().expect("verification id").to_owned();
        let r = self
            .post(&format!("/v1/operator/verifications/{vid}/decision"))
            .key(OPERATOR_KEY)
            .json(&json!({"decision": "approve"}))
            .send();
        assert_eq!(r.status, 200, "{:?}", r.body);
        (id, key, admin)
    }
}

/// An active `合同专用章` seal of a fresh verified enterprise named `company`: its image uploaded
/// through the presigned URL, submitted and approved. Returns (seal id, admin key, admin member
/// id, the approved seal as the operator's answer shows it).
pub fn active_seal(api: &Api, company: &str, algorithm: &str) -> (String, String, String, Value) {
    active_seal_with_image(api, company, algorithm, esign_core::seal_image::samples::red_seal())
}

/// Like [`active_seal`], with the seal image `image` (a PNG that passes the seal-image rules).
pub fn active_seal_with_image(
    api: &Api,
    company: &str,
    algorithm: &str,
    image: Vec<u8>,
) -> (String, String, String, Value) {
    let (_, key, admin) = api.verified_enterprise(company);
    let draft = api
        .post("/v1/seals")
        .key(&key)
        .json(&json!({"name": "合同专用章", "kind": "contract", "key_algorithm": algorithm, "image_size": image.len()}))
        .send();
    assert_eq!(draft.status, 201, "{:?}", draft.body);
    let id = draft.body["seal"]["id"].as_str().expect("seal id").to_owned();
    let upload =
        api.put(draft.body["upload"]["upload_url"].as_str().expect("upload url")).raw("image/png", image).send();
    assert_eq!(upload.status, 200, "upload: {}", String::from_utf8_lossy(&upload.raw));
    assert_eq!(api.post(&format!("/v1/seals/{id}/submit")).key(&key).send().status, 202);
    let seal = api
        .post(&format!("/v1/operator/seals/{id}/decision"))
        .key(OPERATOR_KEY)
        .json(&json!({"decision": "approve"}))
        .send();
    assert_eq!(seal.status, 200, "{:?}", seal.body);
    (id, key, admin, seal.body)
}

/// The platform root as `GET /v1/ca/certificates` publishes it (the first certificate there):
/// the only trust anchor a test gives the judges.
pub fn platform_root_pem(api: &Api) -> String {
    let pems = String::from_utf8(api.get("/v1/ca/certificates").send().raw).expect("PEM text");
    let end = pems.find("-----END CERTIFICATE-----").expect("a certificate") + "-----END CERTIFICATE-----\n".len();
    pems[..end.min(pems.len())].to_owned()
}

/// Runs the kit's `check_signed_pdf.sh --expect N` (qpdf, pdfsig, pyHanko, OpenSSL, mutool) on
/// `pdf` with `root` as the only trust anchor: every judge must PASS. Answers the verdict line.
pub fn check_signed_file(pdf: &Path, root: &Path, expect: usize) -> String {
    let out = Command::new(repo_root().join("../shared/pdfcheck/check_signed_pdf.sh"))
        .args(["--expect", &expect.to_string()])
        .arg(pdf)
        .arg(root)
        .output()
        .expect("check_signed_pdf.sh runs (install it with ../shared/pdfcheck/install.sh)");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let verdict = text.lines().last().unwrap_or("").to_owned();
    assert!(out.status.success() && verdict.starts_with("PASS"), "check_signed_pdf.sh: {text}");
    verdict
}

/// [`check_signed_file`] and [`pyhanko_adesverify_offline`] on a signed PDF's bytes, trusting only
/// the platform root: every judge must pass, offline too. Answers the folder holding `signed.pdf`
/// and `root.pem`, for further checks; the caller removes it.
pub fn check_signatures(api: &Api, pdf: &[u8], expect: usize, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("esign-judged-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    std::fs::write(dir.join("root.pem"), platform_root_pem(api)).expect("root.pem written");
    std::fs::write(dir.join("signed.pdf"), pdf).expect("signed.pdf written");
    let verdict = check_signed_file(&dir.join("signed.pdf"), &dir.join("root.pem"), expect);
    println!("{name}: check_signed_pdf.sh: {verdict}");
    let (ok, text) = pyhanko_adesverify_offline(&dir, &dir.join("signed.pdf"), &dir.join("root.pem"));
    assert!(ok, "pyHanko AdES validation offline, {name}:\n{text}");
    // One line per signature (`name:digest:verdicts`); each intact and trusted, its time stamp too.
    let signatures: Vec<&str> = text.lines().filter(|l| l.split(':').nth(1).is_some_and(|d| d.len() == 64)).collect();
    println!("{name}: pyHanko adesverify (offline): {} signatures intact and trusted", signatures.len());
    assert!(
        !signatures.is_empty()
            && signatures.iter().all(|l| l.contains(":INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>")),
        "pyHanko AdES validation offline, {name}:\n{text}"
    );
    dir
}

/// pyHanko's AdES validation (`sign adesverify`: past-signature validation through the time
/// stamps and document time stamps, revocation data required for every certificate, as the
/// PAdES-LTA profile asks), trusting only `root`, with no network at all (`unshare -rn`):
/// everything must come from the file. The validation time is two minutes ahead: pyHanko gives
/// data that no later time stamp covers a proof of existence at the moment it looks, which must
/// come after the last time stamp. Answers (passed, pyHanko's output).
pub fn pyhanko_adesverify_offline(dir: &Path, pdf: &Path, root: &Path) -> (bool, String) {
    let cfg = dir.join("pyhanko.yml");
    std::fs::write(&cfg, "{}\n").expect("pyhanko.yml written");
    let when = (time::OffsetDateTime::now_utc() + time::Duration::minutes(2))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("an RFC 3339 time");
    let venv = std::env::var("PDFCHECK_VENV").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into())).join(".cache/pdfcheck/venv")
    });
    let out = Command::new("unshare")
        .arg("-rn")
        .arg(venv.join("bin/python"))
        .args(["-m", "pyhanko", "--no-plugins", "--config"])
        .arg(&cfg)
        .args(["sign", "adesverify", "--validation-time", &when, "--trust"])
        .arg(root)
        .arg("--trust-replace")
        .arg(pdf)
        .output()
        .expect("unshare and pyHanko run");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A real PDF contract of `pages` pages (`scripts/sample_contract.py`, drawn by reportlab).
pub fn sample_contract(pages: u32) -> Vec<u8> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path = std::env::temp_dir().join(format!("esign-contract-{}-{n}-{pages}.pdf", std::process::id()));
    let ok = Command::new("python3")
        .arg(repo_root().join("scripts/sample_contract.py"))
        .arg(&path)
        .arg(pages.to_string())
        .status()
        .expect("python3 runs");
    assert!(ok.success(), "scripts/sample_contract.py failed");
    let pdf = std::fs::read(&path).expect("the sample contract");
    let _ = std::fs::remove_file(&path);
    pdf
}

/// A mainland mobile number no other enterprise of this run has, so one-time codes in the
/// outbox are told apart.
pub fn unique_mobile() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0) as u64;
    format!("139{:08}", (u64::from(std::process::id()) * 7919 + nanos / 1000 + n * 104_729) % 100_000_000)
}

/// A valid registration body.
pub fn registration(name: &str) -> Value {
    // A destination of its own: codes are told apart, and send limits per destination are not shared.
    let mobile = unique_mobile();
    json!({
        "name": name,
        "contact_email": "legal@example.com",
        "contact_phone": "+86 755 8601 3388",
        "admin": {"name": "张三", "mobile": mobile, "email": format!("zhang{mobile}@example.com")}
    })
}

/// A valid KYB submission under a USCC no other submission of this run has (one USCC has at
/// most one verified enterprise); the administrator is the legal representative, with the
/// GB 11643 standard's sample ID number.
pub fn submission() -> Value {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0) as u64;
    let (uscc, organization_code) =
        esign_core::kyb::sample_uscc((u64::from(std::process::id()) << 32) ^ (nanos / 1000) ^ (n * 7_919));
    json!({
        "company_name": "深圳市腾讯计算机系统有限公司",
        "uscc": uscc,
        "organization_code": organization_code,
        "legal_representative": {"name": "马化腾", "id_number": "11010519491231002X"},
        "administrator": {
            "name": "马化腾",
            "id_number": "11010519491231002X",
            "mobile": "+86 138 0013 8000",
            "is_legal_representative": true
        }
    })
}
