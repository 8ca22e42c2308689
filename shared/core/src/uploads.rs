//! Files that clients upload straight to the blob store through presigned URLs: the record of
//! each upload (whose enterprise, for what, declared type and size) and the ticket a client gets.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::enterprises::internal;
use crate::error::DomainError;
use crate::model::{Upload, new_id};
use crate::platform::Platform;
use crate::ports::{Key, Record, Write};

/// Where and how to upload a file.
#[derive(Debug, Clone, Serialize)]
pub struct UploadTicket {
    pub file_id: String,
    pub upload_url: String,
    pub method: String,
    pub headers: serde_json::Map<String, serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub max_bytes: u64,
}

/// What an upload is for, and its limits.
pub(crate) struct UploadSpec<'a> {
    pub purpose: &'static str,
    pub content_type: &'a str,
    pub size: u64,
    pub max_bytes: u64,
    /// The object key, from the new file id.
    pub blob_key: &'a (dyn Fn(&str) -> String + Sync),
}

/// What a file's first bytes say it is (its signature, whatever name or type it was sent with).
pub fn sniff(prefix: &[u8]) -> Option<&'static str> {
    if prefix.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if prefix.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if prefix.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if prefix.starts_with(b"GIF8") {
        Some("image/gif")
    } else {
        None
    }
}

/// A copy of an uploaded file that only the platform writes, taken when the file is submitted:
/// the presigned upload URL may still be used afterwards, but what was checked, reviewed and
/// later stamped is this copy, and its hash is checked on every read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedFile {
    /// The upload it was copied from.
    pub file_id: String,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    pub size: u64,
    /// Object key of the copy, under `pinned/` (never presigned for writing).
    pub blob_key: String,
}

pub(crate) fn upload_key(id: &str) -> Key {
    Key::new(format!("UPLOAD#{id}"), "UPLOAD")
}

impl Platform {
    /// Presigns an upload bound to the declared type and size, and adds its record to `writes`.
    pub(crate) async fn upload_ticket(
        &self,
        enterprise_id: &str,
        spec: UploadSpec<'_>,
        writes: &mut Vec<Write>,
    ) -> Result<UploadTicket, DomainError> {
        let now = self.clock.now();
        let id = new_id("file");
        let upload = Upload {
            blob_key: (spec.blob_key)(&id),
            id,
            enterprise_id: enterprise_id.to_owned(),
            purpose: spec.purpose.into(),
            content_type: spec.content_type.into(),
            declared_size: spec.size,
            created_at: now,
        };
        let presigned = self
            .blobs
            .presign_put(&upload.blob_key, &upload.content_type, upload.declared_size, self.config.presign_expiry)
            .await?;
        writes
            .push(Write::create(Record::new(upload_key(&upload.id), serde_json::to_value(&upload).map_err(internal)?)));
        Ok(UploadTicket {
            file_id: upload.id,
            upload_url: presigned.url,
            method: presigned.method,
            headers: presigned.headers.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect(),
            expires_at: now + self.config.presign_expiry,
            max_bytes: spec.max_bytes,
        })
    }

    /// Copies the bytes of `upload` (as just read and checked by the caller) to a key only the
    /// platform writes, and returns where they are and their hash.
    pub(crate) async fn pin_upload(&self, upload: &Upload, bytes: Vec<u8>) -> Result<PinnedFile, DomainError> {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let pinned = PinnedFile {
            file_id: upload.id.clone(),
            size: bytes.len() as u64,
            blob_key: format!("pinned/{}/{}/{}-{}", upload.enterprise_id, upload.purpose, upload.id, &sha256[..16]),
            sha256,
        };
        self.blobs.put(&pinned.blob_key, bytes, &upload.content_type).await?;
        Ok(pinned)
    }

    /// The bytes of a pinned file, checked against its hash.
    pub(crate) async fn read_pinned(&self, pinned: &PinnedFile) -> Result<Vec<u8>, DomainError> {
        let bytes = self
            .blobs
            .get(&pinned.blob_key)
            .await?
            .ok_or_else(|| DomainError::Internal(format!("the pinned file {} is missing", pinned.file_id)))?;
        if hex::encode(Sha256::digest(&bytes)) != pinned.sha256 {
            return Err(DomainError::Internal(format!("the pinned file {} does not match its hash", pinned.file_id)));
        }
        Ok(bytes)
    }

    /// [`Self::read_pinned`], kept by the warm process after the first read (by its hash: the
    /// same bytes); for the signing path, which stamps the same seal image again and again.
    pub(crate) async fn read_pinned_kept(&self, pinned: &PinnedFile) -> Result<Vec<u8>, DomainError> {
        if let Some(kept) = self.warm.pinned(&pinned.sha256) {
            return Ok(kept.as_ref().clone());
        }
        let bytes = self.read_pinned(pinned).await?;
        self.warm.keep_pinned(&pinned.sha256, std::sync::Arc::new(bytes.clone()));
        Ok(bytes)
    }

    /// The upload record of `file_id`, if it exists.
    pub(crate) async fn load_upload(&self, file_id: &str) -> Result<Option<Upload>, DomainError> {
        Ok(self.load::<Upload>(&upload_key(file_id)).await?.map(|u| u.value))
    }
}
