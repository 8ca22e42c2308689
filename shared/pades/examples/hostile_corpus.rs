//! Writes the adversarial corpus (tests/adversarial) to a folder, one NAME.pdf per case, for the
//! benchmark (bench/hostile.sh) and the fuzz seed corpus (fuzz/seed.sh).
//!   cargo run -p esign-pades --example hostile_corpus -- DIR
#[path = "../tests/adversarial/mod.rs"]
mod adversarial;

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: hostile_corpus DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    for c in adversarial::all() {
        let bytes = (c.build)();
        std::fs::write(dir.join(format!("{}.pdf", c.name)), &bytes).unwrap();
        println!("{:<32} {:>9} bytes  {}", c.name, bytes.len(), c.about);
    }
    std::fs::write(dir.join("baseline.pdf"), adversarial::baseline()).unwrap();
    std::fs::write(dir.join("four_pages.pdf"), adversarial::four_pages()).unwrap();
}
