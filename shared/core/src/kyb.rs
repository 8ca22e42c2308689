//! Validators for Chinese real-name business authentication (KYB).
//!
//! Every validator trims surrounding whitespace, checks the input against the
//! relevant national standard and returns either a normalised value type or a
//! typed error naming the exact rule that failed. Character positions in
//! errors are 1-based and counted in `char`s of the trimmed input.
//!
//! Covered identifiers:
//! - Unified Social Credit Code (统一社会信用代码), GB 32100-2015: [`validate_uscc`].
//! - Organization code (组织机构代码), GB 11714-1997: [`validate_organization_code`].
//! - Resident identity number (居民身份证号码), GB 11643-1999: [`validate_resident_id`].
//! - Mainland mobile numbers: [`validate_mainland_mobile`].
//! - Person and company names: [`validate_person_name`], [`validate_company_name`].

use std::fmt;

use thiserror::Error;

use crate::error::Rule;

// ---------------------------------------------------------------------------
// Unified Social Credit Code (GB 32100-2015)
// ---------------------------------------------------------------------------

/// USCC character set, in value order (0..=30): digits and upper-case letters
/// without I, O, Z, S and V.
const USCC_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// USCC weights for positions 1..=17: 3^(i-1) mod 31.
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// Registration authority codes (char 1) and the category codes (char 2)
/// each one allows: GB 32100-2015 plus the later published assignments
/// (A military, G public security, J housing, N agriculture, Q overseas
/// Chinese federation, 3-6, 5-4/5-5, 8-2).
const USCC_CATEGORIES: &[(u8, &[u8])] = &[
    (b'1', b"1239"),    // 机构编制: 机关, 事业单位, 群众团体, 其他
    (b'2', b"19"),      // 外交
    (b'3', b"1234569"), // 司法行政: 律所, 公证处, 基层法律服务所, 司法鉴定, 仲裁委, 商事调解, 其他
    (b'4', b"19"),      // 文化
    (b'5', b"123459"),  // 民政: 社会团体, 民非, 基金会, 村委会, 居委会, 其他
    (b'6', b"129"),     // 旅游
    (b'7', b"129"),     // 宗教
    (b'8', b"129"),     // 工会
    (b'9', b"1239"),    // 工商/市场监管: 企业, 个体工商户, 农民专业合作社, 其他
    (b'A', b"19"),      // 中央军委改革和编制办公室
    (b'G', b"19"),      // 公安: 境外非政府组织代表机构
    (b'J', b"19"),      // 住房和城乡建设: 业主大会
    (b'N', b"1239"),    // 农业农村: 集体经济组织
    (b'Q', b"1239"),    // 侨联
    (b'Y', b"1"),       // 其他
];

/// Province-level administrative division codes (GB/T 2260 first two digits)
/// accepted in resident identity numbers.
const PROVINCE_CODES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82, 83, 91,
];

/// Why a Unified Social Credit Code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UsccError {
    /// Not exactly 18 characters after trimming.
    #[error("USCC must be 18 characters, found {found}")]
    Length {
        /// Number of characters found.
        found: usize,
    },
    /// A character outside "0-9 A-H J-N P-R T U W-Y" (I, O, Z, S, V are never used).
    #[error("USCC character {} at position {position} is not allowed (I, O, Z, S, V and symbols are excluded)", shown(.ch))]
    Charset {
        /// 1-based position.
        position: usize,
        /// Offending character as given.
        ch: char,
    },
    /// Char 1 is not a known registration authority code.
    #[error("unknown USCC registration authority code {}", shown(.found))]
    RegistrationAuthority {
        /// Char 1.
        found: char,
    },
    /// Char 2 is not a category defined for the registration authority in char 1.
    #[error("USCC category code {} is not defined for registration authority {}", shown(.category), shown(.authority))]
    Category {
        /// Char 1.
        authority: char,
        /// Char 2.
        category: char,
    },
    /// Chars 3-8 are not a plausible administrative division code (6 digits,
    /// province-level prefix, or 10xxxx for central registration).
    #[error("USCC administrative division code \"{found}\" is not valid")]
    Region {
        /// Chars 3-8.
        found: String,
    },
    /// Char 18 does not match the checksum of chars 1-17.
    #[error("USCC check character is {}, expected {}", shown(.found), shown(.expected))]
    CheckCharacter {
        /// Check character computed from chars 1-17.
        expected: char,
        /// Check character given.
        found: char,
    },
}

/// A validated Unified Social Credit Code: 18 upper-case characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uscc(String);

impl Uscc {
    /// The normalised 18-character code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Chars 9-17: the embedded organization code (主体标识码), 9 characters.
    pub fn organization_code(&self) -> &str {
        &self.0[8..17]
    }

    /// Char 1: registration authority code (登记管理部门代码).
    pub fn registration_authority(&self) -> char {
        char::from(self.0.as_bytes()[0])
    }

    /// Char 2: category code (机构类别代码).
    pub fn category(&self) -> char {
        char::from(self.0.as_bytes()[1])
    }

