//! Generation tokens/s of the embedded backend, for benches/llama-bench.sh: one warm-up run,
//! then the mean of three runs of N tokens, greedy, no grammar (what llama-bench's tg test does).
//! Usage: embedded_speed MODEL.gguf THREADS TOKENS

use git_hybrid::local::embedded::{Embedded, Options};
use git_hybrid::local::{Backend, ChatMessage};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (model, threads, tokens) = match args.as_slice() {
        [_, m, t, n] => (m.clone(), t.parse().unwrap_or(2), n.parse().unwrap_or(128)),
        _ => {
            eprintln!("usage: embedded_speed MODEL.gguf THREADS TOKENS");
            std::process::exit(2);
        }
    };
    let options = Options {
        threads: Some(threads),
        max_tokens: tokens,
        n_ctx: Some(1024),
        ..Options::default()
    };
    let mut backend = Embedded::load(std::path::Path::new(&model), options).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    // A prompt that keeps a small model talking for the whole run.
    let messages = [ChatMessage {
        role: "user",
        content: "Write a very long story about a lighthouse keeper, with many chapters.".into(),
    }];
    let mut speeds = Vec::new();
    for run in 0..4 {
        let g = backend
            .generate(&messages, &mut |_| std::ops::ControlFlow::Continue(()))
            .unwrap_or_else(|e| {
                eprintln!("{e}");
                std::process::exit(1)
            });
        // Time per generated token, without the prompt: measured from the first token on.
        if run > 0 {
            speeds.push(g.generation_tokens_per_second());
        }
    }
    println!("{:.2}", speeds.iter().sum::<f64>() / speeds.len() as f64);
}
