//! Reports as new PDF documents: A4 pages of text in Chinese and English, with images (the
//! platform's evidence report, 出证报告, is one). The caller says what to show as [`Block`]s; this
//! module lays them out, and writes a PDF of its own (one revision, a classic cross-reference
//! table) that [`crate::sign_pdf`] can then sign.
//!
//! Text comes from tenants (titles, company and member names) and is treated as data only: every
//! string is written as a hex string of glyph codes, so no byte of it can end a string or reach
//! the content stream's syntax; control and invisible formatting characters are shown as `?`.
//!
//! Fonts: printable ASCII and Latin-1 are set in the standard Helvetica (Courier for hashes and
//! serials), which every reader has; everything else in the CJK TrueType font the caller passes
//! (Droid Sans Fallback on the platform, whose Latin letters are full-width only), embedded as a
//! subset of the glyphs used (a CIDFontType2 with Identity-H encoding and a ToUnicode map, so the
//! text can be searched and extracted). A character neither has is shown as `?`.

use std::collections::BTreeMap;
use std::io::Write as _;

use sha2::{Digest, Sha256};

use crate::PadesError;
use crate::image::{Raster, decode_png};
use crate::pdf::object::{Dict, Obj, fmt_real, write_obj};

/// A4 in points.
pub const PAGE_WIDTH: f64 = 595.28;
pub const PAGE_HEIGHT: f64 = 841.89;
const MARGIN: f64 = 56.0;
const TOP: f64 = PAGE_HEIGHT - MARGIN;
const BOTTOM: f64 = MARGIN + 18.0;
const CONTENT_WIDTH: f64 = PAGE_WIDTH - 2.0 * MARGIN;
const LABEL_WIDTH: f64 = 150.0;
const GAP: f64 = 8.0;
const BODY: f64 = 9.5;
const MONO: f64 = 8.5;
const HEADING: f64 = 12.5;
const TITLE: f64 = 18.0;
const LEADING: f64 = 1.45;
/// Side of a figure's image, points (about 31 mm).
const FIGURE: f64 = 88.0;
/// Longest side of an embedded image, pixels: larger images are scaled down by a whole factor.
const MAX_IMAGE_PX: u32 = 400;
/// Most pages a report may have (a trail of thousands of events still fits).
pub const MAX_PAGES: usize = 500;
/// Most figures (images) a report may have.
pub const MAX_FIGURES: usize = 64;

/// One piece of a report, laid out top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// The report's title, large.
    Title(String),
    /// A section heading.
    Heading(String),
    /// A paragraph, wrapped to the page.
    Text(String),
    /// A label and its value side by side (`mono`: the value in Courier, for hashes and serials).
    Field { label: String, value: String, mono: bool },
    /// An image (a PNG) with fields to its right, each label above its value.
    Figure { png: Vec<u8>, fields: Vec<(String, String, bool)> },
    /// A thin horizontal line.
    Rule,
}

impl Block {
    pub fn field(label: impl Into<String>, value: impl Into<String>) -> Self {
        Block::Field { label: label.into(), value: value.into(), mono: false }
    }
    pub fn mono(label: impl Into<String>, value: impl Into<String>) -> Self {
        Block::Field { label: label.into(), value: value.into(), mono: true }
    }
}

/// A report to write.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// The document's title (its Info dictionary; viewers show it).
    pub title: String,
    /// The line at the foot of every page, before the page number.
    pub footer: String,
    pub blocks: Vec<Block>,
}

/// Which font a run of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    Sans,
    Mono,
    Cjk,
}

/// A character as drawn: a WinAnsi byte in a standard font, or a glyph of the CJK font.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Glyph {
    Byte(u8),
    Cjk(u16),
}

/// A run of glyphs in one font, at a position.
#[derive(Debug, Clone)]
struct TextOp {
    x: f64,
    y: f64,
    size: f64,
    face: Face,
    grey: bool,
    glyphs: Vec<Glyph>,
}

#[derive(Debug, Clone)]
enum Op {
    Text(TextOp),
    /// Image `index` at x, y (lower left), w x h.
    Image {
        index: usize,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
    },
    Line {
        x0: f64,
        x1: f64,
        y: f64,
    },
}

