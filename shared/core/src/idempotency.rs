//! `Idempotency-Key` support for writes: the first request with a key claims it, runs, and
//! stores its answer; a retry with the same key and the same request gets that answer again
//! instead of acting twice; the same key with a different request is refused.
//!
//! Answers can carry one-time secrets (a new API key, a webhook signing secret), which the
//! platform otherwise keeps only as hashes. So the client's key is not stored: the record is
//! found by a hash of it, and the answer is sealed with AES-256-GCM under a key derived from it.
//! Reading the table reveals no answer; presenting the same Idempotency-Key again does.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::enterprises::internal;
use crate::error::DomainError;
use crate::platform::Platform;
use crate::ports::{Condition, Key, Record, StoreError, Write};

/// How long a key is remembered.
const RETENTION_SECS: i64 = 24 * 3600;
/// How long a claim holds without an answer: longer than any function runs (the API's limit is
/// 30 s). A request that crashed leaves a claim that the next retry takes over after this.
pub const CLAIM_DEADLINE_SECS: i64 = 120;

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    /// The answer, sealed ([`crate::aead`], base64).
    response: Option<String>,
    /// Unix seconds until which an unanswered claim blocks the key (0: a claim made before
    /// claims had deadlines, taken over at once).
    #[serde(default)]
    claimed_until: i64,
}

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum Claim {
    /// Run it, then call [`Platform::idempotency_finish`] with this ticket.
    Proceed(Ticket),
    /// It ran before: answer with this.
    Replay(StoredResponse),
}

/// A claimed key.
pub struct Ticket {
    key: Key,
    fingerprint: String,
    sealing_key: [u8; 32],
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket").field("key", &self.key).finish_non_exhaustive()
    }
}

/// Checks a client's key: 1 to 255 visible ASCII characters.
pub fn valid_key(k: &str) -> bool {
    (1..=255).contains(&k.len()) && k.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// Where the record of `key` lives: a hash of the scope and the key.
fn record_key(scope: &str, key: &str) -> Key {
    let id = Sha256::new().chain_update(scope).chain_update([0]).chain_update(key).finalize();
    Key::new(format!("IDEM#{}", hex::encode(id)), "IDEM")
}

/// The AES-256 key that seals the answer of `key`: an HMAC of the scope under the client's key,
/// which nothing stored reveals (the record key is a plain hash of other input).
fn sealing_key(scope: &str, key: &str) -> Result<[u8; 32], DomainError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .map_err(|e| DomainError::Internal(format!("idempotency key derivation: {e}")))?;
    mac.update(b"esign idempotent answer v1\0");
    mac.update(scope.as_bytes());
    Ok(mac.finalize().into_bytes().into())
}

/// What binds a sealed answer to its purpose.
const ANSWER_AAD: &[u8] = b"idempotent answer";

fn seal(key: &[u8; 32], response: &StoredResponse) -> Result<String, DomainError> {
    let plain = serde_json::to_vec(response).map_err(internal)?;
    let sealed = crate::aead::seal(key, &plain, ANSWER_AAD)
        .map_err(|e| DomainError::Internal(format!("sealing an idempotent answer: {e}")))?;
    Ok(STANDARD.encode(sealed))
}

fn open(key: &[u8; 32], sealed: &str) -> Result<StoredResponse, DomainError> {
    let broken = || DomainError::Internal("a stored idempotent answer is unreadable".into());
    let sealed = STANDARD.decode(sealed).map_err(|_| broken())?;
    let plain = crate::aead::open(key, &sealed, ANSWER_AAD).ok_or_else(broken)?;
    serde_json::from_slice(&plain).map_err(|_| broken())
}

