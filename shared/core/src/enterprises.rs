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

/// `POST /v1/enterprises`, every field given (for Rust callers: the HTTP edge reads a
/// [`RegistrationForm`], so that a registration missing several fields lists each).
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

/// A registration as given on the wire, every field of [`RegisterEnterprise`] optional:
/// `POST /v1/checks/registration` judges the fields given, `POST /v1/enterprises` also lists
/// each missing one as `required`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationForm {
    pub name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub admin: Option<PersonForm>,
}

/// A [`NewPerson`] as far as it is filled in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonForm {
    pub name: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
}

/// A person's fields as given: all of them in a request, any in a form check. The rules below
/// run on this view, so a request and a form check apply the very same ones.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PersonFields<'a> {
    pub name: Option<&'a str>,
    pub mobile: Option<&'a str>,
    pub email: Option<&'a str>,
}

impl From<NewPerson> for PersonForm {
    fn from(p: NewPerson) -> Self {
        PersonForm { name: Some(p.name), mobile: Some(p.mobile), email: Some(p.email) }
    }
}

impl From<RegisterEnterprise> for RegistrationForm {
    fn from(r: RegisterEnterprise) -> Self {
        RegistrationForm {
            name: Some(r.name),
            contact_email: Some(r.contact_email),
            contact_phone: r.contact_phone,
            admin: Some(r.admin.into()),
        }
    }
}

impl PersonForm {
    fn fields(&self) -> PersonFields<'_> {
        PersonFields { name: self.name.as_deref(), mobile: self.mobile.as_deref(), email: self.email.as_deref() }
    }
}

/// A registration's fields as given (see [`PersonFields`]).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RegistrationFields<'a> {
    pub name: Option<&'a str>,
    pub contact_email: Option<&'a str>,
    /// Optional in the request too: absent is valid.
    pub contact_phone: Option<&'a str>,
    pub admin: PersonFields<'a>,
    /// A registration (every field but `contact_phone` required) rather than a form check (a
    /// field not given is not judged).
    pub complete: bool,
}

impl RegistrationForm {
    pub(crate) fn fields(&self) -> RegistrationFields<'_> {
        RegistrationFields {
            name: self.name.as_deref(),
            contact_email: self.contact_email.as_deref(),
            contact_phone: self.contact_phone.as_deref(),
            admin: self.admin.as_ref().map(PersonForm::fields).unwrap_or_default(),
            complete: false,
        }
    }

    /// The fields as a registration: each one absent (but `contact_phone`) is `required`.
    fn registration_fields(&self) -> RegistrationFields<'_> {
        RegistrationFields { complete: true, ..self.fields() }
    }
}

/// A person whose every field passed: name, mobile (E.164), email.
pub(crate) type ValidPerson = (String, String, String);

/// Checks a person's fields, recording violations under `prefix` (and each absent field as
/// `required` when they all are); the values when every field was given and passed.
pub(crate) fn check_person_fields(
    v: &mut Violations,
    prefix: &str,
    p: &PersonFields<'_>,
    required: bool,
) -> Option<ValidPerson> {
    let name = v.check_field(&format!("{prefix}name"), p.name.map(kyb::validate_person_name), required);
    let mobile = v.check_field(&format!("{prefix}mobile"), p.mobile.map(kyb::validate_mainland_mobile), required);
    let email = v.check_field(&format!("{prefix}email"), p.email.map(validate_email), required);
    Some((name?, mobile?.as_str().to_owned(), email?))
}

/// A registration whose every field passed.
pub(crate) struct ValidRegistration {
    name: String,
    contact_email: String,
    contact_phone: Option<String>,
    admin: ValidPerson,
}

/// The rules of a registration, on its given fields: what `POST /v1/enterprises` refuses and
/// `POST /v1/checks/registration` reports.
pub(crate) fn check_registration(v: &mut Violations, f: &RegistrationFields<'_>) -> Option<ValidRegistration> {
    let name = v.check_field("name", f.name.map(kyb::validate_company_name), f.complete);
    let contact_email = v.check_field("contact_email", f.contact_email.map(validate_email), f.complete);
    let contact_phone = match f.contact_phone {
        None => Some(None),
        Some(p) => v.check("contact_phone", validate_phone(p)).map(Some),
    };
    let admin = check_person_fields(v, "admin.", &f.admin, f.complete);
    Some(ValidRegistration { name: name?, contact_email: contact_email?, contact_phone: contact_phone?, admin: admin? })
}

impl Platform {
    /// Registers an enterprise with its administrator, who gets the first API key.
    /// Every broken rule is reported at once, each missing field as `required`.
    pub async fn register_enterprise(&self, input: impl Into<RegistrationForm>) -> Result<Registration, DomainError> {
        let input = input.into();
        let mut v = Violations::new();
        let valid = check_registration(&mut v, &input.registration_fields());
        v.finish()?;
        let ValidRegistration { name, contact_email, contact_phone, admin: (admin_name, mobile, email) } =
            valid.ok_or_else(|| DomainError::Internal("validation passed without values".into()))?;

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
