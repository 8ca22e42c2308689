//! Real-name authentication (KYB): an enterprise submits its registration data, an operator
//! approves or rejects it. Every transition is one conditional write with its audit event.

use serde::{Deserialize, Serialize};

use crate::audit::Head;
use crate::auth::Principal;
use crate::enterprises::internal;
use crate::error::{DomainError, Violations};
use crate::kyb;
use crate::model::{
    Administrator, EnterpriseStatus, IdentifiedPerson, Page, Upload, Verification, VerificationStatus,
    VerifiedIdentity, new_id,
};
use crate::platform::{Platform, admin_of, enterprise_key, enterprise_subject, operator};
use crate::ports::{Key, Partition, Record, Write};
pub use crate::uploads::UploadTicket;
use crate::uploads::{PinnedFile, UploadSpec, sniff};

/// Largest authorization letter accepted.
pub const MAX_LETTER_BYTES: u64 = 10 * 1024 * 1024;
const LETTER_TYPES: [&str; 3] = ["application/pdf", "image/png", "image/jpeg"];

/// `POST /v1/enterprises/{id}/verification/letter`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LetterUploadRequest {
    pub content_type: String,
    pub size: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    pub name: String,
    pub id_number: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdministratorInput {
    pub name: String,
    pub id_number: String,
    pub mobile: String,
    pub is_legal_representative: bool,
}

/// `POST /v1/enterprises/{id}/verification`, every field given (for Rust callers: the HTTP edge
/// reads a [`VerificationForm`], so that a submission missing several fields lists each).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitVerification {
    pub company_name: String,
    pub uscc: String,
    pub organization_code: String,
    pub legal_representative: PersonInput,
    pub administrator: AdministratorInput,
    #[serde(default)]
    pub authorization_letter_file_id: Option<String>,
}

/// A submission as given on the wire, every field of [`SubmitVerification`] optional:
/// `POST /v1/checks/verification` judges the fields given, the submission also lists each
/// missing one as `required`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerificationForm {
    pub company_name: Option<String>,
    pub uscc: Option<String>,
    pub organization_code: Option<String>,
    pub legal_representative: Option<IdentifiedPersonForm>,
    pub administrator: Option<AdministratorForm>,
    pub authorization_letter_file_id: Option<String>,
}

/// A [`PersonInput`] as far as it is filled in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentifiedPersonForm {
    pub name: Option<String>,
    pub id_number: Option<String>,
}

/// An [`AdministratorInput`] as far as it is filled in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdministratorForm {
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub mobile: Option<String>,
    pub is_legal_representative: Option<bool>,
}

/// A submission's fields as given: all of them in a request, any in a form check. The rules
/// run on this view, so a submission and a form check apply the very same ones.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SubmissionFields<'a> {
    company_name: Option<&'a str>,
    uscc: Option<&'a str>,
    organization_code: Option<&'a str>,
    legal_representative_name: Option<&'a str>,
    legal_representative_id_number: Option<&'a str>,
    administrator_name: Option<&'a str>,
    administrator_id_number: Option<&'a str>,
    administrator_mobile: Option<&'a str>,
    administrator_is_legal_representative: Option<bool>,
    has_authorization_letter: bool,
    /// A submission (every field required) rather than a form check (a field not given is not
    /// judged).
    complete: bool,
}

impl From<SubmitVerification> for VerificationForm {
    fn from(s: SubmitVerification) -> Self {
        let (lr, a) = (s.legal_representative, s.administrator);
        VerificationForm {
            company_name: Some(s.company_name),
            uscc: Some(s.uscc),
            organization_code: Some(s.organization_code),
            legal_representative: Some(IdentifiedPersonForm { name: Some(lr.name), id_number: Some(lr.id_number) }),
            administrator: Some(AdministratorForm {
                name: Some(a.name),
                id_number: Some(a.id_number),
                mobile: Some(a.mobile),
                is_legal_representative: Some(a.is_legal_representative),
            }),
            authorization_letter_file_id: s.authorization_letter_file_id,
        }
    }
}

