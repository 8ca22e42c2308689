//! The application service: one [`Platform`] holds the ports and exposes every use case.
//! Use cases live in the sibling modules (`enterprises`, `verification`, `members`), each an
//! `impl Platform` block.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;

use crate::auth::{OperatorKeys, Principal, Role, hash_key};
use crate::enterprises::internal;
use crate::error::DomainError;
use crate::model::{Enterprise, EnterpriseStatus, Member, Page};
use crate::ports::{
    BlobStore, Clock, Key, Notifier, Partition, Position, Query, Queue, Record, RecordStore, SealAuthority, SecretBox,
    WebhookSender,
};
use crate::sessions::{Operators, SessionConfig};

/// Whether development-only conveniences are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Production,
    Development,
}

/// Settings of the platform that are not ports.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    pub operator_keys: OperatorKeys,
    /// How long presigned upload and download URLs stay valid.
    pub presign_expiry: Duration,
    /// The RFC 3161 TSA that time-stamps contract signatures; `None` uses the platform's own.
    pub tsa_url: Option<String>,
    /// The roots (PEM) an external TSA's tokens must chain to; without them only the platform's
    /// own TSA is trusted, and a signature time-stamped by anything else is never stored.
    pub tsa_roots_pem: Option<String>,
    /// How long checking or verifying one PDF may take before the request is answered with a
    /// clear error (the work runs off the async workers, so other requests go on meanwhile).
    pub pdf_deadline: Duration,
    /// Webhook delivery: retries, timeouts and secret rotation.
    /// The verified email identity one-time codes are sent from (SES, production).
    pub email_sender: Option<String>,
    pub webhooks: WebhookConfig,
    /// The operators who sign in with a one-time code (`ESIGN_OPERATORS`; only the sign-in
    /// functions are configured with them).
    pub operators: Operators,
    /// How long sessions last.
    pub sessions: SessionConfig,
    /// The web app's base URL (`ESIGN_WEB_URL`): embedded signing links point there.
    pub web_url: Option<String>,
    /// The platform's public base URL (the API's, e.g. `https://api.example.com`): where
    /// certificates say revocation status is published. `None`: they say nowhere.
    pub public_url: Option<String>,
    /// How old a completed contract's newest document time stamp may grow before the scheduled
    /// `renew-archive-timestamps` adds a new one (`ESIGN_ARCHIVE_MAX_AGE_SECS`; it renews sooner
    /// when the TSA certificate comes within `esign_core::ltv::TSA_EXPIRY_MARGIN` of expiry).
    pub archive_max_age: Duration,
}

/// How webhook deliveries are retried.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Wait before the first retry; each later retry waits twice as long (with jitter).
    pub backoff_base: Duration,
    /// Longest wait between two attempts.
    pub backoff_max: Duration,
    /// How long a failing delivery keeps being retried before it is marked failed.
    pub retry_window: Duration,
    /// How long the receiver has to answer one attempt.
    pub timeout: Duration,
    /// How long the previous secret stays valid (deliveries are signed with both) after a rotation.
    pub secret_grace: Duration,
    /// Events still in the outbox after this long are queued again by the sweep.
    pub sweep_after: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
            retry_window: Duration::from_secs(24 * 3600),
            timeout: Duration::from_secs(10),
            secret_grace: Duration::from_secs(24 * 3600),
            sweep_after: Duration::from_secs(60),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Development,
            operator_keys: OperatorKeys::default(),
            presign_expiry: Duration::from_secs(900),
            tsa_url: None,
            tsa_roots_pem: None,
            pdf_deadline: Duration::from_secs(10),
            webhooks: WebhookConfig::default(),
            email_sender: None,
            operators: Operators::default(),
            sessions: SessionConfig::default(),
            web_url: None,
            public_url: None,
            archive_max_age: Duration::from_secs(2 * 365 * 24 * 3600),
        }
    }
}

/// The use cases, over the ports.
#[derive(Clone)]
pub struct Platform {
    pub(crate) store: Arc<dyn RecordStore>,
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) authority: Arc<dyn SealAuthority>,
    pub(crate) notifier: Arc<dyn Notifier>,
    pub(crate) queue: Arc<dyn Queue>,
    pub(crate) webhook_sender: Arc<dyn WebhookSender>,
    pub(crate) secrets: Arc<dyn SecretBox>,
    pub(crate) config: Config,
    pub(crate) warm: Arc<crate::warm::Warm>,
}

/// The ports a [`Platform`] works on.
pub struct Ports {
    pub store: Arc<dyn RecordStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub authority: Arc<dyn SealAuthority>,
    pub notifier: Arc<dyn Notifier>,
    /// Carries webhook work (fan-out and delivery attempts) to the delivery function.
    pub queue: Arc<dyn Queue>,
    /// Makes the webhook POSTs.
    pub webhook_sender: Arc<dyn WebhookSender>,
    /// Keeps webhook signing secrets encrypted at rest.
    pub secrets: Arc<dyn SecretBox>,
}

