//! ESIGN_FUZZ_PKI=DIR cargo +nightly fuzz run verify   (from shared/pades; DIR from mkpki.sh)
//! The verifier on arbitrary bytes, without and with trust roots (DIR/root.pem): errors and
//! reports are fine; panics, hangs, aborts and memory blow-ups are findings. A signature is never
//! intact unless its /ByteRange lies inside the file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use x509_cert::Certificate;

fn roots() -> &'static Vec<Certificate> {
    static R: OnceLock<Vec<Certificate>> = OnceLock::new();
    R.get_or_init(|| {
        let dir = std::path::PathBuf::from(std::env::var("ESIGN_FUZZ_PKI").expect("ESIGN_FUZZ_PKI: a mkpki.sh folder"));
        let pem = std::fs::read(dir.join("root.pem")).expect("DIR/root.pem");
        esign_pades::cms_sig::certs_from_pem(&pem).expect("root certificate")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(rep) = esign_pades::verify_pdf(data) {
        for s in &rep.signatures {
            // an intact signature covers bytes that exist: [0 a b c], a <= b, b + c within the file
            if s.intact() {
                let br = &s.byte_range;
                assert!(br.len() == 4 && br.iter().all(|&v| v >= 0), "intact with ByteRange {br:?}");
                assert!(
                    br[0] == 0 && br[1] <= br[2] && (br[2] as u64 + br[3] as u64) <= data.len() as u64,
                    "intact with ByteRange {br:?}"
                );
            }
        }
        let _ = rep.to_text();
    }
    if let Ok(rep) = esign_pades::verify_pdf_with_trust(data, Some(roots())) {
        let _ = serde_json::to_string(&rep);
    }
});
