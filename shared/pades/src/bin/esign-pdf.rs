//! esign-pdf: sign and verify PDFs offline.
//!
//! esign-pdf sign --key KEY.pem --cert CERT.pem [--chain CHAIN.pem] [--tsa URL] [--image SEAL.png]
//!                [--date-format FMT] [--utc-offset +08:00] [--reason TEXT] [--location TEXT]
//!                --place signature:PAGE:X,Y,W,H [--place signing_date:PAGE:X,Y,W,H ...]
//!                [--place cross_page:FIRST-LAST:Y,SIZE] IN.pdf OUT.pdf
//!   Placements may be on several pages: still one signing act. `cross_page` cuts the seal (SIZE
//!   points square, its top Y points below the top of each page) into one strip per page of
//!   FIRST-LAST (`all` for every page) at the right edge of each page.
//!   Long-term validation: `--ltv-certs CERTS.pem` (a PEM bundle or DER; repeatable),
//!   `--ltv-ocsp RESP.der` and `--ltv-crl CRL` (DER or PEM; repeatable) add a DSS update after
//!   the signature (B-LT); `--doc-timestamp` (needs --tsa) then adds a document time stamp and,
//!   with validation data given, a last DSS update with a VRI entry for it (B-LTA).
//! esign-pdf ltv [--ltv-certs ..] [--ltv-ocsp ..] [--ltv-crl ..] IN.pdf OUT.pdf   (a DSS update)
//! esign-pdf timestamp --tsa URL IN.pdf OUT.pdf                                (a document time stamp)
//! esign-pdf verify [--trust ROOT.pem] [--json] IN.pdf

use esign_pades::{CrossPageSeal, HttpTsa, LocalSigner, Placement, PlacementKind, SignRequest, TimestampSource};
use std::process::ExitCode;

const USAGE: &str = "usage:\n  esign-pdf sign --key KEY.pem --cert CERT.pem [--chain CHAIN.pem] [--tsa URL] [--image SEAL.png] \
[--date-format FMT] [--utc-offset +HH:MM] [--reason TEXT] [--location TEXT] \
--place signature:PAGE:X,Y,W,H [--place signing_date:PAGE:X,Y,W,H ...] [--place cross_page:FIRST-LAST:Y,SIZE] \
[--ltv-certs CERTS.pem] [--ltv-ocsp RESP.der] [--ltv-crl CRL] [--doc-timestamp] \
IN.pdf OUT.pdf\n  esign-pdf ltv [--ltv-certs CERTS.pem] [--ltv-ocsp RESP.der] [--ltv-crl CRL] IN.pdf OUT.pdf\n  \
esign-pdf timestamp --tsa URL IN.pdf OUT.pdf\n  esign-pdf verify [--trust ROOT.pem] [--json] IN.pdf";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(args) {
        Ok(code) => code,
        Err(msg) => {
            let one_line = msg.replace('\n', " ");
            eprintln!("esign-pdf: {one_line}");
            ExitCode::from(1)
        }
    }
}

fn read(path: &str, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {what} {path}: {e}"))
}

fn read_text(path: &str, what: &str) -> Result<String, String> {
    String::from_utf8(read(path, what)?).map_err(|_| format!("{what} {path} is not a text (PEM) file"))
}

/// DER of a file that is DER already or PEM (every block of it).
fn der_items(path: &str, what: &str) -> Result<Vec<Vec<u8>>, String> {
    let bytes = read(path, what)?;
    let text = String::from_utf8_lossy(&bytes);
    if !text.contains("-----BEGIN ") {
        return Ok(vec![bytes]);
    }
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let end_marker = block.find("-----END ").ok_or_else(|| format!("{what} {path}: unterminated PEM block"))?;
        let end = block[end_marker + 9..].find("-----").map(|k| end_marker + 9 + k + 5).unwrap_or(block.len());
        let (_, der) = der::pem::decode_vec(&block.as_bytes()[..end]).map_err(|e| format!("{what} {path}: {e}"))?;
        out.push(der);
        rest = &block[end..];
    }
    Ok(out)
}

/// The validation data named by --ltv-certs / --ltv-ocsp / --ltv-crl.
fn validation_data(opts: &[(String, String)]) -> Result<esign_pades::ValidationData, String> {
    let mut data = esign_pades::ValidationData::default();
    for (k, v) in opts {
        match k.as_str() {
            "--ltv-certs" => data.certs.extend(der_items(v, "certificates")?),
            "--ltv-ocsp" => data.ocsps.extend(der_items(v, "OCSP response")?),
            "--ltv-crl" => data.crls.extend(der_items(v, "CRL")?),
            _ => {}
        }
    }
    Ok(data)
}

