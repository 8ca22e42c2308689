//! CRLs and OCSP responses judged by OpenSSL (`openssl crl`, `openssl verify -crl_check`,
//! `openssl ocsp`), with the requests OpenSSL itself writes.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use esign_pki::cert::{
    CaSubject, Publication, SealSubject, issuing_ca_certificate_published, ocsp_responder_certificate, ocsp_validity,
    random_serial, seal_certificate_published,
};
use esign_pki::crl::{CrlContent, RevokedEntry, sign_crl};
use esign_pki::der::pem::LineEnding;
use esign_pki::der::{Encode, EncodePem};
use esign_pki::ocsp::{OcspResponder, OcspStatus, parse_request};
use esign_pki::x509_cert::Certificate;
use esign_pki::x509_cert::ext::pkix::CrlReason;
use esign_pki::{KeySigner, LocalKeySigner, issuing_validity, root_ca_certificate, root_validity, seal_validity};
use time::{Duration, OffsetDateTime};

fn openssl(args: &[&str], dir: &Path) -> (bool, String) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
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
    CaSubject { common_name: cn.into(), organization: Some("Example".into()), country: Some("CN".into()) }
}

const BASE: &str = "http://127.0.0.1:9/v1/ca";

struct Fixture {
    dir: tempfile::TempDir,
    issuing_signer: LocalKeySigner,
    issuing: Certificate,
    root_signer: LocalKeySigner,
    root: Certificate,
    seal: Certificate,
    responder: OcspResponder,
}

