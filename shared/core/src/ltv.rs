//! Long-term validation of what the platform signs (PAdES B-LT and B-LTA).
//!
//! Every certificate a platform signature relies on is the platform's: the seal certificates and
//! the TSA certificate are issued by the issuing CA, which the root issued. So the validation data
//! that makes a signature verifiable offline, with only the root, is the chain (root, issuing CA,
//! the leaf certificates found in the file) and two CRLs: the issuing CA's (every seal and TSA
//! certificate) and the root's (the issuing CA). Both CRLs are the ones `GET /v1/ca/crl` and
//! `GET /v1/ca/root.crl` publish, signed with the CAs' KMS keys and current until their
//! nextUpdate (7 and 30 days; the scheduled refresh reissues them every 6 hours, and a CRL found
//! within [`CRL_MARGIN`] of its nextUpdate is reissued here first). A CRL current at the signing
//! time speaks for that time (ETSI EN 319 102-1's freshness rule), so the data read just before
//! signing goes into the same stored revision as the signature: the signature (B-T), then a DSS
//! update with the data (B-LT), and when the contract completes a document time stamp and a DSS
//! update with its TSA's data (B-LTA), all appended in memory and stored in one put.
//!
//! Certificates that are not the platform's (an external TSA configured with `ESIGN_TSA_URL`) get
//! no revocation data from here: the platform has none to give, and the verification report then
//! says the validation data is incomplete (level B-T) rather than pretend otherwise.

use std::sync::Arc;

use esign_pades::{PadesError, TimestampSource, ValidationData};
use esign_pki::Certificate;
use esign_pki::der::{Decode, Encode};
use time::Duration;

use crate::Platform;
use crate::error::DomainError;
use crate::ports::{CaLevel, Record};
use crate::revocation::{CurrentCrl, crl_from_record, crl_record_key};

/// A CRL that stops being current within this is not embedded (it must still be current when the
/// signature is checked minutes later).
pub(crate) const CRL_MARGIN: Duration = Duration::minutes(10);

/// The platform's CA chain and the CRLs that speak for it: what validation data is made of.
#[derive(Clone)]
pub(crate) struct LtvSources {
    root_der: Vec<u8>,
    issuing: Certificate,
    issuing_der: Vec<u8>,
    issuing_crl: Arc<Vec<u8>>,
    root_crl: Arc<Vec<u8>>,
}

impl LtvSources {
    /// Validation data for a file carrying `certs`: the platform's chain, the root's CRL (for the
    /// issuing CA), the certificates the issuing CA issued among `certs` and, when there is one,
    /// the issuing CA's CRL (for them). Certificates of other CAs are left out: nothing here
    /// speaks for them.
    pub(crate) fn data_for(&self, certs: &[Vec<u8>]) -> ValidationData {
        let mut data = ValidationData {
            certs: vec![self.root_der.clone(), self.issuing_der.clone()],
            ocsps: Vec::new(),
            crls: vec![self.root_crl.to_vec()],
        };
        let mut issued = false;
        for der in certs {
            if data.certs.contains(der) {
                continue;
            }
            let Ok(cert) = Certificate::from_der(der) else { continue };
            if cert.tbs_certificate.issuer == self.issuing.tbs_certificate.subject
                && esign_pades::cms_sig::cert_signed_by(&cert, &self.issuing)
            {
                issued = true;
                data.certs.push(der.clone());
            }
        }
        if issued {
            data.crls.insert(0, self.issuing_crl.to_vec());
        }
        data
    }
}

fn ltv_error(e: PadesError) -> DomainError {
    match e {
        PadesError::Tsa(m) => DomainError::Dependency(format!("the time-stamp authority failed: {m}")),
        PadesError::Damaged(_) | PadesError::Limit(_) | PadesError::NotAllowed(_) => {
            DomainError::Conflict(format!("the document cannot take validation data: {e}"))
        }
        other => DomainError::Internal(format!("validation data: {other}")),
    }
}

