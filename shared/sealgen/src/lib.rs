//! Draws a generated official seal (电子公章) as a PNG: a round red seal on a transparent background,
//! with a thick outer ring, the company name running clockwise along the upper rim, a five-pointed star
//! in the centre and the seal type (e.g. "合同专用章") written below the star.
//!
//! Text uses the Droid Sans Fallback font (Apache-2.0, see `fonts/LICENSE`), read once per process
//! from the file [`ENV_FONT`] names, else from this crate's `fonts/` in the source tree (the local
//! server and tests). It is not compiled in: 4 MB that every Lambda function would carry while only
//! the two that draw seals need it; those get the file from a Lambda layer (`SealFontLayer` in
//! `infra/template.yaml`, at `/opt`). The ink is one red; anti-aliasing goes through the alpha channel only, so every
//! visible pixel keeps the seal's red.
//!
//! ```
//! let png = esign_sealgen::render(&esign_sealgen::SealSpec::new("深圳市前海数字科技有限公司", "合同专用章"))?;
//! assert_eq!(&png[1..4], b"PNG");
//! # Ok::<(), esign_sealgen::SealGenError>(())
//! ```

use std::f32::consts::PI;
use std::fmt;
use std::sync::OnceLock;

use tiny_skia::{FillRule, LineJoin, Paint, Path, PathBuilder, Pixmap, Stroke, Transform};
use ttf_parser::{Face, GlyphId, OutlineBuilder};

/// The environment variable naming the font file (deployed: the layer's copy under `/opt`).
pub const ENV_FONT: &str = "ESIGN_SEAL_FONT";
/// The font's file name, in `fonts/` here and at the root of the deployed layer.
pub const FONT_FILE: &str = "DroidSansFallbackFull.ttf";
/// The CJK font in the source tree: Droid Sans Fallback, from AOSP via Debian's `fonts-droid-fallback`.
const SOURCE_FONT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fonts/DroidSansFallbackFull.ttf");

/// The font's bytes, read on first use and kept for the life of the process.
fn font_bytes() -> Result<&'static [u8], SealGenError> {
    static FONT: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    FONT.get_or_init(|| read_font(std::env::var_os(ENV_FONT)))
        .as_deref()
        .map_err(|e| SealGenError::FontUnavailable(e.clone()))
}

/// The font seals are drawn with (TrueType bytes, read once per process from [`ENV_FONT`] or
/// the source tree): for other text the platform draws in Chinese, such as evidence reports.
pub fn font() -> Result<&'static [u8], SealGenError> {
    font_bytes()
}

/// Reads the font at `path`, or the source tree's copy.
fn read_font(path: Option<std::ffi::OsString>) -> Result<Vec<u8>, String> {
    let path = path.map_or_else(|| SOURCE_FONT.into(), std::path::PathBuf::from);
    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The ink colour, an official-seal red.
pub const INK: [u8; 3] = [220, 30, 30];
/// Side of the square image when none is chosen, in pixels.
pub const DEFAULT_SIZE_PX: u32 = 600;
/// Smallest and largest side, in pixels.
pub const MIN_SIZE_PX: u32 = 200;
pub const MAX_SIZE_PX: u32 = 2000;
/// Shortest and longest company name, in characters (after trimming).
pub const MIN_COMPANY_CHARS: usize = 2;
pub const MAX_COMPANY_CHARS: usize = 40;
/// Longest seal type label, in characters (after trimming).
pub const MAX_LABEL_CHARS: usize = 12;

// Layout, in units of the seal's radius (half the image side).
const RING_OUTER: f32 = 0.96;
const RING_WIDTH: f32 = 0.075;
/// Space between the ring and the tops of the name's glyphs.
const NAME_TOP_GAP: f32 = 0.055;
/// Em size of the name's glyphs when the name is short enough.
const NAME_EM: f32 = 0.27;
/// Outer radius of the star; its inner radius follows from a regular pentagram.
const STAR_RADIUS: f32 = 0.3;
/// Vertical centre of the label below the centre, its em size, and its narrowest and widest extent.
const LABEL_CENTRE_Y: f32 = 0.5;
const LABEL_EM: f32 = 0.19;
const LABEL_MIN_WIDTH: f32 = 0.4;
const LABEL_MAX_WIDTH: f32 = 1.0;
// Spacing, in ems of the text's own size.
const NAME_GAP_MIN: f32 = 0.08;
const NAME_GAP_MAX: f32 = 0.5;
const LABEL_GAP: f32 = 0.12;
/// Narrowest horizontal condensing before the glyphs are made smaller instead.
const CONDENSE_MIN: f32 = 0.55;
/// Advance of a space, in ems.
const SPACE_ADVANCE: f32 = 0.5;
/// Width of the stroke that thickens glyphs, in ems.
const EMBOLDEN: f32 = 0.025;
/// Least distance between the label and the ends of the name.
const LABEL_CLEARANCE: f32 = 0.08;
/// Space either side of a narrow glyph's ink, in ems.
const NARROW_MARGIN: f32 = 0.1;

/// What to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealSpec<'a> {
    /// Company name, written clockwise along the upper rim (2 to 40 characters).
    pub company: &'a str,
    /// Seal type written below the star, such as "合同专用章"; may be empty (at most 12 characters).
    pub label: &'a str,
    /// Side of the square PNG, 200 to 2000 px.
    pub size_px: u32,
}

