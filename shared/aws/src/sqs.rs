//! The webhook queue on SQS: delayed sends (DelaySeconds, at most 900 s) for the domain, and the
//! receive/delete loop the local server runs in place of Lambda's SQS event source.

use std::time::Duration;

use async_trait::async_trait;
use esign_core::ports::{Queue, QueueError};

/// SQS's longest per-message delay.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

/// A queue by URL (`!Ref WebhookQueue`).
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

/// A received message: its receipt handle (to delete it) and body.
#[derive(Debug, Clone)]
pub struct Received {
    pub receipt: String,
    pub body: String,
}

fn err<E: std::fmt::Debug>(what: &'static str) -> impl Fn(E) -> QueueError {
    move |e| QueueError::Unavailable(format!("{what}: {e:?}"))
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: &str) -> Self {
        SqsQueue { client, url: url.to_owned() }
    }

    /// Up to `max` messages (1-10) that are visible now, without waiting for more.
    pub async fn receive(&self, max: i32) -> Result<Vec<Received>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, 10))
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(err("ReceiveMessage"))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                Some(Received {
                    receipt: m.receipt_handle()?.to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                })
            })
            .collect())
    }

    /// Deletes a handled message.
    pub async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(err("DeleteMessage"))?;
        Ok(())
    }
}

/// DelaySeconds for a wait: whole seconds, rounded up, at most 900.
pub fn delay_seconds(delay: Duration) -> i32 {
    let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    secs.min(MAX_DELAY.as_secs()) as i32
}

#[async_trait]
impl Queue for SqsQueue {
    fn max_delay(&self) -> Duration {
        MAX_DELAY
    }

    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay_seconds(delay))
            .send()
            .await
            .map_err(err("SendMessage"))?;
        Ok(())
    }
}

/// No queue configured: sends fail, so events wait in the outbox.
pub struct NoQueue;

#[async_trait]
impl Queue for NoQueue {
    async fn send(&self, _body: &str, _delay: Duration) -> Result<(), QueueError> {
        Err(QueueError::Unavailable("no webhook queue is configured (ESIGN_WEBHOOK_QUEUE)".into()))
    }
}

/// Receives and handles messages until the process ends: what Lambda's SQS event source does
/// for the `deliver-webhooks` function, for the local server. Polls without long-polling (the
/// local emulator serves one call at a time) and sweeps the outbox every few seconds.
pub async fn run_local_worker(platform: esign_core::Platform, queue: SqsQueue, idle: Duration) {
    let mut last_sweep = std::time::Instant::now();
    loop {
        let messages = match queue.receive(10).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "webhook queue receive failed");
                Vec::new()
            }
        };
        let busy = !messages.is_empty();
        for m in messages {
            match platform.handle_webhook_message(&m.body).await {
                Ok(()) => {
                    if let Err(e) = queue.delete(&m.receipt).await {
                        tracing::warn!(error = %e, "could not delete a handled webhook message");
                    }
                }
                // Left on the queue: received again after its visibility timeout.
                Err(e) => tracing::warn!(error = %e, "webhook message failed; it will be retried"),
            }
        }
        if last_sweep.elapsed() >= Duration::from_secs(5) {
            last_sweep = std::time::Instant::now();
            if let Err(e) = platform.sweep_webhook_outbox().await {
                tracing::warn!(error = %e, "webhook outbox sweep failed");
            }
        }
        if !busy {
            tokio::time::sleep(idle).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_up_to_whole_seconds_and_cap_at_fifteen_minutes() {
        assert_eq!(delay_seconds(Duration::ZERO), 0);
        assert_eq!(delay_seconds(Duration::from_millis(1)), 1);
        assert_eq!(delay_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(delay_seconds(Duration::from_secs(3600)), 900);
    }
}
