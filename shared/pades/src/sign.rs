//! One signing act: placements -> appearances -> signature field -> incremental update -> CMS.

use crate::PadesError;
use crate::appearance::{Geometry, image_content, place, text_content};
use crate::cms_sig::{Signer, assemble, max_signature_len, signed_attributes};
use crate::image::{Raster, decode_png, default_seal};
use crate::pdf::object::{Dict, Obj, write_obj};
use crate::pdf::reader::{Document, PageInfo};
use crate::pdf::writer::write_update;
use crate::tsa::TimestampSource;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use time::{OffsetDateTime, UtcOffset};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementKind {
    Signature,
    SigningDate,
}

/// A widget on a page: points from the top-left of the page as a viewer shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Placement {
    pub kind: PlacementKind,
    /// 1-based page number
    pub page: u32,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Clone)]
pub struct SignRequest {
    pub placements: Vec<Placement>,
    /// PNG seal image; None draws the default red seal
    pub seal_png: Option<Vec<u8>>,
    /// `time` format description for signing_date widgets, e.g. "[year]-[month]-[day]"
    pub date_format: String,
    /// UTC offset used for the drawn date and /M
    pub utc_offset: UtcOffset,
    /// signing time to draw (defaults to now)
    pub signing_time: Option<OffsetDateTime>,
    /// field name; default "Signature<N>" with the first free N
    pub field_name: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
}

impl Default for SignRequest {
    fn default() -> Self {
        SignRequest {
            placements: Vec::new(),
            seal_png: None,
            date_format: "[year]-[month]-[day]".into(),
            utc_offset: UtcOffset::UTC,
            signing_time: None,
            field_name: None,
            reason: None,
            location: None,
        }
    }
}

/// Most objects one signing act adds (signature, field, image, soft mask, font, appearance,
/// AcroForm), plus the cross-reference stream the writer may add.
const NEW_OBJECTS_MAX: u32 = 8;

struct Resolved {
    kind: PlacementKind,
    page_idx: usize,
    geo: Geometry,
}

fn ser(o: &Obj) -> Vec<u8> {
    let mut v = Vec::new();
    write_obj(&mut v, o);
    v
}

fn real(v: f64) -> Obj {
    if v.fract() == 0.0 && v.abs() < 1e15 { Obj::Int(v as i64) } else { Obj::Real((v * 10000.0).round() / 10000.0) }
}

fn flate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn pdf_date(t: OffsetDateTime) -> String {
    let off = t.offset();
    let (h, m, _) = off.as_hms();
    let tz = if off.is_utc() {
        "Z".to_string()
    } else {
        format!("{}{:02}'{:02}'", if off.is_negative() { '-' } else { '+' }, h.abs(), m.abs())
    };
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}{}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        tz
    )
}

/// The DocMDP permission (/P) of a certified document, if it is certified.
fn docmdp_level(doc: &Document, catalog: &Dict) -> Option<i64> {
    let perms = catalog.get("Perms").and_then(|o| doc.resolve_dict(o).ok())?;
    let sig = perms.get("DocMDP").and_then(|o| doc.resolve_dict(o).ok())?;
    let mut level = 2; // the default when /P is absent
    if let Some(Obj::Array(a)) = sig.get("Reference").and_then(|o| doc.resolve(o).ok()) {
        for r in a {
            if let Some(p) = doc
                .resolve_dict(&r)
                .ok()
                .and_then(|rd| rd.get("TransformParams").and_then(|o| doc.resolve_dict(o).ok()))
                .and_then(|tp| tp.get("P").and_then(|o| o.as_int()))
            {
                level = p;
            }
        }
    }
    Some(level)
}

/// What [`check_document`] learnt about a document fit to be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentInfo {
    /// number of pages
    pub pages: usize,
    /// the cross-reference data was damaged and rebuilt completely by scanning; a signing act
    /// then writes a complete cross-reference section
    pub xref_repaired: bool,
}

/// Loads `pdf` and checks that it can be signed as is: readable, not encrypted, not damaged
/// ([`PadesError::Damaged`] names the damage), within the processing limits.
pub fn check_document(pdf: &[u8]) -> Result<DocumentInfo, PadesError> {
    let doc = Document::load(pdf)?;
    doc.check_sound()?;
    Ok(DocumentInfo { pages: doc.page_count()?, xref_repaired: doc.recovered })
}

