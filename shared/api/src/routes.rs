//! The route table: every operation with its method and path template. The Lambda functions,
//! the local server, the SAM template and the OpenAPI document all follow this one list (a test
//! checks the two YAML files against it).

use http::Method;

/// One HTTP operation; each is one Lambda function of the same name in kebab case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `POST /v1/enterprises`: register an enterprise and its administrator (public).
    RegisterEnterprise,
    /// `GET /v1/enterprises/lookup?uscc=`: the id and verified name of the verified enterprise
    /// holding a USCC (members of verified enterprises, rate-limited per enterprise).
    LookupEnterprise,
    /// `GET /v1/enterprises/{id}`: status, including verification state and reason.
    GetEnterprise,
    /// `POST /v1/enterprises/{id}/verification/letter`: presigned upload of an authorization letter.
    CreateLetterUpload,
    /// `POST /v1/enterprises/{id}/verification`: submit real-name authentication.
    SubmitVerification,
    /// `GET /v1/enterprises/{id}/audit`: the enterprise's hash-chained audit trail.
    ListEnterpriseAudit,
    /// `POST /v1/members`: add a member with its own key.
    CreateMember,
    /// `GET /v1/members`: list members.
    ListMembers,
    /// `DELETE /v1/members/{member_id}`: remove a member, revoking its key.
    DeleteMember,
    /// `POST /v1/members/{member_id}/key`: replace a member's key.
    RotateMemberKey,
    /// `POST /v1/members/{member_id}/contacts/confirm`: send a code to the member's mobile or
    /// email to confirm it (the member itself or an administrator).
    SendContactCode,
    /// `POST /v1/members/{member_id}/contacts/verify`: confirm the contact with that code (the
    /// member itself).
    VerifyContact,
    /// `GET /v1/operator/verifications`: submissions by review state.
    ListVerifications,
    /// `GET /v1/operator/verifications/{id}`: one submission.
    GetVerification,
    /// `POST /v1/operator/verifications/{id}/decision`: approve or reject.
    DecideVerification,
    /// `POST /v1/seals`: a seal draft and a presigned upload URL for its PNG.
    CreateSeal,
    /// `GET /v1/seals`: the enterprise's seals.
    ListSeals,
    /// `GET /v1/seals/{id}`: one seal, with its certificate once active.
    GetSeal,
    /// `POST /v1/seals/{id}/image`: a new upload URL for a draft's or rejected seal's image.
    ReplaceSealImage,
    /// `POST /v1/seals/{id}/submit`: check the uploaded image and send the seal to review.
    SubmitSeal,
    /// `POST /v1/seals/{id}/suspend`.
    SuspendSeal,
    /// `POST /v1/seals/{id}/resume`.
    ResumeSeal,
    /// `POST /v1/seals/{id}/revoke`: for good.
    RevokeSeal,
    /// `GET /v1/seals/{id}/audit`: the seal's hash-chained audit trail.
    ListSealAudit,
    /// `PUT /v1/seals/{id}/grants/{member_id}`: let a member use the seal, optionally until a time.
    PutGrant,
    /// `DELETE /v1/seals/{id}/grants/{member_id}`: revoke that right.
    DeleteGrant,
    /// `GET /v1/seals/{id}/grants`.
    ListGrants,
    /// `GET /v1/operator/seals`: seals waiting for review.
    ListSealReviews,
    /// `POST /v1/operator/seals/{id}/decision`: approve (key and certificate) or reject.
    DecideSeal,
    /// `GET /v1/ca/certificates`: the platform CA chain, PEM (public).
    GetCaCertificates,
    /// `POST /v1/tsa`: the RFC 3161 time-stamp authority (public).
    Timestamp,
    /// `GET /v1/ca/crl`: the issuing CA's CRL, DER (public).
    GetCrl,
    /// `GET /v1/ca/root.crl`: the root CA's CRL, DER (public).
    GetRootCrl,
    /// `GET /v1/ca/issuing.crt`: the issuing CA's certificate, DER (public; caIssuers).
    GetIssuingCertificate,
    /// `POST /v1/ca/ocsp`: the OCSP responder, application/ocsp-request (public, RFC 6960).
    Ocsp,
    /// `GET /v1/ca/ocsp/{request}`: the OCSP responder, the request base64 in the path (public,
    /// RFC 5019).
    OcspGet,
    /// `POST /v1/contracts`: a contract draft and a presigned upload URL for its PDF, or from a
    /// template (`template_id`) with the template's document or an upload of the same layout.
    CreateContract,
    /// `GET /v1/contracts`: the contracts the enterprise initiated or is a party to, newest
    /// first, optionally of one status.
    ListContracts,
    /// `POST /v1/templates`: save a contract's document and placements by party role.
    CreateTemplate,
    /// `GET /v1/templates`: the enterprise's contract templates.
    ListTemplates,
    /// `GET /v1/templates/{id}`: one template, with a short-lived link to its document.
    GetTemplate,
    /// `DELETE /v1/templates/{id}`: delete a template (its creator or an administrator).
    DeleteTemplate,
    /// `GET /v1/contracts/{id}`: status, parties, placements, signatures and the audit trail.
    GetContract,
    /// `PUT /v1/contracts/{id}/parties`: the enterprises that sign, in order or in parallel.
    SetParties,
    /// `PUT /v1/contracts/{id}/placements`: where each party's seal and signing date go.
    SetPlacements,
    /// `POST /v1/contracts/{id}/open`: check the uploaded PDF and open the contract for signing.
    OpenContract,
    /// `POST /v1/contracts/{id}/otp`: send the signing member a one-time code.
    SendOtp,
    /// `POST /v1/contracts/{id}/sign`: apply the caller's party's signature.
    SignContract,
    /// `POST /v1/contracts/{id}/signing-sessions`: a single-use link to the embedded signing
    /// page for a member of a party (its administrators: an integrator's API key).
    CreateSigningSession,
    /// `POST /v1/signing-sessions/exchange`: a signing link's secret, once, for a short-lived
    /// bearer token scoped to that contract's signing (public).
    ExchangeSigningSession,
    /// `GET /v1/contracts/{id}/document`: presigned download of the latest revision.
    GetContractDocument,
    /// `GET /v1/contracts/{id}/evidence`: presigned download of the contract's evidence report
    /// (出证报告), a PDF signed by the platform's evidence seal.
    GetContractEvidence,
    /// `GET /v1/contracts/{id}/audit`: a page of the contract's trail, or of its access trail.
    ListContractAudit,
    /// `POST /v1/contracts/{id}/archive-timestamps`: a new archive (document) time stamp on a
    /// completed contract (its parties, at most hourly, and operators; the scheduled
    /// `renew-archive-timestamps` renews those due).
    RenewArchiveTimestamp,
    /// `POST /v1/operator/audit-anchors`: time-stamp the audit trail heads that moved (operators;
    /// the `anchor-audit` function does it on a schedule).
    AnchorAuditTrails,
    /// `POST /v1/verify`: verification report of a signed PDF (public for a PDF body).
    Verify,
    /// `POST /v1/verify/uploads`: a presigned upload of a PDF too large for the request body.
    CreateVerifyUpload,
    /// `GET /v1/usage`: metered usage of a month.
    GetUsage,
    /// `GET /v1/dev/outbox`: notices the notifier would have sent (development mode only).
    DevOutbox,
    /// `POST /v1/webhooks`: register an endpoint; the answer carries its signing secret, once.
    CreateWebhook,
    /// `GET /v1/webhooks`: the enterprise's endpoints.
    ListWebhooks,
    /// `DELETE /v1/webhooks/{id}`: remove an endpoint.
    DeleteWebhook,
    /// `POST /v1/webhooks/{id}/rotate`: a new secret; the old one signs too for a grace period.
    RotateWebhookSecret,
    /// `GET /v1/webhooks/{id}/deliveries`: deliveries with their attempts and outcomes.
    ListWebhookDeliveries,
    /// `POST /v1/webhooks/{id}/deliveries/{delivery_id}/redeliver`: attempt a finished delivery again.
    RedeliverWebhook,
    /// `POST /v1/sessions/code`: send a sign-in code to a mobile number or email address, if an
    /// account has it; the answer is the same either way (public).
    StartSignIn,
    /// `POST /v1/sessions`: sign in with that code; the answer sets the session cookie (public).
    CreateSession,
    /// `GET /v1/session`: the signed-in principal and the session's CSRF token (session cookie).
    GetSession,
    /// `DELETE /v1/session`: sign out; the answer clears the cookie (session cookie).
    DeleteSession,
    /// `POST /v1/checks/registration`: what `POST /v1/enterprises` would refuse of a half-filled
    /// form (public).
    CheckRegistration,
    /// `POST /v1/checks/verification`: what `POST /v1/enterprises/{id}/verification` would refuse
    /// of a half-filled form (public).
    CheckVerification,
    /// `POST /v1/checks/seal-image`: the seal image rules on a PNG (public).
    CheckSealImage,
}

