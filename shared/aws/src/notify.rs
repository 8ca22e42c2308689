//! The [`Notifier`] of production: text messages through SNS (`Publish` to a phone number, as
//! transactional SMS) and emails through SES (v2 `SendEmail` from a verified sender identity).

use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sns::types::MessageAttributeValue;
use esign_core::ports::{Channel, Notice, Notifier, NotifyError};

/// SNS for SMS, SES for email.
#[derive(Debug, Clone)]
pub struct AwsNotifier {
    sns: aws_sdk_sns::Client,
    ses: aws_sdk_sesv2::Client,
    /// The verified SES identity emails come from.
    sender: Option<String>,
}

impl AwsNotifier {
    pub fn new(sdk: &aws_config::SdkConfig, sender: Option<String>) -> Self {
        AwsNotifier { sns: crate::calls::sns_client(sdk), ses: crate::calls::sesv2_client(sdk), sender }
    }

    async fn sms(&self, n: &Notice) -> Result<(), NotifyError> {
        let transactional = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| NotifyError::Refused(e.to_string()))?;
        self.sns
            .publish()
            .phone_number(&n.recipient)
            .message(&n.body)
            .message_attributes("AWS.SNS.SMS.SMSType", transactional)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| match e.as_service_error() {
                Some(s) if s.is_invalid_parameter_exception() => NotifyError::Refused(format!("SNS: {s}")),
                _ => NotifyError::Unavailable(format!("SNS Publish: {e:?}")),
            })
    }

    async fn email(&self, n: &Notice) -> Result<(), NotifyError> {
        let Some(sender) = &self.sender else {
            return Err(NotifyError::Unavailable("no email sender is configured (ESIGN_EMAIL_SENDER)".into()));
        };
        let text = |s: &str| Content::builder().data(s).charset("UTF-8").build();
        let subject = text(&n.subject).map_err(|e| NotifyError::Refused(e.to_string()))?;
        let body = text(&n.body).map_err(|e| NotifyError::Refused(e.to_string()))?;
        let content = EmailContent::builder()
            .simple(Message::builder().subject(subject).body(Body::builder().text(body).build()).build())
            .build();
        self.ses
            .send_email()
            .from_email_address(sender)
            .destination(Destination::builder().to_addresses(&n.recipient).build())
            .content(content)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| match e.as_service_error() {
                Some(s) if s.is_message_rejected() || s.is_bad_request_exception() => {
                    NotifyError::Refused(format!("SES: {s}"))
                }
                _ => NotifyError::Unavailable(format!("SES SendEmail: {e:?}")),
            })
    }
}

#[async_trait::async_trait]
impl Notifier for AwsNotifier {
    async fn send(&self, notice: &Notice) -> Result<(), NotifyError> {
        match notice.channel {
            Channel::Sms => self.sms(notice).await,
            Channel::Email => self.email(notice).await,
        }
    }
}
