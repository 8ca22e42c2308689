//! Revocation of the platform's certificates, published as CRLs and answered by OCSP.
//!
//! Every certificate the issuing CA issues to a seal gets a status record (`CERT#<serial>`),
//! written with the seal's approval; revoking the seal marks each of its certificates revoked
//! (time, reason) in the same write as the seal's status, and puts them in the index partition
//! `REVOKED#issuing` that the CRL is built from. The CRLs of the issuing CA and of the root (empty
//! unless the issuing CA is ever revoked) are signed with the CAs' keys and kept in the table
//! (`CA#PLATFORM`/`CRL#<level>`): reissued after every revocation and by the scheduled
//! [`Platform::refresh_crls`] well before their nextUpdate. OCSP answers from the status
//! records, so a revocation shows there at once.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::Platform;
use crate::enterprises::internal;
use crate::error::DomainError;
use crate::ports::{
    AuthorityError, CaLevel, Condition, IssuedCertificate, Key, Partition, Query, Record, StoreError, Write,
};
use crate::seals::Seal;
use esign_pki::crl::{CrlContent, RevokedEntry};
use esign_pki::ocsp::{OcspStatus, RequestError};
use esign_pki::x509_cert::ext::pkix::CrlReason;
use esign_pki::x509_ocsp::OcspResponseStatus;

/// Largest OCSP request accepted, in bytes.
pub const MAX_OCSP_REQUEST_BYTES: usize = esign_pki::ocsp::MAX_REQUEST_BYTES;

/// `POST /v1/seals/{id}/revoke` (the body is optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeSeal {
    /// Published on the CRL and in OCSP answers; none by default.
    #[serde(default)]
    pub reason: RevocationReason,
}

/// How long a CRL of the issuing CA is valid (its nextUpdate after thisUpdate).
pub const ISSUING_CRL_VALIDITY: Duration = Duration::days(7);
/// How long a CRL of the root is valid.
pub const ROOT_CRL_VALIDITY: Duration = Duration::days(30);

/// Why a certificate was revoked (RFC 5280 §5.3.1 reason codes a seal's owner may give).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// No reason given (no reasonCode is published).
    #[default]
    Unspecified,
    /// The seal's key may be in someone else's hands.
    KeyCompromise,
    /// The company's name or details changed.
    AffiliationChanged,
    /// Replaced by another seal.
    Superseded,
    /// The seal is no longer used.
    CessationOfOperation,
}

impl RevocationReason {
    pub fn crl_reason(self) -> CrlReason {
        match self {
            RevocationReason::Unspecified => CrlReason::Unspecified,
            RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
            RevocationReason::AffiliationChanged => CrlReason::AffiliationChanged,
            RevocationReason::Superseded => CrlReason::Superseded,
            RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
        }
    }
}

/// When and why a certificate was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    #[serde(with = "time::serde::rfc3339")]
    pub revoked_at: OffsetDateTime,
    pub reason: RevocationReason,
}

/// The status record of one certificate of the issuing CA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CertStatusRecord {
    /// Lowercase hex, as [`IssuedCertificate::serial`].
    pub serial: String,
    pub seal_id: String,
    pub enterprise_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revocation>,
}

pub(crate) fn cert_status_key(serial: &str) -> Key {
    Key::new(format!("CERT#{}", serial.to_ascii_lowercase()), "STATUS")
}

fn revoked_partition(level: CaLevel) -> String {
    format!("REVOKED#{}", level.as_str())
}

fn crl_key(level: CaLevel) -> Key {
    Key::new("CA#PLATFORM", format!("CRL#{}", level.as_str()))
}

fn status_record(s: &CertStatusRecord) -> Result<Record, DomainError> {
    let mut r = Record::new(cert_status_key(&s.serial), serde_json::to_value(s).map_err(internal)?);
    if s.revoked.is_some() {
        r.index = Some(Key::new(revoked_partition(CaLevel::Issuing), format!("CERT#{}", s.serial)));
    }
    Ok(r)
}

/// The status record of a certificate just issued to `seal` (a write that must create it).
pub(crate) fn issued_status_write(seal: &Seal, certificate: &IssuedCertificate) -> Result<Write, DomainError> {
    let record = CertStatusRecord {
        serial: certificate.serial.to_ascii_lowercase(),
        seal_id: seal.id.clone(),
        enterprise_id: seal.enterprise_id.clone(),
        not_after: certificate.not_after,
        revoked: None,
    };
    Ok(Write::create(status_record(&record)?))
}

