//! An OCSP responder core (RFC 6960, with the RFC 5019 profile): a DER `OCSPRequest` in, a DER
//! `OCSPResponse` out, in two steps so the caller can look the statuses up in between:
//!
//! 1. [`parse_request`] decodes a request (bounded in size and number of certificates) and says,
//!    for each certificate asked about, whether it names the issuing CA this responder answers
//!    for (the CertID's issuer name and key hashes, SHA-1 or SHA-2) and with which serial;
//! 2. [`OcspResponder::respond`] answers each with `good`, `revoked` (time, reason) or
//!    `unknown` in a BasicOCSPResponse signed by a delegated responder certificate
//!    (id-kp-OCSPSigning, id-pkix-ocsp-nocheck) through a [`KeySigner`], echoing the request's
//!    nonce.
//!
//! Types come from RustCrypto's `x509-ocsp`; signing is done here because its builder wants a
//! synchronous signer and the keys are in a remote service.

use std::sync::Arc;

use der::asn1::{GeneralizedTime, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use sha2::Digest;
use time::{Duration, OffsetDateTime};
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{CrlReason, ExtendedKeyUsage};
use x509_cert::serial_number::SerialNumber;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse, ResponderId, ResponseData,
    RevokedInfo, SingleResponse, Version,
};

use crate::cert::OID_KP_OCSP_SIGNING;
use crate::{KeySigner, PkiError, params_are_absent_or_null, sign_checked};

/// Largest request accepted, in bytes (a request for one certificate is about 100 bytes).
pub const MAX_REQUEST_BYTES: usize = 4096;
/// Most certificates one request may ask about.
pub const MAX_REQUEST_ITEMS: usize = 10;
/// Longest nonce echoed, in bytes (RFC 8954 allows 1 to 32; some clients send more).
pub const MAX_NONCE_BYTES: usize = 128;
/// How long a response may be cached: its nextUpdate is this after its thisUpdate.
pub const RESPONSE_VALIDITY: Duration = Duration::hours(1);

/// id-sha1 (CertID hashes; what most clients send).
pub const OID_SHA1: ObjectIdentifier = const_oid::db::rfc5912::ID_SHA_1;

/// The answer for one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcspStatus {
    Good,
    Revoked { at: OffsetDateTime, reason: Option<CrlReason> },
    Unknown,
}

/// One certificate a request asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub cert_id: CertId,
    /// The serial number, when the CertID names the responder's issuing CA (else the answer
    /// can only be `unknown`).
    pub serial: Option<SerialNumber>,
}

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRequest {
    pub queries: Vec<Query>,
    /// The request's nonce extension, to be echoed.
    pub nonce: Option<Extension>,
}

/// Why a request was not understood (answered `malformedRequest`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the request is larger than {MAX_REQUEST_BYTES} bytes")]
    TooLarge,
    #[error("the request is not a DER OCSPRequest")]
    Malformed,
    #[error("the request asks about no certificate or more than {MAX_REQUEST_ITEMS}")]
    Count,
}

fn digest_for(oid: ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    use const_oid::db::rfc5912::{ID_SHA_256, ID_SHA_384, ID_SHA_512};
    match oid {
        o if o == OID_SHA1 => Some(sha1::Sha1::digest(data).to_vec()),
        o if o == ID_SHA_256 => Some(sha2::Sha256::digest(data).to_vec()),
        o if o == ID_SHA_384 => Some(sha2::Sha384::digest(data).to_vec()),
        o if o == ID_SHA_512 => Some(sha2::Sha512::digest(data).to_vec()),
        _ => None,
    }
}

/// Whether `id` names `issuer` (its subject and key hashed with the CertID's algorithm).
fn names_issuer(id: &CertId, issuer: &Certificate) -> bool {
    if !params_are_absent_or_null(id.hash_algorithm.parameters.as_ref()) {
        return false;
    }
    let Ok(name) = issuer.tbs_certificate.subject.to_der() else { return false };
    let key = issuer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    match (digest_for(id.hash_algorithm.oid, &name), digest_for(id.hash_algorithm.oid, key)) {
        (Some(n), Some(k)) => id.issuer_name_hash.as_bytes() == n && id.issuer_key_hash.as_bytes() == k,
        _ => false,
    }
}