/// Writes `prefix ++ tail` to `output` atomically (never a half-written output). When `prefix`
/// is the unchanged content of `input`, the kernel copies it (copy_file_range, a reflink where
/// the file system has them); otherwise the bytes are written.
fn write_output(
    input: &str,
    in_meta: &std::fs::Metadata,
    prefix: &[u8],
    tail: &[u8],
    output: &str,
) -> Result<(), String> {
    let tmp = format!("{output}.tmp{}", std::process::id());
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let unchanged =
            |m: &std::fs::Metadata| m.len() == prefix.len() as u64 && m.modified().ok() == in_meta.modified().ok();
        let mut copied = false;
        if std::fs::metadata(input).is_ok_and(|m| unchanged(&m)) && std::fs::copy(input, &tmp).is_ok() {
            copied = std::fs::metadata(input).is_ok_and(|m| unchanged(&m))
                && std::fs::metadata(&tmp).is_ok_and(|m| m.len() == prefix.len() as u64);
        }
        let mut f = if copied {
            std::fs::OpenOptions::new().append(true).open(&tmp)?
        } else {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(prefix)?;
            f
        };
        f.write_all(tail)?;
        f.flush()
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {output}: {e}")
    })?;
    std::fs::rename(&tmp, output).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {output}: {e}")
    })
}

/// One `--place`: a widget, or the cross-page seal.
#[derive(Debug, PartialEq)]
enum Place {
    Widget(Placement),
    CrossPage(CrossPageSeal),
}

/// `cross_page:FIRST-LAST:Y,SIZE` (or `cross_page:all:Y,SIZE`).
fn parse_cross_page(s: &str, spec: &str) -> Result<CrossPageSeal, String> {
    let bad = || format!("bad --place '{s}': expected cross_page:FIRST-LAST:Y,SIZE or cross_page:all:Y,SIZE");
    let (range, nums) = spec.split_once(':').ok_or_else(bad)?;
    let (first_page, last_page) = match range.trim() {
        "all" | "" => (None, None),
        r => {
            let (a, b) = r.split_once('-').ok_or_else(bad)?;
            (Some(a.trim().parse::<u32>().map_err(|_| bad())?), Some(b.trim().parse::<u32>().map_err(|_| bad())?))
        }
    };
    let (y, size) = nums.split_once(',').ok_or_else(bad)?;
    let (y, size) = (y.trim().parse::<f64>().map_err(|_| bad())?, size.trim().parse::<f64>().map_err(|_| bad())?);
    if !y.is_finite() || !size.is_finite() {
        return Err(bad());
    }
    Ok(CrossPageSeal { first_page, last_page, y, size })
}

fn parse_place(s: &str) -> Result<Place, String> {
    if let Some(spec) = s.strip_prefix("cross_page:").or_else(|| s.strip_prefix("cross-page:")) {
        return parse_cross_page(s, spec).map(Place::CrossPage);
    }
    parse_widget(s).map(Place::Widget)
}

fn parse_widget(s: &str) -> Result<Placement, String> {
    let bad =
        || format!("bad --place '{s}': expected signature|signing_date:PAGE:X,Y,W,H or cross_page:FIRST-LAST:Y,SIZE");
    let mut parts = s.splitn(3, ':');
    let kind = match parts.next() {
        Some("signature") => PlacementKind::Signature,
        Some("signing_date") | Some("signing-date") | Some("date") => PlacementKind::SigningDate,
        _ => return Err(bad()),
    };
    let page: u32 = parts.next().and_then(|p| p.trim().parse().ok()).ok_or_else(bad)?;
    let nums: Vec<f64> = parts
        .next()
        .ok_or_else(bad)?
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    if nums.len() != 4 || nums.iter().any(|v| !v.is_finite()) {
        return Err(bad());
    }
    Ok(Placement { kind, page, x: nums[0], y: nums[1], width: nums[2], height: nums[3] })
}

fn parse_offset(s: &str) -> Result<time::UtcOffset, String> {
    let bad = || format!("bad --utc-offset '{s}': expected +HH:MM");
    if s == "Z" || s == "UTC" {
        return Ok(time::UtcOffset::UTC);
    }
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1i8, &s[1..]),
        Some(b'-') => (-1i8, &s[1..]),
        _ => return Err(bad()),
    };
    let mut it = rest.split(':');
    let h: i8 = it.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let m: i8 = it.next().map(|v| v.parse().ok()).unwrap_or(Some(0)).ok_or_else(bad)?;
    time::UtcOffset::from_hms(sign * h, sign * m, 0).map_err(|_| bad())
}

