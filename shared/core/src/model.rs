//! Entities as stored and as shown to clients.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::auth::Role;

/// Where an enterprise stands in real-name authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnterpriseStatus {
    /// Registered, nothing submitted yet.
    Registered,
    PendingReview,
    Verified,
    /// The last submission was rejected; the reason is in the verification summary.
    Rejected,
}

/// An enterprise account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enterprise {
    pub id: String,
    /// What the enterprise is called: the name given at registration (a label nobody checked)
    /// until real-name authentication is approved, then the verified company name.
    pub name: String,
    /// The verified identity, once real-name authentication is approved: the only name and
    /// USCC that parties, webhooks and verification reports show.
    #[serde(default)]
    pub verified_identity: Option<VerifiedIdentity>,
    pub contact_email: String,
    pub contact_phone: Option<String>,
    pub status: EnterpriseStatus,
    /// The latest real-name authentication submission, if any.
    pub verification: Option<VerificationSummary>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Who an enterprise was verified to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedIdentity {
    pub company_name: String,
    pub uscc: String,
    pub verification_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub verified_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    PendingReview,
    Approved,
    Rejected,
}

impl VerificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStatus::PendingReview => "pending_review",
            VerificationStatus::Approved => "approved",
            VerificationStatus::Rejected => "rejected",
        }
    }
}

/// What an enterprise sees of its latest submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationSummary {
    pub id: String,
    pub status: VerificationStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    pub reason: Option<String>,
}

/// A person named in a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifiedPerson {
    pub name: String,
    /// Normalised resident identity number.
    pub id_number: String,
}

/// The administrator as named in a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Administrator {
    pub name: String,
    pub id_number: String,
    /// E.164 mobile number.
    pub mobile: String,
    pub is_legal_representative: bool,
}

/// A real-name authentication submission and its review (the operator's view).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub id: String,
    pub enterprise_id: String,
    pub status: VerificationStatus,
    pub company_name: String,
    pub uscc: String,
    pub organization_code: String,
    pub legal_representative: IdentifiedPerson,
    pub administrator: Administrator,
    pub authorization_letter_file_id: Option<String>,
    /// The letter as submitted, copied where no tenant can write: what the operator reviews.
    #[serde(default)]
    pub authorization_letter: Option<crate::uploads::PinnedFile>,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
    pub submitted_by: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
}

impl Verification {
    pub fn summary(&self) -> VerificationSummary {
        VerificationSummary {
            id: self.id.clone(),
            status: self.status,
            submitted_at: self.submitted_at,
            decided_at: self.decided_at,
            reason: self.reason.clone(),
        }
    }
}

/// A person of an enterprise who holds an API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub enterprise_id: String,
    pub name: String,
    /// E.164 mobile number (where one-time codes go).
    pub mobile: String,
    pub email: String,
    pub role: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Whether the member proved, with a code sent there, that it receives texts at `mobile`;
    /// signing codes go only to a confirmed destination.
    #[serde(default)]
    pub mobile_confirmed: bool,
    /// Whether the member confirmed `email` the same way.
    #[serde(default)]
    pub email_confirmed: bool,
}

impl Member {
    /// Whether the destination on `channel` is confirmed.
    pub fn confirmed(&self, channel: crate::ports::Channel) -> bool {
        match channel {
            crate::ports::Channel::Sms => self.mobile_confirmed,
            crate::ports::Channel::Email => self.email_confirmed,
        }
    }
}

/// A file a client uploads through a presigned URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    pub enterprise_id: String,
    pub purpose: String,
    pub content_type: String,
    pub declared_size: u64,
    /// Object key in the files bucket.
    pub blob_key: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A newly issued API key next to the member it belongs to; the secret is shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct MemberWithKey {
    pub member: Member,
    pub api_key: crate::Secret,
}

/// The answer to a registration.
#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    pub enterprise: Enterprise,
    pub admin: Member,
    pub api_key: crate::Secret,
}

/// A page of a list and the opaque cursor for the next one.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// New random id with a readable prefix; time-ordered (UUIDv7), so ids sort by creation.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}