impl VerificationForm {
    pub(crate) fn fields(&self) -> SubmissionFields<'_> {
        let lr = self.legal_representative.as_ref();
        let a = self.administrator.as_ref();
        SubmissionFields {
            company_name: self.company_name.as_deref(),
            uscc: self.uscc.as_deref(),
            organization_code: self.organization_code.as_deref(),
            legal_representative_name: lr.and_then(|p| p.name.as_deref()),
            legal_representative_id_number: lr.and_then(|p| p.id_number.as_deref()),
            administrator_name: a.and_then(|a| a.name.as_deref()),
            administrator_id_number: a.and_then(|a| a.id_number.as_deref()),
            administrator_mobile: a.and_then(|a| a.mobile.as_deref()),
            administrator_is_legal_representative: a.and_then(|a| a.is_legal_representative),
            has_authorization_letter: self.authorization_letter_file_id.is_some(),
            complete: false,
        }
    }

    /// The fields as a submission: each one absent is `required`.
    fn submission_fields(&self) -> SubmissionFields<'_> {
        SubmissionFields { complete: true, ..self.fields() }
    }
}

/// What the rules of a submission found: its USCC when that passed, and the whole submission
/// when every field did.
pub(crate) struct SubmissionCheck {
    uscc: Option<kyb::Uscc>,
    valid: Option<ValidSubmission>,
}

/// A submission whose every field passed the rules that need no stored data.
pub(crate) struct ValidSubmission {
    company_name: String,
    uscc: kyb::Uscc,
    org: kyb::OrgCode,
    lr_name: String,
    lr_id: kyb::ResidentId,
    ad_name: String,
    ad_id: kyb::ResidentId,
    ad_mobile: kyb::Mobile,
    ad_is_legal_representative: bool,
}

/// The rules of a submission on its given fields, as of `today`: what
/// `POST /v1/enterprises/{id}/verification` refuses before it looks at stored data (the letter's
/// upload, another enterprise holding the USCC) and what `POST /v1/checks/verification` reports.
/// A rule across two fields runs when both are given.
pub(crate) fn check_submission(v: &mut Violations, f: &SubmissionFields<'_>, today: (i32, u8, u8)) -> SubmissionCheck {
    let required = f.complete;
    let company_name = v.check_field("company_name", f.company_name.map(kyb::validate_company_name), required);
    let uscc = v.check_field("uscc", f.uscc.map(kyb::validate_uscc), required);
    let org = v.check_field("organization_code", f.organization_code.map(kyb::validate_organization_code), required);
    if let (Some(u), Some(o)) = (&uscc, &org) {
        v.check("organization_code", kyb::validate_org_code_matches_uscc(o, u));
    }
    let lr_name = v.check_field(
        "legal_representative.name",
        f.legal_representative_name.map(kyb::validate_person_name),
        required,
    );
    let lr_id = v.check_field(
        "legal_representative.id_number",
        f.legal_representative_id_number.map(|id| kyb::validate_resident_id(id, today)),
        required,
    );
    let ad_name = v.check_field("administrator.name", f.administrator_name.map(kyb::validate_person_name), required);
    let ad_id = v.check_field(
        "administrator.id_number",
        f.administrator_id_number.map(|id| kyb::validate_resident_id(id, today)),
        required,
    );
    let ad_mobile =
        v.check_field("administrator.mobile", f.administrator_mobile.map(kyb::validate_mainland_mobile), required);
    if required && f.administrator_is_legal_representative.is_none() {
        v.required("administrator.is_legal_representative");
    }
    match f.administrator_is_legal_representative {
        Some(true) => {
            if let (Some(l), Some(d)) = (&lr_id, &ad_id)
                && l.as_str() != d.as_str()
            {
                v.add(
                    "administrator.id_number",
                    "not_legal_representative",
                    "the administrator is declared the legal representative but the ID numbers differ",
                );
            }
        }
        Some(false) if !f.has_authorization_letter => v.add(
            "authorization_letter_file_id",
            "required",
            "an administrator who is not the legal representative needs an authorization letter",
        ),
        Some(false) | None => {}
    }
    let ad_is_lr = f.administrator_is_legal_representative;
    let valid = match (company_name, uscc.clone(), org, lr_name, lr_id, ad_name, ad_id, ad_mobile, ad_is_lr) {
        (
            Some(company_name),
            Some(uscc),
            Some(org),
            Some(lr_name),
            Some(lr_id),
            Some(ad_name),
            Some(ad_id),
            Some(ad_mobile),
            Some(ad_is_legal_representative),
        ) => Some(ValidSubmission {
            company_name,
            uscc,
            org,
            lr_name,
            lr_id,
            ad_name,
            ad_id,
            ad_mobile,
            ad_is_legal_representative,
        }),
        _ => None,
    };
    SubmissionCheck { uscc, valid }
}

