//! `POST /v1/verify`: the signing engine's report on any PDF, with the platform's trust anchors,
//! naming the seals and enterprises behind signatures made on this platform.

use serde::Serialize;

use crate::auth::Principal;
use crate::error::DomainError;
use crate::platform::{Platform, own_enterprise};
use crate::seals::{CertIndex, cert_index_key};

/// Largest PDF accepted directly in the request body: API Gateway hands Lambda binary bodies
/// base64-encoded, and Lambda takes at most 6 MB per request, so 4 MiB (5.6 MB encoded) is
/// what fits. Larger files go through `POST /v1/verify/uploads`.
pub const MAX_VERIFY_BYTES: usize = 4 * 1024 * 1024;

/// One signature of the report.
#[derive(Debug, Clone, Serialize)]
pub struct VerifiedSignature {
    #[serde(flatten)]
    pub report: esign_pades::SignatureReport,
    /// The platform seal whose certificate made the signature, when it is one of ours.
    pub seal: Option<KnownSeal>,
    /// Whether the signature stays provable: its PAdES level, its embedded validation data, its
    /// certificate's status at the signing time and what the platform knows of it since.
    pub long_term: LongTerm,
}

/// The long-term facts of one signature.
#[derive(Debug, Clone, Serialize)]
pub struct LongTerm {
    /// The PAdES baseline level reached: `B-B`, `B-T`, `B-LT` (validation data for the signer's
    /// and the TSA's chains embedded), `B-LTA` (and covered by a document time stamp); `none`
    /// when the signature is not intact.
    pub level: String,
    /// Every certificate of the signer's and its time stamp's chains (but the root) has a status
    /// from the embedded OCSP responses or CRLs.
    pub validation_data_complete: bool,
    /// What is missing when it is not complete.
    pub missing_validation_data: Vec<String>,
    /// The signer certificate's status at the signing time from the embedded data: `good`,
    /// `revoked_after_signing`, `revoked_before_signing` or `unknown`.
    pub status_at_signing: esign_pades::revinfo::RevocationStatus,
    /// The moment judged (the signature time stamp's time).
    pub signed_at: Option<String>,
    /// The platform's own record, for a seal of this platform whose certificate was revoked
    /// since (whatever the file embeds).
    pub revoked: Option<LaterRevocation>,
    /// What it all means, in words.
    pub statement: String,
}

