//! Writes one incremental update: new/changed objects, then a cross-reference section in the same
//! style as the previous one (table or stream) with /Prev pointing to it.

use super::object::*;
use super::reader::{Document, XrefEntry, XrefStyle};

/// Serializes `objs` (number, generation, serialized body) as an incremental update to be
/// appended after `doc.data`. Returns the bytes to append.
pub fn write_update(doc: &Document, objs: &[(u32, u16, Vec<u8>)], mut new_size: u32) -> Vec<u8> {
    let base = doc.data;
    let base_len = base.len();
    let mut out = Vec::with_capacity(objs.iter().map(|o| o.2.len() + 40).sum::<usize>() + 1024);
    if !matches!(base.last(), Some(b'\n') | Some(b'\r')) {
        out.push(b'\n');
    }
    let mut entries: Vec<(u32, u16, usize)> = Vec::new();
    for (n, g, body) in objs {
        entries.push((*n, *g, base_len + out.len()));
        out.extend_from_slice(format!("{n} {g} obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let mut trailer = Dict::new();
    for k in ["Root", "Info", "ID"] {
        if let Some(v) = doc.trailer.get(k) {
            trailer.set(k, v.clone());
        }
    }
    if trailer.get("ID").is_none() {
        use sha2::Digest;
        let h = sha2::Sha256::digest(&base[..base.len().min(65536)]);
        let id = Obj::Str(h[..16].to_vec());
        trailer.set("ID", Obj::Array(vec![id.clone(), id]));
    }
    // A recovered file has no trustworthy chain to point /Prev at: write a complete section.
    let full = doc.recovered;
    let use_stream =
        doc.style == XrefStyle::Stream || (full && doc.xref.values().any(|e| matches!(e, XrefEntry::InStream(..))));
    let xref_off = base_len + out.len();
    if use_stream {
        let xnum = new_size;
        new_size += 1;
        entries.push((xnum, 0, xref_off));
        let mut rows: Vec<(u32, u8, u64, u64)> = Vec::new();
        if full {
            rows.push((0, 0, 0, 65535));
            for (n, e) in &doc.xref {
                if *n == 0 || entries.iter().any(|x| x.0 == *n) {
                    continue;
                }
                match e {
                    XrefEntry::Offset(o, g) => rows.push((*n, 1, *o as u64, *g as u64)),
                    XrefEntry::InStream(s, i) => rows.push((*n, 2, *s as u64, *i as u64)),
                    XrefEntry::Free => {}
                }
            }
        }
        for (n, g, o) in &entries {
            rows.push((*n, 1, *o as u64, *g as u64));
        }
        rows.sort_by_key(|r| r.0);
        let w1 = if (xref_off as u64) < (1u64 << 32) && rows.iter().all(|r| r.2 < (1 << 32)) { 4 } else { 8 };
        let mut data = Vec::with_capacity(rows.len() * (3 + w1));
        let mut index = Vec::new();
        let mut i = 0;
        while i < rows.len() {
            let start = rows[i].0;
            let mut j = i;
            while j + 1 < rows.len() && rows[j].0.checked_add(1) == Some(rows[j + 1].0) {
                j += 1;
            }
            index.push(Obj::Int(start as i64));
            index.push(Obj::Int((j - i + 1) as i64));
            for r in &rows[i..=j] {
                data.push(r.1);
                data.extend_from_slice(&r.2.to_be_bytes()[8 - w1..]);
                data.extend_from_slice(&(r.3.min(65535) as u16).to_be_bytes());
            }
            i = j + 1;
        }
        let mut d = Dict::new().with("Type", Obj::name("XRef")).with("Size", Obj::Int(new_size as i64));
        for (k, v) in trailer.0 {
            d.0.push((k, v));
        }
        if !full {
            d.set("Prev", Obj::Int(doc.startxref as i64));
        }
        d.set("W", Obj::Array(vec![Obj::Int(1), Obj::Int(w1 as i64), Obj::Int(2)]));
        d.set("Index", Obj::Array(index));
        out.extend_from_slice(format!("{xnum} 0 obj\n").as_bytes());
        write_obj(&mut out, &Obj::Stream(d, data));
        out.extend_from_slice(b"\nendobj\n");
    } else {
        let mut rows: Vec<(u32, u16, usize, bool)> = entries.iter().map(|e| (e.0, e.1, e.2, true)).collect();
        if full {
            rows.push((0, 65535, 0, false));
            for (n, e) in &doc.xref {
                if let XrefEntry::Offset(o, g) = e
                    && *n != 0
                    && !entries.iter().any(|x| x.0 == *n)
                {
                    rows.push((*n, *g, *o, true));
                }
            }
        }
        rows.sort_by_key(|r| r.0);
        out.extend_from_slice(b"xref\n");
        let mut i = 0;
        while i < rows.len() {
            let mut j = i;
            while j + 1 < rows.len() && rows[j].0.checked_add(1) == Some(rows[j + 1].0) {
                j += 1;
            }
            out.extend_from_slice(format!("{} {}\n", rows[i].0, j - i + 1).as_bytes());
            for r in &rows[i..=j] {
                out.extend_from_slice(format!("{:010} {:05} {}\r\n", r.2, r.1, if r.3 { 'n' } else { 'f' }).as_bytes());
            }
            i = j + 1;
        }
        let mut d = Dict::new().with("Size", Obj::Int(new_size as i64));
        for (k, v) in trailer.0 {
            d.0.push((k, v));
        }
        if !full {
            d.set("Prev", Obj::Int(doc.startxref as i64));
        }
        out.extend_from_slice(b"trailer\n");
        write_dict(&mut out, &d);
        out.push(b'\n');
    }
    out.extend_from_slice(format!("startxref\n{xref_off}\n%%EOF\n").as_bytes());
    out
}
