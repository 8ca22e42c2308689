//! CMS SignedData for PAdES (ETSI.CAdES.detached), built from the `cms` crate's types so that the
//! actual signing can happen behind an async trait (KMS `Sign` with `MessageType=RAW`, an HSM, a
//! local key).

use crate::PadesError;
use async_trait::async_trait;
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

pub const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub const OID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
pub const OID_SIGNING_CERT_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
pub const OID_TIMESTAMP_TOKEN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
pub const OID_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
pub const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub const OID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
pub const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
pub const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

/// ESS SigningCertificateV2 (RFC 5035).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    pub policies: Option<Vec<Any>>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    /// DEFAULT sha256: omitted when SHA-256
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial_number: SerialNumber,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256
    RsaPkcs1Sha256,
    /// ECDSA on P-256 with SHA-256 (signature DER-encoded Ecdsa-Sig-Value)
    EcdsaP256Sha256,
}

/// A signing key. `sign` receives the DER of the signed attributes (a SET, tag 0x31) and returns
/// the signature over it: for RSA the PKCS#1 v1.5 signature bytes, for ECDSA the DER
/// Ecdsa-Sig-Value (exactly what KMS `Sign` returns with `MessageType=RAW`).
#[async_trait]
pub trait Signer: Send + Sync {
    fn algorithm(&self) -> SignatureAlgorithm;
    /// Signer certificate first, then intermediates (the root may be omitted).
    fn certificate_chain(&self) -> &[Certificate];
    async fn sign(&self, signed_attributes_der: &[u8]) -> Result<Vec<u8>, PadesError>;
}

enum LocalKey {
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
    Ec(p256::ecdsa::SigningKey),
}

/// A PEM key on disk or in memory (tests, benchmarks, offline CLI use).
pub struct LocalSigner {
    key: LocalKey,
    chain: Vec<Certificate>,
}

/// Parses every certificate in a PEM bundle.
/// SHA-256 of the first certificate of `pem` (its DER), lowercase hex.
pub fn certificate_fingerprint(pem: &[u8]) -> Result<String, PadesError> {
    use der::Encode as _;
    use sha2::Digest as _;
    let certs = certs_from_pem(pem)?;
    let first = certs.first().ok_or_else(|| PadesError::Key("no certificate in PEM".into()))?;
    let der = first.to_der().map_err(|e| PadesError::Key(format!("certificate encoding: {e}")))?;
    Ok(hex::encode(sha2::Sha256::digest(&der)))
}

pub fn certs_from_pem(pem: &[u8]) -> Result<Vec<Certificate>, PadesError> {
    let certs = Certificate::load_pem_chain(pem).map_err(|e| PadesError::Key(format!("bad certificate PEM: {e}")))?;
    if certs.is_empty() {
        return Err(PadesError::Key("no certificate in PEM".into()));
    }
    Ok(certs)
}

impl LocalSigner {
    /// `key_pem`: PKCS#8 (RSA or P-256; PKCS#1 RSA and SEC1 EC keys are accepted too).
    /// `cert_pem`: the signer certificate (further certificates in it are used as the chain).
    /// `chain_pem`: intermediates.
    pub fn from_pem(key_pem: &str, cert_pem: &str, chain_pem: Option<&str>) -> Result<Self, PadesError> {
        use pkcs8::DecodePrivateKey;
        let key = if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_pem(key_pem) {
            LocalKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(k)))
        } else if let Ok(k) = p256::SecretKey::from_pkcs8_pem(key_pem) {
            LocalKey::Ec(p256::ecdsa::SigningKey::from(k))
        } else if let Ok(k) = <rsa::RsaPrivateKey as rsa::pkcs1::DecodeRsaPrivateKey>::from_pkcs1_pem(key_pem) {
            LocalKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(k)))
        } else if let Ok(k) = p256::SecretKey::from_sec1_pem(key_pem) {
            LocalKey::Ec(p256::ecdsa::SigningKey::from(k))
        } else {
            return Err(PadesError::Key("the key is not a PKCS#8 PEM RSA or P-256 private key".into()));
        };
        let mut chain = certs_from_pem(cert_pem.as_bytes())?;
        if let Some(c) = chain_pem {
            for cert in certs_from_pem(c.as_bytes())? {
                if !chain.contains(&cert) {
                    chain.push(cert);
                }
            }
        }
        // the key must match the certificate
        let key_spki = match &key {
            LocalKey::Rsa(k) => {
                use rsa::pkcs8::EncodePublicKey;
                let sk: &rsa::pkcs1v15::SigningKey<Sha256> = k;
                let pk = rsa::RsaPublicKey::from(sk.as_ref());
                pk.to_public_key_der().map(|d| d.as_bytes().to_vec())
            }
            LocalKey::Ec(k) => {
                use p256::pkcs8::EncodePublicKey;
                k.verifying_key().to_public_key_der().map(|d| d.as_bytes().to_vec())
            }
        }
        .map_err(|e| PadesError::Key(e.to_string()))?;
        let cert_spki =
            chain[0].tbs_certificate.subject_public_key_info.to_der().map_err(|e| PadesError::Key(e.to_string()))?;
        if key_spki != cert_spki {
            return Err(PadesError::Key("the private key does not match the certificate".into()));
        }
        Ok(LocalSigner { key, chain })
    }
}

