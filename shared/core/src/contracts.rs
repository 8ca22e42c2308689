//! Contracts: a PDF, the enterprises that must sign it (in order or in parallel), where each one's
//! seal and signing date go, and the signing itself. Every signature is one PAdES signing act
//! appended to the latest revision (every placement of the party, on whatever pages, in one
//! incremental update signed with the seal's own certificate), stored as a new object, and
//! recorded with a conditional write; a lost race re-signs on top of the winner's revision, so
//! parties signing at once both end up in the document.

use async_trait::async_trait;
use esign_pades::{PadesError, TimestampSource};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::audit::Head;
use crate::auth::Principal;
use crate::enterprises::internal;
use crate::error::{DomainError, Violations};
use crate::model::new_id;
use crate::otp::{self, CodeSent, SendCode};
use crate::placements::{EngineLayouts, check_widgets, party_layout};
use crate::platform::{MemberData, Platform, member_key, require_verified};
use crate::ports::{CaLevel, Channel, Condition, Key, Record, SealAuthority, StoreError, Write};
use crate::uploads::{UploadSpec, UploadTicket};
use crate::usage::Meter;

/// Largest contract PDF accepted.
pub const MAX_PDF_BYTES: u64 = 32 * 1024 * 1024;
/// Most parties and placements per contract.
pub const MAX_PARTIES: usize = 20;
pub const MAX_PLACEMENTS: usize = 100;
/// How the signing date is drawn: China Standard Time, ISO date.
const DATE_FORMAT: &str = "[year]-[month]-[day]";
const CHINA_OFFSET_HOURS: i8 = 8;
/// Attempts at recording a signature when other parties keep winning the race.
const SIGNING_ROUNDS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    /// Created; the document, parties and placements are being prepared.
    Draft,
    /// Opened: parties sign.
    Signing,
    /// Every party signed.
    Completed,
    /// The expiry passed before every party signed (shown, never stored).
    Expired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SigningOrder {
    /// Each party signs after the one before it.
    Sequential,
    /// Any party may sign at any time.
    Parallel,
}

/// An enterprise that must sign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Party {
    pub enterprise_id: String,
    /// The verified company name (never the registration label).
    pub enterprise_name: String,
    /// The verified USCC.
    #[serde(default)]
    pub uscc: String,
    pub signed: bool,
}

pub use crate::placements::{ContractPlacement, CrossPage, Rect, Widget};

/// A stored revision of the document: 0 is the original, each signature adds one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub number: u32,
    pub size: u64,
    pub sha256: String,
    /// The party whose signature made it (none for the original).
    pub party: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A party's signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractSignature {
    pub party: String,
    pub enterprise_name: String,
    pub member_id: String,
    pub seal_id: String,
    pub seal_name: String,
    /// The seal's certificate.
    pub certificate_serial: String,
    /// The certificate of each signing act: the seal's alone since one act per party; signatures
    /// made before (one act per page) list the seal's, then one issued per further act.
    #[serde(default)]
    pub certificate_serials: Vec<String>,
    /// The trusted time of the signature (its RFC 3161 time stamp).
    pub signed_at: String,
    /// The revision that carries it.
    pub revision: u32,
    /// Signing acts: 1 (signatures made before one act per party: one per page with placements).
    pub acts: u32,
    /// Pages (1-based) carrying its stamps (seals, dates), as the verifier read them from the
    /// signed revision.
    #[serde(default)]
    pub stamp_pages: Vec<u32>,
    /// Pages carrying a strip of its cross-page seal, in strip order.
    #[serde(default)]
    pub strip_pages: Vec<u32>,
}

/// A contract as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    pub id: String,
    pub title: String,
    pub initiator_id: String,
    pub created_by: String,
    pub status: ContractStatus,
    pub order: SigningOrder,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    pub parties: Vec<Party>,
    pub placements: Vec<ContractPlacement>,
    /// Pages of the document, once checked.
    pub page_count: Option<u32>,
    pub revisions: Vec<Revision>,
    pub signatures: Vec<ContractSignature>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The template it started from (`crate::templates`), with its roles in party order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<crate::templates::TemplateRef>,
}

/// A contract as stored: with where its files are.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ContractData {
    #[serde(flatten)]
    pub contract: Contract,
    /// The upload record of the original PDF.
    pub upload_file_id: String,
    /// Object key of each revision, by number.
    pub revision_keys: Vec<String>,
    /// What it keeps of the template it started from: placements by role, the layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<crate::templates::ContractTemplate>,
    /// The enterprises that have a listing record of it (`crate::contract_list`); none for a
    /// contract last changed before listings existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listed: Vec<String>,
    /// A completed contract's newest document time stamp and when it is due for renewal
    /// (`crate::ltv`); the contract record is then in the renewal index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<crate::ltv::ArchiveState>,
}

/// `POST /v1/contracts`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateContract {
    pub title: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Size of the PDF to upload, bytes (the upload URL accepts exactly this length).
    pub document_size: u64,
}

/// A new contract and where to upload its PDF.
#[derive(Debug, Clone, Serialize)]
pub struct ContractDraft {
    pub contract: Contract,
    pub upload: UploadTicket,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyInput {
    pub enterprise_id: String,
}

/// `PUT /v1/contracts/{id}/parties`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetParties {
    pub order: SigningOrder,
    pub parties: Vec<PartyInput>,
}

/// `PUT /v1/contracts/{id}/placements`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPlacements {
    pub placements: Vec<ContractPlacement>,
}

/// `POST /v1/contracts/{id}/sign`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignContract {
    pub seal_id: String,
    pub otp_id: String,
    pub code: crate::Secret,
}

/// Which of a contract's two trails: what was done to it (`contract`), or who fetched it
/// (`access`: downloads, kept apart so that reading never contends with signing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContractTrail {
    #[default]
    Contract,
    Access,
}

impl ContractTrail {
    /// The `trail` query value (`contract`, the default, or `access`).
    pub fn parse(value: Option<&str>) -> Result<Self, DomainError> {
        match value {
            None | Some("contract") => Ok(ContractTrail::Contract),
            Some("access") => Ok(ContractTrail::Access),
            Some(_) => Err(DomainError::invalid("trail", "invalid", "trail is contract or access")),
        }
    }
}

/// A presigned download of the latest revision.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentDownload {
    pub url: String,
    pub method: String,
    pub revision: u32,
    pub size: u64,
    pub sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

pub(crate) fn contract_key(id: &str) -> Key {
    Key::new(format!("CONTRACT#{id}"), "CONTRACT")
}

pub(crate) fn contract_access_subject(id: &str) -> String {
    format!("CONTRACT-ACCESS#{id}")
}

pub(crate) fn contract_subject(id: &str) -> String {
    format!("CONTRACT#{id}")
}

pub(crate) fn contract_record(d: &ContractData) -> Result<Record, DomainError> {
    let mut record = Record::new(contract_key(&d.contract.id), serde_json::to_value(d).map_err(internal)?);
    record.index = d.archive.as_ref().map(|a| crate::ltv::archive_index(a.due, &d.contract.id));
    Ok(record)
}

fn conflict(m: impl Into<String>) -> DomainError {
    DomainError::Conflict(m.into())
}

/// The platform's own TSA (the authority's KMS-backed time-stamp key), called in-process.
/// What one signing round reads, in one round trip ([`Platform::signing_read`]).
struct SigningRead {
    contract: crate::platform::Versioned<ContractData>,
    seal_use: crate::grants::SealUse,
    code: crate::platform::Versioned<otp::StoredCode>,
    /// Whether this month's usage record of the signer's enterprise exists.
    usage_exists: bool,
    head: Head,
    /// The issuing CA's CRL record and, unless the warm process keeps a current one, the root's:
    /// the validation data the signature embeds (B-LT), read in the same batch.
    issuing_crl: Option<Record>,
    root_crl: Option<Option<Record>>,
}

impl Platform {
    /// Reads everything a signing round checks in one round trip: the contract (visible to the
    /// caller's enterprise, else 404), the seal's use (seal, enterprise, grant), the code (for
    /// this member and contract), this month's usage record and the contract trail's head.
    async fn signing_read(
        &self,
        principal: &Principal,
        id: &str,
        input: &SignContract,
    ) -> Result<SigningRead, DomainError> {
        let Principal::Member { enterprise_id, member_id, .. } = principal else {
            return Err(DomainError::NotFound("contract"));
        };
        let now = self.clock.now();
        let seal_keys = crate::grants::SealUse::keys(&input.seal_id, enterprise_id, member_id);
        let mut keys = vec![contract_key(id)];
        keys.extend(seal_keys);
        keys.push(otp::code_key(&input.otp_id));
        keys.push(crate::usage::usage_key_at(enterprise_id, now));
        keys.push(Head::key(&contract_subject(id)));
        keys.push(crate::revocation::crl_record_key(CaLevel::Issuing));
        let root_warm = self.warm.root_crl(now + crate::ltv::CRL_MARGIN).is_some();
        if !root_warm {
            keys.push(crate::revocation::crl_record_key(CaLevel::Root));
        }
        let mut records = self.store.get_many(&keys).await?.into_iter();
        let mut next = || records.next().flatten();
        let contract = next().ok_or(DomainError::NotFound("contract"))?;
        let contract =
            crate::platform::Versioned::<ContractData> { value: contract.decode()?, version: contract.version };
        let c = &contract.value.contract;
        if !contract_visible_to(c, enterprise_id) {
            return Err(DomainError::NotFound("contract"));
        }
        let seal_records = vec![next(), next(), next()];
        let seal_use = crate::grants::SealUse::check(principal, seal_records, now)?;
        let code = next();
        let usage_exists = next().is_some();
        let head = Head::from_record(&contract_subject(id), next())?;
        let issuing_crl = next();
        let root_crl = if root_warm { None } else { Some(next()) };
        let code = code.ok_or_else(|| DomainError::invalid("otp_id", "unknown", "no such code"))?;
        let code = crate::platform::Versioned::<otp::StoredCode> { value: code.decode()?, version: code.version };
        let c = &code.value;
        if c.purpose != otp::Purpose::Signing || c.member_id != *member_id || c.contract_id != id {
            return Err(DomainError::invalid("otp_id", "unknown", "no such code for this member and contract"));
        }
        Ok(SigningRead { contract, seal_use, code, usage_exists, head, issuing_crl, root_crl })
    }
}

pub(crate) struct PlatformTsa {
    pub(crate) authority: std::sync::Arc<dyn SealAuthority>,
    /// Remembers the tokens' size across requests, so signing needs no probe token.
    pub(crate) warm: std::sync::Arc<crate::warm::Warm>,
}

#[async_trait]
impl TimestampSource for PlatformTsa {
    async fn timestamp(&self, imprint: &[u8; 32]) -> Result<Vec<u8>, PadesError> {
        let (request, nonce) = esign_pades::tsa::build_request(imprint)?;
        let response = self.authority.timestamp(&request).await.map_err(|e| PadesError::Tsa(e.to_string()))?;
        let token = esign_pades::tsa::check_response(&response, imprint, &nonce)?;
        self.warm.saw_tsa_token(token.len());
        Ok(token)
    }
    fn token_size_hint(&self) -> Option<usize> {
        self.warm.tsa_token_size()
    }
}

