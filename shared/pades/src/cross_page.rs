//! The cross-page seal (骑缝章): one party's seal cut into vertical strips, one per page of a
//! range, strip i at the right edge of page i as displayed, so that the pages fanned out
//! reassemble the seal and no page can be swapped unseen.
//!
//! The seal is fitted (aspect kept, centred) into a `size` x `size` square, the square is cut into
//! as many strips of equal width as pages in the range, and the first page carries the leftmost
//! strip. Each strip is a clipped view of the same image XObject.

use crate::appearance::{Geometry, image_content, place};
use crate::pdf::object::fmt_real;

/// Fewest pages a cross-page seal spans.
pub const MIN_PAGES: u32 = 2;
/// Narrowest strip drawn, in points: below this a strip is a hairline nobody can match.
pub const MIN_STRIP_WIDTH: f64 = 0.5;

/// Where a cross-page seal goes: a page range (every page by default), the distance from the top
/// of each page as displayed to the top of the seal, and the seal's side, in points.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CrossPageSeal {
    /// first page of the range, 1-based (default 1)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_page: Option<u32>,
    /// last page of the range, inclusive (default: the last page)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_page: Option<u32>,
    /// top of the seal, points from the top of the page as displayed
    pub y: f64,
    /// the whole seal's width and height, points
    pub size: f64,
}

/// Why a cross-page seal does not fit the document.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CrossPageProblem {
    #[error("pages {first}-{last} are not a range of at least {MIN_PAGES} pages of the document's {count}")]
    Range { first: u32, last: u32, count: usize },
    #[error("the seal size {size} and position y={y} must be finite, the size positive and y at least 0")]
    Numbers { size: f64, y: f64 },
    #[error(
        "a {size} pt seal over {pages} pages makes strips {width:.3} pt wide; each must be at least {MIN_STRIP_WIDTH} pt (a larger seal or fewer pages)"
    )]
    TooThin { size: f64, pages: u32, width: f64 },
    #[error(
        "on page {page} ({page_width} x {page_height} pt as displayed) the strip at y={y}, {size} pt high, leaves the page"
    )]
    OffPage { page: u32, y: f64, size: f64, page_width: f64, page_height: f64 },
}

/// The range a seal covers in a document of `count` pages, checked.
pub fn page_range(seal: &CrossPageSeal, count: usize) -> Result<(u32, u32), CrossPageProblem> {
    let last_default = u32::try_from(count).unwrap_or(u32::MAX);
    let (first, last) = (seal.first_page.unwrap_or(1), seal.last_page.unwrap_or(last_default));
    let pages = last.checked_sub(first).and_then(|d| d.checked_add(1)).unwrap_or(0);
    if first == 0 || last as usize > count || pages < MIN_PAGES {
        return Err(CrossPageProblem::Range { first, last, count });
    }
    if !seal.size.is_finite() || !seal.y.is_finite() || seal.size <= 0.0 || seal.y < 0.0 {
        return Err(CrossPageProblem::Numbers { size: seal.size, y: seal.y });
    }
    let width = seal.size / f64::from(pages);
    if width < MIN_STRIP_WIDTH {
        return Err(CrossPageProblem::TooThin { size: seal.size, pages, width });
    }
    Ok((first, last))
}

/// The strip geometry on one page: `strip` of `strips`, on a page whose visible box is `vb` and
/// rotation `rot`; None when it leaves the page.
pub fn strip_geometry(seal: &CrossPageSeal, strips: u32, vb: [f64; 4], rot: i64) -> Result<Geometry, (f64, f64)> {
    let width = seal.size / f64::from(strips.max(1));
    let (cw, ch) = (vb[2] - vb[0], vb[3] - vb[1]);
    let (dw, dh) = if rot == 90 || rot == 270 { (ch, cw) } else { (cw, ch) };
    place(vb, rot, (dw - width).max(0.0), seal.y, width, seal.size).ok_or((dw, dh))
}

/// The content stream of strip `strip` (0-based) of `strips`: the seal fitted into its square,
/// shifted so that this strip's slice lies in the appearance box (which clips the rest).
pub fn strip_content(seal: &CrossPageSeal, strip: u32, strips: u32, img_w: u32, img_h: u32) -> Vec<u8> {
    let width = seal.size / f64::from(strips.max(1));
    let mut s = format!("q 1 0 0 1 {} 0 cm\n", fmt_real(-width * f64::from(strip))).into_bytes();
    s.extend(image_content(seal.size, seal.size, img_w, img_h));
    s.extend_from_slice(b"Q\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(first: Option<u32>, last: Option<u32>, y: f64, size: f64) -> CrossPageSeal {
        CrossPageSeal { first_page: first, last_page: last, y, size }
    }

    #[test]
    fn ranges_default_to_every_page_and_need_two() {
        assert_eq!(page_range(&seal(None, None, 10.0, 120.0), 60), Ok((1, 60)));
        assert_eq!(page_range(&seal(Some(3), Some(4), 10.0, 120.0), 60), Ok((3, 4)));
        assert!(matches!(page_range(&seal(None, None, 10.0, 120.0), 1), Err(CrossPageProblem::Range { .. })));
        assert!(matches!(page_range(&seal(Some(0), Some(3), 1.0, 9.0), 5), Err(CrossPageProblem::Range { .. })));
        assert!(matches!(page_range(&seal(Some(4), Some(3), 1.0, 9.0), 5), Err(CrossPageProblem::Range { .. })));
        assert!(matches!(page_range(&seal(Some(2), Some(6), 1.0, 9.0), 5), Err(CrossPageProblem::Range { .. })));
        assert!(matches!(page_range(&seal(Some(u32::MAX), None, 1.0, 9.0), 5), Err(CrossPageProblem::Range { .. })));
        assert!(matches!(page_range(&seal(None, None, f64::NAN, 9.0), 5), Err(CrossPageProblem::Numbers { .. })));
        assert!(matches!(page_range(&seal(None, None, 1.0, -9.0), 5), Err(CrossPageProblem::Numbers { .. })));
        assert!(matches!(page_range(&seal(None, None, 1.0, 20.0), 60), Err(CrossPageProblem::TooThin { .. })));
    }

    #[test]
    fn strips_sit_at_the_right_edge_as_displayed() {
        let s = seal(None, None, 100.0, 120.0);
        let vb = [0.0, 0.0, 600.0, 800.0];
        // upright: x from 600 - 2 to 600, top 100 pt below the top
        let g = strip_geometry(&s, 60, vb, 0).unwrap();
        assert_eq!(g.rect, [598.0, 580.0, 600.0, 700.0]);
        // rotated 90: the displayed right edge is the user-space top (y = 800)
        let g = strip_geometry(&s, 60, vb, 90).unwrap();
        assert_eq!(g.rect, [100.0, 798.0, 220.0, 800.0]);
        // cropped: the visible box's edge, not the media box's
        let g = strip_geometry(&s, 2, [50.0, 60.0, 350.0, 460.0], 0).unwrap();
        assert_eq!(g.rect, [290.0, 240.0, 350.0, 360.0]);
        // too low on the page
        assert!(strip_geometry(&seal(None, None, 700.0, 120.0), 60, vb, 0).is_err());
    }

    #[test]
    fn strip_content_shifts_the_seal_left_by_the_strips_before() {
        let s = seal(None, None, 0.0, 100.0);
        let c = String::from_utf8(strip_content(&s, 3, 4, 10, 10)).unwrap();
        assert!(c.starts_with("q 1 0 0 1 -75 0 cm\n"), "{c}");
        assert!(c.contains("/Im0 Do"));
    }
}
