//! The platform's trust infrastructure, independent of AWS:
//!
//! - [`KeySigner`]: a key that signs raw messages with SHA-256 exactly as AWS KMS `Sign` does
//!   with `MessageType=RAW` (RSASSA-PKCS1-v1_5 or DER-encoded ECDSA P-256). [`LocalKeySigner`]
//!   is the in-process implementation for tests; the KMS one lives in `esign-aws`.
//! - [`cert`]: root CA, issuing CA, seal and TSA certificates, built from `x509-cert` types and
//!   signed through a [`KeySigner`], with the serial-number and validity rules.
//! - [`tsa`]: an RFC 3161 time-stamp authority core (request in, response out, no transport).
//! - [`crl`]: X.509 v2 CRLs of the platform CAs.
//! - [`ocsp`]: an RFC 6960 OCSP responder core (request in, statuses looked up by the caller,
//!   signed response out), answering with a delegated responder certificate.
//!
//! The ASN.1 crates are re-exported so callers use the very versions these types come from.

pub mod cert;
pub mod crl;
mod local;
pub mod ocsp;
pub mod tsa;

use async_trait::async_trait;
use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, Encode};
use signature::Verifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

pub use cms;
pub use const_oid;
pub use der;
pub use spki;
pub use x509_cert;
pub use x509_ocsp;
pub use x509_tsp;

pub use cert::{
    CaSubject, CertValidity, SealSubject, issuing_ca_certificate, issuing_validity, random_serial, root_ca_certificate,
    root_validity, seal_certificate, seal_validity, tsa_certificate, tsa_validity,
};
pub use local::LocalKeySigner;
pub use tsa::{Clock, SystemClock, TimeStampAuthority};
pub use x509_cert::Certificate;

/// rsaEncryption (public keys).
pub const OID_RSA_ENCRYPTION: ObjectIdentifier = const_oid::db::rfc5912::RSA_ENCRYPTION;
/// id-ecPublicKey (public keys).
pub const OID_EC_PUBLIC_KEY: ObjectIdentifier = const_oid::db::rfc5912::ID_EC_PUBLIC_KEY;
/// secp256r1 (the curve parameter of a P-256 public key).
pub const OID_SECP256R1: ObjectIdentifier = const_oid::db::rfc5912::SECP_256_R_1;
/// sha256WithRSAEncryption.
pub const OID_SHA256_WITH_RSA: ObjectIdentifier = const_oid::db::rfc5912::SHA_256_WITH_RSA_ENCRYPTION;
/// ecdsa-with-SHA256.
pub const OID_ECDSA_WITH_SHA256: ObjectIdentifier = const_oid::db::rfc5912::ECDSA_WITH_SHA_256;
/// id-ce-cRLNumber.
pub const OID_CRL_NUMBER: ObjectIdentifier = const_oid::db::rfc5280::ID_CE_CRL_NUMBER;
/// id-sha256.
pub const OID_SHA256: ObjectIdentifier = const_oid::db::rfc5912::ID_SHA_256;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// The key signer (KMS, a local key) failed or answered something unusable.
    #[error("signer: {0}")]
    Signer(String),
    /// A key of an algorithm or size this crate does not handle.
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// Arguments that would produce a wrong certificate (validity, issuer, names).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A signature that does not verify with the key it should (e.g. the signer is not the
    /// issuer's key, or the signing service misbehaved).
    #[error("signature check failed: {0}")]
    BadSignature(String),
    #[error("ASN.1: {0}")]
    Der(#[from] der::Error),
}

/// The signature schemes a [`KeySigner`] may use; both hash the message with SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (KMS `RSASSA_PKCS1_V1_5_SHA_256`).
    RsaPkcs1Sha256,
    /// ECDSA on P-256 with SHA-256, DER-encoded `Ecdsa-Sig-Value` (KMS `ECDSA_SHA_256`).
    EcdsaP256Sha256,
}

impl KeyAlgorithm {
    /// The signature AlgorithmIdentifier for certificates and CMS: sha256WithRSAEncryption with
    /// NULL parameters (RFC 4055), or ecdsa-with-SHA256 with absent parameters (RFC 5758).
    pub fn signature_algorithm(self) -> AlgorithmIdentifierOwned {
        match self {
            KeyAlgorithm::RsaPkcs1Sha256 => {
                AlgorithmIdentifierOwned { oid: OID_SHA256_WITH_RSA, parameters: Some(der::asn1::Null.into()) }
            }
            KeyAlgorithm::EcdsaP256Sha256 => AlgorithmIdentifierOwned { oid: OID_ECDSA_WITH_SHA256, parameters: None },
        }
    }

