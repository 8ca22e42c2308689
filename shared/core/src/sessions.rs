//! Sessions for people: passwordless sign-in with a one-time code sent to a mobile number or an
//! email address, then a session named by a random token that the HTTP edge keeps in a cookie.
//!
//! - Sign-in codes are the platform's one-time codes ([`crate::otp`]): 6 digits, stored salted
//!   and hashed, valid 5 minutes, at most [`otp::MAX_ATTEMPTS`] compared (each counted
//!   atomically first), single use, limited per destination, plus a resend cool-down.
//! - Starting a sign-in answers the same whether or not an account has the identifier; a code
//!   is sent only when one does (no account enumeration).
//! - A member's accounts are found through a contact index (`CONTACT#<destination hash>`),
//!   written in the same transactions that create and remove members.
//! - A session record (`SESSION#<sha256(token)>`) holds the principal, a CSRF token, and its
//!   absolute and idle expiry; the token itself is never stored. A member session re-reads the
//!   member on every request, as an API key does, so a removed member is signed out at once.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::audit::{Actor, Head};
use crate::auth::{Principal, Role};
use crate::enterprises::{internal, validate_email};
use crate::error::{DomainError, FieldError};
use crate::model::{Enterprise, Member, new_id};
use crate::otp::{self, CodeOwner, Purpose};
use crate::platform::{MemberData, Platform, Versioned, enterprise_key, enterprise_subject, member_key, member_record};
use crate::ports::{Channel, Condition, Key, Partition, Query, Record, StoreError, Write};

/// The name of the session cookie. `__Host-` makes browsers accept it only when it is `Secure`,
/// has `Path=/` and no `Domain`, so no sibling host can set or shadow it.
pub const SESSION_COOKIE: &str = "__Host-esign_session";
/// How long after one sign-in code another may be sent to the same destination.
pub const RESEND_AFTER: time::Duration = time::Duration::seconds(60);
/// How many accounts (members sharing one identifier) sign-in considers.
pub const MAX_ACCOUNTS: usize = 20;
/// The longest identifier accepted (an email address is at most 254 characters).
const MAX_IDENTIFIER_LEN: usize = 254;

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// A session unused this long ends (`ESIGN_SESSION_IDLE_SECS`).
    pub idle: Duration,
    /// A session ends this long after sign-in however much it is used (`ESIGN_SESSION_MAX_SECS`).
    pub max: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig { idle: Duration::from_secs(30 * 60), max: Duration::from_secs(12 * 3600) }
    }
}

impl SessionConfig {
    /// Both durations, checked: neither zero, idle not longer than the absolute limit.
    pub fn new(idle: Duration, max: Duration) -> Result<Self, String> {
        if idle.is_zero() || max.is_zero() {
            return Err("session durations must be positive".into());
        }
        if idle > max {
            return Err("the idle timeout cannot exceed the absolute session lifetime".into());
        }
        Ok(SessionConfig { idle, max })
    }

    /// How stale `last_seen` may get before a request refreshes it: at most once a minute, and
    /// often enough for short idle timeouts.
    fn refresh_after(&self) -> time::Duration {
        span(self.idle.min(Duration::from_secs(240)) / 4)
    }
}

fn span(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

/// What a person signs in with: a mobile number in E.164 form or an email address in lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    Mobile(String),
    Email(String),
}

impl Identifier {
    /// Parses an identifier: an email address (it has an `@`), a mainland mobile number in any
    /// form members are registered with, or another E.164 number (`+` and 8 to 15 digits).
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let bad = |code: &str, message: &str| FieldError::new("identifier", code, message);
        let s = s.trim();
        if s.is_empty() {
            return Err(bad("required", "a mobile number or an email address is required"));
        }
        if s.len() > MAX_IDENTIFIER_LEN {
            return Err(bad("too_long", "a mobile number or an email address is at most 254 characters"));
        }
        if s.contains('@') {
            return validate_email(s).map(|e| Identifier::Email(e.to_lowercase())).map_err(|m| bad("email", m));
        }
        if let Ok(m) = crate::kyb::validate_mainland_mobile(s) {
            return Ok(Identifier::Mobile(m.as_str().to_owned()));
        }
        let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let e164 = digits.strip_prefix('+').is_some_and(|d| {
            (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
        });
        if e164 {
            Ok(Identifier::Mobile(digits))
        } else {
            Err(bad("mobile", "not a mobile number (+8613800138000) or an email address"))
        }
    }

    /// Where a code to it travels.
    pub fn channel(&self) -> Channel {
        match self {
            Identifier::Mobile(_) => Channel::Sms,
            Identifier::Email(_) => Channel::Email,
        }
    }

    /// The normalised form, as a notice's recipient.
    pub fn as_str(&self) -> &str {
        match self {
            Identifier::Mobile(s) | Identifier::Email(s) => s,
        }
    }

    /// The hash limits, codes and the contact index know it by ([`otp::destination_hash`]).
    pub(crate) fn destination(&self) -> String {
        otp::destination_hash(self.channel(), self.as_str())
    }
}

/// The platform operators who may sign in with a code (`ESIGN_OPERATORS`), by identifier.
#[derive(Debug, Clone, Default)]
pub struct Operators {
    /// (destination hash, operator id) of each.
    known: Vec<(String, String)>,
}

