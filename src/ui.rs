//! Human output, the way git does it: results (listings, reports, verdicts) on stdout without a
//! prefix, so `git hybrid pending | less` and `stats > report.txt` work; progress, hints and
//! errors on stderr, prefixed `hybrid:` so they stand out among git's own messages. Machine
//! output (`--json`) goes to stdout through `serde_json`.

use std::io::Write;

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

/// Prints one line for humans on stderr (progress, hints, errors).
pub fn say(line: impl AsRef<str>) {
    say_all([line]);
}

/// Prints several lines for humans on stderr.
pub fn say_all<I, S>(lines: I)
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

/// A spinner on stderr for long work, drawn only when stderr is a terminal.
pub fn spinner() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("hybrid: {spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
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
/// then `NO_COLOR` (any value) means never; then git's `color.hybrid`, else `color.ui`
/// (`always`/`true`, `never`/`false`, `auto`); `auto` colours only a terminal.
pub fn color(flag: &str, config: Option<&git2::Config>) -> bool {
    use std::io::IsTerminal;
    match flag {
        "always" => return true,
        "never" => return false,
        _ => {}
    }
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    let setting = config.and_then(|c| {
        ["color.hybrid", "color.ui"]
            .iter()
            .find_map(|key| c.get_string(key).ok())
    });
    match setting.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("always") => true,
        Some("never" | "false") => false,
        _ => std::io::stdout().is_terminal(),
    }
}

/// A dollar amount for JSON: rounded to a millionth, and never `-0.0` (a sum of nothing, or a
/// saving of nothing, reads as 0).
pub fn amount(usd: f64) -> f64 {
    (usd * 1e6).round() / 1e6 + 0.0
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
}
