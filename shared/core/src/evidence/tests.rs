use super::*;
use crate::contracts::{CreateContract, PartyInput, SetParties, SetPlacements, SignContract, SigningOrder};
use crate::otp::SendCode;
use crate::ports::Clock as _;
use crate::testing::{TestPlatform, active_seal, confirm_contacts, full, sample_pdf, verified};

pub(crate) struct Setup {
    pub(crate) t: TestPlatform,
    a: (String, Principal, String),
    b: (String, Principal, String),
    pub(crate) contract: String,
}

/// A contract of A's between A and B that both have signed: completed.
pub(crate) async fn completed() -> Setup {
    let s = setup().await;
    s.t.platform.open_contract(&s.a.1, &s.contract).await.unwrap();
    sign(&s, &s.a.1, &s.a.2).await;
    sign(&s, &s.b.1, &s.b.2).await;
    s
}

/// An open contract of A's between A and B, each with an active seal.
async fn setup() -> Setup {
    let t = full();
    let p = &t.platform;
    let (ea, admin_a) = verified(p).await;
    let (eb, admin_b) = verified(p).await;
    confirm_contacts(&t, &admin_a).await;
    confirm_contacts(&t, &admin_b).await;
    let seal_a = active_seal(&t, &admin_a).await;
    let seal_b = active_seal(&t, &admin_b).await;
    let pdf = sample_pdf(1);
    let draft = p
        .create_contract(
            &admin_a,
            CreateContract {
                title: "采购合同 (证据) <Tj>".into(), expires_at: None, document_size: pdf.len() as u64
            },
        )
        .await
        .unwrap();
    let id = draft.contract.id.clone();
    t.blobs.put(draft.upload.upload_url.trim_start_matches("memory://"), pdf, "application/pdf");
    let parties = vec![PartyInput { enterprise_id: ea.clone() }, PartyInput { enterprise_id: eb.clone() }];
    p.set_parties(&admin_a, &id, SetParties { order: SigningOrder::Sequential, parties }).await.unwrap();
    let placements = serde_json::from_value(serde_json::json!([
        {"party": ea, "kind": "signature", "page": 1, "x": 60.0, "y": 600.0, "width": 120.0, "height": 120.0},
        {"party": eb, "kind": "signature", "page": 1, "x": 380.0, "y": 600.0, "width": 120.0, "height": 120.0},
    ]))
    .unwrap();
    p.set_placements(&admin_a, &id, SetPlacements { placements }).await.unwrap();
    Setup { t, a: (ea, admin_a, seal_a), b: (eb, admin_b, seal_b), contract: id }
}

async fn sign(s: &Setup, who: &Principal, seal: &str) {
    let p = &s.t.platform;
    let sent = p.send_signing_code(who, &s.contract, SendCode::default()).await.unwrap();
    let notice = s.t.notifier.sent.lock().unwrap().last().cloned().unwrap();
    let code = notice.body.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).unwrap().to_owned();
    p.sign_contract(who, &s.contract, SignContract { seal_id: seal.into(), otp_id: sent.otp_id, code: code.into() })
        .await
        .unwrap();
}

async fn stored_report(s: &Setup, d: &EvidenceDownload) -> Vec<u8> {
    use crate::ports::BlobStore as _;
    let key = d.url.trim_start_matches("memory://").to_owned();
    s.t.blobs.get(&key).await.unwrap().unwrap_or_else(|| panic!("no object at {key}"))
}

