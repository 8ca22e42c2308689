//! One-time codes that confirm a signer's will or a member's contact: 6 digits sent to the
//! member's mobile or email in a fixed platform message, stored only as a salted hash, valid for
//! [`CODE_TTL`], at most [`MAX_ATTEMPTS`] codes compared (each attempt counted atomically before
//! its comparison), single use; sends are rate-limited per member, per enterprise and per
//! destination.

use rand::Rng as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::enterprises::internal;
use crate::error::DomainError;
use crate::model::Member;
use crate::platform::Platform;
use crate::ports::{Channel, Key, Notice, Record, RecordStore, StoreError, Write};

/// How long a code stays valid.
pub const CODE_TTL: time::Duration = time::Duration::minutes(5);
/// Codes ever compared with one sent code: each attempt is counted (atomically, on the code's
/// record) before its code is compared, so no number of concurrent guesses gets more.
pub const MAX_ATTEMPTS: u32 = 5;
/// Codes one member may be sent per [`RATE_WINDOW`].
pub const MAX_SENDS_PER_WINDOW: u64 = 5;
/// The window of the per-member limit.
pub const RATE_WINDOW: time::Duration = time::Duration::minutes(15);
/// Codes one destination (a mobile number or email address, whoever asks, across all
/// enterprises) may be sent per [`RECIPIENT_WINDOW`].
pub const MAX_SENDS_PER_RECIPIENT: u64 = 10;
/// The window of the per-destination limit.
pub const RECIPIENT_WINDOW: time::Duration = time::Duration::hours(1);
/// Codes the members of one enterprise may be sent, together, per [`ENTERPRISE_WINDOW`].
pub const MAX_SENDS_PER_ENTERPRISE: u64 = 200;
/// The window of the per-enterprise limit.
pub const ENTERPRISE_WINDOW: time::Duration = time::Duration::hours(1);

/// The field of a code's record that counts the codes compared with it.
const ATTEMPTS_FIELD: &str = "attempts";

/// What a code confirms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A member's will to sign one contract.
    #[default]
    Signing,
    /// That a member receives what is sent to its mobile or email.
    Contact,
    /// That a person receives what is sent to an identifier (mobile or email), to sign in as
    /// a member who has it (see `crate::sessions`).
    SignIn,
    /// The same for a platform operator's identifier.
    OperatorSignIn,
}

/// A code as stored: never the code itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredCode {
    pub id: String,
    #[serde(default)]
    pub purpose: Purpose,
    /// The contract a signing code is for; empty for a contact code.
    pub contract_id: String,
    pub enterprise_id: String,
    pub member_id: String,
    pub channel: Channel,
    /// [`destination_hash`] of where the code went.
    #[serde(default)]
    pub destination: String,
    pub salt: String,
    pub code_hash: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Codes compared with this one so far (counted before each comparison).
    #[serde(default)]
    pub attempts: u32,
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

/// Where a code goes, as limits and code records keep it: a SHA-256 of the channel and the
/// normalised destination, never the number or address itself.
pub(crate) fn destination_hash(channel: Channel, to: &str) -> String {
    let normalised = match channel {
        Channel::Sms => format!("sms:{}", to.trim()),
        Channel::Email => format!("email:{}", to.trim().to_lowercase()),
    };
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

/// The member's destination on `channel`.
pub(crate) fn destination(member: &Member, channel: Channel) -> &str {
    match channel {
        Channel::Sms => &member.mobile,
        Channel::Email => &member.email,
    }
}

/// A fresh code for `member` and the record that keeps its hash.
pub(crate) fn new_code(
    id: &str,
    purpose: Purpose,
    contract_id: &str,
    member: &Member,
    channel: Channel,
    now: OffsetDateTime,
) -> (String, StoredCode) {
    let mut owner = CodeOwner::member(member);
    owner.contract_id = contract_id;
    new_code_for(id, purpose, &owner, channel, &destination_hash(channel, destination(member, channel)), now)
}

/// Whom a code is for: a member (and the contract it signs), or nobody yet (a sign-in code,
/// whose accounts are found from its destination once it is entered).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CodeOwner<'a> {
    pub contract_id: &'a str,
    pub enterprise_id: &'a str,
    pub member_id: &'a str,
}