/// Loads `pdf`, checks that it can be signed as is (see [`check_document`]) and checks every
/// placement against its page (range, visible box, rotation) without signing anything; returns
/// the document's page count.
pub fn check_placements(pdf: &[u8], placements: &[Placement]) -> Result<usize, PadesError> {
    let doc = Document::load(pdf)?;
    doc.check_sound()?;
    let count = doc.page_count()?;
    resolve(&doc, placements, count)?;
    Ok(count)
}

/// Each placement in user space on its page, and the pages involved.
fn resolve(
    doc: &Document,
    placements: &[Placement],
    count: usize,
) -> Result<(BTreeMap<usize, PageInfo>, Vec<Resolved>), PadesError> {
    let mut pages: BTreeMap<usize, PageInfo> = BTreeMap::new();
    let mut resolved = Vec::new();
    for (i, p) in placements.iter().enumerate() {
        if p.page == 0 || p.page as usize > count {
            return Err(PadesError::PageOutOfRange { page: p.page, count });
        }
        let idx = p.page as usize - 1;
        if let std::collections::btree_map::Entry::Vacant(e) = pages.entry(idx) {
            let info = doc.find_page(idx)?.ok_or(PadesError::PageOutOfRange { page: p.page, count })?;
            e.insert(info);
        }
        let info = &pages[&idx];
        let vb = info.visible_box();
        let rot = info.rotation();
        let geo = place(vb, rot, p.x, p.y, p.width, p.height).ok_or_else(|| {
            let (w, h) =
                if rot == 90 || rot == 270 { (vb[3] - vb[1], vb[2] - vb[0]) } else { (vb[2] - vb[0], vb[3] - vb[1]) };
            PadesError::OffPage {
                index: i,
                page: p.page,
                x: p.x,
                y: p.y,
                width: p.width,
                height: p.height,
                page_width: w,
                page_height: h,
            }
        })?;
        resolved.push(Resolved { kind: p.kind, page_idx: idx, geo });
    }
    Ok((pages, resolved))
}

/// Signs `input` and returns the signed PDF (input bytes + one incremental update).
pub async fn sign_pdf(
    input: &[u8],
    request: SignRequest,
    signer: &dyn Signer,
    tsa: Option<&dyn TimestampSource>,
) -> Result<Vec<u8>, PadesError> {
    let update = sign_pdf_update(input, request, signer, tsa).await?;
    let mut out = Vec::with_capacity(input.len() + update.len());
    out.extend_from_slice(input);
    out.extend_from_slice(&update);
    Ok(out)
}

