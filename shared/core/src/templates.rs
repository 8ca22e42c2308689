//! Contract templates: a contract's document and its widgets saved by party role (甲方, 乙方, …),
//! to start new contracts from, as DocuSign and DocuSeal users expect. A new contract takes the
//! template's own document (copied), or a new upload of the same layout (the same page count and
//! page sizes as displayed, checked when the contract opens). Its placements wait for the parties:
//! when the initiator sets them, the template's role `i` becomes the `i`-th party, and they keep
//! following the parties (a re-ordered or replaced party) until the initiator edits the placements.
//!
//! Placements are copied as opaque values (a contract placement without its `party`), whatever
//! kinds of widget contracts learn: this module never looks inside them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::audit::Head;
use crate::auth::{Principal, Role};
use crate::contracts::{ContractData, ContractPlacement, CreateContract, Party};
use crate::enterprises::internal;
use crate::error::{DomainError, Violations};
use crate::model::{Page, Upload, new_id};
use crate::platform::{Platform, enterprise_subject, own_enterprise, require_verified};
use crate::ports::{Condition, Key, Partition, Record, Write};
use crate::uploads::{UploadTicket, upload_key};

/// Most pages a template's document may have (its layout is kept page by page).
pub const MAX_TEMPLATE_PAGES: usize = 500;
/// How far a new document's page may differ from the template's, in points each way.
pub const PAGE_SIZE_TOLERANCE: f64 = 1.0;
/// The default role names, in party order.
const DEFAULT_ROLES: [&str; 10] = ["甲方", "乙方", "丙方", "丁方", "戊方", "己方", "庚方", "辛方", "壬方", "癸方"];

/// One widget of a template: the contract placement without its `party`, and the role (party
/// index, from 0) it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplatePlacement {
    pub role: usize,
    #[serde(flatten)]
    pub widget: serde_json::Map<String, serde_json::Value>,
}

/// The template's document: its hash, size and layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateDocument {
    pub sha256: String,
    pub size: u64,
    /// Each page's size as displayed, in points.
    pub pages: Vec<esign_pades::PageSize>,
}

/// A contract template as its enterprise sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub id: String,
    pub enterprise_id: String,
    pub name: String,
    /// The parties' roles, in signing order.
    pub roles: Vec<String>,
    pub placements: Vec<TemplatePlacement>,
    pub document: TemplateDocument,
    /// The contract it was saved from.
    pub source_contract_id: String,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A template as stored: with where its document is.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TemplateData {
    #[serde(flatten)]
    template: Template,
    document_key: String,
}

/// `GET /v1/templates/{id}`: the template and a short-lived link to its document.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateView {
    #[serde(flatten)]
    pub template: Template,
    pub document_url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub document_url_expires_at: OffsetDateTime,
}

/// `POST /v1/templates`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplate {
    pub name: String,
    /// A contract the caller's enterprise initiated, with its parties and placements set.
    pub contract_id: String,
    /// One name per party, in order; default 甲方, 乙方, …
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

/// `POST /v1/contracts` with a `template_id`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractFromTemplate {
    pub title: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    pub template_id: String,
    /// Take the template's own document (copied; no upload) instead of uploading one of the
    /// same layout.
    #[serde(default)]
    pub use_template_document: bool,
    /// Size of the new PDF to upload (without the template's document).
    #[serde(default)]
    pub document_size: Option<u64>,
}

/// A contract started from a template, and where to upload its PDF unless it took the
/// template's.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateContractDraft {
    pub contract: crate::contracts::Contract,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload: Option<UploadTicket>,
}

/// Which template a contract started from, as the contract shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateRef {
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
}

/// What a contract keeps of its template: the widgets by role and the layout a new document must
/// have.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ContractTemplate {
    pub reference: TemplateRef,
    pub placements: Vec<TemplatePlacement>,
    pub pages: Vec<esign_pades::PageSize>,
    /// The contract took the template's document: nothing to check at opening.
    pub same_document: bool,
}

/// How a contract starts from a template: what it keeps, and the document bytes it takes (none
/// when the client uploads one).
pub(crate) struct TemplateStart {
    pub template: ContractTemplate,
    pub document: Option<Vec<u8>>,
}

fn template_key(enterprise_id: &str, id: &str) -> Key {
    Key::new(format!("ENT#{enterprise_id}"), format!("TEMPLATE#{id}"))
}