impl<'a> CodeOwner<'a> {
    pub(crate) fn member(member: &'a Member) -> Self {
        CodeOwner { contract_id: "", enterprise_id: &member.enterprise_id, member_id: &member.id }
    }
}

/// A fresh code to the destination whose [`destination_hash`] is `destination`, and the record
/// that keeps its hash.
pub(crate) fn new_code_for(
    id: &str,
    purpose: Purpose,
    owner: &CodeOwner<'_>,
    channel: Channel,
    destination: &str,
    now: OffsetDateTime,
) -> (String, StoredCode) {
    let mut rng = rand::rng();
    let code = format!("{:06}", rng.random_range(0..1_000_000u32));
    let salt = hex::encode(rng.random::<[u8; 16]>());
    let stored = StoredCode {
        id: id.to_owned(),
        purpose,
        contract_id: owner.contract_id.to_owned(),
        enterprise_id: owner.enterprise_id.to_owned(),
        member_id: owner.member_id.to_owned(),
        channel,
        destination: destination.to_owned(),
        code_hash: hash(&salt, id, &code),
        salt,
        expires_at: now + CODE_TTL,
        attempts: 0,
        used: false,
    };
    (code, stored)
}

pub(crate) fn code_record(c: &StoredCode) -> Result<Record, DomainError> {
    let mut r = Record::new(code_key(&c.id), serde_json::to_value(c).map_err(internal)?);
    r.expires_at = Some((c.expires_at + time::Duration::days(1)).unix_timestamp());
    Ok(r)
}

/// The message that carries a code: a fixed platform text with the code and its validity,
/// nothing a tenant typed (no title, no name, no link).
pub(crate) fn notice(purpose: Purpose, channel: Channel, to: &str, code: &str) -> Notice {
    let minutes = CODE_TTL.whole_minutes();
    let (subject, zh, en) = match purpose {
        Purpose::Signing => ("签署验证码 / Signing code", "签署验证码", "signing code"),
        Purpose::Contact => ("联系方式确认码 / Confirmation code", "联系方式确认码", "confirmation code"),
        Purpose::SignIn | Purpose::OperatorSignIn => ("登录验证码 / Sign-in code", "登录验证码", "sign-in code"),
    };
    Notice {
        channel,
        recipient: to.to_owned(),
        subject: subject.into(),
        body: format!(
            "【esign】您的{zh}为 {code}，{minutes}分钟内有效，请勿告诉他人。Your esign {en} is {code}, valid for {minutes} minutes; do not share it."
        ),
    }
}

fn refused(field: &str, code: &str, message: impl Into<String>) -> DomainError {
    DomainError::invalid(field, code, message)
}

fn used() -> DomainError {
    refused("otp_id", "used", "this code was already used; request a new one")
}

fn exhausted() -> DomainError {
    refused("otp_id", "attempts_exhausted", format!("{MAX_ATTEMPTS} codes were entered; request a new one"))
}

/// Why a stored code cannot be used any more, if it cannot (before its code is compared).
pub(crate) fn check_usable(c: &StoredCode, now: OffsetDateTime) -> Result<(), DomainError> {
    if c.used {
        return Err(used());
    }
    if c.attempts >= MAX_ATTEMPTS {
        return Err(exhausted());
    }
    check_unspent(c, now)
}

/// Whether a code whose attempt was already counted is still unused and unexpired.
pub(crate) fn check_unspent(c: &StoredCode, now: OffsetDateTime) -> Result<(), DomainError> {
    if c.used {
        return Err(used());
    }
    if now >= c.expires_at {
        return Err(refused("otp_id", "expired", "the code has expired; request a new one"));
    }
    Ok(())
}

