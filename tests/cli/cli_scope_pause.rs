//! Issue #16 item 5, the CLI side: `run` without `--yes` stops before step
//! 14 when users in scope would be skipped, shows the counts and the flags
//! that change it, and writes nothing for 14; `--yes` goes on and warns.

use crate::cli::{command, output};

/// The CLI with its own data folder (run state, backups), stdout + stderr.
fn run(data: &std::path::Path, args: &[&str]) -> (bool, String) {
    let mut cmd = command(args);
    cmd.env("ORCHIDEA_WIZARD_DATA_DIR", data);
    let (ok, stdout, stderr) = output(cmd);
    (ok, format!("{stdout}{stderr}"))
}

#[test]
fn run_without_yes_stops_before_14_when_users_would_be_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sandbox.json");
    let state = state.to_str().unwrap();
    // First run: all users, confirmed with --yes: it goes on and warns.
    let (ok, out) = run(
        dir.path(),
        &[
            "run",
            "--sandbox",
            "--sandbox-state",
            state,
            "--scope",
            "all",
            "--yes",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("have no mail and will be skipped"), "{out}");
    assert!(!out.contains("Before step 14"), "--yes does not ask: {out}");

    // Then only the assigned users, without --yes: 1–13 are done, and the
    // run stops before 14 naming the counts and the flags.
    let (ok, out) = run(
        dir.path(),
        &[
            "run",
            "--sandbox",
            "--sandbox-state",
            state,
            "--scope",
            "assigned",
        ],
    );
    assert!(!ok, "{out}");
    assert!(out.contains("Before step 14 (Choose the scope):"), "{out}");
    assert!(out.contains("--user-name coalesce"), "{out}");
    assert!(out.contains("--scope all"), "{out}");
    assert!(
        out.contains("stopped: Stopped before step 14: not confirmed."),
        "{out}"
    );
    assert!(
        out.contains("Choose the scope — Not confirmed; nothing was written."),
        "{out}"
    );
}
