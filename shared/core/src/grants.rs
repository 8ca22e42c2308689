//! Seal authorization: which members may use which seal, until when. Checked at signing time
//! against the clock; every grant, change and revocation is an audit event on the seal.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::audit::Head;
use crate::auth::Principal;
use crate::enterprises::internal;
use crate::error::DomainError;
use crate::model::Page;
use crate::platform::{MemberData, Platform, admin_of, member_key};
use crate::ports::{Condition, Key, Partition, Record, Write};
use crate::seals::{SealStatus, seal_subject};

/// A member's right to use a seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub seal_id: String,
    pub member_id: String,
    /// No expiry when absent.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    pub granted_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub granted_at: OffsetDateTime,
}

/// `PUT /v1/seals/{id}/grants/{member_id}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

pub(crate) fn grant_key(seal_id: &str, member_id: &str) -> Key {
    Key::new(format!("SEAL#{seal_id}"), format!("GRANT#{member_id}"))
}

impl Platform {
    /// Grants (or changes the expiry of) a member's right to use a seal (administrators).
    pub async fn put_grant(
        &self,
        principal: &Principal,
        seal_id: &str,
        member_id: &str,
        req: GrantRequest,
    ) -> Result<Grant, DomainError> {
        let seal = self.own_seal(principal, seal_id).await?.value.seal;
        let admin_id = admin_of(principal, &seal.enterprise_id)?.to_owned();
        if matches!(seal.status, SealStatus::Revoked) {
            return Err(DomainError::Conflict("a revoked seal cannot be granted".into()));
        }
        self.load::<MemberData>(&member_key(&seal.enterprise_id, member_id))
            .await?
            .ok_or(DomainError::NotFound("member"))?;
        let now = self.clock.now();
        if let Some(t) = req.expires_at
            && t <= now
        {
            return Err(DomainError::invalid("expires_at", "past", "the expiry must be in the future"));
        }
        let key = grant_key(seal_id, member_id);
        let existing = self.store.get(&key).await?;
        let grant = Grant {
            seal_id: seal_id.to_owned(),
            member_id: member_id.to_owned(),
            expires_at: req.expires_at,
            granted_by: admin_id,
            granted_at: now,
        };
        let record = Record::new(key, serde_json::to_value(&grant).map_err(internal)?);
        let (write, action) = match &existing {
            None => (Write::create(record), "seal.grant.created"),
            Some(r) => (Write::replace(record, r.version), "seal.grant.changed"),
        };
        let mut writes = vec![write];
        let head = Head::load(self.store.as_ref(), &seal_subject(seal_id)).await?;
        head.append(
            &mut writes,
            now,
            principal.actor(),
            action,
            serde_json::json!({ "member_id": member_id, "expires_at": grant.expires_at.map(|t| t.unix_timestamp()) }),
        );
        let event = if existing.is_none() {
            Some(self.record_webhook_event(
                &mut writes,
                "seal.grant.created",
                now,
                &[&seal.enterprise_id],
                serde_json::json!({
                    "seal_id": seal_id,
                    "enterprise_id": seal.enterprise_id,
                    "member_id": member_id,
                    "expires_at": grant.expires_at.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
                    "granted_by": grant.granted_by,
                }),
            )?)
        } else {
            None
        };
        self.store.write(writes).await?;
        self.dispatch_webhook_events(&event.into_iter().collect::<Vec<_>>()).await;
        Ok(grant)
    }

    /// Revokes a member's right to use a seal (administrators).
    pub async fn delete_grant(&self, principal: &Principal, seal_id: &str, member_id: &str) -> Result<(), DomainError> {
        let seal = self.own_seal(principal, seal_id).await?.value.seal;
        admin_of(principal, &seal.enterprise_id)?;
        let key = grant_key(seal_id, member_id);
        let existing = self.store.get(&key).await?.ok_or(DomainError::NotFound("grant"))?;
        let mut writes = vec![Write::Delete { key, condition: Condition::Version(existing.version) }];
        let head = Head::load(self.store.as_ref(), &seal_subject(seal_id)).await?;
        let now = self.clock.now();
        head.append(
            &mut writes,
            now,
            principal.actor(),
            "seal.grant.revoked",
            serde_json::json!({ "member_id": member_id }),
        );
        let event = self.record_webhook_event(
            &mut writes,
            "seal.grant.revoked",
            now,
            &[&seal.enterprise_id],
            serde_json::json!({ "seal_id": seal_id, "enterprise_id": seal.enterprise_id, "member_id": member_id }),
        )?;
        self.store.write(writes).await?;
        self.dispatch_webhook_events(&[event]).await;
        Ok(())
    }

