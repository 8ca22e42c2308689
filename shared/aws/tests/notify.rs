//! The production notifier against the emulator's SNS and SES: a text message to a mainland
//! number goes out; an email from an unverified sender is refused, from a verified one sent.

use std::path::Path;
use std::process::Command;

use esign_aws::notify::AwsNotifier;
use esign_core::ports::{Channel, Notice, Notifier, NotifyError};

async fn sdk() -> aws_config::SdkConfig {
    let script = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()))
        .join("../../scripts/emulator.sh");
    let out = Command::new(&script).output().expect("scripts/emulator.sh runs");
    assert!(out.status.success(), "emulator.sh: {}", String::from_utf8_lossy(&out.stderr));
    esign_aws::emulator_sdk_config(String::from_utf8(out.stdout).unwrap().trim()).await
}

fn notice(channel: Channel, to: &str) -> Notice {
    Notice { channel, recipient: to.into(), subject: "签署验证码".into(), body: "验证码 123456".into() }
}

#[tokio::test]
async fn codes_go_out_by_sms_and_by_email_from_a_verified_sender() {
    let sdk = sdk().await;
    let sender = format!("codes-{}@example.com", std::process::id());
    let notifier = AwsNotifier::new(&sdk, Some(sender.clone()));
    notifier.send(&notice(Channel::Sms, "+8613800138000")).await.expect("SMS published");

    let refused = notifier.send(&notice(Channel::Email, "zhang@example.com")).await;
    assert!(matches!(refused, Err(NotifyError::Refused(_))), "{refused:?}");
    aws_sdk_sesv2::Client::new(&sdk).create_email_identity().email_identity(&sender).send().await.expect("identity");
    notifier.send(&notice(Channel::Email, "zhang@example.com")).await.expect("email sent");

    let unconfigured = AwsNotifier::new(&sdk, None).send(&notice(Channel::Email, "zhang@example.com")).await;
    assert!(matches!(unconfigured, Err(NotifyError::Unavailable(_))));
}
