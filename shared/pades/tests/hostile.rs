//! Hostile files (issue 12): every case of the adversarial corpus (tests/adversarial) and a few
//! derived from real signatures goes through `verify_pdf`, `verify_pdf_with_trust`,
//! `check_placements` and `sign_pdf` (test P-256 key, no TSA).
//!
//! Each case runs in a child process (this test binary re-run with HOSTILE_CASE set), so a stack
//! overflow, an abort or an out-of-memory kill fails that one case with a clear message instead
//! of taking every other test with it; a case that does not answer within the wall deadline
//! (20 s in a debug build, 10 s in release) is killed and fails as a hang. No timing is asserted
//! otherwise.
//!
//! What a user would care about, asserted per case:
//! - every call answers (Ok or a typed error), the process neither aborts nor panics;
//! - verify never calls a signature intact or trusted in these files (none carries a valid one),
//!   and its report stays bounded (at most 1,000 signatures);
//! - check_placements never answers "page 1 is out of range" for a document it claims has pages;
//! - signing a damaged file is refused (never Ok); where signing may succeed, the update is sound:
//!   the input is a prefix, and no new object number is 0, wraps, or reuses an existing number;
//! - the child's peak RSS stays under 400 MB (the bombs inflate to 500 MB).
//!
//! On main's engine (before engine-hostile) the failing cases are listed in FAILS_ON_MAIN; run
//! `cargo test -p esign-pades --test hostile` to see each case's outcome.

mod adversarial;
mod common;

use adversarial::Sign;
use common::*;
use esign_pades::pdf::Document;
use esign_pades::{PadesError, PlacementKind, check_placements, sign_pdf, verify_pdf, verify_pdf_with_trust};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Cases that failed on main's engine (d863553, before engine-hostile), with how: aborts (stack
/// overflow through /Length cycles), hangs (field walk 4^n, 400,000 shared references, page-tree
/// DAG), 500 MB decodes, a debug-build overflow panic at u32::MAX object numbers (a silent wrap
/// in release), damaged and truncated files signed, "page 1 out of range" on a 1-page document.
pub const FAILS_ON_MAIN: &[(&str, &str)] = &[
    ("cycle_length_mutual", "abort: stack overflow"),
    ("cycle_length_chain3", "abort: stack overflow"),
    ("cycle_objstm_length_inside", "abort: stack overflow"),
    ("cycle_field_kids_4x", "hang (> 20 s)"),
    ("dag_fields_400k", "hang (> 20 s)"),
    ("dag_fields_kids_fanout", "hang (> 20 s)"),
    ("dag_page_tree_uncounted", "hang (> 20 s)"),
    ("objnum_u32_max", "sign panics: attempt to add with overflow (sign.rs; wraps in release)"),
    ("objnum_u32_max_in_stream", "sign panics: attempt to add with overflow"),
    ("mediabox_absurd", "check_placements: page 1 'out of range' of 1 page"),
    ("bomb_xref_stream", "500 MB inflated; signed"),
    ("bomb_objstm", "500 MB inflated; signed"),
    ("bomb_many_objstms", "recovered, 20 x 50 MB object streams; signed"),
    ("truncated_tenth", "signed"),
    ("truncated_400", "signed"),
    ("truncated_mid_xref", "signed"),
    ("signed_truncated", "signed"),
    ("cycle_length_self", "signed"),
];

const PEAK_RSS_LIMIT_KB: u64 = 400 * 1024;

fn deadline() -> Duration {
    Duration::from_secs(if cfg!(debug_assertions) { 20 } else { 10 })
}

