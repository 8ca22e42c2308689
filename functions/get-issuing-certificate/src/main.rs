//! Lambda function `get-issuing-certificate`: parses the request, calls the platform, answers. See
//! `esign_api::Operation::GetIssuingCertificate` for what it does.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    esign_api::lambda::run(esign_api::Operation::GetIssuingCertificate).await
}
