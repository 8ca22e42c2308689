//! Electronic seals: a verified enterprise creates a draft, uploads its image, submits it for
//! review; on an operator's approval the platform creates the seal's key in the key service and
//! issues its certificate, and the seal is active. Active seals can be suspended, resumed and
//! revoked (for good). Every transition is one conditional write with its audit event.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::audit::Head;
use crate::auth::Principal;
use crate::enterprises::{AuditPage, internal};
use crate::error::{DomainError, Violations};
use crate::model::{Page, Verification, new_id};
use crate::platform::{Platform, admin_of, operator, own_enterprise, require_verified};
use crate::ports::{Condition, IssuedCertificate, Key, KeyAlgorithm, Partition, Record, SealSubject, Write};
use crate::seal_image;
use crate::uploads::{PinnedFile, UploadSpec, UploadTicket};

/// What a seal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SealKind {
    /// 公章, the company's official seal.
    Official,
    /// 合同专用章.
    Contract,
    /// 财务专用章.
    Finance,
    /// 发票专用章.
    Invoice,
    /// 人事专用章.
    Personnel,
}

impl SealKind {
    /// The seal's name as printed on it.
    pub fn label(self) -> &'static str {
        match self {
            SealKind::Official => "公章",
            SealKind::Contract => "合同专用章",
            SealKind::Finance => "财务专用章",
            SealKind::Invoice => "发票专用章",
            SealKind::Personnel => "人事专用章",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SealStatus {
    /// Created; its image may be uploaded and replaced.
    Draft,
    PendingReview,
    /// Approved, with a key and a certificate: it can sign.
    Active,
    /// The review refused it; a new image can be uploaded and submitted.
    Rejected,
    /// Temporarily unable to sign.
    Suspended,
    /// Never signs again.
    Revoked,
}

impl SealStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SealStatus::Draft => "draft",
            SealStatus::PendingReview => "pending_review",
            SealStatus::Active => "active",
            SealStatus::Rejected => "rejected",
            SealStatus::Suspended => "suspended",
            SealStatus::Revoked => "revoked",
        }
    }
}

/// The checked image of a seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealImage {
    pub file_id: String,
    pub width: u32,
    pub height: u32,
    /// SHA-256 of the approved bytes: the only image this seal ever stamps.
    #[serde(default)]
    pub sha256: String,
}

/// A review decision on a seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealReview {
    pub decision: String,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
    pub decided_by: String,
    pub reason: Option<String>,
}

/// A seal as its enterprise sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seal {
    pub id: String,
    pub enterprise_id: String,
    pub name: String,
    pub kind: SealKind,
    pub key_algorithm: KeyAlgorithm,
    pub status: SealStatus,
    /// The image waiting for submission or review (draft, rejected, pending).
    pub pending_image_file_id: Option<String>,
    /// The image that was approved, once active.
    pub image: Option<SealImage>,
    pub certificate: Option<IssuedCertificate>,
    pub review: Option<SealReview>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A seal as stored: with its key id, which is never shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SealData {
    #[serde(flatten)]
    pub seal: Seal,
    pub key_id: Option<String>,
    /// The image as submitted for review, copied where no tenant can write.
    #[serde(default)]
    pub submitted_image: Option<PinnedFile>,
    /// The image the operator approved (the submitted copy): what every signature stamps.
    #[serde(default)]
    pub approved_image: Option<PinnedFile>,
}

/// `POST /v1/seals`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSeal {
    pub name: String,
    pub kind: SealKind,
    #[serde(default)]
    pub key_algorithm: Option<KeyAlgorithm>,
    /// The PNG's size in bytes, to bind the upload URL to it (when uploading an image).
    #[serde(default)]
    pub image_size: Option<u64>,
    /// Have the platform draw the seal (round, red, the company name along the rim, a star,
    /// the seal type below) instead of uploading an image.
    #[serde(default)]
    pub generate: bool,
}

/// `POST /v1/seals/{id}/image`: a new upload URL, or a generated image.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSealImage {
    #[serde(default)]
    pub image_size: Option<u64>,
    #[serde(default)]
    pub generate: bool,
}

/// A new seal draft and where to upload its image (none when the platform drew it).
#[derive(Debug, Clone, Serialize)]
pub struct SealDraft {
    pub seal: Seal,
    pub upload: Option<UploadTicket>,
}

/// Where a seal's image comes from.
enum ImageSource {
    Upload(u64),
    Generate,
}

/// `POST /v1/operator/seals/{id}/decision`: the same shape as a verification decision.
pub type SealDecision = crate::verification::Decision;

/// A seal in the operator's review queue, with a link to its image.
#[derive(Debug, Clone, Serialize)]
pub struct SealForReview {
    #[serde(flatten)]
    pub seal: Seal,
    pub image_url: Option<String>,
    /// SHA-256 of the submitted image: what approval makes the seal's image.
    pub image_sha256: Option<String>,
}

/// How long seal certificates are valid.
pub const CERTIFICATE_VALIDITY: time::Duration = time::Duration::days(730);

