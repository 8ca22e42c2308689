//! Lambda function `anchor-audit`: on a schedule, has the platform TSA time-stamp the audit
//! trail heads that moved. See `esign_core::Platform::anchor_audit_trails`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    esign_api::lambda::run_audit_anchorer().await
}
