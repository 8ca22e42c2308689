//! API keys and who is calling.
//!
//! A key is 32 random bytes, shown once as `esk_<base64url>`; only its SHA-256 is stored. A
//! slow password hash is not needed: the key has 256 bits of entropy, so its hash cannot be
//! reversed by guessing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const KEY_PREFIX: &str = "esk_";

/// A freshly made API key: the secret (to show once) and its hash (to store).
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub secret: crate::Secret,
    pub hash: String,
}

impl NewApiKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let hash = hash_key(&secret);
        NewApiKey { secret: secret.into(), hash }
    }
}

/// The stored form of a key: lowercase hex SHA-256 of the whole secret.
pub fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A member's role within its enterprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Member,
}

/// Who is calling, as established from the bearer key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Member {
        enterprise_id: String,
        member_id: String,
        role: Role,
    },
    /// A platform operator; the id is derived from the key's hash, never the key.
    Operator {
        id: String,
    },
}

impl Principal {
    /// The id recorded as actor in audit events.
    pub fn actor(&self) -> crate::audit::Actor {
        match self {
            Principal::Member { member_id, .. } => crate::audit::Actor::member(member_id),
            Principal::Operator { id } => crate::audit::Actor::operator(id),
        }
    }
}

/// Operator keys, kept only as hashes once configured.
#[derive(Debug, Clone, Default)]
pub struct OperatorKeys {
    hashes: Vec<String>,
}

impl OperatorKeys {
    /// From the comma-separated list of clear keys (`ESIGN_OPERATOR_KEYS`, local server only),
    /// hashed at once; blanks are ignored.
    /// Keys shorter than 24 characters are refused: an operator key guards every review.
    pub fn from_list(list: &str) -> Result<Self, String> {
        let mut hashes = Vec::new();
        for k in list.split(',').map(str::trim).filter(|k| !k.is_empty()) {
            if k.len() < 24 {
                return Err("every operator key must be at least 24 characters long".into());
            }
            hashes.push(hash_key(k));
        }
        Ok(OperatorKeys { hashes })
    }

    /// From the comma-separated list of the keys' SHA-256 hashes (`ESIGN_OPERATOR_KEY_HASHES`,
    /// hex, as [`hash_key`] makes them: `printf %s "$KEY" | sha256sum`); blanks are ignored.
    /// This is what deployed functions are configured with, so no clear key sits in their
    /// environment. Uppercase hex is accepted; anything that is not 64 hex digits is refused.
    pub fn from_hashes(list: &str) -> Result<Self, String> {
        let mut hashes = Vec::new();
        for h in list.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err("every operator key hash must be 64 hex digits (the key's SHA-256)".into());
            }
            hashes.push(h.to_ascii_lowercase());
        }
        Ok(OperatorKeys { hashes })
    }

    /// Both sets of operators together (e.g. configured hashes and keys hashed at start-up).
    pub fn merged(mut self, other: OperatorKeys) -> Self {
        for h in other.hashes {
            if !self.hashes.contains(&h) {
                self.hashes.push(h);
            }
        }
        self
    }

    /// The operator id for this key hash, if it is an operator key.
    pub fn operator_for(&self, hash: &str) -> Option<String> {
        self.hashes.iter().find(|h| h.as_str() == hash).map(|h| format!("op_{}", &h[..12]))
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_stored_only_as_hash() {
        let a = NewApiKey::generate();
        let b = NewApiKey::generate();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with("esk_") && a.secret.len() == 4 + 43);
        assert_eq!(a.hash, hash_key(&a.secret));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.secret[4..]));
    }

    #[test]
    fn operator_keys_match_by_hash_only() {
        let ops = OperatorKeys::from_list(" op-key-aaaaaaaaaaaaaaaaaaaaaa , ,op-key-bbbbbbbbbbbbbbbbbbbbbb").unwrap();
        let id = ops.operator_for(&hash_key("op-key-aaaaaaaaaaaaaaaaaaaaaa")).unwrap();
        assert!(id.starts_with("op_"));
        assert!(ops.operator_for(&hash_key("op-key-cccccccccccccccccccccc")).is_none());
        assert!(OperatorKeys::from_list("short").is_err());
        assert!(OperatorKeys::from_list("").unwrap().is_empty());
    }

    #[test]
    fn operator_key_hashes_configure_the_same_operators_as_their_keys() {
        let key = "op-key-aaaaaaaaaaaaaaaaaaaaaa";
        let from_key = OperatorKeys::from_list(key).unwrap();
        let from_hash = OperatorKeys::from_hashes(&format!(" {} ,", hash_key(key).to_ascii_uppercase())).unwrap();
        assert_eq!(from_hash.operator_for(&hash_key(key)), from_key.operator_for(&hash_key(key)));
        assert!(from_hash.operator_for(&hash_key("op-key-cccccccccccccccccccccc")).is_none());
        // A clear key where a hash belongs is refused, not hashed twice.
        assert!(OperatorKeys::from_hashes(key).is_err());
        assert!(OperatorKeys::from_hashes(&"g".repeat(64)).is_err());
        assert!(OperatorKeys::from_hashes("").unwrap().is_empty());
        let both = from_hash.merged(OperatorKeys::from_list("op-key-bbbbbbbbbbbbbbbbbbbbbb").unwrap());
        assert!(both.operator_for(&hash_key(key)).is_some());
        assert!(both.operator_for(&hash_key("op-key-bbbbbbbbbbbbbbbbbbbbbb")).is_some());
    }
}
