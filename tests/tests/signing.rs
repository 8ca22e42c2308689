//! A PDF signed through the engine with seals' KMS keys and the platform TSA passes the
//! independent judges with the platform root from `GET /v1/ca/certificates` as the only trust
//! anchor; a second party's signature keeps the first one valid.

use std::path::PathBuf;
use std::process::Command;

use esign_core::ports::{Key, RecordStore};
use esign_e2e::{Api, repo_root};
use esign_pades::{HttpTsa, Placement, PlacementKind, SignRequest};

fn kit() -> PathBuf {
    repo_root().join("../shared/pdfcheck")
}

/// An active seal's KMS key id and certificate chain PEM.
fn seal_key(api: &Api, company: &str, algorithm: &str) -> (String, String) {
    let (id, _, _, seal) = esign_e2e::active_seal(api, company, algorithm);
    let cert = &seal["certificate"];
    let chain = format!("{}{}", cert["pem"].as_str().unwrap(), cert["chain_pem"].as_str().unwrap());
    // The key id is not part of the API: read it where the platform keeps it.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let key_id = rt.block_on(async {
        let sdk = esign_aws::emulator_sdk_config(esign_e2e::emulator());
        let store = esign_aws::dynamo::DynamoStore::from_sdk(&sdk, esign_e2e::records_table());
        let record = store.get(&Key::new(format!("SEAL#{id}"), "SEAL")).await.unwrap().unwrap();
        record.data["key_id"].as_str().unwrap().to_owned()
    });
    (key_id, chain)
}

fn sign(api: &Api, pdf: &[u8], key_id: &str, chain: &str, y: f64) -> Vec<u8> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sdk = esign_aws::emulator_sdk_config(esign_e2e::emulator());
        let signer = esign_aws::seal_signer::KmsSealSigner::connect(aws_sdk_kms::Client::new(&sdk), key_id, chain)
            .await
            .expect("KMS signer");
        let tsa = HttpTsa::new(format!("{}/v1/tsa", api.base));
        let request = SignRequest {
            placements: vec![
                Placement { kind: PlacementKind::Signature, page: 1, x: 350.0, y, width: 120.0, height: 120.0 },
                Placement {
                    kind: PlacementKind::SigningDate,
                    page: 1,
                    x: 350.0,
                    y: y + 125.0,
                    width: 120.0,
                    height: 18.0,
                },
            ],
            ..Default::default()
        };
        esign_pades::sign_pdf(pdf, request, &signer, Some(&tsa)).await.expect("signed")
    })
}

#[test]
fn pdfs_signed_with_kms_seals_and_the_platform_tsa_pass_every_judge() {
    let api = Api::new();
    let dir = std::env::temp_dir().join(format!("esign-signing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let venv = std::env::var("PDFCHECK_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/pdfcheck/venv"));
    let unsigned = dir.join("contract.pdf");
    let made =
        Command::new(venv.join("bin/python")).arg(kit().join("make_unsigned.py")).arg(&unsigned).status().unwrap();
    assert!(made.success(), "make_unsigned.py");

    // The only trust anchor: the root as the platform publishes it.
    let chain = api.get("/v1/ca/certificates").send();
    let pems = String::from_utf8(chain.raw).unwrap();
    let root = &pems[..pems.find("-----END CERTIFICATE-----").unwrap() + 26];
    std::fs::write(dir.join("root.pem"), root).unwrap();

    let (ec_key, ec_chain) = seal_key(&api, "甲方签约有限公司", "ecdsa_p256");
    let (rsa_key, rsa_chain) = seal_key(&api, "乙方签约有限公司", "rsa_2048");
    let first = sign(&api, &std::fs::read(&unsigned).unwrap(), &ec_key, &ec_chain, 80.0);
    std::fs::write(dir.join("party-a.pdf"), &first).unwrap();
    esign_e2e::check_signed_file(&dir.join("party-a.pdf"), &dir.join("root.pem"), 1);
    let second = sign(&api, &first, &rsa_key, &rsa_chain, 420.0);
    assert!(second.starts_with(&first), "the first revision is an exact prefix");
    std::fs::write(dir.join("party-b.pdf"), &second).unwrap();
    esign_e2e::check_signed_file(&dir.join("party-b.pdf"), &dir.join("root.pem"), 2);

    // The engine's own verifier agrees: both intact, timestamped, trusted.
    let roots = esign_pades::cms_sig::certs_from_pem(root.as_bytes()).unwrap();
    let report = esign_pades::verify_pdf_with_trust(&second, Some(&roots)).unwrap();
    assert_eq!(report.signatures.len(), 2);
    for s in &report.signatures {
        assert!(s.intact, "{s:?}");
        assert_eq!(s.trusted, Some(true), "{s:?}");
        assert_eq!(s.time_source, "timestamp", "{s:?}");
        assert_eq!(s.timestamp_valid, Some(true), "{s:?}");
    }
    let signers: Vec<_> = report.signatures.iter().map(|s| s.signer.clone().unwrap_or_default()).collect();
    assert!(signers.iter().all(|n| n.contains("合同专用章")), "{signers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
