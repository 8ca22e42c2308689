//! Revocation over HTTP, judged by OpenSSL: two parties sign; `openssl ocsp` against the
//! platform's responder (POST, and the RFC 5019 GET form) answers `good` for their seals; one
//! seal is revoked with a reason; OCSP then answers `revoked` with that reason and time, the
//! issuing CA's CRL (verified by `openssl crl` against the CA chain) lists its serial and
//! `openssl verify -crl_check` rejects its certificate; signing with it fails; and the contract
//! signed before the revocation still passes every judge.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use esign_e2e::Api;

use super::{check_signatures, code, contract, download, place, sample_pdf, sign, two_parties_signed};

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

/// `openssl ocsp` asking the platform's responder about `cert` by POST, the response checked
/// against the platform root only.
fn ocsp_post(api: &Api, dir: &Path, cert: &str) -> String {
    let url = format!("{}/v1/ca/ocsp", api.base);
    let text = openssl_ok(&["ocsp", "-issuer", "issuing.pem", "-cert", cert, "-url", &url, "-CAfile", "root.pem"], dir);
    assert!(text.contains("Response verify OK"), "{text}");
    text
}

/// The same question in the RFC 5019 GET form: OpenSSL writes the request, the test sends it
/// base64 (URL-encoded) in the path, and OpenSSL checks the answer.
fn ocsp_get(api: &Api, dir: &Path, cert: &str) -> String {
    openssl_ok(&["ocsp", "-issuer", "issuing.pem", "-cert", cert, "-no_nonce", "-reqout", "get-req.der"], dir);
    let request = std::fs::read(dir.join("get-req.der")).unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&request);
    let encoded = encoded.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
    let r = api.get(&format!("/v1/ca/ocsp/{encoded}")).send();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/ocsp-response"));
    std::fs::write(dir.join("get-resp.der"), &r.raw).unwrap();
    let text = openssl_ok(
        &[
            "ocsp",
            "-respin",
            "get-resp.der",
            "-issuer",
            "issuing.pem",
            "-cert",
            cert,
            "-CAfile",
            "root.pem",
            "-no_nonce",
        ],
        dir,
    );
    assert!(text.contains("Response verify OK"), "{text}");
    text
}

/// Fetches the issuing CA's CRL, checks its signature with `openssl crl -CAfile`, and answers
/// its text.
fn crl(api: &Api, dir: &Path) -> String {
    let r = api.get("/v1/ca/crl").send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.header("content-type"), Some("application/pkix-crl"));
    std::fs::write(dir.join("issuing.crl"), &r.raw).unwrap();
    let text =
        openssl_ok(&["crl", "-inform", "DER", "-in", "issuing.crl", "-noout", "-text", "-CAfile", "chain.pem"], dir);
    assert!(text.contains("verify OK"), "{text}");
    text
}