/// Like [`sign_pdf`] but returns only the bytes to append to `input` (the signed PDF is
/// `input ++ update`): no copy of a large input is made, so callers can stream it out.
pub async fn sign_pdf_update(
    input: &[u8],
    request: SignRequest,
    signer: &dyn Signer,
    tsa: Option<&dyn TimestampSource>,
) -> Result<Vec<u8>, PadesError> {
    // The input is hashed once, on a second thread, while its cross-reference data is read:
    // the digest covers all of it, and hashing is the one cost that grows with every byte.
    let (doc, input_hash) = std::thread::scope(|s| {
        let hashing = s.spawn(|| Sha256::new().chain_update(input));
        let doc = Document::load(input);
        (doc, hashing.join())
    });
    let doc = doc?;
    doc.check_sound()?;
    let input_hash = input_hash.map_err(|_| PadesError::Cms("internal: the hashing thread failed".into()))?;
    let catalog = doc.catalog()?;
    match docmdp_level(&doc, &catalog) {
        Some(1) => return Err(PadesError::NotAllowed("it is certified with no changes permitted (DocMDP P=1)".into())),
        // pyHanko (by default) and the PAdES rules it follows reject new *visible* signature
        // fields after a certification signature; an invisible one keeps it valid.
        Some(_) if !request.placements.is_empty() => {
            return Err(PadesError::NotAllowed(
                "it is certified (DocMDP): only an invisible signature (no placements) keeps the certification valid"
                    .into(),
            ));
        }
        _ => {}
    }
    let root_ref = doc.root_ref().ok_or_else(|| PadesError::Malformed("/Root is not a reference".into()))?;

    // ---- resolve placements against their pages
    let count = doc.page_count()?;
    let (mut pages, resolved) = resolve(&doc, &request.placements, count)?;
    if resolved.iter().any(|r| r.page_idx != resolved[0].page_idx) {
        return Err(PadesError::InvalidPlacement(
            "all placements of one signing act must be on the same page (one signature widget per act)".into(),
        ));
    }
    // invisible signature: a zero-size widget on page 1
    if resolved.is_empty() {
        if count == 0 {
            return Err(PadesError::Malformed("the document has no pages".into()));
        }
        if let std::collections::btree_map::Entry::Vacant(e) = pages.entry(0) {
            let info = doc.find_page(0)?.ok_or_else(|| PadesError::Malformed("page 1 not found".into()))?;
            e.insert(info);
        }
    }

    // ---- the image (checked before anything is built)
    let needs_image = resolved.iter().any(|r| r.kind == PlacementKind::Signature);
    let raster: Option<Raster> = if needs_image {
        Some(match &request.seal_png {
            Some(b) => decode_png(b)?,
            None => default_seal(),
        })
    } else {
        None
    };
    let now = request.signing_time.unwrap_or_else(OffsetDateTime::now_utc).to_offset(request.utc_offset);
    let date_text = {
        let fmt = time::format_description::parse_borrowed::<2>(&request.date_format)
            .map_err(|e| PadesError::InvalidPlacement(format!("bad date format '{}': {e}", request.date_format)))?;
        now.format(&fmt).map_err(|e| PadesError::InvalidPlacement(format!("bad date format: {e}")))?
    };

    // ---- existing form
    let acro_entry = catalog.get("AcroForm").cloned();
    let acro_ref = acro_entry.as_ref().and_then(|o| o.as_ref());
    let mut acro: Dict = match &acro_entry {
        Some(o) => doc.resolve_dict(o).unwrap_or_default(),
        None => Dict::new(),
    };
    let fields_entry = acro.get("Fields").cloned();
    let fields_ref = fields_entry.as_ref().and_then(|o| o.as_ref());
    let mut fields: Vec<Obj> = match &fields_entry {
        Some(o) => doc.resolve(o).ok().and_then(|f| f.as_array().cloned()).unwrap_or_default(),
        None => Vec::new(),
    };
    let mut names = HashSet::new();
    let mut seen_fields = HashSet::new();
    for f in &fields {
        // a field listed many times is read once
        if let Some(r) = f.as_ref()
            && !seen_fields.insert(r)
        {
            continue;
        }
        if let Ok(d) = doc.resolve_dict(f)
            && let Some(Obj::Str(t)) = d.get("T").and_then(|o| doc.resolve(o).ok())
        {
            names.insert(t);
        }
    }
    let field_name = match &request.field_name {
        Some(n) => {
            if n.is_empty() || n.contains('.') || names.contains(n.as_bytes()) {
                return Err(PadesError::InvalidPlacement(format!(
                    "field name '{n}' is empty, contains '.', or already exists"
                )));
            }
            n.clone()
        }
        None => (1..).map(|k| format!("Signature{k}")).find(|n| !names.contains(n.as_bytes())).unwrap_or_default(),
    };

    // everything the update builds on has been read: a stream among it whose /Length was
    // wrong is damage too
    if let Some((num, reason)) = doc.bad_length() {
        return Err(PadesError::Damaged(crate::pdf::Damage::StreamLength { num, reason }));
    }

    // ---- allocate new objects: numbers above every object of the file (checked: a file whose
    // numbers reach the limit is refused, never wrapped onto its own objects)
    let first = doc.allocate(NEW_OBJECTS_MAX)?;
    let mut next = first;
    let mut alloc = || {
        let n = next;
        next = next.saturating_add(1);
        debug_assert!(n - first < NEW_OBJECTS_MAX - 1, "NEW_OBJECTS_MAX is too small");
        n
    };
    let mut objs: Vec<(u32, u16, Vec<u8>)> = Vec::new();
    let sig_num = alloc();
    let field_num = alloc();

    let mut img_ref = None;
    if let Some(r) = &raster {
        let im = alloc();
        let mut d = Dict::new()
            .with("Type", Obj::name("XObject"))
            .with("Subtype", Obj::name("Image"))
            .with("Width", Obj::Int(r.width as i64))
            .with("Height", Obj::Int(r.height as i64))
            .with("ColorSpace", Obj::name(if r.gray { "DeviceGray" } else { "DeviceRGB" }))
            .with("BitsPerComponent", Obj::Int(8))
            .with("Filter", Obj::name("FlateDecode"));
        if let Some(a) = &r.alpha {
            let sm = alloc();
            let sd = Dict::new()
                .with("Type", Obj::name("XObject"))
                .with("Subtype", Obj::name("Image"))
                .with("Width", Obj::Int(r.width as i64))
                .with("Height", Obj::Int(r.height as i64))
                .with("ColorSpace", Obj::name("DeviceGray"))
                .with("BitsPerComponent", Obj::Int(8))
                .with("Filter", Obj::name("FlateDecode"));
            objs.push((sm, 0, ser(&Obj::Stream(sd, flate(a)))));
            d.set("SMask", Obj::Ref(sm, 0));
        }
        objs.push((im, 0, ser(&Obj::Stream(d, flate(&r.color)))));
        img_ref = Some(im);
    }
    let mut font_ref = None;
    if resolved.iter().any(|r| r.kind == PlacementKind::SigningDate) {
        let f = alloc();
        let d = Dict::new()
            .with("Type", Obj::name("Font"))
            .with("Subtype", Obj::name("Type1"))
            .with("BaseFont", Obj::name("Helvetica"))
            .with("Encoding", Obj::name("WinAnsiEncoding"));
        objs.push((f, 0, ser(&Obj::Dict(d))));
        font_ref = Some(f);
    }

    // One widget carries every placement: poppler and MuPDF only see a signature's value on a
    // field whose single widget is the field itself, so placements share one appearance whose
    // /Rect is their union (they must therefore be on one page).
    let mut page_new_annots: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    let field = if let Some(first) = resolved.first() {
        let page_idx = first.page_idx;
        let page = &pages[&page_idx];
        let ux = request.placements.iter().map(|p| p.x).fold(f64::INFINITY, f64::min);
        let uy = request.placements.iter().map(|p| p.y).fold(f64::INFINITY, f64::min);
        let ux2 = request.placements.iter().map(|p| p.x + p.width).fold(f64::NEG_INFINITY, f64::max);
        let uy2 = request.placements.iter().map(|p| p.y + p.height).fold(f64::NEG_INFINITY, f64::max);
        let union = place(page.visible_box(), page.rotation(), ux, uy, ux2 - ux, uy2 - uy)
            .ok_or_else(|| PadesError::InvalidPlacement("placements do not fit the page".into()))?;
        let mut content = Vec::new();
        let mut xobjs = Dict::new();
        let mut fonts = Dict::new();
        for (p, r) in request.placements.iter().zip(resolved.iter()) {
            let (dx, dy) = (p.x - ux, uy2 - (p.y + p.height));
            content.extend_from_slice(
                format!("q 1 0 0 1 {} {} cm\n", crate::pdf::object::fmt_real(dx), crate::pdf::object::fmt_real(dy))
                    .as_bytes(),
            );
            match r.kind {
                PlacementKind::Signature => {
                    let ras = raster.as_ref().expect("raster exists for signature placements");
                    xobjs.set("Im0", Obj::Ref(img_ref.expect("image allocated"), 0));
                    content.extend(image_content(r.geo.width, r.geo.height, ras.width, ras.height));
                }
                PlacementKind::SigningDate => {
                    fonts.set("F1", Obj::Ref(font_ref.expect("font allocated"), 0));
                    content.extend(text_content(r.geo.width, r.geo.height, &date_text));
                }
            }
            content.extend_from_slice(b"Q\n");
        }
        let mut res = Dict::new();
        if !xobjs.0.is_empty() {
            res.set("XObject", Obj::Dict(xobjs));
        }
        if !fonts.0.is_empty() {
            res.set("Font", Obj::Dict(fonts));
        }
        let ap = alloc();
        let xd = Dict::new()
            .with("Type", Obj::name("XObject"))
            .with("Subtype", Obj::name("Form"))
            .with("BBox", Obj::Array(vec![Obj::Int(0), Obj::Int(0), real(union.width), real(union.height)]))
            .with("Matrix", Obj::Array(union.matrix.iter().map(|v| real(*v)).collect()))
            .with("Resources", Obj::Dict(res))
            .with("Filter", Obj::name("FlateDecode"));
        objs.push((ap, 0, ser(&Obj::Stream(xd, flate(&content)))));
        page_new_annots.entry(page_idx).or_default().push(field_num);
        Dict::new()
            .with("Type", Obj::name("Annot"))
            .with("Subtype", Obj::name("Widget"))
            .with("F", Obj::Int(132))
            .with("Rect", Obj::Array(union.rect.iter().map(|v| real(*v)).collect()))
            .with("P", Obj::Ref(page.r.0, page.r.1))
            .with("AP", Obj::Dict(Dict::new().with("N", Obj::Ref(ap, 0))))
            .with("FT", Obj::name("Sig"))
            .with("T", Obj::str(&field_name))
            .with("V", Obj::Ref(sig_num, 0))
    } else {
        // invisible signature: a zero-size widget on page 1
        let page = &pages[&0];
        page_new_annots.entry(0).or_default().push(field_num);
        Dict::new()
            .with("Type", Obj::name("Annot"))
            .with("Subtype", Obj::name("Widget"))
            .with("F", Obj::Int(132))
            .with("Rect", Obj::Array(vec![Obj::Int(0); 4]))
            .with("P", Obj::Ref(page.r.0, page.r.1))
            .with("FT", Obj::name("Sig"))
            .with("T", Obj::str(&field_name))
            .with("V", Obj::Ref(sig_num, 0))
    };
    objs.push((field_num, 0, ser(&Obj::Dict(field))));

    // ---- modified existing objects: pages' /Annots, AcroForm /Fields, catalog
    for (idx, new) in &page_new_annots {
        let page = &pages[idx];
        let add: Vec<Obj> = new.iter().map(|n| Obj::Ref(*n, 0)).collect();
        match page.dict.get("Annots") {
            Some(Obj::Ref(an, ag)) => {
                let mut arr = doc.get(*an, *ag)?.as_array().cloned().unwrap_or_default();
                arr.extend(add);
                objs.push((*an, *ag, ser(&Obj::Array(arr))));
            }
            other => {
                let mut arr = other.and_then(|o| o.as_array().cloned()).unwrap_or_default();
                arr.extend(add);
                let mut pd = page.dict.clone();
                pd.set("Annots", Obj::Array(arr));
                objs.push((page.r.0, page.r.1, ser(&Obj::Dict(pd))));
            }
        }
    }
    fields.push(Obj::Ref(field_num, 0));
    match fields_ref {
        Some((fnum, fgen)) => objs.push((fnum, fgen, ser(&Obj::Array(fields)))),
        None => acro.set("Fields", Obj::Array(fields)),
    }
    acro.set("SigFlags", Obj::Int(3));
    match acro_ref {
        Some((an, ag)) => objs.push((an, ag, ser(&Obj::Dict(acro)))),
        None => {
            let an = alloc();
            objs.push((an, 0, ser(&Obj::Dict(acro))));
            let mut cat = catalog.clone();
            cat.set("AcroForm", Obj::Ref(an, 0));
            objs.push((root_ref.0, root_ref.1, ser(&Obj::Dict(cat))));
        }
    }
    // a page object may appear twice (e.g. two placements with direct /Annots): merge happened per
    // page index above; guard against duplicates anyway (last write wins in an xref, keep first)
    let mut seen = HashSet::new();
    objs.retain(|(n, _, _)| seen.insert(*n));

    // ---- the signature dictionary, sized from the real CMS
    let chain = signer.certificate_chain().to_vec();
    let signer_cert = chain.first().ok_or_else(|| PadesError::Key("the signer has no certificate".into()))?;
    let alg = signer.algorithm();
    let sig_len = max_signature_len(signer)?;
    let dummy_attrs = signed_attributes(&[0u8; 32], signer_cert)?;
    let base_len = assemble(&chain, alg, dummy_attrs, vec![0xFF; sig_len], None)?.len();
    // the time-stamp token: its size as remembered by the source, else measured with a probe
    // request (a real token differs from the probe only in a few bytes: serial, time, nonce)
    let token_len = match tsa {
        Some(t) => match t.token_size_hint() {
            Some(n) => n,
            None => t.timestamp(&[0u8; 32]).await?.len(),
        },
        None => 0,
    };
    // unsigned attribute wrapping (SET, Attribute, OID, SET) costs at most 32 bytes
    let mut reserve = base_len + if tsa.is_some() { token_len + 32 + 64 } else { 16 };
    let m_date = pdf_date(now);
    for _attempt in 0..3 {
        let mut sd = Dict::new()
            .with("Type", Obj::name("Sig"))
            .with("Filter", Obj::name("Adobe.PPKLite"))
            .with("SubFilter", Obj::name("ETSI.CAdES.detached"))
            .with("M", Obj::str(&m_date));
        if let Some(r) = &request.reason {
            sd.set("Reason", Obj::Str(r.as_bytes().to_vec()));
        }
        if let Some(l) = &request.location {
            sd.set("Location", Obj::Str(l.as_bytes().to_vec()));
        }
        let mut body = ser(&Obj::Dict(sd));
        body.truncate(body.len() - 2); // reopen the dictionary
        const BR_PLACEHOLDER: &str = "[0 0000000000 0000000000 0000000000]";
        body.extend_from_slice(b"/ByteRange ");
        body.extend_from_slice(BR_PLACEHOLDER.as_bytes());
        body.extend_from_slice(b"/Contents <");
        body.extend(std::iter::repeat_n(b'0', reserve * 2));
        body.extend_from_slice(b">>>");
        let mut all = vec![(sig_num, 0u16, body)];
        all.extend(objs.iter().cloned());
        let new_size = next;
        let update = write_update(&doc, &all, new_size);
        // locate placeholders (the signature dictionary is the first object of the update)
        let br_pos = crate::pdf::object::find(&update, BR_PLACEHOLDER.as_bytes(), 0)
            .ok_or_else(|| PadesError::Cms("internal: no ByteRange".into()))?;
        let c_pos = crate::pdf::object::find(&update, b"/Contents <", br_pos)
            .ok_or_else(|| PadesError::Cms("internal: no Contents".into()))?
            + 10;
        let total = input.len() + update.len();
        let a = input.len() + c_pos; // offset of '<'
        let b = a + reserve * 2 + 2; // after '>'
        let br = format!("[0 {} {} {}]", a, b, total - b);
        if br.len() > BR_PLACEHOLDER.len() {
            return Err(PadesError::Cms("file too large for ByteRange".into()));
        }
        let mut out = update;
        out[br_pos..br_pos + BR_PLACEHOLDER.len()]
            .copy_from_slice(format!("{br:<width$}", width = BR_PLACEHOLDER.len()).as_bytes());
        // hash once: everything but the /Contents hex string
        let mut h = input_hash.clone();
        h.update(&out[..a - input.len()]);
        h.update(&out[b - input.len()..]);
        let digest = h.finalize();
        let attrs = signed_attributes(&digest, signer_cert)?;
        let attrs_der = der::Encode::to_der(&attrs).map_err(|e| PadesError::Cms(e.to_string()))?;
        let signature = signer.sign(&attrs_der).await?;
        let token = match tsa {
            Some(t) => {
                let imprint: [u8; 32] = Sha256::digest(&signature).into();
                Some(t.timestamp(&imprint).await?)
            }
            None => None,
        };
        let cms = assemble(&chain, alg, attrs, signature, token.as_deref())?;
        if cms.len() > reserve {
            // never overflow: measure again with the real size and redo the act
            reserve = cms.len() + 64;
            continue;
        }
        let hex = hex::encode_upper(&cms);
        let a_rel = a - input.len();
        out[a_rel + 1..a_rel + 1 + hex.len()].copy_from_slice(hex.as_bytes());
        return Ok(out);
    }
    Err(PadesError::Cms("the CMS did not fit its measured placeholder".into()))
}
