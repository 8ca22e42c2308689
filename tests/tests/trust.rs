//! The platform's trust promises, tried over HTTP the way a tenant or an anonymous caller would
//! attack them: the seal image that was reviewed is the one stamped, the enterprise is who real-
//! name authentication found, a stored answer goes back only to its owner, only trusted
//! certificates are attributed, reading a contract never moves its trail, a trail that loses
//! events says so, and a seal suspended during signing stops the signature.

use std::process::Command;

use esign_core::ports::{Condition, Key, Record, RecordStore, Write};
use esign_e2e::{Api, OPERATOR_KEY, Reply};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

struct Party {
    enterprise: String,
    key: String,
    member: String,
    seal: String,
}

fn sha256_hex(b: &[u8]) -> String {
    hex_encode(&Sha256::digest(b))
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sample_pdf(pages: u32) -> Vec<u8> {
    esign_e2e::sample_contract(pages)
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

fn store() -> esign_aws::dynamo::DynamoStore {
    block_on(async {
        let sdk = esign_aws::emulator_sdk_config(esign_e2e::emulator());
        esign_aws::dynamo::DynamoStore::from_sdk(&sdk, esign_e2e::records_table())
    })
}

/// A seal draft with a presigned upload of `image`, submitted; returns (seal id, upload URL).
fn submitted_seal(api: &Api, key: &str, image: &[u8]) -> (String, String) {
    let r = api
        .post("/v1/seals")
        .key(key)
        .json(&json!({"name": "合同专用章", "kind": "contract", "image_size": image.len()}))
        .send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["seal"]["id"].as_str().unwrap().to_owned();
    let url = r.body["upload"]["upload_url"].as_str().unwrap().to_owned();
    let up = api.put(&url).raw("image/png", image.to_vec()).send();
    assert_eq!(up.status, 200);
    let r = api.post(&format!("/v1/seals/{id}/submit")).key(key).send();
    assert_eq!(r.status, 202, "{:?}", r.body);
    (id, url)
}

fn approve_seal(api: &Api, id: &str) -> Value {
    let r = api
        .post(&format!("/v1/operator/seals/{id}/decision"))
        .key(OPERATOR_KEY)
        .json(&json!({"decision": "approve"}))
        .send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

fn granted(api: &Api, enterprise: &str, key: &str, member: &str, seal: &str) -> Party {
    let r = api.put(&format!("/v1/seals/{seal}/grants/{member}")).key(key).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    Party { enterprise: enterprise.to_owned(), key: key.to_owned(), member: member.to_owned(), seal: seal.to_owned() }
}

/// A verified enterprise whose administrator holds a grant for an active seal of it.
fn party(api: &Api, name: &str) -> Party {
    let (seal, key, member, body) = esign_e2e::active_seal(api, name, "ecdsa_p256");
    let enterprise = body["enterprise_id"].as_str().unwrap().to_owned();
    granted(api, &enterprise, &key, &member, &seal)
}

/// A one-page contract of `by` with one signature placement per party, opened for signing.
fn contract(api: &Api, by: &Party, parties: &[&Party]) -> String {
    let pdf = sample_pdf(1);
    let r =
        api.post("/v1/contracts").key(&by.key).json(&json!({"title": "信任测试", "document_size": pdf.len()})).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["contract"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        api.put(r.body["upload"]["upload_url"].as_str().unwrap()).raw("application/pdf", pdf).send().status,
        200
    );
    let list: Vec<Value> = parties.iter().map(|p| json!({"enterprise_id": p.enterprise})).collect();
    let r = api
        .put(&format!("/v1/contracts/{id}/parties"))
        .key(&by.key)
        .json(&json!({"order": "parallel", "parties": list}))
        .send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let placements: Vec<Value> = parties
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({"kind": "signature", "party": p.enterprise, "page": 1, "x": 60.0 + 250.0 * i as f64, "y": 560.0,
                   "width": 110.0, "height": 110.0})
        })
        .collect();
    let r =
        api.put(&format!("/v1/contracts/{id}/placements")).key(&by.key).json(&json!({"placements": placements})).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = api.post(&format!("/v1/contracts/{id}/open")).key(&by.key).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    id
}

/// Asks for a signing code and reads it from the development outbox, found by the member's
/// own mobile number (as its phone would receive it).
fn code(api: &Api, p: &Party, contract: &str) -> (String, String) {
    let members = api.get("/v1/members").key(&p.key).send();
    let me = members.body["items"].as_array().unwrap().iter().find(|m| m["id"] == p.member.as_str()).unwrap();
    let mobile = me["mobile"].as_str().unwrap().to_owned();
    // Signing codes go only to a confirmed mobile.
    if me["mobile_confirmed"] != true {
        api.confirm_contact(&p.key, &p.member, "sms", &mobile);
    }
    let r = api.post(&format!("/v1/contracts/{contract}/otp")).key(&p.key).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let otp = r.body["otp_id"].as_str().unwrap().to_owned();
    let (code, _) = api.latest_code(&mobile);
    (otp, code)
}

fn sign(api: &Api, p: &Party, contract: &str) -> Reply {
    let (otp, code) = code(api, p, contract);
    api.post(&format!("/v1/contracts/{contract}/sign"))
        .key(&p.key)
        .json(&json!({"seal_id": p.seal, "otp_id": otp, "code": code}))
        .send()
}

fn download(api: &Api, p: &Party, contract: &str) -> Vec<u8> {
    let d = api.get(&format!("/v1/contracts/{contract}/document")).key(&p.key).send();
    assert_eq!(d.status, 200, "{:?}", d.body);
    api.get(d.body["url"].as_str().unwrap()).send().raw
}

#[test]
fn a_seal_image_swapped_after_submission_is_never_reviewed_nor_stamped() {
    let api = Api::new();
    let (enterprise, key, member) = api.verified_enterprise("换章测试有限公司");
    let genuine = esign_core::seal_image::samples::ring(300, [220, 20, 30], 0);
    // Another image that passes every rule, told apart by its size in the signed PDF.
    let other = esign_core::seal_image::samples::ring(240, [200, 10, 20], 0);
    let (seal, url) = submitted_seal(&api, &key, &genuine);
    // The upload URL is still valid after submission: the admin writes the other image.
    assert_eq!(api.put(&url).raw("image/png", other.clone()).send().status, 200);
    let queue = api.get("/v1/operator/seals?limit=100").key(OPERATOR_KEY).send();
    let mine = queue.body["items"].as_array().unwrap().iter().find(|s| s["id"] == seal.as_str()).unwrap().clone();
    assert_eq!(mine["image_sha256"], sha256_hex(&genuine).as_str());
    let shown = api.get(mine["image_url"].as_str().unwrap()).send().raw;
    assert_eq!(sha256_hex(&shown), sha256_hex(&genuine), "the reviewer sees the submitted image");
    let approved = approve_seal(&api, &seal);
    assert_eq!(approved["image"]["sha256"], sha256_hex(&genuine).as_str());
    // And once more after approval.
    assert_eq!(api.put(&url).raw("image/png", other).send().status, 200);
    let a = granted(&api, &enterprise, &key, &member, &seal);
    let id = contract(&api, &a, &[&a]);
    let r = sign(&api, &a, &id);
    assert_eq!(r.status, 200, "{:?}", r.body);
    let pdf = download(&api, &a, &id);
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("/Width 300") && !text.contains("/Width 240"), "the stamp is the reviewed image");
    let _ = std::fs::remove_dir_all(esign_e2e::check_signatures(&api, &pdf, 2, "swap")); // its signature + the document time stamp of completion
}

