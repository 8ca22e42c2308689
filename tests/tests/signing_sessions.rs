//! Embedded signing over HTTP: an integrator's API key asks for a single-use link for one of its
//! members; the page exchanges it once for a bearer token that signs that contract and nothing
//! else; links expire; removing the member ends the session; a full embedded signature is judged
//! by every checker.

use esign_e2e::{Api, Reply};
use serde_json::{Value, json};

struct Party {
    enterprise: String,
    key: String,
    admin: String,
    seal: String,
    mobile: String,
}

fn party(api: &Api, company: &str) -> Party {
    let (seal, key, admin, _) = esign_e2e::active_seal(api, company, "ecdsa_p256");
    assert_eq!(api.put(&format!("/v1/seals/{seal}/grants/{admin}")).key(&key).send().status, 200);
    let me = api.get("/v1/members").key(&key).send();
    let enterprise = me.body["items"][0]["enterprise_id"].as_str().unwrap().to_owned();
    let mobile = me.body["items"][0]["mobile"].as_str().unwrap().to_owned();
    api.confirm_contact(&key, &admin, "sms", &mobile);
    Party { enterprise, key, admin, seal, mobile }
}

/// An open parallel contract of `a`'s between `a` and `b`.
fn open_contract(api: &Api, a: &Party, b: &Party) -> String {
    let pdf = esign_e2e::sample_contract(1);
    let r =
        api.post("/v1/contracts").key(&a.key).json(&json!({"title": "嵌入签署", "document_size": pdf.len()})).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["contract"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        api.put(r.body["upload"]["upload_url"].as_str().unwrap()).raw("application/pdf", pdf).send().status,
        200
    );
    let parties =
        json!({"order": "parallel", "parties": [{"enterprise_id": a.enterprise}, {"enterprise_id": b.enterprise}]});
    assert_eq!(api.put(&format!("/v1/contracts/{id}/parties")).key(&a.key).json(&parties).send().status, 200);
    let w = |p: &Party, x: f64| json!({"kind": "signature", "party": p.enterprise, "page": 1, "x": x, "y": 560.0, "width": 110.0, "height": 110.0});
    let r = api
        .put(&format!("/v1/contracts/{id}/placements"))
        .key(&a.key)
        .json(&json!({"placements": [w(a, 60.0), w(b, 380.0)]}))
        .send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(api.post(&format!("/v1/contracts/{id}/open")).key(&a.key).send().status, 200);
    id
}

fn link(api: &Api, by: &Party, contract: &str, body: Value) -> Reply {
    api.post(&format!("/v1/contracts/{contract}/signing-sessions")).key(&by.key).json(&body).send()
}

fn token(url: &str) -> String {
    url.split_once("#token=").expect("the secret in the fragment").1.to_owned()
}

fn exchange(api: &Api, token: &str) -> Reply {
    api.post("/v1/signing-sessions/exchange").json(&json!({"token": token})).send()
}

