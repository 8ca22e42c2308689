//! Audit trails: an append-only, hash-chained list of events per subject (an enterprise, later a
//! contract). Each event's hash covers its content and the previous event's hash, so any edit or
//! deletion of an earlier event breaks every later link. Events are appended in the same atomic
//! write as the state change they record. The head record names the last event, so deleting the
//! newest events shows too; and heads are time-stamped by the platform TSA from time to time
//! ([`Anchor`]), so even a rewrite of the head and of the events since an anchor is detected.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::ports::{Condition, Key, Partition, Position, Query, Record, RecordStore, StoreError, Write};

/// Hash of the (absent) event before the first one.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Member,
    Operator,
    System,
    /// Somebody not yet authenticated (e.g. the registration request itself).
    Anonymous,
}

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<String>,
}

impl Actor {
    pub fn member(id: &str) -> Self {
        Actor { kind: ActorKind::Member, id: Some(id.to_owned()) }
    }
    pub fn operator(id: &str) -> Self {
        Actor { kind: ActorKind::Operator, id: Some(id.to_owned()) }
    }
    pub fn anonymous() -> Self {
        Actor { kind: ActorKind::Anonymous, id: None }
    }
}

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub action: String,
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// The hash this event must carry: SHA-256 over the canonical JSON of every other field
    /// (serde_json orders object keys, so the encoding is deterministic).
    pub fn compute_hash(&self) -> String {
        let body = serde_json::json!({
            "seq": self.seq,
            "at": self.at.unix_timestamp_nanos().to_string(),
            "actor": self.actor,
            "action": self.action,
            "details": self.details,
            "prev_hash": self.prev_hash,
        });
        hex::encode(Sha256::digest(body.to_string().as_bytes()))
    }
}

/// The last link of a trail, read before appending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    subject: String,
    seq: u64,
    hash: String,
    version: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct HeadData {
    seq: u64,
    hash: String,
    #[serde(default)]
    subject: String,
}

/// A trail head's seq and hash time-stamped by the platform TSA: from then on, the trail must
/// hold an event `seq` with this hash, whatever else is changed in the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub seq: u64,
    pub hash: String,
    /// The RFC 3161 time-stamp token over [`anchor_digest`], base64 (DER).
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub anchored_at: OffsetDateTime,
}

/// What an anchor's time stamp covers: the subject, the event number and its hash.
pub fn anchor_digest(subject: &str, seq: u64, hash: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"esign audit anchor v1\0")
        .chain_update(subject.as_bytes())
        .chain_update([0])
        .chain_update(seq.to_be_bytes())
        .chain_update(hash.as_bytes())
        .finalize()
        .into()
}

/// Where trail heads changed in the hour of `at` are listed, for the anchoring job.
pub fn heads_partition(at: OffsetDateTime) -> String {
    format!("AUDITHEADS#{:04}{:02}{:02}{:02}", at.year(), u8::from(at.month()), at.day(), at.hour())
}

/// A trail's head as listed for anchoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedHead {
    pub subject: String,
    pub seq: u64,
    pub hash: String,
}

impl ListedHead {
    pub fn from_record(r: &Record) -> Result<Self, StoreError> {
        let d: HeadData = r.decode()?;
        Ok(ListedHead { subject: d.subject, seq: d.seq, hash: d.hash })
    }
}

pub fn anchor_key(subject: &str, seq: u64) -> Key {
    Key::new(partition(subject), format!("ANCHOR#{seq:012}"))
}

fn partition(subject: &str) -> String {
    format!("AUDIT#{subject}")
}

/// The sort key of the record naming who may read a trail, in the trail's own partition.
const READERS: &str = "READERS";

#[derive(Serialize, Deserialize)]
struct ReadersData {
    enterprise_ids: Vec<String>,
}

/// The record naming the enterprises that may read `subject`'s trail. Kept in the trail's own
/// partition, so the one query that reads a trail also says who may read it; written in the same
/// transaction as whatever changes who that is.
pub fn readers_record(subject: &str, enterprise_ids: &[String]) -> Record {
    let data = serde_json::json!(ReadersData { enterprise_ids: enterprise_ids.to_vec() });
    Record::new(Key::new(partition(subject), READERS), data)
}

fn head_key(subject: &str) -> Key {
    Key::new(partition(subject), "HEAD")
}

fn event_key(subject: &str, seq: u64) -> Key {
    Key::new(partition(subject), format!("EVENT#{seq:012}"))
}

impl Head {
    /// The head of a trail that has no event yet.
    pub fn empty(subject: &str) -> Self {
        Head { subject: subject.to_owned(), seq: 0, hash: GENESIS.to_owned(), version: None }
    }

    /// The number of the last event (0 for a trail with none).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Reads the current head of `subject`'s trail.
    pub async fn load(store: &dyn RecordStore, subject: &str) -> Result<Self, StoreError> {
        Self::from_record(subject, store.get(&Self::key(subject)).await?)
    }

    /// Where the head of `subject`'s trail is stored (to read it with other records at once).
    pub fn key(subject: &str) -> Key {
        head_key(subject)
    }

