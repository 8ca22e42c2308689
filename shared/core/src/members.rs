//! Members of an enterprise and their API keys.

use serde::Deserialize;

use crate::audit::Head;
use crate::auth::{NewApiKey, Principal, Role};
use crate::enterprises::{PersonFields, check_person_fields};
use crate::error::{DomainError, Violations};
use crate::model::{Member, MemberWithKey, Page, new_id};
use crate::platform::{
    MemberData, Platform, admin_of, api_key_key, enterprise_subject, key_record, member_key, member_record,
    own_enterprise, require_verified,
};
use crate::ports::{Condition, Partition, Write};
use crate::sessions::{index_contacts, unindex_contacts};

/// `POST /v1/members`. Each field is optional on the wire so that a request missing several
/// lists each (`required`); all but `role` are required.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMember {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
}

impl Platform {
    /// Adds a member with its own key (administrators of verified enterprises).
    pub async fn create_member(
        &self,
        principal: &Principal,
        input: CreateMember,
    ) -> Result<MemberWithKey, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        admin_of(principal, enterprise_id)?;
        let mut v = Violations::new();
        let person = PersonFields {
            name: input.name.as_deref(),
            mobile: input.mobile.as_deref(),
            email: input.email.as_deref(),
        };
        let checked = check_person_fields(&mut v, "", &person, true);
        v.finish()?;
        let (name, mobile, email) =
            checked.ok_or_else(|| DomainError::Internal("validation passed without values".into()))?;
        require_verified(&self.load_enterprise(enterprise_id).await?.value)?;

