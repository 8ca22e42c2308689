//! Certificates of the platform PKI, built from `x509-cert` types and signed through a
//! [`KeySigner`]:
//!
//! | certificate | issuer | extensions |
//! | --- | --- | --- |
//! | [`root_ca_certificate`] | itself | basicConstraints CA (critical), keyUsage keyCertSign+cRLSign (critical), SKI |
//! | [`issuing_ca_certificate`] | root | basicConstraints CA pathLen 0 (critical), keyUsage keyCertSign+cRLSign (critical), SKI, AKI |
//! | [`seal_certificate`] | issuing CA | basicConstraints CA:false (critical), keyUsage digitalSignature+nonRepudiation (critical), SKI, AKI; no EKU |
//! | [`tsa_certificate`] | issuing CA | basicConstraints CA:false (critical), keyUsage digitalSignature+nonRepudiation (critical), extendedKeyUsage timeStamping (critical), SKI, AKI |
//! | [`evidence_seal_certificate`] | issuing CA | as a seal certificate, the subject a [`CaSubject`] (the platform's evidence seal) |
//! | [`ocsp_responder_certificate`] | issuing CA | basicConstraints CA:false (critical), keyUsage digitalSignature (critical), extendedKeyUsage OCSPSigning, id-pkix-ocsp-nocheck, SKI, AKI |
//!
//! Certificates made with a [`Publication`] (the `*_published` functions) also carry where
//! relying parties find their revocation status: CRL Distribution Points and Authority
//! Information Access (OCSP, caIssuers), as URIs.
//!
//! Seal certificates carry no extendedKeyUsage on purpose: poppler's pdfsig rejects signer
//! certificates whose EKU lacks emailProtection.
//!
//! Serial numbers ([`random_serial`]) are 16 random bytes with the top bit cleared (positive),
//! never zero. Validity rules: [`root_validity`] (20 years), [`issuing_validity`] (10 years),
//! [`tsa_validity`] (5 years), [`seal_validity`] (2 years or an earlier given end); none extends
//! beyond the issuer's notAfter, and each starts [`NOT_BEFORE_SKEW`] before "now" so relying
//! parties whose clocks lag a little do not see a fresh certificate as not yet valid.
//! Key identifiers are RFC 7093 method 1 (the leftmost 160 bits of the SHA-256 of the key).

use der::asn1::{
    BitString, GeneralizedTime, ObjectIdentifier, OctetString, PrintableStringRef, UtcTime, Utf8StringRef,
};
use der::oid::AssociatedOid;
use der::{Any, Decode, Encode};
use rand_core::RngCore;
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;
use time::{Duration, OffsetDateTime};
use x509_cert::Certificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints,
    ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::{KeyAlgorithm, KeySigner, PkiError, sign_checked};

/// countryName (2.5.4.6).
pub const OID_COUNTRY_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
/// organizationName (2.5.4.10).
pub const OID_ORGANIZATION_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
/// commonName (2.5.4.3).
pub const OID_COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
/// organizationIdentifier (2.5.4.97), X.520; its value syntax is ETSI EN 319 412-1 §5.1.4.
pub const OID_ORGANIZATION_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.97");
/// id-kp-timeStamping.
pub const OID_KP_TIME_STAMPING: ObjectIdentifier = const_oid::db::rfc5280::ID_KP_TIME_STAMPING;
/// id-kp-OCSPSigning.
pub const OID_KP_OCSP_SIGNING: ObjectIdentifier = const_oid::db::rfc5280::ID_KP_OCSP_SIGNING;
/// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): relying parties need not check the responder's
/// own certificate for revocation.
pub const OID_PKIX_OCSP_NOCHECK: ObjectIdentifier = const_oid::db::rfc6960::ID_PKIX_OCSP_NOCHECK;
/// id-ad-ocsp.
pub const OID_AD_OCSP: ObjectIdentifier = const_oid::db::rfc5280::ID_AD_OCSP;
/// id-ad-caIssuers.
pub const OID_AD_CA_ISSUERS: ObjectIdentifier = const_oid::db::rfc5280::ID_AD_CA_ISSUERS;

