//! `undo` as an admin runs it: plan first (`--dry-run` changes nothing),
//! y/N without a terminal is no, `--yes` undoes, a fault mid-undo names the
//! action and a re-run finishes, and a second undo says nothing is left.

use crate::cli::run;

#[test]
fn undo_shows_the_plan_asks_undoes_and_a_second_undo_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let (ok, stdout, stderr) = run(&["run", "--sandbox", "--sandbox-state", state, "--yes"]);
    assert!(ok, "{stdout}\n{stderr}");
    let job = stdout
        .lines()
        .find_map(|l| l.strip_prefix("status: Job "))
        .and_then(|l| l.split(':').next())
        .expect("the run names its job")
        .to_string();
    let sandbox = ["--sandbox", "--sandbox-state", state];
    // The sandbox's saved tenant: its jobs (logs keep naming the job).
    let holds_job = || {
        let saved: serde_json::Value =
            serde_json::from_slice(&std::fs::read(state).unwrap()).unwrap();
        saved["entra"]["jobs"].to_string().contains(&job)
    };
    assert!(holds_job());

    let (ok, stdout, stderr) = run(&[&["undo", "--dry-run"], &sandbox[..]].concat());
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("Undo will:"), "{stdout}");
    assert!(
        stdout.contains(&format!("Delete provisioning job {job}")),
        "{stdout}"
    );
    assert!(stdout.contains("Revoke Orchidea SCIM secret"), "{stdout}");
    assert!(stdout.contains("Undo does not touch:"), "{stdout}");
    assert!(holds_job(), "--dry-run changes nothing");

    let (ok, stdout, _) = run(&[&["undo"], &sandbox[..]].concat());
    assert!(!ok, "no terminal: not confirmed");
    assert!(stdout.contains("Not undone"), "{stdout}");
    assert!(holds_job());

    let fault = ["--sandbox-fault", "graph:DELETE:/jobs/:403x1"];
    let (ok, stdout, stderr) = run(&[&["undo", "--yes"], &sandbox[..], &fault[..]].concat());
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("Undo stopped at action") && stderr.contains("Delete provisioning job"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`orchidea-wizard-cli undo` again"),
        "{stderr}"
    );
    assert!(holds_job(), "the delete failed");

    let (ok, stdout, stderr) = run(&[&["undo", "--yes"], &sandbox[..]].concat());
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("Deleted provisioning job {job}.")),
        "{stdout}"
    );
    assert!(stdout.contains("Revoked Orchidea SCIM secret"), "{stdout}");
    assert!(!holds_job(), "no job the wizard created");

    let (ok, stdout, stderr) = run(&[&["undo", "--yes"], &sandbox[..]].concat());
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Nothing for the wizard to change"),
        "{stdout}"
    );
    assert!(stdout.contains("Nothing was changed."), "{stdout}");
}
