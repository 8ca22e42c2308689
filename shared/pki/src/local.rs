//! An in-process [`KeySigner`] for tests and local tooling.

use async_trait::async_trait;
use der::Decode;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use signature::Signer;
use spki::SubjectPublicKeyInfoOwned;

use crate::{KeyAlgorithm, KeySigner, PkiError};

enum Key {
    Rsa(Box<rsa::pkcs1v15::SigningKey<sha2::Sha256>>),
    P256(p256::ecdsa::SigningKey),
}

/// A private key held in memory: RSA (PKCS#1 v1.5, SHA-256) or P-256 (ECDSA, SHA-256).
pub struct LocalKeySigner {
    key: Key,
    public_key: SubjectPublicKeyInfoOwned,
}

impl std::fmt::Debug for LocalKeySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKeySigner").field("algorithm", &self.algorithm()).finish_non_exhaustive()
    }
}

impl LocalKeySigner {
    /// From a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`), RSA or EC P-256.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, PkiError> {
        if let Ok(key) = p256::SecretKey::from_pkcs8_pem(pem) {
            return Self::from_p256(p256::ecdsa::SigningKey::from(key));
        }
        match rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
            Ok(key) => Self::from_rsa(key),
            Err(e) => Err(PkiError::UnsupportedKey(format!("not a PKCS#8 RSA or P-256 private key: {e}"))),
        }
    }

    /// A fresh P-256 key.
    pub fn generate_p256() -> Result<Self, PkiError> {
        Self::from_p256(p256::ecdsa::SigningKey::random(&mut rand_core::OsRng))
    }

    /// A fresh RSA key of `bits` (2048 or more).
    pub fn generate_rsa(bits: usize) -> Result<Self, PkiError> {
        if bits < 2048 {
            return Err(PkiError::UnsupportedKey(format!("RSA-{bits} is too short")));
        }
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits)
            .map_err(|e| PkiError::Signer(format!("RSA key generation: {e}")))?;
        Self::from_rsa(key)
    }

    /// The private key as PKCS#8 PEM (for test fixtures handed to other tools).
    pub fn to_pkcs8_pem(&self) -> Result<String, PkiError> {
        let pem = match &self.key {
            Key::Rsa(key) => AsRef::<rsa::RsaPrivateKey>::as_ref(key.as_ref()).to_pkcs8_pem(LineEnding::LF),
            Key::P256(key) => p256::SecretKey::from(key).to_pkcs8_pem(LineEnding::LF),
        };
        pem.map(|p| p.to_string()).map_err(|e| PkiError::Signer(format!("PKCS#8 encoding: {e}")))
    }

    fn from_p256(key: p256::ecdsa::SigningKey) -> Result<Self, PkiError> {
        let der = key
            .verifying_key()
            .to_public_key_der()
            .map_err(|e| PkiError::Signer(format!("P-256 public key encoding: {e}")))?;
        let public_key = SubjectPublicKeyInfoOwned::from_der(der.as_bytes())?;
        Ok(Self { key: Key::P256(key), public_key })
    }

    fn from_rsa(key: rsa::RsaPrivateKey) -> Result<Self, PkiError> {
        let der = key
            .to_public_key()
            .to_public_key_der()
            .map_err(|e| PkiError::Signer(format!("RSA public key encoding: {e}")))?;
        let public_key = SubjectPublicKeyInfoOwned::from_der(der.as_bytes())?;
        let signing = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key);
        Ok(Self { key: Key::Rsa(Box::new(signing)), public_key })
    }
}

#[async_trait]
impl KeySigner for LocalKeySigner {
    fn algorithm(&self) -> KeyAlgorithm {
        match self.key {
            Key::Rsa(..) => KeyAlgorithm::RsaPkcs1Sha256,
            Key::P256(_) => KeyAlgorithm::EcdsaP256Sha256,
        }
    }

    async fn public_key(&self) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
        Ok(self.public_key.clone())
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        match &self.key {
            Key::Rsa(key) => {
                let sig: rsa::pkcs1v15::Signature =
                    key.try_sign(message).map_err(|e| PkiError::Signer(format!("RSA: {e}")))?;
                Ok(Box::<[u8]>::from(sig).into_vec())
            }
            Key::P256(key) => {
                let sig: p256::ecdsa::Signature =
                    key.try_sign(message).map_err(|e| PkiError::Signer(format!("ECDSA: {e}")))?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify_signature;

    #[tokio::test]
    async fn p256_signs_what_verify_accepts_and_pem_round_trips() {
        let signer = LocalKeySigner::generate_p256().unwrap();
        assert_eq!(signer.algorithm(), KeyAlgorithm::EcdsaP256Sha256);
        let spki = signer.public_key().await.unwrap();
        let sig = signer.sign(b"hello").await.unwrap();
        assert_eq!(sig[0], 0x30, "DER Ecdsa-Sig-Value");
        verify_signature(&spki, KeyAlgorithm::EcdsaP256Sha256, b"hello", &sig).unwrap();
        assert!(verify_signature(&spki, KeyAlgorithm::EcdsaP256Sha256, b"hellO", &sig).is_err());
        assert!(verify_signature(&spki, KeyAlgorithm::RsaPkcs1Sha256, b"hello", &sig).is_err());

        let again = LocalKeySigner::from_pkcs8_pem(&signer.to_pkcs8_pem().unwrap()).unwrap();
        assert_eq!(again.public_key().await.unwrap(), spki);
    }

    #[tokio::test]
    async fn rsa_signs_what_verify_accepts() {
        let signer = LocalKeySigner::generate_rsa(2048).unwrap();
        assert_eq!(signer.algorithm(), KeyAlgorithm::RsaPkcs1Sha256);
        let spki = signer.public_key().await.unwrap();
        let sig = signer.sign(b"hello").await.unwrap();
        assert_eq!(sig.len(), 256);
        verify_signature(&spki, KeyAlgorithm::RsaPkcs1Sha256, b"hello", &sig).unwrap();
        assert!(verify_signature(&spki, KeyAlgorithm::RsaPkcs1Sha256, b"hellO", &sig).is_err());
        assert!(LocalKeySigner::generate_rsa(1024).is_err());

        let again = LocalKeySigner::from_pkcs8_pem(&signer.to_pkcs8_pem().unwrap()).unwrap();
        assert_eq!(again.algorithm(), KeyAlgorithm::RsaPkcs1Sha256);
        assert_eq!(again.public_key().await.unwrap(), spki);
    }

    #[test]
    fn garbage_pem_is_an_error() {
        assert!(
            LocalKeySigner::from_pkcs8_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").is_err()
        );
        assert!(LocalKeySigner::from_pkcs8_pem("").is_err());
    }
}
