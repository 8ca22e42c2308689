//! Test harness around the pdfcheck kit (../../../shared/pdfcheck relative to this crate).
//! Missing kit or tools make the tests FAIL, never skip.
#![allow(dead_code)]

use esign_pades::{LocalSigner, Placement, PlacementKind, SignRequest};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub fn kit() -> PathBuf {
    // The run-time value first: a shared target directory may hold a binary built in another clone.
    let k = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()))
        .join("../../../shared/pdfcheck");
    assert!(
        k.join("check_signed_pdf.sh").exists(),
        "the pdfcheck kit is missing at {} (run ../shared/pdfcheck/install.sh once per machine)",
        k.display()
    );
    k.canonicalize().unwrap()
}

pub fn venv_python() -> PathBuf {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let v = std::env::var("PDFCHECK_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(&home).join(".cache/pdfcheck/venv"));
    let py = v.join("bin/python");
    assert!(py.exists(), "pdfcheck venv missing at {}: run ../shared/pdfcheck/install.sh", v.display());
    py
}

pub fn work_dir() -> &'static Path {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("esign-pades-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

/// A throwaway PKI made by the kit's mkpki.sh (once per test binary).
pub fn pki() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let d = work_dir().join("pki");
        let out = Command::new(kit().join("pki/mkpki.sh")).arg(&d).output().expect("run mkpki.sh");
        assert!(out.status.success(), "mkpki.sh failed: {}", String::from_utf8_lossy(&out.stderr));
        assert!(d.join("root.pem").exists());
        d
    })
}

/// URL of the kit's openssl-backed TSA, started once per test binary on a free port. The server
/// is wrapped so that it exits when this test process does.
#[allow(clippy::zombie_processes)]
pub fn tsa_url() -> &'static str {
    static U: OnceLock<String> = OnceLock::new();
    U.get_or_init(|| {
        let pki = pki();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let script = format!(
            "python3 '{}' '{}' {port} 2>/dev/null & p=$!; while kill -0 {} 2>/dev/null; do sleep 0.5; done; kill $p",
            kit().join("tsa/tsa_server.py").display(),
            pki.display(),
            std::process::id()
        );
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start TSA");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return format!("http://127.0.0.1:{port}/");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the kit TSA did not start on port {port}");
    })
}

pub fn signer(kind: &str) -> LocalSigner {
    let p = pki();
    let key = std::fs::read_to_string(p.join(format!("seal_{kind}.key"))).unwrap();
    let cert = std::fs::read_to_string(p.join(format!("seal_{kind}.pem"))).unwrap();
    let chain = std::fs::read_to_string(p.join("int.pem")).unwrap();
    LocalSigner::from_pem(&key, &cert, Some(&chain)).unwrap()
}

/// The kit's plain two-page PDF (reportlab), made once.
pub fn unsigned_pdf() -> Vec<u8> {
    static U: OnceLock<Vec<u8>> = OnceLock::new();
    U.get_or_init(|| {
        let out = work_dir().join("unsigned.pdf");
        let st = Command::new(venv_python()).arg(kit().join("make_unsigned.py")).arg(&out).status().unwrap();
        assert!(st.success(), "make_unsigned.py failed");
        std::fs::read(out).unwrap()
    })
    .clone()
}

pub fn place(kind: PlacementKind, page: u32, x: f64, y: f64, w: f64, h: f64) -> Placement {
    Placement { kind, page, x, y, width: w, height: h }
}

pub fn req(placements: Vec<Placement>) -> SignRequest {
    SignRequest { placements, ..Default::default() }
}

pub fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let p = work_dir().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Runs check_signed_pdf.sh and asserts PASS; returns the verdict line.
pub fn check(pdf: &Path, expect: usize) -> String {
    let out = Command::new(kit().join("check_signed_pdf.sh"))
        .arg("--expect")
        .arg(expect.to_string())
        .arg(pdf)
        .arg(pki().join("root.pem"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or("").to_string();
    assert!(
        out.status.success() && last.starts_with("PASS"),
        "pdfcheck failed for {}:\n{stdout}\n{}",
        pdf.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    last
}

pub fn check_tamper(pdf: &Path) -> String {
    let out = Command::new(kit().join("check_signed_pdf.sh"))
        .arg("--tamper")
        .arg(pdf)
        .arg(pki().join("root.pem"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or("").to_string();
    assert!(out.status.success() && last.starts_with("PASS"), "tamper check failed for {}:\n{stdout}", pdf.display());
    last
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

pub fn qpdf(args: &[&str]) {
    let st = Command::new("qpdf").args(args).status().expect("qpdf");
    assert!(st.success() || st.code() == Some(3), "qpdf {args:?} failed");
}

/// Renders one page at 72 dpi (1 px = 1 pt, as displayed: CropBox + /Rotate) -> (w, h, rgb).
pub fn render(pdf: &Path, page: u32) -> (usize, usize, Vec<u8>) {
    let base = work_dir().join(format!("render-{}-{page}", pdf.file_stem().unwrap().to_string_lossy()));
    let st = Command::new("pdftoppm")
        .args(["-cropbox", "-r", "72", "-f", &page.to_string(), "-l", &page.to_string(), "-singlefile"])
        .arg(pdf)
        .arg(&base)
        .status()
        .unwrap();
    assert!(st.success());
    let data = std::fs::read(base.with_extension("ppm")).unwrap();
    // P6\n<w> <h>\n255\n
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while data[i].is_ascii_whitespace() {
            i += 1;
        }
        let s = i;
        while !data[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&data[s..i]).to_string());
    }
    i += 1;
    let w: usize = fields[1].parse().unwrap();
    let h: usize = fields[2].parse().unwrap();
    (w, h, data[i..i + w * h * 3].to_vec())
}

/// Bounding box (x0, y0, x1, y1) of strongly red pixels in a rendering.
pub fn red_bbox(w: usize, h: usize, rgb: &[u8]) -> Option<(usize, usize, usize, usize)> {
    let mut bb: Option<(usize, usize, usize, usize)> = None;
    for y in 0..h {
        for x in 0..w {
            let p = &rgb[(y * w + x) * 3..];
            if p[0] > 150 && p[1] < 90 && p[2] < 90 {
                bb = Some(match bb {
                    None => (x, y, x, y),
                    Some((a, b, c, d)) => (a.min(x), b.min(y), c.max(x), d.max(y)),
                });
            }
        }
    }
    bb
}
