//! The report writer, read back by lopdf (an independent parser) as the oracle.

use super::*;

fn font() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../sealgen/fonts/DroidSansFallbackFull.ttf");
    std::fs::read(path).expect("the CJK font of shared/sealgen")
}

/// A PNG of `w` x `h`: a red disc on transparency.
fn png(w: u32, h: u32) -> Vec<u8> {
    let mut data = Vec::with_capacity((w * h * 4) as usize);
    let (cx, cy, r) = (w as f64 / 2.0, h as f64 / 2.0, w.min(h) as f64 / 2.2);
    for y in 0..h {
        for x in 0..w {
            let inside = ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2)).sqrt() < r;
            data.extend_from_slice(&[220, 30, 30, if inside { 255 } else { 0 }]);
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(&data).unwrap();
    out
}

/// The text shown on each page: every string operand decoded through its font (the standard
/// fonts' WinAnsi by lopdf's own table, the ToUnicode map of the CJK font), one string per text
/// object.
fn page_texts(doc: &lopdf::Document) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    for (_, page_id) in doc.get_pages() {
        let fonts = doc.get_page_fonts(page_id).unwrap();
        let mut maps: BTreeMap<Vec<u8>, Option<BTreeMap<u16, String>>> = BTreeMap::new();
        let mut encodings = BTreeMap::new();
        for (name, font) in &fonts {
            encodings.insert(name.clone(), font.get_font_encoding(doc).unwrap());
            let map = font.get(b"ToUnicode").ok().map(|o| {
                let id = o.as_reference().unwrap();
                let stream = doc.get_object(id).unwrap().as_stream().unwrap();
                parse_bfchar(&String::from_utf8(stream.decompressed_content().unwrap()).unwrap())
            });
            maps.insert(name.clone(), map);
        }
        let content = lopdf::content::Content::decode(&doc.get_page_content(page_id)).unwrap();
        let mut font = Vec::new();
        let mut texts = Vec::new();
        for op in content.operations {
            match op.operator.as_str() {
                "Tf" => font = op.operands[0].as_name().unwrap().to_vec(),
                "Tj" => {
                    let bytes = op.operands[0].as_str().unwrap();
                    let text = match maps.get(&font).unwrap() {
                        Some(map) => bytes
                            .chunks(2)
                            .map(|c| map.get(&u16::from_be_bytes([c[0], c[1]])).cloned().unwrap_or_default())
                            .collect(),
                        None => encodings[&font].bytes_to_string(bytes).unwrap(),
                    };
                    texts.push(text);
                }
                _ => {}
            }
        }
        pages.push(texts);
    }
    pages
}

fn parse_bfchar(cmap: &str) -> BTreeMap<u16, String> {
    let mut map = BTreeMap::new();
    let mut inside = false;
    for line in cmap.lines() {
        if line.ends_with("beginbfchar") {
            inside = true;
        } else if line == "endbfchar" {
            inside = false;
        } else if inside {
            let parts: Vec<&str> = line.split(' ').map(|p| p.trim_matches(['<', '>'])).collect();
            let cid = u16::from_str_radix(parts[0], 16).unwrap();
            let units: Vec<u16> = (0..parts[1].len() / 4)
                .map(|i| u16::from_str_radix(&parts[1][i * 4..i * 4 + 4], 16).unwrap())
                .collect();
            map.insert(cid, String::from_utf16(&units).unwrap());
        }
    }
    map
}

fn all_text(doc: &lopdf::Document) -> String {
    page_texts(doc).into_iter().flatten().collect::<Vec<_>>().join("")
}

fn sample() -> Report {
    Report {
        title: "出证报告 Evidence report".into(),
        footer: "esign 出证报告 Evidence report".into(),
        blocks: vec![
            Block::Title("出证报告 Evidence report".into()),
            Block::field("合同标题 Title", "采购合同 Purchase agreement 2026"),
            Block::Heading("修订版本 Revisions".into()),
            Block::mono("修订 0 SHA-256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
            Block::Rule,
            Block::Figure {
                png: png(600, 600),
                fields: vec![
                    ("印章 Seal".into(), "合同专用章".into(), false),
                    ("证书序列号 Serial".into(), "0a1b2c3d".into(), true),
                ],
            },
            Block::Text("本报告由平台出证印章签署。This report is signed by the platform's evidence seal.".into()),
        ],
    }
}

#[test]
fn a_report_reads_back_with_its_chinese_and_english_text() {
    let pdf = write_report(&sample(), &font()).unwrap();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    assert_eq!(doc.get_pages().len(), 1);
    let text = all_text(&doc);
    for expected in [
        "出证报告",
        "Evidence report",
        "合同标题",
        "采购合同",
        "Purchase agreement 2026",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "合同专用章",
        "0a1b2c3d",
        "第 1 页，共 1 页",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text:?}");
    }
    // the Info title, UTF-16BE
    let info = doc.trailer.get(b"Info").unwrap().as_reference().unwrap();
    let title = doc.get_dictionary(info).unwrap().get(b"Title").unwrap().as_str().unwrap();
    let units: Vec<u16> = title[2..].chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
    assert_eq!(String::from_utf16(&units).unwrap(), "出证报告 Evidence report");
}

