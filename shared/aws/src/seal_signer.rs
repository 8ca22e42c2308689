//! The signing engine's [`esign_pades::Signer`] on a seal's KMS key: the PDF engine hands over
//! the DER of the CMS signed attributes, KMS signs them (`MessageType=RAW`), the key never
//! leaves KMS.

use esign_pades::cms_sig::certs_from_pem;
use esign_pades::{PadesError, SignatureAlgorithm, Signer};
use esign_pki::{KeyAlgorithm, KeySigner};
use x509_cert::Certificate;

use crate::kms::KmsKeySigner;

/// A seal's KMS key with its certificate chain.
#[derive(Debug)]
pub struct KmsSealSigner {
    key: KmsKeySigner,
    chain: Vec<Certificate>,
}

impl KmsSealSigner {
    /// `chain_pem`: the seal certificate first, then its issuing CA (the root may follow).
    pub async fn connect(kms: aws_sdk_kms::Client, key_id: &str, chain_pem: &str) -> Result<Self, PadesError> {
        let key = KmsKeySigner::connect(kms, key_id).await.map_err(|e| PadesError::Signer(e.to_string()))?;
        Self::with_key(key, chain_pem).await
    }

    /// Like [`Self::connect`], with the key as the caller made it (e.g. from a public key it
    /// remembered, [`KmsKeySigner::with_public_key`]).
    pub async fn with_key(key: KmsKeySigner, chain_pem: &str) -> Result<Self, PadesError> {
        let chain = certs_from_pem(chain_pem.as_bytes())?;
        let public = key.public_key().await.map_err(|e| PadesError::Signer(e.to_string()))?;
        if chain.first().map(|c| &c.tbs_certificate.subject_public_key_info) != Some(&public) {
            return Err(PadesError::Key("the certificate is not the KMS key's".into()));
        }
        Ok(KmsSealSigner { key, chain })
    }
}

#[async_trait::async_trait]
impl Signer for KmsSealSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        match self.key.algorithm() {
            KeyAlgorithm::RsaPkcs1Sha256 => SignatureAlgorithm::RsaPkcs1Sha256,
            KeyAlgorithm::EcdsaP256Sha256 => SignatureAlgorithm::EcdsaP256Sha256,
        }
    }

    fn certificate_chain(&self) -> &[Certificate] {
        &self.chain
    }

    async fn sign(&self, signed_attributes_der: &[u8]) -> Result<Vec<u8>, PadesError> {
        self.key.sign(signed_attributes_der).await.map_err(|e| PadesError::Signer(e.to_string()))
    }
}
