//! How a blocking command runs async network code (the Anthropic client, an OpenAI-compatible
//! server, a model download): one current-thread tokio runtime per caller, built the same way.
//! The daemon, which serves many clients, builds its own multi-threaded one.

/// A current-thread runtime with I/O and timers, for `block_on`.
pub fn blocking() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
