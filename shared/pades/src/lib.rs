//! PDF signing engine (PAdES baseline B-B / B-T).
//!
//! - [`sign_pdf`]: draws the placements (seal images, signing dates), adds one signature field and
//!   appends one incremental update whose CMS (ETSI.CAdES.detached) covers everything but its own
//!   /Contents. The input bytes are an exact prefix of the output.
//!   Placements may be on several pages, and a cross-page seal ([`CrossPageSeal`]) adds a strip
//!   of the seal to each page of a range: still one field and one signing act.
//! - [`verify_pdf`]: reports every signature in a PDF.
//! - [`Signer`] / [`LocalSigner`]: the signing key behind an async trait (KMS, HSM or a PEM key).
//! - [`TimestampSource`] / [`HttpTsa`]: RFC 3161 time stamps.
//!
//! The PDF reader is lazy (see `pdf::object` for why): only the trailer, the cross-reference
//! data and the few objects the signature needs are parsed, so cost grows with bytes hashed.

pub mod appearance;
pub mod cms_sig;
pub mod cross_page;
pub mod image;
pub mod layout;
pub mod ltv;
pub mod pdf;
pub mod report;
pub mod revinfo;
pub mod sign;
pub mod tsa;
pub mod verify;

pub use cms_sig::{LocalSigner, SignatureAlgorithm, Signer};
pub use cross_page::{CrossPageProblem, CrossPageSeal};
pub use layout::{PageSize, page_sizes};
pub use ltv::{ValidationData, add_validation_data, add_validation_data_update};
pub use sign::{
    DocumentInfo, LayoutError, Placement, PlacementKind, SignRequest, check_document, check_layout, check_layouts,
    check_placements, sign_pdf, sign_pdf_update, timestamp_pdf, timestamp_pdf_update,
};
pub use tsa::{HttpTsa, TimestampSource};
pub use verify::{DocTimestampReport, Report, SignatureReport, verify_pdf, verify_pdf_with_trust};

/// Every failure the engine reports. Bad input never panics; it ends up here.
#[derive(Debug, thiserror::Error)]
pub enum PadesError {
    #[error("empty input: the file has 0 bytes")]
    Empty,
    #[error("not a PDF file (no %PDF- header)")]
    NotPdf,
    #[error("encrypted PDFs are not supported")]
    Encrypted,
    #[error("malformed PDF: {0}")]
    Malformed(String),
    #[error("page {page} is out of range: the document has {count} page(s)")]
    PageOutOfRange { page: u32, count: usize },
    #[error(
        "placement {index} on page {page} ({x},{y} {width}x{height}) lies outside the page ({page_width} x {page_height} pt as displayed)"
    )]
    OffPage { index: usize, page: u32, x: f64, y: f64, width: f64, height: f64, page_width: f64, page_height: f64 },
    #[error("invalid placement: {0}")]
    InvalidPlacement(String),
    /// The cross-page seal does not fit the document (its range, strip width or a page).
    #[error("cross-page seal: {0}")]
    CrossPage(#[source] CrossPageProblem),
    #[error("invalid seal image: {0}")]
    Image(String),
    #[error("key or certificate: {0}")]
    Key(String),
    #[error("signer failed: {0}")]
    Signer(String),
    #[error("time-stamp authority: {0}")]
    Tsa(String),
    #[error("CMS: {0}")]
    Cms(String),
    #[error("the document does not allow another signature: {0}")]
    NotAllowed(String),
    /// The file is beyond what one document may cost (decoded bytes, nodes walked, object
    /// numbers): a hostile or absurd file, refused before it takes the process's memory or time.
    #[error("the document exceeds a processing limit: {0}")]
    Limit(String),
    /// The file is damaged in a way that signing it as is would hide (see [`pdf::Damage`]).
    #[error("the document is damaged: {0}")]
    Damaged(pdf::Damage),
    /// Validation data (certificates, OCSP responses, CRLs) given for the DSS that is not what
    /// it claims to be, or too large.
    #[error("validation data: {0}")]
    ValidationData(String),
    /// A report ([`report::write_report`]) could not be written: its font, for one.
    #[error("report: {0}")]
    Report(String),
}
