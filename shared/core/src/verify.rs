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

/// How long a request waits for the PDF engine (verification, the check after signing):
/// `ESIGN_PDF_DEADLINE_SECS`, 10 s by default. The engine bounds its own work (decode budget,
/// walk budgets), so a task that outlives the deadline still ends; the request does not wait.
pub fn pdf_deadline() -> std::time::Duration {
    let secs = std::env::var("ESIGN_PDF_DEADLINE_SECS").ok().and_then(|v| v.parse::<u64>().ok()).filter(|&s| s > 0);
    std::time::Duration::from_secs(secs.unwrap_or(10))
}

/// Waits for blocking PDF work at most [`pdf_deadline`]; past it, a 422 naming the limit.
pub async fn with_deadline<T>(work: tokio::task::JoinHandle<T>) -> Result<T, DomainError> {
    let deadline = pdf_deadline();
    match tokio::time::timeout(deadline, work).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(DomainError::Internal(format!("the PDF engine failed: {e}"))),
        Err(_) => Err(DomainError::invalid(
            "document",
            "too_slow",
            format!("the document could not be processed within {} s", deadline.as_secs()),
        )),
    }
}

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
    pub enterprise_name: String,
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
        let pem = self.ca_certificates().await?;
        let roots = esign_pades::cms_sig::certs_from_pem(pem.as_bytes())
            .map_err(|e| DomainError::Internal(format!("the platform CA chain: {e}")))?;
        // The root is the only anchor (the issuing CA is not self-signed).
        let anchors: Vec<_> =
            roots.into_iter().filter(|c| c.tbs_certificate.subject == c.tbs_certificate.issuer).collect();
        // The PDF work runs on the blocking pool, never on the async workers, and is waited for
        // at most `pdf_deadline()`: a slow file answers a clear error and other requests go on.
        let owned = pdf.to_vec();
        let work = tokio::task::spawn_blocking(move || esign_pades::verify_pdf_with_trust(&owned, Some(&anchors)));
        let report = with_deadline(work).await?.map_err(|e| {
            let code = match e {
                esign_pades::PadesError::Empty => "empty",
                esign_pades::PadesError::NotPdf => "not_pdf",
                esign_pades::PadesError::Encrypted => "encrypted",
                _ => "malformed",
            };
            DomainError::invalid("document", code, e.to_string())
        })?;
        let mut signatures = Vec::new();
        for s in report.signatures {
            let seal = match &s.signer_serial {
                Some(serial) => self.known_seal(serial).await?,
                None => None,
            };
            signatures.push(VerifiedSignature { report: s, seal });
        }
        let valid =
            !signatures.is_empty() && signatures.iter().all(|s| s.report.intact && s.report.trusted == Some(true));
        Ok(VerificationReport { valid, revisions: report.revisions, signatures })
    }

    async fn known_seal(&self, serial: &str) -> Result<Option<KnownSeal>, DomainError> {
        let Some(index) = self.load::<CertIndex>(&cert_index_key(serial)).await? else {
            return Ok(None);
        };
        let seal = self.load_seal(&index.value.seal_id).await?.value.seal;
        let enterprise = self.load_enterprise(&index.value.enterprise_id).await?.value;
        Ok(Some(KnownSeal {
            seal_id: seal.id,
            seal_name: seal.name,
            status: seal.status.as_str().to_owned(),
            enterprise_id: enterprise.id,
            enterprise_name: enterprise.name,
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