/// Decodes a DER OCSPRequest and matches each CertID against `issuer`. A request signature,
/// when present, is ignored (RFC 6960 makes it optional; this responder answers anyone).
pub fn parse_request(der: &[u8], issuer: &Certificate) -> Result<ParsedRequest, RequestError> {
    if der.len() > MAX_REQUEST_BYTES {
        return Err(RequestError::TooLarge);
    }
    let request = OcspRequest::from_der(der).map_err(|_| RequestError::Malformed)?;
    let list = &request.tbs_request.request_list;
    if list.is_empty() || list.len() > MAX_REQUEST_ITEMS {
        return Err(RequestError::Count);
    }
    let queries = list
        .iter()
        .map(|r| Query {
            serial: names_issuer(&r.req_cert, issuer).then(|| r.req_cert.serial_number.clone()),
            cert_id: r.req_cert.clone(),
        })
        .collect();
    let nonce = request
        .tbs_request
        .request_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == const_oid::db::rfc6960::ID_PKIX_OCSP_NONCE)
        .filter(|e| e.extn_value.as_bytes().len() <= MAX_NONCE_BYTES + 4)
        .cloned();
    Ok(ParsedRequest { queries, nonce })
}

/// The DER OCSPResponse with an error status and no body (`malformedRequest`, `internalError`,
/// `tryLater`, …).
pub fn error_response(status: x509_ocsp::OcspResponseStatus) -> Vec<u8> {
    let resp = OcspResponse { response_status: status, response_bytes: None };
    // Three fixed bytes (SEQUENCE { ENUMERATED n }): encoding cannot fail.
    resp.to_der().unwrap_or_else(|_| vec![0x30, 0x03, 0x0a, 0x01, status as u8])
}

fn ocsp_time(t: OffsetDateTime) -> Result<OcspGeneralizedTime, PkiError> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|_| PkiError::Invalid(format!("time {t} is before 1970")))?;
    Ok(OcspGeneralizedTime(GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))?))
}

/// A delegated responder: its key (in a key service), its certificate and the issuing CA's.
pub struct OcspResponder {
    signer: Arc<dyn KeySigner>,
    certificate: Certificate,
    issuer: Certificate,
}

impl std::fmt::Debug for OcspResponder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcspResponder").field("subject", &self.certificate.tbs_certificate.subject.to_string()).finish()
    }
}

impl OcspResponder {
    /// Checks that `certificate` is an OCSP signing certificate issued by `issuer` for the
    /// signer's key.
    pub async fn new(
        signer: Arc<dyn KeySigner>,
        certificate: Certificate,
        issuer: Certificate,
    ) -> Result<Self, PkiError> {
        if signer.public_key().await? != certificate.tbs_certificate.subject_public_key_info {
            return Err(PkiError::Invalid("the OCSP signer's key is not its certificate's".into()));
        }
        if certificate.tbs_certificate.issuer != issuer.tbs_certificate.subject {
            return Err(PkiError::Invalid("the OCSP certificate is not issued by the issuing CA".into()));
        }
        match certificate.tbs_certificate.get::<ExtendedKeyUsage>()? {
            Some((_, ExtendedKeyUsage(oids))) if oids.contains(&OID_KP_OCSP_SIGNING) => {}
            _ => return Err(PkiError::Invalid("the OCSP certificate lacks id-kp-OCSPSigning".into())),
        }
        Ok(Self { signer, certificate, issuer })
    }

    /// The issuing CA this responder answers for.
    pub fn issuer(&self) -> &Certificate {
        &self.issuer
    }

