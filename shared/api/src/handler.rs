//! From an HTTP request to a use case and back: authentication, body limits, JSON decoding,
//! idempotency, and the mapping of each [`Operation`] to a [`Platform`] method.

use bytes::Bytes;
use esign_core::auth::Principal;
use esign_core::checks::FormCheck;
use esign_core::contacts::ConfirmContact;
use esign_core::contract_list::StatusFilter;
use esign_core::enterprises::RegistrationForm;
use esign_core::grants::GrantRequest;
use esign_core::idempotency::{Claim, StoredResponse};
use esign_core::otp::SendCode;
use esign_core::seal_image;
use esign_core::seals::SealStatus;
use esign_core::sessions::Csrf;
use esign_core::signing_sessions::{Caller, ScopedAction};
use esign_core::verification::VerificationForm;
use esign_core::verify::MAX_VERIFY_BYTES;
use esign_core::verify::VerifyStored;
use esign_core::{DomainError, FieldError, Platform};
use http::{HeaderMap, Method};
use serde::de::DeserializeOwned;

use crate::cookie::{self, SessionCookie, session_cookie};
use crate::problem::Problem;
use crate::routes::{NoRoute, Operation, Params, Route, match_path, resolve};

/// Largest JSON body accepted (files go to S3 through presigned URLs, not through the API).
pub const MAX_BODY: usize = 1024 * 1024;

/// A request as both the Lambda runtime and the local server hand it over.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl ApiResponse {
    fn json(status: u16, body: String) -> Self {
        ApiResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from(body),
        }
    }

    fn empty(status: u16) -> Self {
        ApiResponse { status, headers: Vec::new(), body: Bytes::new() }
    }

    fn content_type(&self) -> &str {
        self.headers.iter().find(|(k, _)| k == "content-type").map_or("", |(_, v)| v.as_str())
    }
}

impl From<Problem> for ApiResponse {
    fn from(p: Problem) -> Self {
        let mut headers = vec![("content-type".to_owned(), "application/problem+json".to_owned())];
        if p.status == 401 {
            headers.push(("www-authenticate".into(), "Bearer".into()));
        }
        headers.extend(p.headers.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        ApiResponse { status: p.status, headers, body: Bytes::from(p.to_json()) }
    }
}

/// Serves a request on whichever route its method and path select (the local server).
pub async fn handle(platform: &Platform, req: ApiRequest) -> ApiResponse {
    let resp = match resolve(&req.method, &req.path) {
        Ok((route, params)) => serve(platform, route, params, &req).await,
        Err(NoRoute::NotFound) => Problem::not_found().into(),
        Err(NoRoute::MethodNotAllowed(allow)) => Problem::method_not_allowed(allow).into(),
    };
    finish(resp)
}

/// Serves a request for one operation (a Lambda function serves exactly one).
pub async fn handle_operation(platform: &Platform, operation: Operation, req: ApiRequest) -> ApiResponse {
    let route = operation.route();
    let resp = match match_path(route.path, &req.path) {
        Some(params) if req.method.as_str() == route.method => serve(platform, route, params, &req).await,
        Some(_) => Problem::method_not_allowed(vec![route.method]).into(),
        None => Problem::not_found().into(),
    };
    finish(resp)
}

fn finish(mut resp: ApiResponse) -> ApiResponse {
    // Answers may carry API keys or personal data: never cache them.
    resp.headers.push(("cache-control".into(), "no-store".into()));
    resp
}

/// Who is calling: an API key (or a signing session's bearer, scoped to its contract) when an
/// `Authorization` header is present (programs; it wins over a cookie), else the session cookie,
/// whose writes must carry the session's `X-CSRF-Token`.
async fn authenticate(platform: &Platform, req: &ApiRequest) -> Result<Caller, DomainError> {
    if req.headers.contains_key(http::header::AUTHORIZATION) {
        return platform.authenticate_bearer(bearer(&req.headers)).await;
    }
    match session_cookie(&req.headers) {
        SessionCookie::Present(token) => {
            Ok(Caller { principal: platform.authenticate_session(&token, csrf(req)).await?, scope: None })
        }
        SessionCookie::Absent | SessionCookie::Malformed => Err(DomainError::Unauthorized),
    }
}

/// What an operation asks of a caller scoped to one contract's signing (a signing session):
/// reading the contract, its document and trail, sending a code and signing it, and listing the
/// seals it may use; nothing else.
fn scoped_action<'a>(op: Operation, params: &'a Params, req: &ApiRequest) -> ScopedAction<'a> {
    match op {
        Operation::GetContract
        | Operation::GetContractDocument
        | Operation::ListContractAudit
        | Operation::SendOtp
        | Operation::SignContract => ScopedAction::Contract(param(params, "id")),
        Operation::ListSeals if query_str(&query(req), "usable") == Some("true") => ScopedAction::UsableSeals,
        _ => ScopedAction::Other,
    }
}