/// Cases derived from a real signature made in the child (they need the test key).
fn derived(name: &str) -> Option<(Vec<u8>, Sign)> {
    let signed = || {
        let s = ec_signer();
        block_on(sign_pdf(
            &adversarial::baseline(),
            req(vec![place(PlacementKind::Signature, 1, 20.0, 20.0, 60.0, 60.0)]),
            &s,
            None,
        ))
        .expect("sign the baseline")
    };
    let patch_byterange = |v: &mut Vec<u8>, new: &dyn Fn(usize) -> String| {
        let at = find(v, b"/ByteRange [").expect("a ByteRange") + 12;
        let end = at + v[at..].iter().position(|&c| c == b']').unwrap();
        let width = end - at;
        let mut s = new(width);
        assert!(s.len() <= width, "replacement wider than the original ByteRange");
        while s.len() < width {
            s.push(' ');
        }
        v[at..end].copy_from_slice(s.as_bytes());
    };
    Some(match name {
        "signed_byterange_negative" => {
            let mut v = signed();
            patch_byterange(&mut v, &|_| "-1 -2 -3 -4".into());
            (v, Sign::MayDo)
        }
        "signed_byterange_absurd" => {
            let mut v = signed();
            // as wide as the original allows: "0 99..9 99..9 1"
            patch_byterange(&mut v, &|w| {
                let n = (w - 6) / 2;
                format!("0 {} {} 1", "9".repeat(n), "9".repeat(n))
            });
            (v, Sign::MayDo)
        }
        "signed_byterange_overlapping" => {
            let mut v = signed();
            patch_byterange(&mut v, &|_| "0 100 50 100".into());
            (v, Sign::MayDo)
        }
        "signed_truncated" => {
            let mut v = signed();
            v.truncate(v.len() - 400);
            (v, Sign::Refuse)
        }
        "signed_tampered" => {
            let mut v = signed();
            let at = find(&v, b"72 72 200 100 re").unwrap();
            v[at] = b'9';
            (v, Sign::MayDo)
        }
        _ => return None,
    })
}

const DERIVED: &[&str] = &[
    "signed_byterange_negative",
    "signed_byterange_absurd",
    "signed_byterange_overlapping",
    "signed_truncated",
    "signed_tampered",
];

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

fn ec_signer() -> esign_pades::LocalSigner {
    let d = std::path::PathBuf::from(std::env::var("HOSTILE_PKI").expect("HOSTILE_PKI"));
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    esign_pades::LocalSigner::from_pem(&read("seal_ec.key"), &read("seal_ec.pem"), Some(&read("int.pem"))).unwrap()
}

/// "N G obj" headers at line starts in `upd`.
fn new_object_numbers(upd: &[u8]) -> Vec<u64> {
    let mut out = Vec::new();
    for (i, _) in upd.iter().enumerate() {
        if i > 0 && upd[i - 1] != b'\n' && upd[i - 1] != b'\r' {
            continue;
        }
        let rest = &upd[i..upd.len().min(i + 40)];
        let s = String::from_utf8_lossy(rest);
        let mut it = s.split_ascii_whitespace();
        if let (Some(n), Some(g), Some(o)) = (it.next(), it.next(), it.next())
            && o.starts_with("obj")
            && g.chars().all(|c| c.is_ascii_digit())
            && let Ok(n) = n.parse::<u64>()
        {
            out.push(n);
        }
    }
    out
}