pub(crate) fn enterprise_key(id: &str) -> Key {
    Key::new(format!("ENT#{id}"), "PROFILE")
}

pub(crate) fn member_key(enterprise_id: &str, member_id: &str) -> Key {
    Key::new(format!("ENT#{enterprise_id}"), format!("MEMBER#{member_id}"))
}

pub(crate) fn api_key_key(hash: &str) -> Key {
    Key::new(format!("APIKEY#{hash}"), "APIKEY")
}

/// Audit subject of an enterprise.
pub(crate) fn enterprise_subject(id: &str) -> String {
    format!("ENT#{id}")
}

/// What is stored under an API key's hash. The record lives exactly as long as the key is the
/// member's current one (removing the member or rotating its key deletes it in the same
/// transaction), and a member's role never changes, so the record alone authenticates.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct ApiKeyData {
    pub enterprise_id: String,
    pub member_id: String,
    /// Absent in records written before the role was kept here: those also read the member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// A member as stored: the member and the hash of its current key.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct MemberData {
    #[serde(flatten)]
    pub member: Member,
    pub key_hash: String,
}

/// A member's record with the hash of its current key.
pub(crate) fn member_record(m: &Member, key_hash: &str) -> Result<Record, DomainError> {
    let data = MemberData { member: m.clone(), key_hash: key_hash.to_owned() };
    Ok(Record::new(member_key(&m.enterprise_id, &m.id), serde_json::to_value(data).map_err(internal)?))
}

/// The record under an API key's hash.
pub(crate) fn key_record(m: &Member, key_hash: &str) -> Result<Record, DomainError> {
    let data = ApiKeyData { enterprise_id: m.enterprise_id.clone(), member_id: m.id.clone(), role: Some(m.role) };
    Ok(Record::new(api_key_key(key_hash), serde_json::to_value(data).map_err(internal)?))
}

/// A loaded record of type `T` and the version it had.
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

impl Platform {
    pub fn new(ports: Ports, config: Config) -> Self {
        let Ports { store, blobs, clock, authority, notifier, queue, webhook_sender, secrets } = ports;
        Platform {
            store,
            blobs,
            clock,
            authority,
            notifier,
            queue,
            webhook_sender,
            secrets,
            config,
            warm: Default::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Who holds this bearer key: an operator, a member, or nobody (401).
    pub async fn authenticate(&self, bearer: Option<&str>) -> Result<Principal, DomainError> {
        let secret = bearer.map(str::trim).filter(|s| !s.is_empty()).ok_or(DomainError::Unauthorized)?;
        let hash = hash_key(secret);
        if let Some(id) = self.config.operator_keys.operator_for(&hash) {
            return Ok(Principal::Operator { id });
        }
        // One read: the key's record (see [`ApiKeyData`]).
        let key: ApiKeyData = self.load(&api_key_key(&hash)).await?.ok_or(DomainError::Unauthorized)?.value;
        let role = match key.role {
            Some(role) => role,
            None => {
                let member: MemberData = self
                    .load(&member_key(&key.enterprise_id, &key.member_id))
                    .await?
                    .ok_or(DomainError::Unauthorized)?
                    .value;
                if member.key_hash != hash {
                    return Err(DomainError::Unauthorized);
                }
                member.member.role
            }
        };
        Ok(Principal::Member { enterprise_id: key.enterprise_id, member_id: key.member_id, role })
    }

    /// Runs CPU-bound PDF work (parsing, checking, verifying a file from a client) on a blocking
    /// thread, so that a slow file never holds the async workers that serve other requests, and
    /// stops waiting for it after [`Config::pdf_deadline`] with a 422 naming the document.
    pub(crate) async fn pdf_work<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        match tokio::time::timeout(self.config.pdf_deadline, tokio::task::spawn_blocking(work)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(DomainError::Internal(format!("the PDF work stopped: {e}"))),
            Err(_) => Err(self.too_slow()),
        }
    }

    /// The answer when PDF work outlives [`Config::pdf_deadline`].
    fn too_slow(&self) -> DomainError {
        DomainError::invalid(
            "document",
            "too_slow",
            format!("the document could not be processed within {} s", self.config.pdf_deadline.as_secs()),
        )
    }

    /// Runs an engine future that works the CPU between its awaits (signing: parsing, drawing,
    /// hashing around the key service's and the TSA's answers) without holding an async worker:
    /// on the multi-thread runtime the worker hands its other tasks to another thread while this
    /// one works (`block_in_place`); the same task, so its context (tracing, call attribution)
    /// goes with it. Gives up after [`Config::pdf_deadline`] with a 422 naming the document.
    pub(crate) async fn pdf_task<T>(&self, work: impl std::future::Future<Output = T>) -> Result<T, DomainError> {
        let timed = tokio::time::timeout(self.config.pdf_deadline, work);
        let done = match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| h.block_on(timed))
            }
            _ => timed.await,
        };
        done.map_err(|_| self.too_slow())
    }

    pub(crate) async fn load<T: DeserializeOwned>(&self, key: &Key) -> Result<Option<Versioned<T>>, DomainError> {
        match self.store.get(key).await? {
            None => Ok(None),
            Some(r) => Ok(Some(Versioned { value: r.decode()?, version: r.version })),
        }
    }

    pub(crate) async fn load_enterprise(&self, id: &str) -> Result<Versioned<Enterprise>, DomainError> {
        self.load(&enterprise_key(id)).await?.ok_or(DomainError::NotFound("enterprise"))
    }

    /// One page of a partition, decoded, with an opaque cursor bound to that partition.
    pub(crate) async fn page<T: DeserializeOwned>(
        &self,
        partition: Partition,
        prefix: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<T>, DomainError> {
        self.page_ordered(partition, prefix, limit, cursor, false).await
    }

    /// Like [`Self::page`], in either order.
    pub(crate) async fn page_ordered<T: DeserializeOwned>(
        &self,
        partition: Partition,
        prefix: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
        descending: bool,
    ) -> Result<Page<T>, DomainError> {
        let limit = page_limit(limit)?;
        let after = cursor.map(|c| decode_cursor(c, &partition)).transpose()?;
        let page = self.store.query(&Query { partition, prefix: prefix.to_owned(), after, limit, descending }).await?;
        let items = page.records.iter().map(|r| r.decode()).collect::<Result<Vec<T>, _>>()?;
        Ok(Page { items, next_cursor: page.next.map(|p| encode_cursor(&p)) })
    }
}

