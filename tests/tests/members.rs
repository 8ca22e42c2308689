//! Members and their keys, and isolation between enterprises.

use esign_e2e::Api;
use serde_json::json;

fn new_member(name: &str) -> serde_json::Value {
    json!({"name": name, "mobile": "13900139000", "email": "member@example.com"})
}

#[test]
fn members_keys_rotation_and_removal() {
    let api = Api::new();
    let (_, admin, admin_id) = api.verified_enterprise("成员测试有限公司");
    let r = api.post("/v1/members").key(&admin).json(&new_member("李四")).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["member"]["role"], "member");
    let member_id = r.body["member"]["id"].as_str().unwrap().to_owned();
    let member_key = r.body["api_key"].as_str().unwrap().to_owned();
    let r = api
        .post("/v1/members")
        .key(&admin)
        .json(&json!({"name": "赵六", "mobile": "13600136000", "email": "z@example.com", "role": "admin"}))
        .send();
    assert_eq!(r.body["member"]["role"], "admin");
    let r = api
        .post("/v1/members")
        .key(&admin)
        .json(&json!({"name": "x", "mobile": "1", "email": "e", "role": "owner"}))
        .send();
    assert_eq!(r.status, 422);

    // A member can read its enterprise but not manage members.
    let me = api.get("/v1/members").key(&member_key).send();
    assert_eq!((me.status, me.problem()), (403, "forbidden"));
    assert_eq!(api.post("/v1/members").key(&member_key).json(&new_member("王五")).send().status, 403);

    // Paging: two pages of two, then one.
    for i in 0..3 {
        assert_eq!(
            api.post("/v1/members")
                .key(&admin)
                .json(&new_member(&format!("员工{}", "甲乙丙".chars().nth(i).unwrap())))
                .send()
                .status,
            201
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/v1/members?limit=2".to_owned(),
            Some(c) => format!("/v1/members?limit=2&cursor={c}"),
        };
        let page = api.get(&path).key(&admin).send();
        assert_eq!(page.status, 200, "{:?}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|m| m["id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert_eq!(seen[0], admin_id);
    assert_eq!(api.get("/v1/members?limit=0").key(&admin).send().status, 422);
    assert_eq!(api.get("/v1/members?limit=abc").key(&admin).send().status, 422);
    assert_eq!(api.get("/v1/members?cursor=garbage").key(&admin).send().status, 422);

    // Rotation: the old key stops working at once.
    let r = api.post(&format!("/v1/members/{member_id}/key")).key(&member_key).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let new_key = r.body["api_key"].as_str().unwrap().to_owned();
    assert_eq!(api.get("/v1/members").key(&member_key).send().status, 401);
    assert_eq!(api.get("/v1/members").key(&new_key).send().status, 403);
    // A member cannot rotate someone else's key.
    assert_eq!(api.post(&format!("/v1/members/{admin_id}/key")).key(&new_key).send().status, 403);

    // Removal revokes the key; an admin cannot remove itself.
    assert_eq!(api.delete(&format!("/v1/members/{admin_id}")).key(&admin).send().status, 409);
    let r = api.delete(&format!("/v1/members/{member_id}")).key(&admin).send();
    assert_eq!(r.status, 204);
    assert_eq!(api.get("/v1/members").key(&new_key).send().status, 401);
    assert_eq!(api.delete(&format!("/v1/members/{member_id}")).key(&admin).send().status, 404);
}

#[test]
fn another_enterprise_cannot_touch_members() {
    let api = Api::new();
    let (_, a_admin, _) = api.verified_enterprise("甲方成员有限公司");
    let (_, b_admin, _) = api.verified_enterprise("乙方成员有限公司");
    let r = api.post("/v1/members").key(&a_admin).json(&new_member("李四")).send();
    let a_member = r.body["member"]["id"].as_str().unwrap().to_owned();
    let a_member_key = r.body["api_key"].as_str().unwrap().to_owned();
    assert_eq!(api.delete(&format!("/v1/members/{a_member}")).key(&b_admin).send().status, 404);
    assert_eq!(api.post(&format!("/v1/members/{a_member}/key")).key(&b_admin).send().status, 404);
    let b_list = api.get("/v1/members").key(&b_admin).send();
    assert!(b_list.body["items"].as_array().unwrap().iter().all(|m| m["id"] != a_member.as_str()));
    // A's member key still works: B's attempts changed nothing.
    let r = api.post(&format!("/v1/members/{a_member}/key")).key(&a_member_key).send();
    assert_eq!(r.status, 201);
}

#[test]
fn a_retried_member_creation_creates_one_member() {
    let api = Api::new();
    let (_, admin, _) = api.verified_enterprise("幂等成员有限公司");
    let body = new_member("周七");
    let first = api.post("/v1/members").key(&admin).header("idempotency-key", "add-zhou").json(&body).send();
    let second = api.post("/v1/members").key(&admin).header("idempotency-key", "add-zhou").json(&body).send();
    assert_eq!((first.status, second.status), (201, 201));
    assert_eq!(first.body["member"]["id"], second.body["member"]["id"]);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    let list = api.get("/v1/members").key(&admin).send();
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);
}