/// The checks, run inside the child process.
fn run_case(name: &str) {
    let mut problems: Vec<String> = Vec::new();
    macro_rules! check {
        ($c:expr, $($m:tt)*) => { if !$c { let m = format!($($m)*); println!("PROBLEM {m}"); problems.push(m); } };
    }
    let (bytes, sign_policy) = match adversarial::all().into_iter().find(|c| c.name == name) {
        Some(c) => ((c.build)(), c.sign),
        None => derived(name).unwrap_or_else(|| panic!("no case {name}")),
    };
    println!("{name}: {} bytes", bytes.len());
    let roots = esign_pades::cms_sig::certs_from_pem(
        std::fs::read(std::path::Path::new(&std::env::var("HOSTILE_PKI").unwrap()).join("root.pem"))
            .unwrap()
            .as_slice(),
    )
    .unwrap();

    for (label, r) in [("verify", verify_pdf(&bytes)), ("verify+trust", verify_pdf_with_trust(&bytes, Some(&roots)))] {
        match r {
            Ok(rep) => {
                println!("{label}: Ok, {} signature(s), {} revision(s)", rep.signatures.len(), rep.revisions);
                check!(rep.signatures.len() <= 1000, "{label}: unbounded report ({} signatures)", rep.signatures.len());
                for s in &rep.signatures {
                    check!(!s.intact(), "{label}: says a signature in a hostile file is intact: {s:?}");
                }
            }
            Err(e) => println!("{label}: Err({e})"),
        }
    }

    let pl = [place(PlacementKind::Signature, 1, 20.0, 20.0, 60.0, 60.0)];
    let mut pages_to_try = vec![1u32];
    match check_placements(&bytes, &pl) {
        Ok(n) => {
            println!("check_placements: Ok({n})");
            // the count it claims must be real: page 2 and the last page exist too (the fuzz
            // target check_placements found /Count 9999999999999 answered "page 2 is out of
            // range of 10000000 pages")
            pages_to_try
                .extend([2, u32::try_from(n).unwrap_or(u32::MAX)].into_iter().filter(|&p| p >= 2 && p as usize <= n));
        }
        Err(e) => println!("check_placements: Err({e})"),
    }
    pages_to_try.dedup();
    for pg in pages_to_try {
        if let Err(PadesError::PageOutOfRange { page, count }) =
            check_placements(&bytes, &[place(PlacementKind::Signature, pg, 1.0, 1.0, 2.0, 2.0)])
        {
            check!(page == 0 || page as usize > count, "check_placements: page {page} 'out of range' of {count} pages");
        }
    }

    let doc_check = esign_pades::check_document(&bytes);
    match &doc_check {
        Ok(i) => println!("check_document: Ok({} pages, xref repaired: {})", i.pages, i.xref_repaired),
        Err(e) => println!("check_document: Err({e})"),
    }
    check!(
        sign_policy != Sign::Refuse || doc_check.is_err(),
        "check_document: a damaged file passes (must be refused)"
    );

    let signer = ec_signer();
    match block_on(sign_pdf(&bytes, req(pl.to_vec()), &signer, None)) {
        Err(e) => println!("sign: Err({e})"),
        Ok(out) => {
            println!("sign: Ok (+{} bytes)", out.len().saturating_sub(bytes.len()));
            check!(sign_policy != Sign::Refuse, "sign: a damaged file was signed (must be refused)");
            check!(doc_check.is_ok(), "sign: signed a file check_document refuses");
            check!(out.starts_with(&bytes), "sign: the input is not a prefix of the output");
            let upd = &out[bytes.len()..];
            let nums = new_object_numbers(upd);
            check!(!nums.is_empty(), "sign: no object in the update");
            let existing: Vec<u32> =
                Document::load(&bytes).map(|d| d.xref.keys().copied().collect()).unwrap_or_default();
            for n in &nums {
                check!(*n != 0 && *n <= u32::MAX as u64, "sign: update writes object {n}");
            }
            // new objects (those that are not rewrites of the page/catalog/AcroForm path) must sit
            // above every existing number: the update never overwrites e.g. a content stream
            let rewritable = rewritable(&bytes);
            for n in &nums {
                if existing.contains(&(*n as u32)) {
                    check!(rewritable.contains(&(*n as u32)), "sign: the update overwrites existing object {n}");
                }
            }
            match verify_pdf(&out) {
                Ok(rep) => {
                    println!("verify(signed): {} signature(s)", rep.signatures.len());
                }
                Err(e) => println!("verify(signed): Err({e})"),
            }
        }
    }
    let hwm = peak_rss_kb();
    println!("peak RSS: {} MB", hwm / 1024);
    check!(hwm <= PEAK_RSS_LIMIT_KB, "peak RSS {} MB over {} MB", hwm / 1024, PEAK_RSS_LIMIT_KB / 1024);
    assert!(problems.is_empty(), "{name}: {}", problems.join("; "));
}

