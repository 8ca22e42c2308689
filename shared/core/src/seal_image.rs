//! Checks on an uploaded seal image, made on its real bytes (never on the declared type): a PNG
//! that decodes, of sensible size, with an alpha channel, a transparent background and mostly
//! red ink, as official seals are. Each failed rule has its own code.

use crate::error::FieldError;

/// Largest accepted file.
pub const MAX_BYTES: u64 = 2 * 1024 * 1024;
/// Smallest and largest side, in pixels.
pub const MIN_SIDE: u32 = 100;
pub const MAX_SIDE: u32 = 2000;

/// What was learned about an acceptable image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageFacts {
    pub width: u32,
    pub height: u32,
}

/// What an inspection learned about an image, whether or not it passed.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    /// The first rule the image breaks; `None` when it passes every one.
    pub error: Option<FieldError>,
    /// Width and height in pixels, once the PNG's header could be read.
    pub size: Option<(u32, u32)>,
    /// The longer side in millimetres, when the PNG states its resolution (a `pHYs` chunk in
    /// pixels per metre): how large the seal prints at its own resolution.
    pub diameter_mm: Option<f64>,
}

/// What was seen on the way through the rules.
#[derive(Default)]
struct Seen {
    size: Option<(u32, u32)>,
    diameter_mm: Option<f64>,
}

fn fail(code: &str, message: impl Into<String>) -> FieldError {
    FieldError::new("image", code, message)
}

/// A PNG the decoder refuses, in words: the decoder's own text names its internals (chunk
/// types as Rust debug output), so it goes to the log only.
fn undecodable(e: png::DecodingError) -> FieldError {
    tracing::debug!(error = %e, "seal image does not decode");
    let why = match e {
        png::DecodingError::IoError(_) => "it ends before its image data does",
        png::DecodingError::Format(_) => "its structure is invalid (a damaged or non-standard file)",
        png::DecodingError::LimitsExceeded => "it needs more memory to decode than a seal image may",
        png::DecodingError::Parameter(_) => "it cannot be read",
    };
    fail("undecodable", format!("the PNG does not decode: {why}"))
}

/// The rule broken by an image of `len` bytes, more than [`MAX_BYTES`].
pub fn too_large(len: u64) -> FieldError {
    fail("too_large", format!("the image is {len} bytes; at most {MAX_BYTES} are accepted"))
}

/// The longer side in millimetres at the stated resolution, to a tenth.
fn diameter_mm(width: u32, height: u32, dims: Option<png::PixelDimensions>) -> Option<f64> {
    let d = dims.filter(|d| d.unit == png::Unit::Meter && d.xppu > 0 && d.yppu > 0)?;
    let mm = (f64::from(width) / f64::from(d.xppu)).max(f64::from(height) / f64::from(d.yppu)) * 1000.0;
    Some((mm * 10.0).round() / 10.0)
}

/// A pixel that reads as seal ink: clearly red.
fn is_red(r: u8, g: u8, b: u8) -> bool {
    r >= 120 && u16::from(r) > u16::from(g) + 50 && u16::from(r) > u16::from(b) + 50
}

/// Checks the image; the error names the first rule it breaks.
pub fn check(bytes: &[u8]) -> Result<ImageFacts, FieldError> {
    rules(bytes, &mut Seen::default())
}

/// Runs the same rules as [`check`] and tells what it saw on the way: the size and resolution of
/// an image that breaks a rule after its header was read (a form shows them beside the error).
pub fn inspect(bytes: &[u8]) -> Inspection {
    let mut seen = Seen::default();
    let error = rules(bytes, &mut seen).err();
    Inspection { error, size: seen.size, diameter_mm: seen.diameter_mm }
}

