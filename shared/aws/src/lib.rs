//! The AWS adapters: the domain's ports on DynamoDB ([`dynamo::DynamoStore`]) and S3
//! ([`s3::S3Blobs`]), the wiring of a [`Platform`] from the environment a function runs in
//! ([`platform_from_env`]), and provisioning of an emulator from the SAM template
//! ([`provision::provision`]).
//!
//! Every client honours `AWS_ENDPOINT_URL` ([`sdk_config`] reads it), which is how local runs
//! reach moto or LocalStack; with an endpoint set, S3 uses path-style addressing.

pub mod authority;
pub mod calls;
pub mod dynamo;
pub mod http;
pub mod kms;
pub mod notify;
pub mod provision;
pub mod s3;
mod sdk_http;
pub mod seal_signer;
pub mod secrets;
pub mod sqs;
#[cfg(test)]
mod test_server;

use std::sync::Arc;

use authority::{CaKeys, KmsAuthority};
pub use aws_types::SdkConfig;
use esign_core::auth::OperatorKeys;
use esign_core::ports::{
    AuthorityError, IssuedCertificate, KeyAlgorithm, RecordStore, SealAuthority, SealSubject, SystemClock,
};
use esign_core::{Config, Mode, Platform, Ports};
pub use sdk_http::https_client;
use time::OffsetDateTime;

/// The records table (`!Ref RecordsTable` in the template).
pub const ENV_TABLE: &str = "ESIGN_TABLE";
/// The files bucket (`!Ref FilesBucket`).
pub const ENV_FILES_BUCKET: &str = "ESIGN_FILES_BUCKET";
/// `production` (default) or `development`.
pub const ENV_MODE: &str = "ESIGN_MODE";
/// Comma-separated SHA-256 hashes (hex) of the operator API keys: what deployed functions take.
pub const ENV_OPERATOR_KEY_HASHES: &str = "ESIGN_OPERATOR_KEY_HASHES";
/// Comma-separated clear operator API keys: the local server only, which hashes them at start-up.
pub const ENV_OPERATOR_KEYS: &str = "ESIGN_OPERATOR_KEYS";
/// The operators who sign in with a one-time code: E.164 mobile numbers and email addresses.
pub const ENV_OPERATORS: &str = "ESIGN_OPERATORS";
/// Seconds a session may go unused (default 1800).
pub const ENV_SESSION_IDLE_SECS: &str = "ESIGN_SESSION_IDLE_SECS";
/// Seconds a session lasts at most (default 43200).
pub const ENV_SESSION_MAX_SECS: &str = "ESIGN_SESSION_MAX_SECS";
/// KMS keys of the root CA, the issuing CA and the TSA.
pub const ENV_ROOT_CA_KEY: &str = "ESIGN_ROOT_CA_KEY";
pub const ENV_ISSUING_CA_KEY: &str = "ESIGN_ISSUING_CA_KEY";
pub const ENV_TSA_KEY: &str = "ESIGN_TSA_KEY";
/// KMS key of the delegated OCSP responder.
pub const ENV_OCSP_KEY: &str = "ESIGN_OCSP_KEY";
/// The KMS key of the platform's evidence seal (signs evidence reports).
pub const ENV_EVIDENCE_KEY: &str = "ESIGN_EVIDENCE_KEY";
/// The platform's public base URL (the API's), written into certificates as where revocation
/// status is published (CRL, OCSP, caIssuers). Unset: certificates name no such place.
pub const ENV_PUBLIC_URL: &str = "ESIGN_PUBLIC_URL";
/// The stack's name: names the CA and tags seal keys.
pub const ENV_STACK_NAME: &str = "ESIGN_STACK_NAME";
/// The webhook queue's URL (`!Ref WebhookQueue`).
pub const ENV_WEBHOOK_QUEUE: &str = "ESIGN_WEBHOOK_QUEUE";
/// The symmetric KMS key that seals webhook signing secrets (`!Ref SecretsKey`).
pub const ENV_SECRETS_KEY: &str = "ESIGN_SECRETS_KEY";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {0}: {1}")]
    Invalid(&'static str, String),
}

