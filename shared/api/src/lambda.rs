//! The Lambda adapter. Every deployed function runs the same binary (`esign-lambda`, in
//! `functions/lambda`); which [`Function`] it is comes from the function's `Handler` setting in
//! `infra/template.yaml`, which the runtime passes as `_HANDLER`: a route's function name (e.g.
//! `sign-contract`, the `function` of its [`crate::Route`]) or one of the scheduled / queue
//! workers ([`DELIVER_WEBHOOKS`], [`ANCHOR_AUDIT`]).

use std::convert::Infallible;

use bytes::Bytes;
use lambda_http::{Body, Request, Response, service_fn};

use crate::handler::{ApiRequest, ApiResponse, handle_operation};
use crate::routes::Operation;

fn from_lambda(event: Request) -> ApiRequest {
    let (parts, body) = event.into_parts();
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Text(t) => Bytes::from(t),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    ApiRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    }
}

fn to_lambda(resp: ApiResponse) -> Response<Body> {
    let mut builder = Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        builder = builder.header(k, v);
    }
    let body = if resp.body.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(resp.body.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    };
    builder.body(body).unwrap_or_else(|_| Response::new(Body::Empty))
}

/// The queue and schedule worker that delivers webhooks.
pub const DELIVER_WEBHOOKS: &str = crate::local::DELIVER_WEBHOOKS;
/// The scheduled function that time-stamps the audit trail heads.
pub const ANCHOR_AUDIT: &str = "anchor-audit";

/// What one deployed function does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// Serves one HTTP route.
    Route(Operation),
    /// `deliver-webhooks`: SQS batches of webhook work and the outbox sweep.
    DeliverWebhooks,
    /// `anchor-audit`: time-stamps the audit trail heads that moved.
    AnchorAudit,
    /// `refresh-crls`: reissues both CRLs before their `nextUpdate`.
    RefreshCrls,
    /// `renew-archive-timestamps`: a new archive time stamp on completed contracts whose newest
    /// one is due (its TSA certificate near expiry, or older than `ESIGN_ARCHIVE_MAX_AGE_SECS`).
    RenewArchiveTimestamps,
    /// `generate-evidence`: makes and stores the evidence reports of contracts that completed.
    GenerateEvidence,
    /// `backfill-long-term`: the one-off migration of contracts completed before the platform
    /// kept their long-term state (invoked by hand after a deploy, no schedule).
    BackfillLongTerm,
}

/// The `Handler` setting names no function of the platform.
#[derive(Debug, thiserror::Error)]
#[error(
    "the function's Handler setting (_HANDLER) is {0:?}, which names no esign function: set it in \
     infra/template.yaml to a route's function name (e.g. sign-contract), {DELIVER_WEBHOOKS}, {ANCHOR_AUDIT}, \
     {REFRESH_CRLS}, {RENEW_ARCHIVE_TIMESTAMPS}, {GENERATE_EVIDENCE} or {BACKFILL_LONG_TERM}"
)]
pub struct UnknownHandler(pub String);

impl Function {
    /// The function deployed under `name` (its `Handler` setting).
    pub fn from_name(name: &str) -> Result<Self, UnknownHandler> {
        match name {
            DELIVER_WEBHOOKS => Ok(Function::DeliverWebhooks),
            ANCHOR_AUDIT => Ok(Function::AnchorAudit),
            REFRESH_CRLS => Ok(Function::RefreshCrls),
            RENEW_ARCHIVE_TIMESTAMPS => Ok(Function::RenewArchiveTimestamps),
            GENERATE_EVIDENCE => Ok(Function::GenerateEvidence),
            BACKFILL_LONG_TERM => Ok(Function::BackfillLongTerm),
            _ => crate::ROUTES
                .iter()
                .find(|r| r.function == name)
                .map(|r| Function::Route(r.operation))
                .ok_or_else(|| UnknownHandler(name.to_owned())),
        }
    }

    /// Its name: the `Handler` setting of its function in the template.
    pub fn name(self) -> &'static str {
        match self {
            Function::Route(op) => op.route().function,
            Function::DeliverWebhooks => DELIVER_WEBHOOKS,
            Function::AnchorAudit => ANCHOR_AUDIT,
            Function::RefreshCrls => REFRESH_CRLS,
            Function::RenewArchiveTimestamps => RENEW_ARCHIVE_TIMESTAMPS,
            Function::GenerateEvidence => GENERATE_EVIDENCE,
            Function::BackfillLongTerm => BACKFILL_LONG_TERM,
        }
    }

    /// Every function the platform deploys.
    pub fn all() -> impl Iterator<Item = Function> {
        crate::ROUTES.iter().map(|r| Function::Route(r.operation)).chain([
            Function::DeliverWebhooks,
            Function::AnchorAudit,
            Function::RefreshCrls,
            Function::RenewArchiveTimestamps,
            Function::GenerateEvidence,
            Function::BackfillLongTerm,
        ])
    }
}

