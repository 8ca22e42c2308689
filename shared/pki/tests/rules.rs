//! Serial, validity, naming and issuer rules, and TSA refusals, without external tools.

use std::sync::Arc;

use esign_pki::cert::{
    CaSubject, CertValidity, ISSUING_VALIDITY_YEARS, NOT_BEFORE_SKEW, SealSubject, is_tsa_certificate, random_serial,
};
use esign_pki::const_oid::ObjectIdentifier;
use esign_pki::der::asn1::{OctetString, UtcTime};
use esign_pki::der::{Encode, Sequence};
use esign_pki::spki::AlgorithmIdentifierOwned;
use esign_pki::tsa::{Clock, FailureInfo, STATUS_GRANTED, STATUS_REJECTION, TimeStampAuthority, parse_response};
use esign_pki::x509_cert::Certificate;
use esign_pki::x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use esign_pki::x509_cert::time::Time;
use esign_pki::x509_tsp::{MessageImprint, TimeStampReq, TspVersion};
use esign_pki::{
    KeySigner, LocalKeySigner, OID_SHA256, PkiError, issuing_ca_certificate, issuing_validity, root_ca_certificate,
    root_validity, seal_certificate, seal_validity, tsa_certificate, tsa_validity,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1");

fn ca(cn: &str) -> CaSubject {
    CaSubject { common_name: cn.into(), organization: None, country: Some("CN".into()) }
}

fn subject() -> SealSubject {
    SealSubject::new("Example Co., Ltd.", "91350100M000100Y43", "Official Seal")
}

async fn root(signer: &LocalKeySigner, validity: CertValidity) -> Certificate {
    root_ca_certificate(signer, &ca("Root"), validity).await.unwrap()
}

async fn issuing(root_signer: &LocalKeySigner, root: &Certificate, key: &LocalKeySigner) -> Certificate {
    let validity = issuing_validity(OffsetDateTime::now_utc(), root).unwrap();
    issuing_ca_certificate(root_signer, root, &key.public_key().await.unwrap(), &ca("Issuing"), validity).await.unwrap()
}

#[test]
fn serials_are_positive_16_byte_and_distinct() {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..2000 {
        let serial = random_serial();
        let bytes = serial.as_bytes().to_vec();
        assert!(bytes.len() <= 16, "{bytes:?}");
        assert!(bytes[0] & 0x80 == 0, "negative: {bytes:?}");
        assert!(bytes.iter().any(|&b| b != 0));
        assert!(seen.insert(bytes));
    }
    // Most of them use all 16 bytes (the top byte is zero with probability 1/128).
    assert!(seen.iter().filter(|b| b.len() == 16).count() > 1900);
}

#[tokio::test]
async fn validity_defaults_and_caps() {
    let now = datetime!(2026-11-26 15:00:00.123 UTC);
    let r = root_validity(now).unwrap();
    assert_eq!(r.not_before, datetime!(2026-11-26 14:55:00 UTC));
    assert_eq!(r.not_after, datetime!(2046-11-26 15:00:00 UTC));
    assert_eq!(NOT_BEFORE_SKEW, Duration::minutes(5));

    let signer = LocalKeySigner::generate_p256().unwrap();
    let short_root = root(
        &signer,
        CertValidity { not_before: datetime!(2026-01-01 00:00 UTC), not_after: datetime!(2030-01-01 00:00 UTC) },
    )
    .await;
    let i = issuing_validity(now, &short_root).unwrap();
    assert_eq!(i.not_after, datetime!(2030-01-01 00:00 UTC), "capped at the root's notAfter");
    let long_root = root(&signer, r).await;
    let i = issuing_validity(now, &long_root).unwrap();
    assert_eq!(i.not_after, datetime!(2036-11-26 15:00:00 UTC), "{ISSUING_VALIDITY_YEARS} years");
    let t = tsa_validity(now, &long_root).unwrap();
    assert_eq!(t.not_after, datetime!(2031-11-26 15:00:00 UTC));

    let s = seal_validity(now, None, &long_root).unwrap();
    assert_eq!(s.not_after, datetime!(2028-11-26 15:00:00 UTC));
    let s = seal_validity(now, Some(datetime!(2027-06-30 00:00 UTC)), &long_root).unwrap();
    assert_eq!(s.not_after, datetime!(2027-06-30 00:00 UTC), "an earlier end wins");
    let s = seal_validity(now, Some(datetime!(2035-01-01 00:00 UTC)), &long_root).unwrap();
    assert_eq!(s.not_after, datetime!(2028-11-26 15:00:00 UTC), "never longer than two years");
    // 29 February plus whole years.
    let leap = seal_validity(datetime!(2028-02-29 12:00 UTC), None, &long_root).unwrap();
    assert_eq!(leap.not_after, datetime!(2030-02-28 12:00 UTC));
    let s = seal_validity(now, None, &short_root).unwrap();
    assert!(s.not_after <= datetime!(2030-01-01 00:00 UTC));
    assert!(seal_validity(now, Some(now - Duration::days(1)), &long_root).is_err(), "an end in the past");
    assert!(seal_validity(datetime!(2031-01-01 00:00 UTC), None, &short_root).is_err(), "issuer expired");
}

#[tokio::test]
async fn certificates_never_outlive_their_issuer_and_far_dates_use_generalized_time() {
    let root_signer = LocalKeySigner::generate_p256().unwrap();
    let now = OffsetDateTime::now_utc();
    let root = root(&root_signer, CertValidity { not_before: now, not_after: datetime!(2060-01-01 00:00 UTC) }).await;
    let v = &root.tbs_certificate.validity;
    assert!(matches!(v.not_before, Time::UtcTime(_)));
    assert!(matches!(v.not_after, Time::GeneralTime(_)));
    assert_eq!(CertValidity::of(&root).unwrap().not_after, datetime!(2060-01-01 00:00 UTC));

    let key = LocalKeySigner::generate_p256().unwrap();
    let too_long = CertValidity { not_before: now, not_after: datetime!(2061-01-01 00:00 UTC) };
    let err = issuing_ca_certificate(&root_signer, &root, &key.public_key().await.unwrap(), &ca("I"), too_long).await;
    assert!(matches!(err, Err(PkiError::Invalid(_))), "{err:?}");
    let backwards = CertValidity { not_before: now, not_after: now - Duration::hours(1) };
    assert!(root_ca_certificate(&root_signer, &ca("R"), backwards).await.is_err());
}

#[tokio::test]
async fn only_the_right_ca_key_issues() {
    let root_signer = LocalKeySigner::generate_p256().unwrap();
    let root = root(&root_signer, root_validity(OffsetDateTime::now_utc()).unwrap()).await;
    let issuing_key = LocalKeySigner::generate_p256().unwrap();
    let issuing = issuing(&root_signer, &root, &issuing_key).await;
    let seal_key = LocalKeySigner::generate_p256().unwrap();
    let seal_pk = seal_key.public_key().await.unwrap();
    let validity = seal_validity(OffsetDateTime::now_utc(), None, &issuing).unwrap();

    // The root's key cannot sign in the issuing CA's name.
    let err = seal_certificate(&root_signer, &issuing, &seal_pk, &subject(), random_serial(), validity).await;
    assert!(matches!(err, Err(PkiError::Invalid(_))), "{err:?}");
    // pathLen 0: the issuing CA issues no CA.
    let err = issuing_ca_certificate(&issuing_key, &issuing, &seal_pk, &ca("Sub"), validity).await;
    assert!(matches!(err, Err(PkiError::Invalid(_))), "{err:?}");
    // A seal certificate is no issuer.
    let seal = seal_certificate(&issuing_key, &issuing, &seal_pk, &subject(), random_serial(), validity).await.unwrap();
    let err = seal_certificate(&seal_key, &seal, &seal_pk, &subject(), random_serial(), validity).await;
    assert!(matches!(err, Err(PkiError::Invalid(_))), "{err:?}");

    let (critical, ku) = seal.tbs_certificate.get::<KeyUsage>().unwrap().unwrap();
    assert!(critical);
    assert_eq!(ku.0, KeyUsages::DigitalSignature | KeyUsages::NonRepudiation);
    let (_, bc) = seal.tbs_certificate.get::<BasicConstraints>().unwrap().unwrap();
    assert!(!bc.ca);
    assert!(!is_tsa_certificate(&seal));
}

#[tokio::test]
async fn names_are_checked() {
    let mut s = subject();
    assert_eq!(s.organization_identifier(), "NTRCN-91350100M000100Y43");
    assert!(s.to_name().is_ok());
    s.uscc = "91350100m000100y43".into();
    assert!(s.to_name().is_err());
    s.uscc = "913501".into();
    assert!(s.to_name().is_err());
    let mut s = subject();
    s.country = "China".into();
    assert!(s.to_name().is_err());
    let mut s = subject();
    s.seal_name = "  ".into();
    assert!(s.to_name().is_err());
    assert_eq!(
        subject().to_name().unwrap().to_string(),
        // RFC 4514 order (last RDN first); the organizationIdentifier is a UTF8String.
        "CN=Official Seal,2.5.4.97=#0c184e5452434e2d39313335303130304d303030313030593433,O=Example Co.\\, Ltd.,C=CN"
    );
}

struct FixedClock(OffsetDateTime);
impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

async fn tsa() -> (TimeStampAuthority, Certificate, LocalKeySigner) {
    let root_signer = LocalKeySigner::generate_p256().unwrap();
    let root = root(&root_signer, root_validity(OffsetDateTime::now_utc()).unwrap()).await;
    let issuing_key = LocalKeySigner::generate_p256().unwrap();
    let issuing = issuing(&root_signer, &root, &issuing_key).await;
    let tsa_key = Arc::new(LocalKeySigner::generate_p256().unwrap());
    let validity = tsa_validity(OffsetDateTime::now_utc(), &issuing).unwrap();
    let cert = tsa_certificate(&issuing_key, &issuing, &tsa_key.public_key().await.unwrap(), &ca("TSA"), validity)
        .await
        .unwrap();
    assert!(is_tsa_certificate(&cert));
    let tsa = TimeStampAuthority::new(tsa_key, vec![cert.clone()], POLICY).await.unwrap();
    (tsa, issuing, issuing_key)
}

fn request(hash: &[u8]) -> TimeStampReq {
    TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned { oid: OID_SHA256, parameters: None },
            hashed_message: OctetString::new(hash).unwrap(),
        },
        req_policy: None,
        nonce: None,
        cert_req: false,
        extensions: None,
    }
}

