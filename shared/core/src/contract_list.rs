//! `GET /v1/contracts`: the contracts an enterprise started or must sign, newest first.
//!
//! Each contract keeps one listing record per enterprise concerned (its initiator and each
//! party) in that enterprise's partition, `ENT#<enterprise>` / `CONTRACT#<id>` (contract ids are
//! UUIDv7, so they sort by creation), indexed by status under `CONTRACTS#<enterprise>#<status>`.
//! The records are written in the same transaction as every change of the contract, so a page is
//! one query and never disagrees with the contract. Contracts last changed before listings
//! existed have none until their next change.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::auth::Principal;
use crate::contracts::{ContractData, ContractStatus, SigningOrder};
use crate::enterprises::internal;
use crate::error::DomainError;
use crate::model::Page;
use crate::platform::{Platform, own_enterprise};
use crate::ports::{Condition, Key, Partition, Record, Write};

/// Whether a party has signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyStatus {
    Pending,
    Signed,
}

/// A party as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartySummary {
    pub enterprise_id: String,
    /// The verified company name.
    pub name: String,
    pub status: PartyStatus,
}

/// The party whose turn it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextSigner {
    pub enterprise_id: String,
    pub name: String,
}

/// A contract as `GET /v1/contracts` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractSummary {
    pub id: String,
    pub title: String,
    pub status: ContractStatus,
    pub order: SigningOrder,
    pub initiator_id: String,
    pub parties: Vec<PartySummary>,
    /// In a contract open for signing in turn, the first party that has not signed; none in
    /// parallel order (every pending party may sign), in a draft and once completed or expired.
    pub next_signer: Option<NextSigner>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

/// Which contracts a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Only(ContractStatus),
}

impl StatusFilter {
    /// Parses the `status` query parameter.
    pub fn parse(value: Option<&str>) -> Result<Self, DomainError> {
        Ok(match value {
            None => StatusFilter::All,
            Some("draft") => StatusFilter::Only(ContractStatus::Draft),
            Some("signing") => StatusFilter::Only(ContractStatus::Signing),
            Some("completed") => StatusFilter::Only(ContractStatus::Completed),
            Some("expired") => StatusFilter::Only(ContractStatus::Expired),
            Some(_) => {
                return Err(DomainError::invalid(
                    "status",
                    "invalid",
                    "status is draft, signing, completed or expired",
                ));
            }
        })
    }
}

fn status_name(s: ContractStatus) -> &'static str {
    match s {
        ContractStatus::Draft => "draft",
        ContractStatus::Signing => "signing",
        ContractStatus::Completed => "completed",
        ContractStatus::Expired => "expired",
    }
}

fn listing_partition(enterprise_id: &str) -> String {
    format!("ENT#{enterprise_id}")
}

const LISTING_PREFIX: &str = "CONTRACT#";

fn listing_key(enterprise_id: &str, contract_id: &str) -> Key {
    Key::new(listing_partition(enterprise_id), format!("{LISTING_PREFIX}{contract_id}"))
}

pub(crate) fn status_partition(enterprise_id: &str, status: ContractStatus) -> String {
    format!("CONTRACTS#{enterprise_id}#{}", status_name(status))
}

impl ContractSummary {
    fn of(data: &ContractData) -> Self {
        let c = &data.contract;
        let parties: Vec<PartySummary> = c
            .parties
            .iter()
            .map(|p| PartySummary {
                enterprise_id: p.enterprise_id.clone(),
                name: p.enterprise_name.clone(),
                status: if p.signed { PartyStatus::Signed } else { PartyStatus::Pending },
            })
            .collect();
        let next_signer = (c.status == ContractStatus::Signing && c.order == SigningOrder::Sequential)
            .then(|| c.parties.iter().find(|p| !p.signed))
            .flatten()
            .map(|p| NextSigner { enterprise_id: p.enterprise_id.clone(), name: p.enterprise_name.clone() });
        ContractSummary {
            id: c.id.clone(),
            title: c.title.clone(),
            status: c.status,
            order: c.order,
            initiator_id: c.initiator_id.clone(),
            parties,
            next_signer,
            created_at: c.created_at,
            updated_at: c.updated_at,
            expires_at: c.expires_at,
        }
    }

    /// As seen at `now`: a contract past its expiry before completion shows `expired`.
    fn at(mut self, now: OffsetDateTime) -> Self {
        if self.status != ContractStatus::Completed && self.expires_at.is_some_and(|t| now >= t) {
            self.status = ContractStatus::Expired;
            self.next_signer = None;
        }
        self
    }
}