pub(crate) fn seal_key(id: &str) -> Key {
    Key::new(format!("SEAL#{id}"), "SEAL")
}

/// Which seal a certificate was issued to, found by the certificate's SHA-256 fingerprint (a
/// serial number alone can be copied into any self-made certificate).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CertIndex {
    pub seal_id: String,
    pub enterprise_id: String,
    pub serial: String,
}

pub(crate) fn cert_index_key(fingerprint: &str) -> Key {
    Key::new(format!("CERTFP#{fingerprint}"), "CERT")
}

/// Records which seal `certificate` belongs to, so verification can name it.
pub(crate) fn cert_index_write(seal: &Seal, certificate: &IssuedCertificate) -> Result<Write, DomainError> {
    let fingerprint = esign_pades::cms_sig::certificate_fingerprint(certificate.pem.as_bytes())
        .map_err(|e| DomainError::Internal(format!("an issued certificate does not parse: {e}")))?;
    let index = CertIndex {
        seal_id: seal.id.clone(),
        enterprise_id: seal.enterprise_id.clone(),
        serial: certificate.serial.clone(),
    };
    Ok(Write::create(Record::new(cert_index_key(&fingerprint), serde_json::to_value(index).map_err(internal)?)))
}

pub(crate) fn seal_subject(id: &str) -> String {
    format!("SEAL#{id}")
}

fn seal_record(s: &SealData) -> Result<Record, DomainError> {
    let mut r = Record::new(seal_key(&s.seal.id), serde_json::to_value(s).map_err(internal)?);
    // Listed per enterprise, and per status for the operators' queue.
    r.index = Some(Key::new(format!("SEALS#{}", s.seal.enterprise_id), format!("SEAL#{}", s.seal.id)));
    Ok(r)
}

fn review_record(s: &Seal) -> Result<Record, DomainError> {
    let mut r = Record::new(Key::new(format!("SEALREVIEW#{}", s.id), "REVIEW"), serde_json::json!({ "seal_id": s.id }));
    r.index = Some(Key::new("SEALS#pending_review", format!("{:020}#{}", s.updated_at.unix_timestamp_nanos(), s.id)));
    Ok(r)
}

fn check_name(v: &mut Violations, name: &str) -> Option<String> {
    let name = name.trim();
    if name.chars().count() < 2 || name.chars().count() > 50 || name.chars().any(char::is_control) {
        v.add("name", "length", "a seal's name has 2 to 50 characters");
        None
    } else {
        Some(name.to_owned())
    }
}

fn check_image_source(v: &mut Violations, image_size: Option<u64>, generate: bool) -> Option<ImageSource> {
    match (image_size, generate) {
        (Some(_), true) => {
            v.add("generate", "conflict", "either upload an image (image_size) or have it generated, not both");
            None
        }
        (None, false) => {
            v.add("image_size", "missing", "give the PNG's size to upload it, or set generate to true");
            None
        }
        (None, true) => Some(ImageSource::Generate),
        (Some(size), false) if size == 0 || size > seal_image::MAX_BYTES => {
            v.add("image_size", "range", format!("the image must be 1 to {} bytes", seal_image::MAX_BYTES));
            None
        }
        (Some(size), false) => Some(ImageSource::Upload(size)),
    }
}

/// The payload of a seal's webhook events: the seal as the change left it, plus `extra`'s fields.
fn seal_event(seal: &Seal, extra: serde_json::Value) -> serde_json::Value {
    let mut data = serde_json::json!({
        "seal_id": seal.id,
        "enterprise_id": seal.enterprise_id,
        "name": seal.name,
        "kind": seal.kind,
        "status": seal.status.as_str(),
    });
    if let (Some(fields), serde_json::Value::Object(more)) = (data.as_object_mut(), extra) {
        fields.extend(more);
    }
    data
}

impl Platform {
    pub(crate) async fn load_seal(&self, id: &str) -> Result<crate::platform::Versioned<SealData>, DomainError> {
        self.load(&seal_key(id)).await?.ok_or(DomainError::NotFound("seal"))
    }

    /// Loads a seal of the caller's enterprise (anyone else: 404).
    pub(crate) async fn own_seal(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<crate::platform::Versioned<SealData>, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        let seal = self.load_seal(id).await?;
        if seal.value.seal.enterprise_id != enterprise_id {
            return Err(DomainError::NotFound("seal"));
        }
        Ok(seal)
    }

    async fn seal_image_ticket(
        &self,
        enterprise_id: &str,
        seal_id: &str,
        size: u64,
        writes: &mut Vec<Write>,
    ) -> Result<(String, UploadTicket), DomainError> {
        let spec = UploadSpec {
            purpose: "seal_image",
            content_type: "image/png",
            size,
            max_bytes: seal_image::MAX_BYTES,
            blob_key: &|id| format!("uploads/{enterprise_id}/seals/{seal_id}/{id}.png"),
        };
        let ticket = self.upload_ticket(enterprise_id, spec, writes).await?;
        Ok((ticket.file_id.clone(), ticket))
    }

