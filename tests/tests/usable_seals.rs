//! `GET /v1/seals?usable=true` over HTTP: the seals a member may sign with now, each with a
//! short-lived link to its approved image that a page of the web app's origin may fetch (the
//! files bucket's CORS rule allows GET), and nothing else.

use esign_e2e::Api;
use serde_json::json;

#[test]
fn members_list_the_seals_they_may_sign_with_and_fetch_their_images() {
    let api = Api::new();
    let (seal, key, admin, _) = esign_e2e::active_seal(&api, "可用印章有限公司", "ecdsa_p256");
    // Not granted yet: none.
    let r = api.get("/v1/seals?usable=true").key(&key).send();
    assert_eq!((r.status, &r.body), (200, &json!({"items": []})), "{:?}", r.body);
    assert_eq!(api.put(&format!("/v1/seals/{seal}/grants/{admin}")).key(&key).send().status, 200);
    let r = api.get("/v1/seals?usable=true").key(&key).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:?}", r.body);
    assert_eq!((items[0]["id"].as_str(), items[0]["status"].as_str()), (Some(seal.as_str()), Some("active")));
    assert!(items[0]["grant_expires_at"].is_null());
    // The web app's page fetches the image cross-origin (its CSP has no bucket in img-src).
    let image = api.get(items[0]["image_url"].as_str().unwrap()).header("origin", &api.base).send();
    assert_eq!(image.status, 200);
    assert!(image.raw.starts_with(b"\x89PNG"));
    assert_eq!(image.header("access-control-allow-origin"), Some(api.base.as_str()));
    // Suspended: not usable; a bad flag is a 422; the plain list is unchanged.
    assert_eq!(api.post(&format!("/v1/seals/{seal}/suspend")).key(&key).send().status, 200);
    assert_eq!(api.get("/v1/seals?usable=true").key(&key).send().body["items"], json!([]));
    let r = api.get("/v1/seals?usable=yes").key(&key).send();
    assert_eq!((r.status, r.code_of("usable").as_deref()), (422, Some("invalid")));
    let all = api.get("/v1/seals").key(&key).send();
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(1));
    assert!(all.body["items"][0].get("image_url").is_none());
}