impl Operators {
    /// From a comma-separated list of E.164 mobile numbers and email addresses; blanks are
    /// ignored, anything else that is not an identifier is refused.
    pub fn from_list(list: &str) -> Result<Self, String> {
        let mut known = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let id = Identifier::parse(item).map_err(|e| format!("{item:?}: {}", e.message))?;
            let entry = (id.destination(), Operators::id_of(&id));
            if !known.contains(&entry) {
                known.push(entry);
            }
        }
        Ok(Operators { known })
    }

    /// `op_` and the first 12 hex digits of the SHA-256 of the normalised identifier.
    pub fn id_of(identifier: &Identifier) -> String {
        format!("op_{}", &hex::encode(Sha256::digest(identifier.as_str().as_bytes()))[..12])
    }

    /// The operator id of the identifier with this destination hash, if it is an operator's.
    fn operator_for(&self, destination: &str) -> Option<&str> {
        self.known.iter().find(|(d, _)| d == destination).map(|(_, id)| id.as_str())
    }

    /// Whether this operator id is one of the configured operators'.
    pub fn knows(&self, operator_id: &str) -> bool {
        self.known.iter().any(|(_, id)| id == operator_id)
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }
}

/// Who is signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// A member of an enterprise (the web app).
    #[default]
    Member,
    /// A platform operator (the operator console).
    Operator,
}

/// `POST /v1/sessions/code`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartSignIn {
    pub identifier: String,
    #[serde(default)]
    pub audience: Option<Audience>,
}

/// The answer to [`StartSignIn`], the same whether or not a code was sent.
#[derive(Debug, Clone, Serialize)]
pub struct ChallengeSent {
    pub challenge_id: String,
    pub channel: Channel,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When another code may be asked for the same identifier.
    #[serde(with = "time::serde::rfc3339")]
    pub resend_after: OffsetDateTime,
}

/// `POST /v1/sessions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    pub challenge_id: String,
    pub code: crate::Secret,
    /// Which account, when several members share the identifier.
    #[serde(default)]
    pub member_id: Option<String>,
}

/// One account a person may sign in as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountChoice {
    pub member_id: String,
    pub enterprise_id: String,
    pub enterprise_name: String,
}

/// A session's secret: 32 random bytes, base64url without padding. Only its hash is stored.
/// A member's session also names its member in the cookie (`<secret>.<enterprise_id>.<member_id>`),
/// not as a credential (the session record must say the same) but so that the session and the
/// member are read in one round trip.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken {
    secret: String,
    member: Option<(String, String)>,
}

/// The longest enterprise or member id a cookie may name.
const MAX_COOKIE_ID: usize = 64;

fn is_cookie_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_COOKIE_ID && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

impl SessionToken {
    fn generate() -> Self {
        SessionToken { secret: random_b64(), member: None }
    }

    fn for_member(enterprise_id: &str, member_id: &str) -> Self {
        SessionToken { member: Some((enterprise_id.to_owned(), member_id.to_owned())), ..Self::generate() }
    }

    /// A token as a client sent it: the 43 characters of 32 bytes in base64url, optionally
    /// followed by `.<enterprise_id>.<member_id>` (ids of letters, digits, `_` and `-`).
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('.');
        let secret = parts.next()?;
        let member = match (parts.next(), parts.next(), parts.next()) {
            (None, None, None) => None,
            (Some(e), Some(m), None) if is_cookie_id(e) && is_cookie_id(m) => Some((e.to_owned(), m.to_owned())),
            _ => return None,
        };
        if secret.len() != 43 || !secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(secret).ok()?;
        (bytes.len() == 32).then(|| SessionToken { secret: secret.to_owned(), member })
    }

    /// The cookie's value.
    pub fn expose(&self) -> String {
        match &self.member {
            Some((e, m)) => format!("{}.{e}.{m}", self.secret),
            None => self.secret.clone(),
        }
    }

    fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.secret.as_bytes()))
    }
}

fn random_b64() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether a request made with a session must prove it knows the session's CSRF token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Csrf<'a> {
    /// A safe method (GET, HEAD): nothing changes.
    NotNeeded,
    /// A write: the `X-CSRF-Token` header, if any.
    Given(Option<&'a str>),
}

/// Whom a session is for, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum SessionOwner {
    Member { enterprise_id: String, member_id: String },
    Operator { id: String },
}

/// A session as stored under the hash of its token.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSession {
    owner: SessionOwner,
    csrf_token: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    last_seen: OffsetDateTime,
    /// The absolute end.
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

/// Who a session is for, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionPrincipal {
    Member { member_id: String, enterprise_id: String, role: Role, name: String },
    Operator { id: String },
}

/// `GET /v1/session`, and the body of a new session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    pub principal: SessionPrincipal,
    /// Every write made with the session cookie carries it as `X-CSRF-Token`.
    pub csrf_token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub idle_expires_at: OffsetDateTime,
}

/// A session just created: its token (for the cookie, shown this once), how long the cookie
/// lives, and what the client sees.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: SessionToken,
    pub max_age_secs: u64,
    pub view: SessionView,
}

/// What the resend cool-down of a destination keeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cooldown {
    #[serde(with = "time::serde::rfc3339")]
    until: OffsetDateTime,
}

/// One entry of the contact index: a member who has the destination.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ContactEntry {
    enterprise_id: String,
    member_id: String,
}

fn session_key(token: &SessionToken) -> Key {
    Key::new(format!("SESSION#{}", token.hash()), "SESSION")
}

/// The index partition of a member's sessions (so removing the member ends them).
fn member_sessions(member_id: &str) -> String {
    format!("SESSIONS#{member_id}")
}

