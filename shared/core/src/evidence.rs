//! Evidence reports (出证报告): a PDF, in Chinese and English, of everything the platform knows
//! about a contract's signing: its title, the SHA-256 of every revision, the parties with their
//! verified names and USCCs, each seal (image, certificate serial and fingerprint), each signer
//! (member name, masked mobile), each signing act's TSA time and time-stamp token serial, each
//! code confirmation (time, channel, masked recipient) and the audit chain with its anchored
//! head. The report is signed with the platform's evidence seal (a KMS key with a certificate
//! from the platform CA), time-stamped by the platform TSA and archived (PAdES B-LTA: its
//! validation data, a document time stamp and that time stamp's data), so it can be checked
//! without us, offline, with only the platform root.
//!
//! The domain gathers the facts; the PDF is written by the engine (`esign_pades::report`).
//! Reports are stored (`evidence/{id}/…`) and reused while the contract, its trail's
//! head and its newest anchor are as they were when it was made; otherwise the next request
//! makes a new one. A report is made when the contract completes, and on request: making one
//! costs a dozen AWS calls (the trail, the seals' images, the revision, three KMS signatures),
//! which the signing request's budget of 10 cannot carry, so the completing signing only writes
//! an entry in the index partition [`EVIDENCE_PARTITION`] in its existing transaction, and the
//! scheduled `generate-evidence` (every minute; [`Platform::generate_due_evidence`]) makes and
//! stores the report through the same code as `GET /v1/contracts/{id}/evidence`, which then
//! finds it stored. A new anchor of the contract's trail and a renewed archive time stamp (a new
//! revision) make a stored report due again the same way, in their own writes, so the stored
//! report follows the contract without a request having to notice. Only that function and the
//! evidence route hold the evidence seal's key.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::audit::{AuditEvent, Head};
use crate::auth::Principal;
use crate::contracts::{
    ContractData, ContractStatus, contract_access_subject, contract_key, contract_subject, contract_visible_to,
};
use crate::enterprises::internal;
use crate::error::DomainError;
use crate::platform::{MemberData, Platform, member_key};
use crate::ports::{Channel, Condition, Key, Partition, Query, Record, StoreError, Write};
use crate::seals::{SealData, seal_key};
use esign_pades::report::{Block, Report};

/// A presigned download of a contract's evidence report.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceDownload {
    pub url: String,
    pub method: String,
    pub size: u64,
    pub sha256: String,
    /// When the report was made (a stored one is reused while the contract has not changed).
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// The stored report of a contract, and what it was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredEvidence {
    blob_key: String,
    size: u64,
    sha256: String,
    /// The contract record's version, the trail head's seq and the newest anchor's seq it shows.
    contract_version: u64,
    head_seq: u64,
    anchored_seq: Option<u64>,
    #[serde(with = "time::serde::rfc3339")]
    generated_at: OffsetDateTime,
}

pub(crate) fn evidence_key(id: &str) -> Key {
    Key::new(format!("CONTRACT#{id}"), "EVIDENCE")
}

// ---- Reports made when the contract completes ----

/// The index partition of contracts whose evidence report is due (sorted by when).
pub(crate) const EVIDENCE_PARTITION: &str = "EVIDENCE#due";
/// Most reports one scheduled run makes (each is three KMS signatures and a dozen reads).
pub const EVIDENCE_PER_RUN: usize = 10;
/// A contract whose report could not be made is tried again after this, doubled per failure...
const EVIDENCE_RETRY_FIRST: time::Duration = time::Duration::minutes(1);
/// ...up to this: a broken contract is retried every 6 hours and never holds up the others, which
/// are due earlier in the index.
const EVIDENCE_RETRY_MAX: time::Duration = time::Duration::hours(6);

/// A contract's entry in [`EVIDENCE_PARTITION`]: its report is due at `due`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct EvidenceDue {
    contract_id: String,
    #[serde(with = "time::serde::rfc3339")]
    due: OffsetDateTime,
    /// Failed attempts so far (each pushes `due` back: [`retry_after`]).
    #[serde(default)]
    attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
}

pub(crate) fn evidence_due_key(id: &str) -> Key {
    Key::new(format!("CONTRACT#{id}"), "EVIDENCE#due")
}

