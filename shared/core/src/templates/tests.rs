use super::*;
use crate::contracts::{ContractStatus, PartyInput, SetParties, SetPlacements, SigningOrder};
use crate::ports::BlobStore as _;
use crate::testing::{TestPlatform, full, sample_pdf, verified};

struct Setup {
    t: TestPlatform,
    a: (String, Principal),
    b: (String, Principal),
    contract: String,
    pdf: Vec<u8>,
}

fn place(party: &str, kind: &str, page: u32, x: f64, y: f64) -> serde_json::Value {
    let h = if kind == "signature" { 120.0 } else { 18.0 };
    serde_json::json!({"party": party, "kind": kind, "page": page, "x": x, "y": y, "width": 120.0, "height": h})
}

fn placements(a: &str, b: &str) -> Vec<ContractPlacement> {
    let v = vec![
        place(a, "signature", 1, 60.0, 600.0),
        place(a, "signing_date", 1, 60.0, 725.0),
        place(b, "signature", 2, 380.0, 600.0),
        place(b, "signing_date", 2, 380.0, 725.0),
    ];
    serde_json::from_value(serde_json::Value::Array(v)).unwrap()
}

fn upload(t: &TestPlatform, ticket: &UploadTicket, pdf: Vec<u8>) {
    t.blobs.put(ticket.upload_url.trim_start_matches("memory://"), pdf, "application/pdf");
}

fn parties(ids: &[&str]) -> SetParties {
    SetParties {
        order: SigningOrder::Sequential,
        parties: ids.iter().map(|e| PartyInput { enterprise_id: (*e).to_owned() }).collect(),
    }
}

/// Two verified enterprises and a 2-page draft of A's between them with four widgets.
async fn setup() -> Setup {
    let t = full();
    let p = &t.platform;
    let (ea, admin_a) = verified(p).await;
    let (eb, admin_b) = verified(p).await;
    let pdf = sample_pdf(2);
    let draft = p
        .create_contract(
            &admin_a,
            CreateContract { title: "采购合同".into(), expires_at: None, document_size: pdf.len() as u64 },
        )
        .await
        .unwrap();
    upload(&t, &draft.upload, pdf.clone());
    let id = draft.contract.id;
    p.set_parties(&admin_a, &id, parties(&[&ea, &eb])).await.unwrap();
    p.set_placements(&admin_a, &id, SetPlacements { placements: placements(&ea, &eb) }).await.unwrap();
    Setup { t, a: (ea, admin_a), b: (eb, admin_b), contract: id, pdf }
}

fn save(name: &str, contract: &str, roles: Option<Vec<&str>>) -> CreateTemplate {
    CreateTemplate {
        name: name.into(),
        contract_id: contract.into(),
        roles: roles.map(|r| r.into_iter().map(str::to_owned).collect()),
    }
}

fn from(template: &str, same: bool, size: Option<usize>) -> ContractFromTemplate {
    ContractFromTemplate {
        title: "第二份采购合同".into(),
        expires_at: None,
        template_id: template.into(),
        use_template_document: same,
        document_size: size.map(|s| s as u64),
    }
}

fn codes(e: &DomainError) -> Vec<(String, String)> {
    match e {
        DomainError::Validation(f) => f.iter().map(|f| (f.field.clone(), f.code.clone())).collect(),
        other => vec![(format!("{other:?}"), String::new())],
    }
}

#[tokio::test]
async fn a_template_keeps_the_document_placements_by_role_and_layout() {
    let s = setup().await;
    let p = &s.t.platform;
    let t = p.create_template(&s.a.1, save("采购合同模板", &s.contract, Some(vec!["买方", "卖方"]))).await.unwrap();
    assert_eq!(t.roles, vec!["买方", "卖方"]);
    assert_eq!(t.document.pages.len(), 2);
    assert_eq!((t.document.pages[0].width, t.document.pages[0].height), (595.0, 842.0));
    assert_eq!(t.document.size, s.pdf.len() as u64);
    assert_eq!(t.placements.iter().map(|p| p.role).collect::<Vec<_>>(), vec![0, 0, 1, 1]);
    assert!(t.placements.iter().all(|p| !p.widget.contains_key("party") && p.widget.contains_key("kind")));
    // Listed and read back, with a link to the copied document; audited on the enterprise.
    let list = p.list_templates(&s.a.1, None, None).await.unwrap();
    assert_eq!(list.items, vec![t.clone()]);
    let view = p.get_template(&s.a.1, &t.id).await.unwrap();
    assert_eq!(view.template, t);
    let copied = s.t.blobs.get(view.document_url.trim_start_matches("memory://")).await.unwrap().unwrap();
    assert_eq!(copied, s.pdf);
    let trail = p.enterprise_audit(&s.a.1, &s.a.0, None, None).await.unwrap();
    assert!(trail.items.iter().any(|e| e.action == "template.created" && e.details["template_id"] == t.id.as_str()));
    // Default roles are 甲方, 乙方.
    let d = p.create_template(&s.a.1, save("默认角色", &s.contract, None)).await.unwrap();
    assert_eq!(d.roles, vec!["甲方", "乙方"]);
}

