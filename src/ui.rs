//! Human output, the way git does it: results (listings, reports, verdicts) on stdout without a
//! prefix, so `git hybrid pending | less` and `stats > report.txt` work; progress, hints and
//! errors on stderr, prefixed `hybrid:` so they stand out among git's own messages. Machine
//! output (`--json`) goes to stdout through `serde_json`. Under `--quiet` status lines and
//! progress are not drawn; results, warnings and errors always are.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: from now on, say nothing but results, warnings and errors.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints one line of a command's result on stdout.
pub fn out(line: impl AsRef<str>) {
    out_all([line]);
}

/// Prints several result lines on stdout.
pub fn out_all<I, S>(lines: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    // A closed pipe (`| head`) ends the listing, not the program with a panic.
    write_lines(&mut std::io::stdout().lock(), "", lines);
}

/// Prints one status line for humans on stderr (what was done, what to do next); not under
/// `--quiet`.
pub fn say(line: impl AsRef<str>) {
    say_all([line]);
}

/// Prints several status lines for humans on stderr; not under `--quiet`.
pub fn say_all<I, S>(lines: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    if !is_quiet() {
        tell(lines);
    }
}

/// Prints a warning on stderr, even under `--quiet`.
pub fn warn(line: impl AsRef<str>) {
    tell([format!("warning: {}", line.as_ref())]);
}

/// Prints lines on stderr that must reach the user even under `--quiet`: errors and their
/// hints, a hook's refusal.
pub fn tell<I, S>(lines: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    // A closed stderr must not turn a decision into a crash; there is nobody left to tell.
    write_lines(&mut std::io::stderr().lock(), "hybrid: ", lines);
}

/// The one writer behind both streams: each line with its prefix, write errors ignored.
fn write_lines<I, S>(to: &mut dyn Write, prefix: &str, lines: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    for line in lines {
        let _ = writeln!(to, "{prefix}{}", line.as_ref());
    }
}

/// A spinner on stderr for long work, drawn only when stderr is a terminal (and not under
/// `--quiet`).
pub fn spinner() -> indicatif::ProgressBar {
    if is_quiet() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("hybrid: {spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Progress of work that may take hours (`review --collect --wait`): a spinner on a terminal;
/// elsewhere (a log, CI) a status line each time the message changes, so a long wait is never
/// silent. Nothing under `--quiet`.
pub struct Waiting {
    bar: indicatif::ProgressBar,
    last: std::cell::RefCell<String>,
    lines: bool,
}

impl Waiting {
    pub fn new() -> Waiting {
        use std::io::IsTerminal;
        Waiting {
            bar: spinner(),
            last: std::cell::RefCell::new(String::new()),
            lines: !is_quiet() && !std::io::stderr().is_terminal(),
        }
    }

    /// Says where the work stands.
    pub fn set(&self, message: &str) {
        self.bar.set_message(message.to_string());
        if self.lines && *self.last.borrow() != message {
            say(message);
            *self.last.borrow_mut() = message.to_string();
        }
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

impl Default for Waiting {
    fn default() -> Self {
        Waiting::new()
    }
}

/// A progress bar of `{bytes}` on stderr, drawn only when stderr is a terminal (and not under
/// `--quiet`).
pub fn byte_bar() -> indicatif::ProgressBar {
    if is_quiet() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "hybrid: {bar:30} {bytes}/{total_bytes} {bytes_per_sec} ({eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// "3h ago" style ages for listings.
pub fn age(seconds_ago: i64) -> String {
    let s = seconds_ago.max(0);
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}m ago", s / 60),
        3600..=86_399 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

/// Whether to colour what goes to stdout, decided as git decides: `--color=always|never` first;
/// then `NO_COLOR` (any value) means never; then git's `color.hybrid`, else `color.ui`; `auto`
/// (and `true`) colours only a terminal. The settings are asked of git itself, so that `git -c
/// color.ui=never hybrid …` and every other place git reads configuration from count.
pub fn color(flag: &str, git_dir: Option<&std::path::Path>) -> bool {
    use std::io::IsTerminal;
    match flag {
        "always" => return true,
        "never" => return false,
        _ => {}
    }
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    let asked = |key: &str| {
        let mut git = std::process::Command::new("git");
        if let Some(dir) = git_dir {
            git.arg("--git-dir").arg(dir);
        }
        let out = git.args(["config", "--get", key]).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    match ["color.hybrid", "color.ui"]
        .iter()
        .find_map(|key| asked(key))
        .and_then(|value| colours(&value))
    {
        Some(decided) => decided,
        None => std::io::stdout().is_terminal(),
    }
}

/// What a colour setting says: `Some` for always or never (in any of git's spellings of a
/// false boolean), `None` for auto (`auto`, `true` and its spellings, anything else).
fn colours(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "always" => Some(true),
        "never" | "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// A dollar amount for JSON: rounded to a millionth, and never `-0.0` (a sum of nothing, or a
/// saving of nothing, reads as 0).
pub fn amount(usd: f64) -> f64 {
    (usd * 1e6).round() / 1e6 + 0.0
}

/// The plural ending of a count's noun: `format!("{n} file{}", plural(n))`. One helper, so
/// no message says "1 files".
pub fn plural<N: PartialEq + From<u8>>(n: N) -> &'static str {
    if n == N::from(1) { "" } else { "s" }
}

/// The first `n` characters of an id (a change id, a digest, a commit read from the store or a
/// file), or all of it when it is shorter: ids that come from outside may be short, and an
/// abbreviation must never panic.
pub fn abbrev(id: &str, n: usize) -> &str {
    id.char_indices().nth(n).map_or(id, |(i, _)| &id[..i])
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_abbreviation_never_panics() {
        assert_eq!(super::abbrev("hc1-0123456789abcdef", 8), "hc1-0123");
        assert_eq!(super::abbrev("abc", 16), "abc");
        assert_eq!(super::abbrev("ééééé", 2), "éé");
    }

    #[test]
    fn colour_settings_read_as_git_reads_them() {
        for never in ["never", "false", "NO", "off", "0"] {
            assert_eq!(super::colours(never), Some(false), "{never}");
        }
        assert_eq!(super::colours("always"), Some(true));
        for auto in ["auto", "true", "yes", "1"] {
            assert_eq!(super::colours(auto), None, "{auto}");
        }
    }
}