#[async_trait]
impl Signer for LocalSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        match self.key {
            LocalKey::Rsa(_) => SignatureAlgorithm::RsaPkcs1Sha256,
            LocalKey::Ec(_) => SignatureAlgorithm::EcdsaP256Sha256,
        }
    }
    fn certificate_chain(&self) -> &[Certificate] {
        &self.chain
    }
    async fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, PadesError> {
        use signature::{SignatureEncoding, Signer as _};
        Ok(match &self.key {
            LocalKey::Rsa(k) => k.try_sign(msg).map_err(|e| PadesError::Signer(e.to_string()))?.to_vec(),
            LocalKey::Ec(k) => {
                let s: p256::ecdsa::Signature = k.try_sign(msg).map_err(|e| PadesError::Signer(e.to_string()))?;
                s.to_der().as_bytes().to_vec()
            }
        })
    }
}

fn cms_err(e: impl std::fmt::Display) -> PadesError {
    PadesError::Cms(e.to_string())
}

pub fn sha256_alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid: OID_SHA256, parameters: None }
}

pub fn sig_alg_id(alg: SignatureAlgorithm) -> AlgorithmIdentifierOwned {
    match alg {
        SignatureAlgorithm::RsaPkcs1Sha256 => AlgorithmIdentifierOwned { oid: OID_RSA, parameters: Some(Any::null()) },
        SignatureAlgorithm::EcdsaP256Sha256 => AlgorithmIdentifierOwned { oid: OID_ECDSA_SHA256, parameters: None },
    }
}

/// Upper bound of the signature length for the signer's key.
pub fn max_signature_len(signer: &dyn Signer) -> Result<usize, PadesError> {
    match signer.algorithm() {
        SignatureAlgorithm::EcdsaP256Sha256 => Ok(72),
        SignatureAlgorithm::RsaPkcs1Sha256 => {
            use rsa::pkcs8::DecodePublicKey;
            use rsa::traits::PublicKeyParts;
            let cert =
                signer.certificate_chain().first().ok_or_else(|| PadesError::Key("empty certificate chain".into()))?;
            let spki = cert.tbs_certificate.subject_public_key_info.to_der().map_err(cms_err)?;
            let pk = rsa::RsaPublicKey::from_public_key_der(&spki)
                .map_err(|e| PadesError::Key(format!("certificate key is not RSA: {e}")))?;
            Ok(pk.size())
        }
    }
}

fn attr(oid: ObjectIdentifier, value: Any) -> Result<Attribute, PadesError> {
    let mut values = SetOfVec::new();
    values.insert(value).map_err(cms_err)?;
    Ok(Attribute { oid, values })
}

/// The signed attributes: content-type, message-digest, ESS signing-certificate-v2.
pub fn signed_attributes(digest: &[u8], signer_cert: &Certificate) -> Result<SetOfVec<Attribute>, PadesError> {
    let cert_der = signer_cert.to_der().map_err(cms_err)?;
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(Sha256::digest(&cert_der).to_vec()).map_err(cms_err)?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(signer_cert.tbs_certificate.issuer.clone())],
                serial_number: signer_cert.tbs_certificate.serial_number.clone(),
            }),
        }],
        policies: None,
    };
    let mut set = SetOfVec::new();
    set.insert(attr(OID_CONTENT_TYPE, Any::encode_from(&OID_DATA).map_err(cms_err)?)?).map_err(cms_err)?;
    set.insert(attr(
        OID_MESSAGE_DIGEST,
        Any::encode_from(&OctetString::new(digest.to_vec()).map_err(cms_err)?).map_err(cms_err)?,
    )?)
    .map_err(cms_err)?;
    set.insert(attr(OID_SIGNING_CERT_V2, Any::encode_from(&ess).map_err(cms_err)?)?).map_err(cms_err)?;
    Ok(set)
}

