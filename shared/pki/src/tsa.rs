//! An RFC 3161 time-stamp authority core: a DER `TimeStampReq` in, a DER `TimeStampResp` out.
//! Transport (HTTP `application/timestamp-query`) is the caller's business.
//!
//! A granted response carries a `TimeStampToken`: a CMS SignedData whose encapsulated content is
//! the DER `TSTInfo` (eContentType id-ct-TSTInfo), with one SignerInfo identified by issuer and
//! serial, signed attributes content-type, signing-time, message-digest and ESS
//! signing-certificate-v2 (RFC 5035) naming the TSA certificate, signed through the
//! [`KeySigner`]. The certificate chain is included when the request sets `certReq`.
//!
//! Anything the TSA will not or cannot stamp yields a `rejection` with a failInfo bit
//! (badAlg, badRequest, badDataFormat, unacceptedPolicy, unacceptedExtension, systemFailure)
//! and a statusString; [`TimeStampAuthority::respond`] never panics and always returns a
//! response.

use std::sync::Arc;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{BitString, GeneralizedTime, Int, ObjectIdentifier, OctetString, SetOfVec, Uint, UtcTime};
use der::{Any, Decode, Encode, Sequence};
use rand_core::RngCore;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_tsp::{Accuracy, TimeStampReq, TspVersion, TstInfo};

use crate::cert::{CertValidity, is_tsa_certificate};
use crate::{KeySigner, OID_SHA256, PkiError, params_are_absent_or_null, sign_checked};

/// id-ct-TSTInfo (RFC 3161).
pub const OID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// id-signedData.
pub const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// id-contentType.
pub const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest.
pub const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// id-signingTime.
pub const OID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
/// id-aa-signingCertificateV2 (RFC 5035).
pub const OID_SIGNING_CERTIFICATE_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// id-sha384.
pub const OID_SHA384: ObjectIdentifier = const_oid::db::rfc5912::ID_SHA_384;
/// id-sha512.
pub const OID_SHA512: ObjectIdentifier = const_oid::db::rfc5912::ID_SHA_512;

/// PKIStatus values used here (RFC 3161 §2.4.2).
pub const STATUS_GRANTED: u8 = 0;
pub const STATUS_REJECTION: u8 = 2;

/// PKIFailureInfo bit numbers (RFC 3161 §2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FailureInfo {
    BadAlg = 0,
    BadRequest = 2,
    BadDataFormat = 5,
    TimeNotAvailable = 14,
    UnacceptedPolicy = 15,
    UnacceptedExtension = 16,
    AddInfoNotAvailable = 17,
    SystemFailure = 25,
}

impl FailureInfo {
    /// The DER BIT STRING with just this bit set (trailing zero bits removed, X.690 §11.2.2).
    pub fn to_bit_string(self) -> Result<BitString, der::Error> {
        let bit = self as usize;
        let mut bytes = vec![0u8; bit / 8 + 1];
        bytes[bit / 8] = 0x80 >> (bit % 8);
        BitString::new((7 - bit % 8) as u8, bytes)
    }

    /// The failure bits set in a PKIFailureInfo BIT STRING, lowest first.
    pub fn bits_of(bits: &BitString) -> Vec<usize> {
        bits.bits().enumerate().filter(|(_, on)| *on).map(|(i, _)| i).collect()
    }
}

/// PKIStatusInfo (RFC 3161 §2.4.2). Defined here because cmpv2 0.2's PKIFailureInfo flags
/// have wrong bit positions and cannot express bits above 15 (e.g. systemFailure).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PkiStatusInfo {
    pub status: u8,
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

/// TimeStampResp (RFC 3161 §2.4.2).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampResp {
    pub status: PkiStatusInfo,
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<ContentInfo>,
}

/// ESSCertIDv2 (RFC 5035); `hash_algorithm` absent means SHA-256 (its DEFAULT).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// IssuerSerial (RFC 5035).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial_number: SerialNumber,
}

/// SigningCertificateV2 (RFC 5035), without policies.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
}

/// The time source of the TSA.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Why a request was not granted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Refusal {
    fail: FailureInfo,
    text: String,
}

fn refuse(fail: FailureInfo, text: impl Into<String>) -> Refusal {
    Refusal { fail, text: text.into() }
}

impl From<PkiError> for Refusal {
    fn from(e: PkiError) -> Self {
        refuse(FailureInfo::SystemFailure, format!("the TSA could not sign: {e}"))
    }
}

impl From<der::Error> for Refusal {
    fn from(e: der::Error) -> Self {
        refuse(FailureInfo::SystemFailure, format!("the TSA could not encode its answer: {e}"))
    }
}

/// An RFC 3161 time-stamp authority signing through a [`KeySigner`].
pub struct TimeStampAuthority {
    signer: Arc<dyn KeySigner>,
    chain: Vec<Certificate>,
    tsa_cert_hash: Vec<u8>,
    policy: ObjectIdentifier,
    clock: Arc<dyn Clock>,
    accuracy: Option<Accuracy>,
    include_tsa_name: bool,
}