/// What the request proves of the session's CSRF token: nothing is needed to read.
fn csrf(req: &ApiRequest) -> Csrf<'_> {
    if req.method == Method::GET || req.method == Method::HEAD {
        Csrf::NotNeeded
    } else {
        Csrf::Given(req.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()))
    }
}

/// `GET /v1/session` and `DELETE /v1/session`: they read the cookie themselves.
async fn session_route(p: &Platform, op: Operation, req: &ApiRequest) -> ApiResponse {
    let token = match session_cookie(&req.headers) {
        SessionCookie::Present(t) => Some(t),
        SessionCookie::Absent | SessionCookie::Malformed => None,
    };
    if op == Operation::GetSession {
        return match token {
            Some(t) => answer(200, p.session(&t).await),
            None => Problem::from(DomainError::Unauthorized).into(),
        };
    }
    let ended = match &token {
        Some(t) => p.end_session(t, csrf(req)).await,
        None => Ok(()),
    };
    match ended {
        Ok(()) => {
            let mut resp = ApiResponse::empty(204);
            resp.headers.push(("set-cookie".into(), cookie::clear_session()));
            resp
        }
        Err(e) => Problem::from(e).into(),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

async fn serve(platform: &Platform, route: &'static Route, params: Params, req: &ApiRequest) -> ApiResponse {
    let limit = match route.operation {
        Operation::Verify => MAX_VERIFY_BYTES,
        Operation::CheckSealImage => seal_image::MAX_BYTES as usize,
        _ => MAX_BODY,
    };
    if req.body.len() > limit {
        let mut problem = Problem::payload_too_large(limit);
        if route.operation == Operation::CheckSealImage {
            // The seal image's own size rule, as submitting such an image would break it.
            problem.errors = vec![seal_image::too_large(req.body.len() as u64)].into();
        }
        return problem.into();
    }
    if route.operation.is_session_route() {
        return session_route(platform, route.operation, req).await;
    }
    let principal = if route.operation.is_public() {
        None
    } else {
        match authenticate(platform, req).await {
            Ok(Caller { principal, scope }) => {
                if let Some(Err(e)) = scope.map(|s| s.permit(scoped_action(route.operation, &params, req))) {
                    return Problem::from(e).into();
                }
                Some(principal)
            }
            Err(e) => return Problem::from(e).into(),
        }
    };
    let idempotency_key = match req.headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        // RFC 3161 requests carry their own nonce and form checks change nothing: neither is
        // stored; every other write is.
        Some(Ok(k)) if route.operation.takes_idempotency_key() => Some(k.to_owned()),
        Some(Ok(_)) => None,
        Some(Err(_)) => return Problem::bad_request("Idempotency-Key must be visible ASCII").into(),
    };
    let Some(key) = idempotency_key else {
        return execute(platform, route.operation, principal.as_ref(), &params, req).await;
    };
    // A stored answer is only ever replayed to the caller who made the request. Anonymous
    // callers cannot prove that: verification changes nothing, so it simply runs again, and a
    // registration's key only keeps a retry from registering twice (its answer, with the new
    // API key, is never handed to whoever else sends the same key and body).
    let scope = match &principal {
        Some(Principal::Member { member_id, .. }) => member_id.clone(),
        Some(Principal::Operator { id }) => id.clone(),
        None if route.operation == Operation::Verify => {
            return execute(platform, route.operation, principal.as_ref(), &params, req).await;
        }
        None => "anonymous".to_owned(),
    };
    let replayable = principal.is_some();
    let mut fingerprint = format!("{} {}\n", req.method, req.path).into_bytes();
    fingerprint.extend_from_slice(&req.body);
    match platform.idempotency_claim(&scope, &key, &fingerprint).await {
        Err(e) => Problem::from(e).into(),
        Ok(Claim::Replay(_)) if !replayable => Problem::new(
            "idempotency-key-used",
            "Idempotency key already used",
            409,
            "a request with this Idempotency-Key was already processed; an anonymous request's answer is not replayed",
        )
        .into(),
        Ok(Claim::Replay(stored)) => ApiResponse {
            status: stored.status,
            headers: vec![("content-type".into(), stored.content_type), ("idempotent-replayed".into(), "true".into())],
            body: Bytes::from(stored.body),
        },
        Ok(Claim::Proceed(ticket)) => {
            let resp = execute(platform, route.operation, principal.as_ref(), &params, req).await;
            let stored = StoredResponse {
                status: resp.status,
                content_type: resp.content_type().to_owned(),
                // Nothing of an anonymous answer is kept: it is never replayed.
                body: if replayable { String::from_utf8_lossy(&resp.body).into_owned() } else { String::new() },
            };
            if let Err(e) = platform.idempotency_finish(ticket, stored).await {
                tracing::warn!(error = %e, "could not record the idempotent answer");
            }
            resp
        }
    }
}

fn param<'a>(params: &'a Params, name: &str) -> &'a str {
    params.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v.as_str())
}

