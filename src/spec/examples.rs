//! The spec's own test cases (`` `clamp(5, 0, 10)` returns `5` ``, `` `parse_port("")` raises
//! `ValueError` ``) and the check they become when the user names none: a Python script or a
//! Rust test, written into the checked tree and run there.
//!
//! Why: a spec lint already asks for examples, and a small model's answer that contradicts its
//! own spec's examples is the cheapest failure to catch — before a commit, and before anyone
//! pays for a review. An example is read only where its shape is unambiguous; one it cannot read
//! is left out rather than guessed, because a check that can never pass would only spend the
//! model's rounds. The check judges behaviour through the examples alone; it never edits the
//! answer, and it runs only where the language's tool is on PATH.

use std::sync::OnceLock;

use regex::Regex;

use super::regex;

/// What a call gives, by the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returns this value (source text in the spec's language).
    Returns(String),
    /// It raises (Python) or returns an error of this name, or panics (Rust): the name.
    Raises(String),
}

/// One test case: a call and what it gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    pub call: String,
    pub outcome: Outcome,
}

impl std::fmt::Display for Example {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.outcome {
            Outcome::Returns(v) => write!(f, "`{}` returns `{v}`", self.call),
            Outcome::Raises(e) if e == ANY_ERROR => write!(f, "`{}` fails", self.call),
            Outcome::Raises(e) => write!(f, "`{}` raises {e}", self.call),
        }
    }
}

/// The name an example gives when it says only that the call fails.
const ANY_ERROR: &str = "an error";

/// Every example the spec states, in order, each once.
pub fn read(spec: &str) -> Vec<Example> {
    static RETURNS: OnceLock<Regex> = OnceLock::new();
    static RAISES: OnceLock<Regex> = OnceLock::new();
    // A call in backticks (a name, then parentheses), a verb, and a value in backticks.
    let returns = regex(
        &RETURNS,
        r"(?i)`([^`\n]*\w\([^`\n]*\)[^`\n]*)`\s*(?:returns|gives|yields|is|equals|==|->|=>|→)\s*`([^`\n]+)`",
    );
    let raises = regex(
        &RAISES,
        r"(?i)`([^`\n]*\w\([^`\n]*\)[^`\n]*)`\s*(?:raises|throws|panics|fails with|fails|returns|gives)\s*(?:an?\s+)?`?([A-Z]\w*(?:Error|Exception)|Err\b|error\b|panic)`?",
    );
    let mut found: Vec<(usize, Example)> = Vec::new();
    // A method called on an object the spec builds: "`count("a")` on a new `Inventory()`
    // returns `0`". Read first, and the plain reading of its tail ("`Inventory()` returns `0`")
    // left out: that is the object, not the call.
    let on_object = on_an_object(spec);
    let inside = |at: usize| on_object.iter().any(|(span, _)| span.contains(&at));
    found.extend(
        on_object
            .iter()
            .map(|(span, example)| (span.start, example.clone())),
    );
    for c in returns.captures_iter(spec) {
        let (Some(whole), Some(call), Some(value)) = (c.get(0), c.get(1), c.get(2)) else {
            continue;
        };
        if inside(whole.start()) {
            continue;
        }
        let value = value.as_str().trim().to_string();
        found.push((
            whole.start(),
            Example {
                call: call.as_str().trim().to_string(),
                outcome: Outcome::Returns(value),
            },
        ));
    }
    for c in raises.captures_iter(spec) {
        let (Some(whole), Some(call), Some(name)) = (c.get(0), c.get(1), c.get(2)) else {
            continue;
        };
        // `f(x)` returns `Err(...)` is a value, read above; here only a bare error's name.
        if found.iter().any(|(at, _)| *at == whole.start()) || inside(whole.start()) {
            continue;
        }
        found.push((
            whole.start(),
            Example {
                call: call.as_str().trim().to_string(),
                outcome: Outcome::Raises(match name.as_str() {
                    // `panics` reads as the name `panic`; the generic `an error` as any error.
                    n if n.eq_ignore_ascii_case("error") => ANY_ERROR.to_string(),
                    n => n.to_string(),
                }),
            },
        ));
    }
    found.sort_by_key(|(at, _)| *at);
    let mut examples: Vec<Example> = Vec::new();
    for e in found.into_iter().map(|(_, e)| e).chain(stated(spec)) {
        // A call that is itself a comparison (`f(1) == 2`) is no call to compare again, and a
        // signature (`remove(&mut self, key: &str) -> bool` returns `true` when…) is none.
        if e.call.contains("==") || declares(&e.call) || examples.contains(&e) {
            continue;
        }
        examples.push(e);
    }
    examples
}

/// The examples of a method on an object the spec builds: "`count(\"a\")` on a new
/// `Inventory()` returns `0`" is `Inventory().count("a")`; each with the span of its words.
fn on_an_object(spec: &str) -> Vec<(std::ops::Range<usize>, Example)> {
    static ON: OnceLock<Regex> = OnceLock::new();
    let on = regex(
        &ON,
        // A value in backticks, as the plain examples are read; an error's name may go bare.
        r"(?i)`(\w+\([^`\n]*\))`\s+(?:called\s+)?on\s+(?:(?:a|an|the)\s+)?(?:(?:new|fresh|empty)\s+)?`([^`\n]*\w\([^`\n]*\))`\s*(returns|gives|yields|is|equals|raises|throws|panics|fails with|fails)\s*(?:an?\s+)?(?:`([^`\n]+)`|([A-Z]\w*(?:Error|Exception)|error|panic)\b)?",
    );
    on.captures_iter(spec)
        .filter_map(|c| {
            let whole = c.get(0)?;
            let verb = c[3].to_ascii_lowercase();
            let raises = matches!(
                verb.as_str(),
                "raises" | "throws" | "panics" | "fails with" | "fails"
            );
            let value = match (c.get(4), c.get(5)) {
                (Some(v), _) => v.as_str().trim().to_string(),
                (None, Some(name)) if raises => name.as_str().to_string(),
                // "panics" and "fails" say enough alone; "returns the count" says no value.
                (None, None) if raises => String::new(),
                _ => return None,
            };
            let call = format!("{}.{}", c[2].trim(), c[1].trim());
            let outcome = match raises {
                true => {
                    let error = value.chars().next().is_some_and(|c| c.is_ascii_uppercase());
                    Outcome::Raises(if verb == "panics" {
                        "panic".to_string()
                    } else if error {
                        value
                    } else {
                        ANY_ERROR.to_string()
                    })
                }
                false => Outcome::Returns(value),
            };
            Some((whole.range(), Example { call, outcome }))
        })
        .collect()
}

