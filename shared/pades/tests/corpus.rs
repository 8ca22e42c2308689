//! The real-world corpus (../shared/corpus/fetch.sh): every file signed by two parties, every
//! result judged by the pdfcheck kit. Slow (pyHanko takes minutes on refman.pdf), hence ignored:
//!   cargo test -p esign-pades --test corpus -- --ignored --nocapture
//!
//! Known judge limitations, asserted precisely rather than skipped:
//! - originals that already fail `qpdf --check` are checked with --allow-qpdf-warnings;
//! - pyHanko (strict mode, as the kit runs it) refuses any file with a hybrid-reference xref
//!   section ("Settings do not permit validation of signatures in hybrid-reference files"; it
//!   refuses to sign them too), and cannot read some damaged originals (wrong xref offsets,
//!   bad stream lengths); for those, every failure line must be pyHanko's, the other judges
//!   must agree, and our own verifier must report both signatures intact.
//!
//! Files with a stream whose /Length is wrong (read up to its `endstream`) are damaged (issue
//! 12: never signed as is): exactly those in WRONG_LENGTH are refused with
//! `Damage::StreamLength`, and still verified.

mod common;
use common::*;
use esign_pades::pdf::Document;
use esign_pades::{HttpTsa, PadesError, PlacementKind::*, TimestampSource, sign_pdf};
use std::process::Command;

/// The corpus files with a wrong stream /Length among the objects signing reads.
const WRONG_LENGTH: &[&str] = &["issue-297.pdf", "issue-301.pdf"];

fn display_size(pdf: &[u8]) -> (f64, f64) {
    let d = Document::load(pdf).unwrap();
    let p = d.find_page(0).unwrap().unwrap();
    let b = p.visible_box();
    let (w, h) = (b[2] - b[0], b[3] - b[1]);
    if p.rotation() % 180 == 90 { (h, w) } else { (w, h) }
}

#[test]
#[ignore]
fn corpus_two_parties() {
    let fetch = std::path::Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../../shared/corpus/fetch.sh");
    let out = Command::new(&fetch).output().expect("run corpus/fetch.sh");
    assert!(out.status.success(), "fetch.sh failed");
    let dir = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .chain(std::fs::read_dir(dir.join("pypdf")).unwrap())
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    files.sort();
    let tsa = HttpTsa::new(tsa_url());
    let (rsa, ec) = (signer("rsa"), signer("ec"));
    let (mut passed, mut encrypted, mut hybrid_ok, mut failures) = (0, 0, 0, Vec::new());
    let mut wrong_length = 0;
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let input = std::fs::read(f).unwrap();
        let (w, h) = match Document::load(&input) {
            Ok(_) => display_size(&input),
            Err(PadesError::Encrypted) => {
                encrypted += 1;
                println!("{name}\tencrypted: refused with a typed error");
                continue;
            }
            Err(e) => {
                failures.push(format!("{name}: load: {e}"));
                continue;
            }
        };
        match esign_pades::check_document(&input) {
            Err(PadesError::Damaged(esign_pades::pdf::Damage::StreamLength { num, reason }))
                if WRONG_LENGTH.contains(&name.as_str()) =>
            {
                wrong_length += 1;
                let verified = esign_pades::verify_pdf(&input).is_ok();
                println!("{name}\tdamaged (stream {num}: {reason}): refused; verify reads it: {verified}");
                if !verified {
                    failures.push(format!("{name}: verify refuses a file with a wrong stream length"));
                }
                continue;
            }
            Err(e) => {
                failures.push(format!("{name}: check_document: {e}"));
                continue;
            }
            Ok(_) if WRONG_LENGTH.contains(&name.as_str()) => {
                failures.push(format!("{name}: a wrong stream length is not refused"));
                continue;
            }
            Ok(_) => {}
        }
        let s = (w.min(h) * 0.3).min(90.0);
        let r1 = req(vec![
            place(Signature, 1, w * 0.05, h * 0.05, s, s),
            place(SigningDate, 1, w * 0.05, h * 0.05 + s + 1.0, s, s * 0.16),
        ]);
        let one = match block_on(sign_pdf(&input, r1, &rsa, Some(&tsa as &dyn TimestampSource))) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{name}: sign 1: {e}"));
                continue;
            }
        };
        let r2 = req(vec![place(Signature, 1, w * 0.55, h * 0.05, s, s)]);
        let two = match block_on(sign_pdf(&one, r2, &ec, None)) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{name}: sign 2: {e}"));
                continue;
            }
        };
        assert!(two.starts_with(&one) && one.starts_with(&input));
        let before = esign_pades::verify_pdf(&input).map(|r| r.signatures.len()).unwrap_or(0);
        let p = write(&format!("corpus-{name}"), &two);
        let orig_qpdf_ok = Command::new("qpdf").arg("--check").arg(f).output().unwrap().status.success();
        let mut cmd = Command::new(kit().join("check_signed_pdf.sh"));
        if !orig_qpdf_ok {
            cmd.arg("--allow-qpdf-warnings");
        }
        let o = cmd.arg("--expect").arg((before + 2).to_string()).arg(&p).arg(pki().join("root.pem")).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        let last = text.lines().last().unwrap_or("").to_string();
        let hybrid = input.windows(7).any(|w| w == b"XRefStm");
        if last.starts_with("PASS") {
            passed += 1;
            println!("{name}\t{last}{}", if orig_qpdf_ok { "" } else { " [original already has qpdf warnings]" });
        } else if (hybrid || !orig_qpdf_ok)
            && text
                .lines()
                .filter(|l| l.trim_start().starts_with("FAIL:") && !l.starts_with("FAIL: "))
                .all(|l| l.contains("pyHanko") || l.contains("not judged acceptable"))
            && esign_pades::verify_pdf(&two).unwrap().all_valid(false)
        {
            hybrid_ok += 1;
            let why = if hybrid {
                "hybrid-xref original (pyHanko strict refuses hybrid files)"
            } else {
                "damaged original that pyHanko strict cannot read"
            };
            println!("{name}\t{why}: qpdf, pdfsig, openssl, mutool agree; our verifier: intact");
        } else {
            failures.push(format!("{name}: {last}"));
        }
    }
    println!(
        "corpus: {} files, {passed} PASS, {hybrid_ok} pass all judges but pyHanko (hybrid or damaged original), {encrypted} encrypted (refused), {wrong_length} wrong stream length (refused as damaged), {} failures",
        files.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
