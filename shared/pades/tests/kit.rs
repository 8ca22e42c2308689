//! Signed PDFs judged by the independent pdfcheck kit (qpdf, pdfsig, pyHanko, OpenSSL, mutool).

mod common;
use common::*;
use esign_pades::{HttpTsa, PlacementKind::*, TimestampSource, sign_pdf, verify_pdf_with_trust};

fn sign(input: &[u8], r: esign_pades::SignRequest, kind: &str, with_tsa: bool) -> Vec<u8> {
    let s = signer(kind);
    let tsa = HttpTsa::new(tsa_url());
    let t: Option<&dyn TimestampSource> = if with_tsa { Some(&tsa) } else { None };
    let out = block_on(sign_pdf(input, r, &s, t)).expect("signing succeeds");
    assert!(out.starts_with(input), "input must be an exact prefix of the output");
    out
}

#[test]
fn rsa_tsa_then_ecdsa_tsa_two_parties() {
    let u = unsigned_pdf();
    let one = sign(
        &u,
        req(vec![place(Signature, 1, 100.0, 100.0, 120.0, 120.0), place(SigningDate, 1, 100.0, 225.0, 120.0, 18.0)]),
        "rsa",
        true,
    );
    let p1 = write("two_parties.1.pdf", &one);
    check(&p1, 1);
    let two = sign(
        &one,
        req(vec![place(Signature, 2, 300.0, 80.0, 110.0, 110.0), place(SigningDate, 2, 300.0, 195.0, 110.0, 16.0)]),
        "ec",
        true,
    );
    let p2 = write("two_parties.2.pdf", &two);
    check(&p2, 2);
    check_tamper(&p2);
    // our own verifier agrees, and names the time source
    let roots = esign_pades::cms_sig::certs_from_pem(&std::fs::read(pki().join("root.pem")).unwrap()).unwrap();
    let rep = verify_pdf_with_trust(&two, Some(&roots)).unwrap();
    assert!(rep.all_valid(true), "{}", rep.to_text());
    assert_eq!(rep.signatures.len(), 2);
    assert_eq!(rep.signatures[0].coverage, "revision 2 of 3");
    assert!(rep.signatures[1].covers_whole_document);
    assert!(rep.signatures.iter().all(|s| s.time_source == "timestamp" && s.timestamp_valid == Some(true)));
    assert!(rep.signatures[0].signer.as_deref().unwrap().contains("ACME"));
    assert_eq!(rep.signatures[1].chain.len(), 2);
    // untrusted root: intact but not trusted
    let other = esign_pades::cms_sig::certs_from_pem(&std::fs::read(pki().join("other_root.pem")).unwrap()).unwrap();
    let rep = verify_pdf_with_trust(&two, Some(&other)).unwrap();
    assert!(rep.all_valid(false) && !rep.all_valid(true));
    // flipped byte: our verifier sees it too
    let mut bad = two.clone();
    bad[20] ^= 0x01;
    let rep = verify_pdf_with_trust(&bad, Some(&roots)).unwrap();
    assert!(!rep.all_valid(false));
}

#[test]
fn ecdsa_without_tsa_is_b_b_and_invisible_rsa() {
    let u = unsigned_pdf();
    let one = sign(&u, req(vec![place(Signature, 1, 50.0, 50.0, 80.0, 80.0)]), "ec", false);
    let p = write("ec_bb.pdf", &one);
    check(&p, 1);
    let rep = esign_pades::verify_pdf(&one).unwrap();
    assert_eq!(rep.signatures[0].time_source, "claimed");
    assert_eq!(rep.signatures[0].timestamp_valid, None);
    // invisible signature (no placements) on top
    let two = sign(&one, req(vec![]), "rsa", false);
    check(&write("ec_bb_invisible.pdf", &two), 2);
}

#[test]
fn xref_streams_object_streams_and_linearized_inputs() {
    let u = write("plain.pdf", &unsigned_pdf());
    let os = work_dir().join("objstm.pdf");
    qpdf(&["--object-streams=generate", u.to_str().unwrap(), os.to_str().unwrap()]);
    let lin = work_dir().join("linearized.pdf");
    qpdf(&["--linearize", u.to_str().unwrap(), lin.to_str().unwrap()]);
    for (name, path) in [("objstm", os), ("linearized", lin)] {
        let input = std::fs::read(&path).unwrap();
        let one = sign(&input, req(vec![place(Signature, 2, 60.0, 60.0, 100.0, 100.0)]), "rsa", false);
        let two = sign(
            &one,
            req(vec![place(Signature, 1, 200.0, 60.0, 100.0, 100.0), place(SigningDate, 1, 200.0, 165.0, 100.0, 14.0)]),
            "ec",
            true,
        );
        check(&write(&format!("{name}.2.pdf"), &two), 2);
        // the update keeps the previous xref style
        let tail = &two[two.len() - 200..];
        let is_stream = esign_pades::pdf::Document::load(&input).unwrap().style == esign_pades::pdf::XrefStyle::Stream;
        let has_table = String::from_utf8_lossy(&two[one.len()..]).contains("\nxref\n");
        assert_eq!(has_table, !is_stream, "{name}: xref style kept; tail {:?}", String::from_utf8_lossy(tail));
    }
}

