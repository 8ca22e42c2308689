//! The party look-up over HTTP: a member of a verified enterprise finds another verified
//! enterprise's id and verified name by its USCC; unknown, unverified and malformed codes, an
//! unverified caller, a session caller and the per-enterprise limit.

use esign_e2e::{Api, OPERATOR_KEY};
use serde_json::json;

fn uscc_of(api: &Api, key: &str, id: &str) -> String {
    let e = api.get(&format!("/v1/enterprises/{id}")).key(key).send();
    assert_eq!(e.status, 200, "{:?}", e.body);
    e.body["verified_identity"]["uscc"].as_str().expect("a verified USCC").to_owned()
}

#[test]
fn members_of_verified_enterprises_find_verified_enterprises_by_uscc() {
    let api = Api::new();
    let (_, key_a, _) = api.verified_enterprise("甲方查询有限公司");
    let (b, key_b, _) = api.verified_enterprise("乙方查询有限公司");
    let uscc = uscc_of(&api, &key_b, &b);

    let found = api.get(&format!("/v1/enterprises/lookup?uscc={}", uscc.to_ascii_lowercase())).key(&key_a).send();
    assert_eq!(found.status, 200, "{:?}", found.body);
    assert_eq!(found.body, json!({"id": b, "name": "深圳市腾讯计算机系统有限公司"}));

    // An unknown (well-formed) code and an enterprise that has only submitted: the same 404.
    let (unknown, _) = esign_core::kyb::sample_uscc(0x5eed_0000_0001);
    let r = api.get(&format!("/v1/enterprises/lookup?uscc={unknown}")).key(&key_a).send();
    assert_eq!((r.status, r.problem()), (404, "not-found"), "{:?}", r.body);
    let (pending, key_p, _) = api.register("丙方待审有限公司");
    let submission = esign_e2e::submission();
    let pending_uscc = submission["uscc"].as_str().unwrap().to_owned();
    let s = api.post(&format!("/v1/enterprises/{pending}/verification")).key(&key_p).json(&submission).send();
    assert_eq!(s.status, 202, "{:?}", s.body);
    let r = api.get(&format!("/v1/enterprises/lookup?uscc={pending_uscc}")).key(&key_a).send();
    assert_eq!((r.status, r.problem()), (404, "not-found"), "{:?}", r.body);

    // The unverified enterprise may not look anyone up.
    let r = api.get(&format!("/v1/enterprises/lookup?uscc={uscc}")).key(&key_p).send();
    assert_eq!((r.status, r.problem()), (403, "enterprise-not-verified"), "{:?}", r.body);
    // Malformed or missing codes are 422s naming the rule.
    let r = api.get("/v1/enterprises/lookup?uscc=9144030071526726").key(&key_a).send();
    assert_eq!((r.status, r.code_of("uscc").as_deref()), (422, Some("length")), "{:?}", r.body);
    let r = api.get("/v1/enterprises/lookup").key(&key_a).send();
    assert_eq!((r.status, r.code_of("uscc").as_deref()), (422, Some("missing")), "{:?}", r.body);
    // No key: 401; operators have no enterprise: 403.
    assert_eq!(api.get(&format!("/v1/enterprises/lookup?uscc={uscc}")).send().status, 401);
    assert_eq!(api.get(&format!("/v1/enterprises/lookup?uscc={uscc}")).key(OPERATOR_KEY).send().status, 403);
    // `lookup` is never taken for an enterprise id.
    let r = api.get("/v1/enterprises/lookup?uscc=").key(&key_a).send();
    assert_eq!(r.status, 422, "{:?}", r.body);
}

#[test]
fn look_ups_are_limited_per_enterprise() {
    let api = Api::new();
    let (_, key, _) = api.verified_enterprise("丁方限流有限公司");
    let (b, key_b, _) = api.verified_enterprise("戊方限流有限公司");
    let uscc = uscc_of(&api, &key_b, &b);
    // 30 a minute: within two windows (should one turn over during the run) a 429 must come.
    let mut limited = None;
    for _ in 0..=2 * esign_core::directory::LOOKUPS_PER_WINDOW {
        let r = api.get(&format!("/v1/enterprises/lookup?uscc={uscc}")).key(&key).send();
        if r.status == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let last = limited.expect("the limit was reached");
    assert_eq!(last.problem(), "rate-limited");
    assert!(last.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|n| (1..=60).contains(&n))));
    // Another enterprise has its own window.
    let r = api.get(&format!("/v1/enterprises/lookup?uscc={uscc}")).key(&key_b).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
}