/// The query string's parameters.
fn query(req: &ApiRequest) -> Vec<(String, String)> {
    req.query.as_deref().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

fn query_str<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn query_limit(q: &[(String, String)]) -> Result<Option<u32>, Problem> {
    query_str(q, "limit")
        .map(|l| {
            l.parse::<u32>().map_err(|_| {
                Problem::validation(vec![FieldError::new("limit", "integer", "limit must be a whole number")])
            })
        })
        .transpose()
}

/// Decodes the JSON body: malformed JSON is a 400, well-formed JSON of the wrong shape a 422
/// naming the field.
fn json<T: DeserializeOwned>(req: &ApiRequest) -> Result<T, Problem> {
    let ct = req.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(if req.body.is_empty() && ct.is_empty() {
            Problem::bad_request("a JSON body is required")
        } else {
            Problem::unsupported_media_type()
        });
    }
    // Syntax first, over the whole body, so that malformed JSON is always a 400 ...
    let value: serde_json::Value =
        serde_json::from_slice(&req.body).map_err(|e| Problem::bad_request(format!("malformed JSON: {e}")))?;
    // ... then the shape, so that a wrong or missing field is a 422 naming the field.
    shape(value)
}

/// Most fields of the wrong type (or unknown) one request lists.
const MAX_SHAPE_ERRORS: usize = 32;

/// A JSON value as the request type: a wrong, unknown or missing field is a 422 naming the field.
/// Every such field is listed, not just the first: each one found is taken out of the value and
/// the value read again, until it reads or a field cannot be taken out (a missing one, an item
/// of a list).
fn shape<T: DeserializeOwned>(mut value: serde_json::Value) -> Result<T, Problem> {
    let mut errors: Vec<FieldError> = Vec::new();
    loop {
        let e = match serde_path_to_error::deserialize(value.clone()) {
            Ok(v) if errors.is_empty() => return Ok(v),
            Ok(_) => break,
            Err(e) => e,
        };
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        if errors.iter().any(|f| f.field == field) {
            break;
        }
        let taken_out = take_out(&mut value, e.path());
        errors.push(FieldError::new(field, "type", e.into_inner().to_string()));
        if !taken_out || errors.len() >= MAX_SHAPE_ERRORS {
            break;
        }
    }
    Err(Problem::validation(errors))
}