/// A route: an operation at a method and path template (`{name}` segments are parameters).
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub operation: Operation,
    pub method: &'static str,
    pub path: &'static str,
    /// The Lambda function (binary) that serves it.
    pub function: &'static str,
}

const fn route(operation: Operation, method: &'static str, path: &'static str, function: &'static str) -> Route {
    Route { operation, method, path, function }
}

/// Every route of the API.
pub const ROUTES: &[Route] = &[
    route(Operation::RegisterEnterprise, "POST", "/v1/enterprises", "register-enterprise"),
    // Before `/v1/enterprises/{id}`: the literal segment wins (as in API Gateway).
    route(Operation::LookupEnterprise, "GET", "/v1/enterprises/lookup", "lookup-enterprise"),
    route(Operation::GetEnterprise, "GET", "/v1/enterprises/{id}", "get-enterprise"),
    route(Operation::CreateLetterUpload, "POST", "/v1/enterprises/{id}/verification/letter", "create-letter-upload"),
    route(Operation::SubmitVerification, "POST", "/v1/enterprises/{id}/verification", "submit-verification"),
    route(Operation::ListEnterpriseAudit, "GET", "/v1/enterprises/{id}/audit", "list-enterprise-audit"),
    route(Operation::CreateMember, "POST", "/v1/members", "create-member"),
    route(Operation::ListMembers, "GET", "/v1/members", "list-members"),
    route(Operation::DeleteMember, "DELETE", "/v1/members/{member_id}", "delete-member"),
    route(Operation::RotateMemberKey, "POST", "/v1/members/{member_id}/key", "rotate-member-key"),
    route(Operation::SendContactCode, "POST", "/v1/members/{member_id}/contacts/confirm", "send-contact-code"),
    route(Operation::VerifyContact, "POST", "/v1/members/{member_id}/contacts/verify", "verify-contact"),
    route(Operation::ListVerifications, "GET", "/v1/operator/verifications", "list-verifications"),
    route(Operation::GetVerification, "GET", "/v1/operator/verifications/{id}", "get-verification"),
    route(Operation::DecideVerification, "POST", "/v1/operator/verifications/{id}/decision", "decide-verification"),
    route(Operation::CreateSeal, "POST", "/v1/seals", "create-seal"),
    route(Operation::ListSeals, "GET", "/v1/seals", "list-seals"),
    route(Operation::GetSeal, "GET", "/v1/seals/{id}", "get-seal"),
    route(Operation::ReplaceSealImage, "POST", "/v1/seals/{id}/image", "replace-seal-image"),
    route(Operation::SubmitSeal, "POST", "/v1/seals/{id}/submit", "submit-seal"),
    route(Operation::SuspendSeal, "POST", "/v1/seals/{id}/suspend", "suspend-seal"),
    route(Operation::ResumeSeal, "POST", "/v1/seals/{id}/resume", "resume-seal"),
    route(Operation::RevokeSeal, "POST", "/v1/seals/{id}/revoke", "revoke-seal"),
    route(Operation::ListSealAudit, "GET", "/v1/seals/{id}/audit", "list-seal-audit"),
    route(Operation::PutGrant, "PUT", "/v1/seals/{id}/grants/{member_id}", "put-grant"),
    route(Operation::DeleteGrant, "DELETE", "/v1/seals/{id}/grants/{member_id}", "delete-grant"),
    route(Operation::ListGrants, "GET", "/v1/seals/{id}/grants", "list-grants"),
    route(Operation::ListSealReviews, "GET", "/v1/operator/seals", "list-seal-reviews"),
    route(Operation::DecideSeal, "POST", "/v1/operator/seals/{id}/decision", "decide-seal"),
    route(Operation::GetCaCertificates, "GET", "/v1/ca/certificates", "get-ca-certificates"),
    route(Operation::Timestamp, "POST", "/v1/tsa", "timestamp"),
    route(Operation::GetCrl, "GET", "/v1/ca/crl", "get-crl"),
    route(Operation::GetRootCrl, "GET", "/v1/ca/root.crl", "get-root-crl"),
    route(Operation::GetIssuingCertificate, "GET", "/v1/ca/issuing.crt", "get-issuing-certificate"),
    route(Operation::Ocsp, "POST", "/v1/ca/ocsp", "ocsp"),
    route(Operation::OcspGet, "GET", "/v1/ca/ocsp/{request}", "ocsp-get"),
    route(Operation::CreateContract, "POST", "/v1/contracts", "create-contract"),
    route(Operation::ListContracts, "GET", "/v1/contracts", "list-contracts"),
    route(Operation::GetContract, "GET", "/v1/contracts/{id}", "get-contract"),
    route(Operation::CreateTemplate, "POST", "/v1/templates", "create-template"),
    route(Operation::ListTemplates, "GET", "/v1/templates", "list-templates"),
    route(Operation::GetTemplate, "GET", "/v1/templates/{id}", "get-template"),
    route(Operation::DeleteTemplate, "DELETE", "/v1/templates/{id}", "delete-template"),
    route(Operation::SetParties, "PUT", "/v1/contracts/{id}/parties", "set-parties"),
    route(Operation::SetPlacements, "PUT", "/v1/contracts/{id}/placements", "set-placements"),
    route(Operation::OpenContract, "POST", "/v1/contracts/{id}/open", "open-contract"),
    route(Operation::SendOtp, "POST", "/v1/contracts/{id}/otp", "send-otp"),
    route(Operation::SignContract, "POST", "/v1/contracts/{id}/sign", "sign-contract"),
    route(Operation::GetContractDocument, "GET", "/v1/contracts/{id}/document", "get-contract-document"),
    route(Operation::GetContractEvidence, "GET", "/v1/contracts/{id}/evidence", "get-contract-evidence"),
    route(Operation::CreateSigningSession, "POST", "/v1/contracts/{id}/signing-sessions", "create-signing-session"),
    route(Operation::ExchangeSigningSession, "POST", "/v1/signing-sessions/exchange", "exchange-signing-session"),
    route(Operation::ListContractAudit, "GET", "/v1/contracts/{id}/audit", "list-contract-audit"),
    route(Operation::RenewArchiveTimestamp, "POST", "/v1/contracts/{id}/archive-timestamps", "renew-archive-timestamp"),
    route(Operation::AnchorAuditTrails, "POST", "/v1/operator/audit-anchors", "anchor-audit-trails"),
    route(Operation::Verify, "POST", "/v1/verify", "verify"),
    route(Operation::CreateVerifyUpload, "POST", "/v1/verify/uploads", "create-verify-upload"),
    route(Operation::GetUsage, "GET", "/v1/usage", "get-usage"),
    route(Operation::DevOutbox, "GET", "/v1/dev/outbox", "dev-outbox"),
    route(Operation::CreateWebhook, "POST", "/v1/webhooks", "create-webhook"),
    route(Operation::ListWebhooks, "GET", "/v1/webhooks", "list-webhooks"),
    route(Operation::DeleteWebhook, "DELETE", "/v1/webhooks/{id}", "delete-webhook"),
    route(Operation::RotateWebhookSecret, "POST", "/v1/webhooks/{id}/rotate", "rotate-webhook-secret"),
    route(Operation::ListWebhookDeliveries, "GET", "/v1/webhooks/{id}/deliveries", "list-webhook-deliveries"),
    route(
        Operation::RedeliverWebhook,
        "POST",
        "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        "redeliver-webhook",
    ),
    route(Operation::StartSignIn, "POST", "/v1/sessions/code", "start-sign-in"),
    route(Operation::CreateSession, "POST", "/v1/sessions", "create-session"),
    route(Operation::GetSession, "GET", "/v1/session", "get-session"),
    route(Operation::DeleteSession, "DELETE", "/v1/session", "delete-session"),
    route(Operation::CheckRegistration, "POST", "/v1/checks/registration", "check-registration"),
    route(Operation::CheckVerification, "POST", "/v1/checks/verification", "check-verification"),
    route(Operation::CheckSealImage, "POST", "/v1/checks/seal-image", "check-seal-image"),
];

