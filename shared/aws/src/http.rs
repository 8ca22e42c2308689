//! The webhook sender: name resolution with the system resolver and POSTs with reqwest (rustls),
//! connecting only to the addresses the domain checked, never following redirects.

use async_trait::async_trait;
use esign_core::ports::{OutgoingPost, SendError, WebhookSender};

#[derive(Debug, Default, Clone)]
pub struct HttpSender;

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        s.push_str(": ");
        s.push_str(&c.to_string());
        source = c.source();
    }
    s
}

#[async_trait]
impl WebhookSender for HttpSender {
    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<std::net::IpAddr>, SendError> {
        let addrs = tokio::net::lookup_host((host, port)).await.map_err(|e| SendError::Resolve(e.to_string()))?;
        let mut ips: Vec<std::net::IpAddr> = addrs.map(|a| a.ip()).collect();
        ips.dedup();
        Ok(ips)
    }

    async fn post(&self, request: &OutgoingPost) -> Result<u16, SendError> {
        let url = reqwest::Url::parse(&request.url).map_err(|e| SendError::Failed(e.to_string()))?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past the address check.
            .no_proxy()
            .timeout(request.timeout)
            .connect_timeout(request.timeout);
        if let Some(domain) = url.domain() {
            // Pinned: no second lookup that DNS could answer with another address.
            builder = builder.resolve_to_addrs(domain, &request.addrs);
        }
        let client = builder.build().map_err(|e| SendError::Failed(chain(&e)))?;
        let mut req = client.post(url).body(request.body.clone());
        for (k, v) in &request.headers {
            req = req.header(k, v);
        }
        match req.send().await {
            Ok(resp) => Ok(resp.status().as_u16()),
            Err(e) if e.is_timeout() => Err(SendError::Timeout),
            Err(e) => Err(SendError::Failed(chain(&e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::test_server::server;

    fn post(url: String, port: u16, timeout: Duration) -> OutgoingPost {
        OutgoingPost {
            url,
            headers: vec![("webhook-id".into(), "evt_1".into())],
            body: b"{}".to_vec(),
            addrs: vec![std::net::SocketAddr::from(([127, 0, 0, 1], port))],
            timeout,
        }
    }

    #[tokio::test]
    async fn posts_go_to_the_pinned_address_and_redirects_are_not_followed() {
        let (port, got) = server(
            vec!["HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n"],
            Duration::ZERO,
        );
        // The name does not resolve anywhere: only the pinned address can answer.
        let url = format!("http://hooks.invalid:{port}/x");
        let status = HttpSender.post(&post(url, port, Duration::from_secs(5))).await.unwrap();
        assert_eq!(status, 302);
        let request = got.join().unwrap().remove(0);
        assert!(request.starts_with("POST /x HTTP/1.1"), "{request}");
        assert!(request.to_ascii_lowercase().contains("webhook-id: evt_1"), "{request}");
    }

    #[tokio::test]
    async fn a_slow_receiver_is_a_timeout() {
        let (port, _got) = server(vec!["HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"], Duration::from_secs(2));
        let url = format!("http://127.0.0.1:{port}/");
        let err = HttpSender.post(&post(url, port, Duration::from_millis(300))).await.unwrap_err();
        assert_eq!(err, SendError::Timeout);
    }
}
