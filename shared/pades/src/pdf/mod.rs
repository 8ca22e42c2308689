//! Minimal PDF layer: lazy reader, object model, incremental writer.
pub mod damage;
pub mod object;
pub mod reader;
pub mod writer;

pub use damage::Damage;
pub use object::{Dict, Obj};
pub use reader::{Document, LoadOptions, MAX_OBJECT_NUMBER, XrefEntry, XrefStyle};

#[cfg(test)]
mod hostile_tests;
