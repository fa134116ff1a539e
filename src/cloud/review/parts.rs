//! Parts: a review's files split under a token budget so that every line lands in exactly one
//! request. Nothing here knows what a line means.

/// One file as the reviewer sees it.
pub(super) struct Section {
    pub(super) path: String,
    pub(super) text: String,
}

/// Tokens of text, estimated at four bytes a token (Claude's tokenizer is not available offline;
/// the estimate only decides where parts split).
pub fn estimate_tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

/// Splits sections into parts of at most `budget` tokens: by file, a large file by hunk, and a
/// huge hunk by lines. Nothing is dropped: every line lands in exactly one part.
pub(super) fn split(sections: Vec<Section>, budget: usize) -> Vec<Vec<Section>> {
    let budget = budget.max(256);
    let mut pieces = Vec::new();
    for s in sections {
        if estimate_tokens(&s.text) <= budget {
            pieces.push(s);
            continue;
        }
        let mut chunk = String::new();
        let mut n = 0;
        for line in s.text.split_inclusive('\n') {
            let starts_hunk = line.starts_with("@@ ");
            if !chunk.is_empty()
                && (estimate_tokens(&chunk) + estimate_tokens(line) > budget
                    || (starts_hunk && estimate_tokens(&chunk) > budget / 2))
            {
                n += 1;
                pieces.push(Section {
                    path: s.path.clone(),
                    text: format!("(part {n} of {}, continued)\n{chunk}", s.path),
                });
                chunk.clear();
            }
            chunk.push_str(line);
        }
        if !chunk.is_empty() {
            n += 1;
            pieces.push(Section {
                path: s.path.clone(),
                text: format!("(part {n} of {}, continued)\n{chunk}", s.path),
            });
        }
    }
    let mut parts: Vec<Vec<Section>> = Vec::new();
    let mut size = 0;
    for piece in pieces {
        let t = estimate_tokens(&piece.text);
        if parts.is_empty() || size + t > budget {
            parts.push(Vec::new());
            size = 0;
        }
        size += t;
        if let Some(last) = parts.last_mut() {
            last.push(piece);
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_keeps_every_line_once() {
        let big: String = (0..5000)
            .map(|i| format!("+line number {i} of a large file\n"))
            .collect();
        let sections = vec![
            Section {
                path: "small.rs".into(),
                text: "@@ -1,1 +1,1 @@\n-a\n+b\n".into(),
            },
            Section {
                path: "big.rs".into(),
                text: format!("@@ -0,0 +1,5000 @@\n{big}"),
            },
        ];
        let parts = split(sections, 4000);
        assert!(parts.len() > 5, "{}", parts.len());
        let all: String = parts.iter().flatten().map(|s| s.text.clone()).collect();
        for i in 0..5000 {
            assert_eq!(
                all.matches(&format!("+line number {i} of")).count(),
                1,
                "{i}"
            );
        }
        for part in &parts {
            let size: usize = part.iter().map(|s| estimate_tokens(&s.text)).sum();
            assert!(size <= 4000 + 64, "{size}");
        }
    }
}