/// A revocation the platform recorded for the signer's certificate.
#[derive(Debug, Clone, Serialize)]
pub struct LaterRevocation {
    #[serde(with = "time::serde::rfc3339")]
    pub revoked_at: time::OffsetDateTime,
    pub reason: crate::revocation::RevocationReason,
    /// Revoked after the signing time: the signature was made with a valid certificate and stays
    /// valid; revoked before it, the signature is invalid.
    pub after_signing: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct KnownSeal {
    pub seal_id: String,
    pub seal_name: String,
    pub status: String,
    pub enterprise_id: String,
    /// The verified company name and USCC.
    pub enterprise_name: String,
    pub uscc: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerificationReport {
    /// Every signature intact and chaining to the platform root (and not made with a certificate
    /// the platform had revoked by then), every document time stamp intact and trusted.
    pub valid: bool,
    pub revisions: usize,
    pub signatures: Vec<VerifiedSignature>,
    /// The document time stamps (PAdES B-LTA archive time stamps), oldest first.
    pub document_timestamps: Vec<esign_pades::DocTimestampReport>,
}

impl Platform {
    /// Verifies every signature of `pdf` against the platform's root.
    pub async fn verify_document(&self, pdf: &[u8]) -> Result<VerificationReport, DomainError> {
        let anchors = self.trust_anchors().await?;
        let pdf = pdf.to_vec();
        // Off the async workers and within the deadline: a file from anyone may be slow.
        let report = self.pdf_work(move || esign_pades::verify_pdf_with_trust(&pdf, Some(&anchors))).await?;
        let report = report.map_err(|e| {
            let code = match e {
                esign_pades::PadesError::Empty => "empty",
                esign_pades::PadesError::NotPdf => "not_pdf",
                esign_pades::PadesError::Encrypted => "encrypted",
                esign_pades::PadesError::Damaged(_) => "damaged",
                esign_pades::PadesError::Limit(_) => "too_complex",
                _ => "malformed",
            };
            DomainError::invalid("document", code, e.to_string())
        })?;
        let mut signatures = Vec::new();
        // Only a signature whose certificate chains to the platform root is attributed, by the
        // certificate's fingerprint, and each certificate is looked up once.
        let mut known: std::collections::HashMap<String, Option<KnownSeal>> = std::collections::HashMap::new();
        for s in report.signatures {
            let seal = match (&s.signer_fingerprint, s.trusted) {
                (Some(fp), Some(true)) => match known.get(fp) {
                    Some(k) => k.clone(),
                    None => {
                        let k = self.known_seal(fp).await?;
                        known.insert(fp.clone(), k.clone());
                        k
                    }
                },
                _ => None,
            };
            let revoked = match (&seal, &s.signer_serial) {
                (Some(k), Some(serial)) if k.status == "revoked" => self.recorded_revocation(serial).await?,
                _ => None,
            };
            let long_term = long_term(&s, revoked);
            signatures.push(VerifiedSignature { report: s, seal, long_term });
        }
        let valid = !signatures.is_empty()
            && signatures.iter().all(|s| {
                s.report.intact
                    && s.report.trusted == Some(true)
                    && s.long_term.revoked.as_ref().is_none_or(|r| r.after_signing)
            })
            && report.document_timestamps.iter().all(|t| t.intact && t.trusted == Some(true));
        Ok(VerificationReport {
            valid,
            revisions: report.revisions,
            signatures,
            document_timestamps: report.document_timestamps,
        })
    }

    /// When and why the platform revoked the certificate with this serial (lowercase hex), if it did.
    async fn recorded_revocation(
        &self,
        serial: &str,
    ) -> Result<Option<(time::OffsetDateTime, crate::revocation::RevocationReason)>, DomainError> {
        let record =
            self.load::<crate::revocation::CertStatusRecord>(&crate::revocation::cert_status_key(serial)).await?;
        Ok(record.and_then(|r| r.value.revoked).map(|r| (r.revoked_at, r.reason)))
    }

    async fn known_seal(&self, fingerprint: &str) -> Result<Option<KnownSeal>, DomainError> {
        let Some(index) = self.load::<CertIndex>(&cert_index_key(fingerprint)).await? else {
            return Ok(None);
        };
        let seal = self.load_seal(&index.value.seal_id).await?.value.seal;
        let enterprise = self.load_enterprise(&index.value.enterprise_id).await?.value;
        Ok(Some(KnownSeal {
            seal_id: seal.id,
            seal_name: seal.name,
            status: seal.status.as_str().to_owned(),
            enterprise_id: enterprise.id,
            enterprise_name: enterprise
                .verified_identity
                .as_ref()
                .map_or(enterprise.name.clone(), |v| v.company_name.clone()),
            uscc: enterprise.verified_identity.map(|v| v.uscc).unwrap_or_default(),
        }))
    }
}

/// `POST /v1/verify` with a JSON body: a contract's latest revision, or a PDF uploaded through
/// `POST /v1/verify/uploads`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyStored {
    #[serde(default)]
    pub contract_id: Option<String>,
    #[serde(default)]
    pub file_id: Option<String>,
}

/// `POST /v1/verify/uploads`: the size of the PDF to upload for verification.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyUpload {
    pub size: u64,
}

