//! AWS round trips per request, counted on a warm server (every operation below ran once
//! before it is counted, as a warm Lambda function would have): in AWS each call costs
//! milliseconds to tens of milliseconds, so their number, not the PDF engine, sets the latency
//! and the cost of a request. The server names each request's calls in a response header
//! (`esign_api::local::AWS_CALLS_HEADER`); this test prints the table that `shared/pades/BENCH.md`
//! publishes and holds the budgets: a signing in at most 10 calls (the one that completes the
//! contract, with its document time stamp, too), an authenticated read in at most 2.

use super::*;

const SIGNING_BUDGET: usize = 10;
const READ_BUDGET: usize = 2;

fn calls(r: &Reply) -> Vec<String> {
    let header = r.header(esign_api::local::AWS_CALLS_HEADER).unwrap_or_else(|| panic!("no calls header: {r:?}"));
    header.split_whitespace().map(str::to_owned).collect()
}

/// One row: the operation, its calls in order (a warm request), and the budget it must keep.
struct Row {
    operation: &'static str,
    calls: Vec<String>,
    budget: Option<usize>,
}

fn row(operation: &'static str, r: &Reply, budget: Option<usize>) -> Row {
    assert!(r.status < 300, "{operation}: {} {:?}", r.status, r.body);
    Row { operation, calls: calls(r), budget }
}

/// `DynamoDB.GetItem ×3, KMS.Sign` from the ordered calls.
fn summary(calls: &[String]) -> String {
    let mut counted: Vec<(String, usize)> = Vec::new();
    for c in calls {
        match counted.iter_mut().find(|(name, _)| name == c) {
            Some((_, n)) => *n += 1,
            None => counted.push((c.clone(), 1)),
        }
    }
    counted.iter().map(|(c, n)| if *n > 1 { format!("{c} ×{n}") } else { c.clone() }).collect::<Vec<_>>().join(", ")
}

fn one_page_contract(api: &Api, a: &Party, b: &Party, title: &str) -> String {
    let placements = vec![place(a, "signature", 1, 60.0, 500.0), place(b, "signature", 1, 330.0, 500.0)];
    contract(api, a, title, sample_pdf(1), &[a, b], "sequential", placements)
}

#[test]
fn requests_keep_their_aws_round_trip_budgets() {
    let api = Api::new();
    let a = party(&api, "往返计数甲方有限公司", "ecdsa_p256");
    let b = party(&api, "往返计数乙方有限公司", "ecdsa_p256");
    // The web app's way in: a session cookie (its mobile is a's administrator's).
    let session = api.sign_in(&a.mobile, &a.mobile, "member");
    let mut rows = Vec::new();
    // Twice each: the first warms the server, the second is counted.
    for round in 0..2 {
        let id = one_page_contract(&api, &a, &b, &format!("往返计数合同 {round}"));
        let sent = api.post(&format!("/v1/contracts/{id}/otp")).key(&a.key).send();
        let otp = sent.body["otp_id"].as_str().unwrap_or_default().to_owned();
        let (code, _) = api.latest_code(&a.mobile);
        let signed = sign(&api, &a, &id, &otp, &code);
        let contract = api.get(&format!("/v1/contracts/{id}")).key(&a.key).send();
        let document = api.get(&format!("/v1/contracts/{id}/document")).key(&a.key).send();
        let seals = api.get("/v1/seals").key(&a.key).send();
        let seal = api.get(&format!("/v1/seals/{}", a.seal)).key(&a.key).send();
        let members = api.get("/v1/members").key(&a.key).send();
        let enterprise = api.get(&format!("/v1/enterprises/{}", a.enterprise)).key(&a.key).send();
        let by_cookie = api.get("/v1/seals").session(&session).send();
        let listed = api.get("/v1/contracts").key(&a.key).send();
        let trail = api.get(&format!("/v1/contracts/{id}/audit")).key(&a.key).send();
        // B completes it: its signature, the document time stamp (B-LTA) and both webhook events.
        let sent_b = api.post(&format!("/v1/contracts/{id}/otp")).key(&b.key).send();
        let otp_b = sent_b.body["otp_id"].as_str().unwrap_or_default().to_owned();
        let (code_b, _) = api.latest_code(&b.mobile);
        let completed = sign(&api, &b, &id, &otp_b, &code_b);
        assert_eq!(completed.body["status"], "completed", "{:?}", completed.body);
        let renewed = api.post(&format!("/v1/contracts/{id}/archive-timestamps")).key(OPERATOR_KEY).send();
        if round == 1 {
            rows = vec![
                row("POST /v1/contracts/{id}/sign (one party, one page)", &signed, Some(SIGNING_BUDGET)),
                row(
                    "POST /v1/contracts/{id}/sign (completing: + document time stamp)",
                    &completed,
                    Some(SIGNING_BUDGET),
                ),
                row("POST /v1/contracts/{id}/archive-timestamps (operator)", &renewed, None),
                row("POST /v1/contracts/{id}/otp (send a code)", &sent, None),
                row("GET /v1/contracts/{id}/document (download link)", &document, None),
                row("GET /v1/contracts/{id}", &contract, Some(READ_BUDGET)),
                row("GET /v1/seals", &seals, Some(READ_BUDGET)),
                row("GET /v1/seals/{id}", &seal, Some(READ_BUDGET)),
                row("GET /v1/members", &members, Some(READ_BUDGET)),
                row("GET /v1/enterprises/{id}", &enterprise, Some(READ_BUDGET)),
                row("GET /v1/seals (session cookie)", &by_cookie, Some(READ_BUDGET)),
                row("GET /v1/contracts", &listed, Some(READ_BUDGET)),
                // The trail and who may read it, in one query of the trail's partition.
                row("GET /v1/contracts/{id}/audit", &trail, Some(READ_BUDGET)),
            ];
        }
    }
    println!("| request | AWS calls | which |\n| --- | ---: | --- |");
    for r in &rows {
        println!("| `{}` | {} | {} |", r.operation, r.calls.len(), summary(&r.calls));
    }
    let over: Vec<_> = rows
        .iter()
        .filter(|r| r.budget.is_some_and(|b| r.calls.len() > b))
        .map(|r| format!("{}: {} calls ({})", r.operation, r.calls.len(), summary(&r.calls)))
        .collect();
    assert!(over.is_empty(), "over budget: {over:#?}");
}
