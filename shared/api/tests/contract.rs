//! The route table, the OpenAPI document and the SAM template (every function the one binary
//! `esign-lambda`, its `Handler` naming what it runs) must agree.

use std::collections::BTreeSet;
use std::path::Path;

use esign_api::ROUTES;
use esign_api::lambda::Function;
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
    assert!(doc["Globals"]["Function"]["Handler"].is_null(), "each function names its own Handler");
    let mut deployed = BTreeSet::new();
    let mut handlers = BTreeSet::new();
    for (name, res) in doc["Resources"].as_mapping().unwrap() {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        assert_eq!(res["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{name:?}");
        assert_eq!(res["Metadata"]["BuildProperties"]["Binary"].as_str(), Some("esign-lambda"), "{name:?}");
        let handler = res["Properties"]["Handler"].as_str().unwrap_or_else(|| panic!("{name:?} has no Handler"));
        let function = Function::from_name(handler).unwrap_or_else(|e| panic!("{name:?}: {e}"));
        assert!(handlers.insert(handler.to_owned()), "two functions with Handler {handler}");
        // Every function runs on an event, but the migration, invoked by hand once.
        let events = res["Properties"]["Events"].as_mapping();
        assert_eq!(events.is_none(), function == Function::BackfillLongTerm, "{name:?}'s Events");
        for (_, event) in events.into_iter().flatten() {
            if event["Type"].as_str() != Some("HttpApi") {
                continue; // the webhook worker's queue and schedule, the audit anchor's schedule
            }
            let Function::Route(operation) = function else { panic!("{handler} serves no route") };
            let p = &event["Properties"];
            deployed.insert((
                p["Method"].as_str().unwrap().to_ascii_uppercase(),
                p["Path"].as_str().unwrap().to_owned(),
                operation.route().function.to_owned(),
            ));
        }
    }
    let expected: BTreeSet<_> =
        ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned(), r.function.to_owned())).collect();
    assert_eq!(deployed, expected);
    let every: BTreeSet<_> = Function::all().map(|f| f.name().to_owned()).collect();
    assert_eq!(handlers, every, "every function is deployed once");
    // The one binary picks its function by `_HANDLER`: no per-function crates any more.
    assert!(root().join("functions/lambda/src/main.rs").exists());
}

#[test]
fn only_the_functions_that_draw_text_in_chinese_carry_the_font_layer() {
    let doc = yaml("infra/template.yaml");
    let layer = &doc["Resources"]["SealFontLayer"]["Properties"];
    assert_eq!(layer["ContentUri"].as_str(), Some("../shared/sealgen/fonts"));
    assert!(root().join("shared/sealgen/fonts").join(esign_sealgen::FONT_FILE).exists());
    let path = format!("/opt/{}", esign_sealgen::FONT_FILE);
    let mut with_font = BTreeSet::new();
    for (_, res) in doc["Resources"].as_mapping().unwrap() {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let p = &res["Properties"];
        let font = &p["Environment"]["Variables"][esign_sealgen::ENV_FONT];
        let layers = p["Layers"].as_sequence().cloned().unwrap_or_default();
        let has_layer =
            layers.iter().any(|l| matches!(l, Value::Tagged(t) if t.value.as_str() == Some("SealFontLayer")));
        assert_eq!(
            has_layer,
            !font.is_null(),
            "{:?}: the layer and {} go together",
            p["Handler"],
            esign_sealgen::ENV_FONT
        );
        if has_layer {
            assert_eq!(font.as_str(), Some(path.as_str()));
            with_font.insert(p["Handler"].as_str().unwrap().to_owned());
        }
    }
    // The operations that may generate a seal image (`generate: true`), and the evidence report
    // (made on request, or by the schedule when the contract completes).
    let expected = ["create-seal", "replace-seal-image", "get-contract-evidence", "generate-evidence"];
    assert_eq!(with_font, expected.into_iter().map(str::to_owned).collect::<BTreeSet<_>>());
}

#[test]
fn the_webhook_worker_is_deployed_on_its_queue() {
    let doc = yaml("infra/template.yaml");
    let f = &doc["Resources"]["DeliverWebhooksFunction"];
    assert_eq!(f["Properties"]["Handler"].as_str(), Some(esign_api::lambda::DELIVER_WEBHOOKS));
    assert_eq!(f["Properties"]["Events"]["Queue"]["Type"].as_str(), Some("SQS"));
    let q = &doc["Resources"]["WebhookQueue"];
    assert_eq!(q["Type"].as_str(), Some("AWS::SQS::Queue"));
    assert!(!q["Properties"]["RedrivePolicy"].is_null(), "the queue has a dead-letter queue");
}