/// `POST /v1/operator/verifications/{id}/decision`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub decision: DecisionKind,
    #[serde(default)]
    pub reason: Option<String>,
}

impl Decision {
    /// The trimmed reason; a rejection must have one (the enterprise reads it), of at most 500
    /// characters.
    pub fn checked_reason(&self) -> Result<Option<String>, DomainError> {
        let reason = self.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
        match (self.decision, &reason) {
            (DecisionKind::Reject, None) => {
                Err(DomainError::invalid("reason", "required", "a rejection needs a reason the enterprise can read"))
            }
            (_, Some(r)) if r.chars().count() > 500 => {
                Err(DomainError::invalid("reason", "length", "the reason is at most 500 characters"))
            }
            _ => Ok(reason),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Approve,
    Reject,
}

/// A verification as the operator sees it, with a link to the authorization letter.
#[derive(Debug, Clone, Serialize)]
pub struct VerificationDetail {
    #[serde(flatten)]
    pub verification: Verification,
    pub authorization_letter_url: Option<String>,
    /// Another enterprise already verified under this USCC, if any: approving would be refused.
    pub uscc_verified_by: Option<String>,
}

/// Which enterprise holds a USCC: one verified enterprise per USCC.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct UsccClaim {
    enterprise_id: String,
    verification_id: String,
}

/// The calendar date (UTC) of `now`, as the resident ID rules take it.
pub(crate) fn calendar_date(now: time::OffsetDateTime) -> (i32, u8, u8) {
    let d = now.date();
    (d.year(), u8::from(d.month()), d.day())
}

fn uscc_key(uscc: &str) -> Key {
    Key::new(format!("USCC#{uscc}"), "USCC")
}

fn verification_key(id: &str) -> Key {
    Key::new(format!("VERIF#{id}"), "VERIF")
}

fn review_index(v: &Verification) -> Key {
    Key::new(format!("VERIFS#{}", v.status.as_str()), format!("{:020}#{}", v.submitted_at.unix_timestamp_nanos(), v.id))
}

fn verification_record(v: &Verification) -> Result<Record, DomainError> {
    let mut r = Record::new(verification_key(&v.id), serde_json::to_value(v).map_err(internal)?);
    r.index = Some(review_index(v));
    Ok(r)
}

impl Platform {
    /// A presigned URL for the authorization letter (needed when the administrator is not the
    /// legal representative).
    pub async fn create_letter_upload(
        &self,
        principal: &Principal,
        enterprise_id: &str,
        req: LetterUploadRequest,
    ) -> Result<UploadTicket, DomainError> {
        admin_of(principal, enterprise_id)?;
        let mut v = Violations::new();
        if !LETTER_TYPES.contains(&req.content_type.as_str()) {
            v.add("content_type", "unsupported", "the letter must be application/pdf, image/png or image/jpeg");
        }
        if req.size == 0 || req.size > MAX_LETTER_BYTES {
            v.add("size", "range", format!("the letter must be 1 to {MAX_LETTER_BYTES} bytes"));
        }
        v.finish()?;
        let enterprise = self.load_enterprise(enterprise_id).await?.value;
        if enterprise.status == EnterpriseStatus::Verified {
            return Err(DomainError::Conflict("the enterprise is already verified".into()));
        }
        let mut writes = Vec::new();
        let spec = UploadSpec {
            purpose: "authorization_letter",
            content_type: &req.content_type,
            size: req.size,
            max_bytes: MAX_LETTER_BYTES,
            blob_key: &|id| format!("uploads/{enterprise_id}/letters/{id}"),
        };
        let ticket = self.upload_ticket(enterprise_id, spec, &mut writes).await?;
        self.store.write(writes).await?;
        Ok(ticket)
    }

