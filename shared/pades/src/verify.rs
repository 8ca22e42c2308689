//! Verification: every signature field with a value is checked for byte-range coverage, digest,
//! CMS signature, certificate chain (optionally against trust roots), time stamp, and whether
//! later revisions changed anything beyond signature fields and their annotations.

use crate::PadesError;
use crate::cms_sig::*;
use crate::pdf::object::{Dict, Obj, find};
use crate::pdf::reader::{Document, XrefEntry};
use crate::tsa::token_info;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::OctetString;
use der::{Decode, Encode};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use x509_cert::Certificate;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// number of revisions (%%EOF markers) in the file
    pub revisions: usize,
    pub signatures: Vec<SignatureReport>,
    /// document time stamps (/DocTimeStamp, PAdES B-LTA), oldest first
    pub document_timestamps: Vec<DocTimestampReport>,
    /// what the catalog's Document Security Store holds (None when there is none)
    pub dss: Option<DssSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DssSummary {
    pub certs: usize,
    pub ocsps: usize,
    pub crls: usize,
    pub vri: usize,
}

/// A document time stamp: an RFC 3161 token over its byte range.
#[derive(Debug, Clone, Serialize)]
pub struct DocTimestampReport {
    pub field: String,
    /// the token's genTime (RFC 3339)
    pub time: Option<String>,
    /// the TSA's subject
    pub tsa: Option<String>,
    pub byte_range: Vec<i64>,
    pub coverage: String,
    pub covers_whole_document: bool,
    /// the token's imprint is the SHA-256 of the byte range, and its signature verifies
    pub token_valid: bool,
    /// None when no trust roots were given
    pub trusted: Option<bool>,
    /// revocation data for the TSA's chain is embedded (in the DSS)
    pub validation_data_complete: bool,
    pub missing_validation_data: Vec<String>,
    /// changes made by later revisions that are not allowed
    pub disallowed_changes: Vec<String>,
    pub problems: Vec<String>,
    pub intact: bool,
}

/// The validation data a signature relies on, as embedded.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationDataReport {
    /// the document has a DSS with data used for this signature
    pub in_dss: bool,
    /// the DSS has a VRI entry for this signature
    pub vri: bool,
    /// every certificate of the signer's chain and of its time stamp's TSA chain (but the roots)
    /// has a status from embedded OCSP responses or CRLs
    pub complete: bool,
    pub missing: Vec<String>,
}

/// The revocation status of the signer's certificate at the signing time, from embedded data.
#[derive(Debug, Clone, Serialize)]
pub struct RevocationReport {
    pub status: crate::revinfo::RevocationStatus,
    /// the moment judged (the time stamp's time, else the claimed time)
    pub at: String,
    /// where the status comes from (OCSP / CRL and their times), or why it is unknown
    pub source: String,
    /// what that means, in words
    pub meaning: String,
    /// each certificate of the chain but the root: subject, status, source
    pub chain: Vec<CertRevocation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertRevocation {
    pub subject: String,
    pub status: crate::revinfo::RevocationStatus,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    pub field: String,
    pub sub_filter: String,
    pub signer: Option<String>,
    /// serial number of the signer's certificate, lowercase hex
    pub signer_serial: Option<String>,
    /// SHA-256 of the signer's certificate (DER), lowercase hex: what identifies the certificate
    /// (a serial alone can be copied into any self-made certificate)
    pub signer_fingerprint: Option<String>,
    /// subjects, signer first
    pub chain: Vec<String>,
    pub signature_algorithm: Option<String>,
    pub signing_time: Option<String>,
    /// "timestamp" (RFC 3161 token), "claimed" (the signer's /M or signing-time), or "none"
    pub time_source: String,
    /// serial number of the signature's time-stamp token (its TSTInfo), lowercase hex
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_serial: Option<String>,
    pub byte_range: Vec<i64>,
    /// "whole document" or "revision K of N"
    pub coverage: String,
    pub covers_whole_document: bool,
    pub digest_valid: bool,
    pub signature_valid: bool,
    /// None when the signature has no time stamp
    pub timestamp_valid: Option<bool>,
    /// None when no trust roots were given
    pub trusted: Option<bool>,
    /// pages (1-based) carrying this signature's stamps (seals, dates): its widgets other than
    /// cross-page strips; one page for a signature of one widget (every signature before
    /// one-act-per-party signing)
    pub stamp_pages: Vec<u32>,
    /// pages carrying a strip of this signature's cross-page seal, in strip order
    pub strip_pages: Vec<u32>,
    /// changes made by later revisions that are not signature fields/annotations
    pub disallowed_changes: Vec<String>,
    pub problems: Vec<String>,
    /// PAdES baseline level reached: "B-B" (CMS valid), "B-T" (signature time stamp), "B-LT"
    /// (and validation data for the signer's and TSA's chains embedded in the DSS), "B-LTA"
    /// (and a document time stamp covers that data); "none" when the signature is not intact
    pub level: String,
    /// None when the file has no DSS and the CMS carries no revocation data
    pub validation_data: Option<ValidationDataReport>,
    /// the signer certificate's revocation status at the signing time from embedded data (None
    /// when nothing about it is embedded)
    pub revocation: Option<RevocationReport>,
    /// digest, CMS signature and time stamp valid, no disallowed later changes, and not revoked
    /// before signing (by the embedded data)
    pub intact: bool,
}

impl SignatureReport {
    pub fn intact(&self) -> bool {
        self.digest_valid
            && self.signature_valid
            && self.timestamp_valid != Some(false)
            && self.disallowed_changes.is_empty()
            && self
                .revocation
                .as_ref()
                .is_none_or(|r| r.status != crate::revinfo::RevocationStatus::RevokedBeforeSigning)
    }
}

impl Report {
    /// True when there is at least one signature and every one is intact (and trusted if asked).
    pub fn all_valid(&self, require_trust: bool) -> bool {
        !self.signatures.is_empty()
            && self.signatures.iter().all(|s| s.intact() && (!require_trust || s.trusted == Some(true)))
            && self.document_timestamps.iter().all(|t| t.intact && (!require_trust || t.trusted == Some(true)))
    }

