//! Contract templates over HTTP: a contract saved as a template (document, layout, placements by
//! role), listed, read, kept from other enterprises, deleted; new contracts from it with its own
//! document and with a new upload of the same layout (another layout refused at opening); a
//! contract from a template signed by both parties end to end and judged by every checker.

use esign_e2e::Api;
use serde_json::{Value, json};

struct Party {
    enterprise: String,
    key: String,
    seal: String,
    mobile: String,
}

/// A verified enterprise with an active seal granted to its administrator, whose mobile is
/// confirmed.
fn party(api: &Api, company: &str) -> Party {
    let (seal, key, admin, _) = esign_e2e::active_seal(api, company, "ecdsa_p256");
    let r = api.put(&format!("/v1/seals/{seal}/grants/{admin}")).key(&key).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let me = api.get("/v1/members").key(&key).send();
    let enterprise = me.body["items"][0]["enterprise_id"].as_str().unwrap().to_owned();
    let mobile = me.body["items"][0]["mobile"].as_str().unwrap().to_owned();
    api.confirm_contact(&key, &admin, "sms", &mobile);
    Party { enterprise, key, seal, mobile }
}

fn place(p: &Party, kind: &str, page: u32, x: f64, y: f64) -> Value {
    let h = if kind == "signature" { 110.0 } else { 16.0 };
    json!({"kind": kind, "party": p.enterprise, "page": page, "x": x, "y": y, "width": 110.0, "height": h})
}

fn widgets(a: &Party, b: &Party) -> Vec<Value> {
    vec![
        place(a, "signature", 1, 60.0, 560.0),
        place(a, "signing_date", 1, 60.0, 680.0),
        place(b, "signature", 2, 380.0, 560.0),
        place(b, "signing_date", 2, 380.0, 680.0),
    ]
}

fn upload(api: &Api, draft: &Reply, pdf: Vec<u8>) {
    let up = api.put(draft.body["upload"]["upload_url"].as_str().unwrap()).raw("application/pdf", pdf).send();
    assert_eq!(up.status, 200, "{}", String::from_utf8_lossy(&up.raw));
}

use esign_e2e::Reply;

fn set_parties(api: &Api, by: &Party, id: &str, parties: &[&Party]) -> Reply {
    let list: Vec<Value> = parties.iter().map(|p| json!({"enterprise_id": p.enterprise})).collect();
    api.put(&format!("/v1/contracts/{id}/parties"))
        .key(&by.key)
        .json(&json!({"order": "sequential", "parties": list}))
        .send()
}

/// A 2-page draft of `a`'s between `a` and `b` with two widgets each.
fn source_contract(api: &Api, a: &Party, b: &Party, pdf: Vec<u8>) -> String {
    let r =
        api.post("/v1/contracts").key(&a.key).json(&json!({"title": "框架协议", "document_size": pdf.len()})).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["contract"]["id"].as_str().unwrap().to_owned();
    upload(api, &r, pdf);
    assert_eq!(set_parties(api, a, &id, &[a, b]).status, 200);
    let r = api
        .put(&format!("/v1/contracts/{id}/placements"))
        .key(&a.key)
        .json(&json!({"placements": widgets(a, b)}))
        .send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    id
}