    /// The seal's grants (administrators).
    pub async fn list_grants(
        &self,
        principal: &Principal,
        seal_id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Grant>, DomainError> {
        let seal = self.own_seal(principal, seal_id).await?.value.seal;
        admin_of(principal, &seal.enterprise_id)?;
        self.page(Partition::Table(format!("SEAL#{seal_id}")), "GRANT#", limit, cursor).await
    }

    /// Whether `principal` may sign with the seal now: a member of the seal's enterprise holding
    /// an unexpired grant, for an active seal of a verified enterprise. Answers the reason when not.
    pub async fn check_seal_use(&self, principal: &Principal, seal_id: &str) -> Result<(), DomainError> {
        self.seal_use(principal, seal_id).await.map(|_| ())
    }

    /// [`Platform::check_seal_use`], answering the seal as read and the conditions under which
    /// that answer still holds when the signature is stored (see [`SealUse::still_valid`]).
    pub(crate) async fn seal_use(&self, principal: &Principal, seal_id: &str) -> Result<SealUse, DomainError> {
        let Principal::Member { enterprise_id, member_id, .. } = principal else {
            return Err(DomainError::Forbidden("only members sign".into()));
        };
        let keys = SealUse::keys(seal_id, enterprise_id, member_id);
        let records = self.store.get_many(&keys).await?;
        SealUse::check(principal, records, self.clock.now())
    }
}

/// A seal a member may use, as checked: the seal and grant versions that check read.
pub(crate) struct SealUse {
    pub seal: crate::platform::Versioned<crate::seals::SealData>,
    grant: (Key, u64),
}

impl SealUse {
    /// The records [`SealUse::check`] reads, in its order: the seal, the enterprise of the
    /// member (it must be the seal's), the member's grant.
    pub fn keys(seal_id: &str, enterprise_id: &str, member_id: &str) -> [Key; 3] {
        [crate::seals::seal_key(seal_id), crate::platform::enterprise_key(enterprise_id), grant_key(seal_id, member_id)]
    }