/// Default lifetime of the root CA certificate, in years.
pub const ROOT_VALIDITY_YEARS: i32 = 20;
/// Default lifetime of the issuing CA certificate, in years.
pub const ISSUING_VALIDITY_YEARS: i32 = 10;
/// Default lifetime of the TSA certificate, in years.
pub const TSA_VALIDITY_YEARS: i32 = 5;
/// Default lifetime of the OCSP responder certificate, in years.
pub const OCSP_VALIDITY_YEARS: i32 = 2;
/// Default (and longest) lifetime of a seal certificate, in years.
pub const SEAL_VALIDITY_YEARS: i32 = 2;
/// How far before "now" a new certificate's notBefore is put (clock skew of relying parties).
pub const NOT_BEFORE_SKEW: Duration = Duration::minutes(5);

/// The subject of a CA or TSA certificate: `C=<country>, O=<organization>, CN=<common_name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaSubject {
    pub common_name: String,
    pub organization: Option<String>,
    /// Two-letter ISO 3166 code, e.g. `CN`.
    pub country: Option<String>,
}

impl CaSubject {
    pub fn to_name(&self) -> Result<Name, PkiError> {
        let mut rdns = Vec::new();
        if let Some(c) = &self.country {
            rdns.push(country_rdn(c)?);
        }
        if let Some(o) = &self.organization {
            rdns.push(utf8_rdn(OID_ORGANIZATION_NAME, o)?);
        }
        rdns.push(utf8_rdn(OID_COMMON_NAME, &self.common_name)?);
        Ok(RdnSequence(rdns))
    }
}

/// The subject of a seal certificate:
/// `C=<country>, O=<company_name>, organizationIdentifier=NTRCN-<uscc>, CN=<seal_name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealSubject {
    pub company_name: String,
    /// The 18-character Unified Social Credit Code (统一社会信用代码), without prefix.
    pub uscc: String,
    pub seal_name: String,
    /// Two-letter ISO 3166 code; `CN` for the platform's enterprises.
    pub country: String,
}

impl SealSubject {
    /// A seal of a company registered in China (`country` = `CN`).
    pub fn new(company_name: impl Into<String>, uscc: impl Into<String>, seal_name: impl Into<String>) -> Self {
        Self { company_name: company_name.into(), uscc: uscc.into(), seal_name: seal_name.into(), country: "CN".into() }
    }

    /// The organizationIdentifier value, ETSI EN 319 412-1 semantics: `NTR` (national trade
    /// register) + the country + `-` + the registration number, i.e. `NTRCN-<USCC>`.
    pub fn organization_identifier(&self) -> String {
        format!("NTR{}-{}", self.country, self.uscc)
    }

    pub fn to_name(&self) -> Result<Name, PkiError> {
        let uscc_ok = self.uscc.len() == 18 && self.uscc.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if !uscc_ok {
            return Err(PkiError::Invalid(format!("USCC {:?} is not 18 digits or capital letters", self.uscc)));
        }
        Ok(RdnSequence(vec![
            country_rdn(&self.country)?,
            utf8_rdn(OID_ORGANIZATION_NAME, &self.company_name)?,
            utf8_rdn(OID_ORGANIZATION_IDENTIFIER, &self.organization_identifier())?,
            utf8_rdn(OID_COMMON_NAME, &self.seal_name)?,
        ]))
    }
}

/// Where relying parties find the revocation status of a certificate and its issuer's
/// certificate: absolute `http(s)` URLs, each written into the certificate when set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Publication {
    /// The issuer's CRL (CRL Distribution Points, one fullName URI).
    pub crl: Option<String>,
    /// The OCSP responder answering for the issuer's certificates (AIA id-ad-ocsp).
    pub ocsp: Option<String>,
    /// The issuer's certificate, DER (AIA id-ad-caIssuers).
    pub ca_issuers: Option<String>,
}

