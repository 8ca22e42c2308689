//! Seals over HTTP: draft, image upload to S3, checks on the real bytes, review, the KMS key and
//! certificate issued on approval (verified with openssl against the published CA chain),
//! suspension and revocation, and authorization grants.

use std::process::Command;

use esign_core::seal_image::samples;
use esign_e2e::{Api, OPERATOR_KEY, Reply, active_seal};
use serde_json::{Value, json};

fn create(api: &Api, key: &str, size: usize) -> Reply {
    api.post("/v1/seals").key(key).json(&json!({"name": "合同专用章", "kind": "contract", "image_size": size})).send()
}

fn upload(api: &Api, draft: &Reply, bytes: Vec<u8>) {
    let url = draft.body["upload"]["upload_url"].as_str().expect("upload url");
    let r = api.put(url).raw("image/png", bytes).send();
    assert_eq!(r.status, 200, "upload: {}", String::from_utf8_lossy(&r.raw));
}

fn submit(api: &Api, key: &str, id: &str) -> Reply {
    api.post(&format!("/v1/seals/{id}/submit")).key(key).send()
}

fn decide(api: &Api, id: &str, body: Value) -> Reply {
    api.post(&format!("/v1/operator/seals/{id}/decision")).key(OPERATOR_KEY).json(&body).send()
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().expect("openssl runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn an_approved_seal_gets_a_kms_key_and_a_certificate_that_chains_to_the_platform_root() {
    let api = Api::new();
    for algorithm in ["ecdsa_p256", "rsa_2048"] {
        let (id, key, _, seal) = active_seal(&api, &format!("证书测试{algorithm}有限公司").replace('_', ""), algorithm);
        assert_eq!(seal["status"], "active");
        let cert = seal["certificate"]["pem"].as_str().expect("certificate");
        let chain = api.get("/v1/ca/certificates").send();
        assert_eq!(chain.status, 200);
        assert_eq!(chain.header("content-type"), Some("application/x-pem-file"));
        let pems = String::from_utf8(chain.raw.clone()).unwrap();
        assert_eq!(pems.matches("BEGIN CERTIFICATE").count(), 2, "root and issuing CA");
        let dir = std::env::temp_dir().join(format!("esign-seal-{}-{algorithm}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (root, rest) = pems.split_at(pems.find("-----END CERTIFICATE-----").unwrap() + 26);
        std::fs::write(dir.join("root.pem"), root).unwrap();
        std::fs::write(dir.join("issuing.pem"), rest.trim_start()).unwrap();
        std::fs::write(dir.join("seal.pem"), cert).unwrap();
        let p = |f: &str| dir.join(f).display().to_string();
        let (ok, out) =
            openssl(&["verify", "-CAfile", &p("root.pem"), "-untrusted", &p("issuing.pem"), &p("seal.pem")]);
        assert!(ok, "openssl verify: {out}");
        let (_, text) = openssl(&["x509", "-in", &p("seal.pem"), "-noout", "-text", "-nameopt", "utf8"]);
        assert!(text.contains("Digital Signature, Non Repudiation"), "{text}");
        let enterprise =
            api.get(&format!("/v1/enterprises/{}", seal["enterprise_id"].as_str().unwrap())).key(&key).send();
        let uscc = enterprise.body["verified_identity"]["uscc"].as_str().unwrap();
        assert!(text.contains(&format!("NTRCN-{uscc}")), "{text}");
        assert!(text.contains("深圳市腾讯计算机系统有限公司"), "{text}");
        assert!(!text.contains("Extended Key Usage"), "{text}");
        let expected_key = if algorithm == "rsa_2048" { "rsaEncryption" } else { "id-ecPublicKey" };
        assert!(text.contains(expected_key), "{text}");
        // The seal as its enterprise reads it.
        let got = api.get(&format!("/v1/seals/{id}")).key(&key).send();
        assert_eq!(got.body["certificate"]["serial"], seal["certificate"]["serial"]);
        assert!(got.body.get("key_id").is_none(), "the KMS key id is never shown");
    }
}

#[test]
fn bad_seal_images_get_their_named_422() {
    let api = Api::new();
    let (_, key, _) = api.verified_enterprise("印章图片有限公司");
    // Size limits are enforced before any upload.
    for size in [0usize, 20 * 1024 * 1024] {
        let r = create(&api, &key, size);
        assert_eq!(r.status, 422);
        assert_eq!(r.code_of("image_size").as_deref(), Some("range"));
    }
    let mut wide = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut wide, 10_000, 100);
        enc.set_color(png::ColorType::Rgba);
        enc.set_compression(png::Compression::Fast);
        enc.write_header().unwrap().write_image_data(&vec![0; 10_000 * 100 * 4]).unwrap();
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not_png", b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec()),
        ("not_png", b"this is not an image at all".to_vec()),
        ("dimensions", wide),
        ("opaque_background", samples::ring(300, [220, 20, 30], 255)),
        ("not_red", samples::ring(300, [20, 20, 200], 0)),
        ("undecodable", samples::red_seal()[..80].to_vec()),
    ];
    let draft = create(&api, &key, 1000);
    let id = draft.body["seal"]["id"].as_str().unwrap().to_owned();
    for (code, bytes) in cases {
        let ticket =
            api.post(&format!("/v1/seals/{id}/image")).key(&key).json(&json!({"image_size": bytes.len()})).send();
        assert_eq!(ticket.status, 201, "{:?}", ticket.body);
        upload(&api, &ticket, bytes);
        let r = submit(&api, &key, &id);
        assert_eq!((r.status, r.problem()), (422, "validation-failed"), "{code}: {:?}", r.body);
        assert_eq!(r.code_of("image").as_deref(), Some(code), "{:?}", r.body);
    }
    // Still a draft; the right image goes through.
    assert_eq!(api.get(&format!("/v1/seals/{id}")).key(&key).send().body["status"], "draft");
    let image = samples::red_seal();
    let ticket = api.post(&format!("/v1/seals/{id}/image")).key(&key).json(&json!({"image_size": image.len()})).send();
    upload(&api, &ticket, image);
    assert_eq!(submit(&api, &key, &id).status, 202);
    // Under review, the image can no longer be swapped.
    let r = api.post(&format!("/v1/seals/{id}/image")).key(&key).json(&json!({"image_size": 10})).send();
    assert_eq!(r.status, 409);
    let queue = api.get("/v1/operator/seals?limit=100").key(OPERATOR_KEY).send();
    let item = queue.body["items"].as_array().unwrap().iter().find(|s| s["id"] == id.as_str()).expect("queued");
    let img = api.get(item["image_url"].as_str().unwrap()).send();
    assert_eq!(img.raw, samples::red_seal());
    let r = decide(&api, &id, json!({"decision": "reject", "reason": "印章名称与营业执照不符"}));
    assert_eq!(r.body["status"], "rejected");
    assert_eq!(api.get(&format!("/v1/seals/{id}")).key(&key).send().body["review"]["reason"], "印章名称与营业执照不符");
}

#[test]
fn seals_need_a_verified_enterprise_and_stay_within_it() {
    let api = Api::new();
    let (_, unverified, _) = api.register("未认证印章有限公司");
    let r = create(&api, &unverified, 1000);
    assert_eq!((r.status, r.problem()), (403, "enterprise-not-verified"));
    let (id, _, _, _) = active_seal(&api, "甲方印章有限公司", "ecdsa_p256");
    let (_, other, other_admin) = api.verified_enterprise("乙方印章有限公司");
    assert_eq!(api.get(&format!("/v1/seals/{id}")).key(&other).send().status, 404);
    assert_eq!(api.post(&format!("/v1/seals/{id}/revoke")).key(&other).send().status, 404);
    assert_eq!(api.put(&format!("/v1/seals/{id}/grants/{other_admin}")).key(&other).send().status, 404);
    assert_eq!(api.get(&format!("/v1/seals/{id}/grants")).key(&other).send().status, 404);
    let mine = api.get("/v1/seals").key(&other).send();
    assert!(mine.body["items"].as_array().unwrap().iter().all(|s| s["id"] != id.as_str()));
    // Enterprises cannot review seals.
    assert_eq!(
        api.post(&format!("/v1/operator/seals/{id}/decision"))
            .key(&other)
            .json(&json!({"decision": "approve"}))
            .send()
            .status,
        403
    );
}

#[test]
fn grants_suspension_and_revocation() {
    let api = Api::new();
    let (id, key, admin, _) = active_seal(&api, "授权印章有限公司", "ecdsa_p256");
    let m = api
        .post("/v1/members")
        .key(&key)
        .json(&json!({"name": "李四", "mobile": "13900139000", "email": "l@example.com"}))
        .send();
    let member = m.body["member"]["id"].as_str().unwrap().to_owned();
    let member_key = m.body["api_key"].as_str().unwrap().to_owned();

    let r = api
        .put(&format!("/v1/seals/{id}/grants/{member}"))
        .key(&key)
        .json(&json!({"expires_at": "2020-01-01T00:00:00Z"}))
        .send();
    assert_eq!(r.code_of("expires_at").as_deref(), Some("past"));
    let r = api
        .put(&format!("/v1/seals/{id}/grants/{member}"))
        .key(&key)
        .json(&json!({"expires_at": "2099-01-01T00:00:00Z"}))
        .send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["expires_at"], "2099-01-01T00:00:00Z");
    let r = api.put(&format!("/v1/seals/{id}/grants/{admin}")).key(&key).send();
    assert_eq!(r.status, 200);
    assert_eq!(r.body["expires_at"], Value::Null);
    assert_eq!(api.put(&format!("/v1/seals/{id}/grants/mem_nobody")).key(&key).send().status, 404);
    // Members cannot grant.
    assert_eq!(api.put(&format!("/v1/seals/{id}/grants/{member}")).key(&member_key).send().status, 403);
    let list = api.get(&format!("/v1/seals/{id}/grants")).key(&key).send();
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(api.delete(&format!("/v1/seals/{id}/grants/{member}")).key(&key).send().status, 204);
    assert_eq!(api.delete(&format!("/v1/seals/{id}/grants/{member}")).key(&key).send().status, 404);

    assert_eq!(api.post(&format!("/v1/seals/{id}/suspend")).key(&key).send().body["status"], "suspended");
    assert_eq!(api.post(&format!("/v1/seals/{id}/suspend")).key(&key).send().status, 409);
    assert_eq!(api.post(&format!("/v1/seals/{id}/resume")).key(&key).send().body["status"], "active");
    assert_eq!(api.post(&format!("/v1/seals/{id}/revoke")).key(&key).send().body["status"], "revoked");
    assert_eq!(api.post(&format!("/v1/seals/{id}/resume")).key(&key).send().status, 409);
    assert_eq!(api.put(&format!("/v1/seals/{id}/grants/{member}")).key(&key).send().status, 409);

    let trail = api.get(&format!("/v1/seals/{id}/audit")).key(&key).send();
    let actions: Vec<&str> =
        trail.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "seal.created",
            "seal.submitted",
            "seal.approved",
            "seal.grant.created",
            "seal.grant.created",
            "seal.grant.revoked",
            "seal.suspended",
            "seal.resumed",
            "seal.revoked"
        ]
    );
    assert_eq!(trail.body["chain_intact"], true);
}