    /// Chars 3-8: administrative division code of the registering authority.
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn uscc_value(c: u8) -> Option<u32> {
    USCC_CHARSET.iter().position(|&x| x == c).map(|p| p as u32)
}

/// Check character for the 17 body characters (which must be in the USCC charset).
fn uscc_check_char(body: &[u8]) -> char {
    let sum: u32 =
        body.iter().zip(USCC_WEIGHTS).map(|(&c, w)| uscc_value(c).expect("body validated against charset") * w).sum();
    let c = (31 - sum % 31) % 31;
    char::from(USCC_CHARSET[c as usize])
}

/// Validates a Unified Social Credit Code (GB 32100-2015).
///
/// Input is trimmed and ASCII lower-case letters are upper-cased before
/// validation, so `9144030071526726xg` is accepted as `9144030071526726XG`.
/// Checks, in order: length 18, charset, registration authority (char 1),
/// category for that authority (char 2), administrative division (chars 3-8),
/// check character (char 18). The embedded organization code (chars 9-17) is
/// not required to pass GB 11714 on its own; use
/// [`validate_org_code_matches_uscc`] to compare a separately supplied one.
pub fn validate_uscc(s: &str) -> Result<Uscc, UsccError> {
    let trimmed = s.trim();
    let found = trimmed.chars().count();
    if found != 18 {
        return Err(UsccError::Length { found });
    }
    let mut code = String::with_capacity(18);
    for (i, ch) in trimmed.chars().enumerate() {
        let up = ch.to_ascii_uppercase();
        if !up.is_ascii() || uscc_value(up as u8).is_none() {
            return Err(UsccError::Charset { position: i + 1, ch });
        }
        code.push(up);
    }
    let b = code.as_bytes();

    let authority = b[0];
    let categories = USCC_CATEGORIES
        .iter()
        .find(|(a, _)| *a == authority)
        .map(|(_, c)| *c)
        .ok_or(UsccError::RegistrationAuthority { found: char::from(authority) })?;
    if !categories.contains(&b[1]) {
        return Err(UsccError::Category { authority: char::from(authority), category: char::from(b[1]) });
    }

    let region = &b[2..8];
    let region_ok = region.iter().all(u8::is_ascii_digit) && {
        let prefix = (region[0] - b'0') * 10 + (region[1] - b'0');
        prefix == 10 || PROVINCE_CODES.contains(&prefix)
    };
    if !region_ok {
        return Err(UsccError::Region { found: code[2..8].to_string() });
    }

    let expected = uscc_check_char(&b[..17]);
    let found = char::from(b[17]);
    if expected != found {
        return Err(UsccError::CheckCharacter { expected, found });
    }
    Ok(Uscc(code))
}

// ---------------------------------------------------------------------------
// Organization code (GB 11714-1997)
// ---------------------------------------------------------------------------

const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Why an organization code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OrgCodeError {
    /// Neither 9 characters nor 10 with a '-' before the check character.
    #[error("organization code must be 9 characters (or 10 as XXXXXXXX-C), found {found}")]
    Length {
        /// Number of characters found.
        found: usize,
    },
    /// A body character that is not 0-9/A-Z, or a check character that is not 0-9/X.
    #[error("organization code character {} at position {position} is not allowed", shown(.ch))]
    Charset {
        /// 1-based position in the trimmed input.
        position: usize,
        /// Offending character as given.
        ch: char,
    },
    /// The check character does not match the checksum of the 8 body characters.
    #[error("organization code check character is {}, expected {}", shown(.found), shown(.expected))]
    CheckCharacter {
        /// Check character computed from the body.
        expected: char,
        /// Check character given.
        found: char,
    },
}

/// A validated organization code, normalised to 9 upper-case characters
/// without the hyphen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgCode(String);

impl OrgCode {
    /// The normalised 9-character code (no hyphen).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The printed form "XXXXXXXX-C".
    pub fn printed(&self) -> String {
        format!("{}-{}", &self.0[..8], &self.0[8..])
    }
}

impl fmt::Display for OrgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Check character for 8 body characters (each 0-9 or A-Z).
fn org_check_char(body: &[u8]) -> char {
    let sum: u32 = body
        .iter()
        .zip(ORG_WEIGHTS)
        .map(|(&c, w)| {
            let v = if c.is_ascii_digit() { c - b'0' } else { c - b'A' + 10 };
            u32::from(v) * w
        })
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from(b'0' + d as u8),
    }
}

/// Validates an organization code (GB 11714-1997).
///
/// Accepts "XXXXXXXXC" and the printed form "XXXXXXXX-C"; input is trimmed,
/// ASCII letters are upper-cased and the result is normalised to 9 characters.
/// Body characters are 0-9 or A-Z (A = 10 ... Z = 35); the check character is
/// 11 - (Σ vᵢ·wᵢ mod 11) with weights `[3,7,9,10,5,8,4,2]`, 10 → 'X', 11 → '0'.
pub fn validate_organization_code(s: &str) -> Result<OrgCode, OrgCodeError> {
    let trimmed = s.trim();
    let chars: Vec<char> = trimmed.chars().collect();
    // (original 1-based position, char) of the 9 significant characters.
    let picked: Vec<(usize, char)> = match chars.len() {
        9 => chars.iter().copied().enumerate().map(|(i, c)| (i + 1, c)).collect(),
        10 if chars[8] == '-' => {
            chars.iter().copied().enumerate().filter(|&(i, _)| i != 8).map(|(i, c)| (i + 1, c)).collect()
        }
        found => return Err(OrgCodeError::Length { found }),
    };
    let mut code = String::with_capacity(9);
    for (idx, &(position, ch)) in picked.iter().enumerate() {
        let up = ch.to_ascii_uppercase();
        let ok =
            if idx < 8 { up.is_ascii_digit() || up.is_ascii_uppercase() } else { up.is_ascii_digit() || up == 'X' };
        if !ok {
            return Err(OrgCodeError::Charset { position, ch });
        }
        code.push(up);
    }
    let expected = org_check_char(&code.as_bytes()[..8]);
    let found = char::from(code.as_bytes()[8]);
    if expected != found {
        return Err(OrgCodeError::CheckCharacter { expected, found });
    }
    Ok(OrgCode(code))
}

/// A valid USCC and its organization code (printed form) for a legal person registered in
/// Shenzhen (`91440300`), whose organization code body is `n` in base 31: distinct `n` below
/// 31^8 give distinct codes. For tests and demos, which need many enterprises with real check
/// characters.
pub fn sample_uscc(n: u64) -> (String, String) {
    // The organization code body in base 31 over the USCC charset (which the organization code
    // allows too), so distinct `n` below 31^8 give distinct codes.
    let mut body = [b'0'; 8];
    let mut rest = n;
    for slot in body.iter_mut().rev() {
        *slot = USCC_CHARSET[(rest % 31) as usize];
        rest /= 31;
    }
    let org_check = org_check_char(&body);
    let mut uscc = b"91440300".to_vec();
    uscc.extend_from_slice(&body);
    uscc.push(org_check as u8);
    let check = uscc_check_char(&uscc);
    let body = String::from_utf8_lossy(&body).into_owned();
    (format!("{}{check}", String::from_utf8_lossy(&uscc)), format!("{body}-{org_check}"))
}

/// The organization code supplied does not equal chars 9-17 of the USCC.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("organization code {found} does not match USCC characters 9-17 ({expected})")]
pub struct OrgCodeMismatch {
    /// Chars 9-17 of the USCC.
    pub expected: String,
    /// The organization code supplied.
    pub found: String,
}

/// Checks that an organization code is the one embedded in a USCC (chars 9-17).
pub fn validate_org_code_matches_uscc(org: &OrgCode, uscc: &Uscc) -> Result<(), OrgCodeMismatch> {
    if org.as_str() == uscc.organization_code() {
        Ok(())
    } else {
        Err(OrgCodeMismatch { expected: uscc.organization_code().to_string(), found: org.as_str().to_string() })
    }
}