impl Publication {
    /// The CRL Distribution Points and Authority Information Access extensions (none when no
    /// URL is set).
    pub fn extensions(&self) -> Result<Vec<Extension>, PkiError> {
        let mut out = Vec::new();
        if let Some(crl) = &self.crl {
            let point = DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![uri(crl)?])),
                reasons: None,
                crl_issuer: None,
            };
            out.push(extension(&CrlDistributionPoints(vec![point]), false)?);
        }
        let mut access = Vec::new();
        if let Some(ocsp) = &self.ocsp {
            access.push(AccessDescription { access_method: OID_AD_OCSP, access_location: uri(ocsp)? });
        }
        if let Some(issuers) = &self.ca_issuers {
            access.push(AccessDescription { access_method: OID_AD_CA_ISSUERS, access_location: uri(issuers)? });
        }
        if !access.is_empty() {
            out.push(extension(&AuthorityInfoAccessSyntax(access), false)?);
        }
        Ok(out)
    }
}

/// A URI GeneralName; only absolute `http://` or `https://` URLs of printable ASCII.
fn uri(url: &str) -> Result<GeneralName, PkiError> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= 1024
        && url.bytes().all(|b| b.is_ascii_graphic());
    if !ok {
        return Err(PkiError::Invalid(format!("{url:?} is not an absolute http(s) URL")));
    }
    Ok(GeneralName::UniformResourceIdentifier(der::asn1::Ia5String::new(url)?))
}

fn rdn(oid: ObjectIdentifier, value: Any) -> Result<RelativeDistinguishedName, PkiError> {
    let atv = AttributeTypeAndValue { oid, value };
    Ok(RelativeDistinguishedName(der::asn1::SetOfVec::try_from(vec![atv])?))
}

fn utf8_rdn(oid: ObjectIdentifier, value: &str) -> Result<RelativeDistinguishedName, PkiError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 64 {
        return Err(PkiError::Invalid(format!("name attribute {oid} must have 1 to 64 characters")));
    }
    rdn(oid, Any::encode_from(&Utf8StringRef::new(value)?)?)
}

fn country_rdn(code: &str) -> Result<RelativeDistinguishedName, PkiError> {
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(PkiError::Invalid(format!("country {code:?} is not a two-letter ISO 3166 code")));
    }
    // RFC 5280: countryName is a PrintableString.
    rdn(OID_COUNTRY_NAME, Any::encode_from(&PrintableStringRef::new(code)?)?)
}

/// A certificate's validity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertValidity {
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl CertValidity {
    /// The period as written into certificates: whole seconds, UTCTime up to 2049 and
    /// GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5).
    pub fn to_x509(&self) -> Result<Validity, PkiError> {
        if self.not_after <= self.not_before {
            return Err(PkiError::Invalid("validity: notAfter must be after notBefore".into()));
        }
        Ok(Validity { not_before: x509_time(self.not_before)?, not_after: x509_time(self.not_after)? })
    }

    /// The validity of an existing certificate.
    pub fn of(cert: &Certificate) -> Result<Self, PkiError> {
        let v = &cert.tbs_certificate.validity;
        Ok(Self { not_before: from_x509_time(v.not_before)?, not_after: from_x509_time(v.not_after)? })
    }
}

pub(crate) fn x509_time(t: OffsetDateTime) -> Result<Time, PkiError> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|_| PkiError::Invalid(format!("time {t} is before 1970")))?;
    let d = std::time::Duration::from_secs(secs);
    if t.year() < 2050 {
        Ok(Time::UtcTime(UtcTime::from_unix_duration(d)?))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_unix_duration(d)?))
    }
}

pub(crate) fn from_x509_time(t: Time) -> Result<OffsetDateTime, PkiError> {
    let secs =
        i64::try_from(t.to_unix_duration().as_secs()).map_err(|_| PkiError::Invalid("time out of range".into()))?;
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| PkiError::Invalid(format!("time out of range: {e}")))
}

/// `t` plus whole calendar years (29 February becomes 28 February in non-leap years).
fn add_years(t: OffsetDateTime, years: i32) -> Result<OffsetDateTime, PkiError> {
    let year = t.year() + years;
    t.replace_year(year)
        .or_else(|_| t.replace_day(28).and_then(|t| t.replace_year(year)))
        .map_err(|e| PkiError::Invalid(format!("date out of range: {e}")))
}

fn start(now: OffsetDateTime) -> Result<OffsetDateTime, PkiError> {
    (now - NOT_BEFORE_SKEW).replace_nanosecond(0).map_err(|e| PkiError::Invalid(e.to_string()))
}

