//! Lambda function `create-contract`: parses the request, calls the platform, answers. See
//! `esign_api::Operation::CreateContract` for what it does.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    esign_api::lambda::run(esign_api::Operation::CreateContract).await
}