impl<'a> SealSpec<'a> {
    /// A spec at the default size of 600 px.
    pub fn new(company: &'a str, label: &'a str) -> Self {
        Self { company, label, size_px: DEFAULT_SIZE_PX }
    }
}

/// Which text of the spec an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Company,
    Label,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Company => "company name",
            Field::Label => "label",
        })
    }
}

/// Why a seal could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealGenError {
    #[error("the seal size must be {MIN_SIZE_PX} to {MAX_SIZE_PX} px, not {0}")]
    InvalidSize(u32),
    #[error("the company name is empty")]
    EmptyCompany,
    #[error("the company name has {0} characters; {MIN_COMPANY_CHARS} to {MAX_COMPANY_CHARS} are allowed")]
    CompanyLength(usize),
    #[error("the label has {0} characters; at most {MAX_LABEL_CHARS} are allowed")]
    LabelLength(usize),
    #[error("the {field} contains the control character U+{:04X}", u32::from(*ch))]
    ControlCharacter { field: Field, ch: char },
    #[error("the seal font has no glyph for '{ch}' (U+{:04X}) in the {field}", u32::from(*ch))]
    MissingGlyph { field: Field, ch: char },
    #[error("the seal font cannot be read ({0}); set {ENV_FONT} to the font file")]
    FontUnavailable(String),
    #[error("the seal font cannot be parsed")]
    Font,
    #[error("the PNG could not be encoded: {0}")]
    Encode(String),
}

/// Draws the seal and returns it as an RGBA PNG of `size_px` × `size_px`.
///
/// Both texts are trimmed. Latin letters, digits and ASCII punctuation, which the font has only in
/// full-width form, are drawn with those forms; any other character the font lacks is an error. The same
/// spec always gives the same bytes (with the same build).
pub fn render(spec: &SealSpec) -> Result<Vec<u8>, SealGenError> {
    if !(MIN_SIZE_PX..=MAX_SIZE_PX).contains(&spec.size_px) {
        return Err(SealGenError::InvalidSize(spec.size_px));
    }
    let company = checked_text(spec.company, Field::Company)?;
    let company_chars = company.chars().count();
    if company_chars == 0 {
        return Err(SealGenError::EmptyCompany);
    }
    if !(MIN_COMPANY_CHARS..=MAX_COMPANY_CHARS).contains(&company_chars) {
        return Err(SealGenError::CompanyLength(company_chars));
    }
    let label = checked_text(spec.label, Field::Label)?;
    let label_chars = label.chars().count();
    if label_chars > MAX_LABEL_CHARS {
        return Err(SealGenError::LabelLength(label_chars));
    }

    let font = Font::new()?;
    let name_glyphs = font.glyphs(company, Field::Company)?;
    let label_glyphs = font.glyphs(label, Field::Label)?;

    let side = spec.size_px;
    let mut pixmap = Pixmap::new(side, side).ok_or(SealGenError::InvalidSize(side))?;
    let mut canvas = Canvas { pixmap: &mut pixmap, radius: side as f32 / 2.0, font: &font };
    canvas.ring();
    canvas.star();
    let name_extent = canvas.name(&name_glyphs);
    canvas.label(&label_glyphs, name_extent);
    encode(&pixmap)
}

