//! Webhooks: enterprises register HTTPS endpoints for event types; every event is recorded in the
//! same atomic write as the state change it reports (an outbox record beside it), then queued,
//! fanned out to the endpoints of the enterprises it concerns, and delivered by the delivery
//! function with retries, exponential backoff and jitter, for at least the retry window.
//!
//! Deliveries follow Standard Webhooks: headers `webhook-id` (the event id, the same on every
//! retry), `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature`
//! (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per valid secret, separated by
//! spaces), with secrets `whsec_<base64>` whose decoded bytes are the HMAC key.
//!
//! Guarantees: an event whose state change was written is never lost (the outbox is swept, queue
//! messages are only consumed once their work is recorded); an attempt is recorded before the
//! next one is due; duplicates are possible and carry the same `webhook-id`. Endpoint hosts that
//! resolve to private, loopback or link-local addresses are refused in production mode, at
//! registration and again at every attempt, and the POST connects only to the checked addresses.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::auth::Principal;
use crate::enterprises::internal;
use crate::error::{DomainError, Violations};
use crate::model::{Page, new_id};
use crate::platform::{Mode, Platform, admin_of, own_enterprise};
use crate::ports::{Condition, Key, OutgoingPost, Partition, Query, Record, SendError, StoreError, Write};

/// Every event type an endpoint can subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    "enterprise.verification.approved",
    "enterprise.verification.rejected",
    "seal.approved",
    "seal.rejected",
    "seal.revoked",
    "seal.grant.created",
    "seal.grant.revoked",
    "contract.signed",
    "contract.completed",
    "contract.archive_timestamped",
];

/// Most events one queue message fans out.
const MAX_EVENTS_PER_MESSAGE: usize = 10;
/// Most endpoints per enterprise.
pub const MAX_ENDPOINTS: usize = 20;
/// Longest endpoint URL.
const MAX_URL_LEN: usize = 2048;
/// Attempts kept on a delivery record (the newest).
const MAX_ATTEMPTS_KEPT: usize = 50;
/// Index partition of events waiting for their fan-out.
const OUTBOX_PARTITION: &str = "WHOUTBOX";
/// Partition of the pending deliveries' markers.
const PENDING_PARTITION: &str = "WHPENDING";

/// A registered endpoint as clients see it (never with its secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub enterprise_id: String,
    pub url: String,
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Until when the secret replaced by the last rotation still signs deliveries.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub previous_secret_expires_at: Option<OffsetDateTime>,
}

/// An endpoint as stored, with its signing secrets sealed by the [`crate::ports::SecretBox`]
/// (base64; bound to the endpoint's id).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EndpointData {
    #[serde(flatten)]
    endpoint: WebhookEndpoint,
    sealed_secret: String,
    #[serde(default)]
    sealed_previous_secret: Option<String>,
}

impl EndpointData {
    /// The (sealed) secrets that sign a delivery at `now`: the current one, and the previous one
    /// during its grace period.
    fn signing_secrets(&self, now: OffsetDateTime) -> Vec<&str> {
        let mut secrets = vec![self.sealed_secret.as_str()];
        if let (Some(prev), Some(until)) = (&self.sealed_previous_secret, self.endpoint.previous_secret_expires_at)
            && now < until
        {
            secrets.push(prev);
        }
        secrets
    }
}

/// What binds a sealed secret to its endpoint.
fn secret_context(endpoint_id: &str) -> String {
    format!("webhook-secret:{endpoint_id}")
}

/// `POST /v1/webhooks`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    pub url: String,
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// An endpoint and its signing secret, shown only in this answer.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookWithSecret {
    pub webhook: WebhookEndpoint,
    pub secret: crate::Secret,
}

/// An event as receivers get it (the body of every delivery).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    pub data: serde_json::Value,
}

/// An event as stored: with the enterprises whose endpoints receive it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EventData {
    #[serde(flatten)]
    event: WebhookEvent,
    recipients: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// An attempt got a 2xx answer.
    Delivered,
    /// The retry window passed without a 2xx answer (or the endpoint was removed).
    Failed,
}

/// One POST of an event to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub number: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// Why there was no (2xx) answer: timeout, refused address, connection error.
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// An event's delivery to one endpoint, with its attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    /// Attempts made so far (only the newest are kept in `attempts`).
    pub attempt_count: u32,
    pub attempts: Vec<DeliveryAttempt>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DeliveryData {
    #[serde(flatten)]
    delivery: Delivery,
    enterprise_id: String,
    /// Start of the current retry window (creation, or the last manual redelivery).
    #[serde(with = "time::serde::rfc3339")]
    retry_from: OffsetDateTime,
}

/// Work on the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueueMessage {
    /// Fan an event out to its endpoints.
    Event { event_id: String },
    /// Fan several events of one request out, in order (one message: a contract's completing
    /// signature records `contract.signed` and `contract.completed`).
    Events { event_ids: Vec<String> },
    /// Make attempt number `attempt` (0-based) of a delivery, once it is due.
    Attempt { delivery_id: String, attempt: u32 },
}

fn endpoint_key(enterprise_id: &str, id: &str) -> Key {
    Key::new(format!("ENT#{enterprise_id}"), format!("WEBHOOK#{id}"))
}

fn event_key(id: &str) -> Key {
    Key::new(format!("WHEVENT#{id}"), "EVENT")
}

fn delivery_key(id: &str) -> Key {
    Key::new(format!("WHDELIVERY#{id}"), "DELIVERY")
}

fn deliveries_partition(webhook_id: &str) -> String {
    format!("WEBHOOK#{webhook_id}")
}

/// The same event and endpoint always make the same delivery id, so fanning out twice is harmless.
fn delivery_id(event_id: &str, webhook_id: &str) -> String {
    let digest = Sha256::digest(format!("{event_id}/{webhook_id}").as_bytes());
    format!("dlv_{}", &hex::encode(digest)[..32])
}

