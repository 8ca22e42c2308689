//! The cross-page seal (骑缝章) over HTTP: a 60-page contract, two parties, each with a seal and a
//! signing date on the last page and a cross-page seal over every page, each signing with a code
//! from the development outbox. Two signatures in all, every judge passes with the platform root,
//! every page rendered as displayed carries each party's strip at its right edge, and the strips
//! side by side reproduce the seal image. The same on pages rotated 90/180/270 with offset crop
//! boxes.

use std::path::{Path, PathBuf};
use std::process::Command;

use esign_e2e::Api;
use serde_json::{Value, json};

use super::{Party, check_signatures, code, contract, download, judge, sign};

/// Rendering scale: pixels per point (288 dpi).
const SCALE: f64 = 4.0;
/// The seal's true size the platform draws when the placement gives none: 40 mm.
const SEAL_PT: f64 = 40.0 / 25.4 * 72.0;

/// A seal image that tells its columns apart: a red disc going from scarlet on the left to a dark
/// crimson on the right, with a transparent slot in its left half and a transparent centre. Passes
/// the seal-image rules (transparent edges, all ink red).
fn asymmetric_seal(side: u32) -> Vec<u8> {
    let c = f64::from(side) / 2.0;
    let mut px = Vec::with_capacity((side * side * 4) as usize);
    for y in 0..side {
        for x in 0..side {
            let (dx, dy) = (f64::from(x) + 0.5 - c, f64::from(y) + 0.5 - c);
            let d = (dx * dx + dy * dy).sqrt();
            let slot = dx < -0.15 * c && (-0.45 * c..-0.25 * c).contains(&dy);
            let inked = d < 0.995 * c && d > 0.12 * c && !slot;
            let t = f64::from(x) / f64::from(side);
            let (r, b) = ((250.0 - 120.0 * t) as u8, (10.0 + 60.0 * t) as u8);
            px.extend_from_slice(&[r, 10, b, if inked { 255 } else { 0 }]);
        }
    }
    esign_core::seal_image::samples::encode_rgba(side, side, &px)
}

/// A party whose seal has the image `image`, granted to its administrator, mobile confirmed.
fn party_with_seal(api: &Api, company: &str, algorithm: &str, image: Vec<u8>) -> Party {
    let (seal, key, admin, _) = esign_e2e::active_seal_with_image(api, company, algorithm, image);
    let r = api.put(&format!("/v1/seals/{seal}/grants/{admin}")).key(&key).send();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let me = api.get("/v1/members").key(&key).send();
    let enterprise = me.body["items"][0]["enterprise_id"].as_str().unwrap().to_owned();
    let mobile = me.body["items"][0]["mobile"].as_str().unwrap().to_owned();
    api.confirm_contact(&key, &admin, "sms", &mobile);
    Party { enterprise, key, seal, mobile }
}

/// One page of a generated document: media box, crop box, rotation.
#[derive(Clone, Copy)]
struct PageSpec {
    media: [f64; 4],
    crop: Option<[f64; 4]>,
    rotate: u32,
}

impl PageSpec {
    /// Width and height as displayed (crop box, after the rotation), in points.
    fn displayed(&self) -> (f64, f64) {
        let b = self.crop.unwrap_or(self.media);
        let (w, h) = (b[2] - b[0], b[3] - b[1]);
        if self.rotate % 180 == 90 { (h, w) } else { (w, h) }
    }
}

/// A PDF of the given pages (classic xref), each with a title and clauses kept away from the
/// right edge of its visible box, where the strips go.
fn document(pages: &[PageSpec]) -> Vec<u8> {
    let n = pages.len();
    let mut objs: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        String::new(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into(),
    ];
    let mut kids = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        let num = objs.len() + 1;
        kids.push(format!("{num} 0 R"));
        let vb = p.crop.unwrap_or(p.media);
        let mut text =
            format!("BT /F1 14 Tf {} {} Td (Contract page {} of {n}) Tj ET\n", vb[0] + 40.0, vb[3] - 60.0, i + 1);
        for line in 0..8 {
            text += &format!(
                "BT /F1 10 Tf {} {} Td (Clause {}.{}: the parties agree to this.) Tj ET\n",
                vb[0] + 40.0,
                vb[3] - 100.0 - 16.0 * f64::from(line),
                i + 1,
                line + 1
            );
        }
        let crop = p.crop.map(|c| format!(" /CropBox [{} {} {} {}]", c[0], c[1], c[2], c[3])).unwrap_or_default();
        let m = p.media;
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [{} {} {} {}]{crop} /Rotate {} /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            m[0],
            m[1],
            m[2],
            m[3],
            p.rotate,
            num + 1
        ));
        objs.push(format!("<< /Length {} >>\nstream\n{text}endstream", text.len()));
    }
    objs[1] = format!("<< /Type /Pages /Count {n} /Kids [{}] >>", kids.join(" "));
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objs.len() + 1).as_bytes(),
    );
    out
}

