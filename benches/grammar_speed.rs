//! Generation speed with the edit grammar against without it, on the demo model
//! (Qwen2.5-Coder-0.5B, 152k-token vocabulary) through the embedded llama.cpp: unconstrained,
//! the grammar with the preferred token checked first (what `implement` does), and the grammar
//! masking the whole vocabulary for every token (llama.cpp's plain grammar sampler). Prints
//! tokens per second of generation (prompt reading left out) and the ratios to unconstrained.
//!
//! `cargo bench --bench grammar_speed [-- MODEL.gguf [RUNS]]`; the model defaults to the demo
//! model in the cache (scripts/fetch-demo-model.sh).

use std::path::PathBuf;

use git_hybrid::backend::{Backend, ChatMessage, Constraint};
use git_hybrid::local::edit;
use git_hybrid::local::embedded::{Embedded, Options};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let model = args.first().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var("HOME").unwrap_or_default())
            .join(".cache/git-hybrid/models/Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf")
    });
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    let options = Options {
        threads: Some(2),
        max_tokens: 200,
        ..Options::default()
    };
    let mut embedded = Embedded::load(&model, options).expect("the model loads");
    let messages = vec![
        ChatMessage {
            role: "system",
            content: format!("You are a careful software engineer.\n\n{}", edit::INSTRUCTIONS),
        },
        ChatMessage {
            role: "user",
            content: "Spec (specs/port.md):\n\nCreate src/port.rs with `pub fn parse_port(value: &str) -> Result<u16, String>`: trim the value, reject an empty one with \"empty port\", reject 0 and values above 65535 with \"port out of range\", and parse the rest as decimal. Add unit tests for \"80\", \" 8080 \", \"\", \"0\" and \"70000\".".into(),
        },
    ];
    let shape = Constraint {
        gbnf: edit::grammar(
            &["src/port.rs".to_string()],
            &[],
            edit::Limits::new(1, 200 / 40, 0),
        ),
        json_schema: edit::json_schema(&["src/port.rs".to_string()], &[]),
    };
    let mut speed = |constrained: bool, full_mask: bool| -> f64 {
        let mut best = Vec::new();
        for _ in 0..runs {
            embedded.full_mask = full_mask;
            embedded.constrain(&Constraint {
                gbnf: if constrained {
                    shape.gbnf.clone()
                } else {
                    String::new()
                },
                json_schema: shape.json_schema.clone(),
            });
            let generated = embedded
                .generate(&messages, &mut |_| std::ops::ControlFlow::Continue(()))
                .expect("generation runs");
            best.push(generated.generation_tokens_per_second());
        }
        best.sort_by(f64::total_cmp);
        best[best.len() / 2]
    };
    // Warm-up: the first decode of a fresh context is slower.
    speed(false, false);
    let free = speed(false, false);
    let checked = speed(true, false);
    let masked = speed(true, true);
    println!(
        "generation (median of {runs}): unconstrained {free:.1} tok/s; grammar, preferred token checked first {checked:.1} tok/s ({:.2}x); grammar masking every token {masked:.1} tok/s ({:.2}x)",
        checked / free,
        masked / free
    );
}
