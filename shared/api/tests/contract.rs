//! The route table, the OpenAPI document, the SAM template and the function crates must agree.

use std::collections::BTreeSet;
use std::path::Path;

use esign_api::ROUTES;
use serde_yaml::Value;

/// Read at run time: a target directory shared between clones may hold a binary built in another.
fn root() -> std::path::PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into())).join("../..")
}

fn yaml(rel: &str) -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(root().join(rel)).unwrap()).unwrap()
}

fn routes() -> BTreeSet<(String, String)> {
    ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect()
}

#[test]
fn openapi_documents_exactly_the_routes() {
    let doc = yaml("infra/openapi.yaml");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        for (method, _) in item.as_mapping().unwrap() {
            let m = method.as_str().unwrap().to_ascii_uppercase();
            if ["GET", "POST", "PUT", "DELETE", "PATCH"].contains(&m.as_str()) {
                documented.insert((m, path.as_str().unwrap().to_owned()));
            }
        }
    }
    assert_eq!(documented, routes());
}

#[test]
fn the_template_deploys_one_function_per_route() {
    let doc = yaml("infra/template.yaml");
    let mut deployed = BTreeSet::new();
    for (_, res) in doc["Resources"].as_mapping().unwrap() {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = res["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_owned();
        assert_eq!(res["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"));
        for (_, event) in res["Properties"]["Events"].as_mapping().unwrap() {
            if event["Type"].as_str() != Some("HttpApi") {
                continue; // the webhook worker's queue and schedule
            }
            let p = &event["Properties"];
            deployed.insert((
                p["Method"].as_str().unwrap().to_ascii_uppercase(),
                p["Path"].as_str().unwrap().to_owned(),
                binary.clone(),
            ));
        }
    }
    let expected: BTreeSet<_> =
        ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned(), r.function.to_owned())).collect();
    assert_eq!(deployed, expected);
    for r in ROUTES {
        let main = root().join("functions").join(r.function).join("src/main.rs");
        let text = std::fs::read_to_string(&main).unwrap_or_else(|_| panic!("{} is missing", main.display()));
        assert!(text.contains(&format!("Operation::{:?}", r.operation)), "{} serves another operation", r.function);
    }
}

#[test]
fn the_webhook_worker_is_deployed_on_its_queue() {
    let doc = yaml("infra/template.yaml");
    let f = &doc["Resources"]["DeliverWebhooksFunction"];
    assert_eq!(f["Metadata"]["BuildProperties"]["Binary"].as_str(), Some("deliver-webhooks"));
    assert_eq!(f["Properties"]["Events"]["Queue"]["Type"].as_str(), Some("SQS"));
    assert!(root().join("functions/deliver-webhooks/src/main.rs").exists());
    let q = &doc["Resources"]["WebhookQueue"];
    assert_eq!(q["Type"].as_str(), Some("AWS::SQS::Queue"));
    assert!(!q["Properties"]["RedrivePolicy"].is_null(), "the queue has a dead-letter queue");
}