fn cooldown_key(destination: &str) -> Key {
    Key::new(format!("SIGNIN#{destination}"), "RESEND")
}

fn contact_key(destination: &str, member_id: &str) -> Key {
    Key::new(format!("CONTACT#{destination}"), format!("MEMBER#{member_id}"))
}

/// The contact index entries of a member: its mobile and its email lead to it.
fn contact_keys(m: &Member) -> [Key; 2] {
    [
        contact_key(&otp::destination_hash(Channel::Sms, &m.mobile), &m.id),
        contact_key(&otp::destination_hash(Channel::Email, &m.email), &m.id),
    ]
}

/// The writes that index a new member's contacts (with the member's own creation).
pub(crate) fn index_contacts(m: &Member) -> Result<Vec<Write>, DomainError> {
    let entry = ContactEntry { enterprise_id: m.enterprise_id.clone(), member_id: m.id.clone() };
    let data = serde_json::to_value(entry).map_err(internal)?;
    Ok(contact_keys(m).into_iter().map(|k| Write::create(Record::new(k, data.clone()))).collect())
}

/// The writes that remove a member's contacts from the index (with the member's removal).
pub(crate) fn unindex_contacts(m: &Member) -> Vec<Write> {
    contact_keys(m).into_iter().map(|key| Write::Delete { key, condition: Condition::Always }).collect()
}

/// Constant-time comparison of two strings (their lengths are not secret).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A code error about the code's id, told in the sign-in's words (`challenge_id`).
fn as_challenge(e: DomainError) -> DomainError {
    match e {
        DomainError::Validation(mut fields) => {
            for f in &mut fields {
                if f.field == "otp_id" {
                    f.field = "challenge_id".into();
                }
            }
            DomainError::Validation(fields)
        }
        other => other,
    }
}

impl StoredSession {
    fn idle_expires_at(&self, config: &SessionConfig) -> OffsetDateTime {
        (self.last_seen + span(config.idle)).min(self.expires_at)
    }

    fn record(&self, key: Key, config: &SessionConfig) -> Result<Record, DomainError> {
        let mut r = Record::new(key, serde_json::to_value(self).map_err(internal)?);
        if let SessionOwner::Member { member_id, .. } = &self.owner {
            r.index = Some(Key::new(member_sessions(member_id), self.created_at.unix_timestamp().to_string()));
        }
        // The store may forget it a day after it can no longer be used.
        r.expires_at = Some((self.idle_expires_at(config) + time::Duration::days(1)).unix_timestamp());
        Ok(r)
    }
}

impl Platform {
    /// Sends a sign-in code to `identifier` when an account of the audience has it, and answers
    /// alike either way. Codes to one destination are limited per hour (with every other code
    /// to it) and spaced by [`RESEND_AFTER`].
    pub async fn start_sign_in(&self, input: StartSignIn) -> Result<ChallengeSent, DomainError> {
        let identifier = Identifier::parse(&input.identifier).map_err(|e| DomainError::Validation(vec![e]))?;
        let audience = input.audience.unwrap_or_default();
        let (channel, destination) = (identifier.channel(), identifier.destination());
        let known = match audience {
            Audience::Member => !self.contact_entries(&destination, 1).await?.is_empty(),
            Audience::Operator => self.config.operators.operator_for(&destination).is_some(),
        };
        let purpose = match audience {
            Audience::Member => Purpose::SignIn,
            Audience::Operator => Purpose::OperatorSignIn,
        };
        let now = self.clock.now();
        let challenge_id = new_id("otp");
        let (code, stored) =
            otp::new_code_for(&challenge_id, purpose, &CodeOwner::default(), channel, &destination, now);
        let limit = otp::destination_limit(&destination);
        let wait = cooldown_key(&destination);
        let mut retries = 0;
        loop {
            let mut writes = Vec::new();
            let cooling = self.store.get(&wait).await?;
            if let Some(r) = &cooling {
                let c: Cooldown = r.decode()?;
                if now < c.until {
                    let secs = u64::try_from((c.until - now).whole_seconds()).unwrap_or(0).max(1);
                    return Err(DomainError::RateLimited {
                        message: format!("a code was just sent; ask again in {secs} s"),
                        retry_after_secs: secs,
                    });
                }
            }
            let mut next = Record::new(
                wait.clone(),
                serde_json::to_value(Cooldown { until: now + RESEND_AFTER }).map_err(internal)?,
            );
            next.expires_at = Some((now + RESEND_AFTER + time::Duration::hours(1)).unix_timestamp());
            writes.push(match &cooling {
                None => Write::create(next),
                Some(r) => Write::replace(next, r.version),
            });
            let (window, end) = otp::window_key(&limit, now);
            let counted = self.store.get(&window).await?;
            writes.push(otp::count_send(&limit, counted.as_ref(), window, end, now)?);
            writes.push(Write::create(otp::code_record(&stored)?));
            match self.store.write(writes).await {
                Ok(()) => break,
                Err(StoreError::Conflict) if retries < otp::SEND_RETRIES => retries += 1,
                Err(e) => return Err(e.into()),
            }
        }
        // Nobody to send to: the challenge exists all the same, and no code ever matches it.
        if known && let Err(e) = self.notifier.send(&otp::notice(purpose, channel, identifier.as_str(), &code)).await {
            let undo = Write::Delete { key: otp::code_key(&challenge_id), condition: Condition::Always };
            if let Err(w) = self.store.write(vec![undo]).await {
                tracing::error!(challenge_id, error = %w, "could not withdraw a sign-in code whose notice failed");
            }
            return Err(DomainError::Dependency(e.to_string()));
        }
        Ok(ChallengeSent { challenge_id, channel, expires_at: stored.expires_at, resend_after: now + RESEND_AFTER })
    }

