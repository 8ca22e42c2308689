//! A recorder of the AWS calls the platform makes, each as the IAM actions it needs and the
//! resource it needs them on, attributed to the Lambda function that made it.
//!
//! Disabled (the default, and always in Lambda unless a sink is installed) it costs nothing: the
//! clients are built without the interceptor. Enabled with [`install`] (or [`install_from_env`],
//! `ESIGN_AWS_CALL_LOG=<path>`), every client built afterwards by [`dynamodb_client`],
//! [`kms_client`], [`crate::s3_client`], [`sqs_client`], [`sns_client`] and [`ses_client`]
//! carries an SDK interceptor that hands one [`AwsCall`] per execution (presigning included) to
//! the sink. The function is the one named by [`in_function`] around the work (the local server
//! wraps each request in its route's function, and the webhook worker in `deliver-webhooks`).
//!
//! The end-to-end tests write the calls as JSON lines and `shared/api/tests/iam.rs` compares
//! them with the template's policies; the same records give per-operation call counts.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef, Input,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_types::SdkConfig;
use serde::{Deserialize, Serialize};

/// Names the environment variable of the JSON-lines call log ([`install_from_env`]).
pub const ENV_CALL_LOG: &str = "ESIGN_AWS_CALL_LOG";

tokio::task_local! {
    static FUNCTION: &'static str;
    static CAPTURE: Arc<Mutex<Vec<AwsCall>>>;
}

/// Runs `work` as the Lambda function `function`: the AWS calls it makes are attributed to it.
pub async fn in_function<F: Future>(function: &'static str, work: F) -> F::Output {
    FUNCTION.scope(function, work).await
}

/// The function the current task works for, if any.
pub fn current_function() -> Option<&'static str> {
    FUNCTION.try_with(|f| *f).ok()
}

/// Runs `work` and answers, with its output, the calls it made (recorded as usual too); nothing
/// when no recorder is installed.
pub async fn capturing<F: Future>(work: F) -> (F::Output, Vec<AwsCall>) {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let out = CAPTURE.scope(buffer.clone(), work).await;
    let calls = buffer.lock().map(|mut b| std::mem::take(&mut *b)).unwrap_or_default();
    (out, calls)
}

/// Records `calls` (captured while another function filled a cache this process shares) for
/// the current function, marked [`AwsCall::cached`].
pub fn record_cached(calls: &[AwsCall]) {
    let Some(sink) = SINK.get() else { return };
    for c in calls {
        sink.record(AwsCall { function: current_function().map(str::to_owned), cached: true, ..c.clone() });
    }
}

/// One IAM action on one resource, e.g. `dynamodb:PutItem` on `RecordsTable`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Permission {
    /// The IAM action (`service:Action`).
    pub action: String,
    /// The resource, named after the template's logical id where it is one of the stack's
    /// resources (`RecordsTable`, `RecordsTable/index/GSI1`, `FilesBucket/uploads/*`,
    /// `IssuingCaKey`, `WebhookQueue`), `SealKey` for any other KMS key (the keys the platform
    /// creates for seals), `*` where the action takes no resource.
    pub resource: String,
}

/// One SDK execution (one call, or one presigned request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsCall {
    /// The Lambda function it was made for (`None`: outside any, e.g. provisioning).
    pub function: Option<String>,
    /// The SDK's service name (`DynamoDB`, `KMS`, `S3`, `SQS`, `SNS`, `SES`).
    pub service: String,
    /// The SDK operation (`TransactWriteItems`, `Sign`, …).
    pub operation: String,
    /// What it needs from IAM.
    pub permissions: Vec<Permission>,
    /// False for a presigned request (signed, never sent by the platform).
    pub transmitted: bool,
    /// Whether the call answered without error (a presigned request: whether it was signed).
    pub ok: bool,
    /// True for a call another function's request made to fill a cache the local process
    /// shares ([`record_cached`]), recorded again for this function, which in Lambda runs in a
    /// process of its own and makes the call itself; such a record is no extra request.
    #[serde(default)]
    pub cached: bool,
}