fn fail_bits(response: &[u8]) -> Vec<usize> {
    let (response, token) = parse_response(response).unwrap();
    assert_eq!(response.status.status, STATUS_REJECTION);
    assert!(token.is_none());
    FailureInfo::bits_of(response.status.fail_info.as_ref().unwrap())
}

#[tokio::test]
async fn tsa_refusals() {
    let (tsa, issuing, issuing_key) = tsa().await;
    let granted = tsa.respond(&request(&[7; 32]).to_der().unwrap()).await;
    let (status, token) = parse_response(&granted).unwrap();
    assert_eq!(status.status.status, STATUS_GRANTED);
    let token = token.unwrap();
    assert_eq!(token.tst_info.message_imprint.hashed_message.as_bytes(), &[7; 32]);
    assert_eq!(token.tst_info.policy, POLICY);
    let gen_time = token.tst_info.gen_time.to_unix_duration().as_secs() as i64;
    assert!((gen_time - OffsetDateTime::now_utc().unix_timestamp()).abs() < 60);

    // A 31-byte "SHA-256" imprint.
    assert_eq!(
        fail_bits(&tsa.respond(&request(&[7; 31]).to_der().unwrap()).await),
        [FailureInfo::BadDataFormat as usize]
    );
    // Request extensions are not supported.
    let mut with_ext = request(&[7; 32]);
    with_ext.extensions = Some(vec![esign_pki::x509_cert::ext::Extension {
        extn_id: ObjectIdentifier::new_unwrap("1.2.3.4"),
        critical: false,
        extn_value: OctetString::new(vec![5, 0]).unwrap(),
    }]);
    assert_eq!(fail_bits(&tsa.respond(&with_ext.to_der().unwrap()).await), [FailureInfo::UnacceptedExtension as usize]);
    // A request of another shape entirely (a valid DER SEQUENCE, wrong structure).
    #[derive(Sequence)]
    struct Other {
        when: UtcTime,
    }
    let other =
        Other { when: UtcTime::from_unix_duration(std::time::Duration::from_secs(1)).unwrap() }.to_der().unwrap();
    assert_eq!(fail_bits(&tsa.respond(&other).await), [FailureInfo::BadDataFormat as usize]);

    // systemFailure is bit 25: beyond what cmpv2's flags can say.
    let expired = tsa.with_clock(Arc::new(FixedClock(datetime!(2099-01-01 00:00 UTC))));
    assert_eq!(fail_bits(&expired.respond(&request(&[7; 32]).to_der().unwrap()).await), [25]);

    // A TSA needs a timeStamping certificate and that certificate's key.
    let stranger: Arc<dyn KeySigner> = Arc::new(LocalKeySigner::generate_p256().unwrap());
    assert!(TimeStampAuthority::new(stranger, vec![expired.certificate().clone()], POLICY).await.is_err());
    assert!(TimeStampAuthority::new(Arc::new(issuing_key), vec![issuing], POLICY).await.is_err());
    let any: Arc<dyn KeySigner> = Arc::new(LocalKeySigner::generate_p256().unwrap());
    assert!(TimeStampAuthority::new(any, vec![], POLICY).await.is_err());
}
