//! A document's layout: each page's size as a viewer displays it (the visible box, CropBox
//! within MediaBox, turned by /Rotate), the frame placements are given in. Two documents with
//! the same layout take the same placements.

use crate::PadesError;
use crate::pdf::reader::Document;

/// One page's displayed size, in points.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PageSize {
    pub width: f64,
    pub height: f64,
}

impl PageSize {
    /// Whether two sizes are the same page to within `tolerance` points each way.
    pub fn matches(&self, other: &PageSize, tolerance: f64) -> bool {
        (self.width - other.width).abs() <= tolerance && (self.height - other.height).abs() <= tolerance
    }
}

/// Loads `pdf`, checks it can be signed as is (as [`crate::check_document`]) and answers each
/// page's displayed size, in page order; a document of more than `max_pages` pages is a
/// [`PadesError::Limit`].
pub fn page_sizes(pdf: &[u8], max_pages: usize) -> Result<Vec<PageSize>, PadesError> {
    let doc = Document::load(pdf)?;
    doc.check_sound()?;
    let count = doc.page_count()?;
    if count > max_pages {
        return Err(PadesError::Limit(format!("{count} pages; at most {max_pages} are taken here")));
    }
    let mut sizes = Vec::with_capacity(count);
    for idx in 0..count {
        let page = doc.find_page(idx)?.ok_or(PadesError::PageOutOfRange { page: idx as u32 + 1, count })?;
        let vb = page.visible_box();
        let (w, h) = (vb[2] - vb[0], vb[3] - vb[1]);
        let (width, height) = if matches!(page.rotation(), 90 | 270) { (h, w) } else { (w, h) };
        sizes.push(PageSize { width: round(width), height: round(height) });
    }
    Ok(sizes)
}

fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One page: MediaBox, CropBox, Rotate.
    type PageSpec = ([f64; 4], Option<[f64; 4]>, i64);

    /// A one-object-per-page PDF with the given MediaBox, CropBox and Rotate per page.
    fn pdf(pages: &[PageSpec]) -> Vec<u8> {
        let mut objs: Vec<String> = Vec::new();
        let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", i + 3)).collect();
        objs.push("<< /Type /Catalog /Pages 2 0 R >>".into());
        objs.push(format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()));
        for (mb, cb, rot) in pages {
            let f = |b: &[f64; 4]| format!("[{} {} {} {}]", b[0], b[1], b[2], b[3]);
            let crop = cb.map(|c| format!(" /CropBox {}", f(&c))).unwrap_or_default();
            objs.push(format!("<< /Type /Page /Parent 2 0 R /MediaBox {}{crop} /Rotate {rot} >>", f(mb)));
        }
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objs.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
        for off in offsets {
            out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objs.len() + 1).as_bytes(),
        );
        out
    }

    #[test]
    fn sizes_are_as_displayed_turned_and_cropped() {
        let a4 = [0.0, 0.0, 595.0, 842.0];
        let doc = pdf(&[(a4, None, 0), (a4, None, 90), (a4, Some([50.0, 60.0, 545.0, 800.0]), 270), (a4, None, 180)]);
        let sizes = page_sizes(&doc, 10).unwrap();
        let wh: Vec<(f64, f64)> = sizes.iter().map(|s| (s.width, s.height)).collect();
        assert_eq!(wh, vec![(595.0, 842.0), (842.0, 595.0), (740.0, 495.0), (595.0, 842.0)]);
        assert!(sizes[0].matches(&PageSize { width: 595.4, height: 841.6 }, 0.5));
        assert!(!sizes[0].matches(&sizes[1], 0.5));
        assert!(matches!(page_sizes(&doc, 3), Err(PadesError::Limit(_))));
        assert!(page_sizes(b"not a pdf", 3).is_err());
    }
}
