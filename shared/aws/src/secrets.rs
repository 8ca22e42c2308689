//! [`SecretBox`] on a symmetric KMS key (`Encrypt`/`Decrypt`): the plaintext never rests outside
//! KMS, and the context travels as the KMS encryption context, so a sealed secret copied to
//! another record does not open there (and CloudTrail shows whose secret was opened).

use async_trait::async_trait;
use aws_sdk_kms::error::DisplayErrorContext;
use aws_sdk_kms::primitives::Blob;
use esign_core::ports::{SecretBox, SecretError};

/// The encryption-context key that carries a secret's owner.
const CONTEXT_KEY: &str = "esign-secret";

#[derive(Debug, Clone)]
pub struct KmsSecretBox {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl KmsSecretBox {
    /// Seals with `key_id` (id, ARN or alias of a SYMMETRIC_DEFAULT key).
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        KmsSecretBox { client, key_id: key_id.into() }
    }
}

#[async_trait]
impl SecretBox for KmsSecretBox {
    async fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, SecretError> {
        let out = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(plaintext))
            .encryption_context(CONTEXT_KEY, context)
            .send()
            .await
            .map_err(|e| SecretError::Unavailable(format!("KMS Encrypt: {}", DisplayErrorContext(&e))))?;
        out.ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| SecretError::Unavailable("KMS Encrypt returned no ciphertext".into()))
    }

    async fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SecretError> {
        let out = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(sealed))
            .encryption_context(CONTEXT_KEY, context)
            .send()
            .await
            .map_err(|e| {
                let refused = e.as_service_error().is_some_and(|s| s.is_invalid_ciphertext_exception());
                let message = format!("KMS Decrypt: {}", DisplayErrorContext(&e));
                if refused { SecretError::Corrupt(message) } else { SecretError::Unavailable(message) }
            })?;
        out.plaintext
            .map(Blob::into_inner)
            .ok_or_else(|| SecretError::Unavailable("KMS Decrypt returned nothing".into()))
    }
}
