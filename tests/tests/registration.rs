//! Registration, authentication and the HTTP edge's answers to bad requests.

use esign_e2e::{Api, registration};
use serde_json::json;

#[test]
fn registration_returns_a_key_that_works_once_shown() {
    let api = Api::new();
    let body = registration("杭州测试科技有限公司");
    let r = api.post("/v1/enterprises").json(&body).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let id = r.body["enterprise"]["id"].as_str().unwrap();
    let key = r.body["api_key"].as_str().unwrap();
    assert_eq!(r.body["enterprise"]["status"], "registered");
    assert_eq!(r.body["admin"]["role"], "admin");
    // Stored in E.164 form.
    assert_eq!(r.body["admin"]["mobile"], format!("+86{}", body["admin"]["mobile"].as_str().unwrap()));
    assert!(key.starts_with("esk_") && key.len() > 40);

    let e = api.get(&format!("/v1/enterprises/{id}")).key(key).send();
    assert_eq!(e.status, 200);
    assert_eq!(e.body["name"], "杭州测试科技有限公司");
    assert!(e.body.get("api_key").is_none() && !String::from_utf8_lossy(&e.raw).contains(key));

    let trail = api.get(&format!("/v1/enterprises/{id}/audit")).key(key).send();
    assert_eq!(trail.status, 200);
    assert_eq!(trail.body["items"][0]["action"], "enterprise.registered");
    assert_eq!(trail.body["chain_intact"], true);
}

#[test]
fn every_route_but_registration_needs_a_valid_key() {
    let api = Api::new();
    let (id, _, _) = api.register("无钥匙测试有限公司");
    for (method, path) in [
        ("GET", format!("/v1/enterprises/{id}")),
        ("POST", format!("/v1/enterprises/{id}/verification")),
        ("GET", "/v1/members".to_owned()),
        ("POST", "/v1/members".to_owned()),
        ("GET", "/v1/operator/verifications".to_owned()),
    ] {
        let r = api.call(method, &path).send();
        assert_eq!(r.status, 401, "{method} {path}");
        assert_eq!(r.problem(), "unauthorized");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        let r = api.call(method, &path).key("esk_not-a-real-key").send();
        assert_eq!(r.status, 401, "{method} {path} with a made-up key");
        let r = api.call(method, &path).header("authorization", "Basic dXNlcjpwYXNz").send();
        assert_eq!(r.status, 401, "{method} {path} with basic auth");
    }
}

#[test]
fn another_enterprise_learns_nothing() {
    let api = Api::new();
    let (a, a_key, _) = api.register("甲方科技有限公司");
    let (_, b_key, _) = api.register("乙方科技有限公司");
    for path in [format!("/v1/enterprises/{a}"), format!("/v1/enterprises/{a}/audit")] {
        let r = api.get(&path).key(&b_key).send();
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.problem(), "not-found");
    }
    let r = api.post(&format!("/v1/enterprises/{a}/verification")).key(&b_key).json(&esign_e2e::submission()).send();
    assert_eq!(r.status, 404);
    let r = api
        .post(&format!("/v1/enterprises/{a}/verification/letter"))
        .key(&b_key)
        .json(&json!({"content_type": "application/pdf", "size": 100}))
        .send();
    assert_eq!(r.status, 404);
    // And A's own view is unchanged.
    let r = api.get(&format!("/v1/enterprises/{a}")).key(&a_key).send();
    assert_eq!(r.body["status"], "registered");
}

#[test]
fn bad_requests_get_clear_problems() {
    let api = Api::new();
    // Malformed JSON.
    let r = api.post("/v1/enterprises").raw("application/json", b"{\"name\": ".to_vec()).send();
    assert_eq!((r.status, r.problem()), (400, "bad-request"));
    let r = api.post("/v1/enterprises").raw("application/json", b"{} trailing".to_vec()).send();
    assert_eq!((r.status, r.problem()), (400, "bad-request"));
    // Not JSON at all.
    let r = api.post("/v1/enterprises").raw("text/plain", b"hello".to_vec()).send();
    assert_eq!((r.status, r.problem()), (415, "unsupported-media-type"));
    let r = api.post("/v1/enterprises").send();
    assert_eq!((r.status, r.problem()), (400, "bad-request"));
    // Missing fields (each named), wrong type, unknown field: 422 naming the field.
    let r = api.post("/v1/enterprises").json(&json!({"name": "某某有限公司", "contact_email": "a@b.cn"})).send();
    assert_eq!((r.status, r.problem()), (422, "validation-failed"));
    assert_eq!(r.fields(), ["admin.name", "admin.mobile", "admin.email"], "{:?}", r.body);
    let mut wrong_type = registration("某某有限公司");
    wrong_type["admin"]["mobile"] = json!(13800138000u64);
    let r = api.post("/v1/enterprises").json(&wrong_type).send();
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), ["admin.mobile"]);
    let mut unknown = registration("某某有限公司");
    unknown["admin"]["password"] = json!("x");
    let r = api.post("/v1/enterprises").json(&unknown).send();
    assert_eq!(r.status, 422, "{:?}", r.body);
    // Rule violations, all reported together.
    let mut bad = registration(" ");
    bad["contact_email"] = json!("not-an-email");
    bad["admin"]["mobile"] = json!("12800138000");
    let r = api.post("/v1/enterprises").json(&bad).send();
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), ["name", "contact_email", "admin.mobile"]);
    // Oversize body.
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let r = api.post("/v1/enterprises").raw("application/json", big.into_bytes()).send();
    assert_eq!((r.status, r.problem()), (413, "payload-too-large"));
    // Unknown route, wrong method.
    let r = api.get("/v1/nothing-here").send();
    assert_eq!((r.status, r.problem()), (404, "not-found"));
    let r = api.call("PATCH", "/v1/enterprises").send();
    assert_eq!((r.status, r.problem()), (405, "method-not-allowed"));
    assert_eq!(r.header("allow"), Some("POST"));
    // Binary garbage never panics the server.
    let r = api.post("/v1/enterprises").raw("application/json", vec![0xff, 0x00, 0xfe, 0x7b]).send();
    assert_eq!(r.status, 400);
    let r = api.get("/v1/enterprises").send();
    assert_eq!(r.status, 405);
}

#[test]
fn a_retried_registration_with_the_same_idempotency_key_registers_once() {
    let api = Api::new();
    let body = registration("幂等测试有限公司");
    let key = format!("reg-{}", std::process::id());
    let first = api.post("/v1/enterprises").header("idempotency-key", &key).json(&body).send();
    assert_eq!(first.status, 201);
    // Nothing is registered twice, and the first answer (with its API key) goes to nobody else:
    // whoever sends the same key and body is told the key was used.
    let again = api.post("/v1/enterprises").header("idempotency-key", &key).json(&body).send();
    assert_eq!((again.status, again.problem()), (409, "idempotency-key-used"), "{:?}", again.body);
    assert!(!String::from_utf8_lossy(&again.raw).contains("api_key"));
    let mut other = body.clone();
    other["name"] = json!("另一家有限公司");
    let reused = api.post("/v1/enterprises").header("idempotency-key", &key).json(&other).send();
    assert_eq!((reused.status, reused.problem()), (422, "idempotency-key-reused"));
}