async fn fixture() -> Fixture {
    let now = OffsetDateTime::now_utc();
    let root_signer = LocalKeySigner::generate_p256().unwrap();
    let issuing_signer = LocalKeySigner::generate_p256().unwrap();
    let root = root_ca_certificate(&root_signer, &ca("Root"), root_validity(now).unwrap()).await.unwrap();
    let issuing = issuing_ca_certificate_published(
        &root_signer,
        &root,
        &issuing_signer.public_key().await.unwrap(),
        &ca("Issuing"),
        issuing_validity(now, &root).unwrap(),
        &Publication { crl: Some(format!("{BASE}/root.crl")), ocsp: None, ca_issuers: None },
    )
    .await
    .unwrap();
    let publication = Publication {
        crl: Some(format!("{BASE}/crl")),
        ocsp: Some(format!("{BASE}/ocsp")),
        ca_issuers: Some(format!("{BASE}/issuing.crt")),
    };
    let seal_key = LocalKeySigner::generate_p256().unwrap();
    let seal = seal_certificate_published(
        &issuing_signer,
        &issuing,
        &seal_key.public_key().await.unwrap(),
        &SealSubject::new("示例科技有限公司", "91350100M000100Y43", "合同专用章"),
        random_serial(),
        seal_validity(now, None, &issuing).unwrap(),
        &publication,
    )
    .await
    .unwrap();
    let ocsp_key = Arc::new(LocalKeySigner::generate_rsa(2048).unwrap());
    let ocsp_cert = ocsp_responder_certificate(
        &issuing_signer,
        &issuing,
        &ocsp_key.public_key().await.unwrap(),
        &ca("OCSP Responder"),
        ocsp_validity(now, &issuing).unwrap(),
    )
    .await
    .unwrap();
    let responder = OcspResponder::new(ocsp_key, ocsp_cert.clone(), issuing.clone()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_pem(dir.path(), "root.pem", &[&root]);
    write_pem(dir.path(), "int.pem", &[&issuing]);
    write_pem(dir.path(), "seal.pem", &[&seal]);
    write_pem(dir.path(), "ocsp.pem", &[&ocsp_cert]);
    write_pem(dir.path(), "chain.pem", &[&root, &issuing]);
    Fixture { dir, issuing_signer, issuing, root_signer, root, seal, responder }
}

#[tokio::test]
async fn certificates_name_where_revocation_is_published() {
    let f = fixture().await;
    let dir = f.dir.path();
    let seal = openssl_ok(&["x509", "-in", "seal.pem", "-noout", "-text"], dir);
    assert!(seal.contains(&format!("URI:{BASE}/crl")), "{seal}");
    assert!(seal.contains(&format!("OCSP - URI:{BASE}/ocsp")), "{seal}");
    assert!(seal.contains(&format!("CA Issuers - URI:{BASE}/issuing.crt")), "{seal}");
    let int = openssl_ok(&["x509", "-in", "int.pem", "-noout", "-text"], dir);
    assert!(int.contains(&format!("URI:{BASE}/root.crl")), "{int}");
    let ocsp = openssl_ok(&["x509", "-in", "ocsp.pem", "-noout", "-text"], dir);
    assert!(ocsp.contains("OCSP Signing"), "{ocsp}");
    assert!(ocsp.contains("OCSP No Check"), "{ocsp}");
    openssl_ok(&["verify", "-CAfile", "root.pem", "-untrusted", "int.pem", "-purpose", "ocsphelper", "ocsp.pem"], dir);
}

#[tokio::test]
async fn crls_verify_and_revoke_with_openssl() {
    let f = fixture().await;
    let dir = f.dir.path();
    let now = OffsetDateTime::now_utc();
    let at = now - Duration::minutes(1);
    let content = CrlContent {
        number: 3,
        this_update: now,
        next_update: now + Duration::days(7),
        entries: vec![RevokedEntry {
            serial: f.seal.tbs_certificate.serial_number.clone(),
            revoked_at: at,
            reason: Some(CrlReason::KeyCompromise),
        }],
    };
    let crl = sign_crl(&f.issuing_signer, &f.issuing, &content).await.unwrap();
    std::fs::write(dir.join("issuing.crl"), crl.to_der().unwrap()).unwrap();
    let root_crl = CrlContent { number: 1, entries: vec![], ..content.clone() };
    let root_crl = sign_crl(&f.root_signer, &f.root, &root_crl).await.unwrap();
    std::fs::write(dir.join("root.crl"), root_crl.to_der().unwrap()).unwrap();

    let text =
        openssl_ok(&["crl", "-inform", "DER", "-in", "issuing.crl", "-noout", "-text", "-CAfile", "chain.pem"], dir);
    assert!(text.contains("verify OK"), "{text}");
    assert!(text.contains("X509v3 CRL Number: \n                3"), "{text}");
    assert!(text.contains("Key Compromise"), "{text}");
    let serial = esign_pki::ocsp::serial_hex(&f.seal.tbs_certificate.serial_number).to_uppercase();
    assert!(text.contains(&format!("Serial Number: {serial}")), "{text}");
    let text = openssl_ok(&["crl", "-inform", "DER", "-in", "root.crl", "-noout", "-text", "-CAfile", "root.pem"], dir);
    assert!(text.contains("verify OK") && text.contains("No Revoked Certificates"), "{text}");

    // The whole chain checked against both CRLs: the seal is revoked, the issuing CA is not.
    openssl_ok(&["crl", "-inform", "DER", "-in", "issuing.crl", "-out", "issuing.crl.pem"], dir);
    openssl_ok(&["crl", "-inform", "DER", "-in", "root.crl", "-out", "root.crl.pem"], dir);
    let args = [
        "verify",
        "-crl_check_all",
        "-CAfile",
        "root.pem",
        "-untrusted",
        "int.pem",
        "-CRLfile",
        "issuing.crl.pem",
        "-CRLfile",
        "root.crl.pem",
    ];
    let (ok, text) = openssl(&[&args[..], &["seal.pem"]].concat(), dir);
    assert!(!ok && text.contains("certificate revoked"), "{text}");
    let (ok, text) = openssl(&[&args[..], &["ocsp.pem"]].concat(), dir);
    assert!(ok, "an unrevoked certificate passes the CRL check: {text}");
}

async fn answer(f: &Fixture, status: OcspStatus) -> String {
    let dir = f.dir.path();
    // A request as OpenSSL writes it (SHA-1 CertID, a nonce).
    openssl_ok(&["ocsp", "-issuer", "int.pem", "-cert", "seal.pem", "-reqout", "req.der"], dir);
    let request = std::fs::read(dir.join("req.der")).unwrap();
    let parsed = parse_request(&request, &f.issuing).unwrap();
    assert!(parsed.nonce.is_some(), "openssl sends a nonce");
    assert_eq!(parsed.queries[0].serial.as_ref(), Some(&f.seal.tbs_certificate.serial_number));
    let response = f.responder.respond(&parsed, &[status], OffsetDateTime::now_utc()).await.unwrap();
    std::fs::write(dir.join("resp.der"), response).unwrap();
    // The nonce is checked against OpenSSL's own request; the status printed for seal.pem.
    let checked = openssl_ok(
        &[
            "ocsp",
            "-reqin",
            "req.der",
            "-respin",
            "resp.der",
            "-issuer",
            "int.pem",
            "-CAfile",
            "root.pem",
            "-resp_text",
        ],
        dir,
    );
    assert!(checked.contains("Response verify OK") && checked.contains("OCSP Nonce"), "{checked}");
    openssl_ok(
        &["ocsp", "-respin", "resp.der", "-issuer", "int.pem", "-cert", "seal.pem", "-CAfile", "root.pem", "-no_nonce"],
        dir,
    )
}

#[tokio::test]
async fn ocsp_answers_verify_with_openssl() {
    let f = fixture().await;
    let text = answer(&f, OcspStatus::Good).await;
    assert!(text.contains("Response verify OK") && text.contains("seal.pem: good"), "{text}");
    let at = (OffsetDateTime::now_utc() - Duration::hours(1)).replace_nanosecond(0).unwrap();
    let text = answer(&f, OcspStatus::Revoked { at, reason: Some(CrlReason::CessationOfOperation) }).await;
    assert!(text.contains("Response verify OK") && text.contains("seal.pem: revoked"), "{text}");
    assert!(text.contains("Reason: cessationOfOperation"), "{text}");
    assert!(text.contains("Revocation Time:"), "{text}");
    let text = answer(&f, OcspStatus::Unknown).await;
    assert!(text.contains("seal.pem: unknown"), "{text}");
}