fn bounded(
    now: OffsetDateTime,
    years: i32,
    end: Option<OffsetDateTime>,
    issuer: &Certificate,
) -> Result<CertValidity, PkiError> {
    let issuer_validity = CertValidity::of(issuer)?;
    let not_before = start(now)?.max(issuer_validity.not_before);
    let mut not_after = add_years(now, years)?.replace_nanosecond(0).map_err(|e| PkiError::Invalid(e.to_string()))?;
    if let Some(end) = end {
        not_after = not_after.min(end);
    }
    not_after = not_after.min(issuer_validity.not_after);
    if not_after <= not_before || not_after <= now {
        return Err(PkiError::Invalid(format!(
            "no validity left: would end {not_after}, issuer ends {}",
            issuer_validity.not_after
        )));
    }
    Ok(CertValidity { not_before, not_after })
}

/// The root CA: [`ROOT_VALIDITY_YEARS`] from `now`.
pub fn root_validity(now: OffsetDateTime) -> Result<CertValidity, PkiError> {
    let not_after =
        add_years(now, ROOT_VALIDITY_YEARS)?.replace_nanosecond(0).map_err(|e| PkiError::Invalid(e.to_string()))?;
    Ok(CertValidity { not_before: start(now)?, not_after })
}

/// The issuing CA: [`ISSUING_VALIDITY_YEARS`], cut at the root's notAfter.
pub fn issuing_validity(now: OffsetDateTime, root: &Certificate) -> Result<CertValidity, PkiError> {
    bounded(now, ISSUING_VALIDITY_YEARS, None, root)
}

/// The TSA: [`TSA_VALIDITY_YEARS`], cut at the issuer's notAfter.
pub fn tsa_validity(now: OffsetDateTime, issuer: &Certificate) -> Result<CertValidity, PkiError> {
    bounded(now, TSA_VALIDITY_YEARS, None, issuer)
}

/// The OCSP responder: [`OCSP_VALIDITY_YEARS`], cut at the issuer's notAfter.
pub fn ocsp_validity(now: OffsetDateTime, issuer: &Certificate) -> Result<CertValidity, PkiError> {
    bounded(now, OCSP_VALIDITY_YEARS, None, issuer)
}

/// A seal: [`SEAL_VALIDITY_YEARS`], or until `until` if that is earlier (e.g. the end of the
/// business licence), cut at the issuer's notAfter. An `until` already past is an error.
pub fn seal_validity(
    now: OffsetDateTime,
    until: Option<OffsetDateTime>,
    issuer: &Certificate,
) -> Result<CertValidity, PkiError> {
    bounded(now, SEAL_VALIDITY_YEARS, until, issuer)
}

/// A fresh serial number: 16 random bytes, positive (top bit cleared), never zero.
pub fn random_serial() -> SerialNumber {
    loop {
        let mut bytes = [0u8; 16];
        rand_core::OsRng.fill_bytes(&mut bytes);
        bytes[0] &= 0x7f;
        if bytes.iter().any(|&b| b != 0) {
            // 16 bytes are within the 20-byte limit, so this cannot fail.
            if let Ok(serial) = SerialNumber::new(&bytes) {
                return serial;
            }
        }
    }
}

/// RFC 7093 §2 method 1: the leftmost 160 bits of the SHA-256 of the subjectPublicKey bits.
pub fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    Sha256::digest(spki.subject_public_key.raw_bytes())[..20].to_vec()
}

pub(crate) fn extension<E: Encode + AssociatedOid>(value: &E, critical: bool) -> Result<Extension, PkiError> {
    Ok(Extension { extn_id: E::OID, critical, extn_value: OctetString::new(value.to_der()?)? })
}

fn ski(spki: &SubjectPublicKeyInfoOwned) -> Result<Extension, PkiError> {
    extension(&SubjectKeyIdentifier(OctetString::new(key_identifier(spki))?), false)
}

/// AKI naming the issuer's key: its SKI when it has one, else computed from its key.
pub(crate) fn aki(issuer: &Certificate) -> Result<Extension, PkiError> {
    let key_id = match issuer.tbs_certificate.get::<SubjectKeyIdentifier>()? {
        Some((_, SubjectKeyIdentifier(id))) => id,
        None => OctetString::new(key_identifier(&issuer.tbs_certificate.subject_public_key_info))?,
    };
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(key_id),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    extension(&aki, false)
}