impl Platform {
    /// Claims `key` for this request. `scope` separates callers (a member id, or for anonymous
    /// calls a value derived from the request); `request` is what identifies the request's content.
    pub async fn idempotency_claim(&self, scope: &str, key: &str, request: &[u8]) -> Result<Claim, DomainError> {
        if !valid_key(key) {
            return Err(DomainError::invalid("Idempotency-Key", "invalid", "1 to 255 visible ASCII characters"));
        }
        let fingerprint = hex::encode(Sha256::digest(request));
        let rkey = record_key(scope, key);
        let sealing_key = sealing_key(scope, key)?;
        let now = self.clock.now().unix_timestamp();
        let entry =
            Entry { fingerprint: fingerprint.clone(), response: None, claimed_until: now + CLAIM_DEADLINE_SECS };
        let mut record = Record::new(rkey.clone(), serde_json::to_value(entry).map_err(internal)?);
        record.expires_at = Some(now + RETENTION_SECS);
        let ticket = Ticket { key: rkey.clone(), fingerprint: fingerprint.clone(), sealing_key };
        match self.store.write(vec![Write::Put { record: record.clone(), condition: Condition::NotExists }]).await {
            Ok(()) => Ok(Claim::Proceed(ticket)),
            Err(StoreError::Conflict) => {
                let Some(existing) = self.store.get(&rkey).await? else {
                    return Err(DomainError::IdempotencyInProgress);
                };
                let entry: Entry = existing.decode()?;
                match entry {
                    e if e.fingerprint != fingerprint => Err(DomainError::IdempotencyKeyReused),
                    Entry { response: Some(sealed), .. } => Ok(Claim::Replay(open(&sealing_key, &sealed)?)),
                    // A claim past its deadline belongs to a request that died: take it over,
                    // unless another retry took it first.
                    Entry { claimed_until, .. } if claimed_until <= now => {
                        match self.store.write(vec![Write::replace(record, existing.version)]).await {
                            Ok(()) => Ok(Claim::Proceed(ticket)),
                            Err(StoreError::Conflict) => Err(DomainError::IdempotencyInProgress),
                            Err(e) => Err(e.into()),
                        }
                    }
                    _ => Err(DomainError::IdempotencyInProgress),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Stores the answer of a claimed request, sealed. Answers that say the server failed are not
    /// kept: the key is released so the client can retry.
    pub async fn idempotency_finish(&self, ticket: Ticket, response: StoredResponse) -> Result<(), DomainError> {
        if response.status >= 500 {
            self.store.write(vec![Write::Delete { key: ticket.key, condition: Condition::Always }]).await?;
            return Ok(());
        }
        let sealed = seal(&ticket.sealing_key, &response)?;
        let mut record = Record::new(
            ticket.key,
            serde_json::to_value(Entry { fingerprint: ticket.fingerprint, response: Some(sealed), claimed_until: 0 })
                .map_err(internal)?,
        );
        record.expires_at = Some(self.clock.now().unix_timestamp() + RETENTION_SECS);
        self.store.write(vec![Write::Put { record, condition: Condition::Always }]).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::platform;

    fn ok(body: &str) -> StoredResponse {
        StoredResponse { status: 201, content_type: "application/json".into(), body: body.into() }
    }

    #[tokio::test]
    async fn same_key_same_request_replays() {
        let (p, _) = platform();
        let Claim::Proceed(t) = p.idempotency_claim("m1", "k1", b"req").await.unwrap() else { panic!() };
        // While running, a retry is told to wait.
        assert!(matches!(p.idempotency_claim("m1", "k1", b"req").await, Err(DomainError::IdempotencyInProgress)));
        p.idempotency_finish(t, ok("{\"id\":1}")).await.unwrap();
        match p.idempotency_claim("m1", "k1", b"req").await.unwrap() {
            Claim::Replay(r) => assert_eq!(r, ok("{\"id\":1}")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(p.idempotency_claim("m1", "k1", b"other").await, Err(DomainError::IdempotencyKeyReused)));
        // Another caller's key space is separate.
        assert!(matches!(p.idempotency_claim("m2", "k1", b"req").await.unwrap(), Claim::Proceed(_)));
    }

    #[tokio::test]
    async fn a_claim_left_by_a_crashed_request_expires() {
        let t = crate::testing::full();
        let p = &t.platform;
        let Claim::Proceed(_abandoned) = p.idempotency_claim("m1", "k", b"r").await.unwrap() else { panic!() };
        assert!(matches!(p.idempotency_claim("m1", "k", b"r").await, Err(DomainError::IdempotencyInProgress)));
        t.clock.advance(time::Duration::seconds(CLAIM_DEADLINE_SECS + 1));
        let Claim::Proceed(ticket) = p.idempotency_claim("m1", "k", b"r").await.unwrap() else { panic!() };
        // The new claim holds again for its own deadline, and its answer is replayed.
        assert!(matches!(p.idempotency_claim("m1", "k", b"r").await, Err(DomainError::IdempotencyInProgress)));
        p.idempotency_finish(ticket, ok("{}")).await.unwrap();
        assert!(matches!(p.idempotency_claim("m1", "k", b"r").await.unwrap(), Claim::Replay(_)));
    }

    #[tokio::test]
    async fn server_failures_release_the_key() {
        let (p, _) = platform();
        let Claim::Proceed(t) = p.idempotency_claim("m1", "k", b"r").await.unwrap() else { panic!() };
        let failed = StoredResponse { status: 503, content_type: "application/problem+json".into(), body: "{}".into() };
        p.idempotency_finish(t, failed).await.unwrap();
        assert!(matches!(p.idempotency_claim("m1", "k", b"r").await.unwrap(), Claim::Proceed(_)));
        assert!(!valid_key(""));
        assert!(!valid_key("has space"));
    }

    #[tokio::test]
    async fn the_table_holds_neither_the_key_nor_the_answer() {
        let (p, _) = platform();
        let (key, secret) = ("0b9a3c1e-7f0d-4c55-9d1e-2f3a4b5c6d7e", "esk_live_THE-ONE-TIME-SECRET");
        let Claim::Proceed(t) = p.idempotency_claim("m1", key, b"req").await.unwrap() else { panic!() };
        p.idempotency_finish(t, ok(&format!("{{\"api_key\":\"{secret}\"}}"))).await.unwrap();
        let stored = p.store.get(&record_key("m1", key)).await.unwrap().expect("recorded");
        let dump = format!("{:?} {}", stored.key, stored.data);
        assert!(!dump.contains(key) && !dump.contains(secret) && !dump.contains("api_key"), "{dump}");
        // The same key opens it; the answer is intact.
        let Claim::Replay(r) = p.idempotency_claim("m1", key, b"req").await.unwrap() else { panic!() };
        assert!(r.body.contains(secret));
        // A record altered in the table is an error, never a forged answer.
        let mut tampered = stored.clone();
        let ct = tampered.data["response"].as_str().unwrap().to_owned();
        let flipped = match ct.strip_prefix('A') {
            Some(rest) => format!("B{rest}"),
            None => format!("A{}", &ct[1..]),
        };
        tampered.data["response"] = serde_json::Value::String(flipped);
        p.store.write(vec![Write::Put { record: tampered, condition: Condition::Always }]).await.unwrap();
        assert!(matches!(p.idempotency_claim("m1", key, b"req").await, Err(DomainError::Internal(_))));
    }
}