    /// The algorithm a public key is used with, if this crate supports it (RSA, or EC on P-256).
    pub fn for_public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, PkiError> {
        let oid = spki.algorithm.oid;
        if oid == OID_RSA_ENCRYPTION {
            Ok(KeyAlgorithm::RsaPkcs1Sha256)
        } else if oid == OID_EC_PUBLIC_KEY {
            let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            if curve == Some(OID_SECP256R1) {
                Ok(KeyAlgorithm::EcdsaP256Sha256)
            } else {
                Err(PkiError::UnsupportedKey(format!("EC curve {curve:?} (only P-256)")))
            }
        } else {
            Err(PkiError::UnsupportedKey(format!("public key algorithm {oid}")))
        }
    }
}

/// A private key that signs through some service (KMS) or in process, never handing the key out.
#[async_trait]
pub trait KeySigner: Send + Sync {
    fn algorithm(&self) -> KeyAlgorithm;

    /// The public key, as a SubjectPublicKeyInfo.
    async fn public_key(&self) -> Result<SubjectPublicKeyInfoOwned, PkiError>;

    /// Signs the raw `message` (hashed here with SHA-256): PKCS#1 v1.5 signature bytes for RSA,
    /// a DER `Ecdsa-Sig-Value` for ECDSA. Same bytes contract as KMS `Sign` with
    /// `MessageType=RAW`.
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PkiError>;
}

#[async_trait]
impl<T: KeySigner + ?Sized> KeySigner for std::sync::Arc<T> {
    fn algorithm(&self) -> KeyAlgorithm {
        (**self).algorithm()
    }
    async fn public_key(&self) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
        (**self).public_key().await
    }
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        (**self).sign(message).await
    }
}

/// Checks `signature` over `message` with `public_key` under `algorithm` (SHA-256 in both).
pub fn verify_signature(
    public_key: &SubjectPublicKeyInfoOwned,
    algorithm: KeyAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), PkiError> {
    let key_algorithm = KeyAlgorithm::for_public_key(public_key)?;
    if key_algorithm != algorithm {
        return Err(PkiError::BadSignature(format!("{algorithm:?} signature with a {key_algorithm:?} key")));
    }
    let spki_der = public_key.to_der()?;
    match algorithm {
        KeyAlgorithm::RsaPkcs1Sha256 => {
            use rsa::pkcs8::DecodePublicKey;
            let key = rsa::RsaPublicKey::from_public_key_der(&spki_der)
                .map_err(|e| PkiError::UnsupportedKey(format!("RSA public key: {e}")))?;
            let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key);
            let sig = rsa::pkcs1v15::Signature::try_from(signature)
                .map_err(|e| PkiError::BadSignature(format!("RSA signature: {e}")))?;
            verifier.verify(message, &sig).map_err(|e| PkiError::BadSignature(format!("RSA: {e}")))
        }
        KeyAlgorithm::EcdsaP256Sha256 => {
            let spki_ref = spki::SubjectPublicKeyInfoRef::from_der(&spki_der)?;
            let key = p256::ecdsa::VerifyingKey::try_from(spki_ref)
                .map_err(|e| PkiError::UnsupportedKey(format!("P-256 public key: {e}")))?;
            let sig = p256::ecdsa::Signature::from_der(signature)
                .map_err(|e| PkiError::BadSignature(format!("ECDSA signature is not DER: {e}")))?;
            key.verify(message, &sig).map_err(|e| PkiError::BadSignature(format!("ECDSA: {e}")))
        }
    }
}

/// Signs `message` through `signer` and checks the result against `expected_key` before using
/// it, so a signer holding the wrong key (or a misbehaving signing service) fails loudly here
/// rather than producing certificates or tokens nobody can verify.
pub(crate) async fn sign_checked<S: KeySigner + ?Sized>(
    signer: &S,
    expected_key: &SubjectPublicKeyInfoOwned,
    message: &[u8],
) -> Result<Vec<u8>, PkiError> {
    let signature = signer.sign(message).await?;
    verify_signature(expected_key, signer.algorithm(), message, &signature)?;
    Ok(signature)
}

/// Whether AlgorithmIdentifier parameters are absent or NULL (both are seen for SHA-2).
pub(crate) fn params_are_absent_or_null(params: Option<&der::Any>) -> bool {
    match params {
        None => true,
        Some(any) => AnyRef::from(any).is_null(),
    }
}
