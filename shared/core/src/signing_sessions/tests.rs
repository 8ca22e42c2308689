use super::*;
use crate::contracts::{CreateContract, PartyInput, SetParties, SetPlacements, SigningOrder};
use crate::ports::Clock as _;
use crate::testing::{TestPlatform, full, new_member, sample_pdf, verified};

struct Setup {
    t: TestPlatform,
    a: (String, Principal),
    b: (String, Principal),
    contract: String,
}

fn id_of(p: &Principal) -> String {
    match p {
        Principal::Member { member_id, .. } => member_id.clone(),
        Principal::Operator { id } => id.clone(),
    }
}

/// An open contract of A's between A and B.
async fn setup() -> Setup {
    let mut t = full();
    t.platform.config.web_url = Some("https://esign.example.com/".into());
    let p = &t.platform;
    let (ea, admin_a) = verified(p).await;
    let (eb, admin_b) = verified(p).await;
    let pdf = sample_pdf(1);
    let draft = p
        .create_contract(
            &admin_a,
            CreateContract { title: "合同".into(), expires_at: None, document_size: pdf.len() as u64 },
        )
        .await
        .unwrap();
    t.blobs.put(draft.upload.upload_url.trim_start_matches("memory://"), pdf, "application/pdf");
    let id = draft.contract.id;
    let parties = vec![PartyInput { enterprise_id: ea.clone() }, PartyInput { enterprise_id: eb.clone() }];
    p.set_parties(&admin_a, &id, SetParties { order: SigningOrder::Parallel, parties }).await.unwrap();
    let placements = serde_json::from_value(serde_json::json!([
        {"party": ea, "kind": "signature", "page": 1, "x": 60.0, "y": 600.0, "width": 120.0, "height": 120.0},
        {"party": eb, "kind": "signature", "page": 1, "x": 380.0, "y": 600.0, "width": 120.0, "height": 120.0},
    ]))
    .unwrap();
    p.set_placements(&admin_a, &id, SetPlacements { placements }).await.unwrap();
    p.open_contract(&admin_a, &id).await.unwrap();
    Setup { t, a: (ea, admin_a), b: (eb, admin_b), contract: id }
}

fn ask(member: &str) -> CreateSigningSession {
    CreateSigningSession {
        member_id: member.into(),
        return_url: Some("https://saas.example.com/done?x=1".into()),
        parent_origin: Some("https://saas.example.com".into()),
        ttl_seconds: None,
    }
}

fn token_of(link: &SigningLink) -> String {
    link.url.split_once("#token=").unwrap().1.to_owned()
}

#[tokio::test]
async fn a_link_is_exchanged_once_for_a_bearer_scoped_to_its_contract() {
    let s = setup().await;
    let p = &s.t.platform;
    let link = p.create_signing_session(&s.b.1, &s.contract, ask(&id_of(&s.b.1))).await.unwrap();
    assert!(
        link.url.starts_with(&format!("https://esign.example.com/embed/sign/{}#token=esl_", s.contract)),
        "{}",
        link.url.expose()
    );
    assert_eq!(link.expires_at, s.t.clock.now() + time::Duration::seconds(300));
    let session = p.exchange_signing_session(ExchangeSigningSession { token: token_of(&link).into() }).await.unwrap();
    assert!(session.access_token.starts_with("ess_"));
    assert_eq!(
        (session.return_url.as_deref(), session.parent_origin.as_deref()),
        (Some("https://saas.example.com/done?x=1"), Some("https://saas.example.com"))
    );
    assert_eq!(session.expires_at, s.t.clock.now() + SESSION_LIFETIME);
    // Once only.
    let again = p.exchange_signing_session(ExchangeSigningSession { token: token_of(&link).into() }).await.unwrap_err();
    assert!(matches!(again, DomainError::Gone(_)), "{again:?}");
    // The bearer is the member, within the contract.
    let caller = p.authenticate_bearer(Some(&session.access_token)).await.unwrap();
    assert_eq!(caller.principal, s.b.1);
    let scope = caller.scope.unwrap();
    assert!(scope.permit(ScopedAction::Contract(&s.contract)).is_ok());
    assert!(scope.permit(ScopedAction::UsableSeals).is_ok());
    assert!(matches!(scope.permit(ScopedAction::Contract("ctr_other")), Err(DomainError::Forbidden(_))));
    assert!(matches!(scope.permit(ScopedAction::Other), Err(DomainError::Forbidden(_))));
    // API keys stay unscoped; unknown and malformed tokens are 401s.
    let plain = p.authenticate_bearer(Some(crate::testing::OPERATOR_KEY)).await.unwrap();
    assert!(plain.scope.is_none());
    for bad in ["ess_nope", &format!("ess_{}", "A".repeat(43))] {
        assert_eq!(p.authenticate_bearer(Some(bad)).await.unwrap_err(), DomainError::Unauthorized);
    }
    assert_eq!(
        p.exchange_signing_session(ExchangeSigningSession { token: "esl_x".into() }).await.unwrap_err(),
        DomainError::NotFound("signing link")
    );
    // Both are on the contract's trail.
    let trail = p.contract_audit(&s.a.1, &s.contract, Default::default(), Some(100), None).await.unwrap();
    let actions: Vec<&str> = trail.items.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"signing_session.created") && actions.contains(&"signing_session.exchanged"),
        "{actions:?}"
    );
    // The bearer ends after its lifetime.
    s.t.clock.advance(SESSION_LIFETIME);
    assert_eq!(p.authenticate_bearer(Some(&session.access_token)).await.unwrap_err(), DomainError::Unauthorized);
}

