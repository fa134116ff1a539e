//! Token fingerprints: how provenance still recognises output after a formatter re-laid it out.
//!
//! Line fingerprints ([`super::fingerprint`]) survive re-indentation but not re-wrapping: black
//! splitting a call over five lines, prettier dropping semicolons or swapping quotes, rustfmt
//! expanding a one-line function. So output is also fingerprinted as a stream of tokens, the way
//! plagiarism detectors have done it for decades (MOSS's winnowing, Schleimer, Wilkerson and
//! Aiken 2003): the text becomes canonical tokens (identifiers, numbers, strings with their
//! quotes and inner whitespace dropped, one token per other punctuation character) with the
//! punctuation formatters add or drop at will left out entirely (`( ) , ; { } \`); every run of
//! [`K`] tokens is hashed; and of every [`W`] consecutive hashes the smallest is kept. Any run
//! of at least [`GUARANTEE`] tokens two texts share is then found through at least one kept
//! hash, however either side is laid out.
//!
//! The tokeniser is written here rather than taken from a parser: it must read every language
//! (and text that is not code) the same way on both sides, never fail, and never change —
//! what it produces is stored, so its rules and hashes must not change without a new prefix.
//! It never decides anything: what counts as evidence is the gate's business.

use super::Fingerprint;

/// Tokens per hashed run.
pub const K: usize = 6;
/// Consecutive runs of which the smallest hash is kept.
pub const W: usize = 6;
/// Any shared run of this many tokens is found, whatever the layout on either side.
pub const GUARANTEE: usize = K + W - 1;

/// One token: its hash, and the index of the line (as the caller numbered the lines) it starts
/// on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub hash: u64,
    pub line: usize,
}

/// A kept hash and where its run starts in the token stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kept {
    pub hash: Fingerprint,
    pub at: usize,
}