/// Trims the text and refuses control characters.
fn checked_text(text: &str, field: Field) -> Result<&str, SealGenError> {
    if let Some(ch) = text.chars().find(|c| c.is_control()) {
        return Err(SealGenError::ControlCharacter { field, ch });
    }
    Ok(text.trim())
}

/// One character ready to draw: its outline in font units (none for spaces), its advance in ems and the
/// horizontal position, in font units, that goes in the middle of that advance.
struct Glyph {
    outline: Option<Path>,
    advance: f32,
    middle: f32,
}

struct Font {
    face: Face<'static>,
    units_per_em: f32,
    /// Vertical middle of an ideograph's ink, in font units above the baseline.
    middle: f32,
    /// Half the height of an ideograph's ink, in ems.
    half_height: f32,
}

impl Font {
    fn new() -> Result<Self, SealGenError> {
        let face = Face::parse(font_bytes()?, 0).map_err(|_| SealGenError::Font)?;
        let units_per_em = f32::from(face.units_per_em());
        // The ink box of 国, a full-height ideograph, sets where CJK glyphs sit vertically.
        let (middle, half_height) = match face.glyph_index('国').and_then(|id| face.glyph_bounding_box(id)) {
            Some(b) => ((f32::from(b.y_min) + f32::from(b.y_max)) / 2.0, f32::from(b.y_max - b.y_min) / 2.0),
            None => {
                let (asc, desc) = (f32::from(face.ascender()), f32::from(face.descender()));
                ((asc + desc) / 2.0, (asc - desc) / 2.0)
            }
        };
        Ok(Self { face, units_per_em, middle, half_height: half_height / units_per_em })
    }

    fn glyphs(&self, text: &str, field: Field) -> Result<Vec<Glyph>, SealGenError> {
        text.chars().map(|ch| self.glyph(ch, field)).collect()
    }

    fn glyph(&self, ch: char, field: Field) -> Result<Glyph, SealGenError> {
        if ch.is_whitespace() {
            return Ok(Glyph { outline: None, advance: SPACE_ADVANCE, middle: 0.0 });
        }
        let missing = SealGenError::MissingGlyph { field, ch };
        let id = self.glyph_id(ch).ok_or_else(|| missing.clone())?;
        let mut builder = Outline(PathBuilder::new());
        let ink = self.face.outline_glyph(id, &mut builder).ok_or_else(|| missing.clone())?;
        let outline = builder.0.finish().ok_or(missing)?;
        let upem = self.units_per_em;
        let advance = self.face.glyph_hor_advance(id).map_or(upem, f32::from) / upem;
        // Narrow glyphs (Latin letters, digits, brackets, punctuation) get their own width plus a margin
        // instead of a full em, so they do not leave holes in the name.
        let ink_width = (f32::from(ink.x_max) - f32::from(ink.x_min)) / upem;
        if ink_width + 2.0 * NARROW_MARGIN < advance {
            let middle = (f32::from(ink.x_min) + f32::from(ink.x_max)) / 2.0;
            Ok(Glyph { outline: Some(outline), advance: ink_width + 2.0 * NARROW_MARGIN, middle })
        } else {
            Ok(Glyph { outline: Some(outline), advance, middle: advance * upem / 2.0 })
        }
    }

    /// The glyph for `ch`, or for its full-width form: the font has no Latin letters, digits or ASCII
    /// punctuation of its own, only their full-width forms (which also suit a seal's even spacing).
    fn glyph_id(&self, ch: char) -> Option<GlyphId> {
        self.face.glyph_index(ch).or_else(|| {
            let substitute = match ch {
                '!'..='~' => char::from_u32(u32::from(ch) + 0xFEE0),
                '\u{B7}' | '\u{2022}' | '\u{2027}' => Some('\u{30FB}'),
                '\u{2010}'..='\u{2015}' => Some('\u{FF0D}'),
                _ => None,
            }?;
            self.face.glyph_index(substitute)
        })
    }
}

