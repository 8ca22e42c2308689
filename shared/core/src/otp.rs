//! One-time codes that confirm a signer's will: 6 digits sent to the member's mobile or email,
//! stored only as a salted hash, valid for [`CODE_TTL`], at most [`MAX_ATTEMPTS`] tries, single
//! use, and sends rate-limited per member.

use rand::Rng as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::enterprises::internal;
use crate::error::DomainError;
use crate::model::Member;
use crate::ports::{Channel, Key, Record, Write};

/// How long a code stays valid.
pub const CODE_TTL: time::Duration = time::Duration::minutes(5);
/// Wrong codes a code survives; the next attempt after the last one is refused.
pub const MAX_ATTEMPTS: u32 = 5;
/// Codes one member may be sent per [`RATE_WINDOW`].
pub const MAX_SENDS_PER_WINDOW: u64 = 5;
pub const RATE_WINDOW: time::Duration = time::Duration::minutes(15);

/// A code as stored: never the code itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredCode {
    pub id: String,
    pub contract_id: String,
    pub enterprise_id: String,
    pub member_id: String,
    pub channel: Channel,
    pub salt: String,
    pub code_hash: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub failed_attempts: u32,
    pub used: bool,
}

/// What the caller learns about a sent code.
#[derive(Debug, Clone, Serialize)]
pub struct CodeSent {
    pub otp_id: String,
    pub channel: Channel,
    /// The destination, masked (`+86 138****8000`, `z***@example.com`).
    pub sent_to: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `POST /v1/contracts/{id}/otp`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendCode {
    /// `sms` (the default) or `email`.
    #[serde(default)]
    pub channel: Option<Channel>,
}

pub(crate) fn code_key(id: &str) -> Key {
    Key::new(format!("OTP#{id}"), "OTP")
}

fn hash(salt: &str, id: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{salt}:{id}:{code}").as_bytes()))
}

/// A fresh code for `member` and the record that keeps its hash.
pub(crate) fn new_code(
    id: &str,
    contract_id: &str,
    member: &Member,
    channel: Channel,
    now: OffsetDateTime,
) -> (String, StoredCode) {
    let mut rng = rand::rng();
    let code = format!("{:06}", rng.random_range(0..1_000_000u32));
    let salt = hex::encode(rng.random::<[u8; 16]>());
    let stored = StoredCode {
        id: id.to_owned(),
        contract_id: contract_id.to_owned(),
        enterprise_id: member.enterprise_id.clone(),
        member_id: member.id.clone(),
        channel,
        code_hash: hash(&salt, id, &code),
        salt,
        expires_at: now + CODE_TTL,
        failed_attempts: 0,
        used: false,
    };
    (code, stored)
}

pub(crate) fn code_record(c: &StoredCode) -> Result<Record, DomainError> {
    let mut r = Record::new(code_key(&c.id), serde_json::to_value(c).map_err(internal)?);
    r.expires_at = Some((c.expires_at + time::Duration::days(1)).unix_timestamp());
    Ok(r)
}

fn refused(field: &str, code: &str, message: impl Into<String>) -> DomainError {
    DomainError::invalid(field, code, message)
}

/// Why a stored code cannot be used any more, if it cannot (before its code is compared).
pub(crate) fn check_usable(c: &StoredCode, now: OffsetDateTime) -> Result<(), DomainError> {
    if c.used {
        return Err(refused("otp_id", "used", "this code was already used; request a new one"));
    }
    if c.failed_attempts >= MAX_ATTEMPTS {
        return Err(refused(
            "otp_id",
            "attempts_exhausted",
            format!("{MAX_ATTEMPTS} wrong codes were entered; request a new one"),
        ));
    }
    if now >= c.expires_at {
        return Err(refused("otp_id", "expired", "the code has expired; request a new one"));
    }
    Ok(())
}

/// Whether `code` is the one sent (compared in constant time over the hashes).
pub(crate) fn matches(c: &StoredCode, code: &str) -> bool {
    let given = hash(&c.salt, &c.id, code.trim());
    given.len() == c.code_hash.len()
        && given.bytes().zip(c.code_hash.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The error for a wrong code, saying how many tries are left.
pub(crate) fn mismatch(c: &StoredCode) -> DomainError {
    let left = MAX_ATTEMPTS.saturating_sub(c.failed_attempts);
    refused("code", "mismatch", format!("the code is wrong; {left} attempt(s) left"))
}

/// The per-member send counter of the window that holds `now`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct SendWindow {
    pub sent: u64,
}

pub(crate) fn window_key(member_id: &str, now: OffsetDateTime) -> (Key, OffsetDateTime) {
    let secs = RATE_WINDOW.whole_seconds();
    let start = now.unix_timestamp().div_euclid(secs) * secs;
    let end = OffsetDateTime::from_unix_timestamp(start + secs).unwrap_or(now);
    (Key::new(format!("OTPRATE#{member_id}"), format!("W#{start}")), end)
}

/// The write that counts one more send in the window, or the rate-limit error.
pub(crate) fn count_send(
    existing: Option<&Record>,
    key: Key,
    window_end: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Write, DomainError> {
    let current: SendWindow = match existing {
        Some(r) => r.decode()?,
        None => SendWindow::default(),
    };
    if current.sent >= MAX_SENDS_PER_WINDOW {
        let wait = (window_end - now).whole_seconds().max(1) as u64;
        return Err(DomainError::RateLimited {
            message: format!("at most {MAX_SENDS_PER_WINDOW} codes per member every 15 minutes"),
            retry_after_secs: wait,
        });
    }
    let mut record = Record::new(key, serde_json::json!(SendWindow { sent: current.sent + 1 }));
    record.expires_at = Some(window_end.unix_timestamp() + 3600);
    Ok(match existing {
        None => Write::create(record),
        Some(r) => Write::replace(record, r.version),
    })
}

/// `+8613800138000` → `+86 138****8000`; `zhang@example.com` → `z***@example.com`.
pub(crate) fn mask(channel: Channel, to: &str) -> String {
    match channel {
        Channel::Sms => {
            let digits: Vec<char> = to.chars().collect();
            if digits.len() >= 11 {
                let n = digits.len();
                let head: String = digits[..n - 8].iter().collect();
                let tail: String = digits[n - 4..].iter().collect();
                let (cc, rest) = head.split_at(head.len().min(3));
                format!("{cc} {rest}****{tail}")
            } else {
                "****".into()
            }
        }
        Channel::Email => match to.split_once('@') {
            Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
            None => "***".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn member() -> Member {
        Member {
            id: "mem_1".into(),
            enterprise_id: "ent_1".into(),
            name: "张三".into(),
            mobile: "+8613800138000".into(),
            email: "zhang@example.com".into(),
            role: Role::Member,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn codes_are_six_digits_stored_only_as_hashes() {
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        let (code, stored) = new_code("otp_1", "ctr_1", &member(), Channel::Sms, now);
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        let json = serde_json::to_string(&stored).unwrap();
        assert!(!json.contains(&format!("\"{code}\"")));
        assert!(matches(&stored, &code));
        assert!(!matches(&stored, "12345"));
        let other = if code == "000000" { "000001" } else { "000000" };
        assert!(!matches(&stored, other));
        check_usable(&stored, now).unwrap();
        assert!(check_usable(&stored, now + CODE_TTL).is_err());
    }

    #[test]
    fn destinations_are_masked() {
        assert_eq!(mask(Channel::Sms, "+8613800138000"), "+86 138****8000");
        assert_eq!(mask(Channel::Email, "zhang@example.com"), "z***@example.com");
    }

    #[test]
    fn the_sixth_send_in_a_window_is_refused() {
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        let (key, end) = window_key("mem_1", now);
        let mut r = Record::new(key.clone(), serde_json::json!({"sent": MAX_SENDS_PER_WINDOW - 1}));
        assert!(count_send(Some(&r), key.clone(), end, now).is_ok());
        r.data = serde_json::json!({"sent": MAX_SENDS_PER_WINDOW});
        assert!(matches!(count_send(Some(&r), key, end, now), Err(DomainError::RateLimited { .. })));
    }
}
