//! RFC 9457 problem details: every error answer is `application/problem+json` with a stable
//! `type` URN that clients can switch on.

use esign_core::{DomainError, FieldError};
use serde::Serialize;

/// A problem answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    pub errors: Box<[FieldError]>,
    /// Members besides the standard ones (RFC 9457 extensions), e.g. `accounts` of
    /// `choose-account`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Box<serde_json::Map<String, serde_json::Value>>>,
    /// Headers of the answer besides the content type: `Allow` (405), `Retry-After` (429).
    #[serde(skip)]
    pub headers: Vec<(&'static str, String)>,
}

impl Problem {
    pub fn new(slug: &str, title: &'static str, status: u16, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("urn:esign:problem:{slug}"),
            title,
            status,
            detail: detail.into(),
            errors: Box::default(),
            extensions: None,
            headers: Vec::new(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new("bad-request", "Bad request", 400, detail)
    }

    pub fn not_found() -> Self {
        Problem::new("not-found", "Not found", 404, "no such resource")
    }

    pub fn method_not_allowed(allow: Vec<&'static str>) -> Self {
        let mut p = Problem::new(
            "method-not-allowed",
            "Method not allowed",
            405,
            format!("this resource accepts {}", allow.join(", ")),
        );
        p.headers.push(("allow", allow.join(", ")));
        p
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Problem::new("payload-too-large", "Payload too large", 413, format!("the body may be at most {limit} bytes"))
    }

    pub fn unsupported_media_type() -> Self {
        Problem::new("unsupported-media-type", "Unsupported media type", 415, "send the body as application/json")
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        let mut p = Problem::new("validation-failed", "Validation failed", 422, detail);
        p.errors = errors.into_boxed_slice();
        p
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"status\":500}"))
    }
}

impl From<DomainError> for Problem {
    fn from(e: DomainError) -> Self {
        let text = e.to_string();
        match e {
            DomainError::Validation(errors) => Problem::validation(errors),
            DomainError::IdempotencyKeyReused => {
                Problem::new("idempotency-key-reused", "Idempotency key reused", 422, text)
            }
            DomainError::IdempotencyInProgress => {
                Problem::new("idempotency-in-progress", "Request in progress", 409, text)
            }
            DomainError::Unauthorized => Problem::new(
                "unauthorized",
                "Unauthorized",
                401,
                "send a valid API key as Authorization: Bearer <key>, or sign in (POST /v1/sessions) for a session",
            ),
            DomainError::Csrf => Problem::new("csrf", "CSRF token missing or wrong", 403, text),
            DomainError::ChooseAccount(accounts) => {
                let mut p = Problem::new("choose-account", "Choose an account", 409, text);
                let accounts = serde_json::to_value(accounts).unwrap_or_default();
                p.extensions = Some(Box::new(serde_json::Map::from_iter([("accounts".to_owned(), accounts)])));
                p
            }
            DomainError::Forbidden(d) => Problem::new("forbidden", "Forbidden", 403, d),
            DomainError::NotVerified => Problem::new(
                "enterprise-not-verified",
                "Enterprise not verified",
                403,
                "this needs an enterprise that has passed real-name authentication",
            ),
            DomainError::NotFound(what) => Problem::new("not-found", "Not found", 404, format!("{what} not found")),
            DomainError::Conflict(d) => Problem::new("conflict", "Conflict", 409, d),
            DomainError::UsccTaken { .. } => Problem::new("uscc-taken", "USCC already verified", 409, text),
            DomainError::RateLimited { message, retry_after_secs } => Problem {
                headers: vec![("retry-after", retry_after_secs.to_string())],
                ..Problem::new("rate-limited", "Too many requests", 429, message)
            },
            DomainError::ContactUnconfirmed { channel, .. } => {
                let field = channel.contact();
                let mut p = Problem::new("contact-unconfirmed", "Contact not confirmed", 409, text);
                p.errors =
                    [FieldError::new("channel", "unconfirmed", format!("the member's {field} is not confirmed"))]
                        .into();
                p
            }
            DomainError::Dependency(d) => {
                tracing::error!(detail = %d, "dependency failed");
                Problem::new("dependency-failed", "Service unavailable", 503, "a backing service failed; retry later")
            }
            DomainError::Internal(d) => {
                tracing::error!(detail = %d, "internal error");
                Problem::new("internal", "Internal error", 500, "an unexpected error occurred")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use esign_core::sessions::AccountChoice;

    use super::*;

    #[test]
    fn session_problems_have_their_own_types_and_members() {
        let choice =
            AccountChoice { member_id: "mem_1".into(), enterprise_id: "ent_1".into(), enterprise_name: "甲".into() };
        let p = Problem::from(DomainError::ChooseAccount(vec![choice]));
        let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
        assert_eq!(
            (json["type"].as_str(), json["status"].as_u64()),
            (Some("urn:esign:problem:choose-account"), Some(409))
        );
        assert_eq!(
            json["accounts"],
            serde_json::json!([{"member_id": "mem_1", "enterprise_id": "ent_1", "enterprise_name": "甲"}])
        );
        assert!(json.get("errors").is_none());
        let csrf = Problem::from(DomainError::Csrf);
        assert_eq!((csrf.kind.as_str(), csrf.status), ("urn:esign:problem:csrf", 403));
        assert!(!csrf.to_json().contains("accounts"));
    }
}
