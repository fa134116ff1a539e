//! What writes code for a spec: the one interface every implementer speaks — a local model (the
//! embedded llama.cpp, an OpenAI-compatible server) or Claude — so `implement` and `fix` run
//! any of them the same way.
//!
//! This module only defines the conversation and what comes back; it never runs a model, never
//! touches a repository, and says nothing about whether output is guarded (each backend answers
//! that itself through `is_local`).

use std::time::Duration;

/// Why an implementer gave no answer, by who can do something about it (each kind has its own
/// hint where errors become messages).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model could not be opened: a bad file, too little memory, no chat template.
    #[error("{0}")]
    Load(String),
    /// The conversation does not fit the model's context.
    #[error("{0}")]
    TooLong(String),
    /// The server or API could not be reached.
    #[error("{0}")]
    Unreachable(String),
    /// The server or API answered, and said no (an HTTP error, a refused key, a refused task).
    #[error("{0}")]
    Refused(String),
    /// The answer broke off or could not be read.
    #[error("{0}")]
    Broken(String),
    /// The engine itself failed while it generated (llama.cpp's decoder, sampler or grammar).
    #[error("{0}")]
    Engine(String),
    /// Whoever asked for the answer stopped waiting for it (an MCP client's cancel).
    #[error("the generation was cancelled")]
    Cancelled,
}

/// What a progress callback tells the generation: go on, or stop now (its caller was
/// cancelled) — the backend then returns `Error::Cancelled` at its next piece.
pub type Flow = std::ops::ControlFlow<()>;

/// A stop request shared between whoever waits for an answer and the thread that generates it.
#[derive(Clone, Debug, Default)]
pub struct Cancel(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// What a progress callback answers.
    pub fn flow(&self) -> Flow {
        if self.is_cancelled() {
            Flow::Break(())
        } else {
            Flow::Continue(())
        }
    }
}

/// The shape every answer must have, in the two forms servers enforce: a GBNF grammar of the
/// edit blocks (llama.cpp and its servers) and a JSON schema of the same edits (OpenAI-style
/// structured output, Ollama, vLLM).
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub gbnf: String,
    pub json_schema: serde_json::Value,
}

/// One chat message.
#[derive(Clone, Debug)]
pub struct ChatMessage {
    pub role: &'static str,
    pub content: String,
}

/// What one generation call produced.
#[derive(Clone, Debug)]
pub struct Generated {
    pub text: String,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// True when the backend did not report token counts and they were estimated.
    pub estimated: bool,
    /// True when the answer stopped at the token limit rather than at its end.
    pub truncated: bool,
    /// Set when the answer was stopped because it kept writing the same lines (see
    /// [`Repeats`]): what it had written is not an answer, and waiting for the limit is time lost.
    pub looped: Option<Looped>,
    /// True when the answer was sampled under the edit format's GBNF grammar, whose line limits
    /// may have closed a block (`local::implement::answer::Asked::file_lines`).
    pub grammar: bool,
    pub wall: Duration,
    /// Time until the first token of the answer: reading the prompt (or the server's latency).
    pub first_token: Duration,
}

impl Generated {
    /// Generation speed, without the time spent reading the prompt.
    pub fn generation_tokens_per_second(&self) -> f64 {
        let generating = self.wall.saturating_sub(self.first_token).as_secs_f64();
        if generating <= 0.0 {
            return 0.0;
        }
        self.tokens_out.saturating_sub(1) as f64 / generating
    }
}