        let now = self.clock.now();
        let member = Member {
            id: new_id("mem"),
            enterprise_id: enterprise_id.to_owned(),
            name,
            mobile,
            email,
            role: input.role.unwrap_or(Role::Member),
            created_at: now,
            // Confirmed only by a code the member itself receives there.
            mobile_confirmed: false,
            email_confirmed: false,
        };
        let key = NewApiKey::generate();
        let mut writes =
            vec![Write::create(member_record(&member, &key.hash)?), Write::create(key_record(&member, &key.hash)?)];
        writes.extend(index_contacts(&member)?);
        let head = Head::load(self.store.as_ref(), &enterprise_subject(enterprise_id)).await?;
        head.append(
            &mut writes,
            now,
            principal.actor(),
            "member.created",
            serde_json::json!({ "member_id": member.id, "role": member.role }),
        );
        self.store.write(writes).await?;
        Ok(MemberWithKey { member, api_key: key.secret })
    }

    /// The enterprise's members, oldest first (administrators).
    pub async fn list_members(
        &self,
        principal: &Principal,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Member>, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        admin_of(principal, enterprise_id)?;
        let page: Page<MemberData> =
            self.page(Partition::Table(format!("ENT#{enterprise_id}")), "MEMBER#", limit, cursor).await?;
        Ok(Page { items: page.items.into_iter().map(|m| m.member).collect(), next_cursor: page.next_cursor })
    }

    /// Removes a member and revokes its key (administrators; not themselves).
    pub async fn delete_member(&self, principal: &Principal, member_id: &str) -> Result<(), DomainError> {
        let (enterprise_id, me, _) = own_enterprise(principal)?;
        admin_of(principal, enterprise_id)?;
        if me == member_id {
            return Err(DomainError::Conflict("an administrator cannot remove itself".into()));
        }
        let key = member_key(enterprise_id, member_id);
        let loaded = self.load::<MemberData>(&key).await?.ok_or(DomainError::NotFound("member"))?;
        let mut writes = vec![
            Write::Delete { key, condition: Condition::Version(loaded.version) },
            Write::Delete { key: api_key_key(&loaded.value.key_hash), condition: Condition::Always },
        ];
        writes.extend(unindex_contacts(&loaded.value.member));
        // Its sessions would fail at their next request anyway (they re-read the member).
        writes.extend(self.end_member_sessions(member_id).await?);
        let head = Head::load(self.store.as_ref(), &enterprise_subject(enterprise_id)).await?;
        head.append(
            &mut writes,
            self.clock.now(),
            principal.actor(),
            "member.removed",
            serde_json::json!({ "member_id": member_id }),
        );
        self.store.write(writes).await?;
        Ok(())
    }

    /// Replaces a member's key; the old one stops working at once. Administrators may rotate any
    /// member's key, members their own.
    pub async fn rotate_member_key(
        &self,
        principal: &Principal,
        member_id: &str,
    ) -> Result<MemberWithKey, DomainError> {
        let (enterprise_id, me, role) = own_enterprise(principal)?;
        if role != Role::Admin && me != member_id {
            return Err(DomainError::Forbidden("members may only rotate their own key".into()));
        }
        let key = member_key(enterprise_id, member_id);
        let loaded = self.load::<MemberData>(&key).await?.ok_or(DomainError::NotFound("member"))?;
        let member = loaded.value.member;
        let new_key = NewApiKey::generate();
        let mut writes = vec![
            Write::replace(member_record(&member, &new_key.hash)?, loaded.version),
            Write::Delete { key: api_key_key(&loaded.value.key_hash), condition: Condition::Always },
            Write::create(key_record(&member, &new_key.hash)?),
        ];
        let head = Head::load(self.store.as_ref(), &enterprise_subject(enterprise_id)).await?;
        head.append(
            &mut writes,
            self.clock.now(),
            principal.actor(),
            "member.key_rotated",
            serde_json::json!({ "member_id": member_id }),
        );
        self.store.write(writes).await?;
        Ok(MemberWithKey { member, api_key: new_key.secret })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{new_member, platform, registration, verified};

    #[tokio::test]
    async fn members_need_a_verified_enterprise() {
        let (p, _) = platform();
        let r = p.register_enterprise(registration()).await.unwrap();
        let admin = p.authenticate(Some(&r.api_key)).await.unwrap();
        assert_eq!(p.create_member(&admin, new_member()).await.unwrap_err(), DomainError::NotVerified);
    }

    #[tokio::test]
    async fn a_member_missing_fields_lists_each_beside_the_broken_ones() {
        let (p, _) = platform();
        let (_, admin) = verified(&p).await;
        let Err(DomainError::Validation(e)) = p.create_member(&admin, CreateMember::default()).await else {
            panic!("accepted")
        };
        let fields: Vec<_> = e.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(fields, [("name", "required"), ("mobile", "required"), ("email", "required")]);
        let digits = CreateMember { name: Some("张3".into()), ..CreateMember::default() };
        let Err(DomainError::Validation(e)) = p.create_member(&admin, digits).await else { panic!("accepted") };
        let fields: Vec<_> = e.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(fields, [("name", "charset"), ("mobile", "required"), ("email", "required")]);
    }

    #[tokio::test]
    async fn member_lifecycle() {
        let (p, _) = platform();
        let (eid, admin) = verified(&p).await;
        let created = p.create_member(&admin, new_member()).await.unwrap();
        assert_eq!(created.member.role, Role::Member);
        let member = p.authenticate(Some(&created.api_key)).await.unwrap();
        // A plain member can neither add nor list members.
        assert!(matches!(p.create_member(&member, new_member()).await, Err(DomainError::Forbidden(_))));
        assert!(matches!(p.list_members(&member, None, None).await, Err(DomainError::Forbidden(_))));
        // Paging through the members with a page size of one.
        let first = p.list_members(&admin, Some(1), None).await.unwrap();
        assert_eq!(first.items.len(), 1);
        let second = p.list_members(&admin, Some(1), first.next_cursor.as_deref()).await.unwrap();
        assert_eq!(second.items[0].id, created.member.id);
        assert!(second.next_cursor.is_none());
        // Rotation revokes the old key.
        let rotated = p.rotate_member_key(&member, &created.member.id).await.unwrap();
        assert_eq!(p.authenticate(Some(&created.api_key)).await, Err(DomainError::Unauthorized));
        assert!(p.authenticate(Some(&rotated.api_key)).await.is_ok());
        // Removal revokes the key too.
        p.delete_member(&admin, &created.member.id).await.unwrap();
        assert_eq!(p.authenticate(Some(&rotated.api_key)).await, Err(DomainError::Unauthorized));
        assert!(matches!(p.delete_member(&admin, &created.member.id).await, Err(DomainError::NotFound(_))));
        let (_, admin_id, _) = own_enterprise(&admin).unwrap();
        assert!(matches!(p.delete_member(&admin, admin_id).await, Err(DomainError::Conflict(_))));
        let trail = p.enterprise_audit(&admin, &eid, None, None).await.unwrap();
        assert!(trail.chain_intact);
        assert_eq!(trail.items.last().unwrap().action, "member.removed");
    }

    #[tokio::test]
    async fn another_enterprise_cannot_touch_members() {
        let (p, _) = platform();
        let (_, admin_a) = verified(&p).await;
        let (_, admin_b) = verified(&p).await;
        let m = p.create_member(&admin_a, new_member()).await.unwrap();
        assert!(matches!(p.delete_member(&admin_b, &m.member.id).await, Err(DomainError::NotFound(_))));
        assert!(matches!(p.rotate_member_key(&admin_b, &m.member.id).await, Err(DomainError::NotFound(_))));
        let b_members = p.list_members(&admin_b, None, None).await.unwrap();
        assert!(b_members.items.iter().all(|x| x.id != m.member.id));
    }
}