/// The CJK font and what the report uses of it.
struct Fonts<'f> {
    face: ttf_parser::Face<'f>,
    units_per_em: f64,
    /// Glyphs used, with the character each one shows (for the ToUnicode map).
    used: BTreeMap<u16, char>,
}

impl<'f> Fonts<'f> {
    fn new(font: &'f [u8]) -> Result<Self, PadesError> {
        let face = ttf_parser::Face::parse(font, 0)
            .map_err(|e| PadesError::Report(format!("the report font cannot be read: {e}")))?;
        let units_per_em = f64::from(face.units_per_em().max(1));
        Ok(Fonts { face, units_per_em, used: BTreeMap::new() })
    }

    /// How `c` is drawn in text that is `mono` or not.
    fn glyph(&self, c: char, mono: bool) -> (Face, Glyph) {
        let latin = if mono { Face::Mono } else { Face::Sans };
        let c = match c {
            '\t' | '\n' | '\r' => ' ',
            c => c,
        };
        if invisible(c) {
            return (latin, Glyph::Byte(b'?'));
        }
        let v = u32::from(c);
        if (0x20..0x7f).contains(&v) {
            return (latin, Glyph::Byte(v as u8));
        }
        if let Some(g) = self.face.glyph_index(c).filter(|g| g.0 != 0) {
            return (Face::Cjk, Glyph::Cjk(g.0));
        }
        if (0xa0..0x100).contains(&v) {
            return (latin, Glyph::Byte(v as u8));
        }
        if let Some(&(_, byte, _)) = WIN_ANSI_EXTRA.iter().find(|(ch, _, _)| *ch == c) {
            return (latin, Glyph::Byte(byte));
        }
        (latin, Glyph::Byte(b'?'))
    }

    /// Advance of `g` at `size`, points.
    fn width(&self, face: Face, g: Glyph, size: f64) -> f64 {
        let units = match (face, g) {
            (Face::Mono, _) => 600.0,
            (_, Glyph::Byte(b)) => f64::from(helvetica_width(b)),
            (_, Glyph::Cjk(id)) => {
                f64::from(self.face.glyph_hor_advance(ttf_parser::GlyphId(id)).unwrap_or(0)) * 1000.0
                    / self.units_per_em
            }
        };
        units * size / 1000.0
    }

    fn advance_units(&self, id: u16) -> i64 {
        let a = f64::from(self.face.glyph_hor_advance(ttf_parser::GlyphId(id)).unwrap_or(0));
        (a * 1000.0 / self.units_per_em).round() as i64
    }
}

/// Control and invisible formatting characters (bidi overrides, zero-width characters): shown
/// as `?` so that nothing in a tenant's text is hidden or reordered.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(u32::from(c), 0x00ad | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x206f | 0xfeff | 0xfff9..=0xfffb)
}

/// A shaped character: its font, glyph, width and the character itself.
#[derive(Debug, Clone, Copy)]
struct Shaped {
    face: Face,
    glyph: Glyph,
    width: f64,
    ch: char,
}