/// Removes the member at `path` from its object; false when the path ends elsewhere (the body
/// itself, a list item) or names nothing.
fn take_out(value: &mut serde_json::Value, path: &serde_path_to_error::Path) -> bool {
    use serde_path_to_error::Segment;
    let segments: Vec<&Segment> = path.iter().collect();
    let Some((Segment::Map { key }, parents)) = segments.split_last() else { return false };
    let mut at = value;
    for segment in parents {
        at = match (segment, at) {
            (Segment::Map { key }, serde_json::Value::Object(map)) => match map.get_mut(key) {
                Some(v) => v,
                None => return false,
            },
            (Segment::Seq { index }, serde_json::Value::Array(items)) => match items.get_mut(*index) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match at {
        serde_json::Value::Object(map) => map.remove(key).is_some(),
        _ => false,
    }
}

fn ok<T: serde::Serialize>(status: u16, value: &T) -> ApiResponse {
    match serde_json::to_string(value) {
        Ok(body) => ApiResponse::json(status, body),
        Err(e) => Problem::from(DomainError::Internal(e.to_string())).into(),
    }
}

fn answer<T: serde::Serialize>(status: u16, r: Result<T, DomainError>) -> ApiResponse {
    match r {
        Ok(v) => ok(status, &v),
        Err(e) => Problem::from(e).into(),
    }
}

async fn execute(
    p: &Platform,
    op: Operation,
    principal: Option<&Principal>,
    params: &Params,
    req: &ApiRequest,
) -> ApiResponse {
    let Some(who) = principal else {
        return public(p, op, req).await;
    };
    let q = query(req);
    let limit = match query_limit(&q) {
        Ok(l) => l,
        Err(problem) => return problem.into(),
    };
    let cursor = query_str(&q, "cursor");
    macro_rules! body {
        () => {
            match json(req) {
                Ok(v) => v,
                Err(problem) => return problem.into(),
            }
        };
    }
    match op {
        Operation::RegisterEnterprise
        | Operation::GetCaCertificates
        | Operation::Timestamp
        | Operation::GetCrl
        | Operation::GetRootCrl
        | Operation::GetIssuingCertificate
        | Operation::Ocsp
        | Operation::OcspGet
        | Operation::Verify
        | Operation::DevOutbox
        | Operation::StartSignIn
        | Operation::CreateSession
        | Operation::CheckRegistration
        | Operation::CheckVerification
        | Operation::CheckSealImage
        | Operation::ExchangeSigningSession => public(p, op, req).await,
        Operation::GetSession | Operation::DeleteSession => session_route(p, op, req).await,
        Operation::LookupEnterprise => match esign_core::directory::parse_uscc(query_str(&q, "uscc")) {
            Ok(uscc) => answer(200, p.lookup_enterprise(who, &uscc).await),
            Err(e) => Problem::from(e).into(),
        },
        Operation::GetEnterprise => answer(200, p.get_enterprise(who, param(params, "id")).await),
        Operation::CreateLetterUpload => answer(201, p.create_letter_upload(who, param(params, "id"), body!()).await),
        Operation::SubmitVerification => {
            // Every field optional on the wire, so that a submission missing several lists each.
            let input: VerificationForm = body!();
            answer(202, p.submit_verification(who, param(params, "id"), input).await)
        }
        Operation::ListEnterpriseAudit => {
            answer(200, p.enterprise_audit(who, param(params, "id"), limit, cursor).await)
        }
        Operation::CreateMember => answer(201, p.create_member(who, body!()).await),
        Operation::ListMembers => answer(200, p.list_members(who, limit, cursor).await),
        Operation::DeleteMember => match p.delete_member(who, param(params, "member_id")).await {
            Ok(()) => ApiResponse::empty(204),
            Err(e) => Problem::from(e).into(),
        },
        Operation::RotateMemberKey => answer(201, p.rotate_member_key(who, param(params, "member_id")).await),
        Operation::SendContactCode => {
            let input = if req.body.is_empty() { ConfirmContact::default() } else { body!() };
            answer(201, p.send_contact_code(who, param(params, "member_id"), input).await)
        }
        Operation::VerifyContact => answer(200, p.verify_contact(who, param(params, "member_id"), body!()).await),
        Operation::ListVerifications => {
            answer(200, p.list_verifications(who, query_str(&q, "status"), limit, cursor).await)
        }
        Operation::GetVerification => answer(200, p.get_verification(who, param(params, "id")).await),
        Operation::DecideVerification => answer(200, p.decide_verification(who, param(params, "id"), body!()).await),
        Operation::CreateSeal => answer(201, p.create_seal(who, body!()).await),
        Operation::ListSeals => match query_str(&q, "usable") {
            None | Some("false") => answer(200, p.list_seals(who, limit, cursor).await),
            Some("true") => answer(200, p.usable_seals(who).await),
            Some(_) => {
                Problem::validation(vec![FieldError::new("usable", "invalid", "usable is true or false")]).into()
            }
        },
        Operation::GetSeal => answer(200, p.get_seal(who, param(params, "id")).await),
        Operation::ReplaceSealImage => answer(201, p.replace_seal_image(who, param(params, "id"), body!()).await),
        Operation::SubmitSeal => answer(202, p.submit_seal(who, param(params, "id")).await),
        Operation::SuspendSeal => {
            answer(200, p.change_seal_status(who, param(params, "id"), SealStatus::Suspended).await)
        }
        Operation::ResumeSeal => answer(200, p.change_seal_status(who, param(params, "id"), SealStatus::Active).await),
        Operation::RevokeSeal => {
            let input: esign_core::revocation::RevokeSeal =
                if req.body.is_empty() { esign_core::revocation::RevokeSeal::default() } else { body!() };
            answer(200, p.revoke_seal(who, param(params, "id"), input.reason).await)
        }
        Operation::ListSealAudit => answer(200, p.seal_audit(who, param(params, "id"), limit, cursor).await),
        Operation::ListContractAudit => match esign_core::contracts::ContractTrail::parse(query_str(&q, "trail")) {
            Ok(trail) => answer(200, p.contract_audit(who, param(params, "id"), trail, limit, cursor).await),
            Err(e) => Problem::from(e).into(),
        },
        Operation::AnchorAuditTrails => answer(200, p.anchor_audit_trails_now(who).await),
        Operation::PutGrant => {
            let input = if req.body.is_empty() { GrantRequest::default() } else { body!() };
            answer(200, p.put_grant(who, param(params, "id"), param(params, "member_id"), input).await)
        }
        Operation::DeleteGrant => match p.delete_grant(who, param(params, "id"), param(params, "member_id")).await {
            Ok(()) => ApiResponse::empty(204),
            Err(e) => Problem::from(e).into(),
        },
        Operation::ListGrants => answer(200, p.list_grants(who, param(params, "id"), limit, cursor).await),
        Operation::ListSealReviews => answer(200, p.list_seals_for_review(who, limit, cursor).await),
        Operation::DecideSeal => answer(200, p.decide_seal(who, param(params, "id"), body!()).await),
        Operation::CreateContract => {
            let value: serde_json::Value = body!();
            if value.get("template_id").is_some() {
                match shape(value) {
                    Ok(input) => answer(201, p.create_contract_from_template(who, input).await),
                    Err(problem) => problem.into(),
                }
            } else {
                match shape(value) {
                    Ok(input) => answer(201, p.create_contract(who, input).await),
                    Err(problem) => problem.into(),
                }
            }
        }
        Operation::CreateTemplate => answer(201, p.create_template(who, body!()).await),
        Operation::ListTemplates => answer(200, p.list_templates(who, limit, cursor).await),
        Operation::GetTemplate => answer(200, p.get_template(who, param(params, "id")).await),
        Operation::DeleteTemplate => match p.delete_template(who, param(params, "id")).await {
            Ok(()) => ApiResponse::empty(204),
            Err(e) => Problem::from(e).into(),
        },
        Operation::ListContracts => match StatusFilter::parse(query_str(&q, "status")) {
            Ok(status) => answer(200, p.list_contracts(who, status, limit, cursor).await),
            Err(e) => Problem::from(e).into(),
        },
        Operation::GetContract => answer(200, p.get_contract(who, param(params, "id")).await),
        Operation::SetParties => answer(200, p.set_parties(who, param(params, "id"), body!()).await),
        Operation::SetPlacements => answer(200, p.set_placements(who, param(params, "id"), body!()).await),
        Operation::OpenContract => answer(200, p.open_contract(who, param(params, "id")).await),
        Operation::SendOtp => {
            let input = if req.body.is_empty() { SendCode::default() } else { body!() };
            answer(201, p.send_signing_code(who, param(params, "id"), input).await)
        }
        Operation::SignContract => answer(200, p.sign_contract(who, param(params, "id"), body!()).await),
        Operation::GetContractDocument => answer(200, p.contract_document(who, param(params, "id")).await),
        Operation::RenewArchiveTimestamp => answer(201, p.renew_archive_timestamp(who, param(params, "id")).await),
        Operation::GetContractEvidence => answer(200, p.contract_evidence(who, param(params, "id")).await),
        Operation::CreateSigningSession => {
            answer(201, p.create_signing_session(who, param(params, "id"), body!()).await)
        }
        Operation::GetUsage => answer(200, p.usage(who, query_str(&q, "month")).await),
        Operation::CreateVerifyUpload => answer(201, p.create_verify_upload(who, body!()).await),
        Operation::CreateWebhook => answer(201, p.create_webhook(who, body!()).await),
        Operation::ListWebhooks => answer(200, p.list_webhooks(who, limit, cursor).await),
        Operation::DeleteWebhook => match p.delete_webhook(who, param(params, "id")).await {
            Ok(()) => ApiResponse::empty(204),
            Err(e) => Problem::from(e).into(),
        },
        Operation::RotateWebhookSecret => answer(200, p.rotate_webhook_secret(who, param(params, "id")).await),
        Operation::ListWebhookDeliveries => {
            answer(200, p.list_webhook_deliveries(who, param(params, "id"), limit, cursor).await)
        }
        Operation::RedeliverWebhook => {
            answer(202, p.redeliver_webhook(who, param(params, "id"), param(params, "delivery_id")).await)
        }
    }
}

/// Largest RFC 3161 request accepted.
const MAX_TIMESTAMP_QUERY: usize = 64 * 1024;

/// A DER body with its media type, cacheable by intermediaries for `max_age` seconds.
fn der_response(content_type: &str, body: Vec<u8>, max_age: u32) -> ApiResponse {
    ApiResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), content_type.into()),
            ("cache-control".into(), format!("public, max-age={max_age}")),
        ],
        body: Bytes::from(body),
    }
}