    /// The responder's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// A signed `successful` OCSPResponse (DER) answering each query with the status at the same
    /// index of `statuses`, produced at `now`; a query without a serial (another issuer) is
    /// answered `unknown` whatever `statuses` says.
    pub async fn respond(
        &self,
        request: &ParsedRequest,
        statuses: &[OcspStatus],
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, PkiError> {
        if statuses.len() != request.queries.len() {
            return Err(PkiError::Invalid("one status per query".into()));
        }
        let now = now.replace_nanosecond(0).map_err(|e| PkiError::Invalid(e.to_string()))?;
        let mut responses = Vec::with_capacity(statuses.len());
        for (query, status) in request.queries.iter().zip(statuses) {
            let status = if query.serial.is_some() { *status } else { OcspStatus::Unknown };
            let cert_status = match status {
                OcspStatus::Good => CertStatus::good(),
                OcspStatus::Unknown => CertStatus::unknown(),
                OcspStatus::Revoked { at, reason } => CertStatus::revoked(RevokedInfo {
                    revocation_time: ocsp_time(at)?,
                    revocation_reason: reason.filter(|r| *r != CrlReason::Unspecified),
                }),
            };
            responses.push(SingleResponse {
                cert_id: query.cert_id.clone(),
                cert_status,
                this_update: ocsp_time(now)?,
                next_update: Some(ocsp_time(now + RESPONSE_VALIDITY)?),
                single_extensions: None,
            });
        }
        let tbs_response_data = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByName(self.certificate.tbs_certificate.subject.clone()),
            produced_at: ocsp_time(now)?,
            responses,
            response_extensions: request.nonce.clone().map(|n| vec![n]),
        };
        let tbs = tbs_response_data.to_der()?;
        let key = &self.certificate.tbs_certificate.subject_public_key_info;
        let signature = sign_checked(self.signer.as_ref(), key, &tbs).await?;
        let basic = BasicOcspResponse {
            tbs_response_data,
            signature_algorithm: self.signer.algorithm().signature_algorithm(),
            signature: der::asn1::BitString::from_bytes(&signature)?,
            certs: Some(vec![self.certificate.clone(), self.issuer.clone()]),
        };
        Ok(OcspResponse::successful(basic)?.to_der()?)
    }
}

/// The serial number as lowercase hex of its DER content bytes (as the platform stores it).
pub fn serial_hex(serial: &SerialNumber) -> String {
    serial.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses lowercase or uppercase hex into a serial number.
pub fn serial_from_hex(hex: &str) -> Result<SerialNumber, PkiError> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) || hex.len() > 42 {
        return Err(PkiError::Invalid(format!("serial {hex:?} is not hex of 1 to 21 bytes")));
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| PkiError::Invalid(format!("serial {hex:?} is not hex")))?;
    Ok(SerialNumber::new(&bytes)?)
}

/// Decodes a DER OCSPResponse into its BasicOCSPResponse, if it is a successful one.
pub fn basic_response(der: &[u8]) -> Result<Option<BasicOcspResponse>, PkiError> {
    let resp = OcspResponse::from_der(der)?;
    match resp.response_bytes {
        Some(bytes) if bytes.response_type == const_oid::db::rfc6960::ID_PKIX_OCSP_BASIC => {
            Ok(Some(BasicOcspResponse::from_der(bytes.response.as_bytes())?))
        }
        _ => Ok(None),
    }
}