// ---------------------------------------------------------------------------
// Resident identity number (GB 11643-1999)
// ---------------------------------------------------------------------------

/// ISO 7064 MOD 11-2 weights: 2^(17-i) mod 11 for positions 1..=17.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Why a resident identity number was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ResidentIdError {
    /// Not exactly 18 characters (15-digit first-generation numbers are not accepted).
    #[error("resident identity number must be 18 characters, found {found}")]
    Length {
        /// Number of characters found.
        found: usize,
    },
    /// A non-digit in positions 1-17, or a check character other than 0-9/X.
    #[error("resident identity number character {} at position {position} is not allowed", shown(.ch))]
    Charset {
        /// 1-based position.
        position: usize,
        /// Offending character as given.
        ch: char,
    },
    /// The first two digits are not a province-level division code.
    #[error("resident identity number province code \"{found}\" is not valid")]
    Region {
        /// Digits 1-2.
        found: String,
    },
    /// Digits 7-14 are not a real calendar date.
    #[error("birth date {year:04}-{month:02}-{day:02} is not a calendar date")]
    BirthDate {
        /// Year as encoded.
        year: i32,
        /// Month as encoded.
        month: u8,
        /// Day as encoded.
        day: u8,
    },
    /// Birth year before 1900.
    #[error("birth year {year} is before 1900")]
    BirthYearTooEarly {
        /// Year as encoded.
        year: i32,
    },
    /// Birth date after `today`.
    #[error("birth date {year:04}-{month:02}-{day:02} is in the future")]
    BirthDateInFuture {
        /// Year as encoded.
        year: i32,
        /// Month as encoded.
        month: u8,
        /// Day as encoded.
        day: u8,
    },
    /// Char 18 does not match the MOD 11-2 checksum of digits 1-17.
    #[error("resident identity number check character is {}, expected {}", shown(.found), shown(.expected))]
    CheckCharacter {
        /// Check character computed from digits 1-17.
        expected: char,
        /// Check character given (upper-cased).
        found: char,
    },
}

/// A validated 18-character resident identity number (check 'x' normalised to 'X').
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResidentId {
    id: String,
    birth: (i32, u8, u8),
}

impl ResidentId {
    /// The normalised 18-character number.
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// Birth date (year, month, day) from digits 7-14.
    pub fn birth_date(&self) -> (i32, u8, u8) {
        self.birth
    }

    /// Masked form for display and logs: first 6 and last 4 kept, e.g. "110105********002X".
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.id[..6], &self.id[14..])
    }
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn id_check_char(body: &[u8]) -> char {
    let sum: u32 = body.iter().zip(ID_WEIGHTS).map(|(&c, w)| u32::from(c - b'0') * w).sum();
    match (12 - sum % 11) % 11 {
        10 => 'X',
        d => char::from(b'0' + d as u8),
    }
}

fn digits_value(b: &[u8]) -> u32 {
    b.iter().fold(0, |acc, &c| acc * 10 + u32::from(c - b'0'))
}

/// Validates a PRC resident identity number (GB 11643-1999).
///
/// Input is trimmed; a lower-case check 'x' is normalised to 'X'. Checks, in
/// order: length 18, charset (17 digits + 0-9/X), province code (digits 1-2),
/// birth date (digits 7-14: real calendar date, year ≥ 1900, not after
/// `today` given as (year, month, day)), ISO 7064 MOD 11-2 check character.
pub fn validate_resident_id(s: &str, today: (i32, u8, u8)) -> Result<ResidentId, ResidentIdError> {
    let trimmed = s.trim();
    let found = trimmed.chars().count();
    if found != 18 {
        return Err(ResidentIdError::Length { found });
    }
    let mut id = String::with_capacity(18);
    for (i, ch) in trimmed.chars().enumerate() {
        let ok = ch.is_ascii_digit() || (i == 17 && (ch == 'X' || ch == 'x'));
        if !ok {
            return Err(ResidentIdError::Charset { position: i + 1, ch });
        }
        id.push(ch.to_ascii_uppercase());
    }
    let b = id.as_bytes();

    let province = digits_value(&b[0..2]) as u8;
    if !PROVINCE_CODES.contains(&province) {
        return Err(ResidentIdError::Region { found: id[0..2].to_string() });
    }

    let year = digits_value(&b[6..10]) as i32;
    let month = digits_value(&b[10..12]) as u8;
    let day = digits_value(&b[12..14]) as u8;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(ResidentIdError::BirthDate { year, month, day });
    }
    if year < 1900 {
        return Err(ResidentIdError::BirthYearTooEarly { year });
    }
    if (year, month, day) > today {
        return Err(ResidentIdError::BirthDateInFuture { year, month, day });
    }

    let expected = id_check_char(&b[..17]);
    let found = char::from(b[17]);
    if expected != found {
        return Err(ResidentIdError::CheckCharacter { expected, found });
    }
    Ok(ResidentId { id, birth: (year, month, day) })
}

// ---------------------------------------------------------------------------
// Mainland mobile numbers
// ---------------------------------------------------------------------------

/// Why a mainland mobile number was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MobileError {
    /// A character other than digits, the leading '+', spaces and hyphens.
    #[error("mobile number character {} at position {position} is not allowed", shown(.ch))]
    Charset {
        /// 1-based position in the trimmed input.
        position: usize,
        /// Offending character.
        ch: char,
    },
    /// A '+' prefix that is not "+86".
    #[error("only mainland China numbers (+86) are accepted")]
    CountryCode,
    /// The national number does not have 11 digits.
    #[error("mobile number must have 11 digits after the country code, found {found}")]
    Length {
        /// Number of national digits found.
        found: usize,
    },
    /// The national number does not start with 13-19.
    #[error("mobile number must start with 13-19, found \"{found}\"")]
    Prefix {
        /// First two national digits.
        found: String,
    },
}

/// A validated mainland mobile number in E.164 form "+86XXXXXXXXXXX".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mobile(String);