fn evidence_due_record(due: &EvidenceDue) -> Result<Record, DomainError> {
    let mut record = Record::new(evidence_due_key(&due.contract_id), serde_json::to_value(due).map_err(internal)?);
    record.index =
        Some(Key::new(EVIDENCE_PARTITION, format!("{:012}#{}", due.due.unix_timestamp().max(0), due.contract_id)));
    Ok(record)
}

/// The write that makes contract `id`'s report due at `at`: it goes in the transaction of the
/// signing that completes the contract (no call of its own).
pub(crate) fn evidence_due_write(id: &str, at: OffsetDateTime) -> Result<Write, DomainError> {
    let due = EvidenceDue { contract_id: id.to_owned(), due: at, attempts: 0, last_error: None };
    Ok(Write::Put { record: evidence_due_record(&due)?, condition: Condition::Always })
}

/// How long after its `attempts`-th failure a report is tried again: 1, 2, 4… minutes, at most
/// [`EVIDENCE_RETRY_MAX`].
fn retry_after(attempts: u32) -> time::Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    EVIDENCE_RETRY_FIRST.checked_mul(1 << doublings).map_or(EVIDENCE_RETRY_MAX, |d| d.min(EVIDENCE_RETRY_MAX))
}

/// What one run of the scheduled `generate-evidence` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EvidenceRun {
    /// Contracts whose report was made and stored now.
    pub generated: Vec<String>,
    /// Contracts whose stored report already showed them as they are (made on request first).
    pub reused: Vec<String>,
    /// Contracts whose report failed this time: they stay due, later (see [`retry_after`]).
    pub failed: Vec<String>,
}

/// China Standard Time, as the report shows every time.
fn cst(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::macros::offset!(+8));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} (UTC+8)",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// An RFC 3339 time (a signature's time-stamp) as [`cst`] shows it; as given if unreadable.
fn cst_text(t: &str) -> String {
    OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).map(cst).unwrap_or_else(|_| t.to_owned())
}

fn channel_words(c: Channel) -> &'static str {
    match c {
        Channel::Sms => "短信 SMS",
        Channel::Email => "电子邮件 email",
    }
}

fn status_words(s: ContractStatus) -> &'static str {
    match s {
        ContractStatus::Draft => "草稿 draft",
        ContractStatus::Signing => "签署中 signing",
        ContractStatus::Completed => "已完成 completed",
        ContractStatus::Expired => "已过期 expired",
    }
}

/// A code that confirmed a signature: where and when it was sent, when it was used.
struct Confirmation {
    member_id: String,
    party: String,
    sent_at: Option<OffsetDateTime>,
    channel: Option<Channel>,
    to: Option<String>,
    confirmed_at: OffsetDateTime,
}

/// What a report is made of, gathered from the records.
struct Facts {
    data: ContractData,
    now: OffsetDateTime,
    initiator_name: String,
    /// Member names and masked mobiles by (enterprise, member).
    members: Vec<((String, String), (String, String))>,
    /// Per seal id: its image and its certificate's fingerprint.
    seals: Vec<(String, Option<Vec<u8>>, Option<String>)>,
    /// The verification of the newest revision.
    acts: Vec<esign_pades::SignatureReport>,
    confirmations: Vec<Confirmation>,
    events: Vec<AuditEvent>,
    chain_intact: bool,
    anchor: Option<crate::audit::Anchor>,
    evidence_serial: String,
}

impl Facts {
    fn member(&self, enterprise: &str, member: &str) -> Option<&(String, String)> {
        self.members.iter().find(|((e, m), _)| e == enterprise && m == member).map(|(_, v)| v)
    }

    fn party_name(&self, enterprise: &str) -> String {
        self.data
            .contract
            .parties
            .iter()
            .find(|p| p.enterprise_id == enterprise)
            .map_or_else(|| enterprise.to_owned(), |p| p.enterprise_name.clone())
    }

