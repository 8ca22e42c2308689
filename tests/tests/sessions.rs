//! People's sessions over HTTP: sign-in with a one-time code from the development outbox, the
//! session cookie on every route, CSRF on writes, expiry, sign-out, and isolation.

use esign_e2e::{Api, OPERATOR_EMAIL, Reply, SHORT_SESSION_IDLE, SHORT_SESSION_MAX, Session, unique_mobile};
use serde_json::{Value, json};

/// A verified enterprise's admin key and id, and the admin's mobile (E.164) and email.
fn verified(api: &Api, name: &str) -> (String, String, String, String, String) {
    let (id, key, admin) = api.verified_enterprise(name);
    let me = api.get("/v1/members").key(&key).send();
    let m = &me.body["items"][0];
    (id, key, admin, m["mobile"].as_str().unwrap().to_owned(), m["email"].as_str().unwrap().to_owned())
}

fn outbox_to(api: &Api, recipient: &str) -> Vec<Value> {
    let to = recipient.replace('+', "%2B").replace('@', "%40");
    let r = api.get(&format!("/v1/dev/outbox?recipient={to}")).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

fn members(api: &Api, key: &str) -> Vec<Value> {
    api.get("/v1/members?limit=100").key(key).send().body["items"].as_array().unwrap().clone()
}

fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

#[test]
fn sign_in_by_sms_and_email_then_use_the_session_with_csrf_and_sign_out() {
    let api = Api::new();
    let (eid, key, admin, mobile, email) = verified(&api, "会话测试有限公司");

    // By SMS, the number typed as people do.
    let national = mobile.trim_start_matches("+86");
    let challenge = api.start_sign_in(&format!("{} {} {}", &national[..3], &national[3..7], &national[7..]), "member");
    assert_eq!(challenge.status, 202, "{:?}", challenge.body);
    assert_eq!(challenge.body["channel"], "sms");
    for field in ["challenge_id", "expires_at", "resend_after"] {
        assert!(challenge.body[field].is_string(), "{field}: {:?}", challenge.body);
    }
    let (code, body) = api.latest_code(&mobile);
    assert!(body.contains("登录验证码") && body.contains("sign-in code"), "{body}");
    let bad = api
        .post("/v1/sessions")
        .json(&json!({"challenge_id": challenge.body["challenge_id"], "code": wrong(&code)}))
        .send();
    assert_eq!((bad.status, bad.code_of("code").as_deref()), (422, Some("mismatch")), "{:?}", bad.body);
    assert!(bad.body["detail"].as_str().unwrap().contains("4 attempt(s) left"), "{:?}", bad.body);
    let signed = api.enter_code(&challenge, &mobile, None);
    let s = Api::session_of(&signed);
    // The cookie: a host-only, script-proof, same-site session of the absolute lifetime.
    let attrs: Vec<&str> = s.set_cookie.split(';').map(str::trim).collect();
    // Its value: 32 random bytes in base64url, then the member it is for (read with the session
    // in one round trip; the session record must name the same member).
    let value = attrs[0].strip_prefix("__Host-esign_session=").expect("the session cookie");
    let (secret, member) = value.split_once('.').expect("secret.enterprise.member");
    assert_eq!(secret.len(), 43, "{value}");
    assert_eq!(member.split('.').count(), 2, "{value}");
    for a in ["Path=/", "HttpOnly", "Secure", "SameSite=Strict", "Max-Age=43200"] {
        assert!(attrs.contains(&a), "{a} missing from {}", s.set_cookie);
    }
    assert!(!attrs.iter().any(|a| a.starts_with("Domain")), "{}", s.set_cookie);
    assert_eq!(signed.header("cache-control"), Some("no-store"));
    let principal = &s.body["principal"];
    assert_eq!(
        (principal["kind"].as_str(), principal["member_id"].as_str(), principal["enterprise_id"].as_str()),
        (Some("member"), Some(admin.as_str()), Some(eid.as_str()))
    );
    assert_eq!((principal["role"].as_str(), principal["name"].as_str()), (Some("admin"), Some("张三")));

    // GET /v1/session shows the same session; reads need no CSRF token.
    let got = api.get("/v1/session").session(&s).send();
    assert_eq!(got.status, 200, "{:?}", got.body);
    assert_eq!((&got.body["principal"], &got.body["csrf_token"]), (principal, &s.body["csrf_token"]));
    assert!(got.body["idle_expires_at"].as_str() <= got.body["expires_at"].as_str());
    assert_eq!(api.get(&format!("/v1/enterprises/{eid}")).session(&s).send().status, 200);
    let before = members(&api, &key).len();

    // A write without the token, or with another, changes nothing.
    let add = json!({"name": "李四", "mobile": unique_mobile(), "email": "li@example.com"});
    let r = api.post("/v1/members").session(&s).json(&add).send();
    assert_eq!((r.status, r.problem()), (403, "csrf"), "{:?}", r.body);
    let r = api.post("/v1/members").session(&s).header("x-csrf-token", "forged").json(&add).send();
    assert_eq!((r.status, r.problem()), (403, "csrf"), "{:?}", r.body);
    assert_eq!(members(&api, &key).len(), before);
    let r = api.post("/v1/members").session_write(&s).json(&add).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(members(&api, &key).len(), before + 1);
    // An API key wins over the cookie, even a bad one.
    assert_eq!(api.get("/v1/members").session(&s).key("esk_wrong").send().status, 401);
    // A cookie that is not a session's is nobody.
    let junk = Session { cookie: "__Host-esign_session=not-a-token".into(), ..s.clone() };
    assert_eq!(api.get("/v1/members").session(&junk).send().status, 401);

    // By email, in any case: the code confirms the email, as the SMS one did the mobile.
    let by_email = api.sign_in(&email.to_uppercase(), &email.to_lowercase(), "member");
    assert_eq!(by_email.body["principal"]["member_id"], admin.as_str());
    let me = members(&api, &key).into_iter().find(|m| m["id"] == admin.as_str()).unwrap();
    assert_eq!((&me["mobile_confirmed"], &me["email_confirmed"]), (&json!(true), &json!(true)));

    // Sign-out: needs the token, ends the session, clears the cookie; the other one lives on.
    let r = api.delete("/v1/session").session(&s).send();
    assert_eq!((r.status, r.problem()), (403, "csrf"));
    let r = api.delete("/v1/session").session_write(&s).send();
    assert_eq!(r.status, 204);
    let cleared = r.header("set-cookie").unwrap();
    assert!(cleared.starts_with("__Host-esign_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(api.get("/v1/session").session(&s).send().status, 401);
    assert_eq!(api.get("/v1/members").session(&s).send().status, 401);
    assert_eq!(api.delete("/v1/session").session(&s).send().status, 204, "nothing left to end");
    assert_eq!(api.get("/v1/session").session(&by_email).send().status, 200);
    assert_eq!(api.get("/v1/session").key(&key).send().status, 401, "an API key is not a session");
}

#[test]
fn sessions_end_when_idle_and_at_their_absolute_limit() {
    let api = Api::short_sessions();
    let (_, _, _, mobile, email) = verified(&api, "会话过期有限公司");
    let s = api.sign_in(&mobile, &mobile, "member");
    assert!(s.set_cookie.contains(&format!("Max-Age={}", SHORT_SESSION_MAX.as_secs())));
    assert_eq!(api.get("/v1/session").session(&s).send().status, 200);
    std::thread::sleep(SHORT_SESSION_IDLE + std::time::Duration::from_millis(800));
    assert_eq!(api.get("/v1/members").session(&s).send().status, 401, "idle too long");

    // Used every half second, a session still ends at its absolute limit (signed in by email:
    // the mobile's resend cool-down is still on).
    let s = api.sign_in(&email, &email.to_lowercase(), "member");
    let start = std::time::Instant::now();
    let mut ended = None;
    while start.elapsed() < SHORT_SESSION_MAX + std::time::Duration::from_secs(3) {
        if api.get("/v1/members").session(&s).send().status == 401 {
            ended = Some(start.elapsed());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let ended = ended.expect("the session never ended");
    assert!(ended > SHORT_SESSION_MAX - std::time::Duration::from_secs(1), "ended after {ended:?}, idle did it");
}

#[test]
fn a_removed_member_is_signed_out_at_once_and_enterprises_stay_apart() {
    let api = Api::new();
    let (a, a_key, _, _, _) = verified(&api, "甲方会话有限公司");
    let (_, _, _, b_mobile, _) = verified(&api, "乙方会话有限公司");
    let mobile = unique_mobile();
    let m = api
        .post("/v1/members")
        .key(&a_key)
        .json(&json!({"name": "王五", "mobile": mobile, "email": "w@example.com"}))
        .send();
    assert_eq!(m.status, 201, "{:?}", m.body);
    let member_id = m.body["member"]["id"].as_str().unwrap().to_owned();
    let e164 = m.body["member"]["mobile"].as_str().unwrap().to_owned();
    let s = api.sign_in(&e164, &e164, "member");
    assert_eq!(s.body["principal"]["role"], "member");
    assert_eq!(api.get(&format!("/v1/enterprises/{a}")).session(&s).send().status, 200);
    // A plain member's session has a plain member's rights.
    assert_eq!(api.get("/v1/members").session(&s).send().status, 403);

    // B's administrator, signed in, sees nothing of A.
    let b = api.sign_in(&b_mobile, &b_mobile, "member");
    let seal = api
        .post("/v1/seals")
        .key(&a_key)
        .json(&json!({"name": "合同专用章", "kind": "contract", "image_size": 1000}))
        .send();
    assert_eq!(seal.status, 201, "{:?}", seal.body);
    let seal_id = seal.body["seal"]["id"].as_str().unwrap();
    for path in [format!("/v1/enterprises/{a}"), format!("/v1/seals/{seal_id}")] {
        let r = api.get(&path).session(&b).send();
        assert_eq!((r.status, r.problem()), (404, "not-found"), "{path}: {:?}", r.body);
    }
    let r = api.delete(&format!("/v1/members/{member_id}")).session_write(&b).send();
    assert_eq!(r.status, 404, "{:?}", r.body);
    assert_eq!(api.get("/v1/session").session(&s).send().status, 200);

    // Removed by its administrator: its session stops at the next request.
    assert_eq!(api.delete(&format!("/v1/members/{member_id}")).key(&a_key).send().status, 204);
    assert_eq!(api.get("/v1/session").session(&s).send().status, 401);
    assert_eq!(api.get(&format!("/v1/enterprises/{a}")).session(&s).send().status, 401);
}

#[test]
fn one_person_in_two_enterprises_chooses_an_account() {
    let api = Api::new();
    let mobile = unique_mobile();
    let mut ids = Vec::new();
    for name in ["第一共享有限公司", "第二共享有限公司"] {
        let mut body = esign_e2e::registration(name);
        body["admin"]["mobile"] = json!(mobile);
        let r = api.post("/v1/enterprises").json(&body).send();
        assert_eq!(r.status, 201, "{:?}", r.body);
        ids.push((
            r.body["enterprise"]["id"].as_str().unwrap().to_owned(),
            r.body["admin"]["id"].as_str().unwrap().to_owned(),
        ));
    }
    let e164 = format!("+86{mobile}");
    let challenge = api.start_sign_in(&mobile, "member");
    let r = api.enter_code(&challenge, &e164, None);
    assert_eq!((r.status, r.problem()), (409, "choose-account"), "{:?}", r.body);
    assert!(r.header("set-cookie").is_none());
    let mut offered: Vec<(String, String)> = r.body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["enterprise_name"].as_str().map(|n| n.ends_with("共享有限公司")), Some(true), "{a:?}");
            (a["enterprise_id"].as_str().unwrap().to_owned(), a["member_id"].as_str().unwrap().to_owned())
        })
        .collect();
    offered.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(offered, expected);
    // The same code, now with the choice.
    let (second_enterprise, second_admin) = &ids[1];
    let s = Api::session_of(&api.enter_code(&challenge, &e164, Some(second_admin)));
    assert_eq!(s.body["principal"]["enterprise_id"], second_enterprise.as_str());
    assert_eq!(api.get(&format!("/v1/enterprises/{second_enterprise}")).session(&s).send().status, 200);
    assert_eq!(api.get(&format!("/v1/enterprises/{}", ids[0].0)).session(&s).send().status, 404);
}

#[test]
fn unknown_identifiers_get_the_same_answer_and_no_message() {
    let api = Api::new();
    let nobody = format!("nobody{}@example.com", unique_mobile());
    let r = api.start_sign_in(&nobody, "member");
    assert_eq!(r.status, 202, "{:?}", r.body);
    let mut keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["challenge_id", "channel", "expires_at", "resend_after"]);
    assert!(outbox_to(&api, &nobody).is_empty());
    let guess =
        api.post("/v1/sessions").json(&json!({"challenge_id": r.body["challenge_id"], "code": "123456"})).send();
    assert_eq!((guess.status, guess.code_of("code").as_deref()), (422, Some("mismatch")));
    // A member's number is no operator's.
    let (_, _, _, mobile, _) = verified(&api, "非运营有限公司");
    assert_eq!(api.start_sign_in(&mobile, "operator").status, 202);
    assert!(outbox_to(&api, &mobile).iter().all(|m| !m["body"].as_str().unwrap().contains("登录")));
    // Malformed input is refused by field.
    let r = api.start_sign_in("not a number", "member");
    assert_eq!((r.status, r.code_of("identifier").as_deref()), (422, Some("mobile")), "{:?}", r.body);
    let r = api.post("/v1/sessions/code").json(&json!({"identifier": "a@example.com", "audience": "root"})).send();
    assert_eq!((r.status, r.fields()), (422, vec!["audience".to_owned()]), "{:?}", r.body);
    let r = api.post("/v1/sessions").json(&json!({"challenge_id": "otp_nope", "code": "123456"})).send();
    assert_eq!((r.status, r.code_of("challenge_id").as_deref()), (422, Some("unknown")));
}

#[test]
fn an_operator_signs_in_to_review_and_a_member_session_cannot() {
    let api = Api::new();
    let op = api.sign_in(&OPERATOR_EMAIL.to_uppercase(), OPERATOR_EMAIL, "operator");
    assert_eq!(op.body["principal"]["kind"], "operator");
    assert!(op.body["principal"]["id"].as_str().unwrap().starts_with("op_"));
    let queue = api.get("/v1/operator/verifications?status=pending_review").session(&op).send();
    assert_eq!(queue.status, 200, "{:?}", queue.body);
    // A decision is a write: it needs the token.
    let (eid, key, _) = api.register("运营审核有限公司");
    let submitted =
        api.post(&format!("/v1/enterprises/{eid}/verification")).key(&key).json(&esign_e2e::submission()).send();
    let vid = submitted.body["verification"]["id"].as_str().unwrap().to_owned();
    let decide = |s: &Session, csrf: bool| -> Reply {
        let call = api.post(&format!("/v1/operator/verifications/{vid}/decision"));
        let call = if csrf { call.session_write(s) } else { call.session(s) };
        call.json(&json!({"decision": "approve"})).send()
    };
    assert_eq!(decide(&op, false).problem(), "csrf");
    let r = decide(&op, true);
    assert_eq!((r.status, &r.body["status"]), (200, &json!("approved")), "{:?}", r.body);

    let (_, _, _, mobile, _) = verified(&api, "成员会话有限公司");
    let member = api.sign_in(&mobile, &mobile, "member");
    let r = api.get("/v1/operator/verifications").session(&member).send();
    assert_eq!((r.status, r.problem()), (403, "forbidden"));
}

#[test]
fn wrong_codes_are_bounded_and_codes_spaced() {
    let api = Api::new();
    let (_, _, _, mobile, _) = verified(&api, "限次会话有限公司");
    let challenge = api.start_sign_in(&mobile, "member");
    assert_eq!(challenge.status, 202);
    let again = api.start_sign_in(&mobile, "member");
    assert_eq!((again.status, again.problem()), (429, "rate-limited"), "{:?}", again.body);
    assert!(again.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|n| (1..=60).contains(&n))));
    let (code, _) = api.latest_code(&mobile);
    let send = |c: &str| {
        api.post("/v1/sessions").json(&json!({"challenge_id": challenge.body["challenge_id"], "code": c})).send()
    };
    for left in (0..5).rev() {
        let r = send(wrong(&code));
        assert_eq!(r.status, 422);
        assert!(r.body["detail"].as_str().unwrap().contains(&format!("{left} attempt(s) left")), "{:?}", r.body);
    }
    let r = send(&code);
    assert_eq!((r.status, r.code_of("challenge_id").as_deref()), (422, Some("attempts_exhausted")), "{:?}", r.body);
    assert!(r.header("set-cookie").is_none());
}
