//! Contracts over HTTP against the emulator: two enterprises sign in turn with their KMS seals
//! and the platform TSA, confirmed by one-time codes read from the development outbox; the
//! result passes every independent judge. Then the ways signing must refuse or survive: wrong,
//! reused and worn-out codes, missing and expired grants, a revoked seal, the wrong turn, an
//! outsider, a repeated request, two parties at once, and KMS failing midway. The cross-page
//! seal (骑缝章) has its own module, `contracts/cross_page.rs`, the list of contracts
//! `contracts/list.rs`, and revocation (OCSP, CRLs) judged by OpenSSL, `contracts/revocation.rs`.

#[path = "contracts/cross_page.rs"]
mod cross_page;
#[path = "contracts/evidence.rs"]
mod evidence;
#[path = "contracts/list.rs"]
mod list;
#[path = "contracts/ltv.rs"]
mod ltv;
#[path = "contracts/revocation.rs"]
mod revocation;
#[path = "contracts/round_trips.rs"]
mod round_trips;

use std::path::{Path, PathBuf};
use std::process::Command;

use esign_core::ports::{Key, RecordStore};
pub(crate) use esign_e2e::check_signatures;
use esign_e2e::{Api, OPERATOR_KEY, Reply, repo_root};
use serde_json::{Value, json};

struct Party {
    enterprise: String,
    key: String,
    seal: String,
    /// The signing member's mobile, where its codes go.
    mobile: String,
}

/// A verified enterprise with an active seal granted to its administrator, whose mobile is
/// confirmed.
fn party(api: &Api, company: &str, algorithm: &str) -> Party {
    let p = unconfirmed_party(api, company, algorithm);
    let me = api.get("/v1/members").key(&p.key).send();
    let admin = me.body["items"][0]["id"].as_str().unwrap();
    api.confirm_contact(&p.key, admin, "sms", &p.mobile);
    p
}

/// Like [`party`], the administrator's mobile not confirmed yet.
fn unconfirmed_party(api: &Api, company: &str, algorithm: &str) -> Party {
    let (seal, key, admin, body) = esign_e2e::active_seal(api, company, algorithm);
    let r = api.put(&format!("/v1/seals/{seal}/grants/{admin}")).key(&key).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let _ = OPERATOR_KEY;
    let me = api.get("/v1/members").key(&key).send();
    let enterprise = me.body["items"][0]["enterprise_id"].as_str().unwrap().to_owned();
    let mobile = me.body["items"][0]["mobile"].as_str().unwrap().to_owned();
    assert_eq!(me.body["items"][0]["mobile_confirmed"], false, "{:?}", me.body);
    assert_eq!(body["enterprise_id"], enterprise.as_str());
    Party { enterprise, key, seal, mobile }
}

fn sample_pdf(pages: u32) -> Vec<u8> {
    esign_e2e::sample_contract(pages)
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
    let up = api.put(r.body["upload"]["upload_url"].as_str().unwrap()).raw("application/pdf", pdf.clone()).send();
    assert_eq!(up.status, 200);
    let list: Vec<Value> = parties.iter().map(|p| json!({"enterprise_id": p.enterprise})).collect();
    let r = api
        .put(&format!("/v1/contracts/{id}/parties"))
        .key(&by.key)
        .json(&json!({"order": order, "parties": list}))
        .send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    // The draft's document: its initiator reads back what it uploaded (the editor after a
    // reload); the other parties see none before it opens.
    let d = api.get(&format!("/v1/contracts/{id}/document")).key(&by.key).send();
    assert_eq!((d.status, d.body["revision"].as_u64()), (200, Some(0)), "{:?}", d.body);
    assert_eq!(api.get(d.body["url"].as_str().unwrap()).send().raw, pdf);
    if let Some(other) = parties.iter().find(|p| p.enterprise != by.enterprise) {
        let d = api.get(&format!("/v1/contracts/{id}/document")).key(&other.key).send();
        assert_eq!(d.status, 409, "{:?}", d.body);
    }
    let r =
        api.put(&format!("/v1/contracts/{id}/placements")).key(&by.key).json(&json!({"placements": placements})).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = api.post(&format!("/v1/contracts/{id}/open")).key(&by.key).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "signing");
    id
}