    /// The head of `subject`'s trail from its record as read at [`Head::key`] (none: empty).
    pub fn from_record(subject: &str, record: Option<Record>) -> Result<Self, StoreError> {
        match record {
            None => Ok(Head::empty(subject)),
            Some(r) => {
                let d: HeadData = r.decode()?;
                Ok(Head { subject: subject.to_owned(), seq: d.seq, hash: d.hash, version: Some(r.version) })
            }
        }
    }

    /// Adds to `writes` the records that append one event, conditional on this head still being
    /// the head; returns the head after the event so several events can be chained in one write.
    pub fn append(
        &self,
        writes: &mut Vec<Write>,
        at: OffsetDateTime,
        actor: Actor,
        action: &str,
        details: serde_json::Value,
    ) -> (Head, AuditEvent) {
        let mut event = AuditEvent {
            seq: self.seq + 1,
            at,
            actor,
            action: action.to_owned(),
            details,
            prev_hash: self.hash.clone(),
            hash: String::new(),
        };
        event.hash = event.compute_hash();
        let event_data = serde_json::to_value(&event).expect("audit events serialize");
        writes.push(Write::Put {
            record: Record::new(event_key(&self.subject, event.seq), event_data),
            condition: Condition::NotExists,
        });
        // Only the first append of a batch writes the head with a condition on the stored one;
        // later appends in the same batch replace that head write.
        let (condition, version) = match self.version {
            None => (Condition::NotExists, 1),
            Some(v) => (Condition::Version(v), v + 1),
        };
        let head_data =
            serde_json::json!(HeadData { seq: event.seq, hash: event.hash.clone(), subject: self.subject.clone() });
        let hk = head_key(&self.subject);
        let mut head_record = Record::new(hk.clone(), head_data);
        head_record.version = version;
        // Listed by the hour it changed in, so the anchoring job finds the heads that moved.
        head_record.index = Some(Key::new(heads_partition(at), self.subject.clone()));
        if let Some(existing) = writes.iter_mut().find(|w| matches!(w, Write::Put { record, .. } if record.key == hk)) {
            if let Write::Put { record, .. } = existing {
                record.data = head_record.data;
                record.index = head_record.index;
            }
        } else {
            writes.push(Write::Put { record: head_record, condition });
        }
        let next =
            Head { subject: self.subject.clone(), seq: event.seq, hash: event.hash.clone(), version: self.version };
        (next, event)
    }
}

/// Every record of a trail's partition whose sort key starts with `prefix`, oldest first.
async fn load_prefixed<T: serde::de::DeserializeOwned>(
    store: &dyn RecordStore,
    subject: &str,
    prefix: &str,
) -> Result<Vec<T>, StoreError> {
    let mut items = Vec::new();
    let mut after: Option<Position> = None;
    loop {
        let page = store
            .query(&Query {
                partition: Partition::Table(partition(subject)),
                prefix: prefix.into(),
                after: after.take(),
                limit: 500,
                descending: false,
            })
            .await?;
        for r in &page.records {
            items.push(r.decode::<T>()?);
        }
        match page.next {
            Some(p) => after = Some(p),
            None => return Ok(items),
        }
    }
}

/// Every event of a trail, oldest first.
pub async fn load_all(store: &dyn RecordStore, subject: &str) -> Result<Vec<AuditEvent>, StoreError> {
    load_prefixed(store, subject, "EVENT#").await
}

/// A whole trail as stored: its events, its head and its anchors.
#[derive(Debug, Clone)]
pub struct Trail {
    pub subject: String,
    pub events: Vec<AuditEvent>,
    head: Option<(u64, String)>,
    pub anchors: Vec<Anchor>,
    /// The enterprises that may read the trail, when its partition names them ([`readers_record`]).
    pub readers: Option<Vec<String>>,
}

impl Trail {
    /// Reads the whole trail in one query of its partition (paged when long): its anchors,
    /// events, head and readers sort in that order under their sort keys.
    pub async fn load(store: &dyn RecordStore, subject: &str) -> Result<Self, StoreError> {
        let mut trail =
            Trail { subject: subject.to_owned(), events: Vec::new(), head: None, anchors: Vec::new(), readers: None };
        let mut after: Option<Position> = None;
        loop {
            let page = store
                .query(&Query {
                    partition: Partition::Table(partition(subject)),
                    prefix: String::new(),
                    after: after.take(),
                    limit: 500,
                    descending: false,
                })
                .await?;
            for r in &page.records {
                let sk = r.key.sk.as_str();
                if sk.starts_with("EVENT#") {
                    trail.events.push(r.decode()?);
                } else if sk.starts_with("ANCHOR#") {
                    trail.anchors.push(r.decode()?);
                } else if sk == "HEAD" {
                    let d: HeadData = r.decode()?;
                    trail.head = Some((d.seq, d.hash));
                } else if sk == READERS {
                    let d: ReadersData = r.decode()?;
                    trail.readers = Some(d.enterprise_ids);
                }
            }
            match page.next {
                Some(p) => after = Some(p),
                None => return Ok(trail),
            }
        }
    }