impl Platform {
    /// Where time stamps come from: the configured HTTP TSA, else the platform's own (in-process).
    pub(crate) fn timestamp_source(&self) -> Arc<dyn TimestampSource> {
        match &self.config.tsa_url {
            Some(url) => self.warm.http_tsa(url),
            None => {
                Arc::new(crate::contracts::PlatformTsa { authority: self.authority.clone(), warm: self.warm.clone() })
            }
        }
    }

    /// The current CRL of `level`: the root's from the warm process while current, else from
    /// `read` (the record a caller already read; `None`: read it here). Never issued here: only
    /// the CA functions sign with the CAs' keys (the scheduled `refresh-crls`, seal approval and
    /// revocation), so a CRL that is missing or within [`CRL_MARGIN`] of its nextUpdate is a 503
    /// (the schedule has stopped for days), not a signature nobody could validate later.
    pub(crate) async fn current_crl(
        &self,
        level: CaLevel,
        read: Option<Option<Record>>,
    ) -> Result<CurrentCrl, DomainError> {
        let until = self.clock.now() + CRL_MARGIN;
        if level == CaLevel::Root
            && let Some(crl) = self.warm.root_crl(until)
        {
            return Ok(crl);
        }
        let record = match read {
            Some(r) => r,
            None => self.store.get(&crl_record_key(level)).await?,
        };
        let crl = match record.as_ref().map(crl_from_record).transpose()? {
            Some(crl) if crl.next_update > until => crl,
            Some(_) => {
                return Err(DomainError::Dependency(format!(
                    "the {} CA's CRL is no longer current (the scheduled refresh-crls has not run): a \
                     signature now could not be validated later",
                    level.as_str()
                )));
            }
            None => {
                return Err(DomainError::Dependency(format!(
                    "the {} CA's CRL has not been published yet (run refresh-crls once)",
                    level.as_str()
                )));
            }
        };
        if level == CaLevel::Root {
            self.warm.keep_root_crl(crl.clone());
        }
        Ok(crl)
    }

    /// The chain and current CRLs; `issuing_read` / `root_read`: the CRL records a caller read
    /// in its own batch (`None`: read here).
    pub(crate) async fn ltv_sources(
        &self,
        issuing_read: Option<Option<Record>>,
        root_read: Option<Option<Record>>,
    ) -> Result<LtvSources, DomainError> {
        let pem = self.ca_certificates().await?;
        let certs = esign_pades::cms_sig::certs_from_pem(pem.as_bytes())
            .map_err(|e| DomainError::Internal(format!("the platform CA chain: {e}")))?;
        let root = certs.iter().find(|c| c.tbs_certificate.subject == c.tbs_certificate.issuer);
        let issuing = certs.iter().find(|c| c.tbs_certificate.subject != c.tbs_certificate.issuer);
        let (Some(root), Some(issuing)) = (root, issuing) else {
            return Err(DomainError::Internal("the platform CA chain lacks its root or issuing CA".into()));
        };
        let der = |c: &Certificate| c.to_der().map_err(|e| DomainError::Internal(e.to_string()));
        let issuing_crl = self.current_crl(CaLevel::Issuing, issuing_read).await?;
        let root_crl = self.current_crl(CaLevel::Root, root_read).await?;
        Ok(LtvSources {
            root_der: der(root)?,
            issuing: issuing.clone(),
            issuing_der: der(issuing)?,
            issuing_crl: issuing_crl.der,
            root_crl: root_crl.der,
        })
    }

    /// The certificates `pdf`'s signatures and time stamps carry (off the async workers).
    async fn embedded_certificates(&self, pdf: Vec<u8>) -> Result<(Vec<Vec<u8>>, Vec<u8>), DomainError> {
        let (certs, pdf) = self.pdf_work(move || (esign_pades::verify::embedded_certificates(&pdf), pdf)).await?;
        Ok((certs.map_err(ltv_error)?, pdf))
    }