    /// The seal's image: a presigned upload, or drawn by the platform from the company name the
    /// enterprise was verified under and stored as if uploaded.
    async fn seal_image(
        &self,
        enterprise_id: &str,
        seal_id: &str,
        kind: SealKind,
        source: ImageSource,
        writes: &mut Vec<Write>,
    ) -> Result<(String, Option<UploadTicket>), DomainError> {
        let size = match source {
            ImageSource::Upload(size) => {
                let (file_id, ticket) = self.seal_image_ticket(enterprise_id, seal_id, size, writes).await?;
                return Ok((file_id, Some(ticket)));
            }
            ImageSource::Generate => esign_sealgen::DEFAULT_SIZE_PX,
        };
        let enterprise = self.load_enterprise(enterprise_id).await?.value;
        let company = self.current_verification(&enterprise).await?.company_name;
        let png =
            esign_sealgen::render(&esign_sealgen::SealSpec { company: &company, label: kind.label(), size_px: size })
                .map_err(|e| match e {
                // The deployment's fault (no font layer), not the caller's.
                esign_sealgen::SealGenError::FontUnavailable(_) | esign_sealgen::SealGenError::Font => {
                    DomainError::Internal(e.to_string())
                }
                e => DomainError::invalid("generate", "unsupported_name", format!("the seal cannot be drawn: {e}")),
            })?;
        let now = self.clock.now();
        let file_id = new_id("file");
        let upload = crate::model::Upload {
            blob_key: format!("uploads/{enterprise_id}/seals/{seal_id}/{file_id}.png"),
            id: file_id.clone(),
            enterprise_id: enterprise_id.to_owned(),
            purpose: "seal_image".into(),
            content_type: "image/png".into(),
            declared_size: png.len() as u64,
            created_at: now,
        };
        self.blobs.put(&upload.blob_key, png, "image/png").await?;
        writes.push(Write::create(Record::new(
            crate::uploads::upload_key(&file_id),
            serde_json::to_value(&upload).map_err(internal)?,
        )));
        Ok((file_id, None))
    }

    /// Creates a seal draft and a presigned URL for its PNG (administrators of verified
    /// enterprises).
    pub async fn create_seal(&self, principal: &Principal, input: CreateSeal) -> Result<SealDraft, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        admin_of(principal, enterprise_id)?;
        let mut v = Violations::new();
        let name = check_name(&mut v, &input.name);
        let source = check_image_source(&mut v, input.image_size, input.generate);
        v.finish()?;
        let name = name.ok_or_else(|| DomainError::Internal("validation passed without a name".into()))?;
        let source = source.ok_or_else(|| DomainError::Internal("validation passed without an image".into()))?;
        require_verified(&self.load_enterprise(enterprise_id).await?.value)?;

