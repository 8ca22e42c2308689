//! What a warm process keeps between requests, so that a request does not ask AWS again for
//! what cannot have changed: pinned files by their SHA-256 (content-addressed, so a hit is the
//! same bytes), the size of the time-stamp tokens the TSA answers (to size a signature without
//! a probe request), and the HTTP TSA client. Nothing here is ever a decision: every record that
//! can change is read fresh.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The pinned files kept, at most this many bytes in all (oldest dropped first).
const PINNED_BYTES: usize = 16 * 1024 * 1024;

#[derive(Default)]
pub(crate) struct Warm {
    /// (SHA-256 hex, bytes with that hash), oldest first.
    pinned: Mutex<VecDeque<(String, Arc<Vec<u8>>)>>,
    /// The largest time-stamp token the platform TSA answered so far (0: none yet).
    tsa_token_size: AtomicUsize,
    http_tsa: OnceLock<Arc<esign_pades::HttpTsa>>,
    /// The root's CRL (it changes only if the issuing CA is ever revoked), kept while current.
    root_crl: Mutex<Option<crate::revocation::CurrentCrl>>,
}

impl Warm {
    /// The bytes whose SHA-256 is `sha256`, if kept.
    pub fn pinned(&self, sha256: &str) -> Option<Arc<Vec<u8>>> {
        let kept = self.pinned.lock().ok()?;
        kept.iter().find(|(h, _)| h == sha256).map(|(_, b)| b.clone())
    }

    /// Keeps `bytes`, which the caller checked hash to `sha256`.
    pub fn keep_pinned(&self, sha256: &str, bytes: Arc<Vec<u8>>) {
        if bytes.len() > PINNED_BYTES {
            return;
        }
        let Ok(mut kept) = self.pinned.lock() else { return };
        if kept.iter().any(|(h, _)| h == sha256) {
            return;
        }
        let mut total: usize = kept.iter().map(|(_, b)| b.len()).sum::<usize>() + bytes.len();
        while total > PINNED_BYTES {
            match kept.pop_front() {
                Some((_, b)) => total -= b.len(),
                None => break,
            }
        }
        kept.push_back((sha256.to_owned(), bytes));
    }

    /// Drops every kept file, as a cold process starts.
    #[cfg(test)]
    pub fn forget_pinned(&self) {
        if let Ok(mut kept) = self.pinned.lock() {
            kept.clear();
        }
    }

    /// The largest platform time-stamp token seen, if any.
    pub fn tsa_token_size(&self) -> Option<usize> {
        match self.tsa_token_size.load(Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }

    pub fn saw_tsa_token(&self, len: usize) {
        self.tsa_token_size.fetch_max(len, Ordering::Relaxed);
    }

    /// The root's CRL if one is kept that stays current until at least `until`.
    pub fn root_crl(&self, until: time::OffsetDateTime) -> Option<crate::revocation::CurrentCrl> {
        let kept = self.root_crl.lock().ok()?;
        kept.as_ref().filter(|c| c.next_update > until).cloned()
    }

    pub fn keep_root_crl(&self, crl: crate::revocation::CurrentCrl) {
        if let Ok(mut kept) = self.root_crl.lock() {
            *kept = Some(crl);
        }
    }

    /// Drops the root's CRL (a revocation under the root publishes a new one).
    pub fn forget_root_crl(&self) {
        if let Ok(mut kept) = self.root_crl.lock() {
            *kept = None;
        }
    }

    /// One HTTP TSA client for `url` per process (it remembers its tokens' size).
    pub fn http_tsa(&self, url: &str) -> Arc<esign_pades::HttpTsa> {
        self.http_tsa.get_or_init(|| Arc::new(esign_pades::HttpTsa::new(url))).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_files_stay_within_their_budget_oldest_dropped_first() {
        let warm = Warm::default();
        let big = Arc::new(vec![0u8; PINNED_BYTES / 2]);
        warm.keep_pinned("a", big.clone());
        warm.keep_pinned("b", big.clone());
        assert!(warm.pinned("a").is_some() && warm.pinned("b").is_some());
        warm.keep_pinned("c", big);
        assert!(warm.pinned("a").is_none(), "the oldest goes");
        assert!(warm.pinned("b").is_some() && warm.pinned("c").is_some());
        warm.keep_pinned("huge", Arc::new(vec![0u8; PINNED_BYTES + 1]));
        assert!(warm.pinned("huge").is_none());
    }

    #[test]
    fn the_token_size_is_the_largest_seen() {
        let warm = Warm::default();
        assert_eq!(warm.tsa_token_size(), None);
        warm.saw_tsa_token(4000);
        warm.saw_tsa_token(3900);
        assert_eq!(warm.tsa_token_size(), Some(4000));
    }
}