    /// `pdf` with `data` appended in one incremental update (a DSS update, with a VRI entry for
    /// the newest signature or document time stamp).
    async fn with_validation_data(&self, pdf: Vec<u8>, data: ValidationData) -> Result<Vec<u8>, DomainError> {
        let (update, mut pdf) =
            self.pdf_work(move || (esign_pades::add_validation_data_update(&pdf, &data), pdf)).await?;
        pdf.extend_from_slice(&update.map_err(ltv_error)?);
        Ok(pdf)
    }

    /// Certificates, OCSP responses and CRLs that make every signature and document time stamp
    /// in `pdf` verifiable offline with only the platform root (the signer's and the TSA's chains).
    #[allow(dead_code)] // the evidence report's (issue #15); archive() is what signing uses
    pub(crate) async fn validation_data(&self, pdf: &[u8]) -> Result<ValidationData, DomainError> {
        let sources = self.ltv_sources(None, None).await?;
        let (certs, _) = self.embedded_certificates(pdf.to_vec()).await?;
        Ok(sources.data_for(&certs))
    }

    /// B-LT, and with `archive` B-LTA: appends to `pdf` its validation data (from `sources`) and,
    /// with `archive`, a document time stamp from the configured TSA and that time stamp's own
    /// validation data. Stores nothing.
    pub(crate) async fn long_term(
        &self,
        pdf: Vec<u8>,
        sources: &LtvSources,
        archive: bool,
    ) -> Result<Vec<u8>, DomainError> {
        let (certs, pdf) = self.embedded_certificates(pdf).await?;
        let mut pdf = self.with_validation_data(pdf, sources.data_for(&certs)).await?;
        if !archive {
            return Ok(pdf);
        }
        let tsa = self.timestamp_source();
        let update = self.pdf_task(esign_pades::timestamp_pdf_update(&pdf, tsa.as_ref())).await?;
        pdf.extend_from_slice(&update.map_err(ltv_error)?);
        let (certs, pdf) = self.embedded_certificates(pdf).await?;
        self.with_validation_data(pdf, sources.data_for(&certs)).await
    }

    /// B-LT to B-LTA: appends to `pdf` (incremental updates) its validation data, a document time
    /// stamp from the configured TSA, and that time stamp's own validation data.
    pub(crate) async fn archive(&self, pdf: Vec<u8>) -> Result<Vec<u8>, DomainError> {
        let sources = self.ltv_sources(None, None).await?;
        self.long_term(pdf, &sources, true).await
    }
}

// ---- Archive time stamps and their renewal ----
//
// A document time stamp proves that everything before it (the signatures and their validation
// data) existed at its time, so later verifiers need not trust the signatures' algorithms or
// certificates past that time; but the time stamp's own TSA certificate expires and its
// algorithms age, so before either happens a new document time stamp, with the validation data
// for the previous one, is added on top (ETSI EN 319 142-1, B-LTA). A completed contract's
// record is in the renewal index (`ARCHIVE#due`, sorted by when it is due); the scheduled
// `renew-archive-timestamps` renews what is due, and `POST /v1/contracts/{id}/archive-timestamps`
// renews one on request.

/// The index partition of completed contracts by the time their archive time stamp is due.
pub(crate) const ARCHIVE_PARTITION: &str = "ARCHIVE#due";
/// Renew this long before the newest document time stamp's TSA certificate expires.
pub const TSA_EXPIRY_MARGIN: Duration = Duration::days(90);
/// A party renews a contract's archive time stamp at most once in this (operators: any time).
pub const MEMBER_RENEWAL_INTERVAL: Duration = Duration::hours(1);
/// Most contracts one scheduled run renews (each is a time stamp, a read and a write of its PDF).
pub const RENEWALS_PER_RUN: usize = 25;

