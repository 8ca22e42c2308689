//! Audit trails as the platform shows and protects them: a page of a trail with a verdict on the
//! whole of it (chain, head and time-stamped anchors), and the anchoring job that has the
//! platform TSA time-stamp the heads that moved.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use x509_cert::Certificate;

use crate::audit::{Anchor, ListedHead, Trail, anchor_digest, anchor_key, heads_partition};
use crate::enterprises::{AuditPage, internal};
use crate::error::DomainError;
use crate::evidence::{evidence_due_key, evidence_due_write, evidence_key};
use crate::platform::Platform;
use crate::ports::{Partition, Query, Record, StoreError, Write};

/// Heads listed per page while anchoring.
const HEADS_PAGE: usize = 100;

/// What one anchoring run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnchorRun {
    /// Trail heads that moved in the hours looked at.
    pub heads_seen: usize,
    /// Heads newly time-stamped.
    pub anchored: usize,
}

impl Platform {
    /// The platform's trust anchors: its self-signed root (the issuing CA is not an anchor).
    pub(crate) async fn trust_anchors(&self) -> Result<Vec<Certificate>, DomainError> {
        let pem = self.ca_certificates().await?;
        let certs = esign_pades::cms_sig::certs_from_pem(pem.as_bytes())
            .map_err(|e| DomainError::Internal(format!("the platform CA chain: {e}")))?;
        Ok(certs.into_iter().filter(|c| c.tbs_certificate.subject == c.tbs_certificate.issuer).collect())
    }

    /// What a new signature must chain to: the platform root, and the roots configured for an
    /// external TSA.
    pub(crate) async fn signing_anchors(&self) -> Result<Vec<Certificate>, DomainError> {
        let mut anchors = self.trust_anchors().await?;
        if let Some(pem) = &self.config.tsa_roots_pem {
            anchors.extend(
                esign_pades::cms_sig::certs_from_pem(pem.as_bytes())
                    .map_err(|e| DomainError::Internal(format!("the configured TSA roots: {e}")))?,
            );
        }
        Ok(anchors)
    }

    /// The whole trail of `subject` and whether it is intact: an unbroken chain that ends at the
    /// head, holding every anchored event, each anchor's token valid and issued by a TSA that
    /// chains to the platform root.
    pub(crate) async fn checked_trail(&self, subject: &str) -> Result<(Trail, bool), DomainError> {
        let trail = Trail::load(self.store.as_ref(), subject).await?;
        let intact = self.trail_intact(&trail).await?;
        Ok((trail, intact))
    }

    async fn trail_intact(&self, trail: &Trail) -> Result<bool, DomainError> {
        let anchors = if trail.anchors.is_empty() { Vec::new() } else { self.trust_anchors().await? };
        Ok(trail.intact(|token, digest| {
            matches!(esign_pades::verify::verify_timestamp_token(token, digest, Some(&anchors)), Ok((_, Some(true), _)))
        }))
    }