/// Collects a glyph outline into a tiny-skia path, in font units (y up).
struct Outline(PathBuilder);

impl OutlineBuilder for Outline {
    fn move_to(&mut self, x: f32, y: f32) {
        self.0.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.0.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        self.0.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.0.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.0.close();
    }
}

struct Canvas<'p> {
    pixmap: &'p mut Pixmap,
    /// Half the side: the unit of the layout constants; also the centre's coordinates.
    radius: f32,
    font: &'p Font,
}

impl Canvas<'_> {
    fn paint(&self) -> Paint<'static> {
        let mut paint = Paint::default();
        paint.set_color_rgba8(INK[0], INK[1], INK[2], 255);
        paint.anti_alias = true;
        paint
    }

    fn fill(&mut self, path: &Path, rule: FillRule, transform: Transform) {
        self.pixmap.fill_path(path, &self.paint(), rule, transform, None);
    }

    fn ring(&mut self) {
        let (c, r) = (self.radius, self.radius);
        let mut pb = PathBuilder::new();
        pb.push_circle(c, c, RING_OUTER * r);
        pb.push_circle(c, c, (RING_OUTER - RING_WIDTH) * r);
        if let Some(path) = pb.finish() {
            self.fill(&path, FillRule::EvenOdd, Transform::identity());
        }
    }

    fn star(&mut self) {
        let (c, r) = (self.radius, self.radius);
        let outer = STAR_RADIUS * r;
        // A regular pentagram's inner vertices lie at sin 18° / sin 54° of the outer radius.
        let inner = outer * (PI / 10.0).sin() / (3.0 * PI / 10.0).sin();
        let mut pb = PathBuilder::new();
        for k in 0..10 {
            let a = -PI / 2.0 + k as f32 * PI / 5.0;
            let d = if k % 2 == 0 { outer } else { inner };
            let (x, y) = (c + d * a.cos(), c + d * a.sin());
            if k == 0 { pb.move_to(x, y) } else { pb.line_to(x, y) }
        }
        pb.close();
        if let Some(path) = pb.finish() {
            self.fill(&path, FillRule::Winding, Transform::identity());
        }
    }

    /// Draws `glyph` with its ink centred on (`x`, `y`), `em` px tall, horizontally scaled by `condense`,
    /// turned clockwise by `angle` radians.
    fn glyph(&mut self, glyph: &Glyph, x: f32, y: f32, em: f32, condense: f32, angle: f32) {
        let Some(outline) = &glyph.outline else { return };
        let s = em / self.font.units_per_em;
        let sx = s * condense;
        let (sin, cos) = angle.sin_cos();
        let u0 = glyph.middle;
        let v0 = self.font.middle;
        let ts = Transform::from_row(
            cos * sx,
            sin * sx,
            sin * s,
            -cos * s,
            x - cos * sx * u0 - sin * s * v0,
            y - sin * sx * u0 + cos * s * v0,
        );
        // Filled and stroked a little, in pixels (so condensing does not thin the strokes): seal ink is
        // heavier than a screen font.
        let Some(path) = outline.clone().transform(ts) else { return };
        self.fill(&path, FillRule::Winding, Transform::identity());
        let stroke = Stroke { width: EMBOLDEN * em, line_join: LineJoin::Round, ..Stroke::default() };
        self.pixmap.stroke_path(&path, &self.paint(), &stroke, Transform::identity(), None);
    }

    /// The company name, clockwise along the upper rim, each glyph's top towards the ring. Returns where
    /// its ink ends: the radius of the glyphs' feet and the angle of the name's ends from the top.
    fn name(&mut self, glyphs: &[Glyph]) -> (f32, f32) {
        let r = self.radius;
        let n = glyphs.len();
        if n == 0 {
            return (r, 0.0);
        }
        let gaps = (n - 1) as f32;
        let width: f32 = glyphs.iter().map(|g| g.advance).sum();
        let top = (RING_OUTER - RING_WIDTH - NAME_TOP_GAP) * r;
        let half_height = self.font.half_height;
        // Longer names take a wider arc, 210° to 260°.
        let span = (180.0 + 5.0 * n as f32).clamp(210.0, 260.0).to_radians();

        let mut em = NAME_EM * r;
        let mut centre = top - half_height * em;
        let mut length = span * centre;
        let (condense, gap);
        if width * em + gaps * NAME_GAP_MIN * em <= length {
            condense = 1.0;
            // Spread out to fill the arc, but not so far that the name falls apart.
            gap = if n > 1 { ((length / em - width) / gaps).min(NAME_GAP_MAX) } else { 0.0 };
        } else {
            let fit = (length / em - gaps * NAME_GAP_MIN) / width;
            if fit >= CONDENSE_MIN {
                condense = fit;
            } else {
                // Smaller glyphs, at the narrowest condensing: solve em * (c·w + g·gaps) = span · (top − h·em).
                condense = CONDENSE_MIN;
                em = span * top / (CONDENSE_MIN * width + gaps * NAME_GAP_MIN + span * half_height);
                centre = top - half_height * em;
            }
            gap = NAME_GAP_MIN;
        }
        length = em * (condense * width + gap * gaps);

        let mut along = -length / 2.0;
        for glyph in glyphs {
            let w = condense * glyph.advance * em;
            let angle = (along + w / 2.0) / centre;
            let (x, y) = (r + centre * angle.sin(), r - centre * angle.cos());
            self.glyph(glyph, x, y, em, condense, angle);
            along += w + gap * em;
        }
        (centre - half_height * em, length / 2.0 / centre)
    }

    /// The label, horizontal and centred below the star, clear of the name's ends (see [`Self::name`]).
    fn label(&mut self, glyphs: &[Glyph], (name_feet, name_end): (f32, f32)) {
        let r = self.radius;
        let n = glyphs.len();
        if n == 0 {
            return;
        }
        let gaps = (n - 1) as f32;
        let width: f32 = glyphs.iter().map(|g| g.advance).sum();
        let mut em = LABEL_EM * r;
        // A long name comes round below the label's top: the label's corners must stay either inside the
        // circle of the name's feet or short of the angle where the name ends.
        let y_top = LABEL_CENTRE_Y * r - self.font.half_height * em;
        let y_bottom = LABEL_CENTRE_Y * r + self.font.half_height * em;
        let clearance = LABEL_CLEARANCE * r;
        let below_end = PI - name_end;
        let by_angle =
            if below_end < PI / 2.0 { y_top * below_end.tan() - clearance } else { LABEL_MAX_WIDTH * r / 2.0 };
        let by_radius = ((name_feet - clearance).powi(2) - y_bottom.powi(2)).max(0.0).sqrt();
        let max = (2.0 * by_angle.max(by_radius)).max(LABEL_MIN_WIDTH * r).min(LABEL_MAX_WIDTH * r);
        let fit = (max / em - gaps * LABEL_GAP) / width;
        let condense = if fit >= 1.0 {
            1.0
        } else if fit >= CONDENSE_MIN {
            fit
        } else {
            em = max / (CONDENSE_MIN * width + gaps * LABEL_GAP);
            CONDENSE_MIN
        };
        let length = em * (condense * width + gaps * LABEL_GAP);
        let y = r + LABEL_CENTRE_Y * r;
        let mut x = r - length / 2.0;
        for glyph in glyphs {
            let w = condense * glyph.advance * em;
            self.glyph(glyph, x + w / 2.0, y, em, condense, 0.0);
            x += w + LABEL_GAP * em;
        }
    }
}

/// Encodes the coverage as RGBA: every pixel is the ink colour, and the coverage is its alpha.
fn encode(pixmap: &Pixmap) -> Result<Vec<u8>, SealGenError> {
    let mut rgba = Vec::with_capacity(pixmap.data().len());
    for px in pixmap.pixels() {
        rgba.extend_from_slice(&[INK[0], INK[1], INK[2], px.alpha()]);
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let failed = |e: png::EncodingError| SealGenError::Encode(e.to_string());
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(&rgba).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(out)
}

#[cfg(test)]
mod tests;
