//! Real-name authentication over HTTP: submission, checks on the real data, operator review,
//! conditional transitions, authorization letters uploaded to S3 through presigned URLs.

use esign_e2e::{Api, OPERATOR_KEY, submission};
use serde_json::{Value, json};

fn submit(api: &Api, id: &str, key: &str, body: &Value) -> esign_e2e::Reply {
    api.post(&format!("/v1/enterprises/{id}/verification")).key(key).json(body).send()
}

fn decide(api: &Api, vid: &str, body: Value) -> esign_e2e::Reply {
    api.post(&format!("/v1/operator/verifications/{vid}/decision")).key(OPERATOR_KEY).json(&body).send()
}

#[test]
fn submit_review_approve() {
    let api = Api::new();
    let (id, key, _) = api.register("深圳市腾讯计算机系统有限公司");
    // Members cannot be added before approval.
    let early = api
        .post("/v1/members")
        .key(&key)
        .json(&json!({"name": "李四", "mobile": "13900139000", "email": "li@example.com"}))
        .send();
    assert_eq!((early.status, early.problem()), (403, "enterprise-not-verified"));

    let body = submission();
    let r = submit(&api, &id, &key, &body);
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["status"], "pending_review");
    let vid = r.body["verification"]["id"].as_str().unwrap().to_owned();
    // A second submission while one waits is a conflict.
    assert_eq!(submit(&api, &id, &key, &submission()).status, 409);

    // The operator sees it in the queue, with the full data.
    let queue = api.get("/v1/operator/verifications?status=pending_review&limit=100").key(OPERATOR_KEY).send();
    assert_eq!(queue.status, 200);
    let mine = queue.body["items"].as_array().unwrap().iter().find(|v| v["id"] == vid.as_str()).expect("queued");
    assert_eq!(mine["uscc"], body["uscc"]);
    assert_eq!(mine["organization_code"], body["organization_code"].as_str().unwrap().replace('-', ""));
    assert_eq!(mine["administrator"]["mobile"], "+8613800138000");
    let one = api.get(&format!("/v1/operator/verifications/{vid}")).key(OPERATOR_KEY).send();
    assert_eq!(one.status, 200);
    assert_eq!(one.body["enterprise_id"], id.as_str());
    // An enterprise key cannot review, not even its own submission.
    let r = api
        .post(&format!("/v1/operator/verifications/{vid}/decision"))
        .key(&key)
        .json(&json!({"decision": "approve"}))
        .send();
    assert_eq!((r.status, r.problem()), (403, "forbidden"));
    assert_eq!(api.get("/v1/operator/verifications").key(&key).send().status, 403);

    let r = decide(&api, &vid, json!({"decision": "approve"}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "approved");
    // Deciding again is a conflict, not a silent overwrite.
    let again = decide(&api, &vid, json!({"decision": "reject", "reason": "改主意了"}));
    assert_eq!((again.status, again.problem()), (409, "conflict"));

    let e = api.get(&format!("/v1/enterprises/{id}")).key(&key).send();
    assert_eq!(e.body["status"], "verified");
    assert_eq!(e.body["verification"]["status"], "approved");
    let trail = api.get(&format!("/v1/enterprises/{id}/audit")).key(&key).send();
    let actions: Vec<&str> =
        trail.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["enterprise.registered", "verification.submitted", "verification.approved"]);
    assert_eq!(trail.body["chain_intact"], true);
    assert_eq!(trail.body["items"][2]["actor"]["kind"], "operator");
    assert_eq!(trail.body["items"][2]["prev_hash"], trail.body["items"][1]["hash"]);
}

#[test]
fn rejection_with_reason_then_resubmission() {
    let api = Api::new();
    let (id, key, _) = api.register("驳回测试有限公司");
    let vid = submit(&api, &id, &key, &submission()).body["verification"]["id"].as_str().unwrap().to_owned();
    let r = decide(&api, &vid, json!({"decision": "reject"}));
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), ["reason"]);
    let r = decide(&api, &vid, json!({"decision": "maybe"}));
    assert_eq!(r.status, 422);
    let r = decide(&api, &vid, json!({"decision": "reject", "reason": "法定代表人信息与营业执照不符"}));
    assert_eq!(r.status, 200);
    let e = api.get(&format!("/v1/enterprises/{id}")).key(&key).send();
    assert_eq!(e.body["status"], "rejected");
    assert_eq!(e.body["verification"]["reason"], "法定代表人信息与营业执照不符");

    let r = submit(&api, &id, &key, &submission());
    assert_eq!(r.status, 202);
    let new_vid = r.body["verification"]["id"].as_str().unwrap().to_owned();
    assert_ne!(new_vid, vid);
    // The stale submission can no longer be decided.
    assert_eq!(decide(&api, &vid, json!({"decision": "approve"})).status, 409);
    assert_eq!(decide(&api, &new_vid, json!({"decision": "approve"})).status, 200);
    assert_eq!(decide(&api, "ver_unknown", json!({"decision": "approve"})).status, 404);
}