/// Assembles the ContentInfo(SignedData) DER.
pub fn assemble(
    chain: &[Certificate],
    alg: SignatureAlgorithm,
    signed_attrs: SetOfVec<Attribute>,
    signature: Vec<u8>,
    timestamp_token: Option<&[u8]>,
) -> Result<Vec<u8>, PadesError> {
    let signer_cert = chain.first().ok_or_else(|| PadesError::Key("empty certificate chain".into()))?;
    let unsigned_attrs = match timestamp_token {
        Some(tok) => {
            let mut set = SetOfVec::new();
            set.insert(attr(OID_TIMESTAMP_TOKEN, Any::from_der(tok).map_err(cms_err)?)?).map_err(cms_err)?;
            Some(set)
        }
        None => None,
    };
    let si = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer_cert.tbs_certificate.issuer.clone(),
            serial_number: signer_cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_alg(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: sig_alg_id(alg),
        signature: OctetString::new(signature).map_err(cms_err)?,
        unsigned_attrs,
    };
    let mut certs = SetOfVec::new();
    for c in chain {
        let choice = cms::cert::CertificateChoices::Certificate(c.clone());
        if !certs.iter().any(|x| x == &choice) {
            certs.insert(choice).map_err(cms_err)?;
        }
    }
    let mut digest_algs = SetOfVec::new();
    digest_algs.insert(sha256_alg()).map_err(cms_err)?;
    let mut sis = SetOfVec::new();
    sis.insert(si).map_err(cms_err)?;
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: digest_algs,
        encap_content_info: EncapsulatedContentInfo { econtent_type: OID_DATA, econtent: None },
        certificates: Some(CertificateSet(certs)),
        crls: None,
        signer_infos: SignerInfos(sis),
    };
    let ci = ContentInfo { content_type: OID_SIGNED_DATA, content: Any::encode_from(&sd).map_err(cms_err)? };
    ci.to_der().map_err(cms_err)
}

/// Verifies `sig` over `msg` with the public key in `spki_der` for the given signature algorithm
/// OID (rsaEncryption / sha256WithRSAEncryption / ecdsa-with-SHA256; SHA-256 digests only).
pub fn verify_raw(
    spki: &spki::SubjectPublicKeyInfoOwned,
    alg: &ObjectIdentifier,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), String> {
    use signature::Verifier;
    if *alg == OID_RSA || *alg == OID_SHA256_RSA {
        use rsa::pkcs8::DecodePublicKey;
        let der = spki.to_der().map_err(|e| e.to_string())?;
        let pk = rsa::RsaPublicKey::from_public_key_der(&der).map_err(|e| format!("not an RSA key: {e}"))?;
        let vk = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(pk);
        let s = rsa::pkcs1v15::Signature::try_from(sig).map_err(|e| e.to_string())?;
        vk.verify(msg, &s).map_err(|_| "signature does not verify".to_string())
    } else if *alg == OID_ECDSA_SHA256 {
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
            .map_err(|e| format!("not a P-256 key: {e}"))?;
        let s = p256::ecdsa::Signature::from_der(sig).map_err(|e| e.to_string())?;
        vk.verify(msg, &s).map_err(|_| "signature does not verify".to_string())
    } else {
        Err(format!("unsupported signature algorithm {alg}"))
    }
}

/// Checks that `cert` was issued (signed) by `issuer`.
pub fn cert_signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return false;
    }
    let Ok(tbs) = cert.tbs_certificate.to_der() else { return false };
    let Some(sig) = cert.signature.as_bytes() else { return false };
    verify_raw(&issuer.tbs_certificate.subject_public_key_info, &cert.signature_algorithm.oid, &tbs, sig).is_ok()
}

/// Parses a ContentInfo(SignedData), tolerating trailing zero padding.
pub fn parse_signed_data(der_bytes: &[u8]) -> Result<SignedData, PadesError> {
    use der::Reader;
    let mut r = der::SliceReader::new(der_bytes).map_err(cms_err)?;
    let ci = ContentInfo::decode(&mut r).map_err(cms_err)?;
    let _ = r.position();
    if ci.content_type != OID_SIGNED_DATA {
        return Err(PadesError::Cms("not a SignedData".into()));
    }
    ci.content.decode_as::<SignedData>().map_err(cms_err)
}