/// A completed contract's newest document time stamp and when it is due for renewal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ArchiveState {
    #[serde(with = "time::serde::rfc3339")]
    pub timestamped_at: time::OffsetDateTime,
    /// The TSA certificate's notAfter, when the token carries the certificate.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub tsa_not_after: Option<time::OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub due: time::OffsetDateTime,
}

/// The renewal index entry of a contract due at `due`.
pub(crate) fn archive_index(due: time::OffsetDateTime, contract_id: &str) -> crate::ports::Key {
    crate::ports::Key::new(ARCHIVE_PARTITION, format!("{:012}#{contract_id}", due.unix_timestamp().max(0)))
}

/// What one scheduled run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RenewalRun {
    /// Contracts that got a new document time stamp.
    pub renewed: Vec<String>,
    /// Contracts whose renewal failed this time (they stay due; the next run tries again).
    pub failed: Vec<String>,
}

/// When an archive time stamp made at `at` by a TSA whose certificate expires at `tsa_not_after`
/// is due: after `max_age`, or [`TSA_EXPIRY_MARGIN`] before the certificate expires if sooner.
pub(crate) fn renewal_due(
    at: time::OffsetDateTime,
    tsa_not_after: Option<time::OffsetDateTime>,
    max_age: std::time::Duration,
) -> time::OffsetDateTime {
    let by_age = at.checked_add(Duration::try_from(max_age).unwrap_or(Duration::MAX)).unwrap_or(at);
    match tsa_not_after.and_then(|n| n.checked_sub(TSA_EXPIRY_MARGIN)) {
        Some(by_expiry) if by_expiry < by_age => by_expiry.max(at),
        _ => by_age,
    }
}

impl Platform {
    /// The archive state of `pdf`, whose newest document time stamp was just added.
    pub(crate) async fn archive_state(&self, pdf: &[u8]) -> Result<ArchiveState, DomainError> {
        let p = pdf.to_vec();
        let newest = self.pdf_work(move || esign_pades::verify::newest_document_timestamp(&p)).await?;
        let (at, tsa) = newest
            .map_err(ltv_error)?
            .ok_or_else(|| DomainError::Internal("the archived document has no document time stamp".into()))?;
        let timestamped_at = time::OffsetDateTime::from_unix_timestamp(i64::try_from(at).unwrap_or(i64::MAX))
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        let tsa_not_after = tsa
            .and_then(|d| Certificate::from_der(&d).ok())
            .map(|c| c.tbs_certificate.validity.not_after.to_unix_duration().as_secs())
            .and_then(|s| time::OffsetDateTime::from_unix_timestamp(i64::try_from(s).ok()?).ok());
        let due = renewal_due(timestamped_at, tsa_not_after, self.config.archive_max_age);
        Ok(ArchiveState { timestamped_at, tsa_not_after, due })
    }

    /// The archive state of a contract completed before the platform kept one (the migration
    /// `backfill-long-term`): its newest document time stamp's; for a file with none (completed
    /// before B-LTA), due now, so the schedule adds its first, and timed by its newest
    /// signature's time stamp.
    pub(crate) async fn backfilled_archive_state(
        &self,
        data: &crate::contracts::ContractData,
    ) -> Result<ArchiveState, DomainError> {
        let pdf = self.latest_revision(data).await?;
        let (newest, pdf) = self.pdf_work(move || (esign_pades::verify::newest_document_timestamp(&pdf), pdf)).await?;
        if newest.map_err(ltv_error)?.is_some() {
            return self.archive_state(&pdf).await;
        }
        let signed = data
            .contract
            .signatures
            .iter()
            .filter_map(|s| {
                time::OffsetDateTime::parse(&s.signed_at, &time::format_description::well_known::Rfc3339).ok()
            })
            .max()
            .unwrap_or(data.contract.updated_at);
        Ok(ArchiveState { timestamped_at: signed, tsa_not_after: None, due: self.clock.now() })
    }