fn template_record(d: &TemplateData) -> Result<Record, DomainError> {
    Ok(Record::new(template_key(&d.template.enterprise_id, &d.template.id), serde_json::to_value(d).map_err(internal)?))
}

fn plain_text(v: &mut Violations, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        v.add(field, "invalid", format!("1 to {max} characters, without control characters"));
    }
}

/// The roles of a template of `parties` parties: as given (checked), else the defaults.
fn roles_for(v: &mut Violations, given: Option<Vec<String>>, parties: usize) -> Vec<String> {
    let Some(roles) = given else {
        return (0..parties)
            .map(|i| DEFAULT_ROLES.get(i).map_or_else(|| format!("第{}方", i + 1), |r| (*r).to_owned()))
            .collect();
    };
    if roles.len() != parties {
        v.add("roles", "count", format!("one role per party of the contract: {parties}"));
    }
    for (i, r) in roles.iter().enumerate() {
        plain_text(v, &format!("roles[{i}]"), r, 50);
        if roles[..i].iter().any(|q| q.trim() == r.trim()) {
            v.add(&format!("roles[{i}]"), "duplicate", "each role is named once");
        }
    }
    roles.into_iter().map(|r| r.trim().to_owned()).collect()
}

/// A contract's placements by role: each without its `party`, which becomes the party's index.
fn by_role(placements: &[ContractPlacement], parties: &[Party]) -> Result<Vec<TemplatePlacement>, DomainError> {
    placements
        .iter()
        .map(|p| {
            let serde_json::Value::Object(mut widget) = serde_json::to_value(p).map_err(internal)? else {
                return Err(DomainError::Internal("a placement is not a JSON object".into()));
            };
            let party = widget.remove("party");
            let role = parties
                .iter()
                .position(|q| party.as_ref().and_then(|v| v.as_str()) == Some(q.enterprise_id.as_str()))
                .ok_or_else(|| DomainError::Internal("a placement belongs to no party".into()))?;
            Ok(TemplatePlacement { role, widget })
        })
        .collect()
}

/// The template's placements for these parties: role `i` is the `i`-th party. Roles without a
/// party have none.
fn for_parties(placements: &[TemplatePlacement], parties: &[Party]) -> Result<Vec<ContractPlacement>, DomainError> {
    placements
        .iter()
        .filter_map(|p| parties.get(p.role).map(|party| (p, party)))
        .map(|(p, party)| {
            let mut widget = p.widget.clone();
            widget.insert("party".into(), serde_json::Value::String(party.enterprise_id.clone()));
            serde_json::from_value(serde_json::Value::Object(widget)).map_err(internal)
        })
        .collect()
}

/// Where a new document's layout differs from the template's, as a 422 on `document`.
fn layout_mismatch(expected: &[esign_pades::PageSize], found: &[esign_pades::PageSize]) -> Option<DomainError> {
    let size = |s: &esign_pades::PageSize| format!("{} x {} pt", s.width, s.height);
    let message = if expected.len() != found.len() {
        format!("the template's document has {} page(s), this one {}", expected.len(), found.len())
    } else {
        let (i, (e, f)) =
            expected.iter().zip(found).enumerate().find(|(_, (e, f))| !e.matches(f, PAGE_SIZE_TOLERANCE))?;
        format!("page {} is {} as displayed; the template's is {}", i + 1, size(f), size(e))
    };
    Some(DomainError::invalid(
        "document",
        "layout_mismatch",
        format!("{message}: upload a document of the same layout"),
    ))
}

impl ContractData {
    /// The placements a contract started from a template gets for `parties` (set now), while
    /// its placements still follow the template (none yet, or the template's for the parties
    /// before); `None` when they do not (the initiator edited them: they stay as they are).
    pub(crate) fn template_placements(
        &self,
        parties: &[Party],
        v: &mut Violations,
    ) -> Result<Option<Vec<ContractPlacement>>, DomainError> {
        let Some(t) = &self.template else { return Ok(None) };
        let current = serde_json::to_value(&self.contract.placements).map_err(internal)?;
        let following = self.contract.placements.is_empty()
            || current
                == serde_json::to_value(for_parties(&t.placements, &self.contract.parties)?).map_err(internal)?;
        if !following {
            return Ok(None);
        }
        let roles = &t.reference.roles;
        if parties.len() < roles.len() {
            v.add(
                "parties",
                "template_roles",
                format!(
                    "the template has {} roles ({}): name a party for each, in order",
                    roles.len(),
                    roles.join(", ")
                ),
            );
            return Ok(None);
        }
        for_parties(&t.placements, parties).map(Some)
    }
}