/// FNV-1a, 64 bits: small, fast, and fixed forever (its values are stored).
fn fnv(tag: u8, parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    eat(tag);
    for part in parts {
        part.iter().copied().for_each(&mut eat);
    }
    h
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Punctuation formatters add, drop or move on their own: grouping parentheses, trailing
/// commas, semicolons, braces around a one-statement body, line continuations.
fn is_layout(b: u8) -> bool {
    matches!(b, b'(' | b')' | b',' | b';' | b'{' | b'}' | b'\\')
}

/// Whether `word` is only a string prefix (`r`, `b`, `f`, `rb`, `u`…).
fn is_string_prefix(word: &[u8]) -> bool {
    word.len() <= 2
        && word
            .iter()
            .all(|b| matches!(b.to_ascii_lowercase(), b'r' | b'b' | b'f' | b'u'))
}

/// The tokens of `lines` read as one text (each line with its terminator, if any).
pub fn tokens<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Vec<Token> {
    let mut text = Vec::new();
    let mut starts = Vec::new();
    for line in lines {
        starts.push(text.len());
        text.extend_from_slice(line);
    }
    // The line a byte offset falls on.
    let line_of = |offset: usize| starts.partition_point(|&s| s <= offset).saturating_sub(1);
    let mut out = Vec::new();
    let mut push = |hash: u64, start: usize| {
        out.push(Token {
            hash,
            line: line_of(start),
        })
    };
    let mut i = 0;
    let n = text.len();
    while i < n {
        let b = text[i];
        let start = i;
        if b.is_ascii_whitespace() || b.is_ascii_control() || is_layout(b) {
            i += 1;
            continue;
        }
        if is_word(b) && !b.is_ascii_digit() {
            while i < n && is_word(text[i]) {
                i += 1;
            }
            let word = &text[start..i];
            if i < n && matches!(text[i], b'"' | b'\'') && is_string_prefix(word) {
                // A prefixed string: the prefix, lowercased and without `u` (which means
                // nothing in Python 3 and which black drops), belongs to the string.
                let prefix: Vec<u8> = word
                    .iter()
                    .map(u8::to_ascii_lowercase)
                    .filter(|&c| c != b'u')
                    .collect();
                if let Some((end, hash)) = string(&text, i, &prefix) {
                    push(hash, start);
                    i = end;
                    continue;
                }
            }
            push(fnv(b'w', &[word]), start);
            continue;
        }
        if b.is_ascii_digit() {
            while i < n && (is_word(text[i]) || text[i] == b'.') && text[i] < 0x80 {
                i += 1;
            }
            // Formatters differ on the case of hex digits, exponents and suffixes.
            let number: Vec<u8> = text[start..i]
                .iter()
                .map(u8::to_ascii_lowercase)
                .filter(|&c| c != b'_')
                .collect();
            push(fnv(b'n', &[&number]), start);
            continue;
        }
        if matches!(b, b'"' | b'\'' | b'`')
            && let Some((end, hash)) = string(&text, i, b"")
        {
            push(hash, start);
            i = end;
            continue;
        }
        push(fnv(b'p', &[&[b]]), start);
        i += 1;
    }
    out
}

/// The most lines a backtick string may span: longer, its backtick is read as punctuation.
/// Added with the rule (before it, such a span was one string token: text recorded then
/// differs only inside spans that long, which the old reading had reduced to one token).
const MAX_TEMPLATE_LINES: usize = 40;

/// The string literal opening at `at`: where it ends and its token's hash, or `None` when the
/// quote opens nothing on its line (an apostrophe in prose). What only looks like a string (a
/// Rust lifetime up to the next quote, two apostrophes in a comment) is read the same way on
/// both sides, and its inner whitespace does not count, so it still survives layout. The hash
/// is of the content without its whitespace, with escaped quotes unescaped, so the quote style
/// and a docstring's indentation do not matter; a plain string that reads as an identifier
/// hashes as that identifier (`{"a": 1}` and `{a: 1}` are one layout apart in JavaScript).
fn string(text: &[u8], at: usize, prefix: &[u8]) -> Option<(usize, u64)> {
    let quote = text[at];
    let n = text.len();
    let triple = quote != b'`' && text.get(at..at + 3) == Some(&[quote; 3][..]);
    let open = if triple { 3 } else { 1 };
    // Backticks and triple quotes span lines; other strings end with their line.
    let multiline = triple || quote == b'`';
    let mut content = Vec::new();
    let mut lines = 0usize;
    let mut i = at + open;
    while i < n {
        let c = text[i];
        if c == b'\\' && i + 1 < n {
            let next = text[i + 1];
            if next != b'\n' && !matches!(next, b'"' | b'\'' | b'`') {
                content.push(c);
            }
            if !next.is_ascii_whitespace() {
                content.push(next);
            }
            i += 2;
            continue;
        }
        if c == b'\n' {
            lines += 1;
            // A backtick that opens no template literal (one inside a regular expression,
            // `/^[-_a-z`|~]+$/`, or alone in a comment) would swallow the file up to the next
            // one: past [`MAX_TEMPLATE_LINES`] it is read as punctuation.
            if !multiline || (quote == b'`' && lines > MAX_TEMPLATE_LINES) {
                return None;
            }
        }
        let closes = if triple {
            text.get(i..i + 3) == Some(&[quote; 3][..])
        } else {
            c == quote
        };
        if closes {
            let end = i + open;
            let plain_word = prefix.is_empty()
                && content
                    .first()
                    .is_some_and(|&f| is_word(f) && !f.is_ascii_digit())
                && content.iter().all(|&c| is_word(c));
            let hash = if plain_word {
                fnv(b'w', &[&content])
            } else {
                fnv(b's', &[prefix, b"\0", &content])
            };
            return Some((end, hash));
        }
        if !c.is_ascii_whitespace() {
            content.push(c);
        }
        i += 1;
    }
    None
}

/// The fewest different tokens a run must hold to be kept: a rule of dashes, a table's
/// `|:---|:---|`, a row of `0, 0, 0` say nothing of who wrote them.
const MIN_DISTINCT: usize = 4;

/// The fewest tokens a line needs for its own token hash ([`line_hash`]).
const LINE_TOKENS: usize = 4;

/// One line's canonical tokens hashed as a whole: the line as a formatter may leave it in place
/// but re-quoted, with a trailing comma or semicolon added or dropped, parentheses changed
/// (`allowPrototypes: true` and `allowPrototypes: true,` hash alike). `None` for a line of fewer
/// than [`LINE_TOKENS`] tokens or fewer than 3 different ones. Stored beside the token runs, in
/// a domain of its own.
pub fn line_hash(line: &[u8]) -> Option<Fingerprint> {
    let tokens = tokens([line]);
    let mut distinct: Vec<u64> = tokens.iter().map(|t| t.hash).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if tokens.len() < LINE_TOKENS || distinct.len() < 3 {
        return None;
    }
    let bytes: Vec<[u8; 8]> = tokens.iter().map(|t| t.hash.to_le_bytes()).collect();
    let parts: Vec<&[u8]> = bytes.iter().map(|b| b.as_slice()).collect();
    let mut h = fnv(b'L', &parts);
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 32;
    Some(((h >> 1) as i64).min(NOISE - 1))
}

/// Marks a run too repetitive to keep (never the smallest hash of a window that has another).
const NOISE: Fingerprint = i64::MAX;

/// The hash of every run of [`K`] tokens, in order (none when there are fewer tokens); a run of
/// fewer than [`MIN_DISTINCT`] different tokens is [`NOISE`].
pub fn runs(tokens: &[Token]) -> Vec<Fingerprint> {
    tokens
        .windows(K)
        .map(|run| {
            let mut distinct: Vec<u64> = run.iter().map(|t| t.hash).collect();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() < MIN_DISTINCT {
                return NOISE;
            }
            // A polynomial over the tokens' hashes, then a finaliser so nearby runs spread.
            let mut h: u64 = 0x6874_3100; // "ht1"
            for t in run {
                h = h.wrapping_mul(0x0000_0100_0000_01b3).wrapping_add(t.hash);
            }
            h ^= h >> 33;
            h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
            h ^= h >> 33;
            h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
            h ^= h >> 33;
            // Never NOISE itself.
            ((h >> 1) as i64).min(NOISE - 1)
        })
        .collect()
}

/// The kept runs: of every [`W`] consecutive run hashes the smallest (the rightmost when tied),
/// each kept once, repetitive runs never. A text with runs but fewer than `W` of them keeps its
/// smallest.
pub fn winnow(tokens: &[Token]) -> Vec<Kept> {
    let hashes = runs(tokens);
    let mut out: Vec<Kept> = Vec::new();
    if hashes.is_empty() {
        return out;
    }
    let window = W.min(hashes.len());
    for start in 0..=hashes.len() - window {
        let mut best = start;
        for j in start..start + window {
            if hashes[j] <= hashes[best] {
                best = j;
            }
        }
        if hashes[best] != NOISE && out.last().is_none_or(|k| k.at != best) {
            out.push(Kept {
                hash: hashes[best],
                at: best,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_line_re_quoted_or_re_punctuated_in_place_hashes_alike() {
        let same = [
            &b"  const mode = options.mode || \"strict\";\n"[..],
            b"const mode = options.mode || 'strict'\n",
            b"const mode=options.mode||'strict',\r\n",
        ];
        let hashes: Vec<_> = same.iter().map(|l| line_hash(l)).collect();
        assert!(hashes[0].is_some());
        assert!(hashes.iter().all(|h| *h == hashes[0]), "{hashes:?}");
        // Another word is another line; a line of few tokens has no hash of its own.
        assert_ne!(
            line_hash(b"const mode = options.kind || 'strict'"),
            hashes[0]
        );
        assert_eq!(line_hash(b"this.end();"), None);
        assert_eq!(line_hash(b"a = a + a + a"), line_hash(b"a=a+a+a;"));
        assert_eq!(line_hash(b"x = 1"), None);
        // Its own domain: never a run hash of the same tokens.
        let tokens = tokens([same[0]]);
        assert!(!runs(&tokens).contains(&hashes[0].unwrap()));
    }

    use super::*;

    fn stream(text: &str) -> Vec<u64> {
        tokens(text.split_inclusive('\n').map(str::as_bytes))
            .iter()
            .map(|t| t.hash)
            .collect()
    }

    #[test]
    fn layout_does_not_matter() {
        let compact = "result = compute(alpha, 'beta', {'gamma': 1, \"delta\": [2, 3]})\n";
        let black = "result = compute(\n    alpha,\n    \"beta\",\n    {\n        \"gamma\": 1,\n        \"delta\": [2, 3],\n    },\n)\n";
        assert_eq!(stream(compact), stream(black));
        let js = "const total = items.map((x) => x.price * 2);\n";
        let no_semi = "const total = items.map(x => x.price * 2)\n";
        assert_eq!(stream(js), stream(no_semi));
        let rust = "fn f(x:u32)->u32{x+1}\n";
        let formatted = "fn f(x: u32) -> u32 {\n    x + 1\n}\n";
        assert_eq!(stream(rust), stream(formatted));
    }

    #[test]
    fn content_does_matter() {
        assert_ne!(stream("a = b + c\n"), stream("a = b - c\n"));
        assert_ne!(stream("x = 'one'\n"), stream("x = 'two'\n"));
        assert_ne!(stream("x = 0x1f\n"), stream("x = 0x1e\n"));
        assert_eq!(stream("x = 0X1F\n"), stream("x = 0x1f\n"));
        assert_eq!(stream("s = u'caf\u{e9}'\n"), stream("s = \"caf\u{e9}\"\n"));
        assert_ne!(stream("s = b'x y'\n"), stream("s = 'x y'\n"));
    }

    #[test]
    fn quotes_that_open_nothing_are_punctuation() {
        // An apostrophe in a comment does not swallow the next line.
        assert_eq!(stream("# don't stop here\nx = 1\n").len(), 9);
        // What only looks like a string still survives layout.
        assert_eq!(
            stream("fn f<'a>(x:&'a str)->&'a str{x}\n"),
            stream("fn f<'a>(x: &'a str) -> &'a str {\n    x\n}\n")
        );
        // Triple quotes span lines, and a docstring's indentation does not count.
        assert_eq!(
            stream("    \"\"\"One.\n\n    Two.\n    \"\"\"\n"),
            stream("\"\"\"One.\n\nTwo.\n\"\"\"\n")
        );
        // A backtick in a regular expression opens no template literal that swallows the file
        // up to the next backtick; a template over a few lines is still one string.
        let body: String = (0..60)
            .map(|i| format!("const v{i} = f(x, {i});\n"))
            .collect();
        let file = format!("const ok = (s) => /^[-_a-z`|~]+$/.test(s);\n{body}// map `set`\n");
        assert!(stream(&file).len() > 60 * 5);
        assert_eq!(stream("q = `SELECT a\n  FROM t`;\n").len(), 3);
    }

    #[test]
    fn tokens_know_their_lines() {
        let lines: Vec<usize> = tokens(["a = 1\n".as_bytes(), b"\n", b"b = '''x\n", b"y'''\n"])
            .iter()
            .map(|t| t.line)
            .collect();
        assert_eq!(lines, vec![0, 0, 0, 2, 2, 2]);
    }

    #[test]
    fn a_shared_run_of_the_guaranteed_length_is_always_found() {
        // Two texts that share exactly GUARANTEE tokens between unrelated ones.
        let shared: Vec<String> = (0..GUARANTEE).map(|i| format!("shared{i}")).collect();
        let a = format!("a1 a2 a3 {} a4 a5\n", shared.join(" "));
        let b = format!("b1 {} b2 b3 b4 b5 b6 b7 b8 b9\n", shared.join("\n"));
        let kept = |t: &str| -> std::collections::HashSet<Fingerprint> {
            winnow(&tokens([t.as_bytes()]))
                .iter()
                .map(|k| k.hash)
                .collect()
        };
        assert!(!kept(&a).is_disjoint(&kept(&b)));
        // And the kept share stays small: about 2 in W + 1.
        let long: String = (0..900).map(|i| format!("t{} ", i * 7919 % 1000)).collect();
        let n = winnow(&tokens([long.as_bytes()])).len();
        assert!(n < 900 * 3 / (W + 1), "{n}");
        // A rule of dashes, a markdown table's separator: nothing kept.
        let rule = "-".repeat(80) + "\n|:-----|:------|:-----|\n";
        assert!(winnow(&tokens([rule.as_bytes()])).is_empty());
    }
}
