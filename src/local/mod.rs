//! The local engine: backends that run a local model, the edit format its answers come in, and
//! `implement`, which turns a spec into a commit on a quarantine branch.
//!
//! This module owns everything a local model produces. It must never write to the user's working
//! tree, index or HEAD, never put output anywhere but a quarantine branch, and never leave a
//! branch behind whose lines are not recorded as local output.

pub mod edit;
pub mod embedded;
pub mod implement;
pub mod models;
pub mod openai;

pub use crate::backend::{Backend, ChatMessage, Error, Generated};
