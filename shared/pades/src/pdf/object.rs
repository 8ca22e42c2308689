//! PDF objects: a small tokenizer/parser and serializer.
//!
//! Why our own parser instead of lopdf: lopdf's `Document::load_mem` parses every object of the
//! file up front (seconds and hundreds of MB on a 2,415-page manual), and it offers no public
//! lazy loading API. Signing only needs the trailer, the xref, and a handful of objects (catalog,
//! the page-tree path to the target pages, the AcroForm), so we parse exactly those on demand.
//! Every parse function works on a byte slice with explicit bounds and never panics.

use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub enum Obj {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Str(Vec<u8>),
    Name(Vec<u8>),
    Array(Vec<Obj>),
    Dict(Dict),
    Ref(u32, u16),
    Stream(Dict, Vec<u8>),
}

/// A dictionary keeping insertion order (so rewritten objects look like their originals).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict(pub Vec<(Vec<u8>, Obj)>);

impl Dict {
    pub fn new() -> Self {
        Dict(Vec::new())
    }
    pub fn get(&self, key: &str) -> Option<&Obj> {
        self.0.iter().rev().find(|(k, _)| k == key.as_bytes()).map(|(_, v)| v)
    }
    pub fn set(&mut self, key: &str, val: Obj) {
        if let Some(e) = self.0.iter_mut().find(|(k, _)| k == key.as_bytes()) {
            e.1 = val;
        } else {
            self.0.push((key.as_bytes().to_vec(), val));
        }
    }
    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key.as_bytes());
    }
    pub fn with(mut self, key: &str, val: Obj) -> Self {
        self.set(key, val);
        self
    }
    pub fn name_is(&self, key: &str, name: &str) -> bool {
        matches!(self.get(key), Some(Obj::Name(n)) if n == name.as_bytes())
    }
}

impl Obj {
    pub fn name(s: &str) -> Obj {
        Obj::Name(s.as_bytes().to_vec())
    }
    pub fn str(s: &str) -> Obj {
        Obj::Str(s.as_bytes().to_vec())
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Obj::Int(i) => Some(*i),
            Obj::Real(r) if r.is_finite() => Some(*r as i64),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Obj::Int(i) => Some(*i as f64),
            Obj::Real(r) if r.is_finite() => Some(*r),
            _ => None,
        }
    }
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Obj::Dict(d) | Obj::Stream(d, _) => Some(d),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&Vec<Obj>> {
        match self {
            Obj::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_ref(&self) -> Option<(u32, u16)> {
        match self {
            Obj::Ref(n, g) => Some((*n, *g)),
            _ => None,
        }
    }
    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Obj::Name(n) => Some(n),
            _ => None,
        }
    }
}

// ------------------------------------------------------------------------------------------
// Lexing helpers
// ------------------------------------------------------------------------------------------

pub fn is_ws(c: u8) -> bool {
    matches!(c, 0 | 9 | 10 | 12 | 13 | 32)
}
pub fn is_delim(c: u8) -> bool {
    matches!(c, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}
fn is_regular(c: u8) -> bool {
    !is_ws(c) && !is_delim(c)
}

/// Skip whitespace and comments.
pub fn skip_ws(b: &[u8], mut p: usize) -> usize {
    while p < b.len() {
        if is_ws(b[p]) {
            p += 1;
        } else if b[p] == b'%' {
            while p < b.len() && b[p] != b'\n' && b[p] != b'\r' {
                p += 1;
            }
        } else {
            break;
        }
    }
    p
}

/// Reads a regular token (keyword or number) at p (after whitespace).
pub fn token(b: &[u8], p: usize) -> (&[u8], usize) {
    let mut e = p;
    while e < b.len() && is_regular(b[e]) {
        e += 1;
    }
    (&b[p..e], e)
}

fn parse_uint(t: &[u8]) -> Option<u64> {
    if t.is_empty() || t.len() > 19 || !t.iter().all(|c| c.is_ascii_digit()) {
        return None;
    }
    std::str::from_utf8(t).ok()?.parse().ok()
}

fn parse_number(t: &[u8]) -> Option<Obj> {
    if t.is_empty() {
        return None;
    }
    let s = std::str::from_utf8(t).ok()?;
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        return None;
    }
    if !body.contains('.')
        && let Ok(i) = s.parse::<i64>()
    {
        return Some(Obj::Int(i));
    }
    // reals like "-.5", "5.", or "--5" (tolerated by readers as 5): normalise
    let neg = s.starts_with('-');
    let digits: String = body.chars().filter(|c| *c != '-').collect();
    let digits = if digits.starts_with('.') { format!("0{digits}") } else { digits };
    let digits = digits.trim_end_matches('.');
    let digits = if digits.matches('.').count() > 1 { return Some(Obj::Real(0.0)) } else { digits };
    let v: f64 = digits.parse().ok()?;
    Some(Obj::Real(if neg { -v } else { v }))
}

