//! Integration tests: the real `git` binary on temporary repositories, with the freshly built
//! `git-hybrid` first on PATH, real SQLite files and real parallel processes.

mod attribution;
mod baseline;
mod batch;
mod change_id;
mod ci;
mod credentials;
mod daemon;
mod embedded;
mod exact;
mod formatted;
mod gate;
mod grammar;
mod hooks;
mod implement;
mod layering;
mod lfs;
mod mcp;
mod models;
mod output;
mod policy_source;
mod promise;
mod real_server;
mod records;
mod refnames;
mod review;
mod server;
mod store;
mod support;
mod transports;
mod trust_root;
