//! The certificates and time-stamp tokens judged by OpenSSL, which nobody on the project wrote.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use esign_pki::cert::{CaSubject, SealSubject, random_serial};
use esign_pki::const_oid::ObjectIdentifier;
use esign_pki::der::EncodePem;
use esign_pki::der::pem::LineEnding;
use esign_pki::tsa::{FailureInfo, STATUS_GRANTED, STATUS_REJECTION, TimeStampAuthority, parse_response};
use esign_pki::x509_cert::Certificate;
use esign_pki::{
    KeySigner, LocalKeySigner, issuing_ca_certificate, issuing_validity, root_ca_certificate, root_validity,
    seal_certificate, seal_validity, tsa_certificate, tsa_validity,
};
use time::OffsetDateTime;

const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1");

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

fn write_pem(dir: &Path, name: &str, certs: &[&Certificate]) -> PathBuf {
    let pem: String = certs.iter().map(|c| c.to_pem(LineEnding::LF).unwrap()).collect();
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path
}

fn ca(cn: &str) -> CaSubject {
    CaSubject {
        common_name: cn.into(),
        organization: Some("Example E-Seal Platform".into()),
        country: Some("CN".into()),
    }
}

struct Pki {
    dir: tempfile::TempDir,
    issuing_signer: LocalKeySigner,
    issuing: Certificate,
}

