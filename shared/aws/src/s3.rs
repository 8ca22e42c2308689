//! [`BlobStore`] on an S3 bucket (versioned; objects are never overwritten in place by the
//! platform).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::{PresignedRequest as S3Presigned, PresigningConfig};
use esign_core::ports::{BlobError, BlobMeta, BlobStore, PresignedRequest};

/// The blob store on one bucket.
#[derive(Clone, Debug)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

fn unavailable<E, R>(what: &str, e: SdkError<E, R>) -> BlobError
where
    SdkError<E, R>: ProvideErrorMetadata + std::fmt::Debug,
{
    tracing::warn!(error = ?e, "S3 {what} failed");
    BlobError::Unavailable(format!("S3 {what}: {}", e.code().unwrap_or("unknown")))
}

fn presigning(expires: Duration) -> Result<PresigningConfig, BlobError> {
    PresigningConfig::expires_in(expires).map_err(|e| BlobError::Unavailable(format!("presigning: {e}")))
}

fn convert(p: S3Presigned) -> PresignedRequest {
    PresignedRequest {
        url: p.uri().to_owned(),
        method: p.method().to_owned(),
        headers: p.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
    }
}

/// Whether a failed HEAD/GET means "no such object". Without `s3:ListBucket`, S3 answers a
/// missing key with 403 rather than 404, so both count as absent.
fn is_absent(status: Option<u16>) -> bool {
    matches!(status, Some(403 | 404))
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3Blobs { client, bucket: bucket.into() }
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        let length = i64::try_from(content_length).map_err(|_| BlobError::Unavailable("length too large".into()))?;
        let p = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(presigning(expires)?)
            .await
            .map_err(|e| unavailable("presign PUT", e))?;
        Ok(convert(p))
    }

    async fn presign_get(&self, key: &str, expires: Duration) -> Result<PresignedRequest, BlobError> {
        let p = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning(expires)?)
            .await
            .map_err(|e| unavailable("presign GET", e))?;
        Ok(convert(p))
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(BlobMeta {
                size: out.content_length.and_then(|l| u64::try_from(l).ok()).unwrap_or(0),
                content_type: out.content_type,
            })),
            Err(e) if is_absent(e.raw_response().map(|r| r.status().as_u16())) => Ok(None),
            Err(e) => Err(unavailable("HEAD", e)),
        }
    }

    async fn read_prefix(&self, key: &str, len: u64) -> Result<Option<Vec<u8>>, BlobError> {
        if len == 0 {
            return Ok(self.head(key).await?.map(|_| Vec::new()));
        }
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", len - 1))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if is_absent(e.raw_response().map(|r| r.status().as_u16())) => return Ok(None),
            // An empty object has no satisfiable range.
            Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(416) => return Ok(Some(Vec::new())),
            Err(e) => return Err(unavailable("GET", e)),
        };
        let bytes = out.body.collect().await.map_err(|e| BlobError::Unavailable(format!("S3 body: {e}")))?;
        let mut bytes = bytes.into_bytes().to_vec();
        bytes.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(Some(bytes))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if is_absent(e.raw_response().map(|r| r.status().as_u16())) => return Ok(None),
            Err(e) => return Err(unavailable("GET", e)),
        };
        let bytes = out.body.collect().await.map_err(|e| BlobError::Unavailable(format!("S3 body: {e}")))?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("PUT", e))
    }
}