        let now = self.clock.now();
        let seal_id = new_id("seal");
        let mut writes = Vec::new();
        let (file_id, upload) = self.seal_image(enterprise_id, &seal_id, input.kind, source, &mut writes).await?;
        let seal = Seal {
            id: seal_id,
            enterprise_id: enterprise_id.to_owned(),
            name,
            kind: input.kind,
            key_algorithm: input.key_algorithm.unwrap_or(KeyAlgorithm::EcdsaP256),
            status: SealStatus::Draft,
            pending_image_file_id: Some(file_id),
            image: None,
            certificate: None,
            review: None,
            created_at: now,
            updated_at: now,
        };
        let data = SealData { seal: seal.clone(), key_id: None, submitted_image: None, approved_image: None };
        writes.push(Write::create(seal_record(&data)?));
        Head::empty(&seal_subject(&seal.id)).append(
            &mut writes,
            now,
            principal.actor(),
            "seal.created",
            serde_json::json!({ "name": seal.name, "kind": seal.kind, "key_algorithm": seal.key_algorithm }),
        );
        self.store.write(writes).await?;
        Ok(SealDraft { seal, upload })
    }

    /// A new upload URL for a draft's or rejected seal's image.
    pub async fn replace_seal_image(
        &self,
        principal: &Principal,
        id: &str,
        input: NewSealImage,
    ) -> Result<SealDraft, DomainError> {
        let loaded = self.own_seal(principal, id).await?;
        admin_of(principal, &loaded.value.seal.enterprise_id)?;
        let mut v = Violations::new();
        let source = check_image_source(&mut v, input.image_size, input.generate);
        v.finish()?;
        let source = source.ok_or_else(|| DomainError::Internal("validation passed without an image".into()))?;
        let mut data = loaded.value;
        if !matches!(data.seal.status, SealStatus::Draft | SealStatus::Rejected) {
            return Err(DomainError::Conflict(format!(
                "the image of a {} seal cannot be replaced",
                data.seal.status.as_str()
            )));
        }
        let mut writes = Vec::new();
        let (file_id, upload) =
            self.seal_image(&data.seal.enterprise_id, id, data.seal.kind, source, &mut writes).await?;
        data.seal.pending_image_file_id = Some(file_id);
        data.submitted_image = None;
        data.seal.updated_at = self.clock.now();
        writes.push(Write::replace(seal_record(&data)?, loaded.version));
        self.store.write(writes).await?;
        Ok(SealDraft { seal: data.seal, upload })
    }

    /// Checks the uploaded image on its bytes and sends the seal to review.
    pub async fn submit_seal(&self, principal: &Principal, id: &str) -> Result<Seal, DomainError> {
        let loaded = self.own_seal(principal, id).await?;
        admin_of(principal, &loaded.value.seal.enterprise_id)?;
        let mut data = loaded.value;
        if !matches!(data.seal.status, SealStatus::Draft | SealStatus::Rejected) {
            return Err(DomainError::Conflict(format!("a {} seal cannot be submitted", data.seal.status.as_str())));
        }
        let file_id = data.seal.pending_image_file_id.clone().ok_or_else(|| {
            DomainError::invalid("image", "missing", "upload an image first (POST /v1/seals/{id}/image)")
        })?;
        let upload =
            self.load_upload(&file_id).await?.ok_or(DomainError::Internal("seal upload record missing".into()))?;
        let bytes = self
            .blobs
            .read_prefix(&upload.blob_key, seal_image::MAX_BYTES + 1)
            .await?
            .ok_or_else(|| DomainError::invalid("image", "not_uploaded", "the image has not been uploaded yet"))?;
        seal_image::check(&bytes).map_err(|e| DomainError::Validation(vec![e]))?;
        // What the operator reviews and every signature stamps is this copy: the upload URL may
        // still be valid, but nothing written through it afterwards is ever read again.
        let pinned = self.pin_upload(&upload, bytes).await?;

        let sha256 = pinned.sha256.clone();
        data.submitted_image = Some(pinned);

        let now = self.clock.now();
        data.seal.status = SealStatus::PendingReview;
        data.seal.updated_at = now;
        let mut writes = vec![
            Write::replace(seal_record(&data)?, loaded.version),
            Write::Put { record: review_record(&data.seal)?, condition: Condition::Always },
        ];
        let head = Head::load(self.store.as_ref(), &seal_subject(id)).await?;
        head.append(
            &mut writes,
            now,
            principal.actor(),
            "seal.submitted",
            serde_json::json!({ "file_id": file_id, "sha256": sha256 }),
        );
        self.store.write(writes).await?;
        Ok(data.seal)
    }

    /// The caller's enterprise's seals, oldest first.
    pub async fn list_seals(
        &self,
        principal: &Principal,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Seal>, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        let page: Page<SealData> =
            self.page(Partition::Index(format!("SEALS#{enterprise_id}")), "SEAL#", limit, cursor).await?;
        Ok(Page { items: page.items.into_iter().map(|s| s.seal).collect(), next_cursor: page.next_cursor })
    }

    /// One seal of the caller's enterprise.
    pub async fn get_seal(&self, principal: &Principal, id: &str) -> Result<Seal, DomainError> {
        Ok(self.own_seal(principal, id).await?.value.seal)
    }

    /// The seal's audit trail (administrators of its enterprise).
    pub async fn seal_audit(
        &self,
        principal: &Principal,
        id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<AuditPage, DomainError> {
        let loaded = self.own_seal(principal, id).await?;
        admin_of(principal, &loaded.value.seal.enterprise_id)?;
        self.audit_page(&seal_subject(id), limit, cursor).await
    }

    /// Seals waiting for review, oldest first, with links to their images (operators).
    pub async fn list_seals_for_review(
        &self,
        principal: &Principal,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<SealForReview>, DomainError> {
        operator(principal)?;
        let page: Page<serde_json::Value> =
            self.page(Partition::Index("SEALS#pending_review".into()), "", limit, cursor).await?;
        let mut items = Vec::new();
        for r in page.items {
            let Some(id) = r["seal_id"].as_str() else { continue };
            let Some(seal) = self.load::<SealData>(&seal_key(id)).await? else { continue };
            // The link shows the submitted copy, the bytes an approval would make the seal's.
            let image_url = match &seal.value.submitted_image {
                Some(pinned) => Some(self.blobs.presign_get(&pinned.blob_key, self.config.presign_expiry).await?.url),
                None => None,
            };
            items.push(SealForReview {
                seal: seal.value.seal,
                image_url,
                image_sha256: seal.value.submitted_image.map(|p| p.sha256),
            });
        }
        Ok(Page { items, next_cursor: page.next_cursor })
    }

    /// Approves (creating the key and issuing the certificate) or rejects a seal under review.
    pub async fn decide_seal(
        &self,
        principal: &Principal,
        id: &str,
        decision: SealDecision,
    ) -> Result<Seal, DomainError> {
        let operator_id = operator(principal)?.to_owned();
        let reason = decision.checked_reason()?;
        use crate::verification::DecisionKind;
        let loaded = self.load_seal(id).await?;
        let mut data = loaded.value;
        if data.seal.status != SealStatus::PendingReview {
            return Err(DomainError::Conflict(format!(
                "the seal is {}, not pending review",
                data.seal.status.as_str()
            )));
        }
        let now = self.clock.now();
        let action = match decision.decision {
            DecisionKind::Approve => {
                // The reviewed bytes, from the copy taken at submission (hash checked).
                let pinned = data
                    .submitted_image
                    .take()
                    .ok_or_else(|| DomainError::Conflict("the seal has no submitted image; submit it again".into()))?;
                let facts = seal_image::check(&self.read_pinned(&pinned).await?).map_err(|e| {
                    DomainError::Conflict(format!("the submitted image no longer passes: {}", e.message))
                })?;
                let subject = self.certificate_subject(&data.seal).await?;
                let key_id = self
                    .authority
                    .create_seal_key(
                        data.seal.key_algorithm,
                        &format!("seal {} of {}", data.seal.id, data.seal.enterprise_id),
                    )
                    .await
                    .map_err(|e| DomainError::Dependency(e.to_string()))?;
                let certificate =
                    match self.authority.issue_seal_certificate(&key_id, &subject, now + CERTIFICATE_VALIDITY).await {
                        Ok(c) => c,
                        Err(e) => {
                            // No certificate, no seal: the fresh key must not linger usable.
                            let _ = self.authority.disable_key(&key_id).await;
                            return Err(DomainError::Dependency(e.to_string()));
                        }
                    };
                data.seal.pending_image_file_id = None;
                data.seal.image = Some(SealImage {
                    file_id: pinned.file_id.clone(),
                    width: facts.width,
                    height: facts.height,
                    sha256: pinned.sha256.clone(),
                });
                data.approved_image = Some(pinned);
                data.seal.certificate = Some(certificate);
                data.seal.status = SealStatus::Active;
                data.key_id = Some(key_id);
                "seal.approved"
            }
            DecisionKind::Reject => {
                data.submitted_image = None;
                data.seal.status = SealStatus::Rejected;
                "seal.rejected"
            }
        };
        data.seal.review = Some(SealReview {
            decision: if action == "seal.approved" { "approved" } else { "rejected" }.into(),
            decided_at: now,
            decided_by: operator_id,
            reason,
        });
        data.seal.updated_at = now;
        let mut writes = vec![
            Write::replace(seal_record(&data)?, loaded.version),
            Write::Delete { key: Key::new(format!("SEALREVIEW#{id}"), "REVIEW"), condition: Condition::Always },
        ];
        if let Some(c) = &data.seal.certificate {
            writes.push(cert_index_write(&data.seal, c)?);
            writes.push(crate::revocation::issued_status_write(&data.seal, c)?);
        }
        let head = Head::load(self.store.as_ref(), &seal_subject(id)).await?;
        head.append(
            &mut writes,
            now,
            principal.actor(),
            action,
            serde_json::json!({
                "reason": data.seal.review.as_ref().and_then(|r| r.reason.clone()),
                "certificate_serial": data.seal.certificate.as_ref().map(|c| c.serial.clone()),
            }),
        );
        let event = self.record_webhook_event(
            &mut writes,
            if action == "seal.approved" { "seal.approved" } else { "seal.rejected" },
            now,
            &[&data.seal.enterprise_id],
            seal_event(
                &data.seal,
                serde_json::json!({
                    "reason": data.seal.review.as_ref().and_then(|r| r.reason.clone()),
                    "certificate_serial": data.seal.certificate.as_ref().map(|c| c.serial.clone()),
                }),
            ),
        )?;
        if let Err(e) = self.store.write(writes).await {
            if let Some(k) = &data.key_id {
                let _ = self.authority.disable_key(k).await;
            }
            return Err(e.into());
        }
        self.dispatch_webhook_events(&[event]).await;
        tracing::info!(seal_id = id, decision = action, "seal decided");
        Ok(data.seal)
    }

    /// The platform CA chain, PEM, for anyone's trust store.
    pub async fn ca_certificates(&self) -> Result<String, DomainError> {
        self.authority.ca_certificates_pem().await.map_err(|e| DomainError::Dependency(e.to_string()))
    }

    /// The platform's RFC 3161 time-stamp authority.
    pub async fn timestamp(&self, request: &[u8]) -> Result<Vec<u8>, DomainError> {
        self.authority.timestamp(request).await.map_err(|e| DomainError::Dependency(e.to_string()))
    }

    /// The subject of a seal's certificates: its enterprise's verified name and USCC, and the
    /// seal's name (an unverified enterprise gets none).
    async fn certificate_subject(&self, seal: &Seal) -> Result<SealSubject, DomainError> {
        let enterprise = self.load_enterprise(&seal.enterprise_id).await?.value;
        let verification = self.current_verification(&enterprise).await?;
        Ok(SealSubject {
            company_name: verification.company_name,
            uscc: verification.uscc,
            seal_name: seal.name.clone(),
        })
    }

    async fn current_verification(&self, e: &crate::model::Enterprise) -> Result<Verification, DomainError> {
        let id = e.verification.as_ref().map(|v| v.id.clone()).ok_or(DomainError::NotVerified)?;
        require_verified(e)?;
        self.load(&Key::new(format!("VERIF#{id}"), "VERIF"))
            .await?
            .map(|v| v.value)
            .ok_or_else(|| DomainError::Internal("the enterprise's verification record is missing".into()))
    }

    /// Revokes a seal for good (administrators): its certificates are revoked with `reason`
    /// and the issuing CA's CRL is reissued at once.
    pub async fn revoke_seal(
        &self,
        principal: &Principal,
        id: &str,
        reason: crate::revocation::RevocationReason,
    ) -> Result<Seal, DomainError> {
        let seal = self.change_status(principal, id, SealStatus::Revoked, reason).await?;
        if let Err(e) = self.publish_crl(crate::ports::CaLevel::Issuing).await {
            // The certificates are revoked in the records (OCSP says so already); the scheduled
            // reissue publishes the CRL.
            tracing::warn!(seal_id = id, error = %e, "could not reissue the CRL after a revocation");
        }
        Ok(seal)
    }

    /// Suspends, resumes or revokes a seal (administrators). Revocation is final.
    pub async fn change_seal_status(
        &self,
        principal: &Principal,
        id: &str,
        to: SealStatus,
    ) -> Result<Seal, DomainError> {
        if to == SealStatus::Revoked {
            return self.revoke_seal(principal, id, crate::revocation::RevocationReason::Unspecified).await;
        }
        self.change_status(principal, id, to, crate::revocation::RevocationReason::Unspecified).await
    }

    async fn change_status(
        &self,
        principal: &Principal,
        id: &str,
        to: SealStatus,
        reason: crate::revocation::RevocationReason,
    ) -> Result<Seal, DomainError> {
        let loaded = self.own_seal(principal, id).await?;
        admin_of(principal, &loaded.value.seal.enterprise_id)?;
        let mut data = loaded.value;
        let from = data.seal.status;
        let action = match (from, to) {
            (SealStatus::Active, SealStatus::Suspended) => "seal.suspended",
            (SealStatus::Suspended, SealStatus::Active) => "seal.resumed",
            (SealStatus::Active | SealStatus::Suspended, SealStatus::Revoked) => "seal.revoked",
            _ => {
                return Err(DomainError::Conflict(format!("a {} seal cannot become {}", from.as_str(), to.as_str())));
            }
        };
        let now = self.clock.now();
        data.seal.status = to;
        data.seal.updated_at = now;
        let mut writes = vec![Write::replace(seal_record(&data)?, loaded.version)];
        let mut details = serde_json::json!({ "from": from.as_str() });
        if to == SealStatus::Revoked {
            let revocation = crate::revocation::Revocation { revoked_at: now, reason };
            writes.extend(crate::revocation::revoked_status_writes(&data.seal, revocation)?);
            details["reason"] = serde_json::to_value(reason).map_err(internal)?;
        }
        let head = Head::load(self.store.as_ref(), &seal_subject(id)).await?;
        head.append(&mut writes, now, principal.actor(), action, details);
        let event = if to == SealStatus::Revoked {
            Some(self.record_webhook_event(
                &mut writes,
                "seal.revoked",
                now,
                &[&data.seal.enterprise_id],
                seal_event(&data.seal, serde_json::json!({ "previous_status": from.as_str() })),
            )?)
        } else {
            None
        };
        self.store.write(writes).await?;
        self.dispatch_webhook_events(&event.into_iter().collect::<Vec<_>>()).await;
        if to == SealStatus::Revoked
            && let Some(k) = &data.key_id
            && let Err(e) = self.authority.disable_key(k).await
        {
            // The seal is revoked in the records, which every signing checks first.
            tracing::warn!(seal_id = id, error = %e, "could not disable a revoked seal's key");
        }
        Ok(data.seal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryBlobs;
    use crate::seal_image::samples;
    use crate::testing::{full, operator, verified};
    use crate::verification::DecisionKind;

    fn create() -> CreateSeal {
        CreateSeal {
            name: "合同专用章".into(),
            kind: SealKind::Contract,
            key_algorithm: None,
            image_size: Some(1000),
            generate: false,
        }
    }

    fn upload(blobs: &MemoryBlobs, draft: &SealDraft, bytes: Vec<u8>) {
        let key = draft.upload.as_ref().unwrap().upload_url.trim_start_matches("memory://");
        blobs.put(key, bytes, "image/png");
    }

    fn approve() -> SealDecision {
        SealDecision { decision: DecisionKind::Approve, reason: None }
    }

    #[tokio::test]
    async fn a_generated_seal_is_drawn_from_the_verified_name_and_reviewed_like_an_upload() {
        let t = full();
        let p = &t.platform;
        let (_, admin) = verified(p).await;
        let mut input = create();
        input.image_size = None;
        input.generate = true;
        let draft = p.create_seal(&admin, input).await.unwrap();
        assert!(draft.upload.is_none(), "nothing to upload");
        let png_key = t.blobs.keys().into_iter().find(|k| k.ends_with(".png")).unwrap();
        let png = crate::ports::BlobStore::get(t.blobs.as_ref(), &png_key).await.unwrap().unwrap();
        let facts = seal_image::check(&png).unwrap();
        assert_eq!((facts.width, facts.height), (600, 600));
        assert_eq!(p.submit_seal(&admin, &draft.seal.id).await.unwrap().status, SealStatus::PendingReview);
        let active = p.decide_seal(&operator(), &draft.seal.id, approve()).await.unwrap();
        assert_eq!(active.status, SealStatus::Active);
        // Either an upload or a drawing, not both, not neither.
        let mut both = create();
        both.generate = true;
        assert!(
            matches!(p.create_seal(&admin, both).await, Err(DomainError::Validation(ref e)) if e[0].code == "conflict")
        );
        let mut neither = create();
        neither.image_size = None;
        assert!(
            matches!(p.create_seal(&admin, neither).await, Err(DomainError::Validation(ref e)) if e[0].code == "missing")
        );
    }

    #[tokio::test]
    async fn an_image_swapped_after_submission_is_never_reviewed_nor_stamped() {
        let t = full();
        let p = &t.platform;
        let (_, admin) = verified(p).await;
        let draft = p.create_seal(&admin, create()).await.unwrap();
        upload(&t.blobs, &draft, samples::red_seal());
        p.submit_seal(&admin, &draft.seal.id).await.unwrap();
        let submitted = p.load_seal(&draft.seal.id).await.unwrap().value.submitted_image.unwrap();
        let reviewed = p.read_pinned(&submitted).await.unwrap();
        // The upload URL is still valid: the admin writes another company's seal through it.
        let mut other = samples::red_seal();
        other.extend_from_slice(b"another seal");
        upload(&t.blobs, &draft, other.clone());
        let queue = p.list_seals_for_review(&operator(), None, None).await.unwrap();
        let link = queue.items[0].image_url.clone().unwrap();
        assert!(link.contains("pinned/"), "the operator sees the submitted copy: {link}");
        let active = p.decide_seal(&operator(), &draft.seal.id, approve()).await.unwrap();
        let data = p.load_seal(&active.id).await.unwrap().value;
        let stamped = p.read_pinned(data.approved_image.as_ref().unwrap()).await.unwrap();
        assert_eq!(stamped, reviewed);
        assert_ne!(stamped, other);
        assert_eq!(active.image.unwrap().sha256, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&reviewed)));
        // Even the pinned copy, altered in the bucket, is never stamped: a warm process stamps
        // the approved bytes it already checked, a cold one refuses.
        let approved = data.approved_image.as_ref().unwrap();
        assert_eq!(p.read_pinned_kept(approved).await.unwrap(), reviewed);
        t.blobs.put(&approved.blob_key, other, "image/png");
        assert_eq!(p.read_pinned_kept(approved).await.unwrap(), reviewed);
        assert!(p.read_pinned(approved).await.is_err());
        p.warm.forget_pinned();
        assert!(p.read_pinned_kept(approved).await.is_err());
    }

    #[tokio::test]
    async fn a_seal_from_draft_to_active() {
        let t = full();
        let p = &t.platform;
        let (eid, admin) = verified(p).await;
        let draft = p.create_seal(&admin, create()).await.unwrap();
        assert_eq!(draft.seal.status, SealStatus::Draft);
        // Nothing uploaded yet.
        let e = p.submit_seal(&admin, &draft.seal.id).await.unwrap_err();
        assert!(matches!(e, DomainError::Validation(ref f) if f[0].code == "not_uploaded"), "{e:?}");
        upload(&t.blobs, &draft, samples::red_seal());
        let submitted = p.submit_seal(&admin, &draft.seal.id).await.unwrap();
        assert_eq!(submitted.status, SealStatus::PendingReview);
        let queue = p.list_seals_for_review(&operator(), None, None).await.unwrap();
        assert_eq!(queue.items.len(), 1);
        assert!(queue.items[0].image_url.is_some());
        let active = p.decide_seal(&operator(), &draft.seal.id, approve()).await.unwrap();
        assert_eq!(active.status, SealStatus::Active);
        let cert = active.certificate.unwrap();
        let parsed = esign_pades::cms_sig::certs_from_pem(cert.pem.as_bytes()).unwrap();
        let subject = parsed[0].tbs_certificate.subject.to_string();
        let uscc = p.load_enterprise(&eid).await.unwrap().value.verified_identity.unwrap().uscc;
        assert!(
            subject.contains("深圳市腾讯计算机系统有限公司") && subject.contains(&hex::encode(format!("NTRCN-{uscc}"))),
            "{subject}"
        );
        assert_eq!(t.authority.keys(), vec![("fake-key-1".into(), KeyAlgorithm::EcdsaP256, false)]);
        assert!(p.list_seals_for_review(&operator(), None, None).await.unwrap().items.is_empty());
        // Deciding twice is a conflict.
        assert!(matches!(p.decide_seal(&operator(), &draft.seal.id, approve()).await, Err(DomainError::Conflict(_))));
        let listed = p.list_seals(&admin, None, None).await.unwrap();
        assert_eq!(listed.items.len(), 1);
        assert_eq!(listed.items[0].enterprise_id, eid);
        let trail = p.seal_audit(&admin, &draft.seal.id, None, None).await.unwrap();
        let actions: Vec<_> = trail.items.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["seal.created", "seal.submitted", "seal.approved"]);
        assert!(trail.chain_intact);
    }

    #[tokio::test]
    async fn bad_images_are_refused_with_their_rule_and_can_be_fixed() {
        let t = full();
        let p = &t.platform;
        let (_, admin) = verified(p).await;
        let draft = p.create_seal(&admin, create()).await.unwrap();
        upload(&t.blobs, &draft, samples::ring(300, [30, 30, 220], 0));
        let e = p.submit_seal(&admin, &draft.seal.id).await.unwrap_err();
        assert!(matches!(e, DomainError::Validation(ref f) if f[0].code == "not_red"), "{e:?}");
        assert_eq!(p.get_seal(&admin, &draft.seal.id).await.unwrap().status, SealStatus::Draft);
        let again = p
            .replace_seal_image(&admin, &draft.seal.id, NewSealImage { image_size: Some(900), generate: false })
            .await
            .unwrap();
        upload(&t.blobs, &again, samples::red_seal());
        p.submit_seal(&admin, &draft.seal.id).await.unwrap();
        let reject = SealDecision { decision: DecisionKind::Reject, reason: Some("印章名称不规范".into()) };
        let rejected = p.decide_seal(&operator(), &draft.seal.id, reject).await.unwrap();
        assert_eq!(rejected.status, SealStatus::Rejected);
        assert_eq!(rejected.review.unwrap().reason.as_deref(), Some("印章名称不规范"));
        assert!(t.authority.keys().is_empty(), "a rejected seal gets no key");
        p.submit_seal(&admin, &draft.seal.id).await.unwrap();
        assert_eq!(p.decide_seal(&operator(), &draft.seal.id, approve()).await.unwrap().status, SealStatus::Active);
    }

    #[tokio::test]
    async fn a_failed_issuance_leaves_nothing_half_done() {
        let t = full();
        let p = &t.platform;
        let (_, admin) = verified(p).await;
        let draft = p.create_seal(&admin, create()).await.unwrap();
        upload(&t.blobs, &draft, samples::red_seal());
        p.submit_seal(&admin, &draft.seal.id).await.unwrap();
        t.authority.fail_issuance.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(matches!(p.decide_seal(&operator(), &draft.seal.id, approve()).await, Err(DomainError::Dependency(_))));
        assert_eq!(p.get_seal(&admin, &draft.seal.id).await.unwrap().status, SealStatus::PendingReview);
        assert!(t.authority.keys()[0].2, "the orphan key is disabled");
        t.authority.fail_issuance.store(false, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(p.decide_seal(&operator(), &draft.seal.id, approve()).await.unwrap().status, SealStatus::Active);
    }

    #[tokio::test]
    async fn suspend_resume_revoke_and_isolation() {
        let t = full();
        let p = &t.platform;
        let (_, admin) = verified(p).await;
        let (_, other) = verified(p).await;
        let draft = p.create_seal(&admin, create()).await.unwrap();
        upload(&t.blobs, &draft, samples::red_seal());
        p.submit_seal(&admin, &draft.seal.id).await.unwrap();
        p.decide_seal(&operator(), &draft.seal.id, approve()).await.unwrap();
        let id = &draft.seal.id;
        assert!(matches!(p.get_seal(&other, id).await, Err(DomainError::NotFound(_))));
        assert!(matches!(p.change_seal_status(&other, id, SealStatus::Revoked).await, Err(DomainError::NotFound(_))));
        assert_eq!(
            p.change_seal_status(&admin, id, SealStatus::Suspended).await.unwrap().status,
            SealStatus::Suspended
        );
        assert_eq!(p.change_seal_status(&admin, id, SealStatus::Active).await.unwrap().status, SealStatus::Active);
        assert_eq!(p.change_seal_status(&admin, id, SealStatus::Revoked).await.unwrap().status, SealStatus::Revoked);
        assert!(t.authority.keys()[0].2, "a revoked seal's key is disabled");
        assert!(matches!(p.change_seal_status(&admin, id, SealStatus::Active).await, Err(DomainError::Conflict(_))));
    }

    #[tokio::test]
    async fn seals_need_a_verified_enterprise_and_an_admin() {
        let t = full();
        let p = &t.platform;
        let r = p.register_enterprise(crate::testing::registration()).await.unwrap();
        let admin = p.authenticate(Some(&r.api_key)).await.unwrap();
        assert_eq!(p.create_seal(&admin, create()).await.unwrap_err(), DomainError::NotVerified);
        let mut bad = create();
        bad.image_size = Some(0);
        bad.name = "x".into();
        let Err(DomainError::Validation(f)) = p.create_seal(&admin, bad).await else { panic!() };
        assert_eq!(f.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["name", "image_size"]);
    }
}