#[test]
fn the_enterprise_is_who_real_name_authentication_found() {
    let api = Api::new();
    // Registered under a famous bank's name; authenticated as the company it really is.
    let (id, key, _) = api.register("中国工商银行股份有限公司");
    let body = esign_e2e::submission();
    let r = api.post(&format!("/v1/enterprises/{id}/verification")).key(&key).json(&body).send();
    assert_eq!(r.status, 202, "{:?}", r.body);
    let vid = r.body["verification"]["id"].as_str().unwrap().to_owned();
    // A second account submits the same USCC while the first waits.
    let (id2, key2, _) = api.register("另一个账户有限公司");
    let r = api.post(&format!("/v1/enterprises/{id2}/verification")).key(&key2).json(&body).send();
    assert_eq!(r.status, 202, "{:?}", r.body);
    let vid2 = r.body["verification"]["id"].as_str().unwrap().to_owned();
    let decide = |v: &str| {
        api.post(&format!("/v1/operator/verifications/{v}/decision"))
            .key(OPERATOR_KEY)
            .json(&json!({"decision": "approve"}))
            .send()
    };
    assert_eq!(decide(&vid).status, 200);
    let e = api.get(&format!("/v1/enterprises/{id}")).key(&key).send();
    assert_eq!(e.body["name"], body["company_name"]);
    assert_eq!(e.body["verified_identity"]["uscc"], body["uscc"]);
    // The operator sees the conflict; approving the second is a clear 409, and it stays pending.
    let detail = api.get(&format!("/v1/operator/verifications/{vid2}")).key(OPERATOR_KEY).send();
    assert_eq!(detail.body["uscc_verified_by"], id.as_str());
    let second = decide(&vid2);
    assert_eq!((second.status, second.problem()), (409, "uscc-taken"), "{:?}", second.body);
    assert_eq!(api.get(&format!("/v1/enterprises/{id2}")).key(&key2).send().body["status"], "pending_review");
    // A third account cannot even submit it.
    let (id3, key3, _) = api.register("第三个账户有限公司");
    let third = api.post(&format!("/v1/enterprises/{id3}/verification")).key(&key3).json(&body).send();
    assert_eq!((third.status, third.problem()), (409, "uscc-taken"));

    // As a party, in webhooks and in the public report, the verified name is what shows.
    let (seal, _) = submitted_seal(&api, &key, &esign_core::seal_image::samples::red_seal());
    approve_seal(&api, &seal);
    let member = api.get("/v1/members").key(&key).send().body["items"][0]["id"].as_str().unwrap().to_owned();
    let a = granted(&api, &id, &key, &member, &seal);
    let cid = contract(&api, &a, &[&a]);
    let view = api.get(&format!("/v1/contracts/{cid}")).key(&a.key).send();
    assert_eq!(view.body["parties"][0]["enterprise_name"], body["company_name"]);
    assert_eq!(view.body["parties"][0]["uscc"], body["uscc"]);
    assert_eq!(sign(&api, &a, &cid).status, 200);
    let report = api.post("/v1/verify").raw("application/pdf", download(&api, &a, &cid)).send();
    assert_eq!(report.status, 200, "{:?}", report.body);
    let known = &report.body["signatures"][0]["seal"];
    assert_eq!(known["enterprise_name"], body["company_name"], "{known:?}");
    assert_eq!(known["uscc"], body["uscc"]);
}

