//! `Idempotency-Key` support for writes: the first request with a key claims it, runs, and
//! stores its answer; a retry with the same key and the same request gets that answer again
//! instead of acting twice; the same key with a different request is refused.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::DomainError;
use crate::platform::Platform;
use crate::ports::{Condition, Key, Record, StoreError, Write};

/// How long a key is remembered.
const RETENTION_SECS: i64 = 24 * 3600;

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
    response: Option<StoredResponse>,
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
#[derive(Debug)]
pub struct Ticket {
    key: Key,
    fingerprint: String,
}

/// Checks a client's key: 1 to 255 visible ASCII characters.
pub fn valid_key(k: &str) -> bool {
    (1..=255).contains(&k.len()) && k.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

impl Platform {
    /// Claims `key` for this request. `scope` separates callers (a member id, or for anonymous
    /// calls a value derived from the request); `fingerprint` identifies the request's content.
    pub async fn idempotency_claim(&self, scope: &str, key: &str, request: &[u8]) -> Result<Claim, DomainError> {
        if !valid_key(key) {
            return Err(DomainError::invalid("Idempotency-Key", "invalid", "1 to 255 visible ASCII characters"));
        }
        let fingerprint = hex::encode(Sha256::digest(request));
        let rkey = Key::new(format!("IDEM#{scope}#{key}"), "IDEM");
        let mut record = Record::new(
            rkey.clone(),
            serde_json::to_value(Entry { fingerprint: fingerprint.clone(), response: None })
                .map_err(crate::enterprises::internal)?,
        );
        record.expires_at = Some(self.clock.now().unix_timestamp() + RETENTION_SECS);
        match self.store.write(vec![Write::Put { record, condition: Condition::NotExists }]).await {
            Ok(()) => Ok(Claim::Proceed(Ticket { key: rkey, fingerprint })),
            Err(StoreError::Conflict) => {
                let existing = self.store.get(&rkey).await?;
                let entry: Option<Entry> = existing.map(|r| r.decode()).transpose()?;
                match entry {
                    Some(e) if e.fingerprint != fingerprint => Err(DomainError::IdempotencyKeyReused),
                    Some(Entry { response: Some(r), .. }) => Ok(Claim::Replay(r)),
                    _ => Err(DomainError::IdempotencyInProgress),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Stores the answer of a claimed request. Answers that say the server failed are not kept:
    /// the key is released so the client can retry.
    pub async fn idempotency_finish(&self, ticket: Ticket, response: StoredResponse) -> Result<(), DomainError> {
        if response.status >= 500 {
            self.store.write(vec![Write::Delete { key: ticket.key, condition: Condition::Always }]).await?;
            return Ok(());
        }
        let mut record = Record::new(
            ticket.key,
            serde_json::to_value(Entry { fingerprint: ticket.fingerprint, response: Some(response) })
                .map_err(crate::enterprises::internal)?,
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
    async fn server_failures_release_the_key() {
        let (p, _) = platform();
        let Claim::Proceed(t) = p.idempotency_claim("m1", "k", b"r").await.unwrap() else { panic!() };
        let failed = StoredResponse { status: 503, content_type: "application/problem+json".into(), body: "{}".into() };
        p.idempotency_finish(t, failed).await.unwrap();
        assert!(matches!(p.idempotency_claim("m1", "k", b"r").await.unwrap(), Claim::Proceed(_)));
        assert!(!valid_key(""));
        assert!(!valid_key("has space"));
    }
}