fn key_usage(flags: impl Into<der::flagset::FlagSet<KeyUsages>>) -> Result<Extension, PkiError> {
    extension(&KeyUsage(flags.into()), true)
}

fn check_public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<(), PkiError> {
    KeyAlgorithm::for_public_key(spki).map(|_| ())
}

/// Checks that `issuer` may issue a certificate of `validity` (and a CA one if `issuing_ca`),
/// and that `signer` holds its key. Returns the issuer's public key.
async fn check_issuer<S: KeySigner + ?Sized>(
    signer: &S,
    issuer: &Certificate,
    validity: &CertValidity,
    issuing_ca: bool,
) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
    let issuer_key = &issuer.tbs_certificate.subject_public_key_info;
    if &signer.public_key().await? != issuer_key {
        return Err(PkiError::Invalid("the signer's key is not the issuer certificate's key".into()));
    }
    match issuer.tbs_certificate.get::<BasicConstraints>()? {
        Some((_, bc)) if bc.ca => {
            if issuing_ca && bc.path_len_constraint == Some(0) {
                return Err(PkiError::Invalid("the issuer's pathLen 0 forbids issuing CA certificates".into()));
            }
        }
        _ => {
            return Err(PkiError::Invalid("the issuer certificate is not a CA".into()));
        }
    }
    if let Some((_, KeyUsage(ku))) = issuer.tbs_certificate.get::<KeyUsage>()?
        && !ku.contains(KeyUsages::KeyCertSign)
    {
        return Err(PkiError::Invalid("the issuer's keyUsage lacks keyCertSign".into()));
    }
    let issuer_validity = CertValidity::of(issuer)?;
    if validity.not_after > issuer_validity.not_after {
        return Err(PkiError::Invalid(format!(
            "notAfter {} is beyond the issuer's notAfter {}",
            validity.not_after, issuer_validity.not_after
        )));
    }
    Ok(issuer_key.clone())
}

struct Tbs {
    serial: SerialNumber,
    issuer: Name,
    subject: Name,
    public_key: SubjectPublicKeyInfoOwned,
    validity: CertValidity,
    extensions: Vec<Extension>,
}

/// Encodes the TBSCertificate, signs it through `signer` (checked against `issuer_key`) and
/// assembles the certificate.
async fn sign_tbs<S: KeySigner + ?Sized>(
    signer: &S,
    issuer_key: &SubjectPublicKeyInfoOwned,
    tbs: Tbs,
) -> Result<Certificate, PkiError> {
    let algorithm = signer.algorithm().signature_algorithm();
    let tbs_certificate = TbsCertificate {
        version: Version::V3,
        serial_number: tbs.serial,
        signature: algorithm.clone(),
        issuer: tbs.issuer,
        validity: tbs.validity.to_x509()?,
        subject: tbs.subject,
        subject_public_key_info: tbs.public_key,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(tbs.extensions),
    };
    let tbs_der = tbs_certificate.to_der()?;
    let signature = sign_checked(signer, issuer_key, &tbs_der).await?;
    Ok(Certificate { tbs_certificate, signature_algorithm: algorithm, signature: BitString::from_bytes(&signature)? })
}

/// A self-signed root CA certificate for `signer`'s key.
pub async fn root_ca_certificate<S: KeySigner + ?Sized>(
    signer: &S,
    subject: &CaSubject,
    validity: CertValidity,
) -> Result<Certificate, PkiError> {
    let public_key = signer.public_key().await?;
    check_public_key(&public_key)?;
    let name = subject.to_name()?;
    let extensions = vec![
        extension(&BasicConstraints { ca: true, path_len_constraint: None }, true)?,
        key_usage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)?,
        ski(&public_key)?,
    ];
    let tbs = Tbs {
        serial: random_serial(),
        issuer: name.clone(),
        subject: name,
        public_key: public_key.clone(),
        validity,
        extensions,
    };
    sign_tbs(signer, &public_key, tbs).await
}

