//! Where each party's widgets go on a contract: its seal (`signature`) and signing date
//! (`signing_date`) at rectangles on pages, and at most one cross-page seal (`cross_page`, 骑缝章)
//! cut into strips along the right edge of a range of pages. Coordinates are PDF points from the
//! top-left corner of the page as a viewer shows it (CropBox, after /Rotate).
//!
//! The rules that need no document are checked here; everything about the document (pages,
//! their boxes and rotation, strips that fit) is the signing engine's own check
//! ([`esign_pades::check_layouts`]), the same one every signing act runs.

use esign_pades::{CrossPageProblem, CrossPageSeal, LayoutError, PadesError, Placement, PlacementKind};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Violations};

/// The seal's true size, in points, where a cross-page seal gives none: 40 mm, the usual diameter
/// of a Chinese official seal (公章). Every seal of a party is drawn at this size, whichever the
/// party chooses when it signs (the seal is not known when the initiator lays the contract out).
pub const SEAL_SIZE_PT: f64 = 40.0 / 25.4 * 72.0;
/// Smallest and largest side of a widget, and size of a cross-page seal, in points.
pub const MIN_SIDE_PT: f64 = 8.0;
pub const MAX_SIDE_PT: f64 = 1000.0;

/// A widget of one party.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractPlacement {
    /// The party's enterprise id.
    pub party: String,
    #[serde(flatten)]
    pub widget: Widget,
}

/// What a widget draws, and where (`kind` tells which).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Widget {
    /// The seal image, fitted into a rectangle on a page.
    Signature(Rect),
    /// The signing date (China Standard Time), written into a rectangle on a page.
    SigningDate(Rect),
    /// The cross-page seal: the seal cut into one vertical strip per page of the range, strip i
    /// at the right edge of page i as displayed.
    CrossPage(CrossPage),
}

/// A rectangle on a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    /// 1-based page number.
    pub page: u32,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// A cross-page seal over pages `first_page..=last_page` (every page by default; at least 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossPage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_page: Option<u32>,
    /// Points from the top of each page as displayed to the top of the seal.
    pub y: f64,
    /// The whole seal's width and height in points: [`SEAL_SIZE_PT`] unless given.
    #[serde(default = "seal_size")]
    pub size: f64,
}

fn seal_size() -> f64 {
    SEAL_SIZE_PT
}

impl Widget {
    /// The engine's placement for a widget on one page; None for a cross-page seal.
    pub fn on_page(&self) -> Option<Placement> {
        let (kind, r) = match self {
            Widget::Signature(r) => (PlacementKind::Signature, r),
            Widget::SigningDate(r) => (PlacementKind::SigningDate, r),
            Widget::CrossPage(_) => return None,
        };
        Some(Placement { kind, page: r.page, x: r.x, y: r.y, width: r.width, height: r.height })
    }

    /// The engine's cross-page seal; None for a widget on one page.
    pub fn cross_page(&self) -> Option<CrossPageSeal> {
        match self {
            Widget::CrossPage(c) => {
                Some(CrossPageSeal { first_page: c.first_page, last_page: c.last_page, y: c.y, size: c.size })
            }
            _ => None,
        }
    }
}

/// What one party's signing act draws: its widgets on pages and its cross-page seal.
pub fn party_layout(placements: &[ContractPlacement], party: &str) -> (Vec<Placement>, Option<CrossPageSeal>) {
    let mine = || placements.iter().filter(move |p| p.party == party);
    (mine().filter_map(|p| p.widget.on_page()).collect(), mine().find_map(|p| p.widget.cross_page()))
}