#[tokio::test]
async fn templates_are_checked_and_stay_in_their_enterprise() {
    let s = setup().await;
    let p = &s.t.platform;
    let bad = p.create_template(&s.a.1, save(" ", &s.contract, Some(vec!["买方", "买方", "丙"]))).await.unwrap_err();
    let codes = codes(&bad);
    for want in [("name", "invalid"), ("roles", "count"), ("roles[1]", "duplicate")] {
        assert!(codes.contains(&(want.0.into(), want.1.into())), "{codes:?}");
    }
    // Only the initiator's contracts; the party sees 403, anyone else 404.
    assert!(matches!(p.create_template(&s.b.1, save("x", &s.contract, None)).await, Err(DomainError::Forbidden(_))));
    let (_, outsider) = verified(p).await;
    assert_eq!(
        p.create_template(&outsider, save("x", &s.contract, None)).await.unwrap_err(),
        DomainError::NotFound("contract")
    );
    let t = p.create_template(&s.a.1, save("模板", &s.contract, None)).await.unwrap();
    for who in [&s.b.1, &outsider] {
        assert_eq!(p.get_template(who, &t.id).await.unwrap_err(), DomainError::NotFound("template"));
        assert_eq!(p.delete_template(who, &t.id).await.unwrap_err(), DomainError::NotFound("template"));
        assert_eq!(
            p.create_contract_from_template(who, from(&t.id, true, None)).await.unwrap_err(),
            DomainError::NotFound("template")
        );
        assert!(p.list_templates(who, None, None).await.unwrap().items.is_empty());
    }
    // A plain member may not delete an administrator's template; the administrator may.
    let m = p.create_member(&s.a.1, crate::testing::new_member()).await.unwrap();
    let member = p.authenticate(Some(&m.api_key)).await.unwrap();
    assert!(matches!(p.delete_template(&member, &t.id).await, Err(DomainError::Forbidden(_))));
    p.delete_template(&s.a.1, &t.id).await.unwrap();
    assert_eq!(p.get_template(&s.a.1, &t.id).await.unwrap_err(), DomainError::NotFound("template"));
    let trail = p.enterprise_audit(&s.a.1, &s.a.0, None, None).await.unwrap();
    assert!(trail.items.iter().any(|e| e.action == "template.deleted"));
}

#[tokio::test]
async fn a_contract_from_a_template_takes_its_document_and_its_placements_follow_the_parties() {
    let s = setup().await;
    let p = &s.t.platform;
    let t = p.create_template(&s.a.1, save("模板", &s.contract, None)).await.unwrap();
    let draft = p.create_contract_from_template(&s.a.1, from(&t.id, true, None)).await.unwrap();
    assert!(draft.upload.is_none());
    let c = draft.contract;
    assert_eq!(c.template.as_ref().map(|r| r.roles.clone()), Some(vec!["甲方".to_owned(), "乙方".to_owned()]));
    assert!(c.placements.is_empty());
    // One party for two roles: refused.
    let few = p.set_parties(&s.a.1, &c.id, parties(&[&s.a.0])).await.unwrap_err();
    assert_eq!(codes(&few), vec![("parties".to_owned(), "template_roles".to_owned())]);
    // Role 0 is the first party: here B, then A.
    let set = p.set_parties(&s.a.1, &c.id, parties(&[&s.b.0, &s.a.0])).await.unwrap();
    assert_eq!(set.placements, placements(&s.b.0, &s.a.0));
    // Re-ordered before any edit, they follow.
    let set = p.set_parties(&s.a.1, &c.id, parties(&[&s.a.0, &s.b.0])).await.unwrap();
    assert_eq!(set.placements, placements(&s.a.0, &s.b.0));
    let opened = p.open_contract(&s.a.1, &c.id).await.unwrap();
    assert_eq!(opened.status, ContractStatus::Signing);
    assert_eq!(opened.revisions[0].sha256, t.document.sha256);
    // Read back from the store, it still names its template.
    let read = p.get_contract(&s.b.1, &c.id).await.unwrap();
    assert_eq!(read.template.map(|r| r.id), Some(t.id.clone()));
    let created = p.contract_audit(&s.a.1, &c.id, Default::default(), None, None).await.unwrap();
    assert_eq!(created.items[0].details["template_id"], t.id.as_str());
    // Sizes with the template's document are refused: it has one.
    let e = p.create_contract_from_template(&s.a.1, from(&t.id, true, Some(10))).await.unwrap_err();
    assert_eq!(codes(&e), vec![("document_size".to_owned(), "not_allowed".to_owned())]);
    let e = p.create_contract_from_template(&s.a.1, from(&t.id, false, None)).await.unwrap_err();
    assert_eq!(codes(&e), vec![("document_size".to_owned(), "missing".to_owned())]);
}

