//! The local server: one process serving every operation's route over HTTP/1.1, for
//! development and the end-to-end tests. Requests go through the same [`handle`] as in Lambda.
//! With a [`WebApp`], every path outside `/v1` serves the built web app instead, as CloudFront
//! does when deployed.

use std::convert::Infallible;

use bytes::Bytes;
use esign_core::Platform;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::handler::{ApiRequest, ApiResponse, MAX_BODY, handle};
use crate::web::WebApp;

const MAX_TRANSPORT_BODY: usize =
    if MAX_BODY > esign_core::verify::MAX_VERIFY_BYTES { MAX_BODY } else { esign_core::verify::MAX_VERIFY_BYTES };
use crate::problem::Problem;

/// Whether a path is the API's: `/v1` and below. Everything else is the web app's.
pub fn is_api_path(path: &str) -> bool {
    path == "/v1" || path.starts_with("/v1/")
}

async fn respond(platform: &Platform, web: Option<&WebApp>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let api = match web {
        Some(web) if !is_api_path(parts.uri.path()) => web.serve(&parts.method, parts.uri.path()).await,
        _ => api_response(platform, parts, body).await,
    };
    let mut resp = Response::new(Full::new(api.body));
    *resp.status_mut() = http::StatusCode::from_u16(api.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in api.headers {
        if let (Ok(k), Ok(v)) = (http::HeaderName::try_from(k), http::HeaderValue::try_from(v)) {
            resp.headers_mut().append(k, v);
        }
    }
    resp
}

async fn api_response(platform: &Platform, parts: http::request::Parts, body: Incoming) -> ApiResponse {
    // The transport takes the largest body any route does; `handle` applies each route's limit.
    match Limited::new(body, MAX_TRANSPORT_BODY).collect().await {
        Ok(collected) => {
            let req = ApiRequest {
                method: parts.method,
                path: parts.uri.path().to_owned(),
                query: parts.uri.query().map(str::to_owned),
                headers: parts.headers,
                body: collected.to_bytes(),
            };
            // Each request runs as its route's function, so recorded AWS calls name it.
            let work = async move {
                match crate::routes::resolve(&req.method, &req.path) {
                    Ok((route, _)) => esign_aws::calls::in_function(route.function, handle(platform, req)).await,
                    Err(_) => handle(platform, req).await,
                }
            };
            if !esign_aws::calls::enabled() {
                return work.await;
            }
            let (mut resp, calls) = esign_aws::calls::capturing(work).await;
            resp.headers.push((AWS_CALLS_HEADER.to_owned(), calls_made(&calls)));
            resp
        }
        Err(_) => ApiResponse::from(Problem::payload_too_large(MAX_TRANSPORT_BODY)),
    }
}

/// With an AWS call recorder installed (`ESIGN_AWS_CALL_LOG`, or the end-to-end tests), each API
/// answer of the local server names the AWS calls its request made, in order, as
/// `Service.Operation` separated by spaces (e.g. `DynamoDB.GetItem KMS.Sign`): how the tests count
/// round trips per request. Calls that only filled a cache the process keeps are not listed.
pub const AWS_CALLS_HEADER: &str = "x-esign-aws-calls";

fn calls_made(calls: &[esign_aws::calls::AwsCall]) -> String {
    let sent = calls.iter().filter(|c| c.transmitted && !c.cached);
    sent.map(|c| format!("{}.{}", c.service, c.operation)).collect::<Vec<_>>().join(" ")
}

/// Serves the API until the listener fails; each connection on its own task.
pub async fn serve(listener: TcpListener, platform: Platform) -> std::io::Result<()> {
    serve_with_web(listener, platform, None).await
}

/// Serves the API under `/v1` and, with `web`, the web app at every other path.
pub async fn serve_with_web(listener: TcpListener, platform: Platform, web: Option<WebApp>) -> std::io::Result<()> {
    let web = web.map(std::sync::Arc::new);
    loop {
        let (stream, _) = listener.accept().await?;
        let platform = platform.clone();
        let web = web.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let platform = platform.clone();
                let web = web.clone();
                async move { Ok::<_, Infallible>(respond(&platform, web.as_deref(), req).await) }
            });
            if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

/// What a local run needs to know.
#[derive(Debug, Clone)]
pub struct LocalSetup {
    /// The SAM template whose resources are created in the emulator.
    pub template: std::path::PathBuf,
    /// Prefix of the local resource names, so several runs can share one emulator.
    pub prefix: String,
    pub config: esign_core::Config,
    /// The emulator's endpoint URL.
    pub endpoint: String,
    /// Origins whose pages may upload to and download from the files bucket through presigned
    /// URLs (the bucket's CORS rules): the local server's own, for its web app.
    pub web_origins: Vec<String>,
    /// Run the scheduled `generate-evidence` this often (there is no EventBridge locally; when
    /// deployed it runs every minute). `None`: never (the tests call it themselves).
    pub evidence_every: Option<std::time::Duration>,
}

/// Provisions the template's resources in the emulator, wires a platform on them and starts
/// the webhook worker (what Lambda's SQS event source does when deployed) and, with
/// [`LocalSetup::evidence_every`], the ticks of `generate-evidence` (what its schedule does).
pub async fn local_platform(setup: &LocalSetup) -> Result<Platform, Box<dyn std::error::Error + Send + Sync>> {
    let (ports, queue) = local_ports(setup).await?;
    let platform = Platform::new(ports, setup.config.clone());
    spawn_webhook_worker(platform.clone(), queue);
    publish_crls(&platform).await?;
    if let Some(every) = setup.evidence_every {
        spawn_scheduled(platform.clone(), crate::lambda::GENERATE_EVIDENCE, every);
    }
    Ok(platform)
}

/// Runs the scheduled function `name` every `every` in the background, as its schedule does when
/// deployed (one [`crate::lambda::run_scheduled`] a tick; a failed tick is logged, the next
/// one runs).
pub fn spawn_scheduled(platform: Platform, name: &'static str, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match crate::lambda::run_scheduled(&platform, name).await {
                Ok(done) => tracing::debug!(function = name, %done, "scheduled run"),
                Err(e) => {
                    tracing::warn!(function = name, error = %e, "scheduled run failed; the next tick tries again")
                }
            }
        }
    });
}

