//! Seal images: PNG decoding (checked on the real bytes) and a programmatic default seal.

use crate::PadesError;

/// An 8-bit raster: `color` is RGB (or gray when `gray`), `alpha` one byte per pixel if present.
#[derive(Debug, Clone)]
pub struct Raster {
    pub width: u32,
    pub height: u32,
    pub gray: bool,
    pub color: Vec<u8>,
    pub alpha: Option<Vec<u8>>,
}

pub const MAX_IMAGE_SIDE: u32 = 4096;

/// Decodes a PNG (any bit depth, palette, tRNS); rejects anything else with a clear error.
pub fn decode_png(bytes: &[u8]) -> Result<Raster, PadesError> {
    const SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !bytes.starts_with(SIG) {
        let what = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "JPEG data, not a PNG"
        } else if bytes.starts_with(b"GIF8") {
            "GIF data, not a PNG"
        } else if bytes.is_empty() {
            "empty file"
        } else {
            "not a PNG (bad signature)"
        };
        return Err(PadesError::Image(what.into()));
    }
    let mut dec = png::Decoder::new(bytes);
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    dec.set_limits(png::Limits { bytes: 128 << 20 });
    let mut reader = dec.read_info().map_err(|e| PadesError::Image(format!("corrupt PNG: {e}")))?;
    let (w, h) = {
        let info = reader.info();
        (info.width, info.height)
    };
    if w == 0 || h == 0 || w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(PadesError::Image(format!("PNG is {w}x{h}; each side must be 1..={MAX_IMAGE_SIDE} pixels")));
    }
    let mut buf = vec![0u8; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).map_err(|e| PadesError::Image(format!("corrupt PNG: {e}")))?;
    let buf = &buf[..frame.buffer_size()];
    if frame.bit_depth != png::BitDepth::Eight {
        return Err(PadesError::Image("unsupported PNG bit depth".into()));
    }
    let n = (w as usize) * (h as usize);
    let line = frame.line_size;
    let (chans, gray, has_alpha) = match frame.color_type {
        png::ColorType::Grayscale => (1, true, false),
        png::ColorType::GrayscaleAlpha => (2, true, true),
        png::ColorType::Rgb => (3, false, false),
        png::ColorType::Rgba => (4, false, true),
        png::ColorType::Indexed => return Err(PadesError::Image("unexpanded palette PNG".into())),
    };
    let cc = if gray { 1 } else { 3 };
    let mut color = Vec::with_capacity(n * cc);
    let mut alpha = if has_alpha { Some(Vec::with_capacity(n)) } else { None };
    for y in 0..h as usize {
        let row = buf
            .get(y * line..y * line + w as usize * chans)
            .ok_or_else(|| PadesError::Image("truncated PNG".into()))?;
        for px in row.chunks_exact(chans) {
            color.extend_from_slice(&px[..cc]);
            if let Some(a) = alpha.as_mut() {
                a.push(px[chans - 1]);
            }
        }
    }
    Ok(Raster { width: w, height: h, gray, color, alpha })
}

/// A red round seal with a five-pointed star, drawn with 4x4 supersampling and transparency
/// (computed once per process).
pub fn default_seal() -> Raster {
    static SEAL: std::sync::OnceLock<Raster> = std::sync::OnceLock::new();
    SEAL.get_or_init(draw_default_seal).clone()
}

fn draw_default_seal() -> Raster {
    let size = 300u32;
    let c = size as f64 / 2.0;
    let r_out = 146.0;
    let r_in = 132.0;
    let r_in2 = 126.0;
    let r_in3 = 123.0;
    // star polygon: 10 vertices, outer radius 62, inner 24, pointing up (image y grows downward)
    let mut star = Vec::new();
    for k in 0..10 {
        let ang = -std::f64::consts::FRAC_PI_2 + k as f64 * std::f64::consts::PI / 5.0;
        let r = if k % 2 == 0 { 62.0 } else { 24.0 };
        star.push((c + r * ang.cos(), c + r * ang.sin()));
    }
    let inside_star = |x: f64, y: f64| {
        let mut inside = false;
        let mut j = star.len() - 1;
        for i in 0..star.len() {
            let (xi, yi) = star[i];
            let (xj, yj) = star[j];
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                inside = !inside;
            }
            j = i;
        }
        inside
    };
    let n = (size * size) as usize;
    let mut color = Vec::with_capacity(n * 3);
    let mut alpha = Vec::with_capacity(n);
    for py in 0..size {
        for px in 0..size {
            let mut hits = 0u32;
            for sy in 0..4 {
                for sx in 0..4 {
                    let x = px as f64 + (sx as f64 + 0.5) / 4.0;
                    let y = py as f64 + (sy as f64 + 0.5) / 4.0;
                    let d = ((x - c).powi(2) + (y - c).powi(2)).sqrt();
                    let ring = (d <= r_out && d >= r_in) || (d <= r_in2 && d >= r_in3);
                    // a band under the star, like the bar of an official seal
                    let bar = (y - (c + 78.0)).abs() <= 5.0 && (x - c).abs() <= 70.0;
                    if ring || bar || inside_star(x, y) {
                        hits += 1;
                    }
                }
            }
            color.extend_from_slice(&[0xD2, 0x1F, 0x1F]);
            alpha.push(((hits * 255 + 8) / 16) as u8);
        }
    }
    Raster { width: size, height: size, gray: false, color, alpha: Some(alpha) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_jpeg_and_garbage() {
        assert!(matches!(decode_png(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Err(PadesError::Image(m)) if m.contains("JPEG")));
        assert!(decode_png(b"\x89PNG\r\n\x1a\ngarbage").is_err());
        assert!(decode_png(b"").is_err());
    }

    #[test]
    fn default_seal_has_transparency_and_ink() {
        let r = default_seal();
        let a = r.alpha.unwrap();
        assert_eq!(a.len(), 300 * 300);
        assert_eq!(a[0], 0, "corner is transparent");
        assert!(a.iter().filter(|&&v| v == 255).count() > 5000, "the seal has solid ink");
    }

    #[test]
    fn png_roundtrip() {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, 2, 1);
            enc.set_color(png::ColorType::Rgba);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().unwrap();
            w.write_image_data(&[255, 0, 0, 128, 0, 255, 0, 255]).unwrap();
        }
        let r = decode_png(&out).unwrap();
        assert_eq!((r.width, r.height, r.gray), (2, 1, false));
        assert_eq!(r.color, vec![255, 0, 0, 0, 255, 0]);
        assert_eq!(r.alpha.unwrap(), vec![128, 255]);
    }
}
