//! Writes the documents of the cross-page tests and benchmark:
//! `cargo run -p esign-pades --example contract_pdf -- OUT.pdf PAGES [mixed]` (A4 pages, or
//! pages mixing rotations and CropBoxes), and `... -- --seal OUT.png SIDE` (a gradient seal).

#[path = "../tests/common/docs.rs"]
mod docs;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: contract_pdf OUT.pdf PAGES [mixed] | contract_pdf --seal OUT.png SIDE";
    match args.as_slice() {
        [flag, out, side] if flag == "--seal" => {
            let side: u32 = side.parse().map_err(|_| usage.to_string())?;
            std::fs::write(out, docs::gradient_seal(side)).map_err(|e| format!("{out}: {e}"))
        }
        [out, pages, rest @ ..] => {
            let n: usize = pages.parse().map_err(|_| usage.to_string())?;
            let specs = match rest {
                [m] if m == "mixed" => docs::mixed(n),
                [] => (0..n).map(|_| docs::a4()).collect(),
                _ => return Err(usage.into()),
            };
            std::fs::write(out, docs::contract(&specs)).map_err(|e| format!("{out}: {e}"))
        }
        _ => Err(usage.into()),
    }
}