/// Lines of shaped characters no wider than `width`: broken at spaces where a word fits, inside
/// a word (any CJK character, or a too-long word) where it does not.
fn wrap(fonts: &Fonts, text: &str, size: f64, mono: bool, width: f64) -> Vec<Vec<Shaped>> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let shaped: Vec<Shaped> = paragraph
            .chars()
            .map(|c| {
                let (face, glyph) = fonts.glyph(c, mono);
                Shaped { face, glyph, width: fonts.width(face, glyph, size), ch: c }
            })
            .collect();
        // words: a CJK glyph alone, a run of other non-space glyphs, or one space
        let mut words: Vec<&[Shaped]> = Vec::new();
        let mut start = 0;
        for i in 0..shaped.len() {
            let s = shaped[i];
            let alone = s.face == Face::Cjk || s.glyph == Glyph::Byte(b' ');
            let next_alone =
                shaped.get(i + 1).is_none_or(|n| n.face == Face::Cjk || n.glyph == Glyph::Byte(b' ') || alone);
            if next_alone {
                words.push(&shaped[start..=i]);
                start = i + 1;
            }
        }
        let mut line: Vec<Shaped> = Vec::new();
        let mut used = 0.0;
        // a finished line, without the spaces it ended with
        let flush = |line: &mut Vec<Shaped>, lines: &mut Vec<Vec<Shaped>>| {
            while line.last().is_some_and(|s| s.glyph == Glyph::Byte(b' ')) {
                line.pop();
            }
            lines.push(std::mem::take(line));
        };
        for word in words {
            let w: f64 = word.iter().map(|s| s.width).sum();
            let space = word.len() == 1 && word[0].glyph == Glyph::Byte(b' ');
            if used + w <= width || (space && !line.is_empty()) {
                line.extend_from_slice(word);
                used += w;
                continue;
            }
            if !line.is_empty() {
                flush(&mut line, &mut lines);
                used = 0.0;
            }
            if space {
                continue;
            }
            if w <= width {
                line.extend_from_slice(word);
                used = w;
                continue;
            }
            for s in word {
                if used + s.width > width && !line.is_empty() {
                    flush(&mut line, &mut lines);
                    used = 0.0;
                }
                line.push(*s);
                used += s.width;
            }
        }
        flush(&mut line, &mut lines);
    }
    lines
}

/// The runs of one line drawn from `x` at baseline `y`.
fn line_ops(fonts: &mut Fonts, line: &[Shaped], x: f64, y: f64, size: f64, grey: bool, ops: &mut Vec<Op>) {
    let mut x = x;
    let mut i = 0;
    while i < line.len() {
        let face = line[i].face;
        let mut op = TextOp { x, y, size, face, grey, glyphs: Vec::new() };
        while i < line.len() && line[i].face == face {
            let s = line[i];
            if let Glyph::Cjk(id) = s.glyph {
                fonts.used.entry(id).or_insert(s.ch);
            }
            op.glyphs.push(s.glyph);
            x += s.width;
            i += 1;
        }
        ops.push(Op::Text(op));
    }
}

/// Pages of drawing operations.
struct Layout<'f> {
    fonts: Fonts<'f>,
    pages: Vec<Vec<Op>>,
    y: f64,
    images: Vec<Raster>,
}

impl<'f> Layout<'f> {
    fn new(fonts: Fonts<'f>) -> Self {
        Layout { fonts, pages: vec![Vec::new()], y: TOP, images: Vec::new() }
    }

    /// Room for `height` more points on this page, else a new page.
    fn room(&mut self, height: f64) -> Result<(), PadesError> {
        if self.y - height < BOTTOM && self.y < TOP {
            if self.pages.len() >= MAX_PAGES {
                return Err(PadesError::Limit(format!("the report would exceed {MAX_PAGES} pages")));
            }
            self.pages.push(Vec::new());
            self.y = TOP;
        }
        Ok(())
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a layout always has a page")
    }

    /// Wrapped text at `x`, `width` wide, starting on this page; one line at a time so long
    /// text flows onto the next pages.
    fn text(&mut self, text: &str, x: f64, width: f64, size: f64, mono: bool, grey: bool) -> Result<(), PadesError> {
        let lead = size * LEADING;
        for line in wrap(&self.fonts, text, size, mono, width) {
            self.room(lead)?;
            self.y -= lead;
            let y = self.y + size * 0.3;
            let mut ops = Vec::new();
            line_ops(&mut self.fonts, &line, x, y, size, grey, &mut ops);
            self.ops().extend(ops);
        }
        Ok(())
    }

    /// A label and its value in two columns, at `x`, `width` wide in all.
    fn field(&mut self, label: &str, value: &str, mono: bool, x: f64, width: f64) -> Result<(), PadesError> {
        let lead = BODY * LEADING;
        let label_lines = wrap(&self.fonts, label, BODY, false, LABEL_WIDTH - GAP);
        let size = if mono { MONO } else { BODY };
        let value_lines = wrap(&self.fonts, value, size, mono, width - LABEL_WIDTH);
        let rows = label_lines.len().max(value_lines.len());
        // A short field stays on one page; a long one flows.
        if rows <= 6 {
            self.room(lead * rows as f64)?;
        }
        for row in 0..rows {
            self.room(lead)?;
            self.y -= lead;
            let y = self.y + BODY * 0.3;
            let mut ops = Vec::new();
            if let Some(l) = label_lines.get(row) {
                line_ops(&mut self.fonts, l, x, y, BODY, true, &mut ops);
            }
            if let Some(v) = value_lines.get(row) {
                line_ops(&mut self.fonts, v, x + LABEL_WIDTH, y, size, false, &mut ops);
            }
            self.ops().extend(ops);
        }
        Ok(())
    }

