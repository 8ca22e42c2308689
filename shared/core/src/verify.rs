//! `POST /v1/verify`: the signing engine's report on any PDF, with the platform's trust anchors,
//! naming the seals and enterprises behind signatures made on this platform.

use serde::Serialize;

use crate::error::DomainError;
use crate::platform::Platform;
use crate::seals::{CertIndex, cert_index_key};

/// Largest PDF accepted directly in the request body.
pub const MAX_VERIFY_BYTES: usize = 5 * 1024 * 1024;

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
        let report = esign_pades::verify_pdf_with_trust(pdf, Some(&anchors)).map_err(|e| {
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

/// `POST /v1/verify` with a JSON body: a contract's latest revision.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyContract {
    pub contract_id: String,
}