/// Whether a call's text is a declaration rather than a call: a parameter with a type
/// (`key: &str`, `n: int`), a `self` parameter, or a return type after the parentheses.
fn declares(call: &str) -> bool {
    static TYPED: OnceLock<Regex> = OnceLock::new();
    let typed = regex(
        &TYPED,
        r"^\s*(?:&\s*(?:mut\s+)?|mut\s+)?(?:self\s*$|\w+\s*:[^:])",
    );
    let Some(open) = call.find('(') else {
        return false;
    };
    // The first call's arguments at its own depth: a struct literal's `x: 1` or a dict's
    // `"a": 1` inside them is a value, not a parameter.
    let mut depth = 0usize;
    let mut start = open + 1;
    let mut quote: Option<char> = None;
    let mut arguments = Vec::new();
    let mut close = None;
    for (i, ch) in call.char_indices().skip_while(|(i, _)| *i <= open) {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(ch),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')') if depth == 0 => {
                arguments.push(&call[start..i]);
                close = Some(i);
                break;
            }
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                arguments.push(&call[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    let returns_a_type = close.is_some_and(|at| call[at + 1..].trim_start().starts_with("->"));
    returns_a_type || arguments.iter().any(|a| typed.is_match(a))
}

/// The one function a spec declares (`` `def split_csv(line: str) -> list[str]` ``, `` `pub fn
/// to_binary(n: u32) -> String` ``), when it declares exactly one and it takes one argument:
/// its name, its parameter's name, and that parameter's type as written (empty when none is).
fn the_one_function(spec: &str) -> Option<(String, String, String)> {
    static SIGNATURE: OnceLock<Regex> = OnceLock::new();
    let signature = regex(
        &SIGNATURE,
        r"`(?:(?:pub(?:\([^)]*\))?\s+)?fn|def)\s+(\w+)\s*(?:<[^>`]*>)?\(([^)`]*)\)",
    );
    let mut found = signature.captures_iter(spec);
    let one = found.next()?;
    if found.next().is_some() {
        return None;
    }
    let name = one.get(1)?.as_str().to_string();
    let params: Vec<&str> = one
        .get(2)?
        .as_str()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    // A method (`self`) needs an object the spec's words do not give.
    let [param] = params.as_slice() else {
        return None;
    };
    if param
        .trim_start_matches(['&', ' '])
        .trim_start_matches("mut ")
        .starts_with("self")
    {
        return None;
    }
    let (param, kind) = param.split_once(':').unwrap_or((param, ""));
    let param = param.trim();
    if !param.chars().all(|c| c.is_alphanumeric() || c == '_') || param.is_empty() {
        return None;
    }
    Some((name, param.to_string(), kind.trim().to_string()))
}

/// The literal an empty argument of type `kind` is written as, when `noun` (the word after
/// "empty") names that argument: by its name, or by a word for its type. `None` for anything
/// else — "an empty result returns `""`" says what comes out, not what goes in.
fn empty_literal(kind: &str, param: &str, noun: &str) -> Option<&'static str> {
    const TEXT: [&str; 10] = [
        "text", "string", "str", "line", "input", "word", "name", "value", "query", "password",
    ];
    const LIST: [&str; 7] = [
        "list", "array", "sequence", "input", "slice", "vec", "items",
    ];
    const MAP: [&str; 4] = ["dict", "mapping", "map", "input"];
    let kind = kind.trim();
    let (literal, words): (&str, &[&str]) = match kind {
        "str" => ("\"\"", &TEXT),
        "&str" => ("\"\"", &TEXT),
        "String" => ("String::new()", &TEXT),
        k if k.starts_with("list") || k.starts_with("List") || k.starts_with("Sequence") => {
            ("[]", &LIST)
        }
        k if k.starts_with("&[") => ("&[]", &LIST),
        k if k.starts_with("Vec<") => ("vec![]", &LIST),
        k if k.starts_with("dict") || k.starts_with("Dict") || k.starts_with("Mapping") => {
            ("{}", &MAP)
        }
        _ => return None,
    };
    (noun == param || words.contains(&noun)).then_some(literal)
}

/// A value written as a literal: a number, a quoted string, a list, tuple or map, or a
/// constant (`True`, `None`, `Some(…)`, `Ok(…)`), not a word of prose.
const VALUE: &str = r#"-?\d[^`\n]*|"[^`\n]*|'[^`\n]*|[\[({][^`\n]*|(?:true|false|True|False|None|Some\(|Ok\(|Err\()[^`\n]*"#;

/// "any other code gives `"HTTP/1.1 <code> Unknown"`", for a function of one integer: a case
/// at a number the spec never writes, the placeholder filled in. Not read where the spec speaks
/// of ranges ("below", "between", "2xx" …): the number might fall in one.
fn any_other(line: &str, spec: &str, function: &str, param: &str, kind: &str) -> Option<Example> {
    static ANY: OnceLock<Regex> = OnceLock::new();
    static RANGE: OnceLock<Regex> = OnceLock::new();
    static NUMBER: OnceLock<Regex> = OnceLock::new();
    let any = regex(
        &ANY,
        &format!(r#"(?i)\bany\s+other\s+`?(\w+)`?\s+(?:gives|returns|yields|is)\s+`({VALUE})`"#),
    );
    let range = regex(
        &RANGE,
        r"(?i)\b(?:below|above|under|over|less|greater|more|fewer|between|from|range|at least|at most|multiples?|even|odd|divisible|negative|positive|\dxx)\b|[<>]=?\s*-?\d",
    );
    let number = regex(&NUMBER, r"\b\d+\b");
    const WIDTH: [(&str, u64); 11] = [
        ("int", u64::MAX),
        ("u8", 255),
        ("i8", 127),
        ("u16", 65535),
        ("i16", 32767),
        ("u32", u64::MAX),
        ("i32", u64::MAX),
        ("u64", u64::MAX),
        ("i64", u64::MAX),
        ("usize", u64::MAX),
        ("isize", u64::MAX),
    ];
    let (_, widest) = WIDTH.iter().find(|(name, _)| *name == kind)?;
    let c = any.captures(line)?;
    let noun = c[1].to_ascii_lowercase();
    let words = ["number", "value", "input", "code", "integer"];
    if noun != param && !words.contains(&noun.as_str()) || range.is_match(spec) {
        return None;
    }
    let written: Vec<&str> = number.find_iter(spec).map(|m| m.as_str()).collect();
    let n = [299u64, 418, 77, 61, 7]
        .into_iter()
        .find(|n| n <= widest && !written.contains(&n.to_string().as_str()))?;
    let mut value = c[2].trim().to_string();
    for placeholder in [
        format!("<{param}>"),
        format!("{{{param}}}"),
        format!("<{noun}>"),
        format!("{{{noun}}}"),
    ] {
        value = value.replace(&placeholder, &n.to_string());
    }
    // Another placeholder is a value the spec does not give.
    if value.contains('<') && value.contains('>') || value.contains('{') && !value.starts_with('{')
    {
        return None;
    }
    Some(Example {
        call: format!("{function}({n})"),
        outcome: Outcome::Returns(value),
    })
}

/// Cases the Requirements state in words for the spec's one function of one argument: "an
/// empty line returns `[""]`", "`n` of 0 returns `[]`", "`0` returns `"0"`". Read only where
/// the argument is unambiguous (the function's one parameter, named or given as a literal), so
/// a case is never guessed.
fn stated(spec: &str) -> Vec<Example> {
    static EMPTY: OnceLock<Regex> = OnceLock::new();
    static OF: OnceLock<Regex> = OnceLock::new();
    static LITERAL: OnceLock<Regex> = OnceLock::new();
    let Some((function, param, kind)) = the_one_function(spec) else {
        return Vec::new();
    };
    const OUTCOME: &str =
        r"\s*(returns|gives|yields|raises|throws|fails with)\s*(?:an?\s+)?`([^`\n]+)`";
    let empty = regex(
        &EMPTY,
        &format!(r"(?i)\b(?:an?|the)?\s*empty\s+`?(\w+)`?{OUTCOME}"),
    );
    let of = regex(
        &OF,
        &format!(r#"`(\w+)`\s+of\s+`?(-?\d+(?:\.\d+)?|"[^"`\n]*"|'[^'`\n]*')`?{OUTCOME}"#),
    );
    // "`4` is `"IV"`" too, where the value is a literal (not "`0` is `invalid`").
    let literal = regex(
        &LITERAL,
        &format!(r#"`(-?\d+(?:\.\d+)?|"[^"`\n]*"|'[^'`\n]*')`(?:{OUTCOME}|\s*(is)\s+`({VALUE})`)"#),
    );
    let outcome = |verb: &str, value: &str| {
        let value = value.trim().to_string();
        if verb.eq_ignore_ascii_case("returns")
            || verb.eq_ignore_ascii_case("gives")
            || verb.eq_ignore_ascii_case("yields")
            || verb.eq_ignore_ascii_case("is")
        {
            Outcome::Returns(value)
        } else {
            Outcome::Raises(value)
        }
    };
    let mut found = Vec::new();
    for line in spec.lines() {
        for c in empty.captures_iter(line) {
            // "a non-empty list" and "a list that is not empty" say the opposite.
            let start = c.get(0).map_or(0, |m| m.start());
            let before = line[..start].to_ascii_lowercase();
            let last_word = before.split_whitespace().next_back().unwrap_or("");
            if before.ends_with('-') || before.ends_with("non") || last_word == "not" {
                continue;
            }
            let noun = c[1].to_ascii_lowercase();
            if let Some(arg) = empty_literal(&kind, &param, &noun) {
                found.push(Example {
                    call: format!("{function}({arg})"),
                    outcome: outcome(&c[2], &c[3]),
                });
            }
        }
        for c in of.captures_iter(line) {
            if c[1] == param {
                found.push(Example {
                    call: format!("{function}({})", &c[2]),
                    outcome: outcome(&c[3], &c[4]),
                });
            }
        }
        for c in literal.captures_iter(line) {
            let (verb, value) = match (c.get(2), c.get(3), c.get(4), c.get(5)) {
                (Some(verb), Some(value), ..) | (.., Some(verb), Some(value)) => (verb, value),
                _ => continue,
            };
            found.push(Example {
                call: format!("{function}({})", &c[1]),
                outcome: outcome(verb.as_str(), value.as_str()),
            });
        }
        found.extend(any_other(line, spec, &function, &param, &kind));
    }
    // A raised value must be an error's name, as the spec's own examples are read.
    found.retain(|e| match &e.outcome {
        Outcome::Raises(name) => name.chars().next().is_some_and(|c| c.is_ascii_uppercase()),
        Outcome::Returns(_) => true,
    });
    found
}

/// The languages an example check can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Python,
    Rust,
}

/// Where the check runs the examples: the files they call into, and the tests it runs besides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub language: Language,
    /// Python: every named module (not a test file); Rust: the one named source file.
    pub files: Vec<String>,
    /// Python test files the spec names (to write, change or keep passing): each is run too, as a
    /// script and by its test functions. A Rust file's own `#[cfg(test)]` tests run with the
    /// examples already (the check compiles the file with `--test`).
    pub tests: Vec<String>,
    /// Those of `tests` the spec says run as a script (`python3 test_x.py`): their test
    /// functions are not called for them, as that command would not (`scripts`).
    pub scripts: Vec<String>,
    /// The spec writes only test files (it asks for tests of code that exists): the cases it
    /// lists are what those tests must check, so each case's arguments must appear in them.
    pub cases_in_tests: bool,
}

/// Which language the examples are in, from the files the spec names: only `.py` files, or
/// exactly one `.rs` file (tests aside) in a crate without dependencies (the check compiles that
/// file alone with `rustc`). Anything else gets no check from the examples.
pub fn target(named: &[String], cargo_toml: Option<&str>) -> Option<Target> {
    let is_test = |p: &str| {
        let name = p.rsplit('/').next().unwrap_or(p);
        name.starts_with("test_")
            || name.ends_with("_test.py")
            || name == "conftest.py"
            || p.starts_with("tests/")
            || p.contains("/tests/")
    };
    let code: Vec<&String> = named
        .iter()
        .filter(|p| p.ends_with(".py") || p.ends_with(".rs"))
        .collect();
    // One language only: Python files, or Rust files, never both.
    let python = code.iter().filter(|p| p.ends_with(".py")).count();
    if code.is_empty() || (python > 0 && python < code.len()) {
        return None;
    }
    if code[0].ends_with(".py") {
        let (tests, files): (Vec<String>, Vec<String>) =
            code.into_iter().cloned().partition(|p| is_test(p));
        // conftest.py holds fixtures, not tests: running it proves nothing.
        let tests: Vec<String> = tests
            .into_iter()
            .filter(|p| !p.ends_with("conftest.py"))
            .collect();
        return (!files.is_empty() || !tests.is_empty()).then_some(Target {
            language: Language::Python,
            files,
            tests,
            scripts: Vec::new(),
            cases_in_tests: false,
        });
    }
    let sources: Vec<&String> = code.into_iter().filter(|p| !is_test(p)).collect();
    let [one] = sources.as_slice() else {
        return None;
    };
    if cargo_toml.is_some_and(has_dependencies) {
        return None;
    }
    Some(Target {
        language: Language::Rust,
        files: vec![(*one).clone()],
        tests: Vec::new(),
        scripts: Vec::new(),
        cases_in_tests: false,
    })
}

/// Which of `tests` the spec says run as a plain script: `python3 test_x.py` (or `python`) in
/// its text. Such a file is judged as that command runs it.
pub fn scripts(spec: &str, tests: &[String]) -> Vec<String> {
    tests
        .iter()
        .filter(|t| {
            ["python3 ", "python "]
                .iter()
                .any(|run| spec.contains(&format!("{run}{t}")))
        })
        .cloned()
        .collect()
}

/// Whether a Cargo.toml's `[dependencies]` table names anything.
fn has_dependencies(manifest: &str) -> bool {
    let mut inside = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == "[dependencies]" || line.starts_with("[dependencies.");
            if line.starts_with("[dependencies.") {
                return true;
            }
            continue;
        }
        if inside && !line.is_empty() && !line.starts_with('#') {
            return true;
        }
    }
    false
}