/// A DER OCSPRequest for one certificate (SHA-1 CertID, as most clients send), for tests and
/// for callers fetching a response for embedding.
pub fn request_for(issuer: &Certificate, serial: &SerialNumber) -> Result<Vec<u8>, PkiError> {
    let name = issuer.tbs_certificate.subject.to_der()?;
    let key = issuer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    let cert_id = CertId {
        hash_algorithm: spki::AlgorithmIdentifierOwned { oid: OID_SHA1, parameters: Some(der::asn1::Null.into()) },
        issuer_name_hash: OctetString::new(sha1::Sha1::digest(&name).to_vec())?,
        issuer_key_hash: OctetString::new(sha1::Sha1::digest(key).to_vec())?,
        serial_number: serial.clone(),
    };
    let request = OcspRequest {
        tbs_request: x509_ocsp::TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![x509_ocsp::Request { req_cert: cert_id, single_request_extensions: None }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    Ok(request.to_der()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::{
        CaSubject, ocsp_responder_certificate, ocsp_validity, random_serial, root_ca_certificate, root_validity,
    };
    use crate::{LocalKeySigner, verify_signature};

    async fn fixture() -> (OcspResponder, Certificate) {
        let ca_key = LocalKeySigner::generate_p256().unwrap();
        let now = OffsetDateTime::now_utc();
        let subject = |cn: &str| CaSubject { common_name: cn.into(), organization: None, country: None };
        let ca = root_ca_certificate(&ca_key, &subject("CA"), root_validity(now).unwrap()).await.unwrap();
        let key = Arc::new(LocalKeySigner::generate_p256().unwrap());
        let cert = ocsp_responder_certificate(
            &ca_key,
            &ca,
            &key.public_key().await.unwrap(),
            &subject("OCSP"),
            ocsp_validity(now, &ca).unwrap(),
        )
        .await
        .unwrap();
        (OcspResponder::new(key, cert, ca.clone()).await.unwrap(), ca)
    }

    #[tokio::test]
    async fn answers_each_query_and_signs_with_the_responder_key() {
        let (responder, ca) = fixture().await;
        let serial = random_serial();
        let parsed = parse_request(&request_for(&ca, &serial).unwrap(), &ca).unwrap();
        assert_eq!(parsed.queries[0].serial.as_ref(), Some(&serial));
        let at = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let revoked = OcspStatus::Revoked { at, reason: Some(CrlReason::KeyCompromise) };
        let der = responder.respond(&parsed, &[revoked], OffsetDateTime::now_utc()).await.unwrap();
        let basic = basic_response(&der).unwrap().unwrap();
        let single = &basic.tbs_response_data.responses[0];
        assert_eq!(single.cert_id.serial_number, serial);
        match single.cert_status {
            CertStatus::Revoked(info) => {
                assert_eq!(info.revocation_reason, Some(CrlReason::KeyCompromise));
                assert_eq!(info.revocation_time.0.to_unix_duration().as_secs() as i64, at.unix_timestamp());
            }
            other => panic!("not revoked: {other:?}"),
        }
        verify_signature(
            &responder.certificate().tbs_certificate.subject_public_key_info,
            crate::KeyAlgorithm::EcdsaP256Sha256,
            &basic.tbs_response_data.to_der().unwrap(),
            basic.signature.raw_bytes(),
        )
        .unwrap();
    }

    #[tokio::test]
    async fn other_issuers_are_unknown_and_garbage_is_malformed() {
        let (responder, ca) = fixture().await;
        let (_, other_ca) = fixture().await;
        let parsed = parse_request(&request_for(&other_ca, &random_serial()).unwrap(), &ca).unwrap();
        assert!(parsed.queries[0].serial.is_none());
        let der = responder.respond(&parsed, &[OcspStatus::Good], OffsetDateTime::now_utc()).await.unwrap();
        let basic = basic_response(&der).unwrap().unwrap();
        assert!(matches!(basic.tbs_response_data.responses[0].cert_status, CertStatus::Unknown(_)));

        assert_eq!(parse_request(b"\x30\x03\x02\x01\x00", &ca), Err(RequestError::Malformed));
        assert_eq!(parse_request(&[0u8; MAX_REQUEST_BYTES + 1], &ca), Err(RequestError::TooLarge));
        assert_eq!(parse_request(&[], &ca), Err(RequestError::Malformed));
        let malformed = error_response(x509_ocsp::OcspResponseStatus::MalformedRequest);
        assert_eq!(malformed, [0x30, 0x03, 0x0a, 0x01, 0x01]);
        assert!(basic_response(&malformed).unwrap().is_none());
    }

    #[test]
    fn serials_round_trip_through_hex() {
        let s = random_serial();
        assert_eq!(serial_from_hex(&serial_hex(&s)).unwrap(), s);
        assert!(serial_from_hex("zz").is_err());
        assert!(serial_from_hex("").is_err());
        assert!(serial_from_hex("abc").is_err());
    }
}