impl Platform {
    /// Saves a contract the caller's enterprise initiated as a template: its original document
    /// (copied), its placements by party role, and the document's layout.
    pub async fn create_template(&self, principal: &Principal, input: CreateTemplate) -> Result<Template, DomainError> {
        let (enterprise_id, member_id, _) = own_enterprise(principal)?;
        require_verified(&self.load_enterprise(enterprise_id).await?.value)?;
        let data = self.initiated_contract(principal, &input.contract_id).await?.value;
        let mut v = Violations::new();
        plain_text(&mut v, "name", &input.name, 200);
        let parties = &data.contract.parties;
        if parties.is_empty() || data.contract.placements.is_empty() {
            v.add("contract_id", "incomplete", "set the contract's parties and placements first");
        }
        let roles = roles_for(&mut v, input.roles, parties.len());
        v.finish()?;
        // The original, never a signed revision.
        let pdf = match data.revision_keys.first() {
            Some(key) => {
                self.blobs.get(key).await?.ok_or_else(|| DomainError::Internal(format!("revision {key} is missing")))?
            }
            None => self.uploaded_original(&data).await?,
        };
        let sha256 = hex::encode(Sha256::digest(&pdf));
        let size = pdf.len() as u64;
        let (pages, pdf) = self.pdf_work(move || (esign_pades::page_sizes(&pdf, MAX_TEMPLATE_PAGES), pdf)).await?;
        let pages = pages.map_err(|e| DomainError::invalid("document", "unreadable", e.to_string()))?;
        let placements = by_role(&data.contract.placements, parties)?;
        let now = self.clock.now();
        let id = new_id("tpl");
        let document_key = format!("templates/{enterprise_id}/{id}/{}.pdf", &sha256[..16]);
        self.blobs.put(&document_key, pdf, "application/pdf").await?;
        let template = Template {
            id: id.clone(),
            enterprise_id: enterprise_id.to_owned(),
            name: input.name.trim().to_owned(),
            roles,
            placements,
            document: TemplateDocument { sha256, size, pages },
            source_contract_id: data.contract.id.clone(),
            created_by: member_id.to_owned(),
            created_at: now,
        };
        let stored = TemplateData { template, document_key };
        let mut writes = vec![Write::create(template_record(&stored)?)];
        Head::load(self.store.as_ref(), &enterprise_subject(enterprise_id)).await?.append(
            &mut writes,
            now,
            principal.actor(),
            "template.created",
            serde_json::json!({
                "template_id": id,
                "name": stored.template.name,
                "contract_id": stored.template.source_contract_id,
                "sha256": stored.template.document.sha256,
            }),
        );
        self.store.write(writes).await?;
        Ok(stored.template)
    }

