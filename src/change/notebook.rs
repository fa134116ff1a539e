//! Jupyter notebooks read as the code in them: what a `.ipynb` file's cells say, one line per
//! line of source, so that output pasted into a cell is recognised — and reviewed — as the lines
//! it is, not as JSON strings (`"    return x\n",`) that no fingerprint of the output matches.
//!
//! Only cell sources are read (code, markdown and raw cells, in order); outputs and metadata are
//! what Jupyter writes, not anyone's hand. A file that does not parse as a notebook is left to
//! be read as the text it is. This module never writes a notebook.

use serde::Deserialize;

/// Whether a path names a notebook.
pub fn is_notebook(path: &[u8]) -> bool {
    path.ends_with(b".ipynb")
}

#[derive(Deserialize)]
struct Notebook {
    cells: Vec<Cell>,
}

#[derive(Deserialize)]
struct Cell {
    #[serde(default)]
    source: Source,
}

/// nbformat 4 keeps a cell's source as a list of lines or as one string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Source {
    Lines(Vec<String>),
    Text(String),
}

impl Default for Source {
    fn default() -> Self {
        Source::Text(String::new())
    }
}

/// The cells' sources of a notebook as text, each cell ending in a newline; `None` when the
/// bytes are not a notebook.
pub fn cells(bytes: &[u8]) -> Option<Vec<u8>> {
    let notebook: Notebook = serde_json::from_slice(bytes).ok()?;
    let mut out = String::new();
    for cell in notebook.cells {
        match cell.source {
            Source::Lines(lines) => lines.iter().for_each(|l| out.push_str(l)),
            Source::Text(text) => out.push_str(&text),
        }
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_cell_source_in_either_form() {
        let nb = br##"{"cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "Some words"]},
            {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [{"text": "noise"}],
             "source": "def f(x):\n    return x * 2"}
        ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}"##;
        assert_eq!(
            String::from_utf8(cells(nb).unwrap()).unwrap(),
            "# Title\nSome words\ndef f(x):\n    return x * 2\n"
        );
        assert!(cells(b"not json").is_none());
        assert!(cells(b"{\"cells\": 3}").is_none());
        assert!(is_notebook(b"analysis/explore.ipynb"));
    }
}