/// Publishes both CRLs as the scheduled `refresh-crls` function does (deployed, its first run
/// follows bootstrap), so a local server serves them from the start.
pub async fn publish_crls(platform: &Platform) -> Result<(), esign_core::DomainError> {
    let published = esign_aws::calls::in_function(crate::lambda::REFRESH_CRLS, platform.refresh_crls()).await?;
    tracing::info!(?published, "CRLs published");
    Ok(())
}

/// The function the webhook worker stands for.
pub const DELIVER_WEBHOOKS: &str = "deliver-webhooks";

/// Polls the webhook queue on the emulator and does its work in the background, as the
/// `deliver-webhooks` function does in AWS.
pub fn spawn_webhook_worker(platform: Platform, queue: esign_aws::sqs::SqsQueue) {
    let worker = esign_aws::sqs::run_local_worker(platform, queue, std::time::Duration::from_millis(200));
    tokio::spawn(esign_aws::calls::in_function(DELIVER_WEBHOOKS, worker));
}

/// Provisions the template's resources in the emulator and returns the ports on them (the
/// webhook queue among them) and the queue, for [`spawn_webhook_worker`].
pub async fn local_ports(
    setup: &LocalSetup,
) -> Result<(esign_core::Ports, esign_aws::sqs::SqsQueue), Box<dyn std::error::Error + Send + Sync>> {
    let sdk = esign_aws::emulator_sdk_config(&setup.endpoint);
    let options = esign_aws::provision::LocalOptions { web_origins: setup.web_origins.clone() };
    let env = esign_aws::provision::provision_with(&sdk, &setup.template, &setup.prefix, &options).await?;
    let lookup = |name: &str| {
        env.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("the template defines no {name}"))
    };
    let table = lookup(esign_aws::ENV_TABLE)?;
    let bucket = lookup(esign_aws::ENV_FILES_BUCKET)?;
    let keys = esign_aws::authority::CaKeys {
        root: lookup(esign_aws::ENV_ROOT_CA_KEY)?,
        issuing: lookup(esign_aws::ENV_ISSUING_CA_KEY)?,
        tsa: lookup(esign_aws::ENV_TSA_KEY)?,
        ocsp: lookup(esign_aws::ENV_OCSP_KEY)?,
        evidence: lookup(esign_aws::ENV_EVIDENCE_KEY)?,
    };
    // The one-time CA bootstrap (a no-op when the emulator already holds the CA).
    let store = esign_aws::dynamo::DynamoStore::from_sdk(&sdk, &table);
    esign_aws::authority::KmsAuthority::bootstrap(
        &sdk,
        &store,
        &keys,
        &setup.prefix,
        setup.config.public_url.as_deref(),
    )
    .await?;
    let queue =
        esign_aws::sqs::SqsQueue::new(esign_aws::calls::sqs_client(&sdk), &lookup(esign_aws::ENV_WEBHOOK_QUEUE)?);
    tracing::info!(%table, %bucket, "local resources and CA ready");
    let secrets_key = lookup(esign_aws::ENV_SECRETS_KEY)?;
    let mut ports = esign_aws::ports_with(&sdk, &table, &bucket, keys, &secrets_key, &setup.prefix, &setup.config);
    ports.queue = std::sync::Arc::new(queue.clone());
    Ok((ports, queue))
}