/// An issuing (intermediate) CA certificate for `issuing_public_key`, signed by the root.
/// pathLen 0: it issues end-entity certificates only.
pub async fn issuing_ca_certificate<S: KeySigner + ?Sized>(
    root_signer: &S,
    root_cert: &Certificate,
    issuing_public_key: &SubjectPublicKeyInfoOwned,
    subject: &CaSubject,
    validity: CertValidity,
) -> Result<Certificate, PkiError> {
    issuing_ca_certificate_published(
        root_signer,
        root_cert,
        issuing_public_key,
        subject,
        validity,
        &Publication::default(),
    )
    .await
}

/// As [`issuing_ca_certificate`], naming where the root publishes its CRL (and certificate).
pub async fn issuing_ca_certificate_published<S: KeySigner + ?Sized>(
    root_signer: &S,
    root_cert: &Certificate,
    issuing_public_key: &SubjectPublicKeyInfoOwned,
    subject: &CaSubject,
    validity: CertValidity,
    publication: &Publication,
) -> Result<Certificate, PkiError> {
    check_public_key(issuing_public_key)?;
    let root_key = check_issuer(root_signer, root_cert, &validity, true).await?;
    let mut extensions = vec![
        extension(&BasicConstraints { ca: true, path_len_constraint: Some(0) }, true)?,
        key_usage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)?,
        ski(issuing_public_key)?,
        aki(root_cert)?,
    ];
    extensions.extend(publication.extensions()?);
    let tbs = Tbs {
        serial: random_serial(),
        issuer: root_cert.tbs_certificate.subject.clone(),
        subject: subject.to_name()?,
        public_key: issuing_public_key.clone(),
        validity,
        extensions,
    };
    sign_tbs(root_signer, &root_key, tbs).await
}

/// A seal (end-entity) certificate for `seal_public_key`, signed by the issuing CA.
pub async fn seal_certificate<S: KeySigner + ?Sized>(
    issuer_signer: &S,
    issuer_cert: &Certificate,
    seal_public_key: &SubjectPublicKeyInfoOwned,
    subject: &SealSubject,
    serial: SerialNumber,
    validity: CertValidity,
) -> Result<Certificate, PkiError> {
    seal_certificate_published(
        issuer_signer,
        issuer_cert,
        seal_public_key,
        subject,
        serial,
        validity,
        &Publication::default(),
    )
    .await
}

/// As [`seal_certificate`], naming where the issuing CA publishes revocation status.
pub async fn seal_certificate_published<S: KeySigner + ?Sized>(
    issuer_signer: &S,
    issuer_cert: &Certificate,
    seal_public_key: &SubjectPublicKeyInfoOwned,
    subject: &SealSubject,
    serial: SerialNumber,
    validity: CertValidity,
    publication: &Publication,
) -> Result<Certificate, PkiError> {
    document_signing_certificate(
        issuer_signer,
        issuer_cert,
        seal_public_key,
        subject.to_name()?,
        serial,
        validity,
        publication,
    )
    .await
}

/// A document-signing certificate (keyUsage digitalSignature + nonRepudiation, no
/// extendedKeyUsage, the issuing CA's revocation publication): what seals and the evidence seal share.
async fn document_signing_certificate<S: KeySigner + ?Sized>(
    issuer_signer: &S,
    issuer_cert: &Certificate,
    public_key: &SubjectPublicKeyInfoOwned,
    subject: Name,
    serial: SerialNumber,
    validity: CertValidity,
    publication: &Publication,
) -> Result<Certificate, PkiError> {
    check_public_key(public_key)?;
    let issuer_key = check_issuer(issuer_signer, issuer_cert, &validity, false).await?;
    let mut extensions = vec![
        extension(&BasicConstraints { ca: false, path_len_constraint: None }, true)?,
        key_usage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation)?,
        ski(public_key)?,
        aki(issuer_cert)?,
    ];
    extensions.extend(publication.extensions()?);
    let tbs = Tbs {
        serial,
        issuer: issuer_cert.tbs_certificate.subject.clone(),
        subject,
        public_key: public_key.clone(),
        validity,
        extensions,
    };
    sign_tbs(issuer_signer, &issuer_key, tbs).await
}