#[tokio::test]
async fn edited_placements_stop_following_the_template() {
    let s = setup().await;
    let p = &s.t.platform;
    let t = p.create_template(&s.a.1, save("模板", &s.contract, None)).await.unwrap();
    let c = p.create_contract_from_template(&s.a.1, from(&t.id, true, None)).await.unwrap().contract;
    p.set_parties(&s.a.1, &c.id, parties(&[&s.a.0, &s.b.0])).await.unwrap();
    let mut edited = placements(&s.a.0, &s.b.0);
    edited.pop();
    p.set_placements(&s.a.1, &c.id, SetPlacements { placements: edited.clone() }).await.unwrap();
    let set = p.set_parties(&s.a.1, &c.id, parties(&[&s.b.0, &s.a.0])).await.unwrap();
    assert_eq!(set.placements, edited);
}

#[tokio::test]
async fn a_new_document_must_have_the_templates_layout() {
    let s = setup().await;
    let p = &s.t.platform;
    let t = p.create_template(&s.a.1, save("模板", &s.contract, None)).await.unwrap();
    let letter = String::from_utf8(sample_pdf(2)).unwrap().replace("[0 0 595 842]", "[0 0 612 792]").into_bytes();
    let cases: [(Vec<u8>, Option<&str>); 3] =
        [(sample_pdf(3), Some("page(s)")), (letter, Some("page 1 is 612 x 792 pt")), (sample_pdf(2), None)];
    for (pdf, refused) in cases {
        let draft = p.create_contract_from_template(&s.a.1, from(&t.id, false, Some(pdf.len()))).await.unwrap();
        upload(&s.t, draft.upload.as_ref().unwrap(), pdf);
        let id = draft.contract.id;
        p.set_parties(&s.a.1, &id, parties(&[&s.a.0, &s.b.0])).await.unwrap();
        match (p.open_contract(&s.a.1, &id).await, refused) {
            (Ok(c), None) => assert_eq!(c.status, ContractStatus::Signing),
            (Err(DomainError::Validation(f)), Some(text)) => {
                assert_eq!((f[0].field.as_str(), f[0].code.as_str()), ("document", "layout_mismatch"));
                assert!(f[0].message.contains(text), "{}", f[0].message);
            }
            (other, _) => panic!("{other:?}"),
        }
    }
}

#[test]
fn placements_go_by_role_and_back_unchanged() {
    let party =
        |id: &str| Party { enterprise_id: id.into(), enterprise_name: id.into(), uscc: String::new(), signed: false };
    let ps = [party("ent_a"), party("ent_b")];
    let original = placements("ent_a", "ent_b");
    let roles = by_role(&original, &ps).unwrap();
    assert_eq!(for_parties(&roles, &ps).unwrap(), original);
    // A role without a party has no placements.
    assert_eq!(for_parties(&roles, &ps[..1]).unwrap(), original[..2].to_vec());
    // Unknown fields of a placement travel as they are (opaque values).
    let mut extra = roles[0].clone();
    extra.widget.insert("future".into(), serde_json::json!({"a": 1}));
    let json = serde_json::to_value(&extra).unwrap();
    assert_eq!(json["future"]["a"], 1);
    assert_eq!(json["role"], 0);
}