impl Platform {
    /// A presigned upload for a PDF too large to send in the request (members).
    pub async fn create_verify_upload(
        &self,
        principal: &Principal,
        input: VerifyUpload,
    ) -> Result<crate::uploads::UploadTicket, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        let max = crate::contracts::MAX_PDF_BYTES;
        if input.size == 0 || input.size > max {
            return Err(DomainError::invalid("size", "range", format!("the PDF must be 1 to {max} bytes")));
        }
        let mut writes = Vec::new();
        let spec = crate::uploads::UploadSpec {
            purpose: "verification",
            content_type: "application/pdf",
            size: input.size,
            max_bytes: max,
            blob_key: &|id| format!("uploads/{enterprise_id}/verify/{id}.pdf"),
        };
        let ticket = self.upload_ticket(enterprise_id, spec, &mut writes).await?;
        self.store.write(writes).await?;
        Ok(ticket)
    }

    /// The report on a stored PDF: a contract's latest revision (its parties) or a PDF the
    /// caller's enterprise uploaded for verification.
    pub async fn verify_stored(
        &self,
        principal: &Principal,
        input: VerifyStored,
    ) -> Result<VerificationReport, DomainError> {
        match (input.contract_id, input.file_id) {
            (Some(contract), None) => self.verify_contract(principal, &contract).await,
            (None, Some(file)) => {
                let (enterprise_id, _, _) = own_enterprise(principal)?;
                let upload = self
                    .load_upload(&file)
                    .await?
                    .filter(|u| u.enterprise_id == enterprise_id && u.purpose == "verification")
                    .ok_or(DomainError::NotFound("file"))?;
                let pdf = self
                    .blobs
                    .get(&upload.blob_key)
                    .await?
                    .ok_or_else(|| DomainError::invalid("file_id", "not_uploaded", "nothing was uploaded yet"))?;
                self.verify_document(&pdf).await
            }
            _ => Err(DomainError::invalid("body", "one_of", "give exactly one of contract_id and file_id")),
        }
    }
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// The long-term facts of a signature from the engine's report and the platform's record of a
/// revocation of its certificate.
fn long_term(
    s: &esign_pades::SignatureReport,
    revoked: Option<(time::OffsetDateTime, crate::revocation::RevocationReason)>,
) -> LongTerm {
    use esign_pades::revinfo::RevocationStatus;
    let status_at_signing = s.revocation.as_ref().map_or(RevocationStatus::Unknown, |r| r.status);
    // The moment judged: the engine's (the signature time stamp's), else the signing time.
    let signed_at = s.revocation.as_ref().map(|r| r.at.clone()).or_else(|| s.signing_time.clone());
    let at = signed_at
        .as_deref()
        .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok());
    let (complete, missing) = match &s.validation_data {
        Some(v) => (v.complete, v.missing.clone()),
        None => (false, vec!["the file embeds no validation data (no DSS)".to_owned()]),
    };
    // A revocation whose time is at or before the signing time, or a signature of no known time,
    // does not count as "after".
    let revoked = revoked.map(|(revoked_at, reason)| LaterRevocation {
        revoked_at,
        reason,
        after_signing: at.is_some_and(|at| revoked_at > at),
    });
    let when = signed_at.as_deref().unwrap_or("an unknown time");
    let mut statement = match (&revoked, status_at_signing) {
        (Some(r), _) if r.after_signing => format!(
            "The seal's certificate was revoked on {} ({}), after this signature was made at {when}: \
             the signature was made with a valid certificate and stays valid.",
            rfc3339(r.revoked_at),
            serde_json::to_value(r.reason).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
        ),
        (Some(r), _) => format!(
            "The seal's certificate was revoked on {}, before this signature's time ({when}): the \
             signature is not valid.",
            rfc3339(r.revoked_at)
        ),
        (None, RevocationStatus::Good) => {
            format!("The certificate was not revoked at the signing time ({when}), by the embedded data.")
        }
        (None, RevocationStatus::RevokedAfterSigning) => format!(
            "The embedded data says the certificate was revoked after the signing time ({when}): the \
             signature stays valid."
        ),
        (None, RevocationStatus::RevokedBeforeSigning) => format!(
            "The embedded data says the certificate was revoked before the signing time ({when}): the \
             signature is not valid."
        ),
        (None, RevocationStatus::Unknown) => {
            format!("No embedded data tells the certificate's status at the signing time ({when}).")
        }
    };
    statement.push(' ');
    statement.push_str(&match s.level.as_str() {
        "B-LTA" => "Level B-LTA: the validation data is complete and a document time stamp covers it, so the \
                    signature can be validated offline, with only the platform root, for as long as that \
                    time stamp is renewed."
            .to_owned(),
        "B-LT" => "Level B-LT: the validation data is complete, so the signature can be validated offline with \
                   only the platform root."
            .to_owned(),
        "none" => "The signature is not intact.".to_owned(),
        level => format!("Level {level}: the validation data is incomplete ({}).", missing.join("; ")),
    });
    LongTerm {
        level: s.level.clone(),
        validation_data_complete: complete,
        missing_validation_data: missing,
        status_at_signing,
        signed_at,
        revoked,
        statement,
    }
}