    /// The report, as blocks for the engine.
    fn report(&self) -> Report {
        let c = &self.data.contract;
        let mut b = vec![
            Block::Title("电子签约出证报告  Evidence Report".into()),
            Block::Text(
                "本报告由电子签章平台依据合同的签署记录生成，并由平台出证专用章以 PAdES 格式签署、加盖可信时间戳，\
                 可脱离平台独立验证。This report was generated by the platform from the contract's records; it is \
                 signed with the platform's evidence seal (PAdES) and time-stamped, so it can be checked without us."
                    .into(),
            ),
            Block::Heading("一、合同  Contract".into()),
            Block::field("合同标题  Title", &c.title),
            Block::mono("合同编号  Contract ID", &c.id),
            Block::field("状态  Status", status_words(c.status)),
            Block::field("发起方  Initiator", format!("{} ({})", self.initiator_name, c.initiator_id)),
            Block::field("创建时间  Created", cst(c.created_at)),
            Block::field("最后更新  Last change", cst(c.updated_at)),
            Block::field("出证时间  Report made", cst(self.now)),
            Block::Heading("二、文档修订  Revisions (SHA-256)".into()),
        ];
        for r in &c.revisions {
            let made_by = match &r.party {
                None => "原始文档  the original".to_owned(),
                Some(p) => format!("签署方 signed by: {}", self.party_name(p)),
            };
            b.push(Block::mono(format!("修订 {}  Revision {}", r.number, r.number), &r.sha256));
            b.push(Block::field("", format!("{made_by}; {} bytes; {}", r.size, cst(r.created_at))));
        }
        b.push(Block::Heading("三、签约方  Parties".into()));
        for (i, p) in c.parties.iter().enumerate() {
            b.push(Block::field(format!("签约方 {}  Party {}", i + 1, i + 1), &p.enterprise_name));
            b.push(Block::mono("统一社会信用代码  USCC", &p.uscc));
            b.push(Block::mono("企业编号  Enterprise ID", &p.enterprise_id));
            b.push(Block::field("签署状态  Signed", if p.signed { "已签署 yes" } else { "未签署 no" }));
        }
        b.push(Block::Heading("四、印章与签署  Seals and signatures".into()));
        for s in &c.signatures {
            let (image, fingerprint) = self
                .seals
                .iter()
                .find(|(id, _, _)| id == &s.seal_id)
                .map_or((None, None), |(_, image, fp)| (image.clone(), fp.clone()));
            let (signer, mobile) = self
                .member(&s.party, &s.member_id)
                .cloned()
                .unwrap_or_else(|| ("(成员已移除 member removed)".into(), "-".into()));
            let mut fields = vec![
                ("签约方  Party".to_owned(), s.enterprise_name.clone(), false),
                ("印章  Seal".to_owned(), format!("{} ({})", s.seal_name, s.seal_id), false),
                ("证书序列号  Certificate serial".to_owned(), s.certificate_serial.clone(), true),
                ("证书指纹  Certificate SHA-256".to_owned(), fingerprint.unwrap_or_else(|| "-".into()), true),
                ("签署人  Signer".to_owned(), format!("{signer} ({})", s.member_id), false),
                ("手机  Mobile".to_owned(), mobile, false),
                ("修订  Revision".to_owned(), s.revision.to_string(), false),
            ];
            let serials: Vec<String> = if s.certificate_serials.is_empty() {
                vec![s.certificate_serial.clone()]
            } else {
                s.certificate_serials.clone()
            };
            let acts: Vec<&esign_pades::SignatureReport> = self
                .acts
                .iter()
                .filter(|a| a.signer_serial.as_ref().is_some_and(|x| serials.iter().any(|s| s.eq_ignore_ascii_case(x))))
                .collect();
            if acts.is_empty() {
                fields.push(("时间戳时间  TSA time".into(), cst_text(&s.signed_at), false));
            }
            for (n, a) in acts.iter().enumerate() {
                let which = if acts.len() > 1 { format!(" {}", n + 1) } else { String::new() };
                fields.push((
                    format!("时间戳时间{which}  TSA time"),
                    a.signing_time.as_deref().map_or_else(|| "-".into(), cst_text),
                    false,
                ));
                fields.push((
                    format!("时间戳序列号{which}  Token serial"),
                    a.timestamp_serial.clone().unwrap_or_else(|| "-".into()),
                    true,
                ));
            }
            match image {
                Some(png) => b.push(Block::Figure { png, fields }),
                None => b.extend(fields.into_iter().map(|(label, value, mono)| Block::Field { label, value, mono })),
            }
            b.push(Block::Rule);
        }
        b.push(Block::Heading("五、验证码确认  Code confirmations".into()));
        if self.confirmations.is_empty() {
            b.push(Block::Text("无  none".into()));
        }
        for k in &self.confirmations {
            let who = self.member(&k.party, &k.member_id).map_or_else(|| k.member_id.clone(), |(n, _)| n.clone());
            b.push(Block::field("签约方  Party", format!("{} — {who}", self.party_name(&k.party))));
            b.push(Block::field(
                "发送  Sent",
                format!(
                    "{}; {}; {}",
                    k.sent_at.map_or_else(|| "-".into(), cst),
                    k.channel.map_or("-", channel_words),
                    k.to.as_deref().unwrap_or("-")
                ),
            ));
            b.push(Block::field("确认时间  Confirmed", cst(k.confirmed_at)));
        }
        b.push(Block::Heading("六、审计链  Audit chain".into()));
        let head = self.events.last();
        b.push(Block::field("事件数  Events", self.events.len().to_string()));
        b.push(Block::field(
            "链完整  Chain intact",
            if self.chain_intact { "是  yes (hash chain, head and anchors)" } else { "否  NO" },
        ));
        b.push(Block::field("链头序号  Head seq", head.map_or_else(|| "0".into(), |e| e.seq.to_string())));
        b.push(Block::mono("链头哈希  Head hash", head.map_or(crate::audit::GENESIS, |e| e.hash.as_str())));
        match &self.anchor {
            Some(a) => {
                b.push(Block::field(
                    "锚定  Anchored head",
                    format!("#{} ({}, 平台时间戳 platform TSA)", a.seq, cst(a.anchored_at)),
                ));
                b.push(Block::mono("锚定哈希  Anchored hash", &a.hash));
            }
            None => b.push(Block::field(
                "锚定  Anchored head",
                "尚未锚定（平台每 20 分钟为移动的链头加盖时间戳）  not anchored yet (heads that moved are \
                 time-stamped every 20 minutes)",
            )),
        }
        b.push(Block::Rule);
        for e in &self.events {
            let actor = match &e.actor.id {
                Some(id) => format!("{:?} {id}", e.actor.kind).to_lowercase(),
                None => format!("{:?}", e.actor.kind).to_lowercase(),
            };
            b.push(Block::field(format!("#{}  {}", e.seq, cst(e.at)), format!("{}  ({actor})", e.action)));
            b.push(Block::mono("", &e.hash));
        }
        b.push(Block::Heading("七、出证  This report".into()));
        b.push(Block::mono("出证印章证书序列号  Evidence seal certificate serial", &self.evidence_serial));
        Report {
            title: format!("出证报告 Evidence report: {}", c.title),
            footer: format!("电子签约出证报告 Evidence report  {}", c.id),
            blocks: b,
        }
    }
}