    fn block(&mut self, block: &Block) -> Result<(), PadesError> {
        match block {
            Block::Title(t) => {
                self.text(t, MARGIN, CONTENT_WIDTH, TITLE, false, false)?;
                self.y -= 6.0;
            }
            Block::Heading(t) => {
                self.room(HEADING * LEADING * 3.0)?;
                self.y -= 8.0;
                self.text(t, MARGIN, CONTENT_WIDTH, HEADING, false, false)?;
                self.y -= 2.0;
            }
            Block::Text(t) => {
                self.text(t, MARGIN, CONTENT_WIDTH, BODY, false, false)?;
                self.y -= 3.0;
            }
            Block::Field { label, value, mono } => self.field(label, value, *mono, MARGIN, CONTENT_WIDTH)?,
            Block::Figure { png, fields } => {
                if self.images.len() >= MAX_FIGURES {
                    return Err(PadesError::Limit(format!("a report holds at most {MAX_FIGURES} images")));
                }
                let raster = shrink(decode_png(png)?);
                let (w, h) = fit(raster.width, raster.height, FIGURE);
                self.room(FIGURE + 8.0)?;
                let top = self.y - 4.0;
                let index = self.images.len();
                let page = self.pages.len();
                self.images.push(raster);
                let (ix, iy) = (MARGIN + (FIGURE - w) / 2.0, top - FIGURE + (FIGURE - h) / 2.0);
                self.ops().push(Op::Image { index, x: ix, y: iy, w, h });
                self.y = top;
                // beside the image, each label above its value (a hash fits on one line)
                let (x, width) = (MARGIN + FIGURE + 12.0, CONTENT_WIDTH - FIGURE - 12.0);
                for (label, value, mono) in fields {
                    self.text(label, x, width, BODY * 0.85, false, true)?;
                    self.text(value, x, width, if *mono { MONO } else { BODY }, *mono, false)?;
                }
                // below the image when the fields were shorter (and still on its page)
                if self.pages.len() == page && self.y > top - FIGURE - 8.0 {
                    self.y = top - FIGURE - 8.0;
                }
            }
            Block::Rule => {
                self.room(10.0)?;
                self.y -= 5.0;
                let y = self.y;
                self.ops().push(Op::Line { x0: MARGIN, x1: PAGE_WIDTH - MARGIN, y });
                self.y -= 5.0;
            }
        }
        Ok(())
    }
}

/// Width and height of an image of `w` x `h` pixels fitted in a square of `side` points.
fn fit(w: u32, h: u32, side: f64) -> (f64, f64) {
    let (w, h) = (f64::from(w.max(1)), f64::from(h.max(1)));
    let s = side / w.max(h);
    (w * s, h * s)
}

/// Scales a raster down by the smallest whole factor that brings its longest side to at most
/// [`MAX_IMAGE_PX`] (box filter, alpha included), so a 2000 px seal costs no more than a 400 px one.
fn shrink(r: Raster) -> Raster {
    let factor = r.width.max(r.height).div_ceil(MAX_IMAGE_PX).max(1);
    if factor == 1 {
        return r;
    }
    let (w, h) = (r.width / factor, r.height / factor);
    let (w, h) = (w.max(1), h.max(1));
    let cc = if r.gray { 1 } else { 3 };
    let mut color = Vec::with_capacity((w * h) as usize * cc);
    let mut alpha = r.alpha.as_ref().map(|_| Vec::with_capacity((w * h) as usize));
    let f = factor as usize;
    let src_w = r.width as usize;
    for y in 0..h as usize {
        for x in 0..w as usize {
            let mut sums = [0u32; 4];
            for dy in 0..f {
                for dx in 0..f {
                    let p = (y * f + dy) * src_w + (x * f + dx);
                    for (c, sum) in sums.iter_mut().enumerate().take(cc) {
                        *sum += u32::from(r.color.get(p * cc + c).copied().unwrap_or(0));
                    }
                    if let Some(a) = &r.alpha {
                        sums[3] += u32::from(a.get(p).copied().unwrap_or(0));
                    }
                }
            }
            let n = (f * f) as u32;
            for sum in sums.iter().take(cc) {
                color.push((sum / n) as u8);
            }
            if let Some(a) = alpha.as_mut() {
                a.push((sums[3] / n) as u8);
            }
        }
    }
    Raster { width: w, height: h, gray: r.gray, color, alpha }
}

