//! The domain's errors. Each variant maps to one stable problem type at the HTTP edge.

use serde::Serialize;

use crate::ports::{BlobError, Channel, StoreError};

/// One rule a field of the input broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `legal_representative.id_number`.
    pub field: String,
    /// Stable machine-readable rule name, e.g. `check_character`.
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), code: code.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    #[error("the input is invalid")]
    Validation(Vec<FieldError>),
    #[error("missing or unknown API key or session")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("the enterprise has not passed real-name authentication")]
    NotVerified,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// Another enterprise account is already verified under this USCC.
    #[error("the USCC {uscc} is already verified by another enterprise account; one USCC has one verified account")]
    UsccTaken { uscc: String },
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still in progress; retry shortly")]
    IdempotencyInProgress,
    #[error("{message}")]
    RateLimited { message: String, retry_after_secs: u64 },
    /// The member has not confirmed its destination on this channel, so no code goes there.
    #[error("the member's {} is not confirmed: confirm it with POST /v1/members/{member_id}/contacts/confirm and /verify first", .channel.contact())]
    ContactUnconfirmed { member_id: String, channel: Channel },
    /// A write made with a session cookie without the session's CSRF token (`X-CSRF-Token`).
    #[error("a write with the session cookie must carry the session's csrf_token as X-CSRF-Token")]
    Csrf,
    /// The code was right, and several members (of several enterprises) share the identifier:
    /// the caller says which one to sign in as. The code is not used up by this answer.
    #[error("several accounts use this identifier; send the code again with the chosen member_id")]
    ChooseAccount(Vec<crate::sessions::AccountChoice>),
    /// Something that existed and is used up or over for good (a signing link exchanged or
    /// expired): 410.
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    Dependency(String),
    #[error("{0}")]
    Internal(String),
}

impl DomainError {
    /// A validation error with a single field.
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        DomainError::Validation(vec![FieldError::new(field, code, message)])
    }
}

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => {
                DomainError::Conflict("the resource was changed concurrently; reload and retry".into())
            }
            StoreError::Unavailable(m) => DomainError::Dependency(m),
            StoreError::Corrupt(m) => DomainError::Internal(m),
        }
    }
}

impl From<BlobError> for DomainError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::Unavailable(m) => DomainError::Dependency(m),
        }
    }
}

/// Collects field errors so a client learns every broken rule at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, code, message));
    }

    /// Runs a check and records its error under `field`, with the rule's own code
    /// ([`Rule::code`]); returns the value when it passed.
    pub fn check<T, E: Rule>(&mut self, field: &str, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.code(), e.to_string());
                None
            }
        }
    }

    /// As [`Self::check`], for a field that may be absent (a form half filled in): an absent
    /// field records nothing and yields nothing.
    pub fn check_given<T, E: Rule>(&mut self, field: &str, r: Option<Result<T, E>>) -> Option<T> {
        r.and_then(|r| self.check(field, r))
    }

    /// As [`Self::check`], for a field the request needs: an absent field is recorded as
    /// `required`.
    pub fn check_required<T, E: Rule>(&mut self, field: &str, r: Option<Result<T, E>>) -> Option<T> {
        match r {
            Some(r) => self.check(field, r),
            None => {
                self.required(field);
                None
            }
        }
    }

    /// [`Self::check_required`] when `required` (a request), else [`Self::check_given`] (a form
    /// check).
    pub fn check_field<T, E: Rule>(&mut self, field: &str, r: Option<Result<T, E>>, required: bool) -> Option<T> {
        if required { self.check_required(field, r) } else { self.check_given(field, r) }
    }

    /// Records that a field the request needs is absent.
    pub fn required(&mut self, field: &str) {
        self.add(field, "required", format!("{field} is required"));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every violation recorded, in order.
    pub fn into_errors(self) -> Vec<FieldError> {
        self.0
    }

    /// `Ok(())` when nothing was recorded, else the validation error.
    pub fn finish(self) -> Result<(), DomainError> {
        if self.0.is_empty() { Ok(()) } else { Err(DomainError::Validation(self.0)) }
    }
}

/// A broken rule: its message (`Display`) and its stable, machine-readable code, part of the
/// API (`FieldError::code`; clients switch on it, the web app words it), written out for each
/// rule rather than derived from a type's name.
pub trait Rule: std::fmt::Display {
    /// Snake case, e.g. `check_character`.
    fn code(&self) -> &'static str;
}

/// A rule with no code of its own (a plain message): `invalid`.
impl Rule for &'static str {
    fn code(&self) -> &'static str {
        "invalid"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_field_is_required_and_a_broken_rule_keeps_its_code() {
        let mut v = Violations::new();
        assert_eq!(v.check_required::<(), &'static str>("name", None), None);
        assert_eq!(v.check_required("email", Some(Err::<(), _>("not an e-mail address"))), None);
        assert_eq!(v.check_required("phone", Some(Ok::<_, &'static str>(7))), Some(7));
        assert_eq!(
            v.into_errors(),
            [
                FieldError::new("name", "required", "name is required"),
                FieldError::new("email", "invalid", "not an e-mail address"),
            ]
        );
    }
}
