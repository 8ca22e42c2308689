//! Embedded signing for SaaS customers. An integrator (an administrator of an enterprise that is
//! a party, with its API key) asks for a signing link for one of its members; the link opens the
//! web app's signing page (`<web URL>/embed/sign/<contract id>#token=<secret>`, the secret in the
//! fragment so that it never reaches a server log or a Referer) inside the customer's own page
//! or by redirect. The page exchanges the secret once for a short-lived bearer token, kept in
//! memory only (a third-party iframe has no cookies), that acts as that member on that
//! contract's signing routes and nothing else ([`SigningScope`]).
//!
//! Only hashes of both secrets are stored. A link is single-use and expires within minutes; a
//! bearer lasts at most [`SESSION_LIFETIME`]; both stop when the member is removed (each use
//! re-reads the member). Creating and exchanging are recorded on the contract's trail.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::audit::Head;
use crate::auth::Principal;
use crate::contracts::{ContractStatus, contract_subject};
use crate::enterprises::internal;
use crate::error::{DomainError, Violations};
use crate::platform::{MemberData, Mode, Platform, admin_of, member_key};
use crate::ports::{Key, Record, StoreError, Write};

/// Default and longest lifetime of a signing link.
pub const DEFAULT_LINK_TTL_SECS: u64 = 300;
pub const MAX_LINK_TTL_SECS: u64 = 900;
pub const MIN_LINK_TTL_SECS: u64 = 30;
/// How long an exchanged bearer token lasts.
pub const SESSION_LIFETIME: time::Duration = time::Duration::minutes(30);
/// The prefix of exchanged bearer tokens (and of links' secrets).
pub const SESSION_PREFIX: &str = "ess_";
const LINK_PREFIX: &str = "esl_";
const MAX_URL_LEN: usize = 2048;
/// Attempts at appending to the contract's trail when other writers move it first.
const TRAIL_RETRIES: u32 = 4;

/// `POST /v1/contracts/{id}/signing-sessions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSigningSession {
    pub member_id: String,
    /// Where the page sends the signer when done (https; http on localhost in development).
    #[serde(default)]
    pub return_url: Option<String>,
    /// The origin of the customer's page that frames the signing page, for `postMessage`.
    #[serde(default)]
    pub parent_origin: Option<String>,
    /// How long the link stays valid: 30 to 900 seconds, default 300.
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
}

/// The link to hand to the signer (once: only its hash is kept).
#[derive(Debug, Clone, Serialize)]
pub struct SigningLink {
    /// Carries the single-use token in its fragment.
    pub url: crate::Secret,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `POST /v1/signing-sessions/exchange`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeSigningSession {
    pub token: crate::Secret,
}

/// What the page gets for its link: the bearer token to keep in memory, and where to go when
/// done.
#[derive(Debug, Clone, Serialize)]
pub struct SigningSession {
    pub access_token: crate::Secret,
    pub token_type: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub contract_id: String,
    pub enterprise_id: String,
    pub member_id: String,
    pub return_url: Option<String>,
    pub parent_origin: Option<String>,
}

/// A link as stored under the hash of its secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredLink {
    contract_id: String,
    enterprise_id: String,
    member_id: String,
    created_by: String,
    return_url: Option<String>,
    parent_origin: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    exchanged_at: Option<OffsetDateTime>,
}

/// An exchanged session as stored under the hash of its bearer token.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSession {
    contract_id: String,
    enterprise_id: String,
    member_id: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

/// What a signing session's bearer may do: the signing routes of one contract, and listing the
/// seals its member may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningScope {
    pub contract_id: String,
}

/// What a request asks of a scoped caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopedAction<'a> {
    /// A signing route of this contract: read it, its document or trail, send a code, sign,
    /// verify it.
    Contract(&'a str),
    /// The seals the member may sign with.
    UsableSeals,
    /// Anything else.
    Other,
}

impl SigningScope {
    /// Whether the scope allows `action`; 403 when not.
    pub fn permit(&self, action: ScopedAction<'_>) -> Result<(), DomainError> {
        match action {
            ScopedAction::Contract(id) if id == self.contract_id => Ok(()),
            ScopedAction::UsableSeals => Ok(()),
            _ => Err(DomainError::Forbidden(format!(
                "a signing session only signs contract {}; use an API key for anything else",
                self.contract_id
            ))),
        }
    }
}

/// Who is calling, and within what scope (a signing session's bearer), if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub principal: Principal,
    pub scope: Option<SigningScope>,
}

fn secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn link_key(hash: &str) -> Key {
    Key::new(format!("SIGNLINK#{hash}"), "SIGNLINK")
}

fn session_key(hash: &str) -> Key {
    Key::new(format!("SIGNSESS#{hash}"), "SIGNSESS")
}