/// The SDK configuration of a deployed function, from the environment Lambda gives it: region
/// (`AWS_REGION`, else `AWS_DEFAULT_REGION`), the role's credentials (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and `AWS_ENDPOINT_URL` when set.
///
/// Not `aws-config`: its provider chains (profiles, SSO, STS, IMDS, ECS) are never used by a
/// function, and leaving them out makes the Lambda package smaller (shared/pades/BENCH.md,
/// "Lambda packages"). What the SDK clients get is what `aws-config`'s
/// defaults gave them: [`https_client`], standard retries, its 3.1 s connect timeout, the tokio
/// sleep, the system clock and a lazy identity cache. For an operator's shell (profiles, SSO),
/// `sdk_config_from_chain` behind the `aws-config` feature.
pub fn sdk_config() -> Result<SdkConfig, ConfigError> {
    let region =
        env_var("AWS_REGION").or_else(|| env_var("AWS_DEFAULT_REGION")).ok_or(ConfigError::Missing("AWS_REGION"))?;
    let credentials = aws_credential_types::Credentials::new(
        var("AWS_ACCESS_KEY_ID")?,
        var("AWS_SECRET_ACCESS_KEY")?,
        env_var("AWS_SESSION_TOKEN"),
        None,
        "Environment",
    );
    Ok(build_sdk_config(region, credentials, env_var("AWS_ENDPOINT_URL")))
}

/// The SDK configuration for an emulator at `endpoint`: region and credentials from the
/// environment where set, else `us-east-1` and dummy credentials (emulators accept any).
pub fn emulator_sdk_config(endpoint: &str) -> SdkConfig {
    let region = env_var("AWS_REGION").or_else(|| env_var("AWS_DEFAULT_REGION")).unwrap_or_else(|| "us-east-1".into());
    let credentials = match (env_var("AWS_ACCESS_KEY_ID"), env_var("AWS_SECRET_ACCESS_KEY")) {
        (Some(key), Some(secret)) => {
            aws_credential_types::Credentials::new(key, secret, env_var("AWS_SESSION_TOKEN"), None, "Environment")
        }
        _ => aws_credential_types::Credentials::new("test", "test", None, None, "emulator"),
    };
    build_sdk_config(region, credentials, Some(endpoint.to_owned()))
}

/// The SDK configuration from `aws-config`'s default chains (environment, profiles, SSO, web
/// identity, IMDS): for tools run from an operator's shell, such as `esign-bootstrap`.
#[cfg(feature = "aws-config")]
pub async fn sdk_config_from_chain() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client()).load().await
}

/// `aws-config`'s defaults for what it would not have found in the environment anyway.
fn build_sdk_config(
    region: String,
    credentials: aws_credential_types::Credentials,
    endpoint: Option<String>,
) -> SdkConfig {
    use aws_sdk_dynamodb::config::{
        BehaviorVersion, IdentityCache, Region, SharedAsyncSleep, SharedCredentialsProvider,
    };
    use aws_smithy_types::{retry::RetryConfig, timeout::TimeoutConfig};
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .identity_cache(IdentityCache::lazy().build())
        .http_client(https_client())
        .retry_config(RetryConfig::standard())
        // aws-config's default (`SDK_DEFAULT_CONNECT_TIMEOUT`); no other timeout, as there.
        .timeout_config(TimeoutConfig::builder().connect_timeout(std::time::Duration::from_millis(3100)).build())
        .sleep_impl(SharedAsyncSleep::new(aws_smithy_async::rt::sleep::TokioSleep::new()))
        .time_source(aws_smithy_async::time::SharedTimeSource::default());
    builder.set_endpoint_url(endpoint);
    builder.build()
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// An S3 client; path-style when an endpoint override is set (emulators have no wildcard DNS).
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let path_style = config.endpoint_url().is_some();
    aws_sdk_s3::Client::from_conf(calls::s3_builder(config).force_path_style(path_style).build())
}