impl Platform {
    /// Checks `placements` against the document with the signing engine's own check (off the
    /// async workers, within the deadline); returns its page count. A damaged document is
    /// refused here, before anyone signs it.
    async fn check_against_document(&self, pdf: Vec<u8>, placements: &[ContractPlacement]) -> Result<u32, DomainError> {
        let layouts = std::sync::Arc::new(EngineLayouts::of(placements));
        let l = layouts.clone();
        let count = self.pdf_work(move || esign_pades::check_layouts(&pdf, &l.on_pages, &l.cross_pages)).await?;
        let count = count.map_err(|e| layouts.error(e))?;
        u32::try_from(count).map_err(|e| DomainError::Internal(e.to_string()))
    }
}

/// Whether `enterprise_id` initiated the contract or is one of its parties: who may see it at all.
pub(crate) fn contract_visible_to(c: &Contract, enterprise_id: &str) -> bool {
    c.initiator_id == enterprise_id || c.parties.iter().any(|p| p.enterprise_id == enterprise_id)
}

impl ContractData {
    pub(crate) fn party_index(&self, enterprise_id: &str) -> Option<usize> {
        self.contract.parties.iter().position(|p| p.enterprise_id == enterprise_id)
    }

    fn expired(&self, now: OffsetDateTime) -> bool {
        self.contract.status != ContractStatus::Completed && self.contract.expires_at.is_some_and(|t| now >= t)
    }

    /// The contract as the client sees it at `now`.
    pub(crate) fn view(&self, now: OffsetDateTime) -> Contract {
        let mut c = self.contract.clone();
        // Stored, the contract's own `template` (flattened) and this record's `template` share a
        // key, which the latter keeps: the reference is taken from it.
        if let Some(t) = &self.template {
            c.template = Some(t.reference.clone());
        }
        if self.expired(now) {
            c.status = ContractStatus::Expired;
        }
        c
    }

    /// Parties and placements may change until the first signature.
    fn editable(&self) -> Result<(), DomainError> {
        match self.contract.status {
            ContractStatus::Draft | ContractStatus::Signing if self.contract.signatures.is_empty() => Ok(()),
            _ => Err(conflict("parties and placements are frozen once anyone has signed")),
        }
    }

    /// Whether the party at `index` may sign now; the reason when not.
    fn may_sign(&self, index: usize, now: OffsetDateTime) -> Result<(), DomainError> {
        match self.contract.status {
            ContractStatus::Signing => {}
            ContractStatus::Draft => return Err(conflict("the contract is not open for signing yet")),
            ContractStatus::Completed | ContractStatus::Expired => {
                return Err(conflict("the contract is already completed"));
            }
        }
        if self.expired(now) {
            return Err(conflict("the contract has expired"));
        }
        if self.contract.parties[index].signed {
            return Err(conflict("this party has already signed"));
        }
        if self.contract.order == SigningOrder::Sequential
            && let Some(waiting) = self.contract.parties[..index].iter().find(|p| !p.signed)
        {
            return Err(conflict(format!(
                "not this party's turn: {} ({}) signs first",
                waiting.enterprise_name, waiting.enterprise_id
            )));
        }
        Ok(())
    }

    /// Every party has at least one seal placement.
    fn check_complete_placements(&self) -> Result<(), DomainError> {
        let mut v = Violations::new();
        for (i, p) in self.contract.parties.iter().enumerate() {
            let has_seal = self
                .contract
                .placements
                .iter()
                .any(|pl| pl.party == p.enterprise_id && matches!(pl.widget, Widget::Signature(_)));
            if !has_seal {
                v.add(&format!("parties[{i}]"), "no_signature_placement", "every party needs a signature placement");
            }
        }
        v.finish()
    }
}

impl Platform {
    async fn load_contract(&self, id: &str) -> Result<crate::platform::Versioned<ContractData>, DomainError> {
        self.load(&contract_key(id)).await?.ok_or(DomainError::NotFound("contract"))
    }

