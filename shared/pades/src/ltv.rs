//! Long-term validation (PAdES B-LT / B-LTA): the Document Security Store (DSS) and document
//! time stamps.
//!
//! - [`add_validation_data_update`] appends one incremental update that creates or extends the
//!   catalog's `/DSS`: `/Certs`, `/OCSPs` and `/CRLs` arrays of streams holding the DER given, and
//!   a `/VRI` entry for the newest signature (keyed by the uppercase hex SHA-1 of its `/Contents`
//!   string, padding included, as ETSI EN 319 142-1 and pyHanko do) listing what was added for it.
//! - [`crate::sign::timestamp_pdf_update`] appends a document time stamp (`/DocTimeStamp`).
//!
//! Why the DSS is a separate update after the signature (as pyHanko does by default): a signature
//! cannot cover the DSS entry keyed by its own `/Contents`, nor revocation data fetched after its
//! time stamp (the data must be newer than the signing time to speak about it). So the order is:
//! signature (B-T) -> DSS with the signer's and TSA's data (B-LT) -> document time stamp -> DSS
//! with the document time stamp's TSA data (B-LTA). PAdES allows DSS updates after any signature.

use crate::PadesError;
use crate::pdf::object::{Dict, Obj, write_obj};
use crate::pdf::reader::{Document, decode_stream_limited};
use crate::pdf::writer::write_update;
use der::{Decode, Encode};
use std::collections::HashMap;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

/// Validation data given by the caller: DER certificates, OCSP responses (the whole
/// `OCSPResponse`) and CRLs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationData {
    pub certs: Vec<Vec<u8>>,
    pub ocsps: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
}

impl ValidationData {
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty() && self.ocsps.is_empty() && self.crls.is_empty()
    }
}

/// Most entries read from one DSS array, and the largest DER item read from (or written to) a DSS.
pub const MAX_DSS_ENTRIES: usize = 10_000;
pub const MAX_DSS_ITEM: usize = 1 << 20;

fn bad(msg: impl Into<String>) -> PadesError {
    PadesError::ValidationData(msg.into())
}

/// The parsed successful BasicOCSPResponse inside an OCSPResponse, or why not.
pub fn parse_ocsp(der_bytes: &[u8]) -> Result<x509_ocsp::BasicOcspResponse, String> {
    let resp = x509_ocsp::OcspResponse::from_der(der_bytes).map_err(|e| format!("not an OCSP response: {e}"))?;
    if resp.response_status != x509_ocsp::OcspResponseStatus::Successful {
        return Err(format!("OCSP response status {:?}", resp.response_status as u8));
    }
    let rb = resp.response_bytes.ok_or("OCSP response without responseBytes")?;
    if rb.response_type != const_oid::db::rfc6960::ID_PKIX_OCSP_BASIC {
        return Err(format!("OCSP response type {} is not id-pkix-ocsp-basic", rb.response_type));
    }
    x509_ocsp::BasicOcspResponse::from_der(rb.response.as_bytes()).map_err(|e| format!("BasicOCSPResponse: {e}"))
}

/// Checks each item parses as what it claims to be (refused before anything is written).
fn check_items(data: &ValidationData) -> Result<(), PadesError> {
    let size = |what: &str, i: usize, d: &[u8]| {
        if d.is_empty() || d.len() > MAX_DSS_ITEM {
            Err(bad(format!("{what} {} is empty or larger than {MAX_DSS_ITEM} bytes", i + 1)))
        } else {
            Ok(())
        }
    };
    for (i, c) in data.certs.iter().enumerate() {
        size("certificate", i, c)?;
        Certificate::from_der(c).map_err(|e| bad(format!("certificate {} is not DER X.509: {e}", i + 1)))?;
    }
    for (i, o) in data.ocsps.iter().enumerate() {
        size("OCSP response", i, o)?;
        parse_ocsp(o).map_err(|e| bad(format!("OCSP response {}: {e}", i + 1)))?;
    }
    for (i, c) in data.crls.iter().enumerate() {
        size("CRL", i, c)?;
        CertificateList::from_der(c).map_err(|e| bad(format!("CRL {} is not a DER X.509 CRL: {e}", i + 1)))?;
    }
    let total = data.certs.len() + data.ocsps.len() + data.crls.len();
    if total > MAX_DSS_ENTRIES {
        return Err(bad(format!("{total} items: at most {MAX_DSS_ENTRIES} per update")));
    }
    Ok(())
}