fn sign(api: &Api, p: &Party, contract: &str) {
    let r = api.post(&format!("/v1/contracts/{contract}/otp")).key(&p.key).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let otp = r.body["otp_id"].as_str().unwrap().to_owned();
    let (code, _) = api.latest_code(&p.mobile);
    let r = api
        .post(&format!("/v1/contracts/{contract}/sign"))
        .key(&p.key)
        .json(&json!({"seal_id": p.seal, "otp_id": otp, "code": code}))
        .send();
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[test]
fn templates_round_trip_and_stay_in_their_enterprise() {
    let api = Api::new();
    let a = party(&api, "甲方模板有限公司");
    let b = party(&api, "乙方模板有限公司");
    let pdf = esign_e2e::sample_contract(2);
    let source = source_contract(&api, &a, &b, pdf.clone());

    let r = api
        .post("/v1/templates")
        .key(&a.key)
        .json(&json!({"name": "框架协议模板", "contract_id": source, "roles": ["买方", "卖方"]}))
        .send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let t = r.body.clone();
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!(t["roles"], json!(["买方", "卖方"]));
    assert_eq!(t["document"]["pages"].as_array().unwrap().len(), 2);
    assert_eq!(
        t["placements"].as_array().unwrap().iter().map(|p| p["role"].as_u64().unwrap()).collect::<Vec<_>>(),
        vec![0, 0, 1, 1]
    );
    assert!(t["placements"][0].get("party").is_none());

    let list = api.get("/v1/templates").key(&a.key).send();
    assert_eq!(list.status, 200);
    // (Numbers come back as stored: 110 for 110.0.)
    assert_eq!(list.body["items"].as_array().map(|i| i.len()), Some(1));
    assert_eq!((&list.body["items"][0]["id"], &list.body["items"][0]["roles"]), (&t["id"], &t["roles"]));
    let got = api.get(&format!("/v1/templates/{id}")).key(&a.key).send();
    assert_eq!(got.status, 200, "{:?}", got.body);
    let doc = api.get(got.body["document_url"].as_str().unwrap()).send();
    assert_eq!((doc.status, doc.raw == pdf), (200, true));

    // The party enterprise (and anyone else) sees none of it: 404, and an empty list.
    for r in [
        api.get(&format!("/v1/templates/{id}")).key(&b.key).send(),
        api.delete(&format!("/v1/templates/{id}")).key(&b.key).send(),
        api.post("/v1/contracts")
            .key(&b.key)
            .json(&json!({"title": "x", "template_id": id, "use_template_document": true}))
            .send(),
    ] {
        assert_eq!((r.status, r.problem()), (404, "not-found"), "{:?}", r.body);
    }
    assert_eq!(api.get("/v1/templates").key(&b.key).send().body["items"], json!([]));
    // Only the initiator makes a template of a contract: the party gets 403, bad input a 422.
    let r = api.post("/v1/templates").key(&b.key).json(&json!({"name": "x", "contract_id": source})).send();
    assert_eq!(r.status, 403, "{:?}", r.body);
    let r = api
        .post("/v1/templates")
        .key(&a.key)
        .json(&json!({"name": "x", "contract_id": source, "roles": ["一"]}))
        .send();
    assert_eq!((r.status, r.code_of("roles").as_deref()), (422, Some("count")), "{:?}", r.body);

    // A new upload of another layout is refused at opening; the same layout opens.
    let r = api
        .post("/v1/contracts")
        .key(&a.key)
        .json(&json!({"title": "三页", "template_id": id, "document_size": 10}))
        .send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let three = esign_e2e::sample_contract(3);
    let r = api
        .post("/v1/contracts")
        .key(&a.key)
        .json(&json!({"title": "三页", "template_id": id, "document_size": three.len()}))
        .send();
    let cid = r.body["contract"]["id"].as_str().unwrap().to_owned();
    upload(&api, &r, three);
    assert_eq!(set_parties(&api, &a, &cid, &[&a, &b]).status, 200);
    let r = api.post(&format!("/v1/contracts/{cid}/open")).key(&a.key).send();
    assert_eq!((r.status, r.code_of("document").as_deref()), (422, Some("layout_mismatch")), "{:?}", r.body);
    let two = esign_e2e::sample_contract(2);
    let r = api
        .post("/v1/contracts")
        .key(&a.key)
        .json(&json!({"title": "两页", "template_id": id, "document_size": two.len()}))
        .send();
    let cid = r.body["contract"]["id"].as_str().unwrap().to_owned();
    upload(&api, &r, two);
    let set = set_parties(&api, &a, &cid, &[&a, &b]);
    assert_eq!(set.body["placements"], json!(widgets(&a, &b)));
    // Read back, the contract still names its template.
    let got = api.get(&format!("/v1/contracts/{cid}")).key(&a.key).send();
    assert_eq!(
        (got.body["template"]["id"].clone(), got.body["template"]["roles"].clone()),
        (t["id"].clone(), t["roles"].clone()),
        "{:?}",
        got.body
    );
    let r = api.post(&format!("/v1/contracts/{cid}/open")).key(&a.key).send();
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("signing")), "{:?}", r.body);

    // Deleted: gone for its enterprise too, and on the enterprise's trail.
    assert_eq!(api.delete(&format!("/v1/templates/{id}")).key(&a.key).send().status, 204);
    assert_eq!(api.get(&format!("/v1/templates/{id}")).key(&a.key).send().status, 404);
    let trail = api.get(&format!("/v1/enterprises/{}/audit?limit=100", a.enterprise)).key(&a.key).send();
    let actions: Vec<&str> =
        trail.body["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"template.created") && actions.contains(&"template.deleted"), "{actions:?}");
}

#[test]
fn a_contract_from_a_template_with_its_document_is_signed_end_to_end() {
    let api = Api::new();
    let a = party(&api, "甲方模板签署有限公司");
    let b = party(&api, "乙方模板签署有限公司");
    let source = source_contract(&api, &a, &b, esign_e2e::sample_contract(2));
    let t = api.post("/v1/templates").key(&a.key).json(&json!({"name": "模板", "contract_id": source})).send();
    assert_eq!(t.status, 201, "{:?}", t.body);
    let r = api
        .post("/v1/contracts")
        .key(&a.key)
        .json(&json!({"title": "模板合同", "template_id": t.body["id"], "use_template_document": true}))
        .send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(r.body.get("upload").is_none(), "{:?}", r.body);
    assert_eq!(r.body["contract"]["template"]["roles"], json!(["甲方", "乙方"]));
    let id = r.body["contract"]["id"].as_str().unwrap().to_owned();
    // Too few parties for the roles: 422; then both, in order, get the template's widgets.
    let few = set_parties(&api, &a, &id, &[&a]);
    assert_eq!((few.status, few.code_of("parties").as_deref()), (422, Some("template_roles")), "{:?}", few.body);
    let set = set_parties(&api, &a, &id, &[&a, &b]);
    assert_eq!(set.status, 200, "{:?}", set.body);
    assert_eq!(set.body["placements"], json!(widgets(&a, &b)));
    let r = api.post(&format!("/v1/contracts/{id}/open")).key(&a.key).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["revisions"][0]["sha256"], t.body["document"]["sha256"]);
    sign(&api, &a, &id);
    sign(&api, &b, &id);
    let c = api.get(&format!("/v1/contracts/{id}")).key(&b.key).send();
    assert_eq!(c.body["status"], "completed", "{:?}", c.body);
    let audit = api.get(&format!("/v1/contracts/{id}/audit")).key(&b.key).send();
    assert_eq!(audit.body["items"][0]["details"]["template_id"], t.body["id"]);
    let d = api.get(&format!("/v1/contracts/{id}/document")).key(&a.key).send();
    assert_eq!(d.status, 200, "{:?}", d.body);
    let pdf = api.get(d.body["url"].as_str().unwrap()).send().raw;
    let _ = std::fs::remove_dir_all(esign_e2e::check_signatures(&api, &pdf, 3, "templates")); // 2 signatures + the document time stamp of completion
}