/// The enterprises that see a contract: its initiator and its parties, once each.
fn concerned(data: &ContractData) -> Vec<String> {
    let mut ids = vec![data.contract.initiator_id.clone()];
    for p in &data.contract.parties {
        if !ids.contains(&p.enterprise_id) {
            ids.push(p.enterprise_id.clone());
        }
    }
    ids
}

/// Listing writes of one change at most: a record for the initiator and each party, and the
/// removal of as many parties taken off. With the contract, its audit events and a signature's
/// other writes they stay well within a DynamoDB transaction's 100 items.
const MAX_LISTING_WRITES: usize = 1 + 2 * crate::contracts::MAX_PARTIES + 2;
const _: () = assert!(MAX_LISTING_WRITES + 30 <= 100);

/// The writes that bring the contract's listing records in step with `data`, to go in the same
/// transaction as the contract itself: one record per enterprise concerned, and the removal of
/// those of enterprises no longer concerned (a party taken off a draft), and, when that set
/// changes, the records naming who may read the contract's trails. Records `data.listed`.
pub(crate) fn listing_writes(data: &mut ContractData) -> Result<Vec<Write>, DomainError> {
    let summary = ContractSummary::of(data);
    let value = serde_json::to_value(&summary).map_err(internal)?;
    let now_listed = concerned(data);
    let mut writes = Vec::with_capacity(now_listed.len() + data.listed.len());
    for enterprise_id in &now_listed {
        let mut record = Record::new(listing_key(enterprise_id, &summary.id), value.clone());
        record.index = Some(Key::new(status_partition(enterprise_id, summary.status), summary.id.clone()));
        writes.push(Write::Put { record, condition: Condition::Always });
    }
    for gone in data.listed.iter().filter(|e| !now_listed.contains(e)) {
        writes.push(Write::Delete { key: listing_key(gone, &summary.id), condition: Condition::Always });
    }
    if now_listed != data.listed {
        // Who may read the contract's trails, kept beside them: `GET …/audit` in one query.
        for subject in
            [crate::contracts::contract_subject(&summary.id), crate::contracts::contract_access_subject(&summary.id)]
        {
            writes.push(Write::Put {
                record: crate::audit::readers_record(&subject, &now_listed),
                condition: Condition::Always,
            });
        }
    }
    data.listed = now_listed;
    debug_assert!(writes.len() <= MAX_LISTING_WRITES);
    Ok(writes)
}

