//! In-memory implementations of the ports, for unit tests of the use cases. They keep the same
//! contracts as the AWS adapters (conditional atomic writes, ordered pages).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::ports::*;

/// A [`RecordStore`] in a mutex-guarded ordered map.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<BTreeMap<Key, Record>>,
}

fn holds(cond: Condition, current: Option<&Record>) -> bool {
    match cond {
        Condition::Always => true,
        Condition::NotExists => current.is_none(),
        Condition::Version(v) => current.is_some_and(|r| r.version == v),
    }
}

#[async_trait]
impl RecordStore for MemoryStore {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        Ok(self.records.lock().expect("store lock").get(key).cloned())
    }

    async fn query(&self, q: &Query) -> Result<RecordPage, StoreError> {
        let records = self.records.lock().expect("store lock");
        // Ordered by (sort key, base key), as DynamoDB orders table and index entries.
        let mut matching: Vec<(&str, &Record)> = records
            .values()
            .filter_map(|r| match &q.partition {
                Partition::Table(pk) => {
                    (&r.key.pk == pk && r.key.sk.starts_with(&q.prefix)).then_some((r.key.sk.as_str(), r))
                }
                Partition::Index(pk) => {
                    r.index.as_ref().filter(|i| &i.pk == pk && i.sk.starts_with(&q.prefix)).map(|i| (i.sk.as_str(), r))
                }
            })
            .collect();
        matching.sort_by(|a, b| a.0.cmp(b.0).then_with(|| a.1.key.cmp(&b.1.key)));
        if q.descending {
            matching.reverse();
        }
        let start = match &q.after {
            None => 0,
            Some(p) => matching.iter().position(|(_, r)| r.key == p.key).map_or(matching.len(), |i| i + 1),
        };
        let rest: Vec<&Record> = matching[start..].iter().map(|(_, r)| *r).collect();
        let page: Vec<Record> = rest.iter().take(q.limit).map(|r| (*r).clone()).collect();
        let next = if rest.len() > q.limit {
            // Like DynamoDB's LastEvaluatedKey: the index key only when the index was read.
            let index_read = matches!(q.partition, Partition::Index(_));
            page.last().map(|r| Position { key: r.key.clone(), index: r.index.clone().filter(|_| index_read) })
        } else {
            None
        };
        Ok(RecordPage { records: page, next })
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let mut records = self.records.lock().expect("store lock");
        let mut seen = std::collections::HashSet::new();
        for w in &writes {
            let key = match w {
                Write::Put { record, .. } => &record.key,
                Write::Delete { key, .. } | Write::Increment { key, .. } | Write::Check { key, .. } => key,
            };
            if !seen.insert(key.clone()) {
                return Err(StoreError::Unavailable(format!("a batch writes {}/{} twice", key.pk, key.sk)));
            }
        }
        for w in &writes {
            let (key, cond) = match w {
                Write::Put { record, condition } => (&record.key, *condition),
                Write::Delete { key, condition } | Write::Check { key, condition } => (key, *condition),
                // As in DynamoDB, a counter's record must exist (its data map holds the field).
                Write::Increment { key, .. } => match records.get(key) {
                    Some(r) if r.data.is_object() => continue,
                    _ => return Err(StoreError::Unavailable(format!("no record {}/{} to increment", key.pk, key.sk))),
                },
            };
            if !holds(cond, records.get(key)) {
                return Err(StoreError::Conflict);
            }
        }
        for w in writes {
            match w {
                Write::Put { record, .. } => {
                    records.insert(record.key.clone(), record);
                }
                Write::Delete { key, .. } => {
                    records.remove(&key);
                }
                Write::Check { .. } => {}
                Write::Increment { key, by } => {
                    if let Some(serde_json::Value::Object(data)) = records.get_mut(&key).map(|r| &mut r.data) {
                        for (field, amount) in by {
                            let now = data.get(&field).and_then(serde_json::Value::as_i64).unwrap_or(0);
                            data.insert(field, serde_json::Value::from(now + amount));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    async fn increment_below(&self, key: &Key, field: &str, limit: i64) -> Result<i64, StoreError> {
        let mut records = self.records.lock().expect("store lock");
        let Some(serde_json::Value::Object(data)) = records.get_mut(key).map(|r| &mut r.data) else {
            return Err(StoreError::Conflict);
        };
        let current = match data.get(field) {
            None => 0,
            Some(v) => v
                .as_i64()
                .ok_or_else(|| StoreError::Corrupt(format!("{}/{}: {field} is not a number", key.pk, key.sk)))?,
        };
        if current >= limit {
            return Err(StoreError::Conflict);
        }
        let next = current.checked_add(1).ok_or(StoreError::Conflict)?;
        data.insert(field.to_owned(), serde_json::Value::from(next));
        Ok(next)
    }
}

/// A [`BlobStore`] in memory; presigned URLs point at a fake host and tests put bytes directly.
#[derive(Debug, Default)]
pub struct MemoryBlobs {
    objects: Mutex<HashMap<String, (Vec<u8>, String)>>,
    /// When set, [`BlobStore::put`] fails (to test what a failed store leaves behind).
    pub fail_puts: std::sync::atomic::AtomicBool,
}

impl MemoryBlobs {
    /// Stores an object as a client's upload would.
    pub fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) {
        self.objects.lock().expect("blob lock").insert(key.to_owned(), (bytes, content_type.to_owned()));
    }
}

#[async_trait]
impl BlobStore for MemoryBlobs {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        _expires: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        Ok(PresignedRequest {
            url: format!("memory://{key}"),
            method: "PUT".into(),
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("content-length".into(), content_length.to_string()),
            ],
        })
    }

    async fn presign_get(&self, key: &str, _expires: Duration) -> Result<PresignedRequest, BlobError> {
        Ok(PresignedRequest { url: format!("memory://{key}"), method: "GET".into(), headers: vec![] })
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        Ok(self
            .objects
            .lock()
            .expect("blob lock")
            .get(key)
            .map(|(b, ct)| BlobMeta { size: b.len() as u64, content_type: Some(ct.clone()) }))
    }

    async fn read_prefix(&self, key: &str, len: u64) -> Result<Option<Vec<u8>>, BlobError> {
        Ok(self.objects.lock().expect("blob lock").get(key).map(|(b, _)| b[..b.len().min(len as usize)].to_vec()))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        Ok(self.objects.lock().expect("blob lock").get(key).map(|(b, _)| b.clone()))
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        if self.fail_puts.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(BlobError::Unavailable("injected failure".into()));
        }
        MemoryBlobs::put(self, key, bytes, content_type);
        Ok(())
    }
}

impl MemoryBlobs {
    /// Keys of every stored object.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.objects.lock().expect("blob lock").keys().cloned().collect();
        keys.sort();
        keys
    }
}

