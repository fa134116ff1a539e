//! Output a real formatter re-laid out is still output: black, prettier and rustfmt re-wrap,
//! re-quote, add and drop semicolons and trailing commas, and the gate still finds the
//! generation by its tokens and blocks it; a person who writes one idiom a generation also used
//! is not blocked. The formatters are the real ones, installed outside the clone by
//! `scripts/fetch-formatters.sh` (rustfmt comes with the Rust toolchain); on a machine without
//! them a test says so and passes, except under CI, which installs them.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::support::TestRepo;

/// Where `scripts/fetch-formatters.sh` installs them.
fn formatters_dir() -> PathBuf {
    std::env::var_os("GIT_HYBRID_FORMATTERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/git-hybrid/formatters")
        })
}

/// The formatter's program: in the formatters folder (`rel`), else on PATH.
fn formatter(name: &str, rel: &str) -> Option<PathBuf> {
    let installed = formatters_dir().join(rel);
    if installed.is_file() {
        return Some(installed);
    }
    let on_path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    if on_path.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is missing: run scripts/fetch-formatters.sh"
        );
        eprintln!("skipped: {name} is not installed (scripts/fetch-formatters.sh)");
    }
    on_path
}

/// `text` through `program args` (reading stdin, writing stdout).
fn format(program: &PathBuf, args: &[&str], text: &str) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the formatter runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let formatted = String::from_utf8(out.stdout).unwrap();
    assert_ne!(formatted, text, "the formatter changed nothing");
    formatted
}

/// A repository whose `hybrid/port` holds `output` at `path`, adopted as local output; main
/// checked out.
fn adopted(path: &str, output: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "-b", "hybrid/port"]);
    repo.write(path, output);
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "generated"]);
    repo.hybrid(&["adopt", "hybrid/port", "--model", "qwen2.5-coder-7b"])
        .success();
    repo.git(&["checkout", "-q", "main"]);
    repo
}

/// `output` adopted as local output at `path` on `hybrid/port`, then `formatted` committed by
/// a person on main at `elsewhere`: the commit is blocked, listing at least 80% of the
/// formatted file's significant lines.
fn blocked_after_formatting(path: &str, elsewhere: &str, output: &str, formatted: &str) {
    let repo = adopted(path, output);
    repo.write(elsewhere, formatted);
    repo.git(&["add", "."]);
    let run = repo.try_git(&["commit", "-q", "-m", "tidy"]);
    run.blocked().stderr_has(elsewhere);
    // Nearly every line of substance is found, the formatter's own re-wrapped lines included.
    let significant = formatted
        .lines()
        .filter(|l| l.split_whitespace().collect::<String>().len() >= 8)
        .count();
    let stderr = run.stderr();
    let listed: usize = stderr
        .split("would receive ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        listed * 10 >= significant * 8,
        "{listed} of {significant} lines found:\n{formatted}\n{stderr}"
    );
}

const PYTHON: &str = "\
DEFAULTS = {'timeout': 30, 'retries': 3, 'backoff': 0.5, 'verify_tls': True, 'agent': 'hybrid/1.0'}
def build_request(method, url, params=None, headers=None, body=None):
    merged = dict(DEFAULTS); merged.update(headers or {})
    query = '&'.join('%s=%s' % (k, v) for k, v in sorted((params or {}).items()))
    target = url if not query else url + '?' + query
    return {'method': method.upper(), 'url': target, 'headers': merged, 'body': body, 'timeout': merged['timeout']}
";

#[test]
fn output_black_reformatted_is_still_blocked() {
    let Some(black) = formatter("black", "py/bin/black") else {
        return;
    };
    let formatted = format(&black, &["-q", "-"], PYTHON);
    blocked_after_formatting("client.py", "http/request.py", PYTHON, &formatted);
}

const JAVASCRIPT: &str = "\
const DEFAULTS = { timeout: 30, retries: 3, agent: 'hybrid/1.0' }
export function buildRequest (method, url, params = {}, headers = {}) {
  const merged = Object.assign({}, DEFAULTS, headers)
  const query = Object.keys(params).sort().map(k => k + '=' + encodeURIComponent(params[k])).join('&')
  const target = query ? url + '?' + query : url
  return { method: method.toUpperCase(), url: target, headers: merged, timeout: merged.timeout }
}
";

#[test]
fn standard_style_output_prettier_reformatted_is_still_blocked() {
    let Some(prettier) = formatter("prettier", "node/node_modules/.bin/prettier") else {
        return;
    };
    let formatted = format(&prettier, &["--stdin-filepath", "x.js"], JAVASCRIPT);
    assert!(formatted.contains(';') && formatted.contains('"'));
    blocked_after_formatting("client.js", "lib/request.js", JAVASCRIPT, &formatted);
}

const GETTERS: &str = "\
defineGetter(req, 'protocol', function protocol(){
  var proto = this.connection.encrypted ? 'https' : 'http';
  return proto;
});

