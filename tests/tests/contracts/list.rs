//! `GET /v1/contracts` over HTTP: each enterprise lists the contracts it started or signs, newest
//! first, page by page, filtered by status, with each party's progress and whose turn it is,
//! moved along by the signatures themselves; another enterprise never sees them.

use esign_e2e::{Api, Reply};
use serde_json::{Value, json};

use super::{Party, code, contract, download, judge, party, place, sample_pdf, sign};

fn list(api: &Api, p: &Party, query: &str) -> Reply {
    let r = api.get(&format!("/v1/contracts{query}")).key(&p.key).send();
    assert_eq!(r.status, 200, "{query}: {:?}", r.body);
    r
}

fn ids(r: &Reply) -> Vec<String> {
    r.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

fn progress(item: &Value) -> Vec<(String, String)> {
    item["parties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert!(p["name"].as_str().is_some_and(|n| !n.is_empty()), "the verified name: {p}");
            (p["enterprise_id"].as_str().unwrap().to_owned(), p["status"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn each_enterprise_lists_its_contracts_and_never_another_s() {
    let api = Api::new();
    let a = party(&api, "甲方列表有限公司", "ecdsa_p256");
    let b = party(&api, "乙方列表有限公司", "ecdsa_p256");
    let outsider = party(&api, "丙方列表有限公司", "ecdsa_p256");
    let placements = vec![
        place(&a, "signature", 1, 60.0, 560.0),
        place(&a, "signing_date", 1, 60.0, 680.0),
        place(&b, "signature", 1, 380.0, 560.0),
        place(&b, "signing_date", 1, 380.0, 680.0),
    ];
    let title = "列表采购合同";
    let signing = contract(&api, &a, title, sample_pdf(1), &[&a, &b], "sequential", placements);
    let r = api.post("/v1/contracts").key(&a.key).json(&json!({"title": "草稿合同", "document_size": 1000})).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let draft = r.body["contract"]["id"].as_str().unwrap().to_owned();

    // Newest first; every field the list promises.
    let mine = list(&api, &a, "");
    assert_eq!(ids(&mine), [draft.clone(), signing.clone()]);
    assert_eq!(mine.body["next_cursor"], Value::Null);
    let item = &mine.body["items"][1];
    assert_eq!((item["title"].as_str(), item["status"].as_str()), (Some(title), Some("signing")));
    assert!(item["created_at"].as_str().is_some_and(|t| t.contains('T')), "{item}");
    assert_eq!(
        progress(item),
        [(a.enterprise.clone(), "pending".to_owned()), (b.enterprise.clone(), "pending".to_owned())]
    );
    assert_eq!(item["next_signer"]["enterprise_id"], a.enterprise.as_str());
    assert_eq!(mine.body["items"][0]["status"], "draft");
    assert_eq!(mine.body["items"][0]["next_signer"], Value::Null);

    // The other party sees the one it signs, not the initiator's draft; an outsider sees none,
    // and a cursor of another enterprise's list is refused.
    assert_eq!(ids(&list(&api, &b, "")), std::slice::from_ref(&signing));
    assert!(ids(&list(&api, &outsider, "")).is_empty());
    assert!(ids(&list(&api, &outsider, "?status=signing")).is_empty());
    let first = list(&api, &a, "?limit=1");
    assert_eq!(ids(&first), std::slice::from_ref(&draft));
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(ids(&list(&api, &a, &format!("?limit=1&cursor={cursor}"))), std::slice::from_ref(&signing));
    let stolen = api.get(&format!("/v1/contracts?cursor={cursor}")).key(&outsider.key).send();
    assert_eq!((stolen.status, stolen.problem()), (422, "validation-failed"), "{:?}", stolen.body);
    for bad in ["?status=open", "?limit=0", "?limit=101"] {
        let r = api.get(&format!("/v1/contracts{bad}")).key(&a.key).send();
        assert_eq!(r.status, 422, "{bad}: {:?}", r.body);
    }
    assert_eq!(api.get("/v1/contracts").send().status, 401);

    // Each signature moves the list along, status index included.
    let (otp, c) = code(&api, &a, &signing, title);
    assert_eq!(sign(&api, &a, &signing, &otp, &c).status, 200);
    let theirs = list(&api, &b, "?status=signing");
    assert_eq!(ids(&theirs), std::slice::from_ref(&signing));
    assert_eq!(theirs.body["items"][0]["parties"][0]["status"], "signed");
    assert_eq!(theirs.body["items"][0]["next_signer"]["enterprise_id"], b.enterprise.as_str());
    assert_eq!(theirs.body["items"][0]["next_signer"]["name"], theirs.body["items"][0]["parties"][1]["name"]);
    let (otp, c) = code(&api, &b, &signing, title);
    assert_eq!(sign(&api, &b, &signing, &otp, &c).status, 200);
    for p in [&a, &b] {
        let done = list(&api, p, "?status=completed");
        assert_eq!(ids(&done), std::slice::from_ref(&signing));
        assert!(progress(&done.body["items"][0]).iter().all(|(_, s)| s == "signed"));
        assert_eq!(done.body["items"][0]["next_signer"], Value::Null);
        assert!(ids(&list(&api, p, "?status=signing")).is_empty());
    }
    assert_eq!(ids(&list(&api, &a, "?status=draft")), [draft]);
    assert!(ids(&list(&api, &outsider, "?status=completed")).is_empty());
    judge(&api, &download(&api, &a, &signing), 3, "list");
}