/// Notices kept in memory, newest last.
#[derive(Debug, Default)]
pub struct MemoryNotifier {
    pub sent: Mutex<Vec<Notice>>,
    /// While set, every send fails as an unavailable service would.
    pub fail_sends: std::sync::atomic::AtomicBool,
}

impl MemoryNotifier {
    /// The newest notice to `recipient`.
    pub fn last_to(&self, recipient: &str) -> Option<Notice> {
        self.sent.lock().expect("notifier lock").iter().rev().find(|n| n.recipient == recipient).cloned()
    }
}

#[async_trait]
impl Notifier for MemoryNotifier {
    async fn send(&self, notice: &Notice) -> Result<(), NotifyError> {
        if self.fail_sends.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(NotifyError::Unavailable("injected failure".into()));
        }
        self.sent.lock().expect("notifier lock").push(notice.clone());
        Ok(())
    }
}

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    pub fn new(t: OffsetDateTime) -> Self {
        FixedClock(Mutex::new(t))
    }
    pub fn advance(&self, d: time::Duration) {
        *self.0.lock().expect("clock lock") += d;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("clock lock")
    }
}

/// The key service and CA in memory, with real keys and certificates (esign-pki on local keys):
/// a root, an issuing CA and a TSA made on first use, seal keys generated on request. Failures
/// can be injected.
#[derive(Default)]
pub struct FakeAuthority {
    keys: Mutex<Vec<(String, KeyAlgorithm, bool)>>,
    /// PKCS#8 PEM of each seal key, by key id.
    secrets: Mutex<HashMap<String, String>>,
    ca: tokio::sync::OnceCell<LocalCa>,
    pub fail_issuance: std::sync::atomic::AtomicBool,
    /// When set, every signature made with a seal key fails (a KMS outage mid-signing).
    pub fail_signing: std::sync::atomic::AtomicBool,
    /// When set, the time-stamp authority is down.
    pub fail_timestamps: std::sync::atomic::AtomicBool,
}