/// A secret as a client sent it: the prefix and 43 base64url characters.
fn well_formed(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == 43 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// A URL the signing page may send the signer to or post to: https, or in development http on
/// the loopback (`127.0.0.1`, `localhost`, `[::1]`); no credentials in it.
fn checked_url(value: &str, mode: Mode) -> Option<url::Url> {
    if value.len() > MAX_URL_LEN {
        return None;
    }
    let u = url::Url::parse(value).ok()?;
    let loopback = match u.host()? {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    let scheme_ok = u.scheme() == "https" || (u.scheme() == "http" && loopback && mode == Mode::Development);
    (scheme_ok && u.username().is_empty() && u.password().is_none()).then_some(u)
}

/// `return_url`: an absolute https URL (see [`checked_url`]).
pub fn check_return_url(value: &str, mode: Mode) -> Result<String, &'static str> {
    checked_url(value, mode)
        .map(|u| u.to_string())
        .ok_or("an absolute https URL without credentials (http://localhost or http://127.0.0.1 in development mode)")
}

/// `parent_origin`: an origin only (scheme, host, port), as `postMessage` takes it.
pub fn check_parent_origin(value: &str, mode: Mode) -> Result<String, &'static str> {
    let bad = "an origin such as https://app.example.com (https; http://localhost in development mode), no path";
    let u = checked_url(value, mode).ok_or(bad)?;
    if u.path() != "/" || u.query().is_some() || u.fragment().is_some() {
        return Err(bad);
    }
    Ok(u.origin().ascii_serialization())
}

impl Platform {
    /// A single-use signing link for `input.member_id`, a member of the caller's enterprise,
    /// which must be a party of the open contract (administrators).
    pub async fn create_signing_session(
        &self,
        principal: &Principal,
        contract_id: &str,
        input: CreateSigningSession,
    ) -> Result<SigningLink, DomainError> {
        let (loaded, enterprise_id, _) = self.visible_contract(principal, contract_id).await?;
        let admin_id = admin_of(principal, &enterprise_id)?.to_owned();
        let data = loaded.value;
        if data.party_index(&enterprise_id).is_none() {
            return Err(DomainError::Forbidden("the caller's enterprise is not a party of this contract".into()));
        }
        let mode = self.config.mode;
        let mut v = Violations::new();
        let ttl = input.ttl_seconds.unwrap_or(DEFAULT_LINK_TTL_SECS);
        if !(MIN_LINK_TTL_SECS..=MAX_LINK_TTL_SECS).contains(&ttl) {
            v.add("ttl_seconds", "range", format!("{MIN_LINK_TTL_SECS} to {MAX_LINK_TTL_SECS} seconds"));
        }
        let return_url = input.return_url.as_deref().and_then(|u| match check_return_url(u, mode) {
            Ok(u) => Some(u),
            Err(m) => {
                v.add("return_url", "invalid", m);
                None
            }
        });
        let parent_origin = input.parent_origin.as_deref().and_then(|u| match check_parent_origin(u, mode) {
            Ok(u) => Some(u),
            Err(m) => {
                v.add("parent_origin", "invalid", m);
                None
            }
        });
        v.finish()?;
        if self.load::<MemberData>(&member_key(&enterprise_id, &input.member_id)).await?.is_none() {
            return Err(DomainError::NotFound("member"));
        }
        let now = self.clock.now();
        match data.contract.status {
            ContractStatus::Signing if data.contract.expires_at.is_none_or(|t| now < t) => {}
            ContractStatus::Draft => {
                return Err(DomainError::Conflict("the contract is not open for signing yet".into()));
            }
            _ => return Err(DomainError::Conflict("the contract is no longer open for signing".into())),
        }
        let base = self
            .config
            .web_url
            .as_deref()
            .map(|u| u.trim_end_matches('/').to_owned())
            .ok_or_else(|| DomainError::Dependency("the web app's URL (ESIGN_WEB_URL) is not configured".into()))?;
        let token = secret(LINK_PREFIX);
        let expires_at = now + time::Duration::seconds(ttl as i64);
        let link = StoredLink {
            contract_id: contract_id.to_owned(),
            enterprise_id: enterprise_id.clone(),
            member_id: input.member_id.clone(),
            created_by: admin_id,
            return_url,
            parent_origin,
            expires_at,
            exchanged_at: None,
        };
        let mut record = Record::new(link_key(&hash(&token)), serde_json::to_value(&link).map_err(internal)?);
        record.expires_at = Some((expires_at + time::Duration::days(1)).unix_timestamp());
        let details = serde_json::json!({
            "member_id": link.member_id,
            "expires_at": expires_at.unix_timestamp(),
            "parent_origin": link.parent_origin,
            "return_url": link.return_url,
        });
        self.append_with(contract_id, principal, now, "signing_session.created", details, vec![Write::create(record)])
            .await?;
        Ok(SigningLink { url: format!("{base}/embed/sign/{contract_id}#token={token}").into(), expires_at })
    }