/// The rules that need no document: sane numbers, at most one cross-page seal per party.
pub fn check_widgets(v: &mut Violations, placements: &[ContractPlacement]) {
    let sides = MIN_SIDE_PT..=MAX_SIDE_PT;
    for (i, p) in placements.iter().enumerate() {
        match &p.widget {
            Widget::Signature(r) | Widget::SigningDate(r) => {
                let finite = [r.x, r.y, r.width, r.height].iter().all(|n| n.is_finite());
                if !finite || r.x < 0.0 || r.y < 0.0 || r.width <= 0.0 || r.height <= 0.0 {
                    v.add(
                        &format!("placements[{i}]"),
                        "invalid_rect",
                        "x and y must be 0 or more, width and height more than 0 (points from the top-left)",
                    );
                } else if !sides.contains(&r.width) || !sides.contains(&r.height) {
                    v.add(&format!("placements[{i}]"), "size", "width and height must be 8 to 1000 points");
                }
            }
            Widget::CrossPage(c) => {
                if !c.y.is_finite() || c.y < 0.0 {
                    v.add(
                        &format!("placements[{i}].y"),
                        "invalid",
                        "y must be 0 or more (points from the top of the page to the top of the seal)",
                    );
                }
                if !c.size.is_finite() || !sides.contains(&c.size) {
                    v.add(&format!("placements[{i}].size"), "size", "the seal's size must be 8 to 1000 points");
                }
                let earlier =
                    placements[..i].iter().any(|q| q.party == p.party && matches!(q.widget, Widget::CrossPage(_)));
                if earlier {
                    v.add(&format!("placements[{i}].kind"), "one_per_party", "a party has at most one cross-page seal");
                }
            }
        }
    }
}

/// The contract's placements as the engine checks them: every widget on a page (with the index
/// of its placement) and every cross-page seal (likewise).
pub struct EngineLayouts {
    pub on_pages: Vec<Placement>,
    on_page_index: Vec<usize>,
    pub cross_pages: Vec<CrossPageSeal>,
    cross_page_index: Vec<usize>,
}

impl EngineLayouts {
    pub fn of(placements: &[ContractPlacement]) -> Self {
        let mut l = EngineLayouts {
            on_pages: Vec::new(),
            on_page_index: Vec::new(),
            cross_pages: Vec::new(),
            cross_page_index: Vec::new(),
        };
        for (i, p) in placements.iter().enumerate() {
            if let Some(on_page) = p.widget.on_page() {
                l.on_pages.push(on_page);
                l.on_page_index.push(i);
            }
            if let Some(seal) = p.widget.cross_page() {
                l.cross_pages.push(seal);
                l.cross_page_index.push(i);
            }
        }
        l
    }