struct LocalCa {
    root_key: esign_pki::LocalKeySigner,
    root: esign_pki::Certificate,
    issuing: esign_pki::LocalKeySigner,
    issuing_cert: esign_pki::Certificate,
    ocsp: esign_pki::ocsp::OcspResponder,
    /// The evidence seal's key (PKCS#8 PEM) and its certificate then the issuing CA (PEM).
    evidence_key_pem: String,
    evidence_chain_pem: String,
    /// Issuing CA then root.
    chain_pem: String,
    /// Root then issuing CA.
    ca_pem: String,
    tsa: esign_pki::TimeStampAuthority,
}

impl std::fmt::Debug for FakeAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAuthority").field("keys", &self.keys()).finish_non_exhaustive()
    }
}

fn pki_err(e: impl std::fmt::Display) -> AuthorityError {
    AuthorityError::Failed(e.to_string())
}

fn to_pem(c: &esign_pki::Certificate) -> Result<String, AuthorityError> {
    use esign_pki::der::EncodePem as _;
    c.to_pem(esign_pki::der::pem::LineEnding::LF).map_err(pki_err)
}

impl LocalCa {
    async fn new() -> Result<Self, AuthorityError> {
        use esign_pki::cert::{self, CaSubject};
        use esign_pki::{KeySigner as _, LocalKeySigner};
        let now = OffsetDateTime::now_utc();
        let subject = |cn: &str| CaSubject {
            common_name: cn.into(),
            organization: Some("Test Seal Platform".into()),
            country: Some("CN".into()),
        };
        let root_key = LocalKeySigner::generate_p256().map_err(pki_err)?;
        let root =
            cert::root_ca_certificate(&root_key, &subject("Test Root CA"), cert::root_validity(now).map_err(pki_err)?)
                .await
                .map_err(pki_err)?;
        let issuing = LocalKeySigner::generate_p256().map_err(pki_err)?;
        let issuing_cert = cert::issuing_ca_certificate(
            &root_key,
            &root,
            &issuing.public_key().await.map_err(pki_err)?,
            &subject("Test Issuing CA"),
            cert::issuing_validity(now, &root).map_err(pki_err)?,
        )
        .await
        .map_err(pki_err)?;
        let tsa_key = std::sync::Arc::new(LocalKeySigner::generate_p256().map_err(pki_err)?);
        let tsa_cert = cert::tsa_certificate(
            &issuing,
            &issuing_cert,
            &tsa_key.public_key().await.map_err(pki_err)?,
            &subject("Test TSA"),
            cert::tsa_validity(now, &issuing_cert).map_err(pki_err)?,
        )
        .await
        .map_err(pki_err)?;
        let policy = esign_pki::const_oid::ObjectIdentifier::new_unwrap("1.2.3.4.1");
        let tsa = esign_pki::TimeStampAuthority::new(tsa_key, vec![tsa_cert, issuing_cert.clone()], policy)
            .await
            .map_err(pki_err)?;
        let ocsp_key = std::sync::Arc::new(LocalKeySigner::generate_p256().map_err(pki_err)?);
        let ocsp_cert = cert::ocsp_responder_certificate(
            &issuing,
            &issuing_cert,
            &ocsp_key.public_key().await.map_err(pki_err)?,
            &subject("Test OCSP Responder"),
            cert::ocsp_validity(now, &issuing_cert).map_err(pki_err)?,
        )
        .await
        .map_err(pki_err)?;
        let ocsp =
            esign_pki::ocsp::OcspResponder::new(ocsp_key, ocsp_cert, issuing_cert.clone()).await.map_err(pki_err)?;
        let evidence_key = LocalKeySigner::generate_p256().map_err(pki_err)?;
        let evidence_cert = cert::evidence_seal_certificate(
            &issuing,
            &issuing_cert,
            &evidence_key.public_key().await.map_err(pki_err)?,
            &subject("Test Evidence Seal"),
            cert::random_serial(),
            cert::seal_validity(now, None, &issuing_cert).map_err(pki_err)?,
            &cert::Publication::default(),
        )
        .await
        .map_err(pki_err)?;
        Ok(LocalCa {
            evidence_key_pem: evidence_key.to_pkcs8_pem().map_err(pki_err)?,
            evidence_chain_pem: to_pem(&evidence_cert)? + &to_pem(&issuing_cert)?,
            chain_pem: to_pem(&issuing_cert)? + &to_pem(&root)?,
            ca_pem: to_pem(&root)? + &to_pem(&issuing_cert)?,
            root_key,
            root,
            ocsp,
            issuing,
            issuing_cert,
            tsa,
        })
    }
}