/// Asks for a code and reads it from the development outbox, as the member's phone would. The
/// message is the platform's fixed text: never the contract's title.
fn code(api: &Api, p: &Party, contract: &str, title: &str) -> (String, String) {
    let r = api.post(&format!("/v1/contracts/{contract}/otp")).key(&p.key).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let otp = r.body["otp_id"].as_str().unwrap().to_owned();
    let (code, body) = api.latest_code(&p.mobile);
    assert!(!body.contains(title), "the title is not in the message: {body}");
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

/// Two verified companies (`names`) with active seals, and a one-page contract (`title`) between
/// them that both have signed in turn: completed. Answers the parties and the contract's id.
fn two_parties_signed(api: &Api, names: [&str; 2], title: &str) -> (Party, Party, String) {
    let a = party(api, names[0], "ecdsa_p256");
    let b = party(api, names[1], "rsa_2048");
    let placements = vec![place(&a, "signature", 1, 60.0, 560.0), place(&b, "signature", 1, 400.0, 560.0)];
    let id = contract(api, &a, title, sample_pdf(1), &[&a, &b], "sequential", placements);
    for p in [&a, &b] {
        let (otp, c) = code(api, p, &id, title);
        let r = sign(api, p, &id, &otp, &c);
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    (a, b, id)
}

/// The record at `key` in the records table of `api`'s server, as the platform stores it (for
/// tests that look behind the API).
fn stored_record(api: &Api, key: &Key) -> Option<esign_core::ports::Record> {
    let table = api.records_table();
    let key = key.clone();
    tokio::runtime::Runtime::new().unwrap().block_on(async move {
        let sdk = esign_aws::emulator_sdk_config(esign_e2e::emulator());
        esign_aws::dynamo::DynamoStore::from_sdk(&sdk, &table).get(&key).await.unwrap()
    })
}

/// `Service.Operation ×n, …` of a list of AWS calls, in order of first use.
fn call_summary(calls: &[String]) -> String {
    let mut counted: Vec<(&str, usize)> = Vec::new();
    for c in calls {
        match counted.iter_mut().find(|(name, _)| name == c) {
            Some((_, n)) => *n += 1,
            None => counted.push((c, 1)),
        }
    }
    counted
        .iter()
        .map(|(c, n)| if *n > 1 { format!("{c} ×{n}") } else { (*c).to_owned() })
        .collect::<Vec<_>>()
        .join(", ")
}

fn download(api: &Api, p: &Party, contract: &str) -> Vec<u8> {
    let d = api.get(&format!("/v1/contracts/{contract}/document")).key(&p.key).send();
    assert_eq!(d.status, 200, "{:?}", d.body);
    let pdf = api.get(d.body["url"].as_str().unwrap()).send();
    assert_eq!(pdf.status, 200);
    pdf.raw
}

/// Runs the independent judges on a signed PDF (`--expect` signatures and document time stamps,
/// the platform root as the only anchor), then renders every signature widget with and without
/// its appearance (`stamp_check.py`): each must show ink, each signature's own among them, but
/// the document time stamps' (invisible, zero-size). Answers the pages the stamps (and
/// cross-page strips) are on, in field order.
fn judge(api: &Api, pdf: &[u8], expect: usize, name: &str) -> Vec<u32> {
    let dir = check_signatures(api, pdf, expect, name);
    let kit: PathBuf = repo_root().join("../shared/pdfcheck");
    let stamps = Command::new("python3")
        .arg(kit.join("stamp_check.py"))
        .arg(dir.join("signed.pdf"))
        .arg(dir.join("stamps"))
        .output()
        .expect("stamp_check.py runs");
    let lines = String::from_utf8_lossy(&stamps.stdout).to_string();
    assert!(stamps.status.success(), "stamp_check.py: {lines}{}", String::from_utf8_lossy(&stamps.stderr));
    let visible: Vec<&str> = lines.lines().filter(|l| l.contains("\tVISIBLE")).collect();
    let stamps: Vec<&str> = lines
        .lines()
        .filter(|l| {
            l.starts_with("DocumentTimestamp") && l.contains("invisible signature") && l.ends_with("signed=True")
        })
        .collect();
    assert_eq!(visible.len() + stamps.len(), lines.lines().count(), "every widget shows ink: {lines}");
    let signed = visible.iter().filter(|l| l.contains("\tsigned=True\t")).count();
    assert_eq!(signed + stamps.len(), expect, "every signature's stamp shows ink: {lines}");
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
    assert_eq!(judge(&api, &pdf, 3, "sequential"), [1, 1], "2 signatures + the document time stamp");
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

    let view = api.get(&format!("/v1/contracts/{id}/audit?limit=100")).key(&b.key).send();
    assert_eq!(view.body["chain_intact"], true);
    let actions: Vec<&str> =
        view.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
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
        // One code confirmed the mobile, one signed.
        (Some(1), Some(2)),
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
fn a_party_stamping_several_pages_signs_once_and_every_judge_passes() {
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
    assert_eq!(mine["acts"], 1, "one signing act whatever the pages");
    assert_eq!(mine["certificate_serials"], json!([mine["certificate_serial"]]), "the seal's own certificate");
    assert_eq!((&mine["stamp_pages"], &mine["strip_pages"]), (&json!([1, 3]), &json!([])));
    let (otp_b, c_b) = code(&api, &b, &id, &title);
    let done = sign(&api, &b, &id, &otp_b, &c_b);
    assert_eq!(done.body["status"], "completed", "{:?}", done.body);

    let pdf = download(&api, &b, &id);
    assert_eq!(judge(&api, &pdf, 3, "pages"), [1, 3, 3], "A's stamps on pages 1 and 3, B's on 3");
    let report = api.post("/v1/verify").raw("application/pdf", pdf).send();
    assert_eq!(report.body["valid"], true, "{:?}", report.body);
    let seals: Vec<(&str, &Value)> = report.body["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["seal"]["seal_id"].as_str().unwrap(), &s["stamp_pages"]))
        .collect();
    assert_eq!(seals, [(a.seal.as_str(), &json!([1, 3])), (b.seal.as_str(), &json!([3]))]);
    let usage = api.get("/v1/usage").key(&a.key).send();
    assert_eq!(usage.body["signatures"], 1, "{:?}", usage.body);
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
        mobile: m.body["member"]["mobile"].as_str().unwrap().into(),
    };
    let member_id = m.body["member"]["id"].as_str().unwrap();
    api.confirm_contact(&member.key, member_id, "sms", &member.mobile);
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
    judge(&api, &download(&api, &a, &id), 3, "parallel");
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
        let sdk = esign_aws::emulator_sdk_config(esign_e2e::emulator());
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
    judge(&api, &download(&api, &a, &id), 2, "after-failure");
}

#[test]
fn code_sending_is_rate_limited_per_member() {
    let api = Api::new();
    let a = party(&api, "限流测试有限公司", "ecdsa_p256");
    let title = format!("限流合同-{}", std::process::id());
    let id =
        contract(&api, &a, &title, sample_pdf(1), &[&a], "sequential", vec![place(&a, "signature", 1, 300.0, 500.0)]);
    // Five codes per member per 15-minute window, the one that confirmed the mobile included.
    // Eleven sends span at most two windows, so one window gets a sixth, whenever the boundary
    // falls.
    let replies: Vec<Reply> =
        (0..11).map(|_| api.post(&format!("/v1/contracts/{id}/otp")).key(&a.key).send()).collect();
    assert!(replies[..4].iter().all(|r| r.status == 201));
    let refused: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    assert!(!refused.is_empty() && replies.iter().filter(|r| r.status == 201).count() <= 10);
    for r in refused {
        assert_eq!(r.problem(), "rate-limited");
        let wait = r.header("retry-after").and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        assert!((1..=900).contains(&wait), "{wait}");
    }
}

/// A wrong code for `code` that differs per `i` (never `code` itself).
fn wrong_nth(code: &str, i: usize) -> String {
    let guess = format!("{:06}", (i * 7919 + 1) % 1_000_000);
    if guess == code { format!("{:06}", (i * 7919 + 2) % 1_000_000) } else { guess }
}

#[test]
fn parallel_guesses_compare_at_most_five_codes() {
    let api = Api::new();
    let a = party(&api, "并发猜码有限公司", "ecdsa_p256");
    let title = format!("猜码合同-{}", std::process::id());
    let id =
        contract(&api, &a, &title, sample_pdf(1), &[&a], "parallel", vec![place(&a, "signature", 1, 300.0, 500.0)]);
    let (otp, c) = code(&api, &a, &id, &title);
    // Forty different wrong codes at once.
    let replies: Vec<Reply> = std::thread::scope(|s| {
        let (a, id, otp, c) = (&a, id.as_str(), otp.as_str(), c.as_str());
        let handles: Vec<_> =
            (0..40).map(|i| s.spawn(move || sign(&Api::new(), a, id, otp, &wrong_nth(c, i)))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mismatches = replies.iter().filter(|r| r.code_of("code").as_deref() == Some("mismatch")).count();
    let exhausted = replies.iter().filter(|r| r.code_of("otp_id").as_deref() == Some("attempts_exhausted")).count();
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    assert!(
        replies.iter().all(|r| r.status == 422 || r.status == 409),
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    assert_eq!(mismatches + exhausted + conflicts, 40);
    // At most five were compared: the others were refused before their comparison.
    assert!(mismatches <= 5, "{mismatches} wrong codes were compared");
    assert!(exhausted >= 35, "{exhausted} refused as worn out");
    // The code is worn out: even the right one is refused, and nothing was signed.
    let right = sign(&api, &a, &id, &otp, &c);
    assert_eq!(
        (right.status, right.code_of("otp_id").as_deref()),
        (422, Some("attempts_exhausted")),
        "{:?}",
        right.body
    );
    let view = api.get(&format!("/v1/contracts/{id}")).key(&a.key).send();
    assert!(view.body["signatures"].as_array().unwrap().is_empty());

    // A right code among the first five still signs, even after wrong ones sent at once.
    let (otp, c) = code(&api, &a, &id, &title);
    let replies: Vec<Reply> = std::thread::scope(|s| {
        let (a, id, otp, c) = (&a, id.as_str(), otp.as_str(), c.as_str());
        let handles: Vec<_> =
            (0..4).map(|i| s.spawn(move || sign(&Api::new(), a, id, otp, &wrong_nth(c, i)))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(replies.iter().all(|r| r.status == 422 || r.status == 409));
    let signed = sign(&api, &a, &id, &otp, &c);
    assert_eq!(signed.status, 200, "{:?}", signed.body);
    assert_eq!(signed.body["status"], "completed");
    // Single use (and the contract is complete).
    let again = sign(&api, &a, &id, &otp, &c);
    assert_eq!((again.status, again.problem()), (409, "conflict"), "{:?}", again.body);
}

#[test]
fn signing_codes_go_only_to_confirmed_contacts() {
    let api = Api::new();
    let a = unconfirmed_party(&api, "未确认号码有限公司", "ecdsa_p256");
    let title = format!("确认合同-{}", std::process::id());
    let id =
        contract(&api, &a, &title, sample_pdf(1), &[&a], "parallel", vec![place(&a, "signature", 1, 300.0, 500.0)]);
    for channel in ["sms", "email"] {
        let r = api.post(&format!("/v1/contracts/{id}/otp")).key(&a.key).json(&json!({"channel": channel})).send();
        assert_eq!((r.status, r.problem()), (409, "contact-unconfirmed"), "{:?}", r.body);
        assert_eq!(r.code_of("channel").as_deref(), Some("unconfirmed"), "{:?}", r.body);
        let field = if channel == "sms" { "mobile" } else { "email" };
        assert!(r.body["detail"].as_str().unwrap().contains(field), "{:?}", r.body);
    }
    let outbox = api.get(&format!("/v1/dev/outbox?recipient={}", a.mobile.replace('+', "%2B"))).send();
    assert!(outbox.body["items"].as_array().unwrap().is_empty(), "nothing was sent: {:?}", outbox.body);

    // Confirmed by the code sent there, the mobile receives signing codes; the email still not.
    let me = api.get("/v1/members").key(&a.key).send();
    let admin = me.body["items"][0]["id"].as_str().unwrap().to_owned();
    let sent = api.post(&format!("/v1/members/{admin}/contacts/confirm")).key(&a.key).send();
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    let otp = sent.body["otp_id"].as_str().unwrap();
    let (c, _) = api.latest_code(&a.mobile);
    let bad = api
        .post(&format!("/v1/members/{admin}/contacts/verify"))
        .key(&a.key)
        .json(&json!({"channel": "sms", "otp_id": otp, "code": wrong(&c)}))
        .send();
    assert_eq!((bad.status, bad.code_of("code").as_deref()), (422, Some("mismatch")), "{:?}", bad.body);
    let ok = api
        .post(&format!("/v1/members/{admin}/contacts/verify"))
        .key(&a.key)
        .json(&json!({"channel": "sms", "otp_id": otp, "code": c}))
        .send();
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(
        (ok.body["mobile_confirmed"].as_bool(), ok.body["email_confirmed"].as_bool()),
        (Some(true), Some(false))
    );
    let listed = api.get("/v1/members").key(&a.key).send();
    assert_eq!(listed.body["items"][0]["mobile_confirmed"], true);
    let r = api.post(&format!("/v1/contracts/{id}/otp")).key(&a.key).json(&json!({"channel": "email"})).send();
    assert_eq!((r.status, r.problem()), (409, "contact-unconfirmed"), "{:?}", r.body);
    let (otp, c) = code(&api, &a, &id, &title);
    let signed = sign(&api, &a, &id, &otp, &c);
    assert_eq!(signed.status, 200, "{:?}", signed.body);

    // Another member's contacts are its own to confirm: an admin may have the code sent, only
    // the member enters it.
    let m = api
        .post("/v1/members")
        .key(&a.key)
        .json(&json!({"name": "李四", "mobile": esign_e2e::unique_mobile(), "email": "li-confirm@example.com"}))
        .send();
    assert_eq!(m.status, 201, "{:?}", m.body);
    assert_eq!(
        (m.body["member"]["mobile_confirmed"].as_bool(), m.body["member"]["email_confirmed"].as_bool()),
        (Some(false), Some(false))
    );
    let member_id = m.body["member"]["id"].as_str().unwrap();
    let member_key = m.body["api_key"].as_str().unwrap();
    let sent = api
        .post(&format!("/v1/members/{member_id}/contacts/confirm"))
        .key(&a.key)
        .json(&json!({"channel": "email"}))
        .send();
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    let (c, _) = api.latest_code("li-confirm@example.com");
    let body = json!({"channel": "email", "otp_id": sent.body["otp_id"], "code": c});
    let by_admin = api.post(&format!("/v1/members/{member_id}/contacts/verify")).key(&a.key).json(&body).send();
    assert_eq!((by_admin.status, by_admin.problem()), (403, "forbidden"), "{:?}", by_admin.body);
    let by_member = api.post(&format!("/v1/members/{member_id}/contacts/verify")).key(member_key).json(&body).send();
    assert_eq!(by_member.status, 200, "{:?}", by_member.body);
    assert_eq!(by_member.body["email_confirmed"], true);
    // Another enterprise learns nothing of this member.
    let (_, other_key, _) = api.register("旁观者有限公司");
    let r = api.post(&format!("/v1/members/{member_id}/contacts/confirm")).key(&other_key).send();
    assert_eq!(r.status, 404, "{:?}", r.body);
}

#[test]
fn code_messages_carry_no_tenant_text() {
    let api = Api::new();
    let a = party(&api, "短信模板测试有限公司", "ecdsa_p256");
    let title = format!("中奖通知 点击 https://evil.example/x?{} 领取", std::process::id());
    let id =
        contract(&api, &a, &title, sample_pdf(1), &[&a], "parallel", vec![place(&a, "signature", 1, 300.0, 500.0)]);
    let r = api.post(&format!("/v1/contracts/{id}/otp")).key(&a.key).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let (c, body) = api.latest_code(&a.mobile);
    for tenant_text in [title.as_str(), "中奖", "https://", "evil.example", "短信模板测试有限公司", "张三"]
    {
        assert!(!body.contains(tenant_text), "{tenant_text:?} in {body}");
    }
    // The platform's template: the code and how long it is valid, nothing else.
    let expected = body.replace(&c, "{code}");
    assert!(expected.contains("5分钟") && expected.contains("5 minutes"), "{body}");
    let outbox = api.get(&format!("/v1/dev/outbox?recipient={}&limit=1", a.mobile.replace('+', "%2B"))).send();
    assert_eq!(outbox.body["items"][0]["subject"], "签署验证码 / Signing code");
}

#[test]
fn a_destination_is_rate_limited_across_enterprises() {
    let api = Api::new();
    let shared = esign_e2e::unique_mobile();
    let register = |name: &str| {
        let mut body = esign_e2e::registration(name);
        body["admin"]["mobile"] = json!(shared);
        let r = api.post("/v1/enterprises").json(&body).send();
        assert_eq!(r.status, 201, "{:?}", r.body);
        (r.body["api_key"].as_str().unwrap().to_owned(), r.body["admin"]["id"].as_str().unwrap().to_owned())
    };
    let confirm = |(key, admin): &(String, String), channel: &str| {
        api.post(&format!("/v1/members/{admin}/contacts/confirm")).key(key).json(&json!({"channel": channel})).send()
    };
    // Two enterprises whose administrators share a mobile number fill its hourly quota of ten
    // (each stays within its own five per member) ...
    let a = register("共享号码甲有限公司");
    let b = register("共享号码乙有限公司");
    for who in [&a, &b] {
        for _ in 0..5 {
            let r = confirm(who, "sms");
            assert_eq!(r.status, 201, "{:?}", r.body);
        }
    }
    // ... so the next code to that number is refused, whoever asks: here a third enterprise's
    // first send.
    let c = register("共享号码丙有限公司");
    let r = confirm(&c, "sms");
    assert_eq!((r.status, r.problem()), (429, "rate-limited"), "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("mobile number or email address"), "{:?}", r.body);
    let wait = r.header("retry-after").and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    assert!((1..=3600).contains(&wait), "{wait}");
    // Another destination of the same member is not limited by it.
    assert_eq!(confirm(&c, "email").status, 201);
    let to = shared.trim_start_matches('+');
    let outbox = api.get(&format!("/v1/dev/outbox?recipient=%2B86{to}&limit=100")).send();
    assert_eq!(outbox.body["items"].as_array().unwrap().len(), 10, "{:?}", outbox.body);
}
