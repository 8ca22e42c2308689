//! cargo +nightly fuzz run check_placements   (from shared/pades)
//! The placement check a contract's placements go through (page range, visible box, rotation),
//! and the reader calls behind it (page count, each of the first pages), on arbitrary bytes.
//! A placement on page N <= count must never be answered "page N is out of range".
#![no_main]
use esign_pades::pdf::Document;
use esign_pades::{PadesError, Placement, PlacementKind, check_placements};
use libfuzzer_sys::fuzz_target;

fn p(page: u32, x: f64, y: f64, w: f64, h: f64) -> Placement {
    Placement { kind: PlacementKind::Signature, page, x, y, width: w, height: h }
}

fuzz_target!(|data: &[u8]| {
    for pl in [
        vec![p(1, 10.0, 10.0, 40.0, 40.0)],
        vec![p(2, 10.0, 10.0, 40.0, 40.0), p(2, 500.0, 700.0, 80.0, 20.0)],
        vec![p(u32::MAX, 0.0, 0.0, 1.0, 1.0)],
    ] {
        if let Err(PadesError::PageOutOfRange { page, count }) = check_placements(data, &pl) {
            assert!(page == 0 || page as usize > count, "page {page} 'out of range' of {count}");
        }
    }
    if let Ok(doc) = Document::load(data) {
        if let Ok(n) = doc.page_count() {
            for i in 0..n.min(4) {
                if let Ok(Some(pg)) = doc.find_page(i) {
                    let b = pg.visible_box();
                    let _ = (b, pg.rotation());
                }
            }
        }
    }
});
