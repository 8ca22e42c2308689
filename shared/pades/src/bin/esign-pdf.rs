//! esign-pdf: sign and verify PDFs offline.
//!
//! esign-pdf sign --key KEY.pem --cert CERT.pem [--chain CHAIN.pem] [--tsa URL] [--image SEAL.png]
//!                [--date-format FMT] [--utc-offset +08:00] [--reason TEXT] [--location TEXT]
//!                --place signature:PAGE:X,Y,W,H [--place signing_date:PAGE:X,Y,W,H ...] IN.pdf OUT.pdf
//! esign-pdf verify [--trust ROOT.pem] [--json] IN.pdf

use esign_pades::{HttpTsa, LocalSigner, Placement, PlacementKind, SignRequest, TimestampSource};
use std::process::ExitCode;

const USAGE: &str = "usage:\n  esign-pdf sign --key KEY.pem --cert CERT.pem [--chain CHAIN.pem] [--tsa URL] [--image SEAL.png] \
[--date-format FMT] [--utc-offset +HH:MM] [--reason TEXT] [--location TEXT] \
--place signature:PAGE:X,Y,W,H [--place signing_date:PAGE:X,Y,W,H ...] IN.pdf OUT.pdf\n  esign-pdf verify [--trust ROOT.pem] [--json] IN.pdf";

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

fn parse_place(s: &str) -> Result<Placement, String> {
    let bad = || format!("bad --place '{s}': expected signature|signing_date:PAGE:X,Y,W,H");
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
            "--json" => flags.push(a),
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
                ]
                .contains(&k.as_str())
                {
                    return Err(format!("unknown option {k} for sign"));
                }
            }
            if !flags.is_empty() {
                return Err("--json is an option of verify".into());
            }
            let [input, output] =
                <[String; 2]>::try_from(pos).map_err(|_| "sign needs IN.pdf and OUT.pdf".to_string())?;
            let key = read_text(&get("--key").ok_or("sign needs --key KEY.pem")?, "key")?;
            let cert = read_text(&get("--cert").ok_or("sign needs --cert CERT.pem")?, "certificate")?;
            let chain = match get("--chain") {
                Some(p) => Some(read_text(&p, "chain")?),
                None => None,
            };
            let signer = LocalSigner::from_pem(&key, &cert, chain.as_deref()).map_err(|e| e.to_string())?;
            let placements = opts
                .iter()
                .filter(|(k, _)| k == "--place")
                .map(|(_, v)| parse_place(v))
                .collect::<Result<Vec<_>, _>>()?;
            let mut req = SignRequest { placements, ..Default::default() };
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
            // write atomically: never leave a half-written output
            let tmp = format!("{output}.tmp{}", std::process::id());
            let write = || -> std::io::Result<()> {
                use std::io::Write;
                // The prefix is the input file itself: let the kernel copy it (copy_file_range,
                // a reflink where the file system has them) when the file is unchanged since we
                // read and hashed it; otherwise write the bytes we hashed.
                let unchanged =
                    |m: &std::fs::Metadata| m.len() == pdf.len() as u64 && m.modified().ok() == in_meta.modified().ok();
                let mut copied = false;
                if std::fs::metadata(&input).is_ok_and(|m| unchanged(&m)) && std::fs::copy(&input, &tmp).is_ok() {
                    copied = std::fs::metadata(&input).is_ok_and(|m| unchanged(&m))
                        && std::fs::metadata(&tmp).is_ok_and(|m| m.len() == pdf.len() as u64);
                }
                let mut f = if copied {
                    std::fs::OpenOptions::new().append(true).open(&tmp)?
                } else {
                    let mut f = std::fs::File::create(&tmp)?;
                    f.write_all(&pdf)?;
                    f
                };
                f.write_all(&update)?;
                f.flush()
            };
            write().map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                format!("cannot write {output}: {e}")
            })?;
            std::fs::rename(&tmp, &output).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                format!("cannot write {output}: {e}")
            })?;
            Ok(ExitCode::SUCCESS)
        }
        "verify" => {
            for (k, _) in &opts {
                if k != "--trust" {
                    return Err(format!("unknown option {k} for verify"));
                }
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