/// The entry point of `esign-lambda`: runs the function named by `handler` (the runtime's
/// `_HANDLER`), or fails at init, before any AWS set-up, if it names none.
pub async fn run_handler(handler: &str) -> Result<(), lambda_http::Error> {
    match Function::from_name(handler)? {
        Function::Route(operation) => run(operation).await,
        Function::DeliverWebhooks => run_webhook_deliverer().await,
        Function::AnchorAudit
        | Function::RefreshCrls
        | Function::RenewArchiveTimestamps
        | Function::GenerateEvidence => run_scheduled_function(handler).await,
        Function::BackfillLongTerm => run_backfill_function().await,
    }
}

/// Runs the Lambda function for `operation`, with the platform wired from the environment.
pub async fn run(operation: Operation) -> Result<(), lambda_http::Error> {
    crate::init_tracing();
    let platform = esign_aws::platform_from_env().await?;
    lambda_http::run(service_fn(move |event: Request| {
        let platform = platform.clone();
        let function = operation.route().function;
        async move {
            let handled = handle_operation(&platform, operation, from_lambda(event));
            Ok::<_, Infallible>(to_lambda(esign_aws::calls::in_function(function, handled).await))
        }
    }))
    .await
}

/// Runs the `deliver-webhooks` function: an SQS batch of webhook work (fan-outs and delivery
/// attempts), or a scheduled sweep of the outbox.
pub async fn run_webhook_deliverer() -> Result<(), lambda_http::Error> {
    use lambda_http::lambda_runtime;
    crate::init_tracing();
    let platform = esign_aws::platform_from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
        let platform = platform.clone();
        async move { deliver_webhooks(&platform, event.payload).await }
    }))
    .await
}

/// The function that reissues the CRLs on a schedule.
pub const REFRESH_CRLS: &str = "refresh-crls";
/// The scheduled function that renews archive time stamps.
pub const RENEW_ARCHIVE_TIMESTAMPS: &str = "renew-archive-timestamps";
/// The scheduled function that makes the evidence reports of completed contracts.
pub const GENERATE_EVIDENCE: &str = "generate-evidence";

/// One run of the scheduled function named `name`, its AWS calls recorded under that name: what
/// its Lambda function does on each tick of its schedule, and what the local server's ticks and
/// the tests call.
/// - `anchor-audit` time-stamps the audit trail heads that moved (`Platform::anchor_audit_trails`);
/// - `refresh-crls` reissues both CRLs (`Platform::refresh_crls`);
/// - `renew-archive-timestamps` renews the archive time stamps that are due
///   (`Platform::renew_archive_timestamps`);
/// - `generate-evidence` makes the evidence reports that are due (`Platform::generate_due_evidence`).
pub async fn run_scheduled(
    platform: &esign_core::Platform,
    name: &'static str,
) -> Result<serde_json::Value, lambda_http::Error> {
    use esign_aws::calls::in_function;
    let done = match Function::from_name(name)? {
        Function::AnchorAudit => serde_json::json!(in_function(name, platform.anchor_audit_trails()).await?),
        Function::RefreshCrls => serde_json::json!(in_function(name, platform.refresh_crls()).await?),
        Function::RenewArchiveTimestamps => {
            serde_json::json!(in_function(name, platform.renew_archive_timestamps()).await?)
        }
        Function::GenerateEvidence => serde_json::json!(in_function(name, platform.generate_due_evidence()).await?),
        Function::Route(_) | Function::DeliverWebhooks | Function::BackfillLongTerm => {
            return Err(format!("{name} is not a scheduled function").into());
        }
    };
    Ok(done)
}

/// Runs a scheduled function (`anchor-audit`, `refresh-crls`, `renew-archive-timestamps`,
/// `generate-evidence`): each tick of its schedule is one [`run_scheduled`].
pub async fn run_scheduled_function(name: &str) -> Result<(), lambda_http::Error> {
    use lambda_http::lambda_runtime;
    let function = Function::from_name(name)?;
    crate::init_tracing();
    let platform = esign_aws::platform_from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(move |_: lambda_runtime::LambdaEvent<serde_json::Value>| {
        let platform = platform.clone();
        async move { run_scheduled(&platform, function.name()).await }
    }))
    .await
}