/// The string under a `!Sub` tag (or a plain string).
fn sub_text(v: &Value) -> String {
    match v {
        Value::Tagged(t) if t.tag == "!Sub" => t.value.as_str().expect("a !Sub string").to_owned(),
        Value::String(s) => s.clone(),
        other => panic!("{other:?} is not a string"),
    }
}

#[test]
fn the_deployed_web_app_has_the_local_servers_headers() {
    let doc = yaml("infra/template.yaml");
    let policy = &doc["Resources"]["WebSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"];
    let security = &policy["SecurityHeadersConfig"];
    // The CSP of esign-local (shared/api/src/web.rs), with the deployed files endpoint and the
    // FrameAncestors parameter.
    let files = "https://${FilesBucket}.s3.${AWS::Region}.${AWS::URLSuffix}";
    assert_eq!(
        sub_text(&security["ContentSecurityPolicy"]["ContentSecurityPolicy"]),
        esign_api::web::content_security_policy(Some(files), "${FrameAncestors}")
    );
    let hsts = &security["StrictTransportSecurity"];
    assert_eq!(
        format!(
            "max-age={}{}",
            hsts["AccessControlMaxAgeSec"].as_u64().unwrap(),
            if hsts["IncludeSubdomains"].as_bool() == Some(true) { "; includeSubDomains" } else { "" }
        ),
        esign_api::web::HSTS
    );
    assert!(!security["ContentTypeOptions"].is_null());
    assert_eq!(security["ReferrerPolicy"]["ReferrerPolicy"].as_str(), Some("no-referrer"));
    let custom = policy["CustomHeadersConfig"]["Items"].as_sequence().unwrap();
    let permissions = custom.iter().find(|h| h["Header"].as_str() == Some("Permissions-Policy")).unwrap();
    assert_eq!(permissions["Value"].as_str(), Some(esign_api::web::PERMISSIONS_POLICY));
    assert_eq!(doc["Parameters"]["FrameAncestors"]["Default"].as_str(), Some("'none'"));

    // The app at the default behaviour (SPA routing, the headers), the API at /v1/* on the same
    // origin, every method, nothing cached.
    let config = &doc["Resources"]["WebDistribution"]["Properties"]["DistributionConfig"];
    let default = &config["DefaultCacheBehavior"];
    assert_eq!(default["TargetOriginId"].as_str(), Some("WebBucket"));
    let Value::Tagged(headers) = &default["ResponseHeadersPolicyId"] else { panic!("no headers policy") };
    assert_eq!(headers.value.as_str(), Some("WebSecurityHeaders"));
    assert_eq!(default["FunctionAssociations"][0]["EventType"].as_str(), Some("viewer-request"));
    let api = config["CacheBehaviors"].as_sequence().unwrap().iter().find(|b| b["PathPattern"] == "/v1/*").unwrap();
    assert_eq!(api["TargetOriginId"].as_str(), Some("Api"));
    assert_eq!(api["AllowedMethods"].as_sequence().unwrap().len(), 7);
    assert_eq!(api["CachePolicyId"].as_str(), Some("4135ea2d-6df8-44a3-9df3-4b5a84be39ad"), "CachingDisabled");
    let code = doc["Resources"]["WebSpaRouting"]["Properties"]["FunctionCode"].as_str().unwrap();
    assert!(code.contains("request.uri = '/index.html'"), "{code}");
    for output in ["WebUrl", "WebBucket", "WebDistributionId"] {
        assert!(!doc["Outputs"][output].is_null(), "output {output}");
    }
    // Browsers upload to the files bucket from the web app's origin.
    let cors = &doc["Resources"]["FilesBucket"]["Properties"]["CorsConfiguration"]["CorsRules"][0];
    let methods: Vec<_> = cors["AllowedMethods"].as_sequence().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(methods, ["PUT", "GET"]);
    assert!(cors["AllowedOrigins"].as_sequence().unwrap().iter().all(|o| o.as_str() != Some("*")));
}