/// A PDF with pages of every rotation and an offset CropBox, written by hand.
fn rotated_pdf() -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offs = Vec::new();
    let rots = [0, 90, 180, 270];
    let n_pages = rots.len();
    let mut objs: Vec<String> = Vec::new();
    objs.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    let kids: Vec<String> = (0..n_pages).map(|i| format!("{} 0 R", 3 + i * 2)).collect();
    objs.push(format!("<< /Type /Pages /Count {n_pages} /Kids [{}] /MediaBox [0 0 600 800] >>", kids.join(" ")));
    for (i, r) in rots.iter().enumerate() {
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /CropBox [50 100 550 700] /Rotate {r} /Contents {} 0 R >>",
            4 + i * 2
        ));
        let content = "0.6 g 60 110 480 5 re f\n";
        objs.push(format!("<< /Length {} >>\nstream\n{content}endstream", content.len()));
    }
    for (i, o) in objs.iter().enumerate() {
        offs.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let x = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offs {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n", objs.len() + 1).as_bytes(),
    );
    out
}

/// 50x40 PNG: opaque red top half, transparent bottom half (shows which way is up).
fn top_half_png() -> Vec<u8> {
    let (w, h) = (50u32, 40u32);
    let mut px = Vec::new();
    for y in 0..h {
        for _ in 0..w {
            px.extend_from_slice(if y < h / 2 { &[230, 0, 0, 255] } else { &[0, 0, 255, 0] });
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header().unwrap().write_image_data(&px).unwrap();
    }
    out
}

// Note: poppler's pdfsig (22.12, NSS) reports "Unknown issue with Certificate" for the second
// signature made with the same certificate in one file (pyHanko-signed files too), so each file
// here alternates the RSA and P-256 seals.
#[test]
fn rotated_and_cropped_pages_stamp_where_the_user_put_it_upright() {
    let orig = rotated_pdf();
    let png = top_half_png();
    for pair in [[1u32, 2], [3, 4]] {
        let mut pdf = orig.clone();
        for (i, page) in pair.iter().enumerate() {
            let mut r = req(vec![place(Signature, *page, 40.0, 60.0, 100.0, 80.0)]);
            r.seal_png = Some(png.clone());
            pdf = sign(&pdf, r, if i == 0 { "rsa" } else { "ec" }, false);
        }
        let p = write(&format!("rotated_{}_{}.pdf", pair[0], pair[1]), &pdf);
        check(&p, 2);
        for page in pair {
            let (w, h, rgb) = render(&p, page);
            let (ew, eh) = if page % 2 == 0 { (600, 500) } else { (500, 600) };
            assert_eq!((w, h), (ew, eh), "page {page} displayed size");
            let (x0, y0, x1, y1) = red_bbox(w, h, &rgb).unwrap_or_else(|| panic!("page {page}: no stamp visible"));
            // red = top half of the 100x80 box at (40,60): x 40..140, y 60..100
            let near = |a: usize, b: usize| (a as i64 - b as i64).abs() <= 2;
            assert!(
                near(x0, 40) && near(x1, 139) && near(y0, 60) && near(y1, 99),
                "page {page}: red bbox {:?}",
                (x0, y0, x1, y1)
            );
        }
    }
    // a box that fits a portrait page but not the landscape (rotated) one is rejected
    let s = signer("rsa");
    let e = block_on(sign_pdf(&orig, req(vec![place(Signature, 2, 10.0, 450.0, 80.0, 80.0)]), &s, None)).unwrap_err();
    assert!(matches!(e, esign_pades::PadesError::OffPage { .. }), "{e}");
    assert!(block_on(sign_pdf(&orig, req(vec![place(Signature, 1, 10.0, 450.0, 80.0, 80.0)]), &s, None)).is_ok());
}

#[test]
fn broken_xref_is_recovered_and_signed() {
    let mut u = unsigned_pdf();
    // point startxref at garbage
    let k = u.windows(9).rposition(|w| w == b"startxref").unwrap();
    let mut end = k + 10;
    while u[end].is_ascii_digit() {
        u[end] = b'1';
        end += 1;
    }
    let out = sign(&u, req(vec![place(Signature, 1, 100.0, 100.0, 100.0, 100.0)]), "rsa", false);
    let rep = esign_pades::verify_pdf(&out).unwrap();
    assert!(rep.all_valid(false), "{}", rep.to_text());
    // qpdf warns about the damaged original revision, the rest must agree
    let out2 = std::process::Command::new(kit().join("check_signed_pdf.sh"))
        .args(["--allow-qpdf-warnings", "--expect", "1"])
        .arg(write("recovered.pdf", &out))
        .arg(pki().join("root.pem"))
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out2.stdout);
    assert!(s.lines().last().unwrap_or("").starts_with("PASS"), "{s}");
}

