//! The public form checks over HTTP: each reports exactly what its real request refuses.

use esign_core::seal_image;
use esign_e2e::{Api, registration, submission};
use serde_json::{Value, json};

fn errors(v: &Value) -> Vec<(String, String)> {
    v["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["field"].as_str().unwrap_or("").to_owned(), e["code"].as_str().unwrap_or("").to_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(f, c)| ((*f).to_owned(), (*c).to_owned())).collect()
}

#[test]
fn a_registration_check_lists_what_registering_refuses() {
    let api = Api::new();
    let mut body = registration("Check Co");
    body["contact_email"] = json!("nope");
    body["admin"]["mobile"] = json!("12345");
    let check = api.post("/v1/checks/registration").json(&body).send();
    assert_eq!(check.status, 200, "{:?}", check.body);
    assert_eq!(check.header("cache-control"), Some("no-store"));
    assert_eq!(errors(&check.body), pairs(&[("contact_email", "invalid"), ("admin.mobile", "length")]));
    let real = api.post("/v1/enterprises").json(&body).send();
    assert_eq!(real.status, 422, "{:?}", real.body);
    assert_eq!(check.body["errors"], real.body["errors"], "the same fields, codes and messages");

    // A half-filled form: only what is given is judged; a clean one has no errors.
    let half = api.post("/v1/checks/registration").json(&json!({"admin": {"mobile": "1380013800"}})).send();
    assert_eq!(errors(&half.body), pairs(&[("admin.mobile", "length")]));
    let clean = api.post("/v1/checks/registration").json(&registration("Clean Co")).send();
    assert_eq!((clean.status, clean.body["errors"].clone()), (200, json!([])));
    let empty = api.post("/v1/checks/registration").json(&json!({})).send();
    assert_eq!((empty.status, empty.body["errors"].clone()), (200, json!([])));
}

#[test]
fn a_verification_check_lists_what_submitting_refuses() {
    let api = Api::new();
    let (id, key, _) = api.register("Check Verification Co");
    let mut body = submission();
    let uscc = body["uscc"].as_str().expect("uscc").to_owned();
    let wrong = format!("{}{}", &uscc[..17], if uscc.ends_with('0') { '1' } else { '0' });
    body["uscc"] = json!(wrong);
    body["administrator"]["is_legal_representative"] = json!(false);
    body["administrator"]["id_number"] = json!("110105194912310021");
    let check = api.post("/v1/checks/verification").json(&body).send();
    assert_eq!(check.status, 200, "{:?}", check.body);
    assert_eq!(
        errors(&check.body),
        pairs(&[
            ("uscc", "check_character"),
            ("administrator.id_number", "check_character"),
            ("authorization_letter_file_id", "required"),
        ])
    );
    let real = api.post(&format!("/v1/enterprises/{id}/verification")).key(&key).json(&body).send();
    assert_eq!(real.status, 422, "{:?}", real.body);
    assert_eq!(check.body["errors"], real.body["errors"], "the same fields, codes and messages");

    // As the form is typed: one wrong check character, then the organization code that does not
    // belong to the USCC (judged once both are there).
    let typed = api.post("/v1/checks/verification").json(&json!({"uscc": wrong})).send();
    assert_eq!(errors(&typed.body), pairs(&[("uscc", "check_character")]));
    let (_, other_org) = esign_core::kyb::sample_uscc(99);
    let both = api.post("/v1/checks/verification").json(&json!({"uscc": uscc, "organization_code": other_org})).send();
    assert_eq!(errors(&both.body), pairs(&[("organization_code", "org_code_mismatch")]));
    let fine = api.post("/v1/checks/verification").json(&submission()).send();
    assert_eq!((fine.status, fine.body["errors"].clone()), (200, json!([])));
}

#[test]
fn a_field_of_the_wrong_type_is_listed_as_the_request_refuses_it() {
    let api = Api::new();
    let check =
        api.post("/v1/checks/verification").json(&json!({"administrator": {"is_legal_representative": "yes"}})).send();
    assert_eq!(check.status, 200, "{:?}", check.body);
    assert_eq!(errors(&check.body), pairs(&[("administrator.is_legal_representative", "type")]));
    let unknown = api.post("/v1/checks/registration").json(&json!({"nickname": "x"})).send();
    assert_eq!(unknown.status, 200, "{:?}", unknown.body);
    assert_eq!(unknown.body["errors"][0]["code"], "type");
    let mut body = registration("Unknown Field Co");
    body["nickname"] = json!("x");
    let real = api.post("/v1/enterprises").json(&body).send();
    assert_eq!(real.status, 422);
    assert_eq!(real.body["errors"], unknown.body["errors"]);
    // Not JSON at all is still a bad request; not JSON by type an unsupported one.
    let bad = api.post("/v1/checks/registration").raw("application/json", b"{".to_vec()).send();
    assert_eq!((bad.status, bad.problem()), (400, "bad-request"));
    let text = api.post("/v1/checks/verification").raw("text/plain", b"{}".to_vec()).send();
    assert_eq!((text.status, text.problem()), (415, "unsupported-media-type"));
}

#[test]
fn an_empty_request_lists_every_field_it_needs_where_its_check_lists_none() {
    let api = Api::new();
    let required = |r: &esign_e2e::Reply, fields: &[&str]| {
        assert_eq!((r.status, r.problem()), (422, "validation-failed"), "{:?}", r.body);
        let expected: Vec<_> = fields.iter().map(|f| ((*f).to_owned(), "required".to_owned())).collect();
        assert_eq!(errors(&r.body), expected);
    };
    let r = api.post("/v1/enterprises").json(&json!({})).send();
    required(&r, &["name", "contact_email", "admin.name", "admin.mobile", "admin.email"]);
    let (id, key, _) = api.register("Empty Requests Co");
    let r = api.post(&format!("/v1/enterprises/{id}/verification")).key(&key).json(&json!({})).send();
    required(
        &r,
        &[
            "company_name",
            "uscc",
            "organization_code",
            "legal_representative.name",
            "legal_representative.id_number",
            "administrator.name",
            "administrator.id_number",
            "administrator.mobile",
            "administrator.is_legal_representative",
        ],
    );
    let r = api.post("/v1/members").key(&key).json(&json!({})).send();
    required(&r, &["name", "mobile", "email"]);
    // Nulls are not values either; a broken rule is listed beside the missing fields.
    let r = api
        .post(&format!("/v1/enterprises/{id}/verification"))
        .key(&key)
        .json(&json!({"company_name": null, "uscc": "X", "legal_representative": null}))
        .send();
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(&errors(&r.body)[..2], pairs(&[("company_name", "required"), ("uscc", "length")]));
    for path in ["/v1/checks/registration", "/v1/checks/verification"] {
        let check = api.post(path).json(&json!({})).send();
        assert_eq!((check.status, check.body["errors"].clone()), (200, json!([])), "{path}");
    }
}

#[test]
fn checks_need_no_key_and_are_never_replayed() {
    let api = Api::new();
    // The same Idempotency-Key with two bodies: both are simply checked.
    let a = api
        .post("/v1/checks/registration")
        .header("idempotency-key", "check-key-1")
        .json(&json!({"contact_email": "nope"}))
        .send();
    let b = api
        .post("/v1/checks/registration")
        .header("idempotency-key", "check-key-1")
        .json(&json!({"contact_email": "a@example.com"}))
        .send();
    assert_eq!((a.status, b.status), (200, 200), "{:?} {:?}", a.body, b.body);
    assert_eq!(errors(&a.body), pairs(&[("contact_email", "invalid")]));
    assert_eq!(b.body["errors"], json!([]));
    assert!(b.header("idempotent-replayed").is_none());
    let get = api.get("/v1/checks/registration").send();
    assert_eq!((get.status, get.header("allow")), (405, Some("POST")));
}

#[test]
fn a_seal_image_check_is_the_submission_rule() {
    let api = Api::new();
    let good = api.post("/v1/checks/seal-image").raw("image/png", seal_image::samples::red_seal()).send();
    assert_eq!(good.status, 200, "{:?}", good.body);
    assert_eq!(good.body, json!({"errors": [], "width_px": 300, "height_px": 300}));

    let blue = seal_image::samples::ring(300, [20, 20, 220], 0);
    let expected = seal_image::check(&blue).expect_err("blue ink fails");
    let bad = api.post("/v1/checks/seal-image").raw("image/png", blue).send();
    assert_eq!(bad.status, 200);
    assert_eq!(bad.body["errors"], json!([expected]));
    assert_eq!((bad.body["width_px"].as_u64(), bad.body["height_px"].as_u64()), (Some(300), Some(300)));

    // The bytes decide, not the declared type.
    let jpeg = api.post("/v1/checks/seal-image").raw("image/jpeg", b"\xFF\xD8\xFF\xE0\x00\x10JFIF".to_vec()).send();
    assert_eq!((jpeg.status, jpeg.body["errors"][0]["code"].as_str()), (200, Some("not_png")));
    assert_eq!(jpeg.body["width_px"], Value::Null);
    let empty = api.post("/v1/checks/seal-image").raw("application/octet-stream", Vec::new()).send();
    assert_eq!(empty.body["errors"][0]["code"], "empty");
    let text = api.post("/v1/checks/seal-image").raw("text/plain", b"hello".to_vec()).send();
    assert_eq!((text.status, text.problem()), (415, "unsupported-media-type"));

    // Larger than a seal image may be: the size rule, in a 413.
    let huge = vec![0u8; seal_image::MAX_BYTES as usize + 1];
    let too_large = api.post("/v1/checks/seal-image").raw("image/png", huge).send();
    assert_eq!((too_large.status, too_large.problem()), (413, "payload-too-large"));
    assert_eq!(too_large.body["errors"], json!([seal_image::too_large(seal_image::MAX_BYTES + 1)]));
}
