//! Placement geometry (viewer top-left coordinates -> user space) and appearance streams.

use crate::pdf::object::fmt_real;

/// A placement resolved against its page.
#[derive(Debug, Clone)]
pub struct Geometry {
    /// widget /Rect in user space [llx lly urx ury]
    pub rect: [f64; 4],
    /// width/height of the appearance as the viewer shows it (upright)
    pub width: f64,
    pub height: f64,
    /// appearance /Matrix compensating the page /Rotate so the stamp appears upright
    pub matrix: [f64; 6],
}

/// Converts a rectangle given from the top-left of the displayed page (visible box `vb`, page
/// rotation `rot` in {0,90,180,270}) to user space. Returns None when it does not fit the page.
pub fn place(vb: [f64; 4], rot: i64, x: f64, y: f64, w: f64, h: f64) -> Option<Geometry> {
    let (cx0, cy0, cx1, cy1) = (vb[0], vb[1], vb[2], vb[3]);
    let (cw, ch) = (cx1 - cx0, cy1 - cy0);
    let (dw, dh) = if rot == 90 || rot == 270 { (ch, cw) } else { (cw, ch) };
    let eps = 1e-6;
    let finite = [x, y, w, h].iter().all(|v| v.is_finite());
    if !finite || w <= 0.0 || h <= 0.0 || x < -eps || y < -eps || x + w > dw + eps || y + h > dh + eps {
        return None;
    }
    // display point (u, v) (v downward) -> user space
    let to_user = |u: f64, v: f64| -> (f64, f64) {
        match rot {
            90 => (cx0 + v, cy0 + u),
            180 => (cx1 - u, cy0 + v),
            270 => (cx1 - v, cy1 - u),
            _ => (cx0 + u, cy1 - v),
        }
    };
    let pts = [to_user(x, y), to_user(x + w, y), to_user(x, y + h), to_user(x + w, y + h)];
    let llx = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let lly = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let urx = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let ury = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let matrix = match rot {
        90 => [0.0, 1.0, -1.0, 0.0, 0.0, 0.0],
        180 => [-1.0, 0.0, 0.0, -1.0, 0.0, 0.0],
        270 => [0.0, -1.0, 1.0, 0.0, 0.0, 0.0],
        _ => [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
    };
    Some(Geometry { rect: [llx, lly, urx, ury], width: w, height: h, matrix })
}

/// Content stream drawing image resource /Im0 fitted (aspect kept) and centred in w x h.
pub fn image_content(w: f64, h: f64, img_w: u32, img_h: u32) -> Vec<u8> {
    let s = (w / img_w as f64).min(h / img_h as f64);
    let (sw, sh) = (img_w as f64 * s, img_h as f64 * s);
    let (dx, dy) = ((w - sw) / 2.0, (h - sh) / 2.0);
    format!("q {} 0 0 {} {} {} cm /Im0 Do Q\n", fmt_real(sw), fmt_real(sh), fmt_real(dx), fmt_real(dy)).into_bytes()
}

/// Content stream writing `text` in Helvetica (/F1), as large as fits, centred in w x h.
pub fn text_content(w: f64, h: f64, text: &str) -> Vec<u8> {
    let bytes = winansi(text);
    let units: f64 = bytes.iter().map(|&c| helv_width(c) as f64).sum::<f64>().max(1.0);
    let fs = (h * 0.75).min(w * 0.94 * 1000.0 / units).max(0.5);
    let tw = units * fs / 1000.0;
    let x = (w - tw) / 2.0;
    let y = (h - fs * 0.716) / 2.0; // cap height of Helvetica
    let mut s = Vec::new();
    s.extend_from_slice(
        format!("q BT 0.05 0.05 0.35 rg /F1 {} Tf {} {} Td ", fmt_real(fs), fmt_real(x), fmt_real(y)).as_bytes(),
    );
    s.push(b'(');
    for c in bytes {
        if matches!(c, b'(' | b')' | b'\\') {
            s.push(b'\\');
        }
        s.push(c);
    }
    s.extend_from_slice(b") Tj ET Q\n");
    s
}

/// Maps text to WinAnsi (Latin-1 subset); anything else becomes '?'.
fn winansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| {
            let v = c as u32;
            if (32..127).contains(&v) || (160..256).contains(&v) { v as u8 } else { b'?' }
        })
        .collect()
}

/// Helvetica advance widths (AFM), ASCII 32..126; Latin-1 approximated.
fn helv_width(c: u8) -> u16 {
    const W: [u16; 95] = [
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 32-47
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 48-63
        1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // 64-79
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 80-95
        333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // 96-111
        556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // 112-126
    ];
    if (32..127).contains(&c) { W[(c - 32) as usize] } else { 556 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_rotations() {
        let vb = [0.0, 0.0, 600.0, 800.0];
        // rot 0: top-left 10,20 size 100x50 -> y from top
        let g = place(vb, 0, 10.0, 20.0, 100.0, 50.0).unwrap();
        assert_eq!(g.rect, [10.0, 730.0, 110.0, 780.0]);
        // rot 90: displayed 800 wide, 600 high; top-left of display is user (0,0)
        let g = place(vb, 90, 10.0, 20.0, 100.0, 50.0).unwrap();
        assert_eq!(g.rect, [20.0, 10.0, 70.0, 110.0]);
        let g = place(vb, 180, 10.0, 20.0, 100.0, 50.0).unwrap();
        assert_eq!(g.rect, [490.0, 20.0, 590.0, 70.0]);
        let g = place(vb, 270, 10.0, 20.0, 100.0, 50.0).unwrap();
        assert_eq!(g.rect, [530.0, 690.0, 580.0, 790.0]);
        // off page
        assert!(place(vb, 0, 550.0, 0.0, 100.0, 10.0).is_none());
        assert!(place(vb, 90, 750.0, 0.0, 40.0, 10.0).is_some());
        assert!(place(vb, 0, -1.0, 0.0, 10.0, 10.0).is_none());
        assert!(place(vb, 0, 0.0, 0.0, 0.0, 10.0).is_none());
        assert!(place(vb, 0, f64::NAN, 0.0, 1.0, 10.0).is_none());
        // cropbox offset
        let g = place([100.0, 50.0, 400.0, 450.0], 0, 0.0, 0.0, 10.0, 10.0).unwrap();
        assert_eq!(g.rect, [100.0, 440.0, 110.0, 450.0]);
    }
}