/// Helvetica advance widths (AFM) of WinAnsi bytes; Latin-1 letters approximated.
fn helvetica_width(c: u8) -> u16 {
    const W: [u16; 95] = [
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 32-47
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 48-63
        1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // 64-79
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 80-95
        333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // 96-111
        556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // 112-126
    ];
    if (32..127).contains(&c) {
        W[(c - 32) as usize]
    } else {
        WIN_ANSI_EXTRA.iter().find(|(_, byte, _)| *byte == c).map_or(556, |&(_, _, w)| w)
    }
}

/// WinAnsiEncoding's bytes 0x80-0x9F (ISO 32000-1, Annex D) with their Helvetica widths: the
/// punctuation Latin-1 lacks (dashes, curly quotes, the ellipsis, the euro), which the CJK font
/// does not all have either.
const WIN_ANSI_EXTRA: [(char, u8, u16); 27] = [
    ('€', 0x80, 556),
    ('‚', 0x82, 222),
    ('ƒ', 0x83, 556),
    ('„', 0x84, 333),
    ('…', 0x85, 1000),
    ('†', 0x86, 556),
    ('‡', 0x87, 556),
    ('ˆ', 0x88, 333),
    ('‰', 0x89, 1000),
    ('Š', 0x8a, 667),
    ('‹', 0x8b, 333),
    ('Œ', 0x8c, 1000),
    ('Ž', 0x8e, 611),
    ('‘', 0x91, 222),
    ('’', 0x92, 222),
    ('“', 0x93, 333),
    ('”', 0x94, 333),
    ('•', 0x95, 350),
    ('–', 0x96, 556),
    ('—', 0x97, 1000),
    ('˜', 0x98, 333),
    ('™', 0x99, 1000),
    ('š', 0x9a, 500),
    ('›', 0x9b, 333),
    ('œ', 0x9c, 944),
    ('ž', 0x9e, 500),
    ('Ÿ', 0x9f, 667),
];

fn flate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(9));
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn hex_glyphs(op: &TextOp, cids: &BTreeMap<u16, u16>) -> String {
    let mut s = String::with_capacity(op.glyphs.len() * 4 + 2);
    s.push('<');
    for g in &op.glyphs {
        match *g {
            Glyph::Byte(b) => s.push_str(&format!("{b:02X}")),
            Glyph::Cjk(id) => s.push_str(&format!("{:04X}", cids.get(&id).copied().unwrap_or(0))),
        }
    }
    s.push('>');
    s
}

/// The content stream of one page.
fn page_content(ops: &[Op], cids: &BTreeMap<u16, u16>, footer: &[Op]) -> Vec<u8> {
    let mut s = String::new();
    for op in ops.iter().chain(footer) {
        match op {
            Op::Text(t) => {
                let font = match t.face {
                    Face::Sans => "F1",
                    Face::Mono => "F2",
                    Face::Cjk => "F3",
                };
                let colour = if t.grey { "0.35 0.35 0.4 rg" } else { "0.05 0.05 0.1 rg" };
                s.push_str(&format!(
                    "BT {colour} /{font} {} Tf {} {} Td {} Tj ET\n",
                    fmt_real(t.size),
                    fmt_real(t.x),
                    fmt_real(t.y),
                    hex_glyphs(t, cids)
                ));
            }
            Op::Image { index, x, y, w, h } => {
                s.push_str(&format!(
                    "q {} 0 0 {} {} {} cm /Im{index} Do Q\n",
                    fmt_real(*w),
                    fmt_real(*h),
                    fmt_real(*x),
                    fmt_real(*y)
                ));
            }
            Op::Line { x0, x1, y } => {
                s.push_str(&format!(
                    "q 0.6 0.6 0.65 RG 0.5 w {} {} m {} {} l S Q\n",
                    fmt_real(*x0),
                    fmt_real(*y),
                    fmt_real(*x1),
                    fmt_real(*y)
                ));
            }
        }
    }
    s.into_bytes()
}