impl Platform {
    /// The contracts the caller's enterprise initiated or is a party to, newest first, one query
    /// a page. With a status, only those: `expired` ones are found among those still stored as
    /// drafts or open for signing, so such a page may hold fewer than `limit` (follow
    /// `next_cursor`).
    pub async fn list_contracts(
        &self,
        principal: &Principal,
        status: StatusFilter,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<ContractSummary>, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        let (partition, prefix) = match status {
            StatusFilter::All | StatusFilter::Only(ContractStatus::Expired) => {
                (Partition::Table(listing_partition(enterprise_id)), LISTING_PREFIX)
            }
            StatusFilter::Only(s) => (Partition::Index(status_partition(enterprise_id, s)), ""),
        };
        let page: Page<ContractSummary> = self.page_ordered(partition, prefix, limit, cursor, true).await?;
        let now = self.clock.now();
        let items = page
            .items
            .into_iter()
            .map(|c| c.at(now))
            .filter(|c| match status {
                StatusFilter::All => true,
                StatusFilter::Only(s) => c.status == s,
            })
            .collect();
        Ok(Page { items, next_cursor: page.next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::{CreateContract, PartyInput, SetParties};
    use crate::ports::Clock as _;
    use crate::testing::{full, verified};

    async fn draft(p: &Platform, who: &Principal, title: &str, expires_at: Option<OffsetDateTime>) -> String {
        let input = CreateContract { title: title.into(), expires_at, document_size: 1000 };
        p.create_contract(who, input).await.unwrap().contract.id
    }

    fn parties(order: SigningOrder, ids: &[&str]) -> SetParties {
        SetParties { order, parties: ids.iter().map(|e| PartyInput { enterprise_id: (*e).to_owned() }).collect() }
    }

    fn ids(page: &Page<ContractSummary>) -> Vec<&str> {
        page.items.iter().map(|c| c.id.as_str()).collect()
    }

    #[tokio::test]
    async fn each_enterprise_lists_what_it_started_or_signs_newest_first_and_nothing_else() {
        let t = full();
        let p = &t.platform;
        let (ea, a) = verified(p).await;
        let (eb, b) = verified(p).await;
        let (ec, c) = verified(p).await;
        let (_, outsider) = verified(p).await;
        let first = draft(p, &a, "一号合同", None).await;
        let second = draft(p, &a, "二号合同", None).await;
        p.set_parties(&a, &first, parties(SigningOrder::Sequential, &[&ea, &eb])).await.unwrap();

        let all = p.list_contracts(&a, StatusFilter::All, None, None).await.unwrap();
        assert_eq!(ids(&all), [second.as_str(), first.as_str()]);
        assert_eq!(all.next_cursor, None);
        let listed = &all.items[1];
        assert_eq!(listed.title, "一号合同");
        assert_eq!(listed.status, ContractStatus::Draft);
        assert_eq!(
            listed.parties.iter().map(|x| (x.enterprise_id.as_str(), x.status)).collect::<Vec<_>>(),
            [(ea.as_str(), PartyStatus::Pending), (eb.as_str(), PartyStatus::Pending)]
        );
        assert_eq!(listed.next_signer, None, "nobody's turn in a draft");
        assert_eq!(ids(&p.list_contracts(&b, StatusFilter::All, None, None).await.unwrap()), [first.as_str()]);
        assert!(p.list_contracts(&c, StatusFilter::All, None, None).await.unwrap().items.is_empty());
        assert!(p.list_contracts(&outsider, StatusFilter::All, None, None).await.unwrap().items.is_empty());

        // A party taken off the draft no longer sees it; the new one does.
        p.set_parties(&a, &first, parties(SigningOrder::Parallel, &[&ec])).await.unwrap();
        assert!(p.list_contracts(&b, StatusFilter::All, None, None).await.unwrap().items.is_empty());
        let seen = p.list_contracts(&c, StatusFilter::All, None, None).await.unwrap();
        assert_eq!(ids(&seen), [first.as_str()]);
        assert_eq!(seen.items[0].parties.len(), 1);

        // Pages of one, and a cursor that only works on its own list.
        let one = p.list_contracts(&a, StatusFilter::All, Some(1), None).await.unwrap();
        assert_eq!(ids(&one), [second.as_str()]);
        let cursor = one.next_cursor.unwrap();
        let two = p.list_contracts(&a, StatusFilter::All, Some(1), Some(&cursor)).await.unwrap();
        assert_eq!(ids(&two), [first.as_str()]);
        assert!(p.list_contracts(&c, StatusFilter::All, Some(1), Some(&cursor)).await.is_err());
        assert!(p.list_contracts(&a, StatusFilter::All, Some(0), None).await.is_err());
    }

    #[tokio::test]
    async fn a_status_filter_reads_the_index_and_expiry_shows_when_it_passes() {
        let t = full();
        let p = &t.platform;
        let (_, a) = verified(p).await;
        let soon = t.clock.now() + time::Duration::hours(1);
        let lasting = draft(p, &a, "长期", None).await;
        let expiring = draft(p, &a, "短期", Some(soon)).await;
        let drafts = p.list_contracts(&a, StatusFilter::parse(Some("draft")).unwrap(), None, None).await.unwrap();
        assert_eq!(ids(&drafts), [expiring.as_str(), lasting.as_str()]);
        assert!(
            p.list_contracts(&a, StatusFilter::parse(Some("signing")).unwrap(), None, None)
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let expired = StatusFilter::parse(Some("expired")).unwrap();
        assert!(p.list_contracts(&a, expired, None, None).await.unwrap().items.is_empty());

        t.clock.advance(time::Duration::hours(2));
        assert_eq!(ids(&p.list_contracts(&a, expired, None, None).await.unwrap()), [expiring.as_str()]);
        let drafts = p.list_contracts(&a, StatusFilter::Only(ContractStatus::Draft), None, None).await.unwrap();
        assert_eq!(ids(&drafts), [lasting.as_str()]);
        let all = p.list_contracts(&a, StatusFilter::All, None, None).await.unwrap();
        assert_eq!(all.items[0].status, ContractStatus::Expired);

        assert!(matches!(StatusFilter::parse(Some("open")), Err(DomainError::Validation(_))));
        assert!(matches!(
            p.list_contracts(&crate::testing::operator(), StatusFilter::All, None, None).await,
            Err(DomainError::Forbidden(_))
        ));
    }
}
