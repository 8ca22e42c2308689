//! PAdES B-LT and B-LTA: validation data from a PKI the project did not write (the kit's test PKI,
//! OCSP responses from `openssl ocsp -index`, CRLs from `openssl ca -gencrl`), judged by pyHanko's
//! AdES LTA validation offline (no network namespace at all), by check_signed_pdf.sh and by lopdf.

mod common;
use common::*;
use esign_pades::revinfo::RevocationStatus;
use esign_pades::{HttpTsa, PlacementKind::*, Report, ValidationData, sign_pdf, verify_pdf_with_trust};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The kit's TSA (`openssl ts -reply` per request, one serial file) is not safe for concurrent
/// requests: two at once can get a broken reply. The tests here run one at a time for that.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn ltv_pki_in(dir: &Path, args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ltv_pki.sh");
    let out = Command::new(script).arg(dir).args(args).output().unwrap();
    assert!(out.status.success(), "ltv_pki.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn ltv_pki(args: &[&str]) {
    ltv_pki_in(pki(), args)
}

/// The kit's PKI with an OCSP responder, CA indexes and certificates naming the endpoints of
/// `ltv_responder.py`, started on a free port (once per test binary; it exits with this process).
#[allow(clippy::zombie_processes)]
fn pki_with_revocation() -> &'static Path {
    static P: OnceLock<()> = OnceLock::new();
    P.get_or_init(|| {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        ltv_pki(&["init", &port.to_string()]);
        let script = format!(
            "python3 '{}' '{}' {port} 2>/dev/null & p=$!; while kill -0 {} 2>/dev/null; do sleep 0.5; done; kill $p",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ltv_responder.py").display(),
            pki().display(),
            std::process::id()
        );
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the OCSP responder");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the OCSP responder did not start on port {port}");
    });
    pki()
}

/// A copy of that PKI whose issuing CA's index a test may change (tests run in parallel).
fn pki_copy(name: &str) -> PathBuf {
    let d = work_dir().join(name);
    let st = Command::new("cp").arg("-r").arg(pki_with_revocation()).arg(&d).status().unwrap();
    assert!(st.success());
    d
}

fn der_cert(name: &str) -> Vec<u8> {
    let pem = std::fs::read(pki().join(name)).unwrap();
    use der::Encode;
    esign_pades::cms_sig::certs_from_pem(&pem).unwrap()[0].to_der().unwrap()
}

fn file(name: &str) -> PathBuf {
    work_dir().join(name)
}

/// Fresh validation data for a seal's and the TSA's chains: the certificates, OCSP responses
/// for the seal and the TSA (from the issuing CA's delegated responder) and the root's CRL (for
/// the issuing CA). `tag` keeps the files of different calls apart.
fn validation_data(seals: &[&str], tag: &str) -> ValidationData {
    validation_data_in(pki_with_revocation(), seals, tag)
}

fn validation_data_in(dir: &Path, seals: &[&str], tag: &str) -> ValidationData {
    let mut data = ValidationData {
        certs: ["root.pem", "int.pem", "tsa.pem"].iter().map(|c| der_cert(c)).collect(),
        ..Default::default()
    };
    for cert in seals.iter().map(|s| format!("seal_{s}.pem")).chain(["tsa.pem".to_string()]) {
        if cert != "tsa.pem" {
            data.certs.push(der_cert(&cert));
        }
        let out = file(&format!("{tag}-{cert}.ocsp"));
        ltv_pki_in(dir, &["ocsp", &cert, out.to_str().unwrap()]);
        data.ocsps.push(std::fs::read(out).unwrap());
    }
    let crl = file(&format!("{tag}-root.crl"));
    ltv_pki_in(dir, &["crl", "root", crl.to_str().unwrap()]);
    data.crls.push(std::fs::read(crl).unwrap());
    data
}

fn roots() -> Vec<x509_cert::Certificate> {
    esign_pades::cms_sig::certs_from_pem(&std::fs::read(pki().join("root.pem")).unwrap()).unwrap()
}

fn verify(pdf: &[u8]) -> Report {
    verify_pdf_with_trust(pdf, Some(&roots())).unwrap()
}