#[test]
fn a_revoked_seal_is_revoked_for_openssl_and_earlier_signatures_still_pass() {
    let api = Api::new();
    let title = format!("撤销前签署的合同-{}", std::process::id());
    let (a, b, id) = two_parties_signed(&api, ["撤销测试甲方有限公司", "撤销测试乙方有限公司"], &title);
    let signed = download(&api, &b, &id);
    // 2 signatures + the document time stamp of completion (B-LTA, contracts/ltv.rs).
    check_signatures(&api, &signed, 3, "before-revocation");

    let dir = std::env::temp_dir().join(format!("esign-revocation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pems = String::from_utf8(api.get("/v1/ca/certificates").send().raw).unwrap();
    let end = pems.find("-----END CERTIFICATE-----").unwrap() + 26;
    std::fs::write(dir.join("root.pem"), &pems[..end]).unwrap();
    std::fs::write(dir.join("chain.pem"), &pems).unwrap();
    let issuing = api.get("/v1/ca/issuing.crt").send();
    assert_eq!((issuing.status, issuing.header("content-type")), (200, Some("application/pkix-cert")));
    std::fs::write(dir.join("issuing.der"), &issuing.raw).unwrap();
    openssl_ok(&["x509", "-inform", "DER", "-in", "issuing.der", "-out", "issuing.pem"], &dir);
    for (p, name) in [(&a, "a.pem"), (&b, "b.pem")] {
        let seal = api.get(&format!("/v1/seals/{}", p.seal)).key(&p.key).send();
        std::fs::write(dir.join(name), seal.body["certificate"]["pem"].as_str().unwrap()).unwrap();
    }

    // The seal certificate says where its revocation status is, at this server.
    let text = openssl_ok(&["x509", "-in", "a.pem", "-noout", "-text"], &dir);
    assert!(text.contains(&format!("URI:{}/v1/ca/crl", api.base)), "{text}");
    assert!(text.contains(&format!("OCSP - URI:{}/v1/ca/ocsp", api.base)), "{text}");
    assert!(text.contains(&format!("CA Issuers - URI:{}/v1/ca/issuing.crt", api.base)), "{text}");
    let serial = openssl_ok(&["x509", "-in", "a.pem", "-noout", "-serial"], &dir);
    let serial = serial.trim().trim_start_matches("serial=").to_owned();

    // Both seals are good, by POST and by GET.
    for name in ["a.pem", "b.pem"] {
        let text = ocsp_post(&api, &dir, name);
        assert!(text.contains(&format!("{name}: good")), "{text}");
        let text = ocsp_get(&api, &dir, name);
        assert!(text.contains(&format!("{name}: good")), "{text}");
    }
    let before = crl(&api, &dir);
    assert!(!before.contains(&serial), "{before}");
    println!("before revocation: openssl ocsp: good (POST and GET); openssl crl: verify OK, serial not listed");

    // A revokes its seal: key compromise.
    let r = api
        .post(&format!("/v1/seals/{}/revoke", a.seal))
        .key(&a.key)
        .json(&serde_json::json!({"reason": "key_compromise"}))
        .send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "revoked");
    let bad_reason =
        api.post(&format!("/v1/seals/{}/revoke", b.seal)).key(&b.key).json(&serde_json::json!({"reason": "x"})).send();
    assert_eq!(
        (bad_reason.status, bad_reason.code_of("reason").as_deref()),
        (422, Some("type")),
        "{:?}",
        bad_reason.body
    );

    let text = ocsp_post(&api, &dir, "a.pem");
    assert!(text.contains("a.pem: revoked"), "{text}");
    assert!(text.contains("Reason: keyCompromise"), "{text}");
    assert!(text.contains("Revocation Time:"), "{text}");
    println!("after revocation: openssl ocsp (POST):\n{text}");
    let text = ocsp_get(&api, &dir, "a.pem");
    assert!(text.contains("a.pem: revoked") && text.contains("Reason: keyCompromise"), "{text}");
    let text = ocsp_post(&api, &dir, "b.pem");
    assert!(text.contains("b.pem: good"), "the other seal stays good: {text}");

    let after = crl(&api, &dir);
    assert!(after.contains(&format!("Serial Number: {serial}")), "{after}");
    assert!(after.contains("Key Compromise"), "{after}");
    println!("after revocation: openssl crl: verify OK, {serial} listed (Key Compromise)");
    let root_crl = api.get("/v1/ca/root.crl").send();
    assert_eq!(root_crl.status, 200);
    std::fs::write(dir.join("root.crl"), &root_crl.raw).unwrap();
    let text =
        openssl_ok(&["crl", "-inform", "DER", "-in", "root.crl", "-noout", "-text", "-CAfile", "root.pem"], &dir);
    assert!(text.contains("verify OK") && text.contains("No Revoked Certificates"), "{text}");
    // The whole chain against both CRLs: A's certificate is revoked, B's is not.
    openssl_ok(&["crl", "-inform", "DER", "-in", "issuing.crl", "-out", "issuing.crl.pem"], &dir);
    openssl_ok(&["crl", "-inform", "DER", "-in", "root.crl", "-out", "root.crl.pem"], &dir);
    let verify = |cert: &str| {
        openssl(
            &[
                "verify",
                "-crl_check_all",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "issuing.pem",
                "-CRLfile",
                "issuing.crl.pem",
                "-CRLfile",
                "root.crl.pem",
                cert,
            ],
            &dir,
        )
    };
    let (ok, text) = verify("a.pem");
    assert!(!ok && text.contains("certificate revoked"), "{text}");
    let (ok, text) = verify("b.pem");
    assert!(ok, "{text}");

    // Signing with the revoked seal fails.
    let title2 = format!("撤销后的合同-{}", std::process::id());
    let id2 =
        contract(&api, &a, &title2, sample_pdf(1), &[&a], "sequential", vec![place(&a, "signature", 1, 60.0, 560.0)]);
    let (otp, c) = code(&api, &a, &id2, &title2);
    let r = sign(&api, &a, &id2, &otp, &c);
    assert_eq!(r.status, 403, "{:?}", r.body);

    // The contract signed before the revocation: pyHanko (trusting the platform root, no
    // revocation check), OpenSSL, qpdf and mutool still pass both signatures, and pdfsig still
    // finds both signatures valid; pdfsig alone now calls A's certificate revoked, because poppler
    // asks the OCSP responder the certificate names (this server) about the present, not about
    // the signing time the time stamp proves (it reads no embedded validation data). Offline
    // (`unshare -rn`), with what the file embeds, every judge passes: below.
    let out = Command::new(esign_e2e::repo_root().join("../shared/pdfcheck/check_signed_pdf.sh"))
        .args(["--expect", "3"])
        .arg(write(&dir, "signed.pdf", &signed))
        .arg(dir.join("root.pem"))
        .output()
        .expect("check_signed_pdf.sh runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("FAIL: signed.pdf: 1 problem(s); first: sig #1 (Signature1) pdfsig certificate: Certificate has been Revoked."),
        "{text}"
    );
    assert_eq!(text.matches("pdfsig: 'Signature is Valid.'").count(), 2, "{text}");
    assert_eq!(text.matches("pyHanko: VALID").count(), 2, "{text}");
    assert_eq!(text.matches("openssl: OK").count(), 2, "{text}");
    println!(
        "signed before revocation, judged after: pyHanko VALID x2, openssl OK x2, pdfsig signature valid x2 (certificate revoked: sig #1)"
    );
    // The offline judge: no network, so poppler cannot ask about the present (NSS's "Unknown
    // issue", tolerated when pyHanko and OpenSSL accept the chain) and the file's own B-LTA data
    // speaks of the signing time.
    let out = Command::new("unshare")
        .arg("-rn")
        .arg(esign_e2e::repo_root().join("../shared/pdfcheck/check_signed_pdf.sh"))
        .args(["--allow-nss-usage-mismatch", "--expect", "3"])
        .arg(dir.join("signed.pdf"))
        .arg(dir.join("root.pem"))
        .output()
        .expect("unshare and check_signed_pdf.sh run");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.lines().last().unwrap_or("").starts_with("PASS"), "offline: {text}");
    println!("signed before revocation, judged after, offline: {}", text.lines().last().unwrap_or(""));
    let _ = std::fs::remove_dir_all(&dir);
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}
