//! lopdf as an independent oracle for our lazy reader (issue 12): for each file, what our reader
//! returns (the catalog's /Pages, the page count, each page's MediaBox, CropBox and /Rotate as
//! inherited) must agree with lopdf 0.47's parse of the same file (`Document::load_mem`,
//! `get_pages`, attributes inherited through /Parent), or both must refuse it.
//!
//! Each reader runs on each file in a child process (this binary again, ORACLE_FILE and
//! ORACLE_READER set) with a wall deadline, so a crash or a hang of either reader counts as a
//! refusal of that reader instead of killing the run.
//!
//! - `adversarial_and_small_files` (runs by default): the adversarial corpus and the baseline
//!   files. Disagreements are allowed only when listed in [`KNOWN`] with the reason and which side
//!   is right.
//! - `real_world_corpus` (ignored; `cargo test -p esign-pades --test oracle -- --ignored
//!   --nocapture`): every file of ../shared/corpus/fetch.sh; the same rule.

#[path = "adversarial/mod.rs"]
mod adversarial;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Pages compared per file (the count is compared in full).
const PAGES: usize = 40;

/// Disagreements found and explained: (file stem, the reason and who is right).
/// Found on main's engine (d863553); each is a file the engine should refuse or read as lopdf
/// does, so most of them should vanish with engine-hostile (a listed file that agrees is fine).
pub const KNOWN: &[(&str, &str)] = &[
    (
        "cycle_kids_counted",
        "ours trusts /Count 3 of a cyclic page tree; lopdf walks it once and finds no page. lopdf is right: \
         no page is reachable without the loop; the file should be refused",
    ),
    (
        "dag_page_tree_counted",
        "the page tree is a DAG (invalid, it must be a tree): ours trusts /Count (2^30, capped at 10,000,000) \
         and inherits /MediaBox down the path it walked; lopdf visits each node once (3 pages) and finds no \
         /MediaBox because the leaf lacks the required /Parent. Neither is right; the file should be refused",
    ),
    (
        "dag_page_tree_uncounted",
        "the same DAG without /Count: ours counted 2^30 leaves and hung on main; engine-hostile refuses it \
         (page-tree walk limit); lopdf visits each node once (3 pages). Refusing is right: the tree is invalid",
    ),
    (
        "cycle_objstm_length_inside",
        "the object stream's /Length lives inside itself: lopdf cannot resolve it and refuses; ours overflowed \
         its stack on main and, on engine-hostile, reads the stream by scanning to endstream. lopdf is right \
         strictly; for signing, ours should at least call the file damaged (see tests/hostile.rs gaps)",
    ),
    (
        "cycle_kids_counted_note",
        "(no file) cycle_kids_counted, count_absurd, count_i64_max, truncated_400 all come from ours trusting \
         /Count where lopdf counts the leaves it can reach; still so on engine-hostile",
    ),
    (
        "bomb_xref_stream",
        "ours (main) inflates the 500 MB xref stream whole; lopdf refuses it. lopdf is right; engine-hostile refuses too (64 MiB budget)",
    ),
    (
        "bomb_objstm",
        "ours (main) inflates the 500 MB object stream whole; lopdf refuses it. lopdf is right; engine-hostile refuses too (64 MiB budget)",
    ),
    (
        "count_no_kids",
        "a /Pages root with /Count 16 and no /Kids: ours trusts the count (16 pages, then cannot find page 2); \
         lopdf finds no page (a /Pages node without /Kids is no page). lopdf is right; engine gap",
    ),
    (
        "count_absurd",
        "ours trusts /Count 9999999999999 (capped at 10,000,000); lopdf counts the one leaf. lopdf is right",
    ),
    (
        "count_i64_max",
        "ours trusts the root's /Count (i64::MAX, capped at 10,000,000); lopdf counts the one leaf. lopdf is right",
    ),
    (
        "startxref_past_end",
        "no xref; the only trailer names /Root 99 0 R, which does not exist: ours refuses, lopdf guesses the \
         catalog from /Type /Catalog. Ours is right for a signing engine (a damaged file is not signed as is)",
    ),
    (
        "startxref_negative",
        "as startxref_past_end (startxref -1): ours refuses, lopdf guesses the catalog; ours is right",
    ),
    (
        "truncated_400",
        "the first 400 bytes of a 4-page file: ours trusts /Count 4 and cannot read pages 2-4; lopdf lists the \
         3 kids it can resolve. Both read a damaged file; it should be refused (issue 12: never signed as is)",
    ),
];

// ----------------------------------------------------------------------------------------------
// the two readers, each printing one canonical summary

fn fmt_rect(r: Option<[f64; 4]>) -> String {
    match r {
        Some(v) => format!("[{:.2} {:.2} {:.2} {:.2}]", v[0], v[1], v[2], v[3]),
        None => "-".into(),
    }
}