/// Counts one attempt on the code's record, atomically and only while fewer than
/// [`MAX_ATTEMPTS`] were made, and answers how many have been made with it. Call it before
/// comparing: an attempt that is not counted is never compared.
pub(crate) async fn count_attempt(store: &dyn RecordStore, c: &StoredCode) -> Result<u32, DomainError> {
    let key = code_key(&c.id);
    match store.increment_below(&key, ATTEMPTS_FIELD, i64::from(MAX_ATTEMPTS)).await {
        Ok(n) => u32::try_from(n).map_err(|_| DomainError::Internal(format!("attempt count {n} out of range"))),
        Err(StoreError::Conflict) => match store.get(&key).await? {
            None => Err(refused("otp_id", "unknown", "no such code")),
            Some(r) if r.decode::<StoredCode>()?.used => Err(used()),
            Some(_) => Err(exhausted()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Whether `code` is the one sent (compared in constant time over the hashes).
pub(crate) fn matches(c: &StoredCode, code: &str) -> bool {
    let given = hash(&c.salt, &c.id, code.trim());
    given.len() == c.code_hash.len()
        && given.bytes().zip(c.code_hash.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The error for a wrong code, after `attempts` attempts, saying how many are left.
pub(crate) fn mismatch(attempts: u32) -> DomainError {
    let left = MAX_ATTEMPTS.saturating_sub(attempts);
    refused("code", "mismatch", format!("the code is wrong; {left} attempt(s) left"))
}

/// A send counter of one window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct SendWindow {
    pub sent: u64,
}

/// One limit on sending codes: at most `max` per `window` for one scope.
#[derive(Debug, Clone)]
pub(crate) struct SendLimit {
    /// The counter's partition (`OTPRATE#…`).
    pub partition: String,
    pub max: u64,
    pub window: time::Duration,
    /// What the 429 says.
    pub message: String,
}

/// The three limits a send must pass: the member's, its enterprise's and the destination's
/// (across all enterprises).
pub(crate) fn send_limits(member_id: &str, enterprise_id: &str, destination: &str) -> [SendLimit; 3] {
    [
        SendLimit {
            partition: format!("OTPRATE#{member_id}"),
            max: MAX_SENDS_PER_WINDOW,
            window: RATE_WINDOW,
            message: format!("at most {MAX_SENDS_PER_WINDOW} codes per member every 15 minutes"),
        },
        SendLimit {
            partition: format!("OTPRATE#ENT#{enterprise_id}"),
            max: MAX_SENDS_PER_ENTERPRISE,
            window: ENTERPRISE_WINDOW,
            message: format!("at most {MAX_SENDS_PER_ENTERPRISE} codes per enterprise every hour"),
        },
        destination_limit(destination),
    ]
}

/// The limit of codes to one destination (its [`destination_hash`]), whoever asks, across all
/// enterprises and purposes.
pub(crate) fn destination_limit(destination: &str) -> SendLimit {
    SendLimit {
        partition: format!("OTPRATE#TO#{destination}"),
        max: MAX_SENDS_PER_RECIPIENT,
        window: RECIPIENT_WINDOW,
        message: format!("at most {MAX_SENDS_PER_RECIPIENT} codes to one mobile number or email address every hour"),
    }
}

/// The counter of the window of `limit` that holds `now`, and when that window ends.
pub(crate) fn window_key(limit: &SendLimit, now: OffsetDateTime) -> (Key, OffsetDateTime) {
    let secs = limit.window.whole_seconds().max(1);
    let start = now.unix_timestamp().div_euclid(secs).saturating_mul(secs);
    let end = OffsetDateTime::from_unix_timestamp(start.saturating_add(secs)).unwrap_or(now);
    (Key::new(limit.partition.clone(), format!("W#{start}")), end)
}

/// The write that counts one more send in the window, or the rate-limit error.
pub(crate) fn count_send(
    limit: &SendLimit,
    existing: Option<&Record>,
    key: Key,
    window_end: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Write, DomainError> {
    let current: SendWindow = match existing {
        Some(r) => r.decode()?,
        None => SendWindow::default(),
    };
    if current.sent >= limit.max {
        let wait = u64::try_from((window_end - now).whole_seconds()).unwrap_or(0).max(1);
        return Err(DomainError::RateLimited { message: limit.message.clone(), retry_after_secs: wait });
    }
    let sent = current.sent.checked_add(1).ok_or_else(|| DomainError::Internal("send counter overflow".into()))?;
    let mut record = Record::new(key, serde_json::json!(SendWindow { sent }));
    record.expires_at = Some(window_end.unix_timestamp().saturating_add(3600));
    Ok(match existing {
        None => Write::create(record),
        Some(r) => Write::replace(record, r.version),
    })
}

/// How often a send is tried again when a concurrent send changed a counter or trail first.
pub(crate) const SEND_RETRIES: u32 = 4;

impl Platform {
    /// The writes that count one more send to `to` by `member` in each of its limits, or the
    /// first limit that is reached (429).
    pub(crate) async fn count_sends(
        &self,
        member: &Member,
        channel: Channel,
        to: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<Write>, DomainError> {
        Ok(self.count_sends_with(member, channel, to, now, &[]).await?.0)
    }

    /// [`Self::count_sends`], reading `also` in the same round trip: answers the writes and the
    /// records at `also`, in order.
    pub(crate) async fn count_sends_with(
        &self,
        member: &Member,
        channel: Channel,
        to: &str,
        now: OffsetDateTime,
        also: &[Key],
    ) -> Result<(Vec<Write>, Vec<Option<Record>>), DomainError> {
        let limits = send_limits(&member.id, &member.enterprise_id, &destination_hash(channel, to));
        let windows: Vec<(Key, OffsetDateTime)> = limits.iter().map(|l| window_key(l, now)).collect();
        let mut keys: Vec<Key> = windows.iter().map(|(k, _)| k.clone()).collect();
        keys.extend_from_slice(also);
        let mut records = self.store.get_many(&keys).await?;
        let rest = records.split_off(windows.len());
        let mut writes = Vec::new();
        for ((limit, (key, end)), existing) in limits.iter().zip(windows).zip(records) {
            writes.push(count_send(limit, existing.as_ref(), key, end, now)?);
        }
        Ok((writes, rest))
    }
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
    use crate::memory::MemoryStore;

    fn member() -> Member {
        Member {
            id: "mem_1".into(),
            enterprise_id: "ent_1".into(),
            name: "张三".into(),
            mobile: "+8613800138000".into(),
            email: "zhang@example.com".into(),
            role: Role::Member,
            created_at: OffsetDateTime::UNIX_EPOCH,
            mobile_confirmed: true,
            email_confirmed: false,
        }
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap()
    }

    #[test]
    fn codes_are_six_digits_stored_only_as_hashes() {
        let now = now();
        let (code, stored) = new_code("otp_1", Purpose::Signing, "ctr_1", &member(), Channel::Sms, now);
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        let json = serde_json::to_string(&stored).unwrap();
        assert!(!json.contains(&format!("\"{code}\"")));
        assert!(!json.contains("13800138000"), "the destination is kept only as a hash");
        assert_eq!(stored.destination, destination_hash(Channel::Sms, "+8613800138000"));
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
    fn destinations_hash_the_same_whatever_the_case_of_an_address() {
        assert_eq!(
            destination_hash(Channel::Email, "Zhang@Example.com"),
            destination_hash(Channel::Email, "zhang@example.com")
        );
        assert_ne!(
            destination_hash(Channel::Sms, "+8613800138000"),
            destination_hash(Channel::Email, "+8613800138000")
        );
    }

    #[test]
    fn the_message_is_a_fixed_template_with_the_code_and_expiry_only() {
        let n = notice(Purpose::Signing, Channel::Sms, "+8613800138000", "123456");
        assert!(n.body.contains("123456") && n.body.contains("5分钟") && n.body.contains("5 minutes"));
        let c = notice(Purpose::Contact, Channel::Email, "a@example.com", "654321");
        assert!(c.body.contains("654321"));
        // Nothing else varies: the same code gives the same text.
        assert_eq!(n.body, notice(Purpose::Signing, Channel::Email, "x@example.com", "123456").body);
        let digits: Vec<&str> = n.body.split(|c: char| !c.is_ascii_digit()).filter(|w| w.len() == 6).collect();
        assert_eq!(digits, ["123456", "123456"]);
    }

    #[test]
    fn the_sixth_send_in_a_window_is_refused() {
        let now = now();
        let [member_limit, enterprise_limit, recipient_limit] = send_limits("mem_1", "ent_1", "abc");
        for (limit, max) in [
            (member_limit, MAX_SENDS_PER_WINDOW),
            (enterprise_limit, MAX_SENDS_PER_ENTERPRISE),
            (recipient_limit, MAX_SENDS_PER_RECIPIENT),
        ] {
            let (key, end) = window_key(&limit, now);
            let mut r = Record::new(key.clone(), serde_json::json!({"sent": max - 1}));
            assert!(count_send(&limit, Some(&r), key.clone(), end, now).is_ok());
            r.data = serde_json::json!({"sent": max});
            let Err(DomainError::RateLimited { message, retry_after_secs }) =
                count_send(&limit, Some(&r), key, end, now)
            else {
                panic!("{} not limited", limit.partition)
            };
            assert_eq!(message, limit.message);
            assert!(retry_after_secs >= 1 && retry_after_secs <= limit.window.whole_seconds() as u64);
        }
    }

    #[test]
    fn limits_are_kept_per_member_enterprise_and_destination() {
        let limits = send_limits("mem_1", "ent_1", "hash");
        let partitions: Vec<&str> = limits.iter().map(|l| l.partition.as_str()).collect();
        assert_eq!(partitions, ["OTPRATE#mem_1", "OTPRATE#ENT#ent_1", "OTPRATE#TO#hash"]);
        assert_eq!(limits[2].window, RECIPIENT_WINDOW);
    }

    #[tokio::test]
    async fn attempts_are_counted_before_comparing_and_stop_at_the_limit() {
        let store = std::sync::Arc::new(MemoryStore::default());
        let (_, stored) = new_code("otp_1", Purpose::Signing, "ctr_1", &member(), Channel::Sms, now());
        store.write(vec![Write::create(code_record(&stored).unwrap())]).await.unwrap();
        let tries: Vec<_> = (0..40)
            .map(|_| {
                let (store, stored) = (store.clone(), stored.clone());
                tokio::spawn(async move { count_attempt(store.as_ref(), &stored).await })
            })
            .collect();
        let mut counted = Vec::new();
        for t in tries {
            match t.await.unwrap() {
                Ok(n) => counted.push(n),
                Err(e) => assert_eq!(e, exhausted()),
            }
        }
        counted.sort_unstable();
        assert_eq!(counted, [1, 2, 3, 4, 5]);
        let now_stored: StoredCode = store.get(&code_key("otp_1")).await.unwrap().unwrap().decode().unwrap();
        assert_eq!(now_stored.attempts, MAX_ATTEMPTS);
        assert_eq!(check_usable(&now_stored, now()), Err(exhausted()));
        // A withdrawn (deleted) code is unknown.
        let mut gone = stored.clone();
        gone.id = "otp_2".into();
        let e = count_attempt(store.as_ref(), &gone).await.unwrap_err();
        assert!(matches!(&e, DomainError::Validation(f) if f[0].code == "unknown"), "{e:?}");
    }
}
