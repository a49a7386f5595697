//! Kill the CLI at each step, start it again: it finishes the remaining
//! steps with exactly one job and the right mappings every time. The
//! sandbox lives inside the CLI process and keeps its state in a file, so a
//! kill loses whatever a real crash would.

use crate::common;

use std::process::{Command, Stdio};

use common::*;
use orchidea_wizard::StepId;
use orchidea_wizard::sandbox::faults::CRASH_EXIT_CODE;
use serde_json::Value;

const CLI: &str = env!("CARGO_BIN_EXE_orchidea-wizard-cli");

fn run(state: &std::path::Path, dump: &std::path::Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(CLI)
        .args(["run", "--sandbox", "--yes", "--sandbox-state"])
        .arg(state)
        .arg("--sandbox-dump")
        .arg(dump)
        .args(extra)
        .env_remove("ORCHIDEA_SCIM_SECRET")
        .env("ORCHIDEA_WIZARD_DATA_DIR", state.with_extension("data"))
        .stdin(Stdio::null())
        .output()
        .expect("the CLI runs");
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Crashes once with `crash`, runs again, and checks the end state.
fn kill_and_resume(label: &str, crash: &[&str]) -> Result<(), String> {
    // Killed during the first steps (0 only reads), nothing was done yet
    // to continue from.
    let first_step = crash.contains(&"0")
        || crash.contains(&"1a")
        || crash.iter().any(|c| c.starts_with("admin:"));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let dump = dir.path().join("dump.json");
    let (code, out) = run(&state, &dump, crash);
    if code != Some(CRASH_EXIT_CODE) {
        return Err(format!("{label}: expected the crash, got {code:?}:\n{out}"));
    }
    let (code, out) = run(&state, &dump, &[]);
    if code != Some(0) {
        return Err(format!(
            "{label}: the second run did not finish ({code:?}):\n{out}"
        ));
    }
    if !first_step && !out.contains("Continuing where the last run stopped (") {
        return Err(format!(
            "{label}: the second run did not say where it continues:\n{out}"
        ));
    }
    if !out.contains("19 of 19 steps complete") {
        return Err(format!("{label}: not complete:\n{out}"));
    }
    let dump: Value = serde_json::from_slice(&std::fs::read(&dump).unwrap()).unwrap();
    std::panic::catch_unwind(|| assert_configured(&dump, "false"))
        .map_err(|_| format!("{label}: wrong end state after resuming:\n{out}"))?;
    // Everyone in scope arrived, once.
    if scim_users(&dump) != expected_users(&dump, orchidea_wizard::engine::Scope::Assigned) {
        return Err(format!("{label}: the provisioned users differ"));
    }
    Ok(())
}

#[test]
fn killed_at_each_step_a_second_run_finishes_with_one_job() {
    let mut problems = Vec::new();
    for step in StepId::ALL {
        let n = step.number();
        if let Err(p) = kill_and_resume(&format!("killed at step {n}"), &["--crash-at-step", n]) {
            problems.push(p);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn killed_right_after_each_write_landed_a_second_run_finishes_with_one_job() {
    // The write reaches the service; the process dies before its answer.
    let points = [
        "admin:POST:/scim/secrets:crash:after",
        "graph:POST:/synchronization/jobs:crash:after",
        "graph:POST:/validateCredentials:crash:after",
        "graph:PUT:/synchronization/secrets:crash:after",
        "graph:PUT:/schema:crash:after",
        "graph:POST:/start:crash:after",
    ];
    let mut problems = Vec::new();
    for spec in points {
        if let Err(p) = kill_and_resume(spec, &["--sandbox-fault", spec]) {
            problems.push(p);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
