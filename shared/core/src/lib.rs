//! The domain of the electronic-seal platform: entities, rules, state machines and use cases,
//! written against ports (traits) for records, files and time. Nothing here knows AWS or HTTP.
//!
//! Start at [`Platform`]: every use case is a method on it.

pub(crate) mod aead;
pub mod audit;
pub mod auth;
pub mod backfill;
pub mod checks;
pub mod contacts;
pub mod contract_list;
pub mod contracts;
pub mod directory;
pub mod enterprises;
pub mod error;
pub mod evidence;
pub mod grants;
pub mod idempotency;
pub mod kyb;
pub mod ltv;
pub mod members;
/// In-memory ports and fakes (no AWS): for tests only, this crate's and (through the
/// `testing` feature, which only dev-dependencies enable) other crates'.
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod model;
pub mod otp;
pub mod outbox;
pub mod placements;
pub mod platform;
pub mod ports;
pub mod revocation;
pub mod seal_image;
pub mod seals;
pub mod secret;
pub mod sessions;
pub mod signing_sessions;
pub mod templates;
pub mod trails;
pub mod uploads;
pub mod usable_seals;
pub mod usage;
pub mod verification;
pub mod verify;
mod warm;
pub mod webhooks;

#[cfg(test)]
pub(crate) mod testing;

pub use error::{DomainError, FieldError};
pub use platform::{Config, Mode, Platform, Ports, WebhookConfig};
pub use secret::Secret;
