//! What embedded validation data (OCSP responses, CRLs, certificates from a DSS or a CMS) says
//! about a certificate at a moment: its revocation status, and whether a chain is covered.
//!
//! Only data that proves itself counts: an OCSP response signed by the certificate's issuer or by
//! a responder the issuer certified for OCSP signing (id-kp-OCSPSigning), a CRL signed by the
//! issuer. A response or CRL issued before the moment says nothing about it (the certificate could
//! have been revoked in between) unless it was still current then (the moment lies before its
//! nextUpdate), so "good" needs data produced at or after that moment or current at it.

use crate::cms_sig::{cert_signed_by, verify_raw};
use der::{Decode, Encode};
use serde::Serialize;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_ocsp::{BasicOcspResponse, CertStatus, ResponderId};

/// The revocation status of a certificate at a moment (the signing time), from embedded data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationStatus {
    /// data produced at or after the moment says it was not revoked
    Good,
    /// revoked, but after the moment: a signature made at that moment stays valid
    RevokedAfterSigning,
    /// revoked at or before the moment: a signature made then is invalid
    RevokedBeforeSigning,
    /// no usable data (none, not signed by the issuer, or older than the moment)
    Unknown,
}

/// Validation data at hand, parsed.
#[derive(Default)]
pub struct Evidence {
    pub certs: Vec<Certificate>,
    pub ocsps: Vec<BasicOcspResponse>,
    pub crls: Vec<CertificateList>,
}

const OID_SHA1: const_oid::ObjectIdentifier = const_oid::ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const OID_OCSP_SIGNING: const_oid::ObjectIdentifier = const_oid::db::rfc5280::ID_KP_OCSP_SIGNING;
const OID_OCSP_NOCHECK: const_oid::ObjectIdentifier = const_oid::db::rfc6960::ID_PKIX_OCSP_NOCHECK;

impl Evidence {
    /// Parses DER items; unparseable ones are skipped (hostile input: a DSS may hold anything).
    pub fn from_der(certs: &[Vec<u8>], ocsps: &[Vec<u8>], crls: &[Vec<u8>]) -> Evidence {
        Evidence {
            certs: certs.iter().filter_map(|c| Certificate::from_der(c).ok()).collect(),
            ocsps: ocsps.iter().filter_map(|o| crate::ltv::parse_ocsp(o).ok()).collect(),
            crls: crls.iter().filter_map(|c| CertificateList::from_der(c).ok()).collect(),
        }
    }

    /// The status of `cert` (issued by `issuer`) at `at` (Unix seconds), and where it was found.
    pub fn status(&self, cert: &Certificate, issuer: &Certificate, at: u64) -> (RevocationStatus, String) {
        let mut found: Option<(RevocationStatus, String)> = None;
        let mut note = "no OCSP response or CRL for it".to_string();
        let mut consider = |st: RevocationStatus, what: String| {
            // a revocation outranks "good"; the earliest word on it is enough otherwise
            let rank = |s: RevocationStatus| match s {
                RevocationStatus::RevokedBeforeSigning => 3,
                RevocationStatus::RevokedAfterSigning => 2,
                RevocationStatus::Good => 1,
                RevocationStatus::Unknown => 0,
            };
            if found.as_ref().is_none_or(|(f, _)| rank(st) > rank(*f)) {
                found = Some((st, what));
            }
        };
        for basic in &self.ocsps {
            match self.ocsp_status(basic, cert, issuer, at) {
                Ok(Some((st, what))) => consider(st, what),
                Ok(None) => {}
                Err(e) => note = e,
            }
        }
        for crl in &self.crls {
            match crl_status(crl, cert, issuer, at) {
                Ok(Some((st, what))) => consider(st, what),
                Ok(None) => {}
                Err(e) => note = e,
            }
        }
        found.unwrap_or((RevocationStatus::Unknown, note))
    }

