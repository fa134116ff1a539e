//! git-hybrid: keeps local-model output off protected git refs unless a Claude review approved it.
//!
//! One crate; each module owns one concept (see ARCHITECTURE §11). The binary in `main.rs` only parses
//! arguments and maps errors to exit codes; benches and tests use this library directly.

pub mod attribution;
pub mod backend;
pub mod change;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod daemon;
pub mod digest;
pub mod error;
pub mod gate;
pub mod git;
pub mod local;
pub mod mcp;
pub mod provenance;
pub mod records;
pub mod route;
pub mod runtime;
pub mod shim;
pub mod spec;
pub mod sse;
pub mod store;
pub mod sys;
pub mod trust;
pub mod ui;
pub mod workflow;
