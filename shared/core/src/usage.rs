//! Usage metering for billing: per enterprise and calendar month (UTC), the signing acts, the
//! one-time codes sent and the bytes of documents stored. Counters are bumped atomically in the
//! same write as the action they count.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::auth::Principal;
use crate::error::DomainError;
use crate::platform::{Platform, own_enterprise};
use crate::ports::{Key, Record, StoreError, Write};

/// One enterprise's usage in one month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub enterprise_id: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Signing acts (one per signature added to a document).
    #[serde(default)]
    pub signatures: i64,
    #[serde(default)]
    pub codes_sent: i64,
    /// Bytes of documents stored: uploaded originals and every signed revision.
    #[serde(default)]
    pub bytes_stored: i64,
}

/// What a counter counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Meter {
    Signatures,
    CodesSent,
    BytesStored,
}

impl Meter {
    fn field(self) -> &'static str {
        match self {
            Meter::Signatures => "signatures",
            Meter::CodesSent => "codes_sent",
            Meter::BytesStored => "bytes_stored",
        }
    }
}

pub(crate) fn month_of(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}", t.year(), t.month() as u8)
}

/// Where `enterprise_id`'s usage of the month of `now` is counted.
pub(crate) fn usage_key_at(enterprise_id: &str, now: OffsetDateTime) -> Key {
    usage_key(enterprise_id, &month_of(now))
}

fn usage_key(enterprise_id: &str, month: &str) -> Key {
    Key::new(format!("USAGE#{enterprise_id}"), format!("MONTH#{month}"))
}

fn parse_month(m: &str) -> Option<String> {
    let (y, mo) = m.split_once('-')?;
    let ok = y.len() == 4
        && mo.len() == 2
        && y.bytes().chain(mo.bytes()).all(|b| b.is_ascii_digit())
        && (1..=12).contains(&mo.parse::<u8>().ok()?);
    ok.then(|| m.to_owned())
}

impl Platform {
    /// Makes sure this month's counter record exists, so increments can be part of a batch.
    pub(crate) async fn ensure_usage(&self, enterprise_id: &str, now: OffsetDateTime) -> Result<Key, DomainError> {
        let key = usage_key_at(enterprise_id, now);
        let exists = self.store.get(&key).await?.is_some();
        self.ensure_usage_read(enterprise_id, now, exists).await
    }

    /// [`Self::ensure_usage`] when the caller already read the record at [`usage_key_at`]
    /// (`exists`): writes only when the month has no record yet.
    pub(crate) async fn ensure_usage_read(
        &self,
        enterprise_id: &str,
        now: OffsetDateTime,
        exists: bool,
    ) -> Result<Key, DomainError> {
        let month = month_of(now);
        let key = usage_key(enterprise_id, &month);
        if !exists {
            let zero = Usage { enterprise_id: enterprise_id.to_owned(), month, ..Usage::default() };
            let record = Record::new(key.clone(), serde_json::to_value(zero).map_err(crate::enterprises::internal)?);
            match self.store.write(vec![Write::create(record)]).await {
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(key)
    }

    /// The write that adds to counters (the record must exist: [`Self::ensure_usage`]).
    pub(crate) fn meter(key: &Key, counts: &[(Meter, i64)]) -> Write {
        Write::Increment { key: key.clone(), by: counts.iter().map(|(m, n)| (m.field().to_owned(), *n)).collect() }
    }

    /// `GET /v1/usage?month=YYYY-MM` (the current month by default), for the caller's enterprise.
    pub async fn usage(&self, principal: &Principal, month: Option<&str>) -> Result<Usage, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        let month = match month {
            None => month_of(self.clock.now()),
            Some(m) => parse_month(m)
                .ok_or_else(|| DomainError::invalid("month", "format", "the month must be YYYY-MM, e.g. 2026-11"))?,
        };
        Ok(match self.load::<Usage>(&usage_key(enterprise_id, &month)).await? {
            Some(u) => u.value,
            None => Usage { enterprise_id: enterprise_id.to_owned(), month, ..Usage::default() },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_checked() {
        assert_eq!(parse_month("2026-11").as_deref(), Some("2026-11"));
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "", "2026-00"] {
            assert!(parse_month(bad).is_none(), "{bad}");
        }
        let t = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        assert_eq!(month_of(t), "2026-09");
    }
}
