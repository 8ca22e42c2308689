//! The platform's certificate authority, time-stamp authority and OCSP responder on KMS: seal
//! keys are created in KMS, and the root CA, issuing CA, TSA and OCSP keys sign there (they never
//! leave it). The CA certificates are made once by [`KmsAuthority::bootstrap`] and kept in the
//! records table, from where every function loads them.
//!
//! With a public URL (`ESIGN_PUBLIC_URL`), certificates name where their revocation status is
//! published: seal certificates the issuing CA's CRL (`/v1/ca/crl`), the OCSP responder
//! (`/v1/ca/ocsp`) and the issuing CA certificate (`/v1/ca/issuing.crt`); the issuing CA
//! certificate the root's CRL (`/v1/ca/root.crl`).

use std::sync::Arc;

use aws_sdk_kms::types::{KeySpec, KeyUsageType, Tag};
use aws_types::SdkConfig;
use der::{Decode, Encode, EncodePem};
use esign_core::ports::{
    AuthorityError, Condition, IssuedCertificate, Key, KeyAlgorithm, Record, RecordStore, SealAuthority, SealSubject,
    StoreError, Write,
};
use esign_pki::KeySigner;
use esign_pki::cert::{self, CaSubject};
use esign_pki::ocsp::OcspResponder;
use esign_pki::spki::SubjectPublicKeyInfoOwned;
use esign_pki::tsa::TimeStampAuthority;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::kms::KmsKeySigner;

/// The KMS keys of the platform's trust services (the template's `RootCaKey`, `IssuingCaKey`,
/// `TsaKey`, `OcspKey`, `EvidenceKey`).
#[derive(Debug, Clone)]
pub struct CaKeys {
    pub root: String,
    pub issuing: String,
    pub tsa: String,
    pub ocsp: String,
    /// The platform's evidence seal, which signs evidence reports (出证报告).
    pub evidence: String,
}

/// Where the platform publishes for the certificates of `issuer` (`Issuing`: seal certificates;
/// `Root`: the issuing CA certificate), under the public base URL `base` (no trailing slash).
pub fn publication(base: Option<&str>, issuer: esign_core::ports::CaLevel) -> esign_pki::cert::Publication {
    let Some(base) = base.map(|b| b.trim_end_matches('/')).filter(|b| !b.is_empty()) else {
        return esign_pki::cert::Publication::default();
    };
    match issuer {
        esign_core::ports::CaLevel::Issuing => esign_pki::cert::Publication {
            crl: Some(format!("{base}/v1/ca/crl")),
            ocsp: Some(format!("{base}/v1/ca/ocsp")),
            ca_issuers: Some(format!("{base}/v1/ca/issuing.crt")),
        },
        esign_core::ports::CaLevel::Root => {
            esign_pki::cert::Publication { crl: Some(format!("{base}/v1/ca/root.crl")), ocsp: None, ca_issuers: None }
        }
    }
}

/// The tag every seal key carries, so that policies can scope `DisableKey` to this stack's keys.
pub const STACK_TAG: &str = "esign-stack";

/// The default policy under which the platform TSA issues tokens (`ESIGN_TSA_POLICY` overrides
/// it). This is OpenSSL's example policy: a deployment should set the OID of its own registered
/// time-stamping policy.
pub const DEFAULT_TSA_POLICY: &str = "1.2.3.4.1";

fn ca_key() -> Key {
    Key::new("CA#PLATFORM", "CA")
}

/// What the table keeps of the CA.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CaMaterial {
    root_pem: String,
    issuing_pem: String,
    tsa_pem: String,
    /// The delegated OCSP responder's certificate (absent in a CA bootstrapped before OCSP:
    /// `esign-bootstrap` adds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ocsp_pem: Option<String>,
    /// The evidence seal's certificate (absent in a CA bootstrapped before evidence reports:
    /// `esign-bootstrap` adds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    evidence_pem: Option<String>,
    /// The public URL whose OCSP and CRL addresses the evidence seal's certificate names: when the
    /// platform's changes (a local server on another port), `esign-bootstrap` reissues it, since
    /// a verifier that asks the responder a report names would otherwise find nobody there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    evidence_public_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

fn failed(e: impl std::fmt::Display) -> AuthorityError {
    AuthorityError::Failed(e.to_string())
}