/// Objects an incremental signing update may rewrite: the catalog, the page objects, an
/// AcroForm dictionary and its /Fields array object (PAdES allows those changes).
fn rewritable(bytes: &[u8]) -> Vec<u32> {
    let mut v = Vec::new();
    let Ok(d) = Document::load(bytes) else { return v };
    if let Some(r) = d.root_ref() {
        v.push(r.0);
    }
    if let Ok(cat) = d.catalog() {
        for k in ["AcroForm"] {
            if let Some((n, _)) = cat.get(k).and_then(|o| o.as_ref()) {
                v.push(n);
                if let Ok(af) = d.resolve_dict(&esign_pades::pdf::Obj::Ref(n, 0))
                    && let Some((f, _)) = af.get("Fields").and_then(|o| o.as_ref())
                {
                    v.push(f);
                }
            }
        }
        if let Some((n, _)) =
            cat.get("AcroForm").and_then(|o| o.as_dict()).and_then(|a| a.get("Fields")).and_then(|o| o.as_ref())
        {
            v.push(n);
        }
    }
    if let Ok(Some(p)) = d.find_page(0) {
        v.push(p.r.0);
        if let Some((n, _)) = p.dict.get("Annots").and_then(|o| o.as_ref()) {
            v.push(n);
        }
    }
    v
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l[6..].trim().trim_end_matches(" kB").trim().to_string())
        })
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The child entry point: `HOSTILE_CASE=name <this binary> child --exact --ignored`.
#[test]
#[ignore = "entry point for one case in a child process (HOSTILE_CASE)"]
fn child() {
    let Ok(name) = std::env::var("HOSTILE_CASE") else { return };
    run_case(&name);
}