fn ours(bytes: &[u8]) -> Result<String, String> {
    use esign_pades::pdf::Document;
    let d = Document::load(bytes).map_err(|e| e.to_string())?;
    let cat = d.catalog().map_err(|e| e.to_string())?;
    let pages_ref = cat.get("Pages").and_then(|o| o.as_ref());
    let count = d.page_count().map_err(|e| e.to_string())?;
    let mut s = format!("pages_ref={pages_ref:?} count={count}\n");
    for i in 0..count.min(PAGES) {
        match d.find_page(i) {
            Ok(Some(p)) => {
                s += &format!(
                    "page {} obj={} mb={} cb={} rot={:?}\n",
                    i + 1,
                    p.r.0,
                    fmt_rect(p.inh.media_box),
                    fmt_rect(p.inh.crop_box),
                    p.inh.rotate
                )
            }
            Ok(None) | Err(_) => s += &format!("page {} unreadable\n", i + 1),
        }
    }
    Ok(s)
}

fn lopdf_summary(bytes: &[u8]) -> Result<String, String> {
    use lopdf::{Dictionary, Object};
    let doc = lopdf::Document::load_mem(bytes).map_err(|e| e.to_string())?;
    fn deref<'a>(doc: &'a lopdf::Document, mut o: &'a Object) -> Option<&'a Object> {
        for _ in 0..32 {
            match o {
                Object::Reference(id) => o = doc.get_object(*id).ok()?,
                _ => return Some(o),
            }
        }
        None
    }
    fn num(doc: &lopdf::Document, o: &Object) -> Option<f64> {
        match deref(doc, o)? {
            Object::Integer(i) => Some(*i as f64),
            Object::Real(r) => Some(*r as f64),
            _ => None,
        }
    }
    fn rect(doc: &lopdf::Document, o: &Object) -> Option<[f64; 4]> {
        let Object::Array(a) = deref(doc, o)? else { return None };
        if a.len() != 4 {
            return None;
        }
        let v: Vec<f64> = a.iter().map(|x| num(doc, x)).collect::<Option<_>>()?;
        Some([v[0].min(v[2]), v[1].min(v[3]), v[0].max(v[2]), v[1].max(v[3])])
    }
    /// The nearest value of `key` going up /Parent (bounded), as PDF inheritance defines it.
    fn inherited<'a>(doc: &'a lopdf::Document, page: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
        let mut d = page;
        for _ in 0..64 {
            if let Ok(v) = d.get(key) {
                return Some(v);
            }
            let pid = d.get(b"Parent").ok()?.as_reference().ok()?;
            d = doc.get_dictionary(pid).ok()?;
        }
        None
    }
    let cat = doc.catalog().map_err(|e| e.to_string())?;
    let pages_ref = cat.get(b"Pages").ok().and_then(|o| o.as_reference().ok());
    let pages = doc.get_pages();
    let mut s = format!("pages_ref={pages_ref:?} count={}\n", pages.len());
    for (&n, &id) in pages.iter().take(PAGES) {
        let Ok(d) = doc.get_dictionary(id) else {
            s += &format!("page {n} unreadable\n");
            continue;
        };
        let mb = inherited(&doc, d, b"MediaBox").and_then(|o| rect(&doc, o));
        let cb = inherited(&doc, d, b"CropBox").and_then(|o| rect(&doc, o));
        let rot = inherited(&doc, d, b"Rotate").and_then(|o| num(&doc, o)).map(|r| r as i64);
        s += &format!("page {n} obj={} mb={} cb={} rot={rot:?}\n", id.0, fmt_rect(mb), fmt_rect(cb));
    }
    Ok(s)
}

#[test]
#[ignore = "entry point for one reader on one file in a child process"]
fn oracle_child() {
    let (Ok(f), Ok(r)) = (std::env::var("ORACLE_FILE"), std::env::var("ORACLE_READER")) else { return };
    let bytes = std::fs::read(&f).unwrap();
    let out = if r == "ours" { ours(&bytes) } else { lopdf_summary(&bytes) };
    match out {
        Ok(s) => print!("SUMMARY-BEGIN\n{s}SUMMARY-END\n"),
        Err(e) => print!("SUMMARY-BEGIN\nrefused\nSUMMARY-END\nreason: {e}\n"),
    }
}

/// Ok(summary) or Err(why it refused: error, crash or hang).
fn run(file: &Path, reader: &str) -> Result<String, String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["oracle_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("ORACLE_FILE", file)
        .env("ORACLE_READER", reader)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut so = child.stdout.take().unwrap();
    let t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut so, &mut s);
        s
    });
    let start = Instant::now();
    let limit = Duration::from_secs(if cfg!(debug_assertions) { 30 } else { 10 });
    let st = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = t.join().unwrap();
    let Some(st) = st else { return Err(format!("hang (killed after {limit:?})")) };
    if !st.success() {
        use std::os::unix::process::ExitStatusExt;
        return Err(format!("crash ({:?} / signal {:?})", st.code(), st.signal()));
    }
    let (Some(a), Some(b)) = (out.find("SUMMARY-BEGIN\n"), out.find("SUMMARY-END")) else {
        return Err("no summary".into());
    };
    let s = out[a + 14..b].to_string();
    // a document with no page is as unusable as a refused one
    if s.contains(" count=0\n") {
        return Err("no page".into());
    }
    if s == "refused\n" {
        let why = out[b..].lines().find_map(|l| l.strip_prefix("reason: ")).unwrap_or("").to_string();
        return Err(format!("error: {why}"));
    }
    Ok(s)
}

