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
