//! RFC 3161 time stamps: the source trait and an HTTP client (application/timestamp-query).

use crate::PadesError;
use crate::cms_sig::{OID_SHA256, OID_TST_INFO, parse_signed_data, sha256_alg};
use async_trait::async_trait;
use der::asn1::{Int, OctetString};
use der::{Decode, Encode};
use std::time::Duration;
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

/// Something that returns an RFC 3161 TimeStampToken (DER of the ContentInfo) over a SHA-256
/// message imprint.
#[async_trait]
pub trait TimestampSource: Send + Sync {
    async fn timestamp(&self, sha256_imprint: &[u8; 32]) -> Result<Vec<u8>, PadesError>;
    /// The size of the largest token this source has returned so far, if it remembers: lets the
    /// signer size /Contents without a probe request (it still re-measures if a token is larger).
    fn token_size_hint(&self) -> Option<usize> {
        None
    }
}

/// A TSA reached over HTTP (plain http in this build: ureq is built without TLS).
pub struct HttpTsa {
    pub url: String,
    pub timeout: Duration,
    largest_token: std::sync::atomic::AtomicUsize,
}

impl HttpTsa {
    pub fn new(url: impl Into<String>) -> Self {
        HttpTsa { url: url.into(), timeout: Duration::from_secs(30), largest_token: Default::default() }
    }
}

fn tsa_err(e: impl std::fmt::Display) -> PadesError {
    PadesError::Tsa(e.to_string())
}

/// Builds a request (random 64-bit nonce, certReq) for a SHA-256 imprint; returns (DER, nonce).
pub fn build_request(imprint: &[u8; 32]) -> Result<(Vec<u8>, Vec<u8>), PadesError> {
    use rand_core::RngCore;
    let mut nonce = [0u8; 8];
    rand_core::OsRng.fill_bytes(&mut nonce);
    nonce[0] &= 0x7f;
    nonce[0] |= 0x01; // positive, minimal encoding
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: spki::AlgorithmIdentifier { oid: OID_SHA256, parameters: Some(der::Any::null()) },
            hashed_message: OctetString::new(imprint.to_vec()).map_err(tsa_err)?,
        },
        req_policy: None,
        nonce: Some(Int::new(&nonce).map_err(tsa_err)?),
        cert_req: true,
        extensions: None,
    };
    let _ = sha256_alg;
    Ok((req.to_der().map_err(tsa_err)?, nonce.to_vec()))
}

/// Parses the TSTInfo out of a TimeStampToken.
pub fn token_info(token: &[u8]) -> Result<TstInfo, PadesError> {
    let sd = parse_signed_data(token).map_err(|e| PadesError::Tsa(format!("bad time-stamp token: {e}")))?;
    if sd.encap_content_info.econtent_type != OID_TST_INFO {
        return Err(PadesError::Tsa("token does not contain a TSTInfo".into()));
    }
    let ec = sd.encap_content_info.econtent.ok_or_else(|| PadesError::Tsa("token without content".into()))?;
    let os: OctetString = ec.decode_as().map_err(tsa_err)?;
    TstInfo::from_der(os.as_bytes()).map_err(tsa_err)
}

/// Checks a DER TimeStampResp: status granted, token present, imprint and nonce as requested.
/// Returns the token (DER ContentInfo).
pub fn check_response(resp: &[u8], imprint: &[u8; 32], nonce: &[u8]) -> Result<Vec<u8>, PadesError> {
    let r = TimeStampResp::from_der(resp).map_err(|e| PadesError::Tsa(format!("unparseable response: {e}")))?;
    let st = r.status.status as u8;
    if st > 1 {
        let text = r.status.status_string.as_ref().map(|s| format!("{s:?}")).unwrap_or_default();
        return Err(PadesError::Tsa(format!("request rejected (PKIStatus {st}) {text}")));
    }
    let tok = r.time_stamp_token.ok_or_else(|| PadesError::Tsa("granted response without a token".into()))?;
    let der_tok = tok.to_der().map_err(tsa_err)?;
    let info = token_info(&der_tok)?;
    if info.message_imprint.hash_algorithm.oid != OID_SHA256
        || info.message_imprint.hashed_message.as_bytes() != imprint
    {
        return Err(PadesError::Tsa("token message imprint does not match the request".into()));
    }
    match &info.nonce {
        Some(n) if strip0(n.as_bytes()) == strip0(nonce) => {}
        _ => return Err(PadesError::Tsa("token nonce does not match the request".into())),
    }
    Ok(der_tok)
}

fn strip0(b: &[u8]) -> &[u8] {
    let k = b.iter().take_while(|&&c| c == 0).count();
    &b[k..]
}

impl HttpTsa {
    fn fetch_blocking(&self, imprint: &[u8; 32]) -> Result<Vec<u8>, PadesError> {
        let (req, nonce) = build_request(imprint)?;
        let agent: ureq::Agent =
            ureq::Agent::config_builder().timeout_global(Some(self.timeout)).http_status_as_error(false).build().into();
        let mut resp = agent
            .post(&self.url)
            .header("Content-Type", "application/timestamp-query")
            .send(&req[..])
            .map_err(|e| PadesError::Tsa(format!("{}: {e}", self.url)))?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(PadesError::Tsa(format!("{} answered HTTP {status}", self.url)));
        }
        let body = resp.body_mut().with_config().limit(1 << 20).read_to_vec().map_err(tsa_err)?;
        let tok = check_response(&body, imprint, &nonce)?;
        self.largest_token.fetch_max(tok.len(), std::sync::atomic::Ordering::Relaxed);
        Ok(tok)
    }
}

#[async_trait]
impl TimestampSource for HttpTsa {
    async fn timestamp(&self, imprint: &[u8; 32]) -> Result<Vec<u8>, PadesError> {
        if let Ok(h) = tokio::runtime::Handle::try_current()
            && h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
        {
            return tokio::task::block_in_place(|| self.fetch_blocking(imprint));
        }
        self.fetch_blocking(imprint)
    }
    fn token_size_hint(&self) -> Option<usize> {
        match self.largest_token.load(std::sync::atomic::Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }
}
