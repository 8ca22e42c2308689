use super::*;
use crate::contracts::{CreateContract, PartyInput, SetParties, SetPlacements, SignContract, SigningOrder};
use crate::otp::SendCode;
use crate::testing::{TestPlatform, active_seal, confirm_contacts, full, sample_pdf, verified};

struct Setup {
    t: TestPlatform,
    a: (String, Principal, String),
    b: (String, Principal, String),
    contract: String,
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