#[test]
fn concurrent_decisions_one_wins() {
    let api = Api::new();
    let (id, key, _) = api.register("并发审核有限公司");
    let vid = submit(&api, &id, &key, &submission()).body["verification"]["id"].as_str().unwrap().to_owned();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let vid = vid.clone();
                s.spawn(move || {
                    let api = Api::new();
                    let body = if i % 2 == 0 {
                        json!({"decision": "approve"})
                    } else {
                        json!({"decision": "reject", "reason": "并发"})
                    };
                    decide(&api, &vid, body).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    let trail = api.get(&format!("/v1/enterprises/{id}/audit")).key(&key).send();
    assert_eq!(trail.body["items"].as_array().unwrap().len(), 3);
    assert_eq!(trail.body["chain_intact"], true);
}

#[test]
fn each_rule_rejects_a_near_miss() {
    let api = Api::new();
    let (id, key, _) = api.register("校验测试有限公司");
    let cases: &[(&str, Value, &str, &str)] = &[
        ("uscc", json!("9144030071526726XH"), "uscc", "check_character"),
        ("uscc", json!("9144030071526726X"), "uscc", "length"),
        ("uscc", json!("9144030O71526726XG"), "uscc", "charset"),
        ("organization_code", json!("71526726-9"), "organization_code", "check_character"),
        ("organization_code", json!("19220382-1"), "organization_code", "org_code_mismatch"),
    ];
    for (field, value, reported, code) in cases {
        let mut body = submission();
        body[field] = value.clone();
        let r = submit(&api, &id, &key, &body);
        assert_eq!(r.status, 422, "{field}={value}: {:?}", r.body);
        assert_eq!(r.code_of(reported).as_deref(), Some(*code), "{field}={value}: {:?}", r.body);
    }
    let person_cases: &[(&str, &str, &str)] = &[
        ("11010519491231002X", "110105194912310021", "check_character"),
        ("11010519491231002X", "11010519490231002X", "birth_date"),
        ("11010519491231002X", "99010519491231002X", "region"),
    ];
    for (_, id_number, code) in person_cases {
        let mut body = submission();
        body["legal_representative"]["id_number"] = json!(id_number);
        let r = submit(&api, &id, &key, &body);
        assert_eq!(r.status, 422);
        assert_eq!(r.code_of("legal_representative.id_number").as_deref(), Some(*code), "{id_number}: {:?}", r.body);
    }
    let mut body = submission();
    body["administrator"]["mobile"] = json!("1380013800");
    assert_eq!(submit(&api, &id, &key, &body).fields(), ["administrator.mobile"]);
    // Claiming to be the legal representative with another ID number.
    let mut body = submission();
    body["administrator"]["id_number"] = json!("440305198502141230");
    let r = submit(&api, &id, &key, &body);
    assert_eq!(r.code_of("administrator.id_number").as_deref(), Some("not_legal_representative"));
    // Nothing was half-written: the enterprise is still waiting for a first valid submission.
    let e = api.get(&format!("/v1/enterprises/{id}")).key(&key).send();
    assert_eq!(e.body["status"], "registered");
    assert_eq!(e.body["verification"], Value::Null);
}

#[test]
fn authorization_letter_goes_to_s3_and_is_checked_on_its_bytes() {
    let api = Api::new();
    let (id, key, _) = api.register("授权书测试有限公司");
    let mut body = submission();
    body["administrator"] = json!({
        "name": "王五", "id_number": "440305198502141230", "mobile": "13700137000", "is_legal_representative": false
    });
    let r = submit(&api, &id, &key, &body);
    assert_eq!(r.code_of("authorization_letter_file_id").as_deref(), Some("required"));

    let letter = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let ticket = |api: &Api, size: usize| {
        api.post(&format!("/v1/enterprises/{id}/verification/letter"))
            .key(&key)
            .json(&json!({"content_type": "application/pdf", "size": size}))
            .send()
    };
    let t = ticket(&api, letter.len());
    assert_eq!(t.status, 201, "{:?}", t.body);
    assert_eq!(t.body["method"], "PUT");
    let file_id = t.body["file_id"].as_str().unwrap().to_owned();
    body["authorization_letter_file_id"] = json!(file_id);
    // Not uploaded yet.
    assert_eq!(submit(&api, &id, &key, &body).code_of("authorization_letter_file_id").as_deref(), Some("not_uploaded"));

    // Upload a JPEG where a PDF was declared: refused on the bytes.
    let url = t.body["upload_url"].as_str().unwrap();
    let jpeg = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
    let t2 = ticket(&api, jpeg.len());
    let url2 = t2.body["upload_url"].as_str().unwrap();
    let up = api.put(url2).raw("application/pdf", jpeg).send();
    assert!(up.status == 200, "upload: {} {}", up.status, String::from_utf8_lossy(&up.raw));
    let mut fake = body.clone();
    fake["authorization_letter_file_id"] = t2.body["file_id"].clone();
    assert_eq!(
        submit(&api, &id, &key, &fake).code_of("authorization_letter_file_id").as_deref(),
        Some("type_mismatch")
    );

    // The real letter.
    let up = api.put(url).raw("application/pdf", letter.clone()).send();
    assert_eq!(up.status, 200, "{}", String::from_utf8_lossy(&up.raw));
    let r = submit(&api, &id, &key, &body);
    assert_eq!(r.status, 202, "{:?}", r.body);
    let vid = r.body["verification"]["id"].as_str().unwrap();
    // The operator can read it back through a presigned link.
    let v = api.get(&format!("/v1/operator/verifications/{vid}")).key(OPERATOR_KEY).send();
    let link = v.body["authorization_letter_url"].as_str().expect("letter link");
    let got = api.get(link).send();
    assert_eq!(got.status, 200);
    assert_eq!(got.raw, letter);

    // Letters of the wrong type or size are refused before any upload.
    let r = api
        .post(&format!("/v1/enterprises/{id}/verification/letter"))
        .key(&key)
        .json(&json!({"content_type": "text/html", "size": 20_000_000}))
        .send();
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), ["content_type", "size"]);
}