/// Where recorded calls go.
pub trait CallSink: Send + Sync + std::fmt::Debug {
    /// Takes one call; must not block for long (it runs inside the SDK's request pipeline).
    fn record(&self, call: AwsCall);
}

static SINK: OnceLock<Arc<dyn CallSink>> = OnceLock::new();

/// Why a recorder could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum RecorderError {
    #[error("an AWS call recorder is already installed")]
    AlreadyInstalled,
    #[error("cannot open the AWS call log {0}: {1}")]
    Open(String, std::io::Error),
}

/// Installs the process's sink: clients built from now on record their calls into it.
pub fn install(sink: Arc<dyn CallSink>) -> Result<(), RecorderError> {
    SINK.set(sink).map_err(|_| RecorderError::AlreadyInstalled)
}

/// Installs a [`JsonLinesFile`] at `ESIGN_AWS_CALL_LOG` when that is set (answers whether it
/// did); a recorder already installed by an earlier call is kept.
pub fn install_from_env() -> Result<bool, RecorderError> {
    let Some(path) = std::env::var_os(ENV_CALL_LOG).filter(|p| !p.is_empty()) else { return Ok(false) };
    if SINK.get().is_some() {
        return Ok(true);
    }
    let file = JsonLinesFile::append(&path)?;
    match install(Arc::new(file)) {
        Ok(()) | Err(RecorderError::AlreadyInstalled) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Whether a recorder is installed.
pub fn enabled() -> bool {
    SINK.get().is_some()
}

/// Appends each call as one JSON line (one `write` per line on a file opened for appending, so
/// several processes may share the file).
#[derive(Debug)]
pub struct JsonLinesFile {
    file: Mutex<std::fs::File>,
}

impl JsonLinesFile {
    /// Opens (creating) `path` for appending.
    pub fn append(path: impl AsRef<std::path::Path>) -> Result<Self, RecorderError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| RecorderError::Open(path.display().to_string(), e))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| RecorderError::Open(path.display().to_string(), e))?;
        Ok(JsonLinesFile { file: Mutex::new(file) })
    }
}

impl CallSink for JsonLinesFile {
    fn record(&self, call: AwsCall) {
        let Ok(mut line) = serde_json::to_vec(&call) else { return };
        line.push(b'\n');
        if let Ok(mut f) = self.file.lock()
            && let Err(e) = f.write_all(&line)
        {
            tracing::warn!(error = %e, "cannot append to the AWS call log");
        }
    }
}

/// What [`CallCounts`] counts by: (function, SDK service, SDK operation).
pub type CallKey = (Option<String>, String, String);

/// Counts calls by (function, service, operation), in memory; presigned requests and
/// [`AwsCall::cached`] records are not requests, so they are not counted.
#[derive(Debug, Default)]
pub struct CallCounts {
    counts: Mutex<HashMap<CallKey, u64>>,
}

impl CallCounts {
    /// The counts so far.
    pub fn snapshot(&self) -> HashMap<CallKey, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl CallSink for CallCounts {
    fn record(&self, call: AwsCall) {
        if !call.transmitted || call.cached {
            return;
        }
        if let Ok(mut c) = self.counts.lock() {
            *c.entry((call.function, call.service, call.operation)).or_default() += 1;
        }
    }
}

/// Physical names (table and bucket names, key ids, queue URLs) of the stack's resources by
/// logical id, so that calls name `RecordsTable` rather than `esign-local-recordstable`.
static NAMES: RwLock<Vec<(String, String)>> = RwLock::new(Vec::new());

/// Registers the stack's resources as (logical id, physical name or id) pairs.
pub fn name_resources<'a>(resources: impl IntoIterator<Item = (&'a str, &'a str)>) {
    if let Ok(mut names) = NAMES.write() {
        for (logical, physical) in resources {
            names.retain(|(_, p)| p != physical);
            names.push((logical.to_owned(), physical.to_owned()));
        }
    }
}