    /// Checks a submission for real and sends it to review.
    pub async fn submit_verification(
        &self,
        principal: &Principal,
        enterprise_id: &str,
        input: impl Into<VerificationForm>,
    ) -> Result<crate::model::Enterprise, DomainError> {
        let input = input.into();
        let member_id = admin_of(principal, enterprise_id)?.to_owned();
        let now = self.clock.now();
        let mut v = Violations::new();
        let checked = check_submission(&mut v, &input.submission_fields(), calendar_date(now));
        let letter = match &input.authorization_letter_file_id {
            Some(file_id) => self.check_letter(&mut v, enterprise_id, file_id).await?,
            None => None,
        };
        if let Some(u) = &checked.uscc
            && let Some(holder) = self.uscc_holder(u.as_str()).await?
            && holder != enterprise_id
        {
            return Err(DomainError::UsccTaken { uscc: u.as_str().to_owned() });
        }
        v.finish()?;
        let ValidSubmission {
            company_name,
            uscc,
            org,
            lr_name,
            lr_id,
            ad_name,
            ad_id,
            ad_mobile,
            ad_is_legal_representative,
        } = checked.valid.ok_or_else(|| DomainError::Internal("validation passed without values".into()))?;

        let loaded = self.load_enterprise(enterprise_id).await?;
        let mut enterprise = loaded.value;
        match enterprise.status {
            EnterpriseStatus::Registered | EnterpriseStatus::Rejected => {}
            EnterpriseStatus::PendingReview => {
                return Err(DomainError::Conflict("a submission is already waiting for review".into()));
            }
            EnterpriseStatus::Verified => {
                return Err(DomainError::Conflict("the enterprise is already verified".into()));
            }
        }
        let verification = Verification {
            id: new_id("ver"),
            enterprise_id: enterprise_id.to_owned(),
            status: VerificationStatus::PendingReview,
            company_name,
            uscc: uscc.as_str().to_owned(),
            organization_code: org.as_str().to_owned(),
            legal_representative: IdentifiedPerson { name: lr_name, id_number: lr_id.as_str().to_owned() },
            administrator: Administrator {
                name: ad_name,
                id_number: ad_id.as_str().to_owned(),
                mobile: ad_mobile.as_str().to_owned(),
                is_legal_representative: ad_is_legal_representative,
            },
            authorization_letter_file_id: input.authorization_letter_file_id.clone(),
            authorization_letter: letter,
            submitted_at: now,
            submitted_by: member_id.clone(),
            decided_at: None,
            decided_by: None,
            reason: None,
        };
        enterprise.status = EnterpriseStatus::PendingReview;
        enterprise.verification = Some(verification.summary());
        enterprise.updated_at = now;

        let mut writes = vec![
            self.enterprise_write(&enterprise, loaded.version)?,
            Write::create(verification_record(&verification)?),
        ];
        let head = Head::load(self.store.as_ref(), &enterprise_subject(enterprise_id)).await?;
        head.append(
            &mut writes,
            now,
            principal.actor(),
            "verification.submitted",
            serde_json::json!({
                "verification_id": verification.id,
                "uscc": verification.uscc,
                "administrator_is_legal_representative": ad_is_legal_representative,
            }),
        );
        self.store.write(writes).await?;
        tracing::info!(enterprise_id, verification_id = %verification.id, "verification submitted");
        Ok(enterprise)
    }

