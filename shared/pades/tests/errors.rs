//! Bad input gets a typed error, never a panic; the CLI exits 1 with one line on stderr.

mod common;
use common::*;
use esign_pades::{PadesError, PlacementKind::*, sign_pdf, verify_pdf};
use std::process::Command;

fn try_sign(input: &[u8], r: esign_pades::SignRequest) -> Result<Vec<u8>, PadesError> {
    let s = signer("rsa");
    block_on(sign_pdf(input, r, &s, None))
}

fn one_sig() -> esign_pades::SignRequest {
    req(vec![place(Signature, 1, 10.0, 10.0, 50.0, 50.0)])
}

#[test]
fn typed_errors() {
    let u = unsigned_pdf();
    assert!(matches!(try_sign(b"", one_sig()), Err(PadesError::Empty)));
    assert!(matches!(try_sign(b"hello world, not a pdf", one_sig()), Err(PadesError::NotPdf)));
    assert!(matches!(try_sign(b"%PDF-1.7\n\x00\x01garbage garbage", one_sig()), Err(PadesError::Malformed(_))));
    assert!(matches!(
        try_sign(&u, req(vec![place(Signature, 99, 10.0, 10.0, 50.0, 50.0)])),
        Err(PadesError::PageOutOfRange { page: 99, count: 2 })
    ));
    assert!(matches!(
        try_sign(&u, req(vec![place(Signature, 0, 10.0, 10.0, 50.0, 50.0)])),
        Err(PadesError::PageOutOfRange { .. })
    ));
    // off the page (A4/Letter are < 700 pt wide), negative, zero-size
    for (x, y, w, h) in
        [(600.0, 10.0, 100.0, 50.0), (-1.0, 10.0, 10.0, 10.0), (10.0, 10.0, 0.0, 10.0), (10.0, 900.0, 10.0, 10.0)]
    {
        let e = try_sign(&u, req(vec![place(Signature, 1, x, y, w, h)])).unwrap_err();
        assert!(matches!(e, PadesError::OffPage { .. }), "{x},{y},{w},{h}: {e}");
    }
    // a JPEG passed as the seal PNG
    let mut r = one_sig();
    r.seal_png = Some(vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0]);
    let e = try_sign(&u, r).unwrap_err();
    assert!(matches!(&e, PadesError::Image(m) if m.contains("JPEG")), "{e}");
    // placements on two pages are one act now (tests/cross_page.rs); a field name taken is not
    let mut r = req(vec![place(Signature, 1, 10.0, 10.0, 50.0, 50.0), place(SigningDate, 2, 10.0, 10.0, 50.0, 10.0)]);
    r.field_name = Some("a.b".into());
    assert!(matches!(try_sign(&u, r), Err(PadesError::InvalidPlacement(_))));
    // bad date format
    let mut r = req(vec![place(SigningDate, 1, 10.0, 10.0, 50.0, 10.0)]);
    r.date_format = "[nonsense".into();
    assert!(matches!(try_sign(&u, r), Err(PadesError::InvalidPlacement(_))));
}

#[test]
fn encrypted_pdf_is_not_supported() {
    let u = write("enc_in.pdf", &unsigned_pdf());
    let out = work_dir().join("enc.pdf");
    qpdf(&["--encrypt", "user", "owner", "256", "--", u.to_str().unwrap(), out.to_str().unwrap()]);
    let e = try_sign(&std::fs::read(&out).unwrap(), one_sig()).unwrap_err();
    assert!(matches!(e, PadesError::Encrypted), "{e}");
    assert_eq!(e.to_string(), "encrypted PDFs are not supported");
}

#[test]
fn truncated_and_mutated_inputs_never_panic() {
    let u = unsigned_pdf();
    for cut in [1, 8, 100, u.len() / 3, u.len() / 2, u.len() - 10] {
        let _ = try_sign(&u[..cut], one_sig());
        let _ = verify_pdf(&u[..cut]);
    }
    // deterministic mutation fuzzing: flip/overwrite bytes, sign and verify must not panic
    let signed = try_sign(&u, one_sig()).unwrap();
    let mut seed: u64 = 0x9E3779B97F4A7C15;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..300 {
        let base = if i % 2 == 0 { &u } else { &signed };
        let mut m = base.clone();
        for _ in 0..(1 + rnd() % 8) {
            let p = (rnd() as usize) % m.len();
            m[p] = match rnd() % 4 {
                0 => b' ',
                1 => b'0' + (rnd() % 10) as u8,
                2 => b"<>[]()/"[(rnd() % 7) as usize],
                _ => rnd() as u8,
            };
        }
        let _ = try_sign(&m, one_sig());
        let _ = verify_pdf(&m);
    }
}