fn logical(physical: &str) -> Option<String> {
    let names = NAMES.read().ok()?;
    names.iter().find(|(_, p)| p == physical || physical.ends_with(&format!("/{p}"))).map(|(l, _)| l.clone())
}

fn named(name: Option<&str>) -> String {
    let name = name.unwrap_or("?");
    logical(name).unwrap_or_else(|| name.to_owned())
}

fn kms_key(id: Option<&str>) -> String {
    let id = id.unwrap_or("?");
    // Any key the stack does not declare is one the platform created: a seal key.
    logical(id).unwrap_or_else(|| "SealKey".to_owned())
}

fn object(bucket: Option<&str>, key: Option<&str>) -> String {
    let bucket = bucket.unwrap_or("?");
    let bucket = logical(bucket).unwrap_or_else(|| bucket.to_owned());
    match key.and_then(|k| k.split_once('/')) {
        Some((prefix, _)) => format!("{bucket}/{prefix}/*"),
        None => format!("{bucket}/*"),
    }
}

fn permission(action: &str, resource: String) -> Permission {
    Permission { action: action.to_owned(), resource }
}

/// The IAM permissions an execution of `service`'s `operation` with this input needs (AWS's
/// service authorization reference: a transaction needs each item's own action, `HeadObject`
/// needs `s3:GetObject`, a `CreateKey` with tags needs `kms:TagResource`).
fn permissions(service: &str, operation: &str, input: &Input) -> Vec<Permission> {
    use aws_sdk_dynamodb::operation as ddb;
    use aws_sdk_kms::operation as kms;
    use aws_sdk_s3::operation as s3;
    use aws_sdk_sqs::operation as sqs;
    let one = |action: &str, resource: String| vec![permission(action, resource)];
    match (service, operation) {
        ("DynamoDB", "GetItem") => one(
            "dynamodb:GetItem",
            named(input.downcast_ref::<ddb::get_item::GetItemInput>().and_then(|i| i.table_name())),
        ),
        ("DynamoDB", "PutItem") => one(
            "dynamodb:PutItem",
            named(input.downcast_ref::<ddb::put_item::PutItemInput>().and_then(|i| i.table_name())),
        ),
        ("DynamoDB", "UpdateItem") => one(
            "dynamodb:UpdateItem",
            named(input.downcast_ref::<ddb::update_item::UpdateItemInput>().and_then(|i| i.table_name())),
        ),
        ("DynamoDB", "DeleteItem") => one(
            "dynamodb:DeleteItem",
            named(input.downcast_ref::<ddb::delete_item::DeleteItemInput>().and_then(|i| i.table_name())),
        ),
        ("DynamoDB", "BatchGetItem") => {
            let tables = input
                .downcast_ref::<ddb::batch_get_item::BatchGetItemInput>()
                .and_then(|i| i.request_items())
                .map(|items| items.keys().map(|t| named(Some(t))).collect::<Vec<_>>())
                .unwrap_or_else(|| vec!["?".to_owned()]);
            tables.into_iter().map(|t| permission("dynamodb:BatchGetItem", t)).collect()
        }
        ("DynamoDB", "Query") => {
            let q = input.downcast_ref::<ddb::query::QueryInput>();
            let t = named(q.and_then(|i| i.table_name()));
            let resource = match q.and_then(|i| i.index_name()) {
                Some(index) => format!("{t}/index/{index}"),
                None => t,
            };
            one("dynamodb:Query", resource)
        }
        ("DynamoDB", "TransactWriteItems") => {
            let Some(i) = input.downcast_ref::<ddb::transact_write_items::TransactWriteItemsInput>() else {
                return one("dynamodb:TransactWriteItems", "?".into());
            };
            let mut out: Vec<Permission> = Vec::new();
            for item in i.transact_items() {
                let p = if let Some(p) = item.put() {
                    permission("dynamodb:PutItem", named(Some(p.table_name())))
                } else if let Some(u) = item.update() {
                    permission("dynamodb:UpdateItem", named(Some(u.table_name())))
                } else if let Some(d) = item.delete() {
                    permission("dynamodb:DeleteItem", named(Some(d.table_name())))
                } else if let Some(c) = item.condition_check() {
                    permission("dynamodb:ConditionCheckItem", named(Some(c.table_name())))
                } else {
                    continue;
                };
                if !out.contains(&p) {
                    out.push(p);
                }
            }
            out
        }
        ("S3", "GetObject") => {
            let i = input.downcast_ref::<s3::get_object::GetObjectInput>();
            one("s3:GetObject", object(i.and_then(|i| i.bucket()), i.and_then(|i| i.key())))
        }
        ("S3", "HeadObject") => {
            let i = input.downcast_ref::<s3::head_object::HeadObjectInput>();
            one("s3:GetObject", object(i.and_then(|i| i.bucket()), i.and_then(|i| i.key())))
        }
        ("S3", "PutObject") => {
            let i = input.downcast_ref::<s3::put_object::PutObjectInput>();
            one("s3:PutObject", object(i.and_then(|i| i.bucket()), i.and_then(|i| i.key())))
        }
        ("S3", "CopyObject") => {
            let i = input.downcast_ref::<s3::copy_object::CopyObjectInput>();
            let source = i.and_then(|i| i.copy_source()).map(|s| s.trim_start_matches('/'));
            let source = source.map(|s| s.split_once('?').map_or(s, |(path, _)| path));
            vec![
                permission("s3:PutObject", object(i.and_then(|i| i.bucket()), i.and_then(|i| i.key()))),
                permission(
                    "s3:GetObject",
                    object(
                        source.and_then(|s| s.split_once('/')).map(|(b, _)| b),
                        source.and_then(|s| s.split_once('/')).map(|(_, k)| k),
                    ),
                ),
            ]
        }
        ("KMS", "Sign") => {
            one("kms:Sign", kms_key(input.downcast_ref::<kms::sign::SignInput>().and_then(|i| i.key_id())))
        }
        ("KMS", "GetPublicKey") => one(
            "kms:GetPublicKey",
            kms_key(input.downcast_ref::<kms::get_public_key::GetPublicKeyInput>().and_then(|i| i.key_id())),
        ),
        ("KMS", "DisableKey") => one(
            "kms:DisableKey",
            kms_key(input.downcast_ref::<kms::disable_key::DisableKeyInput>().and_then(|i| i.key_id())),
        ),
        ("KMS", "Encrypt") => {
            one("kms:Encrypt", kms_key(input.downcast_ref::<kms::encrypt::EncryptInput>().and_then(|i| i.key_id())))
        }
        ("KMS", "Decrypt") => {
            one("kms:Decrypt", kms_key(input.downcast_ref::<kms::decrypt::DecryptInput>().and_then(|i| i.key_id())))
        }
        ("KMS", "CreateKey") => {
            let mut out = one("kms:CreateKey", "*".into());
            if input.downcast_ref::<kms::create_key::CreateKeyInput>().is_some_and(|i| !i.tags().is_empty()) {
                out.push(permission("kms:TagResource", "SealKey".into()));
            }
            out
        }
        ("SQS", "SendMessage") => one(
            "sqs:SendMessage",
            named(input.downcast_ref::<sqs::send_message::SendMessageInput>().and_then(|i| i.queue_url())),
        ),
        ("SQS", "ReceiveMessage") => one(
            "sqs:ReceiveMessage",
            named(input.downcast_ref::<sqs::receive_message::ReceiveMessageInput>().and_then(|i| i.queue_url())),
        ),
        ("SQS", "DeleteMessage") => one(
            "sqs:DeleteMessage",
            named(input.downcast_ref::<sqs::delete_message::DeleteMessageInput>().and_then(|i| i.queue_url())),
        ),
        // SMS goes to phone numbers, not topics: no resource to scope.
        ("SNS", "Publish") => one("sns:Publish", "*".into()),
        ("SES", "SendEmail") => one("ses:SendEmail", "ses-identity/*".into()),
        (service, operation) => one(&format!("{}:{operation}", service.to_ascii_lowercase()), "?".into()),
    }
}