/// The DSS as it is in a document: the DER of each entry of each array, and the VRI entries.
#[derive(Debug, Default, Clone)]
pub struct Dss {
    pub certs: Vec<Vec<u8>>,
    pub ocsps: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    /// the VRI keys (uppercase hex SHA-1 of a signature's /Contents)
    pub vri: Vec<String>,
}

impl Dss {
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty() && self.ocsps.is_empty() && self.crls.is_empty()
    }
}

/// One DSS array, read within bounds: its references (kept to rewrite the array) and the DER
/// of each stream (unreadable entries are skipped).
fn read_array(doc: &Document, dss: &Dict, key: &str) -> (Vec<Obj>, Vec<Vec<u8>>) {
    let Some(arr) = dss.get(key).and_then(|o| doc.resolve(o).ok()).and_then(|o| o.as_array().cloned()) else {
        return (Vec::new(), Vec::new());
    };
    let mut refs = Vec::new();
    let mut ders = Vec::new();
    for o in arr.into_iter().take(MAX_DSS_ENTRIES) {
        if let Ok(Obj::Stream(d, raw)) = doc.resolve(&o)
            && let Ok(der) = decode_stream_limited(&d, &raw, MAX_DSS_ITEM)
        {
            ders.push(der);
        } else {
            ders.push(Vec::new());
        }
        refs.push(o);
    }
    (refs, ders)
}

/// The catalog's DSS, if any (hostile input: bounded, unreadable parts are left out).
pub fn read_dss(doc: &Document) -> Dss {
    let Some(dss) = doc.catalog().ok().and_then(|c| c.get("DSS").and_then(|d| doc.resolve_dict(d).ok())) else {
        return Dss::default();
    };
    let keep = |v: Vec<Vec<u8>>| v.into_iter().filter(|d| !d.is_empty()).collect();
    let vri = match dss.get("VRI").and_then(|v| doc.resolve_dict(v).ok()) {
        Some(v) => v.0.iter().take(MAX_DSS_ENTRIES).map(|(k, _)| String::from_utf8_lossy(k).into_owned()).collect(),
        None => Vec::new(),
    };
    Dss {
        certs: keep(read_array(doc, &dss, "Certs").1),
        ocsps: keep(read_array(doc, &dss, "OCSPs").1),
        crls: keep(read_array(doc, &dss, "CRLs").1),
        vri,
    }
}

/// The VRI key of a signature: SHA-1 of its /Contents bytes (with their zero padding), uppercase hex.
pub fn vri_key(contents: &[u8]) -> String {
    use sha1::Digest;
    hex::encode_upper(sha1::Sha1::digest(contents))
}

/// The /Contents bytes of the newest signature or document time stamp (the one whose byte range
/// ends last), if the document has any.
fn newest_signature_contents(doc: &Document) -> Result<Option<Vec<u8>>, PadesError> {
    let fields = crate::verify::signature_fields(doc)?;
    let end = |v: &Dict| -> i64 {
        match doc.resolve(v.get("ByteRange").unwrap_or(&Obj::Null)) {
            Ok(Obj::Array(a)) if a.len() == 4 => a[2].as_int().unwrap_or(0).saturating_add(a[3].as_int().unwrap_or(0)),
            _ => 0,
        }
    };
    let newest = fields.iter().max_by_key(|(_, v, _)| end(v));
    Ok(newest.and_then(|(_, v, _)| match v.get("Contents").and_then(|c| doc.resolve(c).ok()) {
        Some(Obj::Str(s)) => Some(s),
        _ => None,
    }))
}

fn ser(o: &Obj) -> Vec<u8> {
    let mut v = Vec::new();
    write_obj(&mut v, o);
    v
}