fn store_err(e: StoreError) -> AuthorityError {
    AuthorityError::Unavailable(e.to_string())
}

fn pem(c: &Certificate) -> Result<String, AuthorityError> {
    c.to_pem(der::pem::LineEnding::LF).map_err(failed)
}

fn from_pem(p: &str) -> Result<Certificate, AuthorityError> {
    let (label, der) = der::pem::decode_vec(p.as_bytes()).map_err(failed)?;
    if label != "CERTIFICATE" {
        return Err(AuthorityError::Failed(format!("expected a certificate, found {label}")));
    }
    Certificate::from_der(&der).map_err(failed)
}

async fn signer(kms: &aws_sdk_kms::Client, key_id: &str) -> Result<Arc<dyn KeySigner>, AuthorityError> {
    let s = KmsKeySigner::connect(kms.clone(), key_id).await.map_err(|e| AuthorityError::Unavailable(e.to_string()))?;
    Ok(Arc::new(s))
}

/// [`SealAuthority`] on KMS.
pub struct KmsAuthority {
    kms: aws_sdk_kms::Client,
    keys: CaKeys,
    issuing: Arc<dyn KeySigner>,
    issuing_cert: Certificate,
    root_cert: Certificate,
    ocsp_cert: Option<Certificate>,
    evidence_cert: Option<Certificate>,
    /// The evidence seal's public key, as `GetPublicKey` answered it (asked once per process).
    evidence_public: tokio::sync::OnceCell<SubjectPublicKeyInfoOwned>,
    /// When recording AWS calls: the call that asked for it, and the functions it was recorded
    /// for (the local server shares the key among the evidence route and `generate-evidence`; in
    /// Lambda each asks on its own).
    evidence_calls: std::sync::OnceLock<Vec<crate::calls::AwsCall>>,
    evidence_recorded_for: std::sync::Mutex<Vec<&'static str>>,
    /// Connected on first use: only the OCSP functions sign with its key.
    ocsp: tokio::sync::OnceCell<OcspResponder>,
    /// When recording AWS calls: those connecting the responder made, and the functions they
    /// were recorded for (the local server shares one responder among functions; in Lambda each
    /// function connects its own).
    ocsp_calls: std::sync::OnceLock<Vec<crate::calls::AwsCall>>,
    ocsp_recorded_for: std::sync::Mutex<Vec<&'static str>>,
    chain_pem: String,
    tsa: TimeStampAuthority,
    stack: String,
    /// Seal keys' public keys as `GetPublicKey` answered them (they never change): a warm
    /// function signs without asking again.
    public_keys: std::sync::Mutex<std::collections::HashMap<String, SubjectPublicKeyInfoOwned>>,
    public_url: Option<String>,
}

/// How many seal keys' public keys [`KmsAuthority`] remembers before it starts over.
const REMEMBERED_PUBLIC_KEYS: usize = 1024;

impl std::fmt::Debug for KmsAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsAuthority").field("stack", &self.stack).finish_non_exhaustive()
    }
}

impl KmsAuthority {
    /// Loads the CA from the table; fails when [`KmsAuthority::bootstrap`] has not run yet.
    pub async fn load(
        sdk: &SdkConfig,
        store: &dyn RecordStore,
        keys: &CaKeys,
        stack: &str,
        public_url: Option<&str>,
    ) -> Result<Self, AuthorityError> {
        let record = store.get(&ca_key()).await.map_err(store_err)?.ok_or_else(|| {
            AuthorityError::Unavailable("the platform CA has not been bootstrapped (run esign-bootstrap)".into())
        })?;
        let material: CaMaterial = record.decode().map_err(store_err)?;
        Self::from_material(sdk, keys, stack, public_url, &material).await
    }