    pub fn to_text(&self) -> String {
        let mut s = format!("{} signature(s), {} revision(s)\n", self.signatures.len(), self.revisions);
        for (i, g) in self.signatures.iter().enumerate() {
            s += &format!(
                "#{} {}: {}\n  signer: {}\n  chain: {}\n  time: {} ({})\n  coverage: {} {:?}\n  digest: {}, signature: {}, timestamp: {}, trusted: {}\n",
                i + 1,
                g.field,
                if g.intact() { "INTACT" } else { "INVALID" },
                g.signer.as_deref().unwrap_or("?"),
                g.chain.join(" <- "),
                g.signing_time.as_deref().unwrap_or("-"),
                g.time_source,
                g.coverage,
                g.byte_range,
                ok(g.digest_valid),
                ok(g.signature_valid),
                g.timestamp_valid.map(ok).unwrap_or("none"),
                g.trusted.map(|t| if t { "yes" } else { "NO" }).unwrap_or("not checked"),
            );
            if !g.stamp_pages.is_empty() {
                s += &format!("  stamps on pages: {}\n", page_list(&g.stamp_pages));
            }
            if !g.strip_pages.is_empty() {
                s += &format!("  cross-page seal strips on pages: {}\n", page_list(&g.strip_pages));
            }
            s += &format!("  level: {}\n", g.level);
            if let Some(v) = &g.validation_data {
                s += &format!(
                    "  validation data: {} (DSS: {}, VRI: {})\n",
                    if v.complete { "complete" } else { "INCOMPLETE" },
                    if v.in_dss { "yes" } else { "no" },
                    if v.vri { "yes" } else { "no" }
                );
                for m in &v.missing {
                    s += &format!("    missing: {m}\n");
                }
            }
            if let Some(r) = &g.revocation {
                s += &format!("  revocation at {}: {:?} ({}): {}\n", r.at, r.status, r.source, r.meaning);
            }
            for c in &g.disallowed_changes {
                s += &format!("  later change not allowed: {c}\n");
            }
            for p in &g.problems {
                s += &format!("  problem: {p}\n");
            }
        }
        for (i, t) in self.document_timestamps.iter().enumerate() {
            s += &format!(
                "document time stamp #{} {}: {}\n  time: {}\n  TSA: {}\n  coverage: {} {:?}\n  token: {}, trusted: {}, validation data: {}\n",
                i + 1,
                t.field,
                if t.intact { "INTACT" } else { "INVALID" },
                t.time.as_deref().unwrap_or("-"),
                t.tsa.as_deref().unwrap_or("?"),
                t.coverage,
                t.byte_range,
                ok(t.token_valid),
                t.trusted.map(|t| if t { "yes" } else { "NO" }).unwrap_or("not checked"),
                if t.validation_data_complete { "complete" } else { "INCOMPLETE" },
            );
            for m in &t.missing_validation_data {
                s += &format!("    missing: {m}\n");
            }
            for c in &t.disallowed_changes {
                s += &format!("  later change not allowed: {c}\n");
            }
            for p in &t.problems {
                s += &format!("  problem: {p}\n");
            }
        }
        if let Some(d) = &self.dss {
            s += &format!(
                "DSS: {} certificate(s), {} OCSP response(s), {} CRL(s), {} VRI entr(ies)\n",
                d.certs, d.ocsps, d.crls, d.vri
            );
        }
        s
    }
}

/// "1-60" for a run, "1, 3, 5-7" otherwise.
fn page_list(pages: &[u32]) -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &p in pages {
        match runs.last_mut() {
            Some((_, last)) if last.checked_add(1) == Some(p) => *last = p,
            _ => runs.push((p, p)),
        }
    }
    runs.iter().map(|(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") }).collect::<Vec<_>>().join(", ")
}

fn ok(b: bool) -> &'static str {
    if b { "ok" } else { "FAILED" }
}

pub fn verify_pdf(bytes: &[u8]) -> Result<Report, PadesError> {
    verify_pdf_with_trust(bytes, None)
}

/// End offsets of each revision (just after each `%%EOF` and its end-of-line).
pub fn revision_ends(data: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut p = 0;
    while let Some(k) = find(data, b"%%EOF", p) {
        let mut e = k + 5;
        if data.get(e) == Some(&b'\r') {
            e += 1;
        }
        if data.get(e) == Some(&b'\n') {
            e += 1;
        }
        ends.push(e);
        p = k + 5;
    }
    ends
}

/// One walk of the field tree: every field object once, within a node budget.
struct FieldWalk {
    seen: HashSet<u32>,
    budget: usize,
    /// name, signature value, field dictionary
    out: Vec<(String, Dict, Dict)>,
    /// unsigned signature fields that are their own widget (object number, dictionary): the
    /// stamps and strips a signature draws beyond its own widget
    unsigned: Vec<(u32, Dict)>,
}

const MAX_SIGNATURES: usize = 1000;

fn collect_sig_fields(
    doc: &Document,
    o: &Obj,
    prefix: &str,
    inherited_ft: Option<Vec<u8>>,
    depth: usize,
    walk: &mut FieldWalk,
) -> Result<(), PadesError> {
    if depth > 32 || walk.out.len() >= MAX_SIGNATURES {
        return Ok(());
    }
    // a field reached twice (listed again, or its own kid) is walked once
    if let Some((n, _)) = o.as_ref()
        && !walk.seen.insert(n)
    {
        return Ok(());
    }
    if walk.budget == 0 {
        return Err(PadesError::Limit("the form has too many fields to walk".into()));
    }
    walk.budget -= 1;
    let Ok(d) = doc.resolve_dict(o) else { return Ok(()) };
    let name = match d.get("T").and_then(|t| doc.resolve(t).ok()) {
        Some(Obj::Str(t)) => {
            let t = String::from_utf8_lossy(&t).into_owned();
            if prefix.is_empty() { t } else { format!("{prefix}.{t}") }
        }
        _ => prefix.to_string(),
    };
    let ft = d.get("FT").and_then(|f| f.as_name().map(|n| n.to_vec())).or(inherited_ft);
    if ft.as_deref() == Some(b"Sig")
        && let Some(v) = d.get("V").and_then(|v| doc.resolve_dict(v).ok())
        && v.get("ByteRange").is_some()
    {
        walk.out.push((name, v, d));
        return Ok(());
    }
    if ft.as_deref() == Some(b"Sig")
        && d.get("V").is_none()
        && d.get("NM").is_some()
        && let Some((n, _)) = o.as_ref()
        && walk.unsigned.len() < MAX_WIDGETS_LISTED
    {
        walk.unsigned.push((n, d));
        return Ok(());
    }
    if let Some(Obj::Array(kids)) = d.get("Kids").and_then(|k| doc.resolve(k).ok()) {
        for k in kids {
            collect_sig_fields(doc, &k, &name, ft.clone(), depth + 1, walk)?;
        }
    }
    Ok(())
}

/// Every signature field with a value (name, signature dictionary, field dictionary), one walk
/// of the form within its budget.
pub(crate) fn signature_fields(doc: &Document) -> Result<Vec<(String, Dict, Dict)>, PadesError> {
    Ok(walk_fields(doc)?.out)
}

fn walk_fields(doc: &Document) -> Result<FieldWalk, PadesError> {
    let cat = doc.catalog()?;
    let mut walk =
        FieldWalk { seen: HashSet::new(), budget: doc.options().max_walk_nodes, out: Vec::new(), unsigned: Vec::new() };
    if let Some(af) = cat.get("AcroForm").and_then(|a| doc.resolve_dict(a).ok())
        && let Some(Obj::Array(fs)) = af.get("Fields").and_then(|f| doc.resolve(f).ok())
    {
        for f in fs {
            collect_sig_fields(doc, &f, "", None, 0, &mut walk)?;
        }
    }
    Ok(walk)
}

pub fn verify_pdf_with_trust(bytes: &[u8], trust: Option<&[Certificate]>) -> Result<Report, PadesError> {
    let doc = Document::load(bytes)?;
    let ends = revision_ends(bytes);
    let walk = walk_fields(&doc)?;
    let mut revisions = Revisions::new(bytes.len());
    let mut sigs = Vec::new();
    let mut stamps = Vec::new();
    let dss = crate::ltv::read_dss(&doc);
    for (name, v, field) in walk.out {
        if v.name_is("SubFilter", "ETSI.RFC3161") || v.name_is("Type", "DocTimeStamp") {
            if stamps.len() < MAX_DOC_TIMESTAMPS {
                stamps.push(check_doc_timestamp(&doc, bytes, &ends, name, &v, trust, &mut revisions, &dss));
            }
            continue;
        }
        let mut s = check_one(&doc, bytes, &ends, name, &v, trust, &mut revisions);
        let revision = signed_revision(&s.byte_range, &ends);
        (s.stamp_pages, s.strip_pages) = widget_pages(&doc, &s.field, &field, &walk.unsigned, revision);
        sigs.push((s, v));
    }
    stamps.sort_by_key(|t| t.byte_range.get(2).copied().unwrap_or(0));
    let mut prefix_dss: HashMap<usize, crate::ltv::Dss> = HashMap::new();
    let mut sigs: Vec<SignatureReport> = sigs
        .into_iter()
        .map(|(mut s, v)| {
            long_term(&doc, bytes, &mut s, &v, trust, &dss, &stamps, &mut prefix_dss);
            s.intact = s.intact();
            s
        })
        .collect();
    // order by position in the file
    sigs.sort_by_key(|s| s.byte_range.get(2).copied().unwrap_or(0));
    let dss_summary = (!dss.is_empty() || !dss.vri.is_empty()).then_some(DssSummary {
        certs: dss.certs.len(),
        ocsps: dss.ocsps.len(),
        crls: dss.crls.len(),
        vri: dss.vri.len(),
    });
    Ok(Report { revisions: ends.len().max(1), signatures: sigs, document_timestamps: stamps, dss: dss_summary })
}

/// The DER certificates the file's signatures and time stamps carry (deduplicated, in the
/// order found): each signature's CMS certificates, its time-stamp token's, and each document
/// time stamp's. What validation data for the file must speak about (with their issuers).
/// Unreadable signatures are skipped (hostile input; the report says what is wrong with them).
pub fn embedded_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, PadesError> {
    let doc = Document::load(bytes)?;
    let walk = walk_fields(&doc)?;
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut add = |certs: Vec<Certificate>| {
        for c in certs {
            if let Ok(d) = c.to_der()
                && !out.contains(&d)
            {
                out.push(d);
            }
        }
    };
    for (_, v, _) in walk.out {
        let Ok((_, contents)) = signed_contents(bytes, &doc, &v) else { continue };
        let Ok(sd) = parse_signed_data(&contents) else { continue };
        add(cms_certs(&sd));
        for si in sd.signer_infos.0.iter() {
            let tokens = si.unsigned_attrs.iter().flat_map(|u| u.iter()).filter(|a| a.oid == OID_TIMESTAMP_TOKEN);
            for token in tokens.flat_map(|a| a.values.iter()).filter_map(|v| v.to_der().ok()) {
                if let Ok(tsd) = parse_signed_data(&token) {
                    add(cms_certs(&tsd));
                }
            }
        }
    }
    Ok(out)
}

/// A document time stamp's genTime (Unix seconds) and its TSA certificate (DER), if carried.
pub type DocTimestampFacts = (u64, Option<Vec<u8>>);

/// The newest document time stamp of the file (the one whose byte range ends last): its
/// token's genTime (Unix seconds) and its TSA's certificate (DER), when the token carries it.
/// What an archive time stamp's renewal is scheduled by (the TSA certificate's expiry, its age).
pub fn newest_document_timestamp(bytes: &[u8]) -> Result<Option<DocTimestampFacts>, PadesError> {
    let doc = Document::load(bytes)?;
    let walk = walk_fields(&doc)?;
    let mut newest: Option<(i64, u64, Option<Vec<u8>>)> = None;
    for (_, v, _) in walk.out {
        if !(v.name_is("SubFilter", "ETSI.RFC3161") || v.name_is("Type", "DocTimeStamp")) {
            continue;
        }
        let Ok((br, token)) = signed_contents(bytes, &doc, &v) else { continue };
        let end = br[2].saturating_add(br[3]);
        let Ok(info) = token_info(&token) else { continue };
        let at = info.gen_time.to_unix_duration().as_secs();
        let tsa = token_signer(&token).and_then(|(c, _)| c.to_der().ok());
        if newest.as_ref().is_none_or(|(e, _, _)| end > *e) {
            newest = Some((end, at, tsa));
        }
    }
    Ok(newest.map(|(_, at, tsa)| (at, tsa)))
}

/// Most document time stamps checked in one file.
const MAX_DOC_TIMESTAMPS: usize = 32;

/// The /Contents bytes of a signature dictionary whose byte range is sound, with the range.
fn signed_contents(data: &[u8], doc: &Document, v: &Dict) -> Result<(Vec<i64>, Vec<u8>), String> {
    let br: Vec<i64> = doc
        .resolve(v.get("ByteRange").unwrap_or(&Obj::Null))
        .ok()
        .and_then(|o| o.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|o| o.as_int().unwrap_or(-1))
        .collect();
    let len = data.len() as i64;
    if br.len() != 4
        || br[0] != 0
        || br.iter().any(|&x| x < 0)
        || br[1] > br[2]
        || br[2].checked_add(br[3]).is_none_or(|e| e > len)
    {
        return Err("invalid /ByteRange".into());
    }
    let gap = &data[br[1] as usize..br[2] as usize];
    if gap.len() < 2
        || gap[0] != b'<'
        || gap[gap.len() - 1] != b'>'
        || !gap[1..gap.len() - 1].iter().all(|x| x.is_ascii_hexdigit())
    {
        return Err("the byte-range gap is not exactly the /Contents string".into());
    }
    let hexs = &gap[1..gap.len() - 1];
    let hexs = if hexs.len().is_multiple_of(2) { hexs } else { &hexs[..hexs.len() - 1] };
    let contents = hex::decode(hexs).map_err(|_| "bad /Contents hex".to_string())?;
    Ok((br, contents))
}

fn unix_to_rfc3339(secs: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| secs.to_string())
}