    /// Ok(None): the response is not about `cert`; Err: it is, but cannot be relied on.
    fn ocsp_status(
        &self,
        basic: &BasicOcspResponse,
        cert: &Certificate,
        issuer: &Certificate,
        at: u64,
    ) -> Result<Option<(RevocationStatus, String)>, String> {
        let tbs = &basic.tbs_response_data;
        let serial = &cert.tbs_certificate.serial_number;
        let Some(single) = tbs
            .responses
            .iter()
            .find(|s| &s.cert_id.serial_number == serial && cert_id_names_issuer(&s.cert_id, issuer).unwrap_or(false))
        else {
            return Ok(None);
        };
        // the responder: the issuer itself, or a certificate the issuer made for OCSP signing
        let mut candidates: Vec<&Certificate> = vec![issuer];
        candidates.extend(basic.certs.iter().flatten());
        candidates.extend(self.certs.iter());
        let responder = candidates
            .into_iter()
            .find(|c| responder_matches(&tbs.responder_id, c))
            .ok_or("the OCSP responder's certificate is not embedded")?;
        if responder != issuer {
            if !cert_signed_by(responder, issuer) {
                return Err("the OCSP responder is not certified by the issuer".into());
            }
            if !has_eku(responder, OID_OCSP_SIGNING) {
                return Err("the OCSP responder certificate lacks id-kp-OCSPSigning".into());
            }
        }
        let msg = tbs.to_der().map_err(|e| e.to_string())?;
        let sig = basic.signature.as_bytes().ok_or("OCSP signature is not whole bytes")?;
        verify_raw(&responder.tbs_certificate.subject_public_key_info, &basic.signature_algorithm.oid, &msg, sig)
            .map_err(|e| format!("OCSP response signature: {e}"))?;
        let this_update = single.this_update.0.to_unix_duration().as_secs();
        let next_update = single.next_update.map(|t| t.0.to_unix_duration().as_secs());
        let when = single.this_update.0.to_date_time().to_string();
        Ok(Some(match &single.cert_status {
            CertStatus::Good(_) if current_at(this_update, next_update, at) => {
                (RevocationStatus::Good, format!("OCSP good at {when}"))
            }
            CertStatus::Good(_) => (
                RevocationStatus::Unknown,
                format!("OCSP good at {when}, no longer current at the signing time: says nothing"),
            ),
            CertStatus::Revoked(info) => {
                let t = info.revocation_time.0.to_unix_duration().as_secs();
                let reason = info.revocation_reason.map(|r| format!(" ({r:?})")).unwrap_or_default();
                let what = format!("OCSP revoked at {}{reason}", info.revocation_time.0.to_date_time());
                (
                    if t > at { RevocationStatus::RevokedAfterSigning } else { RevocationStatus::RevokedBeforeSigning },
                    what,
                )
            }
            CertStatus::Unknown(_) => (RevocationStatus::Unknown, format!("OCSP unknown at {when}")),
        }))
    }
}

fn crl_status(
    crl: &CertificateList,
    cert: &Certificate,
    issuer: &Certificate,
    at: u64,
) -> Result<Option<(RevocationStatus, String)>, String> {
    let tbs = &crl.tbs_cert_list;
    if tbs.issuer != issuer.tbs_certificate.subject || cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Ok(None);
    }
    let msg = tbs.to_der().map_err(|e| e.to_string())?;
    let sig = crl.signature.as_bytes().ok_or("CRL signature is not whole bytes")?;
    verify_raw(&issuer.tbs_certificate.subject_public_key_info, &crl.signature_algorithm.oid, &msg, sig)
        .map_err(|e| format!("CRL signature: {e}"))?;
    let this_update = tbs.this_update.to_unix_duration().as_secs();
    let when = tbs.this_update.to_string();
    let serial = &cert.tbs_certificate.serial_number;
    if let Some(entry) = tbs.revoked_certificates.iter().flatten().find(|e| &e.serial_number == serial) {
        let t = entry.revocation_date.to_unix_duration().as_secs();
        let what = format!("CRL of {when}: revoked at {}", entry.revocation_date);
        return Ok(Some((
            if t > at { RevocationStatus::RevokedAfterSigning } else { RevocationStatus::RevokedBeforeSigning },
            what,
        )));
    }
    let next_update = tbs.next_update.map(|t| t.to_unix_duration().as_secs());
    Ok(Some(if current_at(this_update, next_update, at) {
        (RevocationStatus::Good, format!("not on the CRL of {when}"))
    } else {
        (RevocationStatus::Unknown, format!("CRL of {when}, no longer current at the signing time: says nothing"))
    }))
}