    /// Adds the OCSP responder and evidence seal certificates to a CA bootstrapped before they
    /// existed, and reissues the evidence seal's when the public URL it names has changed.
    async fn add_missing_certificates(
        sdk: &SdkConfig,
        store: &dyn RecordStore,
        keys: &CaKeys,
        stack: &str,
        public_url: Option<&str>,
    ) -> Result<(), AuthorityError> {
        let Some(record) = store.get(&ca_key()).await.map_err(store_err)? else { return Ok(()) };
        let mut material: CaMaterial = record.decode().map_err(store_err)?;
        let public_url = public_url.map(|u| u.trim_end_matches('/')).filter(|u| !u.is_empty());
        let evidence_current = material.evidence_pem.is_some() && material.evidence_public_url.as_deref() == public_url;
        if material.ocsp_pem.is_some() && evidence_current {
            return Ok(());
        }
        let kms = crate::calls::kms_client(sdk);
        let issuing = from_pem(&material.issuing_pem)?;
        let issuing_signer = signer(&kms, &keys.issuing).await?;
        if material.ocsp_pem.is_none() {
            let ocsp = ocsp_certificate(&kms, keys, stack, issuing_signer.as_ref(), &issuing).await?;
            material.ocsp_pem = Some(pem(&ocsp)?);
        }
        if !evidence_current {
            let evidence =
                evidence_certificate(&kms, keys, stack, public_url, issuing_signer.as_ref(), &issuing).await?;
            material.evidence_pem = Some(pem(&evidence)?);
            material.evidence_public_url = public_url.map(str::to_owned);
        }
        let updated = Record::new(ca_key(), serde_json::to_value(&material).map_err(failed)?);
        match store.write(vec![Write::replace(updated, record.version)]).await {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(store_err(e)),
        }
    }

    /// Creates the root, issuing and TSA certificates with the KMS keys, once: when the table
    /// already holds them (another bootstrap won), those are used.
    pub async fn bootstrap(
        sdk: &SdkConfig,
        store: &dyn RecordStore,
        keys: &CaKeys,
        stack: &str,
        public_url: Option<&str>,
    ) -> Result<Self, AuthorityError> {
        if store.get(&ca_key()).await.map_err(store_err)?.is_some() {
            Self::add_missing_certificates(sdk, store, keys, stack, public_url).await?;
            return Self::load(sdk, store, keys, stack, public_url).await;
        }
        let kms = crate::calls::kms_client(sdk);
        let now = OffsetDateTime::now_utc();
        let org = Some("esign platform".to_owned());
        let country = Some("CN".to_owned());
        let root_signer = signer(&kms, &keys.root).await?;
        let root = cert::root_ca_certificate(
            root_signer.as_ref(),
            &CaSubject {
                common_name: format!("esign Root CA ({stack})"),
                organization: org.clone(),
                country: country.clone(),
            },
            cert::root_validity(now).map_err(failed)?,
        )
        .await
        .map_err(failed)?;
        let issuing_signer = signer(&kms, &keys.issuing).await?;
        let issuing = cert::issuing_ca_certificate_published(
            root_signer.as_ref(),
            &root,
            &issuing_signer.public_key().await.map_err(failed)?,
            &CaSubject {
                common_name: format!("esign Seal Issuing CA ({stack})"),
                organization: org.clone(),
                country: country.clone(),
            },
            cert::issuing_validity(now, &root).map_err(failed)?,
            &publication(public_url, esign_core::ports::CaLevel::Root),
        )
        .await
        .map_err(failed)?;
        let tsa_signer = signer(&kms, &keys.tsa).await?;
        let tsa = cert::tsa_certificate(
            issuing_signer.as_ref(),
            &issuing,
            &tsa_signer.public_key().await.map_err(failed)?,
            &CaSubject { common_name: format!("esign Time-Stamping Authority ({stack})"), organization: org, country },
            cert::tsa_validity(now, &issuing).map_err(failed)?,
        )
        .await
        .map_err(failed)?;
        let ocsp = ocsp_certificate(&kms, keys, stack, issuing_signer.as_ref(), &issuing).await?;
        let evidence = evidence_certificate(&kms, keys, stack, public_url, issuing_signer.as_ref(), &issuing).await?;
        let material = CaMaterial {
            root_pem: pem(&root)?,
            issuing_pem: pem(&issuing)?,
            tsa_pem: pem(&tsa)?,
            ocsp_pem: Some(pem(&ocsp)?),
            evidence_pem: Some(pem(&evidence)?),
            evidence_public_url: public_url
                .map(|u| u.trim_end_matches('/'))
                .filter(|u| !u.is_empty())
                .map(str::to_owned),
            created_at: now,
        };
        let record = Record::new(ca_key(), serde_json::to_value(&material).map_err(failed)?);
        match store.write(vec![Write::Put { record, condition: Condition::NotExists }]).await {
            Ok(()) => {
                tracing::info!(stack, "platform CA bootstrapped");
                Self::from_material(sdk, keys, stack, public_url, &material).await
            }
            Err(StoreError::Conflict) => Self::load(sdk, store, keys, stack, public_url).await,
            Err(e) => Err(store_err(e)),
        }
    }

