//! Hostile inputs from issue 12, each built by hand: cycles, DAG blow-ups, shared references,
//! decompression bombs, absurd numbers, truncation. Every one must end in a typed error or a
//! bounded answer, fast, on a 2 MiB stack (what a Tokio worker has).

use super::object::*;
use super::reader::*;
use std::time::Duration;

/// Runs `f` on a thread with a 2 MiB stack and fails the test if it takes longer than `secs`.
pub(crate) fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn");
    rx.recv_timeout(Duration::from_secs(secs)).expect("did not finish in time (or panicked)")
}

/// A PDF of numbered object bodies with a correct xref table (one subsection per run of
/// consecutive numbers); `trailer` is the inside of the trailer dictionary.
pub(crate) fn pdf(objs: &[(u32, Vec<u8>)], trailer: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offs: Vec<(u32, usize)> = Vec::new();
    for (n, body) in objs {
        offs.push((*n, out.len()));
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    offs.push((0, usize::MAX));
    offs.sort();
    let xref = out.len();
    out.extend_from_slice(b"xref\n");
    let mut i = 0;
    while i < offs.len() {
        let mut j = i;
        while j + 1 < offs.len() && offs[j + 1].0 == offs[j].0 + 1 {
            j += 1;
        }
        out.extend_from_slice(format!("{} {}\n", offs[i].0, j - i + 1).as_bytes());
        for (_, o) in &offs[i..=j] {
            let line =
                if *o == usize::MAX { "0000000000 65535 f\r\n".to_string() } else { format!("{o:010} 00000 n\r\n") };
            out.extend_from_slice(line.as_bytes());
        }
        i = j + 1;
    }
    let size = objs.iter().map(|o| o.0 as u64 + 1).max().unwrap_or(1);
    out.extend_from_slice(format!("trailer\n<< /Size {size} {trailer} >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    out
}

pub(crate) fn o(n: u32, body: &str) -> (u32, Vec<u8>) {
    (n, body.as_bytes().to_vec())
}

/// Catalog 1, pages 2, one page 3 (612 x 792).
pub(crate) fn basic_objects() -> Vec<(u32, Vec<u8>)> {
    vec![
        o(1, "<< /Type /Catalog /Pages 2 0 R >>"),
        o(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        o(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"),
    ]
}

#[test]
fn stream_lengths_referring_to_each_other_end_without_recursion() {
    let p = pdf(
        &[
            o(1, "<< /Type /Catalog /Pages 3 0 R /Length 2 0 R >>\nstream\nabc\nendstream"),
            o(2, "<< /Length 1 0 R >>\nstream\nxyz\nendstream"),
            o(3, "<< /Type /Pages /Kids [4 0 R] /Count 1 >>"),
            o(4, "<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] >>"),
        ],
        "/Root 1 0 R",
    );
    within(10, move || {
        let doc = Document::load(&p).expect("the cycle only costs the lengths, the document loads");
        assert!(matches!(doc.get(1, 0), Ok(Obj::Stream(_, ref d)) if d == b"abc"));
        assert!(matches!(doc.get(2, 0), Ok(Obj::Stream(_, ref d)) if d == b"xyz"));
        assert!(crate::verify_pdf(&p).is_ok());
    });
}

/// An xref stream (W [1 4 2], uncompressed) over `entries` (number, type, field 2, field 3),
/// written as object `num` at the end of `out`; returns the whole file.
pub(crate) fn with_xref_stream(
    mut out: Vec<u8>,
    num: u32,
    mut entries: Vec<(u32, u8, u64, u16)>,
    extra: &str,
) -> Vec<u8> {
    let off = out.len();
    entries.push((num, 1, off as u64, 0));
    entries.sort_by_key(|e| e.0);
    let mut data = Vec::new();
    let mut index = String::new();
    for e in &entries {
        index.push_str(&format!("{} 1 ", e.0));
        data.push(e.1);
        data.extend_from_slice(&(e.2 as u32).to_be_bytes());
        data.extend_from_slice(&e.3.to_be_bytes());
    }
    let size = entries.iter().map(|e| e.0 as u64 + 1).max().unwrap_or(1);
    out.extend_from_slice(
        format!(
            "{num} 0 obj\n<< /Type /XRef /Size {size} /W [1 4 2] /Index [{index}] /Length {} {extra} >>\nstream\n",
            data.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&data);
    out.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{off}\n%%EOF\n").as_bytes());
    out
}

#[test]
fn object_stream_whose_length_points_into_itself_ends_without_recursion() {
    // the catalog (6) lives in object stream 5, whose /Length is object 6
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut entries = Vec::new();
    for (n, body) in [
        (2u32, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        (3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"),
    ] {
        entries.push((n, 1u8, out.len() as u64, 0u16));
        out.extend_from_slice(format!("{n} 0 obj\n{body}\nendobj\n").as_bytes());
    }
    let inner = b"6 0 << /Type /Catalog /Pages 2 0 R >>";
    entries.push((5, 1, out.len() as u64, 0));
    out.extend_from_slice(b"5 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Length 6 0 R >>\nstream\n");
    out.extend_from_slice(inner);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    entries.push((6, 2, 5, 0));
    let p = with_xref_stream(out, 7, entries, "/Root 6 0 R");
    within(10, move || {
        let doc = Document::load(&p).expect("loads: the length is unknown, endstream ends the stream");
        assert!(doc.catalog().is_ok_and(|c| c.name_is("Type", "Catalog")));
        let _ = crate::verify_pdf(&p);
    });
}

#[test]
fn a_field_listing_itself_in_its_kids_is_walked_once() {
    let mut objs = basic_objects();
    objs[0] = o(1, "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] >> >>");
    objs.push(o(5, "<< /FT /Sig /T (a) /Kids [5 0 R 5 0 R 5 0 R 5 0 R] >>"));
    let p = pdf(&objs, "/Root 1 0 R");
    let r = within(10, move || crate::verify_pdf(&p).map(|r| r.signatures.len()));
    assert!(matches!(r, Ok(0)), "{r:?}");
}

#[test]
fn a_field_shared_by_400000_references_costs_once() {
    let mut objs = basic_objects();
    objs[0] = o(1, "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields 6 0 R >> >>");
    // a field with a large option list: parsing it per reference would take minutes
    let opts: String = (0..2000).map(|i| format!("({i}) ")).collect();
    objs.push(o(5, &format!("<< /FT /Ch /T (choice) /Opt [{opts}] >>")));
    objs.push((6, format!("[{}]", "5 0 R ".repeat(400_000)).into_bytes()));
    let p = pdf(&objs, "/Root 1 0 R");
    let r = within(20, move || crate::verify_pdf(&p).map(|r| r.signatures.len()));
    assert!(matches!(r, Ok(0)), "{r:?}");
}

#[test]
fn a_page_tree_reusing_nodes_as_a_dag_is_counted_in_linear_time() {
    // 21 levels of intermediate nodes without /Count, each listing the next one four times:
    // 4^21 leaves by naive counting
    let mut objs = vec![o(1, "<< /Type /Catalog /Pages 10 0 R >>")];
    for lvl in 10..31 {
        objs.push(o(lvl, &format!("<< /Type /Pages /Kids [{n} 0 R {n} 0 R {n} 0 R {n} 0 R] >>", n = lvl + 1)));
    }
    objs.push(o(31, "<< /Type /Page /MediaBox [0 0 612 792] >>"));
    let p = pdf(&objs, "/Root 1 0 R");
    let placement = crate::Placement {
        kind: crate::PlacementKind::Signature,
        page: 1,
        x: 10.0,
        y: 10.0,
        width: 50.0,
        height: 50.0,
    };
    let r = within(10, move || crate::check_placements(&p, &[placement]).map_err(|e| e.to_string()));
    assert!(r.is_err(), "{r:?}");
}