/// A string as a double-quoted literal both Python and Rust read back as the same text.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Shared by both scripts: an example's call parsed, for the vote's changed arguments and for
/// the cases tests must use.
const PY_CALL_OF: &str = r#"import ast


def call_of(text):
    """The call an example's text is, or None where it is not one."""
    try:
        node = ast.parse(text, mode='eval').body
    except SyntaxError:
        return None
    return node if isinstance(node, ast.Call) else None


"#;

/// Runs one example against the imported names `ns`: 0 when it holds, 1 when it fails, 2 when
/// it could not be run (the script counts each, so a check that ran nothing says so).
const PY_CHECK: &str = r#"def check(call, kind, expected):
    said = '`' + call + '` ' + kind + ' `' + expected + '`'
    try:
        compiled = compile(call, 'spec example', 'eval')
        want = compile(expected, 'spec example', 'eval') if kind == 'returns' else None
    except SyntaxError:
        print('skipped (not Python): ' + said)
        return 2
    try:
        got = eval(compiled, dict(ns))
    except NameError as e:
        # A method's example ("after `add(...)`, `total()` returns 3") needs an object the
        # spec does not give: not runnable alone, so not the answer's failure.
        # Only a class the named modules define: an imported one (`OrderedDict` has `get`)
        # would excuse a function the answer never wrote.
        if any(isinstance(v, type) and v.__module__ in owned and hasattr(v, getattr(e, 'name', '') or '') for v in ns.values()):
            print('skipped (a method, it needs an object): ' + said)
            return 2
        print('FAILED: the spec says ' + said + ', but it raised NameError: ' + str(e))
        return 1
    except Exception as e:
        if kind == 'raises' and (expected == 'an error' or any(c.__name__ == expected for c in type(e).__mro__)):
            return 0
        print('FAILED: the spec says ' + said + ', but it raised ' + type(e).__name__ + ': ' + str(e))
        return 1
    if kind == 'raises':
        print('FAILED: the spec says ' + said + ', but it returned ' + repr(got))
        return 1
    try:
        expected_value = eval(want, dict(ns))
    except Exception as e:
        print('skipped (cannot evaluate the expected value): ' + said)
        return 2
    if got != expected_value:
        print('FAILED: the spec says ' + said + ', but it returned ' + repr(got))
        return 1
    return 0
"#;