impl FakeAuthority {
    pub fn keys(&self) -> Vec<(String, KeyAlgorithm, bool)> {
        self.keys.lock().expect("authority lock").clone()
    }

    async fn ca(&self) -> Result<&LocalCa, AuthorityError> {
        self.ca.get_or_try_init(LocalCa::new).await
    }

    fn secret(&self, key_id: &str) -> Result<String, AuthorityError> {
        self.secrets
            .lock()
            .expect("authority lock")
            .get(key_id)
            .cloned()
            .ok_or_else(|| AuthorityError::Failed(format!("no key {key_id}")))
    }
}

#[async_trait]
impl SealAuthority for FakeAuthority {
    async fn create_seal_key(&self, algorithm: KeyAlgorithm, _description: &str) -> Result<String, AuthorityError> {
        let key = match algorithm {
            KeyAlgorithm::EcdsaP256 => esign_pki::LocalKeySigner::generate_p256(),
            KeyAlgorithm::Rsa2048 => esign_pki::LocalKeySigner::generate_rsa(2048),
        }
        .map_err(pki_err)?;
        let mut keys = self.keys.lock().expect("authority lock");
        let id = format!("fake-key-{}", keys.len() + 1);
        keys.push((id.clone(), algorithm, false));
        self.secrets.lock().expect("authority lock").insert(id.clone(), key.to_pkcs8_pem().map_err(pki_err)?);
        Ok(id)
    }