    /// Exchanges a signing link's secret, once, for a bearer token acting as its member on its
    /// contract only.
    pub async fn exchange_signing_session(&self, input: ExchangeSigningSession) -> Result<SigningSession, DomainError> {
        let unknown = || DomainError::NotFound("signing link");
        if !well_formed(&input.token, LINK_PREFIX) {
            return Err(unknown());
        }
        let key = link_key(&hash(&input.token));
        for _ in 0..TRAIL_RETRIES {
            let record = self.store.get(&key).await?.ok_or_else(unknown)?;
            let mut link: StoredLink = record.decode()?;
            let now = self.clock.now();
            if link.exchanged_at.is_some() {
                return Err(DomainError::Gone("this signing link was already used; ask for a new one".into()));
            }
            if now >= link.expires_at {
                return Err(DomainError::Gone("this signing link has expired; ask for a new one".into()));
            }
            let Some(member) = self.load::<MemberData>(&member_key(&link.enterprise_id, &link.member_id)).await? else {
                return Err(DomainError::Gone("the member of this signing link no longer exists".into()));
            };
            let principal = Principal::Member {
                enterprise_id: link.enterprise_id.clone(),
                member_id: link.member_id.clone(),
                role: member.value.member.role,
            };
            link.exchanged_at = Some(now);
            let bearer = secret(SESSION_PREFIX);
            let session = StoredSession {
                contract_id: link.contract_id.clone(),
                enterprise_id: link.enterprise_id.clone(),
                member_id: link.member_id.clone(),
                expires_at: now + SESSION_LIFETIME,
            };
            let mut stored =
                Record::new(session_key(&hash(&bearer)), serde_json::to_value(&session).map_err(internal)?);
            stored.expires_at = Some((session.expires_at + time::Duration::days(1)).unix_timestamp());
            let mut used = Record::new(key.clone(), serde_json::to_value(&link).map_err(internal)?);
            used.expires_at = record.expires_at;
            let mut writes = vec![Write::replace(used, record.version), Write::create(stored)];
            Head::load(self.store.as_ref(), &contract_subject(&link.contract_id)).await?.append(
                &mut writes,
                now,
                principal.actor(),
                "signing_session.exchanged",
                serde_json::json!({ "member_id": link.member_id, "expires_at": session.expires_at.unix_timestamp() }),
            );
            match self.store.write(writes).await {
                Ok(()) => {
                    return Ok(SigningSession {
                        access_token: bearer.into(),
                        token_type: "Bearer",
                        expires_at: session.expires_at,
                        contract_id: link.contract_id,
                        enterprise_id: link.enterprise_id,
                        member_id: link.member_id,
                        return_url: link.return_url,
                        parent_origin: link.parent_origin,
                    });
                }
                // Another exchange won (the next round says so), or the trail moved: read again.
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(DomainError::Conflict("the contract's trail kept changing; retry".into()))
    }

    /// Who holds this bearer token: a signing session's member within its scope, else an API
    /// key's member or an operator (no scope).
    pub async fn authenticate_bearer(&self, bearer: Option<&str>) -> Result<Caller, DomainError> {
        let Some(token) = bearer.map(str::trim).filter(|t| t.starts_with(SESSION_PREFIX)) else {
            return Ok(Caller { principal: self.authenticate(bearer).await?, scope: None });
        };
        if !well_formed(token, SESSION_PREFIX) {
            return Err(DomainError::Unauthorized);
        }
        let s: StoredSession = self.load(&session_key(&hash(token))).await?.ok_or(DomainError::Unauthorized)?.value;
        if self.clock.now() >= s.expires_at {
            return Err(DomainError::Unauthorized);
        }
        // A removed member's session ends at once.
        let member: MemberData =
            self.load(&member_key(&s.enterprise_id, &s.member_id)).await?.ok_or(DomainError::Unauthorized)?.value;
        Ok(Caller {
            principal: Principal::Member {
                enterprise_id: s.enterprise_id,
                member_id: s.member_id,
                role: member.member.role,
            },
            scope: Some(SigningScope { contract_id: s.contract_id }),
        })
    }

    /// Appends one event to the contract's trail with `writes`, retrying when the trail moved.
    async fn append_with(
        &self,
        contract_id: &str,
        principal: &Principal,
        now: OffsetDateTime,
        action: &str,
        details: serde_json::Value,
        writes: Vec<Write>,
    ) -> Result<(), DomainError> {
        for _ in 0..TRAIL_RETRIES {
            let mut batch = writes.clone();
            Head::load(self.store.as_ref(), &contract_subject(contract_id)).await?.append(
                &mut batch,
                now,
                principal.actor(),
                action,
                details.clone(),
            );
            match self.store.write(batch).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(DomainError::Conflict("the contract's trail kept changing; retry".into()))
    }
}

#[cfg(test)]
mod tests;