    async fn from_material(
        sdk: &SdkConfig,
        keys: &CaKeys,
        stack: &str,
        public_url: Option<&str>,
        m: &CaMaterial,
    ) -> Result<Self, AuthorityError> {
        let kms = crate::calls::kms_client(sdk);
        let root = from_pem(&m.root_pem)?;
        let issuing_cert = from_pem(&m.issuing_pem)?;
        let tsa_cert = from_pem(&m.tsa_pem)?;
        let issuing = signer(&kms, &keys.issuing).await?;
        let policy = std::env::var("ESIGN_TSA_POLICY").unwrap_or_else(|_| DEFAULT_TSA_POLICY.to_owned());
        // const-oid panics on arcs beyond u32 instead of failing: check them first.
        if policy.split('.').any(|arc| arc.parse::<u32>().is_err()) {
            return Err(AuthorityError::Failed(format!("ESIGN_TSA_POLICY {policy:?} is not an OID of 32-bit arcs")));
        }
        let policy = der::asn1::ObjectIdentifier::new(&policy).map_err(failed)?;
        let tsa = TimeStampAuthority::new(signer(&kms, &keys.tsa).await?, vec![tsa_cert, issuing_cert.clone()], policy)
            .await
            .map_err(failed)?;
        let chain_pem = format!("{}{}", pem(&root)?, pem(&issuing_cert)?);
        let ocsp_cert = m.ocsp_pem.as_deref().map(from_pem).transpose()?;
        let evidence_cert = m.evidence_pem.as_deref().map(from_pem).transpose()?;
        Ok(KmsAuthority {
            kms,
            keys: keys.clone(),
            issuing,
            issuing_cert,
            root_cert: root,
            ocsp_cert,
            evidence_cert,
            evidence_public: tokio::sync::OnceCell::new(),
            evidence_calls: std::sync::OnceLock::new(),
            evidence_recorded_for: std::sync::Mutex::new(Vec::new()),
            ocsp: tokio::sync::OnceCell::new(),
            ocsp_calls: std::sync::OnceLock::new(),
            ocsp_recorded_for: std::sync::Mutex::new(Vec::new()),
            chain_pem,
            tsa,
            stack: stack.to_owned(),
            public_url: public_url.map(str::to_owned),
            public_keys: Default::default(),
        })
    }

    async fn responder(&self) -> Result<&OcspResponder, AuthorityError> {
        let connect = || async {
            let cert = self.ocsp_cert.clone().ok_or_else(|| {
                AuthorityError::Unavailable("the CA has no OCSP responder certificate (run esign-bootstrap)".into())
            })?;
            let signer = signer(&self.kms, &self.keys.ocsp).await?;
            OcspResponder::new(signer, cert, self.issuing_cert.clone()).await.map_err(failed)
        };
        let function = crate::calls::current_function();
        let responder = self
            .ocsp
            .get_or_try_init(|| async {
                let (connected, made) = crate::calls::capturing(connect()).await;
                if connected.is_ok() {
                    let _ = self.ocsp_calls.set(made);
                    if let (Some(f), Ok(mut done)) = (function, self.ocsp_recorded_for.lock()) {
                        done.push(f);
                    }
                }
                connected
            })
            .await?;
        if let (Some(f), Some(made), Ok(mut done)) = (function, self.ocsp_calls.get(), self.ocsp_recorded_for.lock())
            && !done.contains(&f)
        {
            done.push(f);
            crate::calls::record_cached(made);
        }
        Ok(responder)
    }
}

