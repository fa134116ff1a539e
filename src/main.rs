//! The `git-hybrid` binary: parse, run, and map the outcome to an exit code
//! (0 success, 1 blocked / check failed / user error, 2 usage error, 3 internal error).

use std::process::ExitCode;

fn main() -> ExitCode {
    git_hybrid::cli::main()
}
