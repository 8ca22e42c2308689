//! The one-off migration `backfill-long-term`, for contracts completed before the platform kept
//! their long-term state: such a contract is in neither index partition the schedules read (the
//! renewal index `ARCHIVE#due`, written with a completed contract's archive state, and
//! `EVIDENCE#due`, written by the signing that completes a contract), so its archive time stamp
//! would never be renewed and its evidence report would be made only on request.
//!
//! Completed contracts are found through indexes that already exist: every verified enterprise
//! has an approved verification (`VERIFS#approved`), and every contract is listed under its
//! initiator, by status (`CONTRACTS#{enterprise}#completed`). Each run reads at most
//! [`BACKFILL_QUERIES_PER_RUN`] pages and [`BACKFILL_CONTRACTS_PER_RUN`] contracts and answers
//! where to go on (`next`), until there is nothing left (`next` null). Per contract it writes,
//! in one transaction and only when missing:
//! - the archive state and the renewal index entry: the newest document time stamp's (when it
//!   is due, as for a contract completed today); for a file with none (completed before B-LTA),
//!   due now, so the schedule adds its first;
//! - the evidence report's `EVIDENCE#due` entry, unless a report is stored and still current, so
//!   the scheduled `generate-evidence` makes it.
//!
//! A second pass finds nothing to write: the migration is idempotent, and safe to run again.

use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::contract_list::ContractSummary;
use crate::contracts::{ContractData, ContractStatus, contract_key, contract_record};
use crate::error::DomainError;
use crate::evidence::{evidence_due_key, evidence_due_write, evidence_key};
use crate::ports::{Partition, Position, Query, Record, StoreError, Write};

/// Most completed contracts one run looks at.
pub const BACKFILL_CONTRACTS_PER_RUN: usize = 25;
/// Most index pages one run reads (enterprises without completed contracts cost a page each).
pub const BACKFILL_QUERIES_PER_RUN: usize = 100;

/// Where a run of the migration goes on: after this approved verification's enterprise, and
/// within it after this contract.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackfillCursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    verifications_after: Option<Position>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enterprise: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contracts_after: Option<Position>,
}

/// What one run of the migration did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackfillRun {
    /// Completed contracts looked at.
    pub checked: usize,
    /// Contracts put in the renewal index (`ARCHIVE#due`).
    pub archive_indexed: Vec<String>,
    /// Contracts whose evidence report was made due (`EVIDENCE#due`).
    pub evidence_due: Vec<String>,
    /// Contracts that could not be mended this time (a run again tries them again).
    pub failed: Vec<String>,
    /// Where the next run goes on; `None`: every completed contract has been looked at.
    pub next: Option<BackfillCursor>,
}

fn position(r: &Record) -> Position {
    Position { key: r.key.clone(), index: r.index.clone() }
}

impl Platform {
    /// `backfill-long-term`: one bounded run of the migration, from `after` (the previous run's
    /// `next`; `None`: from the start).
    pub async fn backfill_long_term(&self, after: Option<BackfillCursor>) -> Result<BackfillRun, DomainError> {
        let mut cursor = after.unwrap_or_default();
        let mut run = BackfillRun::default();
        let mut queries = 0;
        loop {
            if queries >= BACKFILL_QUERIES_PER_RUN || run.checked >= BACKFILL_CONTRACTS_PER_RUN {
                run.next = Some(cursor);
                return Ok(run);
            }
            queries += 1;
            let Some(enterprise) = cursor.enterprise.clone() else {
                let page = self
                    .store
                    .query(&Query {
                        partition: Partition::Index("VERIFS#approved".into()),
                        prefix: String::new(),
                        after: cursor.verifications_after.clone(),
                        limit: 1,
                        descending: false,
                    })
                    .await?;
                let Some(r) = page.records.first() else { return Ok(run) };
                let verification: crate::model::Verification = r.decode()?;
                cursor = BackfillCursor {
                    verifications_after: Some(position(r)),
                    enterprise: Some(verification.enterprise_id),
                    contracts_after: None,
                };
                continue;
            };
            let partition = crate::contract_list::status_partition(&enterprise, ContractStatus::Completed);
            let page = self
                .store
                .query(&Query {
                    partition: Partition::Index(partition),
                    prefix: String::new(),
                    after: cursor.contracts_after.clone(),
                    limit: BACKFILL_CONTRACTS_PER_RUN.saturating_sub(run.checked).max(1),
                    descending: false,
                })
                .await?;
            // Each contract once: under its initiator (its parties list it too).
            let mut ids = Vec::new();
            for r in &page.records {
                let summary: ContractSummary = r.decode()?;
                if summary.initiator_id == enterprise {
                    ids.push(summary.id);
                }
            }
            run.checked += ids.len();
            self.backfill_contracts(&ids, &mut run).await?;
            match (page.next, page.records.last()) {
                (Some(_), Some(last)) => cursor.contracts_after = Some(position(last)),
                _ => {
                    cursor.enterprise = None;
                    cursor.contracts_after = None;
                }
            }
        }
    }