#[test]
fn signing_after_a_pyhanko_signature_keeps_it_valid() {
    let u = write("foreign_in.pdf", &unsigned_pdf());
    let first = work_dir().join("foreign_1.pdf");
    let p = pki();
    let pyhanko = venv_python().with_file_name("pyhanko");
    let st = std::process::Command::new(pyhanko)
        .args(["--no-plugins", "sign", "addsig", "--field", "1/300,600,450,700/Foreign", "pemder", "--no-pass"])
        .arg("--key")
        .arg(p.join("seal_ec.key"))
        .arg("--cert")
        .arg(p.join("seal_ec.pem"))
        .arg("--chain")
        .arg(p.join("int.pem"))
        .arg(&u)
        .arg(&first)
        .output()
        .unwrap();
    assert!(st.status.success(), "pyhanko addsig: {}", String::from_utf8_lossy(&st.stderr));
    let one = std::fs::read(&first).unwrap();
    let before = esign_pades::verify_pdf(&one).unwrap();
    assert_eq!(before.signatures.len(), 1);
    assert!(before.all_valid(false), "{}", before.to_text());
    let two = sign(
        &one,
        req(vec![place(Signature, 1, 60.0, 60.0, 100.0, 100.0), place(SigningDate, 1, 60.0, 162.0, 100.0, 14.0)]),
        "rsa",
        true,
    );
    check(&write("foreign_2.pdf", &two), 2);
    let rep = esign_pades::verify_pdf(&two).unwrap();
    assert!(rep.all_valid(false), "{}", rep.to_text());
    assert_eq!(rep.signatures[0].field, "Foreign");
}