#[test]
fn an_embedded_member_signs_with_a_single_use_link_and_a_scoped_bearer() {
    let api = Api::new();
    let a = party(&api, "甲方嵌入有限公司");
    let b = party(&api, "乙方嵌入有限公司");
    let id = open_contract(&api, &a, &b);
    let other = open_contract(&api, &a, &b);

    let r = link(
        &api,
        &b,
        &id,
        json!({"member_id": b.admin, "parent_origin": "http://localhost:5173", "return_url": "https://saas.example.com/done"}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let url = r.body["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/embed/sign/{id}#token=esl_", api.base)), "{url}");
    let s = exchange(&api, &token(url));
    assert_eq!(s.status, 200, "{:?}", s.body);
    assert_eq!(
        (s.body["contract_id"].as_str(), s.body["member_id"].as_str()),
        (Some(id.as_str()), Some(b.admin.as_str()))
    );
    assert_eq!(
        (s.body["parent_origin"].as_str(), s.body["return_url"].as_str()),
        (Some("http://localhost:5173"), Some("https://saas.example.com/done"))
    );
    assert_eq!(s.body["token_type"], "Bearer");
    // Single use.
    let again = exchange(&api, &token(url));
    assert_eq!((again.status, again.problem()), (410, "gone"), "{:?}", again.body);
    let bearer = s.body["access_token"].as_str().unwrap().to_owned();
    assert!(bearer.starts_with("ess_"));

    // Only this contract's signing: everything else is a 403.
    for (method, path) in [
        ("GET", format!("/v1/contracts/{other}")),
        ("GET", format!("/v1/contracts/{other}/document")),
        ("POST", format!("/v1/contracts/{other}/otp")),
        ("GET", "/v1/members".to_owned()),
        ("GET", "/v1/seals".to_owned()),
        ("GET", format!("/v1/seals/{}", b.seal)),
        ("GET", format!("/v1/enterprises/{}", b.enterprise)),
        ("GET", "/v1/templates".to_owned()),
        ("GET", "/v1/contracts".to_owned()),
        ("POST", format!("/v1/contracts/{id}/signing-sessions")),
        ("PUT", format!("/v1/contracts/{id}/parties")),
        ("POST", "/v1/webhooks".to_owned()),
    ] {
        let r = api
            .call(
                if method == "GET" {
                    "GET"
                } else if method == "PUT" {
                    "PUT"
                } else {
                    "POST"
                },
                &path,
            )
            .key(&bearer)
            .json(&json!({}))
            .send();
        assert_eq!((r.status, r.problem()), (403, "forbidden"), "{method} {path}: {:?}", r.body);
    }
    let r = api.post("/v1/verify").key(&bearer).json(&json!({"contract_id": other})).send();
    assert_eq!(r.status, 403, "{:?}", r.body);

    // The signing page's calls: the contract, the seals it may use (with the image), a code, sign.
    let c = api.get(&format!("/v1/contracts/{id}")).key(&bearer).send();
    assert_eq!(c.status, 200, "{:?}", c.body);
    let seals = api.get("/v1/seals?usable=true").key(&bearer).send();
    assert_eq!(seals.status, 200, "{:?}", seals.body);
    assert_eq!(seals.body["items"][0]["id"].as_str(), Some(b.seal.as_str()));
    let image = api.get(seals.body["items"][0]["image_url"].as_str().unwrap()).send();
    assert!(image.raw.starts_with(b"\x89PNG"));
    let otp = api.post(&format!("/v1/contracts/{id}/otp")).key(&bearer).send();
    assert_eq!(otp.status, 201, "{:?}", otp.body);
    let (code, _) = api.latest_code(&b.mobile);
    let signed = api
        .post(&format!("/v1/contracts/{id}/sign"))
        .key(&bearer)
        .json(&json!({"seal_id": b.seal, "otp_id": otp.body["otp_id"], "code": code}))
        .send();
    assert_eq!(signed.status, 200, "{:?}", signed.body);
    // The other party signs with its key; the embedded member downloads and verifies.
    let otp = api.post(&format!("/v1/contracts/{id}/otp")).key(&a.key).send();
    let (code, _) = api.latest_code(&a.mobile);
    let r = api
        .post(&format!("/v1/contracts/{id}/sign"))
        .key(&a.key)
        .json(&json!({"seal_id": a.seal, "otp_id": otp.body["otp_id"], "code": code}))
        .send();
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("completed")), "{:?}", r.body);
    let report = api.post("/v1/verify").key(&bearer).json(&json!({"contract_id": id})).send();
    assert_eq!(report.status, 200, "{:?}", report.body);
    let d = api.get(&format!("/v1/contracts/{id}/document")).key(&bearer).send();
    assert_eq!(d.status, 200, "{:?}", d.body);
    let _ = std::fs::remove_dir_all(esign_e2e::check_signatures(
        &api,
        &api.get(d.body["url"].as_str().unwrap()).send().raw,
        3,
        "embedded",
    )); // 2 signatures + the document time stamp

    // The trail names the link and its exchange, by the admin and the member.
    let trail = api.get(&format!("/v1/contracts/{id}/audit?limit=100")).key(&a.key).send();
    let events = trail.body["items"].as_array().unwrap();
    let created = events.iter().find(|e| e["action"] == "signing_session.created").expect("created");
    assert_eq!(created["details"]["member_id"], b.admin.as_str());
    assert!(events.iter().any(|e| e["action"] == "signing_session.exchanged"));
    assert!(!trail.raw.windows(4).any(|w| w == b"esl_" || w == b"ess_"), "no secret on the trail");
}

