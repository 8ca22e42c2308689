//! Documents written by hand for the cross-page tests and the benchmark: a contract of N pages,
//! and pages mixing every rotation with offset CropBoxes.

/// One page of a hand-written document.
pub struct PageSpec {
    pub media: [f64; 4],
    pub crop: Option<[f64; 4]>,
    pub rotate: i64,
}

/// A plain A4 page.
pub fn a4() -> PageSpec {
    PageSpec { media: [0.0, 0.0, 595.0, 842.0], crop: None, rotate: 0 }
}

/// `n` pages: rotations 0, 90, 180, 270 in turn, every second page with an offset CropBox.
pub fn mixed(n: usize) -> Vec<PageSpec> {
    (0..n)
        .map(|i| PageSpec {
            media: [0.0, 0.0, 600.0, 800.0],
            crop: if i % 2 == 1 { Some([50.0, 100.0, 550.0, 700.0]) } else { None },
            rotate: [0, 90, 180, 270][i % 4],
        })
        .collect()
}

fn f(v: f64) -> String {
    if v.fract() == 0.0 { format!("{}", v as i64) } else { format!("{v}") }
}

/// A PDF whose page i shows "Contract page i of n" and a few lines of text, kept away from the
/// right edge of the visible box (where the cross-page strips go).
pub fn contract(pages: &[PageSpec]) -> Vec<u8> {
    let n = pages.len();
    let mut objs: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        String::new(), // the page tree, below
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
    ];
    let mut kids = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        let page_num = objs.len() + 1;
        kids.push(format!("{page_num} 0 R"));
        let vb = p.crop.unwrap_or(p.media);
        let mut content =
            format!("BT /F1 14 Tf {} {} Td (Contract page {} of {n}) Tj ET\n", f(vb[0] + 40.0), f(vb[3] - 60.0), i + 1);
        for line in 0..8 {
            content += &format!(
                "BT /F1 10 Tf {} {} Td (Clause {}.{}: the parties agree to what this line says.) Tj ET\n",
                f(vb[0] + 40.0),
                f(vb[3] - 100.0 - 16.0 * line as f64),
                i + 1,
                line + 1
            );
        }
        let crop =
            p.crop.map(|c| format!(" /CropBox [{} {} {} {}]", f(c[0]), f(c[1]), f(c[2]), f(c[3]))).unwrap_or_default();
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [{} {} {} {}]{crop} /Rotate {} /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            f(p.media[0]),
            f(p.media[1]),
            f(p.media[2]),
            f(p.media[3]),
            p.rotate,
            page_num + 1
        ));
        objs.push(format!("<< /Length {} >>\nstream\n{content}endstream", content.len()));
    }
    objs[1] = format!("<< /Type /Pages /Count {n} /Kids [{}] >>", kids.join(" "));
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offs = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offs.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let x = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offs {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n", objs.len() + 1).as_bytes(),
    );
    out
}

/// A `side` x `side` RGBA seal that shows where each column came from: a red-to-blue gradient
/// left to right, a dark diagonal, and transparent corners (a round seal).
pub fn gradient_seal(side: u32) -> Vec<u8> {
    let mut px = Vec::with_capacity((side * side * 4) as usize);
    let c = f64::from(side) / 2.0;
    for y in 0..side {
        for x in 0..side {
            let (dx, dy) = (f64::from(x) + 0.5 - c, f64::from(y) + 0.5 - c);
            let inside = dx * dx + dy * dy <= c * c;
            let t = (x * 255 / side.max(1)) as u8;
            let diag = x.abs_diff(y) < side / 12;
            let rgb = if diag { [30, 30, 30] } else { [255 - t, 40, t] };
            px.extend_from_slice(&rgb);
            px.push(if inside { 255 } else { 0 });
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, side, side);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header().expect("png header").write_image_data(&px).expect("png data");
    }
    out
}
