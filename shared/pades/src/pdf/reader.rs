//! Lazy PDF reader: reads the trailer and the cross-reference chain, then loads objects only on
//! demand (with object streams decoded and cached as needed). Damaged cross-reference data is
//! recovered by scanning the file for "N G obj" headers, as other readers do.

use super::damage::Damage;
use super::object::*;
use crate::PadesError;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum XrefEntry {
    Free,
    Offset(usize, u16),
    InStream(u32, u32),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum XrefStyle {
    Table,
    Stream,
}

/// Object numbers are small dense integers: a multiplicative hash is plenty and several times
/// faster than SipHash on files with hundreds of thousands of objects.
#[derive(Default, Clone, Copy)]
pub struct NumHasher(u64);

impl std::hash::Hasher for NumHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// One cross-reference section: entries, trailer (or xref stream dictionary), style.
type Section = (Vec<(u32, XrefEntry)>, Dict, XrefStyle);

pub type XrefMap = HashMap<u32, XrefEntry, std::hash::BuildHasherDefault<NumHasher>>;

struct ObjStm {
    data: Vec<u8>,
    first: usize,
    offsets: Vec<(u32, usize)>,
}

/// The largest object number an update may allocate: 2^23 - 1, the limit of Acrobat and the
/// implementation limit in ISO 32000-1 Annex C. A file whose objects reach it cannot be updated.
pub const MAX_OBJECT_NUMBER: u32 = 8_388_607;
/// How many references may be in resolution at once on one thread (a stream's /Length inside an
/// object stream whose /Length ...); beyond it a resolution ends as unknown.
const MAX_RESOLVE_DEPTH: usize = 16;
/// More pages than any real document has; a larger count is a hostile page tree.
const MAX_PAGES: usize = 10_000_000;

/// What one document may cost: a hostile file is refused with [`PadesError::Limit`] instead of
/// taking the process's memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// Stream bytes for the whole document, all streams together: bytes inflated (xref
    /// streams, object streams) and raw stream bytes read. Inflating stops as soon as it is
    /// spent, and once it is spent no further object is parsed.
    pub max_decoded_bytes: usize,
    /// Bytes of parsed objects kept for reuse, so a shared reference is parsed once.
    pub max_cache_bytes: usize,
    /// Nodes one walk of the object graph (page tree, form fields) may visit.
    pub max_walk_nodes: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { max_decoded_bytes: 64 << 20, max_cache_bytes: 32 << 20, max_walk_nodes: 1_000_000 }
    }
}

/// Parsed objects kept for reuse, within [`LoadOptions::max_cache_bytes`].
#[derive(Default)]
struct ObjCache {
    objs: HashMap<u32, Obj, std::hash::BuildHasherDefault<NumHasher>>,
    bytes: usize,
}

/// One finding of the load: what was wrong with the file and had to be worked around.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LoadFindings {
    /// recovery found no trailer dictionary (the catalog was found by scanning)
    no_trailer: bool,
    /// no `startxref` anywhere in the file (only looked for when recovering)
    no_startxref: bool,
    /// recovery found objects after the last trailer: the newest revision's cross-reference
    /// data and trailer are gone (e.g. a signed file cut short)
    objects_after_trailer: bool,
}

pub struct Document<'a> {
    pub data: &'a [u8],
    pub xref: XrefMap,
    pub trailer: Dict,
    /// offset of the newest cross-reference section (the value after the last `startxref`)
    pub startxref: usize,
    pub style: XrefStyle,
    /// true when the cross-reference data was unusable and objects were found by scanning
    pub recovered: bool,
    /// next free object number: above every object number present in the file
    pub size: u32,
    opts: LoadOptions,
    findings: LoadFindings,
    objstms: Mutex<HashMap<u32, Arc<ObjStm>>>,
    cache: Mutex<ObjCache>,
    /// (thread, object) pairs being resolved right now: a reference back into this set is a cycle
    resolving: Mutex<Vec<(std::thread::ThreadId, u32)>>,
    decoded: AtomicUsize,
    /// leaf counts of page-tree nodes already counted
    leaf_counts: Mutex<HashMap<u32, usize, std::hash::BuildHasherDefault<NumHasher>>>,
    /// positions of every `endstream`, for streams whose /Length is wrong
    endstreams: std::sync::OnceLock<Vec<usize>>,
    /// the first stream read whose /Length was wrong or unresolvable (it was read up to its
    /// `endstream`): damage that signing refuses and verification tolerates
    bad_length: Mutex<Option<(u32, String)>>,
}

fn mal(msg: impl Into<String>) -> PadesError {
    PadesError::Malformed(msg.into())
}