/// The evidence seal's certificate for the evidence key, issued by the issuing CA (a
/// document-signing certificate naming the platform, with the seal certificates' publication).
async fn evidence_certificate(
    kms: &aws_sdk_kms::Client,
    keys: &CaKeys,
    stack: &str,
    public_url: Option<&str>,
    issuing_signer: &dyn KeySigner,
    issuing: &Certificate,
) -> Result<Certificate, AuthorityError> {
    let evidence_signer = signer(kms, &keys.evidence).await?;
    cert::evidence_seal_certificate(
        issuing_signer,
        issuing,
        &evidence_signer.public_key().await.map_err(failed)?,
        &CaSubject {
            common_name: format!("esign Evidence Seal ({stack})"),
            organization: Some("esign platform".to_owned()),
            country: Some("CN".to_owned()),
        },
        cert::random_serial(),
        cert::seal_validity(OffsetDateTime::now_utc(), None, issuing).map_err(failed)?,
        &publication(public_url, esign_core::ports::CaLevel::Issuing),
    )
    .await
    .map_err(failed)
}

/// The delegated OCSP responder's certificate for the OCSP key, issued by the issuing CA.
async fn ocsp_certificate(
    kms: &aws_sdk_kms::Client,
    keys: &CaKeys,
    stack: &str,
    issuing_signer: &dyn KeySigner,
    issuing: &Certificate,
) -> Result<Certificate, AuthorityError> {
    let ocsp_signer = signer(kms, &keys.ocsp).await?;
    cert::ocsp_responder_certificate(
        issuing_signer,
        issuing,
        &ocsp_signer.public_key().await.map_err(failed)?,
        &CaSubject {
            common_name: format!("esign OCSP Responder ({stack})"),
            organization: Some("esign platform".to_owned()),
            country: Some("CN".to_owned()),
        },
        cert::ocsp_validity(OffsetDateTime::now_utc(), issuing).map_err(failed)?,
    )
    .await
    .map_err(failed)
}

#[async_trait::async_trait]
impl SealAuthority for KmsAuthority {
    async fn create_seal_key(&self, algorithm: KeyAlgorithm, description: &str) -> Result<String, AuthorityError> {
        let spec = match algorithm {
            KeyAlgorithm::EcdsaP256 => KeySpec::EccNistP256,
            KeyAlgorithm::Rsa2048 => KeySpec::Rsa2048,
        };
        let tag = Tag::builder().tag_key(STACK_TAG).tag_value(&self.stack).build().map_err(failed)?;
        let out = self
            .kms
            .create_key()
            .key_spec(spec)
            .key_usage(KeyUsageType::SignVerify)
            .description(description)
            .tags(tag)
            .send()
            .await
            .map_err(|e| AuthorityError::Unavailable(format!("KMS CreateKey: {e:?}")))?;
        out.key_metadata()
            .map(|m| m.key_id().to_owned())
            .ok_or_else(|| AuthorityError::Failed("KMS CreateKey answered no key id".into()))
    }

    async fn issue_seal_certificate(
        &self,
        key_id: &str,
        subject: &SealSubject,
        not_after: OffsetDateTime,
    ) -> Result<IssuedCertificate, AuthorityError> {
        let seal_key = signer(&self.kms, key_id).await?;
        let validity =
            cert::seal_validity(OffsetDateTime::now_utc(), Some(not_after), &self.issuing_cert).map_err(failed)?;
        let serial = cert::random_serial();
        let certificate = cert::seal_certificate_published(
            self.issuing.as_ref(),
            &self.issuing_cert,
            &seal_key.public_key().await.map_err(failed)?,
            &esign_pki::cert::SealSubject::new(&subject.company_name, &subject.uscc, &subject.seal_name),
            serial.clone(),
            validity,
            &publication(self.public_url.as_deref(), esign_core::ports::CaLevel::Issuing),
        )
        .await
        .map_err(failed)?;
        // Refuse to hand out a certificate whose encoding does not round-trip.
        let der = certificate.to_der().map_err(failed)?;
        Certificate::from_der(&der).map_err(failed)?;
        Ok(IssuedCertificate {
            serial: hex::encode(serial.as_bytes()),
            not_before: validity.not_before,
            not_after: validity.not_after,
            pem: pem(&certificate)?,
            chain_pem: self.chain_pem.clone(),
        })
    }

    async fn disable_key(&self, key_id: &str) -> Result<(), AuthorityError> {
        self.kms
            .disable_key()
            .key_id(key_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AuthorityError::Unavailable(format!("KMS DisableKey: {e:?}")))
    }