/// An RGB raster.
struct Raster {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Raster {
    fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

fn ink(p: [u8; 3]) -> bool {
    p.iter().any(|&c| c < 200)
}

/// Renders the right-most `band` pixels of page `page` as displayed (crop box, rotation applied)
/// at [`SCALE`], the whole height, with poppler's `pdftoppm`.
fn render_right_edge(pdf: &Path, page: u32, spec: &PageSpec, band: usize, dir: &Path) -> Raster {
    let (w, h) = spec.displayed();
    let (wpx, hpx) = ((w * SCALE).round() as usize, (h * SCALE).round() as usize);
    let base = dir.join(format!("edge-{page}"));
    let out = Command::new("pdftoppm")
        .args(["-cropbox", "-r", &(72.0 * SCALE).to_string(), "-f", &page.to_string(), "-l", &page.to_string()])
        .args(["-x", &(wpx - band).to_string(), "-y", "0", "-W", &band.to_string(), "-H", &hpx.to_string()])
        .arg("-singlefile")
        .arg(pdf)
        .arg(&base)
        .output()
        .expect("pdftoppm runs (poppler-utils, installed with the judges)");
    assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    let data = std::fs::read(base.with_extension("ppm")).unwrap();
    // P6 <w> <h> 255, then the pixels
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while data[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !data[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&data[start..i]).into_owned());
    }
    let (width, height): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    assert_eq!((width, height), (band, hpx), "page {page} rendered at the size it is displayed");
    Raster { width, height, rgb: data[i + 1..i + 1 + width * height * 3].to_vec() }
}

/// The seal image over white, resampled to `side` x `side` pixels (nearest pixel).
fn seal_on_white(png_bytes: &[u8], side: usize) -> Vec<[u8; 3]> {
    let mut dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0u8; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut out = Vec::with_capacity(side * side);
    for y in 0..side {
        for x in 0..side {
            let (sx, sy) = ((x * w + w / 2) / side, (y * h + h / 2) / side);
            let p = &buf[(sy * w + sx) * 4..][..4];
            let a = u16::from(p[3]);
            let blend = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
            out.push([blend(p[0]), blend(p[1]), blend(p[2])]);
        }
    }
    out
}

/// Mean absolute difference per channel, and the share of pixels off by more than 64.
fn compare(got: &[[u8; 3]], want: &[[u8; 3]]) -> (f64, f64) {
    let (mut sum, mut far) = (0u64, 0usize);
    for (g, w) in got.iter().zip(want) {
        let d: Vec<u64> = (0..3).map(|c| u64::from(g[c].abs_diff(w[c]))).collect();
        sum += d.iter().sum::<u64>();
        far += usize::from(d.iter().any(|&v| v > 64));
    }
    (sum as f64 / (got.len() * 3) as f64, far as f64 / got.len() as f64)
}

/// Renders the right edge of every page, checks that each party's strip is there (ink where its
/// slice of the seal has ink, at the very edge) and that nothing else is (no ink on the edge
/// outside the seals' rows, none just left of the strips), then lays the strips side by side and
/// compares them with the seal image. `seal_tops` are the parties' `y`, in points.
fn assert_strips_reassemble_the_seal(pdf: &[u8], pages: &[PageSpec], seal_tops: &[f64], seal_png: &[u8], name: &str) {
    let dir = std::env::temp_dir().join(format!("esign-cross-page-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join("signed.pdf");
    std::fs::write(&path, pdf).unwrap();
    let n = pages.len();
    let strip_pt = SEAL_PT / n as f64;
    let strip_px = strip_pt * SCALE;
    // The strips, a gap, and a few columns that must stay blank.
    let band = strip_px.ceil() as usize + 6;
    let side = (SEAL_PT * SCALE).round() as usize;
    let want = seal_on_white(seal_png, side);
    let mut got = vec![vec![[255u8; 3]; side * side]; seal_tops.len()];
    // The strip each column of the seal is on (the column's centre, in points into the seal).
    let strip_of = |col: usize| (((col as f64 + 0.5) / SCALE / strip_pt) as usize).min(n - 1);
    for (i, spec) in pages.iter().enumerate() {
        let page = i as u32 + 1;
        let r = render_right_edge(&path, page, spec, band, &dir);
        let strip_left = band as f64 - strip_px;
        let columns: Vec<usize> = (0..side).filter(|&col| strip_of(col) == i).collect();
        for (k, &top) in seal_tops.iter().enumerate() {
            let top_px = (top * SCALE).round() as usize;
            let (mut seen, mut expected) = (0usize, 0usize);
            for row in 0..side {
                for &col in &columns {
                    let x = (col as f64 + 0.5) / SCALE - strip_pt * i as f64; // points into the strip
                    let px = (strip_left + x * SCALE) as usize;
                    let p = r.at(px.min(band - 1), top_px + row);
                    got[k][row * side + col] = p;
                    seen += usize::from(ink(p));
                    expected += usize::from(ink(want[row * side + col]));
                }
            }
            assert!(
                seen * 2 + 16 >= expected && (expected < 16 || seen > 0),
                "page {page}: party {k}'s strip shows {seen} px of ink where its slice of the seal has {expected}"
            );
        }
        // Nothing on the edge outside the seals' rows, nothing just left of the strips.
        for y in 0..r.height {
            let in_seal = seal_tops.iter().any(|&top| {
                let t = (top * SCALE).round() as usize;
                (t.saturating_sub(2)..t + side + 2).contains(&y)
            });
            for x in 0..r.width {
                let left_of_strip = (x as f64) < strip_left - 2.0;
                if left_of_strip || !in_seal {
                    assert!(!ink(r.at(x, y)), "page {page}: ink at ({x}, {y}) of its right edge, outside the strips");
                }
            }
        }
    }
    for (k, g) in got.iter().enumerate() {
        let (mean, far) = compare(g, &want);
        println!("{name}: party {k}'s strips against the seal: mean difference {mean:.1}, {:.1}% far", far * 100.0);
        assert!(
            mean < 12.0 && far < 0.12,
            "party {k}: the strips do not reproduce the seal: mean {mean:.1}, {far:.3} far"
        );
        // The comparison tells strips out of order apart: the seal is not symmetric.
        let mut mirrored = g.clone();
        for row in 0..side {
            mirrored[row * side..(row + 1) * side].reverse();
        }
        let (mirrored_mean, _) = compare(&mirrored, &want);
        assert!(mirrored_mean > mean + 10.0, "a mirrored seal should not match: {mirrored_mean:.1} vs {mean:.1}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Where the two parties' widgets go on a document of `pages` pages.
struct Layout<'a> {
    name: &'a str,
    pages: u32,
    /// Top of each party's seal on the last page (its date below it).
    stamp_y: f64,
    /// Top of A's and of B's cross-page seal.
    tops: [f64; 2],
    /// Every page upright and uncropped (the kit's widget check applies).
    upright: bool,
}

/// Both parties: a seal and a signing date on the last page, a cross-page seal over every page at
/// the seal's true size; each signs with a code from the development outbox. Returns the signed
/// PDF after the checks every document gets: two signatures of one act each, the pages of stamps
/// and strips in the contract and in the verification report, and every judge (on upright pages,
/// the kit's widget check too).
fn sign_with_cross_page_seals(api: &Api, (a, b): (&Party, &Party), pdf: Vec<u8>, layout: &Layout) -> Vec<u8> {
    let Layout { name, pages, stamp_y, tops, upright } = *layout;
    let title = format!("骑缝章合同-{name}-{}", std::process::id());
    let stamp = |p: &Party, x: f64| {
        [
            json!({"kind": "signature", "party": p.enterprise, "page": pages, "x": x, "y": stamp_y, "width": 110.0, "height": 110.0}),
            json!({"kind": "signing_date", "party": p.enterprise, "page": pages, "x": x, "y": stamp_y + 120.0, "width": 110.0, "height": 16.0}),
        ]
    };
    let mut placements: Vec<Value> = Vec::new();
    placements.extend(stamp(a, 60.0));
    placements.extend(stamp(b, 300.0));
    placements.push(json!({"kind": "cross_page", "party": a.enterprise, "y": tops[0]}));
    placements.push(json!({"kind": "cross_page", "party": b.enterprise, "y": tops[1]}));
    let id = contract(api, a, &title, pdf, &[a, b], "sequential", placements);
    let view = api.get(&format!("/v1/contracts/{id}")).key(&b.key).send();
    let cross: Vec<&Value> =
        view.body["placements"].as_array().unwrap().iter().filter(|p| p["kind"] == "cross_page").collect();
    assert_eq!(cross.len(), 2);
    for p in cross {
        assert!((p["size"].as_f64().unwrap() - SEAL_PT).abs() < 1e-6, "the seal's true size: {p}");
        assert!(p.get("first_page").is_none() && p.get("last_page").is_none(), "every page: {p}");
    }

    for p in [a, b] {
        let (otp, c) = code(api, p, &id, &title);
        let r = sign(api, p, &id, &otp, &c);
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let view = api.get(&format!("/v1/contracts/{id}")).key(&a.key).send();
    assert_eq!(view.body["status"], "completed");
    assert_eq!(view.body["revisions"].as_array().unwrap().len(), 3, "the original and one revision per party");
    let every_page: Vec<u32> = (1..=pages).collect();
    let signatures = view.body["signatures"].as_array().unwrap();
    assert_eq!(signatures.len(), 2);
    for s in signatures {
        assert_eq!(s["acts"], 1, "one signing act per party: {s}");
        assert_eq!(s["stamp_pages"], json!([pages]), "{s}");
        assert_eq!(s["strip_pages"], json!(every_page), "{s}");
    }
    let report = api.post("/v1/verify").key(&a.key).json(&json!({"contract_id": id})).send();
    assert_eq!(report.status, 200, "{:?}", report.body);
    assert_eq!(report.body["valid"], true, "{:?}", report.body);
    let reported: Vec<(&str, &Value, &Value)> = report.body["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["seal"]["seal_id"].as_str().unwrap(), &s["stamp_pages"], &s["strip_pages"]))
        .collect();
    let (stamps, strips) = (json!([pages]), json!(every_page));
    assert_eq!(reported, [(a.seal.as_str(), &stamps, &strips), (b.seal.as_str(), &stamps, &strips)]);

    let signed = download(api, b, &id);
    if upright {
        let mut widgets = judge(api, &signed, 3, name);
        // Each party: its seal and date (one widget) on the last page, and a strip on every page.
        let mut expected: Vec<u32> = [pages, pages].into_iter().chain(1..=pages).chain(1..=pages).collect();
        widgets.sort_unstable();
        expected.sort_unstable();
        assert_eq!(widgets, expected, "every widget shows ink, on the pages it belongs to");
    } else {
        // The kit's stamp_check.py crops a widget's rectangle out of the unrotated media box, so
        // it looks in the wrong place on rotated or cropped pages: the rendering of the page as
        // displayed (assert_strips_reassemble_the_seal) is the visible check there.
        let _ = std::fs::remove_dir_all(check_signatures(api, &signed, 3, name));
    }
    signed
}

#[test]
fn a_60_page_contract_with_two_cross_page_seals_is_two_signatures_and_the_strips_reassemble_the_seals() {
    let api = Api::new();
    let seal = asymmetric_seal(400);
    let a = party_with_seal(&api, "骑缝章甲有限公司", "ecdsa_p256", seal.clone());
    let b = party_with_seal(&api, "骑缝章乙有限公司", "rsa_2048", seal.clone());
    // The sample contract: A4 pages, text from the left margin.
    let pdf = esign_e2e::sample_contract(60);
    let tops = [80.0, 300.0];
    let layout = Layout { name: "sixty", pages: 60, stamp_y: 560.0, tops, upright: true };
    let signed = sign_with_cross_page_seals(&api, (&a, &b), pdf, &layout);
    let a4 = PageSpec { media: [0.0, 0.0, 595.0, 842.0], crop: None, rotate: 0 };
    assert_strips_reassemble_the_seal(&signed, &[a4; 60], &tops, &seal, "sixty");
}

#[test]
fn rotated_and_cropped_pages_carry_each_partys_strip_at_the_right_edge_as_displayed() {
    let api = Api::new();
    let seal = asymmetric_seal(400);
    let a = party_with_seal(&api, "旋转页甲有限公司", "rsa_2048", seal.clone());
    let b = party_with_seal(&api, "旋转页乙有限公司", "ecdsa_p256", seal.clone());
    // Rotations 0, 90, 180, 270 in turn; every second page with a crop box off the media box's
    // corner: displayed 600 x 800 or, cropped and turned, 600 x 500.
    let pages: Vec<PageSpec> = (0..12)
        .map(|i| PageSpec {
            media: [0.0, 0.0, 600.0, 800.0],
            crop: (i % 2 == 1).then_some([50.0, 100.0, 550.0, 700.0]),
            rotate: [0, 90, 180, 270][i % 4],
        })
        .collect();
    let tops = [40.0, 250.0];
    let layout = Layout { name: "mixed", pages: 12, stamp_y: 300.0, tops, upright: false };
    let signed = sign_with_cross_page_seals(&api, (&a, &b), document(&pages), &layout);
    assert_strips_reassemble_the_seal(&signed, &pages, &tops, &seal, "mixed");
}

#[test]
fn cross_page_seals_that_do_not_fit_get_named_422s() {
    let api = Api::new();
    let a = super::party(&api, "骑缝章检查有限公司", "ecdsa_p256");
    let pdf = esign_e2e::sample_contract(3);
    let r =
        api.post("/v1/contracts").key(&a.key).json(&json!({"title": "骑缝章检查", "document_size": pdf.len()})).send();
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["contract"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        api.put(r.body["upload"]["upload_url"].as_str().unwrap()).raw("application/pdf", pdf).send().status,
        200
    );
    let parties = json!({"order": "sequential", "parties": [{"enterprise_id": a.enterprise}]});
    assert_eq!(api.put(&format!("/v1/contracts/{id}/parties")).key(&a.key).json(&parties).send().status, 200);
    let seal = json!({"kind": "signature", "party": a.enterprise, "page": 3, "x": 60.0, "y": 560.0, "width": 110.0, "height": 110.0});
    let set = |cross: Vec<Value>| {
        let mut placements = vec![seal.clone()];
        placements.extend(cross);
        api.put(&format!("/v1/contracts/{id}/placements")).key(&a.key).json(&json!({"placements": placements})).send()
    };
    let cross = |extra: Value| {
        let mut p = json!({"kind": "cross_page", "party": a.enterprise, "y": 100.0});
        p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        p
    };
    for (extra, field, code) in [
        (vec![cross(json!({"last_page": 9}))], "placements[1].last_page", "page_out_of_range"),
        (vec![cross(json!({"first_page": 3}))], "placements[1]", "too_few_pages"),
        (vec![cross(json!({"y": 800.0}))], "placements[1]", "off_page"),
        (vec![cross(json!({"y": -1.0}))], "placements[1].y", "invalid"),
        (vec![cross(json!({"size": 2000.0}))], "placements[1].size", "size"),
        (vec![cross(json!({})), cross(json!({"y": 400.0}))], "placements[2].kind", "one_per_party"),
    ] {
        let r = set(extra);
        assert_eq!((r.status, r.code_of(field).as_deref()), (422, Some(code)), "{field}: {:?}", r.body);
    }
    let r = set(vec![cross(json!({"first_page": 2, "last_page": 3, "size": 90.0}))]);
    assert_eq!(r.status, 200, "{:?}", r.body);
    let placed = &r.body["placements"][1];
    assert_eq!((&placed["first_page"], &placed["last_page"], &placed["size"]), (&json!(2), &json!(3), &json!(90.0)));
}
