//! The development outbox: a [`Notifier`] that keeps every notice as a record instead of sending
//! it, so tests and the demo read one-time codes the way a phone would. Only served in
//! development mode (`GET /v1/dev/outbox`).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::DomainError;
use crate::platform::{Mode, Platform};
use crate::ports::{Clock, Key, Notice, Notifier, NotifyError, Partition, Query, Record, RecordStore, Write};

const PARTITION: &str = "OUTBOX";

/// A notice as the outbox shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    #[serde(flatten)]
    pub notice: Notice,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Notices written to the record store.
pub struct RecordOutbox {
    store: Arc<dyn RecordStore>,
    clock: Arc<dyn Clock>,
}

impl RecordOutbox {
    pub fn new(store: Arc<dyn RecordStore>, clock: Arc<dyn Clock>) -> Self {
        RecordOutbox { store, clock }
    }
}

#[async_trait]
impl Notifier for RecordOutbox {
    async fn send(&self, notice: &Notice) -> Result<(), NotifyError> {
        let at = self.clock.now();
        let entry = OutboxEntry { notice: notice.clone(), at };
        let sk = format!("{:020}#{}", at.unix_timestamp_nanos(), uuid::Uuid::now_v7().simple());
        let mut record = Record::new(
            Key::new(PARTITION, sk),
            serde_json::to_value(entry).map_err(|e| NotifyError::Refused(e.to_string()))?,
        );
        record.expires_at = Some(at.unix_timestamp() + 86_400);
        self.store.write(vec![Write::create(record)]).await.map_err(|e| NotifyError::Unavailable(e.to_string()))
    }
}

impl Platform {
    /// The newest notices first, optionally only those to `recipient` (development mode only;
    /// otherwise the outbox does not exist). `limit` is a page's (1 to 100, default 20; else 422).
    pub async fn dev_outbox(
        &self,
        recipient: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Vec<OutboxEntry>, DomainError> {
        if self.config.mode != Mode::Development {
            return Err(DomainError::NotFound("route"));
        }
        let limit = crate::platform::page_limit(limit)?;
        let page = self
            .store
            .query(&Query {
                partition: Partition::Table(PARTITION.into()),
                prefix: String::new(),
                after: None,
                limit: 500,
                descending: true,
            })
            .await?;
        let mut out = Vec::new();
        for r in &page.records {
            let e: OutboxEntry = r.decode()?;
            if recipient.is_none_or(|to| to == e.notice.recipient) {
                out.push(e);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::DomainError;
    use crate::testing::platform;

    #[tokio::test]
    async fn a_limit_out_of_range_is_refused_as_on_every_list() {
        let (p, _) = platform();
        assert_eq!(p.dev_outbox(None, Some(100)).await, Ok(vec![]));
        for limit in [0, 101] {
            let Err(DomainError::Validation(e)) = p.dev_outbox(None, Some(limit)).await else { panic!("{limit}") };
            assert_eq!((e[0].field.as_str(), e[0].code.as_str()), ("limit", "range"));
        }
    }
}
