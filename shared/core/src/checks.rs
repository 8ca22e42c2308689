//! Form checks: what a request would refuse, asked before it is made, so a form can show each
//! broken rule as it is typed. Each check runs the very rules of its request (no copy of any):
//! registration ([`crate::enterprises::check_registration`]), real-name authentication
//! ([`crate::verification::check_submission`]) and a seal image ([`crate::seal_image::inspect`]).
//! A field not given is not reported (the form is half filled in); rules that need stored data
//! (the authorization letter's upload, a USCC verified by another enterprise) run only on the
//! real request. Checks read and write nothing.

use serde::Serialize;

use crate::FieldError;
use crate::enterprises::{RegistrationForm, check_registration};
use crate::error::Violations;
use crate::platform::Platform;
use crate::seal_image;
use crate::verification::{VerificationForm, calendar_date, check_submission};

/// `200` of a form check: every rule the given fields break, with the request's codes and
/// messages; empty when the request would pass them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormCheck {
    pub errors: Vec<FieldError>,
}

/// `200` of `POST /v1/checks/seal-image`: the first rule the image breaks (field `image`), and
/// what was read of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SealImageCheck {
    pub errors: Vec<FieldError>,
    /// Null when the file is no PNG whose header reads.
    pub width_px: Option<u32>,
    pub height_px: Option<u32>,
    /// The longer side in millimetres at the PNG's stated resolution (`pHYs`); absent when the
    /// file states none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diameter_mm: Option<f64>,
}

impl Platform {
    /// The rules of `POST /v1/enterprises` on the fields given.
    pub fn check_registration(&self, form: &RegistrationForm) -> FormCheck {
        let mut v = Violations::new();
        check_registration(&mut v, &form.fields());
        FormCheck { errors: v.into_errors() }
    }

    /// The rules of `POST /v1/enterprises/{id}/verification` on the fields given, as of today.
    pub fn check_verification(&self, form: &VerificationForm) -> FormCheck {
        let mut v = Violations::new();
        check_submission(&mut v, &form.fields(), calendar_date(self.clock.now()));
        FormCheck { errors: v.into_errors() }
    }

