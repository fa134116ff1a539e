//! Reading blob content as text whatever git's binary heuristic says (ARCHITECTURE §4: "anything that
//! can be read as text is checked as text").
//!
//! git calls a blob binary when a NUL sits in its first 8,000 bytes, which a single stray NUL or
//! a UTF-16 encoding is enough for; local output saved that way must still be recognised line by
//! line. This module decodes UTF-8 (with or without a BOM, stray NULs allowed), UTF-16 and UTF-32
//! with a BOM, and BOM-less UTF-16 that is mostly ASCII, into UTF-8 bytes. It never guesses
//! beyond that: content that does not read as text stays opaque and is matched by blob id.

/// How a blob was read as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Utf32Le => "UTF-32LE",
            Encoding::Utf32Be => "UTF-32BE",
        }
    }
}

/// Share of characters that may be undecodable or control characters in content still read as
/// text. Real binary formats (images, archives, object files) are far above it.
const MAX_NOISE: f64 = 0.05;

/// The content as UTF-8 bytes when it reads as text, with the encoding it was read in.
pub fn decode(bytes: &[u8]) -> Option<(Vec<u8>, Encoding)> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(rest).map(|t| (t, Encoding::Utf8));
    }
    // UTF-32's BOMs start like UTF-16's: test them first.
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE\x00\x00") {
        return wide(rest, 4, Encoding::Utf32Le);
    }
    if let Some(rest) = bytes.strip_prefix(b"\x00\x00\xFE\xFF") {
        return wide(rest, 4, Encoding::Utf32Be);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return wide(rest, 2, Encoding::Utf16Le);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return wide(rest, 2, Encoding::Utf16Be);
    }
    if let Some(encoding) = bomless_utf16(bytes) {
        return wide(bytes, 2, encoding);
    }
    utf8(bytes).map(|t| (t, Encoding::Utf8))
}

/// UTF-8 text, allowing a few NULs and invalid bytes (kept as they are) among real text.
fn utf8(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut chars = 0usize;
    let mut noise = 0usize;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            chars += 1;
            if c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0C') {
                noise += 1;
            }
        }
        if !chunk.invalid().is_empty() {
            chars += 1;
            noise += 1;
        }
    }
    quiet(chars, noise).then(|| bytes.to_vec())
}

fn quiet(chars: usize, noise: usize) -> bool {
    chars > 0 && (noise as f64) <= (chars as f64) * MAX_NOISE
}

/// UTF-16 or UTF-32 code units to UTF-8; `None` when too many are not characters.
fn wide(bytes: &[u8], width: usize, encoding: Encoding) -> Option<(Vec<u8>, Encoding)> {
    let unit = |c: &[u8]| -> u32 {
        match encoding {
            Encoding::Utf16Le => u32::from(u16::from_le_bytes([c[0], c[1]])),
            Encoding::Utf16Be => u32::from(u16::from_be_bytes([c[0], c[1]])),
            Encoding::Utf32Le => u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
            Encoding::Utf32Be => u32::from_be_bytes([c[0], c[1], c[2], c[3]]),
            Encoding::Utf8 => 0,
        }
    };
    let units = bytes.chunks_exact(width).map(unit);
    let decoded: Vec<char> = if width == 2 {
        char::decode_utf16(units.map(|u| u as u16))
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    } else {
        units
            .map(|u| char::from_u32(u).unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    };
    let noise = decoded
        .iter()
        .filter(|c| {
            **c == char::REPLACEMENT_CHARACTER
                || (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0C'))
        })
        .count()
        + usize::from(!bytes.len().is_multiple_of(width));
    quiet(decoded.len(), noise).then(|| {
        (
            decoded.into_iter().collect::<String>().into_bytes(),
            encoding,
        )
    })
}

/// UTF-16 without a BOM, recognised only when it is mostly ASCII: nearly every other byte NUL.
fn bomless_utf16(bytes: &[u8]) -> Option<Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let sample = &bytes[..bytes.len().min(8192)];
    let pairs = sample.len() / 2;
    let (mut high_zero, mut low_zero) = (0usize, 0usize);
    for pair in sample.chunks_exact(2) {
        high_zero += usize::from(pair[1] == 0 && pair[0] != 0);
        low_zero += usize::from(pair[0] == 0 && pair[1] != 0);
    }
    let mostly = |n: usize| n as f64 >= pairs as f64 * 0.9;
    if mostly(high_zero) {
        Some(Encoding::Utf16Le)
    } else if mostly(low_zero) {
        Some(Encoding::Utf16Be)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        for u in text.encode_utf16() {
            out.extend(u.to_le_bytes());
        }
        out
    }

    #[test]
    fn reads_the_encodings_git_calls_binary() {
        let text = "fn main() {\n    println!(\"héllo\");\n}\n";
        assert_eq!(decode(&utf16le(text, true)).unwrap().0, text.as_bytes());
        assert_eq!(decode(&utf16le(text, false)).unwrap().1, Encoding::Utf16Le);
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            be.extend(u.to_be_bytes());
        }
        assert_eq!(decode(&be).unwrap().0, text.as_bytes());
        let mut u32le = vec![0xFF, 0xFE, 0, 0];
        for c in text.chars() {
            u32le.extend((c as u32).to_le_bytes());
        }
        assert_eq!(
            decode(&u32le).unwrap(),
            (text.as_bytes().to_vec(), Encoding::Utf32Le)
        );
        let mut nul = text.as_bytes().to_vec();
        nul.insert(3, 0);
        assert_eq!(decode(&nul).unwrap().0, nul);
    }

    #[test]
    fn binary_stays_binary() {
        let png: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(decode(&png).is_none());
        let mut header = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        header.extend(&png);
        assert!(decode(&header).is_none());
    }
}