    /// Checks the letter on its bytes and, when it passes, copies those bytes where no tenant can
    /// write: the operator reviews that copy, whatever the upload URL receives later.
    async fn check_letter(
        &self,
        v: &mut Violations,
        enterprise_id: &str,
        file_id: &str,
    ) -> Result<Option<PinnedFile>, DomainError> {
        const FIELD: &str = "authorization_letter_file_id";
        let upload: Option<Upload> = self.load_upload(file_id).await?;
        let Some(upload) = upload.filter(|u| u.enterprise_id == enterprise_id && u.purpose == "authorization_letter")
        else {
            v.add(FIELD, "unknown_file", "no authorization letter upload with this id");
            return Ok(None);
        };
        let Some(bytes) = self.blobs.read_prefix(&upload.blob_key, MAX_LETTER_BYTES + 1).await? else {
            v.add(FIELD, "not_uploaded", "the authorization letter has not been uploaded yet");
            return Ok(None);
        };
        let size = bytes.len() as u64;
        if size == 0 || size > MAX_LETTER_BYTES {
            v.add(FIELD, "size", format!("the letter must be 1 to {MAX_LETTER_BYTES} bytes"));
            return Ok(None);
        }
        match sniff(&bytes).filter(|t| LETTER_TYPES.contains(t)) {
            Some(t) if t == upload.content_type => Ok(Some(self.pin_upload(&upload, bytes).await?)),
            Some(t) => {
                v.add(FIELD, "type_mismatch", format!("declared {} but the file is {t}", upload.content_type));
                Ok(None)
            }
            None => {
                v.add(FIELD, "unsupported_file_type", "the letter is not a PDF, PNG or JPEG file");
                Ok(None)
            }
        }
    }

    /// The enterprise verified under `uscc`, if any.
    pub(crate) async fn uscc_holder(&self, uscc: &str) -> Result<Option<String>, DomainError> {
        Ok(self.load::<UsccClaim>(&uscc_key(uscc)).await?.map(|c| c.value.enterprise_id))
    }

    fn enterprise_write(&self, e: &crate::model::Enterprise, version: u64) -> Result<Write, DomainError> {
        Ok(Write::replace(Record::new(enterprise_key(&e.id), serde_json::to_value(e).map_err(internal)?), version))
    }

