//! One signing act, in stages: the document loaded and hashed -> the layout (every widget of the
//! act, on as many pages as it needs) -> the objects of the update (one signature field whose
//! widgets draw every stamp, date and cross-page strip) -> the update with its placeholder -> the
//! CMS embedded.

use crate::PadesError;
use crate::appearance::{Geometry, image_content, place, text_content};
use crate::cms_sig::{Signer, assemble, max_signature_len, signed_attributes};
use crate::cross_page::{CrossPageProblem, CrossPageSeal, page_range, strip_content, strip_geometry};
use crate::image::{Raster, decode_png, default_seal};
use crate::pdf::object::{Dict, Obj, fmt_real, write_obj};
use crate::pdf::reader::{Document, PageInfo};
use crate::pdf::writer::write_update;
use crate::tsa::TimestampSource;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet, btree_map::Entry};
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
    /// the party's cross-page seal (骑缝章), drawn as strips at the right edge of its pages
    pub cross_page: Option<CrossPageSeal>,
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
            cross_page: None,
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
    check_layout(pdf, placements, None)
}

/// [`check_placements`] with a cross-page seal too: its range, strip width and every strip's
/// place on its page.
pub fn check_layout(
    pdf: &[u8],
    placements: &[Placement],
    cross_page: Option<&CrossPageSeal>,
) -> Result<usize, PadesError> {
    let doc = Document::load(pdf)?;
    doc.check_sound()?;
    let count = doc.page_count()?;
    Layout::resolve(&doc, placements, cross_page, count)?;
    Ok(count)
}

/// Why the layouts of [`check_layouts`] do not fit their document.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct LayoutError {
    /// The cross-page seal at fault (its index in the slice given), or None when the document or
    /// a placement is (a placement's index is in the error itself).
    pub cross_page: Option<usize>,
    #[source]
    pub error: PadesError,
}

/// [`check_layout`] for the layouts of several signing acts on one document, loaded and checked
/// once: every placement, then each cross-page seal on its own (each party has its own act, so
/// seals of different parties may share pages). Returns the document's page count.
pub fn check_layouts(
    pdf: &[u8],
    placements: &[Placement],
    cross_pages: &[CrossPageSeal],
) -> Result<usize, LayoutError> {
    let whole = |error| LayoutError { cross_page: None, error };
    let doc = Document::load(pdf).map_err(whole)?;
    doc.check_sound().map_err(whole)?;
    let count = doc.page_count().map_err(whole)?;
    Layout::resolve(&doc, placements, None, count).map_err(whole)?;
    for (k, seal) in cross_pages.iter().enumerate() {
        Layout::resolve(&doc, &[], Some(seal), count).map_err(|error| LayoutError { cross_page: Some(k), error })?;
    }
    Ok(count)
}

/// One widget of the act: what it draws, where.
struct Widget {
    page_idx: usize,
    geo: Geometry,
    content: Vec<u8>,
    /// whether the content draws the seal image (/Im0) or writes with the font (/F1)
    uses_image: bool,
    uses_font: bool,
    /// its annotation name (/NM): `<field>/stamp` or `<field>/strip/<i>-of-<n>`, which the
    /// verifier reads to tell stamps from strips
    role: WidgetRole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WidgetRole {
    Stamp,
    Strip { index: u32, of: u32 },
}

impl WidgetRole {
    fn annotation_name(self, field: &str) -> String {
        match self {
            WidgetRole::Stamp => format!("{field}/stamp"),
            WidgetRole::Strip { index, of } => format!("{field}/strip/{}-of-{of}", index + 1),
        }
    }

