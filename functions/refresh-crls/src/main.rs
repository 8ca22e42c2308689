//! Lambda function `refresh-crls`: on a schedule, reissues the CRLs of the issuing CA and the
//! root well before their nextUpdate. See `esign_core::Platform::refresh_crls`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    esign_api::lambda::run_crl_refresher().await
}