#[tokio::test]
async fn links_expire_and_end_with_their_member() {
    let s = setup().await;
    let p = &s.t.platform;
    let short = CreateSigningSession { ttl_seconds: Some(60), ..ask(&id_of(&s.b.1)) };
    let link = p.create_signing_session(&s.b.1, &s.contract, short).await.unwrap();
    s.t.clock.advance(time::Duration::seconds(60));
    let e = p.exchange_signing_session(ExchangeSigningSession { token: token_of(&link).into() }).await.unwrap_err();
    assert!(matches!(e, DomainError::Gone(_)), "{e:?}");
    // A member removed before the exchange: gone; after it: the bearer stops at once.
    let m = p.create_member(&s.b.1, new_member()).await.unwrap();
    let before = p.create_signing_session(&s.b.1, &s.contract, ask(&m.member.id)).await.unwrap();
    let after = p.create_signing_session(&s.b.1, &s.contract, ask(&m.member.id)).await.unwrap();
    let session = p.exchange_signing_session(ExchangeSigningSession { token: token_of(&after).into() }).await.unwrap();
    assert!(p.authenticate_bearer(Some(&session.access_token)).await.is_ok());
    p.delete_member(&s.b.1, &m.member.id).await.unwrap();
    let e = p.exchange_signing_session(ExchangeSigningSession { token: token_of(&before).into() }).await.unwrap_err();
    assert!(matches!(e, DomainError::Gone(_)), "{e:?}");
    assert_eq!(p.authenticate_bearer(Some(&session.access_token)).await.unwrap_err(), DomainError::Unauthorized);
}

#[tokio::test]
async fn only_a_partys_administrators_ask_for_their_members_with_checked_urls() {
    let s = setup().await;
    let p = &s.t.platform;
    let bad = CreateSigningSession {
        member_id: id_of(&s.b.1),
        return_url: Some("javascript:alert(1)".into()),
        parent_origin: Some("https://saas.example.com/page".into()),
        ttl_seconds: Some(901),
    };
    let e = p.create_signing_session(&s.b.1, &s.contract, bad).await.unwrap_err();
    let DomainError::Validation(f) = e else { panic!("{e:?}") };
    let fields: Vec<&str> = f.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, vec!["ttl_seconds", "return_url", "parent_origin"]);
    // A member of another enterprise, a plain member, an outsider.
    assert_eq!(
        p.create_signing_session(&s.b.1, &s.contract, ask(&id_of(&s.a.1))).await.unwrap_err(),
        DomainError::NotFound("member")
    );
    let m = p.create_member(&s.b.1, new_member()).await.unwrap();
    let member = p.authenticate(Some(&m.api_key)).await.unwrap();
    assert!(matches!(
        p.create_signing_session(&member, &s.contract, ask(&m.member.id)).await,
        Err(DomainError::Forbidden(_))
    ));
    let (_, outsider) = verified(p).await;
    assert_eq!(
        p.create_signing_session(&outsider, &s.contract, ask(&id_of(&outsider))).await.unwrap_err(),
        DomainError::NotFound("contract")
    );
}

#[test]
fn urls_are_https_or_loopback_in_development() {
    use crate::platform::Mode::{Development, Production};
    assert_eq!(check_parent_origin("https://App.Example.com/", Production).unwrap(), "https://app.example.com");
    assert_eq!(check_parent_origin("http://localhost:5173", Development).unwrap(), "http://localhost:5173");
    assert!(check_parent_origin("http://localhost:5173", Production).is_err());
    assert!(check_parent_origin("http://evil.example.com", Development).is_err());
    assert!(check_parent_origin("https://a.example.com/x", Production).is_err());
    assert!(check_parent_origin("https://a.example.com?x", Production).is_err());
    assert!(check_return_url("https://user:pw@a.example.com/", Production).is_err());
    assert!(check_return_url("http://127.0.0.1:8080/back", Development).is_ok());
    assert!(check_return_url(&format!("https://a.example.com/{}", "x".repeat(2100)), Production).is_err());
}