#[test]
fn anonymous_answers_are_never_replayed_to_another_caller() {
    let api = Api::new();
    // (A registration retried with the same key: tests/registration.rs.)
    let idem = format!("verify-{}", std::process::id());
    // Verification changes nothing: it simply runs again, never answered from a store.
    let pdf = sample_pdf(1);
    for _ in 0..2 {
        let r = api.post("/v1/verify").header("idempotency-key", &idem).raw("application/pdf", pdf.clone()).send();
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.header("idempotent-replayed"), None);
    }
    // A member's own retry is still answered from the store, to that member only.
    let (_, key, _) = api.verified_enterprise("幂等会员有限公司");
    let body = json!({"name": "李四", "mobile": esign_e2e::unique_mobile(), "email": "li@example.com"});
    let one = api.post("/v1/members").key(&key).header("idempotency-key", "m-1").json(&body).send();
    assert_eq!(one.status, 201, "{:?}", one.body);
    let two = api.post("/v1/members").key(&key).header("idempotency-key", "m-1").json(&body).send();
    assert_eq!(two.header("idempotent-replayed"), Some("true"));
    assert_eq!(one.body, two.body);
}

#[test]
fn a_self_made_certificate_with_a_platform_serial_is_not_attributed() {
    let api = Api::new();
    let a = party(&api, "证书归属测试有限公司");
    let serial = api.get(&format!("/v1/seals/{}", a.seal)).key(&a.key).send().body["certificate"]["serial"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = std::env::temp_dir().join(format!("esign-trust-{}-forged", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (key_pem, cert_pem) = (dir.join("k.pem"), dir.join("c.pem"));
    let ok = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30"])
        .args(["-subj", "/C=CN/O=证书归属测试有限公司/CN=合同专用章", "-utf8"])
        .args(["-set_serial", &format!("0x{serial}")])
        .arg("-keyout")
        .arg(&key_pem)
        .arg("-out")
        .arg(&cert_pem)
        .output()
        .expect("openssl runs");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let signer = esign_pades::LocalSigner::from_pem(
        &std::fs::read_to_string(&key_pem).unwrap(),
        &std::fs::read_to_string(&cert_pem).unwrap(),
        None,
    )
    .unwrap();
    let forged = block_on(esign_pades::sign_pdf(&sample_pdf(1), esign_pades::SignRequest::default(), &signer, None))
        .expect("signs");
    let report = api.post("/v1/verify").raw("application/pdf", forged).send();
    assert_eq!(report.status, 200, "{:?}", report.body);
    let s = &report.body["signatures"][0];
    assert_eq!(s["signer_serial"], serial.as_str(), "the forgery copies the serial");
    assert_eq!(s["trusted"], false);
    assert_eq!(s["seal"], Value::Null, "an untrusted signature names no platform seal: {s:?}");
    assert_eq!(report.body["valid"], false);
}

#[test]
fn reading_a_contract_never_moves_its_trail_and_trails_page() {
    let api = Api::new();
    let a = party(&api, "读取测试有限公司");
    let id = contract(&api, &a, &[&a]);
    let trail = |api: &Api| api.get(&format!("/v1/contracts/{id}/audit?limit=100")).key(&a.key).send();
    let before = trail(&api);
    let events = before.body["items"].as_array().unwrap().len();
    for _ in 0..5 {
        download(&api, &a, &id);
    }
    let after = trail(&api);
    assert_eq!(after.body["items"].as_array().unwrap().len(), events, "downloads stay off the trail");
    assert_eq!(after.body["chain_intact"], true);
    let access = api.get(&format!("/v1/contracts/{id}/audit?trail=access")).key(&a.key).send();
    assert_eq!(access.status, 200, "{:?}", access.body);
    let downloads = access.body["items"].as_array().unwrap();
    assert_eq!(downloads.len(), 5);
    assert!(downloads.iter().all(|e| e["action"] == "contract.downloaded"));
    assert_eq!(access.body["chain_intact"], true);
    // Pages of two, to the end.
    let mut seen = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/contracts/{id}/audit?limit=2&cursor={c}"),
            None => format!("/v1/contracts/{id}/audit?limit=2"),
        };
        let page = api.get(&path).key(&a.key).send();
        assert_eq!(page.status, 200, "{:?}", page.body);
        seen += page.body["items"].as_array().unwrap().len();
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, events);
    // Signing still works after any number of reads, in one round.
    assert_eq!(sign(&api, &a, &id).status, 200);
    // Numbers a client sends never overflow.
    for bad in ["18446744073709551615", "-1", "99999999999999999999999"] {
        let r = api.get(&format!("/v1/contracts/{id}/audit?cursor={bad}")).key(&a.key).send();
        assert_eq!((r.status, r.problem()), (422, "validation-failed"), "{bad}: {:?}", r.body);
    }
    let (eid, key, _) = api.register("游标测试有限公司");
    let r = api.get(&format!("/v1/enterprises/{eid}/audit?cursor=18446744073709551615")).key(&key).send();
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(api.get(&format!("/v1/contracts/{id}/audit?trail=other")).key(&a.key).send().status, 422);
}

#[test]
fn a_trail_that_loses_its_newest_events_says_so_even_with_its_head_rewound() {
    let api = Api::new();
    let (id, key, _) = api.verified_enterprise("审计锚定测试有限公司");
    let trail = || api.get(&format!("/v1/enterprises/{id}/audit?limit=100")).key(&key).send();
    assert_eq!(trail().body["chain_intact"], true);
    // Anchoring is the operators' (and the schedule's) call.
    assert_eq!(api.post("/v1/operator/audit-anchors").key(&key).send().status, 403);
    let run = api.post("/v1/operator/audit-anchors").key(OPERATOR_KEY).send();
    assert_eq!(run.status, 200, "{:?}", run.body);
    assert!(run.body["anchored"].as_u64().unwrap() >= 1, "{:?}", run.body);
    assert_eq!(trail().body["chain_intact"], true);
    let items = trail().body["items"].as_array().unwrap().clone();
    let (last, prev) = (&items[items.len() - 1], &items[items.len() - 2]);
    // Somebody with write access to the table deletes the newest event.
    let store = store();
    let subject = format!("AUDIT#ENT#{id}");
    block_on(store.write(vec![Write::Delete {
        key: Key::new(&subject, format!("EVENT#{:012}", last["seq"].as_u64().unwrap())),
        condition: Condition::Always,
    }]))
    .unwrap();
    assert_eq!(trail().body["chain_intact"], false, "the head names an event that is gone");
    // ... and rewinds the head to the event before: the TSA-stamped anchor still tells.
    block_on(store.write(vec![Write::Put {
        record: Record::new(
            Key::new(&subject, "HEAD"),
            json!({"seq": prev["seq"], "hash": prev["hash"], "subject": format!("ENT#{id}")}),
        ),
        condition: Condition::Always,
    }]))
    .unwrap();
    assert_eq!(trail().body["chain_intact"], false, "the anchored event is gone");
}

#[test]
fn a_seal_suspended_while_signing_stops_the_signature() {
    let api = Api::new();
    let a = party(&api, "签署中止测试有限公司");
    let id = contract(&api, &a, &[&a]);
    let store = store();
    let seal = block_on(store.get(&Key::new(format!("SEAL#{}", a.seal), "SEAL"))).unwrap().unwrap();
    let key_id = seal.data["key_id"].as_str().unwrap().to_owned();
    esign_e2e::faults::hold_key(&key_id, true);
    let reply = std::thread::scope(|s| {
        let signing = s.spawn(|| sign(&Api::new(), &a, &id));
        let mut waited = 0;
        while !esign_e2e::faults::key_reached(&key_id) && waited < 600 {
            std::thread::sleep(std::time::Duration::from_millis(50));
            waited += 1;
        }
        assert!(esign_e2e::faults::key_reached(&key_id), "the signing reached KMS");
        let r = api.post(&format!("/v1/seals/{}/suspend", a.seal)).key(&a.key).send();
        assert_eq!(r.status, 200, "{:?}", r.body);
        esign_e2e::faults::hold_key(&key_id, false);
        signing.join().unwrap()
    });
    assert_eq!((reply.status, reply.problem()), (403, "forbidden"), "{:?}", reply.body);
    let view = api.get(&format!("/v1/contracts/{id}")).key(&a.key).send();
    assert!(view.body["signatures"].as_array().unwrap().is_empty(), "{:?}", view.body["signatures"]);
    assert_eq!(view.body["revisions"].as_array().unwrap().len(), 1);
}