    /// Signs in with the code of a challenge: a new session for the one account that has the
    /// identifier (or the one chosen among several), or for the operator. A right code also
    /// confirms the member's contact on that channel.
    pub async fn create_session(&self, input: CreateSession) -> Result<NewSession, DomainError> {
        let unknown = || DomainError::invalid("challenge_id", "unknown", "no such sign-in challenge");
        let key = otp::code_key(&input.challenge_id);
        let record = self.store.get(&key).await?.ok_or_else(unknown)?;
        let mut code: otp::StoredCode = record.decode()?;
        if !matches!(code.purpose, Purpose::SignIn | Purpose::OperatorSignIn) {
            return Err(unknown());
        }
        let now = self.clock.now();
        otp::check_usable(&code, now).map_err(as_challenge)?;
        let attempts = otp::count_attempt(self.store.as_ref(), &code).await.map_err(as_challenge)?;
        if !otp::matches(&code, &input.code) {
            return Err(otp::mismatch(attempts));
        }
        code.used = true;
        code.attempts = attempts;
        let mut writes = vec![Write::replace(otp::code_record(&code)?, record.version)];
        let gone = || DomainError::invalid("challenge_id", "no_account", "no account has this identifier any more");
        let (owner, principal) = if code.purpose == Purpose::OperatorSignIn {
            let id = self.config.operators.operator_for(&code.destination).ok_or_else(gone)?.to_owned();
            (SessionOwner::Operator { id: id.clone() }, SessionPrincipal::Operator { id })
        } else {
            let mut accounts = self.accounts(&code.destination).await?;
            let chosen = match (&input.member_id, accounts.len()) {
                (_, 0) => return Err(gone()),
                (None, 1) => 0,
                (None, _) => return Err(DomainError::ChooseAccount(self.choices(&accounts).await?)),
                (Some(id), _) => accounts.iter().position(|m| &m.value.member.id == id).ok_or_else(|| {
                    DomainError::invalid("member_id", "unknown", "not an account this identifier signs in to")
                })?,
            };
            let Versioned { value: loaded, version } = accounts.swap_remove(chosen);
            let mut member = loaded.member;
            if !member.confirmed(code.channel) {
                match code.channel {
                    Channel::Sms => member.mobile_confirmed = true,
                    Channel::Email => member.email_confirmed = true,
                }
                writes.push(Write::replace(member_record(&member, &loaded.key_hash)?, version));
            }
            Head::load(self.store.as_ref(), &enterprise_subject(&member.enterprise_id)).await?.append(
                &mut writes,
                now,
                Actor::member(&member.id),
                "member.signed_in",
                serde_json::json!({ "member_id": member.id, "channel": code.channel, "otp_id": code.id }),
            );
            (
                SessionOwner::Member { enterprise_id: member.enterprise_id.clone(), member_id: member.id.clone() },
                SessionPrincipal::Member {
                    member_id: member.id,
                    enterprise_id: member.enterprise_id,
                    role: member.role,
                    name: member.name,
                },
            )
        };
        let config = self.config.sessions;
        let token = match &owner {
            SessionOwner::Member { enterprise_id, member_id } => SessionToken::for_member(enterprise_id, member_id),
            SessionOwner::Operator { .. } => SessionToken::generate(),
        };
        let session = StoredSession {
            owner,
            csrf_token: random_b64(),
            created_at: now,
            last_seen: now,
            expires_at: now + span(config.max),
        };
        writes.push(Write::create(session.record(session_key(&token), &config)?));
        self.store.write(writes).await?;
        let view = SessionView {
            principal,
            csrf_token: session.csrf_token.clone(),
            expires_at: session.expires_at,
            idle_expires_at: session.idle_expires_at(&config),
        };
        Ok(NewSession { token, max_age_secs: config.max.as_secs(), view })
    }

    /// Who holds this session, for a request; a write must carry the session's CSRF token.
    pub async fn authenticate_session(&self, token: &SessionToken, csrf: Csrf<'_>) -> Result<Principal, DomainError> {
        Ok(self.open_session(token, csrf).await?.0)
    }

    /// The session as its owner sees it (`GET /v1/session`).
    pub async fn session(&self, token: &SessionToken) -> Result<SessionView, DomainError> {
        Ok(self.open_session(token, Csrf::NotNeeded).await?.1)
    }

    /// Ends the session (sign-out). A live session needs its CSRF token; an unknown or expired
    /// one is simply gone.
    pub async fn end_session(&self, token: &SessionToken, csrf: Csrf<'_>) -> Result<(), DomainError> {
        let key = session_key(token);
        let Some(record) = self.store.get(&key).await? else { return Ok(()) };
        let s: StoredSession = record.decode()?;
        let now = self.clock.now();
        if now < s.idle_expires_at(&self.config.sessions) {
            check_csrf(&s, csrf)?;
        }
        self.store.write(vec![Write::Delete { key, condition: Condition::Always }]).await?;
        Ok(())
    }