/// Appends the validation data to the document's DSS (creating it if needed) in one incremental
/// update, with a VRI entry for the newest signature (or document time stamp) listing the items
/// given and the certificates embedded in the OCSP responses. Items already in the DSS are not
/// written again (the VRI refers to the existing streams). Returns the bytes to append to `input`.
pub fn add_validation_data_update(input: &[u8], data: &ValidationData) -> Result<Vec<u8>, PadesError> {
    check_items(data)?;
    let doc = Document::load(input)?;
    doc.check_sound()?;
    let root_ref = doc.root_ref().ok_or_else(|| PadesError::Malformed("/Root is not a reference".into()))?;
    let catalog = doc.catalog()?;
    let dss_entry = catalog.get("DSS").cloned();
    let dss_ref = dss_entry.as_ref().and_then(|o| o.as_ref());
    let mut dss: Dict = match &dss_entry {
        Some(o) => doc.resolve_dict(o).unwrap_or_default(),
        None => Dict::new(),
    };
    // certificates inside the OCSP responses (the responders') go in too, as pyHanko does
    let mut certs = data.certs.clone();
    for o in &data.ocsps {
        if let Ok(basic) = parse_ocsp(o) {
            for c in basic.certs.unwrap_or_default() {
                if let Ok(d) = c.to_der() {
                    certs.push(d);
                }
            }
        }
    }
    let groups: [(&str, &str, Vec<Vec<u8>>); 3] =
        [("Certs", "Cert", certs), ("OCSPs", "OCSP", data.ocsps.clone()), ("CRLs", "CRL", data.crls.clone())];
    let new_items: usize = groups.iter().map(|g| g.2.len()).sum();
    // streams, the VRI entry, the DSS, the catalog, the writer's xref stream
    let count = u32::try_from(new_items).ok().and_then(|n| n.checked_add(4)).ok_or_else(|| bad("too many items"))?;
    let first = doc.allocate(count)?;
    let mut next = first;
    let mut take = || {
        let n = next;
        next += 1;
        n
    };
    let mut objs: Vec<(u32, u16, Vec<u8>)> = Vec::new();
    let mut vri = Dict::new().with("Type", Obj::name("VRI"));
    for (key, vri_key_name, items) in groups {
        let (mut refs, ders) = read_array(&doc, &dss, key);
        let mut known: HashMap<Vec<u8>, Obj> = HashMap::new();
        for (r, d) in refs.iter().zip(ders) {
            if !d.is_empty() {
                known.entry(d).or_insert_with(|| r.clone());
            }
        }
        let mut for_vri = Vec::new();
        for der in items {
            let r = match known.get(&der) {
                Some(r) => r.clone(),
                None => {
                    let n = take();
                    let d = Dict::new().with("Length", Obj::Int(der.len() as i64));
                    objs.push((n, 0, ser(&Obj::Stream(d, der.clone()))));
                    refs.push(Obj::Ref(n, 0));
                    known.insert(der, Obj::Ref(n, 0));
                    Obj::Ref(n, 0)
                }
            };
            if !for_vri.contains(&r) {
                for_vri.push(r);
            }
        }
        if !refs.is_empty() {
            dss.set(key, Obj::Array(refs));
        }
        if !for_vri.is_empty() {
            vri.set(vri_key_name, Obj::Array(for_vri));
        }
    }
    if let Some(contents) = newest_signature_contents(&doc)? {
        let mut vris = dss.get("VRI").and_then(|v| doc.resolve_dict(v).ok()).unwrap_or_default();
        let n = take();
        objs.push((n, 0, ser(&Obj::Dict(vri))));
        vris.set(&vri_key(&contents), Obj::Ref(n, 0));
        dss.set("VRI", Obj::Dict(vris));
    }
    dss.set("Type", Obj::name("DSS"));
    match dss_ref {
        Some((n, g)) => objs.push((n, g, ser(&Obj::Dict(dss)))),
        None => {
            let n = take();
            objs.push((n, 0, ser(&Obj::Dict(dss))));
            let mut cat = catalog.clone();
            cat.set("DSS", Obj::Ref(n, 0));
            objs.push((root_ref.0, root_ref.1, ser(&Obj::Dict(cat))));
        }
    }
    Ok(write_update(&doc, &objs, next))
}

