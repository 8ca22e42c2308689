//! Webhooks end to end: endpoints registered over HTTP, events made by real requests, delivered
//! by the local server's worker through the emulator's SQS queue to a real HTTP receiver on
//! 127.0.0.1 that checks the Standard Webhooks signature on its own (HMAC-SHA256 with the
//! decoded `whsec_` secret), as a receiver's library would.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use esign_e2e::{Api, OPERATOR_KEY, submission};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signatures: Vec<String>,
    body: Vec<u8>,
}

impl Received {
    /// Verifies as the Standard Webhooks libraries do: any `v1,` signature that matches.
    fn verifies_with(&self, secret: &str) -> bool {
        let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).expect("base64 secret");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("hmac key");
        mac.update(format!("{}.{}.", self.id, self.timestamp).as_bytes());
        mac.update(&self.body);
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        self.signatures.contains(&expected)
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// A webhook receiver on 127.0.0.1: records every request, answers scripted statuses (then
/// 200), and answers 401 when a secret is set and no signature verifies with it.
#[derive(Clone)]
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
    secret: Arc<Mutex<Option<String>>>,
}

impl Receiver {
    fn start(script: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let r = Receiver {
            port: listener.local_addr().expect("addr").port(),
            got: Arc::default(),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            secret: Arc::default(),
        };
        r.serve(listener);
        r
    }

    /// A port nothing listens on (yet): connections are refused, as by a receiver that is down.
    fn down() -> Receiver {
        let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        Receiver { port, got: Arc::default(), script: Arc::default(), secret: Arc::default() }
    }