/// The DER OCSP request of the RFC 5019 GET form: the last path segment, percent-decoded,
/// base64 (standard or URL-safe, padded or not).
fn ocsp_get_request(path: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let encoded = path.strip_prefix("/v1/ca/ocsp/")?;
    // Base64 of the largest request accepted, percent-encoded at worst.
    if encoded.is_empty() || encoded.len() > MAX_OCSP_GET_CHARS {
        return None;
    }
    let mut text = String::with_capacity(encoded.len());
    let bytes = encoded.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = encoded.get(i + 1..i + 3)?;
            text.push(char::from(u8::from_str_radix(hex, 16).ok()?));
            i += 3;
        } else {
            text.push(char::from(bytes[i]));
            i += 1;
        }
    }
    let text = text.trim_end_matches('=');
    let config = base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone);
    if text.contains(['-', '_']) {
        base64::engine::GeneralPurpose::new(&base64::alphabet::URL_SAFE, config).decode(text).ok()
    } else {
        base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, config).decode(text).ok()
    }
}

/// Longest encoded request in a GET path: base64 of the largest request the responder takes,
/// every character percent-encoded.
const MAX_OCSP_GET_CHARS: usize = (esign_core::revocation::MAX_OCSP_REQUEST_BYTES * 4 / 3 + 4) * 3;