impl std::fmt::Debug for TimeStampAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeStampAuthority")
            .field("subject", &self.chain[0].tbs_certificate.subject.to_string())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl TimeStampAuthority {
    /// A TSA with `chain[0]` as its certificate (which must carry the critical timeStamping EKU
    /// and `signer`'s public key) followed by any intermediates to include in tokens, issuing
    /// tokens under `policy`, on the system clock, with accuracy and TSA name left out.
    pub async fn new(
        signer: Arc<dyn KeySigner>,
        chain: Vec<Certificate>,
        policy: ObjectIdentifier,
    ) -> Result<Self, PkiError> {
        let Some(tsa_cert) = chain.first() else {
            return Err(PkiError::Invalid("the TSA certificate chain is empty".into()));
        };
        if !is_tsa_certificate(tsa_cert) {
            return Err(PkiError::Invalid(
                "the TSA certificate lacks a critical timeStamping-only extendedKeyUsage".into(),
            ));
        }
        if signer.public_key().await? != tsa_cert.tbs_certificate.subject_public_key_info {
            return Err(PkiError::Invalid("the signer's key is not the TSA certificate's key".into()));
        }
        let tsa_cert_hash = Sha256::digest(tsa_cert.to_der()?).to_vec();
        Ok(Self {
            signer,
            chain,
            tsa_cert_hash,
            policy,
            clock: Arc::new(SystemClock),
            accuracy: None,
            include_tsa_name: false,
        })
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// States this accuracy in every TSTInfo.
    pub fn with_accuracy(mut self, accuracy: Accuracy) -> Self {
        self.accuracy = Some(accuracy);
        self
    }

    /// Names the TSA (its certificate's subject) in every TSTInfo.
    pub fn with_tsa_name(mut self, include: bool) -> Self {
        self.include_tsa_name = include;
        self
    }

    /// The TSA certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.chain[0]
    }

    pub fn policy(&self) -> ObjectIdentifier {
        self.policy
    }

    /// Answers a DER `TimeStampReq` with a DER `TimeStampResp`: granted with a token, or a
    /// rejection with a failInfo. Never fails, never panics.
    pub async fn respond(&self, request_der: &[u8]) -> Vec<u8> {
        let response = match self.grant(request_der).await {
            Ok(token) => TimeStampResp {
                status: PkiStatusInfo { status: STATUS_GRANTED, status_string: None, fail_info: None },
                time_stamp_token: Some(token),
            },
            Err(refusal) => rejection(&refusal),
        };
        match response.to_der() {
            Ok(der) => der,
            // Only reachable if encoding itself is broken; answer with the bare status then.
            Err(e) => {
                rejection(&refuse(FailureInfo::SystemFailure, format!("encoding: {e}"))).to_der().unwrap_or_default()
            }
        }
    }

    async fn grant(&self, request_der: &[u8]) -> Result<ContentInfo, Refusal> {
        let request = TimeStampReq::from_der(request_der)
            .map_err(|e| refuse(FailureInfo::BadDataFormat, format!("not a DER TimeStampReq v1: {e}")))?;
        let imprint = &request.message_imprint;
        let expected_len = match imprint.hash_algorithm.oid {
            oid if oid == OID_SHA256 => 32,
            oid if oid == OID_SHA384 => 48,
            oid if oid == OID_SHA512 => 64,
            oid => {
                return Err(refuse(
                    FailureInfo::BadAlg,
                    format!("hash algorithm {oid} is not SHA-256, SHA-384 or SHA-512"),
                ));
            }
        };
        if !params_are_absent_or_null(imprint.hash_algorithm.parameters.as_ref()) {
            return Err(refuse(FailureInfo::BadAlg, "hash algorithm parameters must be absent or NULL"));
        }
        if imprint.hashed_message.as_bytes().len() != expected_len {
            return Err(refuse(FailureInfo::BadDataFormat, format!("the message imprint is not {expected_len} bytes")));
        }
        if let Some(policy) = request.req_policy
            && policy != self.policy
        {
            return Err(refuse(
                FailureInfo::UnacceptedPolicy,
                format!("policy {policy} is not offered; this TSA uses {}", self.policy),
            ));
        }
        if request.extensions.as_ref().is_some_and(|e| !e.is_empty()) {
            return Err(refuse(FailureInfo::UnacceptedExtension, "request extensions are not supported"));
        }

        let now = self.clock.now();
        let tsa_cert = self.certificate();
        let cert_validity = CertValidity::of(tsa_cert)?;
        if now < cert_validity.not_before || now > cert_validity.not_after {
            return Err(refuse(FailureInfo::SystemFailure, "the TSA certificate is not valid at this time"));
        }
        let unix = std::time::Duration::from_secs(
            u64::try_from(now.unix_timestamp())
                .map_err(|_| refuse(FailureInfo::TimeNotAvailable, "clock before 1970"))?,
        );

        let tst_info = TstInfo {
            version: TspVersion::V1,
            policy: self.policy,
            message_imprint: request.message_imprint.clone(),
            serial_number: random_positive_int()?,
            gen_time: GeneralizedTime::from_unix_duration(unix)?,
            accuracy: self.accuracy.clone(),
            ordering: false,
            nonce: request.nonce.clone(),
            tsa: self.include_tsa_name.then(|| GeneralName::DirectoryName(tsa_cert.tbs_certificate.subject.clone())),
            extensions: None,
        };
        let tst_der = tst_info.to_der()?;

        let ess = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                hash_algorithm: None,
                cert_hash: OctetString::new(self.tsa_cert_hash.clone())?,
                issuer_serial: Some(IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(tsa_cert.tbs_certificate.issuer.clone())],
                    serial_number: tsa_cert.tbs_certificate.serial_number.clone(),
                }),
            }],
        };
        let signing_time = if now.year() < 2050 {
            Any::encode_from(&UtcTime::from_unix_duration(unix)?)?
        } else {
            Any::encode_from(&GeneralizedTime::from_unix_duration(unix)?)?
        };
        let signed_attrs = SetOfVec::try_from(vec![
            attribute(OID_CONTENT_TYPE, Any::encode_from(&OID_CT_TST_INFO)?)?,
            attribute(OID_SIGNING_TIME, signing_time)?,
            attribute(OID_MESSAGE_DIGEST, Any::encode_from(&OctetString::new(Sha256::digest(&tst_der).to_vec())?)?)?,
            attribute(OID_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
        ])?;
        // The signature covers the DER of the attributes as a SET OF (RFC 5652 §5.4).
        let signature = sign_checked(
            self.signer.as_ref(),
            &tsa_cert.tbs_certificate.subject_public_key_info,
            &signed_attrs.to_der()?,
        )
        .await?;

        let sha256 = AlgorithmIdentifierOwned { oid: OID_SHA256, parameters: None };
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tsa_cert.tbs_certificate.issuer.clone(),
                serial_number: tsa_cert.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: sha256.clone(),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: self.signer.algorithm().signature_algorithm(),
            signature: OctetString::new(signature)?,
            unsigned_attrs: None,
        };
        let certificates = if request.cert_req {
            let choices = self.chain.iter().cloned().map(CertificateChoices::Certificate).collect::<Vec<_>>();
            Some(CertificateSet(SetOfVec::try_from(choices)?))
        } else {
            None
        };
        let signed_data = SignedData {
            version: CmsVersion::V3,
            digest_algorithms: SetOfVec::try_from(vec![sha256])?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: OID_CT_TST_INFO,
                econtent: Some(Any::encode_from(&OctetString::new(tst_der)?)?),
            },
            certificates,
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
        };
        Ok(ContentInfo { content_type: OID_SIGNED_DATA, content: Any::encode_from(&signed_data)? })
    }
}

