//! Reading blob content as text whatever git's binary heuristic says (ARCHITECTURE §4: "anything that
//! can be read as text is checked as text").
//!
//! git calls a blob binary when a NUL sits in its first 8,000 bytes, which a single stray NUL or
//! a UTF-16 encoding is enough for; local output saved that way must still be recognised line by
//! line. This module decodes UTF-8 (with or without a BOM, stray NULs allowed), and UTF-16 and
//! UTF-32 in either byte order, with a BOM or, decided by evidence, without one, into UTF-8
//! bytes. It never guesses
//! beyond that: content that does not read as text stays opaque and is matched by blob id.

/// How a blob was read as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
    /// A Jupyter notebook, read as its cells' sources (`change::notebook`).
    Notebook,
    /// JSON or YAML, its strings' escaped line breaks read as line breaks
    /// (`change::embedded`).
    Embedded,
}

impl Encoding {
    /// Bytes per code unit.
    fn width(self) -> usize {
        match self {
            Encoding::Utf32Le | Encoding::Utf32Be => 4,
            Encoding::Utf16Le | Encoding::Utf16Be => 2,
            Encoding::Utf8 | Encoding::Notebook | Encoding::Embedded => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Utf32Le => "UTF-32LE",
            Encoding::Utf32Be => "UTF-32BE",
            Encoding::Notebook => "notebook cells",
            Encoding::Embedded => "strings with their line breaks",
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
    if let Some(encoding) = bomless(bytes) {
        return wide(bytes, encoding.width(), encoding);
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
            Encoding::Utf8 | Encoding::Notebook | Encoding::Embedded => 0,
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

/// UTF-16 or UTF-32 without a BOM, decided by evidence rather than by an ASCII share, so that
/// text in any script is read: content with NUL bytes is tried in each width and byte order, and
/// an encoding is taken only when, read that way, its sample has almost no invalid code units
/// (unpaired surrogates, values past U+10FFFF) or control characters (U+0000 among them, which
/// is what reading UTF-32 two bytes at a time produces), draws on a few Unicode blocks as text
/// in any script does, and, beyond a few dozen characters, breaks lines as text does. The wrong
/// byte order fails the last test: ASCII read backwards turns every newline into U+0A00.
fn bomless(bytes: &[u8]) -> Option<Encoding> {
    if bytes.len() < 4 || !bytes.contains(&0) {
        return None;
    }
    let sample = &bytes[..bytes.len().min(8192)];
    [
        Encoding::Utf32Le,
        Encoding::Utf32Be,
        Encoding::Utf16Le,
        Encoding::Utf16Be,
    ]
    .into_iter()
    .find(|&encoding| {
        let width = encoding.width();
        if !bytes.len().is_multiple_of(width) {
            return false;
        }
        // The sample may end inside a surrogate pair or a code unit: cut it at a whole unit.
        let cut = &sample[..sample.len() - sample.len() % width];
        let Some((text, _)) = wide(cut, width, encoding) else {
            return false;
        };
        let text = String::from_utf8_lossy(&text);
        let (mut chars, mut odd, mut breaks) = (0usize, 0usize, 0usize);
        let mut blocks = std::collections::HashSet::new();
        for c in text.chars() {
            chars += 1;
            odd += usize::from(
                c == char::REPLACEMENT_CHARACTER
                    || (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0C')),
            );
            breaks += usize::from(matches!(c, '\n' | '\r'));
            blocks.insert(u32::from(c) >> 8);
        }
        // Random bytes read as UTF-16 give unpaired surrogates (3 in 100 units), characters
        // from every block of Unicode and hardly a line break; text in any script, none of it.
        odd * 200 <= chars && blocks.len() <= 96 && (chars < 40 || breaks * 500 >= chars)
    })
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

    /// Without a BOM, in either byte order, whatever the script: decided by evidence.
    #[test]
    fn bomless_wide_text_in_any_script_is_read() {
        let text = "// Привет, мир: проверка порта\nfn порт(значение: &str) -> u16 {\n    значение.len() as u16\n}\n";
        let be16: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let le32: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        let be32: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        for (bytes, encoding) in [
            (utf16le(text, false), Encoding::Utf16Le),
            (be16, Encoding::Utf16Be),
            (le32, Encoding::Utf32Le),
            (be32, Encoding::Utf32Be),
        ] {
            assert_eq!(
                decode(&bytes),
                Some((text.as_bytes().to_vec(), encoding)),
                "{encoding:?}"
            );
        }
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
