//! The AWS adapters: the domain's ports on DynamoDB ([`dynamo::DynamoStore`]) and S3
//! ([`s3::S3Blobs`]), the wiring of a [`Platform`] from the environment a function runs in
//! ([`platform_from_env`]), and provisioning of an emulator from the SAM template
//! ([`provision::provision`]).
//!
//! Every client honours `AWS_ENDPOINT_URL` (the SDK reads it), which is how local runs reach moto
//! or LocalStack; with an endpoint set, S3 uses path-style addressing.

pub mod dynamo;
pub mod provision;
pub mod s3;

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use esign_core::auth::OperatorKeys;
use esign_core::ports::SystemClock;
use esign_core::{Config, Mode, Platform};

/// The records table (`!Ref RecordsTable` in the template).
pub const ENV_TABLE: &str = "ESIGN_TABLE";
/// The files bucket (`!Ref FilesBucket`).
pub const ENV_FILES_BUCKET: &str = "ESIGN_FILES_BUCKET";
/// `production` (default) or `development`.
pub const ENV_MODE: &str = "ESIGN_MODE";
/// Comma-separated operator API keys.
pub const ENV_OPERATOR_KEYS: &str = "ESIGN_OPERATOR_KEYS";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {0}: {1}")]
    Invalid(&'static str, String),
}

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The SDK configuration for an emulator at `endpoint`: region and credentials from the
/// environment where set, else `us-east-1` and dummy credentials (emulators accept any).
pub async fn emulator_sdk_config(endpoint: &str) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).endpoint_url(endpoint);
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
        loader = loader.region(aws_config::Region::new("us-east-1"));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "emulator",
        ));
    }
    loader.load().await
}

/// An S3 client; path-style when an endpoint override is set (emulators have no wildcard DNS).
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let path_style = config.endpoint_url().is_some();
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(path_style).build())
}

fn var(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty()).ok_or(ConfigError::Missing(name))
}

/// The platform's settings from the environment.
pub fn config_from_env() -> Result<Config, ConfigError> {
    let mode = match std::env::var(ENV_MODE).as_deref() {
        Err(_) | Ok("") | Ok("production") => Mode::Production,
        Ok("development") => Mode::Development,
        Ok(other) => return Err(ConfigError::Invalid(ENV_MODE, format!("unknown mode {other:?}"))),
    };
    let operator_keys = OperatorKeys::from_list(&std::env::var(ENV_OPERATOR_KEYS).unwrap_or_default())
        .map_err(|e| ConfigError::Invalid(ENV_OPERATOR_KEYS, e))?;
    Ok(Config { mode, operator_keys, ..Config::default() })
}

/// A platform on the AWS services named by the environment.
pub async fn platform_from_env() -> Result<Platform, ConfigError> {
    let sdk = sdk_config().await;
    platform_with(&sdk, &var(ENV_TABLE)?, &var(ENV_FILES_BUCKET)?, config_from_env()?)
}

/// A platform on the given table and bucket.
pub fn platform_with(sdk: &SdkConfig, table: &str, bucket: &str, config: Config) -> Result<Platform, ConfigError> {
    let store = dynamo::DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table);
    let blobs = s3::S3Blobs::new(s3_client(sdk), bucket);
    Ok(Platform::new(Arc::new(store), Arc::new(blobs), Arc::new(SystemClock), config))
}