/// What `read_before_serialization` learned, for `read_after_execution` to report.
#[derive(Debug, Clone)]
struct Pending(AwsCall);

impl Storable for Pending {
    type Storer = StoreReplace<Self>;
}

/// The SDK interceptor behind the recorder.
#[derive(Debug, Clone)]
pub struct Recorder {
    sink: Arc<dyn CallSink>,
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "esign-aws-call-recorder"
    }

    // Not `read_before_execution`: a client interceptor runs that before the operation's
    // configuration (its `Metadata`) is in the bag.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = match cfg.load::<Metadata>() {
            Some(m) => (m.service().to_owned(), m.name().to_owned()),
            None => ("?".to_owned(), "?".to_owned()),
        };
        let permissions = permissions(&service, &operation, context.input());
        let call = AwsCall {
            function: current_function().map(str::to_owned),
            service,
            operation,
            permissions,
            transmitted: false,
            ok: false,
            cached: false,
        };
        cfg.interceptor_state().store_put(Pending(call));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Pending(mut call)) = cfg.load::<Pending>().cloned() {
            // A presigned request stops before transmission: no response and no outcome.
            call.transmitted = context.response().is_some();
            call.ok = match context.output_or_error() {
                Some(outcome) => outcome.is_ok(),
                None => !call.transmitted,
            };
            let _ = CAPTURE.try_with(|buffer| {
                if let Ok(mut b) = buffer.lock() {
                    b.push(call.clone());
                }
            });
            self.sink.record(call);
        }
        Ok(())
    }
}