    /// Whether `principal` may sign with the seal at `now`, from the records at [`SealUse::keys`]:
    /// a member of the seal's enterprise holding an unexpired grant, for an active seal of a
    /// verified enterprise. Answers the reason when not.
    pub fn check(
        principal: &Principal,
        records: Vec<Option<Record>>,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        let Principal::Member { enterprise_id, member_id, .. } = principal else {
            return Err(DomainError::Forbidden("only members sign".into()));
        };
        let [seal, enterprise, grant]: [Option<Record>; 3] =
            records.try_into().map_err(|_| DomainError::Internal("three records expected".into()))?;
        let seal = seal.ok_or(DomainError::NotFound("seal"))?;
        let seal =
            crate::platform::Versioned::<crate::seals::SealData> { value: seal.decode()?, version: seal.version };
        if seal.value.seal.enterprise_id != *enterprise_id {
            return Err(DomainError::NotFound("seal"));
        }
        let enterprise: crate::model::Enterprise = enterprise.ok_or(DomainError::NotFound("enterprise"))?.decode()?;
        crate::platform::require_verified(&enterprise)?;
        if seal.value.seal.status != SealStatus::Active {
            return Err(DomainError::Forbidden(format!("the seal is {}", seal.value.seal.status.as_str())));
        }
        let grant = grant.ok_or_else(|| DomainError::Forbidden("the member holds no grant for this seal".into()))?;
        let version = grant.version;
        let grant: Grant = grant.decode()?;
        match grant.expires_at {
            Some(t) if t <= now => Err(DomainError::Forbidden("the member's grant for this seal has expired".into())),
            _ => Ok(SealUse { seal, grant: (grant_key(&grant.seal_id, member_id), version) }),
        }
    }
}

impl SealUse {
    /// Condition checks for the write that stores a signature: it applies only if neither the
    /// seal (suspended, revoked) nor the grant (revoked, changed) moved since they were checked.
    pub fn still_valid(&self) -> [Write; 2] {
        [
            Write::Check {
                key: crate::seals::seal_key(&self.seal.value.seal.id),
                condition: Condition::Version(self.seal.version),
            },
            Write::Check { key: self.grant.0.clone(), condition: Condition::Version(self.grant.1) },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::members::CreateMember;
    use crate::ports::Clock as _;
    use crate::seal_image::samples;
    use crate::seals::{CreateSeal, SealDecision, SealKind};
    use crate::testing::{TestPlatform, full, operator, verified};
    use crate::verification::DecisionKind;

    async fn active_seal(t: &TestPlatform, admin: &Principal) -> String {
        let p = &t.platform;
        let draft = p
            .create_seal(
                admin,
                CreateSeal {
                    name: "公章".into(),
                    kind: SealKind::Official,
                    key_algorithm: None,
                    image_size: Some(10),
                    generate: false,
                },
            )
            .await
            .unwrap();
        t.blobs.put(
            draft.upload.as_ref().unwrap().upload_url.trim_start_matches("memory://"),
            samples::red_seal(),
            "image/png",
        );
        p.submit_seal(admin, &draft.seal.id).await.unwrap();
        p.decide_seal(&operator(), &draft.seal.id, SealDecision { decision: DecisionKind::Approve, reason: None })
            .await
            .unwrap();
        draft.seal.id
    }

    #[tokio::test]
    async fn grants_decide_who_may_sign_until_when() {
        let t = full();
        let p = &t.platform;
        let (_, admin) = verified(p).await;
        let seal = active_seal(&t, &admin).await;
        let m = p
            .create_member(
                &admin,
                CreateMember {
                    name: Some("李四".into()),
                    mobile: Some("13900139000".into()),
                    email: Some("l@example.com".into()),
                    role: None,
                },
            )
            .await
            .unwrap();
        let member = p.authenticate(Some(&m.api_key)).await.unwrap();
        assert!(matches!(p.check_seal_use(&member, &seal).await, Err(DomainError::Forbidden(_))));
        let until = t.clock.now() + time::Duration::hours(1);
        p.put_grant(&admin, &seal, &m.member.id, GrantRequest { expires_at: Some(until) }).await.unwrap();
        p.check_seal_use(&member, &seal).await.unwrap();
        // Members cannot grant.
        assert!(matches!(
            p.put_grant(&member, &seal, &m.member.id, GrantRequest::default()).await,
            Err(DomainError::Forbidden(_))
        ));
        // The clock passes the expiry.
        t.clock.advance(time::Duration::hours(2));
        assert!(
            matches!(p.check_seal_use(&member, &seal).await, Err(DomainError::Forbidden(ref m)) if m.contains("expired"))
        );
        // Renewed without expiry, then revoked.
        p.put_grant(&admin, &seal, &m.member.id, GrantRequest::default()).await.unwrap();
        p.check_seal_use(&member, &seal).await.unwrap();
        assert_eq!(p.list_grants(&admin, &seal, None, None).await.unwrap().items.len(), 1);
        p.delete_grant(&admin, &seal, &m.member.id).await.unwrap();
        assert!(p.check_seal_use(&member, &seal).await.is_err());
        assert!(matches!(p.delete_grant(&admin, &seal, &m.member.id).await, Err(DomainError::NotFound(_))));
        // A suspended seal signs nothing, even with a grant.
        p.put_grant(&admin, &seal, &m.member.id, GrantRequest::default()).await.unwrap();
        p.change_seal_status(&admin, &seal, crate::seals::SealStatus::Suspended).await.unwrap();
        assert!(p.check_seal_use(&member, &seal).await.is_err());
        let trail = p.seal_audit(&admin, &seal, None, None).await.unwrap();
        let actions: Vec<_> = trail.items.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "seal.created",
                "seal.submitted",
                "seal.approved",
                "seal.grant.created",
                "seal.grant.changed",
                "seal.grant.revoked",
                "seal.grant.created",
                "seal.suspended"
            ]
        );
    }

    #[tokio::test]
    async fn grants_stay_within_the_enterprise() {
        let t = full();
        let p = &t.platform;
        let (_, admin) = verified(p).await;
        let (_, other_admin) = verified(p).await;
        let seal = active_seal(&t, &admin).await;
        let o = p
            .create_member(
                &other_admin,
                CreateMember {
                    name: Some("外人".into()),
                    mobile: Some("13900139001".into()),
                    email: Some("o@example.com".into()),
                    role: None,
                },
            )
            .await
            .unwrap();
        // Another enterprise's member cannot be granted this seal, nor can its admin grant it.
        assert!(matches!(
            p.put_grant(&admin, &seal, &o.member.id, GrantRequest::default()).await,
            Err(DomainError::NotFound(_))
        ));
        assert!(matches!(
            p.put_grant(&other_admin, &seal, &o.member.id, GrantRequest::default()).await,
            Err(DomainError::NotFound(_))
        ));
        let outsider = p.authenticate(Some(&o.api_key)).await.unwrap();
        assert!(matches!(p.check_seal_use(&outsider, &seal).await, Err(DomainError::NotFound(_))));
    }
}
