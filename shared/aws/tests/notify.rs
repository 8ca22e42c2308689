//! The production notifier against the emulator's SNS and SES: a text message to a mainland
//! number goes out; an email from an unverified sender is refused, from a verified one sent.

mod common;

use esign_aws::notify::AwsNotifier;
use esign_core::ports::{Channel, Notice, Notifier, NotifyError};

fn notice(channel: Channel, to: &str) -> Notice {
    Notice { channel, recipient: to.into(), subject: "签署验证码".into(), body: "验证码 123456".into() }
}

#[tokio::test]
async fn codes_go_out_by_sms_and_by_email_from_a_verified_sender() {
    let sdk = common::emulator_sdk().await;
    let sender = format!("codes-{}@example.com", std::process::id());
    let notifier = AwsNotifier::new(&sdk, Some(sender.clone()));
    notifier.send(&notice(Channel::Sms, "+8613800138000")).await.expect("SMS published");

    let refused = notifier.send(&notice(Channel::Email, "zhang@example.com")).await;
    assert!(matches!(refused, Err(NotifyError::Refused(_))), "{refused:?}");
    aws_sdk_ses::Client::new(&sdk).verify_email_identity().email_address(&sender).send().await.expect("identity");
    notifier.send(&notice(Channel::Email, "zhang@example.com")).await.expect("email sent");

    let unconfigured = AwsNotifier::new(&sdk, None).send(&notice(Channel::Email, "zhang@example.com")).await;
    assert!(matches!(unconfigured, Err(NotifyError::Unavailable(_))));
}
