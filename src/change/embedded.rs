//! Code kept in JSON and YAML string values read with its line breaks: output pasted into a
//! fixture's `"code": "def f():\n    return 1\n"`, a workflow's `run: "make\nmake test"` or a
//! prompt file is one long line as stored, which no fingerprint of the output's lines matches.
//! Read here, each double-quoted string that holds an escaped line break (`\n`) is decoded in
//! place, so the file shows those lines as lines — found, and reviewed, as what they are.
//!
//! The reading is lexical (a double-quoted string closes on its own line; escapes are JSON's,
//! which YAML's double-quoted style shares) so that it never fails on a file a parser would
//! refuse, and it changes nothing else: a file with no such string is not given this view at
//! all. This module never writes a file.

/// Whether the file at `path` is JSON or YAML by its name.
pub fn applies(path: &[u8]) -> bool {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let Some(dot) = name.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let ext = name[dot + 1..].to_ascii_lowercase();
    matches!(
        ext.as_slice(),
        b"json" | b"jsonc" | b"json5" | b"jsonl" | b"ndjson" | b"yaml" | b"yml"
    )
}

/// The text with every double-quoted string that holds an escaped line break decoded in place;
/// `None` when there is no such string (the file reads as itself).
pub fn expanded(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 8);
    let mut any = false;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let Some(end) = closing_quote(bytes, i + 1) else {
            out.push(b'"');
            i += 1;
            continue;
        };
        let inner = &bytes[i + 1..end];
        if breaks_a_line(inner) {
            out.push(b'"');
            decode(inner, &mut out);
            out.push(b'"');
            any = true;
        } else {
            out.extend_from_slice(&bytes[i..=end]);
        }
        i = end + 1;
    }
    any.then_some(out)
}

/// Where the string whose content starts at `from` closes: the next unescaped `"` on the line.
fn closing_quote(bytes: &[u8], from: usize) -> Option<usize> {
    let mut j = from;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'"' => return Some(j),
            b'\n' => return None,
            _ => j += 1,
        }
    }
    None
}

/// Whether a string's content holds an escaped line break.
fn breaks_a_line(inner: &[u8]) -> bool {
    let mut j = 0;
    while j + 1 < inner.len() {
        if inner[j] == b'\\' {
            if inner[j + 1] == b'n' {
                return true;
            }
            j += 2;
        } else {
            j += 1;
        }
    }
    false
}

/// A string's content with its escapes decoded: line breaks, tabs, quotes, backslashes,
/// slashes and `\uXXXX` (surrogate pairs joined); any other escape is kept as written.
fn decode(inner: &[u8], out: &mut Vec<u8>) {
    let mut j = 0;
    while j < inner.len() {
        let b = inner[j];
        if b != b'\\' || j + 1 >= inner.len() {
            out.push(b);
            j += 1;
            continue;
        }
        let escaped = inner[j + 1];
        match escaped {
            b'n' => out.push(b'\n'),
            // `\r\n` is one line break; a lone `\r` ends a line too.
            b'r' if inner.get(j + 2..j + 4) == Some(b"\\n") => {}
            b'r' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'"' | b'\\' | b'/' => out.push(escaped),
            b'u' => {
                if let Some((c, len)) = unicode(&inner[j + 2..]) {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    j += 2 + len;
                    continue;
                }
                out.extend_from_slice(&inner[j..j + 2]);
            }
            _ => out.extend_from_slice(&inner[j..j + 2]),
        }
        j += 2;
    }
}

/// The character a `\u` escape's digits (and, for a surrogate pair, the next escape) name, and
/// how many bytes after the `\u` they took.
fn unicode(rest: &[u8]) -> Option<(char, usize)> {
    let hex = |s: &[u8]| -> Option<u32> {
        let s = std::str::from_utf8(s.get(..4)?).ok()?;
        u32::from_str_radix(s, 16).ok()
    };
    let high = hex(rest)?;
    if (0xD800..0xDC00).contains(&high) {
        let low = rest
            .get(4..6)
            .filter(|e| *e == b"\\u")
            .and_then(|_| hex(&rest[6..]))?;
        let c = char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low.checked_sub(0xDC00)?))?;
        return Some((c, 10));
    }
    char::from_u32(high).map(|c| (c, 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Option<String> {
        expanded(text.as_bytes()).map(|t| String::from_utf8(t).unwrap())
    }

    #[test]
    fn a_string_with_line_breaks_reads_as_its_lines() {
        assert_eq!(
            read("{\"name\": \"f\", \"code\": \"def f(x):\\n    return \\\"\\u00e9\\\" * x\\r\\n\"}\n")
                .unwrap(),
            "{\"name\": \"f\", \"code\": \"def f(x):\n    return \"é\" * x\n\"}\n"
        );
        assert_eq!(
            read("steps:\n  - run: \"make\\nmake test\\t# all\"\n").unwrap(),
            "steps:\n  - run: \"make\nmake test\t# all\"\n"
        );
        assert_eq!(read("\"\\ud83d\\ude00\\n\"").unwrap(), "\"😀\n\"");
    }

    #[test]
    fn a_file_without_one_has_no_view() {
        assert_eq!(read("{\"a\": \"b\\\\n\", \"c\": \"\\t\"}\n"), None);
        assert_eq!(read("say: it's \"open\nand never closed\\n\n"), None);
        assert!(applies(b"fixtures/cases.JSON"));
        assert!(applies(b".github/workflows/ci.yml"));
        assert!(!applies(b"src/json.rs"));
        assert!(!applies(b"Makefile"));
    }
}