impl Operation {
    /// Whether the operation serves callers without an API key.
    pub fn is_public(self) -> bool {
        matches!(
            self,
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
                | Operation::ExchangeSigningSession
        )
    }

    /// Whether the operation reads the session cookie itself (the session routes) rather than
    /// taking a principal from an API key or a session.
    pub fn is_session_route(self) -> bool {
        matches!(self, Operation::GetSession | Operation::DeleteSession)
    }

    /// Whether a session may call it, and so refresh the session's last use (a write on the
    /// session's record): every operation that authenticates (`POST /v1/verify` does for a
    /// stored document), and `GET /v1/session`.
    pub fn refreshes_sessions(self) -> bool {
        (!self.is_public() || self == Operation::Verify) && self != Operation::DeleteSession
    }

    /// Whether a request may carry `Idempotency-Key` to be answered once: every write but the
    /// TSA (whose requests carry their own nonce), the form checks (which change nothing and
    /// simply run again) and sign-out.
    pub fn takes_idempotency_key(self) -> bool {
        self.route().method != "GET"
            && !self.is_session_route()
            && !matches!(
                self,
                Operation::Timestamp
                    // OCSP requests carry their own nonce, and answers are fresh each time.
                    | Operation::Ocsp
                    // Single-use: a replayed answer would hand the bearer out twice.
                    | Operation::ExchangeSigningSession
                    | Operation::CheckRegistration
                    | Operation::CheckVerification
                    | Operation::CheckSealImage
            )
    }