#[tokio::test]
async fn a_completed_contract_gets_a_signed_report_reused_until_the_contract_changes() {
    let s = setup().await;
    let p = &s.t.platform;
    // a draft has nothing to report yet
    assert!(matches!(p.contract_evidence(&s.a.1, &s.contract).await, Err(DomainError::Conflict(_))));
    p.open_contract(&s.a.1, &s.contract).await.unwrap();
    sign(&s, &s.a.1, &s.a.2).await;
    sign(&s, &s.b.1, &s.b.2).await;

    let first = p.contract_evidence(&s.b.1, &s.contract).await.unwrap();
    let pdf = stored_report(&s, &first).await;
    assert_eq!(hex::encode(Sha256::digest(&pdf)), first.sha256);
    assert_eq!(pdf.len() as u64, first.size);
    // signed by the evidence seal, time-stamped, chaining to the platform root
    let anchors = p.trust_anchors().await.unwrap();
    let report = esign_pades::verify_pdf_with_trust(&pdf, Some(&anchors)).unwrap();
    assert_eq!(report.signatures.len(), 1);
    let sig = &report.signatures[0];
    assert!(sig.intact && sig.trusted == Some(true), "{sig:?}");
    assert_eq!(sig.time_source, "timestamp");
    assert_eq!(sig.level, "B-LTA", "{sig:?}");
    assert_eq!(report.document_timestamps.len(), 1);
    assert!(sig.signer.as_deref().unwrap_or_default().contains("Evidence Seal"), "{sig:?}");
    // the evidence seal's certificate is answered good by OCSP
    let serial = sig.signer_serial.clone().unwrap();
    assert!(p.store.get(&crate::revocation::cert_status_key(&serial)).await.unwrap().is_some());

    // nothing changed: the same report
    let again = p.contract_evidence(&s.a.1, &s.contract).await.unwrap();
    assert_eq!((again.sha256.as_str(), again.generated_at), (first.sha256.as_str(), first.generated_at));
    // the downloads are on the access trail
    let access =
        p.contract_audit(&s.a.1, &s.contract, crate::contracts::ContractTrail::Access, None, None).await.unwrap();
    assert_eq!(access.items.iter().filter(|e| e.action == "contract.evidence_downloaded").count(), 2);

    // an anchor moves the trail's verdict: a new report shows it
    p.anchor_audit_trails().await.unwrap();
    let anchored = p.contract_evidence(&s.a.1, &s.contract).await.unwrap();
    assert_ne!(anchored.sha256, first.sha256);
}

/// The completing signing makes the report due; the scheduled run makes and stores it, and the
/// evidence route then answers that report without making another. A contract whose report
/// fails stays due, later each time, and does not hold up the others.
#[tokio::test]
async fn the_report_is_made_when_the_contract_completes_and_a_broken_one_waits_its_turn() {
    let s = setup().await;
    let p = &s.t.platform;
    p.open_contract(&s.a.1, &s.contract).await.unwrap();
    sign(&s, &s.a.1, &s.a.2).await;
    // not complete yet: nothing due
    assert_eq!(p.generate_due_evidence().await.unwrap(), EvidenceRun::default());
    sign(&s, &s.b.1, &s.b.2).await;
    let due = p.store.get(&evidence_due_key(&s.contract)).await.unwrap().expect("the completing signing's entry");
    assert_eq!(due.index.as_ref().map(|i| i.pk.as_str()), Some(EVIDENCE_PARTITION));
    // a broken contract due first: its report cannot be made (nothing signed)
    let broken = p
        .create_contract(&s.a.1, CreateContract { title: "坏的".into(), expires_at: None, document_size: 10 })
        .await
        .unwrap()
        .contract
        .id;
    let earlier = s.t.clock.now() - time::Duration::minutes(5);
    p.store.write(vec![evidence_due_write(&broken, earlier).unwrap()]).await.unwrap();

    let run = p.generate_due_evidence().await.unwrap();
    assert_eq!(run, EvidenceRun { generated: vec![s.contract.clone()], reused: vec![], failed: vec![broken.clone()] });
    assert!(p.store.get(&evidence_due_key(&s.contract)).await.unwrap().is_none(), "done: no longer due");
    let stored: StoredEvidence = p.store.get(&evidence_key(&s.contract)).await.unwrap().unwrap().decode().unwrap();
    let waiting: EvidenceDue = p.store.get(&evidence_due_key(&broken)).await.unwrap().unwrap().decode().unwrap();
    assert_eq!((waiting.attempts, waiting.due), (1, s.t.clock.now() + time::Duration::minutes(1)));
    assert!(waiting.last_error.as_deref().unwrap_or_default().contains("no signed document"), "{waiting:?}");

    // the route answers the stored report (the same object), and says it made none
    let got = p.contract_evidence(&s.a.1, &s.contract).await.unwrap();
    assert_eq!((got.sha256.as_str(), got.generated_at), (stored.sha256.as_str(), stored.generated_at));
    assert_eq!(got.url, format!("memory://{}", stored.blob_key));
    let access =
        p.contract_audit(&s.a.1, &s.contract, crate::contracts::ContractTrail::Access, None, None).await.unwrap();
    assert_eq!(access.items.last().unwrap().details["generated"], false);

    // the broken one is not due again yet; then 1, 2, 4 minutes later; never past 6 hours
    assert_eq!(p.generate_due_evidence().await.unwrap(), EvidenceRun::default());
    s.t.clock.advance(time::Duration::minutes(1));
    assert_eq!(p.generate_due_evidence().await.unwrap().failed, vec![broken.clone()]);
    let waiting: EvidenceDue = p.store.get(&evidence_due_key(&broken)).await.unwrap().unwrap().decode().unwrap();
    assert_eq!((waiting.attempts, waiting.due), (2, s.t.clock.now() + time::Duration::minutes(2)));
    assert_eq!(retry_after(3), time::Duration::minutes(4));
    assert_eq!(retry_after(40), EVIDENCE_RETRY_MAX);
}