#[test]
fn the_cjk_font_is_embedded_as_a_small_subset_and_the_seal_as_an_image_with_its_transparency() {
    let font = font();
    let pdf = write_report(&sample(), &font).unwrap();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let mut font_files = 0;
    let mut images = 0;
    for (_, obj) in doc.objects.iter() {
        if let Ok(stream) = obj.as_stream() {
            if stream.dict.get(b"Length1").is_ok() {
                font_files += 1;
                let bytes = stream.decompressed_content().unwrap();
                // the subset parses as a font and holds far fewer glyphs than the 4 MB original
                let face = ttf_parser::Face::parse(&bytes, 0).unwrap();
                assert!(face.number_of_glyphs() < 100, "{} glyphs", face.number_of_glyphs());
                assert!(bytes.len() < font.len() / 50, "{} bytes", bytes.len());
            }
            if stream.dict.get(b"Subtype").and_then(|s| s.as_name()).ok() == Some(&b"Image"[..])
                && stream.dict.get(b"SMask").is_ok()
            {
                images += 1;
                // 600 px shrunk by a whole factor to at most 400
                assert_eq!(stream.dict.get(b"Width").unwrap().as_i64().unwrap(), 300);
            }
        }
    }
    assert_eq!((font_files, images), (1, 1));
    assert!(pdf.len() < 120_000, "{} bytes", pdf.len());
}

#[test]
fn hostile_text_stays_text() {
    let hostile = "合同) Tj ET /F1 99 Tf (x\\) \u{202e}evil\u{200b} <0041> \n%%EOF\r\nendstream";
    let report = Report {
        title: hostile.into(),
        footer: hostile.into(),
        blocks: vec![Block::Title(hostile.into()), Block::field(hostile, hostile), Block::mono(hostile, hostile)],
    };
    let pdf = write_report(&report, &font()).unwrap();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    assert_eq!(doc.get_pages().len(), 1);
    let pages = page_texts(&doc);
    let text = pages[0].join("");
    // every character is shown as text, the invisible ones as '?'
    assert!(text.contains("合同) Tj ET /F1 99 Tf (x\\) ?evil? <0041>"), "{text:?}");
    assert!(text.contains("%%EOF"), "{text:?}");
    // and the content stream holds only the operators the writer wrote
    let (_, page) = doc.get_pages().into_iter().next().unwrap();
    let content = lopdf::content::Content::decode(&doc.get_page_content(page)).unwrap();
    for op in &content.operations {
        assert!(
            ["BT", "ET", "rg", "Tf", "Td", "Tj", "q", "Q", "RG", "w", "m", "l", "S", "cm", "Do"]
                .contains(&op.operator.as_str()),
            "{op:?}"
        );
        if op.operator == "Tf" {
            assert!(["F1", "F2", "F3"].contains(&std::str::from_utf8(op.operands[0].as_name().unwrap()).unwrap()));
            assert_ne!(op.operands[1].as_float().unwrap(), 99.0);
        }
    }
}

#[test]
fn long_text_wraps_within_the_margins_and_flows_onto_more_pages() {
    let long = "长".repeat(3000) + &" word".repeat(500) + &"x".repeat(400);
    let report = Report { title: "t".into(), footer: "f".into(), blocks: vec![Block::field("标签 Label", &long)] };
    let pdf = write_report(&report, &font()).unwrap();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let pages = doc.get_pages().len();
    assert!(pages >= 3, "{pages} pages");
    let text = all_text(&doc);
    assert_eq!(text.matches('长').count(), 3000);
    assert_eq!(text.matches("word").count(), 500);
    // every line starts inside the page and no line is wider than the value column
    let font = font();
    let fonts = Fonts::new(&font).unwrap();
    for line in wrap(&fonts, &long, BODY, false, CONTENT_WIDTH - LABEL_WIDTH) {
        let w: f64 = line.iter().map(|s| s.width).sum();
        assert!(w <= CONTENT_WIDTH - LABEL_WIDTH + 1e-9, "{w}");
    }
}

#[test]
fn a_report_that_would_be_too_long_is_refused() {
    let report = Report {
        title: "t".into(),
        footer: "f".into(),
        blocks: (0..MAX_PAGES * 60).map(|i| Block::field("n", i.to_string())).collect(),
    };
    assert!(matches!(write_report(&report, &font()), Err(PadesError::Limit(_))));
    assert!(matches!(write_report(&sample(), b"not a font"), Err(PadesError::Report(_))));
    let bad_image = Report { blocks: vec![Block::Figure { png: b"GIF89a".to_vec(), fields: vec![] }], ..sample() };
    assert!(matches!(write_report(&bad_image, &font()), Err(PadesError::Image(_))));
}

#[test]
fn a_report_is_a_document_the_signing_engine_accepts() {
    let pdf = write_report(&sample(), &font()).unwrap();
    let info = crate::check_document(&pdf).unwrap();
    assert_eq!(info.pages, 1);
    assert!(!info.xref_repaired, "the cross-reference table is sound");
}

#[test]
fn punctuation_outside_latin_1_and_the_cjk_font_is_drawn_not_replaced() {
    let report = Report {
        title: "t".into(),
        footer: "f".into(),
        blocks: vec![
            Block::field("签约方  Party", "上海乙方贸易有限公司 — 王五"),
            Block::mono("范围 Range", "1–2 … €5 ‰ ™"),
        ],
    };
    let pdf = write_report(&report, &font()).unwrap();
    let text = all_text(&lopdf::Document::load_mem(&pdf).unwrap());
    for expected in ["上海乙方贸易有限公司 — 王五", "1–2 … €5 ‰ ™"] {
        assert!(text.contains(expected), "{expected:?} missing from {text:?}");
    }
    assert!(!text.contains('?'), "{text:?}");
}