    async fn issue_seal_certificate(
        &self,
        key_id: &str,
        subject: &SealSubject,
        not_after: OffsetDateTime,
    ) -> Result<IssuedCertificate, AuthorityError> {
        use esign_pki::KeySigner as _;
        if self.fail_issuance.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(AuthorityError::Unavailable("injected failure".into()));
        }
        let ca = self.ca().await?;
        let key = esign_pki::LocalKeySigner::from_pkcs8_pem(&self.secret(key_id)?).map_err(pki_err)?;
        let validity = esign_pki::cert::seal_validity(OffsetDateTime::now_utc(), Some(not_after), &ca.issuing_cert)
            .map_err(pki_err)?;
        let serial = esign_pki::cert::random_serial();
        let cert = esign_pki::cert::seal_certificate(
            &ca.issuing,
            &ca.issuing_cert,
            &key.public_key().await.map_err(pki_err)?,
            &esign_pki::cert::SealSubject::new(&subject.company_name, &subject.uscc, &subject.seal_name),
            serial.clone(),
            validity,
        )
        .await
        .map_err(pki_err)?;
        Ok(IssuedCertificate {
            serial: hex::encode(serial.as_bytes()),
            not_before: validity.not_before,
            not_after: validity.not_after,
            pem: to_pem(&cert)?,
            chain_pem: ca.chain_pem.clone(),
        })
    }

    async fn ca_certificates_pem(&self) -> Result<String, AuthorityError> {
        Ok(self.ca().await?.ca_pem.clone())
    }

    async fn timestamp(&self, request: &[u8]) -> Result<Vec<u8>, AuthorityError> {
        if self.fail_timestamps.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(AuthorityError::Unavailable("injected TSA failure".into()));
        }
        Ok(self.ca().await?.tsa.respond(request).await)
    }

    async fn disable_key(&self, key_id: &str) -> Result<(), AuthorityError> {
        for k in self.keys.lock().expect("authority lock").iter_mut() {
            if k.0 == key_id {
                k.2 = true;
            }
        }
        Ok(())
    }

    async fn seal_signer(&self, key_id: &str, chain_pem: &str) -> Result<Box<dyn esign_pades::Signer>, AuthorityError> {
        if self.keys().iter().any(|k| k.0 == key_id && k.2) {
            return Err(AuthorityError::Failed(format!("key {key_id} is disabled")));
        }
        let signer = esign_pades::LocalSigner::from_pem(&self.secret(key_id)?, chain_pem, None).map_err(pki_err)?;
        if self.fail_signing.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(Box::new(FailingSigner(signer)));
        }
        Ok(Box::new(signer))
    }

    async fn evidence_signer(&self) -> Result<Box<dyn esign_pades::Signer>, AuthorityError> {
        let ca = self.ca().await?;
        let signer =
            esign_pades::LocalSigner::from_pem(&ca.evidence_key_pem, &ca.evidence_chain_pem, None).map_err(pki_err)?;
        Ok(Box::new(signer))
    }

    async fn issuing_certificate_der(&self) -> Result<Vec<u8>, AuthorityError> {
        use esign_pki::der::Encode as _;
        self.ca().await?.issuing_cert.to_der().map_err(pki_err)
    }

    async fn sign_crl(
        &self,
        issuer: crate::ports::CaLevel,
        content: &esign_pki::crl::CrlContent,
    ) -> Result<Vec<u8>, AuthorityError> {
        use esign_pki::der::Encode as _;
        let ca = self.ca().await?;
        let crl = match issuer {
            crate::ports::CaLevel::Root => esign_pki::crl::sign_crl(&ca.root_key, &ca.root, content).await,
            crate::ports::CaLevel::Issuing => esign_pki::crl::sign_crl(&ca.issuing, &ca.issuing_cert, content).await,
        }
        .map_err(pki_err)?;
        crl.to_der().map_err(pki_err)
    }

    async fn ocsp_respond(
        &self,
        request: &esign_pki::ocsp::ParsedRequest,
        statuses: &[esign_pki::ocsp::OcspStatus],
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, AuthorityError> {
        self.ca().await?.ocsp.respond(request, statuses, now).await.map_err(pki_err)
    }
}

/// A signer whose key service is down: it knows its certificates but every signature fails.
pub struct FailingSigner<S>(pub S);

#[async_trait]
impl<S: esign_pades::Signer> esign_pades::Signer for FailingSigner<S> {
    fn algorithm(&self) -> esign_pades::SignatureAlgorithm {
        self.0.algorithm()
    }
    fn certificate_chain(&self) -> &[esign_pki::Certificate] {
        self.0.certificate_chain()
    }
    async fn sign(&self, _signed_attributes_der: &[u8]) -> Result<Vec<u8>, esign_pades::PadesError> {
        Err(esign_pades::PadesError::Signer("the key service is unavailable (injected failure)".into()))
    }
}

/// A [`Queue`] in memory: messages with their delays, taken by tests in order.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    pub messages: Mutex<std::collections::VecDeque<(String, Duration)>>,
    /// When set, [`Queue::send`] fails.
    pub fail_sends: std::sync::atomic::AtomicBool,
}

