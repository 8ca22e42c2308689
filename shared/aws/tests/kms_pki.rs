//! The platform PKI with every CA and TSA key in KMS (the emulator from `scripts/emulator.sh`),
//! judged by OpenSSL.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use esign_aws::kms::KmsKeySigner;
use esign_pki::cert::{CaSubject, SealSubject};
use esign_pki::const_oid::ObjectIdentifier;
use esign_pki::der::EncodePem;
use esign_pki::der::pem::LineEnding;
use esign_pki::tsa::{STATUS_GRANTED, TimeStampAuthority, parse_response};
use esign_pki::x509_cert::Certificate;
use esign_pki::{KeyAlgorithm, KeySigner, PkiError, cert};
use time::OffsetDateTime;

async fn kms() -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(&common::emulator_sdk().await)
}

async fn create_key(kms: &aws_sdk_kms::Client, spec: KeySpec) -> String {
    let out = kms
        .create_key()
        .key_spec(spec)
        .key_usage(KeyUsageType::SignVerify)
        .description("esign-pki test key")
        .send()
        .await
        .expect("CreateKey");
    out.key_metadata().unwrap().key_id().to_owned()
}

fn openssl(args: &[&str], dir: &Path) -> (bool, String) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn openssl_ok(args: &[&str], dir: &Path) -> String {
    let (ok, text) = openssl(args, dir);
    assert!(ok, "openssl {args:?} failed:\n{text}");
    text
}

fn write_pem(dir: &Path, name: &str, certs: &[&Certificate]) {
    let pem: String = certs.iter().map(|c| c.to_pem(LineEnding::LF).unwrap()).collect();
    std::fs::write(dir.join(name), pem).unwrap();
}

fn ca(cn: &str) -> CaSubject {
    CaSubject { common_name: cn.into(), organization: Some("esign test".into()), country: Some("CN".into()) }
}

#[tokio::test]
async fn kms_backed_chain_and_tsa_verify_with_openssl() {
    let kms = kms().await;
    let now = OffsetDateTime::now_utc();

    // Root on P-256, issuing CA on RSA-2048: both signature schemes go through KMS.
    let root_signer = KmsKeySigner::connect(kms.clone(), create_key(&kms, KeySpec::EccNistP256).await).await.unwrap();
    assert_eq!(root_signer.algorithm(), KeyAlgorithm::EcdsaP256Sha256);
    let issuing_signer = KmsKeySigner::connect(kms.clone(), create_key(&kms, KeySpec::Rsa2048).await).await.unwrap();
    assert_eq!(issuing_signer.algorithm(), KeyAlgorithm::RsaPkcs1Sha256);
    // Constructed with a declared algorithm, the public key is fetched lazily.
    let tsa_signer =
        KmsKeySigner::new(kms.clone(), create_key(&kms, KeySpec::EccNistP256).await, KeyAlgorithm::EcdsaP256Sha256);

    let root =
        cert::root_ca_certificate(&root_signer, &ca("KMS Root CA"), cert::root_validity(now).unwrap()).await.unwrap();
    let issuing = cert::issuing_ca_certificate(
        &root_signer,
        &root,
        &issuing_signer.public_key().await.unwrap(),
        &ca("KMS Issuing CA"),
        cert::issuing_validity(now, &root).unwrap(),
    )
    .await
    .unwrap();
    let mut seals = Vec::new();
    for spec in [KeySpec::EccNistP256, KeySpec::Rsa2048] {
        let seal_key = KmsKeySigner::connect(kms.clone(), create_key(&kms, spec).await).await.unwrap();
        seals.push(
            cert::seal_certificate(
                &issuing_signer,
                &issuing,
                &seal_key.public_key().await.unwrap(),
                &SealSubject::new("示例科技有限公司", "91350100M000100Y43", "公章"),
                cert::random_serial(),
                cert::seal_validity(now, None, &issuing).unwrap(),
            )
            .await
            .unwrap(),
        );
    }
    let tsa_cert = cert::tsa_certificate(
        &issuing_signer,
        &issuing,
        &tsa_signer.public_key().await.unwrap(),
        &ca("KMS TSA"),
        cert::tsa_validity(now, &issuing).unwrap(),
    )
    .await
    .unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_pem(dir, "root.pem", &[&root]);
    write_pem(dir, "int.pem", &[&issuing]);
    write_pem(dir, "seal-ec.pem", &[&seals[0]]);
    write_pem(dir, "seal-rsa.pem", &[&seals[1]]);
    write_pem(dir, "tsa.pem", &[&tsa_cert]);
    write_pem(dir, "chain.pem", &[&tsa_cert, &issuing]);
    assert!(openssl_ok(&["verify", "-CAfile", "root.pem", "int.pem"], dir).contains("int.pem: OK"));
    for seal in ["seal-ec.pem", "seal-rsa.pem"] {
        assert!(openssl_ok(&["verify", "-CAfile", "root.pem", "-untrusted", "int.pem", seal], dir).contains(": OK"));
        let text = openssl_ok(&["x509", "-in", seal, "-noout", "-text"], dir);
        assert!(text.contains("Signature Algorithm: sha256WithRSAEncryption"), "{text}");
        assert!(text.contains("Digital Signature, Non Repudiation"), "{text}");
    }
    let text = openssl_ok(&["x509", "-in", "int.pem", "-noout", "-text"], dir);
    assert!(text.contains("Signature Algorithm: ecdsa-with-SHA256"), "{text}");
    assert!(
        openssl_ok(
            &["verify", "-CAfile", "root.pem", "-untrusted", "int.pem", "-purpose", "timestampsign", "tsa.pem"],
            dir
        )
        .contains("tsa.pem: OK")
    );

    // A time-stamp token signed in KMS.
    let tsa = TimeStampAuthority::new(
        Arc::new(tsa_signer),
        vec![tsa_cert, issuing.clone()],
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1"),
    )
    .await
    .unwrap();
    std::fs::write(dir.join("data.txt"), b"stamped through KMS\n").unwrap();
    openssl_ok(&["ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out", "q.tsq"], dir);
    let response = tsa.respond(&std::fs::read(dir.join("q.tsq")).unwrap()).await;
    assert_eq!(parse_response(&response).unwrap().0.status.status, STATUS_GRANTED);
    std::fs::write(dir.join("r.tsr"), &response).unwrap();
    let ok = openssl_ok(
        &["ts", "-verify", "-in", "r.tsr", "-queryfile", "q.tsq", "-CAfile", "root.pem", "-untrusted", "chain.pem"],
        dir,
    );
    assert!(ok.contains("Verification: OK"), "{ok}");
}