#[test]
fn a_later_page_content_change_is_reported() {
    use esign_pades::pdf::{Document, Obj, object::write_obj, writer::write_update};
    let u = unsigned_pdf();
    let signed = sign(&u, req(vec![place(Signature, 1, 60.0, 60.0, 100.0, 100.0)]), "rsa", false);
    // an incremental update that swaps page 1's content stream: not allowed after a signature
    let doc = Document::load(&signed).unwrap();
    let page = doc.find_page(0).unwrap().unwrap();
    let n = doc.size;
    let mut content = Vec::new();
    write_obj(&mut content, &Obj::Stream(Default::default(), b"0 0 1 rg 0 0 300 300 re f".to_vec()));
    let mut pd = page.dict.clone();
    pd.set("Contents", Obj::Ref(n, 0));
    let mut pbytes = Vec::new();
    write_obj(&mut pbytes, &Obj::Dict(pd));
    let update = write_update(&doc, &[(n, 0, content), (page.r.0, page.r.1, pbytes)], n + 1);
    let mut tampered = signed.clone();
    tampered.extend_from_slice(&update);
    let rep = esign_pades::verify_pdf(&tampered).unwrap();
    let s = &rep.signatures[0];
    assert!(s.digest_valid && s.signature_valid, "the signed revision itself is intact");
    assert!(!s.disallowed_changes.is_empty() && !s.intact(), "{}", rep.to_text());
    assert!(!rep.all_valid(false));
    // and the independent judges agree that this is not acceptable (pyHanko: ILLEGAL_MODIFICATIONS)
    let p = write("content_changed.pdf", &tampered);
    let out = std::process::Command::new(kit().join("check_signed_pdf.sh"))
        .arg(&p)
        .arg(pki().join("root.pem"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success() && text.contains("ILLEGAL_MODIFICATIONS"), "{text}");
}

#[test]
fn certified_documents_accept_only_invisible_signatures() {
    use esign_pades::pdf::{Dict, Document, Obj, object::write_obj, writer::write_update};
    let u = write("cert_in.pdf", &unsigned_pdf());
    let certified = work_dir().join("certified.pdf");
    let p = pki();
    let st = std::process::Command::new(venv_python().with_file_name("pyhanko"))
        .args([
            "--no-plugins",
            "sign",
            "addsig",
            "--certify",
            "--field",
            "1/300,600,450,700/Cert",
            "pemder",
            "--no-pass",
        ])
        .arg("--key")
        .arg(p.join("seal_ec.key"))
        .arg("--cert")
        .arg(p.join("seal_ec.pem"))
        .arg("--chain")
        .arg(p.join("int.pem"))
        .arg(&u)
        .arg(&certified)
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let one = std::fs::read(&certified).unwrap();
    let s = signer("rsa");
    let e = block_on(sign_pdf(&one, req(vec![place(Signature, 1, 60.0, 60.0, 100.0, 100.0)]), &s, None)).unwrap_err();
    assert!(matches!(e, esign_pades::PadesError::NotAllowed(_)), "{e}");
    let two = sign(&one, req(vec![]), "rsa", true);
    check(&write("certified_2.pdf", &two), 2);
    // DocMDP P=1: no signature at all
    let plain = unsigned_pdf();
    let doc = Document::load(&plain).unwrap();
    let n = doc.size;
    let tp = Dict::new().with("P", Obj::Int(1));
    let sref =
        Dict::new().with("Reference", Obj::Array(vec![Obj::Dict(Dict::new().with("TransformParams", Obj::Dict(tp)))]));
    let mut sb = Vec::new();
    write_obj(&mut sb, &Obj::Dict(sref));
    let mut cat = doc.catalog().unwrap();
    cat.set("Perms", Obj::Dict(Dict::new().with("DocMDP", Obj::Ref(n, 0))));
    let mut cb = Vec::new();
    write_obj(&mut cb, &Obj::Dict(cat));
    let root = doc.root_ref().unwrap();
    let mut locked = plain.clone();
    locked.extend(write_update(&doc, &[(n, 0, sb), (root.0, root.1, cb)], n + 1));
    let e = block_on(sign_pdf(&locked, req(vec![]), &s, None)).unwrap_err();
    assert!(matches!(&e, esign_pades::PadesError::NotAllowed(m) if m.contains("P=1")), "{e}");
}

/// Delegates to the kit TSA but claims tokens are tiny: the signer must notice the real CMS does
/// not fit and redo the act with the measured size.
struct LyingTsa(HttpTsa);

#[async_trait::async_trait]
impl TimestampSource for LyingTsa {
    async fn timestamp(&self, imprint: &[u8; 32]) -> Result<Vec<u8>, esign_pades::PadesError> {
        self.0.timestamp(imprint).await
    }
    fn token_size_hint(&self) -> Option<usize> {
        Some(10)
    }
}

/// Bytes of zero padding left at the end of the last signature's /Contents.
fn contents_padding(pdf: &[u8]) -> usize {
    let rep = esign_pades::verify_pdf(pdf).unwrap();
    let br = &rep.signatures.last().unwrap().byte_range;
    let hex = &pdf[br[1] as usize + 1..br[2] as usize - 1];
    hex.iter().rev().take_while(|&&c| c == b'0').count() / 2
}

#[test]
fn contents_is_sized_from_the_real_cms() {
    let u = unsigned_pdf();
    let s = signer("ec");
    // no hint: probe request; then the hint from the first token
    let tsa = HttpTsa::new(tsa_url());
    let a = block_on(sign_pdf(&u, req(vec![]), &s, Some(&tsa))).unwrap();
    assert!(tsa.token_size_hint().is_some());
    let b = block_on(sign_pdf(&u, req(vec![]), &s, Some(&tsa))).unwrap();
    let c = block_on(sign_pdf(&u, req(vec![]), &s, None)).unwrap();
    for (name, pdf) in [("probe", &a), ("hint", &b), ("no tsa", &c)] {
        let pad = contents_padding(pdf);
        assert!(pad <= 160, "{name}: {pad} bytes of padding");
    }
    // a lying size hint must not overflow: the act is redone with the measured size
    let liar = LyingTsa(HttpTsa::new(tsa_url()));
    let d = block_on(sign_pdf(&u, req(vec![place(Signature, 1, 60.0, 60.0, 80.0, 80.0)]), &s, Some(&liar))).unwrap();
    check(&write("lying_tsa.pdf", &d), 1);
}
