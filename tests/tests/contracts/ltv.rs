//! Long-term validation over HTTP (issue #15): every signing act embeds its validation data
//! (B-LT) and the signature that completes a contract adds a document time stamp with its own
//! (B-LTA), in the revision that act stores. Judged offline, in a network namespace of their own
//! (`unshare -rn`: nothing can be fetched, so everything must come from the file), trusting only
//! the platform root: `check_signed_pdf.sh` and pyHanko's AdES validation with the LTA profile.
//! Then the archive time stamp is renewed (a party may not yet; an operator may), one seal is
//! revoked, and the signature it made stays valid: the API's report says it was revoked after
//! signing, and both offline judges still pass.

use std::path::{Path, PathBuf};
use std::process::Command;

use esign_e2e::{Api, OPERATOR_KEY, repo_root};
use serde_json::{Value, json};

use esign_core::ports::Key;

use super::{
    check_signatures, code, contract, download, party, place, sample_pdf, sign, stored_record, two_parties_signed,
};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `check_signed_pdf.sh --expect N` with the platform root as the only anchor, with no network
/// at all: answers (passed, output). Offline, poppler cannot ask the OCSP responder the seal
/// certificates name (it reads no DSS) and NSS says "Unknown issue with Certificate or corrupted
/// data."; `--allow-nss-usage-mismatch` accepts that line provided pyHanko and OpenSSL both
/// accept the chain, as the kit's README says for such files.
fn check_offline(pdf: &Path, root: &Path, expect: usize) -> (bool, String) {
    let out = Command::new("unshare")
        .arg("-rn")
        .arg(repo_root().join("../shared/pdfcheck/check_signed_pdf.sh"))
        .args(["--allow-nss-usage-mismatch", "--expect", &expect.to_string()])
        .arg(pdf)
        .arg(root)
        .output()
        .expect("unshare and check_signed_pdf.sh run");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success() && text.lines().last().unwrap_or("").starts_with("PASS"), text)
}