    /// Whether the operation's function knows the operators' sign-in identities
    /// (`ESIGN_OPERATORS`): the sign-in functions, `GET /v1/session`, and those operators call,
    /// which check on every request that a session's operator is still configured (an operator
    /// removed from the list is signed out at once).
    pub fn knows_operator_identities(self) -> bool {
        matches!(self, Operation::StartSignIn | Operation::CreateSession | Operation::GetSession)
            || self.serves_operators()
    }

    /// Whether platform operators call this operation (with their operator keys): only these
    /// operations' functions are configured with the operators' key hashes.
    pub fn serves_operators(self) -> bool {
        matches!(
            self,
            Operation::GetEnterprise
                | Operation::ListEnterpriseAudit
                | Operation::ListVerifications
                | Operation::GetVerification
                | Operation::DecideVerification
                | Operation::ListSealReviews
                | Operation::DecideSeal
                | Operation::AnchorAuditTrails
                | Operation::RenewArchiveTimestamp
        )
    }

    /// The route of this operation.
    pub fn route(self) -> &'static Route {
        ROUTES.iter().find(|r| r.operation == self).expect("every operation has a route")
    }
}

/// Path parameters by name.
pub type Params = Vec<(&'static str, String)>;

/// Why no route matched.
#[derive(Debug, PartialEq, Eq)]
pub enum NoRoute {
    NotFound,
    /// The path exists with other methods.
    MethodNotAllowed(Vec<&'static str>),
}

/// Matches a path against one template; parameters must be non-empty single segments.
pub fn match_path(template: &'static str, path: &str) -> Option<Params> {
    let mut params = Vec::new();
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(params),
            (Some(ts), Some(ps)) => {
                if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    if ps.is_empty() {
                        return None;
                    }
                    params.push((name, ps.to_owned()));
                } else if ts != ps {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// The route for a request.
pub fn resolve(method: &Method, path: &str) -> Result<(&'static Route, Params), NoRoute> {
    let mut allowed = Vec::new();
    for r in ROUTES {
        if let Some(params) = match_path(r.path, path) {
            if r.method == method.as_str() {
                return Ok((r, params));
            }
            allowed.push(r.method);
        }
    }
    if allowed.is_empty() { Err(NoRoute::NotFound) } else { Err(NoRoute::MethodNotAllowed(allowed)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_routes_and_parameters() {
        let (r, p) = resolve(&Method::POST, "/v1/enterprises/ent_1/verification").unwrap();
        assert_eq!(r.operation, Operation::SubmitVerification);
        assert_eq!(p, vec![("id", "ent_1".to_owned())]);
        assert_eq!(resolve(&Method::GET, "/v1/nothing").unwrap_err(), NoRoute::NotFound);
        assert_eq!(resolve(&Method::GET, "/v1/enterprises//verification").unwrap_err(), NoRoute::NotFound);
        assert_eq!(resolve(&Method::PUT, "/v1/members").unwrap_err(), NoRoute::MethodNotAllowed(vec!["POST", "GET"]));
        let (r, p) = resolve(&Method::GET, "/v1/enterprises/lookup").unwrap();
        assert_eq!((r.operation, p), (Operation::LookupEnterprise, vec![]));
        let (r, _) = resolve(&Method::POST, "/v1/checks/seal-image").unwrap();
        assert_eq!(r.operation, Operation::CheckSealImage);
    }

    #[test]
    fn form_checks_are_public_and_never_stored() {
        for op in [Operation::CheckRegistration, Operation::CheckVerification, Operation::CheckSealImage] {
            assert!(op.is_public() && !op.serves_operators() && !op.takes_idempotency_key(), "{op:?}");
        }
        assert!(Operation::RegisterEnterprise.takes_idempotency_key());
        assert!(!Operation::Timestamp.takes_idempotency_key() && !Operation::GetSeal.takes_idempotency_key());
    }

    #[test]
    fn every_route_is_unique_and_named_after_its_function() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert_eq!(a.operation.route().function, a.function);
            for b in &ROUTES[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "{} {} twice", a.method, a.path);
                assert_ne!(a.function, b.function);
            }
        }
    }
}