fn ocsp_response(der: Vec<u8>) -> ApiResponse {
    // Fresh answers: revocation shows at once, so intermediaries must not keep them.
    ApiResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), "application/ocsp-response".into()),
            ("cache-control".into(), "no-cache".into()),
        ],
        body: Bytes::from(der),
    }
}

/// The operations anyone may call.
async fn public(p: &Platform, op: Operation, req: &ApiRequest) -> ApiResponse {
    match op {
        Operation::GetCrl => match p.crl(esign_core::ports::CaLevel::Issuing).await {
            Ok(der) => der_response("application/pkix-crl", der, 300),
            Err(e) => Problem::from(e).into(),
        },
        Operation::GetRootCrl => match p.crl(esign_core::ports::CaLevel::Root).await {
            Ok(der) => der_response("application/pkix-crl", der, 3600),
            Err(e) => Problem::from(e).into(),
        },
        Operation::GetIssuingCertificate => match p.issuing_certificate().await {
            Ok(der) => der_response("application/pkix-cert", der, 86400),
            Err(e) => Problem::from(e).into(),
        },
        Operation::Ocsp => {
            let ct = req.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !ct.trim().eq_ignore_ascii_case("application/ocsp-request") {
                return Problem::new(
                    "unsupported-media-type",
                    "Unsupported media type",
                    415,
                    "send an RFC 6960 OCSPRequest as application/ocsp-request",
                )
                .into();
            }
            if req.body.len() > esign_core::revocation::MAX_OCSP_REQUEST_BYTES {
                return Problem::payload_too_large(esign_core::revocation::MAX_OCSP_REQUEST_BYTES).into();
            }
            ocsp_response(p.ocsp(&req.body).await)
        }
        Operation::OcspGet => match ocsp_get_request(&req.path) {
            Some(request) => ocsp_response(p.ocsp(&request).await),
            // Not base64: answered as OCSP answers what it cannot read.
            None => ocsp_response(p.ocsp(&[]).await),
        },
        Operation::GetCaCertificates => match p.ca_certificates().await {
            Ok(pem) => ApiResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/x-pem-file".into())],
                body: Bytes::from(pem),
            },
            Err(e) => Problem::from(e).into(),
        },
        Operation::Timestamp => {
            let ct = req.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !ct.trim().eq_ignore_ascii_case("application/timestamp-query") {
                return Problem::new(
                    "unsupported-media-type",
                    "Unsupported media type",
                    415,
                    "send an RFC 3161 TimeStampReq as application/timestamp-query",
                )
                .into();
            }
            if req.body.len() > MAX_TIMESTAMP_QUERY {
                return Problem::payload_too_large(MAX_TIMESTAMP_QUERY).into();
            }
            match p.timestamp(&req.body).await {
                Ok(reply) => ApiResponse {
                    status: 200,
                    headers: vec![("content-type".into(), "application/timestamp-reply".into())],
                    body: Bytes::from(reply),
                },
                Err(e) => Problem::from(e).into(),
            }
        }
        Operation::Verify => verify(p, req).await,
        Operation::DevOutbox => {
            let q = query(req);
            let limit = match query_limit(&q) {
                Ok(l) => l,
                Err(problem) => return problem.into(),
            };
            answer(
                200,
                p.dev_outbox(query_str(&q, "recipient"), limit)
                    .await
                    .map(|items| serde_json::json!({ "items": items })),
            )
        }
        Operation::StartSignIn => match json(req) {
            Ok(input) => answer(202, p.start_sign_in(input).await),
            Err(problem) => problem.into(),
        },
        Operation::CreateSession => match json(req) {
            Ok(input) => match p.create_session(input).await {
                Ok(session) => {
                    let mut resp = ok(201, &session.view);
                    if resp.status == 201 {
                        resp.headers
                            .push(("set-cookie".into(), cookie::set_session(&session.token, session.max_age_secs)));
                    }
                    resp
                }
                Err(e) => Problem::from(e).into(),
            },
            Err(problem) => problem.into(),
        },
        Operation::ExchangeSigningSession => match json(req) {
            Ok(input) => answer(200, p.exchange_signing_session(input).await),
            Err(problem) => problem.into(),
        },
        Operation::CheckRegistration => form_check(req, |form| p.check_registration(&form)),
        Operation::CheckVerification => form_check(req, |form| p.check_verification(&form)),
        Operation::CheckSealImage => {
            let ct = req.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
            let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            // Any image type (the bytes decide: a JPEG is `not_png`), never text, which an HTTP
            // API would hand over as a string.
            if !(essence.starts_with("image/") || essence == "application/octet-stream") {
                return Problem::new(
                    "unsupported-media-type",
                    "Unsupported media type",
                    415,
                    "send the seal image's bytes as image/png",
                )
                .into();
            }
            ok(200, &p.check_seal_image(&req.body))
        }
        // Every field optional on the wire, so that a registration missing several lists each.
        Operation::RegisterEnterprise => match json::<RegistrationForm>(req) {
            Ok(input) => answer(201, p.register_enterprise(input).await),
            Err(problem) => problem.into(),
        },
        // Not public: `execute` serves these to an authenticated caller only, and never sends
        // them here (each new operation must be placed on one side or the other).
        Operation::LookupEnterprise
        | Operation::GetEnterprise
        | Operation::CreateLetterUpload
        | Operation::SubmitVerification
        | Operation::ListEnterpriseAudit
        | Operation::CreateMember
        | Operation::ListMembers
        | Operation::DeleteMember
        | Operation::RotateMemberKey
        | Operation::SendContactCode
        | Operation::VerifyContact
        | Operation::ListVerifications
        | Operation::GetVerification
        | Operation::DecideVerification
        | Operation::CreateSeal
        | Operation::ListSeals
        | Operation::GetSeal
        | Operation::ReplaceSealImage
        | Operation::SubmitSeal
        | Operation::SuspendSeal
        | Operation::ResumeSeal
        | Operation::RevokeSeal
        | Operation::ListSealAudit
        | Operation::PutGrant
        | Operation::DeleteGrant
        | Operation::ListGrants
        | Operation::ListSealReviews
        | Operation::DecideSeal
        | Operation::CreateContract
        | Operation::ListContracts
        | Operation::CreateTemplate
        | Operation::ListTemplates
        | Operation::GetTemplate
        | Operation::DeleteTemplate
        | Operation::GetContract
        | Operation::SetParties
        | Operation::SetPlacements
        | Operation::OpenContract
        | Operation::SendOtp
        | Operation::SignContract
        | Operation::CreateSigningSession
        | Operation::GetContractDocument
        | Operation::GetContractEvidence
        | Operation::ListContractAudit
        | Operation::RenewArchiveTimestamp
        | Operation::AnchorAuditTrails
        | Operation::CreateVerifyUpload
        | Operation::GetUsage
        | Operation::CreateWebhook
        | Operation::ListWebhooks
        | Operation::DeleteWebhook
        | Operation::RotateWebhookSecret
        | Operation::ListWebhookDeliveries
        | Operation::RedeliverWebhook
        | Operation::GetSession
        | Operation::DeleteSession => Problem::from(DomainError::Unauthorized).into(),
    }
}