/// After every example held: the answer's behaviour on calls the spec does not state — each
/// example's call with one literal argument changed (empty, negative, upper-case, reversed …) —
/// one short digest a call, in order. Answers written side by side that all pass the examples
/// can then be told apart by what they do elsewhere, and the one that agrees most with the
/// others is kept (`local::implement::choose`). A probe's outcome is its value's repr (object
/// addresses cut) or the name of what it raised; each runs under a short timer with its output
/// swallowed, and when the probes as a whole run too long nothing is printed: an outcome must
/// mean the same behaviour every time.
const PY_PROBES: &str = r#"def variants(v):
    if isinstance(v, bool):
        return [not v]
    if isinstance(v, int):
        return [0, 1, -1, v + 1, v - 1, -v, 2 * v + 3, 100]
    if isinstance(v, float):
        return [0.0, -v, v / 2, v * 3 + 0.5]
    if isinstance(v, str):
        return ['', ' ', v.upper(), v.lower(), v.swapcase(), ' ' + v + ' ', v + v, v[: len(v) // 2],
                v[::-1], v.replace(' ', '_'), v.replace('_', ' ').replace('-', ' '), v + '!', 'A1 b-c_d.E']
    if isinstance(v, (list, tuple)):
        kind = type(v)
        return [kind(), kind(v[:1]), kind(v[::-1]), kind(list(v) + list(v))] + [kind([w] + list(v[1:])) for w in (variants(v[0]) if v else [])[:4]]
    if isinstance(v, dict):
        items = list(v.items())
        return [{}, dict(items[:1]), dict(items[1:])]
    return []


class ProbeTimeout(BaseException):
    pass


def probes(calls):
    out, seen = [], set(calls)
    for call in calls:
        node = call_of(call)
        if node is None:
            continue
        slots = [(node.args, i) for i in range(len(node.args))] + [(node.keywords, i) for i in range(len(node.keywords))]
        for holder, i in slots:
            old = holder[i]
            arg = old.value if isinstance(old, ast.keyword) else old
            try:
                value = ast.literal_eval(arg)
            except Exception:
                continue
            for w in variants(value):
                new = ast.parse(repr(w), mode='eval').body
                holder[i] = ast.keyword(arg=old.arg, value=new) if isinstance(old, ast.keyword) else new
                text = ast.unparse(node)
                holder[i] = old
                if text not in seen:
                    seen.add(text)
                    out.append(text)
    return out[:80]


def behaviour(calls):
    import contextlib, hashlib, io, re, signal, time
    def expire(signum, frame):
        raise ProbeTimeout()
    signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    outcomes = []
    ran = probes(calls)
    for call in ran:
        if time.monotonic() - started > 3:
            return
        sink = io.StringIO()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                signal.setitimer(signal.ITIMER_REAL, 0.25)
                try:
                    got = 'returns ' + re.sub(r' at 0x[0-9a-fA-F]+', '', repr(eval(call, dict(ns))))[:300]
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
        except ProbeTimeout:
            got = 'runs too long'
        except BaseException as e:
            got = 'raises ' + type(e).__name__
        outcomes.append(hashlib.sha256(got.encode()).hexdigest()[:6])
    if ran:
        print(f'behaviour on {len(ran)} calls beyond the examples: ' + ' '.join(outcomes))
"#;

/// How the line the probes print starts and what comes before the digest (`PY_PROBES`).
const BEHAVIOUR_START: &str = "behaviour on ";
const BEHAVIOUR_DIGEST: &str = " calls beyond the examples: ";

/// An answer's outcome on each probe call, from the output of the check the examples became,
/// when its probes ran (Python only: a Rust probe would have to guess each argument's type, and
/// one that does not compile fails the whole check).
pub fn behaviour(output: &str) -> Option<Vec<String>> {
    output.lines().rev().find_map(|line| {
        let rest = line.strip_prefix(BEHAVIOUR_START)?;
        let (count, outcomes) = rest.split_once(BEHAVIOUR_DIGEST)?;
        let outcomes: Vec<String> = outcomes.split(' ').map(str::to_string).collect();
        (count.parse() == Ok(outcomes.len())).then_some(outcomes)
    })
}

/// The marker closing the script's here-document; no example may hold it.
const END: &str = "GIT_HYBRID_SPEC_EXAMPLES";

/// The shell command that runs `examples` against `target`'s files (and its test files), or
/// `None` when there is nothing it could run.
pub fn command(examples: &[Example], target: &Target) -> Option<String> {
    let examples: Vec<&Example> = examples
        .iter()
        .filter(|e| !e.to_string().contains(END))
        .collect();
    let tests: Vec<&String> = target.tests.iter().filter(|t| !t.contains(END)).collect();
    let cases: Vec<&Example> = if target.cases_in_tests {
        examples.clone()
    } else {
        Vec::new()
    };
    match target.language {
        Language::Python if examples.is_empty() && tests.is_empty() => None,
        Language::Python if target.files.is_empty() => Some(python_tests(&tests, target, &cases)),
        Language::Python if tests.is_empty() => Some(python(&examples, &target.files)),
        // The tests run only after the examples held: one failure is enough to ask again, and
        // the examples say what went wrong more plainly.
        Language::Python => Some(format!(
            "{}test $? -eq 0 || exit 1\n{}",
            python(&examples, &target.files),
            python_tests(&tests, target, &cases)
        )),
        Language::Rust if examples.is_empty() => None,
        Language::Rust => rust(&examples, &target.files[0]),
    }
}

/// Runs each test file as `python3 FILE` would, then the test functions it only defines (the
/// pytest and unittest shapes) unless the spec says the file runs as a script, so tests an
/// answer writes must pass on the code they test. Then they must be able to fail: each named
/// module is broken in small ways (a comparison turned round, a branch never taken, a return
/// of `None`, an operator or a number changed), and a test file that passes every broken
/// version checks nothing — it fails, told which break it missed. A module the tree does not
/// hold and this machine lacks (`pytest` not installed) skips that file rather than failing it:
/// the machine's fault, not the answer's.
const PY_TESTS: &str = r#"import ast, inspect, os, runpy, signal, sys, traceback, types, unittest
sys.path.insert(0, '.')
failed = 0


def here(name):
    top = name.split('.')[0]
    return os.path.exists(top + '.py') or os.path.isdir(top)


def run_file(path, script, quiet=False):
    """None when it passed, else why not; 'skip: ...' when it could not be run here."""
    sys.path.insert(0, os.path.dirname(path) or '.')
    try:
        found = runpy.run_path(path, run_name='__main__')
    except SystemExit as e:
        # unittest.main() and pytest.main() exit with the run's result.
        return None if e.code in (None, 0) else path + ' exited with ' + str(e.code)
    except ModuleNotFoundError as e:
        # A file the spec runs as a plain script needs no test runner: one that imports
        # pytest is written for another way of running.
        if e.name and not here(e.name) and not (script and e.name.split('.')[0] == 'pytest'):
            return 'skip: ' + path + ' needs ' + e.name + ', not installed here'
        if script and e.name and e.name.split('.')[0] == 'pytest':
            return path + ' imports pytest, which is not installed here, and the spec runs it as `python3 ' + path + '`: use plain assert statements (and try/except for an error)'
        if not quiet:
            traceback.print_exc(limit=-3, file=sys.stdout)
        return 'running ' + path + ' raised ModuleNotFoundError'
    except BaseException as e:
        if not quiet:
            traceback.print_exc(limit=-3, file=sys.stdout)
        return 'running ' + path + ' raised ' + type(e).__name__
    if script:
        return None
    for name, value in list(found.items()):
        cases = []
        if name.startswith('test') and inspect.isfunction(value):
            if inspect.signature(value).parameters:
                continue
            cases = [(name, value)]
        elif inspect.isclass(value) and issubclass(value, unittest.TestCase):
            result = unittest.TextTestRunner(stream=open(os.devnull, 'w') if quiet else sys.stdout, verbosity=0).run(unittest.defaultTestLoader.loadTestsFromTestCase(value))
            if result.failures or result.errors:
                return path + ': ' + name + ' failed'
            continue
        elif inspect.isclass(value) and name.startswith('Test'):
            try:
                instance = value()
            except Exception:
                continue
            cases = [(name + '.' + m, getattr(instance, m)) for m in dir(instance) if m.startswith('test') and callable(getattr(instance, m))]
        for label, case in cases:
            try:
                case()
            except BaseException:
                if not quiet:
                    traceback.print_exc(limit=-2, file=sys.stdout)
                return path + ': ' + label + ' failed'
    return None


FLIP = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
        ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
        ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv}


