//! The ports: what the domain needs from the outside world, as traits. The AWS adapters
//! (`esign-aws`) implement them against DynamoDB and S3; [`crate::memory`] implements them in
//! memory for unit tests.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Primary key of a record: partition and sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key { pk: pk.into(), sk: sk.into() }
    }
}

/// A stored record: its key, an optimistic-concurrency version, its data, and optionally a
/// secondary index key (partition, sort) and an expiry time.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub key: Key,
    /// Starts at 1 on creation; every conditional rewrite increments it.
    pub version: u64,
    pub data: serde_json::Value,
    pub index: Option<Key>,
    /// Unix seconds after which the store may delete the record.
    pub expires_at: Option<i64>,
}

impl Record {
    pub fn new(key: Key, data: serde_json::Value) -> Self {
        Record { key, version: 1, data, index: None, expires_at: None }
    }

    /// Decodes the data into a domain type.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_value(self.data.clone())
            .map_err(|e| StoreError::Corrupt(format!("{}/{}: {e}", self.key.pk, self.key.sk)))
    }
}

impl Write {
    /// Replaces a record that was read at `stored_version`: writes it as the next version, and
    /// only if nobody changed it in between.
    pub fn replace(mut record: Record, stored_version: u64) -> Write {
        record.version = stored_version + 1;
        Write::Put { record, condition: Condition::Version(stored_version) }
    }

    /// Creates a record that must not exist yet.
    pub fn create(record: Record) -> Write {
        Write::Put { record, condition: Condition::NotExists }
    }
}

/// When a write may happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Unconditionally.
    Always,
    /// Only if no record has this key.
    NotExists,
    /// Only if the stored record has exactly this version.
    Version(u64),
}

/// One write of an atomic batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Store the record (its `version` field is written as given).
    Put { record: Record, condition: Condition },
    /// Remove the record.
    Delete { key: Key, condition: Condition },
    /// Add to numbers of an existing record's data (`(field, amount)`; a missing field counts as
    /// 0), atomically with the rest of the batch and without a version condition: counters that
    /// many writers bump at once never conflict. The record's version is left as it is.
    Increment { key: Key, by: Vec<(String, i64)> },
    /// Writes nothing: the batch applies only if this record meets `condition` (a DynamoDB
    /// condition check), so a change elsewhere, such as a seal suspended meanwhile, stops it.
    Check { key: Key, condition: Condition },
}

/// Which ordered collection a query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partition {
    /// Records with this partition key, ordered by sort key.
    Table(String),
    /// Records whose index partition is this, ordered by index sort key.
    Index(String),
}

/// A range query over one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub partition: Partition,
    /// Only sort keys (index sort keys for [`Partition::Index`]) starting with this.
    pub prefix: String,
    /// Resume after this record (the last one of the previous page).
    pub after: Option<Position>,
    pub limit: usize,
    pub descending: bool,
}

/// Where a page ended: the keys a store needs to resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub key: Key,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<Key>,
}

/// A page of records and, when more may follow, where it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPage {
    pub records: Vec<Record>,
    pub next: Option<Position>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// A condition of the write did not hold: somebody else changed the data first.
    #[error("a concurrent change won: the write's condition failed")]
    Conflict,
    #[error("the record store is unavailable: {0}")]
    Unavailable(String),
    #[error("a stored record is unreadable: {0}")]
    Corrupt(String),
}

/// The most keys one [`RecordStore::get_many`] reads (DynamoDB's BatchGetItem limit).
pub const MAX_GET_MANY: usize = 100;

