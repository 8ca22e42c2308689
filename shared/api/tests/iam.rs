//! The template's IAM policies against what the functions do.
//!
//! - The static tests read `infra/template.yaml` alone: the issuing CA may sign in
//!   `sign-contract`, operator keys reach only the operator functions and only as hashes, and the
//!   seal-key tagging permission can never tag the platform's own keys.
//! - `granted_actions_are_exactly_the_observed_ones` compares each function's grants with the AWS
//!   calls the end-to-end tests recorded for it (`ESIGN_AWS_CALL_LOG`, JSON lines of
//!   `esign_aws::calls::AwsCall`): every observed action must be granted on its resource, and
//!   every grant must be observed or on the commented [`UNOBSERVED`] allow-list. It needs the
//!   log, so it is ignored by default; `scripts/test.sh` runs it after the end-to-end tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use esign_api::ROUTES;
use esign_aws::calls::{AwsCall, ENV_CALL_LOG};
use serde_yaml::Value;

fn root() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into())).join("../..")
}

fn template() -> Value {
    let path = root().join("infra/template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The stack's own KMS keys: never seal keys.
const PLATFORM_KEYS: &[&str] = &["RootCaKey", "IssuingCaKey", "TsaKey", "SecretsKey", "FilesKey"];

/// One statement of a function's policy, its resources named as the recorder names them.
#[derive(Debug, Clone)]
struct Statement {
    sid: String,
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
}

fn strings(v: &Value) -> Vec<Value> {
    match v {
        Value::Sequence(s) => s.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// `!GetAtt X.Arn` → `X`; `!Sub ${X.Arn}/rest` → `X/rest`; any key of the account → `kms-key/*`
/// (`SealKey` when the statement requires the seal tag); SES identities → `ses-identity/*`.
fn resource_name(v: &Value, seal_tagged: bool) -> String {
    let text = match v {
        Value::Tagged(t) => match (t.tag.to_string().as_str(), t.value.as_str()) {
            ("!GetAtt", Some(att)) => return att.trim_end_matches(".Arn").to_owned(),
            ("!Sub", Some(sub)) => sub.to_owned(),
            (tag, _) => panic!("resource {tag} {:?} is not understood", t.value),
        },
        Value::String(s) => s.clone(),
        other => panic!("resource {other:?} is not understood"),
    };
    if let Some(rest) = text.strip_prefix("${").and_then(|r| r.split_once(".Arn}")) {
        return format!("{}{}", rest.0, rest.1);
    }
    if text.contains(":kms:") && text.ends_with(":key/*") {
        return if seal_tagged { "SealKey".into() } else { "kms-key/*".into() };
    }
    if text.contains(":ses:") && text.ends_with(":identity/*") {
        return "ses-identity/*".into();
    }
    text
}

/// Whether a condition block requires the seal tag (`esign-stack` = the stack) on the key
/// acted on or on the tags being set.
fn requires_seal_tag(condition: &Value) -> bool {
    let tag = esign_aws::authority::STACK_TAG;
    let eq = &condition["StringEquals"];
    !eq[format!("aws:ResourceTag/{tag}").as_str()].is_null() || !eq[format!("aws:RequestTag/{tag}").as_str()].is_null()
}

/// Each function's (its `Handler` name) policy statements.
fn policies(doc: &Value) -> BTreeMap<String, Vec<Statement>> {
    let mut out = BTreeMap::new();
    for (_, res) in doc["Resources"].as_mapping().expect("Resources") {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = res["Properties"]["Handler"].as_str().expect("handler").to_owned();
        let mut statements = Vec::new();
        for policy in strings(&res["Properties"]["Policies"]) {
            for s in strings(&policy["Statement"]) {
                let seal_tagged = requires_seal_tag(&s["Condition"]);
                statements.push(Statement {
                    sid: s["Sid"].as_str().unwrap_or("").to_owned(),
                    allow: s["Effect"].as_str() == Some("Allow"),
                    actions: strings(&s["Action"]).iter().map(|a| a.as_str().expect("action").to_owned()).collect(),
                    resources: strings(&s["Resource"]).iter().map(|r| resource_name(r, seal_tagged)).collect(),
                });
            }
        }
        out.insert(name, statements);
    }
    out
}

fn is_kms_key(resource: &str) -> bool {
    resource == "SealKey" || PLATFORM_KEYS.contains(&resource)
}

/// Whether a statement's resource pattern covers a recorded resource.
fn covers(pattern: &str, resource: &str) -> bool {
    pattern == "*"
        || pattern == resource
        || (pattern == "kms-key/*" && is_kms_key(resource))
        || pattern.strip_suffix('*').is_some_and(|prefix| !prefix.is_empty() && resource.starts_with(prefix))
}

fn statement_covers(s: &Statement, action: &str, resource: &str) -> bool {
    s.actions.iter().any(|a| a == action) && s.resources.iter().any(|r| covers(r, resource))
}

fn granted(statements: &[Statement], action: &str, resource: &str) -> bool {
    statements.iter().any(|s| s.allow && statement_covers(s, action, resource))
        && !statements.iter().any(|s| !s.allow && statement_covers(s, action, resource))
}

fn function(doc: &Value, name: &str) -> Value {
    doc["Resources"]
        .as_mapping()
        .expect("Resources")
        .values()
        .find(|r| r["Properties"]["Handler"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no function {name}"))
        .clone()
}

#[test]
fn only_seal_approval_signs_with_the_issuing_ca_key() {
    let p = policies(&template());
    let sign = &p["sign-contract"];
    // A party signs once with its seal's own certificate: signing contracts issues none.
    assert!(!granted(sign, "kms:Sign", "IssuingCaKey"), "sign-contract must not sign with the issuing CA key");
    assert!(granted(sign, "kms:GetPublicKey", "IssuingCaKey"));
    assert!(!granted(sign, "kms:Sign", "RootCaKey"));
    assert!(granted(sign, "kms:Sign", "SealKey") && granted(sign, "kms:Sign", "TsaKey"));
    assert!(granted(&p["decide-seal"], "kms:Sign", "IssuingCaKey"));
}

#[test]
fn operator_key_hashes_reach_only_the_operator_functions() {
    let doc = template();
    assert!(doc["Parameters"]["OperatorKeys"].is_null(), "no parameter of clear operator keys");
    let param = &doc["Parameters"]["OperatorKeyHashes"];
    assert_eq!(param["NoEcho"].as_bool(), Some(true));
    assert!(param["AllowedPattern"].as_str().is_some_and(|p| p.contains("[0-9a-f]{64}")), "only hashes are accepted");
    let globals = &doc["Globals"]["Function"]["Environment"]["Variables"];
    for var in ["ESIGN_OPERATOR_KEYS", "ESIGN_OPERATOR_KEY_HASHES"] {
        assert!(globals[var].is_null(), "{var} is not for every function");
    }
    let text = std::fs::read_to_string(root().join("infra/template.yaml")).expect("template");
    assert!(!text.contains("ESIGN_OPERATOR_KEYS"), "no function gets clear operator keys");
    for r in ROUTES {
        let vars = &function(&doc, r.function)["Properties"]["Environment"]["Variables"];
        let hashes = &vars["ESIGN_OPERATOR_KEY_HASHES"];
        if r.operation.serves_operators() {
            let Value::Tagged(t) = hashes else { panic!("{} needs the operator key hashes", r.function) };
            assert_eq!((t.tag.to_string().as_str(), t.value.as_str()), ("!Ref", Some("OperatorKeyHashes")));
        } else {
            assert!(hashes.is_null(), "{} is not an operator function, yet knows the operator key hashes", r.function);
        }
    }
    let worker = &function(&doc, "deliver-webhooks")["Properties"]["Environment"]["Variables"];
    assert!(worker["ESIGN_OPERATOR_KEY_HASHES"].is_null());
}

#[test]
fn operator_identities_reach_only_the_functions_that_need_them() {
    let doc = template();
    let param = &doc["Parameters"]["OperatorIdentities"];
    assert_eq!(param["NoEcho"].as_bool(), Some(true));
    assert!(doc["Globals"]["Function"]["Environment"]["Variables"]["ESIGN_OPERATORS"].is_null());
    for r in ROUTES {
        let operators = &function(&doc, r.function)["Properties"]["Environment"]["Variables"]["ESIGN_OPERATORS"];
        if r.operation.knows_operator_identities() {
            let Value::Tagged(t) = operators else { panic!("{} needs the operator identities", r.function) };
            assert_eq!((t.tag.to_string().as_str(), t.value.as_str()), ("!Ref", Some("OperatorIdentities")));
        } else {
            assert!(operators.is_null(), "{} neither signs in nor serves operators, yet knows them", r.function);
        }
    }
}

/// Grants scoped to session records: a statement whose only resource condition is
/// `dynamodb:LeadingKeys` like `SESSION#*` lets a function touch nothing but sessions.
#[test]
fn session_only_grants_are_scoped_to_session_records() {
    let doc = template();
    for r in ROUTES {
        let f = function(&doc, r.function);
        for s in strings(&f["Properties"]["Policies"]).iter().flat_map(|p| strings(&p["Statement"])) {
            let sid = s["Sid"].as_str().unwrap_or("");
            if sid == "SessionLastUse" || sid == "SessionsReadDelete" {
                let keys = strings(&s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]);
                assert_eq!(keys, vec![Value::String("SESSION#*".into())], "{} {sid}", r.function);
            }
            if sid == "SessionLastUse" {
                assert!(r.operation.refreshes_sessions(), "{} never refreshes a session", r.function);
            }
        }
    }
}

#[test]
fn seal_key_tagging_never_reaches_the_platform_keys() {
    let doc = template();
    let tag = esign_aws::authority::STACK_TAG;
    for (binary, statements) in policies(&doc) {
        for s in statements.iter().filter(|s| s.allow) {
            for a in s.actions.iter().filter(|a| a.starts_with("kms:")) {
                // Any key of the account only for creating seal keys with the seal tag.
                assert!(
                    !s.resources.iter().any(|r| r == "kms-key/*" || (r == "*" && a != "kms:CreateKey")),
                    "{binary} {}: {a} on every key without the seal tag",
                    s.sid
                );
            }
            if s.actions.iter().any(|a| a == "kms:TagResource" || a == "kms:CreateKey") {
                assert!(s.resources.iter().all(|r| r == "SealKey" || r == "*"), "{binary} {}", s.sid);
            }
            assert!(!s.actions.iter().any(|a| a == "kms:UntagResource" || a == "kms:*"), "{binary} {}", s.sid);
        }
        if statements.iter().any(|s| s.allow && s.actions.iter().any(|a| a == "kms:TagResource")) {
            for key in PLATFORM_KEYS {
                assert!(!granted(&statements, "kms:TagResource", key), "{binary} may tag {key}");
            }
        }
    }
    // The tagging statements set nothing but the seal tag, valued with the stack.
    let decide = function(&doc, "decide-seal");
    for s in strings(&decide["Properties"]["Policies"]).iter().flat_map(|p| strings(&p["Statement"])) {
        let actions: Vec<_> = strings(&s["Action"]).iter().filter_map(|a| a.as_str().map(str::to_owned)).collect();
        if s["Effect"].as_str() == Some("Allow")
            && actions.iter().any(|a| a == "kms:TagResource" || a == "kms:CreateKey")
        {
            let c = &s["Condition"];
            assert!(!c["StringEquals"][format!("aws:RequestTag/{tag}").as_str()].is_null(), "{s:?}");
            let keys = strings(&c["ForAllValues:StringEquals"]["aws:TagKeys"]);
            assert_eq!(keys, vec![Value::String(tag.into())], "only the seal tag may be set");
        }
    }
    // And every platform key's own policy refuses the seal tag to everyone.
    for key in PLATFORM_KEYS {
        let statements = strings(&doc["Resources"][*key]["Properties"]["KeyPolicy"]["Statement"]);
        assert!(
            statements.iter().any(|s| s["Effect"].as_str() == Some("Deny")
                && s["Principal"].as_str() == Some("*")
                && strings(&s["Action"]).iter().any(|a| a.as_str() == Some("kms:TagResource"))
                && strings(&s["Condition"]["ForAnyValue:StringEquals"]["aws:TagKeys"])
                    .iter()
                    .any(|k| k.as_str() == Some(tag))),
            "{key}'s key policy must refuse the {tag} tag"
        );
    }
}

/// Grants the end-to-end flow cannot exercise, each with why it is needed anyway:
/// (function, action, resource, reason).
const UNOBSERVED: &[(&str, &str, &str, &str)] = &[
    // The local server runs in development mode: codes go to the outbox, not through SNS/SES
    // (the production sender is tested against moto in shared/aws/tests/notify.rs).
    ("send-otp", "sns:Publish", "*", "production one-time codes by SMS"),
    ("send-otp", "ses:SendEmail", "ses-identity/*", "production one-time codes by email"),
    ("send-contact-code", "sns:Publish", "*", "production contact confirmation codes by SMS"),
    ("send-contact-code", "ses:SendEmail", "ses-identity/*", "production contact confirmation codes by email"),
    ("start-sign-in", "sns:Publish", "*", "production sign-in codes by SMS"),
    ("start-sign-in", "ses:SendEmail", "ses-identity/*", "production sign-in codes by email"),
    // A seal key whose certificate could not be issued or recorded is disabled again
    // (Platform::decide_seal's cleanup after a failure, seals.rs); only failures reach it.
    ("decide-seal", "kms:DisableKey", "SealKey", "disables the new key when approval fails"),
    // Deployed, Lambda's SQS event source polls the queue with the function's role and needs
    // GetQueueAttributes besides ReceiveMessage and DeleteMessage (which the local worker makes).
    ("deliver-webhooks", "sqs:GetQueueAttributes", "WebhookQueue", "the SQS event source mapping"),
    // The report shows each seal's approved image, read by its pinned hash; the local server is
    // one process, whose warm cache (core/warm.rs) already holds every image the signing before
    // it read, so only a deployed function (a process of its own) reads them.
    ("get-contract-evidence", "s3:GetObject", "FilesBucket/pinned/*", "the seal images a report shows"),
    ("generate-evidence", "s3:GetObject", "FilesBucket/pinned/*", "the seal images a report shows"),
];

/// Functions that run no route but do what a route's function does, so need what it was
/// observed to need (besides the handler's idempotency): (function, the route's function).
const SAME_WORK: &[(&str, &str)] = &[
    // The schedule's anchoring run is Platform::anchor_audit_trails, as the operators' route.
    ("anchor-audit", "anchor-audit-trails"),
    // The schedule's renewal is Platform::renew_archive_timestamps, each contract as the route.
    ("renew-archive-timestamps", "renew-archive-timestamp"),
];

/// What the handler itself needs of every write that takes an `Idempotency-Key`
/// (`Operation::takes_idempotency_key`: all but the TSA and the form checks), whatever the tests
/// send (shared/api/src/handler.rs and core/src/idempotency.rs): claiming the key and storing the
/// answer (`PutItem`), reading a stored answer (`GetItem`), and releasing the key when the answer
/// is a 5xx (`DeleteItem`).
fn idempotency_needs(function: &str) -> Vec<(String, String)> {
    let idempotent = ROUTES.iter().any(|r| r.function == function && r.operation.takes_idempotency_key());
    if !idempotent {
        return Vec::new();
    }
    ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
        .into_iter()
        .map(|a| (a.to_owned(), "RecordsTable".to_owned()))
        .collect()
}

/// What the handler needs of every route a session may call, whatever the tests send: reading
/// the session with its member (`BatchGetItem`; `GetItem` for a cookie without the member) and,
/// at most once a minute, writing its last use (`PutItem`; the template scopes that grant to
/// `SESSION#` records where the function writes nothing else).
fn session_needs(function: &str) -> Vec<(String, String)> {
    if !ROUTES.iter().any(|r| r.function == function && r.operation.refreshes_sessions()) {
        return Vec::new();
    }
    ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"]
        .into_iter()
        .map(|a| (a.to_owned(), "RecordsTable".to_owned()))
        .collect()
}

/// What a call needs beyond its own action: S3 on the SSE-KMS files bucket uses the bucket's key
/// through S3 (`kms:GenerateDataKey` to write, `kms:Decrypt` to read).
fn implied(doc: &Value, action: &str, resource: &str) -> Vec<(String, String)> {
    let Some(bucket) = resource.split('/').next().filter(|_| action.starts_with("s3:")) else { return Vec::new() };
    let rules =
        strings(&doc["Resources"][bucket]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]);
    let Some(key) = rules.first().map(|r| resource_name(&r["ServerSideEncryptionByDefault"]["KMSMasterKeyID"], false))
    else {
        return Vec::new();
    };
    match action {
        "s3:PutObject" => vec![("kms:GenerateDataKey".into(), key)],
        "s3:GetObject" => vec![("kms:Decrypt".into(), key)],
        _ => Vec::new(),
    }
}

fn recorded_calls() -> Vec<AwsCall> {
    let path = std::env::var_os(ENV_CALL_LOG).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{ENV_CALL_LOG} must name the call log the end-to-end tests wrote (scripts/test.sh sets it)")
    });
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1)))
        .collect()
}