/// Every rule, in order; `seen` learns the facts as they are read.
fn rules(bytes: &[u8], seen: &mut Seen) -> Result<ImageFacts, FieldError> {
    if bytes.is_empty() {
        return Err(fail("empty", "the image file is empty"));
    }
    if bytes.len() as u64 > MAX_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    let what = match crate::uploads::sniff(bytes) {
        Some("image/png") => None,
        Some("image/jpeg") => Some("a JPEG"),
        Some("image/gif") => Some("a GIF"),
        Some("application/pdf") => Some("a PDF"),
        _ => Some("not an image this service reads"),
    };
    if let Some(what) = what {
        return Err(fail("not_png", format!("the file is {what}; a PNG with transparency is required")));
    }
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    decoder.set_limits(png::Limits { bytes: 64 * 1024 * 1024 });
    let mut reader = decoder.read_info().map_err(undecodable)?;
    let (width, height) = (reader.info().width, reader.info().height);
    seen.size = Some((width, height));
    seen.diameter_mm = diameter_mm(width, height, reader.info().pixel_dims);
    if !(MIN_SIDE..=MAX_SIDE).contains(&width) || !(MIN_SIDE..=MAX_SIDE).contains(&height) {
        return Err(fail(
            "dimensions",
            format!("the image is {width}x{height} px; each side must be {MIN_SIDE} to {MAX_SIDE} px"),
        ));
    }
    let size = reader.output_buffer_size().ok_or_else(|| fail("undecodable", "the PNG is too large to decode"))?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(undecodable)?;
    let (color, _) = reader.output_color_type();
    let channels = match color {
        png::ColorType::Rgba => 4,
        png::ColorType::GrayscaleAlpha => 2,
        _ => {
            return Err(fail(
                "no_alpha",
                "the image has no alpha channel; the seal must sit on a transparent background",
            ));
        }
    };
    let data = &buf[..frame.buffer_size()];
    let pixel = |x: u32, y: u32| -> (u8, u8, u8, u8) {
        let i = ((y as usize) * (width as usize) + x as usize) * channels;
        if channels == 4 {
            (data[i], data[i + 1], data[i + 2], data[i + 3])
        } else {
            (data[i], data[i], data[i], data[i + 1])
        }
    };

    // Background: the outermost ring of pixels must be (almost all) transparent.
    let mut border = 0u64;
    let mut clear = 0u64;
    for x in 0..width {
        for y in [0, height - 1] {
            border += 1;
            clear += u64::from(pixel(x, y).3 < 16);
        }
    }
    for y in 1..height - 1 {
        for x in [0, width - 1] {
            border += 1;
            clear += u64::from(pixel(x, y).3 < 16);
        }
    }
    if clear * 100 < border * 95 {
        return Err(fail("opaque_background", "the background is not transparent: the image edges are opaque"));
    }

    // Ink: enough visible pixels, and most of them red.
    let mut ink = 0u64;
    let mut red = 0u64;
    for y in 0..height {
        for x in 0..width {
            let (r, g, b, a) = pixel(x, y);
            if a >= 128 {
                ink += 1;
                red += u64::from(is_red(r, g, b));
            }
        }
    }
    let total = u64::from(width) * u64::from(height);
    if ink * 100 < total * 2 {
        return Err(fail("no_ink", "the image is (almost) fully transparent: there is no seal on it"));
    }
    if red * 100 < ink * 70 {
        return Err(fail("not_red", format!("only {}% of the ink is red; a seal is printed in red", red * 100 / ink)));
    }
    Ok(ImageFacts { width, height })
}

/// Test images, drawn in code.
#[cfg(any(test, feature = "test-images"))]
pub mod samples {
    /// Encodes RGBA pixels as a PNG.
    pub fn encode_rgba(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, width, height);
            enc.set_color(png::ColorType::Rgba);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().expect("png header");
            w.write_image_data(pixels).expect("png data");
        }
        out
    }

    /// A red ring with a red centre on a transparent background, `side` px square, in `rgb`.
    pub fn ring(side: u32, rgb: [u8; 3], background_alpha: u8) -> Vec<u8> {
        let mut px = Vec::with_capacity((side * side * 4) as usize);
        let c = side as f32 / 2.0;
        for y in 0..side {
            for x in 0..side {
                let d = ((x as f32 + 0.5 - c).powi(2) + (y as f32 + 0.5 - c).powi(2)).sqrt();
                let inked = (d > c * 0.80 && d < c * 0.95) || d < c * 0.25;
                if inked {
                    px.extend_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
                } else {
                    px.extend_from_slice(&[255, 255, 255, background_alpha]);
                }
            }
        }
        encode_rgba(side, side, &px)
    }

    /// A red seal that passes every check.
    pub fn red_seal() -> Vec<u8> {
        ring(300, [220, 20, 30], 0)
    }
}

#[cfg(test)]
mod tests {
    use super::samples::*;
    use super::*;

    fn code(bytes: &[u8]) -> String {
        check(bytes).unwrap_err().code
    }

    #[test]
    fn a_red_seal_on_transparency_passes() {
        assert_eq!(check(&red_seal()).unwrap(), ImageFacts { width: 300, height: 300 });
    }