fn limit(msg: impl Into<String>) -> PadesError {
    PadesError::Limit(msg.into())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Decodes a stream with no filter or FlateDecode (+ PNG/TIFF predictors), at most
/// [`LoadOptions::default`]'s decoded-bytes budget.
pub fn decode_stream(d: &Dict, data: &[u8]) -> Result<Vec<u8>, PadesError> {
    decode_stream_limited(d, data, LoadOptions::default().max_decoded_bytes)
}

fn stream_filters(d: &Dict) -> Result<Vec<&[u8]>, PadesError> {
    let filters: Vec<&[u8]> = match d.get("Filter") {
        None | Some(Obj::Null) => vec![],
        Some(Obj::Name(n)) => vec![n.as_slice()],
        Some(Obj::Array(a)) => a.iter().filter_map(|o| o.as_name()).collect(),
        _ => return Err(mal("bad /Filter")),
    };
    if filters.len() > 1 {
        return Err(mal("unsupported filter chain"));
    }
    if let Some(f) = filters.first()
        && *f != b"FlateDecode"
        && *f != b"Fl"
    {
        return Err(mal(format!("unsupported filter {}", String::from_utf8_lossy(f))));
    }
    Ok(filters)
}

/// Inflates `data`, failing with [`PadesError::Limit`] as soon as more than `max` bytes come
/// out: the output never grows past `max` (no decode-then-check).
fn inflate_limited(data: &[u8], max: usize) -> Result<Vec<u8>, PadesError> {
    let mut dec = flate2::read::ZlibDecoder::new(data);
    let mut buf: Vec<u8> = Vec::with_capacity(data.len().saturating_mul(4).min(max).min(1 << 20));
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = match dec.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            // a truncated or damaged tail: keep what came out, as other readers do
            Err(e) if buf.is_empty() => return Err(mal(format!("corrupt compressed stream: {e}"))),
            Err(_) => break,
        };
        let need = buf
            .len()
            .checked_add(n)
            .filter(|&l| l <= max)
            .ok_or_else(|| limit(format!("decoded streams exceed the document's budget of {} MiB", max >> 20)))?;
        if need > buf.capacity() {
            let cap = buf.capacity().saturating_mul(2).max(need).min(max);
            buf.reserve_exact(cap - buf.len());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(buf)
}

/// [`decode_stream`] producing at most `max` bytes.
pub fn decode_stream_limited(d: &Dict, data: &[u8], max: usize) -> Result<Vec<u8>, PadesError> {
    let filters = stream_filters(d)?;
    let mut out = if filters.is_empty() {
        if data.len() > max {
            return Err(limit(format!("decoded streams exceed the document's budget of {} MiB", max >> 20)));
        }
        data.to_vec()
    } else {
        inflate_limited(data, max)?
    };
    let parms = match d.get("DecodeParms").or_else(|| d.get("DP")) {
        Some(Obj::Dict(p)) => Some(p.clone()),
        Some(Obj::Array(a)) => a.first().and_then(|o| o.as_dict()).cloned(),
        _ => None,
    };
    if let Some(p) = parms {
        let pred = p.get("Predictor").and_then(|o| o.as_int()).unwrap_or(1);
        if pred >= 10 {
            let colors = p.get("Colors").and_then(|o| o.as_int()).unwrap_or(1).clamp(1, 4) as usize;
            let bpc = p.get("BitsPerComponent").and_then(|o| o.as_int()).unwrap_or(8).clamp(1, 16) as usize;
            let cols = p.get("Columns").and_then(|o| o.as_int()).unwrap_or(1).clamp(1, 1 << 20) as usize;
            out = png_unpredict(&out, colors, bpc, cols)?;
        } else if pred == 2 {
            return Err(mal("TIFF predictor not supported"));
        }
    }
    Ok(out)
}

fn png_unpredict(data: &[u8], colors: usize, bpc: usize, cols: usize) -> Result<Vec<u8>, PadesError> {
    let bpp = (colors * bpc).div_ceil(8).max(1);
    let row = (colors * bpc * cols).div_ceil(8);
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row];
    let mut cur = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        if chunk.len() < 2 {
            break;
        }
        let ft = chunk[0];
        let src = &chunk[1..];
        cur[..src.len()].copy_from_slice(src);
        for b in cur[src.len()..].iter_mut() {
            *b = 0;
        }
        for i in 0..row {
            let a = if i >= bpp { cur[i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            let x = cur[i];
            cur[i] = match ft {
                0 => x,
                1 => x.wrapping_add(a),
                2 => x.wrapping_add(b),
                3 => x.wrapping_add(((a as u16 + b as u16) / 2) as u8),
                4 => {
                    let p = a as i16 + b as i16 - c as i16;
                    let (pa, pb, pc) = ((p - a as i16).abs(), (p - b as i16).abs(), (p - c as i16).abs());
                    let pr = if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    };
                    x.wrapping_add(pr)
                }
                _ => return Err(mal("bad PNG predictor")),
            };
        }
        out.extend_from_slice(&cur[..src.len().min(row)]);
        std::mem::swap(&mut prev, &mut cur);
    }
    Ok(out)
}

/// An object stream's /N (how many objects it holds), checked.
fn objstm_n(d: &Dict) -> Result<usize, PadesError> {
    match d.get("N").and_then(|o| o.as_int()) {
        Some(n) if (0..=1_000_000).contains(&n) => Ok(n as usize),
        _ => Err(mal("object stream with a missing or absurd /N")),
    }
}

/// An object stream's /First (where its first object starts), checked.
fn objstm_first(d: &Dict) -> Result<usize, PadesError> {
    match d.get("First").and_then(|o| o.as_int()) {
        Some(f) if (0..=64 << 20).contains(&f) => Ok(f as usize),
        _ => Err(mal("object stream with a missing or absurd /First")),
    }
}

/// About what an object takes in memory (for the cache budget).
fn approx_size(o: &Obj) -> usize {
    const BASE: usize = std::mem::size_of::<Obj>();
    match o {
        Obj::Str(v) | Obj::Name(v) => BASE + v.len(),
        Obj::Array(a) => BASE + a.iter().map(approx_size).sum::<usize>(),
        Obj::Dict(d) => BASE + d.0.iter().map(|(k, v)| k.len() + 24 + approx_size(v)).sum::<usize>(),
        Obj::Stream(d, data) => {
            BASE + data.len() + d.0.iter().map(|(k, v)| k.len() + 24 + approx_size(v)).sum::<usize>()
        }
        _ => BASE,
    }
}

/// Removes its object from the document's resolution stack when dropped.
struct Resolving<'d, 'a> {
    doc: &'d Document<'a>,
    me: std::thread::ThreadId,
    num: u32,
}

impl Drop for Resolving<'_, '_> {
    fn drop(&mut self) {
        let mut stack = lock(&self.doc.resolving);
        if let Some(i) = stack.iter().rposition(|&(t, n)| t == self.me && n == self.num) {
            stack.remove(i);
        }
    }
}

fn parse_uint_tok(b: &[u8], p: usize) -> Option<(u64, usize)> {
    let p = skip_ws(b, p);
    let (t, e) = token(b, p);
    if t.is_empty() || t.len() > 19 || !t.iter().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((std::str::from_utf8(t).ok()?.parse().ok()?, e))
}

/// Whether an `N G obj` header starts a line at or after `from`.
fn has_object_header(b: &[u8], from: usize) -> bool {
    (from..b.len()).any(|i| {
        i > 0 && (b[i - 1] == b'\n' || b[i - 1] == b'\r') && b[i].is_ascii_digit() && parse_obj_header(b, i).is_some()
    })
}

/// Finds the value of the last `startxref` in the file.
pub fn find_startxref(data: &[u8]) -> Option<usize> {
    let from = data.len().saturating_sub(4096);
    let k = rfind(&data[from..], b"startxref")? + from;
    let (v, _) = parse_uint_tok(data, k + 9)?;
    usize::try_from(v).ok()
}