fn var(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty()).ok_or(ConfigError::Missing(name))
}

/// The platform's settings from the environment, as a deployed function has them: operators
/// by the hashes of their keys (`ESIGN_OPERATOR_KEY_HASHES`) only; clear keys
/// (`ESIGN_OPERATOR_KEYS`) are refused, so none ever sits in a function's environment.
pub fn config_from_env() -> Result<Config, ConfigError> {
    if std::env::var(ENV_OPERATOR_KEYS).is_ok_and(|v| !v.trim().is_empty()) {
        return Err(ConfigError::Invalid(
            ENV_OPERATOR_KEYS,
            format!("clear operator keys are for the local server only; set {ENV_OPERATOR_KEY_HASHES} instead"),
        ));
    }
    settings_from_env(OperatorKeys::default())
}

/// The local server's settings from the environment: as [`config_from_env`], and clear
/// operator keys (`ESIGN_OPERATOR_KEYS`) are accepted too, hashed at once.
pub fn local_config_from_env() -> Result<Config, ConfigError> {
    let clear = OperatorKeys::from_list(&std::env::var(ENV_OPERATOR_KEYS).unwrap_or_default())
        .map_err(|e| ConfigError::Invalid(ENV_OPERATOR_KEYS, e))?;
    settings_from_env(clear)
}

fn settings_from_env(clear_operator_keys: OperatorKeys) -> Result<Config, ConfigError> {
    let mode = match std::env::var(ENV_MODE).as_deref() {
        Err(_) | Ok("") | Ok("production") => Mode::Production,
        Ok("development") => Mode::Development,
        Ok(other) => return Err(ConfigError::Invalid(ENV_MODE, format!("unknown mode {other:?}"))),
    };
    let operator_keys = OperatorKeys::from_hashes(&std::env::var(ENV_OPERATOR_KEY_HASHES).unwrap_or_default())
        .map_err(|e| ConfigError::Invalid(ENV_OPERATOR_KEY_HASHES, e))?
        .merged(clear_operator_keys);
    let mut webhooks = esign_core::WebhookConfig::default();
    if let Some(secs) = seconds_var("ESIGN_WEBHOOK_BACKOFF_BASE_SECS")? {
        webhooks.backoff_base = secs;
    }
    if let Some(secs) = seconds_var("ESIGN_WEBHOOK_RETRY_WINDOW_SECS")? {
        webhooks.retry_window = secs;
    }
    if let Some(secs) = seconds_var("ESIGN_WEBHOOK_TIMEOUT_SECS")? {
        webhooks.timeout = secs;
    }
    if let Some(secs) = seconds_var("ESIGN_WEBHOOK_SECRET_GRACE_SECS")? {
        webhooks.secret_grace = secs;
    }
    let optional = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let operators = esign_core::sessions::Operators::from_list(&std::env::var(ENV_OPERATORS).unwrap_or_default())
        .map_err(|e| ConfigError::Invalid(ENV_OPERATORS, e))?;
    let default_sessions = esign_core::sessions::SessionConfig::default();
    let sessions = esign_core::sessions::SessionConfig::new(
        seconds_var(ENV_SESSION_IDLE_SECS)?.unwrap_or(default_sessions.idle),
        seconds_var(ENV_SESSION_MAX_SECS)?.unwrap_or(default_sessions.max),
    )
    .map_err(|e| ConfigError::Invalid(ENV_SESSION_IDLE_SECS, e))?;
    Ok(Config {
        operators,
        sessions,
        mode,
        operator_keys,
        tsa_url: optional("ESIGN_TSA_URL"),
        tsa_roots_pem: optional("ESIGN_TSA_ROOTS"),
        pdf_deadline: seconds_var("ESIGN_PDF_DEADLINE_SECS")?.unwrap_or(Config::default().pdf_deadline),
        email_sender: optional("ESIGN_EMAIL_SENDER"),
        web_url: optional("ESIGN_WEB_URL"),
        public_url: optional(ENV_PUBLIC_URL),
        archive_max_age: seconds_var("ESIGN_ARCHIVE_MAX_AGE_SECS")?.unwrap_or(Config::default().archive_max_age),
        webhooks,
        ..Config::default()
    })
}

