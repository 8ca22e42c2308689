//! The seals a member may sign with now, for the signing page: active seals of its (verified)
//! enterprise granted to it and not expired, each with a short-lived link to its approved image
//! (the page fetches the bytes and shows them as a `blob:` URL, since its CSP names no bucket).

use serde::Serialize;
use time::OffsetDateTime;

use crate::auth::Principal;
use crate::error::DomainError;
use crate::grants::{Grant, grant_key};
use crate::platform::{Platform, own_enterprise, require_verified};
use crate::ports::Partition;
use crate::seals::{Seal, SealData, SealStatus};

/// How long an image link lives.
pub const IMAGE_LINK_LIFETIME: std::time::Duration = std::time::Duration::from_secs(300);
/// Most seals of an enterprise looked through (pages of 100).
const MAX_SEALS_SCANNED: usize = 500;

/// A seal the caller may sign with, and where to fetch its approved image.
#[derive(Debug, Clone, Serialize)]
pub struct UsableSeal {
    #[serde(flatten)]
    pub seal: Seal,
    /// When the caller's grant ends (none: no end).
    #[serde(with = "time::serde::rfc3339::option")]
    pub grant_expires_at: Option<OffsetDateTime>,
    /// A GET link to the approved PNG, valid until `image_url_expires_at`.
    pub image_url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub image_url_expires_at: OffsetDateTime,
}

/// `GET /v1/seals?usable=true`.
#[derive(Debug, Clone, Serialize)]
pub struct UsableSeals {
    pub items: Vec<UsableSeal>,
}

impl Platform {
    /// The active seals granted to the calling member, unexpired, oldest first.
    pub async fn usable_seals(&self, principal: &Principal) -> Result<UsableSeals, DomainError> {
        let (enterprise_id, member_id, _) = own_enterprise(principal)?;
        require_verified(&self.load_enterprise(enterprise_id).await?.value)?;
        let now = self.clock.now();
        let lifetime = IMAGE_LINK_LIFETIME.min(self.config.presign_expiry);
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut scanned = 0;
        loop {
            let page = self
                .page::<SealData>(
                    Partition::Index(format!("SEALS#{enterprise_id}")),
                    "SEAL#",
                    Some(100),
                    cursor.as_deref(),
                )
                .await?;
            scanned += page.items.len();
            for data in page.items.into_iter().filter(|d| d.seal.status == SealStatus::Active) {
                let Some(image) = &data.approved_image else { continue };
                let Some(grant) = self.load::<Grant>(&grant_key(&data.seal.id, member_id)).await? else { continue };
                if grant.value.expires_at.is_some_and(|t| t <= now) {
                    continue;
                }
                let link = self.blobs.presign_get(&image.blob_key, lifetime).await?;
                items.push(UsableSeal {
                    seal: data.seal,
                    grant_expires_at: grant.value.expires_at,
                    image_url: link.url,
                    image_url_expires_at: now + lifetime,
                });
            }
            match page.next_cursor {
                Some(next) if scanned < MAX_SEALS_SCANNED => cursor = Some(next),
                _ => break,
            }
        }
        Ok(UsableSeals { items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::GrantRequest;
    use crate::ports::{BlobStore as _, Clock as _};
    use crate::seals::SealStatus;
    use crate::testing::{active_seal, full, new_member, operator, verified};

    #[tokio::test]
    async fn only_active_granted_unexpired_seals_are_usable_with_their_image() {
        let t = full();
        let p = &t.platform;
        let (_, admin) = verified(p).await;
        let granted = active_seal(&t, &admin).await;
        let suspended = active_seal(&t, &admin).await;
        p.change_seal_status(&admin, &suspended, SealStatus::Suspended).await.unwrap();
        let expiring = active_seal(&t, &admin).await;
        let soon = t.clock.now() + time::Duration::minutes(5);
        p.put_grant(&admin, &expiring, member_id(&admin), GrantRequest { expires_at: Some(soon) }).await.unwrap();
        let list = p.usable_seals(&admin).await.unwrap();
        let ids: Vec<&str> = list.items.iter().map(|s| s.seal.id.as_str()).collect();
        assert_eq!(ids, vec![granted.as_str(), expiring.as_str()]);
        assert_eq!(list.items[1].grant_expires_at, Some(soon));
        let png = t.blobs.get(list.items[0].image_url.trim_start_matches("memory://")).await.unwrap().unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        assert!(list.items[0].image_url_expires_at <= t.clock.now() + IMAGE_LINK_LIFETIME);
        t.clock.advance(time::Duration::minutes(6));
        assert_eq!(p.usable_seals(&admin).await.unwrap().items.len(), 1);
        // A member without grants has none; operators have no enterprise.
        let m = p.create_member(&admin, new_member()).await.unwrap();
        let member = p.authenticate(Some(&m.api_key)).await.unwrap();
        assert!(p.usable_seals(&member).await.unwrap().items.is_empty());
        assert!(matches!(p.usable_seals(&operator()).await, Err(DomainError::Forbidden(_))));
    }

    fn member_id(p: &Principal) -> &str {
        match p {
            Principal::Member { member_id, .. } => member_id,
            Principal::Operator { .. } => unreachable!(),
        }
    }
}
