//! Contracts over HTTP against the emulator: two enterprises sign in turn with their KMS seals
//! and the platform TSA, confirmed by one-time codes read from the development outbox; the
//! result passes every independent judge. Then the ways signing must refuse or survive: wrong,
//! reused and worn-out codes, missing and expired grants, a revoked seal, the wrong turn, an
//! outsider, a repeated request, two parties at once, and KMS failing midway.

use std::path::{Path, PathBuf};
use std::process::Command;

use esign_core::ports::{Key, RecordStore};
use esign_e2e::{Api, OPERATOR_KEY, Reply, repo_root};
use serde_json::{Value, json};

struct Party {
    enterprise: String,
    key: String,
    seal: String,
}

/// A verified enterprise with an active seal granted to its administrator.
fn party(api: &Api, company: &str, algorithm: &str) -> Party {
    let (seal, key, admin, body) = esign_e2e::active_seal(api, company, algorithm);
    let r = api.put(&format!("/v1/seals/{seal}/grants/{admin}")).key(&key).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let _ = OPERATOR_KEY;
    let me = api.get("/v1/members").key(&key).send();
    let enterprise = me.body["items"][0]["enterprise_id"].as_str().unwrap().to_owned();
    assert_eq!(body["enterprise_id"], enterprise.as_str());
    Party { enterprise, key, seal }
}

fn sample_pdf(pages: u32) -> Vec<u8> {
    let path = std::env::temp_dir().join(format!("esign-contract-{}-{pages}.pdf", std::process::id()));
    let ok = Command::new("python3")
        .arg(repo_root().join("scripts/sample_contract.py"))
        .arg(&path)
        .arg(pages.to_string())
        .status()
        .expect("python3 runs");
    assert!(ok.success());
    std::fs::read(&path).unwrap()
}

fn place(p: &Party, kind: &str, page: u32, x: f64, y: f64) -> Value {
    let h = if kind == "signature" { 110.0 } else { 16.0 };
    json!({"kind": kind, "party": p.enterprise, "page": page, "x": x, "y": y, "width": 110.0, "height": h})
}

/// Creates, uploads, sets parties and placements, opens; returns the contract id.
fn contract(
    api: &Api,
    by: &Party,
    title: &str,
    pdf: Vec<u8>,
    parties: &[&Party],
    order: &str,
    placements: Vec<Value>,
) -> String {
    let r = api.post("/v1/contracts").key(&by.key).json(&json!({"title": title, "document_size": pdf.len()})).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["contract"]["id"].as_str().unwrap().to_owned();
    let up = api.put(r.body["upload"]["upload_url"].as_str().unwrap()).raw("application/pdf", pdf).send();
    assert_eq!(up.status, 200);
    let list: Vec<Value> = parties.iter().map(|p| json!({"enterprise_id": p.enterprise})).collect();
    let r = api
        .put(&format!("/v1/contracts/{id}/parties"))
        .key(&by.key)
        .json(&json!({"order": order, "parties": list}))
        .send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r =
        api.put(&format!("/v1/contracts/{id}/placements")).key(&by.key).json(&json!({"placements": placements})).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = api.post(&format!("/v1/contracts/{id}/open")).key(&by.key).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "signing");
    id
}

/// Asks for a code and reads it from the development outbox, as the member's phone would.
fn code(api: &Api, p: &Party, contract: &str, title: &str) -> (String, String) {
    let r = api.post(&format!("/v1/contracts/{contract}/otp")).key(&p.key).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let otp = r.body["otp_id"].as_str().unwrap().to_owned();
    let outbox = api.get("/v1/dev/outbox?limit=100").send();
    assert_eq!(outbox.status, 200);
    let body = outbox.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["body"].as_str().unwrap_or(""))
        .find(|b| b.contains(title))
        .expect("the code reached the outbox");
    let code = body.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).unwrap().to_owned();
    (otp, code)
}