/// An optional duration variable in (possibly fractional) seconds.
fn seconds_var(name: &'static str) -> Result<Option<std::time::Duration>, ConfigError> {
    match std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
            .map(Some)
            .ok_or_else(|| ConfigError::Invalid(name, format!("{v:?} is not a number of seconds"))),
    }
}

/// The CA keys named by the environment.
pub fn ca_keys_from_env() -> Result<CaKeys, ConfigError> {
    Ok(CaKeys {
        root: var(ENV_ROOT_CA_KEY)?,
        issuing: var(ENV_ISSUING_CA_KEY)?,
        tsa: var(ENV_TSA_KEY)?,
        ocsp: var(ENV_OCSP_KEY)?,
        evidence: var(ENV_EVIDENCE_KEY)?,
    })
}

/// A platform on the AWS services named by the environment.
pub async fn platform_from_env() -> Result<Platform, ConfigError> {
    let sdk = sdk_config()?;
    let stack = std::env::var(ENV_STACK_NAME).unwrap_or_else(|_| "esign".into());
    let queue = std::env::var(ENV_WEBHOOK_QUEUE).ok().filter(|q| !q.trim().is_empty());
    let config = config_from_env()?;
    let mut ports = ports_with(
        &sdk,
        &var(ENV_TABLE)?,
        &var(ENV_FILES_BUCKET)?,
        ca_keys_from_env()?,
        &var(ENV_SECRETS_KEY)?,
        &stack,
        &config,
    );
    if let Some(url) = queue {
        ports.queue = Arc::new(sqs::SqsQueue::new(calls::sqs_client(&sdk), &url));
    }
    Ok(Platform::new(ports, config))
}

/// The webhook queue named by the environment, for the delivery function.
pub async fn webhook_queue_from_env() -> Result<sqs::SqsQueue, ConfigError> {
    let sdk = sdk_config()?;
    Ok(sqs::SqsQueue::new(calls::sqs_client(&sdk), &var(ENV_WEBHOOK_QUEUE)?))
}

/// The AWS ports on the given table, bucket, CA keys and secrets key (tests wrap some of them).
pub fn ports_with(
    sdk: &SdkConfig,
    table: &str,
    bucket: &str,
    keys: CaKeys,
    secrets_key: &str,
    stack: &str,
    config: &Config,
) -> Ports {
    let store: Arc<dyn RecordStore> = Arc::new(dynamo::DynamoStore::new(calls::dynamodb_client(sdk), table));
    let authority = LazyAuthority {
        sdk: sdk.clone(),
        store: store.clone(),
        keys,
        stack: stack.to_owned(),
        public_url: config.public_url.clone(),
        cell: tokio::sync::OnceCell::new(),
        loading_calls: std::sync::OnceLock::new(),
        replayed_for: std::sync::Mutex::new(Vec::new()),
    };
    let clock: Arc<dyn esign_core::ports::Clock> = Arc::new(SystemClock);
    // Development keeps codes in the readable outbox; production sends them through SNS and SES.
    let notifier: Arc<dyn esign_core::ports::Notifier> = match config.mode {
        esign_core::Mode::Development => Arc::new(esign_core::outbox::RecordOutbox::new(store.clone(), clock.clone())),
        esign_core::Mode::Production => Arc::new(notify::AwsNotifier::new(sdk, config.email_sender.clone())),
    };
    Ports {
        store,
        blobs: Arc::new(s3::S3Blobs::new(s3_client(sdk), bucket)),
        clock,
        authority: Arc::new(authority),
        notifier,
        // Set by the caller that knows the queue (the environment, or the local server).
        queue: Arc::new(sqs::NoQueue),
        webhook_sender: Arc::new(http::HttpSender),
        secrets: Arc::new(secrets::KmsSecretBox::new(calls::kms_client(sdk), secrets_key)),
    }
}