/// Compares the two readers on every file; returns the unexplained disagreements.
fn compare(files: &[PathBuf]) -> Vec<String> {
    compare_with(files, true)
}

fn compare_with(files: &[PathBuf], verbose: bool) -> Vec<String> {
    let mut bad = Vec::new();
    for f in files {
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        let (o, l) = (run(f, "ours"), run(f, "lopdf"));
        let verdict = match (&o, &l) {
            (Ok(a), Ok(b)) if a == b => "agree".to_string(),
            (Err(_), Err(_)) => "both refuse".to_string(),
            (Ok(a), Ok(b)) => {
                let diff: Vec<String> = a
                    .lines()
                    .zip(b.lines())
                    .filter(|(x, y)| x != y)
                    .take(3)
                    .map(|(x, y)| format!("ours `{x}` / lopdf `{y}`"))
                    .collect();
                format!("DIFFER: {}", diff.join("; "))
            }
            (Ok(a), Err(e)) => format!("DIFFER: ours reads ({}), lopdf refuses: {e}", a.lines().next().unwrap_or("")),
            (Err(e), Ok(b)) => format!("DIFFER: ours refuses ({e}), lopdf reads ({})", b.lines().next().unwrap_or("")),
        };
        let known = KNOWN.iter().find(|(k, _)| *k == stem);
        if verbose || verdict.starts_with("DIFFER") {
            println!(
                "{stem:<32} {verdict}{}",
                if known.is_some() && verdict.starts_with("DIFFER") { "  [known]" } else { "" }
            );
        }
        if verdict.starts_with("DIFFER") && known.is_none() {
            bad.push(format!("{stem}: {verdict}"));
        }
    }
    bad
}

#[test]
fn adversarial_and_small_files() {
    let dir = std::env::temp_dir().join(format!("esign-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let mut put = |name: &str, bytes: Vec<u8>| {
        let p = dir.join(format!("{name}.pdf"));
        std::fs::write(&p, bytes).unwrap();
        files.push(p);
    };
    put("baseline", adversarial::baseline());
    put("four_pages", adversarial::four_pages());
    for c in adversarial::all() {
        put(c.name, (c.build)());
    }
    let bad = compare(&files);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(bad.is_empty(), "unexplained disagreements with lopdf:\n{}", bad.join("\n"));
}

#[test]
#[ignore = "the real-world corpus (../shared/corpus/fetch.sh)"]
fn real_world_corpus() {
    let fetch = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/fetch.sh");
    let out = Command::new(&fetch).output().expect("run corpus/fetch.sh");
    assert!(out.status.success(), "fetch.sh failed");
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .chain(std::fs::read_dir(dir.join("pypdf")).unwrap())
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    files.sort();
    let bad = compare(&files);
    assert!(bad.is_empty(), "unexplained disagreements with lopdf:\n{}", bad.join("\n"));
}

/// The fuzz corpus (ORACLE_DIR, default fuzz/corpus/check_placements after `fuzz/seed.sh` and a
/// run): mutated files, so disagreements are expected; each is printed, and the test fails only
/// when our reader crashes or hangs on a file (lopdf's own crashes are lopdf's).
#[test]
#[ignore = "the fuzz corpus (ORACLE_DIR)"]
fn fuzz_corpus() {
    let dir = std::env::var("ORACLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/check_placements"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    let mut ours_broke = Vec::new();
    let (mut agree, mut differ) = (0, 0);
    for f in &files {
        let o = run(f, "ours");
        if let Err(e) = &o
            && (e.starts_with("crash") || e.starts_with("hang"))
        {
            ours_broke.push(format!("{}: {e}", f.display()));
        }
        let l = run(f, "lopdf");
        match (&o, &l) {
            (Ok(a), Ok(b)) if a == b => agree += 1,
            (Err(_), Err(_)) => agree += 1,
            _ => {
                differ += 1;
                let side = |r: &Result<String, String>| match r {
                    Ok(s) => s.lines().next().unwrap_or("").to_string(),
                    Err(e) => format!("refuses: {e}"),
                };
                println!("{}: ours {} / lopdf {}", f.file_name().unwrap().to_string_lossy(), side(&o), side(&l));
            }
        }
    }
    println!("{} files: {agree} agree (or both refuse), {differ} differ", files.len());
    assert!(ours_broke.is_empty(), "our reader crashed or hung:\n{}", ours_broke.join("\n"));
}