/// Durable records with conditional, atomic multi-record writes (DynamoDB in production).
#[async_trait]
pub trait RecordStore: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError>;
    /// Reads several records in one round trip (each read strongly consistent, not one
    /// snapshot: writes that depend on them carry their own conditions), answered in the order
    /// of `keys`; at most [`MAX_GET_MANY`] distinct keys.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(self.get(k).await?);
        }
        Ok(out)
    }
    async fn query(&self, query: &Query) -> Result<RecordPage, StoreError>;
    /// Applies every write or none; [`StoreError::Conflict`] when any condition fails. A batch
    /// touches each key at most once (as in DynamoDB transactions).
    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError>;
    /// Adds 1 to the number `field` of an existing record's data, atomically and only while it
    /// is below `limit` (a missing field counts as 0), and answers the new value. The record's
    /// version is left as it is. [`StoreError::Conflict`] when the field has reached `limit` or
    /// the record does not exist: of any number of concurrent callers, at most `limit` succeed.
    async fn increment_below(&self, key: &Key, field: &str, limit: i64) -> Result<i64, StoreError>;
}

/// A presigned HTTP request a client uses to move a file directly to or from the blob store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresignedRequest {
    pub url: String,
    pub method: String,
    /// Headers the client must send with exactly these values.
    pub headers: Vec<(String, String)>,
}

/// What the blob store knows about a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    pub size: u64,
    pub content_type: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlobError {
    #[error("the blob store is unavailable: {0}")]
    Unavailable(String),
}

/// Object storage for uploaded and generated files (S3 in production).
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// A PUT URL that accepts exactly this content type and length, valid for `expires`.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires: Duration,
    ) -> Result<PresignedRequest, BlobError>;
    /// A GET URL valid for `expires`.
    async fn presign_get(&self, key: &str, expires: Duration) -> Result<PresignedRequest, BlobError>;
    /// Size and type of the object, or `None` when it does not exist.
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError>;
    /// The first `len` bytes of the object (fewer if it is shorter), or `None` when missing.
    async fn read_prefix(&self, key: &str, len: u64) -> Result<Option<Vec<u8>>, BlobError>;
    /// The whole object, or `None` when missing.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;
    /// Stores a new object. Callers use a fresh key for every object they write, so nothing
    /// stored is ever overwritten.
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;
}

/// The time, injectable so tests can move it.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Key algorithm of a seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256 with SHA-256 (the default).
    EcdsaP256,
    /// RSA 2048, PKCS#1 v1.5 with SHA-256.
    #[serde(rename = "rsa_2048")]
    Rsa2048,
}

/// Who a seal certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealSubject {
    /// The company (O).
    pub company_name: String,
    /// The Unified Social Credit Code (organizationIdentifier).
    pub uscc: String,
    /// The seal's name (CN).
    pub seal_name: String,
}

/// A certificate the platform CA issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCertificate {
    /// Serial number, lowercase hex.
    pub serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// The certificate, PEM.
    pub pem: String,
    /// The issuing CA's chain up to and including the root, PEM.
    pub chain_pem: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthorityError {
    #[error("the key service is unavailable: {0}")]
    Unavailable(String),
    #[error("the certificate authority failed: {0}")]
    Failed(String),
}

/// Which platform CA issues a CRL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaLevel {
    /// The root CA: its CRL lists the issuing CA if that is ever revoked.
    Root,
    /// The issuing CA: its CRL lists revoked seal certificates.
    Issuing,
}

impl CaLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            CaLevel::Root => "root",
            CaLevel::Issuing => "issuing",
        }
    }
}