#[test]
#[ignore = "needs the AWS call log of an end-to-end run (ESIGN_AWS_CALL_LOG); scripts/test.sh runs it"]
fn granted_actions_are_exactly_the_observed_ones() {
    let doc = template();
    let policies = policies(&doc);
    let calls = recorded_calls();
    let mut observed: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for call in &calls {
        let Some(f) = &call.function else { continue }; // provisioning, bootstrap, the tests' own look-ups
        let set = observed.entry(f.clone()).or_default();
        for p in &call.permissions {
            set.insert((p.action.clone(), p.resource.clone()));
            set.extend(implied(&doc, &p.action, &p.resource));
        }
    }
    assert!(!observed.is_empty(), "the call log holds no call made for a function");
    for (function, like) in SAME_WORK {
        let needs = observed.get(*like).cloned().unwrap_or_default();
        observed.entry((*function).to_owned()).or_default().extend(needs);
    }
    for r in ROUTES {
        observed.entry(r.function.to_owned()).or_default().extend(idempotency_needs(r.function));
        observed.entry(r.function.to_owned()).or_default().extend(session_needs(r.function));
    }
    let mut problems = Vec::new();
    for (f, needs) in &observed {
        let Some(statements) = policies.get(f) else {
            problems.push(format!("{f}: calls AWS but is not in the template"));
            continue;
        };
        for (action, resource) in needs {
            if !granted(statements, action, resource) {
                problems.push(format!("{f}: missing {action} on {resource}"));
            }
        }
    }
    for (f, statements) in &policies {
        let needs = observed.get(f).cloned().unwrap_or_default();
        for s in statements.iter().filter(|s| s.allow) {
            for action in &s.actions {
                for resource in &s.resources {
                    let used = needs.iter().any(|(a, r)| a == action && covers(resource, r));
                    let allowed = UNOBSERVED.iter().any(|(uf, ua, ur, _)| uf == f && ua == action && ur == resource);
                    if !used && !allowed {
                        problems.push(format!("{f}: extra {action} on {resource} ({}), never observed", s.sid));
                    }
                }
            }
        }
    }
    for (f, action, resource, _) in UNOBSERVED {
        let statements = policies.get(*f).map(Vec::as_slice).unwrap_or_default();
        let in_template = statements
            .iter()
            .any(|s| s.allow && s.actions.iter().any(|a| a == action) && s.resources.iter().any(|r| r == resource));
        if !in_template {
            problems.push(format!("{f}: allow-listed {action} on {resource} is not granted (stale allow-list entry)"));
        }
        if observed.get(*f).is_some_and(|n| n.iter().any(|(a, r)| a == action && covers(resource, r))) {
            problems.push(format!("{f}: allow-listed {action} on {resource} is observed now (drop the entry)"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} calls recorded; the template's policies disagree:\n{}",
        calls.len(),
        problems.join("\n")
    );
}