/// Whether "good" data of `this_update` speaks for the moment `at`: issued at or after it, or
/// issued before it and still current then (`at` within `[thisUpdate, nextUpdate]`: ETSI EN 319
/// 102-1's freshness rule with its default maximum, nextUpdate - thisUpdate, as pyHanko applies
/// it; a validator fetches data just before a signature's time stamp arrives).
fn current_at(this_update: u64, next_update: Option<u64>, at: u64) -> bool {
    this_update >= at || next_update.is_some_and(|n| at <= n)
}

/// Whether an OCSP CertID's issuer hashes are those of `issuer` (SHA-1 or SHA-256).
fn cert_id_names_issuer(id: &x509_ocsp::CertId, issuer: &Certificate) -> Option<bool> {
    let name = issuer.tbs_certificate.subject.to_der().ok()?;
    let key = issuer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    let (n, k): (Vec<u8>, Vec<u8>) = if id.hash_algorithm.oid == OID_SHA1 {
        use sha1::Digest;
        (sha1::Sha1::digest(&name).to_vec(), sha1::Sha1::digest(key).to_vec())
    } else if id.hash_algorithm.oid == crate::cms_sig::OID_SHA256 {
        use sha2::Digest;
        (sha2::Sha256::digest(&name).to_vec(), sha2::Sha256::digest(key).to_vec())
    } else {
        return None;
    };
    Some(id.issuer_name_hash.as_bytes() == n && id.issuer_key_hash.as_bytes() == k)
}

fn responder_matches(id: &ResponderId, c: &Certificate) -> bool {
    match id {
        ResponderId::ByName(n) => &c.tbs_certificate.subject == n,
        ResponderId::ByKey(k) => {
            use sha1::Digest;
            let key = c.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
            k.as_bytes() == sha1::Sha1::digest(key).as_slice()
        }
    }
}

fn extension(c: &Certificate, oid: const_oid::ObjectIdentifier) -> Option<&[u8]> {
    c.tbs_certificate.extensions.as_ref()?.iter().find(|e| e.extn_id == oid).map(|e| e.extn_value.as_bytes())
}

fn has_eku(c: &Certificate, usage: const_oid::ObjectIdentifier) -> bool {
    extension(c, const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE)
        .and_then(|v| x509_cert::ext::pkix::ExtendedKeyUsage::from_der(v).ok())
        .is_some_and(|eku| eku.0.contains(&usage))
}

/// Whether the certificate says it needs no revocation check (id-pkix-ocsp-nocheck: an OCSP
/// responder's own certificate).
pub fn is_ocsp_nocheck(c: &Certificate) -> bool {
    extension(c, OID_OCSP_NOCHECK).is_some()
}

/// How much of a chain the data covers: for every certificate but the last (the root, or the one
/// a trust anchor vouches for), a status from its issuer. Returns the status of each and what is
/// missing.
pub struct ChainCoverage {
    /// (subject, status, where found), signer first
    pub statuses: Vec<(String, RevocationStatus, String)>,
    pub missing: Vec<String>,
}

pub fn chain_coverage(chain: &[Certificate], ev: &Evidence, at: u64) -> ChainCoverage {
    let mut statuses = Vec::new();
    let mut missing = Vec::new();
    for pair in chain.windows(2) {
        let (cert, issuer) = (&pair[0], &pair[1]);
        let subject = cert.tbs_certificate.subject.to_string();
        let (st, what) = ev.status(cert, issuer, at);
        if st == RevocationStatus::Unknown {
            missing.push(format!("revocation data for {subject}: {what}"));
        }
        statuses.push((subject, st, what));
    }
    if let Some(last) = chain.last()
        && last.tbs_certificate.issuer != last.tbs_certificate.subject
    {
        missing.push(format!("the issuer certificate of {}", last.tbs_certificate.subject));
    }
    ChainCoverage { statuses, missing }
}