    /// The engine's verdict as a 422 on `document`, or on the placement it concerns.
    pub fn error(&self, e: LayoutError) -> DomainError {
        let doc = |code: &str| ("document".to_owned(), code.to_owned());
        let (field, code) = match (&e.error, e.cross_page.and_then(|k| self.cross_page_index.get(k))) {
            (PadesError::CrossPage(problem), Some(&i)) => match problem {
                CrossPageProblem::Range { first, count, .. } if *first == 0 || *first as usize > *count => {
                    (format!("placements[{i}].first_page"), "page_out_of_range".to_owned())
                }
                CrossPageProblem::Range { last, count, .. } if *last as usize > *count => {
                    (format!("placements[{i}].last_page"), "page_out_of_range".to_owned())
                }
                CrossPageProblem::Range { .. } => (format!("placements[{i}]"), "too_few_pages".to_owned()),
                CrossPageProblem::TooThin { .. } => (format!("placements[{i}].size"), "too_thin".to_owned()),
                CrossPageProblem::OffPage { .. } => (format!("placements[{i}]"), "off_page".to_owned()),
                _ => (format!("placements[{i}]"), "invalid".to_owned()),
            },
            (PadesError::PageOutOfRange { page, .. }, None) => {
                let at = self.on_pages.iter().position(|p| p.page == *page);
                let i = at.and_then(|k| self.on_page_index.get(k)).copied().unwrap_or(0);
                (format!("placements[{i}].page"), "page_out_of_range".to_owned())
            }
            (PadesError::OffPage { index, .. }, None) => {
                let i = self.on_page_index.get(*index).copied().unwrap_or(*index);
                (format!("placements[{i}]"), "off_page".to_owned())
            }
            (PadesError::InvalidPlacement(_), _) => ("placements".to_owned(), "invalid".to_owned()),
            (PadesError::Empty, _) => doc("empty"),
            (PadesError::NotPdf, _) => doc("not_pdf"),
            (PadesError::Encrypted, _) => doc("encrypted"),
            (PadesError::Malformed(_), _) => doc("malformed"),
            (PadesError::NotAllowed(_), _) => doc("signing_not_allowed"),
            (PadesError::Damaged(_), _) => doc("damaged"),
            (PadesError::Limit(_), _) => doc("too_complex"),
            _ => doc("unreadable"),
        };
        DomainError::invalid(&field, &code, e.error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placements_read_and_write_as_before_and_cross_page_defaults_to_every_page_at_true_size() {
        let rect =
            json!({"party": "e1", "kind": "signature", "page": 2, "x": 1.0, "y": 2.0, "width": 30.0, "height": 40.0});
        let p: ContractPlacement = serde_json::from_value(rect.clone()).unwrap();
        assert_eq!(p.widget.on_page().unwrap().kind, PlacementKind::Signature);
        assert_eq!(serde_json::to_value(&p).unwrap(), rect, "stored contracts read and write the same");
        let p: ContractPlacement =
            serde_json::from_value(json!({"party": "e1", "kind": "cross_page", "y": 100.0})).unwrap();
        let seal = p.widget.cross_page().unwrap();
        assert_eq!((seal.first_page, seal.last_page, seal.y), (None, None, 100.0));
        assert!((seal.size - 113.385_826_771_653_55).abs() < 1e-9, "40 mm: {}", seal.size);
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"party": "e1", "kind": "cross_page", "y": 100.0, "size": SEAL_SIZE_PT})
        );
        let bad = serde_json::from_value::<ContractPlacement>(json!({"party": "e1", "kind": "stamp", "y": 1.0}));
        assert!(bad.unwrap_err().to_string().contains("cross_page"));
    }

    #[test]
    fn numbers_and_one_cross_page_seal_per_party_are_checked_without_the_document() {
        let seal = |party: &str, y: f64, size: f64| ContractPlacement {
            party: party.into(),
            widget: Widget::CrossPage(CrossPage { first_page: None, last_page: None, y, size }),
        };
        let mut v = Violations::new();
        check_widgets(&mut v, &[seal("a", 10.0, 100.0), seal("b", 10.0, 100.0), seal("a", -1.0, 2000.0)]);
        let errors: Vec<(String, String)> = v.into_errors().into_iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            errors,
            [
                ("placements[2].y".to_owned(), "invalid".to_owned()),
                ("placements[2].size".to_owned(), "size".to_owned()),
                ("placements[2].kind".to_owned(), "one_per_party".to_owned()),
            ]
        );
        let (on_pages, cross) = party_layout(&[seal("a", 10.0, 100.0), seal("b", 20.0, 100.0)], "b");
        assert!(on_pages.is_empty());
        assert_eq!(cross.unwrap().y, 20.0);
    }

    #[test]
    fn the_engines_verdict_names_the_placement() {
        let placements = vec![
            ContractPlacement {
                party: "a".into(),
                widget: Widget::CrossPage(CrossPage { first_page: Some(3), last_page: None, y: 1.0, size: 90.0 }),
            },
            ContractPlacement {
                party: "a".into(),
                widget: Widget::Signature(Rect { page: 5, x: 1.0, y: 1.0, width: 50.0, height: 50.0 }),
            },
        ];
        let l = EngineLayouts::of(&placements);
        let field = |e: DomainError| match e {
            DomainError::Validation(errors) => (errors[0].field.clone(), errors[0].code.clone()),
            other => panic!("{other:?}"),
        };
        let range = |first, last| LayoutError {
            cross_page: Some(0),
            error: PadesError::CrossPage(CrossPageProblem::Range { first, last, count: 4 }),
        };
        assert_eq!(field(l.error(range(0, 4))), ("placements[0].first_page".into(), "page_out_of_range".into()));
        assert_eq!(field(l.error(range(3, 7))), ("placements[0].last_page".into(), "page_out_of_range".into()));
        assert_eq!(field(l.error(range(4, 4))), ("placements[0]".into(), "too_few_pages".into()));
        let thin = LayoutError {
            cross_page: Some(0),
            error: PadesError::CrossPage(CrossPageProblem::TooThin { size: 8.0, pages: 20, width: 0.4 }),
        };
        assert_eq!(field(l.error(thin)), ("placements[0].size".into(), "too_thin".into()));
        let off = LayoutError { cross_page: None, error: PadesError::PageOutOfRange { page: 5, count: 4 } };
        assert_eq!(field(l.error(off)), ("placements[1].page".into(), "page_out_of_range".into()));
    }
}