    /// Mends the contracts `ids` (at most [`BACKFILL_CONTRACTS_PER_RUN`]; three records each in
    /// one read).
    async fn backfill_contracts(&self, ids: &[String], run: &mut BackfillRun) -> Result<(), DomainError> {
        if ids.is_empty() {
            return Ok(());
        }
        let keys: Vec<_> =
            ids.iter().flat_map(|id| [contract_key(id), evidence_key(id), evidence_due_key(id)]).collect();
        let records = self.store.get_many(&keys).await?;
        let now = self.clock.now();
        for (id, found) in ids.iter().zip(records.chunks(3)) {
            let [Some(contract), stored, due] = found else { continue };
            let data: ContractData = contract.decode()?;
            if data.contract.status != ContractStatus::Completed {
                continue;
            }
            let mut writes = Vec::new();
            let indexed = contract.index.as_ref().is_some_and(|i| i.pk == crate::ltv::ARCHIVE_PARTITION);
            if !indexed {
                let mut data = data;
                if data.archive.is_none() {
                    match self.backfilled_archive_state(&data).await {
                        Ok(state) => data.archive = Some(state),
                        Err(e) => {
                            tracing::warn!(contract_id = %id, error = %e, "archive state not backfilled");
                            run.failed.push(id.clone());
                            continue;
                        }
                    }
                }
                writes.push(Write::replace(contract_record(&data)?, contract.version));
            }
            // A stored report shows the contract record's version: rewritten, it is stale too.
            let report_current = stored.is_some() && indexed;
            if !report_current && due.is_none() {
                writes.push(evidence_due_write(id, now)?);
            }
            if writes.is_empty() {
                continue;
            }
            let evidence = due.is_none() && !report_current;
            match self.store.write(writes).await {
                Ok(()) => {
                    if !indexed {
                        run.archive_indexed.push(id.clone());
                    }
                    if evidence {
                        run.evidence_due.push(id.clone());
                    }
                }
                Err(StoreError::Conflict) => run.failed.push(id.clone()),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Clock as _;

    /// A contract completed before the platform kept long-term state: no archive state, no index
    /// entries, no report. The migration puts it back in both indexes; a second pass writes nothing.
    #[tokio::test]
    async fn contracts_completed_before_are_found_and_mended_once() {
        let s = crate::evidence::tests::completed().await;
        let p = &s.t.platform;
        let id = s.contract.clone();
        let record = p.store.get(&contract_key(&id)).await.unwrap().unwrap();
        let mut data: ContractData = record.decode().unwrap();
        let state = data.archive.take().expect("completed today: an archive state");
        let old = Record::new(contract_key(&id), serde_json::to_value(&data).unwrap());
        p.store
            .write(vec![
                Write::replace(old, record.version),
                Write::Delete { key: evidence_due_key(&id), condition: crate::ports::Condition::Always },
            ])
            .await
            .unwrap();

        let mut first = BackfillRun::default();
        let mut after = None;
        for _ in 0..20 {
            let run = p.backfill_long_term(after).await.unwrap();
            first.checked += run.checked;
            first.archive_indexed.extend(run.archive_indexed);
            first.evidence_due.extend(run.evidence_due);
            first.failed.extend(run.failed);
            after = run.next;
            if after.is_none() {
                break;
            }
        }
        assert!(after.is_none(), "the migration ends");
        assert_eq!(
            (first.checked, first.archive_indexed, first.evidence_due, first.failed),
            (1, vec![id.clone()], vec![id.clone()], vec![])
        );
        let mended = p.store.get(&contract_key(&id)).await.unwrap().unwrap();
        let mended_data: ContractData = mended.decode().unwrap();
        assert_eq!(mended_data.archive, Some(state.clone()), "the newest document time stamp's state");
        assert_eq!(mended.index, Some(crate::ltv::archive_index(state.due, &id)));
        assert!(p.store.get(&evidence_due_key(&id)).await.unwrap().is_some());

        // The report made, then a second pass: nothing to write.
        assert_eq!(p.generate_due_evidence().await.unwrap().generated, vec![id.clone()]);
        let again = p.backfill_long_term(None).await.unwrap();
        assert_eq!(again, BackfillRun { checked: 1, ..BackfillRun::default() });
        assert_eq!(p.store.get(&contract_key(&id)).await.unwrap().unwrap().version, mended.version);

        // A file without any document time stamp (completed before B-LTA; here the revision of
        // the first signature, B-LT): due at once, timed by its newest signature's time stamp.
        let mut before_lta = mended_data.clone();
        before_lta.revision_keys.truncate(2);
        let first_signed = time::OffsetDateTime::parse(
            &before_lta.contract.signatures[0].signed_at,
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        before_lta.contract.signatures.truncate(1);
        let state = p.backfilled_archive_state(&before_lta).await.unwrap();
        assert_eq!((state.due, state.timestamped_at, state.tsa_not_after), (s.t.clock.now(), first_signed, None));
    }
}
