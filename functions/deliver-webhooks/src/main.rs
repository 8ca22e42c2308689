//! Lambda function `deliver-webhooks`: triggered by the webhook queue (SQS) and by a schedule
//! that sweeps the outbox. See `esign_api::lambda::deliver_webhooks` for what it does.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    esign_api::lambda::run_webhook_deliverer().await
}
