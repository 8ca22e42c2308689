//! The end-to-end suite: one test binary (each test binary links the AWS SDK, so one builds and
//! links once), whose tests run on threads of one process against one local server
//! (`esign_e2e`). A new test goes in one of these modules, or in a new file declared here; new
//! contract tests go under `contracts/` (declared in `contracts.rs`). A test must not change the
//! server for the others: see `esign_e2e` for the faults and clocks a test may have of its own.
//!
//! Run one module: `cargo test -p esign-e2e --test e2e -- contracts::`.

mod checks;
mod contract_codes_expire;
mod contracts;
mod hostile_verify;
mod lookup;
mod members;
mod registration;
mod seals;
mod sessions;
mod signing;
mod signing_sessions;
mod templates;
mod trust;
mod usable_seals;
mod verification;
mod web;
mod webhooks;