/// The one-off migration of contracts completed before the platform kept their long-term state.
pub const BACKFILL_LONG_TERM: &str = "backfill-long-term";

/// One invocation of `backfill-long-term`: `{}` starts the migration, `{"after": <next>}` goes on
/// where the previous one stopped; answers what it did and `next` (null: done). See
/// `esign_core::backfill`.
pub async fn backfill_long_term(
    platform: &esign_core::Platform,
    payload: serde_json::Value,
) -> Result<serde_json::Value, lambda_http::Error> {
    let after = match payload.get("after") {
        None | Some(serde_json::Value::Null) => None,
        Some(cursor) => Some(
            serde_json::from_value::<esign_core::backfill::BackfillCursor>(cursor.clone())
                .map_err(|e| format!("after: not a cursor this function answered: {e}"))?,
        ),
    };
    let run = esign_aws::calls::in_function(BACKFILL_LONG_TERM, platform.backfill_long_term(after)).await?;
    Ok(serde_json::json!(run))
}

/// Runs `backfill-long-term`: each invocation is one [`backfill_long_term`].
pub async fn run_backfill_function() -> Result<(), lambda_http::Error> {
    use lambda_http::lambda_runtime;
    crate::init_tracing();
    let platform = esign_aws::platform_from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
        let platform = platform.clone();
        async move { backfill_long_term(&platform, event.payload).await }
    }))
    .await
}