def breaks(tree):
    """Each way to break the module: (what it does, how to do it to a fresh parse)."""
    out = []
    for i, node in enumerate(ast.walk(tree)):
        line = getattr(node, 'lineno', 0)
        if isinstance(node, ast.Compare) and type(node.ops[0]) in FLIP:
            out.append(('line %d: the comparison turned round' % line, i, 'compare'))
        elif isinstance(node, ast.BinOp) and type(node.op) in FLIP:
            out.append(('line %d: the operator changed' % line, i, 'binop'))
        elif isinstance(node, (ast.If, ast.While)):
            out.append(('line %d: the branch never taken' % line, i, 'never'))
        elif isinstance(node, ast.Return) and node.value is not None:
            out.append(('line %d: returns None' % line, i, 'none'))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            out.append(('line %d: %d made %d' % (line, node.value, node.value + 1), i, 'plus'))
    # A spread of at most 16, so a long module is not broken line by line.
    step = max(1, len(out) // 16)
    return out[::step][:16]


def broken(source, path, i, how):
    tree = ast.parse(source, path)
    node = list(ast.walk(tree))[i]
    if how == 'compare':
        node.ops[0] = FLIP[type(node.ops[0])]()
    elif how == 'binop':
        node.op = FLIP[type(node.op)]()
    elif how == 'never':
        node.test = ast.Constant(False)
    elif how == 'none':
        node.value = ast.Constant(None)
    else:
        node.value += 1
    return compile(ast.fix_missing_locations(tree), path, 'exec')


def fails_on(path, script, module, code):
    """Whether the test file fails with `module` replaced by `code`, run in a child."""
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        signal.alarm(5)
        try:
            fake = types.ModuleType(names(module)[0])
            fake.__file__ = module
            for name in names(module):
                sys.modules[name] = fake
            exec(code, fake.__dict__)
            why = run_file(path, script, quiet=True)
        except BaseException:
            why = 'raised'
        os._exit(0 if why is None else 1)
    _, status = os.waitpid(pid, 0)
    return status != 0


def names(module):
    """The names a test may import `module` by: its dotted path and each tail of it
    (`src/shop/cart.py`: `src.shop.cart`, `shop.cart`, `cart`)."""
    parts = module[:-3].split('/')
    if parts[-1] == '__init__' and len(parts) > 1:
        parts = parts[:-1]
    return ['.'.join(parts[i:]) for i in range(len(parts))]


def imported(path):
    """The modules a test file imports by name, `from a import b` counted as `a` and `a.b`."""
    found = set()
    try:
        with open(path, 'rb') as f:
            tree = ast.parse(f.read(), path)
    except (SyntaxError, ValueError):
        return found
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(node.module + '.' + alias.name for alias in node.names)
    return found


def can_fail(path, script, modules):
    # Only the named modules the file imports itself are broken: one it reaches another way
    # (a path set up at run time, a plugin) would not be the broken copy, and its tests would
    # be blamed for breaks they never saw.
    uses = imported(path)
    modules = [m for m in modules if os.path.exists(m) and any(n in uses for n in names(m))]
    if not modules:
        # Said, so a pass is not read as more than it is.
        print(path + ': not tried against breaks (it imports none of the named modules by name)')
        return
    missed = []
    for module in modules:
        with open(module, 'rb') as f:
            source = f.read()
        try:
            ways = breaks(ast.parse(source, module))
        except (SyntaxError, ValueError):
            continue
        for said, i, how in ways:
            if fails_on(path, script, module, broken(source, module, i, how)):
                print(path + ': fails on a broken ' + module + ' (' + said + ')')
                return
            missed.append(module + ' ' + said)
    if missed:
        global failed
        failed += 1
        print('FAILED: ' + path + ' passed on every broken version of the code it tests, so it checks nothing that can break: ' + '; '.join(missed[:4]))
        if script and any(isinstance(n, ast.FunctionDef) and n.name.startswith('test') for n in ast.parse(open(path, 'rb').read()).body):
            print('  (run as `python3 ' + path + '`, a test function it only defines never runs: call it, or assert at the top level)')


def run_tests(path, script, modules):
    global failed
    if not os.path.exists(path):
        print('skipped (not in the tree): ' + path)
        return
    why = run_file(path, script)
    if why is not None and why.startswith('skip: '):
        print('skipped (' + why[6:] + ')')
    elif why is not None:
        print('FAILED: ' + why)
        failed += 1
    else:
        print(path + ': passed' + (' (run as a script, as the spec says)' if script else ''))
        can_fail(path, script, modules)


def scalars(node):
    """The strings and numbers a piece of code writes as literals (a negative number whole)."""
    out = set()
    signed = {id(n.operand) for n in ast.walk(node) if isinstance(n, ast.UnaryOp)}
    for n in ast.walk(node):
        if isinstance(n, (ast.Constant, ast.UnaryOp)) and id(n) not in signed:
            try:
                v = ast.literal_eval(n)
            except Exception:
                continue
            if isinstance(v, str):
                out.add(('str', v))
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                out.add(('num', v))
    return out


def covers(cases, paths):
    """A spec that asks only for tests lists the cases they must check: each case's literal
    arguments must be written somewhere in the test files (a call, a table, a loop's list)."""
    global failed
    written = set()
    for path in paths:
        if not os.path.exists(path):
            continue  # said as skipped: the cases must then be in the files that are there
        try:
            with open(path, 'rb') as f:
                written |= scalars(ast.parse(f.read(), path))
        except (SyntaxError, ValueError):
            return  # the file's run has said what is wrong with it
    for shown, call in cases:
        node = call_of(call)
        if node is None:
            continue
        wanted = set()
        for arg in list(node.args) + [k.value for k in node.keywords]:
            wanted |= scalars(arg)
        missing = sorted(repr(v) for _, v in wanted - written)
        if missing:
            print('FAILED: the spec lists ' + shown + ', and no test file uses ' + ', '.join(missing) + ': write a test for that case')
            failed += 1


"#;

/// Python list items: `items` joined by commas.
fn py_list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// The script that runs `tests` (`PY_TESTS`), exiting 1 when one failed; `cases` are the
/// spec's cases the tests must use (`Target::cases_in_tests`).
fn python_tests(tests: &[&String], target: &Target, cases: &[&Example]) -> String {
    let mut script = format!("{PY_CALL_OF}{PY_TESTS}");
    let modules = py_list(target.files.iter().map(|m| quoted(m)));
    for test in tests {
        let as_script = if target.scripts.contains(test) {
            "True"
        } else {
            "False"
        };
        script.push_str(&format!(
            "run_tests({}, {as_script}, [{modules}])\n",
            quoted(test)
        ));
    }
    if !cases.is_empty() {
        let cases = py_list(
            cases
                .iter()
                .map(|e| format!("({}, {})", quoted(&e.to_string()), quoted(&e.call))),
        );
        let tests = py_list(tests.iter().map(|t| quoted(t)));
        script.push_str(&format!("covers([{cases}], [{tests}])\n"));
    }
    script.push_str("sys.exit(1 if failed else 0)\n");
    format!("PYTHONHASHSEED=0 python3 - <<'{END}'\n{script}{END}\n")
}

fn python(examples: &[&Example], files: &[String]) -> String {
    // `check` compiles each example on its own, so one the language cannot read is skipped
    // (the spec's wording, not the answer's fault).
    let mut script = format!(
        "import importlib, importlib.util, sys, traceback\nsys.path.insert(0, '.')\nns = {{}}\nowned = set()\n{PY_CALL_OF}{PY_CHECK}"
    );
    // A module is imported by its dotted name where its path allows one (so its own package
    // imports work), else loaded from its file.
    for file in files {
        script.push_str(&format!(
            "path = {}\nname = path[:-3].replace('/', '.')\ntry:\n    module = importlib.import_module(name) if all(p.isidentifier() for p in name.split('.')) else None\n    if module is None:\n        spec = importlib.util.spec_from_file_location('spec_module', path)\n        module = importlib.util.module_from_spec(spec)\n        spec.loader.exec_module(module)\nexcept Exception:\n    print('importing ' + path + ' failed:')\n    traceback.print_exc(limit=-3, file=sys.stdout)\n    sys.exit(1)\nns.update(vars(module))\nowned.add(module.__name__)\n",
            quoted(file)
        ));
    }
    script.push_str("counts = [0, 0, 0]\n");
    for e in examples {
        let (kind, expected) = match &e.outcome {
            Outcome::Returns(v) => ("returns", v.as_str()),
            Outcome::Raises(name) => ("raises", name.as_str()),
        };
        script.push_str(&format!(
            "counts[check({}, {}, {})] += 1\n",
            quoted(&e.call),
            quoted(kind),
            quoted(expected)
        ));
    }
    script.push_str(
        "print(f'{counts[0]} held, {counts[1]} failed, {counts[2]} skipped of the spec\\'s {sum(counts)} examples')\n",
    );
    // Only an answer that held every example is worth telling apart from the others.
    script.push_str(&format!(
        "if counts[1]:\n    sys.exit(1)\n{PY_PROBES}behaviour([{}])\n",
        py_list(examples.iter().map(|e| quoted(&e.call)))
    ));
    // A fixed hash seed: a set's repr must not differ from one run to the next.
    format!("PYTHONHASHSEED=0 python3 - <<'{END}'\n{script}{END}\n")
}

fn rust(examples: &[&Example], file: &str) -> Option<String> {
    let (folder, name) = match file.rsplit_once('/') {
        Some((folder, name)) => (folder.to_string(), name.to_string()),
        None => (".".to_string(), file.to_string()),
    };
    let mut source = format!("include!({});\n", quoted(&name));
    for (i, e) in examples.iter().enumerate() {
        let said = quoted(&format!("the spec says {e}"));
        let body = match &e.outcome {
            // An error by name: the call returns `Err(_)` (or panics, when it has no Result).
            Outcome::Raises(name) if name == "panic" => {
                source.push_str(&format!(
                    "#[test]\n#[should_panic]\nfn spec_example_{i}() {{\n    let _ = {};\n}}\n",
                    e.call
                ));
                continue;
            }
            Outcome::Raises(_) => format!(
                "assert!(format!(\"{{got:?}}\").starts_with(\"Err(\"), \"{{}}, but it returned {{got:?}}\", {said});"
            ),
            // `Ok("…")`, `Some("…")`: a str literal inside a String's wrapper does not compare
            // by type, but both print alike.
            Outcome::Returns(v) if prints_as_written(v) => {
                format!(
                    "assert_eq!(format!(\"{{got:?}}\"), {}, \"{{}}\", {said});",
                    quoted(&debug_form(v))
                )
            }
            Outcome::Returns(v) => {
                format!("assert!(got == {v}, \"{{}}, but it returned {{got:?}}\", {said});")
            }
        };
        // Matched rather than bound: what the call borrows from a temporary
        // (`Stack::new(2).peek()`) lives to the end of the match, and not past a `let`.
        let body = format!(
            "    match {} {{\n        got => {{\n            {body}\n        }}\n    }}\n",
            e.call
        );
        source.push_str(&format!("#[test]\nfn spec_example_{i}() {{\n{body}}}\n"));
    }
    let test = format!("{folder}/git_hybrid_spec_examples.rs");
    // The file is included into a test crate, where an inner doc comment (`//! ...`, which
    // opens most crates) or an inner attribute at its top is refused: the attributes go to the
    // test crate's top, and the file (the check's own copy in a temporary tree) has those
    // comments made plain in place. Its name and line numbers stay (an attribute's line becomes
    // empty), so what the compiler says points at the answer's own lines.
    let attribute = r"^[[:space:]]*#!\[.*\][[:space:]]*$";
    let source_file = format!("{folder}/{name}");
    let plain = format!(
        r"sed -E -e 's#^([[:space:]]*)//!#\1//#' -e 's#^([[:space:]]*)/\*!#\1/*#' -e 's/{attribute}//' '{source_file}' > '{source_file}.plain' && mv '{source_file}.plain' '{source_file}'"
    );
    // A failed example's backtrace (where `RUST_BACKTRACE` is set, as it is on many developers'
    // machines) is twenty lines of the test harness's frames after the one line that says which
    // case failed and what came back: the output goes to the model, which reads what it is shown
    // as part of its task, and to the user, and the frames tell neither anything.
    Some(format!(
        "{{ grep -E '{attribute}' '{source_file}'; cat <<'{END}'\n{source}{END}\n}} > '{test}'\n{plain}\nrustc --edition 2021 --test -A warnings -o git-hybrid-spec-examples '{test}' && RUST_BACKTRACE=0 ./git-hybrid-spec-examples --test-threads 1\n"
    ))
}

/// Whether a value is a wrapper of literals that `{:?}` prints as written: `Ok(..)`, `Err(..)`
/// or `Some(..)` around string literals (without escapes), numbers, tuples and lists. A
/// method call (`"a".into()`) is compared by type instead: its printed form is not its text.
fn prints_as_written(value: &str) -> bool {
    let wrapped = ["Ok(", "Err(", "Some("]
        .iter()
        .any(|w| value.starts_with(w));
    if !wrapped || !value.contains('"') || value.contains('\\') {
        return false;
    }
    let mut in_string = false;
    value.chars().all(|c| {
        if c == '"' {
            in_string = !in_string;
        }
        in_string || c == '"' || c.is_ascii_alphanumeric() || "()[], -_".contains(c)
    }) && !value.contains("::")
}

/// How `{:?}` prints a value written as source: the same text without the spaces outside its
/// string literals (`Err( "x" )` prints `Err("x")`); `, ` keeps its space as Debug does.
fn debug_form(value: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            in_string = !in_string;
            out.push(c);
        } else if in_string || !c.is_whitespace() {
            out.push(c);
            if !in_string && c == ',' {
                out.push(' ');
            }
        }
        if !in_string && c == ',' {
            while chars.peek().is_some_and(|n| n.is_whitespace()) {
                chars.next();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples a spec's text gives, as they are shown to people.
    fn shown(spec: &str) -> Vec<String> {
        read(spec).iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn examples_are_read_from_prose_and_bullets() {
        let spec = "# Port\n\n## Tests\n\n- `parse_port(\"80\")` returns `80`\n- `parse_port(\"\")` raises `ValueError`\n- `parse_port(\"x\")` raises ValueError\n\nAlso `clamp(1, 0, 2)` is `1`. And `f(1) == 2` alone.\n- `g(1)` returns `Err(\"bad\")`\n";
        let examples = read(spec);
        let shown: Vec<String> = examples.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            shown,
            [
                "`parse_port(\"80\")` returns `80`",
                "`parse_port(\"\")` raises ValueError",
                "`parse_port(\"x\")` raises ValueError",
                "`clamp(1, 0, 2)` returns `1`",
                "`g(1)` returns `Err(\"bad\")`",
            ]
        );
    }

    #[test]
    fn a_method_on_a_new_object_is_called_on_it_and_a_signature_is_no_call() {
        let py = "## Requirements\n\n- `total(name: str) -> int` returns `0` for a name never added\n- `drop(self, key)` returns `True` when it was there\n\n## Tests\n\n- `total(\"pear\")` on a new `Basket()` returns `0`\n- `take(\"x\", 1)` called on an empty `Basket()` raises `KeyError`.\n";
        assert_eq!(
            shown(py),
            [
                "`Basket().total(\"pear\")` returns `0`",
                "`Basket().take(\"x\", 1)` raises KeyError",
            ]
        );
        // "returns the count" gives no value to compare: no case (a word would not compile).
        assert_eq!(
            shown(
                "- `size()` on a new `Basket()` returns the count\n- `pop()` on a new `Basket()` fails\n"
            ),
            ["`Basket().pop()` fails"]
        );
        let rust = "- `delete(&mut self, key: &str) -> bool` returns `true` when the key was there\n- `len(&self)` is `0` at first\n- `find(\"a\")` on `Table::new()` returns `None`\n- `Table::new().size()` returns `0`\n";
        assert_eq!(
            shown(rust),
            [
                "`Table::new().find(\"a\")` returns `None`",
                "`Table::new().size()` returns `0`",
            ]
        );
        // Values that look like parameters are values: a dict, a struct literal, a path.
        for call in [
            "f({\"a\": 1})",
            "f(Point { x: 1, y: 2 })",
            "f(Kind::A)",
            "f(lambda x: x)",
        ] {
            assert!(!declares(call), "{call}");
        }
        for call in ["f(x: int)", "f(self)", "f(&self, k: &str)", "f(a) -> int"] {
            assert!(declares(call), "{call}");
        }
    }

    #[test]
    fn cases_the_requirements_state_in_words_are_examples_of_the_one_function() {
        let csv = "## Signatures\n\n- `def split_csv(line: str) -> list[str]`\n\n## Requirements\n\n- an empty line returns `[\"\"]`\n- an empty result returns `[]`\n\n## Tests\n\n- `split_csv(\"a,b\")` returns `[\"a\", \"b\"]`\n";
        assert_eq!(
            shown(csv),
            [
                "`split_csv(\"a,b\")` returns `[\"a\", \"b\"]`",
                "`split_csv(\"\")` returns `[\"\"]`",
            ]
        );
        let fizz = "- `def fizzbuzz(n: int) -> list[str]`\n- `n` of 0 returns `[]`\n- `m` of 1 returns `[]`\n";
        assert_eq!(shown(fizz), ["`fizzbuzz(0)` returns `[]`"]);
        let rust = "- `pub fn to_binary(n: u32) -> String`\n- no leading zeros; `0` returns `\"0\"`\n- `mul` returns the product\n";
        assert_eq!(shown(rust), ["`to_binary(0)` returns `\"0\"`"]);
        // The opposite of empty is no empty argument.
        for negated in ["a non-empty list", "a nonempty list", "a not empty list"] {
            let spec =
                format!("- `def first(items: list[int]) -> int`\n- {negated} returns `True`\n");
            assert_eq!(shown(&spec), Vec::<String>::new(), "{negated}");
        }
        let status = "- `pub fn status_line(code: u16) -> String`\n- `200` is `\"HTTP/1.1 200 OK\"`, `404` is `\"HTTP/1.1 404 Not Found\"`\n- any other code gives `\"HTTP/1.1 <code> Unknown\"`\n- `0` is `invalid` here\n";
        assert_eq!(
            shown(status),
            [
                "`status_line(200)` returns `\"HTTP/1.1 200 OK\"`",
                "`status_line(404)` returns `\"HTTP/1.1 404 Not Found\"`",
                "`status_line(299)` returns `\"HTTP/1.1 299 Unknown\"`",
            ]
        );
        // A range in the spec: the number chosen might fall in it, so no case.
        let ranged = "- `def kind(code: int) -> str`\n- codes from 200 to 299 give `\"ok\"`\n- any other code gives `\"bad\"`\n";
        assert_eq!(shown(ranged), Vec::<String>::new());
        // A placeholder the spec does not fill, or a text argument: no case.
        for spec in [
            "- `def f(code: int) -> str`\n- any other code gives `\"<name>\"`\n",
            "- `def f(path: str) -> int`\n- any other path gives `404`\n",
        ] {
            assert_eq!(shown(spec), Vec::<String>::new(), "{spec}");
        }
        let raises =
            "- `def parse(items: list[int]) -> int`\n- an empty list raises `ValueError`\n";
        assert_eq!(shown(raises), ["`parse([])` raises ValueError"]);
        // Two functions, or one of two arguments, or a method: which call is meant is a guess.
        for spec in [
            "- `def a(s: str) -> int`\n- `def b(s: str) -> int`\n- an empty string returns `0`\n",
            "- `def a(s: str, t: str) -> int`\n- an empty string returns `0`\n",
            "- `def a(self) -> int`\n- `0` returns `0`\n",
        ] {
            assert_eq!(shown(spec), Vec::<String>::new(), "{spec}");
        }
    }

    #[test]
    fn a_target_is_one_language_and_rust_without_dependencies() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let py = target(&names(&["money.py", "test_money.py", "conftest.py"]), None).unwrap();
        assert_eq!(py.files, ["money.py"]);
        assert_eq!(py.tests, ["test_money.py"]);
        let tests_only = target(&names(&["tests/test_money.py"]), None).unwrap();
        assert!(tests_only.files.is_empty());
        assert_eq!(tests_only.tests, ["tests/test_money.py"]);
        assert_eq!(target(&names(&["conftest.py"]), None), None);
        let rs = target(
            &names(&["src/lib.rs"]),
            Some("[package]\nname = \"x\"\n\n[dependencies]\n"),
        )
        .unwrap();
        assert_eq!(rs.language, Language::Rust);
        assert_eq!(
            target(
                &names(&["src/lib.rs"]),
                Some("[dependencies]\nserde = \"1\"\n")
            ),
            None
        );
        assert_eq!(target(&names(&["src/lib.rs", "src/a.rs"]), None), None);
        assert_eq!(target(&names(&["a.py", "b.rs"]), None), None);
        assert_eq!(target(&names(&["README.md"]), None), None);
    }

    #[test]
    fn debug_form_is_how_rust_prints_the_value() {
        assert_eq!(
            debug_form("Err( \"port out of range\" )"),
            "Err(\"port out of range\")"
        );
        assert_eq!(debug_form("Some((\"a b\",1))"), "Some((\"a b\", 1))");
        assert!(prints_as_written("Err(\"port: out of range.\")"));
        assert!(!prints_as_written("Some((\"a\".into(), \"1\".into()))"));
        assert!(!prints_as_written("Err(Error::Empty(\"x\"))"));
        assert!(!prints_as_written("Ok(8080)"));
    }

    /// A Python target over `files`, running `tests`, none of them as a plain script.
    fn python_target(files: &[&str], tests: &[&str]) -> Target {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Target {
            language: Language::Python,
            files: owned(files),
            tests: owned(tests),
            scripts: Vec::new(),
            cases_in_tests: false,
        }
    }

    /// Runs `command` by `sh -c` in a folder holding `files`: (passed, output).
    fn run_in(command: &str, files: &[(&str, &str)]) -> (bool, String) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    }

    #[test]
    fn the_python_check_passes_a_right_answer_and_names_what_a_wrong_one_broke() {
        let spec = "## Tests\n\n- `parse_port(\" 80 \")` returns `80`\n- `parse_port(\"0\")` raises `ValueError`\n- `parse_port(\"1\")` returns `one port`\n";
        let target = python_target(&["net/port.py"], &[]);
        let command = command(&read(spec), &target).unwrap();
        let right = "def parse_port(v):\n    v = v.strip()\n    if not v.isdigit() or not 0 < int(v) < 65536:\n        raise ValueError(v)\n    return int(v)\n";
        let (passed, output) = run_in(&command, &[("net/port.py", right)]);
        assert!(passed, "{output}");
        assert!(
            output.contains("skipped (not Python): `parse_port(\"1\")` returns `one port`"),
            "{output}"
        );
        assert!(
            output.contains("2 held, 0 failed, 1 skipped of the spec's 3 examples"),
            "{output}"
        );
        // A method's example needs an object: skipped where a class has the method, failed
        // where nothing defines it.
        let spec = "## Tests\n\n- after `add(\"tea\", 2)`, `total()` returns `2`\n- `missing(1)` returns `1`\n- `get(1)` returns `1`\n";
        let target = python_target(&["cart.py"], &[]);
        let method_check = super::command(&read(spec), &target).unwrap();
        let cart = "from collections import OrderedDict\n\n\nclass Cart:\n    def total(self):\n        return 2\n";
        let (passed, output) = run_in(&method_check, &[("cart.py", cart)]);
        assert!(!passed);
        assert!(
            output.contains("skipped (a method, it needs an object): `total()` returns `2`")
                && output.contains(
                    "FAILED: the spec says `missing(1)` returns `1`, but it raised NameError"
                )
                // `get` is a method of the imported OrderedDict, not of a class the module wrote.
                && output.contains(
                    "FAILED: the spec says `get(1)` returns `1`, but it raised NameError"
                ),
            "{output}"
        );
        let wrong = "def parse_port(v):\n    return int(v)\n";
        let (passed, output) = run_in(&command, &[("net/port.py", wrong)]);
        assert!(!passed);
        assert!(
            // int() strips spaces itself: that example holds for the wrong answer too.
            !output.contains("FAILED: the spec says `parse_port(\" 80 \")` returns `80`"),
            "{output}"
        );
        assert!(
            output.contains(
                "FAILED: the spec says `parse_port(\"0\")` raises `ValueError`, but it returned 0"
            ),
            "{output}"
        );
        let broken = "def parse_port(v)\n";
        let (passed, output) = run_in(&command, &[("net/port.py", broken)]);
        assert!(
            !passed && output.contains("importing net/port.py failed"),
            "{output}"
        );
    }

    /// Answers that all hold the examples are told apart by what they do beyond them: the same
    /// behaviour gives the same digest, another behaviour another one, and a probe that never
    /// ends or prints is cut and swallowed without failing the check.
    #[test]
    fn the_python_check_prints_the_behaviour_beyond_the_examples() {
        let spec = "## Tests\n\n- `clamp(5, 0, 10)` returns `5`\n- `clamp(-3, 0, 10)` returns `0`\n- `shout(\"hi\")` returns `\"HI!\"`\n";
        let target = python_target(&["util.py"], &[]);
        let command = command(&read(spec), &target).unwrap();
        let outcomes = |source: &str| {
            let (passed, output) = run_in(&command, &[("util.py", source)]);
            assert!(passed, "{output}");
            behaviour(&output).expect("outcomes for an answer that held every example")
        };
        let right = "def clamp(v, lo, hi):\n    return max(lo, min(v, hi))\n\ndef shout(s):\n    return s.upper() + '!'\n";
        let same = "def clamp(v, lo, hi):\n    low = min(v, hi)\n    return low if low > lo else lo\n\ndef shout(s):\n    print('noise')\n    return f'{s.upper()}!'\n";
        // Holds every example, but not the upper bound.
        let other = "def clamp(v, lo, hi):\n    return max(lo, v)\n\ndef shout(s):\n    return s.upper() + '!'\n";
        // Holds every example, and hangs on the empty string.
        let hangs = "def clamp(v, lo, hi):\n    return max(lo, min(v, hi))\n\ndef shout(s):\n    while not s:\n        pass\n    return s.upper() + '!'\n";
        let right = outcomes(right);
        assert!(right.len() > 20, "{right:?}");
        assert_eq!(outcomes(same), right);
        let differ = |other: &[String]| {
            assert_eq!(other.len(), right.len());
            other.iter().zip(&right).filter(|(a, b)| a != b).count()
        };
        // `clamp(5, 0, 1)`, `clamp(5, 0, -1)` … — the upper bound's probes, not the rest.
        let wrong = differ(&outcomes(other));
        assert!((1..right.len() / 2).contains(&wrong), "{wrong}");
        // Cut at once, and only the call with the empty string.
        let started = std::time::Instant::now();
        assert_eq!(differ(&outcomes(hangs)), 1);
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
        // A failing answer gets none: it is not among those compared.
        let (passed, output) = run_in(
            &command,
            &[(
                "util.py",
                "def clamp(v, lo, hi):\n    return v\n\ndef shout(s):\n    return s\n",
            )],
        );
        assert!(!passed && behaviour(&output).is_none(), "{output}");
        assert_eq!(
            behaviour("x\nbehaviour on 2 calls beyond the examples: 00ff11 a0a0a0\n"),
            Some(vec!["00ff11".to_string(), "a0a0a0".to_string()])
        );
        assert_eq!(
            behaviour("behaviour on 3 calls beyond the examples: 00ff11 a0a0a0"),
            None
        );
    }

    #[test]
    fn the_rust_check_compiles_the_file_with_its_examples() {
        let spec = "## Tests\n\n- `parse_port(\"80\")` returns `Ok(80)`\n- `parse_port(\"x\")` returns `Err(\"not a number\")`\n- `parse_port(\"0\")` returns an error\n- `label(3)` returns `\"3\"`\n";
        let target = Target {
            language: Language::Rust,
            files: vec!["src/lib.rs".into()],
            tests: Vec::new(),
            scripts: Vec::new(),
            cases_in_tests: false,
        };
        let command = command(&read(spec), &target).unwrap();
        let right = "pub fn parse_port(v: &str) -> Result<u16, String> {\n    match v.parse::<u16>() { Ok(0) => Err(\"zero\".into()), Ok(p) => Ok(p), Err(_) => Err(\"not a number\".to_string()) }\n}\npub fn label(n: u8) -> String { n.to_string() }\n";
        let (passed, output) = run_in(&command, &[("src/lib.rs", right)]);
        assert!(passed, "{command}\n{output}");
        let wrong = right.replace("Ok(0) => Err(\"zero\".into()), ", "");
        // Run where backtraces are asked for: the failure is still the one line that says so.
        let (passed, output) = run_in(
            &format!("export RUST_BACKTRACE=1\n{command}"),
            &[("src/lib.rs", &wrong)],
        );
        assert!(!passed);
        assert!(
            output.contains("the spec says `parse_port(\"0\")` fails, but it returned Ok(0)"),
            "{output}"
        );
        assert!(!output.contains("stack backtrace"), "{output}");
        // A crate's own docs and attributes at its top, and its own tests, which run too.
        let documented = format!(
            "//! Ports.\n#![allow(dead_code)]\n/*! More. */\n\n{right}\nfn unused() {{}}\n\n#[cfg(test)]\nmod tests {{\n    //! Its tests.\n    use super::*;\n    #[test]\n    fn own() {{\n        assert_eq!(label(4), \"4\");\n    }}\n}}\n"
        );
        let (passed, output) = run_in(&command, &[("src/lib.rs", &documented)]);
        assert!(passed, "{command}\n{output}");
        assert!(output.contains("tests::own ... ok"), "{output}");
        let (passed, output) = run_in(
            &command,
            &[(
                "src/lib.rs",
                &documented.replace("label(4), \"4\"", "label(4), \"5\""),
            )],
        );
        assert!(!passed && output.contains("tests::own"), "{output}");
    }

    /// A spec that asks only for tests lists the cases they must check: a test file that
    /// leaves one out fails, told which; written as a call, in a table or a negative number,
    /// the case counts. A spec that also writes code is not held to it.
    #[test]
    fn tests_asked_for_alone_must_use_the_cases_the_spec_lists() {
        let spec = "## Tests\n\n- `slugify(\"Hello, World!\")` returns `\"hello-world\"`\n- `shift(-2, 1.5)` returns `-0.5`\n";
        let code = "def slugify(t):\n    return '-'.join(w for w in ''.join(c if c.isalnum() else ' ' for c in t.lower()).split())\n\n\ndef shift(a, b):\n    return a + b\n";
        let only_tests = Target {
            cases_in_tests: true,
            ..python_target(&["slug.py"], &["test_slug.py"])
        };
        let command = command(&read(spec), &only_tests).unwrap();
        let both = "from slug import slugify, shift\nassert slugify('Hello, World!') == 'hello-world'\nassert shift(-2, 1.5) == -0.5\nassert slugify('A') == 'a'\n";
        let table = "from slug import slugify, shift\nfor text, want in [(\"Hello, World!\", 'hello-world'), ('A', 'a')]:\n    assert slugify(text) == want\nassert shift(-2, 1.5) == -0.5\n";
        for tests in [both, table] {
            let (passed, output) = run_in(&command, &[("slug.py", code), ("test_slug.py", tests)]);
            assert!(passed, "{tests}\n{output}");
        }
        let one = "from slug import slugify, shift\nassert slugify('Hello, World!') == 'hello-world'\nassert slugify('A') == 'a'\nassert shift(2, 1) == 3\n";
        let (passed, output) = run_in(&command, &[("slug.py", code), ("test_slug.py", one)]);
        assert!(
            !passed
                && output.contains(
                    "FAILED: the spec lists `shift(-2, 1.5)` returns `-0.5`, and no test file uses -2, 1.5: write a test for that case"
                )
                && !output.contains("Hello"),
            "{output}"
        );
        // A test file not written is skipped; the cases must then be in those that are.
        let two_files = Target {
            cases_in_tests: true,
            ..python_target(&["slug.py"], &["test_slug.py", "test_absent.py"])
        };
        let (passed, output) = run_in(
            &super::command(&read(spec), &two_files).unwrap(),
            &[("slug.py", code), ("test_slug.py", one)],
        );
        assert!(
            !passed && output.contains("no test file uses -2, 1.5"),
            "{output}"
        );
        let writes_code = python_target(&["slug.py"], &["test_slug.py"]);
        let command = super::command(&read(spec), &writes_code).unwrap();
        let (passed, output) = run_in(&command, &[("slug.py", code), ("test_slug.py", one)]);
        assert!(passed, "{output}");
    }

    /// The test files a spec names run too: as scripts, and by the test functions and cases
    /// they only define; one that fails on the code fails the check, one that needs a module
    /// this machine lacks is skipped.
    #[test]
    fn the_python_check_runs_the_test_files_the_spec_names() {
        let spec = "## Tests\n\n- `double(2)` returns `4`\n";
        let target = python_target(&["calc.py"], &["test_calc.py", "tests/test_more.py"]);
        let command = command(&read(spec), &target).unwrap();
        let code = "def double(n):\n    return n * 2\n";
        let script = "from calc import double\nassert double(3) == 6\n";
        let functions = "import unittest\nfrom calc import double\n\n\ndef test_zero():\n    assert double(0) == 0\n\n\nclass TestMore(unittest.TestCase):\n    def test_neg(self):\n        self.assertEqual(double(-1), -2)\n";
        let (passed, output) = run_in(
            &command,
            &[
                ("calc.py", code),
                ("test_calc.py", script),
                ("tests/test_more.py", functions),
            ],
        );
        assert!(passed, "{command}\n{output}");
        assert!(
            output.contains("tests/test_more.py: passed")
                && output.contains("tests/test_more.py: fails on a broken calc.py"),
            "{output}"
        );
        // A wrong assertion in a test function, one in a unittest case, one in the script.
        for (file, text) in [
            ("tests/test_more.py", functions.replace("== 0", "== 1")),
            ("tests/test_more.py", functions.replace("-2)", "2)")),
            ("test_calc.py", script.replace("== 6", "== 7")),
        ] {
            let mut files = vec![
                ("calc.py", code),
                ("test_calc.py", script),
                ("tests/test_more.py", functions),
            ];
            files.retain(|(f, _)| *f != file);
            files.push((file, text.as_str()));
            let (passed, output) = run_in(&command, &files);
            assert!(!passed, "{text}\n{output}");
        }
        // Tests that pass on every broken version of the code check nothing.
        let (passed, output) = run_in(
            &command,
            &[
                ("calc.py", code),
                ("test_calc.py", script),
                ("tests/test_more.py", "import calc\nassert calc.double\n"),
            ],
        );
        assert!(
            !passed
                && output.contains(
                    "FAILED: tests/test_more.py passed on every broken version of the code it tests"
                ),
            "{output}"
        );
        // A module under src/ imported by its package's name is the broken copy too; a
        // file that reaches the module some other way is not judged by breaks it never saw.
        let src_layout = python_target(
            &["src/shop/cart.py"],
            &["tests/test_cart.py", "tests/test_loaded.py"],
        );
        let cart = "def total(prices):\n    return sum(prices)\n";
        let by_package = "import sys\nsys.path.insert(0, 'src')\nfrom shop.cart import total\n\nassert total([1, 2]) == 3\n";
        let by_path = "import importlib.util\nspec = importlib.util.spec_from_file_location('c', 'src/shop/cart.py')\nc = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(c)\nassert c.total\n";
        let (passed, output) = run_in(
            &super::command(&[], &src_layout).unwrap(),
            &[
                ("src/shop/__init__.py", ""),
                ("src/shop/cart.py", cart),
                ("tests/test_cart.py", by_package),
                ("tests/test_loaded.py", by_path),
            ],
        );
        assert!(
            passed
                && output.contains("tests/test_cart.py: fails on a broken src/shop/cart.py")
                && output.contains("tests/test_loaded.py: not tried against breaks"),
            "{output}"
        );
        // Test functions a script only defines run when the spec does not say how the file
        // runs; where it says `python3 FILE`, they never do, and the file checks nothing.
        let defined = "from calc import double\n\n\ndef test_three():\n    assert double(3) == 6\n";
        let files = [("calc.py", code), ("test_calc.py", defined)];
        let loose = Target {
            scripts: scripts("run it as `python3 test_calc.py`", &["test_calc.py".into()]),
            ..python_target(&["calc.py"], &["test_calc.py"])
        };
        assert_eq!(loose.scripts, ["test_calc.py"]);
        let (passed, output) = run_in(&super::command(&read(spec), &loose).unwrap(), &files);
        assert!(
            !passed && output.contains("a test function it only defines never runs"),
            "{output}"
        );
        let (passed, output) = run_in(&command, &files);
        assert!(passed, "{output}");
        // The examples fail first: the tests do not run.
        let (passed, output) = run_in(
            &command,
            &[
                ("calc.py", "def double(n):\n    return n\n"),
                ("test_calc.py", script),
            ],
        );
        assert!(!passed && !output.contains("test_calc.py"), "{output}");
        // A test file needing what is not installed here is skipped; one not written is too.
        let only_tests = python_target(&[], &["test_calc.py", "test_absent.py"]);
        let command = super::command(&[], &only_tests).unwrap();
        let (passed, output) = run_in(
            &command,
            &[
                ("calc.py", code),
                ("test_calc.py", "import no_such_test_library\n"),
            ],
        );
        assert!(passed, "{output}");
        assert!(
            output
                .contains("skipped (test_calc.py needs no_such_test_library, not installed here)")
                && output.contains("skipped (not in the tree): test_absent.py"),
            "{output}"
        );
    }
}
