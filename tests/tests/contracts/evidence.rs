//! The evidence report (出证报告) over HTTP: two parties sign, then each fetches the report. It
//! must pass every independent judge with the platform root as the only anchor (it is signed by
//! the platform's evidence seal and time-stamped), and its text (as `pdftotext` reads it) must
//! hold the figures of the contract's API view: every revision's SHA-256, the parties' names and
//! USCCs, the seals' certificate serials, the signers' masked mobiles and the audit trail's head.
//! The stored report is reused while nothing changed; another enterprise learns nothing (404).

use super::*;

fn evidence(api: &Api, p: &Party, contract: &str) -> Reply {
    api.get(&format!("/v1/contracts/{contract}/evidence")).key(&p.key).send()
}

/// The text of a PDF as poppler's `pdftotext` extracts it.
fn pdf_text(pdf: &[u8], name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("esign-evidence-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("report.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils, installed with the pdfcheck kit)");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_evidence_report_is_signed_by_the_platform_and_shows_what_the_api_shows() {
    let api = Api::new();
    let title = format!("出证测试合同 (Evidence) <{}>", std::process::id());
    let (a, b, id) = two_parties_signed(&api, ["出证甲方科技有限公司", "出证乙方贸易有限公司"], &title);
    let outsider = party(&api, "出证局外人有限公司", "ecdsa_p256");

    let first = evidence(&api, &b, &id);
    assert_eq!(first.status, 200, "{:?}", first.body);
    let pdf = api.get(first.body["url"].as_str().unwrap()).send();
    assert_eq!(pdf.status, 200);
    let pdf = pdf.raw;
    assert_eq!(first.body["size"].as_u64(), Some(pdf.len() as u64));
    assert_eq!(first.body["sha256"].as_str().unwrap(), hex_sha256(&pdf));
    println!("evidence report: {} bytes", pdf.len());
    assert!(pdf.len() < 400_000, "a report of two parties stays small: {} bytes", pdf.len());

    // The evidence seal's signature, time-stamped, and the document time stamp that archives it
    // (B-LTA): every judge with the platform root, online and with no network at all; pyHanko's
    // PAdES-LTA validation offline, from the data the report carries.
    let dir = check_signatures(&api, &pdf, 2, "evidence");
    let root = dir.join("root.pem");
    super::ltv::assert_passes_offline(&dir, &pdf, "evidence-offline.pdf", &root, 2, 1);
    println!("evidence report: check_signed_pdf.sh PASS online and offline; pyHanko PAdES-LTA offline: valid");
    let _ = std::fs::remove_dir_all(&dir);

    // What it says is what the API says.
    let view = api.get(&format!("/v1/contracts/{id}")).key(&a.key).send();
    assert_eq!((view.status, view.body["status"].as_str()), (200, Some("completed")), "{:?}", view.body);
    let text = pdf_text(&pdf, "report");
    let mut figures: Vec<String> = vec![title.clone(), id.clone()];
    for r in view.body["revisions"].as_array().unwrap() {
        figures.push(r["sha256"].as_str().unwrap().to_owned());
    }
    assert_eq!(view.body["revisions"].as_array().unwrap().len(), 3);
    for p in view.body["parties"].as_array().unwrap() {
        figures.push(p["enterprise_name"].as_str().unwrap().to_owned());
        let uscc = p["uscc"].as_str().unwrap();
        assert_eq!(uscc.len(), 18);
        figures.push(uscc.to_owned());
    }
    for s in view.body["signatures"].as_array().unwrap() {
        figures.push(s["certificate_serial"].as_str().unwrap().to_owned());
        figures.push(s["seal_name"].as_str().unwrap().to_owned());
    }
    for p in [&a, &b] {
        // the signer's mobile, masked as 138****5678
        let digits = p.mobile.trim_start_matches("+86");
        figures.push(format!("{}****{}", &digits[..3], &digits[digits.len() - 4..]));
        assert!(!text.contains(digits), "the full mobile is not in the report");
    }
    let trail = api.get(&format!("/v1/contracts/{id}/audit?limit=100")).key(&a.key).send();
    assert_eq!(trail.status, 200, "{:?}", trail.body);
    assert_eq!(trail.body["chain_intact"], true);
    let events = trail.body["items"].as_array().unwrap();
    let head = events.last().unwrap();
    figures.push(head["hash"].as_str().unwrap().to_owned());
    for e in events.iter().filter(|e| e["action"] == "otp.sent") {
        figures.push(e["details"]["to"].as_str().unwrap().trim_start_matches("+86 ").to_owned());
    }
    for f in &figures {
        assert!(text.contains(f.as_str()), "the report lacks {f:?}:\n{text}");
    }
    for words in ["出证报告", "Evidence Report", "统一社会信用代码", "USCC", "审计链", "Audit chain", "Token serial"]
    {
        assert!(text.contains(words), "the report lacks {words:?}");
    }
    // Every character drawn as itself: none replaced by '?' for want of a glyph (the dash between
    // a party and its signer was, until the report's Latin font had WinAnsi's punctuation).
    assert!(!text.contains('?'), "a character the report could not draw:\n{text}");
    println!("evidence report: {} figures of the API view found in its text", figures.len());

    // Nothing changed: the stored report again, for the other party too.
    let again = evidence(&api, &a, &id);
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(
        (&again.body["sha256"], &again.body["generated_at"]),
        (&first.body["sha256"], &first.body["generated_at"])
    );
    let access = api.get(&format!("/v1/contracts/{id}/audit?trail=access")).key(&a.key).send();
    let fetched =
        access.body["items"].as_array().unwrap().iter().filter(|e| e["action"] == "contract.evidence_downloaded");
    assert_eq!(fetched.count(), 2);

    // Another enterprise, and nobody at all, learn nothing.
    let r = evidence(&api, &outsider, &id);
    assert_eq!((r.status, r.problem()), (404, "not-found"), "{:?}", r.body);
    let r = api.get(&format!("/v1/contracts/{id}/evidence")).send();
    assert_eq!(r.status, 401);
}