/// A stored report shows the trail's anchored head and every revision: a new anchor or a renewed
/// archive time stamp makes it due again, so the schedule brings it up to date unasked.
#[tokio::test]
async fn anchoring_the_trail_or_renewing_the_archive_makes_the_report_due_again() {
    let s = completed().await;
    let p = &s.t.platform;
    let due = || async { p.store.get(&evidence_due_key(&s.contract)).await.unwrap().is_some() };
    assert_eq!(p.generate_due_evidence().await.unwrap().generated, vec![s.contract.clone()]);
    assert!(!due().await);

    p.anchor_audit_trails().await.unwrap();
    assert!(due().await, "the new anchor makes the stored report out of date");
    let run = p.generate_due_evidence().await.unwrap();
    assert_eq!(run.generated, vec![s.contract.clone()]);
    let stored: StoredEvidence = p.store.get(&evidence_key(&s.contract)).await.unwrap().unwrap().decode().unwrap();
    assert!(stored.anchored_seq.is_some(), "{stored:?}");
    // nothing new to anchor: nothing due
    p.anchor_audit_trails().await.unwrap();
    assert!(!due().await);

    s.t.clock.advance(time::Duration::hours(2));
    let before = p.get_contract(&s.a.1, &s.contract).await.unwrap().revisions.len();
    let renewed = p.renew_archive_timestamp(&crate::testing::operator(), &s.contract).await.unwrap();
    assert_eq!(renewed.revisions.len(), before + 1);
    assert!(due().await, "the new revision makes the stored report out of date");
    assert_eq!(p.generate_due_evidence().await.unwrap().generated, vec![s.contract.clone()]);
    let got = p.contract_evidence(&s.a.1, &s.contract).await.unwrap();
    let latest: StoredEvidence = p.store.get(&evidence_key(&s.contract)).await.unwrap().unwrap().decode().unwrap();
    assert_eq!(got.sha256, latest.sha256, "the route answers the report the schedule made");
    assert_ne!(latest.sha256, stored.sha256);
}

#[tokio::test]
async fn the_report_is_for_the_contracts_enterprises_only() {
    let s = setup().await;
    let p = &s.t.platform;
    p.open_contract(&s.a.1, &s.contract).await.unwrap();
    sign(&s, &s.a.1, &s.a.2).await;
    let (_, outsider) = verified(p).await;
    assert!(matches!(p.contract_evidence(&outsider, &s.contract).await, Err(DomainError::NotFound(_))));
    assert!(matches!(
        p.contract_evidence(&crate::testing::operator(), &s.contract).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(p.contract_evidence(&s.a.1, "ctr_missing").await, Err(DomainError::NotFound(_))));
    // a contract still being signed has its report too (the parties' progress so far)
    assert!(p.contract_evidence(&s.b.1, &s.contract).await.is_ok());
}

#[test]
fn code_confirmations_come_from_the_trail() {
    let at = |s: i64| OffsetDateTime::from_unix_timestamp(1_800_000_000 + s).unwrap();
    let event = |seq: u64, s: i64, action: &str, details: serde_json::Value| AuditEvent {
        seq,
        at: at(s),
        actor: crate::audit::Actor::member("m1"),
        action: action.into(),
        details,
        prev_hash: String::new(),
        hash: String::new(),
    };
    let events = vec![
        event(1, 0, "otp.sent", serde_json::json!({"otp_id": "otp_1", "channel": "sms", "to": "+86 138****5678"})),
        event(2, 5, "otp.sent", serde_json::json!({"otp_id": "otp_2", "channel": "email", "to": "a***@example.com"})),
        event(
            3,
            60,
            "contract.signed",
            serde_json::json!({"otp_id": "otp_2", "signature": {"party": "ent_a", "member_id": "m1"}}),
        ),
    ];
    let found = confirmations(&events);
    assert_eq!(found.len(), 1);
    let c = &found[0];
    assert_eq!((c.party.as_str(), c.member_id.as_str()), ("ent_a", "m1"));
    assert_eq!((c.sent_at, c.channel, c.to.as_deref()), (Some(at(5)), Some(Channel::Email), Some("a***@example.com")));
    assert_eq!(c.confirmed_at, at(60));
    assert_eq!(cst(at(0)), "2027-01-15 16:00:00 (UTC+8)");
}