fn report(api: &Api, key: &str, id: &str) -> Value {
    let r = api.post("/v1/verify").key(key).json(&json!({ "contract_id": id })).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

/// `pdf` (written to `dir` as `name`) passes `check_signed_pdf.sh --expect expect` offline and
/// pyHanko's PAdES-LTA validation offline, with `signatures` signatures INTACT:TRUSTED.
pub(super) fn assert_passes_offline(dir: &Path, pdf: &[u8], name: &str, root: &Path, expect: usize, signatures: usize) {
    let path = write(dir, name, pdf);
    let (ok, text) = check_offline(&path, root, expect);
    assert!(ok, "check_signed_pdf.sh offline, {name}:\n{text}");
    println!("{name}: check_signed_pdf.sh offline: {}", text.lines().last().unwrap_or(""));
    let (ok, text) = esign_e2e::pyhanko_adesverify_offline(dir, &path, root);
    assert!(ok, "pyHanko LTA validation offline, {name}:\n{text}");
    assert_eq!(text.matches(":INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>").count(), signatures, "{name}: {text}");
    println!("{name}: pyHanko adesverify (PAdES-LTA, offline): {signatures} signatures INTACT:TRUSTED");
}

#[test]
fn two_parties_sign_b_lta_judged_offline_and_a_later_revocation_leaves_them_valid() {
    let api = Api::new();
    let a = party(&api, "长期验证甲方有限公司", "ecdsa_p256");
    let b = party(&api, "长期验证乙方有限公司", "rsa_2048");
    let title = format!("长期验证合同-{}", std::process::id());
    let placements = vec![place(&a, "signature", 1, 60.0, 560.0), place(&b, "signature", 1, 400.0, 560.0)];
    let id = contract(&api, &a, &title, sample_pdf(1), &[&a, &b], "sequential", placements);
    let dir = std::env::temp_dir().join(format!("esign-ltv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pems = String::from_utf8(api.get("/v1/ca/certificates").send().raw).unwrap();
    let root = write(&dir, "root.pem", &pems.as_bytes()[..pems.find("-----END CERTIFICATE-----").unwrap() + 26]);

    // The first act: B-LT in its own revision (the contract is not complete: no time stamp yet).
    let (otp, c) = code(&api, &a, &id, &title);
    let r = sign(&api, &a, &id, &otp, &c);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["revisions"].as_array().unwrap().len(), 2, "one stored revision per act: {:?}", r.body);
    let first = report(&api, &a.key, &id);
    let s = &first["signatures"][0]["long_term"];
    assert_eq!(s["level"], "B-LT", "{first}");
    assert_eq!((s["validation_data_complete"].as_bool(), s["status_at_signing"].as_str()), (Some(true), Some("good")));
    assert!(first["document_timestamps"].as_array().unwrap().is_empty(), "{first}");

    // The second completes it: B-LTA, still one revision for the act.
    let (otp, c) = code(&api, &b, &id, &title);
    let r = sign(&api, &b, &id, &otp, &c);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "completed");
    assert_eq!(r.body["revisions"].as_array().unwrap().len(), 3, "{:?}", r.body);
    let signed = download(&api, &b, &id);
    // Online too, as every other test judges: 2 signatures + 1 document time stamp.
    let _ = std::fs::remove_dir_all(check_signatures(&api, &signed, 3, "ltv-completed"));
    assert_passes_offline(&dir, &signed, "completed.pdf", &root, 3, 2);
    let rep = report(&api, &a.key, &id);
    assert_eq!(rep["valid"], true, "{rep}");
    for s in rep["signatures"].as_array().unwrap() {
        let lt = &s["long_term"];
        assert_eq!(lt["level"], "B-LTA", "{rep}");
        assert_eq!(lt["validation_data_complete"], true, "{rep}");
        assert_eq!(lt["status_at_signing"], "good", "{rep}");
        assert!(lt["revoked"].is_null(), "{rep}");
        assert!(lt["statement"].as_str().unwrap().contains("not revoked at the signing time"), "{rep}");
    }
    let stamps = rep["document_timestamps"].as_array().unwrap();
    assert_eq!(stamps.len(), 1, "{rep}");
    assert_eq!((stamps[0]["intact"].as_bool(), stamps[0]["trusted"].as_bool()), (Some(true), Some(true)), "{rep}");
    assert_eq!(stamps[0]["validation_data_complete"], true, "{rep}");

    // Renewing the archive time stamp: a party not yet (it is minutes old), an operator may.
    let path = format!("/v1/contracts/{id}/archive-timestamps");
    let early = api.post(&path).key(&a.key).send();
    assert_eq!(early.status, 429, "{:?}", early.body);
    assert!(early.header("retry-after").is_some());
    let renewed = api.post(&path).key(OPERATOR_KEY).send();
    assert_eq!(renewed.status, 201, "{:?}", renewed.body);
    let revisions = renewed.body["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 4, "{:?}", renewed.body);
    assert!(revisions[3]["party"].is_null(), "a revision of the platform's: {:?}", renewed.body);
    let open = contract(
        &api,
        &a,
        "未完成的合同",
        sample_pdf(1),
        &[&a],
        "sequential",
        vec![place(&a, "signature", 1, 60.0, 560.0)],
    );
    let not_done = api.post(&format!("/v1/contracts/{open}/archive-timestamps")).key(OPERATOR_KEY).send();
    assert_eq!(not_done.status, 409, "{:?}", not_done.body);
    let outsider = party(&api, "长期验证局外人有限公司", "ecdsa_p256");
    assert_eq!(api.post(&path).key(&outsider.key).send().status, 404);
    let trail = api.get(&format!("/v1/contracts/{id}/audit")).key(&a.key).send();
    assert_eq!(trail.status, 200, "{:?}", trail.body);
    assert!(trail.body.to_string().contains("contract.archive_timestamped"), "{:?}", trail.body);
    let archived = download(&api, &a, &id);
    assert!(archived.starts_with(&signed), "an incremental update of the completed revision");
    assert_passes_offline(&dir, &archived, "renewed.pdf", &root, 4, 2);
    let rep = report(&api, &a.key, &id);
    assert_eq!(rep["document_timestamps"].as_array().unwrap().len(), 2, "{rep}");
    assert_eq!(rep["valid"], true, "{rep}");

    // A's seal is revoked (its key compromised) after it signed.
    let r =
        api.post(&format!("/v1/seals/{}/revoke", a.seal)).key(&a.key).json(&json!({"reason": "key_compromise"})).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let rep = report(&api, &b.key, &id);
    assert_eq!(rep["valid"], true, "signed before the revocation: {rep}");
    let sa = &rep["signatures"][0];
    assert_eq!(sa["seal"]["status"], "revoked", "{rep}");
    let lt = &sa["long_term"];
    assert_eq!(lt["revoked"]["after_signing"], true, "{rep}");
    assert_eq!(lt["revoked"]["reason"], "key_compromise", "{rep}");
    assert_eq!(lt["status_at_signing"], "good", "the embedded data speaks of the signing time: {rep}");
    assert_eq!(lt["level"], "B-LTA", "{rep}");
    let statement = lt["statement"].as_str().unwrap();
    assert!(statement.contains("after this signature was made") && statement.contains("stays valid"), "{statement}");
    println!("after revocation, the report says: {statement}");
    assert!(rep["signatures"][1]["long_term"]["revoked"].is_null(), "B's seal is not revoked: {rep}");
    // The file judged offline after the revocation: the same verdicts.
    assert_passes_offline(&dir, &archived, "after-revocation.pdf", &root, 4, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// When the contract's archive time stamp is due (as the platform stored it).
fn archive_due(api: &Api, id: &str) -> time::OffsetDateTime {
    let record = stored_record(api, &Key::new(format!("CONTRACT#{id}"), "CONTRACT")).expect("the contract record");
    let due = record.data["archive"]["due"].as_str().expect("a completed contract's archive state");
    time::OffsetDateTime::parse(due, &time::format_description::well_known::Rfc3339).unwrap()
}

/// The schedule, end to end: a completed contract's archive time stamp falls due (here after an
/// hour, `ESIGN_ARCHIVE_MAX_AGE_SECS`; two years by default), the clock moves past it, and the
/// scheduled `renew-archive-timestamps` (the entry point its Lambda function runs) adds a new
/// document time stamp as a new revision, judged offline as the signing's; the contract's due
/// date moves forward, and a run before it renews nothing. On a server of its own: the schedule
/// renews everything due in its table, and its clock is moved.
#[test]
fn the_renewal_schedule_renews_what_is_due_and_then_nothing() {
    use esign_api::lambda::RENEW_ARCHIVE_TIMESTAMPS;
    let (api, clock) = Api::isolated(|c| c.archive_max_age = std::time::Duration::from_secs(3600));
    let title = format!("定期续期合同-{}", std::process::id());
    let (a, _b, id) = two_parties_signed(&api, ["定期续期甲方有限公司", "定期续期乙方有限公司"], &title);
    let signed = download(&api, &a, &id);
    let due = archive_due(&api, &id);
    let now = time::OffsetDateTime::now_utc();
    assert!(due > now + time::Duration::minutes(59) && due <= now + time::Duration::hours(1), "{due}");
    let (run, _) = api.run_scheduled(RENEW_ARCHIVE_TIMESTAMPS);
    assert_eq!(run, json!({"renewed": [], "failed": []}), "not due yet");

    // Past the due date: the schedule renews it (seconds after completion, so that the date it
    // moves to is seconds after the old one: the TSA's clock is the machine's).
    std::thread::sleep(std::time::Duration::from_secs(4));
    let mut skew = (due - time::OffsetDateTime::now_utc()).whole_seconds() + 5;
    clock.skew(skew);
    let (run, calls) = api.run_scheduled(RENEW_ARCHIVE_TIMESTAMPS);
    assert_eq!(run, json!({"renewed": [id], "failed": []}));
    println!("renew-archive-timestamps, one contract: {} AWS calls ({})", calls.len(), super::call_summary(&calls));
    // Its due date moved forward; before it comes, a run renews nothing (though the old date has passed).
    let next = archive_due(&api, &id);
    assert!(next > due, "{next} after {due}");
    assert!(next - due >= time::Duration::seconds(4), "{next} vs {due}");
    let target = next - time::Duration::milliseconds(1500);
    let delta = (target - (time::OffsetDateTime::now_utc() + time::Duration::seconds(skew))).whole_seconds();
    clock.skew(delta);
    skew += delta;
    let (run, calls) = api.run_scheduled(RENEW_ARCHIVE_TIMESTAMPS);
    assert_eq!(run, json!({"renewed": [], "failed": []}), "nothing due at {skew} s ahead");
    println!("renew-archive-timestamps, nothing due: {} AWS calls ({})", calls.len(), super::call_summary(&calls));
    assert_eq!(archive_due(&api, &id), next);

    // Judged at the real time: the online judges ask the server's OCSP responder, which answers
    // at the server's clock.
    clock.skew(-skew);
    let view = api.get(&format!("/v1/contracts/{id}")).key(&a.key).send();
    let revisions = view.body["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 4, "{:?}", view.body);
    assert!(revisions[3]["party"].is_null(), "a revision of the platform's: {:?}", view.body);
    let renewed = download(&api, &a, &id);
    assert!(renewed.starts_with(&signed), "an incremental update of the completed revision");
    // One more document time stamp: 2 signatures + 2 document time stamps.
    let dir = check_signatures(&api, &renewed, 4, "scheduled-renewal");
    let root = dir.join("root.pem");
    assert_passes_offline(&dir, &renewed, "scheduled-renewal.pdf", &root, 4, 2);
    let rep = report(&api, &a.key, &id);
    assert_eq!((rep["valid"].as_bool(), rep["document_timestamps"].as_array().map(Vec::len)), (Some(true), Some(2)));
    let trail = api.get(&format!("/v1/contracts/{id}/audit")).key(&a.key).send();
    let renewal =
        trail.body["items"].as_array().unwrap().iter().find(|e| e["action"] == "contract.archive_timestamped");
    let renewal = renewal.unwrap_or_else(|| panic!("the renewal is on the trail: {:?}", trail.body));
    assert_eq!(renewal["actor"]["kind"], "system", "{renewal}");

    let _ = std::fs::remove_dir_all(&dir);
}

/// Contracts completed before the platform kept long-term state: in neither the renewal index
/// (`ARCHIVE#due`) nor the evidence index (`EVIDENCE#due`), no report stored. A completed contract
/// is made to look like one (its archive state, index entry and due report taken away behind the
/// API, as the table held them before); the one-off `backfill-long-term`, run until it says it is
/// done, puts it back in both; a second pass writes nothing; the schedules then find it. On a
/// server of its own, so the pass sees only this test's records.
#[test]
fn the_migration_puts_contracts_completed_before_back_in_both_indexes_once() {
    let (api, _clock) = Api::isolated(|_| {});
    let title = format!("迁移前完成的合同-{}", std::process::id());
    let (a, _b, id) = two_parties_signed(&api, ["迁移甲方有限公司", "迁移乙方有限公司"], &title);
    let contract_key = Key::new(format!("CONTRACT#{id}"), "CONTRACT");
    let due_key = Key::new(format!("CONTRACT#{id}"), "EVIDENCE#due");
    let now_state = stored_record(&api, &contract_key).unwrap();
    let archive = now_state.data["archive"].clone();
    assert!(now_state.index.as_ref().is_some_and(|i| i.pk == "ARCHIVE#due"), "{now_state:?}");
    // As before this release: no archive state, no index entry, no report due.
    let table = api.records_table();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use esign_core::ports::{Condition, RecordStore, Write};
        let sdk = esign_aws::emulator_sdk_config(esign_e2e::emulator());
        let store = esign_aws::dynamo::DynamoStore::from_sdk(&sdk, &table);
        let mut old = now_state.clone();
        old.data.as_object_mut().unwrap().remove("archive");
        old.index = None;
        let writes = vec![
            Write::Put { record: old, condition: Condition::Version(now_state.version) },
            Write::Delete { key: due_key.clone(), condition: Condition::Always },
        ];
        store.write(writes).await.unwrap();
    });
    assert!(stored_record(&api, &contract_key).unwrap().index.is_none());

    let pass = |api: &Api| {
        let (mut archive_indexed, mut evidence_due, mut runs, mut calls) = (Vec::new(), Vec::new(), 0, 0);
        let mut payload = json!({});
        loop {
            let (run, made) = api.run_backfill(payload);
            runs += 1;
            calls += made.len();
            assert_eq!(run["failed"], json!([]), "{run}");
            archive_indexed.extend(run["archive_indexed"].as_array().unwrap().iter().cloned());
            evidence_due.extend(run["evidence_due"].as_array().unwrap().iter().cloned());
            if run["next"].is_null() {
                break;
            }
            assert!(runs < 20, "the migration ends");
            payload = json!({"after": run["next"]});
        }
        println!("backfill-long-term pass: {runs} run(s), {calls} AWS calls");
        (archive_indexed, evidence_due)
    };
    let (archive_indexed, evidence_due) = pass(&api);
    assert_eq!((archive_indexed, evidence_due), (vec![json!(id)], vec![json!(id)]));
    let mended = stored_record(&api, &contract_key).unwrap();
    assert_eq!(mended.data["archive"], archive, "the archive state of its newest document time stamp");
    assert!(mended.index.as_ref().is_some_and(|i| i.pk == "ARCHIVE#due" && i.sk.ends_with(&id)), "{mended:?}");
    assert!(stored_record(&api, &due_key).is_some(), "its report is due");

    // Done once: a second pass writes nothing.
    assert_eq!(pass(&api), (vec![], vec![]));
    assert_eq!(stored_record(&api, &contract_key).unwrap().version, mended.version);
    // The schedules find it: its report is made, and the request answers that one.
    let (run, _) = api.run_scheduled(esign_api::lambda::GENERATE_EVIDENCE);
    assert_eq!(run, json!({"generated": [id], "reused": [], "failed": []}));
    let got = api.get(&format!("/v1/contracts/{id}/evidence")).key(&a.key).send();
    assert_eq!(got.status, 200, "{:?}", got.body);
    let stored = stored_record(&api, &Key::new(format!("CONTRACT#{id}"), "EVIDENCE")).unwrap();
    assert_eq!(got.body["sha256"], stored.data["sha256"]);
    assert_eq!(pass(&api), (vec![], vec![]));
}