/// The status record of the platform's evidence seal certificate (a write that must create it):
/// it is the platform's, not an enterprise's seal.
pub(crate) fn evidence_status_write(serial: &str, not_after: OffsetDateTime) -> Result<Write, DomainError> {
    let record = CertStatusRecord {
        serial: serial.to_ascii_lowercase(),
        seal_id: "platform-evidence-seal".into(),
        enterprise_id: "platform".into(),
        not_after,
        revoked: None,
    };
    Ok(Write::create(status_record(&record)?))
}

/// Marks every certificate of `seal` revoked: a write per certificate, unconditional (a
/// certificate issued before status records existed gets one now).
pub(crate) fn revoked_status_writes(seal: &Seal, revocation: Revocation) -> Result<Vec<Write>, DomainError> {
    seal.certificate
        .iter()
        .map(|c| {
            let record = CertStatusRecord {
                serial: c.serial.to_ascii_lowercase(),
                seal_id: seal.id.clone(),
                enterprise_id: seal.enterprise_id.clone(),
                not_after: c.not_after,
                revoked: Some(revocation),
            };
            Ok(Write::Put { record: status_record(&record)?, condition: Condition::Always })
        })
        .collect()
}

/// A published CRL as kept in the table.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredCrl {
    number: u64,
    #[serde(with = "time::serde::rfc3339")]
    this_update: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    next_update: OffsetDateTime,
    entries: usize,
    /// The DER CRL, base64.
    der: String,
}

/// A published CRL as signing embeds it: its DER and when it stops being current.
#[derive(Debug, Clone)]
pub(crate) struct CurrentCrl {
    pub der: std::sync::Arc<Vec<u8>>,
    pub next_update: OffsetDateTime,
}

/// Where the current CRL of `level` is kept (read with the other records of a signing round).
pub(crate) fn crl_record_key(level: CaLevel) -> Key {
    crl_key(level)
}

/// The CRL a stored record holds.
pub(crate) fn crl_from_record(record: &Record) -> Result<CurrentCrl, DomainError> {
    let stored: StoredCrl = record.decode()?;
    let der =
        STANDARD.decode(stored.der).map_err(|e| DomainError::Internal(format!("a stored CRL is unreadable: {e}")))?;
    Ok(CurrentCrl { der: std::sync::Arc::new(der), next_update: stored.next_update })
}

/// What [`Platform::refresh_crls`] published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedCrl {
    pub issuer: CaLevel,
    pub number: u64,
    pub entries: usize,
    #[serde(with = "time::serde::rfc3339")]
    pub next_update: OffsetDateTime,
}

fn dependency(e: AuthorityError) -> DomainError {
    DomainError::Dependency(e.to_string())
}