/// The platform's key service and certificate authority (KMS and the KMS-backed CA in
/// production): seal keys are created and used inside it and never leave it.
#[async_trait]
pub trait SealAuthority: Send + Sync {
    /// Creates a signing key for a seal; returns its id in the key service.
    async fn create_seal_key(&self, algorithm: KeyAlgorithm, description: &str) -> Result<String, AuthorityError>;
    /// Issues the seal's certificate for the key, valid at most until `not_after`.
    async fn issue_seal_certificate(
        &self,
        key_id: &str,
        subject: &SealSubject,
        not_after: OffsetDateTime,
    ) -> Result<IssuedCertificate, AuthorityError>;
    /// Disables a key for good (a revoked seal never signs again).
    async fn disable_key(&self, key_id: &str) -> Result<(), AuthorityError>;
    /// The platform's root and issuing CA certificates, PEM, root first.
    async fn ca_certificates_pem(&self) -> Result<String, AuthorityError>;
    /// Answers an RFC 3161 time-stamp request (DER) with a time-stamp response (DER); a
    /// malformed request gets a rejection response, not an error.
    async fn timestamp(&self, request: &[u8]) -> Result<Vec<u8>, AuthorityError>;
    /// The signing engine's signer on a seal's key; `chain_pem` is the seal certificate followed
    /// by its issuing CA. Fails when the key is not the certificate's.
    async fn seal_signer(&self, key_id: &str, chain_pem: &str) -> Result<Box<dyn esign_pades::Signer>, AuthorityError>;
    /// The signing engine's signer on the platform's evidence seal (its key and certificate,
    /// issued by the issuing CA, then the issuing CA): what signs evidence reports.
    async fn evidence_signer(&self) -> Result<Box<dyn esign_pades::Signer>, AuthorityError>;
    /// The issuing CA's certificate, DER: what seal certificates name as their issuer
    /// (caIssuers) and what OCSP requests are matched against.
    async fn issuing_certificate_der(&self) -> Result<Vec<u8>, AuthorityError>;
    /// Signs a CRL of the root or the issuing CA with that CA's key (DER).
    async fn sign_crl(&self, issuer: CaLevel, content: &esign_pki::crl::CrlContent) -> Result<Vec<u8>, AuthorityError>;
    /// Signs an OCSP response (DER) answering `request` with `statuses` (one per query),
    /// produced at `now`, with the delegated OCSP responder's key.
    async fn ocsp_respond(
        &self,
        request: &esign_pki::ocsp::ParsedRequest,
        statuses: &[esign_pki::ocsp::OcspStatus],
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, AuthorityError>;
}

/// How a notice travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A text message to a mobile number (SNS in production).
    Sms,
    /// An email (SES in production).
    Email,
}

impl Channel {
    /// What the channel delivers to, as a member's field is named: `mobile` or `email`.
    pub fn contact(self) -> &'static str {
        match self {
            Channel::Sms => "mobile",
            Channel::Email => "email",
        }
    }
}

/// A message for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub channel: Channel,
    /// E.164 mobile number or email address.
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NotifyError {
    #[error("the notification service is unavailable: {0}")]
    Unavailable(String),
    #[error("the notification service refused the message: {0}")]
    Refused(String),
}

/// Sends notices (one-time codes) to people: SNS and SES in production, a readable outbox in
/// development.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn send(&self, notice: &Notice) -> Result<(), NotifyError>;
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueueError {
    #[error("the queue is unavailable: {0}")]
    Unavailable(String),
}

/// A message queue with delayed delivery (SQS in production): at-least-once, so a message may
/// arrive more than once.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Longest delay [`Queue::send`] honours; a longer wait is made of several sends.
    fn max_delay(&self) -> Duration {
        Duration::from_secs(900)
    }
    /// Enqueues `body`, to be received no earlier than `delay` from now (at most
    /// [`Queue::max_delay`]).
    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError>;
}

/// One outgoing webhook POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingPost {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The addresses the URL's host was resolved to and checked against the address policy:
    /// the request connects only to these (no second lookup that DNS could answer otherwise).
    pub addrs: Vec<std::net::SocketAddr>,
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    #[error("the host name did not resolve: {0}")]
    Resolve(String),
    #[error("no answer within the timeout")]
    Timeout,
    #[error("the request failed: {0}")]
    Failed(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("the key service is unavailable: {0}")]
    Unavailable(String),
    #[error("a sealed secret does not open: {0}")]
    Corrupt(String),
}

/// Keeps the secrets the platform must read back (webhook signing secrets) encrypted at rest:
/// KMS in production. `context` binds a sealed secret to its owner, so it opens under no other.
#[async_trait]
pub trait SecretBox: Send + Sync {
    async fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, SecretError>;
    async fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SecretError>;
}

/// Outgoing HTTP for webhook deliveries: name resolution (so the domain can refuse private
/// addresses) and a POST pinned to the checked addresses, never following redirects.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<std::net::IpAddr>, SendError>;
    /// The response's status code.
    async fn post(&self, request: &OutgoingPost) -> Result<u16, SendError>;
}