/// A local model behind one interface: the embedded llama.cpp or an OpenAI-compatible server.
pub trait Backend {
    /// Who runs the model: the ledger's provider and the name users know the backend by.
    fn provider(&self) -> crate::store::Provider;
    fn model(&self) -> &str;
    /// Runs the conversation and returns the answer; `progress` gets the count of pieces
    /// (tokens, or stream chunks) received so far, and may stop it.
    fn generate(
        &mut self,
        messages: &[ChatMessage],
        progress: &mut dyn FnMut(u64) -> Flow,
    ) -> Result<Generated, Error>;
    /// Whether its output is local output (what the gate guards). Claude's is not.
    fn is_local(&self) -> bool {
        true
    }
    /// What a generation cost in dollars; local models cost nothing per token.
    fn cost_usd(&self, _generated: &Generated) -> Option<f64> {
        Some(0.0)
    }
    /// What identifies the model beyond its name, for the generation's record (the embedded
    /// backend: the file and its sha256).
    fn identity(&self) -> serde_json::Value {
        serde_json::json!({})
    }
    /// Restricts answers to the edit format where the backend can enforce it (a GBNF grammar,
    /// or the equivalent JSON schema); others parse strictly and ask again instead.
    fn constrain(&mut self, _shape: &Constraint) {}
    /// Tokens of `text`: the model's own tokenizer where the backend has it, else an estimate
    /// of four bytes a token.
    fn count_tokens(&self, text: &str) -> usize {
        text.len().div_ceil(4)
    }
    /// The most tokens one answer may have, when the backend enforces a limit.
    fn max_tokens(&self) -> Option<u32> {
        None
    }
    /// The next answer is a retry (`attempt` counts from 2): a greedy model given almost the
    /// same conversation tends to give almost the same answer, so backends that sample greedily
    /// sample with some temperature now, seeded by the attempt so runs stay reproducible.
    fn retrying(&mut self, _attempt: usize) {}
    /// How many answers one call of [`Backend::generate_candidates`] writes.
    fn candidates(&self) -> usize {
        1
    }
    /// Answers to one conversation written side by side, where the backend can (the embedded
    /// model's parallel sequences share the prompt's cache): the first as `generate` writes it,
    /// the others sampled. Each goes to `done` with its index as soon as it is finished; when
    /// `done` says stop (an answer passed its check), the others are dropped unfinished — still
    /// handed to `done`, marked truncated, so that what they cost is counted. `progress` gets
    /// the pieces received by all of them. Backends that cannot write several write one.
    fn generate_candidates(
        &mut self,
        messages: &[ChatMessage],
        progress: &mut dyn FnMut(u64) -> Flow,
        done: &mut dyn FnMut(usize, Generated) -> Flow,
    ) -> Result<(), Error> {
        let generated = self.generate(messages, progress)?;
        let _ = done(0, generated);
        Ok(())
    }
}

/// The temperature a retry samples at when the configured one is 0 (greedy).
pub const RETRY_TEMPERATURE: f32 = 0.8;

/// An answer stopped in a loop: `lines` lines written again and again, the first of them with
/// any text `first`; the answer's first `from` bytes hold what came before and one copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Looped {
    pub lines: usize,
    pub first: String,
    pub from: usize,
}

/// Watches an answer as it is written for a loop: the same block of lines again and again.
/// Small models fall into one (mostly when sampled, on a retry) and stay there until a limit
/// ends the answer; stopping at the third copy saves what the rest would cost. Only verbatim
/// repeats of whole lines count, enough of them that code does not hold them by design: one
/// line eight times, two lines four times, a longer block three times (three identical rows of
/// a matrix literal are not a loop; eight are unlikely to be anything else), and never a
/// block of blank lines or of lone brackets.
#[derive(Debug, Default)]
pub struct Repeats {
    lines: Vec<Vec<u8>>,
    /// Where each of `lines` starts in the answer.
    starts: Vec<usize>,
    current: Vec<u8>,
    taken: usize,
}

/// The longest block a loop is looked for in, in lines.
const LOOP_LINES: usize = 40;