    /// Adds a new archive time stamp to a completed contract's latest revision and stores it as
    /// a new revision (the audit trail and a `contract.archive_timestamped` webhook say so).
    async fn renew_archive_of(
        &self,
        loaded: crate::platform::Versioned<crate::contracts::ContractData>,
        actor: crate::audit::Actor,
    ) -> Result<crate::contracts::ContractData, DomainError> {
        use sha2::Digest;
        let mut data = loaded.value;
        let id = data.contract.id.clone();
        let pdf = self.latest_revision(&data).await?;
        let base_len = i64::try_from(pdf.len()).unwrap_or(i64::MAX);
        let pdf = self.archive(pdf).await?;
        // Never store what does not verify: the new time stamp intact and trusted, and every
        // signature as intact as before.
        let anchors = self.signing_anchors().await?;
        let (report, pdf) =
            self.pdf_work(move || (esign_pades::verify_pdf_with_trust(&pdf, Some(&anchors)), pdf)).await?;
        let report = report.map_err(|e| DomainError::Internal(e.to_string()))?;
        let stamp = report.document_timestamps.last().filter(|t| t.byte_range.len() == 4 && t.byte_range[2] > base_len);
        match stamp {
            Some(t) if t.intact && t.trusted == Some(true) => {}
            Some(t) => {
                return Err(DomainError::Dependency(format!(
                    "the new document time stamp does not verify or chain to a trusted root: {:?}",
                    t.problems
                )));
            }
            None => return Err(DomainError::Internal("the new document time stamp is missing".into())),
        }
        if let Some(s) = report.signatures.iter().find(|s| !s.intact) {
            return Err(DomainError::Conflict(format!(
                "signature {} no longer verifies; the archive time stamp is not renewed: {:?}",
                s.field, s.problems
            )));
        }
        let archive = self.archive_state(&pdf).await?;
        let now = self.clock.now();
        let number = u32::try_from(data.contract.revisions.len()).map_err(|e| DomainError::Internal(e.to_string()))?;
        let sha256 = hex::encode(sha2::Sha256::digest(&pdf));
        let size = pdf.len() as u64;
        let key = format!("contracts/{id}/revisions/{number:04}-{}.pdf", uuid::Uuid::now_v7().simple());
        self.blobs.put(&key, pdf, "application/pdf").await?;
        data.revision_keys.push(key);
        data.contract.revisions.push(crate::contracts::Revision {
            number,
            size,
            sha256: sha256.clone(),
            party: None,
            created_at: now,
        });
        data.contract.updated_at = now;
        let details = serde_json::json!({
            "contract_id": id,
            "revision": number,
            "sha256": sha256,
            "timestamped_at": rfc3339(archive.timestamped_at),
            "next_renewal": rfc3339(archive.due),
        });
        data.archive = Some(archive);
        let mut writes = Vec::new();
        let mut recipients: Vec<&str> = vec![data.contract.initiator_id.as_str()];
        recipients.extend(data.contract.parties.iter().map(|p| p.enterprise_id.as_str()));
        recipients.dedup();
        let event =
            self.record_webhook_event(&mut writes, "contract.archive_timestamped", now, &recipients, details.clone())?;
        // The stored evidence report lists the revisions: the new one makes it out of date.
        writes.push(crate::evidence::evidence_due_write(&id, now)?);
        let head = crate::audit::Head::load(self.store.as_ref(), &crate::contracts::contract_subject(&id)).await?;
        self.save_contract_as(
            &mut data,
            loaded.version,
            head,
            actor,
            &[("contract.archive_timestamped", details)],
            writes,
        )
        .await?;
        self.dispatch_webhook_events(&[event]).await;
        tracing::info!(contract_id = %id, revision = number, "archive time stamp renewed");
        Ok(data)
    }

