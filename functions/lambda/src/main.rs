//! `esign-lambda`: the binary every Lambda function of the stack runs. Each function names what
//! it is in its `Handler` setting (`infra/template.yaml`: a route's function name such as
//! `sign-contract`, or `deliver-webhooks`, `anchor-audit`), which the `provided.al2023` runtime
//! passes as `_HANDLER`; each function keeps its own role and policies. See
//! `esign_api::lambda::Function` for the table of names.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let handler = std::env::var("_HANDLER").unwrap_or_default();
    match esign_api::lambda::run_handler(&handler).await {
        Ok(()) => ExitCode::SUCCESS,
        // Shown in the function's log (an init error for an unknown handler): the message, not Debug.
        Err(e) => {
            eprintln!("esign-lambda: {e}");
            ExitCode::FAILURE
        }
    }
}
