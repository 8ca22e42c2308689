//! The party look-up: a member of a verified enterprise finds another verified enterprise by its
//! Unified Social Credit Code, to name it as a contract party. It learns the enterprise's id and
//! verified name, nothing else, and only of enterprises that passed real-name authentication;
//! every look-up, found or not, counts against a per-enterprise limit, so the directory cannot be
//! walked.

use serde::Serialize;

use crate::auth::Principal;
use crate::error::DomainError;
use crate::kyb::{self, Uscc};
use crate::model::{Enterprise, EnterpriseStatus};
use crate::otp::{SendLimit, count_send, window_key};
use crate::platform::{Platform, enterprise_key, own_enterprise, require_verified};
use crate::ports::StoreError;

/// Look-ups one enterprise may make per window.
pub const LOOKUPS_PER_WINDOW: u64 = 30;
/// The look-up window.
pub const LOOKUP_WINDOW: time::Duration = time::Duration::minutes(1);
/// How often a look-up's count is retried when concurrent look-ups moved the counter first.
const COUNT_RETRIES: u32 = 4;

/// What a look-up answers: the enterprise's id and verified company name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnterpriseMatch {
    pub id: String,
    pub name: String,
}

/// The per-enterprise limit on look-ups.
fn lookup_limit(enterprise_id: &str) -> SendLimit {
    SendLimit {
        partition: format!("LOOKUPRATE#{enterprise_id}"),
        max: LOOKUPS_PER_WINDOW,
        window: LOOKUP_WINDOW,
        message: format!("at most {LOOKUPS_PER_WINDOW} enterprise look-ups per enterprise every minute"),
    }
}

/// A USCC as the query gives it: validated (GB 32100-2015), else a 422 naming `uscc`.
pub fn parse_uscc(value: Option<&str>) -> Result<Uscc, DomainError> {
    let given = value.ok_or_else(|| DomainError::invalid("uscc", "missing", "give the USCC to look up: ?uscc=…"))?;
    kyb::validate_uscc(given).map_err(|e| {
        let mut v = crate::error::Violations::new();
        v.check::<(), _>("uscc", Err(e));
        DomainError::Validation(v.into_errors())
    })
}

