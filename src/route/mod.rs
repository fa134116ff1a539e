//! Routing: who implements a task — the local model or Claude — by the delegation table (what a small local model does well, what needs Claude)
//! and by size. Local models do the bounded work (CRUD, handlers, unit tests, docs, validation,
//! data transformation); Claude does what a small model gets subtly wrong (novel algorithms,
//! multi-file refactoring, infrastructure, security-critical code, new domain concepts).
//!
//! The decision is a pure function of the spec's text and the files it names, so it can be
//! printed with its reasons, stored, and tested against a table.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Local,
    Cloud,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub side: Side,
    pub reasons: Vec<String>,
}

/// (category, words that mark it) for each side, from the delegation table.
const CLOUD: &[(&str, &[&str])] = &[
    (
        "novel algorithm",
        &[
            "algorithm",
            "optimiz",
            "lock-free",
            "scheduler",
            "consensus",
            "heuristic",
            "concurren",
        ],
    ),
    (
        "multi-file refactoring",
        &[
            "refactor",
            "restructure",
            "across the codebase",
            "split the module",
            "rearchitect",
        ],
    ),
    (
        "infrastructure",
        &[
            "infrastructure",
            "deploy",
            "terraform",
            "kubernetes",
            "dockerfile",
            "helm",
            "ci pipeline",
            "provision",
        ],
    ),
    (
        "security-critical",
        &[
            "auth",
            "crypto",
            "encrypt",
            "password",
            "permission",
            "oauth",
            "session token",
            "csrf",
            "sanitiz",
            "injection",
            "secret",
            "signature verif",
        ],
    ),
    (
        "new domain concept",
        &[
            "domain model",
            "new concept",
            "architecture",
            "design a ",
            "design the ",
        ],
    ),
];

const LOCAL: &[(&str, &[&str])] = &[
    (
        "CRUD",
        &[
            "crud",
            "create, read, update",
            "list endpoint",
            "get endpoint",
            "endpoint",
            "repository method",
        ],
    ),
    ("handler", &["handler", "controller", "route for"]),
    (
        "unit tests",
        &["unit test", "tests for", "test coverage", "add tests"],
    ),
    (
        "docs",
        &[
            "docstring",
            "documentation",
            "readme",
            "doc comment",
            "document the",
        ],
    ),
    ("validation", &["validat", "check that", "reject"]),
    (
        "data transformation",
        &[
            "convert",
            "transform",
            "parse",
            "serializ",
            "format ",
            "mapping",
            "map the",
        ],
    ),
];

/// More files than this is multi-file work for Claude.
pub const MAX_LOCAL_FILES: usize = 3;

/// A repository's own routing words (`[route]` in `.hybrid.toml`), on top of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    pub cloud: Vec<String>,
    pub local: Vec<String>,
    pub max_local_files: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            cloud: Vec::new(),
            local: Vec::new(),
            max_local_files: MAX_LOCAL_FILES,
        }
    }
}
/// A spec longer than this is not bounded work.
pub const MAX_LOCAL_SPEC_BYTES: usize = 8 * 1024;