fn run(args: Vec<String>) -> Result<ExitCode, String> {
    let mut it = args.into_iter();
    let cmd = it.next().ok_or_else(|| USAGE.replace('\n', " "))?;
    let mut opts: Vec<(String, String)> = Vec::new();
    let mut flags: Vec<String> = Vec::new();
    let mut pos: Vec<String> = Vec::new();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" | "--doc-timestamp" => flags.push(a),
            "-h" | "--help" => {
                use std::io::Write;
                let _ = writeln!(std::io::stdout(), "{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            s if s.starts_with("--") => {
                let v = it.next().ok_or_else(|| format!("option {s} needs a value"))?;
                opts.push((a, v));
            }
            _ => pos.push(a),
        }
    }
    let get = |k: &str| opts.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    match cmd.as_str() {
        "sign" => {
            for (k, _) in &opts {
                if ![
                    "--key",
                    "--cert",
                    "--chain",
                    "--tsa",
                    "--image",
                    "--place",
                    "--date-format",
                    "--utc-offset",
                    "--reason",
                    "--location",
                    "--field",
                    "--ltv-certs",
                    "--ltv-ocsp",
                    "--ltv-crl",
                ]
                .contains(&k.as_str())
                {
                    return Err(format!("unknown option {k} for sign"));
                }
            }
            if flags.iter().any(|f| f == "--json") {
                return Err("--json is an option of verify".into());
            }
            let doc_timestamp = flags.iter().any(|f| f == "--doc-timestamp");
            if doc_timestamp && get("--tsa").is_none() {
                return Err("--doc-timestamp needs --tsa URL".into());
            }
            let ltv = validation_data(&opts)?;
            let [input, output] =
                <[String; 2]>::try_from(pos).map_err(|_| "sign needs IN.pdf and OUT.pdf".to_string())?;
            let key = read_text(&get("--key").ok_or("sign needs --key KEY.pem")?, "key")?;
            let cert = read_text(&get("--cert").ok_or("sign needs --cert CERT.pem")?, "certificate")?;
            let chain = match get("--chain") {
                Some(p) => Some(read_text(&p, "chain")?),
                None => None,
            };
            let signer = LocalSigner::from_pem(&key, &cert, chain.as_deref()).map_err(|e| e.to_string())?;
            let mut req = SignRequest::default();
            for (_, v) in opts.iter().filter(|(k, _)| k == "--place") {
                match parse_place(v)? {
                    Place::Widget(p) => req.placements.push(p),
                    Place::CrossPage(_) if req.cross_page.is_some() => {
                        return Err("at most one --place cross_page per signing act".into());
                    }
                    Place::CrossPage(c) => req.cross_page = Some(c),
                }
            }
            if let Some(p) = get("--image") {
                req.seal_png = Some(read(&p, "image")?);
            }
            if let Some(f) = get("--date-format") {
                req.date_format = f;
            }
            if let Some(o) = get("--utc-offset") {
                req.utc_offset = parse_offset(&o)?;
            }
            req.reason = get("--reason");
            req.location = get("--location");
            req.field_name = get("--field");
            let tsa = get("--tsa").map(HttpTsa::new);
            let in_meta = std::fs::metadata(&input).map_err(|e| format!("cannot read input {input}: {e}"))?;
            let pdf = read(&input, "input")?;
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            let update = rt
                .block_on(esign_pades::sign_pdf_update(
                    &pdf,
                    req,
                    &signer,
                    tsa.as_ref().map(|t| t as &dyn TimestampSource),
                ))
                .map_err(|e| format!("{input}: {e}"))?;
            // long-term validation: a DSS update, a document time stamp, a DSS update for it
            let mut tail = update;
            if !ltv.is_empty() || doc_timestamp {
                let mut whole = pdf.clone();
                whole.extend_from_slice(&tail);
                if !ltv.is_empty() {
                    let u =
                        esign_pades::add_validation_data_update(&whole, &ltv).map_err(|e| format!("{input}: {e}"))?;
                    whole.extend_from_slice(&u);
                }
                if let Some(t) = tsa.as_ref().filter(|_| doc_timestamp) {
                    let u = rt
                        .block_on(esign_pades::timestamp_pdf_update(&whole, t))
                        .map_err(|e| format!("{input}: {e}"))?;
                    whole.extend_from_slice(&u);
                    if !ltv.is_empty() {
                        let u = esign_pades::add_validation_data_update(&whole, &ltv)
                            .map_err(|e| format!("{input}: {e}"))?;
                        whole.extend_from_slice(&u);
                    }
                }
                tail = whole.split_off(pdf.len());
            }
            write_output(&input, &in_meta, &pdf, &tail, &output)?;
            Ok(ExitCode::SUCCESS)
        }
        "ltv" | "timestamp" => {
            let allowed: &[&str] = if cmd == "ltv" { &["--ltv-certs", "--ltv-ocsp", "--ltv-crl"] } else { &["--tsa"] };
            for (k, _) in &opts {
                if !allowed.contains(&k.as_str()) {
                    return Err(format!("unknown option {k} for {cmd}"));
                }
            }
            if !flags.is_empty() {
                return Err(format!("{} is not an option of {cmd}", flags[0]));
            }
            let [input, output] =
                <[String; 2]>::try_from(pos).map_err(|_| format!("{cmd} needs IN.pdf and OUT.pdf"))?;
            let in_meta = std::fs::metadata(&input).map_err(|e| format!("cannot read input {input}: {e}"))?;
            let pdf = read(&input, "input")?;
            let tail = if cmd == "ltv" {
                let data = validation_data(&opts)?;
                if data.is_empty() {
                    return Err("ltv needs --ltv-certs, --ltv-ocsp or --ltv-crl".into());
                }
                esign_pades::add_validation_data_update(&pdf, &data).map_err(|e| format!("{input}: {e}"))?
            } else {
                let tsa = HttpTsa::new(get("--tsa").ok_or("timestamp needs --tsa URL")?);
                let rt =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
                rt.block_on(esign_pades::timestamp_pdf_update(&pdf, &tsa)).map_err(|e| format!("{input}: {e}"))?
            };
            write_output(&input, &in_meta, &pdf, &tail, &output)?;
            Ok(ExitCode::SUCCESS)
        }
        "verify" => {
            for (k, _) in &opts {
                if k != "--trust" {
                    return Err(format!("unknown option {k} for verify"));
                }
            }
            if flags.iter().any(|f| f == "--doc-timestamp") {
                return Err("--doc-timestamp is an option of sign".into());
            }
            let [input] = <[String; 1]>::try_from(pos).map_err(|_| "verify needs exactly one IN.pdf".to_string())?;
            let trust = match get("--trust") {
                Some(p) => {
                    Some(esign_pades::cms_sig::certs_from_pem(&read(&p, "trust roots")?).map_err(|e| e.to_string())?)
                }
                None => None,
            };
            let pdf = read(&input, "input")?;
            let report =
                esign_pades::verify_pdf_with_trust(&pdf, trust.as_deref()).map_err(|e| format!("{input}: {e}"))?;
            let text = if flags.iter().any(|f| f == "--json") {
                serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n"
            } else {
                report.to_text()
            };
            {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return Ok(ExitCode::from(1));
                    }
                    return Err(format!("cannot write the report: {e}"));
                }
            }
            let ok = report.all_valid(trust.is_some());
            if ok {
                Ok(ExitCode::SUCCESS)
            } else {
                if report.signatures.is_empty() {
                    eprintln!("esign-pdf: {input}: no signatures found");
                } else {
                    eprintln!(
                        "esign-pdf: {input}: not every signature is intact{}",
                        if trust.is_some() { " and trusted" } else { "" }
                    );
                }
                Ok(ExitCode::from(1))
            }
        }
        other => Err(format!("unknown command '{other}'; {}", USAGE.replace('\n', " "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_page_places_parse() {
        let c = |first, last, y, size| Place::CrossPage(CrossPageSeal { first_page: first, last_page: last, y, size });
        assert_eq!(parse_place("cross_page:1-60:300,120").unwrap(), c(Some(1), Some(60), 300.0, 120.0));
        assert_eq!(parse_place("cross_page:all:10.5,90").unwrap(), c(None, None, 10.5, 90.0));
        for bad in ["cross_page:1:3,4", "cross_page:1-2:3", "cross_page:a-b:1,2", "cross_page:1-2:nan,2", "cross_page:"]
        {
            assert!(parse_place(bad).is_err(), "{bad}");
        }
        assert!(matches!(parse_place("signature:2:1,2,3,4").unwrap(), Place::Widget(p) if p.page == 2));
    }
}