impl<'a> Document<'a> {
    /// Reads the trailer and cross-reference data with the default [`LoadOptions`].
    pub fn load(data: &'a [u8]) -> Result<Document<'a>, PadesError> {
        Self::load_with(data, LoadOptions::default())
    }

    /// Reads the trailer and cross-reference data (recovering them by scanning when they are
    /// unusable); objects are parsed on demand.
    pub fn load_with(data: &'a [u8], opts: LoadOptions) -> Result<Document<'a>, PadesError> {
        if data.is_empty() {
            return Err(PadesError::Empty);
        }
        let head = &data[..data.len().min(1024)];
        if find(head, b"%PDF-", 0).is_none() {
            return Err(PadesError::NotPdf);
        }
        let mut doc = Document {
            data,
            xref: XrefMap::default(),
            trailer: Dict::new(),
            startxref: 0,
            style: XrefStyle::Table,
            recovered: false,
            size: 0,
            opts,
            findings: LoadFindings { no_trailer: false, no_startxref: false, objects_after_trailer: false },
            objstms: Mutex::new(HashMap::new()),
            cache: Mutex::new(ObjCache::default()),
            resolving: Mutex::new(Vec::new()),
            decoded: AtomicUsize::new(0),
            leaf_counts: Mutex::new(HashMap::default()),
            endstreams: std::sync::OnceLock::new(),
            bad_length: Mutex::new(None),
        };
        let ok = match doc.read_xref_chain() {
            Ok(()) => doc.check_root().is_ok() && doc.offsets_point_at_their_objects(),
            // a spent budget is an answer, not damage to recover from
            Err(e @ PadesError::Limit(_)) => return Err(e),
            Err(_) => false,
        };
        if !ok {
            doc.forget_parsed();
            doc.reconstruct()?;
            doc.check_root()?;
        } else {
            // a sound chain, but objects after its `startxref`: a newer revision lost its end
            let from = data.len().saturating_sub(4096);
            if let Some(k) = rfind(&data[from..], b"startxref").and_then(|k| k.checked_add(from)) {
                doc.findings.objects_after_trailer = has_object_header(data, k);
            }
        }
        if doc.trailer.get("Encrypt").is_some_and(|o| !matches!(o, Obj::Null)) {
            return Err(PadesError::Encrypted);
        }
        doc.size = doc.next_free_number();
        Ok(doc)
    }

    /// Drops what was parsed through cross-reference data found unusable.
    fn forget_parsed(&mut self) {
        *lock(&self.cache) = ObjCache::default();
        lock(&self.objstms).clear();
        lock(&self.leaf_counts).clear();
    }

    /// Above every object number present (in use or free) and at least the trailer's /Size
    /// when that is sane; saturates at `u32::MAX` (then nothing can be allocated).
    fn next_free_number(&self) -> u32 {
        let above_all = self.xref.keys().copied().max().map_or(1, |m| m.saturating_add(1));
        let tsize = self.trailer.get("Size").and_then(|o| o.as_int()).unwrap_or(0);
        // a /Size beyond what an update may allocate is ignored: numbers above every present
        // object are free whatever it says
        let tsize = u32::try_from(tsize).ok().filter(|&t| t <= MAX_OBJECT_NUMBER).unwrap_or(0);
        above_all.max(tsize)
    }

    /// Whether the file lost its end: recovery found no trailer, objects after the last
    /// trailer, or no `startxref`.
    pub(crate) fn lost_its_tail(&self) -> bool {
        self.findings.no_trailer || self.findings.no_startxref || self.findings.objects_after_trailer
    }

    /// The options this document was loaded with.
    pub fn options(&self) -> LoadOptions {
        self.opts
    }

    /// Stream bytes spent so far, inflated or read (see [`LoadOptions::max_decoded_bytes`]).
    pub fn decoded_bytes(&self) -> usize {
        self.decoded.load(Ordering::Relaxed)
    }

    /// `count` new object numbers for an update: the first of `count` consecutive numbers, all
    /// above every object of the file and at most [`MAX_OBJECT_NUMBER`].
    pub fn allocate(&self, count: u32) -> Result<u32, PadesError> {
        let first = self.size.max(1);
        match first.checked_add(count) {
            Some(end) if end - 1 <= MAX_OBJECT_NUMBER => Ok(first),
            _ => Err(limit(format!(
                "the document's object numbers reach {}: an update would pass {MAX_OBJECT_NUMBER}, the largest object number PDF readers accept",
                self.size.saturating_sub(1)
            ))),
        }
    }

    /// Decodes a stream within the document's budget and charges it.
    fn decode(&self, d: &Dict, raw: &[u8]) -> Result<Vec<u8>, PadesError> {
        let left = self.opts.max_decoded_bytes.saturating_sub(self.decoded_bytes());
        let out = decode_stream_limited(d, raw, left)?;
        self.decoded.fetch_add(out.len(), Ordering::Relaxed);
        Ok(out)
    }

    /// Whether every in-use entry of the cross-reference data points at the header of its own
    /// object. When one does not, the file is damaged (readers such as qpdf then rebuild the
    /// table); recovering here makes the update carry a complete, correct table.
    fn offsets_point_at_their_objects(&self) -> bool {
        let b = self.data;
        // A byte comparison per entry (files with 200,000 objects are common): skip white space,
        // then the object number's digits must follow, then white space.
        let mut digits = [0u8; 10];
        self.xref.iter().all(|(num, e)| {
            let XrefEntry::Offset(off, _) = e else { return true };
            let mut p = *off;
            while p < b.len() && p < off + 4 && b[p].is_ascii_whitespace() {
                p += 1;
            }
            let mut n = *num;
            let mut len = 0;
            loop {
                digits[9 - len] = b'0' + (n % 10) as u8;
                len += 1;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            b.get(p..p + len) == Some(&digits[10 - len..]) && b.get(p + len).is_some_and(|c| c.is_ascii_whitespace())
        })
    }

    fn check_root(&self) -> Result<(), PadesError> {
        let root = self.trailer.get("Root").ok_or_else(|| mal("trailer has no /Root"))?;
        let cat = self.resolve(root)?;
        match cat.as_dict() {
            Some(d) if d.get("Pages").is_some() => Ok(()),
            _ => Err(mal("document catalog is missing or invalid")),
        }
    }

    fn read_xref_chain(&mut self) -> Result<(), PadesError> {
        let sx = find_startxref(self.data).ok_or_else(|| mal("no startxref"))?;
        self.startxref = sx;
        let mut seen = HashSet::new();
        let mut next = Some(sx);
        let mut first = true;
        let mut first_section_done = false;
        while let Some(off) = next.take() {
            // offsets into the white space before one section are that section: visit it once
            if off >= self.data.len() || !seen.insert(skip_ws(self.data, off)) || seen.len() > 10_000 {
                if first {
                    return Err(mal("bad startxref"));
                }
                break;
            }
            let (entries, trailer, style) = self.read_section(off)?;
            if first {
                self.style = style;
                first = false;
            }
            self.xref.reserve(entries.len());
            if first_section_done {
                for (n, e) in entries {
                    self.xref.entry(n).or_insert(e);
                }
            } else {
                // within the newest section a later duplicate entry wins
                for (n, e) in entries {
                    self.xref.insert(n, e);
                }
            }
            first_section_done = true;
            for (k, v) in &trailer.0 {
                if matches!(
                    k.as_slice(),
                    b"Prev" | b"XRefStm" | b"Type" | b"W" | b"Index" | b"Filter" | b"DecodeParms" | b"Length"
                ) {
                    continue;
                }
                if k == b"Size" {
                    let old = self.trailer.get("Size").and_then(|o| o.as_int()).unwrap_or(0);
                    let new = v.as_int().unwrap_or(0);
                    self.trailer.set("Size", Obj::Int(old.max(new)));
                    continue;
                }
                if self.trailer.0.iter().all(|(kk, _)| kk != k) {
                    self.trailer.0.push((k.clone(), v.clone()));
                }
            }
            next = trailer.get("Prev").and_then(|o| o.as_int()).and_then(|v| usize::try_from(v).ok());
        }
        Ok(())
    }

    /// Reads one xref section (table, possibly hybrid, or stream) at `off`.
    fn read_section(&self, off: usize) -> Result<Section, PadesError> {
        let b = self.data;
        let p = skip_ws(b, off);
        if b[p..].starts_with(b"xref") {
            let mut entries: Vec<(u32, XrefEntry)> = Vec::new();
            let mut q = p + 4;
            loop {
                q = skip_ws(b, q);
                if b[q..].starts_with(b"trailer") {
                    q += 7;
                    break;
                }
                let (start, e1) = parse_uint_tok(b, q).ok_or_else(|| mal("bad xref subsection"))?;
                let (count, e2) = parse_uint_tok(b, e1).ok_or_else(|| mal("bad xref subsection"))?;
                q = e2;
                if count > 10_000_000 || start > u32::MAX as u64 {
                    return Err(mal("bad xref subsection size"));
                }
                // an entry takes at least 18 bytes: a huge count cannot reserve more than the file
                entries.reserve((count as usize).min(b.len().saturating_sub(q) / 18));
                let number = |i: u64| {
                    u32::try_from(start + i).map_err(|_| mal("xref subsection runs past object number 4294967295"))
                };
                for i in 0..count {
                    // fast path: the standard fixed-width "oooooooooo ggggg n" entry
                    let p0 = skip_ws(b, q);
                    if let Some(e) = b.get(p0..p0 + 18)
                        && e[10] == b' '
                        && e[16] == b' '
                        && (e[17] == b'n' || e[17] == b'f')
                        && e[..10].iter().chain(&e[11..16]).all(u8::is_ascii_digit)
                    {
                        let num = number(i)?;
                        let o = e[..10].iter().fold(0usize, |a, &c| a * 10 + (c - b'0') as usize);
                        let g = e[11..16].iter().fold(0u32, |a, &c| a * 10 + (c - b'0') as u32);
                        entries.push((
                            num,
                            if e[17] == b'n' { XrefEntry::Offset(o, g.min(65535) as u16) } else { XrefEntry::Free },
                        ));
                        q = p0 + 18;
                        continue;
                    }
                    let (o, e3) = parse_uint_tok(b, q).ok_or_else(|| mal("bad xref entry"))?;
                    let (g, e4) = parse_uint_tok(b, e3).ok_or_else(|| mal("bad xref entry"))?;
                    let p5 = skip_ws(b, e4);
                    let (t, e5) = token(b, p5);
                    q = e5;
                    let num = number(i)?;
                    let e = match t {
                        b"n" => XrefEntry::Offset(
                            usize::try_from(o).map_err(|_| mal("xref offset out of range"))?,
                            g.min(65535) as u16,
                        ),
                        b"f" => XrefEntry::Free,
                        _ => return Err(mal("bad xref entry type")),
                    };
                    entries.push((num, e));
                }
            }
            let (t, _) = parse_obj(b, q).map_err(|e| mal(format!("bad trailer: {}", e.0)))?;
            let trailer = match t {
                Obj::Dict(d) => d,
                _ => return Err(mal("trailer is not a dictionary")),
            };
            // later entries for the same number in one section win
            let hybrid = trailer.get("XRefStm").is_some();
            if !hybrid {
                return Ok((entries, trailer, XrefStyle::Table));
            }
            let mut m: XrefMap = entries.into_iter().collect();
            // hybrid file: the xref stream supplements the table (objects the table lacks or marks free)
            if let Some(xs) = trailer.get("XRefStm").and_then(|o| o.as_int()).and_then(|v| usize::try_from(v).ok())
                && xs < b.len()
                && !b[skip_ws(b, xs)..].starts_with(b"xref")
                && let Ok((more, _, _)) = self.read_section(xs)
            {
                for (n, e) in more {
                    if matches!(m.get(&n), None | Some(XrefEntry::Free)) {
                        m.insert(n, e);
                    }
                }
            }
            let out: Vec<(u32, XrefEntry)> = m.into_iter().collect();
            return Ok((out, trailer, XrefStyle::Table));
        }
        // xref stream
        let (xs_num, _, after) = parse_obj_header(b, p).ok_or_else(|| mal("xref offset does not point to an xref"))?;
        let (o, fault) =
            parse_indirect_body_checked(b, after, &mut |n, g| self.get(n, g).ok().and_then(|o| o.as_int()), &|from| {
                self.next_endstream(from)
            })
            .map_err(|e| mal(format!("bad xref stream: {}", e.0)))?;
        self.note_length_fault(xs_num, fault);
        let (d, raw) = match o {
            Obj::Stream(d, raw) if d.name_is("Type", "XRef") => (d, raw),
            _ => return Err(mal("xref offset does not point to an xref stream")),
        };
        let data = self.decode(&d, &raw)?;
        let w: Vec<usize> = d
            .get("W")
            .and_then(|o| o.as_array())
            .ok_or_else(|| mal("xref stream without /W"))?
            .iter()
            .map(|o| o.as_int().unwrap_or(0).clamp(0, 8) as usize)
            .collect();
        if w.len() < 3 {
            return Err(mal("bad /W"));
        }
        let size = d.get("Size").and_then(|o| o.as_int()).unwrap_or(0).max(0);
        let index: Vec<i64> = match d.get("Index").and_then(|o| o.as_array()) {
            Some(a) => a.iter().map(|o| o.as_int().unwrap_or(0)).collect(),
            None => vec![0, size],
        };
        let rec = w[0] + w[1] + w[2];
        if rec == 0 {
            return Err(mal("bad /W"));
        }
        let rd = |s: &[u8]| s.iter().fold(0u64, |a, &c| (a << 8) | c as u64);
        let mut entries = Vec::new();
        let mut pos = 0usize;
        for pair in index.chunks(2) {
            if pair.len() < 2 || pair[0] < 0 || pair[1] < 0 {
                break;
            }
            for i in 0..pair[1] {
                let Some(r) = data.get(pos..pos + rec) else { break };
                pos += rec;
                let t = if w[0] == 0 { 1 } else { rd(&r[..w[0]]) };
                let f2 = rd(&r[w[0]..w[0] + w[1]]);
                let f3 = rd(&r[w[0] + w[1]..]);
                let num = pair[0]
                    .checked_add(i)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| mal("xref stream /Index runs past object number 4294967295"))?;
                let e = match t {
                    0 => XrefEntry::Free,
                    1 => XrefEntry::Offset(usize::try_from(f2).unwrap_or(usize::MAX), f3.min(65535) as u16),
                    2 => XrefEntry::InStream(f2.min(u32::MAX as u64) as u32, f3.min(u32::MAX as u64) as u32),
                    _ => continue,
                };
                entries.push((num, e));
            }
        }
        Ok((entries, d, XrefStyle::Stream))
    }

    /// Rebuilds the cross-reference map by scanning for object headers.
    fn reconstruct(&mut self) -> Result<(), PadesError> {
        let b = self.data;
        self.xref.clear();
        self.recovered = true;
        let mut trailer: Option<Dict> = None;
        // where the last trailer (keyword or xref stream) and the last object header start
        let (mut trailer_at, mut last_obj_at) = (0usize, 0usize);
        let mut objstms = Vec::new();
        let mut i = 0usize;
        while i < b.len() {
            let at_line = i == 0 || b[i - 1] == b'\n' || b[i - 1] == b'\r';
            if at_line
                && b[i].is_ascii_digit()
                && let Some((n, g, after)) = parse_obj_header(b, i)
            {
                self.xref.insert(n, XrefEntry::Offset(i, g));
                last_obj_at = i;
                let probe = &b[after..(after + 300).min(b.len())];
                if find(probe, b"/ObjStm", 0).is_some() {
                    objstms.push(n);
                }
                if find(probe, b"/XRef", 0).is_some()
                    && let Ok((Obj::Dict(d), _)) = parse_obj(b, after)
                    && d.get("Root").is_some()
                {
                    trailer = Some(d);
                    trailer_at = i;
                }
                i = after;
                continue;
            }
            if at_line
                && b[i..].starts_with(b"trailer")
                && let Ok((Obj::Dict(d), e)) = parse_obj(b, i + 7)
            {
                if d.get("Root").is_some() {
                    trailer = Some(d);
                    trailer_at = i;
                }
                i = e;
                continue;
            }
            i += 1;
        }
        // Objects inside object streams: only each stream's header (its first /First bytes) is
        // inflated, to learn which objects it holds; the streams themselves are decoded when one
        // of their objects is first asked for.
        for s in objstms {
            match self.objstm_members(s) {
                Ok(members) => {
                    for (idx, n) in members.into_iter().enumerate() {
                        let idx = u32::try_from(idx).unwrap_or(u32::MAX);
                        self.xref.entry(n).or_insert(XrefEntry::InStream(s, idx));
                    }
                }
                // the budget is spent: what is left is not indexed (and reads as missing)
                Err(PadesError::Limit(_)) => break,
                Err(_) => {}
            }
        }
        self.findings.no_trailer = trailer.is_none();
        self.findings.objects_after_trailer = trailer.is_some() && last_obj_at > trailer_at;
        // anywhere: some files pad their end with kilobytes of zeros after a sound trailer
        self.findings.no_startxref = find(b, b"startxref", 0).is_none();
        let mut trailer = match trailer {
            Some(t) => t,
            None => Dict::new().with("Root", Obj::Ref(self.find_catalog()?, 0)),
        };
        for k in ["Prev", "XRefStm", "Type", "W", "Index", "Filter", "DecodeParms", "Length"] {
            trailer.remove(k);
        }
        self.trailer = trailer;
        self.startxref = find_startxref(b).unwrap_or(0);
        self.style = XrefStyle::Table;
        Ok(())
    }

    /// The last object that looks like a catalog, for a file whose trailer is gone. Only objects
    /// whose first bytes name a catalog are parsed.
    fn find_catalog(&self) -> Result<u32, PadesError> {
        let mut nums: Vec<u32> = self.xref.keys().copied().collect();
        nums.sort_unstable();
        let mut found = None;
        for n in nums {
            let looks_like = match self.xref.get(&n) {
                Some(XrefEntry::Offset(off, _)) => {
                    let probe = &self.data[(*off).min(self.data.len())..off.saturating_add(400).min(self.data.len())];
                    find(probe, b"Catalog", 0).is_some()
                }
                Some(XrefEntry::InStream(..)) => true,
                _ => false,
            };
            let is_catalog = match self.xref.get(&n) {
                // the dictionary alone: a stream after it is not read
                Some(XrefEntry::Offset(off, _)) if looks_like => parse_obj_header(self.data, *off)
                    .and_then(|(_, _, after)| parse_obj(self.data, after).ok())
                    .is_some_and(|(o, _)| o.as_dict().is_some_and(|d| d.name_is("Type", "Catalog"))),
                Some(XrefEntry::InStream(..)) => {
                    self.get(n, 0).ok().and_then(|o| o.as_dict().map(|d| d.name_is("Type", "Catalog"))) == Some(true)
                }
                _ => false,
            };
            if is_catalog {
                found = Some(n);
            }
        }
        found.ok_or_else(|| mal("cross-reference data is broken and no document catalog could be found"))
    }

    /// The object numbers held by object stream `num`, read from its header alone.
    fn objstm_members(&self, num: u32) -> Result<Vec<u32>, PadesError> {
        let _resolving = self.enter(num)?;
        let off = match self.xref.get(&num) {
            Some(XrefEntry::Offset(o, _)) => *o,
            _ => return Err(mal(format!("object stream {num} not found"))),
        };
        let (d, raw) = match self.parse_at(off, num)? {
            Obj::Stream(d, raw) => (d, raw),
            _ => return Err(mal("object stream is not a stream")),
        };
        let n = objstm_n(&d)?;
        let first = objstm_first(&d)?;
        let plain_flate = stream_filters(&d)?.len() == 1 && d.get("DecodeParms").is_none() && d.get("DP").is_none();
        let head = if plain_flate {
            let left = self.opts.max_decoded_bytes.saturating_sub(self.decoded_bytes());
            let mut head = Vec::new();
            let _ = flate2::read::ZlibDecoder::new(raw.as_slice()).take(first.min(left) as u64).read_to_end(&mut head);
            self.decoded.fetch_add(head.len(), Ordering::Relaxed);
            head
        } else {
            self.decode(&d, &raw)?
        };
        let mut out = Vec::with_capacity(n.min(head.len() / 4));
        let mut p = 0;
        for _ in 0..n {
            let Some((on, e1)) = parse_uint_tok(&head, p) else { break };
            let Some((_, e2)) = parse_uint_tok(&head, e1) else { break };
            let Ok(on) = u32::try_from(on) else { break };
            out.push(on);
            p = e2;
        }
        Ok(out)
    }

    fn objstm(&self, num: u32) -> Result<Arc<ObjStm>, PadesError> {
        if let Some(s) = self.objstms.lock().unwrap_or_else(|e| e.into_inner()).get(&num) {
            return Ok(s.clone());
        }
        let off = match self.xref.get(&num) {
            Some(XrefEntry::Offset(o, _)) => *o,
            _ => return Err(mal(format!("object stream {num} not found"))),
        };
        let _resolving = self.enter(num)?;
        let o = self.parse_at(off, num)?;
        let (d, raw) = match o {
            Obj::Stream(d, raw) => (d, raw),
            _ => return Err(mal("object stream is not a stream")),
        };
        let n = objstm_n(&d)?;
        let first = objstm_first(&d)?;
        let data = self.decode(&d, &raw)?;
        drop(raw);
        if first > data.len() {
            return Err(mal(format!("object stream {num}: /First is past its data")));
        }
        let mut offsets = Vec::with_capacity(n.min(first / 4));
        let mut p = 0;
        for _ in 0..n {
            let Some((on, e1)) = parse_uint_tok(&data, p) else { break };
            let Some((oo, e2)) = parse_uint_tok(&data, e1) else { break };
            let (Ok(on), Ok(oo)) = (u32::try_from(on), usize::try_from(oo)) else { break };
            offsets.push((on, oo));
            p = e2;
        }
        let st = Arc::new(ObjStm { data, first, offsets });
        self.objstms.lock().unwrap_or_else(|e| e.into_inner()).insert(num, st.clone());
        Ok(st)
    }

    fn parse_at(&self, off: usize, expect: u32) -> Result<Obj, PadesError> {
        if off >= self.data.len() {
            return Err(mal(format!("object {expect} offset beyond end of file")));
        }
        let (n, _, after) = parse_obj_header(self.data, off)
            .ok_or_else(|| mal(format!("object {expect}: no object header at offset {off}")))?;
        if n != expect {
            return Err(mal(format!("object {expect}: xref points to object {n}")));
        }
        // An indirect /Length is resolved like any reference: one that leads back here (or
        // nests too deeply) is unknown, and the stream ends at its `endstream`.
        if self.decoded_bytes() >= self.opts.max_decoded_bytes {
            return Err(self.spent());
        }
        let (o, fault) = parse_indirect_body_checked(
            self.data,
            after,
            &mut |ln, lg| self.get(ln, lg).ok().and_then(|o| o.as_int()),
            &|from| self.next_endstream(from),
        )
        .map_err(|e| mal(format!("object {expect}: {}", e.0)))?;
        self.note_length_fault(expect, fault);
        // Stream bytes copied count against the budget: hostile files overlap many streams on
        // one long run of bytes (each "ending" at the same far `endstream`).
        if let Obj::Stream(_, raw) = &o {
            self.decoded.fetch_add(raw.len(), Ordering::Relaxed);
        }
        Ok(o)
    }

    /// Remembers the first stream whose /Length was not usable (see [`Document::bad_length`]).
    fn note_length_fault(&self, num: u32, fault: Option<String>) {
        if let Some(why) = fault {
            lock(&self.bad_length).get_or_insert((num, why));
        }
    }

    /// The first stream read so far whose /Length was missing, unresolvable (a reference cycle)
    /// or wrong, with why: such a stream was read up to its `endstream` (tolerated when
    /// verifying), and a document holding one is damaged for signing.
    pub fn bad_length(&self) -> Option<(u32, String)> {
        lock(&self.bad_length).clone()
    }

    fn spent(&self) -> PadesError {
        limit(format!("decoded streams exceed the document's budget of {} MiB", self.opts.max_decoded_bytes >> 20))
    }

    /// The first stream object of the file (by position) whose /Length is missing, cannot be
    /// resolved or does not end at its `endstream`, with why. Only the stream dictionaries are
    /// parsed (never their data): each `endstream` of the index is attributed to the object
    /// whose offset precedes it, and that object's dictionary is checked once.
    pub fn first_wrong_length(&self) -> Result<Option<(u32, String)>, PadesError> {
        let b = self.data;
        let mut starts: Vec<(usize, u32)> = self
            .xref
            .iter()
            .filter_map(|(&n, e)| match e {
                XrefEntry::Offset(off, _) if *off < b.len() => Some((*off, n)),
                _ => None,
            })
            .collect();
        starts.sort_unstable();
        self.next_endstream(0);
        let ends = self.endstreams.get().map(Vec::as_slice).unwrap_or_default();
        let mut checked = None;
        for (k, &end) in ends.iter().enumerate() {
            if k > self.opts.max_walk_nodes {
                return Err(limit(format!("the file has more than {} streams", self.opts.max_walk_nodes)));
            }
            let i = starts.partition_point(|&(off, _)| off < end);
            let Some(&(off, num)) = i.checked_sub(1).and_then(|i| starts.get(i)) else { continue };
            if checked == Some(num) {
                continue;
            }
            checked = Some(num);
            let Some((n, _, after)) = parse_obj_header(b, off) else { continue };
            if n != num {
                continue;
            }
            let Ok((Obj::Dict(d), e)) = parse_obj(b, after) else { continue };
            let q = skip_ws(b, e);
            if b.get(q..q.saturating_add(6)) != Some(b"stream".as_slice()) {
                continue;
            }
            let mut start = q + 6;
            if b.get(start) == Some(&b'\r') {
                start += 1;
            }
            if b.get(start) == Some(&b'\n') {
                start += 1;
            }
            let declared = match d.get("Length") {
                Some(Obj::Int(l)) => Ok(*l),
                Some(Obj::Ref(ln, lg)) => match self.get(*ln, *lg) {
                    Ok(Obj::Int(l)) => Ok(l),
                    _ => Err(format!("its /Length {ln} {lg} R cannot be resolved")),
                },
                Some(_) => Err("its /Length is not a number".to_string()),
                None => Err("it has no /Length".to_string()),
            };
            let why = match declared {
                Err(why) => why,
                Ok(l) => {
                    let stop = usize::try_from(l).ok().and_then(|l| start.checked_add(l)).filter(|&x| x <= b.len());
                    match stop {
                        Some(x) if b.get(skip_ws(b, x)..).is_some_and(|t| t.starts_with(b"endstream")) => continue,
                        _ => format!("its /Length {l} does not end at endstream"),
                    }
                }
            };
            return Ok(Some((num, why)));
        }
        Ok(None)
    }

    /// The first `endstream` at or after `from`, from an index of them all built on first use.
    fn next_endstream(&self, from: usize) -> Option<usize> {
        let all = self.endstreams.get_or_init(|| {
            let mut v = Vec::new();
            let mut p = 0;
            while let Some(k) = find(self.data, b"endstream", p) {
                v.push(k);
                p = k + 9;
            }
            v
        });
        let i = all.partition_point(|&k| k < from);
        all.get(i).copied()
    }

    /// Marks `num` as being resolved on this thread until the guard drops; a reference back to
    /// an object in resolution is a cycle.
    fn enter(&self, num: u32) -> Result<Resolving<'_, 'a>, PadesError> {
        let me = std::thread::current().id();
        let mut stack = lock(&self.resolving);
        let mut depth = 0;
        for &(t, n) in stack.iter() {
            if t == me {
                if n == num {
                    return Err(mal(format!("reference cycle through object {num}")));
                }
                depth += 1;
            }
        }
        if depth >= MAX_RESOLVE_DEPTH {
            return Err(limit(format!("references nested more than {MAX_RESOLVE_DEPTH} deep at object {num}")));
        }
        stack.push((me, num));
        Ok(Resolving { doc: self, me, num })
    }

    fn cached(&self, num: u32) -> Option<Obj> {
        lock(&self.cache).objs.get(&num).cloned()
    }

    fn remember(&self, num: u32, o: &Obj) {
        let size = approx_size(o);
        let mut c = lock(&self.cache);
        if c.bytes.saturating_add(size) <= self.opts.max_cache_bytes {
            c.bytes += size;
            c.objs.insert(num, o.clone());
        }
    }

    /// Loads object `num` (any generation; generation mismatches are tolerated like other
    /// readers). A missing or free object is `Null`; each object is parsed once (within the
    /// cache budget), and a reference cycle ends in an error, never in recursion.
    pub fn get(&self, num: u32, _gen: u16) -> Result<Obj, PadesError> {
        let entry = match self.xref.get(&num) {
            None | Some(XrefEntry::Free) => return Ok(Obj::Null),
            Some(e) => *e,
        };
        if let Some(o) = self.cached(num) {
            return Ok(o);
        }
        let _resolving = self.enter(num)?;
        let o = match entry {
            XrefEntry::Offset(off, _) => self.parse_at(off, num)?,
            XrefEntry::InStream(s, idx) => self.parse_in_stream(num, s, idx)?,
            XrefEntry::Free => Obj::Null,
        };
        self.remember(num, &o);
        Ok(o)
    }

    fn parse_in_stream(&self, num: u32, s: u32, idx: u32) -> Result<Obj, PadesError> {
        if s == num {
            return Err(mal("object stream contains itself"));
        }
        let st = self.objstm(s)?;
        let rel = match st.offsets.get(idx as usize) {
            Some(&(n, rel)) if n == num => rel,
            _ => {
                st.offsets
                    .iter()
                    .find(|(n, _)| *n == num)
                    .ok_or_else(|| mal(format!("object {num} missing from object stream {s}")))?
                    .1
            }
        };
        let p = st.first.checked_add(rel).ok_or_else(|| mal("bad object stream offset"))?;
        if p >= st.data.len() {
            return Err(mal("bad object stream offset"));
        }
        let (o, _) = parse_obj(&st.data, p).map_err(|e| mal(format!("object {num}: {}", e.0)))?;
        Ok(o)
    }

    /// Follows references (bounded) to a direct object.
    pub fn resolve(&self, o: &Obj) -> Result<Obj, PadesError> {
        let mut cur = o.clone();
        for _ in 0..32 {
            match cur {
                Obj::Ref(n, g) => cur = self.get(n, g)?,
                other => return Ok(other),
            }
        }
        Err(mal("reference loop"))
    }

    pub fn resolve_dict(&self, o: &Obj) -> Result<Dict, PadesError> {
        match self.resolve(o)? {
            Obj::Dict(d) | Obj::Stream(d, _) => Ok(d),
            _ => Err(mal("expected a dictionary")),
        }
    }

    pub fn root_ref(&self) -> Option<(u32, u16)> {
        self.trailer.get("Root").and_then(|o| o.as_ref())
    }

    pub fn catalog(&self) -> Result<Dict, PadesError> {
        let r = self.trailer.get("Root").ok_or_else(|| mal("no /Root"))?;
        self.resolve_dict(r)
    }

    /// The number of pages, counted from the page tree itself (the root's /Count is not
    /// trusted; see `count_leaves_in`), at most 10,000,000.
    pub fn page_count(&self) -> Result<usize, PadesError> {
        let cat = self.catalog()?;
        let pages_ref = cat.get("Pages").ok_or_else(|| mal("no /Pages"))?;
        match pages_ref.as_ref() {
            Some(r) => self.count_leaves(r, 0),
            None => {
                // a direct /Pages dictionary: one level, its kids as leaves
                let pages = self.resolve_dict(pages_ref)?;
                Ok(pages
                    .get("Kids")
                    .and_then(|k| self.resolve(k).ok())
                    .and_then(|k| k.as_array().map(|a| a.len()))
                    .unwrap_or(0))
            }
        }
    }

    /// Finds the page with 0-based index `idx`, walking only the path to it.
    pub fn find_page(&self, idx: usize) -> Result<Option<PageInfo>, PadesError> {
        let cat = self.catalog()?;
        let mut node_ref = cat.get("Pages").and_then(|o| o.as_ref()).ok_or_else(|| mal("/Pages is not a reference"))?;
        if idx >= self.count_leaves(node_ref, 0)? {
            return Ok(None);
        }
        let mut inh = Inherited::default();
        let mut idx = idx;
        let mut visited = HashSet::new();
        // From here on the page is in the tree by its count: not finding it is damage.
        'outer: loop {
            if !visited.insert(node_ref.0) || visited.len() > 1000 {
                return Err(mal("page tree loop"));
            }
            let node = self.resolve_dict(&Obj::Ref(node_ref.0, node_ref.1))?;
            inh.absorb(&node, self);
            let kids = match node.get("Kids") {
                Some(k) => self.resolve(k)?,
                None => {
                    if idx == 0 {
                        return Ok(Some(PageInfo { r: node_ref, dict: node, inh }));
                    }
                    return Err(short_node(node_ref.0));
                }
            };
            let kids = kids.as_array().cloned().unwrap_or_default();
            for kid in kids {
                let Some(kr) = kid.as_ref() else { continue };
                let kd = match self.resolve_dict(&kid) {
                    Ok(d) => d,
                    Err(e @ PadesError::Limit(_)) => return Err(e),
                    Err(e) => {
                        return Err(PadesError::Damaged(Damage::UnreadableObject {
                            num: kr.0,
                            role: "page",
                            reason: e.to_string(),
                        }));
                    }
                };
                let is_pages = kd.get("Kids").is_some();
                let count = if is_pages { self.count_leaves(kr, 0)? } else { 1 };
                if idx < count {
                    if !is_pages {
                        let mut inh2 = inh.clone();
                        inh2.absorb(&kd, self);
                        return Ok(Some(PageInfo { r: kr, dict: kd, inh: inh2 }));
                    }
                    node_ref = kr;
                    continue 'outer;
                }
                idx -= count;
            }
            return Err(short_node(node_ref.0));
        }
    }

    /// The 1-based number of the page object `page`, found by walking up its /Parent chain and
    /// counting the pages before it at each level; None when it is not a page of this document
    /// (a /Parent that does not list it, a chain that does not end at the catalog's /Pages).
    pub fn page_number(&self, page: (u32, u16)) -> Result<Option<usize>, PadesError> {
        let root = self.catalog()?.get("Pages").and_then(|o| o.as_ref());
        let mut before = 0usize;
        let mut child = page;
        for _ in 0..64 {
            let d = self.resolve_dict(&Obj::Ref(child.0, child.1))?;
            let Some(parent) = d.get("Parent").and_then(|o| o.as_ref()) else {
                return Ok((child != page && root == Some(child)).then_some(before + 1));
            };
            let pd = self.resolve_dict(&Obj::Ref(parent.0, parent.1))?;
            let kids = match pd.get("Kids").map(|k| self.resolve(k)).transpose()? {
                Some(Obj::Array(a)) => a,
                _ => return Ok(None),
            };
            let Some(pos) = kids.iter().position(|k| k.as_ref() == Some(child)) else { return Ok(None) };
            for k in &kids[..pos] {
                if let Some(kr) = k.as_ref() {
                    before = before
                        .checked_add(self.count_leaves(kr, 0)?)
                        .filter(|&n| n <= MAX_PAGES)
                        .ok_or_else(|| limit(format!("the page tree has more than {MAX_PAGES} pages")))?;
                }
            }
            child = parent;
        }
        Ok(None)
    }

    fn count_leaves(&self, r: (u32, u16), _depth: usize) -> Result<usize, PadesError> {
        let mut path = Vec::new();
        let mut visited = 0usize;
        self.count_leaves_in(r, &mut path, &mut visited)
    }

    /// Leaves under page-tree node `r`, each node counted once (memoized), so a tree that
    /// reuses nodes as a DAG costs its number of distinct nodes; a cycle is
    /// [`Damage::PageTree`]. A node without /Kids is a leaf; a /Kids that is not an array holds
    /// none. A node whose /Count equals its number of kids (all references) counts them as
    /// leaves without parsing them (the usual last level: parsing them would decode every
    /// object stream holding pages); any other /Count is ignored and the kids are counted.
    /// `find_page` answers damage where a kid counted as a leaf turns out otherwise.
    fn count_leaves_in(&self, r: (u32, u16), path: &mut Vec<u32>, visited: &mut usize) -> Result<usize, PadesError> {
        if let Some(&n) = lock(&self.leaf_counts).get(&r.0) {
            return Ok(n);
        }
        if path.contains(&r.0) {
            return Err(PadesError::Damaged(Damage::PageTree {
                num: r.0,
                reason: "/Kids lead back to this node (a cycle)".into(),
            }));
        }
        if path.len() >= 64 {
            return Err(mal("the page tree is more than 64 levels deep"));
        }
        *visited += 1;
        if *visited > self.opts.max_walk_nodes {
            return Err(limit(format!("the page tree has more than {} nodes", self.opts.max_walk_nodes)));
        }
        let d = self.resolve_dict(&Obj::Ref(r.0, r.1))?;
        let n = match d.get("Kids").map(|k| self.resolve(k)) {
            Some(Ok(Obj::Array(a)))
                if d.get("Count").and_then(|c| c.as_int()).and_then(|c| usize::try_from(c).ok()) == Some(a.len())
                    && a.iter().all(|k| k.as_ref().is_some_and(|kr| kr.0 != r.0 && !path.contains(&kr.0))) =>
            {
                if a.len() > MAX_PAGES {
                    return Err(limit(format!("the page tree has more than {MAX_PAGES} pages")));
                }
                a.len()
            }
            Some(Ok(Obj::Array(a))) => {
                path.push(r.0);
                let mut n = 0usize;
                for k in a {
                    if let Some(kr) = k.as_ref() {
                        n = n
                            .checked_add(self.count_leaves_in(kr, path, visited)?)
                            .filter(|&n| n <= MAX_PAGES)
                            .ok_or_else(|| limit(format!("the page tree has more than {MAX_PAGES} pages")))?;
                    }
                }
                path.pop();
                n
            }
            Some(_) => 0,
            None => 1,
        };
        lock(&self.leaf_counts).insert(r.0, n);
        Ok(n)
    }
}

/// A page-tree node that holds fewer pages than its count said.
fn short_node(num: u32) -> PadesError {
    PadesError::Damaged(Damage::PageTree { num, reason: "it holds fewer pages than counted for it".into() })
}

#[derive(Debug, Clone, Default)]
pub struct Inherited {
    pub media_box: Option<[f64; 4]>,
    pub crop_box: Option<[f64; 4]>,
    pub rotate: Option<i64>,
}

impl Inherited {
    fn absorb(&mut self, d: &Dict, doc: &Document) {
        if let Some(b) = d.get("MediaBox").and_then(|o| rect_of(o, doc)) {
            self.media_box = Some(b);
        }
        if let Some(b) = d.get("CropBox").and_then(|o| rect_of(o, doc)) {
            self.crop_box = Some(b);
        }
        if let Some(r) = d.get("Rotate").and_then(|o| doc.resolve(o).ok()).and_then(|o| o.as_int()) {
            self.rotate = Some(r);
        }
    }
}

pub fn rect_of(o: &Obj, doc: &Document) -> Option<[f64; 4]> {
    let o = doc.resolve(o).ok()?;
    let a = o.as_array()?;
    if a.len() != 4 {
        return None;
    }
    let mut v = [0f64; 4];
    for (i, x) in a.iter().enumerate() {
        v[i] = doc.resolve(x).ok()?.as_f64()?;
    }
    Some([v[0].min(v[2]), v[1].min(v[3]), v[0].max(v[2]), v[1].max(v[3])])
}

pub struct PageInfo {
    pub r: (u32, u16),
    pub dict: Dict,
    pub inh: Inherited,
}

impl PageInfo {
    /// The visible area: CropBox intersected with MediaBox (defaults: US Letter).
    pub fn visible_box(&self) -> [f64; 4] {
        let mb = self.inh.media_box.unwrap_or([0.0, 0.0, 612.0, 792.0]);
        match self.inh.crop_box {
            Some(cb) => {
                let r = [cb[0].max(mb[0]), cb[1].max(mb[1]), cb[2].min(mb[2]), cb[3].min(mb[3])];
                if r[2] > r[0] && r[3] > r[1] { r } else { mb }
            }
            None => mb,
        }
    }
    pub fn rotation(&self) -> i64 {
        let r = self.inh.rotate.unwrap_or(0);
        (((r % 360) + 360) % 360 / 90) * 90
    }
}
