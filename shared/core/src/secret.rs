//! Secrets in values that are otherwise fine to log: an API key or a webhook's signing secret
//! shown once, a signing session's bearer, a one-time code as a client sends it.

use serde::{Deserialize, Serialize};

/// A secret string: on the wire it is the plain string (`serde(transparent)`), in `Debug` output
/// (logs, panics, test failures) never more than `Secret(..)`. Read it with [`Secret::expose`]
/// (or as a `&str` through `Deref`) where it is used.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl std::ops::Deref for Secret {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_plain_on_the_wire_and_hidden_in_debug_output() {
        let s = Secret::new("esk_abc");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"esk_abc\"");
        assert_eq!(serde_json::from_str::<Secret>("\"esk_abc\"").unwrap(), s);
        assert_eq!(format!("{s:?}"), "Secret(..)");
        assert_eq!((s.expose(), &*s), ("esk_abc", "esk_abc"));
    }
}