/// pyHanko's AdES validation with the LTA profile (`pyhanko sign adesverify`: ETSI EN 319 102-1
/// §5.6.3, past-signature validation through the document time stamps, revocation data required
/// for every certificate), trusting only the test root, in a network namespace of its own (no
/// network at all, so everything comes from the file). Returns (exit ok, stdout + stderr).
///
/// The validation time is two minutes ahead: pyHanko gives data that no later document time
/// stamp covers (the last DSS update) a proof of existence of the moment it looks at it, and
/// with the default validation time (when the run started) that moment is always after the
/// control time, so offline the last time stamp's TSA would have no usable revocation data.
fn pyhanko_lta(pdf: &Path) -> (bool, String) {
    let cfg = file("pyhanko-none.yml");
    std::fs::write(&cfg, "{}\n").unwrap();
    let when = (time::OffsetDateTime::now_utc() + time::Duration::minutes(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let out = Command::new("unshare")
        .args(["-rn"])
        .arg(venv_python())
        .args(["-m", "pyhanko", "--no-plugins", "--config"])
        .arg(&cfg)
        .args(["sign", "adesverify", "--validation-time", &when, "--trust"])
        .arg(pki().join("root.pem"))
        .arg("--trust-replace")
        .arg(pdf)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn sign(input: &[u8], kind: &str, page: u32) -> Vec<u8> {
    pki_with_revocation();
    let tsa = HttpTsa::new(tsa_url());
    let r = req(vec![place(Signature, page, 100.0, 100.0, 110.0, 110.0)]);
    block_on(sign_pdf(input, r, &signer(kind), Some(&tsa))).unwrap()
}

fn timestamp(input: &[u8]) -> Vec<u8> {
    pki_with_revocation();
    let tsa = HttpTsa::new(tsa_url());
    block_on(esign_pades::timestamp_pdf(input, &tsa)).unwrap()
}

/// Two parties sign (B-T), each act followed by a DSS update (B-LT); then a document time stamp
/// and a DSS update with its TSA's data (B-LTA). pyHanko's LTA validation passes offline, the
/// kit's judges pass, lopdf reads the DSS, and our report says B-LTA with good statuses.
#[test]
fn two_parties_b_lt_then_b_lta() {
    let _tsa = one_at_a_time();
    let one = sign(&unsigned_pdf(), "rsa", 1);
    let one_lt = esign_pades::add_validation_data(&one, &validation_data(&["rsa"], "p1")).unwrap();
    assert!(one_lt.starts_with(&one), "an incremental update");
    let rep = verify(&one_lt);
    assert!(rep.all_valid(true), "{}", rep.to_text());
    let s = &rep.signatures[0];
    assert_eq!(s.level, "B-LT", "{}", rep.to_text());
    let vd = s.validation_data.as_ref().unwrap();
    assert!(vd.in_dss && vd.vri && vd.complete, "{vd:?}");
    assert_eq!(s.revocation.as_ref().unwrap().status, RevocationStatus::Good);
    check(&write("ltv-one-lt.pdf", &one_lt), 1);

    let two = sign(&one_lt, "ec", 2);
    let two_lt = esign_pades::add_validation_data(&two, &validation_data(&["ec"], "p2")).unwrap();
    let ts = timestamp(&two_lt);
    let lta = esign_pades::add_validation_data(&ts, &validation_data(&[], "ts")).unwrap();
    let path = write("ltv-two-lta.pdf", &lta);

    let rep = verify(&lta);
    assert!(rep.all_valid(true), "{}", rep.to_text());
    assert_eq!(rep.signatures.len(), 2);
    assert_eq!(rep.document_timestamps.len(), 1);
    let t = &rep.document_timestamps[0];
    assert!(t.intact && t.trusted == Some(true) && t.validation_data_complete, "{}", rep.to_text());
    for s in &rep.signatures {
        assert_eq!(s.level, "B-LTA", "{}", rep.to_text());
        assert_eq!(s.revocation.as_ref().unwrap().status, RevocationStatus::Good);
        assert!(s.validation_data.as_ref().unwrap().vri);
    }
    let dss = rep.dss.as_ref().unwrap();
    // root, issuing CA, TSA, two seals, the OCSP responder; 3 + 2 OCSP responses kept (the TSA's
    // is fresh each time); one root CRL per call unless identical
    assert_eq!(dss.certs, 6, "{dss:?}");
    assert_eq!(dss.vri, 3, "{dss:?}");

    let verdict = check(&path, 3);
    assert!(verdict.contains("2 signatures + 1 document timestamps"), "{verdict}");
    let (ok, text) = pyhanko_lta(&path);
    assert!(ok, "pyHanko LTA validation failed:\n{text}");
    assert_eq!(text.matches(":INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>").count(), 2, "{text}");
    // the control: the same validation of the B-T file (no DSS) fails for want of revocation data
    let (ok, text) = pyhanko_lta(&write("ltv-two-bt.pdf", &two));
    assert!(!ok && text.contains("INTACT:UNTRUSTED"), "{text}");

    // lopdf, an independent reader, finds the DSS and its streams
    let lo = lopdf::Document::load_mem(&lta).unwrap();
    let cat = lo.catalog().unwrap();
    let dss_id = cat.get(b"DSS").unwrap().as_reference().unwrap();
    let dss_dict = lo.get_dictionary(dss_id).unwrap();
    for (k, n) in [(&b"Certs"[..], 6), (b"OCSPs", dss.ocsps), (b"CRLs", dss.crls)] {
        let arr = dss_dict.get(k).unwrap().as_array().unwrap();
        assert_eq!(arr.len(), n, "{}", String::from_utf8_lossy(k));
        for r in arr {
            let st = lo.get_object(r.as_reference().unwrap()).unwrap().as_stream().unwrap();
            assert!(st.content.first() == Some(&0x30), "DER in every stream");
        }
    }
    assert_eq!(dss_dict.get(b"VRI").unwrap().as_dict().unwrap().len(), 3);
}

/// The revocation status at signing time from embedded OCSP responses: a seal revoked after it
/// signed leaves the signature valid (and says so); one revoked before makes it invalid.
#[test]
fn revoked_after_signing_stays_valid_revoked_before_does_not() {
    let _tsa = one_at_a_time();
    pki_with_revocation();
    let one = sign(&unsigned_pdf(), "rsa", 1);
    // revoked after signing: the revocation time is now (the time stamp is a second or more ago)
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let now = time::OffsetDateTime::now_utc();
    let when = format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        now.year() % 100,
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    // copies of the PKI, so that the other tests still see the seal good
    let (a, b) = (pki_copy("pki-revoked-after"), pki_copy("pki-revoked-before"));
    ltv_pki_in(&a, &["revoke", "seal_rsa.pem", &when, "keyCompromise"]);
    ltv_pki_in(&b, &["revoke", "seal_rsa.pem", "200101000000Z", "keyCompromise"]);
    let after = validation_data_in(&a, &["rsa"], "rev-after");
    let before = validation_data_in(&b, &["rsa"], "rev-before");
    let lt = esign_pades::add_validation_data(&one, &after).unwrap();
    let rep = verify(&lt);
    let s = &rep.signatures[0];
    let r = s.revocation.as_ref().unwrap();
    assert_eq!(r.status, RevocationStatus::RevokedAfterSigning, "{}", rep.to_text());
    assert!(r.meaning.contains("stays valid") && r.source.contains("revoked"), "{r:?}");
    assert!(s.intact && rep.all_valid(true), "{}", rep.to_text());
    check(&write("ltv-revoked-after.pdf", &lt), 1);

    let lt = esign_pades::add_validation_data(&one, &before).unwrap();
    let rep = verify(&lt);
    let s = &rep.signatures[0];
    assert_eq!(s.revocation.as_ref().unwrap().status, RevocationStatus::RevokedBeforeSigning, "{}", rep.to_text());
    assert!(!s.intact && !rep.all_valid(false), "{}", rep.to_text());
}

/// Without a DSS a B-T signature says so; a DSS lacking the TSA's data is incomplete (B-T).
#[test]
fn levels_and_incomplete_data() {
    let _tsa = one_at_a_time();
    let one = sign(&unsigned_pdf(), "ec", 1);
    let rep = verify(&one);
    assert_eq!(rep.signatures[0].level, "B-T");
    assert!(rep.signatures[0].validation_data.is_none() && rep.dss.is_none());
    let mut partial = validation_data(&["ec"], "partial");
    partial.ocsps.pop(); // the TSA's
    let lt = esign_pades::add_validation_data(&one, &partial).unwrap();
    let rep = verify(&lt);
    let s = &rep.signatures[0];
    assert_eq!(s.level, "B-T", "{}", rep.to_text());
    let vd = s.validation_data.as_ref().unwrap();
    assert!(!vd.complete && vd.missing.iter().any(|m| m.contains("TSA")), "{vd:?}");
    assert_eq!(s.revocation.as_ref().unwrap().status, RevocationStatus::Good);
    // a CRL of the issuing CA instead of OCSP for the seal works as well
    let crl = file("int.crl");
    ltv_pki(&["crl", "int", crl.to_str().unwrap()]);
    let mut with_crl = validation_data(&[], "crl");
    with_crl.certs.push(der_cert("seal_ec.pem"));
    with_crl.crls.push(std::fs::read(&crl).unwrap());
    let lt = esign_pades::add_validation_data(&one, &with_crl).unwrap();
    let rep = verify(&lt);
    let s = &rep.signatures[0];
    assert_eq!(s.level, "B-LT", "{}", rep.to_text());
    assert!(s.revocation.as_ref().unwrap().source.contains("CRL"), "{}", rep.to_text());
    // garbage is refused before anything is written
    let bad = ValidationData { ocsps: vec![b"not der".to_vec()], ..Default::default() };
    assert!(matches!(esign_pades::add_validation_data(&one, &bad), Err(esign_pades::PadesError::ValidationData(_))));
}

fn esign_pdf(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_esign-pdf")).args(args).output().unwrap()
}

/// Writes each item of `data` to a file and returns the CLI options naming them.
fn ltv_options(data: &ValidationData, tag: &str) -> Vec<String> {
    let mut args = Vec::new();
    for (opt, items, ext) in
        [("--ltv-certs", &data.certs, "der"), ("--ltv-ocsp", &data.ocsps, "ocsp"), ("--ltv-crl", &data.crls, "crl")]
    {
        for (i, d) in items.iter().enumerate() {
            let p = file(&format!("{tag}-{i}.{ext}"));
            std::fs::write(&p, d).unwrap();
            args.extend([opt.to_string(), p.display().to_string()]);
        }
    }
    args
}

fn verify_json(pdf: &Path) -> serde_json::Value {
    let root = pki().join("root.pem");
    let v = esign_pdf(&["verify", "--json", "--trust", root.to_str().unwrap(), pdf.to_str().unwrap()]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    serde_json::from_slice(&v.stdout).unwrap()
}

/// The CLI, step by step as the platform will do it: `sign`, then `ltv` with data fetched after
/// the signature, `timestamp`, and `ltv` again: B-LTA, which pyHanko's LTA validation accepts.
/// In one go (`sign --ltv-* --doc-timestamp`) with data fetched just before: B-LTA as well.
#[test]
fn cli_ltv_and_timestamp() {
    let _tsa = one_at_a_time();
    pki_with_revocation();
    let p = pki();
    let (key, cert, chain) = (p.join("seal_rsa.key"), p.join("seal_rsa.pem"), p.join("int.pem"));
    let sign_args = |extra: &[String], input: &Path, out: &Path| {
        let mut a: Vec<String> = ["sign", "--key", key.to_str().unwrap(), "--cert", cert.to_str().unwrap()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(["--chain".into(), chain.display().to_string(), "--tsa".into(), tsa_url().into()]);
        a.extend(["--place".into(), "signature:1:100,100,100,100".into()]);
        a.extend(extra.iter().cloned());
        a.extend([input.display().to_string(), out.display().to_string()]);
        a
    };
    let input = write("cli-in.pdf", &unsigned_pdf());
    let signed = file("cli-signed.pdf");
    let o = esign_pdf(&sign_args(&[], &input, &signed).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (lt, ts, lta) = (file("cli-lt.pdf"), file("cli-ts.pdf"), file("cli-lta.pdf"));
    let mut a = vec!["ltv".to_string()];
    a.extend(ltv_options(&validation_data(&["rsa"], "cli1"), "cli1"));
    a.extend([signed.display().to_string(), lt.display().to_string()]);
    let o = esign_pdf(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = esign_pdf(&["timestamp", "--tsa", tsa_url(), lt.to_str().unwrap(), ts.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut a = vec!["ltv".to_string()];
    a.extend(ltv_options(&validation_data(&[], "cli2"), "cli2"));
    a.extend([ts.display().to_string(), lta.display().to_string()]);
    let o = esign_pdf(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json = verify_json(&lta);
    assert_eq!(json["signatures"][0]["level"], "B-LTA", "{json}");
    assert_eq!(json["document_timestamps"][0]["intact"], true);
    assert_eq!(json["document_timestamps"][0]["validation_data_complete"], true);
    check(&lta, 2);
    let (ok, text) = pyhanko_lta(&lta);
    assert!(
        ok && text.contains(":INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
        "pyHanko LTA validation failed:\n{text}"
    );

    // in one go: the data fetched just before signing is still current at the signing time
    // (within its nextUpdate), as ETSI EN 319 102-1's freshness rule and pyHanko accept
    let early = ltv_options(&validation_data(&["rsa"], "cli3"), "cli3");
    let mut extra = early.clone();
    extra.push("--doc-timestamp".into());
    let one_go = file("cli-one-go.pdf");
    let o = esign_pdf(&sign_args(&extra, &input, &one_go).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json = verify_json(&one_go);
    assert_eq!(json["signatures"][0]["level"], "B-LTA", "{json}");
    assert_eq!(json["signatures"][0]["revocation"]["status"], "good");
    check(&one_go, 2);
    // usage errors
    let o = esign_pdf(&["sign", "--doc-timestamp", input.to_str().unwrap(), one_go.to_str().unwrap()]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--doc-timestamp needs --tsa"));
    let o = esign_pdf(&["ltv", input.to_str().unwrap(), one_go.to_str().unwrap()]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("ltv needs"));
}

/// The other way round: a B-LTA file written by pyHanko (its DSS, VRI and document time stamp;
/// the OCSP responses fetched from `ltv_responder.py`) is read by our verifier: the signer's
/// status from pyHanko's embedded OCSP response, its VRI entry, the document time stamp.
#[test]
fn reads_a_pyhanko_b_lta_file() {
    let _tsa = one_at_a_time();
    let p = pki_with_revocation();
    let input = write("pyh-in.pdf", &unsigned_pdf());
    let out = file("pyh-lta.pdf");
    let st = Command::new(venv_python())
        .args(["-m", "pyhanko", "--no-plugins", "sign", "addsig", "--field", "1/100,600,200,700/Sig1"])
        .args(["--use-pades-lta", "--with-validation-info", "--timestamp-url", tsa_url(), "--trust"])
        .arg(p.join("root.pem"))
        .args(["--trust-replace", "pemder", "--key"])
        .arg(p.join("seal_rsa.key"))
        .arg("--cert")
        .arg(p.join("seal_rsa.pem"))
        .arg("--chain")
        .arg(p.join("int.pem"))
        .arg("--no-pass")
        .arg(&input)
        .arg(&out)
        .output()
        .unwrap();
    assert!(st.status.success(), "pyHanko addsig: {}", String::from_utf8_lossy(&st.stderr));
    let rep = verify(&std::fs::read(&out).unwrap());
    assert!(rep.all_valid(true), "{}", rep.to_text());
    assert_eq!(rep.document_timestamps.len(), 1, "{}", rep.to_text());
    let s = &rep.signatures[0];
    assert_eq!(s.revocation.as_ref().unwrap().status, RevocationStatus::Good, "{}", rep.to_text());
    let vd = s.validation_data.as_ref().unwrap();
    assert!(vd.vri, "{}", rep.to_text());
    // the issuing CA names no revocation service, so pyHanko embedded nothing for it: we say so
    assert_eq!(s.level, "B-T", "{}", rep.to_text());
    assert!(vd.missing.iter().all(|m| m.contains("Issuing CA")) && !vd.missing.is_empty(), "{vd:?}");
    assert!(rep.dss.as_ref().unwrap().ocsps >= 2, "{}", rep.to_text());
    println!("{}", rep.to_text());
}