impl Platform {
    /// The verified enterprise holding `uscc`, for a member of a verified enterprise; 404 when
    /// no verified enterprise holds it.
    pub async fn lookup_enterprise(&self, principal: &Principal, uscc: &Uscc) -> Result<EnterpriseMatch, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        require_verified(&self.load_enterprise(enterprise_id).await?.value)?;
        self.count_lookup(enterprise_id).await?;
        let Some(holder) = self.uscc_holder(uscc.as_str()).await? else {
            return Err(DomainError::NotFound("enterprise"));
        };
        let Some(found) = self.load::<Enterprise>(&enterprise_key(&holder)).await? else {
            return Err(DomainError::NotFound("enterprise"));
        };
        match found.value.verified_identity {
            Some(identity) if found.value.status == EnterpriseStatus::Verified && identity.uscc == uscc.as_str() => {
                Ok(EnterpriseMatch { id: found.value.id, name: identity.company_name })
            }
            _ => Err(DomainError::NotFound("enterprise")),
        }
    }

    /// Counts one look-up in the enterprise's window, or answers 429 when it is full.
    async fn count_lookup(&self, enterprise_id: &str) -> Result<(), DomainError> {
        let limit = lookup_limit(enterprise_id);
        let mut retries = 0;
        loop {
            let now = self.clock.now();
            let (key, end) = window_key(&limit, now);
            let existing = self.store.get(&key).await?;
            let write = count_send(&limit, existing.as_ref(), key, end, now)?;
            match self.store.write(vec![write]).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict) if retries < COUNT_RETRIES => retries += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{full, operator, registration, verified};

    fn uscc_of(e: &Enterprise) -> Uscc {
        kyb::validate_uscc(&e.verified_identity.as_ref().unwrap().uscc).unwrap()
    }

    #[tokio::test]
    async fn a_member_finds_a_verified_enterprise_by_uscc_and_learns_only_its_id_and_name() {
        let t = full();
        let p = &t.platform;
        let (_, a) = verified(p).await;
        let (b, admin_b) = verified(p).await;
        let eb = p.get_enterprise(&admin_b, &b).await.unwrap();
        let found = p.lookup_enterprise(&a, &uscc_of(&eb)).await.unwrap();
        assert_eq!(found, EnterpriseMatch { id: b.clone(), name: "深圳市腾讯计算机系统有限公司".into() });
        let json = serde_json::to_value(&found).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 2);
        // Lower case and spaces around are the same code.
        let lower = parse_uscc(Some(&format!(" {} ", uscc_of(&eb).as_str().to_ascii_lowercase()))).unwrap();
        assert_eq!(p.lookup_enterprise(&a, &lower).await.unwrap().id, b);
    }

    #[tokio::test]
    async fn unknown_and_unverified_enterprises_are_not_found_and_callers_must_be_verified_members() {
        let t = full();
        let p = &t.platform;
        let (_, a) = verified(p).await;
        let (uscc, _) = kyb::sample_uscc(987_654_321);
        let uscc = kyb::validate_uscc(&uscc).unwrap();
        assert_eq!(p.lookup_enterprise(&a, &uscc).await.unwrap_err(), DomainError::NotFound("enterprise"));
        // An enterprise that submitted but is still under review is not found by its USCC.
        let r = p.register_enterprise(registration()).await.unwrap();
        let pending = p.authenticate(Some(&r.api_key)).await.unwrap();
        let sub = crate::testing::submission();
        let pending_uscc = kyb::validate_uscc(&sub.uscc).unwrap();
        p.submit_verification(&pending, &r.enterprise.id, sub).await.unwrap();
        assert_eq!(p.lookup_enterprise(&a, &pending_uscc).await.unwrap_err(), DomainError::NotFound("enterprise"));
        // The unverified enterprise cannot look anyone up; operators have no enterprise.
        assert_eq!(p.lookup_enterprise(&pending, &uscc).await.unwrap_err(), DomainError::NotVerified);
        assert!(matches!(p.lookup_enterprise(&operator(), &uscc).await, Err(DomainError::Forbidden(_))));
    }

    #[test]
    fn malformed_codes_are_422s_naming_the_rule() {
        let e = parse_uscc(Some("91440300715267260")).unwrap_err();
        let DomainError::Validation(errors) = e else { panic!() };
        assert_eq!((errors[0].field.as_str(), errors[0].code.as_str()), ("uscc", "length"));
        let DomainError::Validation(errors) = parse_uscc(None).unwrap_err() else { panic!() };
        assert_eq!(errors[0].code, "missing");
    }

    #[tokio::test]
    async fn look_ups_are_limited_per_enterprise_found_or_not() {
        let t = full();
        let p = &t.platform;
        let (_, a) = verified(p).await;
        let (_, other) = verified(p).await;
        // A code no verified enterprise of any test has (they run at once, sharing the counter).
        let uscc = kyb::validate_uscc(&crate::testing::fresh_uscc().0).unwrap();
        for _ in 0..LOOKUPS_PER_WINDOW {
            assert_eq!(p.lookup_enterprise(&a, &uscc).await.unwrap_err(), DomainError::NotFound("enterprise"));
        }
        let limited = p.lookup_enterprise(&a, &uscc).await.unwrap_err();
        assert!(matches!(limited, DomainError::RateLimited { retry_after_secs: 1..=60, .. }), "{limited:?}");
        // Another enterprise has its own window; the next window starts afresh.
        assert_eq!(p.lookup_enterprise(&other, &uscc).await.unwrap_err(), DomainError::NotFound("enterprise"));
        t.clock.advance(time::Duration::minutes(1));
        assert_eq!(p.lookup_enterprise(&a, &uscc).await.unwrap_err(), DomainError::NotFound("enterprise"));
    }
}
