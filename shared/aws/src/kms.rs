//! [`esign_pki::KeySigner`] on an AWS KMS asymmetric key (KeyUsage `SIGN_VERIFY`, KeySpec
//! `ECC_NIST_P256` or `RSA_2048`/`RSA_3072`/`RSA_4096`). The private key never leaves KMS.
//!
//! Signing uses `MessageType=RAW` (KMS hashes with SHA-256): correct on AWS, LocalStack and moto,
//! whereas moto gets `DIGEST` wrong. KMS accepts RAW messages up to 4096 bytes, which covers
//! TBSCertificates and CMS signed attributes.

use aws_sdk_kms::error::DisplayErrorContext;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use esign_pki::der::Decode;
use esign_pki::spki::SubjectPublicKeyInfoOwned;
use esign_pki::{KeyAlgorithm, KeySigner, PkiError};
use tokio::sync::OnceCell;

/// The largest message KMS `Sign` takes with `MessageType=RAW`.
pub const KMS_MAX_RAW_MESSAGE: usize = 4096;

/// A KMS key used through `GetPublicKey` (fetched once, then cached) and `Sign`.
#[derive(Debug)]
pub struct KmsKeySigner {
    client: aws_sdk_kms::Client,
    key_id: String,
    algorithm: KeyAlgorithm,
    public_key: OnceCell<SubjectPublicKeyInfoOwned>,
}

impl KmsKeySigner {
    /// A signer for `key_id` (key id, ARN or alias) with the given algorithm; the public key is
    /// fetched on first use and must match `algorithm`.
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>, algorithm: KeyAlgorithm) -> Self {
        Self { client, key_id: key_id.into(), algorithm, public_key: OnceCell::new() }
    }

    /// A signer for `key_id` whose algorithm follows from its public key (fetched now).
    pub async fn connect(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> Result<Self, PkiError> {
        let key_id = key_id.into();
        let public_key = fetch_public_key(&client, &key_id).await?;
        Self::with_public_key(client, key_id, public_key)
    }

    /// A signer for `key_id` whose public key the caller already has (as `GetPublicKey` answered
    /// it earlier: a KMS key's public key never changes).
    pub fn with_public_key(
        client: aws_sdk_kms::Client,
        key_id: impl Into<String>,
        public_key: SubjectPublicKeyInfoOwned,
    ) -> Result<Self, PkiError> {
        let algorithm = KeyAlgorithm::for_public_key(&public_key)?;
        Ok(Self { client, key_id: key_id.into(), algorithm, public_key: OnceCell::new_with(Some(public_key)) })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    fn signing_algorithm(&self) -> SigningAlgorithmSpec {
        match self.algorithm {
            KeyAlgorithm::RsaPkcs1Sha256 => SigningAlgorithmSpec::RsassaPkcs1V15Sha256,
            KeyAlgorithm::EcdsaP256Sha256 => SigningAlgorithmSpec::EcdsaSha256,
        }
    }
}

async fn fetch_public_key(client: &aws_sdk_kms::Client, key_id: &str) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
    let out = client
        .get_public_key()
        .key_id(key_id)
        .send()
        .await
        .map_err(|e| PkiError::Signer(format!("KMS GetPublicKey {key_id}: {}", DisplayErrorContext(&e))))?;
    if let Some(usage) = out.key_usage()
        && usage.as_str() != "SIGN_VERIFY"
    {
        return Err(PkiError::UnsupportedKey(format!(
            "KMS key {key_id} has KeyUsage {}, not SIGN_VERIFY",
            usage.as_str()
        )));
    }
    let der = out
        .public_key()
        .ok_or_else(|| PkiError::Signer(format!("KMS GetPublicKey {key_id}: no public key in the answer")))?;
    SubjectPublicKeyInfoOwned::from_der(der.as_ref())
        .map_err(|e| PkiError::Signer(format!("KMS GetPublicKey {key_id}: not a DER SubjectPublicKeyInfo: {e}")))
}

#[async_trait::async_trait]
impl KeySigner for KmsKeySigner {
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    async fn public_key(&self) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
        let key = self
            .public_key
            .get_or_try_init(|| async {
                let key = fetch_public_key(&self.client, &self.key_id).await?;
                let actual = KeyAlgorithm::for_public_key(&key)?;
                if actual != self.algorithm {
                    return Err(PkiError::UnsupportedKey(format!(
                        "KMS key {} is for {actual:?}, configured as {:?}",
                        self.key_id, self.algorithm
                    )));
                }
                Ok(key)
            })
            .await?;
        Ok(key.clone())
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        if message.len() > KMS_MAX_RAW_MESSAGE {
            return Err(PkiError::Signer(format!(
                "KMS signs RAW messages of at most {KMS_MAX_RAW_MESSAGE} bytes, not {}",
                message.len()
            )));
        }
        let out = self
            .client
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(message))
            .message_type(MessageType::Raw)
            .signing_algorithm(self.signing_algorithm())
            .send()
            .await
            .map_err(|e| PkiError::Signer(format!("KMS Sign {}: {}", self.key_id, DisplayErrorContext(&e))))?;
        out.signature()
            .map(|s| s.as_ref().to_vec())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| PkiError::Signer(format!("KMS Sign {}: no signature in the answer", self.key_id)))
    }
}