impl Mobile {
    /// The E.164 form, e.g. "+8613800138000".
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Validates a mainland China mobile number and normalises it to E.164.
///
/// Input is trimmed; an optional "+86" or "86" prefix may precede 11 digits
/// matching `1[3-9]\d{9}`. Spaces and hyphens are accepted as separators
/// anywhere after the '+'; the '+' must be immediately followed by "86".
/// "0086" and other international prefixes are not accepted.
pub fn validate_mainland_mobile(s: &str) -> Result<Mobile, MobileError> {
    let trimmed = s.trim();
    let (has_plus, rest, offset) = match trimmed.strip_prefix('+') {
        Some(r) => (true, r, 1),
        None => (false, trimmed, 0),
    };
    if has_plus && !rest.starts_with("86") {
        return Err(MobileError::CountryCode);
    }
    let mut digits = String::with_capacity(13);
    for (i, ch) in rest.chars().enumerate() {
        match ch {
            '0'..='9' => digits.push(ch),
            ' ' | '-' => {}
            _ => {
                return Err(MobileError::Charset { position: i + 1 + offset, ch });
            }
        }
    }
    let national =
        if has_plus || (digits.len() == 13 && digits.starts_with("86")) { &digits[2..] } else { &digits[..] };
    if national.len() != 11 {
        return Err(MobileError::Length { found: national.len() });
    }
    let nb = national.as_bytes();
    if nb[0] != b'1' || !(b'3'..=b'9').contains(&nb[1]) {
        return Err(MobileError::Prefix { found: national[..2].to_string() });
    }
    Ok(Mobile(format!("+86{national}")))
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/// Control characters plus invisible formatting characters that can disguise
/// a name (zero-width, bidi overrides/isolates, BOM, soft hyphen, line/paragraph separators).
fn is_control_like(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// Why a person name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    /// Not 2..=50 characters after trimming.
    #[error("name must be 2 to 50 characters, found {found}")]
    Length {
        /// Number of characters found.
        found: usize,
    },
    /// A control or invisible formatting character.
    #[error("name contains a control character at position {position}")]
    ControlCharacter {
        /// 1-based position.
        position: usize,
    },
    /// A character other than letters, combining accents, space, '·' and '.'.
    #[error("name character {} at position {position} is not allowed", shown(.ch))]
    Charset {
        /// 1-based position.
        position: usize,
        /// Offending character.
        ch: char,
    },
    /// The first character is not a letter.
    #[error("name must start with a letter, found {}", shown(.ch))]
    MustStartWithLetter {
        /// First character.
        ch: char,
    },
}

/// Validates a natural person's name and returns it trimmed.
///
/// 2..=50 characters (Unicode scalar values); letters of any script (CJK
/// included), combining diacritics (U+0300-U+036F), spaces, '·' (U+00B7,
/// as in "阿沛·阿旺晋美") and '.'; must start with a letter; no control or
/// invisible formatting characters. Hyphens, apostrophes and digits are rejected.
pub fn validate_person_name(s: &str) -> Result<String, NameError> {
    let trimmed = s.trim();
    let found = trimmed.chars().count();
    if !(2..=50).contains(&found) {
        return Err(NameError::Length { found });
    }
    for (i, ch) in trimmed.chars().enumerate() {
        if is_control_like(ch) {
            return Err(NameError::ControlCharacter { position: i + 1 });
        }
        let ok = ch.is_alphabetic() || matches!(ch, ' ' | '·' | '.') || ('\u{0300}'..='\u{036F}').contains(&ch);
        if !ok {
            return Err(NameError::Charset { position: i + 1, ch });
        }
    }
    let first = trimmed.chars().next().expect("length checked");
    if !first.is_alphabetic() {
        return Err(NameError::MustStartWithLetter { ch: first });
    }
    Ok(trimmed.to_string())
}

/// Why a company name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CompanyNameError {
    /// Not 2..=100 characters after trimming.
    #[error("company name must be 2 to 100 characters, found {found}")]
    Length {
        /// Number of characters found.
        found: usize,
    },
    /// A control or invisible formatting character.
    #[error("company name contains a control character at position {position}")]
    ControlCharacter {
        /// 1-based position.
        position: usize,
    },
}

/// Validates a company name and returns it trimmed: 2..=100 characters, no
/// control or invisible formatting characters (other punctuation such as
/// full-width brackets is allowed).
pub fn validate_company_name(s: &str) -> Result<String, CompanyNameError> {
    let trimmed = s.trim();
    let found = trimmed.chars().count();
    if !(2..=100).contains(&found) {
        return Err(CompanyNameError::Length { found });
    }
    if let Some(i) = trimmed.chars().position(is_control_like) {
        return Err(CompanyNameError::ControlCharacter { position: i + 1 });
    }
    Ok(trimmed.to_string())
}

// ---------------------------------------------------------------------------
// Rule codes and how a character is shown
// ---------------------------------------------------------------------------

/// A character as a message shows it: in single quotes when it can be seen, else as its code
/// point (`U+200B`), never in Rust's escape syntax.
pub struct Shown(char);

fn shown(ch: &char) -> Shown {
    Shown(*ch)
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_whitespace() || is_control_like(self.0) {
            write!(f, "U+{:04X}", u32::from(self.0))
        } else {
            write!(f, "'{}'", self.0)
        }
    }
}

impl Rule for UsccError {
    fn code(&self) -> &'static str {
        match self {
            UsccError::Length { .. } => "length",
            UsccError::Charset { .. } => "charset",
            UsccError::RegistrationAuthority { .. } => "registration_authority",
            UsccError::Category { .. } => "category",
            UsccError::Region { .. } => "region",
            UsccError::CheckCharacter { .. } => "check_character",
        }
    }
}

impl Rule for OrgCodeError {
    fn code(&self) -> &'static str {
        match self {
            OrgCodeError::Length { .. } => "length",
            OrgCodeError::Charset { .. } => "charset",
            OrgCodeError::CheckCharacter { .. } => "check_character",
        }
    }
}

impl Rule for OrgCodeMismatch {
    fn code(&self) -> &'static str {
        "org_code_mismatch"
    }
}

impl Rule for ResidentIdError {
    fn code(&self) -> &'static str {
        match self {
            ResidentIdError::Length { .. } => "length",
            ResidentIdError::Charset { .. } => "charset",
            ResidentIdError::Region { .. } => "region",
            ResidentIdError::BirthDate { .. } => "birth_date",
            ResidentIdError::BirthYearTooEarly { .. } => "birth_year_too_early",
            ResidentIdError::BirthDateInFuture { .. } => "birth_date_in_future",
            ResidentIdError::CheckCharacter { .. } => "check_character",
        }
    }
}