fn recorder() -> Option<Recorder> {
    SINK.get().map(|sink| Recorder { sink: sink.clone() })
}

/// A DynamoDB client (recording when a recorder is installed).
pub fn dynamodb_client(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let mut b = aws_sdk_dynamodb::config::Builder::from(sdk);
    if let Some(r) = recorder() {
        b = b.interceptor(r);
    }
    aws_sdk_dynamodb::Client::from_conf(b.build())
}

/// A KMS client (recording when a recorder is installed).
pub fn kms_client(sdk: &SdkConfig) -> aws_sdk_kms::Client {
    let mut b = aws_sdk_kms::config::Builder::from(sdk);
    if let Some(r) = recorder() {
        b = b.interceptor(r);
    }
    aws_sdk_kms::Client::from_conf(b.build())
}

/// An SQS client (recording when a recorder is installed).
pub fn sqs_client(sdk: &SdkConfig) -> aws_sdk_sqs::Client {
    let mut b = aws_sdk_sqs::config::Builder::from(sdk);
    if let Some(r) = recorder() {
        b = b.interceptor(r);
    }
    aws_sdk_sqs::Client::from_conf(b.build())
}

/// An SNS client (recording when a recorder is installed).
pub fn sns_client(sdk: &SdkConfig) -> aws_sdk_sns::Client {
    let mut b = aws_sdk_sns::config::Builder::from(sdk);
    if let Some(r) = recorder() {
        b = b.interceptor(r);
    }
    aws_sdk_sns::Client::from_conf(b.build())
}

/// An SES (v1) client (recording when a recorder is installed).
pub fn ses_client(sdk: &SdkConfig) -> aws_sdk_ses::Client {
    let mut b = aws_sdk_ses::config::Builder::from(sdk);
    if let Some(r) = recorder() {
        b = b.interceptor(r);
    }
    aws_sdk_ses::Client::from_conf(b.build())
}