impl Platform {
    /// Signs and stores a new CRL of `level` listing every certificate revoked under it.
    pub async fn publish_crl(&self, level: CaLevel) -> Result<PublishedCrl, DomainError> {
        for _ in 0..3 {
            let stored = self.load::<StoredCrl>(&crl_key(level)).await?;
            let mut entries = Vec::new();
            let mut after = None;
            loop {
                let page = self
                    .store
                    .query(&Query {
                        partition: Partition::Index(revoked_partition(level)),
                        prefix: "CERT#".into(),
                        after,
                        limit: 100,
                        descending: false,
                    })
                    .await?;
                for r in &page.records {
                    let s: CertStatusRecord = r.decode()?;
                    let Some(rev) = s.revoked else { continue };
                    let serial = esign_pki::ocsp::serial_from_hex(&s.serial)
                        .map_err(|e| DomainError::Internal(format!("a stored serial is unreadable: {e}")))?;
                    entries.push(RevokedEntry {
                        serial,
                        revoked_at: rev.revoked_at,
                        reason: Some(rev.reason.crl_reason()),
                    });
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            let now = self.clock.now().replace_nanosecond(0).map_err(|e| DomainError::Internal(e.to_string()))?;
            let validity = match level {
                CaLevel::Root => ROOT_CRL_VALIDITY,
                CaLevel::Issuing => ISSUING_CRL_VALIDITY,
            };
            let number = stored.as_ref().map_or(1, |s| s.value.number.saturating_add(1));
            let content = CrlContent { number, this_update: now, next_update: now + validity, entries };
            let der = self.authority.sign_crl(level, &content).await.map_err(dependency)?;
            let value = StoredCrl {
                number,
                this_update: now,
                next_update: content.next_update,
                entries: content.entries.len(),
                der: STANDARD.encode(&der),
            };
            let record = Record::new(crl_key(level), serde_json::to_value(&value).map_err(internal)?);
            let write = match &stored {
                Some(s) => Write::replace(record, s.version),
                None => Write::create(record),
            };
            match self.store.write(vec![write]).await {
                Ok(()) => {
                    if level == CaLevel::Root {
                        self.warm.forget_root_crl();
                    }
                    tracing::info!(issuer = level.as_str(), number, entries = value.entries, "CRL published");
                    return Ok(PublishedCrl {
                        issuer: level,
                        number,
                        entries: value.entries,
                        next_update: value.next_update,
                    });
                }
                // Another publisher won: read its CRL number and list again.
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(DomainError::Conflict("the CRL kept changing while it was published".into()))
    }

    /// Reissues both CRLs (the scheduled function, and at start-up of a local server): always,
    /// so a CRL never comes near its nextUpdate and a revocation whose reissue failed is
    /// published within one period.
    pub async fn refresh_crls(&self) -> Result<Vec<PublishedCrl>, DomainError> {
        Ok(vec![self.publish_crl(CaLevel::Issuing).await?, self.publish_crl(CaLevel::Root).await?])
    }

    /// The current CRL of `level`, DER; 503 when none has been published yet.
    pub async fn crl(&self, level: CaLevel) -> Result<Vec<u8>, DomainError> {
        let stored = self.load::<StoredCrl>(&crl_key(level)).await?.ok_or_else(|| {
            DomainError::Dependency(format!("the {} CA's CRL has not been published yet", level.as_str()))
        })?;
        STANDARD.decode(stored.value.der).map_err(|e| DomainError::Internal(format!("a stored CRL is unreadable: {e}")))
    }

    /// The issuing CA's certificate, DER (what seal certificates name as caIssuers).
    pub async fn issuing_certificate(&self) -> Result<Vec<u8>, DomainError> {
        self.authority.issuing_certificate_der().await.map_err(dependency)
    }

    /// The status of one certificate of the issuing CA, by serial (lowercase hex).
    async fn certificate_status(&self, serial: &str) -> Result<OcspStatus, DomainError> {
        let Some(record) = self.load::<CertStatusRecord>(&cert_status_key(serial)).await? else {
            return Ok(OcspStatus::Unknown);
        };
        Ok(match record.value.revoked {
            Some(r) => OcspStatus::Revoked { at: r.revoked_at, reason: Some(r.reason.crl_reason()) },
            None => OcspStatus::Good,
        })
    }

    /// Answers a DER OCSPRequest with a DER OCSPResponse (RFC 6960): always a response, never an
    /// error (`malformedRequest` for what does not parse, `internalError` when the key service
    /// or the table fails), as OCSP clients expect.
    pub async fn ocsp(&self, request: &[u8]) -> Vec<u8> {
        match self.try_ocsp(request).await {
            Ok(der) => der,
            Err(OcspFailure::Request(e)) => {
                tracing::debug!(error = %e, "malformed OCSP request");
                esign_pki::ocsp::error_response(OcspResponseStatus::MalformedRequest)
            }
            Err(OcspFailure::Internal(e)) => {
                tracing::error!(error = %e, "OCSP responder failed");
                esign_pki::ocsp::error_response(OcspResponseStatus::InternalError)
            }
        }
    }

    async fn try_ocsp(&self, request: &[u8]) -> Result<Vec<u8>, OcspFailure> {
        let issuing = self.issuing_certificate().await.map_err(OcspFailure::Internal)?;
        let issuing = esign_pki::cert::certificate_from_der(&issuing)
            .map_err(|e| OcspFailure::Internal(DomainError::Internal(e.to_string())))?;
        let parsed = esign_pki::ocsp::parse_request(request, &issuing).map_err(OcspFailure::Request)?;
        let mut statuses = Vec::with_capacity(parsed.queries.len());
        for q in &parsed.queries {
            statuses.push(match &q.serial {
                Some(serial) => self
                    .certificate_status(&esign_pki::ocsp::serial_hex(serial))
                    .await
                    .map_err(OcspFailure::Internal)?,
                None => OcspStatus::Unknown,
            });
        }
        self.authority
            .ocsp_respond(&parsed, &statuses, self.clock.now())
            .await
            .map_err(|e| OcspFailure::Internal(dependency(e)))
    }

    /// A signed OCSP response (DER) about one certificate of the issuing CA, without HTTP: what
    /// signing embeds as validation data (PAdES B-LT). `certificate_der` is the certificate.
    pub async fn ocsp_response_for(&self, certificate_der: &[u8]) -> Result<Vec<u8>, DomainError> {
        let cert = esign_pki::cert::certificate_from_der(certificate_der)
            .map_err(|_| DomainError::invalid("certificate", "invalid", "not a DER X.509 certificate"))?;
        let issuing = esign_pki::cert::certificate_from_der(&self.issuing_certificate().await?)
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        if cert.tbs_certificate.issuer != issuing.tbs_certificate.subject {
            return Err(DomainError::invalid("certificate", "issuer", "not issued by the platform's issuing CA"));
        }
        let request = esign_pki::ocsp::request_for(&issuing, &cert.tbs_certificate.serial_number)
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        match self.try_ocsp(&request).await {
            Ok(der) => Ok(der),
            Err(OcspFailure::Request(e)) => Err(DomainError::Internal(e.to_string())),
            Err(OcspFailure::Internal(e)) => Err(e),
        }
    }
}

enum OcspFailure {
    Request(RequestError),
    Internal(DomainError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seals::SealStatus;
    use crate::testing::{active_seal, full, verified};
    use esign_pki::x509_ocsp::CertStatus;

    fn statuses(der: &[u8]) -> Vec<CertStatus> {
        let basic = esign_pki::ocsp::basic_response(der).unwrap().expect("a successful response");
        basic.tbs_response_data.responses.iter().map(|r| r.cert_status).collect()
    }

    #[tokio::test]
    async fn revoking_a_seal_puts_its_certificate_on_the_crl_and_ocsp_says_revoked() {
        let t = full();
        let p = &t.platform;
        let (_, admin) = verified(p).await;
        let id = active_seal(&t, &admin).await;
        let seal = p.get_seal(&admin, &id).await.unwrap();
        let pem = seal.certificate.as_ref().unwrap().pem.clone();
        let (_, der) = esign_pki::der::pem::decode_vec(pem.as_bytes()).unwrap();

        let fresh = full();
        assert!(matches!(fresh.platform.crl(CaLevel::Issuing).await, Err(DomainError::Dependency(_))), "none yet");
        // active_seal published the CRLs once, as the scheduled refresh does.
        let published = p.refresh_crls().await.unwrap();
        assert_eq!((published[0].number, published[0].entries), (2, 0));
        assert!(matches!(statuses(&p.ocsp_response_for(&der).await.unwrap())[0], CertStatus::Good(_)));

        p.revoke_seal(&admin, &seal.id, RevocationReason::KeyCompromise).await.unwrap();
        let crl = esign_pki::crl::crl_from_der(&p.crl(CaLevel::Issuing).await.unwrap()).unwrap();
        assert_eq!(esign_pki::crl::crl_number(&crl), Some(3));
        let listed = crl.tbs_cert_list.revoked_certificates.unwrap();
        assert_eq!(
            esign_pki::ocsp::serial_hex(&listed[0].serial_number),
            seal.certificate.as_ref().unwrap().serial.to_ascii_lowercase()
        );
        match statuses(&p.ocsp_response_for(&der).await.unwrap())[0] {
            CertStatus::Revoked(info) => assert_eq!(info.revocation_reason, Some(CrlReason::KeyCompromise)),
            other => panic!("not revoked: {other:?}"),
        }
        let root = esign_pki::crl::crl_from_der(&p.crl(CaLevel::Root).await.unwrap()).unwrap();
        assert!(root.tbs_cert_list.revoked_certificates.is_none());
        assert_eq!(p.get_seal(&admin, &seal.id).await.unwrap().status, SealStatus::Revoked);
    }

    #[tokio::test]
    async fn ocsp_answers_garbage_with_malformed_request() {
        let t = full();
        assert_eq!(t.platform.ocsp(b"nonsense").await, [0x30, 0x03, 0x0a, 0x01, 0x01]);
    }
}