impl Rule for MobileError {
    fn code(&self) -> &'static str {
        match self {
            MobileError::Charset { .. } => "charset",
            MobileError::CountryCode => "country_code",
            MobileError::Length { .. } => "length",
            MobileError::Prefix { .. } => "prefix",
        }
    }
}

impl Rule for NameError {
    fn code(&self) -> &'static str {
        match self {
            NameError::Length { .. } => "length",
            NameError::ControlCharacter { .. } => "control_character",
            NameError::Charset { .. } => "charset",
            NameError::MustStartWithLetter { .. } => "must_start_with_letter",
        }
    }
}

impl Rule for CompanyNameError {
    fn code(&self) -> &'static str {
        match self {
            CompanyNameError::Length { .. } => "length",
            CompanyNameError::ControlCharacter { .. } => "control_character",
        }
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    /// USCCs printed on public business licences / disclosures of well-known companies.
    /// Each also embeds a GB 11714-valid organization code.
    const REAL_USCCS: &[(&str, &str)] = &[
        ("9144030071526726XG", "Tencent Technology (Shenzhen) Co., Ltd."),
        ("914403001922038216", "Huawei Technologies Co., Ltd."),
        ("91440300708461136T", "Shenzhen Tencent Computer Systems Co., Ltd."),
        ("91330100799655058B", "Alibaba (China) Co., Ltd."),
        ("91110108551385082Q", "Xiaomi Inc. (小米科技有限责任公司)"),
        ("91110000802100433B", "Beijing Baidu Netcom Science and Technology Co., Ltd."),
        ("911100007109250324", "China Mobile Communications Group Co., Ltd."),
        ("91100000100003962T", "Industrial and Commercial Bank of China Ltd."),
        ("911000001000013428", "Bank of China Ltd."),
        ("911100001000044477", "China Construction Bank Corp."),
        ("911100001000054748", "Agricultural Bank of China Ltd."),
        ("91110000710926094P", "China Petroleum & Chemical Corp. (Sinopec)"),
        ("91520000214434146R", "Kweichow Moutai Co., Ltd."),
        ("91440300192317458F", "BYD Co., Ltd."),
        ("91440300100012316L", "Ping An Insurance (Group) Co. of China, Ltd."),
        ("9144030010001686XA", "China Merchants Bank Co., Ltd."),
        ("91440300192181490G", "China Vanke Co., Ltd."),
        ("91440606722473344C", "Midea Group Co., Ltd."),
        ("91440400192548256N", "Gree Electric Appliances, Inc. of Zhuhai"),
        ("911100001011016602", "BOE Technology Group Co., Ltd."),
        ("9131000013221158XC", "Shanghai Pudong Development Bank Co., Ltd."),
        ("9131000010000595XD", "Bank of Communications Co., Ltd."),
    ];

    /// The example in GB 11643-1999 (Beijing Chaoyang, 1949-12-31, female).
    const GB11643_EXAMPLE: &str = "11010519491231002X";
    /// The second GB 11643-1999 example (born 1880): checksum-valid, rejected by the ≥1900 rule.
    const GB11643_EXAMPLE_1880: &str = "440524188001010014";

    const TODAY: (i32, u8, u8) = (2025, 6, 1);

    fn uscc_with_check(body17: &str) -> String {
        format!("{body17}{}", uscc_check_char(body17.as_bytes()))
    }

    fn id_with_check(body17: &str) -> String {
        format!("{body17}{}", id_check_char(body17.as_bytes()))
    }

    fn replace_at(s: &str, pos: usize, c: char) -> String {
        s.chars().enumerate().map(|(i, o)| if i == pos { c } else { o }).collect()
    }

    // ---- USCC ----

    #[test]
    fn uscc_weights_are_powers_of_three_mod_31() {
        let mut w = 1u32;
        for &weight in &USCC_WEIGHTS {
            assert_eq!(weight, w);
            w = w * 3 % 31;
        }
    }

    #[test]
    fn uscc_real_examples_pass() {
        for &(code, name) in REAL_USCCS {
            let u = validate_uscc(code).unwrap_or_else(|e| panic!("{name} {code}: {e}"));
            assert_eq!(u.as_str(), code);
            assert_eq!(u.organization_code(), &code[8..17]);
            // The embedded organization code is itself GB 11714-valid for these.
            let org = validate_organization_code(u.organization_code()).unwrap();
            validate_org_code_matches_uscc(&org, &u).unwrap();
        }
        let t = validate_uscc("9144030071526726XG").unwrap();
        assert_eq!(t.organization_code(), "71526726X");
        assert_eq!(t.registration_authority(), '9');
        assert_eq!(t.category(), '1');
        assert_eq!(t.region_code(), "440300");
        assert_eq!(t.to_string(), "9144030071526726XG");
    }

    #[test]
    fn uscc_trims_and_uppercases() {
        let u = validate_uscc("  9144030071526726xg\n").unwrap();
        assert_eq!(u.as_str(), "9144030071526726XG");
    }

    #[test]
    fn uscc_every_single_substitution_is_rejected() {
        for &(code, _) in REAL_USCCS {
            for pos in 0..18 {
                let orig = code.as_bytes()[pos];
                for &c in USCC_CHARSET.iter().filter(|&&c| c != orig) {
                    let bad = replace_at(code, pos, char::from(c));
                    assert!(validate_uscc(&bad).is_err(), "{bad} accepted (from {code})");
                }
            }
        }
    }

    #[test]
    fn uscc_wrong_lengths() {
        assert_eq!(validate_uscc(""), Err(UsccError::Length { found: 0 }));
        assert_eq!(validate_uscc("   "), Err(UsccError::Length { found: 0 }));
        assert_eq!(validate_uscc("9144030071526726X"), Err(UsccError::Length { found: 17 }));
        assert_eq!(validate_uscc("9144030071526726XGG"), Err(UsccError::Length { found: 19 }));
        assert_eq!(validate_uscc("91440300-71526726-XG"), Err(UsccError::Length { found: 20 }));
    }

    #[test]
    fn uscc_forbidden_characters() {
        let code = "9144030071526726XG";
        for pos in 0..18 {
            for ch in ['I', 'O', 'Z', 'S', 'V', 'i', 'o', 'z', 's', 'v', '-', '_', '０', '#'] {
                let bad = replace_at(code, pos, ch);
                assert_eq!(validate_uscc(&bad), Err(UsccError::Charset { position: pos + 1, ch }), "{bad:?}");
            }
        }
    }