    /// The contract if the caller's enterprise initiated it or is a party; otherwise it does not
    /// exist for them (404).
    pub(crate) async fn visible_contract(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<(crate::platform::Versioned<ContractData>, String, String), DomainError> {
        let Principal::Member { enterprise_id, member_id, .. } = principal else {
            return Err(DomainError::NotFound("contract"));
        };
        let loaded = self.load_contract(id).await?;
        let c = &loaded.value.contract;
        if !contract_visible_to(c, enterprise_id) {
            return Err(DomainError::NotFound("contract"));
        }
        Ok((loaded, enterprise_id.clone(), member_id.clone()))
    }

    /// [`Self::visible_contract`], reading the record at `also` in the same round trip.
    pub(crate) async fn visible_contract_with(
        &self,
        principal: &Principal,
        id: &str,
        also: &Key,
    ) -> Result<(crate::platform::Versioned<ContractData>, Option<Record>), DomainError> {
        let Principal::Member { enterprise_id, .. } = principal else {
            return Err(DomainError::NotFound("contract"));
        };
        let [contract, other]: [Option<Record>; 2] = self
            .store
            .get_many(&[contract_key(id), also.clone()])
            .await?
            .try_into()
            .map_err(|_| DomainError::Internal("two records expected".into()))?;
        let contract = contract.ok_or(DomainError::NotFound("contract"))?;
        let loaded =
            crate::platform::Versioned::<ContractData> { value: contract.decode()?, version: contract.version };
        let c = &loaded.value.contract;
        if !contract_visible_to(c, enterprise_id) {
            return Err(DomainError::NotFound("contract"));
        }
        Ok((loaded, other))
    }

    /// Like [`Self::visible_contract`], for changes only the initiator may make.
    pub(crate) async fn initiated_contract(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<crate::platform::Versioned<ContractData>, DomainError> {
        let (loaded, enterprise_id, _) = self.visible_contract(principal, id).await?;
        if loaded.value.contract.initiator_id != enterprise_id {
            return Err(DomainError::Forbidden("only the initiating enterprise changes the contract".into()));
        }
        Ok(loaded)
    }

    /// Writes the contract and one audit event, conditional on the version read.
    async fn save_contract(
        &self,
        data: &mut ContractData,
        version: u64,
        principal: &Principal,
        events: &[(&str, serde_json::Value)],
        extra: Vec<Write>,
    ) -> Result<(), DomainError> {
        let head = Head::load(self.store.as_ref(), &contract_subject(&data.contract.id)).await?;
        self.save_contract_at(data, version, head, principal, events, extra).await
    }

    /// [`Self::save_contract`] with the contract trail's head as the caller read it.
    async fn save_contract_at(
        &self,
        data: &mut ContractData,
        version: u64,
        head: Head,
        principal: &Principal,
        events: &[(&str, serde_json::Value)],
        extra: Vec<Write>,
    ) -> Result<(), DomainError> {
        self.save_contract_as(data, version, head, principal.actor(), events, extra).await
    }

    /// [`Self::save_contract_at`] with the actor the trail records (the platform's own schedule).
    pub(crate) async fn save_contract_as(
        &self,
        data: &mut ContractData,
        version: u64,
        mut head: Head,
        actor: crate::audit::Actor,
        events: &[(&str, serde_json::Value)],
        mut extra: Vec<Write>,
    ) -> Result<(), DomainError> {
        extra.extend(crate::contract_list::listing_writes(data)?);
        extra.push(Write::replace(contract_record(data)?, version));
        for (action, details) in events {
            head = head.append(&mut extra, data.contract.updated_at, actor.clone(), action, details.clone()).0;
        }
        self.store.write(extra).await?;
        Ok(())
    }

    /// Creates a contract of the caller's enterprise and presigns the upload of its PDF.
    pub async fn create_contract(
        &self,
        principal: &Principal,
        input: CreateContract,
    ) -> Result<ContractDraft, DomainError> {
        let (contract, upload) = self.start_contract(principal, input, None).await?;
        let upload = upload.ok_or_else(|| DomainError::Internal("a contract without its upload".into()))?;
        Ok(ContractDraft { contract, upload })
    }

    /// Creates a contract, optionally from a template (`crate::templates`); presigns the upload
    /// of its PDF unless it takes the template's document.
    pub(crate) async fn start_contract(
        &self,
        principal: &Principal,
        input: CreateContract,
        from: Option<crate::templates::TemplateStart>,
    ) -> Result<(Contract, Option<UploadTicket>), DomainError> {
        let (enterprise_id, member_id, _) = crate::platform::own_enterprise(principal)?;
        require_verified(&self.load_enterprise(enterprise_id).await?.value)?;
        let now = self.clock.now();
        let mut v = Violations::new();
        let title = input.title.trim().to_owned();
        if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
            v.add("title", "invalid", "the title must be 1 to 200 characters, without control characters");
        }
        if input.expires_at.is_some_and(|t| t <= now) {
            v.add("expires_at", "past", "the expiry must be in the future");
        }
        if input.document_size == 0 || input.document_size > MAX_PDF_BYTES {
            v.add("document_size", "range", format!("the PDF must be 1 to {MAX_PDF_BYTES} bytes"));
        }
        v.finish()?;
        let id = new_id("ctr");
        let mut writes = Vec::new();
        let blob_key = |file: &str| format!("contracts/{id}/uploads/{file}.pdf");
        let (template, document) = from.map_or((None, None), |f| (Some(f.template), f.document));
        let (upload_file_id, upload) = match document {
            Some(bytes) => (self.copy_as_upload(enterprise_id, "contract", &blob_key, bytes, &mut writes).await?, None),
            None => {
                let ticket = self
                    .upload_ticket(
                        enterprise_id,
                        UploadSpec {
                            purpose: "contract",
                            content_type: "application/pdf",
                            size: input.document_size,
                            max_bytes: MAX_PDF_BYTES,
                            blob_key: &blob_key,
                        },
                        &mut writes,
                    )
                    .await?;
                (ticket.file_id.clone(), Some(ticket))
            }
        };
        let contract = Contract {
            id: id.clone(),
            title,
            initiator_id: enterprise_id.to_owned(),
            created_by: member_id.to_owned(),
            status: ContractStatus::Draft,
            order: SigningOrder::Sequential,
            expires_at: input.expires_at,
            parties: Vec::new(),
            placements: Vec::new(),
            page_count: None,
            revisions: Vec::new(),
            signatures: Vec::new(),
            created_at: now,
            updated_at: now,
            template: template.as_ref().map(|t| t.reference.clone()),
        };
        let mut data = ContractData {
            contract,
            upload_file_id,
            revision_keys: Vec::new(),
            template,
            listed: Vec::new(),
            archive: None,
        };
        writes.extend(crate::contract_list::listing_writes(&mut data)?);
        writes.push(Write::create(contract_record(&data)?));
        let mut details = serde_json::json!({ "title": data.contract.title, "document_size": input.document_size });
        if let Some(t) = &data.template {
            details["template_id"] = serde_json::json!(t.reference.id);
            details["template_document"] = serde_json::json!(t.same_document);
        }
        Head::empty(&contract_subject(&id)).append(&mut writes, now, principal.actor(), "contract.created", details);
        self.store.write(writes).await?;
        Ok((data.contract, upload))
    }

    /// The contract: its parties, placements, revisions and signatures (its parties and
    /// initiator only). Its audit trail is [`Self::contract_audit`]: reading a contract costs
    /// one read, however long its trail.
    pub async fn get_contract(&self, principal: &Principal, id: &str) -> Result<Contract, DomainError> {
        let (loaded, _, _) = self.visible_contract(principal, id).await?;
        Ok(loaded.value.view(self.clock.now()))
    }

    /// A page of one of the contract's trails (its parties and initiator).
    pub async fn contract_audit(
        &self,
        principal: &Principal,
        id: &str,
        trail: ContractTrail,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<crate::enterprises::AuditPage, DomainError> {
        let Principal::Member { enterprise_id, .. } = principal else {
            return Err(DomainError::NotFound("contract"));
        };
        let at = crate::trails::PageAt::parse(limit, cursor)?;
        let subject = match trail {
            ContractTrail::Contract => contract_subject(id),
            ContractTrail::Access => contract_access_subject(id),
        };
        // One query reads the trail and who may read it (kept beside it by `listing_writes`);
        // trails written before that say nothing, and the contract is asked.
        let read = crate::audit::Trail::load(self.store.as_ref(), &subject).await?;
        match &read.readers {
            Some(readers) if readers.contains(enterprise_id) => {}
            Some(_) => return Err(DomainError::NotFound("contract")),
            None => {
                self.visible_contract(principal, id).await?;
            }
        }
        self.page_of(read, at).await
    }

    /// Sets who signs, and in which order (the initiator, until the first signature).
    pub async fn set_parties(
        &self,
        principal: &Principal,
        id: &str,
        input: SetParties,
    ) -> Result<Contract, DomainError> {
        let loaded = self.initiated_contract(principal, id).await?;
        let mut data = loaded.value;
        data.editable()?;
        let mut v = Violations::new();
        if input.parties.is_empty() || input.parties.len() > MAX_PARTIES {
            v.add("parties", "count", format!("1 to {MAX_PARTIES} parties"));
        }
        let mut parties = Vec::new();
        for (i, p) in input.parties.iter().enumerate() {
            let field = format!("parties[{i}].enterprise_id");
            if input.parties[..i].iter().any(|q| q.enterprise_id == p.enterprise_id) {
                v.add(&field, "duplicate", "each enterprise is a party once");
                continue;
            }
            let enterprise = match self
                .load::<crate::model::Enterprise>(&crate::platform::enterprise_key(&p.enterprise_id))
                .await?
            {
                Some(e) => e.value,
                None => {
                    v.add(&field, "unknown", "no enterprise with this id");
                    continue;
                }
            };
            let Some(identity) = enterprise.verified_identity.clone().filter(|_| require_verified(&enterprise).is_ok())
            else {
                v.add(&field, "not_verified", "the enterprise has not passed real-name authentication");
                continue;
            };
            parties.push(Party {
                enterprise_id: enterprise.id,
                enterprise_name: identity.company_name,
                uscc: identity.uscc,
                signed: false,
            });
        }
        // A contract from a template: its placements follow the parties, role by role.
        if let Some(placements) = data.template_placements(&parties, &mut v)? {
            data.contract.placements = placements;
        }
        for (i, pl) in data.contract.placements.iter().enumerate() {
            if !input.parties.iter().any(|p| p.enterprise_id == pl.party) {
                v.add(
                    "parties",
                    "has_placements",
                    format!("placements[{i}] belongs to {}; change the placements first", pl.party),
                );
            }
        }
        v.finish()?;
        if data.contract.status == ContractStatus::Signing {
            // Every party of an open contract keeps a seal placement.
            let mut check = data.clone();
            check.contract.parties = parties.clone();
            check.check_complete_placements()?;
        }
        data.contract.parties = parties;
        data.contract.order = input.order;
        data.contract.updated_at = self.clock.now();
        let details = serde_json::json!({
            "order": input.order,
            "parties": data.contract.parties.iter().map(|p| p.enterprise_id.clone()).collect::<Vec<_>>(),
        });
        self.save_contract(&mut data, loaded.version, principal, &[("contract.parties_set", details)], vec![]).await?;
        Ok(data.view(self.clock.now()))
    }

    /// The uploaded original, checked for size (before it is read).
    pub(crate) async fn uploaded_original(&self, data: &ContractData) -> Result<Vec<u8>, DomainError> {
        Ok(self.uploaded_original_at(data).await?.1)
    }

    /// The uploaded original and the object key it is read from.
    async fn uploaded_original_at(&self, data: &ContractData) -> Result<(String, Vec<u8>), DomainError> {
        let missing = || DomainError::invalid("document", "missing", "the PDF has not been uploaded yet");
        let upload = self.load_upload(&data.upload_file_id).await?.ok_or_else(missing)?;
        let meta = self.blobs.head(&upload.blob_key).await?.ok_or_else(missing)?;
        if meta.size > MAX_PDF_BYTES {
            return Err(DomainError::invalid(
                "document",
                "too_large",
                format!("the PDF is {} bytes; at most {MAX_PDF_BYTES} are accepted", meta.size),
            ));
        }
        let bytes = self.blobs.get(&upload.blob_key).await?.ok_or_else(missing)?;
        Ok((upload.blob_key, bytes))
    }

    /// The newest revision's bytes.
    pub(crate) async fn latest_revision(&self, data: &ContractData) -> Result<Vec<u8>, DomainError> {
        let key = data.revision_keys.last().ok_or_else(|| conflict("the contract has no document yet"))?;
        self.blobs.get(key).await?.ok_or_else(|| DomainError::Internal(format!("revision {key} is missing")))
    }

    /// Sets the widgets, checked against the document's real pages (the initiator, until the
    /// first signature).
    pub async fn set_placements(
        &self,
        principal: &Principal,
        id: &str,
        input: SetPlacements,
    ) -> Result<Contract, DomainError> {
        let loaded = self.initiated_contract(principal, id).await?;
        let mut data = loaded.value;
        data.editable()?;
        let mut v = Violations::new();
        if input.placements.is_empty() || input.placements.len() > MAX_PLACEMENTS {
            v.add("placements", "count", format!("1 to {MAX_PLACEMENTS} placements"));
        }
        for (i, p) in input.placements.iter().enumerate() {
            if data.party_index(&p.party).is_none() {
                v.add(
                    &format!("placements[{i}].party"),
                    "not_a_party",
                    "set the parties first; this enterprise is not one",
                );
            }
        }
        // A party's placements, on whatever pages, are one signing act (one KMS signature, one
        // time stamp): no limit on pages beyond MAX_PLACEMENTS.
        check_widgets(&mut v, &input.placements);
        v.finish()?;
        let pdf = match data.revision_keys.first() {
            Some(_) => self.latest_revision(&data).await?,
            None => self.uploaded_original(&data).await?,
        };
        let pages = self.check_against_document(pdf, &input.placements).await?;
        data.contract.placements = input.placements;
        data.contract.page_count = Some(pages);
        if data.contract.status == ContractStatus::Signing {
            data.check_complete_placements()?;
        }
        data.contract.updated_at = self.clock.now();
        let details = serde_json::json!({ "placements": data.contract.placements.len(), "pages": pages });
        self.save_contract(&mut data, loaded.version, principal, &[("contract.placements_set", details)], vec![])
            .await?;
        Ok(data.view(self.clock.now()))
    }

    /// Opens the contract for signing: the uploaded PDF is checked (loadable, not encrypted,
    /// within the size limit, placements on its pages) and kept as revision 0.
    pub async fn open_contract(&self, principal: &Principal, id: &str) -> Result<Contract, DomainError> {
        let loaded = self.initiated_contract(principal, id).await?;
        let mut data = loaded.value;
        if data.contract.status != ContractStatus::Draft {
            return Err(conflict("the contract is already open"));
        }
        let now = self.clock.now();
        if data.expired(now) {
            return Err(conflict("the contract has expired"));
        }
        if data.contract.parties.is_empty() {
            return Err(DomainError::invalid("parties", "missing", "set the parties before opening the contract"));
        }
        data.check_complete_placements()?;
        let pdf = self.uploaded_original(&data).await?;
        self.check_template_layout(&data, &pdf).await?;
        let pages = self.check_against_document(pdf.clone(), &data.contract.placements).await?;
        let sha256 = hex::encode(Sha256::digest(&pdf));
        let size = pdf.len() as u64;
        // The original is copied to a key of ours: the upload URL cannot replace it any more.
        let key = format!("contracts/{id}/revisions/0000-{}.pdf", uuid::Uuid::now_v7().simple());
        self.blobs.put(&key, pdf, "application/pdf").await?;
        data.revision_keys.push(key);
        data.contract.revisions.push(Revision {
            number: 0,
            size,
            sha256: sha256.clone(),
            party: None,
            created_at: now,
        });
        data.contract.page_count = Some(pages);
        data.contract.status = ContractStatus::Signing;
        data.contract.updated_at = now;
        let usage = self.ensure_usage(&data.contract.initiator_id, now).await?;
        let events = [
            ("contract.uploaded", serde_json::json!({ "sha256": sha256, "size": size, "pages": pages })),
            ("contract.opened", serde_json::json!({ "parties": data.contract.parties.len() })),
        ];
        let meter = vec![Self::meter(&usage, &[(Meter::BytesStored, size as i64)])];
        self.save_contract(&mut data, loaded.version, principal, &events, meter).await?;
        Ok(data.view(now))
    }

    /// Sends the calling member a one-time code for signing this contract.
    pub async fn send_signing_code(
        &self,
        principal: &Principal,
        id: &str,
        input: SendCode,
    ) -> Result<CodeSent, DomainError> {
        let Principal::Member { enterprise_id, member_id, .. } = principal else {
            return Err(DomainError::NotFound("contract"));
        };
        let (enterprise_id, member_id) = (enterprise_id.clone(), member_id.clone());
        // The contract and the member in one read.
        let (loaded, member) =
            self.visible_contract_with(principal, id, &member_key(&enterprise_id, &member_id)).await?;
        let data = loaded.value;
        let now = self.clock.now();
        let index = data
            .party_index(&enterprise_id)
            .ok_or_else(|| DomainError::Forbidden("the caller's enterprise is not a party of this contract".into()))?;
        data.may_sign(index, now)?;
        let member: MemberData = member.ok_or(DomainError::Unauthorized)?.decode()?;
        let channel = input.channel.unwrap_or(Channel::Sms);
        // Codes go only where the member proved it receives them.
        if !member.member.confirmed(channel) {
            return Err(DomainError::ContactUnconfirmed { member_id, channel });
        }
        let to = otp::destination(&member.member, channel).to_owned();
        let otp_id = new_id("otp");
        let (code, stored) = otp::new_code(&otp_id, otp::Purpose::Signing, id, &member.member, channel, now);
        let usage_key = crate::usage::usage_key_at(&enterprise_id, now);
        let head_key = Head::key(&contract_subject(id));
        let mut usage = None;
        let mut retries = 0;
        loop {
            // The send counters, this month's usage record and the trail's head in one read.
            let (mut writes, also) = self
                .count_sends_with(&member.member, channel, &to, now, &[usage_key.clone(), head_key.clone()])
                .await?;
            let [usage_record, head_record]: [Option<Record>; 2] =
                also.try_into().map_err(|_| DomainError::Internal("two records expected".into()))?;
            let key = match &usage {
                Some(k) => k,
                None => usage.insert(self.ensure_usage_read(&enterprise_id, now, usage_record.is_some()).await?),
            };
            writes.push(Write::create(otp::code_record(&stored)?));
            writes.push(Self::meter(key, &[(Meter::CodesSent, 1)]));
            let head = Head::from_record(&contract_subject(id), head_record)?;
            head.append(
                &mut writes,
                now,
                principal.actor(),
                "otp.sent",
                serde_json::json!({ "otp_id": otp_id, "channel": channel, "to": otp::mask(channel, &to) }),
            );
            match self.store.write(writes).await {
                Ok(()) => break,
                // Another send moved a counter or the trail first: count again.
                Err(StoreError::Conflict) if retries < otp::SEND_RETRIES => retries += 1,
                Err(e) => return Err(e.into()),
            }
        }
        let notice = otp::notice(otp::Purpose::Signing, channel, &to, &code);
        if let Err(e) = self.notifier.send(&notice).await {
            let error = e.to_string();
            let usage = usage.unwrap_or(usage_key);
            if let Err(w) = self.withdraw_unsent_code(principal, id, &otp_id, channel, &usage, &error).await {
                tracing::error!(otp_id, error = %w, "could not withdraw a code whose notice failed");
            }
            return Err(DomainError::Dependency(error));
        }
        Ok(CodeSent { otp_id, channel, sent_to: otp::mask(channel, &to), expires_at: stored.expires_at })
    }

    /// A code whose notice failed never reached anyone: it must be neither usable nor billed.
    /// Its send still counts against the rate limit (a failing channel is no way around it).
    async fn withdraw_unsent_code(
        &self,
        principal: &Principal,
        contract_id: &str,
        otp_id: &str,
        channel: Channel,
        usage: &Key,
        error: &str,
    ) -> Result<(), DomainError> {
        let mut undo = vec![
            Write::Delete { key: otp::code_key(otp_id), condition: Condition::Always },
            Self::meter(usage, &[(Meter::CodesSent, -1)]),
        ];
        let head = Head::load(self.store.as_ref(), &contract_subject(contract_id)).await?;
        head.append(
            &mut undo,
            self.clock.now(),
            principal.actor(),
            "otp.send_failed",
            serde_json::json!({ "otp_id": otp_id, "channel": channel, "error": error }),
        );
        self.store.write(undo).await?;
        Ok(())
    }

    /// Records a wrong signing code on the contract's trail; a concurrent change of the trail is
    /// retried (the attempt itself is already counted on the code).
    async fn audit_failed_code(
        &self,
        principal: &Principal,
        contract_id: &str,
        otp_id: &str,
        attempts: u32,
    ) -> Result<(), DomainError> {
        let mut retries = 0;
        loop {
            let mut writes = Vec::new();
            Head::load(self.store.as_ref(), &contract_subject(contract_id)).await?.append(
                &mut writes,
                self.clock.now(),
                principal.actor(),
                "otp.failed",
                serde_json::json!({ "otp_id": otp_id, "attempts": attempts }),
            );
            match self.store.write(writes).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict) if retries < otp::SEND_RETRIES => retries += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Applies the caller's enterprise's signature with `seal_id`, confirmed by a one-time code.
    pub async fn sign_contract(
        &self,
        principal: &Principal,
        id: &str,
        input: SignContract,
    ) -> Result<Contract, DomainError> {
        let Principal::Member { enterprise_id, member_id, .. } = principal else {
            return Err(DomainError::NotFound("contract"));
        };
        let (enterprise_id, member_id) = (enterprise_id.clone(), member_id.clone());
        // One read for the whole check: contract, seal, grant, verified enterprise, code, usage
        // and trail head. The write that stores the signature is conditional on the contract,
        // seal, grant, code and head as read here.
        let read = self.signing_read(principal, id, &input).await?;
        // The code: checked, its attempt counted (atomically, at most MAX_ATTEMPTS ever), then
        // compared, once; the rounds below only re-check that it is still unused.
        {
            let now = self.clock.now();
            // A contract this party cannot sign now costs no attempt.
            let index = read.contract.value.party_index(&enterprise_id).ok_or_else(|| {
                DomainError::Forbidden("the caller's enterprise is not a party of this contract".into())
            })?;
            read.contract.value.may_sign(index, now)?;
            otp::check_usable(&read.code.value, now)?;
            let attempts = otp::count_attempt(self.store.as_ref(), &read.code.value).await?;
            if !otp::matches(&read.code.value, &input.code) {
                self.audit_failed_code(principal, id, &read.code.value.id, attempts).await?;
                return Err(otp::mismatch(attempts));
            }
        }
        let mut first = Some(read);
        for round in 0..SIGNING_ROUNDS {
            // After a lost race everything is read again: the seal or grant may have changed too.
            let read = match first.take() {
                Some(read) => read,
                None => self.signing_read(principal, id, &input).await?,
            };
            let SigningRead { contract: loaded, seal_use, code: code_read, usage_exists, head, issuing_crl, root_crl } =
                read;
            let seal_data = &seal_use.seal.value;
            let seal = &seal_data.seal;
            let (Some(key_id), Some(certificate), Some(image)) =
                (&seal_data.key_id, &seal.certificate, &seal_data.approved_image)
            else {
                return Err(conflict("the seal has no key, certificate or approved image"));
            };
            // The bytes the operator approved, never whatever an upload URL wrote since.
            let seal_png = self.read_pinned_kept(image).await?;
            let mut data = loaded.value;
            let now = self.clock.now();
            let index = data.party_index(&enterprise_id).ok_or_else(|| {
                DomainError::Forbidden("the caller's enterprise is not a party of this contract".into())
            })?;
            data.may_sign(index, now)?;
            let mut code = code_read.value;
            otp::check_unspent(&code, now)?;

            // Every placement of this party, on whatever pages, and its cross-page seal in one act
            // signed with the seal's certificate (parties are distinct enterprises, so no
            // certificate signs twice in one file, which Poppler's checker 22.12 would misread).
            let (placements, cross_page) = party_layout(&data.contract.placements, &enterprise_id);
            let mut pdf = self.latest_revision(&data).await?;
            // Signatures whose byte range reaches past this are the ones this request makes.
            let base_len = i64::try_from(pdf.len()).unwrap_or(i64::MAX);
            let tsa = self.timestamp_source();
            // The chain and the CRLs current now, which speak for the signing time (B-LT).
            let sources = self.ltv_sources(Some(issuing_crl), root_crl).await?;
            let offset = time::UtcOffset::from_hms(CHINA_OFFSET_HOURS, 0, 0)
                .map_err(|e| DomainError::Internal(e.to_string()))?;
            let before = esign_pades::verify::revision_ends(&pdf).len();
            {
                let chain = format!("{}{}", certificate.pem, certificate.chain_pem);
                let signer = self
                    .authority
                    .seal_signer(key_id, &chain)
                    .await
                    .map_err(|e| DomainError::Dependency(e.to_string()))?;
                let request = esign_pades::SignRequest {
                    placements,
                    cross_page,
                    seal_png: Some(seal_png.clone()),
                    date_format: DATE_FORMAT.into(),
                    utc_offset: offset,
                    signing_time: Some(now),
                    reason: Some(format!("Contract {id}")),
                    ..Default::default()
                };
                // The engine's work (parsing, drawing, hashing) holds no async worker, within the
                // deadline; the key service and the TSA are called in this same task.
                let update = self
                    .pdf_task(esign_pades::sign_pdf_update(&pdf, request, signer.as_ref(), Some(tsa.as_ref())))
                    .await?;
                pdf.extend_from_slice(&update.map_err(signing_error)?);
            }
            let acts = (esign_pades::verify::revision_ends(&pdf).len() - before) as u32;
            // In the same stored revision: the validation data (B-LT) and, when this signature
            // completes the contract, a document time stamp with its own (B-LTA).
            let completing = data.contract.parties.iter().enumerate().all(|(i, p)| i == index || p.signed);
            pdf = self.long_term(pdf, &sources, completing).await?;
            // Never store what does not verify, against the platform root and the configured TSA
            // roots: a time stamp from a TSA nobody trusts is refused here, not embedded.
            let anchors = self.signing_anchors().await?;
            let (report, pdf_back) =
                self.pdf_work(move || (esign_pades::verify_pdf_with_trust(&pdf, Some(&anchors)), pdf)).await?;
            pdf = pdf_back;
            let report = report.map_err(|e| DomainError::Internal(e.to_string()))?;
            let new_signatures = report
                .signatures
                .iter()
                .filter(|s| s.byte_range.len() == 4 && s.byte_range[2].saturating_add(s.byte_range[3]) > base_len);
            let (mut stamp_pages, mut strip_pages) = (Vec::new(), Vec::new());
            for s in new_signatures {
                stamp_pages.extend(&s.stamp_pages);
                strip_pages.extend(&s.strip_pages);
                if !s.intact {
                    return Err(DomainError::Internal(format!("a new signature does not verify: {:?}", s.problems)));
                }
                if s.trusted != Some(true) {
                    return Err(DomainError::Dependency(format!(
                        "a new signature does not chain to a trusted root (the time-stamp authority?): {:?}",
                        s.problems
                    )));
                }
            }
            for s in report
                .signatures
                .iter()
                .filter(|s| s.byte_range.len() == 4 && s.byte_range[2].saturating_add(s.byte_range[3]) > base_len)
            {
                if s.level != "B-LT" && s.level != "B-LTA" {
                    // An external TSA without revocation data: the report says so; signing goes on.
                    let missing = s.validation_data.as_ref().map(|v| v.missing.clone()).unwrap_or_default();
                    tracing::warn!(contract_id = id, level = %s.level, ?missing, "a new signature is not long-term");
                }
            }
            if completing {
                let stamp =
                    report.document_timestamps.last().filter(|t| t.byte_range.len() == 4 && t.byte_range[2] > base_len);
                match stamp {
                    Some(t) if t.intact && t.trusted == Some(true) => {}
                    Some(t) => {
                        return Err(DomainError::Dependency(format!(
                            "the document time stamp does not verify or chain to a trusted root: {:?}",
                            t.problems
                        )));
                    }
                    None => return Err(DomainError::Internal("the document time stamp is missing".into())),
                }
            }
            let signed_at = report.signatures.last().and_then(|s| s.signing_time.clone()).unwrap_or_default();
            let number = data.contract.revisions.len() as u32;
            let sha256 = hex::encode(Sha256::digest(&pdf));
            let size = pdf.len() as u64;
            // A completed contract's document time stamp: when it is due for renewal.
            let archive = if completing { Some(self.archive_state(&pdf).await?) } else { None };
            let key = format!("contracts/{id}/revisions/{number:04}-{}.pdf", uuid::Uuid::now_v7().simple());
            self.blobs.put(&key, pdf, "application/pdf").await?;

            data.revision_keys.push(key);
            data.contract.revisions.push(Revision {
                number,
                size,
                sha256: sha256.clone(),
                party: Some(enterprise_id.clone()),
                created_at: now,
            });
            data.contract.parties[index].signed = true;
            let signature = ContractSignature {
                party: enterprise_id.clone(),
                enterprise_name: data.contract.parties[index].enterprise_name.clone(),
                member_id: member_id.clone(),
                seal_id: seal.id.clone(),
                seal_name: seal.name.clone(),
                certificate_serial: certificate.serial.clone(),
                certificate_serials: vec![certificate.serial.clone()],
                signed_at,
                revision: number,
                acts,
                stamp_pages: {
                    stamp_pages.sort_unstable();
                    stamp_pages.dedup();
                    stamp_pages
                },
                strip_pages,
            };
            data.contract.signatures.push(signature.clone());
            let completed = data.contract.parties.iter().all(|p| p.signed);
            if completed {
                data.contract.status = ContractStatus::Completed;
                data.archive = archive;
            }
            data.contract.updated_at = now;
            code.used = true;
            let usage = self.ensure_usage_read(&enterprise_id, now, usage_exists).await?;
            let mut writes = vec![
                Write::replace(otp::code_record(&code)?, code_read.version),
                Self::meter(&usage, &[(Meter::Signatures, i64::from(acts)), (Meter::BytesStored, size as i64)]),
            ];
            writes.extend(seal_use.still_valid());
            // Webhooks: the initiator and every party hear of it.
            let mut recipients: Vec<&str> = vec![data.contract.initiator_id.as_str()];
            recipients.extend(data.contract.parties.iter().map(|p| p.enterprise_id.as_str()));
            let mut webhook_events = vec![self.record_webhook_event(
                &mut writes,
                "contract.signed",
                now,
                &recipients,
                serde_json::json!({
                    "contract_id": id,
                    "title": data.contract.title,
                    "party": signature.party,
                    "enterprise_name": signature.enterprise_name,
                    "member_id": signature.member_id,
                    "seal_id": signature.seal_id,
                    "seal_name": signature.seal_name,
                    "certificate_serial": signature.certificate_serial,
                    "certificate_serials": signature.certificate_serials,
                    "revision": number,
                    "sha256": sha256,
                    "signed_at": signature.signed_at,
                    "status": if completed { "completed" } else { "signing" },
                }),
            )?];
            if completed {
                webhook_events.push(self.record_webhook_event(
                    &mut writes,
                    "contract.completed",
                    now,
                    &recipients,
                    serde_json::json!({
                        "contract_id": id,
                        "title": data.contract.title,
                        "revision": number,
                        "sha256": sha256,
                        "parties": data.contract.parties.iter().map(|p| &p.enterprise_id).collect::<Vec<_>>(),
                    }),
                )?);
            }
            if completed {
                // Its evidence report is made by the scheduled generate-evidence, not here.
                writes.push(crate::evidence::evidence_due_write(id, now)?);
            }
            let mut events = vec![(
                "contract.signed",
                serde_json::json!({ "signature": signature, "sha256": sha256, "otp_id": code.id }),
            )];
            if completed {
                events.push(("contract.completed", serde_json::json!({ "revision": number })));
            }
            match self.save_contract_at(&mut data, loaded.version, head, principal, &events, writes).await {
                Ok(()) => {
                    self.dispatch_webhook_events(&webhook_events).await;
                    tracing::info!(contract_id = id, party = %enterprise_id, revision = number, "contract signed");
                    return Ok(data.view(now));
                }
                // Another party (or a duplicate request) won: start again from what it wrote.
                Err(DomainError::Conflict(_)) if round + 1 < SIGNING_ROUNDS => {
                    tracing::info!(contract_id = id, round, "signing lost a race; re-signing on the newer revision");
                }
                Err(e) => return Err(e),
            }
        }
        Err(conflict("the contract kept changing while signing; retry"))
    }

    /// A presigned download of the newest revision (parties and initiator); of a draft, the
    /// uploaded PDF (its initiator only).
    pub async fn contract_document(&self, principal: &Principal, id: &str) -> Result<DocumentDownload, DomainError> {
        // Downloads go to the contract's access trail, not the trail signing appends to: any
        // number of reads never makes a signer lose a race or re-sign.
        let subject = contract_access_subject(id);
        // The contract and the access trail's head in one read.
        let (loaded, head) = self.visible_contract_with(principal, id, &Head::key(&subject)).await?;
        let Principal::Member { enterprise_id, .. } = principal else {
            return Err(DomainError::NotFound("contract"));
        };
        let data = loaded.value;
        let (key, number, size, sha256, draft) = match (data.revision_keys.last(), data.contract.revisions.last()) {
            (Some(key), Some(r)) => (key.clone(), r.number, r.size, r.sha256.clone(), false),
            // A draft: its initiator reads back the PDF it uploaded, as it is now (the placement
            // editor after a reload); the parties see no document before it opens.
            _ if data.contract.initiator_id == *enterprise_id => {
                let (key, pdf) = self.uploaded_original_at(&data).await?;
                (key, 0, pdf.len() as u64, hex::encode(Sha256::digest(&pdf)), true)
            }
            _ => return Err(conflict("the contract has no document yet: the initiator opens it first")),
        };
        let now = self.clock.now();
        let presigned = self.blobs.presign_get(&key, self.config.presign_expiry).await?;
        let mut stored = false;
        let mut head = Some(Head::from_record(&subject, head)?);
        for _ in 0..3 {
            let mut writes = Vec::new();
            let current = match head.take() {
                Some(h) => h,
                None => Head::load(self.store.as_ref(), &subject).await?,
            };
            current.append(
                &mut writes,
                now,
                principal.actor(),
                "contract.downloaded",
                if draft {
                    serde_json::json!({ "revision": number, "draft": true })
                } else {
                    serde_json::json!({ "revision": number })
                },
            );
            match self.store.write(writes).await {
                Ok(()) => {
                    stored = true;
                    break;
                }
                // A racing download moved the head: append after it.
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if !stored {
            return Err(conflict("too many downloads at once; retry"));
        }
        Ok(DocumentDownload {
            url: presigned.url,
            method: presigned.method,
            revision: number,
            size,
            sha256,
            expires_at: now + self.config.presign_expiry,
        })
    }
}

impl Platform {
    /// The verification report of a contract's latest revision (its parties and initiator).
    pub async fn verify_contract(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<crate::verify::VerificationReport, DomainError> {
        let (loaded, _, _) = self.visible_contract(principal, id).await?;
        let pdf = self.latest_revision(&loaded.value).await?;
        self.verify_document(&pdf).await
    }
}

/// Engine failures while signing: outages of the key service or TSA are retryable (502).
fn signing_error(e: PadesError) -> DomainError {
    match e {
        PadesError::Damaged(_) | PadesError::Limit(_) => {
            conflict(format!("the contract's document cannot be signed: {e}"))
        }
        PadesError::Signer(m) => DomainError::Dependency(format!("the seal's key service failed: {m}")),
        PadesError::Tsa(m) => DomainError::Dependency(format!("the time-stamp authority failed: {m}")),
        PadesError::NotAllowed(m) => conflict(format!("the document does not allow another signature: {m}")),
        other => DomainError::Internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{BlobStore as _, Clock as _};
    use crate::testing::{TestPlatform, active_seal, confirm_contacts, full, sample_pdf, verified};
    use esign_pades::PlacementKind;

    struct Setup {
        t: TestPlatform,
        a: (String, Principal, String),
        b: (String, Principal, String),
        contract: String,
    }

    fn place(party: &str, kind: PlacementKind, page: u32, x: f64, y: f64) -> ContractPlacement {
        let (width, height) = if kind == PlacementKind::Signature { (120.0, 120.0) } else { (120.0, 18.0) };
        let r = Rect { page, x, y, width, height };
        let widget = if kind == PlacementKind::Signature { Widget::Signature(r) } else { Widget::SigningDate(r) };
        ContractPlacement { party: party.into(), widget }
    }

    /// Two verified enterprises with granted seals and an open contract between them.
    async fn setup(order: SigningOrder) -> Setup {
        let t = full();
        let p = &t.platform;
        let (ea, admin_a) = verified(p).await;
        let (eb, admin_b) = verified(p).await;
        confirm_contacts(&t, &admin_a).await;
        confirm_contacts(&t, &admin_b).await;
        let seal_a = active_seal(&t, &admin_a).await;
        let seal_b = active_seal(&t, &admin_b).await;
        let pdf = sample_pdf(2);
        let draft = p
            .create_contract(
                &admin_a,
                CreateContract { title: "采购合同".into(), expires_at: None, document_size: pdf.len() as u64 },
            )
            .await
            .unwrap();
        let id = draft.contract.id.clone();
        t.blobs.put(draft.upload.upload_url.trim_start_matches("memory://"), pdf, "application/pdf");
        let parties = vec![PartyInput { enterprise_id: ea.clone() }, PartyInput { enterprise_id: eb.clone() }];
        p.set_parties(&admin_a, &id, SetParties { order, parties }).await.unwrap();
        let placements = vec![
            place(&ea, PlacementKind::Signature, 1, 60.0, 600.0),
            place(&ea, PlacementKind::SigningDate, 1, 60.0, 725.0),
            place(&eb, PlacementKind::Signature, 1, 380.0, 600.0),
            place(&eb, PlacementKind::SigningDate, 1, 380.0, 725.0),
        ];
        p.set_placements(&admin_a, &id, SetPlacements { placements }).await.unwrap();
        p.open_contract(&admin_a, &id).await.unwrap();
        Setup { t, a: (ea, admin_a, seal_a), b: (eb, admin_b, seal_b), contract: id }
    }

    /// Sends a code to the member and reads it from the notifier, as the phone would.
    async fn get_code(s: &Setup, who: &Principal) -> (String, String) {
        let sent = s.t.platform.send_signing_code(who, &s.contract, SendCode::default()).await.unwrap();
        let notice = s.t.notifier.sent.lock().unwrap().last().cloned().unwrap();
        let code = notice.body.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).unwrap().to_owned();
        (sent.otp_id, code)
    }

    fn sign(seal: &str, otp: &str, code: &str) -> SignContract {
        SignContract { seal_id: seal.into(), otp_id: otp.into(), code: code.into() }
    }

    fn field_code(e: &DomainError) -> String {
        match e {
            DomainError::Validation(f) => f[0].code.clone(),
            other => format!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_contract_trail_is_read_by_its_parties_only_and_in_one_query() {
        let t = full();
        let p = &t.platform;
        let (ea, admin_a) = verified(p).await;
        let (eb, admin_b) = verified(p).await;
        let (_, admin_c) = verified(p).await;
        let id = p
            .create_contract(
                &admin_a,
                CreateContract { title: "租赁合同".into(), expires_at: None, document_size: 1000 },
            )
            .await
            .unwrap()
            .contract
            .id;
        let both = vec![PartyInput { enterprise_id: ea.clone() }, PartyInput { enterprise_id: eb.clone() }];
        p.set_parties(&admin_a, &id, SetParties { order: SigningOrder::Sequential, parties: both }).await.unwrap();
        for trail in [ContractTrail::Contract, ContractTrail::Access] {
            assert!(p.contract_audit(&admin_a, &id, trail, None, None).await.is_ok());
            assert!(p.contract_audit(&admin_b, &id, trail, None, None).await.is_ok());
            let other = p.contract_audit(&admin_c, &id, trail, None, None).await;
            assert!(matches!(other, Err(DomainError::NotFound("contract"))), "{other:?}");
        }
        // Both trails name who may read them, so the read asks nothing of the contract.
        let trail = crate::audit::Trail::load(p.store.as_ref(), &contract_subject(&id)).await.unwrap();
        assert_eq!(trail.readers.as_deref(), Some(&[ea.clone(), eb.clone()][..]));

        // B taken off the draft reads it no more.
        let only_a = vec![PartyInput { enterprise_id: ea.clone() }];
        p.set_parties(&admin_a, &id, SetParties { order: SigningOrder::Sequential, parties: only_a }).await.unwrap();
        let gone = p.contract_audit(&admin_b, &id, ContractTrail::Contract, None, None).await;
        assert!(matches!(gone, Err(DomainError::NotFound("contract"))), "{gone:?}");

        // A trail written before trails named their readers: the contract decides.
        let key = crate::audit::readers_record(&contract_subject(&id), &[]).key;
        p.store.write(vec![Write::Delete { key, condition: crate::ports::Condition::Always }]).await.unwrap();
        assert!(p.contract_audit(&admin_a, &id, ContractTrail::Contract, None, None).await.is_ok());
        let old = p.contract_audit(&admin_b, &id, ContractTrail::Contract, None, None).await;
        assert!(matches!(old, Err(DomainError::NotFound("contract"))), "{old:?}");
    }

    #[tokio::test]
    async fn signing_tells_the_initiator_and_every_party_by_webhook_and_nobody_else() {
        use crate::webhooks::CreateWebhook;
        let s = setup(SigningOrder::Sequential).await;
        let p = &s.t.platform;
        let (_, outsider) = verified(p).await;
        let hook = |url: &str| CreateWebhook {
            url: url.into(),
            event_types: vec!["contract.signed".into(), "contract.completed".into()],
            description: None,
        };
        p.create_webhook(&s.a.1, hook("https://a.example.com/h")).await.unwrap();
        p.create_webhook(&s.b.1, hook("https://b.example.com/h")).await.unwrap();
        p.create_webhook(&outsider, hook("https://c.example.com/h")).await.unwrap();
        crate::testing::drain_webhooks(&s.t).await;
        for who in [&s.a, &s.b] {
            let (otp, code) = get_code(&s, &who.1).await;
            p.sign_contract(&who.1, &s.contract, sign(&who.2, &otp, &code)).await.unwrap();
        }
        crate::testing::drain_webhooks(&s.t).await;
        let sent = s.t.sender.sent();
        let seen = |host: &str| -> Vec<serde_json::Value> {
            sent.iter().filter(|r| r.url.contains(host)).map(|r| serde_json::from_slice(&r.body).unwrap()).collect()
        };
        assert!(seen("c.example.com").is_empty(), "an enterprise outside the contract hears nothing");
        for host in ["a.example.com", "b.example.com"] {
            let events = seen(host);
            let types: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
            assert_eq!(types, ["contract.signed", "contract.signed", "contract.completed"], "{host}");
            let first = &events[0]["data"];
            assert_eq!(first["contract_id"], s.contract.as_str());
            assert_eq!(first["party"], s.a.0.as_str());
            assert_eq!(first["seal_id"], s.a.2.as_str());
            assert_eq!(first["revision"], 1);
            assert_eq!(first["status"], "signing");
            assert_eq!(events[1]["data"]["party"], s.b.0.as_str());
            assert_eq!(events[1]["data"]["revision"], 2);
            assert_eq!(events[2]["data"]["revision"], 2);
        }
    }

    /// An RFC 3161 TSA over plain HTTP on 127.0.0.1 whose CA is not the platform's; returns its
    /// URL and its root (PEM).
    fn foreign_tsa() -> (String, String) {
        use std::io::{Read as _, Write as _};
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let other = crate::memory::FakeAuthority::default();
            let chain = rt.block_on(other.ca_certificates_pem()).unwrap();
            let root = chain[..chain.find("-----END CERTIFICATE-----").unwrap() + 25].to_owned() + "\n";
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            tx.send((format!("http://{}/", listener.local_addr().unwrap()), root)).unwrap();
            for sock in listener.incoming() {
                let Ok(mut sock) = sock else { return };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let body = loop {
                    let n = sock.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        break None;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break Some(buf[end + 4..end + 4 + len].to_vec());
                    }
                };
                let Some(body) = body else { continue };
                let reply = rt.block_on(other.timestamp(&body)).unwrap();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    reply.len()
                );
                let _ = sock.write_all(head.as_bytes()).and_then(|_| sock.write_all(&reply));
            }
        });
        rx.recv().unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_time_stamp_from_a_tsa_nobody_trusts_is_never_stored() {
        let s = setup(SigningOrder::Parallel).await;
        let (url, root) = foreign_tsa();
        let mut p = s.t.platform.clone();
        p.config.tsa_url = Some(url);
        let (_, admin_a, seal_a) = &s.a;
        let (otp, code) = get_code(&s, admin_a).await;
        let e = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap_err();
        assert!(matches!(e, DomainError::Dependency(ref m) if m.contains("trusted root")), "{e:?}");
        let view = p.get_contract(admin_a, &s.contract).await.unwrap();
        assert!(view.signatures.is_empty());
        // With that TSA's root configured, the same signing goes through with the same code.
        p.config.tsa_roots_pem = Some(root);
        let signed = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap();
        assert_eq!(signed.signatures.len(), 1);
    }

    #[tokio::test]
    async fn two_parties_sign_in_turn_and_the_result_verifies() {
        let s = setup(SigningOrder::Sequential).await;
        let p = &s.t.platform;
        let (ea, admin_a, seal_a) = &s.a;
        let (_, admin_b, seal_b) = &s.b;
        // Party B waits for A.
        let early = p.send_signing_code(admin_b, &s.contract, SendCode::default()).await;
        assert!(matches!(early, Err(DomainError::Conflict(ref m)) if m.contains("turn")), "{early:?}");
        let (otp, code) = get_code(&s, admin_a).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let e = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, wrong)).await.unwrap_err();
        assert_eq!(field_code(&e), "mismatch");
        // B cannot use A's seal.
        assert!(matches!(
            p.sign_contract(admin_b, &s.contract, sign(seal_a, &otp, &code)).await,
            Err(DomainError::NotFound(_))
        ));
        let c = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap();
        assert_eq!(c.signatures.len(), 1);
        assert_eq!(c.signatures[0].acts, 1);
        assert_eq!(&c.signatures[0].party, ea);
        // The code is spent; A has signed.
        let again = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap_err();
        assert!(matches!(again, DomainError::Conflict(_)), "{again:?}");
        // Placements are frozen now.
        let frozen = p.set_placements(admin_a, &s.contract, SetPlacements { placements: c.placements.clone() }).await;
        assert!(matches!(frozen, Err(DomainError::Conflict(_))));

        // The lists of both parties say whose turn it is, written with the signature.
        use crate::contract_list::{PartyStatus, StatusFilter};
        let listed = p.list_contracts(admin_b, StatusFilter::Only(ContractStatus::Signing), None, None).await.unwrap();
        assert_eq!(listed.items[0].parties[0].status, PartyStatus::Signed);
        assert_eq!(listed.items[0].next_signer.as_ref().map(|n| &n.enterprise_id), Some(&s.b.0));

        let (otp_b, code_b) = get_code(&s, admin_b).await;
        let done = p.sign_contract(admin_b, &s.contract, sign(seal_b, &otp_b, &code_b)).await.unwrap();
        assert_eq!(done.status, ContractStatus::Completed);
        assert_eq!(done.revisions.len(), 3);
        for who in [admin_a, admin_b] {
            let listed =
                p.list_contracts(who, StatusFilter::Only(ContractStatus::Completed), None, None).await.unwrap();
            assert_eq!(listed.items.len(), 1);
            assert!(listed.items[0].parties.iter().all(|x| x.status == PartyStatus::Signed));
            assert_eq!(listed.items[0].next_signer, None);
            let signing = p.list_contracts(who, StatusFilter::Only(ContractStatus::Signing), None, None).await.unwrap();
            assert!(signing.items.is_empty(), "the index moved with the status");
        }

        let key = s.t.blobs.keys().into_iter().filter(|k| k.contains("/revisions/")).max().unwrap();
        let pdf = s.t.blobs.get(&key).await.unwrap().unwrap();
        let original =
            s.t.blobs
                .get(&s.t.blobs.keys().into_iter().find(|k| k.contains("/revisions/0000")).unwrap())
                .await
                .unwrap()
                .unwrap();
        assert!(pdf.starts_with(&original), "signing only appends");
        let report = p.verify_document(&pdf).await.unwrap();
        assert!(report.valid, "{report:?}");
        assert_eq!(report.signatures.len(), 2);
        let sealed: Vec<_> = report.signatures.iter().map(|s| s.seal.as_ref().unwrap().seal_id.clone()).collect();
        assert_eq!(sealed, [seal_a.clone(), seal_b.clone()]);
        assert!(report.signatures.iter().all(|s| s.report.time_source == "timestamp"));
        // Long-term: each act embedded its validation data, the completing one a document time
        // stamp with its own (B-LTA), all in the revision each act stored.
        assert_eq!(report.document_timestamps.len(), 1, "{report:?}");
        assert!(report.document_timestamps[0].intact && report.document_timestamps[0].validation_data_complete);
        for sig in &report.signatures {
            assert_eq!(sig.long_term.level, "B-LTA", "{:?}", sig.long_term);
            assert!(sig.long_term.validation_data_complete, "{:?}", sig.long_term);
            assert_eq!(sig.long_term.status_at_signing, esign_pades::revinfo::RevocationStatus::Good);
            assert!(sig.long_term.revoked.is_none());
        }
        let first_key = s.t.blobs.keys().into_iter().find(|k| k.contains("/revisions/0001")).unwrap();
        let first = p.verify_document(&s.t.blobs.get(&first_key).await.unwrap().unwrap()).await.unwrap();
        assert_eq!(first.signatures[0].long_term.level, "B-LT", "{:?}", first.signatures[0].long_term);
        assert!(first.document_timestamps.is_empty());

        let audit = p.contract_audit(admin_b, &s.contract, ContractTrail::Contract, None, None).await.unwrap();
        assert!(audit.chain_intact);
        let actions: Vec<_> = audit.items.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "contract.created",
                "contract.parties_set",
                "contract.placements_set",
                "contract.uploaded",
                "contract.opened",
                "otp.sent",
                "otp.failed",
                "contract.signed",
                "otp.sent",
                "contract.signed",
                "contract.completed"
            ]
        );
        let usage = p.usage(admin_a, None).await.unwrap();
        // Two codes confirmed the mobile and email, one signed.
        assert_eq!((usage.signatures, usage.codes_sent), (1, 3));
        assert!(usage.bytes_stored > original.len() as i64);
        let dl = p.contract_document(admin_b, &s.contract).await.unwrap();
        assert_eq!(dl.revision, 2);
        // An outsider learns nothing.
        let (_, outsider) = verified(p).await;
        assert!(matches!(p.get_contract(&outsider, &s.contract).await, Err(DomainError::NotFound(_))));
        assert!(matches!(p.contract_document(&outsider, &s.contract).await, Err(DomainError::NotFound(_))));
    }

    /// The archive time stamp is renewed when due (by the schedule, after the configured age),
    /// on request by an operator at any time and by a party at most hourly; a seal revoked after
    /// signing leaves its signature valid, and the report says so.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn archive_time_stamps_are_renewed_when_due_and_a_later_revocation_leaves_signatures_valid() {
        let s = setup(SigningOrder::Sequential).await;
        let p = &s.t.platform;
        for (_, admin, seal) in [&s.a, &s.b] {
            let (otp, code) = get_code(&s, admin).await;
            p.sign_contract(admin, &s.contract, sign(seal, &otp, &code)).await.unwrap();
        }
        let (_, admin_a, seal_a) = &s.a;
        // Nothing is due yet.
        assert_eq!(p.renew_archive_timestamps().await.unwrap(), crate::ltv::RenewalRun::default());
        let early = p.renew_archive_timestamp(admin_a, &s.contract).await.unwrap_err();
        assert!(matches!(early, DomainError::RateLimited { .. }), "{early:?}");
        let c = p.renew_archive_timestamp(&crate::testing::operator(), &s.contract).await.unwrap();
        assert_eq!(c.revisions.len(), 4);
        assert_eq!(c.revisions[3].party, None);
        // An hour on, a party may; past the configured age, the schedule does it.
        s.t.clock.advance(time::Duration::hours(2));
        p.refresh_crls().await.unwrap();
        assert_eq!(p.renew_archive_timestamp(admin_a, &s.contract).await.unwrap().revisions.len(), 5);
        let age = time::Duration::try_from(p.config.archive_max_age).unwrap();
        s.t.clock.advance(age + time::Duration::days(1));
        p.refresh_crls().await.unwrap();
        let run = p.renew_archive_timestamps().await.unwrap();
        assert_eq!((run.renewed, run.failed), (vec![s.contract.clone()], vec![]));
        let c = p.get_contract(admin_a, &s.contract).await.unwrap();
        assert_eq!(c.revisions.len(), 6);
        let audit = p.contract_audit(admin_a, &s.contract, ContractTrail::Contract, None, None).await.unwrap();
        assert!(audit.chain_intact);
        let renewals = audit.items.iter().filter(|e| e.action == "contract.archive_timestamped").count();
        assert_eq!(renewals, 3);
        let report = p.verify_contract(admin_a, &s.contract).await.unwrap();
        assert!(report.valid, "{report:?}");
        assert_eq!(report.document_timestamps.len(), 4);
        assert!(report.signatures.iter().all(|s| s.long_term.level == "B-LTA"), "{report:?}");

        // A's seal revoked now, long after it signed: still valid, and said so.
        p.revoke_seal(admin_a, seal_a, crate::revocation::RevocationReason::KeyCompromise).await.unwrap();
        let report = p.verify_contract(admin_a, &s.contract).await.unwrap();
        assert!(report.valid, "{report:?}");
        let lt = &report.signatures[0].long_term;
        let revoked = lt.revoked.as_ref().expect("the platform's record");
        assert!(revoked.after_signing, "{lt:?}");
        assert!(
            lt.statement.contains("after this signature was made") && lt.statement.contains("stays valid"),
            "{lt:?}"
        );
        assert!(report.signatures[1].long_term.revoked.is_none());
        // An open contract has nothing to renew.
        let draft = setup(SigningOrder::Sequential).await;
        let e = draft.t.platform.renew_archive_timestamp(&draft.a.1, &draft.contract).await.unwrap_err();
        assert!(matches!(e, DomainError::Conflict(_)), "{e:?}");
    }