fn rejection(refusal: &Refusal) -> TimeStampResp {
    TimeStampResp {
        status: PkiStatusInfo {
            status: STATUS_REJECTION,
            status_string: Some(vec![refusal.text.clone()]),
            fail_info: refusal.fail.to_bit_string().ok(),
        },
        time_stamp_token: None,
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, der::Error> {
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value])? })
}

/// A token serial: 16 random bytes read as a positive integer (unique with overwhelming
/// probability, RFC 3161 §2.4.2), never zero.
fn random_positive_int() -> Result<Int, der::Error> {
    let mut bytes = [0u8; 16];
    loop {
        rand_core::OsRng.fill_bytes(&mut bytes);
        if bytes.iter().any(|&b| b != 0) {
            return Ok(Uint::new(&bytes)?.into());
        }
    }
}

/// The parts of a granted response, for callers and tests that need to look inside.
#[derive(Debug, Clone)]
pub struct ParsedToken {
    pub tst_info: TstInfo,
    pub signed_data: SignedData,
}

/// Decodes a DER `TimeStampResp`; for a granted one also its SignedData and TSTInfo.
pub fn parse_response(der: &[u8]) -> Result<(TimeStampResp, Option<ParsedToken>), PkiError> {
    let response = TimeStampResp::from_der(der)?;
    let parsed = match &response.time_stamp_token {
        None => None,
        Some(token) => {
            if token.content_type != OID_SIGNED_DATA {
                return Err(PkiError::Invalid("the token is not a SignedData".into()));
            }
            let signed_data: SignedData = token.content.decode_as()?;
            let econtent = signed_data
                .encap_content_info
                .econtent
                .as_ref()
                .ok_or_else(|| PkiError::Invalid("the token has no TSTInfo".into()))?;
            let tst_info = TstInfo::from_der(econtent.decode_as::<OctetString>()?.as_bytes())?;
            Some(ParsedToken { tst_info, signed_data })
        }
    };
    Ok((response, parsed))
}