#[test]
fn links_are_checked_expire_and_end_with_their_member() {
    // A listener of this test's own: its clock is moved below.
    let (api, clock) = Api::with_own_clock();
    let a = party(&api, "甲方链接有限公司");
    let b = party(&api, "乙方链接有限公司");
    let id = open_contract(&api, &a, &b);
    // Checked input; only administrators of a party, for their own members.
    let r = link(
        &api,
        &b,
        &id,
        json!({"member_id": b.admin, "parent_origin": "https://x.example.com/page", "return_url": "ftp://x", "ttl_seconds": 901}),
    );
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(r.fields(), vec!["ttl_seconds", "return_url", "parent_origin"]);
    let r = link(&api, &b, &id, json!({"member_id": a.admin}));
    assert_eq!(r.status, 404, "{:?}", r.body);
    let (_, outsider, outsider_admin) = api.verified_enterprise("丙方外人有限公司");
    let r = api
        .post(&format!("/v1/contracts/{id}/signing-sessions"))
        .key(&outsider)
        .json(&json!({"member_id": outsider_admin}))
        .send();
    assert_eq!(r.status, 404, "{:?}", r.body);
    let m = api
        .post("/v1/members")
        .key(&b.key)
        .json(&json!({"name": "李四", "mobile": esign_e2e::unique_mobile(), "email": "li-embed@example.com"}))
        .send();
    assert_eq!(m.status, 201, "{:?}", m.body);
    let (member, member_key) =
        (m.body["member"]["id"].as_str().unwrap().to_owned(), m.body["api_key"].as_str().unwrap().to_owned());
    let r = api
        .post(&format!("/v1/contracts/{id}/signing-sessions"))
        .key(&member_key)
        .json(&json!({"member_id": member}))
        .send();
    assert_eq!(r.status, 403, "{:?}", r.body);

    // A link past its time is gone (this test's listener's clock moved 31 s on).
    let r = link(&api, &b, &id, json!({"member_id": b.admin, "ttl_seconds": 30}));
    let expiring = token(r.body["url"].as_str().unwrap());
    clock.skew(31);
    let e = exchange(&api, &expiring);
    clock.skew(-31);
    assert_eq!((e.status, e.problem()), (410, "gone"), "{:?}", e.body);
    assert_eq!(exchange(&api, "esl_not-a-link").status, 404);

    // Removing the member: its unexchanged link is gone, its bearer stops at once.
    let before = token(link(&api, &b, &id, json!({"member_id": member})).body["url"].as_str().unwrap());
    let after = token(link(&api, &b, &id, json!({"member_id": member})).body["url"].as_str().unwrap());
    let s = exchange(&api, &after);
    assert_eq!(s.status, 200, "{:?}", s.body);
    let bearer = s.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(api.get(&format!("/v1/contracts/{id}")).key(&bearer).send().status, 200);
    assert_eq!(api.delete(&format!("/v1/members/{member}")).key(&b.key).send().status, 204);
    assert_eq!(api.get(&format!("/v1/contracts/{id}")).key(&bearer).send().status, 401);
    let e = exchange(&api, &before);
    assert_eq!((e.status, e.problem()), (410, "gone"), "{:?}", e.body);
}