/// Handles one invocation of `deliver-webhooks`. An SQS batch answers the messages that failed
/// (`batchItemFailures`, so only those are received again); anything else is the schedule's
/// tick, which sweeps the outbox.
pub async fn deliver_webhooks(
    platform: &esign_core::Platform,
    payload: serde_json::Value,
) -> Result<serde_json::Value, lambda_http::Error> {
    let Some(records) = payload.get("Records").and_then(serde_json::Value::as_array) else {
        let sweep = platform.sweep_webhook_outbox();
        let queued = esign_aws::calls::in_function(crate::local::DELIVER_WEBHOOKS, sweep).await?;
        return Ok(serde_json::json!({ "swept": queued }));
    };
    // The batch's messages at once: each attempt may wait for its receiver's timeout.
    let mut tasks = tokio::task::JoinSet::new();
    for r in records {
        let id = r.get("messageId").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
        let body = r.get("body").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
        let platform = platform.clone();
        let work = async move { (platform.handle_webhook_message(&body).await, id) };
        tasks.spawn(esign_aws::calls::in_function(crate::local::DELIVER_WEBHOOKS, work));
    }
    let mut failures = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((Ok(()), _)) => {}
            Ok((Err(e), id)) => {
                tracing::warn!(message_id = %id, error = %e, "webhook message failed; SQS will deliver it again");
                failures.push(serde_json::json!({ "itemIdentifier": id }));
            }
            // A panicked task: its message id is unknown, so the whole batch is retried.
            Err(e) => return Err(e.into()),
        }
    }
    failures.sort_by_key(|f| f.to_string());
    Ok(serde_json::json!({ "batchItemFailures": failures }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use esign_core::memory::{
        FakeAuthority, FakeSender, MemoryBlobs, MemoryNotifier, MemoryQueue, MemorySecretBox, MemoryStore,
    };
    use esign_core::ports::SystemClock;
    use esign_core::{Config, Platform, Ports};

    use super::*;

    fn platform() -> Platform {
        let ports = Ports {
            store: Arc::new(MemoryStore::default()),
            blobs: Arc::new(MemoryBlobs::default()),
            clock: Arc::new(SystemClock),
            authority: Arc::new(FakeAuthority::default()),
            notifier: Arc::new(MemoryNotifier::default()),
            queue: Arc::new(MemoryQueue::default()),
            webhook_sender: Arc::new(FakeSender::default()),
            secrets: Arc::new(MemorySecretBox::default()),
        };
        Platform::new(ports, Config::default())
    }

    fn event(method: &str, uri: &str, body: Body) -> Request {
        lambda_http::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(body)
            .unwrap()
    }

    async fn call(op: Operation, e: Request) -> Response<Body> {
        to_lambda(handle_operation(&platform(), op, from_lambda(e)).await)
    }

    #[test]
    fn every_handler_name_picks_its_function_and_others_fail() {
        let mut names = std::collections::BTreeSet::new();
        for f in Function::all() {
            assert!(names.insert(f.name()), "{} twice", f.name());
            assert_eq!(Function::from_name(f.name()).unwrap(), f);
        }
        // Every route, the five functions driven by a schedule or a queue, and the migration.
        assert_eq!(names.len(), crate::ROUTES.len() + 6);
        assert_eq!(Function::from_name("sign-contract").unwrap(), Function::Route(Operation::SignContract));
        for bad in ["", "bootstrap", "Sign-Contract", "sign-contract "] {
            let e = Function::from_name(bad).unwrap_err().to_string();
            assert!(e.contains("_HANDLER") && e.contains("infra/template.yaml"), "{e}");
        }
    }

    #[tokio::test]
    async fn an_unknown_handler_fails_before_any_aws_set_up() {
        let e = run_handler("bootstrap").await.unwrap_err();
        assert!(e.to_string().contains("\"bootstrap\""), "{e}");
    }

    #[tokio::test]
    async fn a_function_serves_its_own_route_only() {
        let body = Body::Text(
            r#"{"name":"某某科技有限公司","contact_email":"a@example.com",
               "admin":{"name":"张三","mobile":"13800138000","email":"z@example.com"}}"#
                .into(),
        );
        let ok = call(Operation::RegisterEnterprise, event("POST", "https://api.example/v1/enterprises", body)).await;
        assert_eq!(ok.status(), 201);
        let Body::Text(text) = ok.body() else { panic!("JSON answers are text") };
        assert!(text.contains("\"api_key\":\"esk_"));

        let other =
            call(Operation::RegisterEnterprise, event("GET", "https://api.example/v1/members", Body::Empty)).await;
        assert_eq!(other.status(), 404);
        let wrong =
            call(Operation::GetEnterprise, event("DELETE", "https://api.example/v1/enterprises/x", Body::Empty)).await;
        assert_eq!(wrong.status(), 405);
        assert_eq!(wrong.headers()["allow"], "GET");
    }

    #[tokio::test]
    async fn the_deliverer_reports_only_failed_messages_and_sweeps_on_schedule() {
        let p = platform();
        let batch = serde_json::json!({"Records": [
            {"messageId": "m1", "body": "{\"kind\":\"event\",\"event_id\":\"evt_none\"}"},
            {"messageId": "m2", "body": "not json: dropped, not retried"}
        ]});
        let out = deliver_webhooks(&p, batch).await.unwrap();
        assert_eq!(out, serde_json::json!({"batchItemFailures": []}));
        let out = deliver_webhooks(&p, serde_json::json!({"source": "aws.scheduler"})).await.unwrap();
        assert_eq!(out, serde_json::json!({"swept": 0}));
    }

    #[tokio::test]
    async fn scheduled_functions_run_by_name_and_routes_are_not_scheduled() {
        let p = platform();
        let out = run_scheduled(&p, GENERATE_EVIDENCE).await.unwrap();
        assert_eq!(out, serde_json::json!({"generated": [], "reused": [], "failed": []}));
        let out = run_scheduled(&p, RENEW_ARCHIVE_TIMESTAMPS).await.unwrap();
        assert_eq!(out, serde_json::json!({"renewed": [], "failed": []}));
        for not_scheduled in ["sign-contract", DELIVER_WEBHOOKS, BACKFILL_LONG_TERM] {
            let e = run_scheduled(&p, not_scheduled).await.unwrap_err();
            assert!(e.to_string().contains("not a scheduled function"), "{e}");
        }
    }

    #[tokio::test]
    async fn the_migration_starts_goes_on_and_refuses_a_cursor_it_did_not_make() {
        let p = platform();
        let done =
            serde_json::json!({"checked": 0, "archive_indexed": [], "evidence_due": [], "failed": [], "next": null});
        assert_eq!(backfill_long_term(&p, serde_json::json!({})).await.unwrap(), done);
        assert_eq!(backfill_long_term(&p, serde_json::json!({"after": {}})).await.unwrap(), done);
        let e = backfill_long_term(&p, serde_json::json!({"after": {"table": "x"}})).await.unwrap_err();
        assert!(e.to_string().contains("not a cursor"), "{e}");
    }

    #[tokio::test]
    async fn binary_bodies_and_query_strings_reach_the_handler() {
        let e = event("POST", "https://api.example/v1/enterprises", Body::Binary(vec![0xff, 0xfe]));
        let r = call(Operation::RegisterEnterprise, e).await;
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let e = event("GET", "https://api.example/v1/members?limit=5", Body::Empty);
        let r = call(Operation::ListMembers, e).await;
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
    }
}
