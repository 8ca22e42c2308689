//! The [`Notifier`] of production: text messages through SNS (`Publish` to a phone number, as
//! transactional SMS) and emails through SES (`SendEmail` of the SES API, v1, from a verified
//! sender identity).
//!
//! SES v1 rather than v2: for one plain-text message from a verified identity the two `SendEmail`
//! operations are the same service, action (`ses:SendEmail`), resource (the identity) and sandbox
//! rules, and AWS supports both; v1 is also what LocalStack's free edition emulates (its SES v2
//! answers 501), so the sender is tested against both emulators.

use aws_sdk_ses::error::ProvideErrorMetadata as _;
use aws_sdk_ses::types::{Body, Content, Destination, Message};
use aws_sdk_sns::types::MessageAttributeValue;
use esign_core::ports::{Channel, Notice, Notifier, NotifyError};

/// SNS for SMS, SES for email.
#[derive(Debug, Clone)]
pub struct AwsNotifier {
    sns: aws_sdk_sns::Client,
    ses: aws_sdk_ses::Client,
    /// The verified SES identity emails come from.
    sender: Option<String>,
}

impl AwsNotifier {
    pub fn new(sdk: &aws_types::SdkConfig, sender: Option<String>) -> Self {
        AwsNotifier { sns: crate::calls::sns_client(sdk), ses: crate::calls::ses_client(sdk), sender }
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
        let message = Message::builder().subject(subject).body(Body::builder().text(body).build()).build();
        self.ses
            .send_email()
            .source(sender)
            .destination(Destination::builder().to_addresses(&n.recipient).build())
            .message(message)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| match e.as_service_error() {
                // InvalidParameterValue (e.g. a malformed address) is not modelled in SES v1.
                Some(s)
                    if s.is_message_rejected()
                        || s.is_mail_from_domain_not_verified_exception()
                        || s.code() == Some("InvalidParameterValue") =>
                {
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