impl Platform {
    /// `GET /v1/contracts/{id}/evidence`: a presigned download of the contract's evidence report
    /// (its initiator and parties), made now unless a stored one still shows the contract as it
    /// is. The download is recorded on the contract's access trail.
    pub async fn contract_evidence(&self, principal: &Principal, id: &str) -> Result<EvidenceDownload, DomainError> {
        let Principal::Member { enterprise_id, .. } = principal else {
            return Err(DomainError::NotFound("contract"));
        };
        let access = contract_access_subject(id);
        let trail = contract_subject(id);
        let keys = [contract_key(id), evidence_key(id), Head::key(&trail), Head::key(&access)];
        let [contract, stored, head, access_head]: [Option<Record>; 4] =
            self.store
                .get_many(&keys)
                .await?
                .try_into()
                .map_err(|_| DomainError::Internal("four records expected".into()))?;
        let contract = contract.ok_or(DomainError::NotFound("contract"))?;
        let version = contract.version;
        let data: ContractData = contract.decode()?;
        if !contract_visible_to(&data.contract, enterprise_id) {
            return Err(DomainError::NotFound("contract"));
        }
        if data.revision_keys.is_empty() {
            return Err(DomainError::Conflict("the contract has no signed document yet: it is still a draft".into()));
        }
        let (report, generated) = self.current_evidence(data, version, stored, head).await?;
        let now = self.clock.now();
        let presigned = self.blobs.presign_get(&report.blob_key, self.config.presign_expiry).await?;
        let mut head = Some(Head::from_record(&access, access_head)?);
        let mut recorded = false;
        for _ in 0..3 {
            let current = match head.take() {
                Some(h) => h,
                None => Head::load(self.store.as_ref(), &access).await?,
            };
            let mut writes = Vec::new();
            current.append(
                &mut writes,
                now,
                principal.actor(),
                "contract.evidence_downloaded",
                serde_json::json!({ "sha256": report.sha256, "generated": generated }),
            );
            match self.store.write(writes).await {
                Ok(()) => {
                    recorded = true;
                    break;
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if !recorded {
            return Err(DomainError::Conflict("too many downloads at once; retry".into()));
        }
        Ok(EvidenceDownload {
            url: presigned.url,
            method: presigned.method,
            size: report.size,
            sha256: report.sha256,
            generated_at: report.generated_at,
            expires_at: now + self.config.presign_expiry,
        })
    }

    /// The contract's report as it is now: the stored one while it shows the contract (version
    /// `version`), its trail's head (`head`, the head record as read) and newest anchor as they
    /// are, else a new one made and stored now (answered with `true`). What the evidence route
    /// and the scheduled `generate-evidence` both answer from.
    async fn current_evidence(
        &self,
        data: ContractData,
        version: u64,
        stored: Option<Record>,
        head: Option<Record>,
    ) -> Result<(StoredEvidence, bool), DomainError> {
        let trail = contract_subject(&data.contract.id);
        let head_seq = head_seq(&Head::from_record(&trail, head)?);
        let anchored_seq = self.newest_anchor_seq(&trail).await?;
        let stored: Option<StoredEvidence> = stored.map(|r| r.decode()).transpose()?;
        let fresh = stored
            .filter(|s| s.contract_version == version && s.head_seq == head_seq && s.anchored_seq == anchored_seq);
        Ok(match fresh {
            Some(s) => (s, false),
            None => (self.make_evidence(data, version).await?, true),
        })
    }

    /// The scheduled `generate-evidence`: makes and stores the evidence report of every contract
    /// whose report is due (completed since the last run; oldest first, at most
    /// [`EVIDENCE_PER_RUN`] a run), through the same code as the evidence route, so a later
    /// request finds it stored. A contract's entry is deleted only once its report is stored; one
    /// whose report fails stays due, later each time ([`retry_after`]: 1, 2, 4… minutes, at most
    /// 6 hours), so it never holds up the contracts behind it.
    pub async fn generate_due_evidence(&self) -> Result<EvidenceRun, DomainError> {
        let now = self.clock.now();
        let page = self
            .store
            .query(&Query {
                partition: Partition::Index(EVIDENCE_PARTITION.into()),
                prefix: String::new(),
                after: None,
                limit: EVIDENCE_PER_RUN,
                descending: false,
            })
            .await?;
        let mut run = EvidenceRun::default();
        for record in page.records {
            let due: EvidenceDue = match record.decode() {
                Ok(due) => due,
                Err(e) => {
                    // Not one of ours: left where it is, for a person to look at; the rest go on.
                    tracing::error!(key = ?record.key, error = %e, "an unreadable evidence entry");
                    continue;
                }
            };
            if due.due > now {
                break;
            }
            let id = due.contract_id.clone();
            match self.due_evidence_of(&id).await {
                Ok(made) => {
                    // Stored: the entry goes (unless it was rewritten meanwhile: then it stays due).
                    let delete =
                        Write::Delete { key: record.key.clone(), condition: Condition::Version(record.version) };
                    match self.store.write(vec![delete]).await {
                        Ok(()) | Err(StoreError::Conflict) => {}
                        Err(e) => return Err(e.into()),
                    }
                    match made {
                        Some(true) => run.generated.push(id),
                        Some(false) => run.reused.push(id),
                        None => {}
                    }
                }
                Err(e) => {
                    let attempts = due.attempts.saturating_add(1);
                    tracing::warn!(contract_id = %id, attempts, error = %e, "evidence report not made; tried again later");
                    let later = EvidenceDue {
                        due: now + retry_after(attempts),
                        attempts,
                        last_error: Some(e.to_string().chars().take(300).collect()),
                        ..due
                    };
                    let rewrite = Write::replace(evidence_due_record(&later)?, record.version);
                    match self.store.write(vec![rewrite]).await {
                        Ok(()) | Err(StoreError::Conflict) => {}
                        Err(e) => return Err(e.into()),
                    }
                    run.failed.push(id);
                }
            }
        }
        Ok(run)
    }

    /// Makes contract `id`'s report unless a stored one is current; answers whether it made one
    /// (`None`: the contract is gone, nothing to report).
    async fn due_evidence_of(&self, id: &str) -> Result<Option<bool>, DomainError> {
        let keys = [contract_key(id), evidence_key(id), Head::key(&contract_subject(id))];
        let [contract, stored, head]: [Option<Record>; 3] = self
            .store
            .get_many(&keys)
            .await?
            .try_into()
            .map_err(|_| DomainError::Internal("three records expected".into()))?;
        let Some(contract) = contract else { return Ok(None) };
        let version = contract.version;
        let data: ContractData = contract.decode()?;
        if data.revision_keys.is_empty() {
            return Err(DomainError::Conflict("the contract has no signed document".into()));
        }
        Ok(Some(self.current_evidence(data, version, stored, head).await?.1))
    }

    /// The seq of the newest anchor of `subject`'s trail, if any (one query).
    async fn newest_anchor_seq(&self, subject: &str) -> Result<Option<u64>, DomainError> {
        let page = self
            .store
            .query(&Query {
                partition: Partition::Table(format!("AUDIT#{subject}")),
                prefix: "ANCHOR#".into(),
                after: None,
                limit: 1,
                descending: true,
            })
            .await?;
        Ok(page.records.first().map(|r| r.decode::<crate::audit::Anchor>()).transpose()?.map(|a| a.seq))
    }

    /// Gathers the facts, writes, signs and stores a new report of the contract (`version`: the
    /// contract record's version as read).
    async fn make_evidence(&self, data: ContractData, version: u64) -> Result<StoredEvidence, DomainError> {
        let now = self.clock.now();
        let id = data.contract.id.clone();
        let subject = contract_subject(&id);
        let (trail, chain_intact) = self.checked_trail(&subject).await?;
        let head_seq = trail.events.last().map_or(0, |e| e.seq);
        let anchor = trail.anchors.iter().max_by_key(|a| a.seq).cloned();
        // The members who signed, the seals they used and the initiator, in one read.
        let mut signers: Vec<(String, String)> =
            data.contract.signatures.iter().map(|s| (s.party.clone(), s.member_id.clone())).collect();
        signers.sort();
        signers.dedup();
        let mut seal_ids: Vec<String> = data.contract.signatures.iter().map(|s| s.seal_id.clone()).collect();
        seal_ids.sort();
        seal_ids.dedup();
        let mut keys: Vec<Key> = signers.iter().map(|(e, m)| member_key(e, m)).collect();
        keys.extend(seal_ids.iter().map(|s| seal_key(s)));
        keys.push(crate::platform::enterprise_key(&data.contract.initiator_id));
        if keys.len() > crate::ports::MAX_GET_MANY {
            return Err(DomainError::Internal("too many signers and seals for one read".into()));
        }
        let mut records = self.store.get_many(&keys).await?.into_iter();
        let mut members = Vec::new();
        for (e, m) in &signers {
            if let Some(r) = records.next().flatten() {
                let member: MemberData = r.decode()?;
                let mobile = crate::otp::mask(Channel::Sms, &member.member.mobile);
                members.push(((e.clone(), m.clone()), (member.member.name, mobile)));
            }
        }
        let mut seals = Vec::new();
        for seal_id in &seal_ids {
            let Some(r) = records.next().flatten() else {
                seals.push((seal_id.clone(), None, None));
                continue;
            };
            let seal: SealData = r.decode()?;
            let fingerprint = seal
                .seal
                .certificate
                .as_ref()
                .and_then(|c| esign_pades::cms_sig::certificate_fingerprint(c.pem.as_bytes()).ok());
            let image = match &seal.approved_image {
                Some(pinned) => Some(self.read_pinned_kept(pinned).await?),
                None => None,
            };
            seals.push((seal_id.clone(), image, fingerprint));
        }
        let initiator_name = match records.next().flatten() {
            Some(r) => {
                let e: crate::model::Enterprise = r.decode()?;
                e.verified_identity.map_or(e.name, |v| v.company_name)
            }
            None => data.contract.initiator_id.clone(),
        };
        // Each signing act's time stamp, from the newest revision.
        let latest = self.latest_revision(&data).await?;
        let anchors = self.trust_anchors().await?;
        let verified = self.pdf_work(move || esign_pades::verify_pdf_with_trust(&latest, Some(&anchors))).await?;
        let acts = verified.map_err(|e| DomainError::Internal(format!("a stored revision does not verify: {e}")))?;
        let confirmations = confirmations(&trail.events);
        // The evidence seal: its certificate's status is published like a seal's.
        let signer = self.authority.evidence_signer().await.map_err(|e| DomainError::Dependency(e.to_string()))?;
        let evidence_serial = self.ensure_evidence_status(signer.as_ref()).await?;
        let facts = Facts {
            data,
            now,
            initiator_name,
            members,
            seals,
            acts: acts.signatures,
            confirmations,
            events: trail.events,
            chain_intact,
            anchor: anchor.clone(),
            evidence_serial,
        };
        let report = facts.report();
        let font = esign_sealgen::font().map_err(|e| DomainError::Dependency(e.to_string()))?;
        let pdf = self
            .pdf_work(move || esign_pades::report::write_report(&report, font))
            .await?
            .map_err(|e| DomainError::Internal(format!("the evidence report could not be written: {e}")))?;
        let signed = self.sign_evidence(pdf, signer, now).await?;
        let sha256 = hex::encode(Sha256::digest(&signed));
        let blob_key = format!("evidence/{id}/{}.pdf", uuid::Uuid::now_v7().simple());
        let size = signed.len() as u64;
        self.blobs.put(&blob_key, signed, "application/pdf").await?;
        let stored = StoredEvidence {
            blob_key,
            size,
            sha256,
            contract_version: version,
            head_seq,
            anchored_seq: anchor.map(|a| a.seq),
            generated_at: now,
        };
        let record = Record::new(evidence_key(&id), serde_json::to_value(&stored).map_err(internal)?);
        self.store.write(vec![Write::Put { record, condition: Condition::Always }]).await?;
        tracing::info!(contract_id = %id, size, "evidence report made");
        Ok(stored)
    }

    /// Signs the report with the evidence seal and a time stamp, then adds its validation data,
    /// a document time stamp and that time stamp's validation data (PAdES B-LTA).
    async fn sign_evidence(
        &self,
        pdf: Vec<u8>,
        signer: Box<dyn esign_pades::Signer>,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, DomainError> {
        let tsa = self.timestamp_source();
        let request = esign_pades::SignRequest {
            signing_time: Some(now),
            field_name: Some("EvidenceSeal".into()),
            reason: Some("Evidence report".into()),
            location: None,
            ..Default::default()
        };
        let signed = self
            .pdf_task(esign_pades::sign_pdf(&pdf, request, signer.as_ref(), Some(tsa.as_ref())))
            .await?
            .map_err(|e| DomainError::Dependency(format!("signing the evidence report: {e}")))?;
        self.archive(signed).await
    }

    /// Makes sure the evidence seal's certificate has a status record, so that OCSP answers
    /// `good` for it (as for a seal's); answers its serial (lowercase hex).
    async fn ensure_evidence_status(&self, signer: &dyn esign_pades::Signer) -> Result<String, DomainError> {
        let cert = signer
            .certificate_chain()
            .first()
            .ok_or_else(|| DomainError::Internal("the evidence seal has no certificate".into()))?;
        let serial = hex::encode(cert.tbs_certificate.serial_number.as_bytes());
        let key = crate::revocation::cert_status_key(&serial);
        if self.store.get(&key).await?.is_none() {
            let not_after = OffsetDateTime::from_unix_timestamp(
                i64::try_from(cert.tbs_certificate.validity.not_after.to_unix_duration().as_secs()).unwrap_or(i64::MAX),
            )
            .map_err(|e| DomainError::Internal(e.to_string()))?;
            let write = crate::revocation::evidence_status_write(&serial, not_after)?;
            match self.store.write(vec![write]).await {
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(serial)
    }
}

fn head_seq(head: &Head) -> u64 {
    head.seq()
}

/// Each code that confirmed a signature, from the trail: `otp.sent` (when, how, to whom) and the
/// `contract.signed` event that used it.
fn confirmations(events: &[AuditEvent]) -> Vec<Confirmation> {
    let mut out = Vec::new();
    for e in events.iter().filter(|e| e.action == "contract.signed") {
        let Some(otp_id) = e.details.get("otp_id").and_then(|v| v.as_str()) else { continue };
        let signature = e.details.get("signature");
        let field =
            |name: &str| signature.and_then(|s| s.get(name)).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let sent = events
            .iter()
            .find(|s| s.action == "otp.sent" && s.details.get("otp_id").and_then(|v| v.as_str()) == Some(otp_id));
        out.push(Confirmation {
            member_id: field("member_id"),
            party: field("party"),
            sent_at: sent.map(|s| s.at),
            channel: sent
                .and_then(|s| s.details.get("channel"))
                .and_then(|c| serde_json::from_value::<Channel>(c.clone()).ok()),
            to: sent.and_then(|s| s.details.get("to")).and_then(|v| v.as_str()).map(str::to_owned),
            confirmed_at: e.at,
        });
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