#[test]
fn mismatched_key_and_certificate() {
    let p = pki();
    let key = std::fs::read_to_string(p.join("seal_rsa.key")).unwrap();
    let cert = std::fs::read_to_string(p.join("seal_ec.pem")).unwrap();
    assert!(matches!(esign_pades::LocalSigner::from_pem(&key, &cert, None), Err(PadesError::Key(_))));
    assert!(matches!(esign_pades::LocalSigner::from_pem("not a key", &cert, None), Err(PadesError::Key(_))));
}

fn cli(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_esign-pdf")).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn cli_exit_codes() {
    let p = pki();
    let s = |n: &str| p.join(n).to_str().unwrap().to_string();
    let u = write("cli_in.pdf", &unsigned_pdf());
    let out = work_dir().join("cli_out.pdf");
    let out2 = work_dir().join("cli_out2.pdf");
    let (u, out, out2) = (u.to_str().unwrap(), out.to_str().unwrap(), out2.to_str().unwrap());
    let (key, cert, chain, root, other) =
        (s("seal_rsa.key"), s("seal_rsa.pem"), s("int.pem"), s("root.pem"), s("other_root.pem"));
    let tsa = tsa_url();
    let (c, _, e) = cli(&[
        "sign",
        "--key",
        &key,
        "--cert",
        &cert,
        "--chain",
        &chain,
        "--tsa",
        tsa,
        "--place",
        "signature:1:100,100,90,90",
        "--place",
        "signing_date:1:100,195,90,14",
        u,
        out,
    ]);
    assert_eq!(c, 0, "{e}");
    check(std::path::Path::new(out), 1);
    let (c, o, _) = cli(&["verify", "--trust", &root, out]);
    assert_eq!(c, 0, "{o}");
    let (c, o, _) = cli(&["verify", "--json", out]);
    assert_eq!(c, 0);
    let j: serde_json::Value = serde_json::from_str(&o).unwrap();
    assert_eq!(j["signatures"][0]["time_source"], "timestamp");
    let (c, _, e) = cli(&["verify", "--trust", &other, out]);
    assert_eq!(c, 1, "untrusted root must fail");
    assert_eq!(e.lines().count(), 1);
    // unsigned input: nothing to verify
    assert_eq!(cli(&["verify", u]).0, 1);
    // second party with the ECDSA key, default seal, page 2
    let (c, _, e) = cli(&[
        "sign",
        "--key",
        &s("seal_ec.key"),
        "--cert",
        &s("seal_ec.pem"),
        "--chain",
        &chain,
        "--place",
        "signature:2:300,300,100,100",
        out,
        out2,
    ]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(cli(&["verify", "--trust", &root, out2]).0, 0);
    // bad input: exit 1, one line, no panic
    let empty = write("cli_empty.pdf", b"");
    let jpeg = write("cli_seal.png", &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]);
    let cases: Vec<Vec<String>> = vec![
        vec![
            "sign".into(),
            "--key".into(),
            key.clone(),
            "--cert".into(),
            cert.clone(),
            "--place".into(),
            "signature:99:1,1,10,10".into(),
            u.into(),
            out2.into(),
        ],
        vec![
            "sign".into(),
            "--key".into(),
            key.clone(),
            "--cert".into(),
            cert.clone(),
            "--place".into(),
            "signature:1:1,1,10000,10".into(),
            u.into(),
            out2.into(),
        ],
        vec![
            "sign".into(),
            "--key".into(),
            key.clone(),
            "--cert".into(),
            cert.clone(),
            "--place".into(),
            "signature:1:1,1".into(),
            u.into(),
            out2.into(),
        ],
        vec![
            "sign".into(),
            "--key".into(),
            key.clone(),
            "--cert".into(),
            cert.clone(),
            "--image".into(),
            jpeg.to_str().unwrap().into(),
            "--place".into(),
            "signature:1:1,1,10,10".into(),
            u.into(),
            out2.into(),
        ],
        vec![
            "sign".into(),
            "--key".into(),
            key.clone(),
            "--cert".into(),
            cert.clone(),
            "--place".into(),
            "signature:1:1,1,10,10".into(),
            empty.to_str().unwrap().into(),
            out2.into(),
        ],
        vec![
            "sign".into(),
            "--key".into(),
            cert.clone(),
            "--cert".into(),
            cert.clone(),
            "--place".into(),
            "signature:1:1,1,10,10".into(),
            u.into(),
            out2.into(),
        ],
        vec![
            "sign".into(),
            "--key".into(),
            key.clone(),
            "--place".into(),
            "signature:1:1,1,10,10".into(),
            u.into(),
            out2.into(),
        ],
        vec![
            "sign".into(),
            "--key".into(),
            key.clone(),
            "--cert".into(),
            cert.clone(),
            "/nonexistent.pdf".into(),
            out2.into(),
        ],
        vec!["verify".into(), empty.to_str().unwrap().into()],
        vec!["verify".into(), key.clone()],
        vec!["frobnicate".into()],
        vec![],
    ];
    for args in cases {
        let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let (c, _, e) = cli(&a);
        assert_eq!(c, 1, "{a:?}: {e}");
        assert_eq!(e.trim_end().lines().count(), 1, "{a:?}: one line expected, got {e}");
        assert!(!e.contains("panicked"), "{e}");
    }
}