fn sign(api: &Api, p: &Party, contract: &str, otp: &str, code: &str) -> Reply {
    api.post(&format!("/v1/contracts/{contract}/sign"))
        .key(&p.key)
        .json(&json!({"seal_id": p.seal, "otp_id": otp, "code": code}))
        .send()
}

fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

fn download(api: &Api, p: &Party, contract: &str) -> Vec<u8> {
    let d = api.get(&format!("/v1/contracts/{contract}/document")).key(&p.key).send();
    assert_eq!(d.status, 200, "{:?}", d.body);
    let pdf = api.get(d.body["url"].as_str().unwrap()).send();
    assert_eq!(pdf.status, 200);
    pdf.raw
}

/// Runs the independent judges on a signed PDF (`--expect` signatures, the platform root as the
/// only anchor), then renders every signature widget with and without its appearance
/// (`stamp_check.py`): each must show ink. Answers the pages the stamps are on, in field order.
fn judge(api: &Api, pdf: &[u8], expect: usize, name: &str) -> Vec<u32> {
    let dir = std::env::temp_dir().join(format!("esign-contracts-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pems = String::from_utf8(api.get("/v1/ca/certificates").send().raw).unwrap();
    let root = &pems[..pems.find("-----END CERTIFICATE-----").unwrap() + 26];
    std::fs::write(dir.join("root.pem"), root).unwrap();
    std::fs::write(dir.join("signed.pdf"), pdf).unwrap();
    let kit: PathBuf = repo_root().join("../shared/pdfcheck");
    let out = Command::new(kit.join("check_signed_pdf.sh"))
        .args(["--expect", &expect.to_string()])
        .arg(dir.join("signed.pdf"))
        .arg(dir.join("root.pem"))
        .output()
        .expect("check_signed_pdf.sh runs (install it with ../shared/pdfcheck/install.sh)");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.lines().last().unwrap_or("").starts_with("PASS"),
        "check_signed_pdf.sh: {text}"
    );
    let stamps = Command::new("python3")
        .arg(kit.join("stamp_check.py"))
        .arg(dir.join("signed.pdf"))
        .arg(dir.join("stamps"))
        .output()
        .expect("stamp_check.py runs");
    let lines = String::from_utf8_lossy(&stamps.stdout).to_string();
    assert!(stamps.status.success(), "stamp_check.py: {lines}{}", String::from_utf8_lossy(&stamps.stderr));
    let visible: Vec<&str> = lines.lines().filter(|l| l.contains("\tVISIBLE")).collect();
    assert_eq!(visible.len(), expect, "every signature's stamp shows ink: {lines}");
    let pages = visible
        .iter()
        .map(|l| l.split('\t').find_map(|f| f.strip_prefix("page ")).and_then(|p| p.parse().ok()).unwrap())
        .collect();
    let _ = std::fs::remove_dir_all(Path::new(&dir));
    pages
}

#[test]
fn two_parties_sign_in_turn_and_every_judge_passes() {
    let api = Api::new();
    let a = party(&api, "甲方合同有限公司", "ecdsa_p256");
    let b = party(&api, "乙方合同有限公司", "rsa_2048");
    let title = format!("采购合同-{}", std::process::id());
    let placements = vec![
        place(&a, "signature", 1, 60.0, 560.0),
        place(&a, "signing_date", 1, 60.0, 680.0),
        place(&b, "signature", 1, 400.0, 560.0),
        place(&b, "signing_date", 1, 400.0, 680.0),
    ];
    let id = contract(&api, &a, &title, sample_pdf(2), &[&a, &b], "sequential", placements);

    // B waits for A.
    let early = api.post(&format!("/v1/contracts/{id}/otp")).key(&b.key).send();
    assert_eq!((early.status, early.problem()), (409, "conflict"), "{:?}", early.body);
    let (otp, c) = code(&api, &a, &id, &title);
    let bad = sign(&api, &a, &id, &otp, wrong(&c));
    assert_eq!((bad.status, bad.code_of("code").as_deref()), (422, Some("mismatch")), "{:?}", bad.body);
    // A's seal is not B's to use.
    let stolen = api
        .post(&format!("/v1/contracts/{id}/sign"))
        .key(&b.key)
        .json(&json!({"seal_id": a.seal, "otp_id": otp, "code": c}))
        .send();
    assert_eq!(stolen.status, 404);
    // Signed once, with an Idempotency-Key; the retry replays instead of signing again.
    let first = api
        .post(&format!("/v1/contracts/{id}/sign"))
        .key(&a.key)
        .header("idempotency-key", "sign-a-1")
        .json(&json!({"seal_id": a.seal, "otp_id": otp, "code": c}))
        .send();
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["signatures"][0]["acts"], 1);
    let replay = api
        .post(&format!("/v1/contracts/{id}/sign"))
        .key(&a.key)
        .header("idempotency-key", "sign-a-1")
        .json(&json!({"seal_id": a.seal, "otp_id": otp, "code": c}))
        .send();
    assert_eq!(replay.status, 200);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let reused = sign(&api, &a, &id, &otp, &c);
    assert_eq!(reused.status, 409, "{:?}", reused.body);
    let now = api.get(&format!("/v1/contracts/{id}")).key(&a.key).send();
    assert_eq!(now.body["signatures"].as_array().unwrap().len(), 1);
    // Placements are frozen.
    let frozen = api
        .put(&format!("/v1/contracts/{id}/placements"))
        .key(&a.key)
        .json(&json!({"placements": now.body["placements"]}))
        .send();
    assert_eq!(frozen.status, 409);

    let (otp_b, c_b) = code(&api, &b, &id, &title);
    let done = sign(&api, &b, &id, &otp_b, &c_b);
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["status"], "completed");

    let pdf = download(&api, &b, &id);
    assert_eq!(judge(&api, &pdf, 2, "sequential"), [1, 1]);
    let report = api.post("/v1/verify").raw("application/pdf", pdf.clone()).send();
    assert_eq!(report.status, 200, "{:?}", report.body);
    assert_eq!(report.body["valid"], true);
    let seals: Vec<&str> =
        report.body["signatures"].as_array().unwrap().iter().map(|s| s["seal"]["seal_id"].as_str().unwrap()).collect();
    assert_eq!(seals, [a.seal.as_str(), b.seal.as_str()]);
    let by_id = api.post("/v1/verify").key(&a.key).json(&json!({"contract_id": id})).send();
    assert_eq!(by_id.body["valid"], true);
    // A PDF too large for a request body goes through an upload first.
    let up = api.post("/v1/verify/uploads").key(&b.key).json(&json!({"size": pdf.len()})).send();
    assert_eq!(up.status, 201, "{:?}", up.body);
    assert_eq!(api.put(up.body["upload_url"].as_str().unwrap()).raw("application/pdf", pdf.clone()).send().status, 200);
    let file = up.body["file_id"].as_str().unwrap();
    let by_file = api.post("/v1/verify").key(&b.key).json(&json!({"file_id": file})).send();
    assert_eq!(by_file.body["valid"], true, "{:?}", by_file.body);
    assert_eq!(api.post("/v1/verify").key(&a.key).json(&json!({"file_id": file})).send().status, 404);
    // A tampered copy is caught.
    let mut tampered = pdf.clone();
    let at = tampered.len() / 3;
    tampered[at] ^= 0x01;
    let bad = api.post("/v1/verify").raw("application/pdf", tampered).send();
    assert_eq!(bad.body["valid"], false, "{:?}", bad.body);
    // Bodies up to 4 MiB reach the verifier (this one is no PDF); larger ones stop at the edge.
    let junk = api.post("/v1/verify").raw("application/pdf", vec![b'x'; 3 << 20]).send();
    assert_eq!(junk.status, 422, "{:?}", junk.body);
    let huge = api.post("/v1/verify").raw("application/pdf", vec![b'x'; (4 << 20) + 1]).send();
    assert_eq!((huge.status, huge.problem()), (413, "payload-too-large"));

    let view = api.get(&format!("/v1/contracts/{id}")).key(&b.key).send();
    assert_eq!(view.body["audit"]["chain_intact"], true);
    let actions: Vec<&str> =
        view.body["audit"]["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for needed in [
        "contract.created",
        "contract.uploaded",
        "contract.placements_set",
        "otp.sent",
        "otp.failed",
        "contract.signed",
        "contract.completed",
    ] {
        assert!(actions.contains(&needed), "{needed} missing from {actions:?}");
    }
    // Downloads are on the contract's access trail, apart from what signing appends to.
    let access = api.get(&format!("/v1/contracts/{id}/audit?trail=access")).key(&b.key).send();
    assert!(access.body["items"].as_array().unwrap().iter().any(|e| e["action"] == "contract.downloaded"));
    assert_eq!(access.body["chain_intact"], true);
    let usage = api.get("/v1/usage").key(&a.key).send();
    assert_eq!(
        (usage.body["signatures"].as_i64(), usage.body["codes_sent"].as_i64()),
        (Some(1), Some(1)),
        "{:?}",
        usage.body
    );
    assert_eq!(api.get("/v1/usage?month=2026-13").key(&a.key).send().status, 422);

    // An outsider learns nothing, not even that the contract exists.
    let (_, outsider, _) = api.verified_enterprise("局外人有限公司");
    for r in [
        api.get(&format!("/v1/contracts/{id}")).key(&outsider).send(),
        api.get(&format!("/v1/contracts/{id}/document")).key(&outsider).send(),
        api.post(&format!("/v1/contracts/{id}/otp")).key(&outsider).send(),
        api.post("/v1/verify").key(&outsider).json(&json!({"contract_id": id})).send(),
    ] {
        assert_eq!(r.status, 404, "{:?}", r.body);
    }
}