    /// One page of `subject`'s trail, oldest first, at the offset `cursor` (a number this list
    /// returned), with the verdict on the whole trail.
    pub(crate) async fn audit_page(
        &self,
        subject: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<AuditPage, DomainError> {
        let at = PageAt::parse(limit, cursor)?;
        self.page_of(Trail::load(self.store.as_ref(), subject).await?, at).await
    }

    /// The page `at` of a trail already read, with the verdict on the whole trail.
    pub(crate) async fn page_of(&self, trail: Trail, at: PageAt) -> Result<AuditPage, DomainError> {
        let chain_intact = self.trail_intact(&trail).await?;
        let total = trail.events.len();
        if at.start > total {
            return Err(bad_cursor());
        }
        let end = at.start.saturating_add(at.limit).min(total);
        let items = trail.events.get(at.start..end).unwrap_or_default().to_vec();
        let next_cursor = (end < total).then(|| end.to_string());
        Ok(AuditPage { items, next_cursor, chain_intact })
    }

    /// Has the platform TSA time-stamp the head of every trail that moved in this hour or the
    /// one before and has no anchor at its newest event yet. Run on a schedule (more often than
    /// hourly, so no hour is skipped) and by operators on demand.
    pub async fn anchor_audit_trails(&self) -> Result<AnchorRun, DomainError> {
        let now = self.clock.now();
        let mut run = AnchorRun::default();
        for at in [now - time::Duration::hours(1), now] {
            let mut after = None;
            loop {
                let page = self
                    .store
                    .query(&Query {
                        partition: Partition::Index(heads_partition(at)),
                        prefix: String::new(),
                        after: after.take(),
                        limit: HEADS_PAGE,
                        descending: false,
                    })
                    .await?;
                for r in &page.records {
                    let head = ListedHead::from_record(r)?;
                    if head.subject.is_empty() {
                        continue;
                    }
                    run.heads_seen += 1;
                    if self.anchor(&head).await? {
                        run.anchored += 1;
                    }
                }
                match page.next {
                    Some(p) => after = Some(p),
                    None => break,
                }
            }
        }
        tracing::info!(heads = run.heads_seen, anchored = run.anchored, "audit trails anchored");
        Ok(run)
    }

    /// [`Platform::anchor_audit_trails`] at an operator's request.
    pub async fn anchor_audit_trails_now(&self, principal: &crate::auth::Principal) -> Result<AnchorRun, DomainError> {
        crate::platform::operator(principal)?;
        self.anchor_audit_trails().await
    }

    /// Time-stamps one head unless it is anchored already; true when it wrote an anchor.
    ///
    /// A contract's stored evidence report shows its trail's anchored head: when a new anchor
    /// makes it out of date and no report is due yet, the anchor's write makes one due, so the
    /// scheduled `generate-evidence` brings it up to date (same read, same transaction).
    async fn anchor(&self, head: &ListedHead) -> Result<bool, DomainError> {
        let key = anchor_key(&head.subject, head.seq);
        let contract = head.subject.strip_prefix("CONTRACT#");
        let mut keys = vec![key.clone()];
        if let Some(id) = contract {
            keys.extend([evidence_key(id), evidence_due_key(id)]);
        }
        let found = self.store.get_many(&keys).await?;
        if found.first().is_some_and(Option::is_some) {
            return Ok(false);
        }
        let report_stored = found.get(1).is_some_and(Option::is_some);
        let report_due = found.get(2).is_some_and(Option::is_some);
        let digest = anchor_digest(&head.subject, head.seq, &head.hash);
        let (request, nonce) = esign_pades::tsa::build_request(&digest)
            .map_err(|e| DomainError::Internal(format!("time-stamp request: {e}")))?;
        let response = self.timestamp(&request).await?;
        let token = esign_pades::tsa::check_response(&response, &digest, &nonce)
            .map_err(|e| DomainError::Dependency(format!("the time-stamp authority: {e}")))?;
        let anchor = Anchor {
            seq: head.seq,
            hash: head.hash.clone(),
            token: STANDARD.encode(token),
            anchored_at: self.clock.now(),
        };
        let now = anchor.anchored_at;
        let record = Record::new(key, serde_json::to_value(&anchor).map_err(internal)?);
        let mut writes = vec![Write::create(record)];
        if let Some(id) = contract.filter(|_| report_stored && !report_due) {
            writes.push(evidence_due_write(id, now)?);
        }
        match self.store.write(writes).await {
            Ok(()) => Ok(true),
            // Another run anchored it meanwhile.
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// Where a page of a trail starts and how long it is, from a request's `limit` and `cursor`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageAt {
    start: usize,
    limit: usize,
}

impl PageAt {
    pub(crate) fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, DomainError> {
        let limit = match limit {
            None => 50,
            Some(l @ 1..=100) => l as usize,
            Some(_) => return Err(DomainError::invalid("limit", "range", "limit must be between 1 and 100")),
        };
        let start = match cursor {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| bad_cursor())?,
        };
        Ok(PageAt { start, limit })
    }
}

fn bad_cursor() -> DomainError {
    DomainError::invalid("cursor", "invalid", "the cursor is not one this list returned")
}

#[cfg(test)]
mod tests {
    use crate::auth::Principal;
    use crate::ports::{Condition, Key, Write};
    use crate::testing::{full, verified};

    async fn trail_intact(p: &crate::Platform, admin: &Principal, id: &str) -> bool {
        p.enterprise_audit(admin, id, None, None).await.unwrap().chain_intact
    }

    #[tokio::test]
    async fn anchored_heads_survive_a_rewrite_of_the_newest_events() {
        let t = full();
        let p = &t.platform;
        let (id, admin) = verified(p).await;
        let run = p.anchor_audit_trails().await.unwrap();
        assert!(run.anchored >= 1, "{run:?}");
        // A second run finds nothing new.
        assert_eq!(p.anchor_audit_trails().await.unwrap().anchored, 0);
        assert!(trail_intact(p, &admin, &id).await);
        let subject = crate::platform::enterprise_subject(&id);
        let trail = crate::audit::Trail::load(p.store.as_ref(), &subject).await.unwrap();
        let last = trail.events.last().unwrap().clone();
        let prev = trail.events[trail.events.len() - 2].clone();
        // Somebody with write access to the table removes the newest event and rewinds the head.
        p.store
            .write(vec![
                Write::Delete {
                    key: Key::new(format!("AUDIT#{subject}"), format!("EVENT#{:012}", last.seq)),
                    condition: Condition::Always,
                },
                Write::Put {
                    record: crate::ports::Record::new(
                        Key::new(format!("AUDIT#{subject}"), "HEAD"),
                        serde_json::json!({"seq": prev.seq, "hash": prev.hash, "subject": subject}),
                    ),
                    condition: Condition::Always,
                },
            ])
            .await
            .unwrap();
        assert!(!trail_intact(p, &admin, &id).await);
    }

    #[tokio::test]
    async fn a_forged_anchor_token_is_not_accepted() {
        let t = full();
        let p = &t.platform;
        let (id, admin) = verified(p).await;
        p.anchor_audit_trails().await.unwrap();
        let subject = crate::platform::enterprise_subject(&id);
        let trail = crate::audit::Trail::load(p.store.as_ref(), &subject).await.unwrap();
        let mut anchor = trail.anchors[0].clone();
        anchor.token = "MAA=".into();
        p.store
            .write(vec![Write::Put {
                record: crate::ports::Record::new(
                    crate::audit::anchor_key(&subject, anchor.seq),
                    serde_json::to_value(&anchor).unwrap(),
                ),
                condition: Condition::Always,
            }])
            .await
            .unwrap();
        assert!(!trail_intact(p, &admin, &id).await);
    }
}
