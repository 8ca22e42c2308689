//! Webhook secrets sealed with the emulator's KMS: they open under their own context only, and a
//! flipped byte is refused. (moto uses disabled keys, so that case is not tested here.)

mod common;

use esign_aws::secrets::KmsSecretBox;
use esign_core::ports::{SecretBox, SecretError};

#[tokio::test]
async fn secrets_open_only_under_their_own_context() {
    let sdk = common::emulator_sdk().await;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key = kms.create_key().description("secrets test").send().await.unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_owned();
    let secrets = KmsSecretBox::new(kms.clone(), &key_id);

    let secret = b"whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==";
    let sealed = secrets.seal(secret, "webhook-secret:wh_1").await.unwrap();
    assert!(!sealed.windows(secret.len()).any(|w| w == secret), "the plaintext is not in the ciphertext");
    assert_eq!(secrets.open(&sealed, "webhook-secret:wh_1").await.unwrap(), secret);

    let moved = secrets.open(&sealed, "webhook-secret:wh_2").await;
    assert!(matches!(moved, Err(SecretError::Corrupt(_))), "{moved:?}");
    let mut flipped = sealed.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(secrets.open(&flipped, "webhook-secret:wh_1").await.is_err());
}
