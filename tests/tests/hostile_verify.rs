//! Hostile PDFs at `POST /v1/verify` (issue 12): anyone may post one, so each must answer a 4xx
//! problem or a report that calls nothing valid, and the server must keep answering other
//! requests meanwhile (the PDF work runs on the blocking pool with a deadline, not on the async
//! workers). The files are built here, small cousins of shared/pades/tests/adversarial.

use esign_e2e::Api;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A classic PDF: the objects in order, an xref table, the trailer.
fn classic(objs: &[(u32, Vec<u8>)], trailer: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offs = Vec::new();
    for (n, body) in objs {
        offs.push((*n, out.len()));
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let max = offs.iter().map(|o| o.0).max().unwrap_or(0);
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", max + 1).as_bytes());
    for n in 1..=max {
        match offs.iter().find(|o| o.0 == n) {
            Some((_, o)) => out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes()),
            None => out.extend_from_slice(b"0000000000 00000 f\r\n"),
        }
    }
    out.extend_from_slice(format!("trailer\n<< /Size {} {trailer} >>\nstartxref\n{xref}\n%%EOF\n", max + 1).as_bytes());
    out
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn page_objs(catalog: &str) -> Vec<(u32, Vec<u8>)> {
    vec![
        (1, b(catalog)),
        (2, b("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")),
        (3, b("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>")),
    ]
}

/// (name, bytes): a /Length cycle (killed the server before issue 12), a field listing itself
/// four times in /Kids (pinned a CPU), 400,000 references to one field, a truncated file, a
/// signature with an absurd /ByteRange.
fn hostile_files() -> Vec<(&'static str, Vec<u8>)> {
    let mut v = Vec::new();
    let mut o = page_objs("<< /Type /Catalog /Pages 2 0 R /AcroForm 5 0 R >>");
    o.push((5, b("<< /Length 6 0 R >>\nstream\nxxxx\nendstream")));
    o.push((6, b("<< /Length 5 0 R >>\nstream\nxxxx\nendstream")));
    v.push(("length_cycle", classic(&o, "/Root 1 0 R")));

    let mut o = page_objs("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] >> >>");
    o.push((5, b("<< /FT /Sig /T (loop) /Kids [5 0 R 5 0 R 5 0 R 5 0 R] >>")));
    v.push(("field_kids_4x", classic(&o, "/Root 1 0 R")));

    let refs = "5 0 R ".repeat(400_000);
    let mut o = page_objs(&format!("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [{refs}] >> >>"));
    o.push((5, b("<< /FT /Sig /T (many) /V 6 0 R >>")));
    o.push((6, b("<< /Type /Sig /ByteRange [0 10 20 30] /Contents <3082> >>")));
    v.push(("fields_400k", classic(&o, "/Root 1 0 R")));

    let mut whole = classic(&page_objs("<< /Type /Catalog /Pages 2 0 R >>"), "/Root 1 0 R");
    whole.truncate(whole.len() * 9 / 10);
    v.push(("truncated", whole));

    let mut o = page_objs("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] >> >>");
    o.push((5, b("<< /FT /Sig /T (s) /V 6 0 R >>")));
    o.push((6, b("<< /Type /Sig /ByteRange [0 99999999999 -5 18446744073709551615] /Contents <3082ffff> >>")));
    v.push(("byterange_absurd", classic(&o, "/Root 1 0 R")));
    v
}

#[test]
fn hostile_pdfs_answer_and_the_server_keeps_serving() {
    let api = Api::new();
    assert_eq!(api.get("/v1/ca/certificates").send().status, 200);
    // HOSTILE_ONLY=name posts one file (to find which one breaks a build)
    let only = std::env::var("HOSTILE_ONLY").ok();
    let files =
        Arc::new(hostile_files().into_iter().filter(|f| only.as_deref().is_none_or(|o| o == f.0)).collect::<Vec<_>>());
    let done = Arc::new(AtomicBool::new(false));
    let posters: Vec<_> = (0..3)
        .map(|_| {
            let (files, done) = (files.clone(), done.clone());
            std::thread::spawn(move || {
                let api = Api::new();
                for _ in 0..3 {
                    for (name, pdf) in files.iter() {
                        let r = api.post("/v1/verify").raw("application/pdf", pdf.clone()).send();
                        let ok = (400..500).contains(&r.status) || (r.status == 200 && r.body["valid"] == false);
                        assert!(ok, "{name}: {} {:?}", r.status, r.body);
                    }
                }
                done.store(true, Ordering::SeqCst);
            })
        })
        .collect();
    // Meanwhile an unrelated route keeps answering.
    let (mut polls, mut slowest) = (0, Duration::ZERO);
    while !done.load(Ordering::SeqCst) || polls < 5 {
        let t = Instant::now();
        let r = api.get("/v1/ca/certificates").send();
        assert_eq!(r.status, 200, "GET /v1/ca/certificates while hostile files are verified");
        slowest = slowest.max(t.elapsed());
        polls += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    for p in posters {
        p.join().expect("a poster failed");
    }
    // Generous: a starved server took > 30 s (or never answered); a healthy one takes milliseconds.
    assert!(slowest < Duration::from_secs(5), "GET /v1/ca/certificates took {slowest:?} under load");
}
