//! Registration of enterprises and reading them back.

use serde::{Deserialize, Serialize};

use crate::audit::{Actor, AuditEvent, Head};
use crate::auth::{NewApiKey, Principal, Role};
use crate::error::{DomainError, Violations};
use crate::kyb;
use crate::model::{Enterprise, EnterpriseStatus, Member, Registration, new_id};
use crate::platform::{Platform, enterprise_key, enterprise_subject, key_record, member_of, member_record};
use crate::ports::{Record, Write};

/// A person to be made a member.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    pub name: String,
    pub mobile: String,
    pub email: String,
}

/// `POST /v1/enterprises`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterEnterprise {
    pub name: String,
    pub contact_email: String,
    #[serde(default)]
    pub contact_phone: Option<String>,
    pub admin: NewPerson,
}

/// A page of an audit trail, and whether the whole trail's hash chain is intact.
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
    pub chain_intact: bool,
}

/// A plausible e-mail address: one `@`, a non-empty local part, a dotted domain, no spaces.
pub(crate) fn validate_email(s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    let (local, domain) = s.split_once('@').ok_or("an e-mail address needs an @")?;
    let ok = !local.is_empty()
        && s.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(s.to_owned()) } else { Err("not a valid e-mail address") }
}

fn validate_phone(s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if (5..=20).contains(&digits) && s.len() <= 30 && s.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) {
        Ok(s.to_owned())
    } else {
        Err("a phone number has 5 to 20 digits and only + - ( ) and spaces besides")
    }
}

/// Checks a new person's fields, recording violations under `prefix`.
pub(crate) fn check_person(v: &mut Violations, prefix: &str, p: &NewPerson) -> Option<(String, String, String)> {
    let name = v.check(&format!("{prefix}name"), kyb::validate_person_name(&p.name));
    let mobile = v.check(&format!("{prefix}mobile"), kyb::validate_mainland_mobile(&p.mobile));
    let email = v.check(&format!("{prefix}email"), validate_email(&p.email));
    Some((name?, mobile?.as_str().to_owned(), email?))
}

impl Platform {
    /// Registers an enterprise with its administrator, who gets the first API key.
    pub async fn register_enterprise(&self, input: RegisterEnterprise) -> Result<Registration, DomainError> {
        let mut v = Violations::new();
        let name = v.check("name", kyb::validate_company_name(&input.name));
        let contact_email = v.check("contact_email", validate_email(&input.contact_email));
        let contact_phone = match &input.contact_phone {
            None => Some(None),
            Some(p) => v.check("contact_phone", validate_phone(p)).map(Some),
        };
        let admin = check_person(&mut v, "admin.", &input.admin);
        v.finish()?;
        let (Some(name), Some(contact_email), Some(contact_phone), Some((admin_name, mobile, email))) =
            (name, contact_email, contact_phone, admin)
        else {
            return Err(DomainError::Internal("validation passed without values".into()));
        };

        let now = self.clock.now();
        let enterprise = Enterprise {
            id: new_id("ent"),
            name,
            verified_identity: None,
            contact_email,
            contact_phone,
            status: EnterpriseStatus::Registered,
            verification: None,
            created_at: now,
            updated_at: now,
        };
        let admin = Member {
            id: new_id("mem"),
            enterprise_id: enterprise.id.clone(),
            name: admin_name,
            mobile,
            email,
            role: Role::Admin,
            created_at: now,
            // Confirmed only by a code the member itself receives there.
            mobile_confirmed: false,
            email_confirmed: false,
        };
        let key = NewApiKey::generate();
        let mut writes = vec![
            Write::create(Record::new(
                enterprise_key(&enterprise.id),
                serde_json::to_value(&enterprise).map_err(internal)?,
            )),
            Write::create(member_record(&admin, &key.hash)?),
            Write::create(key_record(&admin, &key.hash)?),
        ];
        writes.extend(crate::sessions::index_contacts(&admin)?);
        Head::empty(&enterprise_subject(&enterprise.id)).append(
            &mut writes,
            now,
            Actor::anonymous(),
            "enterprise.registered",
            serde_json::json!({ "name": enterprise.name, "admin_member_id": admin.id }),
        );
        self.store.write(writes).await?;
        tracing::info!(enterprise_id = %enterprise.id, "enterprise registered");
        Ok(Registration { enterprise, admin, api_key: key.secret })
    }

    /// An enterprise as its members (or an operator) see it.
    pub async fn get_enterprise(&self, principal: &Principal, id: &str) -> Result<Enterprise, DomainError> {
        if !matches!(principal, Principal::Operator { .. }) {
            member_of(principal, id)?;
        }
        Ok(self.load_enterprise(id).await?.value)
    }

    /// The enterprise's audit trail (administrators and operators).
    pub async fn enterprise_audit(
        &self,
        principal: &Principal,
        id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<AuditPage, DomainError> {
        if !matches!(principal, Principal::Operator { .. }) {
            crate::platform::admin_of(principal, id)?;
        }
        self.load_enterprise(id).await?;
        self.audit_page(&enterprise_subject(id), limit, cursor).await
    }
}

pub(crate) fn internal(e: serde_json::Error) -> DomainError {
    DomainError::Internal(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{platform, registration};

    #[tokio::test]
    async fn registration_returns_a_working_admin_key() {
        let (p, _) = platform();
        let r = p.register_enterprise(registration()).await.unwrap();
        assert_eq!(r.enterprise.status, EnterpriseStatus::Registered);
        assert!(r.admin.mobile.starts_with("+86138001"), "{}", r.admin.mobile);
        assert!(!r.admin.mobile_confirmed && !r.admin.email_confirmed, "confirmed only by a code");
        let who = p.authenticate(Some(&r.api_key)).await.unwrap();
        assert_eq!(
            who,
            Principal::Member {
                enterprise_id: r.enterprise.id.clone(),
                member_id: r.admin.id.clone(),
                role: Role::Admin
            }
        );
        assert_eq!(p.get_enterprise(&who, &r.enterprise.id).await.unwrap(), r.enterprise);
        let trail = p.enterprise_audit(&who, &r.enterprise.id, None, None).await.unwrap();
        assert_eq!(trail.items.len(), 1);
        assert!(trail.chain_intact);
        assert!(p.authenticate(Some("esk_wrong")).await.is_err());
        assert!(p.authenticate(None).await.is_err());
    }

    #[tokio::test]
    async fn every_bad_field_is_reported_at_once() {
        let (p, _) = platform();
        let mut bad = registration();
        bad.name = " ".into();
        bad.contact_email = "nope".into();
        bad.admin.mobile = "12345".into();
        let Err(DomainError::Validation(errors)) = p.register_enterprise(bad).await else { panic!("accepted") };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "contact_email", "admin.mobile"]);
    }

    #[tokio::test]
    async fn another_enterprise_cannot_see_it() {
        let (p, _) = platform();
        let a = p.register_enterprise(registration()).await.unwrap();
        let b = p.register_enterprise(registration()).await.unwrap();
        let b_key = p.authenticate(Some(&b.api_key)).await.unwrap();
        assert_eq!(p.get_enterprise(&b_key, &a.enterprise.id).await, Err(DomainError::NotFound("enterprise")));
    }

    #[test]
    fn emails() {
        assert!(validate_email("a.b@example.com").is_ok());
        for bad in ["", "a", "@example.com", "a@b", "a@@b.com", "a b@c.com", "a@.com", "a@com."] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }
}