#[test]
fn a_party_stamping_several_pages_signs_each_page_and_every_judge_passes() {
    let api = Api::new();
    let a = party(&api, "多页盖章有限公司", "rsa_2048");
    let b = party(&api, "对方盖章有限公司", "ecdsa_p256");
    let title = format!("多页合同-{}", std::process::id());
    let placements = vec![
        place(&a, "signature", 1, 60.0, 560.0),
        place(&a, "signature", 3, 60.0, 560.0),
        place(&a, "signing_date", 3, 60.0, 680.0),
        place(&b, "signature", 3, 400.0, 560.0),
    ];
    let id = contract(&api, &a, &title, sample_pdf(3), &[&a, &b], "parallel", placements);
    let (otp, c) = code(&api, &a, &id, &title);
    let signed = sign(&api, &a, &id, &otp, &c);
    assert_eq!(signed.status, 200, "{:?}", signed.body);
    let mine = &signed.body["signatures"][0];
    assert_eq!(mine["acts"], 2);
    let serials: Vec<&str> =
        mine["certificate_serials"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(serials.len(), 2);
    assert_eq!(serials[0], mine["certificate_serial"].as_str().unwrap());
    assert_ne!(serials[0], serials[1]);
    let (otp_b, c_b) = code(&api, &b, &id, &title);
    let done = sign(&api, &b, &id, &otp_b, &c_b);
    assert_eq!(done.body["status"], "completed", "{:?}", done.body);

    let pdf = download(&api, &b, &id);
    assert_eq!(judge(&api, &pdf, 3, "pages"), [1, 3, 3], "A's stamps on pages 1 and 3, B's on 3");
    let report = api.post("/v1/verify").raw("application/pdf", pdf).send();
    assert_eq!(report.body["valid"], true, "{:?}", report.body);
    let seals: Vec<&str> =
        report.body["signatures"].as_array().unwrap().iter().map(|s| s["seal"]["seal_id"].as_str().unwrap()).collect();
    assert_eq!(seals, [a.seal.as_str(), a.seal.as_str(), b.seal.as_str()]);
    let usage = api.get("/v1/usage").key(&a.key).send();
    assert_eq!(usage.body["signatures"], 2, "{:?}", usage.body);
}

#[test]
fn codes_grants_and_seal_states_are_enforced() {
    let api = Api::new();
    let a = party(&api, "规则检查有限公司", "ecdsa_p256");
    let title = format!("规则合同-{}", std::process::id());
    let id =
        contract(&api, &a, &title, sample_pdf(1), &[&a], "parallel", vec![place(&a, "signature", 1, 300.0, 500.0)]);
    // Sixth attempt: five wrong codes wear the code out, even for the right code.
    let (otp, c) = code(&api, &a, &id, &title);
    for _ in 0..5 {
        assert_eq!(sign(&api, &a, &id, &otp, wrong(&c)).code_of("code").as_deref(), Some("mismatch"));
    }
    let sixth = sign(&api, &a, &id, &otp, &c);
    assert_eq!(sixth.code_of("otp_id").as_deref(), Some("attempts_exhausted"), "{:?}", sixth.body);

    // A member without a grant, then with one that expires.
    let m = api
        .post("/v1/members")
        .key(&a.key)
        .json(&json!({"name": "李四", "mobile": esign_e2e::unique_mobile(), "email": "li@example.com"}))
        .send();
    assert_eq!(m.status, 201, "{:?}", m.body);
    let member = Party {
        enterprise: a.enterprise.clone(),
        key: m.body["api_key"].as_str().unwrap().into(),
        seal: a.seal.clone(),
    };
    let member_id = m.body["member"]["id"].as_str().unwrap();
    let (otp, c) = code(&api, &member, &id, &title);
    let r = sign(&api, &member, &id, &otp, &c);
    assert_eq!(r.status, 403, "{:?}", r.body);
    let until = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let until = until.format(&time::format_description::well_known::Rfc3339).unwrap();
    let g = api
        .put(&format!("/v1/seals/{}/grants/{member_id}", a.seal))
        .key(&a.key)
        .json(&json!({"expires_at": until}))
        .send();
    assert_eq!(g.status, 200, "{:?}", g.body);
    std::thread::sleep(std::time::Duration::from_secs(3));
    let r = sign(&api, &member, &id, &otp, &c);
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("expired"), "{:?}", r.body);

    // A revoked seal signs nothing, grant or not.
    assert_eq!(api.post(&format!("/v1/seals/{}/revoke", a.seal)).key(&a.key).send().status, 200);
    let (otp, c) = code(&api, &a, &id, &title);
    let r = sign(&api, &a, &id, &otp, &c);
    assert_eq!(r.status, 403, "{:?}", r.body);
    let view = api.get(&format!("/v1/contracts/{id}")).key(&a.key).send();
    assert!(view.body["signatures"].as_array().unwrap().is_empty());
    assert_eq!(view.body["revisions"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_documents_and_placements_get_named_422s() {
    let api = Api::new();
    let a = party(&api, "坏文件有限公司", "ecdsa_p256");
    let jpeg = b"\xff\xd8\xff\xe0 not a pdf at all".to_vec();
    let r = api.post("/v1/contracts").key(&a.key).json(&json!({"title": "坏文件", "document_size": jpeg.len()})).send();
    let id = r.body["contract"]["id"].as_str().unwrap().to_owned();
    api.put(r.body["upload"]["upload_url"].as_str().unwrap()).raw("application/pdf", jpeg).send();
    api.put(&format!("/v1/contracts/{id}/parties"))
        .key(&a.key)
        .json(&json!({"order": "sequential", "parties": [{"enterprise_id": a.enterprise}]}))
        .send();
    let set = |placements: Vec<Value>| {
        api.put(&format!("/v1/contracts/{id}/placements")).key(&a.key).json(&json!({"placements": placements})).send()
    };
    let r = set(vec![place(&a, "signature", 1, 10.0, 10.0)]);
    assert_eq!((r.status, r.code_of("document").as_deref()), (422, Some("not_pdf")), "{:?}", r.body);
    assert_eq!(api.post(&format!("/v1/contracts/{id}/open")).key(&a.key).send().status, 422);
    // An encrypted PDF (qpdf, installed with the judges) is refused by name.
    let dir = std::env::temp_dir().join(format!("esign-encrypted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plain.pdf"), sample_pdf(1)).unwrap();
    let enc = Command::new("qpdf")
        .args(["--encrypt", "user", "owner", "256", "--"])
        .arg(dir.join("plain.pdf"))
        .arg(dir.join("enc.pdf"))
        .status()
        .expect("qpdf runs");
    assert!(enc.success());
    let encrypted = std::fs::read(dir.join("enc.pdf")).unwrap();
    let r =
        api.post("/v1/contracts").key(&a.key).json(&json!({"title": "加密", "document_size": encrypted.len()})).send();
    let eid = r.body["contract"]["id"].as_str().unwrap().to_owned();
    api.put(r.body["upload"]["upload_url"].as_str().unwrap()).raw("application/pdf", encrypted).send();
    api.put(&format!("/v1/contracts/{eid}/parties"))
        .key(&a.key)
        .json(&json!({"order": "sequential", "parties": [{"enterprise_id": a.enterprise}]}))
        .send();
    let r = api
        .put(&format!("/v1/contracts/{eid}/placements"))
        .key(&a.key)
        .json(&json!({"placements": [place(&a, "signature", 1, 10.0, 10.0)]}))
        .send();
    assert_eq!((r.status, r.code_of("document").as_deref()), (422, Some("encrypted")), "{:?}", r.body);
    let _ = std::fs::remove_dir_all(&dir);
    let big = api.post("/v1/contracts").key(&a.key).json(&json!({"title": "大", "document_size": 40_000_000})).send();
    assert_eq!((big.status, big.code_of("document_size").as_deref()), (422, Some("range")));

    let pdf = sample_pdf(1);
    let r = api.post("/v1/contracts").key(&a.key).json(&json!({"title": "页码", "document_size": pdf.len()})).send();
    let id = r.body["contract"]["id"].as_str().unwrap().to_owned();
    api.put(r.body["upload"]["upload_url"].as_str().unwrap()).raw("application/pdf", pdf).send();
    api.put(&format!("/v1/contracts/{id}/parties"))
        .key(&a.key)
        .json(&json!({"order": "sequential", "parties": [{"enterprise_id": a.enterprise}]}))
        .send();
    let set = |placements: Vec<Value>| {
        api.put(&format!("/v1/contracts/{id}/placements")).key(&a.key).json(&json!({"placements": placements})).send()
    };
    let r = set(vec![place(&a, "signature", 99, 10.0, 10.0)]);
    assert_eq!(r.code_of("placements[0].page").as_deref(), Some("page_out_of_range"), "{:?}", r.body);
    let r = set(vec![place(&a, "signature", 1, 550.0, 10.0)]);
    assert_eq!(r.code_of("placements[0]").as_deref(), Some("off_page"), "{:?}", r.body);
    let (unverified, _, _) = api.register("未认证有限公司");
    let r = api
        .put(&format!("/v1/contracts/{id}/parties"))
        .key(&a.key)
        .json(
            &json!({"order": "parallel", "parties": [{"enterprise_id": a.enterprise}, {"enterprise_id": unverified}]}),
        )
        .send();
    assert_eq!(r.code_of("parties[1].enterprise_id").as_deref(), Some("not_verified"), "{:?}", r.body);
}

#[test]
fn parallel_parties_signing_at_once_both_end_up_in_the_document() {
    let api = Api::new();
    let a = party(&api, "并行甲有限公司", "ecdsa_p256");
    let b = party(&api, "并行乙有限公司", "ecdsa_p256");
    let title = format!("并行合同-{}", std::process::id());
    let placements = vec![place(&a, "signature", 1, 60.0, 560.0), place(&b, "signature", 1, 400.0, 560.0)];
    let id = contract(&api, &a, &title, sample_pdf(1), &[&a, &b], "parallel", placements);
    let (otp_a, c_a) = code(&api, &a, &id, &title);
    let (otp_b, c_b) = code(&api, &b, &id, &title);
    let (ra, rb) = std::thread::scope(|s| {
        let ta = s.spawn(|| sign(&Api::new(), &a, &id, &otp_a, &c_a));
        let tb = s.spawn(|| sign(&Api::new(), &b, &id, &otp_b, &c_b));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    assert_eq!((ra.status, rb.status), (200, 200), "{:?} {:?}", ra.body, rb.body);
    let view = api.get(&format!("/v1/contracts/{id}")).key(&a.key).send();
    assert_eq!(view.body["status"], "completed");
    assert_eq!(view.body["signatures"].as_array().unwrap().len(), 2);
    judge(&api, &download(&api, &a, &id), 2, "parallel");
}

#[test]
fn kms_failing_midway_leaves_nothing_signed_and_the_code_still_works() {
    let api = Api::new();
    let a = party(&api, "故障测试有限公司", "ecdsa_p256");
    let title = format!("故障合同-{}", std::process::id());
    let placements = vec![place(&a, "signature", 2, 60.0, 560.0), place(&a, "signing_date", 2, 60.0, 680.0)];
    let id = contract(&api, &a, &title, sample_pdf(2), &[&a], "sequential", placements);
    // The seal's KMS key id is not part of the API: read it where the platform keeps it.
    let key_id = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let sdk = esign_aws::emulator_sdk_config(esign_e2e::emulator()).await;
        let store = esign_aws::dynamo::DynamoStore::from_sdk(&sdk, esign_e2e::records_table());
        let r = store.get(&Key::new(format!("SEAL#{}", a.seal), "SEAL")).await.unwrap().unwrap();
        r.data["key_id"].as_str().unwrap().to_owned()
    });
    let (otp, c) = code(&api, &a, &id, &title);
    esign_e2e::faults::fail_key(&key_id, true);
    let r = sign(&api, &a, &id, &otp, &c);
    esign_e2e::faults::fail_key(&key_id, false);
    assert_eq!((r.status, r.problem()), (503, "dependency-failed"), "{:?}", r.body);
    let view = api.get(&format!("/v1/contracts/{id}")).key(&a.key).send();
    assert!(view.body["signatures"].as_array().unwrap().is_empty());
    assert_eq!(view.body["revisions"].as_array().unwrap().len(), 1);
    assert_eq!(view.body["status"], "signing");
    let r = sign(&api, &a, &id, &otp, &c);
    assert_eq!(r.status, 200, "{:?}", r.body);
    judge(&api, &download(&api, &a, &id), 1, "after-failure");
}

#[test]
fn code_sending_is_rate_limited_per_member() {
    let api = Api::new();
    let a = party(&api, "限流测试有限公司", "ecdsa_p256");
    let title = format!("限流合同-{}", std::process::id());
    let id =
        contract(&api, &a, &title, sample_pdf(1), &[&a], "sequential", vec![place(&a, "signature", 1, 300.0, 500.0)]);
    // Five codes per member per 15-minute window. Eleven sends span at most two windows, so one
    // window gets a sixth, whenever the boundary falls.
    let replies: Vec<Reply> =
        (0..11).map(|_| api.post(&format!("/v1/contracts/{id}/otp")).key(&a.key).send()).collect();
    assert!(replies[..5].iter().all(|r| r.status == 201));
    let refused: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    assert!(!refused.is_empty() && replies.iter().filter(|r| r.status == 201).count() <= 10);
    for r in refused {
        assert_eq!(r.problem(), "rate-limited");
        let wait = r.header("retry-after").and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        assert!((1..=900).contains(&wait), "{wait}");
    }
}