    /// Whether the trail is whole: an unbroken chain from the genesis that ends exactly at the
    /// head, and holds every anchored event, each anchor's token verified by `token_valid`
    /// (called with the token's DER and the digest it must cover).
    pub fn intact(&self, token_valid: impl Fn(&[u8], &[u8; 32]) -> bool) -> bool {
        if !chain_intact(&self.events) {
            return false;
        }
        let last = self.events.last().map(|e| (e.seq, e.hash.clone()));
        if last != self.head {
            return false;
        }
        self.anchors.iter().all(|a| {
            let held = a
                .seq
                .checked_sub(1)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| self.events.get(i))
                .is_some_and(|e| e.hash == a.hash);
            let token = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &a.token);
            held && token.is_ok_and(|t| token_valid(&t, &anchor_digest(&self.subject, a.seq, &a.hash)))
        })
    }
}

/// Whether the events form an unbroken chain from the genesis: consecutive numbers, each hash
/// right, each linked to its predecessor.
pub fn chain_intact(events: &[AuditEvent]) -> bool {
    let mut prev = GENESIS;
    for (i, e) in events.iter().enumerate() {
        if e.seq != i as u64 + 1 || e.prev_hash != prev || e.compute_hash() != e.hash {
            return false;
        }
        prev = &e.hash;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;

    #[tokio::test]
    async fn appended_events_chain_and_tampering_is_detected() {
        let store = MemoryStore::default();
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        for i in 0..3 {
            let head = Head::load(&store, "ENT#e1").await.unwrap();
            let mut w = Vec::new();
            head.append(&mut w, t, Actor::member("m1"), "did", serde_json::json!({"i": i}));
            store.write(w).await.unwrap();
        }
        let mut events = load_all(&store, "ENT#e1").await.unwrap();
        assert_eq!(events.len(), 3);
        assert!(chain_intact(&events));
        events[1].details = serde_json::json!({"i": 99});
        assert!(!chain_intact(&events));
        let mut shorter = load_all(&store, "ENT#e1").await.unwrap();
        shorter.remove(1);
        assert!(!chain_intact(&shorter));
    }

    #[tokio::test]
    async fn deleting_the_newest_events_or_an_anchored_one_shows() {
        let store = MemoryStore::default();
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        for i in 0..3 {
            let head = Head::load(&store, "S").await.unwrap();
            let mut w = Vec::new();
            head.append(&mut w, t, Actor::member("m1"), "did", serde_json::json!({"i": i}));
            store.write(w).await.unwrap();
        }
        let any_token = |_: &[u8], _: &[u8; 32]| true;
        assert!(Trail::load(&store, "S").await.unwrap().intact(any_token));
        // The newest event removed: the chain itself is still unbroken, but the head says 3.
        store.write(vec![Write::Delete { key: event_key("S", 3), condition: Condition::Always }]).await.unwrap();
        let trail = Trail::load(&store, "S").await.unwrap();
        assert!(chain_intact(&trail.events));
        assert!(!trail.intact(any_token));
        // The head rewritten to match: an anchor of event 3 still tells.
        let head = Head::load(&store, "S").await.unwrap();
        let e2 = trail.events[1].clone();
        let mut rewritten = Record::new(head_key("S"), serde_json::json!({"seq": 2, "hash": e2.hash, "subject": "S"}));
        rewritten.version = head.version.unwrap() + 1;
        let anchor = Anchor { seq: 3, hash: "h3".into(), token: "AA==".into(), anchored_at: t };
        store
            .write(vec![
                Write::Put { record: rewritten, condition: Condition::Always },
                Write::Put {
                    record: Record::new(anchor_key("S", 3), serde_json::to_value(&anchor).unwrap()),
                    condition: Condition::NotExists,
                },
            ])
            .await
            .unwrap();
        let trail = Trail::load(&store, "S").await.unwrap();
        assert_eq!(trail.anchors.len(), 1);
        assert!(!trail.intact(any_token));
    }

    #[tokio::test]
    async fn a_stale_head_cannot_append() {
        let store = MemoryStore::default();
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let stale = Head::load(&store, "S").await.unwrap();
        let mut w = Vec::new();
        stale.append(&mut w, t, Actor::anonymous(), "first", serde_json::Value::Null);
        store.write(w).await.unwrap();
        let mut w = Vec::new();
        stale.append(&mut w, t, Actor::anonymous(), "racing", serde_json::Value::Null);
        assert_eq!(store.write(w).await, Err(StoreError::Conflict));
    }

    #[tokio::test]
    async fn two_events_in_one_write() {
        let store = MemoryStore::default();
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let head = Head::load(&store, "S").await.unwrap();
        let mut w = Vec::new();
        let (h2, _) = head.append(&mut w, t, Actor::anonymous(), "a", serde_json::Value::Null);
        h2.append(&mut w, t, Actor::anonymous(), "b", serde_json::Value::Null);
        store.write(w).await.unwrap();
        let events = load_all(&store, "S").await.unwrap();
        assert_eq!(events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert!(chain_intact(&events));
        let head = Head::load(&store, "S").await.unwrap();
        assert_eq!(head.seq, 2);
    }
}