    /// The rules `POST /v1/seals/{id}/submit` applies to the uploaded image.
    pub fn check_seal_image(&self, png: &[u8]) -> SealImageCheck {
        let seen = seal_image::inspect(png);
        SealImageCheck {
            errors: seen.error.into_iter().collect(),
            width_px: seen.size.map(|(w, _)| w),
            height_px: seen.size.map(|(_, h)| h),
            diameter_mm: seen.diameter_mm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DomainError;
    use crate::enterprises::{PersonForm, RegisterEnterprise};
    use crate::testing::{platform, registration};
    use crate::verification::{AdministratorForm, IdentifiedPersonForm, SubmitVerification};

    fn codes(check: &FormCheck) -> Vec<(&str, &str)> {
        check.errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect()
    }

    fn form<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn an_empty_form_breaks_nothing_yet() {
        let (p, _) = platform();
        assert!(p.check_registration(&RegistrationForm::default()).errors.is_empty());
        assert!(p.check_verification(&VerificationForm::default()).errors.is_empty());
    }

    #[tokio::test]
    async fn a_registration_check_reports_exactly_what_registering_refuses() {
        let (p, _) = platform();
        let body = serde_json::json!({
            "name": " ",
            "contact_email": "nope",
            "contact_phone": "12",
            "admin": {"name": "张三", "mobile": "12345", "email": "ok@example.com"}
        });
        let check = p.check_registration(&form(body.clone()));
        assert_eq!(
            codes(&check),
            [
                ("name", "length"),
                ("contact_email", "invalid"),
                ("contact_phone", "invalid"),
                ("admin.mobile", "length")
            ]
        );
        let request: RegisterEnterprise = form(body);
        let Err(DomainError::Validation(refused)) = p.register_enterprise(request).await else { panic!("accepted") };
        assert_eq!(check.errors, refused, "same fields, codes and messages");
        // Half filled in: only what is given is judged.
        let half = RegistrationForm {
            admin: Some(PersonForm { mobile: Some("12345".into()), ..PersonForm::default() }),
            ..RegistrationForm::default()
        };
        assert_eq!(codes(&p.check_registration(&half)), [("admin.mobile", "length")]);
        // A registration that would pass checks clean.
        let r = registration();
        let clean = RegistrationForm {
            name: Some(r.name),
            contact_email: Some(r.contact_email),
            contact_phone: r.contact_phone,
            admin: Some(PersonForm {
                name: Some(r.admin.name),
                mobile: Some(r.admin.mobile),
                email: Some(r.admin.email),
            }),
        };
        assert!(p.check_registration(&clean).errors.is_empty());
    }

    #[tokio::test]
    async fn a_verification_check_reports_exactly_what_submitting_refuses() {
        let (p, _) = platform();
        let r = p.register_enterprise(registration()).await.unwrap();
        let admin = p.authenticate(Some(&r.api_key)).await.unwrap();
        let (uscc, org) = crate::kyb::sample_uscc(42);
        let wrong_check = format!("{}{}", &uscc[..17], if uscc.ends_with('0') { '1' } else { '0' });
        let body = serde_json::json!({
            "company_name": "深圳市腾讯计算机系统有限公司",
            "uscc": wrong_check,
            "organization_code": org,
            "legal_representative": {"name": "马化腾", "id_number": "11010519491231002X"},
            "administrator": {
                "name": "张三3",
                "id_number": "110105194912310021",
                "mobile": "+86 138 0013 8000",
                "is_legal_representative": false
            }
        });
        let check = p.check_verification(&form(body.clone()));
        assert_eq!(
            codes(&check),
            [
                ("uscc", "check_character"),
                ("administrator.name", "charset"),
                ("administrator.id_number", "check_character"),
                ("authorization_letter_file_id", "required"),
            ]
        );
        let request: SubmitVerification = form(body);
        let Err(DomainError::Validation(refused)) = p.submit_verification(&admin, &r.enterprise.id, request).await
        else {
            panic!("accepted")
        };
        assert_eq!(check.errors, refused, "same fields, codes and messages");
    }

    #[tokio::test]
    async fn a_request_lists_every_missing_field_with_the_broken_ones() {
        let (p, _) = platform();
        let Err(DomainError::Validation(refused)) = p.register_enterprise(RegistrationForm::default()).await else {
            panic!("accepted")
        };
        let fields: Vec<_> = refused.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("name", "required"),
                ("contact_email", "required"),
                ("admin.name", "required"),
                ("admin.mobile", "required"),
                ("admin.email", "required")
            ]
        );
        assert_eq!(refused[0].message, "name is required");
        let half: RegistrationForm = form(serde_json::json!({"name": "甲", "admin": {"mobile": "13800138000"}}));
        let Err(DomainError::Validation(refused)) = p.register_enterprise(half).await else { panic!("accepted") };
        let fields: Vec<_> = refused.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("name", "length"),
                ("contact_email", "required"),
                ("admin.name", "required"),
                ("admin.email", "required")
            ]
        );

        let r = p.register_enterprise(registration()).await.unwrap();
        let admin = p.authenticate(Some(&r.api_key)).await.unwrap();
        let Err(DomainError::Validation(refused)) =
            p.submit_verification(&admin, &r.enterprise.id, VerificationForm::default()).await
        else {
            panic!("accepted")
        };
        let fields: Vec<_> = refused.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("company_name", "required"),
                ("uscc", "required"),
                ("organization_code", "required"),
                ("legal_representative.name", "required"),
                ("legal_representative.id_number", "required"),
                ("administrator.name", "required"),
                ("administrator.id_number", "required"),
                ("administrator.mobile", "required"),
                ("administrator.is_legal_representative", "required"),
            ]
        );
        // A form check of the same empty forms judges nothing yet.
        assert!(p.check_verification(&VerificationForm::default()).errors.is_empty());
    }

    #[test]
    fn rules_across_two_fields_run_when_both_are_given() {
        let (p, _) = platform();
        let (uscc, _) = crate::kyb::sample_uscc(7);
        let (_, other_org) = crate::kyb::sample_uscc(8);
        let mismatch = VerificationForm {
            uscc: Some(uscc.clone()),
            organization_code: Some(other_org),
            ..VerificationForm::default()
        };
        assert_eq!(codes(&p.check_verification(&mismatch)), [("organization_code", "org_code_mismatch")]);
        let only_uscc = VerificationForm { uscc: Some(uscc), ..VerificationForm::default() };
        assert!(p.check_verification(&only_uscc).errors.is_empty());
        let declared = |admin_id: &str| VerificationForm {
            legal_representative: Some(IdentifiedPersonForm {
                id_number: Some("11010519491231002X".into()),
                name: None,
            }),
            administrator: Some(AdministratorForm {
                id_number: Some(admin_id.into()),
                is_legal_representative: Some(true),
                ..AdministratorForm::default()
            }),
            ..VerificationForm::default()
        };
        let other_id = "440305199001010018";
        assert_eq!(
            codes(&p.check_verification(&declared(other_id))),
            [("administrator.id_number", "not_legal_representative")]
        );
        assert!(p.check_verification(&declared("11010519491231002X")).errors.is_empty());
        // Not the legal representative, letter not uploaded yet: the request would need one.
        let without_letter = VerificationForm {
            administrator: Some(AdministratorForm {
                is_legal_representative: Some(false),
                ..AdministratorForm::default()
            }),
            ..VerificationForm::default()
        };
        assert_eq!(codes(&p.check_verification(&without_letter)), [("authorization_letter_file_id", "required")]);
        let with_letter =
            VerificationForm { authorization_letter_file_id: Some("file_1".into()), ..without_letter.clone() };
        assert!(p.check_verification(&with_letter).errors.is_empty());
    }

    #[test]
    fn a_seal_image_check_is_the_submission_rule() {
        let (p, _) = platform();
        let good = p.check_seal_image(&seal_image::samples::red_seal());
        assert_eq!(
            good,
            SealImageCheck { errors: vec![], width_px: Some(300), height_px: Some(300), diameter_mm: None }
        );
        let blue = seal_image::samples::ring(300, [20, 20, 220], 0);
        let bad = p.check_seal_image(&blue);
        assert_eq!(bad.errors, vec![seal_image::check(&blue).unwrap_err()]);
        assert_eq!((bad.width_px, bad.height_px), (Some(300), Some(300)));
        let json = serde_json::to_value(&bad).unwrap();
        assert_eq!(json["errors"][0]["code"], "not_red");
        assert!(json.get("diameter_mm").is_none());
        let none = p.check_seal_image(b"GIF89a");
        assert_eq!((none.errors[0].code.as_str(), none.width_px), ("not_png", None));
    }
}