/// `base` plus an incremental update adding object 4294967295 (u32::MAX).
fn with_object_at_u32_max(base: &[u8]) -> Vec<u8> {
    let doc = esign_pades::pdf::Document::load(base).unwrap();
    let (root, prev) = (doc.root_ref().unwrap(), doc.startxref);
    let mut out = base.to_vec();
    let off = out.len();
    out.extend_from_slice(b"4294967295 0 obj\n<< /Whatever true >>\nendobj\n");
    let x = out.len();
    out.extend_from_slice(
        format!(
            "xref\n4294967295 1\n{off:010} 00000 n\r\ntrailer\n<< /Size 4294967296 /Root {} {} R /Prev {prev} >>\nstartxref\n{x}\n%%EOF\n",
            root.0, root.1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn object_numbers_never_wrap_onto_existing_objects() {
    let m = with_object_at_u32_max(&unsigned_pdf());
    let doc = esign_pades::pdf::Document::load(&m).unwrap();
    assert!(!doc.recovered, "the update is read through its xref");
    let e = try_sign(&m, one_sig()).unwrap_err();
    assert!(matches!(&e, PadesError::Limit(m) if m.contains("8388607")), "{e}");
    let (c, _, err) = cli_sign(&m, "u32max");
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("processing limit"), "{err}");
}

#[test]
fn a_truncated_document_is_not_signed() {
    let u = unsigned_pdf();
    let cut = &u[..u.len() * 9 / 10];
    let e = try_sign(cut, one_sig()).unwrap_err();
    assert!(matches!(e, PadesError::Damaged(_)), "{e}");
    assert!(e.to_string().starts_with("the document is damaged: "), "{e}");
    let e = esign_pades::check_placements(cut, &one_sig().placements).unwrap_err();
    assert!(matches!(e, PadesError::Damaged(_)), "{e}");
    let (c, _, err) = cli_sign(cut, "cut");
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("damaged"), "{err}");
}

fn cli_sign(input: &[u8], name: &str) -> (i32, String, String) {
    let p = pki();
    let s = |n: &str| p.join(n).to_str().unwrap().to_string();
    let i = write(&format!("{name}_in.pdf"), input);
    let o = work_dir().join(format!("{name}_out.pdf"));
    cli(&[
        "sign",
        "--key",
        &s("seal_rsa.key"),
        "--cert",
        &s("seal_rsa.pem"),
        "--place",
        "signature:1:100,100,90,90",
        i.to_str().unwrap(),
        o.to_str().unwrap(),
    ])
}