    /// The name of the unsigned field that carries this widget when it is not the signature's.
    fn field_name(self, field: &str, page_idx: usize) -> String {
        match self {
            WidgetRole::Stamp => format!("{field}-stamp-p{}", page_idx + 1),
            WidgetRole::Strip { index, of } => format!("{field}-strip-{}-of-{of}", index + 1),
        }
    }
}

/// Every placement and strip of an act, resolved against its page (user space, rotation).
struct Layout {
    pages: BTreeMap<usize, PageInfo>,
    /// the placements of each page, in request order, with their geometry
    stamps: BTreeMap<usize, Vec<(Placement, Geometry)>>,
    /// the cross-page seal and, per strip, its page and geometry
    strips: Option<(CrossPageSeal, Vec<(usize, Geometry)>)>,
}

impl Layout {
    fn page<'a>(
        doc: &Document,
        pages: &'a mut BTreeMap<usize, PageInfo>,
        idx: usize,
        count: usize,
    ) -> Result<&'a PageInfo, PadesError> {
        match pages.entry(idx) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let page = u32::try_from(idx + 1).unwrap_or(u32::MAX);
                let info = doc.find_page(idx)?.ok_or(PadesError::PageOutOfRange { page, count })?;
                Ok(e.insert(info))
            }
        }
    }

    fn resolve(
        doc: &Document,
        placements: &[Placement],
        cross_page: Option<&CrossPageSeal>,
        count: usize,
    ) -> Result<Layout, PadesError> {
        let mut pages = BTreeMap::new();
        let mut stamps: BTreeMap<usize, Vec<(Placement, Geometry)>> = BTreeMap::new();
        for (i, p) in placements.iter().enumerate() {
            if p.page == 0 || p.page as usize > count {
                return Err(PadesError::PageOutOfRange { page: p.page, count });
            }
            let idx = p.page as usize - 1;
            let info = Self::page(doc, &mut pages, idx, count)?;
            let (vb, rot) = (info.visible_box(), info.rotation());
            let geo = place(vb, rot, p.x, p.y, p.width, p.height).ok_or_else(|| {
                let (w, h) = displayed_size(vb, rot);
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
            stamps.entry(idx).or_default().push((p.clone(), geo));
        }
        let strips = match cross_page {
            None => None,
            Some(seal) => {
                let (first, last) = page_range(seal, count).map_err(PadesError::CrossPage)?;
                let n = last - first + 1;
                let mut strips = Vec::with_capacity(n as usize);
                for page in first..=last {
                    let idx = page as usize - 1;
                    let info = Self::page(doc, &mut pages, idx, count)?;
                    let geo = strip_geometry(seal, n, info.visible_box(), info.rotation()).map_err(|(w, h)| {
                        PadesError::CrossPage(CrossPageProblem::OffPage {
                            page,
                            y: seal.y,
                            size: seal.size,
                            page_width: w,
                            page_height: h,
                        })
                    })?;
                    strips.push((idx, geo));
                }
                Some((seal.clone(), strips))
            }
        };
        Ok(Layout { pages, stamps, strips })
    }

    fn is_empty(&self) -> bool {
        self.stamps.is_empty() && self.strips.is_none()
    }

    fn needs_image(&self) -> bool {
        self.strips.is_some() || self.stamps.values().flatten().any(|(p, _)| p.kind == PlacementKind::Signature)
    }

    fn needs_font(&self) -> bool {
        self.stamps.values().flatten().any(|(p, _)| p.kind == PlacementKind::SigningDate)
    }

    /// The widgets: one per page with placements (their union, so a seal and its date form one
    /// stamp), and one per cross-page strip.
    fn widgets(&self, raster: Option<&Raster>, date_text: &str) -> Result<Vec<Widget>, PadesError> {
        let mut out = Vec::new();
        for (&page_idx, on_page) in &self.stamps {
            let page = &self.pages[&page_idx];
            let ux = on_page.iter().map(|(p, _)| p.x).fold(f64::INFINITY, f64::min);
            let uy = on_page.iter().map(|(p, _)| p.y).fold(f64::INFINITY, f64::min);
            let ux2 = on_page.iter().map(|(p, _)| p.x + p.width).fold(f64::NEG_INFINITY, f64::max);
            let uy2 = on_page.iter().map(|(p, _)| p.y + p.height).fold(f64::NEG_INFINITY, f64::max);
            let union = place(page.visible_box(), page.rotation(), ux, uy, ux2 - ux, uy2 - uy)
                .ok_or_else(|| PadesError::InvalidPlacement("placements do not fit the page".into()))?;
            let mut content = Vec::new();
            for (p, geo) in on_page {
                let (dx, dy) = (p.x - ux, uy2 - (p.y + p.height));
                content.extend_from_slice(format!("q 1 0 0 1 {} {} cm\n", fmt_real(dx), fmt_real(dy)).as_bytes());
                match p.kind {
                    PlacementKind::Signature => {
                        let ras = raster.ok_or_else(|| PadesError::Image("internal: no seal image".into()))?;
                        content.extend(image_content(geo.width, geo.height, ras.width, ras.height));
                    }
                    PlacementKind::SigningDate => content.extend(text_content(geo.width, geo.height, date_text)),
                }
                content.extend_from_slice(b"Q\n");
            }
            let uses = |kind| on_page.iter().any(|(p, _)| p.kind == kind);
            out.push(Widget {
                page_idx,
                geo: union,
                content,
                uses_image: uses(PlacementKind::Signature),
                uses_font: uses(PlacementKind::SigningDate),
                role: WidgetRole::Stamp,
            });
        }
        if let Some((seal, strips)) = &self.strips {
            let ras = raster.ok_or_else(|| PadesError::Image("internal: no seal image".into()))?;
            let of = u32::try_from(strips.len()).unwrap_or(u32::MAX);
            for (index, (page_idx, geo)) in (0..).zip(strips) {
                let content = strip_content(seal, index, of, ras.width, ras.height);
                out.push(Widget {
                    page_idx: *page_idx,
                    geo: geo.clone(),
                    content,
                    uses_image: true,
                    uses_font: false,
                    role: WidgetRole::Strip { index, of },
                });
            }
        }
        Ok(out)
    }
}

fn displayed_size(vb: [f64; 4], rot: i64) -> (f64, f64) {
    if rot == 90 || rot == 270 { (vb[3] - vb[1], vb[2] - vb[0]) } else { (vb[2] - vb[0], vb[3] - vb[1]) }
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

/// The form as it is: the AcroForm, its /Fields and the names taken.
struct ExistingForm {
    acro: Dict,
    acro_ref: Option<(u32, u16)>,
    fields: Vec<Obj>,
    fields_ref: Option<(u32, u16)>,
    names: HashSet<Vec<u8>>,
}

impl ExistingForm {
    fn read(doc: &Document, catalog: &Dict) -> ExistingForm {
        let acro_entry = catalog.get("AcroForm").cloned();
        let acro_ref = acro_entry.as_ref().and_then(|o| o.as_ref());
        let acro: Dict = match &acro_entry {
            Some(o) => doc.resolve_dict(o).unwrap_or_default(),
            None => Dict::new(),
        };
        let fields_entry = acro.get("Fields").cloned();
        let fields_ref = fields_entry.as_ref().and_then(|o| o.as_ref());
        let fields: Vec<Obj> = match &fields_entry {
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
        ExistingForm { acro, acro_ref, fields, fields_ref, names }
    }

    fn field_name(&self, asked: Option<&str>) -> Result<String, PadesError> {
        match asked {
            Some(n) => {
                if n.is_empty() || n.contains('.') || self.names.contains(n.as_bytes()) {
                    return Err(PadesError::InvalidPlacement(format!(
                        "field name '{n}' is empty, contains '.', or already exists"
                    )));
                }
                Ok(n.to_owned())
            }
            None => Ok(self.free_name("Signature")),
        }
    }

    /// `<prefix><N>` with the first free N.
    fn free_name(&self, prefix: &str) -> String {
        (1..).map(|k| format!("{prefix}{k}")).find(|n| !self.names.contains(n.as_bytes())).unwrap_or_default()
    }
}

/// Object numbers of the update, handed out from a block allocated above the file's objects.
struct Numbers {
    next: u32,
    end: u32,
}

impl Numbers {
    fn take(&mut self) -> Result<u32, PadesError> {
        if self.next >= self.end {
            return Err(PadesError::Limit("internal: the update needs more object numbers than allocated".into()));
        }
        let n = self.next;
        self.next += 1;
        Ok(n)
    }
}

/// The objects of the update other than the signature dictionary (numbered `sig_num`).
struct UpdateObjects {
    sig_num: u32,
    objs: Vec<(u32, u16, Vec<u8>)>,
    /// the first number the update leaves free (the writer may take it for an xref stream)
    next: u32,
}

fn image_objects(r: &Raster, numbers: &mut Numbers, objs: &mut Vec<(u32, u16, Vec<u8>)>) -> Result<u32, PadesError> {
    let im = numbers.take()?;
    let mut d = Dict::new()
        .with("Type", Obj::name("XObject"))
        .with("Subtype", Obj::name("Image"))
        .with("Width", Obj::Int(i64::from(r.width)))
        .with("Height", Obj::Int(i64::from(r.height)))
        .with("ColorSpace", Obj::name(if r.gray { "DeviceGray" } else { "DeviceRGB" }))
        .with("BitsPerComponent", Obj::Int(8))
        .with("Filter", Obj::name("FlateDecode"));
    if let Some(a) = &r.alpha {
        let sm = numbers.take()?;
        let sd = Dict::new()
            .with("Type", Obj::name("XObject"))
            .with("Subtype", Obj::name("Image"))
            .with("Width", Obj::Int(i64::from(r.width)))
            .with("Height", Obj::Int(i64::from(r.height)))
            .with("ColorSpace", Obj::name("DeviceGray"))
            .with("BitsPerComponent", Obj::Int(8))
            .with("Filter", Obj::name("FlateDecode"));
        objs.push((sm, 0, ser(&Obj::Stream(sd, flate(a)))));
        d.set("SMask", Obj::Ref(sm, 0));
    }
    objs.push((im, 0, ser(&Obj::Stream(d, flate(&r.color)))));
    Ok(im)
}

fn font_object(numbers: &mut Numbers, objs: &mut Vec<(u32, u16, Vec<u8>)>) -> Result<u32, PadesError> {
    let f = numbers.take()?;
    let d = Dict::new()
        .with("Type", Obj::name("Font"))
        .with("Subtype", Obj::name("Type1"))
        .with("BaseFont", Obj::name("Helvetica"))
        .with("Encoding", Obj::name("WinAnsiEncoding"));
    objs.push((f, 0, ser(&Obj::Dict(d))));
    Ok(f)
}

/// The appearance stream of a widget (the image as /Im0, the font as /F1).
fn appearance(w: &Widget, img: Option<u32>, font: Option<u32>) -> Obj {
    let mut res = Dict::new();
    if let Some(im) = img.filter(|_| w.uses_image) {
        res.set("XObject", Obj::Dict(Dict::new().with("Im0", Obj::Ref(im, 0))));
    }
    if let Some(f) = font.filter(|_| w.uses_font) {
        res.set("Font", Obj::Dict(Dict::new().with("F1", Obj::Ref(f, 0))));
    }
    let xd = Dict::new()
        .with("Type", Obj::name("XObject"))
        .with("Subtype", Obj::name("Form"))
        .with("BBox", Obj::Array(vec![Obj::Int(0), Obj::Int(0), real(w.geo.width), real(w.geo.height)]))
        .with("Matrix", Obj::Array(w.geo.matrix.iter().map(|v| real(*v)).collect()))
        .with("Resources", Obj::Dict(res))
        .with("Filter", Obj::name("FlateDecode"));
    Obj::Stream(xd, flate(&w.content))
}

/// The widget annotation keys of a widget on `page` (print, locked: 4 + 128).
fn widget_dict(rect: [f64; 4], page: (u32, u16), ap: Option<u32>) -> Dict {
    let mut d = Dict::new()
        .with("Type", Obj::name("Annot"))
        .with("Subtype", Obj::name("Widget"))
        .with("F", Obj::Int(132))
        .with("Rect", Obj::Array(rect.iter().map(|v| real(*v)).collect()))
        .with("P", Obj::Ref(page.0, page.1));
    if let Some(ap) = ap {
        d.set("AP", Obj::Dict(Dict::new().with("N", Obj::Ref(ap, 0))));
    }
    d
}

/// Builds every object of the update but the signature dictionary: the image, font and
/// appearances, the signature field, the stamp fields, and the changed pages, form and catalog.
///
/// The signature field is its own single widget (the first stamp, else the first strip): poppler
/// (pdfsig 22.12) and MuPDF (1.21) read a signature only from such a field; given a field whose
/// widgets are its /Kids, they list every widget as an unsigned field and report digest errors.
/// Every other stamp and strip is a read-only signature field of its own, never signed, named
/// `<field>-stamp-p<page>` / `<field>-strip-<i>-of-<n>` with the /NM `<field>/stamp` /
/// `<field>/strip/<i>-of-<n>`: pyHanko accepts new signature fields in a later revision, where
/// annotations of any other kind would be illegal changes to the earlier signatures. The
/// verifier attributes such a field to a signature only when the signature's revision wrote it.
fn build_objects(
    doc: &Document,
    catalog: &Dict,
    layout: &Layout,
    form: ExistingForm,
    field_name: &str,
    raster: Option<&Raster>,
    date_text: &str,
) -> Result<UpdateObjects, PadesError> {
    let root_ref = doc.root_ref().ok_or_else(|| PadesError::Malformed("/Root is not a reference".into()))?;
    let widgets = layout.widgets(raster, date_text)?;
    // signature, image, mask, font, AcroForm, then a field and an appearance per widget, and one
    // for the writer's cross-reference stream
    let count = u32::try_from(widgets.len()).ok().and_then(|w| w.checked_mul(2)).and_then(|w| w.checked_add(8));
    let count = count.ok_or_else(|| PadesError::Limit("too many widgets for one update".into()))?;
    let first = doc.allocate(count)?;
    let mut numbers = Numbers { next: first, end: first + count - 1 };
    let mut objs: Vec<(u32, u16, Vec<u8>)> = Vec::new();
    let sig_num = numbers.take()?;
    let field_num = numbers.take()?;
    let img = match raster {
        Some(r) if layout.needs_image() => Some(image_objects(r, &mut numbers, &mut objs)?),
        _ => None,
    };
    let font = if layout.needs_font() { Some(font_object(&mut numbers, &mut objs)?) } else { None };

    let mut page_new_annots: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    let mut new_fields = vec![field_num];
    let signed =
        |d: Dict| d.with("FT", Obj::name("Sig")).with("T", Obj::str(field_name)).with("V", Obj::Ref(sig_num, 0));
    let field = match widgets.split_first() {
        None => {
            // invisible signature: a zero-size widget on page 1
            let page = layout.pages.get(&0).ok_or_else(|| PadesError::Malformed("page 1 not found".into()))?;
            page_new_annots.entry(0).or_default().push(field_num);
            signed(widget_dict([0.0; 4], page.r, None))
        }
        Some((main, rest)) => {
            let ap = numbers.take()?;
            objs.push((ap, 0, ser(&appearance(main, img, font))));
            page_new_annots.entry(main.page_idx).or_default().push(field_num);
            for w in rest {
                let (ap, num) = (numbers.take()?, numbers.take()?);
                objs.push((ap, 0, ser(&appearance(w, img, font))));
                let d = widget_dict(w.geo.rect, layout.pages[&w.page_idx].r, Some(ap))
                    .with("NM", Obj::str(&w.role.annotation_name(field_name)))
                    .with("FT", Obj::name("Sig"))
                    .with("T", Obj::str(&w.role.field_name(field_name, w.page_idx)))
                    .with("Ff", Obj::Int(1));
                objs.push((num, 0, ser(&Obj::Dict(d))));
                page_new_annots.entry(w.page_idx).or_default().push(num);
                new_fields.push(num);
            }
            let d = signed(widget_dict(main.geo.rect, layout.pages[&main.page_idx].r, Some(ap)));
            if rest.is_empty() { d } else { d.with("NM", Obj::str(&main.role.annotation_name(field_name))) }
        }
    };
    objs.push((field_num, 0, ser(&Obj::Dict(field))));

    // ---- modified existing objects: pages' /Annots, AcroForm /Fields, catalog
    for (idx, new) in &page_new_annots {
        let page = &layout.pages[idx];
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
    let ExistingForm { mut acro, acro_ref, mut fields, fields_ref, .. } = form;
    fields.extend(new_fields.iter().map(|n| Obj::Ref(*n, 0)));
    match fields_ref {
        Some((fnum, fgen)) => objs.push((fnum, fgen, ser(&Obj::Array(fields)))),
        None => acro.set("Fields", Obj::Array(fields)),
    }
    acro.set("SigFlags", Obj::Int(3));
    match acro_ref {
        Some((an, ag)) => objs.push((an, ag, ser(&Obj::Dict(acro)))),
        None => {
            let an = numbers.take()?;
            objs.push((an, 0, ser(&Obj::Dict(acro))));
            let mut cat = catalog.clone();
            cat.set("AcroForm", Obj::Ref(an, 0));
            objs.push((root_ref.0, root_ref.1, ser(&Obj::Dict(cat))));
        }
    }
    // two pages sharing one /Annots array (or a page listed twice): the first write wins
    let mut seen = HashSet::new();
    objs.retain(|(n, _, _)| seen.insert(*n));
    Ok(UpdateObjects { sig_num, objs, next: numbers.next })
}

/// Like [`sign_pdf`] but returns only the bytes to append to `input` (the signed PDF is
/// `input ++ update`): no copy of a large input is made, so callers can stream it out.
pub async fn sign_pdf_update(
    input: &[u8],
    request: SignRequest,
    signer: &dyn Signer,
    tsa: Option<&dyn TimestampSource>,
) -> Result<Vec<u8>, PadesError> {
    // ---- the document, hashed once on a second thread while its cross-reference data is read:
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
    let visible = !request.placements.is_empty() || request.cross_page.is_some();
    match docmdp_level(&doc, &catalog) {
        Some(1) => return Err(PadesError::NotAllowed("it is certified with no changes permitted (DocMDP P=1)".into())),
        // pyHanko (by default) and the PAdES rules it follows reject new *visible* signature
        // fields after a certification signature; an invisible one keeps it valid.
        Some(_) if visible => {
            return Err(PadesError::NotAllowed(
                "it is certified (DocMDP): only an invisible signature (no placements) keeps the certification valid"
                    .into(),
            ));
        }
        _ => {}
    }

    // ---- the layout: every placement and strip on its page
    let count = doc.page_count()?;
    let mut layout = Layout::resolve(&doc, &request.placements, request.cross_page.as_ref(), count)?;
    if layout.is_empty() {
        if count == 0 {
            return Err(PadesError::Malformed("the document has no pages".into()));
        }
        Layout::page(&doc, &mut layout.pages, 0, count)?;
    }

    // ---- the image and the date (checked before anything is built)
    let raster: Option<Raster> = if layout.needs_image() {
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

    // ---- the form, the field's name
    let form = ExistingForm::read(&doc, &catalog);
    let field_name = form.field_name(request.field_name.as_deref())?;
    // everything the update builds on has been read: a stream among it whose /Length was
    // wrong is damage too
    if let Some((num, reason)) = doc.bad_length() {
        return Err(PadesError::Damaged(crate::pdf::Damage::StreamLength { num, reason }));
    }

    // ---- the objects (numbers above every object of the file, checked: a file whose numbers
    // reach the limit is refused, never wrapped onto its own objects)
    let update = build_objects(&doc, &catalog, &layout, form, &field_name, raster.as_ref(), &date_text)?;
    let to_sign = ToSign {
        doc: &doc,
        input,
        input_hash,
        update,
        m_date: pdf_date(now),
        reason: request.reason,
        location: request.location,
    };
    to_sign.sign(signer, tsa).await
}

/// The update built, waiting for its signature dictionary and CMS.
struct ToSign<'a> {
    doc: &'a Document<'a>,
    input: &'a [u8],
    input_hash: Sha256,
    update: UpdateObjects,
    m_date: String,
    reason: Option<String>,
    location: Option<String>,
}

impl ToSign<'_> {
    /// The update with its signature dictionary (`sd`, closed by the byte range and a /Contents
    /// placeholder of `reserve` bytes), the byte range filled in; returns the update, the offset
    /// of /Contents' `<` in it and the SHA-256 of everything the byte range covers.
    fn placeholder(&self, sd: Dict, reserve: usize) -> Result<(Vec<u8>, usize, [u8; 32]), PadesError> {
        let input = self.input;
        let mut body = ser(&Obj::Dict(sd));
        body.truncate(body.len() - 2); // reopen the dictionary
        const BR_PLACEHOLDER: &str = "[0 0000000000 0000000000 0000000000]";
        body.extend_from_slice(b"/ByteRange ");
        body.extend_from_slice(BR_PLACEHOLDER.as_bytes());
        body.extend_from_slice(b"/Contents <");
        body.extend(std::iter::repeat_n(b'0', reserve * 2));
        body.extend_from_slice(b">>>");
        let mut all = vec![(self.update.sig_num, 0u16, body)];
        all.extend(self.update.objs.iter().cloned());
        let update = write_update(self.doc, &all, self.update.next);
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
        let mut h = self.input_hash.clone();
        h.update(&out[..a - input.len()]);
        h.update(&out[b - input.len()..]);
        Ok((out, c_pos, h.finalize().into()))
    }

    /// The signature dictionary, sized from the real CMS: the update is written with a
    /// placeholder, hashed, signed and time-stamped; if the CMS did not fit (it never should),
    /// again with the measured size.
    async fn sign(self, signer: &dyn Signer, tsa: Option<&dyn TimestampSource>) -> Result<Vec<u8>, PadesError> {
        let chain = signer.certificate_chain().to_vec();
        let signer_cert = chain.first().ok_or_else(|| PadesError::Key("the signer has no certificate".into()))?;
        let alg = signer.algorithm();
        let sig_len = max_signature_len(signer)?;
        let dummy_attrs = signed_attributes(&[0u8; 32], signer_cert)?;
        let base_len = assemble(&chain, alg, dummy_attrs, vec![0xFF; sig_len], None)?.len();
        // the time-stamp token: its size as remembered by the source, else measured with a probe
        // request (a real token differs from the probe only in a few bytes: serial, time, nonce)
        let token_len = match tsa {
            Some(t) => token_len(t).await?,
            None => 0,
        };
        // unsigned attribute wrapping (SET, Attribute, OID, SET) costs at most 32 bytes
        let mut reserve = base_len + if tsa.is_some() { token_len + 32 + 64 } else { 16 };
        for _attempt in 0..3 {
            let mut sd = Dict::new()
                .with("Type", Obj::name("Sig"))
                .with("Filter", Obj::name("Adobe.PPKLite"))
                .with("SubFilter", Obj::name("ETSI.CAdES.detached"))
                .with("M", Obj::str(&self.m_date));
            if let Some(r) = &self.reason {
                sd.set("Reason", Obj::Str(r.as_bytes().to_vec()));
            }
            if let Some(l) = &self.location {
                sd.set("Location", Obj::Str(l.as_bytes().to_vec()));
            }
            let (mut out, c_pos, digest) = self.placeholder(sd, reserve)?;
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
            out[c_pos + 1..c_pos + 1 + hex.len()].copy_from_slice(hex.as_bytes());
            return Ok(out);
        }
        Err(PadesError::Cms("the CMS did not fit its measured placeholder".into()))
    }

    /// A document time stamp: /Contents is the RFC 3161 token over the byte range's SHA-256.
    async fn timestamp(self, tsa: &dyn TimestampSource) -> Result<Vec<u8>, PadesError> {
        let mut reserve = token_len(tsa).await? + 64;
        for _attempt in 0..3 {
            let sd = Dict::new()
                .with("Type", Obj::name("DocTimeStamp"))
                .with("Filter", Obj::name("Adobe.PPKLite"))
                .with("SubFilter", Obj::name("ETSI.RFC3161"));
            let (mut out, c_pos, digest) = self.placeholder(sd, reserve)?;
            let token = tsa.timestamp(&digest).await?;
            if token.len() > reserve {
                reserve = token.len() + 64;
                continue;
            }
            let hex = hex::encode_upper(&token);
            out[c_pos + 1..c_pos + 1 + hex.len()].copy_from_slice(hex.as_bytes());
            return Ok(out);
        }
        Err(PadesError::Tsa("the time-stamp token did not fit its measured placeholder".into()))
    }
}

/// The size of a token from `tsa`: as remembered by the source, else measured with a probe.
async fn token_len(tsa: &dyn TimestampSource) -> Result<usize, PadesError> {
    Ok(match tsa.token_size_hint() {
        Some(n) => n,
        None => tsa.timestamp(&[0u8; 32]).await?.len(),
    })
}

/// Appends a document time stamp (PAdES B-LTA; ISO 32000-2 /DocTimeStamp, /SubFilter
/// /ETSI.RFC3161) to `input`: an invisible signature field on page 1 whose /Contents is an RFC
/// 3161 token over the SHA-256 of everything but itself. Returns the bytes to append. Allowed on
/// certified documents at every DocMDP level (PAdES permits DSS and document time stamps).
pub async fn timestamp_pdf_update(input: &[u8], tsa: &dyn TimestampSource) -> Result<Vec<u8>, PadesError> {
    let (doc, input_hash) = std::thread::scope(|s| {
        let hashing = s.spawn(|| Sha256::new().chain_update(input));
        let doc = Document::load(input);
        (doc, hashing.join())
    });
    let doc = doc?;
    doc.check_sound()?;
    let input_hash = input_hash.map_err(|_| PadesError::Cms("internal: the hashing thread failed".into()))?;
    let catalog = doc.catalog()?;
    let count = doc.page_count()?;
    if count == 0 {
        return Err(PadesError::Malformed("the document has no pages".into()));
    }
    let mut layout = Layout::resolve(&doc, &[], None, count)?;
    Layout::page(&doc, &mut layout.pages, 0, count)?;
    let form = ExistingForm::read(&doc, &catalog);
    let field_name = form.free_name("DocumentTimestamp");
    if let Some((num, reason)) = doc.bad_length() {
        return Err(PadesError::Damaged(crate::pdf::Damage::StreamLength { num, reason }));
    }
    let update = build_objects(&doc, &catalog, &layout, form, &field_name, None, "")?;
    let to_sign = ToSign { doc: &doc, input, input_hash, update, m_date: String::new(), reason: None, location: None };
    to_sign.timestamp(tsa).await
}

/// [`timestamp_pdf_update`] returning the whole document (input ++ update).
pub async fn timestamp_pdf(input: &[u8], tsa: &dyn TimestampSource) -> Result<Vec<u8>, PadesError> {
    let update = timestamp_pdf_update(input, tsa).await?;
    let mut out = Vec::with_capacity(input.len() + update.len());
    out.extend_from_slice(input);
    out.extend_from_slice(&update);
    Ok(out)
}
