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
    /// Every signature intact and chaining to the platform root.
    pub valid: bool,
    pub revisions: usize,
    pub signatures: Vec<VerifiedSignature>,
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
            signatures.push(VerifiedSignature { report: s, seal });
        }
        let valid =
            !signatures.is_empty() && signatures.iter().all(|s| s.report.intact && s.report.trusted == Some(true));
        Ok(VerificationReport { valid, revisions: report.revisions, signatures })
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