impl MemoryQueue {
    /// Takes the oldest message.
    pub fn pop(&self) -> Option<(String, Duration)> {
        self.messages.lock().expect("queue lock").pop_front()
    }
    pub fn len(&self) -> usize {
        self.messages.lock().expect("queue lock").len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        if self.fail_sends.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(QueueError::Unavailable("injected failure".into()));
        }
        self.messages.lock().expect("queue lock").push_back((body.to_owned(), delay));
        Ok(())
    }
}

/// A [`SecretBox`] with AES-256-GCM under a key of its own (the context is the associated data).
pub struct MemorySecretBox {
    key: [u8; 32],
}

impl Default for MemorySecretBox {
    fn default() -> Self {
        use rand::Rng as _;
        let mut key = [0u8; 32];
        rand::rng().fill(&mut key);
        MemorySecretBox { key }
    }
}

#[async_trait]
impl SecretBox for MemorySecretBox {
    async fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, SecretError> {
        crate::aead::seal(&self.key, plaintext, context.as_bytes()).map_err(|e| SecretError::Unavailable(e.to_string()))
    }

    async fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SecretError> {
        crate::aead::open(&self.key, sealed, context.as_bytes())
            .ok_or_else(|| SecretError::Corrupt("wrong key or context".into()))
    }
}

/// A [`WebhookSender`] that records every POST and answers from a script (200 when it runs
/// out); host names resolve from a table (unknown names: 93.184.216.34, a public address).
#[derive(Debug, Default)]
pub struct FakeSender {
    pub sent: Mutex<Vec<OutgoingPost>>,
    /// Answers to give, first first: a status, or `None` for a timeout.
    pub script: Mutex<std::collections::VecDeque<Option<u16>>>,
    pub hosts: Mutex<HashMap<String, Vec<std::net::IpAddr>>>,
}

impl FakeSender {
    pub fn answer(&self, answers: &[Option<u16>]) {
        self.script.lock().expect("sender lock").extend(answers.iter().copied());
    }
    pub fn resolve_to(&self, host: &str, addrs: &[&str]) {
        let ips = addrs.iter().filter_map(|a| a.parse().ok()).collect();
        self.hosts.lock().expect("sender lock").insert(host.to_owned(), ips);
    }
    pub fn sent(&self) -> Vec<OutgoingPost> {
        self.sent.lock().expect("sender lock").clone()
    }
}

#[async_trait]
impl WebhookSender for FakeSender {
    async fn resolve(&self, host: &str, _port: u16) -> Result<Vec<std::net::IpAddr>, SendError> {
        Ok(self
            .hosts
            .lock()
            .expect("sender lock")
            .get(host)
            .cloned()
            .unwrap_or_else(|| vec![std::net::IpAddr::from([93, 184, 216, 34])]))
    }

    async fn post(&self, request: &OutgoingPost) -> Result<u16, SendError> {
        self.sent.lock().expect("sender lock").push(request.clone());
        match self.script.lock().expect("sender lock").pop_front() {
            None => Ok(200),
            Some(Some(status)) => Ok(status),
            Some(None) => Err(SendError::Timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn increments_below_a_limit_only_and_keep_the_version() {
        let store = std::sync::Arc::new(MemoryStore::default());
        let key = Key::new("OTP#1", "OTP");
        assert_eq!(store.increment_below(&key, "attempts", 5).await, Err(StoreError::Conflict), "no record");
        store.write(vec![Write::create(Record::new(key.clone(), serde_json::json!({"used": false})))]).await.unwrap();
        // Many at once: exactly five succeed.
        let tries = (0..40).map(|_| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move { store.increment_below(&key, "attempts", 5).await })
        });
        let mut won: Vec<i64> = Vec::new();
        for t in tries {
            match t.await.unwrap() {
                Ok(n) => won.push(n),
                Err(e) => assert_eq!(e, StoreError::Conflict),
            }
        }
        won.sort_unstable();
        assert_eq!(won, [1, 2, 3, 4, 5]);
        let r = store.get(&key).await.unwrap().unwrap();
        assert_eq!((r.version, &r.data["attempts"]), (1, &serde_json::json!(5)));
    }
}
