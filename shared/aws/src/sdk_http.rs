//! The AWS SDK's HTTP client: reqwest (hyper, HTTP/1.1, rustls on ring, the system's roots and
//! `SSL_CERT_FILE`), the same stack the webhook sender uses.
//!
//! Not the SDK's own `aws-smithy-http-client`: that crate turns on HTTP/2 (`h2`) whatever its
//! features say, and brings a second hyper client, TLS connector and root store beside
//! reqwest's. The AWS endpoints the platform calls (DynamoDB, S3, KMS, SQS, SNS, SES) all speak
//! HTTP/1.1. One stack makes the Lambda package smaller (shared/pades/BENCH.md, "Lambda
//! packages").

use std::sync::Mutex;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// The SDK's HTTP client (one per process is enough: clients share its connection pools).
pub fn https_client() -> SharedHttpClient {
    SharedHttpClient::new(ReqwestClient::default())
}

/// Timeouts as the SDK asks for them (connect, read).
type Timeouts = (Option<Duration>, Option<Duration>);

/// One reqwest client per set of timeouts the SDK asks for (in practice one: every client of a
/// process shares its `SdkConfig`), made on first use and kept with its connection pool.
#[derive(Debug, Default)]
struct ReqwestClient {
    clients: Mutex<Vec<(Timeouts, reqwest::Client)>>,
}

impl ReqwestClient {
    fn client(&self, timeouts: Timeouts) -> Result<reqwest::Client, reqwest::Error> {
        let mut clients = self.clients.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, c)) = clients.iter().find(|(t, _)| *t == timeouts) {
            return Ok(c.clone());
        }
        let mut builder = reqwest::Client::builder()
            .http1_only()
            // The SDK retries; a redirect from an AWS endpoint is an error for it to see.
            .redirect(reqwest::redirect::Policy::none())
            // The SDK resolves its endpoints itself; no proxy from the environment in between.
            .no_proxy();
        if let Some(t) = timeouts.0 {
            builder = builder.connect_timeout(t);
        }
        if let Some(t) = timeouts.1 {
            builder = builder.read_timeout(t);
        }
        let client = builder.build()?;
        clients.push((timeouts, client.clone()));
        Ok(client)
    }
}

impl HttpClient for ReqwestClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        let client = self.client((settings.connect_timeout(), settings.read_timeout())).map_err(|e| e.to_string());
        SharedHttpConnector::new(Connector { client })
    }
}

#[derive(Debug)]
struct Connector {
    /// The client, or why it could not be made (said on every call).
    client: Result<reqwest::Client, String>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        HttpConnectorFuture::new(async move {
            let client = client.map_err(|e| ConnectorError::other(e.into(), None))?;
            let request = to_reqwest(request)?;
            let response = client.execute(request).await.map_err(connector_error)?;
            from_reqwest(response)
        })
    }
}

fn to_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let request = request.try_into_http1x().map_err(|e| ConnectorError::user(e.into()))?;
    let request = request.map(|body: SdkBody| match body.bytes() {
        Some(bytes) => reqwest::Body::from(bytes::Bytes::copy_from_slice(bytes)),
        None => reqwest::Body::wrap(body),
    });
    reqwest::Request::try_from(request).map_err(|e| ConnectorError::user(e.into()))
}

fn from_reqwest(response: reqwest::Response) -> Result<HttpResponse, ConnectorError> {
    let response: http::Response<reqwest::Body> = response.into();
    HttpResponse::try_from(response.map(SdkBody::from_body_1_x)).map_err(|e| ConnectorError::other(e.into(), None))
}