defineGetter(req, 'ip', function ip(){
  var trust = this.app.get('trust proxy fn');
  return proxyaddr(this, trust);
});

defineGetter(req, 'secure', function secure(){
  return this.protocol === 'https';
});
";

/// A short block of output (three lines, eighteen tokens) that prettier re-quoted and
/// re-punctuated, pasted alone, is still blocked: its kept token run says it is the
/// generation's, and the lines around it are the generation's by their own token hashes.
/// A person's own getter beside it passes.
#[test]
fn a_short_block_prettier_reformatted_is_still_blocked() {
    let Some(prettier) = formatter("prettier", "node/node_modules/.bin/prettier") else {
        return;
    };
    let formatted = format(&prettier, &["--stdin-filepath", "x.js"], GETTERS);
    let block = formatted
        .split("\n\n")
        .find(|b| b.contains("function ip()"))
        .expect("prettier keeps the getters apart");
    let repo = adopted("lib/request.js", GETTERS);
    repo.write(
        "lib/host.js",
        "defineGetter(req, \"port\", function port() {\n  var host = this.get(\"Host\");\n  return Number(host.split(\":\")[1]);\n});\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "own getter"]);
    repo.write("lib/ip.js", format!("{block}\n"));
    repo.git(&["add", "."]);
    repo.try_git(&["commit", "-q", "-m", "ip getter"])
        .blocked()
        .stderr_has("lib/ip.js: 3 lines");
}

const RUST: &str = "\
pub fn build_request(method:&str,url:&str,params:&[(&str,&str)])->(String,String){let query:Vec<String>=params.iter().map(|(k,v)|format!(\"{k}={v}\")).collect();
let target=if query.is_empty(){url.to_string()}else{format!(\"{url}?{}\",query.join(\"&\"))};(method.to_uppercase(),target)}
";

#[test]
fn compact_output_rustfmt_reformatted_is_still_blocked() {
    let Some(rustfmt) = formatter("rustfmt", "rustfmt") else {
        return;
    };
    let formatted = format(&rustfmt, &["--edition", "2021", "--emit", "stdout"], RUST);
    blocked_after_formatting("src/request.rs", "src/http.rs", RUST, &formatted);
}

/// A person writing their own code that shares an idiom with a generation (a few tokens in a
/// row, a common line) is not blocked: only a long run of the generation's tokens is evidence.
#[test]
fn a_shared_idiom_is_not_output_arriving() {
    let repo = adopted("client.py", PYTHON);
    repo.write(
        "server.py",
        "def handle(method, url, params=None, headers=None, body=None):\n    \
         return route(method.upper(), url, params)\n\n\
         def route(verb, path, args):\n    return (verb, path, sorted(args or {}))\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "human"]);
    assert_eq!(repo.git(&["log", "-1", "--format=%s"]).trim(), "human");
}

/// Token fingerprints travel with the records: a teammate's clone that fetched them blocks the
/// formatted output too.
#[test]
fn a_teammate_finds_formatted_output_through_the_records() {
    let Some(rustfmt) = formatter("rustfmt", "rustfmt") else {
        return;
    };
    let repo = adopted("src/request.rs", RUST);
    let remote = crate::records::with_remote(&repo);
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    let clone = crate::records::teammate(&repo, &remote);
    crate::records::in_dir(&repo, &clone, &["hybrid", "install"]).success();
    crate::records::in_dir(&repo, &clone, &["fetch", "-q"]).success();
    let formatted = format(&rustfmt, &["--edition", "2021", "--emit", "stdout"], RUST);
    std::fs::write(clone.join("http.rs"), formatted).unwrap();
    crate::records::in_dir(&repo, &clone, &["add", "."]).success();
    crate::records::in_dir(&repo, &clone, &["commit", "-q", "-m", "tidy"])
        .blocked()
        .stderr_has("http.rs");
}

/// Formatted output brought two lines at a time between lines of one's own: a piece that holds
/// 16 of the generation's tokens, or 3 significant lines, is still blocked.
#[test]
fn formatted_output_in_short_pieces_between_ones_own_lines_is_blocked() {
    let Some(rustfmt) = formatter("rustfmt", "rustfmt") else {
        return;
    };
    let repo = adopted("src/request.rs", RUST);
    let formatted = format(&rustfmt, &["--edition", "2021", "--emit", "stdout"], RUST);
    let mut pieced = String::new();
    for (i, pair) in formatted.lines().collect::<Vec<_>>().chunks(2).enumerate() {
        pieced.push_str(&format!("// note {i} of mine, about what follows next\n"));
        for line in pair {
            pieced.push_str(line);
            pieced.push('\n');
        }
    }
    repo.write("src/http.rs", pieced);
    repo.git(&["add", "."]);
    repo.try_git(&["commit", "-q", "-m", "tidy"])
        .blocked()
        .stderr_has("src/http.rs");
}