    /// Without a current CRL nothing is signed: the signature could not be validated later.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn signing_needs_current_crls() {
        let s = setup(SigningOrder::Sequential).await;
        let p = &s.t.platform;
        let (_, admin_a, seal_a) = &s.a;
        s.t.clock.advance(crate::revocation::ISSUING_CRL_VALIDITY);
        let (otp, code) = get_code(&s, admin_a).await;
        let e = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap_err();
        assert!(matches!(e, DomainError::Dependency(ref m) if m.contains("CRL")), "{e:?}");
        p.refresh_crls().await.unwrap();
        p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_wrong_codes_compare_at_most_five() {
        let s = setup(SigningOrder::Parallel).await;
        let (_, admin_a, seal_a) = &s.a;
        let (otp, code) = get_code(&s, admin_a).await;
        let tasks: Vec<_> = (0..40u32)
            .map(|i| {
                let (p, who, contract, seal, otp) =
                    (s.t.platform.clone(), admin_a.clone(), s.contract.clone(), seal_a.clone(), otp.clone());
                let guess = format!("{:06}", (i * 7919 + 1) % 1_000_000);
                let guess = if guess == code { "999999".to_owned() } else { guess };
                tokio::spawn(async move { p.sign_contract(&who, &contract, sign(&seal, &otp, &guess)).await })
            })
            .collect();
        let mut compared = 0;
        for t in tasks {
            let e = t.await.unwrap().unwrap_err();
            match field_code(&e).as_str() {
                "mismatch" => compared += 1,
                "attempts_exhausted" => {}
                other => panic!("{other}: {e:?}"),
            }
        }
        assert!(compared <= otp::MAX_ATTEMPTS, "{compared} codes compared");
        let e = s.t.platform.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap_err();
        assert_eq!(field_code(&e), "attempts_exhausted");
    }