/// A form check's answer: the rules the form's fields break. A field of the wrong type (or one
/// the request does not know) is listed as the request would refuse it, among the others.
fn form_check<T: DeserializeOwned>(req: &ApiRequest, check: impl FnOnce(T) -> FormCheck) -> ApiResponse {
    match json::<T>(req) {
        Ok(form) => ok(200, &check(form)),
        Err(problem) if problem.status == 422 => ok(200, &FormCheck { errors: problem.errors.into_vec() }),
        Err(problem) => problem.into(),
    }
}

/// `POST /v1/verify`: a PDF in the body (anyone), or `{"contract_id"}` for a contract's latest
/// revision (its parties, with their key).
async fn verify(p: &Platform, req: &ApiRequest) -> ApiResponse {
    let ct = req.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/pdf" => answer(200, p.verify_document(&req.body).await),
        "application/json" => {
            let Caller { principal: who, scope } = match authenticate(p, req).await {
                Ok(w) => w,
                Err(e) => return Problem::from(e).into(),
            };
            let input: VerifyStored = match json(req) {
                Ok(v) => v,
                Err(problem) => return problem.into(),
            };
            // A signing session verifies its own contract only.
            if let Some(scope) = scope {
                let action = match &input.contract_id {
                    Some(id) if input.file_id.is_none() => ScopedAction::Contract(id),
                    _ => ScopedAction::Other,
                };
                if let Err(e) = scope.permit(action) {
                    return Problem::from(e).into();
                }
            }
            answer(200, p.verify_stored(&who, input).await)
        }
        _ => Problem::new(
            "unsupported-media-type",
            "Unsupported media type",
            415,
            "send the PDF as application/pdf, or {\"contract_id\"} or {\"file_id\"} as application/json",
        )
        .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(p: &Problem) -> Vec<(&str, &str)> {
        p.errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect()
    }

    #[test]
    fn every_field_of_the_wrong_type_or_unknown_is_listed() {
        let body = serde_json::json!({
            "name": 5,
            "contact_email": ["a"],
            "nickname": "x",
            "admin": {"mobile": 13800138000u64, "email": "a@example.com", "password": "p"}
        });
        let p = shape::<RegistrationForm>(body).unwrap_err();
        assert_eq!(p.status, 422);
        let mut got = fields(&p);
        got.sort();
        assert_eq!(
            got,
            [
                ("admin.mobile", "type"),
                ("admin.password", "type"),
                ("contact_email", "type"),
                ("name", "type"),
                ("nickname", "type")
            ]
        );
        assert_eq!(p.detail, "5 fields are invalid");
        // Well-typed: it reads; a body of the wrong kind is one error.
        assert!(shape::<RegistrationForm>(serde_json::json!({"name": "甲"})).is_ok());
        assert_eq!(fields(&shape::<RegistrationForm>(serde_json::json!(7)).unwrap_err()), [("body", "type")]);
        // A missing field of a request that needs it cannot be taken out: listed once.
        let p = shape::<ConfirmContact>(serde_json::json!({"channel": 7, "x": 1})).unwrap_err();
        let mut got = fields(&p);
        got.sort();
        assert_eq!(got, [("channel", "type"), ("x", "type")]);
        let p = shape::<esign_core::contacts::VerifyContact>(serde_json::json!({"otp_id": 5})).unwrap_err();
        assert_eq!(fields(&p), [("otp_id", "type"), ("body", "type")]);
        assert!(p.errors[1].message.contains("missing field"), "{p:?}");
    }

    #[test]
    fn ocsp_get_requests_decode_from_any_base64_form() {
        let der = vec![0xfb, 0xef, 0xbe, 0xff, 0xff];
        let standard = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &der);
        assert!(standard.contains('+') && standard.contains('/'), "{standard}");
        let encoded = standard.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
        assert_eq!(ocsp_get_request(&format!("/v1/ca/ocsp/{encoded}")), Some(der.clone()));
        let url_safe = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &der);
        assert_eq!(ocsp_get_request(&format!("/v1/ca/ocsp/{url_safe}")), Some(der.clone()));
        assert_eq!(ocsp_get_request("/v1/ca/ocsp/%zz"), None);
        assert_eq!(ocsp_get_request("/v1/ca/ocsp/!!!"), None);
        assert_eq!(ocsp_get_request("/v1/ca/ocsp/"), None);
        let long = "A".repeat(MAX_OCSP_GET_CHARS + 1);
        assert_eq!(ocsp_get_request(&format!("/v1/ca/ocsp/{long}")), None);
    }
}