    #[test]
    fn uscc_check_character_error_is_precise() {
        assert_eq!(validate_uscc("9144030071526726XA"), Err(UsccError::CheckCharacter { expected: 'G', found: 'A' }));
        assert_eq!(validate_uscc("914403001922038210"), Err(UsccError::CheckCharacter { expected: '6', found: '0' }));
    }

    #[test]
    fn sample_usccs_are_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for n in [0u64, 1, 18, 30, 31, 1_000_003, 852_891_037_440, u64::MAX] {
            let (u, o) = sample_uscc(n);
            let uscc = validate_uscc(&u).unwrap();
            let org = validate_organization_code(&o).unwrap();
            validate_org_code_matches_uscc(&org, &uscc).unwrap();
            seen.insert(u);
        }
        assert_eq!(seen.len(), 8);
        // Every value below 31^2 gives its own code (no letters folded together).
        let small: std::collections::HashSet<_> = (0..961).map(|n| sample_uscc(n).0).collect();
        assert_eq!(small.len(), 961);
    }

    #[test]
    fn uscc_check_31_maps_to_zero() {
        // Varying char 17 walks through every residue (its weight 28 is invertible mod 31),
        // so exactly one choice makes the sum ≡ 0 mod 31, whose check character is '0'.
        let bodies: Vec<String> = USCC_CHARSET
            .iter()
            .map(|&c| format!("9144030071526726{}", char::from(c)))
            .filter(|b| uscc_check_char(b.as_bytes()) == '0')
            .collect();
        assert_eq!(bodies.len(), 1);
        validate_uscc(&format!("{}0", bodies[0])).unwrap();
    }

    #[test]
    fn uscc_authority_and_category_rules() {
        // Unknown authority codes (checksum made valid so only this rule fails).
        for a in ['0', 'B', 'C', 'X'] {
            let code = uscc_with_check(&format!("{a}144030071526726X"));
            assert_eq!(validate_uscc(&code), Err(UsccError::RegistrationAuthority { found: a }));
        }
        // Categories not defined for the authority.
        for (a, c) in [('9', '4'), ('9', '0'), ('5', '6'), ('1', '4'), ('Y', '2'), ('N', '4'), ('2', '2')] {
            let code = uscc_with_check(&format!("{a}{c}44030071526726X"));
            assert_eq!(validate_uscc(&code), Err(UsccError::Category { authority: a, category: c }), "{code}");
        }
        // Defined combinations pass.
        for (a, c) in [('1', '1'), ('5', '3'), ('9', '2'), ('9', '3'), ('N', '2'), ('Y', '1'), ('A', '1')] {
            let code = uscc_with_check(&format!("{a}{c}44030071526726X"));
            assert!(validate_uscc(&code).is_ok(), "{code}");
        }
    }

    #[test]
    fn uscc_region_rules() {
        for region in ["000000", "990000", "160300", "4403A0", "T40300"] {
            let code = uscc_with_check(&format!("91{region}71526726X"));
            assert_eq!(validate_uscc(&code), Err(UsccError::Region { found: region.to_string() }), "{code}");
        }
        // Central registration (100000) is valid, as for ICBC.
        assert!(validate_uscc(&uscc_with_check("9110000071526726X")).is_ok());
    }

    // ---- Organization code ----

    #[test]
    fn org_code_real_examples_pass_and_normalise() {
        let o = validate_organization_code("71526726-X").unwrap();
        assert_eq!(o.as_str(), "71526726X");
        assert_eq!(o.printed(), "71526726-X");
        assert_eq!(validate_organization_code("71526726X").unwrap(), o);
        assert_eq!(validate_organization_code(" 71526726-x ").unwrap(), o);
        assert_eq!(validate_organization_code("19220382-1").unwrap().as_str(), "192203821");
        for &(code, _) in REAL_USCCS {
            let printed = format!("{}-{}", &code[8..16], &code[16..17]);
            assert!(validate_organization_code(&printed).is_ok(), "{printed}");
        }
    }

    #[test]
    fn org_code_single_substitutions() {
        let all: Vec<char> = ('0'..='9').chain('A'..='Z').collect();
        for &(code, _) in REAL_USCCS {
            let org = &code[8..17];
            let val = |c: char| c.to_digit(36).unwrap() as i32;
            for pos in 0..8 {
                let orig = org.chars().nth(pos).unwrap();
                for &c in all.iter().filter(|&&c| c != orig) {
                    let bad = replace_at(org, pos, c);
                    let res = validate_organization_code(&bad);
                    // Any digit-for-digit change is detected; MOD 11 with values up to 35
                    // inherently misses substitutions whose value difference is a multiple of 11.
                    if (val(c) - val(orig)) % 11 == 0 {
                        assert!(res.is_ok(), "{bad}");
                    } else {
                        assert!(res.is_err(), "{bad} accepted (from {org})");
                    }
                    if orig.is_ascii_digit() && c.is_ascii_digit() {
                        assert!(res.is_err());
                    }
                }
            }
            let orig = org.chars().nth(8).unwrap();
            for c in ('0'..='9').chain(['X']).filter(|&c| c != orig) {
                let bad = replace_at(org, 8, c);
                assert_eq!(
                    validate_organization_code(&bad),
                    Err(OrgCodeError::CheckCharacter { expected: orig, found: c })
                );
            }
        }
    }

    #[test]
    fn org_code_format_errors() {
        assert_eq!(validate_organization_code(""), Err(OrgCodeError::Length { found: 0 }));
        assert_eq!(validate_organization_code("7152672-X"), Err(OrgCodeError::Charset { position: 8, ch: '-' }));
        assert_eq!(validate_organization_code("71526726XX"), Err(OrgCodeError::Length { found: 10 }));
        assert_eq!(validate_organization_code("7152-6726X"), Err(OrgCodeError::Length { found: 10 }));
        assert_eq!(validate_organization_code("71526726--X"), Err(OrgCodeError::Length { found: 11 }));
        assert_eq!(
            validate_organization_code("715267264"),
            Err(OrgCodeError::CheckCharacter { expected: 'X', found: '4' })
        );
        assert_eq!(validate_organization_code("71526726-A"), Err(OrgCodeError::Charset { position: 10, ch: 'A' }));
        assert_eq!(validate_organization_code("715*6726-X"), Err(OrgCodeError::Charset { position: 4, ch: '*' }));
    }

    #[test]
    fn org_code_check_11_maps_to_zero_and_10_to_x() {
        // Bodies with sum ≡ 0 mod 11 get '0'; sum ≡ 1 gets 'X'.
        assert_eq!(org_check_char(b"00000000"), '0');
        assert_eq!(org_check_char(b"00000001"), '9'); // 2 -> 11-2
        assert_eq!(org_check_char(b"71526726"), 'X');
        assert!(validate_organization_code("00000000-0").is_ok());
    }

    #[test]
    fn org_code_must_match_uscc() {
        let tencent = validate_uscc("9144030071526726XG").unwrap();
        let huawei = validate_uscc("914403001922038216").unwrap();
        let org = validate_organization_code("71526726-X").unwrap();
        assert_eq!(validate_org_code_matches_uscc(&org, &tencent), Ok(()));
        assert_eq!(
            validate_org_code_matches_uscc(&org, &huawei),
            Err(OrgCodeMismatch { expected: "192203821".into(), found: "71526726X".into() })
        );
    }

    // ---- Resident identity number ----

    #[test]
    fn resident_id_standard_example_passes() {
        let id = validate_resident_id(GB11643_EXAMPLE, TODAY).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), (1949, 12, 31));
        assert_eq!(id.masked(), "110105********002X");
        let lower = validate_resident_id(" 11010519491231002x ", TODAY).unwrap();
        assert_eq!(lower, id);
        // Born on `today` is fine; the day before is in the future.
        assert!(validate_resident_id(GB11643_EXAMPLE, (1949, 12, 31)).is_ok());
        assert_eq!(
            validate_resident_id(GB11643_EXAMPLE, (1949, 12, 30)),
            Err(ResidentIdError::BirthDateInFuture { year: 1949, month: 12, day: 31 })
        );
    }

    #[test]
    fn resident_id_1880_standard_example_fails_year_rule() {
        assert_eq!(id_check_char(&GB11643_EXAMPLE_1880.as_bytes()[..17]), '4');
        assert_eq!(
            validate_resident_id(GB11643_EXAMPLE_1880, TODAY),
            Err(ResidentIdError::BirthYearTooEarly { year: 1880 })
        );
    }

    #[test]
    fn resident_id_every_single_substitution_is_rejected() {
        let code = GB11643_EXAMPLE;
        for pos in 0..18 {
            let orig = code.chars().nth(pos).unwrap();
            let alphabet: Vec<char> =
                if pos == 17 { ('0'..='9').chain(['X']).collect() } else { ('0'..='9').collect() };
            for &c in alphabet.iter().filter(|&&c| c != orig) {
                let bad = replace_at(code, pos, c);
                assert!(validate_resident_id(&bad, TODAY).is_err(), "{bad} accepted");
            }
        }
    }

    #[test]
    fn resident_id_check_error_is_precise() {
        assert_eq!(
            validate_resident_id("110105194912310021", TODAY),
            Err(ResidentIdError::CheckCharacter { expected: 'X', found: '1' })
        );
    }

    #[test]
    fn resident_id_lengths_and_charset() {
        assert_eq!(validate_resident_id("", TODAY), Err(ResidentIdError::Length { found: 0 }));
        // 15-digit first-generation number.
        assert_eq!(validate_resident_id("110105491231002", TODAY), Err(ResidentIdError::Length { found: 15 }));
        assert_eq!(validate_resident_id("11010519491231002", TODAY), Err(ResidentIdError::Length { found: 17 }));
        assert_eq!(validate_resident_id("11010519491231002XX", TODAY), Err(ResidentIdError::Length { found: 19 }));
        assert_eq!(
            validate_resident_id("1101051949123100XX", TODAY),
            Err(ResidentIdError::Charset { position: 17, ch: 'X' })
        );
        assert_eq!(
            validate_resident_id("11010519491231002Y", TODAY),
            Err(ResidentIdError::Charset { position: 18, ch: 'Y' })
        );
        assert_eq!(
            validate_resident_id("11010519491231００2X", TODAY),
            Err(ResidentIdError::Charset { position: 15, ch: '０' })
        );
    }

    #[test]
    fn resident_id_province_rules() {
        for p in ["00", "10", "16", "24", "38", "47", "55", "60", "66", "72", "80", "84", "90", "99"] {
            let id = id_with_check(&format!("{p}010519491231002"));
            assert_eq!(validate_resident_id(&id, TODAY), Err(ResidentIdError::Region { found: p.to_string() }), "{id}");
        }
        for p in ["11", "15", "23", "37", "46", "54", "65", "71", "81", "82", "83", "91"] {
            let id = id_with_check(&format!("{p}010519491231002"));
            assert!(validate_resident_id(&id, TODAY).is_ok(), "{id}");
        }
    }

    #[test]
    fn resident_id_birth_date_rules() {
        let with_date = |d: &str| id_with_check(&format!("110105{d}002"));
        let bad = |y, m, d| Err(ResidentIdError::BirthDate { year: y, month: m, day: d });
        assert_eq!(validate_resident_id(&with_date("19900230"), TODAY), bad(1990, 2, 30));
        assert_eq!(validate_resident_id(&with_date("20010229"), TODAY), bad(2001, 2, 29));
        assert_eq!(validate_resident_id(&with_date("19000229"), TODAY), bad(1900, 2, 29));
        assert_eq!(validate_resident_id(&with_date("19901301"), TODAY), bad(1990, 13, 1));
        assert_eq!(validate_resident_id(&with_date("19900001"), TODAY), bad(1990, 0, 1));
        assert_eq!(validate_resident_id(&with_date("19900100"), TODAY), bad(1990, 1, 0));
        assert_eq!(validate_resident_id(&with_date("19900431"), TODAY), bad(1990, 4, 31));
        for ok in ["20000229", "20040229", "19000101", "19901231", "20250601"] {
            let id = with_date(ok);
            assert!(validate_resident_id(&id, TODAY).is_ok(), "{id}");
        }
        assert_eq!(
            validate_resident_id(&with_date("18991231"), TODAY),
            Err(ResidentIdError::BirthYearTooEarly { year: 1899 })
        );
        assert_eq!(
            validate_resident_id(&with_date("20250602"), TODAY),
            Err(ResidentIdError::BirthDateInFuture { year: 2025, month: 6, day: 2 })
        );
        assert_eq!(
            validate_resident_id(&with_date("20300101"), TODAY),
            Err(ResidentIdError::BirthDateInFuture { year: 2030, month: 1, day: 1 })
        );
    }

    // ---- Mobile ----

    #[test]
    fn mobile_accepted_forms_normalise_to_e164() {
        for s in [
            "13800138000",
            "+8613800138000",
            "+86 13800138000",
            "+86 138 0013 8000",
            "+86-138-0013-8000",
            "8613800138000",
            "86 138-0013-8000",
            "138 0013 8000",
            " 138-0013-8000 ",
        ] {
            assert_eq!(validate_mainland_mobile(s).unwrap().as_str(), "+8613800138000", "{s}");
        }
        for second in '3'..='9' {
            let n = format!("1{second}912345678");
            assert_eq!(validate_mainland_mobile(&n).unwrap().to_string(), format!("+86{n}"));
        }
    }

    #[test]
    fn mobile_rejections() {
        assert_eq!(validate_mainland_mobile(""), Err(MobileError::Length { found: 0 }));
        assert_eq!(validate_mainland_mobile("1380013800"), Err(MobileError::Length { found: 10 }));
        assert_eq!(validate_mainland_mobile("138001380001"), Err(MobileError::Length { found: 12 }));
        assert_eq!(validate_mainland_mobile("+86138001380"), Err(MobileError::Length { found: 9 }));
        assert_eq!(validate_mainland_mobile("+86 1380013800"), Err(MobileError::Length { found: 10 }));
        assert_eq!(validate_mainland_mobile("+86 138001380001"), Err(MobileError::Length { found: 12 }));
        assert_eq!(validate_mainland_mobile("008613800138000"), Err(MobileError::Length { found: 15 }));
        for p in ["10", "11", "12", "20", "03", "98"] {
            let n = format!("{p}800138000");
            assert_eq!(validate_mainland_mobile(&n), Err(MobileError::Prefix { found: p.into() }), "{n}");
        }
        assert_eq!(validate_mainland_mobile("+86 12800138000"), Err(MobileError::Prefix { found: "12".into() }));
        assert_eq!(validate_mainland_mobile("+1 4155550100"), Err(MobileError::CountryCode));
        assert_eq!(validate_mainland_mobile("+852 91234567"), Err(MobileError::CountryCode));
        assert_eq!(validate_mainland_mobile("+ 86 13800138000"), Err(MobileError::CountryCode));
        assert_eq!(validate_mainland_mobile("138.0013.8000"), Err(MobileError::Charset { position: 4, ch: '.' }));
        assert_eq!(validate_mainland_mobile("+86(138)00138000"), Err(MobileError::Charset { position: 4, ch: '(' }));
        assert_eq!(validate_mainland_mobile("1380013800O"), Err(MobileError::Charset { position: 11, ch: 'O' }));
    }

    // ---- Names ----

    #[test]
    fn person_names() {
        for ok in [
            "张三",
            "王小明",
            "阿沛·阿旺晋美",
            "John Smith",
            "J. R. Tolkien",
            "José Álvarez",
            "Jose\u{301} Ng",
            "Müller Anna",
        ] {
            assert_eq!(validate_person_name(&format!("  {ok} ")).unwrap(), ok);
        }
        assert_eq!(validate_person_name("张"), Err(NameError::Length { found: 1 }));
        assert_eq!(validate_person_name("   "), Err(NameError::Length { found: 0 }));
        assert!(validate_person_name(&"名".repeat(50)).is_ok());
        assert_eq!(validate_person_name(&"名".repeat(51)), Err(NameError::Length { found: 51 }));
        assert_eq!(validate_person_name("张\n三"), Err(NameError::ControlCharacter { position: 2 }));
        assert_eq!(validate_person_name("张\u{202E}三"), Err(NameError::ControlCharacter { position: 2 }));
        assert_eq!(validate_person_name("张\u{200B}三"), Err(NameError::ControlCharacter { position: 2 }));
        assert_eq!(validate_person_name("张三3"), Err(NameError::Charset { position: 3, ch: '3' }));
        assert_eq!(validate_person_name("O'Brien"), Err(NameError::Charset { position: 2, ch: '\'' }));
        assert_eq!(validate_person_name("张-三"), Err(NameError::Charset { position: 2, ch: '-' }));
        assert_eq!(validate_person_name("·张三"), Err(NameError::MustStartWithLetter { ch: '·' }));
        assert_eq!(validate_person_name(". ."), Err(NameError::MustStartWithLetter { ch: '.' }));
    }

    #[test]
    fn company_names() {
        for ok in ["腾讯科技（深圳）有限公司", "Huawei Technologies Co., Ltd.", "AB"] {
            assert_eq!(validate_company_name(&format!(" {ok}\t")).unwrap(), ok);
        }
        assert_eq!(validate_company_name("腾"), Err(CompanyNameError::Length { found: 1 }));
        assert!(validate_company_name(&"司".repeat(100)).is_ok());
        assert_eq!(validate_company_name(&"司".repeat(101)), Err(CompanyNameError::Length { found: 101 }));
        assert_eq!(validate_company_name("腾讯\u{0}科技"), Err(CompanyNameError::ControlCharacter { position: 3 }));
        assert_eq!(
            validate_company_name("腾讯科技\r\n有限公司"),
            Err(CompanyNameError::ControlCharacter { position: 5 })
        );
        assert_eq!(validate_company_name("ACME\u{202E}DTL"), Err(CompanyNameError::ControlCharacter { position: 5 }));
    }

    #[test]
    fn errors_display_the_failed_rule() {
        let e = validate_uscc("9144030071526726XA").unwrap_err();
        assert_eq!(e.to_string(), "USCC check character is 'A', expected 'G'");
        let e = validate_resident_id("11010519900230002X", TODAY).unwrap_err();
        assert_eq!(e.to_string(), "birth date 1990-02-30 is not a calendar date");
        // No Rust escape syntax: an invisible character is named by its code point.
        let e = validate_person_name("张\u{200B}三").unwrap_err();
        assert_eq!(e.to_string(), "name contains a control character at position 2");
        let e = validate_mainland_mobile("138\u{3000}0013 8000").unwrap_err();
        assert_eq!(e.to_string(), "mobile number character U+3000 at position 4 is not allowed");
        assert_eq!((e.code(), validate_uscc("9144030071526726XA").unwrap_err().code()), ("charset", "check_character"));
    }
}