    /// Checks a session (expiry, CSRF, its member still there) and refreshes its `last_seen`
    /// when stale: the same two reads as an API key, and now and then one write.
    async fn open_session(
        &self,
        token: &SessionToken,
        csrf: Csrf<'_>,
    ) -> Result<(Principal, SessionView), DomainError> {
        let key = session_key(token);
        // A member's cookie names its member: both records in one read.
        let (record, mut member) = match &token.member {
            Some((enterprise_id, member_id)) => {
                let [session, member]: [Option<Record>; 2] = self
                    .store
                    .get_many(&[key.clone(), member_key(enterprise_id, member_id)])
                    .await?
                    .try_into()
                    .map_err(|_| DomainError::Internal("two records expected".into()))?;
                (session, Some(member))
            }
            None => (self.store.get(&key).await?, None),
        };
        let record = record.ok_or(DomainError::Unauthorized)?;
        let mut s: StoredSession = record.decode()?;
        let config = self.config.sessions;
        let now = self.clock.now();
        if now >= s.idle_expires_at(&config) {
            return Err(DomainError::Unauthorized);
        }
        check_csrf(&s, csrf)?;
        let (principal, shown) = match &s.owner {
            // An operator removed from the configuration is signed out at once, as a removed
            // member is; functions that do not know the operators serve none.
            SessionOwner::Operator { id } if !self.config.operators.knows(id) => return Err(DomainError::Unauthorized),
            SessionOwner::Operator { id } => {
                (Principal::Operator { id: id.clone() }, SessionPrincipal::Operator { id: id.clone() })
            }
            SessionOwner::Member { enterprise_id, member_id } => {
                let read = match (member.take(), &token.member) {
                    // The cookie's member must be the session's.
                    (Some(read), Some((e, m))) if e == enterprise_id && m == member_id => read,
                    (Some(_), _) => return Err(DomainError::Unauthorized),
                    (None, _) => self.store.get(&member_key(enterprise_id, member_id)).await?,
                };
                let m = read.ok_or(DomainError::Unauthorized)?.decode::<MemberData>()?.member;
                (
                    Principal::Member { enterprise_id: m.enterprise_id.clone(), member_id: m.id.clone(), role: m.role },
                    SessionPrincipal::Member {
                        member_id: m.id,
                        enterprise_id: m.enterprise_id,
                        role: m.role,
                        name: m.name,
                    },
                )
            }
        };
        if now - s.last_seen >= config.refresh_after() {
            s.last_seen = now;
            let refreshed = Write::replace(s.record(key, &config)?, record.version);
            match self.store.write(vec![refreshed]).await {
                // A concurrent request refreshed it first: as good.
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => tracing::warn!(error = %e, "could not refresh a session's last use"),
            }
        }
        let view = SessionView {
            principal: shown,
            csrf_token: s.csrf_token.clone(),
            expires_at: s.expires_at,
            idle_expires_at: s.idle_expires_at(&config),
        };
        Ok((principal, view))
    }

    /// The writes that end every session of a member (with its removal); at most one page of
    /// them, the rest end anyway since the member is gone.
    pub(crate) async fn end_member_sessions(&self, member_id: &str) -> Result<Vec<Write>, DomainError> {
        let page = self
            .store
            .query(&Query {
                partition: Partition::Index(member_sessions(member_id)),
                prefix: String::new(),
                after: None,
                limit: 50,
                descending: true,
            })
            .await?;
        Ok(page.records.into_iter().map(|r| Write::Delete { key: r.key, condition: Condition::Always }).collect())
    }

    async fn contact_entries(&self, destination: &str, limit: usize) -> Result<Vec<ContactEntry>, DomainError> {
        let page = self
            .store
            .query(&Query {
                partition: Partition::Table(format!("CONTACT#{destination}")),
                prefix: "MEMBER#".into(),
                after: None,
                limit,
                descending: false,
            })
            .await?;
        Ok(page.records.iter().map(Record::decode).collect::<Result<_, _>>()?)
    }

    /// The members who have the destination, as stored now (with their versions).
    async fn accounts(&self, destination: &str) -> Result<Vec<Versioned<MemberData>>, DomainError> {
        let mut out = Vec::new();
        for e in self.contact_entries(destination, MAX_ACCOUNTS).await? {
            if let Some(m) = self.load::<MemberData>(&member_key(&e.enterprise_id, &e.member_id)).await? {
                out.push(m);
            }
        }
        Ok(out)
    }

    async fn choices(&self, accounts: &[Versioned<MemberData>]) -> Result<Vec<AccountChoice>, DomainError> {
        let mut out = Vec::new();
        for m in accounts {
            let member = &m.value.member;
            let name = match self.load::<Enterprise>(&enterprise_key(&member.enterprise_id)).await? {
                Some(e) => e.value.name,
                None => continue,
            };
            out.push(AccountChoice {
                member_id: member.id.clone(),
                enterprise_id: member.enterprise_id.clone(),
                enterprise_name: name,
            });
        }
        Ok(out)
    }
}