/// The S3 config builder, with the recorder when one is installed.
pub(crate) fn s3_builder(sdk: &SdkConfig) -> aws_sdk_s3::config::Builder {
    let b = aws_sdk_s3::config::Builder::from(sdk);
    match recorder() {
        Some(r) => b.interceptor(r),
        None => b,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};

    use super::*;

    fn erased<T: std::fmt::Debug + Send + Sync + 'static>(input: T) -> Input {
        Input::erase(input)
    }

    #[test]
    fn a_transaction_needs_each_item_kinds_action_on_its_table() {
        name_resources([("RecordsTable", "local-recordstable")]);
        let t = "local-recordstable";
        let key = || Some(HashMap::new());
        let items = vec![
            TransactWriteItem::builder().put(Put::builder().table_name(t).set_item(key()).build().unwrap()).build(),
            TransactWriteItem::builder()
                .update(Update::builder().table_name(t).set_key(key()).update_expression("SET a = :a").build().unwrap())
                .build(),
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(t)
                        .set_key(key())
                        .condition_expression("attribute_exists(PK)")
                        .build()
                        .unwrap(),
                )
                .build(),
            TransactWriteItem::builder().put(Put::builder().table_name(t).set_item(key()).build().unwrap()).build(),
            TransactWriteItem::builder()
                .delete(Delete::builder().table_name(t).set_key(key()).build().unwrap())
                .build(),
        ];
        let input = aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput::builder()
            .set_transact_items(Some(items))
            .build()
            .unwrap();
        let got: Vec<String> =
            permissions("DynamoDB", "TransactWriteItems", &erased(input)).into_iter().map(|p| p.action).collect();
        assert_eq!(
            got,
            ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem"]
        );
        let query =
            aws_sdk_dynamodb::operation::query::QueryInput::builder().table_name(t).index_name("GSI1").build().unwrap();
        assert_eq!(
            permissions("DynamoDB", "Query", &erased(query)),
            [Permission { action: "dynamodb:Query".into(), resource: "RecordsTable/index/GSI1".into() }]
        );
    }

    #[test]
    fn s3_and_kms_calls_name_the_action_and_the_resource_kind() {
        name_resources([("FilesBucket", "local-filesbucket"), ("IssuingCaKey", "key-issuing")]);
        let head = aws_sdk_s3::operation::head_object::HeadObjectInput::builder()
            .bucket("local-filesbucket")
            .key("pinned/seals/x.png")
            .build()
            .unwrap();
        assert_eq!(
            permissions("S3", "HeadObject", &erased(head)),
            [Permission { action: "s3:GetObject".into(), resource: "FilesBucket/pinned/*".into() }]
        );
        let sign = |key: &str| {
            let input = aws_sdk_kms::operation::sign::SignInput::builder().key_id(key).build().unwrap();
            permissions("KMS", "Sign", &erased(input)).remove(0).resource
        };
        assert_eq!(sign("arn:aws:kms:us-east-1:000000000000:key/key-issuing"), "IssuingCaKey");
        assert_eq!(sign("some-seal-key"), "SealKey");
        let create = aws_sdk_kms::operation::create_key::CreateKeyInput::builder()
            .tags(aws_sdk_kms::types::Tag::builder().tag_key("esign-stack").tag_value("s").build().unwrap())
            .build()
            .unwrap();
        let actions: Vec<_> =
            permissions("KMS", "CreateKey", &erased(create)).into_iter().map(|p| (p.action, p.resource)).collect();
        assert_eq!(
            actions,
            [("kms:CreateKey".into(), "*".into()), ("kms:TagResource".into(), "SealKey".into())]
                as [(String, String); 2]
        );
    }

    #[tokio::test]
    async fn calls_are_attributed_to_the_function_around_them() {
        assert_eq!(current_function(), None);
        assert_eq!(in_function("sign-contract", async { current_function() }).await, Some("sign-contract"));
    }
}
