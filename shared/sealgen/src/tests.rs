use super::*;

const TYPICAL: &str = "深圳市前海数字科技有限公司";
const FORTY: &str = "深圳市前海深港现代服务业合作区国际数字科技人工智能创新研究院（有限合伙）有限公司";

/// A decoded RGBA image.
struct Image {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
}

impl Image {
    fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.width + x) * 4) as usize;
        [self.rgba[i], self.rgba[i + 1], self.rgba[i + 2], self.rgba[i + 3]]
    }

    fn pixels(&self) -> impl Iterator<Item = [u8; 4]> + '_ {
        self.rgba.chunks_exact(4).map(|p| [p[0], p[1], p[2], p[3]])
    }
}

fn decode(png_bytes: &[u8]) -> Image {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let info = reader.info();
    assert_eq!((info.color_type, info.bit_depth), (png::ColorType::Rgba, png::BitDepth::Eight));
    let mut rgba = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut rgba).unwrap();
    rgba.truncate(frame.buffer_size());
    Image { width: frame.width, height: frame.height, rgba }
}

fn draw(company: &str, label: &str, size_px: u32) -> Image {
    decode(&render(&SealSpec { company, label, size_px }).unwrap())
}

/// The platform's rule for seal ink (shared/core's seal_image check).
fn is_red([r, g, b, _]: [u8; 4]) -> bool {
    r >= 120 && u16::from(r) > u16::from(g) + 50 && u16::from(r) > u16::from(b) + 50
}

/// Asserts what the platform checks on every seal image, and that the seal fills its square.
fn assert_seal_like(img: &Image, side: u32) {
    assert_eq!((img.width, img.height), (side, side));
    let last = side - 1;
    for (x, y) in [(0, 0), (last, 0), (0, last), (last, last)] {
        assert_eq!(img.pixel(x, y)[3], 0, "corner ({x}, {y}) is not transparent");
    }
    for i in 0..side {
        for (x, y) in [(i, 0), (i, last), (0, i), (last, i)] {
            assert_eq!(img.pixel(x, y)[3], 0, "border pixel ({x}, {y}) is not transparent");
        }
    }
    let visible: Vec<[u8; 4]> = img.pixels().filter(|p| p[3] > 0).collect();
    let red = visible.iter().filter(|p| is_red(**p)).count();
    assert_eq!(red, visible.len(), "every visible pixel, edges included, is red");
    let solid = img.pixels().filter(|p| p[3] >= 128).count();
    let total = (side * side) as usize;
    assert!(solid * 100 >= total * 8, "too little ink: {solid} of {total}");
    assert!(solid * 100 <= total * 50, "too much ink: {solid} of {total}");
    let partial = visible.iter().filter(|p| p[3] < 255).count();
    assert!(partial > 0, "edges are anti-aliased");
    // The ring: solid at the top, bottom, left and right of the rim, and nothing touches its inside.
    let c = side / 2;
    let rim = |f: f32| (f * side as f32 / 2.0) as u32;
    let on_ring = rim(RING_OUTER - RING_WIDTH / 2.0);
    for (x, y) in [(c, c - on_ring), (c, c + on_ring), (c - on_ring, c), (c + on_ring, c)] {
        assert_eq!(img.pixel(x, y)[3], 255, "ring at ({x}, {y})");
    }
    let inside = (RING_OUTER - RING_WIDTH) * side as f32 / 2.0;
    for y in 0..side {
        for x in 0..side {
            let d = (x as f32 + 0.5 - side as f32 / 2.0).hypot(y as f32 + 0.5 - side as f32 / 2.0);
            if d > inside - 0.025 * side as f32 / 2.0 && d < inside - 2.0 {
                assert_eq!(img.pixel(x, y)[3], 0, "ink touching the ring at ({x}, {y})");
            }
        }
    }
    // The star: solid at the centre.
    assert_eq!(img.pixel(c, c)[3], 255);
}

#[test]
fn a_typical_seal_is_an_rgba_png_that_passes_the_platform_checks() {
    assert_seal_like(&draw(TYPICAL, "合同专用章", DEFAULT_SIZE_PX), DEFAULT_SIZE_PX);
}

#[test]
fn seals_pass_the_platforms_own_image_check() {
    for (company, label, side) in
        [("腾讯", "公章", 200), (TYPICAL, "合同专用章", 600), (FORTY, "", 600), (FORTY, "合同专用章", MAX_SIZE_PX)]
    {
        let png = render(&SealSpec { company, label, size_px: side }).unwrap();
        let facts = esign_core::seal_image::check(&png).unwrap();
        assert_eq!((facts.width, facts.height), (side, side));
    }
}

#[test]
fn sizes_from_smallest_to_largest_work() {
    for side in [MIN_SIZE_PX, 333, MAX_SIZE_PX] {
        assert_seal_like(&draw(TYPICAL, "财务专用章", side), side);
    }
}

#[test]
fn the_largest_seal_stays_well_under_the_upload_limit() {
    let png = render(&SealSpec { company: FORTY, label: "合同专用章", size_px: MAX_SIZE_PX }).unwrap();
    assert!(png.len() < 1024 * 1024, "{} bytes", png.len());
}

#[test]
fn short_and_forty_character_names_and_an_empty_label_work() {
    assert_eq!(FORTY.chars().count(), MAX_COMPANY_CHARS);
    assert_seal_like(&draw("腾讯", "公章", 600), 600);
    assert_seal_like(&draw(FORTY, "合同专用章", 600), 600);
    assert_seal_like(&draw(TYPICAL, "", 600), 600);
    assert_seal_like(&draw(TYPICAL, "   ", 600), 600);
}