    #[test]
    fn each_rule_has_its_code() {
        assert_eq!(code(b""), "empty");
        assert_eq!(code(b"\xFF\xD8\xFF\xE0\x00\x10JFIF"), "not_png");
        assert_eq!(code(b"hello"), "not_png");
        assert_eq!(code(&vec![0u8; MAX_BYTES as usize + 1]), "too_large");
        let mut truncated = red_seal();
        truncated.truncate(60);
        assert_eq!(code(&truncated), "undecodable");
        assert_eq!(code(&ring(50, [220, 20, 30], 0)), "dimensions");
        assert_eq!(code(&ring(300, [220, 20, 30], 255)), "opaque_background");
        assert_eq!(code(&ring(300, [20, 20, 220], 0)), "not_red");
        assert_eq!(code(&encode_rgba(200, 200, &vec![0; 200 * 200 * 4])), "no_ink");
        // An RGB PNG without alpha.
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, 200, 200);
            enc.set_color(png::ColorType::Rgb);
            enc.write_header().unwrap().write_image_data(&vec![200; 200 * 200 * 3]).unwrap();
        }
        assert_eq!(code(&out), "no_alpha");
    }

    #[test]
    fn an_undecodable_png_is_told_in_words_not_in_the_decoders_debug_text() {
        let good = red_seal();
        // The first chunk after IHDR gets a type with a byte no chunk type may hold.
        let mut bad_chunk = good.clone();
        bad_chunk[37..41].copy_from_slice(b"I\x01AT");
        let mut truncated = good.clone();
        truncated.truncate(60);
        let mut bad_header = good;
        bad_header[16..20].copy_from_slice(&0u32.to_be_bytes());
        for png in [bad_chunk, truncated, bad_header] {
            let e = check(&png).unwrap_err();
            assert_eq!(e.code, "undecodable");
            assert!(e.message.starts_with("the PNG does not decode: "), "{}", e.message);
            for debug in ["ChunkType", "{", "Error", "type:"] {
                assert!(!e.message.contains(debug), "{}", e.message);
            }
        }
    }

    #[test]
    fn inspection_reports_the_same_rule_and_what_it_saw() {
        let ok = inspect(&red_seal());
        assert_eq!((ok.error, ok.size, ok.diameter_mm), (None, Some((300, 300)), None));
        let small = ring(50, [220, 20, 30], 0);
        let seen = inspect(&small);
        assert_eq!(seen.error, check(&small).err());
        assert_eq!(seen.error.map(|e| e.code), Some("dimensions".to_owned()));
        assert_eq!(seen.size, Some((50, 50)));
        let nothing = inspect(b"hello");
        assert_eq!((nothing.error.map(|e| e.code), nothing.size), (Some("not_png".to_owned()), None));
        assert_eq!(inspect(&vec![0u8; MAX_BYTES as usize + 1]).error, Some(too_large(MAX_BYTES + 1)));
    }

    #[test]
    fn the_diameter_comes_from_the_stated_resolution() {
        // 472 px at 11811 px/m (300 dpi) is 40.0 mm: an official seal's usual size.
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, 472, 472);
            enc.set_color(png::ColorType::Rgba);
            enc.set_pixel_dims(Some(png::PixelDimensions { xppu: 11811, yppu: 11811, unit: png::Unit::Meter }));
            enc.write_header().unwrap().write_image_data(&vec![0; 472 * 472 * 4]).unwrap();
        }
        let seen = inspect(&out);
        assert_eq!(seen.diameter_mm, Some(40.0));
        assert_eq!(seen.error.map(|e| e.code), Some("no_ink".to_owned()));
        let unitless = png::PixelDimensions { xppu: 2, yppu: 2, unit: png::Unit::Unspecified };
        assert_eq!(diameter_mm(472, 472, Some(unitless)), None);
        assert_eq!(
            diameter_mm(300, 600, Some(png::PixelDimensions { xppu: 10_000, yppu: 10_000, unit: png::Unit::Meter })),
            Some(60.0)
        );
    }

    #[test]
    fn a_huge_canvas_is_refused_from_its_header() {
        // 10,000 px wide: refused before any pixel is decoded.
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, 10_000, 100);
            enc.set_color(png::ColorType::Rgba);
            enc.set_compression(png::Compression::Fast);
            enc.write_header().unwrap().write_image_data(&vec![0; 10_000 * 100 * 4]).unwrap();
        }
        assert_eq!(code(&out), "dimensions");
    }
}