    /// `POST /v1/contracts/{id}/archive-timestamps`: a new archive time stamp on a completed
    /// contract, by one of its parties or its initiator (once an hour at most) or an operator.
    pub async fn renew_archive_timestamp(
        &self,
        principal: &crate::auth::Principal,
        id: &str,
    ) -> Result<crate::contracts::Contract, DomainError> {
        let loaded = match principal {
            crate::auth::Principal::Operator { .. } => {
                self.load(&crate::contracts::contract_key(id)).await?.ok_or(DomainError::NotFound("contract"))?
            }
            crate::auth::Principal::Member { .. } => self.visible_contract(principal, id).await?.0,
        };
        if loaded.value.contract.status != crate::contracts::ContractStatus::Completed {
            return Err(DomainError::Conflict(
                "only a completed contract carries an archive time stamp: every party signs first".into(),
            ));
        }
        let now = self.clock.now();
        if let (crate::auth::Principal::Member { .. }, Some(a)) = (principal, &loaded.value.archive) {
            let next = a.timestamped_at + MEMBER_RENEWAL_INTERVAL;
            if next > now {
                return Err(DomainError::RateLimited {
                    message: format!(
                        "the archive time stamp is from {}; a party renews it at most once an hour",
                        rfc3339(a.timestamped_at)
                    ),
                    retry_after_secs: u64::try_from((next - now).whole_seconds()).unwrap_or(0).max(1),
                });
            }
        }
        let data = self.renew_archive_of(loaded, principal.actor()).await?;
        Ok(data.view(now))
    }

    /// The scheduled `renew-archive-timestamps`: renews every completed contract whose archive
    /// time stamp is due (oldest due first, at most [`RENEWALS_PER_RUN`] a run).
    pub async fn renew_archive_timestamps(&self) -> Result<RenewalRun, DomainError> {
        let now = self.clock.now();
        let page = self
            .store
            .query(&crate::ports::Query {
                partition: crate::ports::Partition::Index(ARCHIVE_PARTITION.into()),
                prefix: String::new(),
                after: None,
                limit: RENEWALS_PER_RUN,
                descending: false,
            })
            .await?;
        let mut run = RenewalRun::default();
        let actor =
            crate::audit::Actor { kind: crate::audit::ActorKind::System, id: Some("renew-archive-timestamps".into()) };
        for record in page.records {
            let data: crate::contracts::ContractData = record.decode()?;
            if data.archive.as_ref().is_none_or(|a| a.due > now) {
                break;
            }
            let id = data.contract.id.clone();
            let loaded = crate::platform::Versioned { value: data, version: record.version };
            match self.renew_archive_of(loaded, actor.clone()).await {
                Ok(_) => run.renewed.push(id),
                Err(e) => {
                    tracing::warn!(contract_id = %id, error = %e, "archive time stamp not renewed; next run");
                    run.failed.push(id);
                }
            }
        }
        Ok(run)
    }
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_due_after_the_age_or_before_the_tsa_certificate_expires() {
        let at = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let two_years = std::time::Duration::from_secs(2 * 365 * 86_400);
        assert_eq!(renewal_due(at, None, two_years), at + Duration::days(730));
        // the TSA certificate expires in a year: renew 90 days before
        let not_after = at + Duration::days(365);
        assert_eq!(renewal_due(at, Some(not_after), two_years), not_after - TSA_EXPIRY_MARGIN);
        // it expires in 30 days: renew now, never before the time stamp itself
        assert_eq!(renewal_due(at, Some(at + Duration::days(30)), two_years), at);
        // a later expiry than the age changes nothing
        assert_eq!(renewal_due(at, Some(at + Duration::days(3650)), two_years), at + Duration::days(730));
        // the index sorts by due time
        let (a, b) = (archive_index(at, "ctr_b"), archive_index(at + Duration::seconds(1), "ctr_a"));
        assert!(a.sk < b.sk, "{a:?} {b:?}");
    }
}