    async fn ca_certificates_pem(&self) -> Result<String, AuthorityError> {
        Ok(self.chain_pem.clone())
    }

    async fn timestamp(&self, request: &[u8]) -> Result<Vec<u8>, AuthorityError> {
        Ok(self.tsa.respond(request).await)
    }

    async fn seal_signer(&self, key_id: &str, chain_pem: &str) -> Result<Box<dyn esign_pades::Signer>, AuthorityError> {
        let failed = |e: String| AuthorityError::Unavailable(e);
        let known = self.public_keys.lock().ok().and_then(|keys| keys.get(key_id).cloned());
        let key = match known {
            Some(public) => crate::kms::KmsKeySigner::with_public_key(self.kms.clone(), key_id, public),
            None => crate::kms::KmsKeySigner::connect(self.kms.clone(), key_id).await,
        }
        .map_err(|e| failed(e.to_string()))?;
        let public = key.public_key().await.map_err(|e| failed(e.to_string()))?;
        let signer =
            crate::seal_signer::KmsSealSigner::with_key(key, chain_pem).await.map_err(|e| failed(e.to_string()))?;
        if let Ok(mut keys) = self.public_keys.lock() {
            if keys.len() >= REMEMBERED_PUBLIC_KEYS {
                keys.clear();
            }
            keys.insert(key_id.to_owned(), public);
        }
        Ok(Box::new(signer))
    }

    async fn evidence_signer(&self) -> Result<Box<dyn esign_pades::Signer>, AuthorityError> {
        let unavailable = |e: String| AuthorityError::Unavailable(e);
        let cert = self.evidence_cert.clone().ok_or_else(|| {
            AuthorityError::Unavailable("the CA has no evidence seal certificate (run esign-bootstrap)".into())
        })?;
        let function = crate::calls::current_function();
        let public = self
            .evidence_public
            .get_or_try_init(|| async {
                let connect = async {
                    let key = crate::kms::KmsKeySigner::connect(self.kms.clone(), &self.keys.evidence)
                        .await
                        .map_err(|e| unavailable(e.to_string()))?;
                    key.public_key().await.map_err(|e| unavailable(e.to_string()))
                };
                let (public, made) = crate::calls::capturing(connect).await;
                if public.is_ok() {
                    let _ = self.evidence_calls.set(made);
                    if let (Some(f), Ok(mut done)) = (function, self.evidence_recorded_for.lock()) {
                        done.push(f);
                    }
                }
                public
            })
            .await?
            .clone();
        if let (Some(f), Some(made), Ok(mut done)) =
            (function, self.evidence_calls.get(), self.evidence_recorded_for.lock())
            && !done.contains(&f)
        {
            done.push(f);
            crate::calls::record_cached(made);
        }
        let key = crate::kms::KmsKeySigner::with_public_key(self.kms.clone(), &self.keys.evidence, public)
            .map_err(|e| unavailable(e.to_string()))?;
        let chain_pem = format!("{}{}", pem(&cert)?, pem(&self.issuing_cert)?);
        let signer = crate::seal_signer::KmsSealSigner::with_key(key, &chain_pem)
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        Ok(Box::new(signer))
    }

    async fn issuing_certificate_der(&self) -> Result<Vec<u8>, AuthorityError> {
        self.issuing_cert.to_der().map_err(failed)
    }

    async fn sign_crl(
        &self,
        issuer: esign_core::ports::CaLevel,
        content: &esign_pki::crl::CrlContent,
    ) -> Result<Vec<u8>, AuthorityError> {
        let crl = match issuer {
            esign_core::ports::CaLevel::Issuing => {
                esign_pki::crl::sign_crl(self.issuing.as_ref(), &self.issuing_cert, content).await
            }
            esign_core::ports::CaLevel::Root => {
                let root = signer(&self.kms, &self.keys.root).await?;
                esign_pki::crl::sign_crl(root.as_ref(), &self.root_cert, content).await
            }
        }
        .map_err(failed)?;
        crl.to_der().map_err(failed)
    }

    async fn ocsp_respond(
        &self,
        request: &esign_pki::ocsp::ParsedRequest,
        statuses: &[esign_pki::ocsp::OcspStatus],
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, AuthorityError> {
        self.responder().await?.respond(request, statuses, now).await.map_err(failed)
    }
}
