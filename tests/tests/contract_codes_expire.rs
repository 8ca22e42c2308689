//! A one-time code expires after five minutes (the clock of a listener of this test's own is
//! moved, so no other test sees the skew).

use esign_e2e::Api;
use serde_json::json;

#[test]
fn a_code_older_than_five_minutes_is_refused() {
    let (api, clock) = Api::with_own_clock();
    let (seal, key, admin, _) = esign_e2e::active_seal(&api, "过期验证码有限公司", "ecdsa_p256");
    assert_eq!(api.put(&format!("/v1/seals/{seal}/grants/{admin}")).key(&key).send().status, 200);
    let me = api.get("/v1/members").key(&key).send();
    let enterprise = me.body["items"][0]["enterprise_id"].as_str().unwrap().to_owned();
    let mobile = me.body["items"][0]["mobile"].as_str().unwrap().to_owned();
    api.confirm_contact(&key, &admin, "sms", &mobile);
    let pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n".to_vec();
    let mut pdf = pdf;
    let offsets: Vec<usize> = ["1 0 obj", "2 0 obj", "3 0 obj"]
        .iter()
        .map(|m| pdf.windows(m.len()).position(|w| w == m.as_bytes()).unwrap())
        .collect();
    let xref = pdf.len();
    pdf.extend_from_slice(b"xref\n0 4\n0000000000 65535 f \n");
    for o in offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(format!("trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    let r = api.post("/v1/contracts").key(&key).json(&json!({"title": "过期", "document_size": pdf.len()})).send();
    let id = r.body["contract"]["id"].as_str().unwrap().to_owned();
    api.put(r.body["upload"]["upload_url"].as_str().unwrap()).raw("application/pdf", pdf).send();
    api.put(&format!("/v1/contracts/{id}/parties"))
        .key(&key)
        .json(&json!({"order": "sequential", "parties": [{"enterprise_id": enterprise}]}))
        .send();
    let p = json!({"placements": [{"kind": "signature", "party": enterprise, "page": 1, "x": 50, "y": 50, "width": 100, "height": 100}]});
    assert_eq!(api.put(&format!("/v1/contracts/{id}/placements")).key(&key).json(&p).send().status, 200);
    assert_eq!(api.post(&format!("/v1/contracts/{id}/open")).key(&key).send().status, 200);
    let sent = api.post(&format!("/v1/contracts/{id}/otp")).key(&key).send();
    let otp = sent.body["otp_id"].as_str().unwrap().to_owned();
    let (code, _) = api.latest_code(&mobile);
    clock.skew(301);
    let r = api
        .post(&format!("/v1/contracts/{id}/sign"))
        .key(&key)
        .json(&json!({"seal_id": seal, "otp_id": otp, "code": code}))
        .send();
    assert_eq!((r.status, r.code_of("otp_id").as_deref()), (422, Some("expired")), "{:?}", r.body);
}
