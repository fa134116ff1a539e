//! What checking one signed approval costs: in-process (`ssh-key`, the plain allowed-signers
//! form) against one `ssh-keygen -Y verify` process (what a file with a pattern still needs).
//! A cold view (a server's first push, a CI clone) checks every signed approval once.

use std::hint::black_box;
use std::io::Write;
use std::process::{Command, Stdio};

use criterion::{Criterion, criterion_group, criterion_main};
use git_hybrid::trust::{AllowedSigners, NAMESPACE};

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("alice");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(made.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let record = br#"{"version":2,"decision":"approve"}"#;
    let mut sign = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", NAMESPACE, "-f"])
        .arg(&key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    sign.stdin.take().unwrap().write_all(record).unwrap();
    let signature = sign.wait_with_output().unwrap().stdout;

    let plain = AllowedSigners::from_text(
        format!("alice@example.com {public}").as_bytes(),
        "bench".into(),
    )
    .unwrap();
    // A pattern is left to OpenSSH: every check is one process.
    let pattern =
        AllowedSigners::from_text(format!("alice@* {public}").as_bytes(), "bench".into()).unwrap();
    assert!(plain.verifies(record, &signature, "alice@example.com"));
    assert!(pattern.verifies(record, &signature, "alice@example.com"));
    c.bench_function("signature: in-process (ed25519)", |b| {
        b.iter(|| plain.verifies(black_box(record), &signature, "alice@example.com"))
    });
    c.bench_function("signature: ssh-keygen -Y verify process", |b| {
        b.iter(|| pattern.verifies(black_box(record), &signature, "alice@example.com"))
    });
}

criterion_group! {
    name = signature_benches;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(signature_benches);