#[test]
fn a_generated_seal_is_drawn_by_the_platform_and_reviewed_like_an_upload() {
    let api = Api::new();
    let (_, key, _) = api.verified_enterprise("生成印章有限公司");
    let both = api
        .post("/v1/seals")
        .key(&key)
        .json(&json!({"name": "合同专用章", "kind": "contract", "image_size": 100, "generate": true}))
        .send();
    assert_eq!((both.status, both.code_of("generate").as_deref()), (422, Some("conflict")), "{:?}", both.body);
    let draft = api
        .post("/v1/seals")
        .key(&key)
        .json(&json!({"name": "合同专用章", "kind": "contract", "generate": true}))
        .send();
    assert_eq!(draft.status, 201, "{:?}", draft.body);
    assert!(draft.body["upload"].is_null());
    let id = draft.body["seal"]["id"].as_str().unwrap().to_owned();
    assert_eq!(submit(&api, &key, &id).status, 202);
    // The reviewer sees the drawn image: a 600 px RGBA PNG that passes the platform's own checks.
    let queue = api.get("/v1/operator/seals?limit=100").key(OPERATOR_KEY).send();
    let item = queue.body["items"].as_array().unwrap().iter().find(|s| s["id"] == id.as_str()).expect("in review");
    let png = api.get(item["image_url"].as_str().unwrap()).send().raw;
    let facts = esign_core::seal_image::check(&png).expect("a valid seal image");
    assert_eq!((facts.width, facts.height), (600, 600));
    let approved = decide(&api, &id, json!({"decision": "approve"}));
    assert_eq!(approved.body["status"], "active", "{:?}", approved.body);
}