/// A std duration as a time span (saturating).
fn span(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

fn nanos(t: OffsetDateTime) -> String {
    format!("{:020}", t.unix_timestamp_nanos())
}

/// A fresh signing secret: `whsec_` and 32 random bytes, base64.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// The Standard Webhooks signature of one message with one secret: `v1,<base64 HMAC-SHA256>`.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, DomainError> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|e| DomainError::Internal(format!("a stored webhook secret is not base64: {e}")))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| DomainError::Internal(e.to_string()))?;
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The wait before retry number `failures` (1 after the first failed attempt): the base doubled
/// each time, capped, with equal jitter (half fixed, half random).
pub fn backoff(base: Duration, max: Duration, failures: u32) -> Duration {
    let exp = base.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(30))).min(max);
    let half = exp / 2;
    let jitter = rand::rng().random_range(0..=half.as_millis().min(u64::MAX as u128) as u64);
    half + Duration::from_millis(jitter)
}

/// Whether a webhook may be sent to this address in production: public unicast only.
pub fn public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
                || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240) // reserved
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public_address(IpAddr::V4(v4));
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0) {
                let v4 = std::net::Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
                return public_address(IpAddr::V4(v4));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || s[..6].iter().all(|x| *x == 0)) // IPv4-compatible and other ::/96
        }
    }
}

