//! Minimal PDF layer: lazy reader, object model, incremental writer.
pub mod object;
pub mod reader;
pub mod writer;

pub use object::{Dict, Obj};
pub use reader::{Document, XrefEntry, XrefStyle};
