//! ESIGN_FUZZ_PKI=DIR cargo +nightly fuzz run load_and_sign   (from shared/pades), where DIR was
//! made by ../shared/pdfcheck/pki/mkpki.sh (no key lives in the repository).
//! Loads arbitrary bytes as a PDF, signs them with that test P-256 key (one visible placement
//! and one invisible act), and verifies the input and the result: errors are fine, panics,
//! hangs and crashes are findings.
#![no_main]
use esign_pades::{LocalSigner, Placement, PlacementKind, SignRequest};
use libfuzzer_sys::fuzz_target;
use std::future::Future;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

/// The local signer never waits: poll to completion with a no-op waker.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn signer() -> &'static LocalSigner {
    static S: OnceLock<LocalSigner> = OnceLock::new();
    S.get_or_init(|| {
        let dir = std::path::PathBuf::from(std::env::var("ESIGN_FUZZ_PKI").expect("ESIGN_FUZZ_PKI: a mkpki.sh folder"));
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("test PKI file");
        LocalSigner::from_pem(&read("seal_ec.key"), &read("seal_ec.pem"), None).expect("fuzz key")
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = esign_pades::verify_pdf(data);
    let req = SignRequest {
        placements: vec![
            Placement { kind: PlacementKind::Signature, page: 1, x: 10.0, y: 10.0, width: 40.0, height: 40.0 },
            Placement { kind: PlacementKind::SigningDate, page: 1, x: 10.0, y: 52.0, width: 40.0, height: 8.0 },
        ],
        ..Default::default()
    };
    if let Ok(out) = block_on(esign_pades::sign_pdf(data, req, signer(), None)) {
        assert!(out.starts_with(data));
        let _ = esign_pades::verify_pdf(&out);
        let _ = block_on(esign_pades::sign_pdf(&out, SignRequest::default(), signer(), None));
    }
});