/// Runs one case in a child process with the wall deadline; panics with the child's output.
fn isolated(name: &str) {
    let pki = pki();
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("HOSTILE_CASE", name)
        .env("HOSTILE_PKI", pki)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // drain output on threads so a chatty child never blocks on a full pipe
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let to = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut so, &mut s);
        s
    });
    let te = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut se, &mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if start.elapsed() > deadline() {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (out, err) = (to.join().unwrap(), te.join().unwrap());
    let log: String =
        out.lines().filter(|l| !l.starts_with("running ") && !l.is_empty()).collect::<Vec<_>>().join("\n");
    println!("{log}");
    match status {
        None => panic!("{name}: HANG - no answer within {:?} (killed)\n{log}", deadline()),
        Some(st) if st.success() => {}
        Some(st) => {
            use std::os::unix::process::ExitStatusExt;
            let why = match st.signal() {
                Some(6) => "ABORT (SIGABRT: stack overflow or allocation failure)".to_string(),
                Some(9) => "KILLED (SIGKILL: out of memory?)".to_string(),
                Some(11) => "CRASH (SIGSEGV)".to_string(),
                Some(s) => format!("signal {s}"),
                None => format!("FAILED (exit {:?})", st.code()),
            };
            let tail: String = err
                .lines()
                .filter(|l| {
                    !l.trim().is_empty()
                        && !l.starts_with("note:")
                        && !l.starts_with("stack backtrace")
                        && !l.starts_with("  ")
                })
                .take(6)
                .collect::<Vec<_>>()
                .join("\n");
            panic!("{name}: {why}\n{log}\n{tail}");
        }
    }
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => { $( #[test] fn $name() { isolated(stringify!($name)); } )* };
}

cases!(
    cycle_objstm_contains_itself,
    cycle_objstm_mutual,
    cycle_objstm_ref_to_itself,
    cycle_kids,
    cycle_parent,
    cycle_field_kids_4x,
    cycle_prev_mutual,
    cycle_prev_self,
    cycle_ref_chain,
    cycle_annots_self,
    dag_page_tree_counted,
    dag_page_tree_uncounted,
    dag_annots_400k,
    dag_fields_400k,
    dag_fields_kids_fanout,
    deep_array_100k,
    deep_dict_100k,
    deep_array_in_objstm,
    deep_page_tree_1000,
    bomb_xref_stream,
    bomb_objstm,
    bomb_content_stream,
    bomb_image,
    bomb_metadata,
    bomb_many_objstms,
    count_negative,
    size_absurd,
    size_negative,
    size_u32_max,
    w_absurd,
    w_negative,
    w_wide_offsets,
    index_absurd,
    objstm_n_absurd,
    objstm_n_negative,
    objstm_first_absurd,
    objstm_first_negative,
    objstm_offsets_absurd,
    length_absurd,
    length_negative,
    offsets_past_end,
    startxref_past_end,
    startxref_negative,
    xref_subsection_wrap,
    xref_negative_subsection,
    prev_negative,
    objnum_u32_max,
    objnum_u32_max_in_stream,
    genno_absurd,
    truncated_tenth,
    truncated_400,
    truncated_mid_xref,
    sig_byterange_absurd,
    sig_byterange_negative,
    sig_byterange_huge_array,
    sig_contents_huge,
    sig_contents_ber_bomb,
    signed_byterange_negative,
    signed_byterange_absurd,
    signed_byterange_overlapping,
    signed_tampered,
    count_no_kids,
    mediabox_absurd,
    signed_truncated,
    count_absurd,
    count_i64_max,
    cycle_kids_counted,
    cycle_length_mutual,
    cycle_length_self,
    cycle_length_chain3,
    cycle_objstm_length_inside,
);

/// Cases that still fail on the engine: ignored so the suite stays green, each with what is
/// wrong; run them with `-- --ignored`. None now: the gaps found on engine-hostile 2d030e0
/// (page counts, a /Kids cycle, /Length cycles, a truncated signed file, an unreadable page box)
/// are fixed on engine-gaps and listed with the passing cases above.
macro_rules! gaps {
    ($($name:ident => $why:expr),* $(,)?) => { $( #[test] #[ignore = $why] fn $name() { isolated(stringify!($name)); } )* };
}

gaps!();

/// Every corpus case and every derived case has a test above (a new builder without a test
/// would silently go unchecked).
#[test]
fn every_case_has_a_test() {
    let src = include_str!("hostile.rs");
    let list = &src[src.find("cases!(\n").unwrap()..];
    let has = |n: &str| list.contains(&format!("    {n},\n")) || list.contains(&format!("    {n} => "));
    for c in adversarial::all() {
        assert!(has(c.name), "no test for {}", c.name);
    }
    for d in DERIVED {
        assert!(has(d), "no test for {d}");
    }
}

/// The control: the sound baseline signs, and its signature verifies intact (so the harness
/// itself is not what refuses the hostile files).
#[test]
fn baseline_signs_and_verifies() {
    let s = signer("ec");
    let b = adversarial::baseline();
    assert_eq!(check_placements(&b, &[place(PlacementKind::Signature, 1, 20.0, 20.0, 60.0, 60.0)]).unwrap(), 1);
    let out = block_on(sign_pdf(&b, req(vec![place(PlacementKind::Signature, 1, 20.0, 20.0, 60.0, 60.0)]), &s, None))
        .unwrap();
    let rep = verify_pdf(&out).unwrap();
    assert_eq!(rep.signatures.len(), 1);
    assert!(rep.signatures[0].intact(), "{rep:?}");
    let four = adversarial::four_pages();
    assert_eq!(check_placements(&four, &[place(PlacementKind::Signature, 4, 20.0, 20.0, 60.0, 60.0)]).unwrap(), 4);
}