    /// Submissions in a review state, oldest first (operators).
    pub async fn list_verifications(
        &self,
        principal: &Principal,
        status: Option<&str>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Verification>, DomainError> {
        operator(principal)?;
        let status = match status.unwrap_or("pending_review") {
            s @ ("pending_review" | "approved" | "rejected") => s,
            _ => {
                return Err(DomainError::invalid(
                    "status",
                    "invalid",
                    "status is pending_review, approved or rejected",
                ));
            }
        };
        self.page(Partition::Index(format!("VERIFS#{status}")), "", limit, cursor).await
    }

    /// One submission with a short-lived link to its letter (operators).
    pub async fn get_verification(&self, principal: &Principal, id: &str) -> Result<VerificationDetail, DomainError> {
        operator(principal)?;
        let verification: Verification =
            self.load(&verification_key(id)).await?.ok_or(DomainError::NotFound("verification"))?.value;
        // The link shows the copy taken at submission, never the upload URL's latest object.
        let authorization_letter_url = match &verification.authorization_letter {
            Some(pinned) => Some(self.blobs.presign_get(&pinned.blob_key, self.config.presign_expiry).await?.url),
            None => None,
        };
        let uscc_verified_by =
            self.uscc_holder(&verification.uscc).await?.filter(|holder| *holder != verification.enterprise_id);
        Ok(VerificationDetail { verification, authorization_letter_url, uscc_verified_by })
    }

    /// Approves or rejects a pending submission. A decision on a submission that is no longer
    /// pending (already decided, or replaced) is a conflict, never an overwrite.
    pub async fn decide_verification(
        &self,
        principal: &Principal,
        id: &str,
        decision: Decision,
    ) -> Result<Verification, DomainError> {
        let operator_id = operator(principal)?.to_owned();
        let reason = decision.checked_reason()?;
        let loaded =
            self.load::<Verification>(&verification_key(id)).await?.ok_or(DomainError::NotFound("verification"))?;
        let mut verification = loaded.value;
        if verification.status != VerificationStatus::PendingReview {
            return Err(DomainError::Conflict(format!(
                "the verification was already decided: {}",
                verification.status.as_str()
            )));
        }
        let ent = self.load_enterprise(&verification.enterprise_id).await?;
        let mut enterprise = ent.value;
        if enterprise.verification.as_ref().map(|s| s.id.as_str()) != Some(id)
            || enterprise.status != EnterpriseStatus::PendingReview
        {
            return Err(DomainError::Conflict("the verification is no longer the enterprise's current one".into()));
        }
        let now = self.clock.now();
        let (vstatus, estatus, action) = match decision.decision {
            DecisionKind::Approve => {
                (VerificationStatus::Approved, EnterpriseStatus::Verified, "verification.approved")
            }
            DecisionKind::Reject => (VerificationStatus::Rejected, EnterpriseStatus::Rejected, "verification.rejected"),
        };
        verification.status = vstatus;
        verification.decided_at = Some(now);
        verification.decided_by = Some(operator_id);
        verification.reason = reason;
        enterprise.status = estatus;
        enterprise.verification = Some(verification.summary());
        enterprise.updated_at = now;
        let mut writes = Vec::new();
        if estatus == EnterpriseStatus::Verified {
            // From now on the enterprise is who the review found it to be, under one USCC that no
            // other account holds (the claim is created in the same write, so two approvals of
            // one USCC cannot both succeed).
            if self.uscc_holder(&verification.uscc).await?.is_some() {
                return Err(DomainError::UsccTaken { uscc: verification.uscc.clone() });
            }
            enterprise.name = verification.company_name.clone();
            enterprise.verified_identity = Some(VerifiedIdentity {
                company_name: verification.company_name.clone(),
                uscc: verification.uscc.clone(),
                verification_id: verification.id.clone(),
                verified_at: now,
            });
            let claim = UsccClaim { enterprise_id: enterprise.id.clone(), verification_id: verification.id.clone() };
            writes.push(Write::create(Record::new(
                uscc_key(&verification.uscc),
                serde_json::to_value(claim).map_err(internal)?,
            )));
        }
        writes.push(Write::replace(verification_record(&verification)?, loaded.version));
        writes.push(self.enterprise_write(&enterprise, ent.version)?);
        let head = Head::load(self.store.as_ref(), &enterprise_subject(&enterprise.id)).await?;
        head.append(
            &mut writes,
            now,
            principal.actor(),
            action,
            serde_json::json!({ "verification_id": id, "reason": verification.reason }),
        );
        let event_type = match verification.status {
            VerificationStatus::Approved => "enterprise.verification.approved",
            _ => "enterprise.verification.rejected",
        };
        let event = self.record_webhook_event(
            &mut writes,
            event_type,
            now,
            &[&enterprise.id],
            serde_json::json!({
                "enterprise_id": enterprise.id,
                "verification_id": id,
                "status": verification.status.as_str(),
                "reason": verification.reason,
            }),
        )?;
        self.store.write(writes).await.map_err(|e| match e {
            crate::ports::StoreError::Conflict => {
                DomainError::Conflict("the verification was decided or changed concurrently".into())
            }
            other => other.into(),
        })?;
        self.dispatch_webhook_events(&[event]).await;
        tracing::info!(verification_id = id, decision = action, "verification decided");
        Ok(verification)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Principal;
    use crate::testing::{operator, platform, registration, submission};

    async fn registered(p: &Platform) -> (String, Principal) {
        let r = p.register_enterprise(registration()).await.unwrap();
        let who = p.authenticate(Some(&r.api_key)).await.unwrap();
        (r.enterprise.id, who)
    }

    #[tokio::test]
    async fn submit_approve_and_conflicts() {
        let (p, _) = platform();
        let (eid, admin) = registered(&p).await;
        let e = p.submit_verification(&admin, &eid, submission()).await.unwrap();
        assert_eq!(e.status, EnterpriseStatus::PendingReview);
        assert!(matches!(p.submit_verification(&admin, &eid, submission()).await, Err(DomainError::Conflict(_))));
        let vid = e.verification.unwrap().id;
        let op = operator();
        let pending = p.list_verifications(&op, None, None, None).await.unwrap();
        assert_eq!(pending.items.len(), 1);
        let approve = Decision { decision: DecisionKind::Approve, reason: None };
        let v = p.decide_verification(&op, &vid, approve.clone()).await.unwrap();
        assert_eq!(v.status, VerificationStatus::Approved);
        assert!(matches!(p.decide_verification(&op, &vid, approve).await, Err(DomainError::Conflict(_))));
        assert_eq!(p.get_enterprise(&admin, &eid).await.unwrap().status, EnterpriseStatus::Verified);
        assert!(p.list_verifications(&op, None, None, None).await.unwrap().items.is_empty());
        let trail = p.enterprise_audit(&admin, &eid, None, None).await.unwrap();
        let actions: Vec<_> = trail.items.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["enterprise.registered", "verification.submitted", "verification.approved"]);
        assert!(trail.chain_intact);
    }

    #[tokio::test]
    async fn the_verified_identity_is_the_reviewed_one_and_a_uscc_has_one_account() {
        let (p, _) = platform();
        let op = operator();
        let approve = Decision { decision: DecisionKind::Approve, reason: None };
        // Registered under a famous bank's name, verified as the company it really is.
        let mut reg = crate::testing::registration();
        reg.name = "中国工商银行股份有限公司".into();
        let r = p.register_enterprise(reg).await.unwrap();
        let admin = p.authenticate(Some(&r.api_key)).await.unwrap();
        let eid = r.enterprise.id.clone();
        let claimed = submission();
        let vid = p.submit_verification(&admin, &eid, claimed.clone()).await.unwrap().verification.unwrap().id;
        // A second account submits the same USCC while the first waits.
        let (eid2, admin2) = registered(&p).await;
        let vid2 = p.submit_verification(&admin2, &eid2, claimed.clone()).await.unwrap().verification.unwrap().id;
        p.decide_verification(&op, &vid, approve.clone()).await.unwrap();
        let e = p.get_enterprise(&admin, &eid).await.unwrap();
        assert_eq!(e.name, claimed.company_name);
        let id = e.verified_identity.unwrap();
        assert_eq!((id.company_name, id.uscc), (claimed.company_name.clone(), claimed.uscc.clone()));
        // The operator sees the conflict, and approving the second is refused.
        let detail = p.get_verification(&op, &vid2).await.unwrap();
        assert_eq!(detail.uscc_verified_by.as_deref(), Some(eid.as_str()));
        assert!(matches!(p.decide_verification(&op, &vid2, approve).await, Err(DomainError::UsccTaken { .. })));
        assert_eq!(p.get_enterprise(&admin2, &eid2).await.unwrap().status, EnterpriseStatus::PendingReview);
        // A third account cannot even submit it.
        let (eid3, admin3) = registered(&p).await;
        assert!(matches!(p.submit_verification(&admin3, &eid3, claimed).await, Err(DomainError::UsccTaken { .. })));
    }

    #[tokio::test]
    async fn rejection_needs_a_reason_and_allows_resubmission() {
        let (p, _) = platform();
        let (eid, admin) = registered(&p).await;
        let vid = p.submit_verification(&admin, &eid, submission()).await.unwrap().verification.unwrap().id;
        let op = operator();
        let no_reason = Decision { decision: DecisionKind::Reject, reason: Some("  ".into()) };
        assert!(matches!(p.decide_verification(&op, &vid, no_reason).await, Err(DomainError::Validation(_))));
        let reject = Decision { decision: DecisionKind::Reject, reason: Some("营业执照模糊".into()) };
        p.decide_verification(&op, &vid, reject).await.unwrap();
        let e = p.get_enterprise(&admin, &eid).await.unwrap();
        assert_eq!(e.status, EnterpriseStatus::Rejected);
        assert_eq!(e.verification.unwrap().reason.as_deref(), Some("营业执照模糊"));
        let again = p.submit_verification(&admin, &eid, submission()).await.unwrap();
        assert_eq!(again.status, EnterpriseStatus::PendingReview);
        assert_ne!(again.verification.unwrap().id, vid);
        // The old submission can no longer be decided.
        let approve = Decision { decision: DecisionKind::Approve, reason: None };
        assert!(matches!(p.decide_verification(&op, &vid, approve).await, Err(DomainError::Conflict(_))));
    }

    #[tokio::test]
    async fn every_broken_rule_is_named() {
        let (p, _) = platform();
        let (eid, admin) = registered(&p).await;
        let mut s = submission();
        s.uscc = "9144030071526726XH".into();
        s.legal_representative.id_number = "110105194912310021".into();
        s.administrator.is_legal_representative = false;
        let Err(DomainError::Validation(errors)) = p.submit_verification(&admin, &eid, s).await else {
            panic!("accepted")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["uscc", "legal_representative.id_number", "authorization_letter_file_id"]);
        assert_eq!(p.get_enterprise(&admin, &eid).await.unwrap().status, EnterpriseStatus::Registered);
    }

    #[tokio::test]
    async fn letters_are_checked_on_their_bytes() {
        let (p, blobs) = platform();
        let (eid, admin) = registered(&p).await;
        let ticket = p
            .create_letter_upload(&admin, &eid, LetterUploadRequest { content_type: "application/pdf".into(), size: 9 })
            .await
            .unwrap();
        let mut s = submission();
        s.administrator.is_legal_representative = false;
        s.administrator.id_number = "440305198502141230".into();
        s.authorization_letter_file_id = Some(ticket.file_id.clone());
        let field_code = |r: Result<_, DomainError>| match r {
            Err(DomainError::Validation(e)) => e[0].code.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(field_code(p.submit_verification(&admin, &eid, s.clone()).await), "not_uploaded");
        let key = format!("uploads/{eid}/letters/{}", ticket.file_id);
        blobs.put(&key, b"\xFF\xD8\xFF\xE0JFIF".to_vec(), "application/pdf");
        assert_eq!(field_code(p.submit_verification(&admin, &eid, s.clone()).await), "type_mismatch");
        blobs.put(&key, b"hello world".to_vec(), "application/pdf");
        assert_eq!(field_code(p.submit_verification(&admin, &eid, s.clone()).await), "unsupported_file_type");
        blobs.put(&key, b"%PDF-1.7\n".to_vec(), "application/pdf");
        assert_eq!(p.submit_verification(&admin, &eid, s).await.unwrap().status, EnterpriseStatus::PendingReview);
    }

    #[tokio::test]
    async fn members_cannot_review() {
        let (p, _) = platform();
        let (eid, admin) = registered(&p).await;
        let vid = p.submit_verification(&admin, &eid, submission()).await.unwrap().verification.unwrap().id;
        let approve = Decision { decision: DecisionKind::Approve, reason: None };
        assert!(matches!(p.decide_verification(&admin, &vid, approve).await, Err(DomainError::Forbidden(_))));
    }
}