#[test]
fn the_deployed_embed_pages_are_framed_by_the_embed_ancestors_only() {
    let doc = yaml("infra/template.yaml");
    let policy = &doc["Resources"]["WebEmbedSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"];
    let files = "https://${FilesBucket}.s3.${AWS::Region}.${AWS::URLSuffix}";
    assert_eq!(
        sub_text(&policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]),
        esign_api::web::content_security_policy(Some(files), "${EmbedAncestors}")
    );
    assert_eq!(doc["Parameters"]["EmbedAncestors"]["Default"].as_str(), Some("https:"));
    // Everything else of the policy is the app's own.
    let app = &doc["Resources"]["WebSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"];
    for part in ["StrictTransportSecurity", "ContentTypeOptions", "ReferrerPolicy"] {
        assert_eq!(policy["SecurityHeadersConfig"][part], app["SecurityHeadersConfig"][part], "{part}");
    }
    assert_eq!(policy["CustomHeadersConfig"], app["CustomHeadersConfig"]);
    let config = &doc["Resources"]["WebDistribution"]["Properties"]["DistributionConfig"];
    let embed =
        config["CacheBehaviors"].as_sequence().unwrap().iter().find(|b| b["PathPattern"] == "/embed/*").unwrap();
    assert_eq!(embed["TargetOriginId"].as_str(), Some("WebBucket"));
    let Value::Tagged(headers) = &embed["ResponseHeadersPolicyId"] else { panic!("no headers policy") };
    assert_eq!(headers.value.as_str(), Some("WebEmbedSecurityHeaders"));
    assert_eq!(embed["FunctionAssociations"][0]["EventType"].as_str(), Some("viewer-request"));
    // Only the link-making function knows the web app's URL.
    for (name, res) in doc["Resources"].as_mapping().unwrap() {
        let has = !res["Properties"]["Environment"]["Variables"]["ESIGN_WEB_URL"].is_null();
        assert_eq!(has, name.as_str() == Some("CreateSigningSessionFunction"), "{name:?}");
    }
}

/// The operation object of a route in the OpenAPI document.
fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    &doc["paths"][path][method.to_ascii_lowercase().as_str()]
}

fn documents(op: &Value, status: &str) -> bool {
    !op["responses"][status].is_null()
}

fn has_parameter(op: &Value, name: &str) -> bool {
    op["parameters"]
        .as_sequence()
        .is_some_and(|ps| ps.iter().any(|p| p["$ref"].as_str().is_some_and(|r| r.ends_with(&format!("/{name}")))))
}

#[test]
fn every_operation_documents_the_answers_the_edge_gives() {
    let doc = yaml("infra/openapi.yaml");
    let mut missing = Vec::new();
    for r in ROUTES {
        let op = operation(&doc, r.method, r.path);
        let mut needs: Vec<&str> = Vec::new();
        // An Idempotency-Key that is not visible ASCII (400), in use (409), reused for another
        // request (422).
        let idempotent = has_parameter(op, "IdempotencyKey");
        assert_eq!(idempotent, r.operation.takes_idempotency_key(), "{} {}: Idempotency-Key", r.method, r.path);
        if idempotent {
            needs.extend(["400", "409", "422"]);
        }
        // A `limit` out of range or not a number.
        if has_parameter(op, "Limit") {
            needs.push("422");
        }
        // No or a wrong key.
        if !r.operation.is_public() && !r.operation.is_session_route() {
            needs.push("401");
        }
        for status in needs {
            if !documents(op, status) {
                missing.push(format!("{} {} {status}", r.method, r.path));
            }
        }
    }
    missing.dedup();
    assert!(missing.is_empty(), "undocumented answers: {missing:#?}");
}

#[test]
fn every_problem_type_the_edge_gives_is_in_the_documents_table() {
    let doc = yaml("infra/openapi.yaml");
    let table = doc["info"]["description"].as_str().unwrap();
    let src = root().join("shared/api/src");
    let mut slugs = BTreeSet::new();
    for file in std::fs::read_dir(&src).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap_or_default();
        // `Problem::new("slug", ...` and `Problem::new(\n "slug", ...`.
        for (i, _) in text.match_indices("Problem::new(") {
            let rest = text[i + "Problem::new(".len()..].trim_start();
            if let Some(lit) = rest.strip_prefix('"') {
                slugs.insert(lit[..lit.find('"').unwrap()].to_owned());
            }
        }
    }
    assert!(slugs.len() > 15, "{slugs:?}");
    for slug in slugs {
        assert!(table.contains(&format!("`urn:esign:problem:{slug}`")), "{slug} is not in the table of problem types");
    }
}

#[test]
fn the_lambda_binary_has_one_http_stack_without_aws_lc_or_http2() {
    // The SDK's HTTP client is reqwest (esign_aws::https_client), rustls on ring, HTTP/1.1: an
    // SDK crate with its `default-https-client` feature would bring back aws-lc (its
    // jitter-entropy set-up on the first connection of a cold function, its C build), the SDK's
    // own hyper client and HTTP/2; reqwest's webpki-roots a second root store. Each is size in
    // every Lambda package. See shared/pades/BENCH.md, "Lambda packages".
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap();
    for name in ["aws-lc-sys", "aws-lc-rs", "aws-smithy-http-client", "h2", "webpki-roots"] {
        assert!(!lock.contains(&format!("name = \"{name}\"")), "{name} is in Cargo.lock again");
    }
}