fn loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// A URL an endpoint may have: HTTPS (plain HTTP only to a loopback host in development mode),
/// no credentials, no fragment. Answers the parsed URL or why not.
fn check_url(raw: &str, mode: Mode) -> Result<url::Url, (&'static str, String)> {
    if raw.len() > MAX_URL_LEN {
        return Err(("too_long", format!("the URL is longer than {MAX_URL_LEN} characters")));
    }
    let url = url::Url::parse(raw).map_err(|e| ("invalid", format!("not a URL: {e}")))?;
    let host = url.host().ok_or_else(|| ("invalid", "the URL has no host".to_owned()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(("credentials", "the URL must not carry credentials".into()));
    }
    if url.fragment().is_some() {
        return Err(("fragment", "the URL must not have a fragment".into()));
    }
    match url.scheme() {
        "https" => {}
        "http" if mode == Mode::Development && loopback_host(&host) => {}
        "http" => {
            return Err((
                "https_required",
                "the URL must use https (plain http only to a loopback host in development mode)".into(),
            ));
        }
        _ => return Err(("https_required", "the URL must use https".into())),
    }
    if mode == Mode::Production && loopback_host(&host) {
        return Err(("private_address", "the URL's host is a loopback address".into()));
    }
    Ok(url)
}

impl Platform {
    /// The addresses a delivery to `url` may connect to: all of the host's addresses, each
    /// checked against the address policy (production: public addresses only).
    async fn checked_addresses(&self, url: &url::Url) -> Result<Vec<SocketAddr>, (&'static str, String)> {
        let port = url.port_or_known_default().unwrap_or(443);
        let ips = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            Some(url::Host::Domain(d)) => match self.webhook_sender.resolve(d, port).await {
                Ok(ips) if !ips.is_empty() => ips,
                Ok(_) => return Err(("unresolvable", format!("{d} has no address"))),
                Err(e) => return Err(("unresolvable", e.to_string())),
            },
            None => return Err(("invalid", "the URL has no host".into())),
        };
        if self.config.mode == Mode::Production
            && let Some(bad) = ips.iter().find(|ip| !public_address(**ip))
        {
            return Err((
                "private_address",
                format!("the host resolves to {bad}, a private, loopback or link-local address"),
            ));
        }
        Ok(ips.into_iter().map(|ip| SocketAddr::new(ip, port)).collect())
    }

    async fn seal_secret(&self, endpoint_id: &str, secret: &str) -> Result<String, DomainError> {
        let sealed = self
            .secrets
            .seal(secret.as_bytes(), &secret_context(endpoint_id))
            .await
            .map_err(|e| DomainError::Dependency(e.to_string()))?;
        Ok(STANDARD.encode(sealed))
    }

    async fn open_secret(&self, endpoint_id: &str, sealed: &str) -> Result<String, DomainError> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|e| DomainError::Internal(format!("a sealed webhook secret is not base64: {e}")))?;
        let plain = self.secrets.open(&bytes, &secret_context(endpoint_id)).await.map_err(|e| match e {
            crate::ports::SecretError::Unavailable(m) => DomainError::Dependency(m),
            corrupt => DomainError::Internal(corrupt.to_string()),
        })?;
        String::from_utf8(plain).map_err(|_| DomainError::Internal("a webhook secret is not text".into()))
    }

    async fn load_endpoint(&self, enterprise_id: &str, id: &str) -> Result<(EndpointData, u64), DomainError> {
        let v = self.load::<EndpointData>(&endpoint_key(enterprise_id, id)).await?;
        v.map(|v| (v.value, v.version)).ok_or(DomainError::NotFound("webhook"))
    }

    /// Registers an endpoint of the caller's enterprise (administrators); the answer carries its
    /// signing secret, shown only here.
    pub async fn create_webhook(
        &self,
        principal: &Principal,
        input: CreateWebhook,
    ) -> Result<WebhookWithSecret, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        admin_of(principal, enterprise_id)?;
        let mut v = Violations::new();
        let url = match check_url(input.url.trim(), self.config.mode) {
            Ok(u) => Some(u),
            Err((code, message)) => {
                v.add("url", code, message);
                None
            }
        };
        let mut types: Vec<String> = Vec::new();
        if input.event_types.is_empty() {
            v.add("event_types", "empty", "name at least one event type");
        }
        for (i, t) in input.event_types.iter().enumerate() {
            if !EVENT_TYPES.contains(&t.as_str()) {
                // Quoted as JSON (the client's own notation), never in Rust's escape syntax.
                let quoted = serde_json::to_string(t).unwrap_or_default();
                v.add(&format!("event_types[{i}]"), "unknown", format!("unknown event type {quoted}"));
            } else if !types.contains(t) {
                types.push(t.clone());
            }
        }
        let description = input.description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
        if description.as_ref().is_some_and(|d| d.chars().count() > 200) {
            v.add("description", "too_long", "at most 200 characters");
        }
        v.finish()?;
        let url = url.ok_or_else(|| DomainError::Internal("checked URL missing".into()))?;
        if let Err((code, message)) = self.checked_addresses(&url).await {
            return Err(DomainError::invalid("url", code, message));
        }
        let existing = self
            .store
            .query(&Query {
                partition: Partition::Table(format!("ENT#{enterprise_id}")),
                prefix: "WEBHOOK#".into(),
                after: None,
                limit: MAX_ENDPOINTS,
                descending: false,
            })
            .await?;
        if existing.records.len() >= MAX_ENDPOINTS {
            return Err(DomainError::Conflict(format!("an enterprise has at most {MAX_ENDPOINTS} webhook endpoints")));
        }
        let endpoint = WebhookEndpoint {
            id: new_id("wh"),
            enterprise_id: enterprise_id.to_owned(),
            url: url.to_string(),
            event_types: types,
            description,
            created_at: self.clock.now(),
            previous_secret_expires_at: None,
        };
        let secret = new_secret();
        let data = EndpointData {
            endpoint: endpoint.clone(),
            sealed_secret: self.seal_secret(&endpoint.id, &secret).await?,
            sealed_previous_secret: None,
        };
        let record =
            Record::new(endpoint_key(enterprise_id, &endpoint.id), serde_json::to_value(&data).map_err(internal)?);
        self.store.write(vec![Write::create(record)]).await?;
        tracing::info!(webhook_id = %endpoint.id, enterprise_id, "webhook endpoint registered");
        Ok(WebhookWithSecret { webhook: endpoint, secret: secret.into() })
    }

    /// The caller's enterprise's endpoints (administrators).
    pub async fn list_webhooks(
        &self,
        principal: &Principal,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<WebhookEndpoint>, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        admin_of(principal, enterprise_id)?;
        let page: Page<EndpointData> =
            self.page(Partition::Table(format!("ENT#{enterprise_id}")), "WEBHOOK#", limit, cursor).await?;
        Ok(Page { items: page.items.into_iter().map(|d| d.endpoint).collect(), next_cursor: page.next_cursor })
    }

    /// Removes an endpoint; its pending deliveries fail at their next attempt.
    pub async fn delete_webhook(&self, principal: &Principal, id: &str) -> Result<(), DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        admin_of(principal, enterprise_id)?;
        let (_, version) = self.load_endpoint(enterprise_id, id).await?;
        self.store
            .write(vec![Write::Delete {
                key: endpoint_key(enterprise_id, id),
                condition: crate::ports::Condition::Version(version),
            }])
            .await?;
        Ok(())
    }

    /// Replaces the endpoint's secret; the previous one keeps signing deliveries (beside the new
    /// one) for the grace period, so receivers can switch without missing an event.
    pub async fn rotate_webhook_secret(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<WebhookWithSecret, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        admin_of(principal, enterprise_id)?;
        let (mut data, version) = self.load_endpoint(enterprise_id, id).await?;
        let grace = span(self.config.webhooks.secret_grace);
        let secret = new_secret();
        let sealed = self.seal_secret(id, &secret).await?;
        data.sealed_previous_secret = Some(std::mem::replace(&mut data.sealed_secret, sealed));
        data.endpoint.previous_secret_expires_at = Some(self.clock.now() + grace);
        let record = Record::new(endpoint_key(enterprise_id, id), serde_json::to_value(&data).map_err(internal)?);
        self.store.write(vec![Write::replace(record, version)]).await?;
        Ok(WebhookWithSecret { webhook: data.endpoint, secret: secret.into() })
    }

    /// An endpoint's deliveries, newest first (administrators).
    pub async fn list_webhook_deliveries(
        &self,
        principal: &Principal,
        id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Delivery>, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        admin_of(principal, enterprise_id)?;
        self.load_endpoint(enterprise_id, id).await?;
        let page: Page<DeliveryData> =
            self.page_ordered(Partition::Index(deliveries_partition(id)), "DELIVERY#", limit, cursor, true).await?;
        Ok(Page { items: page.items.into_iter().map(|d| d.delivery).collect(), next_cursor: page.next_cursor })
    }

    /// Queues a delivery that failed (or was delivered) for another round of attempts, with a
    /// fresh retry window.
    pub async fn redeliver_webhook(
        &self,
        principal: &Principal,
        id: &str,
        delivery_id: &str,
    ) -> Result<Delivery, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        admin_of(principal, enterprise_id)?;
        self.load_endpoint(enterprise_id, id).await?;
        let loaded = self.load::<DeliveryData>(&delivery_key(delivery_id)).await?;
        let Some(loaded) =
            loaded.filter(|d| d.value.delivery.webhook_id == id && d.value.enterprise_id == enterprise_id)
        else {
            return Err(DomainError::NotFound("delivery"));
        };
        let mut data = loaded.value;
        if data.delivery.status == DeliveryStatus::Pending {
            return Err(DomainError::Conflict("the delivery is still being attempted".into()));
        }
        let now = self.clock.now();
        let old_due = None; // a finished delivery has no pending marker
        data.delivery.status = DeliveryStatus::Pending;
        data.delivery.next_attempt_at = Some(now);
        data.delivery.updated_at = now;
        data.retry_from = now;
        self.enqueue(
            &QueueMessage::Attempt { delivery_id: delivery_id.to_owned(), attempt: data.delivery.attempt_count },
            Duration::ZERO,
        )
        .await?;
        self.store.write(delivery_writes(&data, Some(loaded.version), old_due)?).await?;
        Ok(data.delivery)
    }

    /// Records an event for the enterprises in `recipients`: adds its outbox record to `writes`
    /// (the batch that makes the state change) and answers its id, to pass to
    /// [`Platform::dispatch_webhook_events`] once the batch is written.
    pub(crate) fn record_webhook_event(
        &self,
        writes: &mut Vec<Write>,
        event_type: &'static str,
        at: OffsetDateTime,
        recipients: &[&str],
        data: serde_json::Value,
    ) -> Result<String, DomainError> {
        debug_assert!(EVENT_TYPES.contains(&event_type));
        let mut unique: Vec<String> = Vec::new();
        for r in recipients {
            if !unique.iter().any(|u| u == r) {
                unique.push((*r).to_owned());
            }
        }
        let event = WebhookEvent { id: new_id("evt"), event_type: event_type.to_owned(), timestamp: at, data };
        let id = event.id.clone();
        let mut record = Record::new(
            event_key(&id),
            serde_json::to_value(EventData { event, recipients: unique }).map_err(internal)?,
        );
        // The outbox: an index entry while the event waits for its fan-out.
        record.index = Some(Key::new(OUTBOX_PARTITION, format!("{}#{id}", nanos(at))));
        writes.push(Write::create(record));
        Ok(id)
    }

    /// Queues the fan-out of events whose records were just written. A failure only delays
    /// them: the outbox sweep queues them again.
    pub(crate) async fn dispatch_webhook_events(&self, ids: &[String]) {
        let message = match ids {
            [] => return,
            [id] => QueueMessage::Event { event_id: id.clone() },
            _ => QueueMessage::Events { event_ids: ids.to_vec() },
        };
        if let Err(e) = self.enqueue(&message, Duration::ZERO).await {
            tracing::warn!(event_ids = ?ids, error = %e, "could not queue webhook events; the outbox sweep will");
        }
    }

    async fn enqueue(&self, message: &QueueMessage, delay: Duration) -> Result<(), DomainError> {
        let body = serde_json::to_string(message).map_err(internal)?;
        let delay = delay.min(self.queue.max_delay());
        self.queue.send(&body, delay).await.map_err(|e| DomainError::Dependency(e.to_string()))
    }

    /// Queues again every event still in the outbox after the configured wait (its first queueing
    /// failed or its fan-out did not finish), and the next attempt of every pending delivery well
    /// past its due time (its message was lost). Answers how many messages it queued.
    pub async fn sweep_webhook_outbox(&self) -> Result<usize, DomainError> {
        let cutoff = self.clock.now() - span(self.config.webhooks.sweep_after);
        let page = self
            .store
            .query(&Query {
                partition: Partition::Index(OUTBOX_PARTITION.into()),
                prefix: String::new(),
                after: None,
                limit: 100,
                descending: false,
            })
            .await?;
        let mut queued = 0;
        for r in &page.records {
            let e: EventData = r.decode()?;
            if e.event.timestamp > cutoff {
                break;
            }
            self.enqueue(&QueueMessage::Event { event_id: e.event.id.clone() }, Duration::ZERO).await?;
            queued += 1;
        }
        // Pending deliveries well past their due time: their queue message was lost (moved to
        // the dead-letter queue after repeated failures). A duplicate message is harmless: only
        // the one for the current attempt number acts.
        let stuck_before = self.clock.now() - span(self.config.webhooks.sweep_after) * 5;
        let markers = self
            .store
            .query(&Query {
                partition: Partition::Table(PENDING_PARTITION.into()),
                prefix: String::new(),
                after: None,
                limit: 100,
                descending: false,
            })
            .await?;
        for m in &markers.records {
            let Some(id) = m.data.get("delivery_id").and_then(serde_json::Value::as_str) else { continue };
            let Some(d) = self.load::<DeliveryData>(&delivery_key(id)).await? else { continue };
            let d = d.value.delivery;
            match d.next_attempt_at {
                Some(due) if d.status == DeliveryStatus::Pending && due < stuck_before => {
                    self.enqueue(
                        &QueueMessage::Attempt { delivery_id: d.id, attempt: d.attempt_count },
                        Duration::ZERO,
                    )
                    .await?;
                    queued += 1;
                }
                Some(due) if due >= stuck_before => break, // ordered by due time: the rest are fine
                _ => {}
            }
        }
        if queued > 0 {
            tracing::info!(queued, "re-queued webhook events and deliveries");
        }
        Ok(queued)
    }

    /// Does the work of one queue message. `Ok` means the message may be deleted; an error
    /// leaves it on the queue to be received again (and, after too many receives, moved to
    /// the dead-letter queue).
    pub async fn handle_webhook_message(&self, body: &str) -> Result<(), DomainError> {
        let message: QueueMessage = match serde_json::from_str(body) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "dropping an unreadable webhook queue message");
                return Ok(());
            }
        };
        match message {
            QueueMessage::Event { event_id } => self.fan_out(&event_id).await,
            QueueMessage::Events { event_ids } => {
                // Each fan-out is idempotent: a message received again redoes only what failed.
                let mut failed = None;
                for id in event_ids.iter().take(MAX_EVENTS_PER_MESSAGE) {
                    if let Err(e) = self.fan_out(id).await {
                        failed.get_or_insert(e);
                    }
                }
                failed.map_or(Ok(()), Err)
            }
            QueueMessage::Attempt { delivery_id, attempt } => self.attempt_delivery(&delivery_id, attempt).await,
        }
    }

    /// Creates one delivery per endpoint that subscribed to the event (endpoints registered
    /// before it, of the enterprises it concerns) and queues each first attempt.
    async fn fan_out(&self, event_id: &str) -> Result<(), DomainError> {
        let Some(record) = self.store.get(&event_key(event_id)).await? else {
            tracing::warn!(event_id, "no such webhook event");
            return Ok(());
        };
        if record.index.is_none() {
            return Ok(()); // already fanned out
        }
        let stored: EventData = record.decode()?;
        let event = &stored.event;
        for enterprise_id in &stored.recipients {
            let mut after = None;
            loop {
                let page = self
                    .store
                    .query(&Query {
                        partition: Partition::Table(format!("ENT#{enterprise_id}")),
                        prefix: "WEBHOOK#".into(),
                        after: after.take(),
                        limit: 100,
                        descending: false,
                    })
                    .await?;
                for r in &page.records {
                    let endpoint: EndpointData = r.decode()?;
                    let e = &endpoint.endpoint;
                    if e.created_at <= event.timestamp && e.event_types.contains(&event.event_type) {
                        self.create_delivery(event, e).await?;
                    }
                }
                match page.next {
                    Some(p) => after = Some(p),
                    None => break,
                }
            }
        }
        let mut done = record.clone();
        done.index = None;
        match self.store.write(vec![Write::replace(done, record.version)]).await {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn create_delivery(&self, event: &WebhookEvent, endpoint: &WebhookEndpoint) -> Result<(), DomainError> {
        let id = delivery_id(&event.id, &endpoint.id);
        let now = self.clock.now();
        let data = DeliveryData {
            delivery: Delivery {
                id: id.clone(),
                webhook_id: endpoint.id.clone(),
                event_id: event.id.clone(),
                event_type: event.event_type.clone(),
                status: DeliveryStatus::Pending,
                attempt_count: 0,
                attempts: Vec::new(),
                next_attempt_at: Some(now),
                created_at: now,
                updated_at: now,
            },
            enterprise_id: endpoint.enterprise_id.clone(),
            retry_from: now,
        };
        match self.store.write(delivery_writes(&data, None, None)?).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                // Fanned out before: queue the first attempt again only if it never happened.
                let existing: Option<DeliveryData> = self.load(&delivery_key(&id)).await?.map(|v| v.value);
                if !existing
                    .is_some_and(|d| d.delivery.status == DeliveryStatus::Pending && d.delivery.attempt_count == 0)
                {
                    return Ok(());
                }
            }
            Err(e) => return Err(e.into()),
        }
        self.enqueue(&QueueMessage::Attempt { delivery_id: id, attempt: 0 }, Duration::ZERO).await
    }

    /// Makes attempt `attempt` of a delivery if it is still the one due: POSTs the event signed
    /// with every valid secret, records the outcome, and queues the next attempt before
    /// recording a failure (so a crash in between can only duplicate, never lose, an attempt).
    async fn attempt_delivery(&self, id: &str, attempt: u32) -> Result<(), DomainError> {
        let Some(loaded) = self.load::<DeliveryData>(&delivery_key(id)).await? else {
            return Ok(());
        };
        let version = loaded.version;
        let mut data = loaded.value;
        let old_due = data.delivery.next_attempt_at;
        if data.delivery.status != DeliveryStatus::Pending || data.delivery.attempt_count != attempt {
            return Ok(()); // done, or a stale duplicate
        }
        let now = self.clock.now();
        if let Some(due) = data.delivery.next_attempt_at
            && due > now
        {
            // Longer than the queue's longest delay: wait again.
            let wait = Duration::try_from(due - now).unwrap_or_default();
            return self.enqueue(&QueueMessage::Attempt { delivery_id: id.to_owned(), attempt }, wait).await;
        }
        let endpoint = self.load::<EndpointData>(&endpoint_key(&data.enterprise_id, &data.delivery.webhook_id)).await?;
        let event = self.load::<EventData>(&event_key(&data.delivery.event_id)).await?;
        let (Some(endpoint), Some(event)) = (endpoint, event) else {
            data.delivery.status = DeliveryStatus::Failed;
            data.delivery.next_attempt_at = None;
            data.delivery.updated_at = now;
            return match self.store.write(delivery_writes(&data, Some(version), old_due)?).await {
                Ok(()) | Err(StoreError::Conflict) => Ok(()),
                Err(e) => Err(e.into()),
            };
        };
        let body = serde_json::to_vec(&event.value.event).map_err(internal)?;
        let started = std::time::Instant::now();
        let outcome = self.post_event(&endpoint.value, &event.value.event.id, &body, now).await;
        let duration_ms = started.elapsed().as_millis().min(u64::MAX as u128) as u64;
        let finished = self.clock.now();
        let (status_code, error) = match &outcome {
            Ok(code) => (Some(*code), None),
            Err(e) => (None, Some(e.clone())),
        };
        let delivered = status_code.is_some_and(|c| (200..300).contains(&c));
        data.delivery.attempt_count += 1;
        data.delivery.attempts.push(DeliveryAttempt {
            number: data.delivery.attempt_count,
            at: now,
            status_code,
            error,
            duration_ms,
        });
        if data.delivery.attempts.len() > MAX_ATTEMPTS_KEPT {
            data.delivery.attempts.remove(0);
        }
        data.delivery.updated_at = finished;
        let window = span(self.config.webhooks.retry_window);
        if delivered {
            data.delivery.status = DeliveryStatus::Delivered;
            data.delivery.next_attempt_at = None;
        } else if finished >= data.retry_from + window {
            data.delivery.status = DeliveryStatus::Failed;
            data.delivery.next_attempt_at = None;
            tracing::warn!(
                delivery_id = id,
                attempts = data.delivery.attempt_count,
                "webhook delivery failed for good"
            );
        } else {
            let wait = backoff(
                self.config.webhooks.backoff_base,
                self.config.webhooks.backoff_max,
                data.delivery.attempt_count,
            );
            data.delivery.next_attempt_at = Some(finished + span(wait));
            self.enqueue(
                &QueueMessage::Attempt { delivery_id: id.to_owned(), attempt: data.delivery.attempt_count },
                wait,
            )
            .await?;
        }
        match self.store.write(delivery_writes(&data, Some(version), old_due)?).await {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// One signed POST; the receiver's status, or why there was none.
    async fn post_event(
        &self,
        endpoint: &EndpointData,
        msg_id: &str,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<u16, String> {
        let url = check_url(&endpoint.endpoint.url, self.config.mode).map_err(|(_, m)| m)?;
        let addrs = self.checked_addresses(&url).await.map_err(|(_, m)| m)?;
        let timestamp = now.unix_timestamp();
        let mut signatures = Vec::new();
        for sealed in endpoint.signing_secrets(now) {
            let secret = self.open_secret(&endpoint.endpoint.id, sealed).await.map_err(|e| e.to_string())?;
            signatures.push(sign(&secret, msg_id, timestamp, body).map_err(|e| e.to_string())?);
        }
        let request = OutgoingPost {
            url: url.to_string(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("user-agent".into(), "esign-webhooks/1".into()),
                ("webhook-id".into(), msg_id.to_owned()),
                ("webhook-timestamp".into(), timestamp.to_string()),
                ("webhook-signature".into(), signatures.join(" ")),
            ],
            body: body.to_vec(),
            addrs,
            timeout: self.config.webhooks.timeout,
        };
        self.webhook_sender.post(&request).await.map_err(|e| match e {
            SendError::Timeout => format!("no answer within {} s", self.config.webhooks.timeout.as_secs_f32()),
            other => other.to_string(),
        })
    }
}

/// Marker of a pending delivery, ordered by when its next attempt is due: the sweep finds
/// deliveries whose queue message was lost (e.g. moved to the dead-letter queue) by it.
fn pending_key(due: OffsetDateTime, delivery_id: &str) -> Key {
    Key::new(PENDING_PARTITION, format!("{}#{delivery_id}", nanos(due)))
}

/// The writes that store a delivery (created when `version` is `None`) and move its pending
/// marker from `old_due` to its current due time.
fn delivery_writes(
    d: &DeliveryData,
    version: Option<u64>,
    old_due: Option<OffsetDateTime>,
) -> Result<Vec<Write>, DomainError> {
    let record = delivery_record(d)?;
    let mut writes = vec![match version {
        None => Write::create(record),
        Some(v) => Write::replace(record, v),
    }];
    let new_due = match d.delivery.status {
        DeliveryStatus::Pending => d.delivery.next_attempt_at,
        _ => None,
    };
    if old_due != new_due {
        if let Some(t) = old_due {
            writes.push(Write::Delete { key: pending_key(t, &d.delivery.id), condition: Condition::Always });
        }
        if let Some(t) = new_due {
            let marker = serde_json::json!({ "delivery_id": d.delivery.id });
            writes.push(Write::Put {
                record: Record::new(pending_key(t, &d.delivery.id), marker),
                condition: Condition::Always,
            });
        }
    }
    Ok(writes)
}

fn delivery_record(d: &DeliveryData) -> Result<Record, DomainError> {
    let mut r = Record::new(delivery_key(&d.delivery.id), serde_json::to_value(d).map_err(internal)?);
    r.index = Some(Key::new(
        deliveries_partition(&d.delivery.webhook_id),
        format!("DELIVERY#{}#{}", nanos(d.delivery.created_at), d.delivery.id),
    ));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Clock as _;
    use crate::seals::SealStatus;
    use crate::testing::{TestPlatform, active_seal, full, operator, registration, submission};
    use crate::verification::{Decision, DecisionKind};

    fn subscribe(url: &str, types: &[&str]) -> CreateWebhook {
        CreateWebhook {
            url: url.into(),
            event_types: types.iter().map(|t| (*t).to_owned()).collect(),
            description: None,
        }
    }

    async fn drain(t: &TestPlatform) {
        crate::testing::drain_webhooks(t).await
    }

    fn header<'a>(post: &'a OutgoingPost, name: &str) -> &'a str {
        post.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// Whether one of the post's signatures is this secret's.
    fn signed_with(post: &OutgoingPost, secret: &str) -> bool {
        let ts: i64 = header(post, "webhook-timestamp").parse().unwrap();
        let expected = sign(secret, header(post, "webhook-id"), ts, &post.body).unwrap();
        header(post, "webhook-signature").split(' ').any(|s| s == expected)
    }

    /// A registered (not yet verified) enterprise with an endpoint for verification decisions.
    async fn registered_with_endpoint(t: &TestPlatform, url: &str) -> (String, Principal, WebhookWithSecret) {
        let p = &t.platform;
        let r = p.register_enterprise(registration()).await.unwrap();
        let admin = p.authenticate(Some(&r.api_key)).await.unwrap();
        let hook = p
            .create_webhook(
                &admin,
                subscribe(url, &["enterprise.verification.approved", "enterprise.verification.rejected"]),
            )
            .await
            .unwrap();
        (r.enterprise.id, admin, hook)
    }

    async fn approve(t: &TestPlatform, enterprise_id: &str, admin: &Principal) {
        let p = &t.platform;
        let v = p.submit_verification(admin, enterprise_id, submission()).await.unwrap();
        let vid = v.verification.unwrap().id;
        p.decide_verification(&operator(), &vid, Decision { decision: DecisionKind::Approve, reason: None })
            .await
            .unwrap();
    }

    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(new_secret().starts_with("whsec_"));
        assert_ne!(new_secret(), new_secret());
    }

    #[test]
    fn only_public_addresses_are_allowed_in_production() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!public_address(bad.parse().unwrap()), "{bad}");
        }
        for good in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::101:101"] {
            assert!(public_address(good.parse().unwrap()), "{good}");
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let base = Duration::from_secs(10);
        let max = Duration::from_secs(3600);
        for n in 1..20 {
            let d = backoff(base, max, n);
            let exp = (base * 2u32.pow((n - 1).min(20))).min(max);
            assert!(d >= exp / 2 && d <= exp, "{n}: {d:?}");
        }
    }

    #[test]
    fn urls_need_https_except_loopback_in_development() {
        assert!(check_url("https://hooks.example.com/x", Mode::Production).is_ok());
        assert!(check_url("http://127.0.0.1:8080/x", Mode::Development).is_ok());
        assert!(check_url("http://localhost/x", Mode::Development).is_ok());
        assert_eq!(check_url("http://127.0.0.1:8080/x", Mode::Production).unwrap_err().0, "https_required");
        assert_eq!(check_url("http://hooks.example.com/x", Mode::Development).unwrap_err().0, "https_required");
        assert_eq!(check_url("https://localhost/x", Mode::Production).unwrap_err().0, "private_address");
        assert_eq!(check_url("https://u:p@hooks.example.com/", Mode::Production).unwrap_err().0, "credentials");
        assert_eq!(check_url("ftp://hooks.example.com/", Mode::Production).unwrap_err().0, "https_required");
        assert_eq!(check_url("not a url", Mode::Production).unwrap_err().0, "invalid");
    }

    #[tokio::test]
    async fn registration_checks_input_and_shows_the_secret_once() {
        let t = full();
        let p = &t.platform;
        let (_, admin, hook) = registered_with_endpoint(&t, "https://hooks.example.com/esign").await;
        assert!(hook.secret.starts_with("whsec_"));
        let list = p.list_webhooks(&admin, None, None).await.unwrap();
        assert_eq!(list.items, vec![hook.webhook.clone()]);
        let json = serde_json::to_string(&list.items).unwrap();
        assert!(!json.contains("whsec_"), "lists never show secrets");
        // At rest the secret is sealed, and bound to its endpoint.
        let key = endpoint_key(&hook.webhook.enterprise_id, &hook.webhook.id);
        let stored: EndpointData = p.store.get(&key).await.unwrap().unwrap().decode().unwrap();
        let raw = serde_json::to_string(&stored).unwrap();
        let bare = hook.secret.trim_start_matches("whsec_");
        assert!(!raw.contains("whsec_") && !raw.contains(bare), "{raw}");
        assert_eq!(p.open_secret(&hook.webhook.id, &stored.sealed_secret).await.unwrap(), hook.secret.expose());
        assert!(matches!(p.open_secret("wh_other", &stored.sealed_secret).await, Err(DomainError::Internal(_))));
        let Err(DomainError::Validation(errors)) =
            p.create_webhook(&admin, subscribe("http://hooks.example.com/", &["seal.approved", "nope"])).await
        else {
            panic!("expected a validation error")
        };
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(fields, [("url", "https_required"), ("event_types[1]", "unknown")]);
        // Production: names resolving to private addresses are refused.
        let mut prod = p.clone();
        prod.config.mode = Mode::Production;
        t.sender.resolve_to("internal.example.com", &["10.0.0.7"]);
        let err = prod.create_webhook(&admin, subscribe("https://internal.example.com/", &["seal.approved"])).await;
        assert!(matches!(err, Err(DomainError::Validation(ref e)) if e[0].code == "private_address"), "{err:?}");
        assert!(prod.create_webhook(&admin, subscribe("https://hooks.example.com/", &["seal.approved"])).await.is_ok());
        // Removal.
        p.delete_webhook(&admin, &hook.webhook.id).await.unwrap();
        assert!(matches!(p.delete_webhook(&admin, &hook.webhook.id).await, Err(DomainError::NotFound(_))));
    }

    #[tokio::test]
    async fn an_event_reaches_its_enterprise_signed_and_no_other() {
        let t = full();
        let (ent, admin, hook) = registered_with_endpoint(&t, "https://a.example.com/hook").await;
        let (other_ent, other_admin, _) = registered_with_endpoint(&t, "https://b.example.com/hook").await;
        approve(&t, &ent, &admin).await;
        drain(&t).await;
        let sent = t.sender.sent();
        assert_eq!(sent.len(), 1, "only the approved enterprise's endpoint hears of it");
        let post = &sent[0];
        assert_eq!(post.url, "https://a.example.com/hook");
        assert!(signed_with(post, &hook.secret));
        let body: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
        assert_eq!(body["type"], "enterprise.verification.approved");
        assert_eq!(body["data"]["enterprise_id"], ent.as_str());
        assert_eq!(body["id"], header(post, "webhook-id"));
        let deliveries = t.platform.list_webhook_deliveries(&admin, &hook.webhook.id, None, None).await.unwrap();
        assert_eq!(deliveries.items.len(), 1);
        assert_eq!(deliveries.items[0].status, DeliveryStatus::Delivered);
        assert_eq!(deliveries.items[0].attempts[0].status_code, Some(200));
        // The other enterprise cannot see this endpoint or its deliveries.
        assert!(matches!(
            t.platform.list_webhook_deliveries(&other_admin, &hook.webhook.id, None, None).await,
            Err(DomainError::NotFound(_))
        ));
        approve(&t, &other_ent, &other_admin).await;
        drain(&t).await;
        assert_eq!(t.sender.sent().len(), 2);
        assert_eq!(t.sender.sent()[1].url, "https://b.example.com/hook");
    }

    #[tokio::test]
    async fn failures_are_retried_with_growing_waits_until_a_2xx() {
        let t = full();
        let (ent, admin, hook) = registered_with_endpoint(&t, "https://a.example.com/hook").await;
        t.sender.answer(&[Some(500), None, Some(503), Some(204)]);
        approve(&t, &ent, &admin).await;
        drain(&t).await;
        let sent = t.sender.sent();
        assert_eq!(sent.len(), 4);
        let ids: Vec<_> = sent.iter().map(|s| header(s, "webhook-id")).collect();
        assert!(ids.iter().all(|i| *i == ids[0]), "every retry carries the same id");
        let d = &t.platform.list_webhook_deliveries(&admin, &hook.webhook.id, None, None).await.unwrap().items[0];
        assert_eq!(d.status, DeliveryStatus::Delivered);
        assert_eq!(d.attempt_count, 4);
        let codes: Vec<_> = d.attempts.iter().map(|a| a.status_code).collect();
        assert_eq!(codes, [Some(500), None, Some(503), Some(204)]);
        assert!(d.attempts[1].error.as_deref().unwrap_or("").contains("no answer"));
        let gaps: Vec<_> = d.attempts.windows(2).map(|w| (w[1].at - w[0].at).whole_seconds()).collect();
        assert!(gaps[0] >= 15 && gaps[1] >= 30 && gaps[2] >= 60, "{gaps:?}");
    }

    #[tokio::test]
    async fn a_delivery_fails_after_the_retry_window_and_can_be_redelivered() {
        let t = full();
        let (ent, admin, hook) = registered_with_endpoint(&t, "https://a.example.com/hook").await;
        t.sender.answer(&[Some(500); 200]);
        let start = t.clock.now();
        approve(&t, &ent, &admin).await;
        drain(&t).await;
        let d =
            t.platform.list_webhook_deliveries(&admin, &hook.webhook.id, None, None).await.unwrap().items[0].clone();
        assert_eq!(d.status, DeliveryStatus::Failed);
        let last = d.attempts.last().unwrap().at;
        assert!(last - start >= time::Duration::hours(24), "retried for at least a day");
        t.sender.script.lock().unwrap().clear();
        let again = t.platform.redeliver_webhook(&admin, &hook.webhook.id, &d.id).await.unwrap();
        assert_eq!(again.status, DeliveryStatus::Pending);
        assert!(matches!(
            t.platform.redeliver_webhook(&admin, &hook.webhook.id, &d.id).await,
            Err(DomainError::Conflict(_))
        ));
        drain(&t).await;
        let d =
            t.platform.list_webhook_deliveries(&admin, &hook.webhook.id, None, None).await.unwrap().items[0].clone();
        assert_eq!(d.status, DeliveryStatus::Delivered);
        assert_eq!(d.attempts.last().unwrap().status_code, Some(200));
    }

    #[tokio::test]
    async fn rotation_signs_with_both_secrets_during_the_grace_period() {
        let t = full();
        let p = &t.platform;
        let (ent, admin) = crate::testing::verified(p).await;
        let hook = p.create_webhook(&admin, subscribe("https://a.example.com/h", &EVENT_TYPES[2..])).await.unwrap();
        let rotated = p.rotate_webhook_secret(&admin, &hook.webhook.id).await.unwrap();
        assert_ne!(rotated.secret, hook.secret);
        let seal = active_seal(&t, &admin).await;
        drain(&t).await;
        let sent = t.sender.sent();
        // seal.approved and the admin's seal.grant.created.
        assert_eq!(sent.len(), 2, "{sent:?}");
        assert!(sent.iter().all(|s| signed_with(s, &hook.secret) && signed_with(s, &rotated.secret)));
        t.clock.advance(time::Duration::hours(25));
        p.change_seal_status(&admin, &seal, SealStatus::Revoked).await.unwrap();
        drain(&t).await;
        let last = t.sender.sent().pop().unwrap();
        let body: serde_json::Value = serde_json::from_slice(&last.body).unwrap();
        assert_eq!(body["type"], "seal.revoked");
        assert_eq!(body["data"]["enterprise_id"], ent.as_str());
        assert!(signed_with(&last, &rotated.secret) && !signed_with(&last, &hook.secret));
    }

    #[tokio::test]
    async fn events_survive_a_queue_outage_through_the_outbox_sweep() {
        let t = full();
        let (ent, admin, _) = registered_with_endpoint(&t, "https://a.example.com/hook").await;
        t.queue.fail_sends.store(true, std::sync::atomic::Ordering::SeqCst);
        approve(&t, &ent, &admin).await; // the state change succeeds all the same
        assert!(t.queue.is_empty());
        t.queue.fail_sends.store(false, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(t.platform.sweep_webhook_outbox().await.unwrap(), 0, "too fresh to sweep");
        t.clock.advance(time::Duration::minutes(2));
        assert_eq!(t.platform.sweep_webhook_outbox().await.unwrap(), 1);
        drain(&t).await;
        assert_eq!(t.sender.sent().len(), 1);
        // Fanned out: the outbox is empty, and a duplicate message delivers nothing new.
        assert_eq!(t.platform.sweep_webhook_outbox().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_lost_attempt_message_is_found_by_the_sweep() {
        let t = full();
        let (ent, admin, hook) = registered_with_endpoint(&t, "https://a.example.com/hook").await;
        approve(&t, &ent, &admin).await;
        let (fan_out, _) = t.queue.pop().unwrap();
        t.platform.handle_webhook_message(&fan_out).await.unwrap();
        let (lost, _) = t.queue.pop().unwrap(); // the first attempt's message, gone to the DLQ
        assert!(lost.contains("attempt"));
        assert!(t.queue.is_empty());
        assert_eq!(t.platform.sweep_webhook_outbox().await.unwrap(), 0, "not overdue yet");
        t.clock.advance(time::Duration::minutes(10));
        assert_eq!(t.platform.sweep_webhook_outbox().await.unwrap(), 1);
        drain(&t).await;
        assert_eq!(t.sender.sent().len(), 1);
        let d = &t.platform.list_webhook_deliveries(&admin, &hook.webhook.id, None, None).await.unwrap().items[0];
        assert_eq!(d.status, DeliveryStatus::Delivered);
        // Nothing is pending any more: the marker went with the delivery.
        t.clock.advance(time::Duration::hours(1));
        assert_eq!(t.platform.sweep_webhook_outbox().await.unwrap(), 0);
        let markers = t
            .platform
            .store
            .query(&Query {
                partition: Partition::Table(PENDING_PARTITION.into()),
                prefix: String::new(),
                after: None,
                limit: 10,
                descending: false,
            })
            .await
            .unwrap();
        assert!(markers.records.is_empty());
    }

    #[tokio::test]
    async fn in_production_a_host_that_starts_resolving_privately_is_not_called() {
        let t = full();
        let mut p = t.platform.clone();
        p.config.mode = Mode::Production;
        let r = p.register_enterprise(registration()).await.unwrap();
        let admin = p.authenticate(Some(&r.api_key)).await.unwrap();
        t.sender.resolve_to("hooks.example.com", &["93.184.216.34"]);
        let hook = p
            .create_webhook(&admin, subscribe("https://hooks.example.com/x", &["enterprise.verification.approved"]))
            .await
            .unwrap();
        t.sender.resolve_to("hooks.example.com", &["169.254.169.254"]);
        let v = p.submit_verification(&admin, &r.enterprise.id, submission()).await.unwrap();
        p.decide_verification(
            &operator(),
            &v.verification.unwrap().id,
            Decision { decision: DecisionKind::Approve, reason: None },
        )
        .await
        .unwrap();
        let (body, _) = t.queue.pop().unwrap();
        p.handle_webhook_message(&body).await.unwrap(); // fan-out
        let (body, _) = t.queue.pop().unwrap();
        p.handle_webhook_message(&body).await.unwrap(); // first attempt
        assert!(t.sender.sent().is_empty(), "nothing was sent to a private address");
        let d = &p.list_webhook_deliveries(&admin, &hook.webhook.id, None, None).await.unwrap().items[0];
        assert!(d.attempts[0].error.as_deref().unwrap_or("").contains("169.254.169.254"), "{d:?}");
        assert_eq!(d.status, DeliveryStatus::Pending, "DNS may change back: it is retried");
        // Resolving publicly again, the retry is pinned to the checked address.
        t.sender.resolve_to("hooks.example.com", &["93.184.216.34"]);
        let (body, delay) = t.queue.pop().unwrap();
        t.clock.advance(span(delay));
        p.handle_webhook_message(&body).await.unwrap();
        let sent = t.sender.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].addrs, vec!["93.184.216.34:443".parse().unwrap()]);
    }
}