#[test]
fn latin_letters_digits_and_both_kinds_of_parentheses_are_drawn() {
    // The font has only the full-width forms; the ASCII ones are drawn with those.
    for name in ["TCL科技集团（深圳）有限公司", "360安全科技(北京)股份有限公司", "ＡＢＣ Trading 有限公司"]
    {
        assert_seal_like(&draw(name, "公章", 600), 600);
    }
    let ascii = render(&SealSpec::new("TCL科技(深圳)有限公司", "公章")).unwrap();
    assert_eq!(ascii, render(&SealSpec::new("ＴＣＬ科技（深圳）有限公司", "公章")).unwrap());
}

#[test]
fn the_label_is_drawn_below_the_star_and_the_name_above() {
    let with = draw(TYPICAL, "合同专用章", 600);
    let without = draw(TYPICAL, "", 600);
    let differing: Vec<(u32, u32)> = (0..600u32)
        .flat_map(|y| (0..600u32).map(move |x| (x, y)))
        .filter(|&(x, y)| with.pixel(x, y) != without.pixel(x, y))
        .collect();
    assert!(!differing.is_empty());
    // The star's lowest points sit at cos 36° of its radius below the centre.
    let star_bottom = 300.0 + STAR_RADIUS * 300.0 * (PI / 5.0).cos();
    assert!(differing.iter().all(|&(_, y)| y as f32 > star_bottom), "label below the star");
    // The name: its ink lies in the upper part of the ring's inside, left-right symmetric in extent.
    let name_ink = (0..600u32)
        .flat_map(|y| (0..600u32).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let (dx, dy) = (x as f32 - 299.5, y as f32 - 299.5);
            let d = (dx * dx + dy * dy).sqrt();
            without.pixel(x, y)[3] > 0 && d > 300.0 * (STAR_RADIUS + 0.1) && d < 300.0 * (RING_OUTER - RING_WIDTH)
        })
        .collect::<Vec<_>>();
    assert!(!name_ink.is_empty());
    let top = name_ink.iter().map(|p| p.1).min().unwrap();
    assert!(top < 100, "the name runs over the top");
    let (left, right) = (name_ink.iter().map(|p| p.0).min().unwrap(), name_ink.iter().map(|p| p.0).max().unwrap());
    assert!((left as i32 + right as i32 - 599).abs() <= 6, "the name is centred: {left}..{right}");
}

#[test]
fn rendering_is_deterministic() {
    let spec = SealSpec::new(TYPICAL, "合同专用章");
    assert_eq!(render(&spec).unwrap(), render(&spec).unwrap());
}

#[test]
fn characters_missing_from_the_font_are_typed_errors() {
    let err = |company: &str, label: &str| render(&SealSpec::new(company, label)).unwrap_err();
    // An emoji, a CJK Extension B ideograph (U+20000) and one added to the main block after the font was
    // made (U+9FA6): none is in Droid Sans Fallback.
    assert_eq!(err("笑脸😀有限公司", ""), SealGenError::MissingGlyph { field: Field::Company, ch: '😀' });
    assert_eq!(err("𠀀有限公司", ""), SealGenError::MissingGlyph { field: Field::Company, ch: '\u{20000}' });
    assert_eq!(err(TYPICAL, "专用章\u{9FA6}"), SealGenError::MissingGlyph { field: Field::Label, ch: '\u{9FA6}' });
    // An invisible format character is no glyph either.
    assert_eq!(err("前海\u{200B}科技", ""), SealGenError::MissingGlyph { field: Field::Company, ch: '\u{200B}' });
    assert!(err("𠀀有限公司", "").to_string().contains("U+20000"));
}

#[test]
fn bad_text_is_a_typed_error() {
    let err = |company: &str, label: &str| render(&SealSpec::new(company, label)).unwrap_err();
    assert_eq!(err("", "公章"), SealGenError::EmptyCompany);
    assert_eq!(err(" \u{3000} ", "公章"), SealGenError::EmptyCompany);
    assert_eq!(err("深", "公章"), SealGenError::CompanyLength(1));
    let long = format!("{FORTY}司");
    assert_eq!(err(&long, "公章"), SealGenError::CompanyLength(41));
    assert!(render(&SealSpec::new(TYPICAL, "合同专用章合同专用章合同")).is_ok(), "12 label characters are fine");
    assert_eq!(err(TYPICAL, "合同专用章合同专用章合同专"), SealGenError::LabelLength(13));
    assert_eq!(err("前海\n科技", ""), SealGenError::ControlCharacter { field: Field::Company, ch: '\n' });
    assert_eq!(err("\t前海科技", ""), SealGenError::ControlCharacter { field: Field::Company, ch: '\t' });
    assert_eq!(err(TYPICAL, "公\u{7}章"), SealGenError::ControlCharacter { field: Field::Label, ch: '\u{7}' });
}

#[test]
fn bad_sizes_are_typed_errors() {
    for size_px in [0, 100, MIN_SIZE_PX - 1, MAX_SIZE_PX + 1, u32::MAX] {
        let spec = SealSpec { company: TYPICAL, label: "", size_px };
        assert_eq!(render(&spec), Err(SealGenError::InvalidSize(size_px)));
    }
}

#[test]
fn the_font_is_read_from_the_named_file_or_the_source_tree() {
    let source = read_font(None).unwrap();
    assert!(source.len() > 1_000_000);
    let missing = read_font(Some("/nonexistent/esign-font.ttf".into())).unwrap_err();
    assert!(missing.starts_with("/nonexistent/esign-font.ttf: "), "{missing}");
    let e = SealGenError::FontUnavailable(missing).to_string();
    assert!(e.contains(ENV_FONT), "{e}");
}