/// [`add_validation_data_update`] returning the whole document (input ++ update).
pub fn add_validation_data(input: &[u8], data: &ValidationData) -> Result<Vec<u8>, PadesError> {
    let update = add_validation_data_update(input, data)?;
    let mut out = Vec::with_capacity(input.len() + update.len());
    out.extend_from_slice(input);
    out.extend_from_slice(&update);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-page PDF whose catalog carries `dss` (object 4) and `extra` objects (5, 6, ...).
    fn pdf_with_dss(dss: &str, extra: &[&str]) -> Vec<u8> {
        let mut objs = vec![
            "<< /Type /Catalog /Pages 2 0 R /DSS 4 0 R >>".to_string(),
            "<< /Type /Pages /Count 1 /Kids [3 0 R] >>".into(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>".into(),
            dss.into(),
        ];
        objs.extend(extra.iter().map(|s| s.to_string()));
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offs = Vec::new();
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

    #[test]
    fn vri_keys_are_uppercase_sha1() {
        assert_eq!(vri_key(b"abc"), "A9993E364706816ABA3E25717850C26C9CD0D89D");
    }

    #[test]
    fn hostile_dss_reads_bounded_and_is_rewritten() {
        for (dss, extra) in [
            // the arrays are references to themselves / to the DSS, entries are not streams
            ("<< /Certs 4 0 R /OCSPs 5 0 R /CRLs [1 0 R 2 0 R 99 0 R] /VRI 4 0 R >>", vec!["[5 0 R 5 0 R]"]),
            // a stream that is not DER, a bomb-sized /Length, a name where an array belongs
            ("<< /Certs [5 0 R] /OCSPs /Nope /VRI [1 2] >>", vec!["<< /Length 4 >>\nstream\nabcd\nendstream"]),
            ("<< /Certs [5 0 R] >>", vec!["<< /Length 99999999999 >>\nstream\nabcd\nendstream"]),
            ("5 0 R", vec!["4 0 R"]),
        ] {
            let pdf = pdf_with_dss(dss, &extra);
            let doc = Document::load(&pdf).unwrap();
            let read = read_dss(&doc);
            assert!(read.ocsps.is_empty() && read.crls.is_empty(), "{dss}");
            // adding real data still works: the unreadable entries are kept as they were
            let cert = include_bytes!("../tests/data/ltv_test_cert.der").to_vec();
            let data = ValidationData { certs: vec![cert.clone()], ..Default::default() };
            if let Ok(out) = add_validation_data(&pdf, &data) {
                let doc = Document::load(&out).unwrap();
                assert!(read_dss(&doc).certs.contains(&cert), "{dss}");
            }
        }
    }

    #[test]
    fn items_are_checked_before_anything_is_written() {
        let pdf = pdf_with_dss("<< >>", &[]);
        for data in [
            ValidationData { certs: vec![vec![0x30, 0x00]], ..Default::default() },
            ValidationData { ocsps: vec![vec![]], ..Default::default() },
            ValidationData { crls: vec![vec![0u8; MAX_DSS_ITEM + 1]], ..Default::default() },
        ] {
            assert!(matches!(add_validation_data(&pdf, &data), Err(PadesError::ValidationData(_))));
        }
    }

    #[test]
    fn items_already_in_the_dss_are_not_written_again() {
        let cert = include_bytes!("../tests/data/ltv_test_cert.der").to_vec();
        let pdf = pdf_with_dss("<< >>", &[]);
        let data = ValidationData { certs: vec![cert.clone(), cert.clone()], ..Default::default() };
        let once = add_validation_data(&pdf, &data).unwrap();
        let twice = add_validation_data(&once, &data).unwrap();
        let doc = Document::load(&twice).unwrap();
        assert_eq!(read_dss(&doc).certs, vec![cert]);
        assert_eq!(crate::pdf::object::find(&twice[once.len()..], b"stream", 0), None, "no new stream");
    }
}