/// The report is made when the contract completes: the signing that completes it makes the
/// report due, the scheduled `generate-evidence` makes and stores it, and the request then answers
/// that stored report without making one (no KMS signature, no S3 put in its calls), which passes
/// the same judges. On a server of its own: the job works on everything due in its table.
#[test]
fn the_report_is_made_when_the_contract_completes_and_a_request_finds_it_stored() {
    let (api, _clock) = Api::isolated(|_| {});
    let title = format!("完成即出证合同 <{}>", std::process::id());
    let (a, b, id) = two_parties_signed(&api, ["完成出证甲方有限公司", "完成出证乙方有限公司"], &title);
    let due = Key::new(format!("CONTRACT#{id}"), "EVIDENCE#due");
    assert!(stored_record(&api, &due).is_some(), "the completing signing made the report due");
    assert!(stored_record(&api, &Key::new(format!("CONTRACT#{id}"), "EVIDENCE")).is_none(), "not made yet");

    let (run, calls) = api.run_scheduled(esign_api::lambda::GENERATE_EVIDENCE);
    assert_eq!(run, json!({"generated": [id], "reused": [], "failed": []}));
    println!("generate-evidence, one report: {} AWS calls ({})", calls.len(), super::call_summary(&calls));
    assert!(stored_record(&api, &due).is_none(), "made and stored: no longer due");
    let stored = stored_record(&api, &Key::new(format!("CONTRACT#{id}"), "EVIDENCE")).expect("the stored report");
    let (run, calls) = api.run_scheduled(esign_api::lambda::GENERATE_EVIDENCE);
    assert_eq!(run, json!({"generated": [], "reused": [], "failed": []}));
    println!("generate-evidence, nothing due: {} AWS calls ({})", calls.len(), super::call_summary(&calls));

    // The request finds it: the stored report, nothing signed or stored on the way.
    let got = evidence(&api, &a, &id);
    assert_eq!(got.status, 200, "{:?}", got.body);
    assert_eq!(got.body["sha256"], stored.data["sha256"]);
    assert_eq!(got.body["generated_at"], stored.data["generated_at"]);
    let request_calls: Vec<String> = got
        .header(esign_api::local::AWS_CALLS_HEADER)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    println!("GET evidence after the job: {} AWS calls ({})", request_calls.len(), super::call_summary(&request_calls));
    assert!(
        !request_calls.iter().any(|c| c == "KMS.Sign" || c == "S3.PutObject"),
        "nothing made on request: {request_calls:?}"
    );
    let access = api.get(&format!("/v1/contracts/{id}/audit?trail=access")).key(&b.key).send();
    let fetched: Vec<&Value> = access.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "contract.evidence_downloaded")
        .collect();
    assert_eq!(fetched.len(), 1, "{:?}", access.body);
    assert_eq!(fetched[0]["details"]["generated"], false);

    // The same judges as a report made on request.
    let pdf = api.get(got.body["url"].as_str().unwrap()).send();
    assert_eq!(pdf.status, 200);
    let pdf = pdf.raw;
    assert_eq!(got.body["sha256"].as_str().unwrap(), hex_sha256(&pdf));
    let dir = check_signatures(&api, &pdf, 2, "evidence-on-completion");
    let root = dir.join("root.pem");
    super::ltv::assert_passes_offline(&dir, &pdf, "evidence-on-completion-offline.pdf", &root, 2, 1);
    let text = pdf_text(&pdf, "on-completion");
    for f in [title.as_str(), id.as_str(), "已完成 completed"] {
        assert!(text.contains(f), "the report lacks {f:?}:\n{text}");
    }
    println!(
        "evidence report made on completion: check_signed_pdf.sh PASS online and offline; pyHanko PAdES-LTA offline: valid"
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(text.contains("尚未锚定"), "made before the trail was anchored:\n{text}");

    // Anchoring the trail makes the stored report out of date: due again, made again by the
    // schedule, and the request answers the new one, which shows the anchored head.
    let (run, _) = api.run_scheduled(esign_api::lambda::ANCHOR_AUDIT);
    assert!(run["anchored"].as_u64().unwrap_or(0) >= 1, "{run}");
    assert!(stored_record(&api, &due).is_some(), "the anchor made the report due again");
    let (run, _) = api.run_scheduled(esign_api::lambda::GENERATE_EVIDENCE);
    assert_eq!(run, json!({"generated": [id], "reused": [], "failed": []}));
    let anchored = evidence(&api, &a, &id);
    assert_eq!(anchored.status, 200, "{:?}", anchored.body);
    assert_ne!(anchored.body["sha256"], got.body["sha256"]);
    let pdf = api.get(anchored.body["url"].as_str().unwrap()).send().raw;
    let text = pdf_text(&pdf, "on-anchor");
    assert!(text.contains("锚定哈希") && !text.contains("尚未锚定"), "the report shows the anchored head:\n{text}");
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