/// A time-stamping certificate for `tsa_public_key`: extendedKeyUsage timeStamping only and
/// critical (RFC 3161 §2.3), signed by the issuing CA.
pub async fn tsa_certificate<S: KeySigner + ?Sized>(
    issuer_signer: &S,
    issuer_cert: &Certificate,
    tsa_public_key: &SubjectPublicKeyInfoOwned,
    subject: &CaSubject,
    validity: CertValidity,
) -> Result<Certificate, PkiError> {
    check_public_key(tsa_public_key)?;
    let issuer_key = check_issuer(issuer_signer, issuer_cert, &validity, false).await?;
    let extensions = vec![
        extension(&BasicConstraints { ca: false, path_len_constraint: None }, true)?,
        key_usage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation)?,
        extension(&ExtendedKeyUsage(vec![OID_KP_TIME_STAMPING]), true)?,
        ski(tsa_public_key)?,
        aki(issuer_cert)?,
    ];
    let tbs = Tbs {
        serial: random_serial(),
        issuer: issuer_cert.tbs_certificate.subject.clone(),
        subject: subject.to_name()?,
        public_key: tsa_public_key.clone(),
        validity,
        extensions,
    };
    sign_tbs(issuer_signer, &issuer_key, tbs).await
}

/// The platform's evidence seal (出证专用章): the document-signing certificate of the key that
/// signs evidence reports. Like a seal certificate (keyUsage digitalSignature + nonRepudiation,
/// no extendedKeyUsage, the issuing CA's revocation publication) but naming the platform, which
/// has no USCC: `C`, `O`, `CN` as a [`CaSubject`].
pub async fn evidence_seal_certificate<S: KeySigner + ?Sized>(
    issuer_signer: &S,
    issuer_cert: &Certificate,
    public_key: &SubjectPublicKeyInfoOwned,
    subject: &CaSubject,
    serial: SerialNumber,
    validity: CertValidity,
    publication: &Publication,
) -> Result<Certificate, PkiError> {
    document_signing_certificate(
        issuer_signer,
        issuer_cert,
        public_key,
        subject.to_name()?,
        serial,
        validity,
        publication,
    )
    .await
}

/// A delegated OCSP responder certificate for `responder_public_key` (RFC 6960 §4.2.2.2):
/// extendedKeyUsage id-kp-OCSPSigning and id-pkix-ocsp-nocheck, signed by the issuing CA whose
/// certificates it answers for.
pub async fn ocsp_responder_certificate<S: KeySigner + ?Sized>(
    issuer_signer: &S,
    issuer_cert: &Certificate,
    responder_public_key: &SubjectPublicKeyInfoOwned,
    subject: &CaSubject,
    validity: CertValidity,
) -> Result<Certificate, PkiError> {
    check_public_key(responder_public_key)?;
    let issuer_key = check_issuer(issuer_signer, issuer_cert, &validity, false).await?;
    let nocheck = Extension {
        extn_id: OID_PKIX_OCSP_NOCHECK,
        critical: false,
        extn_value: OctetString::new(der::asn1::Null.to_der()?)?,
    };
    let extensions = vec![
        extension(&BasicConstraints { ca: false, path_len_constraint: None }, true)?,
        key_usage(KeyUsages::DigitalSignature)?,
        extension(&ExtendedKeyUsage(vec![OID_KP_OCSP_SIGNING]), false)?,
        nocheck,
        ski(responder_public_key)?,
        aki(issuer_cert)?,
    ];
    let tbs = Tbs {
        serial: random_serial(),
        issuer: issuer_cert.tbs_certificate.subject.clone(),
        subject: subject.to_name()?,
        public_key: responder_public_key.clone(),
        validity,
        extensions,
    };
    sign_tbs(issuer_signer, &issuer_key, tbs).await
}

/// Whether `cert` is fit to be a TSA certificate: its extendedKeyUsage is exactly
/// timeStamping and critical.
pub fn is_tsa_certificate(cert: &Certificate) -> bool {
    matches!(
        cert.tbs_certificate.get::<ExtendedKeyUsage>(),
        Ok(Some((true, ExtendedKeyUsage(oids)))) if oids == [OID_KP_TIME_STAMPING]
    )
}

/// Decodes one DER certificate.
pub fn certificate_from_der(der: &[u8]) -> Result<Certificate, PkiError> {
    Ok(Certificate::from_der(der)?)
}
