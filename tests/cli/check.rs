//! `check`, the drift check, as an admin runs it: 0 after a run, 1 after
//! another admin changed the mapping in Entra (naming the difference and
//! the step that fixes it), and `run` puts it right.

use std::path::Path;

use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use serde_json::Value;

use crate::cli::{command, run};
use crate::common::another_admin_changes_user_name;

#[test]
fn check_holds_after_a_run_names_a_changed_mapping_and_run_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let s = state.to_str().unwrap();
    let (ok, stdout, stderr) = run(&["run", "--sandbox", "--sandbox-state", s, "--yes"]);
    assert!(ok, "{stdout}\n{stderr}");

    let (ok, stdout, stderr) = run(&["check", "--sandbox", "--sandbox-state", s]);
    assert!(ok, "exit 0 after a run\n{stdout}\n{stderr}");
    assert!(stdout.contains("Everything holds"), "{stdout}");

    another_admin_changes_user_name(&state);
    let out = command(&["check", "--sandbox", "--sandbox-state", s])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit 1 after the change\n{stdout}"
    );
    assert!(stdout.contains("differs  User mappings"), "{stdout}");
    assert!(
        stdout.contains("userPrincipalName"),
        "the difference is named: {stdout}"
    );
    assert!(
        stdout.contains("`orchidea-wizard-cli run` fixes it"),
        "{stdout}"
    );
    let (ok, json, _) = run(&["check", "--sandbox", "--sandbox-state", s, "--json"]);
    assert!(!ok, "--json exits 1 as well: {json}");
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["ok"], false);
    assert!(
        json["fixingSteps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "11"),
        "userName's source is step 11: {json}"
    );

    let (ok, stdout, stderr) = run(&["run", "--sandbox", "--sandbox-state", s, "--yes"]);
    assert!(ok, "{stdout}\n{stderr}");
    let (ok, stdout, stderr) = run(&["check", "--sandbox", "--sandbox-state", s, "--json"]);
    assert!(ok, "{stdout}\n{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["fixingSteps"], serde_json::json!([]));
}

/// What Entra holds now: `SyncAll` and the userName mapping's expression.
fn saved_choices(state: &Path) -> (String, String) {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let sandbox = Sandbox::start(SandboxOptions {
            state_file: Some(state.to_path_buf()),
            ..SandboxOptions::default()
        })
        .await
        .unwrap();
        let dump = sandbox.dump().await;
        let job = &crate::common::jobs(&dump)[0];
        let sp = job["servicePrincipalId"].as_str().unwrap().to_string();
        let sync_all = sandbox.saved_setting(&sp, "SyncAll").await.unwrap();
        let mapping = crate::common::user_mapping(&job["schema"]).unwrap();
        let user_name = mapping["attributeMappings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["targetAttributeName"] == "userName")
            .map(|a| {
                a["source"]["expression"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .unwrap();
        sandbox.shutdown().await;
        (sync_all.expose().to_string(), user_name)
    })
}

#[test]
fn the_fix_keeps_the_scope_and_user_name_source_the_admin_chose() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let s = state.to_str().unwrap();
    let (ok, stdout, stderr) = run(&[
        "run",
        "--sandbox",
        "--sandbox-state",
        s,
        "--yes",
        "--scope",
        "all",
        "--user-name",
        "coalesce",
    ]);
    assert!(ok, "{stdout}\n{stderr}");
    let chosen = saved_choices(&state);
    assert_eq!(chosen.0, "true");
    assert!(chosen.1.starts_with("Coalesce("), "{chosen:?}");

    another_admin_changes_user_name(&state);
    let (ok, stdout, _) = run(&["check", "--sandbox", "--sandbox-state", s]);
    assert!(!ok && stdout.contains("userPrincipalName"), "{stdout}");

    // The fix `check` names, as named: no flags.
    let (ok, stdout, stderr) = run(&["run", "--sandbox", "--sandbox-state", s, "--yes"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Keeping the last run's choices"),
        "{stdout}"
    );
    assert_eq!(saved_choices(&state), chosen, "scope and Coalesce kept");
    let (ok, stdout, _) = run(&["check", "--sandbox", "--sandbox-state", s]);
    assert!(ok, "{stdout}");
}