#[derive(Debug)]
pub struct ParseError(pub String);

type PResult<T> = Result<T, ParseError>;

fn perr<T>(msg: impl Into<String>) -> PResult<T> {
    Err(ParseError(msg.into()))
}

const MAX_DEPTH: usize = 200;

/// Parses one direct object at `p`. Streams are not handled here (see `parse_indirect`).
/// Returns the object and the position after it.
pub fn parse_obj(b: &[u8], p: usize) -> PResult<(Obj, usize)> {
    parse_obj_d(b, p, 0)
}

fn parse_obj_d(b: &[u8], p: usize, depth: usize) -> PResult<(Obj, usize)> {
    if depth > MAX_DEPTH {
        return perr("objects nested too deeply");
    }
    let p = skip_ws(b, p);
    if p >= b.len() {
        return perr("unexpected end of data");
    }
    match b[p] {
        b'/' => {
            let mut e = p + 1;
            let mut name = Vec::new();
            while e < b.len() && is_regular(b[e]) {
                if b[e] == b'#'
                    && e + 2 < b.len()
                    && let (Some(h), Some(l)) = (hexval(b[e + 1]), hexval(b[e + 2]))
                {
                    name.push(h * 16 + l);
                    e += 3;
                    continue;
                }
                name.push(b[e]);
                e += 1;
            }
            Ok((Obj::Name(name), e))
        }
        b'(' => parse_literal_string(b, p),
        b'<' => {
            if b.get(p + 1) == Some(&b'<') {
                let mut d = Dict::new();
                let mut q = p + 2;
                loop {
                    q = skip_ws(b, q);
                    if q >= b.len() {
                        return perr("unterminated dictionary");
                    }
                    if b[q] == b'>' {
                        if b.get(q + 1) == Some(&b'>') {
                            return Ok((Obj::Dict(d), q + 2));
                        }
                        return perr("bad dictionary end");
                    }
                    let (k, q2) = parse_obj_d(b, q, depth + 1)?;
                    let key = match k {
                        Obj::Name(n) => n,
                        _ => {
                            // tolerate junk keys: skip the token
                            q = q2;
                            continue;
                        }
                    };
                    let q3 = skip_ws(b, q2);
                    if q3 < b.len() && b[q3] == b'>' && b.get(q3 + 1) == Some(&b'>') {
                        d.0.push((key, Obj::Null));
                        q = q3;
                        continue;
                    }
                    let (v, q4) = parse_obj_d(b, q2, depth + 1)?;
                    d.0.push((key, v));
                    q = q4;
                }
            } else {
                let mut e = p + 1;
                let mut out = Vec::new();
                let mut hi: Option<u8> = None;
                while e < b.len() && b[e] != b'>' {
                    if let Some(v) = hexval(b[e]) {
                        match hi.take() {
                            Some(h) => out.push(h * 16 + v),
                            None => hi = Some(v),
                        }
                    } else if !is_ws(b[e]) {
                        return perr("bad hex string");
                    }
                    e += 1;
                }
                if e >= b.len() {
                    return perr("unterminated hex string");
                }
                if let Some(h) = hi {
                    out.push(h * 16);
                }
                Ok((Obj::Str(out), e + 1))
            }
        }
        b'[' => {
            let mut a = Vec::new();
            let mut q = p + 1;
            loop {
                q = skip_ws(b, q);
                if q >= b.len() {
                    return perr("unterminated array");
                }
                if b[q] == b']' {
                    return Ok((Obj::Array(a), q + 1));
                }
                let (v, q2) = parse_obj_d(b, q, depth + 1)?;
                a.push(v);
                q = q2;
            }
        }
        c if is_regular(c) => {
            let (t, e) = token(b, p);
            match t {
                b"true" => return Ok((Obj::Bool(true), e)),
                b"false" => return Ok((Obj::Bool(false), e)),
                b"null" => return Ok((Obj::Null, e)),
                _ => {}
            }
            // indirect reference: INT INT R
            if let Some(n) = parse_uint(t) {
                let q = skip_ws(b, e);
                let (t2, e2) = token(b, q);
                if let Some(g) = parse_uint(t2) {
                    let q2 = skip_ws(b, e2);
                    let (t3, e3) = token(b, q2);
                    if t3 == b"R" && n <= u32::MAX as u64 && g <= u16::MAX as u64 {
                        return Ok((Obj::Ref(n as u32, g as u16), e3));
                    }
                }
            }
            match parse_number(t) {
                Some(o) => Ok((o, e)),
                None => perr(format!("unexpected token '{}'", String::from_utf8_lossy(&t[..t.len().min(20)]))),
            }
        }
        c => perr(format!("unexpected character 0x{c:02x}")),
    }
}

fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn parse_literal_string(b: &[u8], p: usize) -> PResult<(Obj, usize)> {
    let mut out = Vec::new();
    let mut depth = 1usize;
    let mut e = p + 1;
    while e < b.len() {
        let c = b[e];
        match c {
            b'\\' => {
                e += 1;
                if e >= b.len() {
                    break;
                }
                let c2 = b[e];
                match c2 {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'\r' => {
                        if b.get(e + 1) == Some(&b'\n') {
                            e += 1;
                        }
                    }
                    b'\n' => {}
                    b'0'..=b'7' => {
                        let mut v: u32 = 0;
                        let mut k = 0;
                        while k < 3 && e < b.len() && (b'0'..=b'7').contains(&b[e]) {
                            v = v * 8 + (b[e] - b'0') as u32;
                            e += 1;
                            k += 1;
                        }
                        out.push((v & 0xff) as u8);
                        continue;
                    }
                    other => out.push(other),
                }
                e += 1;
            }
            b'(' => {
                depth += 1;
                out.push(c);
                e += 1;
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok((Obj::Str(out), e + 1));
                }
                out.push(c);
                e += 1;
            }
            _ => {
                out.push(c);
                e += 1;
            }
        }
    }
    perr("unterminated string")
}

/// Finds `needle` in `hay` starting at `from`.
pub fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from >= hay.len() || hay.len() - from < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = from;
    let last = hay.len() - needle.len();
    while i <= last {
        match hay[i..=last].iter().position(|&c| c == first) {
            None => return None,
            Some(k) => {
                i += k;
                if &hay[i..i + needle.len()] == needle {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

pub fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).rev().find(|&i| &hay[i..i + needle.len()] == needle)
}

/// Parses "N G obj" header at p; returns (num, gen, position after "obj").
pub fn parse_obj_header(b: &[u8], p: usize) -> Option<(u32, u16, usize)> {
    let p = skip_ws(b, p);
    let (t1, e1) = token(b, p);
    let n = parse_uint(t1)?;
    let p2 = skip_ws(b, e1);
    let (t2, e2) = token(b, p2);
    let g = parse_uint(t2)?;
    let p3 = skip_ws(b, e2);
    if b.get(p3..p3 + 3)? != b"obj" {
        return None;
    }
    if n > u32::MAX as u64 || g > u16::MAX as u64 {
        return None;
    }
    Some((n as u32, g as u16, p3 + 3))
}

/// Parses an indirect object body at `p` (just after "obj"), including a stream. `resolve_len`
/// resolves an indirect /Length. Returns the object.
pub fn parse_indirect_body(b: &[u8], p: usize, resolve_len: &mut dyn FnMut(u32, u16) -> Option<i64>) -> PResult<Obj> {
    parse_indirect_body_with(b, p, resolve_len, &|from| find(b, b"endstream", from))
}

/// [`parse_indirect_body`] with the search for the next `endstream` at or after a position
/// supplied (a reader of many objects indexes them once instead of scanning per object).
pub fn parse_indirect_body_with(
    b: &[u8],
    p: usize,
    resolve_len: &mut dyn FnMut(u32, u16) -> Option<i64>,
    next_endstream: &dyn Fn(usize) -> Option<usize>,
) -> PResult<Obj> {
    parse_indirect_body_checked(b, p, resolve_len, next_endstream).map(|(o, _)| o)
}

/// [`parse_indirect_body_with`], also answering why the stream's /Length was not used when it
/// was not (missing, unresolvable, or not ending at `endstream`): the stream was then read up
/// to the next `endstream`, which is damage a signature must not cover.
pub fn parse_indirect_body_checked(
    b: &[u8],
    p: usize,
    resolve_len: &mut dyn FnMut(u32, u16) -> Option<i64>,
    next_endstream: &dyn Fn(usize) -> Option<usize>,
) -> PResult<(Obj, Option<String>)> {
    let (o, e) = parse_obj(b, p)?;
    let d = match o {
        Obj::Dict(d) => d,
        other => return Ok((other, None)),
    };
    let q = skip_ws_no_comment(b, e);
    if b.get(q..q + 6) != Some(b"stream") {
        return Ok((Obj::Dict(d), None));
    }
    let mut s = q + 6;
    if b.get(s) == Some(&b'\r') {
        s += 1;
    }
    if b.get(s) == Some(&b'\n') {
        s += 1;
    }
    let declared = match d.get("Length") {
        Some(Obj::Int(l)) => Ok(*l),
        Some(Obj::Ref(n, g)) => resolve_len(*n, *g).ok_or_else(|| format!("its /Length {n} {g} R cannot be resolved")),
        Some(_) => Err("its /Length is not a number".to_string()),
        None => Err("it has no /Length".to_string()),
    };
    let mut end = None;
    if let Ok(l) = declared
        && l >= 0
        && (l as u64) <= (b.len() - s) as u64
    {
        let e2 = s + l as usize;
        let after = skip_ws_no_comment(b, e2);
        if b.get(after..after + 9) == Some(b"endstream") {
            end = Some(e2);
        }
    }
    let fault = match (&declared, end) {
        (_, Some(_)) => None,
        (Ok(l), None) => Some(format!("its /Length {l} does not end at endstream")),
        (Err(why), None) => Some(why.clone()),
    };
    let end = match end {
        Some(e) => e,
        None => {
            // recover: search "endstream"
            match next_endstream(s) {
                Some(k) => {
                    let mut e2 = k;
                    if e2 > s && b[e2 - 1] == b'\n' {
                        e2 -= 1;
                    }
                    if e2 > s && b[e2 - 1] == b'\r' {
                        e2 -= 1;
                    }
                    e2
                }
                None => return perr("stream without endstream"),
            }
        }
    };
    Ok((Obj::Stream(d, b[s..end].to_vec()), fault))
}

fn skip_ws_no_comment(b: &[u8], mut p: usize) -> usize {
    while p < b.len() && is_ws(b[p]) {
        p += 1;
    }
    p
}

// ------------------------------------------------------------------------------------------
// Serialization
// ------------------------------------------------------------------------------------------

pub fn write_obj(out: &mut Vec<u8>, o: &Obj) {
    match o {
        Obj::Null => out.extend_from_slice(b"null"),
        Obj::Bool(v) => out.extend_from_slice(if *v { b"true" } else { b"false" }),
        Obj::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Obj::Real(r) => out.extend_from_slice(fmt_real(*r).as_bytes()),
        Obj::Str(s) => write_string(out, s),
        Obj::Name(n) => write_name(out, n),
        Obj::Array(a) => {
            out.push(b'[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_obj(out, v);
            }
            out.push(b']');
        }
        Obj::Dict(d) => write_dict(out, d),
        Obj::Ref(n, g) => out.extend_from_slice(format!("{n} {g} R").as_bytes()),
        Obj::Stream(d, data) => {
            let mut d = d.clone();
            d.set("Length", Obj::Int(data.len() as i64));
            write_dict(out, &d);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(data);
            out.extend_from_slice(b"\nendstream");
        }
    }
}

pub fn write_dict(out: &mut Vec<u8>, d: &Dict) {
    out.extend_from_slice(b"<<");
    for (k, v) in &d.0 {
        write_name(out, k);
        out.push(b' ');
        write_obj(out, v);
    }
    out.extend_from_slice(b">>");
}

pub fn fmt_real(r: f64) -> String {
    if !r.is_finite() {
        return "0".into();
    }
    let mut s = String::new();
    let _ = write!(s, "{:.4}", r);
    let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    if s == "-0" || s.is_empty() { "0".into() } else { s }
}

fn write_name(out: &mut Vec<u8>, n: &[u8]) {
    out.push(b'/');
    for &c in n {
        if c <= b' ' || c >= 0x7f || is_delim(c) || c == b'#' {
            out.extend_from_slice(format!("#{c:02X}").as_bytes());
        } else {
            out.push(c);
        }
    }
}

fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'(');
    for &c in s {
        match c {
            b'(' | b')' | b'\\' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(c),
        }
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_basic() {
        let src = b"<< /Type /Page /Kids [1 0 R 2 0 R] /N -3.5 /S (a\\(b\\)c) /H <414> /E#20x 5 >>";
        let (o, _) = parse_obj(src, 0).unwrap();
        let d = o.as_dict().unwrap();
        assert!(d.name_is("Type", "Page"));
        assert_eq!(d.get("Kids").unwrap().as_array().unwrap()[1], Obj::Ref(2, 0));
        assert_eq!(d.get("N"), Some(&Obj::Real(-3.5)));
        assert_eq!(d.get("S"), Some(&Obj::Str(b"a(b)c".to_vec())));
        assert_eq!(d.get("H"), Some(&Obj::Str(vec![0x41, 0x40])));
        assert_eq!(d.get("E x"), Some(&Obj::Int(5)));
        let mut out = Vec::new();
        write_obj(&mut out, &o);
        let (o2, _) = parse_obj(&out, 0).unwrap();
        assert_eq!(o, o2);
    }

    #[test]
    fn garbage_never_panics() {
        for s in [&b"<<"[..], b"[[[[", b"(abc", b"<12", b"/", b"1 0", b"<< /A >>", b"\xff\xfe", b""] {
            let _ = parse_obj(s, 0);
        }
        let deep = vec![b'['; 100_000];
        assert!(parse_obj(&deep, 0).is_err());
    }
}