/// Which kind the SDK's retry strategy sees: timeouts and I/O errors (refused, reset, a pooled
/// connection the server closed) are transient and retried; a request that cannot be built is not.
fn connector_error(e: reqwest::Error) -> ConnectorError {
    if e.is_timeout() {
        ConnectorError::timeout(e.into())
    } else if e.is_builder() {
        ConnectorError::user(e.into())
    } else if e.is_connect() || e.is_request() || e.is_body() {
        ConnectorError::io(e.into())
    } else {
        ConnectorError::other(e.into(), None)
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;

    use super::*;
    use crate::test_server::server;

    fn connector(connect: Duration, read: Option<Duration>) -> SharedHttpConnector {
        let mut settings = HttpConnectorSettings::builder().connect_timeout(connect);
        if let Some(read) = read {
            settings = settings.read_timeout(read);
        }
        let components = RuntimeComponentsBuilder::for_tests().build().unwrap();
        https_client().http_connector(&settings.build(), &components)
    }

    fn request(url: &str, body: SdkBody) -> HttpRequest {
        let request = http::Request::builder()
            .method("POST")
            .uri(url)
            .header("x-amz-target", "DynamoDB_20120810.GetItem")
            .body(body)
            .unwrap();
        HttpRequest::try_from(request).unwrap()
    }

    #[tokio::test]
    async fn sends_the_request_as_given_over_http_1_1_and_returns_the_response_whole() {
        let (port, seen) = server(
            vec![
                "HTTP/1.1 400 Bad Request\r\nx-amzn-requestid: r1\r\ncontent-length: 7\r\nconnection: close\r\n\r\n{\"a\":1}",
            ],
            Duration::ZERO,
        );
        let c = connector(Duration::from_secs(2), None);
        let mut response =
            c.call(request(&format!("http://127.0.0.1:{port}/x?y=1"), SdkBody::from("{\"Key\":1}"))).await.unwrap();
        assert_eq!(response.status().as_u16(), 400, "a status is the SDK's to read, not an error here");
        assert_eq!(response.headers().get("x-amzn-requestid"), Some("r1"));
        let body = http_body_util::BodyExt::collect(response.take_body()).await.unwrap().to_bytes();
        assert_eq!(&body[..], b"{\"a\":1}");
        let got = seen.join().unwrap().remove(0);
        assert!(got.starts_with("POST /x?y=1 HTTP/1.1\r\n"), "{got}");
        assert!(got.to_ascii_lowercase().contains("x-amz-target: dynamodb_20120810.getitem"), "{got}");
        assert!(got.ends_with("{\"Key\":1}"), "{got}");
    }

    #[tokio::test]
    async fn a_redirect_is_answered_not_followed() {
        let (port, seen) = server(
            vec!["HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:9/\r\ncontent-length: 0\r\n\r\n"],
            Duration::ZERO,
        );
        let c = connector(Duration::from_secs(2), None);
        let response = c.call(request(&format!("http://127.0.0.1:{port}/"), SdkBody::empty())).await.unwrap();
        assert_eq!(response.status().as_u16(), 307);
        assert_eq!(seen.join().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_silent_server_is_a_timeout_and_a_closed_port_an_io_error() {
        let (port, _seen) = server(vec!["HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"], Duration::from_millis(1500));
        let c = connector(Duration::from_secs(2), Some(Duration::from_millis(200)));
        let e = c.call(request(&format!("http://127.0.0.1:{port}/"), SdkBody::empty())).await.unwrap_err();
        assert!(e.is_timeout(), "{e:?}");

        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let e = c.call(request(&format!("http://127.0.0.1:{closed}/"), SdkBody::empty())).await.unwrap_err();
        assert!(e.is_io(), "refused: transient, for the SDK to retry: {e:?}");
    }

    #[test]
    fn one_client_per_set_of_timeouts() {
        let c = ReqwestClient::default();
        let a = (Some(Duration::from_secs(3)), None);
        c.client(a).unwrap();
        c.client(a).unwrap();
        c.client((Some(Duration::from_secs(3)), Some(Duration::from_secs(1)))).unwrap();
        assert_eq!(c.clients.lock().unwrap().len(), 2);
    }
}
