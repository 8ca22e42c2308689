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
            page.last().map(|r| Position { key: r.key.clone(), index: r.index.clone() })
        } else {
            None
        };
        Ok(RecordPage { records: page, next })
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let mut records = self.records.lock().expect("store lock");
        for w in &writes {
            let (key, cond) = match w {
                Write::Put { record, condition } => (&record.key, *condition),
                Write::Delete { key, condition } => (key, *condition),
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
            }
        }
        Ok(())
    }
}

/// A [`BlobStore`] in memory; presigned URLs point at a fake host and tests put bytes directly.
#[derive(Debug, Default)]
pub struct MemoryBlobs {
    objects: Mutex<HashMap<String, (Vec<u8>, String)>>,
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

/// A stand-in for the key service and CA in unit tests of the use cases: it hands out key ids
/// and records what it was asked, with placeholder certificates. Real certificates come from the
/// KMS-backed CA in `esign-aws`, tested against the emulator and openssl.
#[derive(Debug, Default)]
pub struct FakeAuthority {
    keys: Mutex<Vec<(String, KeyAlgorithm, bool)>>,
    /// When set, certificate issuance fails (to test that nothing half-done remains).
    pub fail_issuance: std::sync::atomic::AtomicBool,
}

impl FakeAuthority {
    /// Keys created so far: (id, algorithm, disabled).
    pub fn keys(&self) -> Vec<(String, KeyAlgorithm, bool)> {
        self.keys.lock().expect("authority lock").clone()
    }
}

#[async_trait]
impl SealAuthority for FakeAuthority {
    async fn create_seal_key(&self, algorithm: KeyAlgorithm, _description: &str) -> Result<String, AuthorityError> {
        let mut keys = self.keys.lock().expect("authority lock");
        let id = format!("fake-key-{}", keys.len() + 1);
        keys.push((id.clone(), algorithm, false));
        Ok(id)
    }

    async fn issue_seal_certificate(
        &self,
        key_id: &str,
        subject: &SealSubject,
        not_after: OffsetDateTime,
    ) -> Result<IssuedCertificate, AuthorityError> {
        if self.fail_issuance.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(AuthorityError::Unavailable("injected failure".into()));
        }
        Ok(IssuedCertificate {
            serial: format!("{:x}", key_id.len()),
            not_before: not_after - time::Duration::days(730),
            not_after,
            pem: format!("fake certificate for {} / {} / {}", subject.company_name, subject.uscc, subject.seal_name),
            chain_pem: String::new(),
        })
    }

    async fn ca_certificates_pem(&self) -> Result<String, AuthorityError> {
        Ok(String::new())
    }

    async fn timestamp(&self, _request: &[u8]) -> Result<Vec<u8>, AuthorityError> {
        Err(AuthorityError::Unavailable("the fake authority has no TSA".into()))
    }

    async fn disable_key(&self, key_id: &str) -> Result<(), AuthorityError> {
        for k in self.keys.lock().expect("authority lock").iter_mut() {
            if k.0 == key_id {
                k.2 = true;
            }
        }
        Ok(())
    }
}