    async fn load_template(&self, principal: &Principal, id: &str) -> Result<(TemplateData, u64), DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        let loaded = self.load::<TemplateData>(&template_key(enterprise_id, id)).await?;
        loaded.map(|l| (l.value, l.version)).ok_or(DomainError::NotFound("template"))
    }

    /// The caller's enterprise's templates, oldest first.
    pub async fn list_templates(
        &self,
        principal: &Principal,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Template>, DomainError> {
        let (enterprise_id, _, _) = own_enterprise(principal)?;
        let page: Page<TemplateData> =
            self.page(Partition::Table(format!("ENT#{enterprise_id}")), "TEMPLATE#", limit, cursor).await?;
        Ok(Page { items: page.items.into_iter().map(|t| t.template).collect(), next_cursor: page.next_cursor })
    }

    /// One template of the caller's enterprise, with a short-lived link to its document.
    pub async fn get_template(&self, principal: &Principal, id: &str) -> Result<TemplateView, DomainError> {
        let (data, _) = self.load_template(principal, id).await?;
        let presigned = self.blobs.presign_get(&data.document_key, self.config.presign_expiry).await?;
        Ok(TemplateView {
            template: data.template,
            document_url: presigned.url,
            document_url_expires_at: self.clock.now() + self.config.presign_expiry,
        })
    }

    /// Deletes a template (its creator or an administrator). Contracts started from it keep
    /// what they copied.
    pub async fn delete_template(&self, principal: &Principal, id: &str) -> Result<(), DomainError> {
        let (data, version) = self.load_template(principal, id).await?;
        let (enterprise_id, member_id, role) = own_enterprise(principal)?;
        if role != Role::Admin && data.template.created_by != member_id {
            return Err(DomainError::Forbidden("only its creator or an administrator deletes a template".into()));
        }
        let mut writes =
            vec![Write::Delete { key: template_key(enterprise_id, id), condition: Condition::Version(version) }];
        Head::load(self.store.as_ref(), &enterprise_subject(enterprise_id)).await?.append(
            &mut writes,
            self.clock.now(),
            principal.actor(),
            "template.deleted",
            serde_json::json!({ "template_id": id, "name": data.template.name }),
        );
        self.store.write(writes).await?;
        Ok(())
    }

    /// Starts a contract from a template of the caller's enterprise: with the template's
    /// document (copied) or an upload of the same layout; its placements wait for the parties.
    pub async fn create_contract_from_template(
        &self,
        principal: &Principal,
        input: ContractFromTemplate,
    ) -> Result<TemplateContractDraft, DomainError> {
        let (data, _) = self.load_template(principal, &input.template_id).await?;
        let t = data.template;
        let (document, document_size) = match (input.use_template_document, input.document_size) {
            (true, None) => {
                let bytes = self
                    .blobs
                    .get(&data.document_key)
                    .await?
                    .ok_or_else(|| DomainError::Internal(format!("template document {} is missing", t.id)))?;
                if hex::encode(Sha256::digest(&bytes)) != t.document.sha256 {
                    return Err(DomainError::Internal(format!("template document {} does not match its hash", t.id)));
                }
                let size = bytes.len() as u64;
                (Some(bytes), size)
            }
            (true, Some(_)) => {
                return Err(DomainError::invalid(
                    "document_size",
                    "not_allowed",
                    "the contract takes the template's document: upload none",
                ));
            }
            (false, Some(size)) => (None, size),
            (false, None) => {
                return Err(DomainError::invalid(
                    "document_size",
                    "missing",
                    "give the new document's size, or use_template_document: true",
                ));
            }
        };
        let start = TemplateStart {
            template: ContractTemplate {
                reference: TemplateRef { id: t.id, name: t.name, roles: t.roles },
                placements: t.placements,
                pages: t.document.pages,
                same_document: document.is_some(),
            },
            document,
        };
        let create = CreateContract { title: input.title, expires_at: input.expires_at, document_size };
        let (contract, upload) = self.start_contract(principal, create, Some(start)).await?;
        Ok(TemplateContractDraft { contract, upload })
    }

    /// Records `bytes` (already in hand) as an upload of the enterprise at the key `blob_key`
    /// makes of its file id, as if the client had uploaded them: the upload's record joins
    /// `writes`.
    pub(crate) async fn copy_as_upload(
        &self,
        enterprise_id: &str,
        purpose: &str,
        blob_key: &(dyn Fn(&str) -> String + Sync),
        bytes: Vec<u8>,
        writes: &mut Vec<Write>,
    ) -> Result<String, DomainError> {
        let id = new_id("file");
        let upload = Upload {
            blob_key: blob_key(&id),
            id,
            enterprise_id: enterprise_id.to_owned(),
            purpose: purpose.into(),
            content_type: "application/pdf".into(),
            declared_size: bytes.len() as u64,
            created_at: self.clock.now(),
        };
        self.blobs.put(&upload.blob_key, bytes, &upload.content_type).await?;
        writes
            .push(Write::create(Record::new(upload_key(&upload.id), serde_json::to_value(&upload).map_err(internal)?)));
        Ok(upload.id)
    }

    /// A contract from a template with a new document: the document must have the template's
    /// layout (checked when the contract opens).
    pub(crate) async fn check_template_layout(&self, data: &ContractData, pdf: &[u8]) -> Result<(), DomainError> {
        let Some(t) = data.template.as_ref().filter(|t| !t.same_document) else { return Ok(()) };
        let pdf = pdf.to_vec();
        let found = self.pdf_work(move || esign_pades::page_sizes(&pdf, MAX_TEMPLATE_PAGES + 1)).await?;
        let found = found.map_err(|e| DomainError::invalid("document", "unreadable", e.to_string()))?;
        match layout_mismatch(&t.pages, &found) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