#[tokio::test]
async fn kms_failures_are_errors() {
    let kms = kms().await;
    let missing = KmsKeySigner::connect(kms.clone(), "00000000-0000-0000-0000-000000000000").await;
    assert!(matches!(missing, Err(PkiError::Signer(_))), "{missing:?}");

    // Declared RSA, but the key is P-256: caught when the public key is fetched.
    let ec_key = create_key(&kms, KeySpec::EccNistP256).await;
    let wrong = KmsKeySigner::new(kms.clone(), ec_key.clone(), KeyAlgorithm::RsaPkcs1Sha256);
    assert!(matches!(wrong.public_key().await, Err(PkiError::UnsupportedKey(_))));

    let signer = KmsKeySigner::connect(kms.clone(), ec_key).await.unwrap();
    let spki = signer.public_key().await.unwrap();
    let signature = signer.sign(b"hello").await.unwrap();
    esign_pki::verify_signature(&spki, KeyAlgorithm::EcdsaP256Sha256, b"hello", &signature).unwrap();
    assert!(matches!(signer.sign(&[0; 4097]).await, Err(PkiError::Signer(_))));
    // (moto 5.2.5 still signs with a disabled key, so that case is left to real KMS.)
}

/// The evidence seal's certificate names the platform's OCSP responder and CRL: when the public
/// URL changes (a local server on another port), bootstrapping again reissues it, so a verifier
/// asking the responder a report names finds it; with the same URL it stays as it is.
#[tokio::test]
async fn the_evidence_seal_certificate_follows_the_public_url() {
    use esign_aws::authority::{CaKeys, KmsAuthority};
    use esign_core::ports::SealAuthority as _;
    use esign_pki::der::Encode as _;

    let kms = kms().await;
    let keys = CaKeys {
        root: create_key(&kms, KeySpec::Rsa3072).await,
        issuing: create_key(&kms, KeySpec::EccNistP256).await,
        tsa: create_key(&kms, KeySpec::Rsa2048).await,
        ocsp: create_key(&kms, KeySpec::EccNistP256).await,
        evidence: create_key(&kms, KeySpec::EccNistP256).await,
    };
    let sdk = common::emulator_sdk().await;
    let store = esign_core::memory::MemoryStore::default();
    let evidence_der = |ca: KmsAuthority| async move {
        let signer = ca.evidence_signer().await.expect("an evidence signer");
        signer.certificate_chain()[0].to_der().unwrap()
    };
    let names = |der: &[u8], url: &str| der.windows(url.len()).any(|w| w == url.as_bytes());

    let first = KmsAuthority::bootstrap(&sdk, &store, &keys, "test", Some("http://127.0.0.1:1111")).await.unwrap();
    let first = evidence_der(first).await;
    assert!(names(&first, "http://127.0.0.1:1111/v1/ca/ocsp"));

    let same = KmsAuthority::bootstrap(&sdk, &store, &keys, "test", Some("http://127.0.0.1:1111/")).await.unwrap();
    assert_eq!(evidence_der(same).await, first, "the same URL: the same certificate");

    let moved = KmsAuthority::bootstrap(&sdk, &store, &keys, "test", Some("http://127.0.0.1:2222")).await.unwrap();
    let moved = evidence_der(moved).await;
    assert!(names(&moved, "http://127.0.0.1:2222/v1/ca/ocsp") && names(&moved, "http://127.0.0.1:2222/v1/ca/crl"));
    assert!(!names(&moved, "http://127.0.0.1:1111"), "nothing of the old address is left");
}