    #[tokio::test]
    async fn codes_go_only_to_confirmed_contacts_in_a_fixed_message() {
        let s = setup(SigningOrder::Parallel).await;
        let p = &s.t.platform;
        let (_, admin_a, _) = &s.a;
        let m = p.create_member(admin_a, crate::testing::new_member()).await.unwrap();
        let member = p.authenticate(Some(&m.api_key)).await.unwrap();
        for channel in [Channel::Sms, Channel::Email] {
            let e = p.send_signing_code(&member, &s.contract, SendCode { channel: Some(channel) }).await.unwrap_err();
            assert_eq!(e, DomainError::ContactUnconfirmed { member_id: m.member.id.clone(), channel });
        }
        assert!(s.t.notifier.last_to("+8613900139000").is_none(), "nothing was sent");
        // A confirmed member's message: the platform's text, not the contract's title.
        let (_, code) = get_code(&s, admin_a).await;
        let Principal::Member { member_id, enterprise_id, .. } = admin_a else { panic!("a member") };
        let to =
            p.load::<MemberData>(&member_key(enterprise_id, member_id)).await.unwrap().unwrap().value.member.mobile;
        let body = s.t.notifier.last_to(&to).unwrap().body;
        assert!(!body.contains("采购合同"), "{body}");
        assert_eq!(body, otp::notice(otp::Purpose::Signing, Channel::Sms, &to, &code).body);
    }