/// Loads the KMS authority on first use, so that functions which never sign or issue do not
/// touch KMS, and a stack whose CA is not bootstrapped yet still serves everything else.
struct LazyAuthority {
    sdk: SdkConfig,
    store: Arc<dyn RecordStore>,
    keys: CaKeys,
    stack: String,
    public_url: Option<String>,
    cell: tokio::sync::OnceCell<KmsAuthority>,
    /// When recording AWS calls: the calls loading made, and the functions they were recorded
    /// for (the local server shares one authority among all functions; in Lambda each function
    /// loads its own).
    loading_calls: std::sync::OnceLock<Vec<calls::AwsCall>>,
    replayed_for: std::sync::Mutex<Vec<&'static str>>,
}

impl LazyAuthority {
    async fn get(&self) -> Result<&KmsAuthority, AuthorityError> {
        let load =
            || KmsAuthority::load(&self.sdk, self.store.as_ref(), &self.keys, &self.stack, self.public_url.as_deref());
        if !calls::enabled() {
            return self.cell.get_or_try_init(load).await;
        }
        let authority = self
            .cell
            .get_or_try_init(|| async {
                let (loaded, made) = calls::capturing(load()).await;
                if loaded.is_ok() {
                    let _ = self.loading_calls.set(made);
                    if let (Some(f), Ok(mut done)) = (calls::current_function(), self.replayed_for.lock()) {
                        done.push(f);
                    }
                }
                loaded
            })
            .await?;
        if let (Some(f), Some(made), Ok(mut done)) =
            (calls::current_function(), self.loading_calls.get(), self.replayed_for.lock())
            && !done.contains(&f)
        {
            done.push(f);
            calls::record_cached(made);
        }
        Ok(authority)
    }
}

#[async_trait::async_trait]
impl SealAuthority for LazyAuthority {
    async fn create_seal_key(&self, algorithm: KeyAlgorithm, description: &str) -> Result<String, AuthorityError> {
        self.get().await?.create_seal_key(algorithm, description).await
    }
    async fn issue_seal_certificate(
        &self,
        key_id: &str,
        subject: &SealSubject,
        not_after: OffsetDateTime,
    ) -> Result<IssuedCertificate, AuthorityError> {
        self.get().await?.issue_seal_certificate(key_id, subject, not_after).await
    }
    async fn disable_key(&self, key_id: &str) -> Result<(), AuthorityError> {
        self.get().await?.disable_key(key_id).await
    }
    async fn ca_certificates_pem(&self) -> Result<String, AuthorityError> {
        self.get().await?.ca_certificates_pem().await
    }
    async fn timestamp(&self, request: &[u8]) -> Result<Vec<u8>, AuthorityError> {
        self.get().await?.timestamp(request).await
    }
    async fn seal_signer(&self, key_id: &str, chain_pem: &str) -> Result<Box<dyn esign_pades::Signer>, AuthorityError> {
        self.get().await?.seal_signer(key_id, chain_pem).await
    }
    async fn issuing_certificate_der(&self) -> Result<Vec<u8>, AuthorityError> {
        self.get().await?.issuing_certificate_der().await
    }
    async fn evidence_signer(&self) -> Result<Box<dyn esign_pades::Signer>, AuthorityError> {
        self.get().await?.evidence_signer().await
    }
    async fn sign_crl(
        &self,
        issuer: esign_core::ports::CaLevel,
        content: &esign_pki::crl::CrlContent,
    ) -> Result<Vec<u8>, AuthorityError> {
        self.get().await?.sign_crl(issuer, content).await
    }
    async fn ocsp_respond(
        &self,
        request: &esign_pki::ocsp::ParsedRequest,
        statuses: &[esign_pki::ocsp::OcspStatus],
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, AuthorityError> {
        self.get().await?.ocsp_respond(request, statuses, now).await
    }
}
