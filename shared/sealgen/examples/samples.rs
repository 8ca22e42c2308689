//! Writes sample seals to /tmp/sealgen-*.png for a person to look at, and prints how long each took.
//!
//! `cargo run -p esign-sealgen --example samples [--release]`

use std::time::Instant;

use esign_sealgen::{SealSpec, render};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let samples = [
        ("short", "腾讯", "公章", 600),
        ("six", "华为技术公司", "发票专用章", 600),
        ("typical", "深圳市前海数字科技有限公司", "合同专用章", 600),
        ("nolabel", "北京字节跳动科技有限公司", "", 600),
        ("latin", "TCL科技集团（深圳）有限公司", "财务专用章", 600),
        ("ascii", "ABC Trading (HK) Co Ltd", "公章", 600),
        ("twenty", "广州市天河区珠江新城国际商务咨询服务中心", "财务专用章", 600),
        (
            "forty",
            "深圳市前海深港现代服务业合作区国际数字科技人工智能创新研究院（有限合伙）有限公司",
            "合同专用章",
            600,
        ),
        ("typical-200", "深圳市前海数字科技有限公司", "合同专用章", 200),
        ("typical-2000", "深圳市前海数字科技有限公司", "合同专用章", 2000),
    ];
    for (name, company, label, size_px) in samples {
        let spec = SealSpec { company, label, size_px };
        render(&spec)?; // warm-up
        let runs = 10;
        let start = Instant::now();
        let mut png = Vec::new();
        for _ in 0..runs {
            png = render(&spec)?;
        }
        let per_run = start.elapsed() / runs;
        let path = format!("/tmp/sealgen-{name}.png");
        std::fs::write(&path, &png)?;
        println!("{path}: {size_px} px, {} bytes, {per_run:.1?} per render", png.len());
    }
    Ok(())
}