/// Objects of the file being written, numbered from 1.
struct Objects(Vec<Vec<u8>>);

impl Objects {
    /// Reserves the next object number.
    fn reserve(&mut self) -> u32 {
        self.0.push(Vec::new());
        self.0.len() as u32
    }
    fn set(&mut self, num: u32, o: &Obj) {
        let mut v = Vec::new();
        write_obj(&mut v, o);
        self.0[(num - 1) as usize] = v;
    }
    fn add(&mut self, o: &Obj) -> u32 {
        let n = self.reserve();
        self.set(n, o);
        n
    }
}

fn r(n: u32) -> Obj {
    Obj::Ref(n, 0)
}

/// A text string (PDF 7.9.2.2): UTF-16BE with its byte order mark.
fn text_string(s: &str) -> Obj {
    let mut b = vec![0xfe, 0xff];
    for u in s.encode_utf16() {
        b.extend_from_slice(&u.to_be_bytes());
    }
    Obj::Str(b)
}

/// The ToUnicode CMap of the subset: CID -> the character it shows.
fn to_unicode(map: &[(u16, char)]) -> Vec<u8> {
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for chunk in map.chunks(100) {
        s.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (cid, c) in chunk {
            let mut units = [0u16; 2];
            let hex: String = c.encode_utf16(&mut units).iter().map(|u| format!("{u:04X}")).collect();
            s.push_str(&format!("<{cid:04X}> <{hex}>\n"));
        }
        s.push_str("endbfchar\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s.into_bytes()
}

/// The subset of the CJK font as a Type0 font; answers its object number and the CID of each
/// glyph used.
fn embed_cjk_font(objects: &mut Objects, fonts: &Fonts, font: &[u8]) -> Result<(u32, BTreeMap<u16, u16>), PadesError> {
    let mut remapper = subsetter::GlyphRemapper::new();
    let mut cids = BTreeMap::new();
    for &id in fonts.used.keys() {
        cids.insert(id, remapper.remap(id));
    }
    let subset = subsetter::subset(font, 0, &remapper)
        .map_err(|e| PadesError::Report(format!("the report font cannot be subset: {e}")))?;
    // A subset's tag: six capital letters from the glyphs it holds.
    let digest = Sha256::digest(fonts.used.keys().flat_map(|g| g.to_be_bytes()).collect::<Vec<u8>>());
    let tag: String = digest.iter().take(6).map(|b| char::from(b'A' + b % 26)).collect();
    let base = format!("{tag}+DroidSansFallback");
    let face = &fonts.face;
    let scale = |v: i16| (f64::from(v) * 1000.0 / fonts.units_per_em).round() as i64;
    let bbox = face.global_bounding_box();
    let file = objects.add(&Obj::Stream(
        Dict::new().with("Length1", Obj::Int(subset.len() as i64)).with("Filter", Obj::name("FlateDecode")),
        flate(&subset),
    ));
    let descriptor = objects.add(&Obj::Dict(
        Dict::new()
            .with("Type", Obj::name("FontDescriptor"))
            .with("FontName", Obj::name(&base))
            .with("Flags", Obj::Int(4))
            .with(
                "FontBBox",
                Obj::Array(vec![
                    Obj::Int(scale(bbox.x_min)),
                    Obj::Int(scale(bbox.y_min)),
                    Obj::Int(scale(bbox.x_max)),
                    Obj::Int(scale(bbox.y_max)),
                ]),
            )
            .with("ItalicAngle", Obj::Int(0))
            .with("Ascent", Obj::Int(scale(face.ascender())))
            .with("Descent", Obj::Int(scale(face.descender())))
            .with("CapHeight", Obj::Int(scale(face.capital_height().unwrap_or(face.ascender()))))
            .with("StemV", Obj::Int(80))
            .with("FontFile2", r(file)),
    ));
    // widths: CIDs are 1..=n in the order of the original glyph ids (0 is .notdef)
    let mut by_cid: Vec<(u16, u16)> = cids.iter().map(|(&g, &c)| (c, g)).collect();
    by_cid.sort_unstable();
    let widths: Vec<Obj> = by_cid.iter().map(|&(_, g)| Obj::Int(fonts.advance_units(g))).collect();
    let mut w = Vec::new();
    if let Some(&(first, _)) = by_cid.first() {
        w = vec![Obj::Int(i64::from(first)), Obj::Array(widths)];
    }
    let cid_font = objects.add(&Obj::Dict(
        Dict::new()
            .with("Type", Obj::name("Font"))
            .with("Subtype", Obj::name("CIDFontType2"))
            .with("BaseFont", Obj::name(&base))
            .with(
                "CIDSystemInfo",
                Obj::Dict(
                    Dict::new()
                        .with("Registry", Obj::str("Adobe"))
                        .with("Ordering", Obj::str("Identity"))
                        .with("Supplement", Obj::Int(0)),
                ),
            )
            .with("FontDescriptor", r(descriptor))
            .with("DW", Obj::Int(1000))
            .with("W", Obj::Array(w))
            .with("CIDToGIDMap", Obj::name("Identity")),
    ));
    let map: Vec<(u16, char)> = by_cid.iter().filter_map(|&(cid, g)| fonts.used.get(&g).map(|&c| (cid, c))).collect();
    let cmap =
        objects.add(&Obj::Stream(Dict::new().with("Filter", Obj::name("FlateDecode")), flate(&to_unicode(&map))));
    let type0 = objects.add(&Obj::Dict(
        Dict::new()
            .with("Type", Obj::name("Font"))
            .with("Subtype", Obj::name("Type0"))
            .with("BaseFont", Obj::name(&base))
            .with("Encoding", Obj::name("Identity-H"))
            .with("DescendantFonts", Obj::Array(vec![r(cid_font)]))
            .with("ToUnicode", r(cmap)),
    ));
    Ok((type0, cids))
}

fn standard_font(objects: &mut Objects, name: &str) -> u32 {
    objects.add(&Obj::Dict(
        Dict::new()
            .with("Type", Obj::name("Font"))
            .with("Subtype", Obj::name("Type1"))
            .with("BaseFont", Obj::name(name))
            .with("Encoding", Obj::name("WinAnsiEncoding")),
    ))
}

fn image_object(objects: &mut Objects, raster: &Raster) -> u32 {
    let smask = raster.alpha.as_ref().map(|a| {
        objects.add(&Obj::Stream(
            Dict::new()
                .with("Type", Obj::name("XObject"))
                .with("Subtype", Obj::name("Image"))
                .with("Width", Obj::Int(i64::from(raster.width)))
                .with("Height", Obj::Int(i64::from(raster.height)))
                .with("ColorSpace", Obj::name("DeviceGray"))
                .with("BitsPerComponent", Obj::Int(8))
                .with("Filter", Obj::name("FlateDecode")),
            flate(a),
        ))
    });
    let mut d = Dict::new()
        .with("Type", Obj::name("XObject"))
        .with("Subtype", Obj::name("Image"))
        .with("Width", Obj::Int(i64::from(raster.width)))
        .with("Height", Obj::Int(i64::from(raster.height)))
        .with("ColorSpace", Obj::name(if raster.gray { "DeviceGray" } else { "DeviceRGB" }))
        .with("BitsPerComponent", Obj::Int(8))
        .with("Filter", Obj::name("FlateDecode"));
    if let Some(m) = smask {
        d.set("SMask", r(m));
    }
    objects.add(&Obj::Stream(d, flate(&raster.color)))
}

/// Writes `report` as a PDF, its non-Latin text in `cjk_font` (TrueType bytes).
pub fn write_report(report: &Report, cjk_font: &[u8]) -> Result<Vec<u8>, PadesError> {
    let mut layout = Layout::new(Fonts::new(cjk_font)?);
    for block in &report.blocks {
        layout.block(block)?;
    }
    // footers, now that the number of pages is known
    let total = layout.pages.len();
    let mut footers = Vec::with_capacity(total);
    for n in 1..=total {
        let text = format!("{}    第 {n} 页，共 {total} 页  Page {n} of {total}", report.footer);
        let lines = wrap(&layout.fonts, &text, 7.5, false, CONTENT_WIDTH);
        let mut ops = Vec::new();
        if let Some(line) = lines.first() {
            line_ops(&mut layout.fonts, line, MARGIN, MARGIN, 7.5, true, &mut ops);
        }
        ops.push(Op::Line { x0: MARGIN, x1: PAGE_WIDTH - MARGIN, y: MARGIN + 10.0 });
        footers.push(ops);
    }

    let mut objects = Objects(Vec::new());
    let catalog = objects.reserve();
    let pages_num = objects.reserve();
    let f1 = standard_font(&mut objects, "Helvetica");
    let f2 = standard_font(&mut objects, "Courier");
    let (f3, cids) = embed_cjk_font(&mut objects, &layout.fonts, cjk_font)?;
    let images: Vec<u32> = layout.images.iter().map(|img| image_object(&mut objects, img)).collect();
    let mut xobjects = Dict::new();
    for (i, n) in images.iter().enumerate() {
        xobjects.set(&format!("Im{i}"), r(*n));
    }
    let resources = Dict::new()
        .with("Font", Obj::Dict(Dict::new().with("F1", r(f1)).with("F2", r(f2)).with("F3", r(f3))))
        .with("XObject", Obj::Dict(xobjects))
        .with(
            "ProcSet",
            Obj::Array(vec![Obj::name("PDF"), Obj::name("Text"), Obj::name("ImageC"), Obj::name("ImageB")]),
        );
    let resources = objects.add(&Obj::Dict(resources));
    let mut kids = Vec::with_capacity(total);
    for (ops, footer) in layout.pages.iter().zip(&footers) {
        let content = page_content(ops, &cids, footer);
        let content = objects.add(&Obj::Stream(Dict::new().with("Filter", Obj::name("FlateDecode")), flate(&content)));
        let page = objects.add(&Obj::Dict(
            Dict::new()
                .with("Type", Obj::name("Page"))
                .with("Parent", r(pages_num))
                .with(
                    "MediaBox",
                    Obj::Array(vec![Obj::Int(0), Obj::Int(0), Obj::Real(PAGE_WIDTH), Obj::Real(PAGE_HEIGHT)]),
                )
                .with("Resources", r(resources))
                .with("Contents", r(content)),
        ));
        kids.push(r(page));
    }
    objects.set(
        pages_num,
        &Obj::Dict(
            Dict::new()
                .with("Type", Obj::name("Pages"))
                .with("Count", Obj::Int(total as i64))
                .with("Kids", Obj::Array(kids)),
        ),
    );
    objects.set(
        catalog,
        &Obj::Dict(
            Dict::new().with("Type", Obj::name("Catalog")).with("Pages", r(pages_num)).with("Lang", Obj::str("zh-CN")),
        ),
    );
    let info = objects.add(&Obj::Dict(
        Dict::new()
            .with("Title", text_string(&report.title))
            .with("Producer", Obj::str("esign evidence report (esign-pades)")),
    ));

    // the file: header, objects, cross-reference table, trailer
    let mut out: Vec<u8> = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.0.len());
    let mut hasher = Sha256::new();
    for (i, body) in objects.0.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
        hasher.update(body);
    }
    let id = hex::encode(&hasher.finalize()[..16]);
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.0.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root {catalog} 0 R /Info {info} 0 R /ID [<{id}> <{id}>] >>\nstartxref\n{xref}\n%%EOF\n",
            objects.0.len() + 1
        )
        .as_bytes(),
    );
    Ok(out)
}

#[cfg(test)]
mod tests;