/// A page size as asked (`limit`, 1 to 100, default 20): out of range is a 422, never clamped.
pub(crate) fn page_limit(limit: Option<u32>) -> Result<usize, DomainError> {
    match limit {
        None => Ok(20),
        Some(l @ 1..=100) => Ok(l as usize),
        Some(_) => Err(DomainError::invalid("limit", "range", "limit must be between 1 and 100")),
    }
}

/// The caller must be a member of `enterprise_id` (anyone else learns nothing: 404).
pub(crate) fn member_of<'a>(principal: &'a Principal, enterprise_id: &str) -> Result<(&'a str, Role), DomainError> {
    match principal {
        Principal::Member { enterprise_id: e, member_id, role } if e == enterprise_id => Ok((member_id, *role)),
        Principal::Member { .. } => Err(DomainError::NotFound("enterprise")),
        Principal::Operator { .. } => Err(DomainError::Forbidden("operators cannot act for an enterprise".into())),
    }
}

/// The caller must be an administrator of `enterprise_id`.
pub(crate) fn admin_of<'a>(principal: &'a Principal, enterprise_id: &str) -> Result<&'a str, DomainError> {
    match member_of(principal, enterprise_id)? {
        (id, Role::Admin) => Ok(id),
        _ => Err(DomainError::Forbidden("this needs an administrator's key".into())),
    }
}

/// The caller's own enterprise, for routes without an enterprise id.
pub(crate) fn own_enterprise(principal: &Principal) -> Result<(&str, &str, Role), DomainError> {
    match principal {
        Principal::Member { enterprise_id, member_id, role } => Ok((enterprise_id, member_id, *role)),
        Principal::Operator { .. } => Err(DomainError::Forbidden("operators have no enterprise".into())),
    }
}

/// The caller must be an operator.
pub(crate) fn operator(principal: &Principal) -> Result<&str, DomainError> {
    match principal {
        Principal::Operator { id } => Ok(id),
        Principal::Member { .. } => Err(DomainError::Forbidden("this needs a platform operator's key".into())),
    }
}

/// The enterprise must have passed real-name authentication.
pub(crate) fn require_verified(e: &Enterprise) -> Result<(), DomainError> {
    if e.status == EnterpriseStatus::Verified { Ok(()) } else { Err(DomainError::NotVerified) }
}

fn encode_cursor(p: &Position) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(p).expect("positions serialize"))
}

fn decode_cursor(c: &str, partition: &Partition) -> Result<Position, DomainError> {
    let bad = || DomainError::invalid("cursor", "invalid", "the cursor is not one this list returned");
    let bytes = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    let p: Position = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    // A cursor may only move within the partition being listed.
    let fits = match partition {
        Partition::Table(pk) => &p.key.pk == pk && p.index.is_none(),
        Partition::Index(pk) => p.index.as_ref().is_some_and(|i| &i.pk == pk),
    };
    if fits { Ok(p) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_cannot_leave_their_partition() {
        let p = Position { key: Key::new("ENT#a", "MEMBER#1"), index: None };
        let c = encode_cursor(&p);
        assert_eq!(decode_cursor(&c, &Partition::Table("ENT#a".into())).unwrap(), p);
        assert!(decode_cursor(&c, &Partition::Table("ENT#b".into())).is_err());
        assert!(decode_cursor("!!!", &Partition::Table("ENT#a".into())).is_err());
        assert!(decode_cursor(&c, &Partition::Index("ENT#a".into())).is_err());
    }
}