/// Root and issuing CA with the given keys, written as root.pem and int.pem.
async fn pki(root_signer: LocalKeySigner, issuing_signer: LocalKeySigner) -> Pki {
    let now = OffsetDateTime::now_utc();
    let root = root_ca_certificate(&root_signer, &ca("Test Root CA"), root_validity(now).unwrap()).await.unwrap();
    let issuing = issuing_ca_certificate(
        &root_signer,
        &root,
        &issuing_signer.public_key().await.unwrap(),
        &ca("Test Issuing CA"),
        issuing_validity(now, &root).unwrap(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_pem(dir.path(), "root.pem", &[&root]);
    write_pem(dir.path(), "int.pem", &[&issuing]);
    Pki { dir, issuing_signer, issuing }
}

async fn seal(pki: &Pki, key: &LocalKeySigner) -> Certificate {
    let now = OffsetDateTime::now_utc();
    seal_certificate(
        &pki.issuing_signer,
        &pki.issuing,
        &key.public_key().await.unwrap(),
        &SealSubject::new("示例科技有限公司", "91350100M000100Y43", "合同专用章"),
        random_serial(),
        seal_validity(now, None, &pki.issuing).unwrap(),
    )
    .await
    .unwrap()
}

async fn tsa_cert(pki: &Pki, key: &LocalKeySigner) -> Certificate {
    let now = OffsetDateTime::now_utc();
    tsa_certificate(
        &pki.issuing_signer,
        &pki.issuing,
        &key.public_key().await.unwrap(),
        &ca("Test TSA"),
        tsa_validity(now, &pki.issuing).unwrap(),
    )
    .await
    .unwrap()
}

fn check_chain(pki: &Pki, seal: &Certificate, tsa: &Certificate) {
    let dir = pki.dir.path();
    write_pem(dir, "seal.pem", &[seal]);
    write_pem(dir, "tsa.pem", &[tsa]);
    assert!(openssl_ok(&["verify", "-CAfile", "root.pem", "root.pem"], dir).contains("root.pem: OK"));
    assert!(openssl_ok(&["verify", "-CAfile", "root.pem", "int.pem"], dir).contains("int.pem: OK"));
    assert!(
        openssl_ok(&["verify", "-CAfile", "root.pem", "-untrusted", "int.pem", "seal.pem"], dir)
            .contains("seal.pem: OK")
    );
    let tsa_ok = openssl_ok(
        &["verify", "-CAfile", "root.pem", "-untrusted", "int.pem", "-purpose", "timestampsign", "tsa.pem"],
        dir,
    );
    assert!(tsa_ok.contains("tsa.pem: OK"));
    // Without the intermediate the chain must not build, and a seal is no TSA.
    assert!(!openssl(&["verify", "-CAfile", "root.pem", "seal.pem"], dir).0);
    assert!(
        !openssl(
            &["verify", "-CAfile", "root.pem", "-untrusted", "int.pem", "-purpose", "timestampsign", "seal.pem"],
            dir
        )
        .0
    );

    let root = openssl_ok(&["x509", "-in", "root.pem", "-noout", "-text"], dir);
    assert!(root.contains("X509v3 Basic Constraints: critical\n                CA:TRUE\n"), "{root}");
    assert!(root.contains("X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"), "{root}");
    assert!(root.contains("X509v3 Subject Key Identifier"), "{root}");

    let int = openssl_ok(&["x509", "-in", "int.pem", "-noout", "-text"], dir);
    assert!(int.contains("CA:TRUE, pathlen:0"), "{int}");
    assert!(int.contains("Certificate Sign, CRL Sign"), "{int}");
    assert!(int.contains("X509v3 Authority Key Identifier"), "{int}");

    let seal =
        openssl_ok(&["x509", "-in", "seal.pem", "-noout", "-text", "-nameopt", "utf8,sep_comma_plus_space"], dir);
    assert!(
        seal.contains("X509v3 Key Usage: critical\n                Digital Signature, Non Repudiation\n"),
        "{seal}"
    );
    assert!(seal.contains("X509v3 Basic Constraints: critical\n                CA:FALSE"), "{seal}");
    assert!(!seal.contains("Extended Key Usage"), "{seal}");
    assert!(seal.contains("X509v3 Authority Key Identifier"), "{seal}");
    assert!(
        seal.contains(
            "Subject: C=CN, O=示例科技有限公司, organizationIdentifier=NTRCN-91350100M000100Y43, CN=合同专用章"
        ),
        "{seal}"
    );

    let tsa = openssl_ok(&["x509", "-in", "tsa.pem", "-noout", "-text"], dir);
    assert!(tsa.contains("X509v3 Extended Key Usage: critical\n                Time Stamping\n"), "{tsa}");
    assert!(tsa.contains("Digital Signature, Non Repudiation"), "{tsa}");
}

#[tokio::test]
async fn p256_chain_verifies_with_openssl() {
    let pki = pki(LocalKeySigner::generate_p256().unwrap(), LocalKeySigner::generate_p256().unwrap()).await;
    let seal = seal(&pki, &LocalKeySigner::generate_rsa(2048).unwrap()).await;
    let tsa = tsa_cert(&pki, &LocalKeySigner::generate_p256().unwrap()).await;
    check_chain(&pki, &seal, &tsa);
    let int = openssl_ok(&["x509", "-in", "int.pem", "-noout", "-text"], pki.dir.path());
    assert!(int.contains("Signature Algorithm: ecdsa-with-SHA256"), "{int}");
}

#[tokio::test]
async fn rsa_chain_from_openssl_keys_verifies_with_openssl() {
    let keys = tempfile::tempdir().unwrap();
    openssl_ok(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "root.key"], keys.path());
    openssl_ok(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.key"], keys.path());
    let read = |name: &str| std::fs::read_to_string(keys.path().join(name)).unwrap();
    let root_signer = LocalKeySigner::from_pkcs8_pem(&read("root.key")).unwrap();
    let pki = pki(root_signer, LocalKeySigner::generate_rsa(2048).unwrap()).await;
    let seal = seal(&pki, &LocalKeySigner::from_pkcs8_pem(&read("ec.key")).unwrap()).await;
    let tsa = tsa_cert(&pki, &LocalKeySigner::generate_rsa(2048).unwrap()).await;
    check_chain(&pki, &seal, &tsa);
    let int = openssl_ok(&["x509", "-in", "int.pem", "-noout", "-text"], pki.dir.path());
    assert!(int.contains("Signature Algorithm: sha256WithRSAEncryption"), "{int}");
}

/// A PKI with a TSA, tsa.pem/chain.pem written, and a data file.
async fn tsa_fixture(tsa_key: LocalKeySigner) -> (Pki, TimeStampAuthority) {
    let pki = pki(LocalKeySigner::generate_p256().unwrap(), LocalKeySigner::generate_p256().unwrap()).await;
    let cert = tsa_cert(&pki, &tsa_key).await;
    write_pem(pki.dir.path(), "tsa.pem", &[&cert]);
    write_pem(pki.dir.path(), "chain.pem", &[&cert, &pki.issuing]);
    std::fs::write(pki.dir.path().join("data.txt"), b"the document to be time-stamped\n").unwrap();
    std::fs::write(pki.dir.path().join("other.txt"), b"another document\n").unwrap();
    let tsa = TimeStampAuthority::new(Arc::new(tsa_key), vec![cert, pki.issuing.clone()], POLICY).await.unwrap();
    (pki, tsa)
}

async fn respond_file(tsa: &TimeStampAuthority, dir: &Path, query: &str, reply: &str) -> Vec<u8> {
    let request = std::fs::read(dir.join(query)).unwrap();
    let response = tsa.respond(&request).await;
    std::fs::write(dir.join(reply), &response).unwrap();
    response
}

async fn check_tsa(tsa_key: LocalKeySigner) {
    let (pki, tsa) = tsa_fixture(tsa_key).await;
    let tsa = tsa.with_tsa_name(true);
    let dir = pki.dir.path();

    // SHA-256 imprint, nonce, certReq: verify with the root as the only trust anchor.
    openssl_ok(&["ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out", "q.tsq"], dir);
    let response = respond_file(&tsa, dir, "q.tsq", "r.tsr").await;
    let text = openssl_ok(&["ts", "-reply", "-in", "r.tsr", "-text"], dir);
    assert!(text.contains("Status: Granted."), "{text}");
    assert!(text.contains("Policy OID: 1.3.6.1.4.1.99999.1.1"), "{text}");
    assert!(text.contains("Hash Algorithm: sha256"), "{text}");
    assert!(!text.contains("Nonce: unspecified"), "{text}");
    assert!(text.contains("TSA: DirName:"), "{text}");
    let ok = openssl_ok(
        &["ts", "-verify", "-in", "r.tsr", "-queryfile", "q.tsq", "-CAfile", "root.pem", "-untrusted", "chain.pem"],
        dir,
    );
    assert!(ok.contains("Verification: OK"), "{ok}");
    // The certificates in the token alone (certReq) are enough to build the chain.
    let ok = openssl_ok(&["ts", "-verify", "-in", "r.tsr", "-queryfile", "q.tsq", "-CAfile", "root.pem"], dir);
    assert!(ok.contains("Verification: OK"), "{ok}");
    // Another document's imprint must not verify.
    let (ok, text) = openssl(&["ts", "-verify", "-in", "r.tsr", "-data", "other.txt", "-CAfile", "root.pem"], dir);
    assert!(!ok, "{text}");
    // Nor with another root of the same name as the only trust anchor.
    other_root(dir).await;
    let (ok, text) =
        openssl(&["ts", "-verify", "-in", "r.tsr", "-queryfile", "q.tsq", "-CAfile", "other-root.pem"], dir);
    assert!(!ok, "{text}");

    let (status, token) = parse_response(&response).unwrap();
    assert_eq!(status.status.status, STATUS_GRANTED);
    let token = token.unwrap();
    assert!(token.signed_data.certificates.is_some());

    // SHA-512 without certReq or nonce: the token carries no certificates; -untrusted supplies them.
    openssl_ok(&["ts", "-query", "-data", "data.txt", "-sha512", "-no_nonce", "-out", "q512.tsq"], dir);
    let response = respond_file(&tsa, dir, "q512.tsq", "r512.tsr").await;
    let (_, token) = parse_response(&response).unwrap();
    let token = token.unwrap();
    assert!(token.signed_data.certificates.is_none());
    assert!(token.tst_info.nonce.is_none());
    let ok = openssl_ok(
        &[
            "ts",
            "-verify",
            "-in",
            "r512.tsr",
            "-queryfile",
            "q512.tsq",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "chain.pem",
        ],
        dir,
    );
    assert!(ok.contains("Verification: OK"), "{ok}");

    // Serial numbers differ between tokens.
    let again = respond_file(&tsa, dir, "q512.tsq", "r512b.tsr").await;
    let (_, again) = parse_response(&again).unwrap();
    assert_ne!(again.unwrap().tst_info.serial_number, token.tst_info.serial_number);
}

async fn other_root(dir: &Path) {
    let signer = LocalKeySigner::generate_p256().unwrap();
    let root = root_ca_certificate(&signer, &ca("Test Root CA"), root_validity(OffsetDateTime::now_utc()).unwrap())
        .await
        .unwrap();
    write_pem(dir, "other-root.pem", &[&root]);
}

#[tokio::test]
async fn p256_tsa_tokens_verify_with_openssl() {
    check_tsa(LocalKeySigner::generate_p256().unwrap()).await;
}

#[tokio::test]
async fn rsa_tsa_tokens_verify_with_openssl() {
    check_tsa(LocalKeySigner::generate_rsa(2048).unwrap()).await;
}

fn rejection_of(response: &[u8]) -> (Vec<usize>, String) {
    let (response, token) = parse_response(response).unwrap();
    assert_eq!(response.status.status, STATUS_REJECTION);
    assert!(token.is_none());
    let bits = FailureInfo::bits_of(response.status.fail_info.as_ref().unwrap());
    (bits, response.status.status_string.unwrap().join(" "))
}

#[tokio::test]
async fn bad_requests_get_rejections_not_panics() {
    let (pki, tsa) = tsa_fixture(LocalKeySigner::generate_p256().unwrap()).await;
    let dir = pki.dir.path();

    for garbage in [&b""[..], b"\x30", b"\x30\x03\x02\x01\x01", b"hello, world", &[0xff; 300]] {
        let response = tsa.respond(garbage).await;
        let (bits, _) = rejection_of(&response);
        assert_eq!(bits, [FailureInfo::BadDataFormat as usize]);
    }

    openssl_ok(&["ts", "-query", "-data", "data.txt", "-sha1", "-cert", "-out", "sha1.tsq"], dir);
    let response = respond_file(&tsa, dir, "sha1.tsq", "sha1.tsr").await;
    assert_eq!(rejection_of(&response).0, [FailureInfo::BadAlg as usize]);
    let text = openssl_ok(&["ts", "-reply", "-in", "sha1.tsr", "-text"], dir);
    assert!(text.contains("Status: Rejected"), "{text}");
    assert!(text.contains("unrecognized or unsupported algorithm"), "{text}");

    openssl_ok(&["ts", "-query", "-data", "data.txt", "-sha256", "-tspolicy", "1.2.3.4", "-out", "pol.tsq"], dir);
    let response = respond_file(&tsa, dir, "pol.tsq", "pol.tsr").await;
    assert_eq!(rejection_of(&response).0, [FailureInfo::UnacceptedPolicy as usize]);
    let text = openssl_ok(&["ts", "-reply", "-in", "pol.tsr", "-text"], dir);
    assert!(text.contains("the requested TSA policy is not supported by the TSA"), "{text}");

    // The requested policy, when it is ours, is granted.
    openssl_ok(
        &["ts", "-query", "-data", "data.txt", "-sha384", "-tspolicy", "1.3.6.1.4.1.99999.1.1", "-out", "ok.tsq"],
        dir,
    );
    let response = respond_file(&tsa, dir, "ok.tsq", "ok.tsr").await;
    assert_eq!(parse_response(&response).unwrap().0.status.status, STATUS_GRANTED);
}
