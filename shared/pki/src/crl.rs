//! X.509 v2 certificate revocation lists (RFC 5280 §5), built from `x509-cert`'s CRL types and
//! signed through a [`KeySigner`] holding the issuer's key.
//!
//! A CRL carries thisUpdate, nextUpdate, the CRL number and the issuer's key identifier (AKI);
//! each entry its serial, revocation date and, unless unspecified, a reasonCode (RFC 5280
//! §5.3.1: "unspecified" SHOULD be left out).

use der::asn1::{BitString, Uint};
use der::{Decode, Encode};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::CrlNumber;
use x509_cert::ext::pkix::{CrlReason, KeyUsage, KeyUsages};
use x509_cert::serial_number::SerialNumber;

use crate::cert::{aki, extension, x509_time};
use crate::{KeySigner, PkiError, sign_checked};

/// Most entries one CRL may list (a guard against unbounded input; far above the platform's
/// needs for years).
pub const MAX_ENTRIES: usize = 100_000;

/// One revoked certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    pub serial: SerialNumber,
    pub revoked_at: OffsetDateTime,
    /// `None` or [`CrlReason::Unspecified`]: no reasonCode extension.
    pub reason: Option<CrlReason>,
}

/// What a CRL says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlContent {
    /// The CRL number: monotonically increasing for the issuer (RFC 5280 §5.2.3).
    pub number: u64,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
    pub entries: Vec<RevokedEntry>,
}

/// Builds the CRL of `issuer_cert` with `content` and signs it through `signer` (which must hold
/// the issuer's key; the signature is checked against the certificate before it is used).
pub async fn sign_crl<S: KeySigner + ?Sized>(
    signer: &S,
    issuer_cert: &Certificate,
    content: &CrlContent,
) -> Result<CertificateList, PkiError> {
    if content.next_update <= content.this_update {
        return Err(PkiError::Invalid("a CRL's nextUpdate must be after its thisUpdate".into()));
    }
    if content.entries.len() > MAX_ENTRIES {
        return Err(PkiError::Invalid(format!("more than {MAX_ENTRIES} CRL entries")));
    }
    let issuer_key = &issuer_cert.tbs_certificate.subject_public_key_info;
    if &signer.public_key().await? != issuer_key {
        return Err(PkiError::Invalid("the signer's key is not the CRL issuer certificate's key".into()));
    }
    if let Some((_, KeyUsage(ku))) = issuer_cert.tbs_certificate.get::<KeyUsage>()?
        && !ku.contains(KeyUsages::CRLSign)
    {
        return Err(PkiError::Invalid("the issuer's keyUsage lacks cRLSign".into()));
    }
    let mut revoked = Vec::with_capacity(content.entries.len());
    for e in &content.entries {
        let crl_entry_extensions = match e.reason {
            None | Some(CrlReason::Unspecified) => None,
            Some(reason) => Some(vec![extension(&reason, false)?]),
        };
        revoked.push(RevokedCert {
            serial_number: e.serial.clone(),
            revocation_date: x509_time(e.revoked_at)?,
            crl_entry_extensions,
        });
    }
    let algorithm = signer.algorithm().signature_algorithm();
    let number = CrlNumber(Uint::new(&content.number.to_be_bytes())?);
    let tbs_cert_list = TbsCertList {
        version: x509_cert::Version::V2,
        signature: algorithm.clone(),
        issuer: issuer_cert.tbs_certificate.subject.clone(),
        this_update: x509_time(content.this_update)?,
        next_update: Some(x509_time(content.next_update)?),
        // An empty list is left out, never encoded as an empty SEQUENCE (RFC 5280 §5.1.2.6).
        revoked_certificates: if revoked.is_empty() { None } else { Some(revoked) },
        crl_extensions: Some(vec![aki(issuer_cert)?, extension(&number, false)?]),
    };
    let tbs_der = tbs_cert_list.to_der()?;
    let signature = sign_checked(signer, issuer_key, &tbs_der).await?;
    Ok(CertificateList { tbs_cert_list, signature_algorithm: algorithm, signature: BitString::from_bytes(&signature)? })
}

/// Decodes one DER CRL.
pub fn crl_from_der(der: &[u8]) -> Result<CertificateList, PkiError> {
    Ok(CertificateList::from_der(der)?)
}

/// The CRL number of a CRL, when it has one that fits 64 bits.
pub fn crl_number(crl: &CertificateList) -> Option<u64> {
    let ext = crl.tbs_cert_list.crl_extensions.as_ref()?.iter().find(|e| e.extn_id == crate::OID_CRL_NUMBER)?;
    let number = CrlNumber::from_der(ext.extn_value.as_bytes()).ok()?;
    let bytes = number.0.as_bytes();
    if bytes.len() > 8 {
        return None;
    }
    let mut buf = [0u8; 8];
    buf[8 - bytes.len()..].copy_from_slice(bytes);
    Some(u64::from_be_bytes(buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::{CaSubject, random_serial, root_ca_certificate, root_validity};
    use crate::{LocalKeySigner, verify_signature};
    use time::Duration;

    #[tokio::test]
    async fn a_crl_names_its_entries_number_and_times_and_verifies() {
        let key = LocalKeySigner::generate_p256().unwrap();
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let subject = CaSubject { common_name: "Test CA".into(), organization: None, country: None };
        let ca = root_ca_certificate(&key, &subject, root_validity(now).unwrap()).await.unwrap();
        let serial = random_serial();
        let content = CrlContent {
            number: 7,
            this_update: now,
            next_update: now + Duration::days(7),
            entries: vec![
                RevokedEntry { serial: serial.clone(), revoked_at: now, reason: Some(CrlReason::KeyCompromise) },
                RevokedEntry { serial: random_serial(), revoked_at: now, reason: Some(CrlReason::Unspecified) },
            ],
        };
        let crl = sign_crl(&key, &ca, &content).await.unwrap();
        let der = crl.to_der().unwrap();
        let back = crl_from_der(&der).unwrap();
        assert_eq!(crl_number(&back), Some(7));
        let entries = back.tbs_cert_list.revoked_certificates.as_ref().unwrap();
        assert_eq!(entries[0].serial_number, serial);
        assert!(entries[0].crl_entry_extensions.is_some());
        assert!(entries[1].crl_entry_extensions.is_none(), "unspecified is left out");
        verify_signature(
            &ca.tbs_certificate.subject_public_key_info,
            key.algorithm(),
            &back.tbs_cert_list.to_der().unwrap(),
            back.signature.raw_bytes(),
        )
        .unwrap();

        let empty = CrlContent { entries: vec![], ..content.clone() };
        let crl = sign_crl(&key, &ca, &empty).await.unwrap();
        assert!(crl.tbs_cert_list.revoked_certificates.is_none());

        let backwards = CrlContent { next_update: now, ..content.clone() };
        assert!(sign_crl(&key, &ca, &backwards).await.is_err());
        let other = LocalKeySigner::generate_p256().unwrap();
        assert!(sign_crl(&other, &ca, &content).await.is_err(), "only the issuer's key signs its CRL");
    }
}