fn hits(text: &str, table: &[(&'static str, &[&str])]) -> Vec<&'static str> {
    table
        .iter()
        .filter(|(_, words)| words.iter().any(|w| text.contains(w)))
        .map(|(category, _)| *category)
        .collect()
}

/// Classifies a task. `files` are the paths its spec names.
pub fn classify(spec: &str, files: usize, rules: &Rules) -> Decision {
    let text = spec.to_lowercase();
    let matches = |words: &[String]| {
        words
            .iter()
            .any(|w| !w.is_empty() && text.contains(&w.to_lowercase()))
    };
    let mut cloud = hits(&text, CLOUD);
    let mut local = hits(&text, LOCAL);
    // A repository's own words outweigh the built-in table: its local words clear the table's
    // cloud categories, its cloud words always count.
    if matches(&rules.local) {
        cloud.clear();
        local.push("this repository's local words");
    }
    if matches(&rules.cloud) {
        cloud.push("this repository's cloud words");
    }
    let mut reasons = Vec::new();
    let mut side = if cloud.is_empty() {
        Side::Local
    } else {
        Side::Cloud
    };
    if !cloud.is_empty() {
        reasons.push(format!("Claude's kind of work: {}", cloud.join(", ")));
    }
    if !local.is_empty() {
        reasons.push(format!("local model's kind of work: {}", local.join(", ")));
    }
    if files > rules.max_local_files {
        side = Side::Cloud;
        reasons.push(format!(
            "{files} files (more than {} is multi-file work)",
            rules.max_local_files
        ));
    }
    if spec.len() > MAX_LOCAL_SPEC_BYTES {
        side = Side::Cloud;
        reasons.push(format!(
            "a {} KB spec is not bounded work",
            spec.len() / 1024
        ));
    }
    if reasons.is_empty() {
        reasons.push("nothing marks it as Claude's work; bounded work goes local".into());
    }
    Decision { side, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_table_routes_as_expected() {
        use Side::{Cloud, Local};
        let table: &[(&str, usize, Side)] = &[
            ("Add CRUD endpoints for the Invoice model", 2, Local),
            (
                "Write a handler for GET /users/{id} returning 404 when missing",
                1,
                Local,
            ),
            (
                "Add unit tests for parse_port covering empty and overflow input",
                1,
                Local,
            ),
            (
                "Write docstrings for the public functions in src/store.rs",
                1,
                Local,
            ),
            ("Update the README with the new install steps", 1, Local),
            (
                "Validate the signup form: email format, password length 12..64",
                1,
                Cloud,
            ),
            (
                "Reject orders with a negative quantity with error E_QTY",
                1,
                Local,
            ),
            ("Convert the CSV export rows to JSON objects", 1, Local),
            ("Parse ISO-8601 durations into seconds", 1, Local),
            (
                "Map the API's snake_case fields to the camelCase view model",
                2,
                Local,
            ),
            (
                "Add a list endpoint for comments with pagination (limit 50)",
                2,
                Local,
            ),
            (
                "Implement a lock-free ring buffer for the event bus",
                1,
                Cloud,
            ),
            (
                "Design an algorithm for fair scheduling of build jobs",
                2,
                Cloud,
            ),
            (
                "Refactor the storage layer across the codebase to use traits",
                6,
                Cloud,
            ),
            (
                "Write the Terraform for the staging infrastructure",
                3,
                Cloud,
            ),
            ("Add a Dockerfile and a CI pipeline for releases", 2, Cloud),
            ("Implement OAuth login with PKCE", 2, Cloud),
            ("Encrypt API tokens at rest with AES-GCM", 1, Cloud),
            ("Fix SQL injection in the search query builder", 1, Cloud),
            (
                "Introduce a domain model for subscriptions and billing periods",
                3,
                Cloud,
            ),
            ("Rename the helper and update its 7 call sites", 7, Cloud),
            (
                "Format the duration as h:mm:ss in the status line",
                1,
                Local,
            ),
        ];
        for (task, files, side) in table {
            let d = classify(task, *files, &Rules::default());
            assert_eq!(d.side, *side, "{task}: {:?}", d.reasons);
        }
        assert!(table.len() >= 20);
    }

    #[test]
    fn a_repository_can_tune_the_table() {
        let rules = Rules {
            cloud: vec!["billing".into()],
            local: vec!["auth middleware boilerplate".into()],
            max_local_files: 5,
        };
        assert_eq!(
            classify("Add a billing export", 1, &rules).side,
            Side::Cloud
        );
        assert_eq!(
            classify(
                "Write the auth middleware boilerplate for /admin",
                1,
                &rules
            )
            .side,
            Side::Local
        );
        assert_eq!(classify("Add unit tests", 5, &rules).side, Side::Local);
        assert_eq!(classify("Add unit tests", 6, &rules).side, Side::Cloud);
    }
}
