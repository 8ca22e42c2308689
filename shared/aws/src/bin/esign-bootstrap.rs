//! `esign-bootstrap`: the one-time creation of the platform CA in a deployed stack. Run once after
//! `sam deploy`, with credentials allowed to use the stack's CA keys and table:
//!
//! ```sh
//! ESIGN_TABLE=<RecordsTableName> ESIGN_ROOT_CA_KEY=<RootCaKeyId> ESIGN_ISSUING_CA_KEY=<IssuingCaKeyId> \
//! ESIGN_TSA_KEY=<TsaKeyId> ESIGN_OCSP_KEY=<OcspKeyId> ESIGN_EVIDENCE_KEY=<EvidenceKeyId> ESIGN_PUBLIC_URL=<ApiUrl> \
//! ESIGN_STACK_NAME=<stack> \
//! cargo run --release -p esign-aws --bin esign-bootstrap
//! ```
//!
//! It makes the root CA certificate (self-signed with the root key in KMS), the issuing CA
//! certificate (naming the root's CRL at `ESIGN_PUBLIC_URL`), the TSA certificate, the OCSP
//! responder certificate and the evidence seal's certificate, stores them in the table, and prints
//! the CA chain. Run again, it only adds what a CA bootstrapped by an older version lacks (the OCSP
//! responder and evidence seal certificates) and
//! prints the same chain. The CRLs are published by the `refresh-crls` function (invoke it once
//! after bootstrapping; its schedule keeps them fresh).

use std::process::ExitCode;

use esign_aws::authority::KmsAuthority;
use esign_aws::dynamo::DynamoStore;
use esign_core::ports::SealAuthority;

#[tokio::main]
async fn main() -> ExitCode {
    let (table, keys) = match (std::env::var(esign_aws::ENV_TABLE), esign_aws::ca_keys_from_env()) {
        (Ok(t), Ok(k)) => (t, k),
        (Err(_), _) => {
            eprintln!("esign-bootstrap: {} is not set", esign_aws::ENV_TABLE);
            return ExitCode::FAILURE;
        }
        (_, Err(e)) => {
            eprintln!("esign-bootstrap: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stack = std::env::var(esign_aws::ENV_STACK_NAME).unwrap_or_else(|_| "esign".into());
    let sdk = esign_aws::sdk_config_from_chain().await;
    let store = DynamoStore::from_sdk(&sdk, table);
    let public_url = std::env::var(esign_aws::ENV_PUBLIC_URL).ok().filter(|u| !u.trim().is_empty());
    match KmsAuthority::bootstrap(&sdk, &store, &keys, &stack, public_url.as_deref()).await {
        Ok(authority) => match authority.ca_certificates_pem().await {
            Ok(pem) => {
                print!("{pem}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("esign-bootstrap: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("esign-bootstrap: {e}");
            ExitCode::FAILURE
        }
    }
}