impl Repeats {
    /// Takes the next piece of the answer; `Some` once the answer is looping.
    pub fn push(&mut self, piece: &[u8]) -> Option<Looped> {
        let mut found = None;
        for &byte in piece {
            self.taken += 1;
            // A JSON answer (servers held to a schema) has its lines as `\n` escapes.
            let escaped = byte == b'n' && self.current.last() == Some(&b'\\');
            if escaped {
                self.current.pop();
            }
            if byte == b'\n' || escaped {
                let width = if escaped { 2 } else { 1 };
                self.starts.push(self.taken - self.current.len() - width);
                self.lines.push(std::mem::take(&mut self.current));
                found = found.or_else(|| self.looping());
            } else {
                self.current.push(byte);
            }
        }
        found
    }

    fn looping(&self) -> Option<Looped> {
        let n = self.lines.len();
        (1..=LOOP_LINES.min(n / 3)).find_map(|period| {
            let copies = if period >= 3 {
                3
            } else {
                8_usize.div_ceil(period)
            };
            if copies * period > n {
                return None;
            }
            let block = &self.lines[n - period..];
            // Something a line can hold by itself in code that is not a loop: nothing, or
            // brackets and punctuation alone.
            let substantial = block
                .iter()
                .any(|line| line.iter().filter(|b| b.is_ascii_alphanumeric()).count() >= 2);
            let repeated = (1..copies).all(|k| {
                let end = n - k * period;
                self.lines[end - period..end] == *block
            });
            let first = block
                .iter()
                .map(|line| String::from_utf8_lossy(line).trim().to_string())
                .find(|line| !line.is_empty())
                .unwrap_or_default();
            (substantial && repeated).then(|| Looped {
                lines: period,
                first,
                from: self.starts[n - (copies - 1) * period],
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(text: &str) -> Option<Looped> {
        let mut repeats = Repeats::default();
        // In pieces of three bytes, as tokens arrive.
        text.as_bytes()
            .chunks(3)
            .find_map(|piece| repeats.push(piece))
    }

    #[test]
    fn a_block_written_three_times_is_a_loop() {
        let block = "    if x:\n        total += x\n    return total\n";
        let text = format!("def f(x):\n\n{block}{block}{block}more\n");
        assert_eq!(
            feed(&text),
            Some(Looped {
                lines: 3,
                first: "if x:".into(),
                from: "def f(x):\n\n".len() + block.len(),
            })
        );
        // A block that starts with a blank line is named by its first line with text.
        let text = format!("# Title\n{}", "\nSome words here.\n".repeat(5));
        assert_eq!(
            feed(&text),
            Some(Looped {
                lines: 2,
                first: "Some words here.".into(),
                from: "# Title\n".len() + "\nSome words here.\n".len(),
            })
        );
        assert_eq!(feed(&format!("def f(x):\n{block}{block}")), None);
    }

    #[test]
    fn lines_escaped_in_json_count_too() {
        let block = r"    if x:\n        total += x\n    return total\n";
        let head = r#"{"files": [{"path": "a.py", "content": "def f(x):\n"#;
        let looped = feed(&format!("{head}{}", block.repeat(4))).expect("a loop");
        assert_eq!((looped.lines, looped.from), (3, head.len() + block.len()));
    }

    #[test]
    fn short_blocks_need_more_copies() {
        let row = "    [0, 0, 0],\n";
        assert_eq!(feed(&row.repeat(7)), None);
        assert_eq!(feed(&row.repeat(8)).map(|l| l.lines), Some(1));
        let pair = "a = 1\nb = 2\n";
        assert_eq!(feed(&pair.repeat(3)), None);
        assert_eq!(feed(&pair.repeat(4)).map(|l| l.lines), Some(2));
    }

    #[test]
    fn blank_lines_and_brackets_are_never_a_loop() {
        assert_eq!(feed(&"\n".repeat(50)), None);
        assert_eq!(feed(&"    }\n".repeat(20)), None);
        assert_eq!(feed(&"  ),\n  (\n".repeat(20)), None);
        // Lines that differ are not a loop, however alike.
        let text: String = (0..50).map(|i| format!("assert f({i}) == {i}\n")).collect();
        assert_eq!(feed(&text), None);
    }
}
