//! The emulator for the adapters' tests: `scripts/emulator.sh` starts it when none answers.

use std::path::Path;
use std::process::Command;

/// SDK settings for the emulator (started if needed).
pub async fn emulator_sdk() -> esign_aws::SdkConfig {
    // Read at run time: a target directory shared between clones may hold a binary built in another.
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let script = Path::new(&root).join("../../scripts/emulator.sh");
    let out = Command::new(&script).output().expect("scripts/emulator.sh runs");
    assert!(out.status.success(), "emulator.sh: {}", String::from_utf8_lossy(&out.stderr));
    esign_aws::emulator_sdk_config(String::from_utf8(out.stdout).unwrap().trim())
}