    /// Starts listening on the receiver's port.
    fn come_up(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("bind the same port again");
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let me = self.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let me = me.clone();
                std::thread::spawn(move || me.answer(stream));
            }
        });
    }

    fn answer(&self, mut stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
        let len: usize = header("content-length").parse().unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let got = Received {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signatures: header("webhook-signature").split(' ').map(str::to_owned).collect(),
            body,
        };
        let verified = self.secret.lock().unwrap().as_ref().is_none_or(|s| got.verifies_with(s));
        self.got.lock().unwrap().push(got);
        let status = if !verified { 401 } else { self.script.lock().unwrap().pop_front().unwrap_or(200) };
        let _ = write!(stream, "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/esign", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// Waits (at most a minute) until `done` holds; panics with `what` otherwise.
fn wait_for<T>(what: &str, mut done: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = done() {
            return v;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A registered enterprise (not verified yet) and its admin key.
fn enterprise(api: &Api, name: &str) -> (String, String) {
    let (id, key, _) = api.register(name);
    (id, key)
}

/// Registers an endpoint for verification decisions; answers (webhook id, secret).
fn subscribe(api: &Api, key: &str, url: &str) -> (String, String) {
    let r = api
        .post("/v1/webhooks")
        .key(key)
        .json(&json!({"url": url, "event_types": ["enterprise.verification.approved", "enterprise.verification.rejected"]}))
        .send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    (r.body["webhook"]["id"].as_str().unwrap().to_owned(), r.body["secret"].as_str().unwrap().to_owned())
}

/// Submits real-name authentication and has an operator approve it: the event.
fn approve(api: &Api, enterprise_id: &str, key: &str) {
    let r = api.post(&format!("/v1/enterprises/{enterprise_id}/verification")).key(key).json(&submission()).send();
    assert_eq!(r.status, 202, "{:?}", r.body);
    let vid = r.body["verification"]["id"].as_str().unwrap();
    let r = api
        .post(&format!("/v1/operator/verifications/{vid}/decision"))
        .key(OPERATOR_KEY)
        .json(&json!({"decision": "approve"}))
        .send();
    assert_eq!(r.status, 200, "{:?}", r.body);
}

fn deliveries(api: &Api, key: &str, webhook: &str) -> Vec<Value> {
    let r = api.get(&format!("/v1/webhooks/{webhook}/deliveries")).key(key).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

fn delivered(api: &Api, key: &str, webhook: &str) -> Option<Value> {
    deliveries(api, key, webhook).into_iter().find(|d| d["status"] == "delivered")
}

#[test]
fn registration_rules_and_secrets_shown_once() {
    let api = Api::new();
    let (_, key) = enterprise(&api, "钩子注册有限公司");
    let r = api
        .post("/v1/webhooks")
        .key(&key)
        .json(&json!({"url": "http://hooks.example.com/x", "event_types": ["seal.approved", "seal.exploded"]}))
        .send();
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(r.code_of("url").as_deref(), Some("https_required"));
    assert_eq!(r.code_of("event_types[1]").as_deref(), Some("unknown"));
    let (id, secret) = subscribe(&api, &key, "http://127.0.0.1:9/x");
    assert!(secret.starts_with("whsec_"));
    let list = api.get("/v1/webhooks").key(&key).send();
    assert_eq!(list.status, 200);
    assert_eq!(list.body["items"][0]["id"], id.as_str());
    assert!(!String::from_utf8_lossy(&list.raw).contains("whsec_"), "secrets are shown once");
    assert_eq!(api.delete(&format!("/v1/webhooks/{id}")).key(&key).send().status, 204);
    assert_eq!(api.delete(&format!("/v1/webhooks/{id}")).key(&key).send().status, 404);
}

#[test]
fn a_receiver_that_is_down_gets_the_event_when_it_comes_back() {
    let api = Api::new();
    let (ent, key) = enterprise(&api, "钩子宕机有限公司");
    let receiver = Receiver::down();
    let (webhook, secret) = subscribe(&api, &key, &receiver.url());
    approve(&api, &ent, &key);
    // Attempts fail while nothing listens, and are recorded.
    wait_for("two failed attempts", || {
        let d = deliveries(&api, &key, &webhook);
        let attempts = d.first()?["attempts"].as_array()?.clone();
        (attempts.len() >= 2).then_some(())
    });
    let d = &deliveries(&api, &key, &webhook)[0];
    assert_eq!(d["status"], "pending");
    assert!(d["attempts"][0]["status_code"].is_null() && d["attempts"][0]["error"].is_string(), "{d}");
    receiver.come_up();
    let d = wait_for("the delivery", || delivered(&api, &key, &webhook));
    let got = receiver.received();
    assert!(!got.is_empty());
    for r in &got {
        assert_eq!(r.id, d["event_id"].as_str().unwrap(), "a duplicate carries the same id");
        assert!(r.verifies_with(&secret));
        assert_eq!(r.json()["type"], "enterprise.verification.approved");
        assert_eq!(r.json()["data"]["enterprise_id"], ent.as_str());
    }
}

#[test]
fn a_receiver_answering_500_three_times_gets_it_on_the_fourth_attempt() {
    let api = Api::new();
    let (ent, key) = enterprise(&api, "钩子重试有限公司");
    let receiver = Receiver::start(&[500, 500, 500]);
    let (webhook, secret) = subscribe(&api, &key, &receiver.url());
    approve(&api, &ent, &key);
    let d = wait_for("the delivery", || delivered(&api, &key, &webhook));
    let codes: Vec<_> = d["attempts"].as_array().unwrap().iter().map(|a| a["status_code"].clone()).collect();
    assert_eq!(codes, [json!(500), json!(500), json!(500), json!(200)]);
    let got = receiver.received();
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|r| r.id == got[0].id && r.verifies_with(&secret)));
    // A redelivery sends the same event, with the same id, again.
    let id = d["id"].as_str().unwrap();
    let r = api.post(&format!("/v1/webhooks/{webhook}/deliveries/{id}/redeliver")).key(&key).send();
    assert_eq!(r.status, 202, "{:?}", r.body);
    wait_for("the redelivery", || (receiver.received().len() == 5).then_some(()));
    wait_for("the redelivery's record", || delivered(&api, &key, &webhook).filter(|d| d["attempt_count"] == 5));
    assert_eq!(receiver.received()[4].id, got[0].id);
}

#[test]
fn a_receiver_with_the_wrong_secret_cannot_verify_a_delivery() {
    let api = Api::new();
    let (ent, key) = enterprise(&api, "钩子密钥有限公司");
    let receiver = Receiver::start(&[]);
    let (webhook, secret) = subscribe(&api, &key, &receiver.url());
    let wrong = format!("whsec_{}", STANDARD.encode([7u8; 32]));
    *receiver.secret.lock().unwrap() = Some(wrong.clone());
    approve(&api, &ent, &key);
    wait_for("a rejected attempt", || {
        deliveries(&api, &key, &webhook)
            .first()
            .filter(|d| d["attempts"].as_array().is_some_and(|a| !a.is_empty()))
            .cloned()
    });
    let got = receiver.received();
    assert!(!got.is_empty());
    assert!(got.iter().all(|r| !r.verifies_with(&wrong) && r.verifies_with(&secret)));
    let d = &deliveries(&api, &key, &webhook)[0];
    assert_eq!(d["attempts"][0]["status_code"], 401);
    // With the right secret the next retry is accepted.
    *receiver.secret.lock().unwrap() = Some(secret);
    wait_for("the delivery", || delivered(&api, &key, &webhook));
}

#[test]
fn during_rotation_deliveries_verify_with_both_secrets() {
    let api = Api::new();
    let (ent, key) = enterprise(&api, "钩子轮换有限公司");
    let receiver = Receiver::start(&[]);
    let (webhook, old) = subscribe(&api, &key, &receiver.url());
    let r = api.post(&format!("/v1/webhooks/{webhook}/rotate")).key(&key).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let new = r.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(r.body["webhook"]["previous_secret_expires_at"].is_string());
    *receiver.secret.lock().unwrap() = Some(new.clone());
    approve(&api, &ent, &key);
    wait_for("the delivery", || delivered(&api, &key, &webhook));
    let got = &receiver.received()[0];
    assert_eq!(got.signatures.len(), 2, "{:?}", got.signatures);
    assert!(got.verifies_with(&old) && got.verifies_with(&new));
}

#[test]
fn another_enterprise_never_receives_this_ones_events() {
    let api = Api::new();
    let (a, a_key) = enterprise(&api, "钩子甲有限公司");
    let (_, b_key) = enterprise(&api, "钩子乙有限公司");
    let a_receiver = Receiver::start(&[]);
    let b_receiver = Receiver::start(&[]);
    let (a_hook, _) = subscribe(&api, &a_key, &a_receiver.url());
    let (b_hook, _) = subscribe(&api, &b_key, &b_receiver.url());
    approve(&api, &a, &a_key);
    wait_for("A's delivery", || delivered(&api, &a_key, &a_hook));
    assert_eq!(a_receiver.received().len(), 1);
    assert!(b_receiver.received().is_empty());
    assert!(deliveries(&api, &b_key, &b_hook).is_empty());
    // Nor can it see A's endpoint or deliveries.
    let r = api.get(&format!("/v1/webhooks/{a_hook}/deliveries")).key(&b_key).send();
    assert_eq!(r.status, 404);
    assert_eq!(api.delete(&format!("/v1/webhooks/{a_hook}")).key(&b_key).send().status, 404);
}

/// A one-page PDF from the project's sample generator.
fn sample_pdf() -> Vec<u8> {
    let path = std::env::temp_dir().join(format!("esign-webhooks-{}.pdf", std::process::id()));
    let ok = std::process::Command::new("python3")
        .arg(esign_e2e::repo_root().join("scripts/sample_contract.py"))
        .arg(&path)
        .arg("1")
        .status()
        .expect("python3 runs");
    assert!(ok.success());
    std::fs::read(&path).unwrap()
}

#[test]
fn grants_contracts_and_revocation_reach_the_enterprise_with_their_details() {
    let api = Api::new();
    let (seal, key, admin, approved) = esign_e2e::active_seal(&api, "钩子合同有限公司", "ecdsa_p256");
    let ent = approved["enterprise_id"].as_str().unwrap().to_owned();
    let receiver = Receiver::start(&[]);
    let outsider = Receiver::start(&[]);
    let types = ["seal.revoked", "seal.grant.created", "seal.grant.revoked", "contract.signed", "contract.completed"];
    let r = api.post("/v1/webhooks").key(&key).json(&json!({"url": receiver.url(), "event_types": types})).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    let (_, other_key, _) = api.verified_enterprise("钩子旁观有限公司");
    let r = api.post("/v1/webhooks").key(&other_key).json(&json!({"url": outsider.url(), "event_types": types})).send();
    assert_eq!(r.status, 201, "{:?}", r.body);

    // Granted, then a one-party contract signed with the seal.
    assert_eq!(api.put(&format!("/v1/seals/{seal}/grants/{admin}")).key(&key).send().status, 200);
    let mobile = api.get("/v1/members").key(&key).send().body["items"][0]["mobile"].as_str().unwrap().to_owned();
    api.confirm_contact(&key, &admin, "sms", &mobile);
    let pdf = sample_pdf();
    let title = format!("钩子合同 {}", std::process::id());
    let r = api.post("/v1/contracts").key(&key).json(&json!({"title": title, "document_size": pdf.len()})).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let contract = r.body["contract"]["id"].as_str().unwrap().to_owned();
    let up = api.put(r.body["upload"]["upload_url"].as_str().unwrap()).raw("application/pdf", pdf).send();
    assert_eq!(up.status, 200);
    let r = api
        .put(&format!("/v1/contracts/{contract}/parties"))
        .key(&key)
        .json(&json!({"order": "sequential", "parties": [{"enterprise_id": ent}]}))
        .send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let placements = json!({"placements": [
        {"kind": "signature", "party": ent, "page": 1, "x": 60.0, "y": 600.0, "width": 110.0, "height": 110.0},
        {"kind": "signing_date", "party": ent, "page": 1, "x": 60.0, "y": 720.0, "width": 110.0, "height": 16.0}
    ]});
    assert_eq!(api.put(&format!("/v1/contracts/{contract}/placements")).key(&key).json(&placements).send().status, 200);
    assert_eq!(api.post(&format!("/v1/contracts/{contract}/open")).key(&key).send().status, 200);
    let r = api.post(&format!("/v1/contracts/{contract}/otp")).key(&key).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let otp = r.body["otp_id"].as_str().unwrap().to_owned();
    let (code, _) = api.latest_code(&mobile);
    let r = api
        .post(&format!("/v1/contracts/{contract}/sign"))
        .key(&key)
        .json(&json!({"seal_id": seal, "otp_id": otp, "code": code}))
        .send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "completed");

    // The grant and the seal revoked.
    assert_eq!(api.delete(&format!("/v1/seals/{seal}/grants/{admin}")).key(&key).send().status, 204);
    assert_eq!(api.post(&format!("/v1/seals/{seal}/revoke")).key(&key).send().status, 200);

    let got = wait_for("five events", || (receiver.received().len() >= 5).then(|| receiver.received()));
    let mut seen: Vec<String> = got.iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect();
    seen.sort();
    seen.dedup();
    let mut expected: Vec<String> = types.iter().map(|t| (*t).to_owned()).collect();
    expected.sort();
    assert_eq!(seen, expected);
    assert!(got.iter().all(|r| r.verifies_with(&secret)));
    let event = |t: &str| got.iter().map(Received::json).find(|e| e["type"] == t).unwrap();
    let signed = event("contract.signed");
    assert_eq!(signed["data"]["contract_id"], contract.as_str());
    assert_eq!(signed["data"]["party"], ent.as_str());
    assert_eq!(signed["data"]["seal_id"], seal.as_str());
    assert_eq!(signed["data"]["revision"], 1);
    assert_eq!(event("contract.completed")["data"]["parties"], json!([ent]));
    assert_eq!(event("seal.grant.created")["data"]["member_id"], admin.as_str());
    assert_eq!(event("seal.revoked")["data"]["seal_id"], seal.as_str());
    assert!(outsider.received().is_empty(), "an enterprise outside the contract hears nothing");
}
