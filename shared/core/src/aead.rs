//! AES-256-GCM with a fresh random 96-bit nonce per message, sealed as `nonce ‖ ciphertext`;
//! the associated data binds a sealed message to its purpose or owner.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use rand::Rng as _;

const NONCE_LEN: usize = 12;

/// `nonce ‖ ciphertext` of `plaintext` under `key`, bound to `aad`.
pub(crate) fn seal(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, aes_gcm::Error> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill(&mut nonce);
    let ciphertext = Aes256Gcm::new(key.into()).encrypt(&nonce.into(), Payload { msg: plaintext, aad })?;
    Ok([nonce.as_slice(), &ciphertext].concat())
}

/// The plaintext of what [`seal`] made under `key` and `aad`; `None` for anything else.
pub(crate) fn open(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    let (nonce, ciphertext) = sealed.split_at_checked(NONCE_LEN)?;
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    Aes256Gcm::new(key.into()).decrypt(&nonce.into(), Payload { msg: ciphertext, aad }).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn opens_only_with_its_key_and_associated_data() {
        let (key, other) = ([7u8; 32], [8u8; 32]);
        let sealed = super::seal(&key, b"secret", b"owner-1").unwrap();
        assert_eq!(super::open(&key, &sealed, b"owner-1").as_deref(), Some(&b"secret"[..]));
        assert_eq!(super::open(&key, &sealed, b"owner-2"), None);
        assert_eq!(super::open(&other, &sealed, b"owner-1"), None);
        assert_eq!(super::open(&key, &sealed[..5], b"owner-1"), None);
        assert_ne!(super::seal(&key, b"secret", b"owner-1").unwrap(), sealed, "a fresh nonce each time");
    }
}
