//! The cloud reviewer: the Anthropic Messages API client, the review of a change, redaction of
//! what is sent, and the prices of what it costs.
//!
//! This module owns everything that leaves the machine. It must never send a secret it can
//! recognise, never send a withheld file, never log the API key or a prompt above `trace`, and
//! never turn anything but a well-formed approving answer into an approval.

pub mod batch;
pub mod client;
pub mod cost;
pub mod implementer;
pub mod ledger;
pub mod redact;
pub mod review;
pub mod spec;
pub mod verdict;
