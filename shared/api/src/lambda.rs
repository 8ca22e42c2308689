//! The Lambda adapter: one function serves one [`Operation`].

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

/// Runs the Lambda function for `operation`, with the platform wired from the environment.
pub async fn run(operation: Operation) -> Result<(), lambda_http::Error> {
    crate::init_tracing();
    let platform = esign_aws::platform_from_env().await?;
    lambda_http::run(service_fn(move |event: Request| {
        let platform = platform.clone();
        async move { Ok::<_, Infallible>(to_lambda(handle_operation(&platform, operation, from_lambda(event)).await)) }
    }))
    .await
}