/// Certificates of a CMS SignedData.
fn cms_certs(sd: &SignedData) -> Vec<Certificate> {
    sd.certificates
        .as_ref()
        .map(|cs| {
            cs.0.iter()
                .filter_map(|c| match c {
                    cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The chain of `leaf` from a pool, then its issuer among the trust roots if the pool lacks it.
fn chain_with_roots(leaf: &Certificate, pool: &[Certificate], trust: Option<&[Certificate]>) -> Vec<Certificate> {
    let mut all = pool.to_vec();
    all.extend(trust.unwrap_or_default().iter().cloned());
    build_chain(leaf, &all)
}

/// The TSA certificate of a time-stamp token and the token's certificates.
fn token_signer(tok: &[u8]) -> Option<(Certificate, Vec<Certificate>)> {
    let sd = parse_signed_data(tok).ok()?;
    let certs = cms_certs(&sd);
    let si = sd.signer_infos.0.iter().next()?;
    Some((find_signer(si, &certs)?, certs))
}

/// B-LT / B-LTA, the embedded validation data and the revocation status of one intact signature.
#[allow(clippy::too_many_arguments)]
fn long_term(
    doc: &Document,
    data: &[u8],
    s: &mut SignatureReport,
    v_dict: &Dict,
    trust: Option<&[Certificate]>,
    dss: &crate::ltv::Dss,
    stamps: &[DocTimestampReport],
    prefix_dss: &mut HashMap<usize, crate::ltv::Dss>,
) {
    if !(s.digest_valid && s.signature_valid && s.timestamp_valid != Some(false)) {
        return;
    }
    s.level = if s.timestamp_valid == Some(true) { "B-T".into() } else { "B-B".into() };
    let Ok((_, contents)) = signed_contents(data, doc, v_dict) else { return };
    let Ok(sd) = parse_signed_data(&contents) else { return };
    let certs = cms_certs(&sd);
    let Some(si) = sd.signer_infos.0.iter().next() else { return };
    let Some(signer) = find_signer(si, &certs) else { return };
    let token = si
        .unsigned_attrs
        .as_ref()
        .and_then(|u| u.iter().find(|a| a.oid == OID_TIMESTAMP_TOKEN))
        .and_then(|a| a.values.iter().next())
        .and_then(|v| v.to_der().ok());
    let tsa = token.as_deref().and_then(token_signer);
    // the moment judged: the time stamp's, else the claimed time
    let at =
        token.as_deref().and_then(|t| token_info(t).ok()).map(|i| i.gen_time.to_unix_duration().as_secs()).or_else(
            || {
                s.signing_time
                    .as_deref()
                    .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
                    .and_then(|t| u64::try_from(t.unix_timestamp()).ok())
            },
        );
    let Some(at) = at else { return };
    let assess = |d: &crate::ltv::Dss| {
        let mut pool: Vec<Certificate> = certs.clone();
        let ev_dss = crate::revinfo::Evidence::from_der(&d.certs, &d.ocsps, &d.crls);
        pool.extend(ev_dss.certs.iter().cloned());
        let ev = crate::revinfo::Evidence { certs: pool.clone(), ocsps: ev_dss.ocsps, crls: ev_dss.crls };
        let chain = chain_with_roots(&signer, &pool, trust);
        let signer_cov = crate::revinfo::chain_coverage(&chain, &ev, at);
        let mut missing = signer_cov.missing.clone();
        if let Some((tsa_cert, tsa_certs)) = &tsa {
            let mut tpool = tsa_certs.clone();
            tpool.extend(pool.iter().cloned());
            let tchain = chain_with_roots(tsa_cert, &tpool, trust);
            missing.extend(crate::revinfo::chain_coverage(&tchain, &ev, at).missing);
        }
        (signer_cov, missing)
    };
    let (cov, missing) = assess(dss);
    let key = crate::ltv::vri_key(&contents);
    if !dss.is_empty() {
        s.validation_data = Some(ValidationDataReport {
            in_dss: true,
            vri: dss.vri.contains(&key),
            complete: missing.is_empty(),
            missing: missing.clone(),
        });
    }
    if let Some((_, st, source)) = cov.statuses.first() {
        use crate::revinfo::RevocationStatus::*;
        if *st != Unknown || !dss.is_empty() {
            let meaning = match st {
                Good => "not revoked at the signing time".to_string(),
                RevokedAfterSigning => {
                    "the certificate was revoked after the signing time: the signature stays valid".to_string()
                }
                RevokedBeforeSigning => {
                    "the certificate was revoked before the signing time: the signature is invalid".to_string()
                }
                Unknown => "no embedded data tells the certificate's status at the signing time".to_string(),
            };
            s.revocation = Some(RevocationReport {
                status: *st,
                at: unix_to_rfc3339(at),
                source: source.clone(),
                meaning,
                chain: cov
                    .statuses
                    .iter()
                    .map(|(subject, status, source)| CertRevocation {
                        subject: subject.clone(),
                        status: *status,
                        source: source.clone(),
                    })
                    .collect(),
            });
            if *st == RevokedBeforeSigning {
                s.problems.push("the signer certificate was revoked before the signing time".into());
            }
        }
    }
    if s.timestamp_valid != Some(true) || dss.is_empty() || !missing.is_empty() {
        return;
    }
    s.level = "B-LT".into();
    // B-LTA: an intact document time stamp after the signature covers a DSS that already held
    // complete validation data
    let sig_end = s.byte_range.get(2).zip(s.byte_range.get(3)).map(|(c, d)| c + d).unwrap_or(0);
    for t in stamps.iter().filter(|t| t.intact) {
        let end = t.byte_range.get(2).zip(t.byte_range.get(3)).map(|(c, d)| c + d).unwrap_or(0);
        let Ok(end) = usize::try_from(end) else { continue };
        if (end as i64) <= sig_end || end > data.len() {
            continue;
        }
        let covered = prefix_dss
            .entry(end)
            .or_insert_with(|| Document::load(&data[..end]).map(|d| crate::ltv::read_dss(&d)).unwrap_or_default());
        if !covered.is_empty() && assess(covered).1.is_empty() {
            s.level = "B-LTA".into();
            break;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_doc_timestamp(
    doc: &Document,
    data: &[u8],
    ends: &[usize],
    field: String,
    v: &Dict,
    trust: Option<&[Certificate]>,
    revisions: &mut Revisions,
    dss: &crate::ltv::Dss,
) -> DocTimestampReport {
    let mut r = DocTimestampReport {
        field,
        time: None,
        tsa: None,
        byte_range: vec![],
        coverage: "unknown".into(),
        covers_whole_document: false,
        token_valid: false,
        trusted: None,
        validation_data_complete: false,
        missing_validation_data: vec![],
        disallowed_changes: vec![],
        problems: vec![],
        intact: false,
    };
    let (br, token) = match signed_contents(data, doc, v) {
        Ok(x) => x,
        Err(e) => {
            r.problems.push(e);
            return r;
        }
    };
    r.byte_range = br.clone();
    let (a, c, end) = (br[1] as usize, br[2] as usize, (br[2] + br[3]) as usize);
    r.covers_whole_document = end == data.len();
    r.coverage = if r.covers_whole_document {
        "whole document".into()
    } else {
        match ends.iter().position(|&e| e == end) {
            Some(i) => format!("revision {} of {}", i + 1, ends.len()),
            None => format!("first {end} bytes (not a revision boundary)"),
        }
    };
    // the token may be followed by zero padding
    let token = match der::SliceReader::new(&token).and_then(|mut rd| {
        let h = der::Header::decode(&mut rd)?;
        let len = (h.encoded_len()? + h.length)?;
        usize::try_from(len)
    }) {
        Ok(n) if n <= token.len() => token[..n].to_vec(),
        _ => {
            r.problems.push("the time-stamp token is not DER".into());
            return r;
        }
    };
    let Some(digest) = revisions.digest(data, a, c, end) else {
        r.problems.push("not checked: the signatures cover more bytes than a verification hashes".into());
        return r;
    };
    let Ok(imprint) = <[u8; 32]>::try_from(digest.as_slice()) else { return r };
    match verify_timestamp_token(&token, &imprint, trust) {
        Ok((t, trusted, secs)) => {
            r.token_valid = true;
            r.time = Some(t);
            r.trusted = trusted;
            if trusted == Some(false) {
                r.problems.push("the TSA certificate does not lead to a trusted root".into());
            }
            if let Some((tsa_cert, certs)) = token_signer(&token) {
                r.tsa = Some(tsa_cert.tbs_certificate.subject.to_string());
                let ev_dss = crate::revinfo::Evidence::from_der(&dss.certs, &dss.ocsps, &dss.crls);
                let mut pool = certs;
                pool.extend(ev_dss.certs.iter().cloned());
                let chain = chain_with_roots(&tsa_cert, &pool, trust);
                let ev = crate::revinfo::Evidence { certs: pool, ocsps: ev_dss.ocsps, crls: ev_dss.crls };
                let cov = crate::revinfo::chain_coverage(&chain, &ev, secs);
                r.validation_data_complete = cov.missing.is_empty();
                r.missing_validation_data = cov.missing;
            }
        }
        Err(e) => r.problems.push(format!("time-stamp token: {e}")),
    }
    if !r.covers_whole_document {
        match revisions.later_changes(data, end, doc) {
            Ok(ch) => r.disallowed_changes = ch,
            Err(e) => r.disallowed_changes = vec![format!("cannot analyse later revisions: {e}")],
        }
    }
    r.intact = r.token_valid && r.disallowed_changes.is_empty();
    r
}

/// The later-change analysis of each signed revision, made once per revision however many
/// signatures cover it, and for at most [`MAX_REVISIONS_ANALYSED`] distinct revisions.
/// Also the byte-range digests, one per distinct range, within a hashing budget (so a file with
/// a thousand signature fields over the whole document is not hashed a thousand times).
struct Revisions {
    done: HashMap<usize, Result<Vec<String>, String>>,
    digests: HashMap<(usize, usize, usize), Vec<u8>>,
    hash_budget: usize,
}

const MAX_REVISIONS_ANALYSED: usize = 64;

impl Revisions {
    fn new(len: usize) -> Self {
        // ample for real files (each signature hashes about the whole file once)
        Revisions { done: HashMap::new(), digests: HashMap::new(), hash_budget: len.saturating_mul(32).max(64 << 20) }
    }

    /// SHA-256 of `data[..a] ++ data[c..end]`, or None once the budget is spent.
    fn digest(&mut self, data: &[u8], a: usize, c: usize, end: usize) -> Option<Vec<u8>> {
        if let Some(d) = self.digests.get(&(a, c, end)) {
            return Some(d.clone());
        }
        let cost = a.saturating_add(end.saturating_sub(c));
        self.hash_budget = self.hash_budget.checked_sub(cost)?;
        let mut h = Sha256::new();
        h.update(data.get(..a)?);
        h.update(data.get(c..end)?);
        let d = h.finalize().to_vec();
        self.digests.insert((a, c, end), d.clone());
        Some(d)
    }

    fn later_changes(&mut self, data: &[u8], end: usize, doc: &Document) -> Result<Vec<String>, String> {
        if let Some(r) = self.done.get(&end) {
            return r.clone();
        }
        let r = if self.done.len() >= MAX_REVISIONS_ANALYSED {
            Err(format!("more than {MAX_REVISIONS_ANALYSED} signed revisions"))
        } else {
            later_changes(data, end, doc).map_err(|e| e.to_string())
        };
        self.done.insert(end, r.clone());
        r
    }
}

/// Most widgets of one signature whose pages are looked up.
const MAX_WIDGETS_LISTED: usize = 10_000;

/// The bytes `[start, end)` of the revision a signature signed: from the end of the revision
/// before it to the end of its byte range.
fn signed_revision(byte_range: &[i64], ends: &[usize]) -> Option<(usize, usize)> {
    let [_, _, c, d] = byte_range else { return None };
    let end = usize::try_from(c.checked_add(*d)?).ok()?;
    let start = ends.iter().copied().filter(|&e| e < end).max().unwrap_or(0);
    Some((start, end))
}

/// The pages of a signature's stamps and strips: its own widget, and the unsigned signature
/// fields named `<field>/stamp` or `<field>/strip/...` (/NM) that the signature's own revision
/// wrote (so a field added later under that name is not attributed to it).
fn widget_pages(
    doc: &Document,
    name: &str,
    field: &Dict,
    unsigned: &[(u32, Dict)],
    revision: Option<(usize, usize)>,
) -> (Vec<u32>, Vec<u32>) {
    let (mut stamps, mut strips) = (Vec::new(), Vec::new());
    let page_of = |w: &Dict| {
        w.get("P")
            .and_then(|p| p.as_ref())
            .and_then(|p| doc.page_number(p).ok().flatten())
            .and_then(|n| u32::try_from(n).ok())
    };
    let visible = |w: &Dict| {
        crate::pdf::reader::rect_of(w.get("Rect").unwrap_or(&Obj::Null), doc)
            .is_some_and(|r| r[2] - r[0] >= 1.0 && r[3] - r[1] >= 1.0)
    };
    if visible(field)
        && let Some(p) = page_of(field)
    {
        stamps.push(p);
    }
    let (stamp_nm, strip_nm) = (format!("{name}/stamp"), format!("{name}/strip/"));
    let written_by_the_signature = |num: u32| match (doc.xref.get(&num), revision) {
        (Some(XrefEntry::Offset(off, _)), Some((start, end))) => (start..end).contains(off),
        _ => false,
    };
    for (num, w) in unsigned {
        let Some(Obj::Str(nm)) = w.get("NM").and_then(|n| doc.resolve(n).ok()) else { continue };
        let is_strip = nm.starts_with(strip_nm.as_bytes());
        if !(is_strip || nm == stamp_nm.as_bytes()) || !written_by_the_signature(*num) || !visible(w) {
            continue;
        }
        if let Some(p) = page_of(w) {
            if is_strip { strips.push(p) } else { stamps.push(p) }
        }
    }
    stamps.sort_unstable();
    stamps.dedup();
    (stamps, strips)
}

fn name_str(d: &Dict, k: &str) -> String {
    d.get(k).and_then(|o| o.as_name()).map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default()
}

fn check_one(
    doc: &Document,
    data: &[u8],
    ends: &[usize],
    field: String,
    v: &Dict,
    trust: Option<&[Certificate]>,
    revisions: &mut Revisions,
) -> SignatureReport {
    let mut r = SignatureReport {
        field,
        sub_filter: name_str(v, "SubFilter"),
        signer: None,
        signer_serial: None,
        signer_fingerprint: None,
        chain: vec![],
        signature_algorithm: None,
        signing_time: None,
        time_source: "none".into(),
        timestamp_serial: None,
        byte_range: vec![],
        coverage: "unknown".into(),
        covers_whole_document: false,
        digest_valid: false,
        signature_valid: false,
        timestamp_valid: None,
        trusted: None,
        stamp_pages: vec![],
        strip_pages: vec![],
        disallowed_changes: vec![],
        problems: vec![],
        level: "none".into(),
        validation_data: None,
        revocation: None,
        intact: false,
    };
    let br: Vec<i64> = doc
        .resolve(v.get("ByteRange").unwrap_or(&Obj::Null))
        .ok()
        .and_then(|o| o.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|o| o.as_int().unwrap_or(-1))
        .collect();
    r.byte_range = br.clone();
    let len = data.len() as i64;
    if br.len() != 4
        || br[0] != 0
        || br.iter().any(|&x| x < 0)
        || br[1] > br[2]
        || br[2].checked_add(br[3]).is_none_or(|e| e > len)
    {
        r.problems.push("invalid /ByteRange".into());
        return r;
    }
    let (a, b, c, d) = (br[1] as usize, br[2] as usize, br[2] as usize, br[3] as usize);
    let end = c + d;
    // the gap must be exactly the /Contents hex string
    let gap = &data[a..b];
    let contents = if gap.len() >= 2
        && gap[0] == b'<'
        && gap[gap.len() - 1] == b'>'
        && gap[1..gap.len() - 1].iter().all(|x| x.is_ascii_hexdigit())
    {
        match hex::decode(if (gap.len() - 2).is_multiple_of(2) {
            &gap[1..gap.len() - 1]
        } else {
            &gap[1..gap.len() - 2]
        }) {
            Ok(v) => v,
            Err(_) => {
                r.problems.push("bad /Contents hex".into());
                return r;
            }
        }
    } else {
        r.problems.push("the byte-range gap is not exactly the /Contents string".into());
        return r;
    };
    r.covers_whole_document = end == data.len();
    let rev = ends.iter().position(|&e| e == end || (e > end && data[end..e].iter().all(|c| c.is_ascii_whitespace())));
    r.coverage = if r.covers_whole_document {
        "whole document".into()
    } else {
        match rev {
            Some(i) => format!("revision {} of {}", i + 1, ends.len()),
            None => format!("first {end} bytes (not a revision boundary)"),
        }
    };
    let sd = match parse_signed_data(&contents) {
        Ok(sd) => sd,
        Err(e) => {
            r.problems.push(format!("CMS: {e}"));
            return r;
        }
    };
    let digest = match revisions.digest(data, a, c, end) {
        Some(d) => d,
        None => {
            r.problems.push("not checked: the signatures cover more bytes than a verification hashes".into());
            return r;
        }
    };
    let certs: Vec<Certificate> = sd
        .certificates
        .as_ref()
        .map(|cs| {
            cs.0.iter()
                .filter_map(|c| match c {
                    cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let Some(si) = sd.signer_infos.0.iter().next().cloned() else {
        r.problems.push("CMS has no SignerInfo".into());
        return r;
    };
    let signer_cert = find_signer(&si, &certs);
    let Some(signer_cert) = signer_cert else {
        r.problems.push("signer certificate not embedded".into());
        return r;
    };
    r.signer = Some(signer_cert.tbs_certificate.subject.to_string());
    r.signer_serial = Some(hex::encode(signer_cert.tbs_certificate.serial_number.as_bytes()));
    r.signer_fingerprint = signer_cert.to_der().ok().map(|d| hex::encode(Sha256::digest(&d)));
    r.signature_algorithm = Some(si.signature_algorithm.oid.to_string());
    if si.digest_alg.oid != OID_SHA256 {
        r.problems.push(format!("digest algorithm {} not supported (SHA-256 only)", si.digest_alg.oid));
        return r;
    }
    // digest + signature
    let sig_bytes = si.signature.as_bytes().to_vec();
    let mut claimed_time = None;
    match &si.signed_attrs {
        Some(attrs) => {
            let md = attrs
                .iter()
                .find(|a| a.oid == OID_MESSAGE_DIGEST)
                .and_then(|a| a.values.iter().next())
                .and_then(|v| v.decode_as::<OctetString>().ok());
            r.digest_valid = md.as_ref().map(|m| m.as_bytes() == digest.as_slice()).unwrap_or(false);
            if !r.digest_valid {
                r.problems.push("document digest does not match the signed message-digest".into());
            }
            if let Some(t) = attrs.iter().find(|a| a.oid == OID_SIGNING_TIME).and_then(|a| a.values.iter().next())
                && let Ok(t) = x509_cert::time::Time::from_der(&t.to_der().unwrap_or_default())
            {
                claimed_time = Some(t.to_string());
            }
            match attrs.to_der() {
                Ok(msg) => match verify_raw(
                    &signer_cert.tbs_certificate.subject_public_key_info,
                    &si.signature_algorithm.oid,
                    &msg,
                    &sig_bytes,
                ) {
                    Ok(()) => r.signature_valid = true,
                    Err(e) => r.problems.push(format!("CMS signature: {e}")),
                },
                Err(e) => r.problems.push(format!("signed attributes: {e}")),
            }
        }
        None => r.problems.push("CMS without signed attributes is not supported".into()),
    }
    // chain
    let chain = build_chain(&signer_cert, &certs);
    r.chain = chain.iter().map(|c| c.tbs_certificate.subject.to_string()).collect();
    if let Some(roots) = trust {
        r.trusted = Some(chain_trusted(&chain, roots));
        if r.trusted == Some(false) {
            r.problems.push("certificate chain does not lead to a trusted root".into());
        }
    }
    // time stamp
    let tst = si
        .unsigned_attrs
        .as_ref()
        .and_then(|u| u.iter().find(|a| a.oid == OID_TIMESTAMP_TOKEN))
        .and_then(|a| a.values.iter().next())
        .and_then(|v| v.to_der().ok());
    if let Some(tok) = tst {
        match check_timestamp(&tok, &sig_bytes, trust) {
            Ok((t, tsa_trusted, secs)) => {
                r.timestamp_valid = Some(true);
                r.signing_time = Some(t);
                r.time_source = "timestamp".into();
                r.timestamp_serial = token_info(&tok).ok().map(|i| hex::encode(i.serial_number.as_bytes()));
                let v = &signer_cert.tbs_certificate.validity;
                let (nb, na) = (v.not_before.to_unix_duration().as_secs(), v.not_after.to_unix_duration().as_secs());
                if secs < nb || secs > na {
                    r.problems.push("the signer certificate was not valid at the time-stamped signing time".into());
                    if r.trusted.is_some() {
                        r.trusted = Some(false);
                    }
                }
                if tsa_trusted == Some(false) {
                    r.trusted = Some(false);
                    r.problems.push("the TSA certificate does not lead to a trusted root".into());
                }
            }
            Err(e) => {
                r.timestamp_valid = Some(false);
                r.problems.push(format!("time stamp: {e}"));
            }
        }
    }
    if r.signing_time.is_none() {
        let m = match v.get("M") {
            Some(Obj::Str(s)) => Some(pdf_date_to_rfc3339(&String::from_utf8_lossy(s))),
            _ => None,
        };
        if let Some(t) = claimed_time.or(m) {
            r.signing_time = Some(t);
            r.time_source = "claimed".into();
        }
    }
    // later revisions
    if !r.covers_whole_document {
        match revisions.later_changes(data, end, doc) {
            Ok(ch) => r.disallowed_changes = ch,
            Err(e) => r.disallowed_changes = vec![format!("cannot analyse later revisions: {e}")],
        }
    }
    r
}

/// "D:20261126230333+08'00'" -> "2026-11-26T23:03:33+08:00" (unparseable input is returned as is).
fn pdf_date_to_rfc3339(d: &str) -> String {
    let t = d.strip_prefix("D:").unwrap_or(d);
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() < 8 {
        return d.to_string();
    }
    let g = |a: usize, b: usize, def: &str| digits.get(a..b).unwrap_or(def).to_string();
    let rest = &t[digits.len()..];
    let tz = match rest.chars().next() {
        Some('Z') | None => "Z".to_string(),
        Some(c @ ('+' | '-')) => {
            let z: String = rest[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            format!("{c}{}:{}", z.get(0..2).unwrap_or("00"), z.get(2..4).unwrap_or("00"))
        }
        _ => "Z".to_string(),
    };
    format!(
        "{}-{}-{}T{}:{}:{}{tz}",
        g(0, 4, "0000"),
        g(4, 6, "01"),
        g(6, 8, "01"),
        g(8, 10, "00"),
        g(10, 12, "00"),
        g(12, 14, "00")
    )
}

fn find_signer(si: &SignerInfo, certs: &[Certificate]) -> Option<Certificate> {
    match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => certs
            .iter()
            .find(|c| c.tbs_certificate.issuer == ias.issuer && c.tbs_certificate.serial_number == ias.serial_number)
            .cloned(),
        SignerIdentifier::SubjectKeyIdentifier(ski) => certs
            .iter()
            .find(|c| {
                c.tbs_certificate.extensions.as_ref().is_some_and(|exts| {
                    exts.iter().any(|e| {
                        e.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER
                            && e.extn_value.as_bytes().ends_with(ski.0.as_bytes())
                    })
                })
            })
            .cloned(),
    }
}

fn build_chain(leaf: &Certificate, pool: &[Certificate]) -> Vec<Certificate> {
    let mut chain = vec![leaf.clone()];
    while chain.len() < 10 {
        let last = chain.last().expect("non-empty chain");
        if last.tbs_certificate.issuer == last.tbs_certificate.subject {
            break;
        }
        match pool.iter().find(|c| !chain.contains(c) && cert_signed_by(last, c)) {
            Some(c) => chain.push(c.clone()),
            None => break,
        }
    }
    chain
}

fn chain_trusted(chain: &[Certificate], roots: &[Certificate]) -> bool {
    if chain.iter().any(|c| roots.contains(c)) {
        return true;
    }
    chain.last().is_some_and(|last| roots.iter().any(|r| cert_signed_by(last, r)))
}

/// Verifies a signature time-stamp token over `sig_value`; returns its time (RFC 3339) and,
/// when roots are given, whether the TSA chain leads to one.
fn check_timestamp(
    tok: &[u8],
    sig_value: &[u8],
    trust: Option<&[Certificate]>,
) -> Result<(String, Option<bool>, u64), String> {
    let imprint: [u8; 32] = Sha256::digest(sig_value).into();
    verify_timestamp_token(tok, &imprint, trust)
        .map_err(|e| if e == IMPRINT_MISMATCH { "imprint does not match the signature value".into() } else { e })
}

const IMPRINT_MISMATCH: &str = "imprint does not match";

/// Verifies an RFC 3161 time-stamp token (DER) over the SHA-256 `imprint`: the imprint, the
/// token's content digest and the TSA's signature. Returns the time (RFC 3339), whether the TSA
/// chain leads to one of `trust` (None without roots) and the time in Unix seconds.
pub fn verify_timestamp_token(
    tok: &[u8],
    imprint: &[u8; 32],
    trust: Option<&[Certificate]>,
) -> Result<(String, Option<bool>, u64), String> {
    let info = token_info(tok).map_err(|e| e.to_string())?;
    if info.message_imprint.hash_algorithm.oid != OID_SHA256 {
        return Err("imprint algorithm is not SHA-256".into());
    }
    if info.message_imprint.hashed_message.as_bytes() != &imprint[..] {
        return Err(IMPRINT_MISMATCH.into());
    }
    let sd: SignedData = parse_signed_data(tok).map_err(|e| e.to_string())?;
    let econtent = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or("no content")?
        .decode_as::<OctetString>()
        .map_err(|e| e.to_string())?;
    let certs: Vec<Certificate> = sd
        .certificates
        .as_ref()
        .map(|cs| {
            cs.0.iter()
                .filter_map(
                    |c| if let cms::cert::CertificateChoices::Certificate(c) = c { Some(c.clone()) } else { None },
                )
                .collect()
        })
        .unwrap_or_default();
    let si = sd.signer_infos.0.iter().next().ok_or("no SignerInfo in token")?;
    let tsa_cert = find_signer(si, &certs).ok_or("TSA certificate not embedded in token")?;
    let attrs = si.signed_attrs.as_ref().ok_or("token without signed attributes")?;
    let md = attrs
        .iter()
        .find(|a| a.oid == OID_MESSAGE_DIGEST)
        .and_then(|a| a.values.iter().next())
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or("token without message-digest")?;
    let dig_ok = match si.digest_alg.oid {
        o if o == OID_SHA256 => md.as_bytes() == &Sha256::digest(econtent.as_bytes())[..],
        _ => return Err(format!("token digest algorithm {} not supported", si.digest_alg.oid)),
    };
    if !dig_ok {
        return Err("token content digest mismatch".into());
    }
    let msg = attrs.to_der().map_err(|e| e.to_string())?;
    verify_raw(
        &tsa_cert.tbs_certificate.subject_public_key_info,
        &si.signature_algorithm.oid,
        &msg,
        si.signature.as_bytes(),
    )?;
    let trusted = trust.map(|roots| chain_trusted(&build_chain(&tsa_cert, &certs), roots));
    let t = info.gen_time.to_date_time();
    Ok((format!("{t}"), trusted, info.gen_time.to_unix_duration().as_secs()))
}

/// Lists changes after offset `end` that PAdES does not allow after a signature.
fn later_changes(data: &[u8], end: usize, new: &Document) -> Result<Vec<String>, PadesError> {
    let old = Document::load(&data[..end])?;
    let mut out = Vec::new();
    // the DSS (and its arrays and VRI dictionary, when indirect) may be extended by later updates
    let mut dss_objects: HashSet<u32> = HashSet::new();
    for d in [&old, new] {
        // the document information dictionary (producer, modification date): pyHanko updates it
        // with every revision, and its diff policy allows that
        if let Some(Obj::Ref(n, _)) = d.trailer.get("Info") {
            dss_objects.insert(*n);
        }
        if let Some(Obj::Ref(n, _)) = d.catalog().ok().and_then(|c| c.get("DSS").cloned()) {
            dss_objects.insert(n);
            if let Ok(dd) = d.get(n, 0).and_then(|o| d.resolve_dict(&o)) {
                for k in ["Certs", "OCSPs", "CRLs", "VRI"] {
                    if let Some(Obj::Ref(m, _)) = dd.get(k) {
                        dss_objects.insert(*m);
                    }
                }
            }
        }
    }
    let mut nums: Vec<u32> = new.xref.keys().copied().filter(|n| !dss_objects.contains(n)).collect();
    nums.sort();
    for n in nums {
        let ne = new.xref[&n];
        let oe = old.xref.get(&n).copied();
        if Some(ne) == oe {
            continue;
        }
        let old_obj = match oe {
            None | Some(XrefEntry::Free) => continue, // a new object
            Some(_) => old.get(n, 0).unwrap_or(Obj::Null),
        };
        if matches!(old_obj, Obj::Null) {
            continue;
        }
        let new_obj = match ne {
            XrefEntry::Free => {
                out.push(format!("object {n} deleted"));
                continue;
            }
            _ => new.get(n, 0).unwrap_or(Obj::Null),
        };
        if let Obj::Stream(d, _) = &new_obj
            && (d.name_is("Type", "XRef") || d.name_is("Type", "ObjStm"))
        {
            continue;
        }
        if !allowed_change(&old_obj, &new_obj) {
            out.push(format!("object {n} modified"));
        }
        if out.len() > 20 {
            break;
        }
    }
    Ok(out)
}

fn allowed_change(old: &Obj, new: &Obj) -> bool {
    if old == new {
        return true;
    }
    match (old, new) {
        (Obj::Array(o), Obj::Array(n)) => n.len() >= o.len() && n[..o.len()] == o[..],
        (Obj::Dict(o), Obj::Dict(n)) => {
            const FREE: [&str; 6] = ["Annots", "Fields", "SigFlags", "AcroForm", "DSS", "Extensions"];
            let keys: std::collections::BTreeSet<&[u8]> =
                o.0.iter().chain(n.0.iter()).map(|(k, _)| k.as_slice()).collect();
            keys.into_iter().all(|k| {
                let ks = std::str::from_utf8(k).unwrap_or("");
                let (ov, nv) = (o.get(ks), n.get(ks));
                ov == nv
                    || FREE.contains(&ks)
                    // filling an empty signature field
                    || (ks == "V" && ov.is_none() && o.name_is("FT", "Sig"))
            })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_lists_fold_runs() {
        assert_eq!(page_list(&[1, 2, 3, 60]), "1-3, 60");
        assert_eq!(page_list(&[5]), "5");
        assert_eq!(page_list(&[2, 4, 5]), "2, 4-5");
    }

    #[test]
    fn pdf_dates() {
        assert_eq!(pdf_date_to_rfc3339("D:20261126230333+08'00'"), "2026-11-26T23:03:33+08:00");
        assert_eq!(pdf_date_to_rfc3339("D:20261126230333Z"), "2026-11-26T23:03:33Z");
        assert_eq!(pdf_date_to_rfc3339("D:2026"), "D:2026");
        assert_eq!(pdf_date_to_rfc3339("D:20261126"), "2026-11-26T00:00:00Z");
    }

    #[test]
    fn digests_are_made_once_per_range_within_a_budget() {
        let data = vec![7u8; 1000];
        let mut r = Revisions::new(data.len());
        r.hash_budget = 2500;
        let d1 = r.digest(&data, 100, 200, 1000).unwrap();
        assert_eq!(r.digest(&data, 100, 200, 1000).unwrap(), d1);
        assert_eq!(r.hash_budget, 1600, "charged once");
        assert!(r.digest(&data, 100, 300, 1000).is_some()); // 800 left after
        assert!(r.digest(&data, 100, 400, 1000).is_some()); // 100 left after
        assert!(r.digest(&data, 100, 500, 1000).is_none(), "beyond the budget");
        r.hash_budget = 1 << 20;
        assert!(r.digest(&data, 100, 2000, 3000).is_none(), "out of range");
    }

    #[test]
    fn allowed_changes() {
        let o = Obj::Array(vec![Obj::Ref(1, 0)]);
        assert!(allowed_change(&o, &Obj::Array(vec![Obj::Ref(1, 0), Obj::Ref(2, 0)])));
        assert!(!allowed_change(&o, &Obj::Array(vec![Obj::Ref(2, 0)])));
        let p = Obj::Dict(Dict::new().with("Type", Obj::name("Page")).with("Contents", Obj::Ref(5, 0)));
        let p2 = Obj::Dict(
            Dict::new()
                .with("Type", Obj::name("Page"))
                .with("Contents", Obj::Ref(5, 0))
                .with("Annots", Obj::Array(vec![])),
        );
        let p3 = Obj::Dict(Dict::new().with("Type", Obj::name("Page")).with("Contents", Obj::Ref(6, 0)));
        assert!(allowed_change(&p, &p2));
        assert!(!allowed_change(&p, &p3));
    }
}