fn check_csrf(s: &StoredSession, csrf: Csrf<'_>) -> Result<(), DomainError> {
    match csrf {
        Csrf::NotNeeded => Ok(()),
        Csrf::Given(Some(t)) if same(t.trim(), &s.csrf_token) => Ok(()),
        Csrf::Given(_) => Err(DomainError::Csrf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Clock as _;
    use crate::testing::{OPERATOR_IDENTITIES, TestPlatform, full, new_member, registration_with, verified};

    fn code_to(t: &TestPlatform, to: &str) -> String {
        let body = t.notifier.last_to(to).expect("a code was sent").body;
        body.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a code").to_owned()
    }

    fn wrong(code: &str) -> String {
        if code == "000000" { "111111".into() } else { "000000".into() }
    }

    fn start(identifier: &str, audience: Option<Audience>) -> StartSignIn {
        StartSignIn { identifier: identifier.into(), audience }
    }

    fn enter(challenge: &ChallengeSent, code: &str, member_id: Option<&str>) -> CreateSession {
        CreateSession {
            challenge_id: challenge.challenge_id.clone(),
            code: code.into(),
            member_id: member_id.map(str::to_owned),
        }
    }

    fn field_code(e: &DomainError) -> (&str, &str) {
        match e {
            DomainError::Validation(f) => (f[0].field.as_str(), f[0].code.as_str()),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    /// Signs in by SMS as the only account with `mobile`.
    async fn sign_in(t: &TestPlatform, mobile: &str) -> NewSession {
        let sent = t.platform.start_sign_in(start(mobile, None)).await.unwrap();
        let code = code_to(t, mobile);
        t.platform.create_session(enter(&sent, &code, None)).await.unwrap()
    }

    #[test]
    fn identifiers_are_normalised_or_refused() {
        for s in ["13800138000", "+86 138 0013 8000", " 8613800138000 "] {
            assert_eq!(Identifier::parse(s).unwrap(), Identifier::Mobile("+8613800138000".into()), "{s}");
        }
        assert_eq!(Identifier::parse("+1 415-555-0100").unwrap(), Identifier::Mobile("+14155550100".into()));
        assert_eq!(Identifier::parse(" Ada@Example.COM ").unwrap(), Identifier::Email("ada@example.com".into()));
        assert_eq!(Identifier::parse("ada@example.com").unwrap().channel(), Channel::Email);
        let code = |s: &str| Identifier::parse(s).unwrap_err().code;
        assert_eq!(code(""), "required");
        assert_eq!(code(&"1".repeat(300)), "too_long");
        assert_eq!(code("ada@"), "email");
        for bad in ["12345", "+0123456789", "+1234", "phone", "+86 138 0013 800x"] {
            assert_eq!(code(bad), "mobile", "{bad}");
        }
        // The same destination as a member's stored contact.
        assert_eq!(
            Identifier::parse("ADA@example.com").unwrap().destination(),
            otp::destination_hash(Channel::Email, "Ada@Example.com")
        );
    }

    #[test]
    fn operators_are_known_by_identifier_only() {
        let ops = Operators::from_list(OPERATOR_IDENTITIES).unwrap();
        let email = Identifier::parse("ops@example.com").unwrap();
        let id = ops.operator_for(&email.destination()).unwrap();
        assert_eq!(id, Operators::id_of(&email));
        assert!(id.starts_with("op_") && id.len() == 15);
        assert!(ops.operator_for(&Identifier::parse("13700137000").unwrap().destination()).is_some());
        assert!(ops.operator_for(&Identifier::parse("other@example.com").unwrap().destination()).is_none());
        assert!(Operators::from_list("ops@example.com, nope").is_err());
        assert!(Operators::from_list(" , ").unwrap().is_empty());
    }

    #[test]
    fn tokens_are_32_random_bytes() {
        let a = SessionToken::generate();
        assert_ne!(a, SessionToken::generate());
        assert_eq!(SessionToken::parse(&a.expose()), Some(a.clone()));
        assert_eq!(a.expose().len(), 43);
        assert!(!format!("{a:?}").contains(&a.expose()));
        let m = SessionToken::for_member("ent_1", "mem_2");
        assert_eq!(m.expose(), format!("{}.ent_1.mem_2", m.secret));
        assert_eq!(SessionToken::parse(&m.expose()), Some(m.clone()));
        let long = "x".repeat(MAX_COOKIE_ID + 1);
        for bad in [
            "".to_owned(),
            "x".to_owned(),
            format!("{}=", a.expose()),
            "é".repeat(22),
            format!("{}.ent_1", a.expose()),
            format!("{}.ent_1.mem_2.x", a.expose()),
            format!("{}.ent 1.mem_2", a.expose()),
            format!("{}..mem_2", a.expose()),
            format!("{}.{long}.mem_2", a.expose()),
            "x.ent_1.mem_2".to_string(),
        ] {
            assert!(SessionToken::parse(&bad).is_none(), "{bad:?}");
        }
        assert!(SessionConfig::new(Duration::from_secs(10), Duration::from_secs(5)).is_err());
        assert!(SessionConfig::new(Duration::ZERO, Duration::from_secs(5)).is_err());
        assert_eq!(SessionConfig::default().refresh_after(), time::Duration::minutes(1));
    }

    #[tokio::test]
    async fn a_member_signs_in_by_sms_and_the_session_works_like_its_key() {
        let t = full();
        let p = &t.platform;
        let r = p.register_enterprise(registration_with("13800000001", "one@example.com")).await.unwrap();
        let sent = p.start_sign_in(start("+86 138 0000 0001", None)).await.unwrap();
        assert_eq!(sent.channel, Channel::Sms);
        assert_eq!(sent.resend_after, t.clock.now() + RESEND_AFTER);
        let code = code_to(&t, "+8613800000001");
        let e = p.create_session(enter(&sent, &wrong(&code), None)).await.unwrap_err();
        assert_eq!(field_code(&e), ("code", "mismatch"));
        let s = p.create_session(enter(&sent, &code, None)).await.unwrap();
        assert_eq!(s.max_age_secs, 12 * 3600);
        let SessionPrincipal::Member { member_id, role, name, .. } = &s.view.principal else { panic!("a member") };
        assert_eq!((member_id, *role, name.as_str()), (&r.admin.id, Role::Admin, "张三"));
        // Single use.
        let e = p.create_session(enter(&sent, &code, None)).await.unwrap_err();
        assert_eq!(field_code(&e), ("challenge_id", "used"));
        // The code proved the mobile (not the email).
        let admin = p.authenticate_session(&s.token, Csrf::NotNeeded).await.unwrap();
        assert_eq!(admin, p.authenticate(Some(&r.api_key)).await.unwrap());
        let me = p.list_members(&admin, None, None).await.unwrap().items.remove(0);
        assert!(me.mobile_confirmed && !me.email_confirmed);
        assert_eq!(p.session(&s.token).await.unwrap(), s.view);
        let trail = p.enterprise_audit(&admin, &r.enterprise.id, None, None).await.unwrap();
        assert_eq!(trail.items.last().unwrap().action, "member.signed_in");
        // The member the cookie names must be the session's: another id is no session at all.
        assert_eq!(s.token.member, Some((r.enterprise.id.clone(), r.admin.id.clone())));
        let other = SessionToken { member: Some((r.enterprise.id.clone(), "mem_other".into())), ..s.token.clone() };
        assert_eq!(p.authenticate_session(&other, Csrf::NotNeeded).await, Err(DomainError::Unauthorized));
        // A cookie without the member (as before it was added) still works, with two reads.
        let bare = SessionToken { member: None, ..s.token.clone() };
        assert_eq!(p.authenticate_session(&bare, Csrf::NotNeeded).await.unwrap(), admin);
    }

    #[tokio::test]
    async fn writes_need_the_csrf_token_and_sign_out_ends_the_session() {
        let t = full();
        let p = &t.platform;
        p.register_enterprise(registration_with("13800000002", "two@example.com")).await.unwrap();
        let sent = p.start_sign_in(start("TWO@example.com", None)).await.unwrap();
        assert_eq!(sent.channel, Channel::Email);
        let s = p.create_session(enter(&sent, &code_to(&t, "two@example.com"), None)).await.unwrap();
        let csrf = s.view.csrf_token.as_str();
        assert_eq!(p.authenticate_session(&s.token, Csrf::Given(None)).await, Err(DomainError::Csrf));
        assert_eq!(p.authenticate_session(&s.token, Csrf::Given(Some("nope"))).await, Err(DomainError::Csrf));
        assert!(p.authenticate_session(&s.token, Csrf::Given(Some(csrf))).await.is_ok());
        assert_eq!(p.end_session(&s.token, Csrf::Given(None)).await, Err(DomainError::Csrf));
        p.end_session(&s.token, Csrf::Given(Some(csrf))).await.unwrap();
        assert_eq!(p.session(&s.token).await, Err(DomainError::Unauthorized));
        // Signing out of a session that is gone is not an error.
        p.end_session(&s.token, Csrf::Given(None)).await.unwrap();
        assert_eq!(p.session(&SessionToken::generate()).await, Err(DomainError::Unauthorized));
    }

    #[tokio::test]
    async fn sessions_end_when_idle_and_at_their_absolute_limit() {
        let t = full();
        let p = &t.platform;
        p.register_enterprise(registration_with("13800000003", "three@example.com")).await.unwrap();
        let s = sign_in(&t, "+8613800000003").await;
        assert_eq!(s.view.idle_expires_at, t.clock.now() + time::Duration::minutes(30));
        // Used every 20 minutes, it lives on (last use refreshed) ...
        for _ in 0..3 {
            t.clock.advance(time::Duration::minutes(20));
            let v = p.session(&s.token).await.unwrap();
            assert_eq!(v.idle_expires_at, t.clock.now() + time::Duration::minutes(30));
        }
        // ... until 31 minutes pass unused.
        t.clock.advance(time::Duration::minutes(31));
        assert_eq!(p.session(&s.token).await, Err(DomainError::Unauthorized));
        // However busy, a session ends 12 hours after sign-in.
        let s = sign_in_again(&t, "+8613800000003").await;
        for _ in 0..(12 * 3) {
            t.clock.advance(time::Duration::minutes(20));
            if t.clock.now() < s.view.expires_at {
                p.session(&s.token).await.unwrap();
            }
        }
        assert!(t.clock.now() >= s.view.expires_at);
        assert_eq!(p.session(&s.token).await, Err(DomainError::Unauthorized));
    }

    /// Signs in again once the resend cool-down has passed.
    async fn sign_in_again(t: &TestPlatform, mobile: &str) -> NewSession {
        t.clock.advance(RESEND_AFTER);
        sign_in(t, mobile).await
    }

    #[tokio::test]
    async fn removing_a_member_ends_its_sessions() {
        let t = full();
        let p = &t.platform;
        let (_, admin) = verified(p).await;
        let member = p.create_member(&admin, new_member()).await.unwrap();
        let s = sign_in(&t, "+8613900139000").await;
        assert!(p.authenticate_session(&s.token, Csrf::NotNeeded).await.is_ok());
        p.delete_member(&admin, &member.member.id).await.unwrap();
        assert_eq!(p.authenticate_session(&s.token, Csrf::NotNeeded).await, Err(DomainError::Unauthorized));
        assert!(p.store.get(&session_key(&s.token)).await.unwrap().is_none(), "the record is gone too");
        assert!(
            p.contact_entries(&Identifier::parse("13900139000").unwrap().destination(), 5).await.unwrap().is_empty()
        );
        // Nobody has the number now: no code goes there.
        let before = t.notifier.sent.lock().unwrap().len();
        t.clock.advance(RESEND_AFTER);
        p.start_sign_in(start("13900139000", None)).await.unwrap();
        assert_eq!(t.notifier.sent.lock().unwrap().len(), before);
    }

    #[tokio::test]
    async fn unknown_identifiers_get_the_same_answer_and_no_code() {
        let t = full();
        let p = &t.platform;
        let sent = p.start_sign_in(start("nobody@example.com", None)).await.unwrap();
        assert_eq!(sent.channel, Channel::Email);
        assert!(t.notifier.sent.lock().unwrap().is_empty());
        for guess in ["000000", "123456"] {
            let e = p.create_session(enter(&sent, guess, None)).await.unwrap_err();
            assert_eq!(field_code(&e), ("code", "mismatch"));
        }
        // A member's identifier is not an operator's.
        p.register_enterprise(registration_with("13800000004", "four@example.com")).await.unwrap();
        p.start_sign_in(start("13800000004", Some(Audience::Operator))).await.unwrap();
        assert!(t.notifier.sent.lock().unwrap().is_empty());
        let e = p.start_sign_in(start("not an identifier", None)).await.unwrap_err();
        assert_eq!(field_code(&e), ("identifier", "mobile"));
    }

    #[tokio::test]
    async fn codes_are_spaced_and_attempts_bounded() {
        let t = full();
        let p = &t.platform;
        p.register_enterprise(registration_with("13800000005", "five@example.com")).await.unwrap();
        let sent = p.start_sign_in(start("13800000005", None)).await.unwrap();
        let e = p.start_sign_in(start("+8613800000005", None)).await.unwrap_err();
        assert!(matches!(e, DomainError::RateLimited { retry_after_secs: 60, .. }), "{e:?}");
        let code = code_to(&t, "+8613800000005");
        for _ in 0..otp::MAX_ATTEMPTS {
            p.create_session(enter(&sent, &wrong(&code), None)).await.unwrap_err();
        }
        let e = p.create_session(enter(&sent, &code, None)).await.unwrap_err();
        assert_eq!(field_code(&e), ("challenge_id", "attempts_exhausted"));
        t.clock.advance(RESEND_AFTER);
        let again = p.start_sign_in(start("13800000005", None)).await.unwrap();
        assert_ne!(again.challenge_id, sent.challenge_id);
        // Codes are not interchangeable between purposes.
        let e =
            p.create_session(CreateSession { challenge_id: "otp_x".into(), code: code.into(), member_id: None }).await;
        assert_eq!(field_code(&e.unwrap_err()), ("challenge_id", "unknown"));
    }

    #[tokio::test]
    async fn one_person_in_two_enterprises_chooses_an_account() {
        let t = full();
        let p = &t.platform;
        let a = p.register_enterprise(registration_with("13800000006", "six@example.com")).await.unwrap();
        let b = p.register_enterprise(registration_with("13800000006", "six@example.com")).await.unwrap();
        let sent = p.start_sign_in(start("13800000006", None)).await.unwrap();
        let code = code_to(&t, "+8613800000006");
        let Err(DomainError::ChooseAccount(accounts)) = p.create_session(enter(&sent, &code, None)).await else {
            panic!("no choice offered")
        };
        let mut ids: Vec<_> = accounts.iter().map(|c| c.member_id.as_str()).collect();
        ids.sort_unstable();
        let mut expected = vec![a.admin.id.as_str(), b.admin.id.as_str()];
        expected.sort_unstable();
        assert_eq!(ids, expected);
        assert!(accounts.iter().all(|c| c.enterprise_name == "深圳市腾讯计算机系统有限公司"));
        let e = p.create_session(enter(&sent, &code, Some("mem_other"))).await.unwrap_err();
        assert_eq!(field_code(&e), ("member_id", "unknown"));
        // The code was not used up by the question.
        let s = p.create_session(enter(&sent, &code, Some(&b.admin.id))).await.unwrap();
        let SessionPrincipal::Member { enterprise_id, .. } = &s.view.principal else { panic!("a member") };
        assert_eq!(enterprise_id, &b.enterprise.id);
    }

    #[tokio::test]
    async fn operators_sign_in_with_their_identifier() {
        let t = full();
        let p = &t.platform;
        let sent = p.start_sign_in(start("OPS@example.com", Some(Audience::Operator))).await.unwrap();
        let code = code_to(&t, "ops@example.com");
        let s = p.create_session(enter(&sent, &code, None)).await.unwrap();
        let id = Operators::id_of(&Identifier::parse("ops@example.com").unwrap());
        assert_eq!(s.view.principal, SessionPrincipal::Operator { id: id.clone() });
        assert_eq!(p.authenticate_session(&s.token, Csrf::NotNeeded).await, Ok(Principal::Operator { id }));
        // Taken off the list, the operator is signed out at once (the same store, a new config).
        let mut removed = p.clone();
        removed.config.operators = Operators::from_list("other-ops@example.com").unwrap();
        assert_eq!(removed.authenticate_session(&s.token, Csrf::NotNeeded).await, Err(DomainError::Unauthorized));
        // An operator's identifier signs in no member (nobody has it).
        t.clock.advance(RESEND_AFTER);
        let before = t.notifier.sent.lock().unwrap().len();
        p.start_sign_in(start("ops@example.com", None)).await.unwrap();
        assert_eq!(t.notifier.sent.lock().unwrap().len(), before);
    }
}