    #[tokio::test]
    async fn codes_expire_wear_out_and_are_rate_limited() {
        let s = setup(SigningOrder::Parallel).await;
        let p = &s.t.platform;
        let (_, admin_a, seal_a) = &s.a;
        let (otp, code) = get_code(&s, admin_a).await;
        s.t.clock.advance(otp::CODE_TTL);
        let e = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap_err();
        assert_eq!(field_code(&e), "expired");
        let (otp, code) = get_code(&s, admin_a).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..otp::MAX_ATTEMPTS {
            let e = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, wrong)).await.unwrap_err();
            assert_eq!(field_code(&e), "mismatch");
        }
        // The sixth attempt is refused even with the right code.
        let e = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap_err();
        assert_eq!(field_code(&e), "attempts_exhausted");
        // A fresh window: five sends, then no more.
        s.t.clock.advance(otp::RATE_WINDOW);
        for _ in 0..otp::MAX_SENDS_PER_WINDOW {
            p.send_signing_code(admin_a, &s.contract, SendCode::default()).await.unwrap();
        }
        let limited = p.send_signing_code(admin_a, &s.contract, SendCode::default()).await;
        assert!(matches!(limited, Err(DomainError::RateLimited { .. })), "{limited:?}");
        s.t.clock.advance(otp::RATE_WINDOW);
        p.send_signing_code(admin_a, &s.contract, SendCode { channel: Some(Channel::Email) }).await.unwrap();
        assert_eq!(s.t.notifier.sent.lock().unwrap().last().unwrap().channel, Channel::Email);
    }

    #[tokio::test]
    async fn a_party_stamping_two_pages_signs_once_with_the_seals_certificate() {
        let s = setup(SigningOrder::Sequential).await;
        let p = &s.t.platform;
        let (ea, admin_a, seal_a) = &s.a;
        let (eb, admin_b, seal_b) = &s.b;
        let placements = vec![
            place(ea, PlacementKind::SigningDate, 1, 60.0, 725.0),
            place(ea, PlacementKind::Signature, 2, 60.0, 600.0),
            place(ea, PlacementKind::SigningDate, 2, 60.0, 725.0),
            place(eb, PlacementKind::Signature, 2, 380.0, 600.0),
        ];
        p.set_placements(admin_a, &s.contract, SetPlacements { placements }).await.unwrap();
        let (otp, code) = get_code(&s, admin_a).await;
        let c = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap();
        let signed = &c.signatures[0];
        assert_eq!(signed.acts, 1, "one act whatever the pages");
        assert_eq!(signed.certificate_serials, std::slice::from_ref(&signed.certificate_serial), "the seal's own");
        let (otp, code) = get_code(&s, admin_b).await;
        p.sign_contract(admin_b, &s.contract, sign(seal_b, &otp, &code)).await.unwrap();

        let report = p.verify_contract(admin_b, &s.contract).await.unwrap();
        assert!(report.valid, "{report:?}");
        let named: Vec<_> = report.signatures.iter().map(|s| s.seal.as_ref().unwrap().seal_id.clone()).collect();
        assert_eq!(named, [seal_a.clone(), seal_b.clone()], "every act names its seal");
        let usage = p.usage(admin_a, None).await.unwrap();
        assert_eq!(usage.signatures, 1, "one signing act");
    }

    #[tokio::test]
    async fn a_code_that_could_not_be_sent_is_neither_usable_nor_billed() {
        let s = setup(SigningOrder::Parallel).await;
        let p = &s.t.platform;
        let (_, admin_a, seal_a) = &s.a;
        let codes_before = p.usage(admin_a, None).await.unwrap().codes_sent;
        s.t.notifier.fail_sends.store(true, std::sync::atomic::Ordering::SeqCst);
        let e = p.send_signing_code(admin_a, &s.contract, SendCode::default()).await.unwrap_err();
        assert!(matches!(e, DomainError::Dependency(_)), "{e:?}");
        s.t.notifier.fail_sends.store(false, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(p.usage(admin_a, None).await.unwrap().codes_sent, codes_before);
        let audit = p.contract_audit(admin_a, &s.contract, ContractTrail::Contract, None, None).await.unwrap();
        assert!(audit.chain_intact);
        let failed = audit.items.iter().find(|e| e.action == "otp.send_failed").expect("audited");
        let otp_id = failed.details["otp_id"].as_str().unwrap().to_owned();
        // The withdrawn code cannot sign, whatever the guess.
        let e = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp_id, "123456")).await.unwrap_err();
        assert_eq!(field_code(&e), "unknown");
        // A new code works as usual.
        let (otp, code) = get_code(&s, admin_a).await;
        p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap();
        assert_eq!(p.usage(admin_a, None).await.unwrap().codes_sent, codes_before + 1);
    }

    #[tokio::test]
    async fn a_key_service_failure_midway_records_nothing_and_a_retry_signs() {
        let s = setup(SigningOrder::Sequential).await;
        let p = &s.t.platform;
        let (_, admin_a, seal_a) = &s.a;
        let (otp, code) = get_code(&s, admin_a).await;
        let before = s.t.blobs.keys();
        s.t.authority.fail_signing.store(true, std::sync::atomic::Ordering::SeqCst);
        let e = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap_err();
        assert!(matches!(e, DomainError::Dependency(_)), "{e:?}");
        assert_eq!(s.t.blobs.keys(), before, "no revision stored");
        let c = p.get_contract(admin_a, &s.contract).await.unwrap();
        assert!(c.signatures.is_empty() && !c.parties[0].signed);
        // Nor does the TSA failing after KMS signed (the TSA's token size is known by now, so
        // the key service signs before the TSA is asked).
        s.t.authority.fail_signing.store(false, std::sync::atomic::Ordering::SeqCst);
        s.t.authority.fail_timestamps.store(true, std::sync::atomic::Ordering::SeqCst);
        let e = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap_err();
        assert!(matches!(e, DomainError::Dependency(ref m) if m.contains("time-stamp")), "{e:?}");
        s.t.authority.fail_timestamps.store(false, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(s.t.blobs.keys(), before);
        // S3 failing after the signatures were made leaves nothing either.
        s.t.blobs.fail_puts.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(matches!(
            p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await,
            Err(DomainError::Dependency(_))
        ));
        s.t.blobs.fail_puts.store(false, std::sync::atomic::Ordering::SeqCst);
        // The same code still works: nothing consumed it.
        let c = p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp, &code)).await.unwrap();
        assert_eq!(c.signatures.len(), 1);
    }

    #[tokio::test]
    async fn parallel_parties_signing_at_once_both_end_up_in_the_document() {
        let s = setup(SigningOrder::Parallel).await;
        let p = &s.t.platform;
        let (_, admin_a, seal_a) = &s.a;
        let (_, admin_b, seal_b) = &s.b;
        let (otp_a, code_a) = get_code(&s, admin_a).await;
        let (otp_b, code_b) = get_code(&s, admin_b).await;
        let (ra, rb) = tokio::join!(
            p.sign_contract(admin_a, &s.contract, sign(seal_a, &otp_a, &code_a)),
            p.sign_contract(admin_b, &s.contract, sign(seal_b, &otp_b, &code_b)),
        );
        ra.unwrap();
        rb.unwrap();
        let c = p.get_contract(admin_a, &s.contract).await.unwrap();
        assert_eq!(c.status, ContractStatus::Completed);
        assert_eq!(c.signatures.len(), 2);
        let dl = p.contract_document(admin_a, &s.contract).await.unwrap();
        let pdf = s.t.blobs.get(dl.url.trim_start_matches("memory://")).await.unwrap().unwrap();
        let report = p.verify_document(&pdf).await.unwrap();
        assert!(report.valid);
        assert_eq!(report.signatures.len(), 2);
    }

    fn cross(party: &str, first_page: Option<u32>, last_page: Option<u32>, y: f64) -> ContractPlacement {
        let seal = CrossPage { first_page, last_page, y, size: crate::placements::SEAL_SIZE_PT };
        ContractPlacement { party: party.into(), widget: Widget::CrossPage(seal) }
    }

    fn field_and_code(e: &DomainError) -> (String, String) {
        match e {
            DomainError::Validation(f) => (f[0].field.clone(), f[0].code.clone()),
            other => (format!("{other:?}"), String::new()),
        }
    }

    #[tokio::test]
    async fn cross_page_seals_are_checked_by_the_engine_and_drawn_in_each_partys_one_act() {
        let s = setup(SigningOrder::Parallel).await;
        let p = &s.t.platform;
        let (ea, admin_a, seal_a) = &s.a;
        let (eb, admin_b, seal_b) = &s.b;
        let with = |extra: Vec<ContractPlacement>| {
            let mut placements = vec![
                place(ea, PlacementKind::Signature, 2, 60.0, 600.0),
                place(eb, PlacementKind::Signature, 2, 300.0, 600.0),
            ];
            placements.extend(extra);
            SetPlacements { placements }
        };
        let refused =
            |extra| async { field_and_code(&p.set_placements(admin_a, &s.contract, with(extra)).await.unwrap_err()) };
        let at = |field: &str, code: &str| (field.to_owned(), code.to_owned());
        // At most one per party; at least two pages, all on the document; the seal on the page.
        assert_eq!(
            refused(vec![cross(ea, None, None, 10.0), cross(ea, None, None, 300.0)]).await,
            at("placements[3].kind", "one_per_party")
        );
        assert_eq!(refused(vec![cross(ea, Some(2), None, 10.0)]).await, at("placements[2]", "too_few_pages"));
        assert_eq!(
            refused(vec![cross(ea, Some(1), Some(3), 10.0)]).await,
            at("placements[2].last_page", "page_out_of_range")
        );
        assert_eq!(
            refused(vec![cross(ea, Some(0), None, 10.0)]).await,
            at("placements[2].first_page", "page_out_of_range")
        );
        assert_eq!(
            refused(vec![cross(ea, None, None, 10.0), cross(eb, None, None, 800.0)]).await,
            at("placements[3]", "off_page")
        );
        let c = p
            .set_placements(
                admin_a,
                &s.contract,
                with(vec![cross(ea, None, None, 100.0), cross(eb, None, None, 300.0)]),
            )
            .await
            .unwrap();
        assert_eq!(c.placements.len(), 4);

        for (admin, seal) in [(admin_a, seal_a), (admin_b, seal_b)] {
            let (otp, code) = get_code(&s, admin).await;
            p.sign_contract(admin, &s.contract, sign(seal, &otp, &code)).await.unwrap();
        }
        let c = p.get_contract(admin_b, &s.contract).await.unwrap();
        assert_eq!(c.status, ContractStatus::Completed);
        for signed in &c.signatures {
            assert_eq!(
                (signed.acts, signed.stamp_pages.as_slice(), signed.strip_pages.as_slice()),
                (1, &[2][..], &[1, 2][..])
            );
        }
        let report = p.verify_contract(admin_a, &s.contract).await.unwrap();
        assert!(report.valid, "{report:?}");
        let pages: Vec<_> =
            report.signatures.iter().map(|s| (s.report.stamp_pages.clone(), s.report.strip_pages.clone())).collect();
        assert_eq!(pages, [(vec![2], vec![1, 2]), (vec![2], vec![1, 2])]);
    }

    #[tokio::test]
    async fn an_expired_contract_takes_no_more_signatures() {
        let s = setup(SigningOrder::Parallel).await;
        let p = &s.t.platform;
        let (_, admin_a, _) = &s.a;
        let past = CreateContract { title: "过期".into(), expires_at: Some(s.t.clock.now()), document_size: 10 };
        assert!(matches!(p.create_contract(admin_a, past).await, Err(DomainError::Validation(_))));
        let soon = CreateContract {
            title: "即将过期".into(),
            expires_at: Some(s.t.clock.now() + time::Duration::hours(1)),
            document_size: 10,
        };
        let d = p.create_contract(admin_a, soon).await.unwrap();
        s.t.clock.advance(time::Duration::hours(2));
        let c = p.get_contract(admin_a, &d.contract.id).await.unwrap();
        assert_eq!(c.status, ContractStatus::Expired);
        assert!(matches!(p.open_contract(admin_a, &d.contract.id).await, Err(DomainError::Conflict(_))));
    }

    #[tokio::test]
    async fn bad_documents_and_placements_are_named() {
        let t = full();
        let p = &t.platform;
        let (ea, admin) = verified(p).await;
        let mk = |size: u64| CreateContract { title: "合同".into(), expires_at: None, document_size: size };
        assert!(matches!(p.create_contract(&admin, mk(0)).await, Err(DomainError::Validation(_))));
        assert!(matches!(p.create_contract(&admin, mk(MAX_PDF_BYTES + 1)).await, Err(DomainError::Validation(_))));
        let d = p.create_contract(&admin, mk(100)).await.unwrap();
        let id = d.contract.id;
        let parties = vec![PartyInput { enterprise_id: ea.clone() }];
        p.set_parties(&admin, &id, SetParties { order: SigningOrder::Sequential, parties }).await.unwrap();
        let one = |page, x, y| SetPlacements { placements: vec![place(&ea, PlacementKind::Signature, page, x, y)] };
        // Nothing uploaded yet.
        assert_eq!(field_code(&p.set_placements(&admin, &id, one(1, 10.0, 10.0)).await.unwrap_err()), "missing");
        let key = d.upload.upload_url.trim_start_matches("memory://").to_owned();
        t.blobs.put(&key, b"\xff\xd8\xff\xe0 a JPEG".to_vec(), "application/pdf");
        assert_eq!(field_code(&p.set_placements(&admin, &id, one(1, 10.0, 10.0)).await.unwrap_err()), "not_pdf");
        t.blobs.put(&key, sample_pdf(1), "application/pdf");
        let e = p.set_placements(&admin, &id, one(99, 10.0, 10.0)).await.unwrap_err();
        assert!(
            matches!(&e, DomainError::Validation(f) if f[0].field == "placements[0].page" && f[0].code == "page_out_of_range"),
            "{e:?}"
        );
        let e = p.set_placements(&admin, &id, one(1, 500.0, 10.0)).await.unwrap_err();
        assert_eq!(field_code(&e), "off_page");
        let e = p.set_placements(&admin, &id, one(1, -5.0, 10.0)).await.unwrap_err();
        assert_eq!(field_code(&e), "invalid_rect");
        let stranger = SetPlacements { placements: vec![place("ent_x", PlacementKind::Signature, 1, 10.0, 10.0)] };
        assert_eq!(field_code(&p.set_placements(&admin, &id, stranger).await.unwrap_err()), "not_a_party");
        // Not open without a seal placement; then open.
        assert_eq!(field_code(&p.open_contract(&admin, &id).await.unwrap_err()), "no_signature_placement");
        p.set_placements(&admin, &id, one(1, 10.0, 10.0)).await.unwrap();
        let c = p.open_contract(&admin, &id).await.unwrap();
        assert_eq!(c.status, ContractStatus::Signing);
        assert_eq!(c.page_count, Some(1));
        // An unverified enterprise is no party.
        let r = p.register_enterprise(crate::testing::registration()).await.unwrap();
        let parties = vec![PartyInput { enterprise_id: ea.clone() }, PartyInput { enterprise_id: r.enterprise.id }];
        let e = p.set_parties(&admin, &id, SetParties { order: SigningOrder::Parallel, parties }).await.unwrap_err();
        assert_eq!(field_code(&e), "not_verified");
        assert!(t.clock.now() > OffsetDateTime::UNIX_EPOCH);
    }

    #[tokio::test]
    async fn a_drafts_document_is_its_initiators_to_read_back_before_it_opens() {
        let t = full();
        let p = &t.platform;
        let (ea, admin_a) = verified(p).await;
        let (eb, admin_b) = verified(p).await;
        let pdf = sample_pdf(2);
        let mk = CreateContract { title: "草稿".into(), expires_at: None, document_size: pdf.len() as u64 };
        let d = p.create_contract(&admin_a, mk).await.unwrap();
        let id = d.contract.id.clone();
        // Not uploaded yet: said so.
        assert_eq!(field_code(&p.contract_document(&admin_a, &id).await.unwrap_err()), "missing");
        let key = d.upload.upload_url.trim_start_matches("memory://").to_owned();
        t.blobs.put(&key, pdf.clone(), "application/pdf");
        let parties = vec![PartyInput { enterprise_id: ea }, PartyInput { enterprise_id: eb }];
        p.set_parties(&admin_a, &id, SetParties { order: SigningOrder::Sequential, parties }).await.unwrap();
        // The initiator reads back what it uploaded: revision 0, its size and hash.
        let dl = p.contract_document(&admin_a, &id).await.unwrap();
        assert_eq!((dl.revision, dl.size), (0, pdf.len() as u64));
        assert_eq!(dl.sha256, hex::encode(Sha256::digest(&pdf)));
        assert_eq!(dl.url, format!("memory://{key}"));
        // A party sees no document before the contract opens.
        assert!(matches!(p.contract_document(&admin_b, &id).await, Err(DomainError::Conflict(_))));
        // The read is on the access trail, marked as a draft's.
        let trail = p.contract_audit(&admin_a, &id, ContractTrail::Access, None, None).await.unwrap();
        let read = trail.items.iter().find(|e| e.action == "contract.downloaded").unwrap();
        assert_eq!(read.details, serde_json::json!({ "revision": 0, "draft": true }));
    }
}
