//! `undo` as an admin runs it: plan first (`--dry-run` changes nothing),
//! y/N without a terminal is no, `--yes` undoes, a fault mid-undo names the
//! action and a re-run finishes, and a second undo says nothing is left;
//! several apps and none chosen is refused with the `--app-id` hint.

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

#[test]
fn with_several_apps_and_none_chosen_undo_refuses_and_names_app_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut tenant = crate::common::default_tenant();
    let sps = tenant["servicePrincipals"].as_array_mut().unwrap();
    let mut staging = sps[0].clone();
    let orchidea = staging["id"].as_str().unwrap().to_string();
    let other = "6b0c3f4e-2d7a-4c55-9e1b-3f1a2b3c4d5e";
    staging["id"] = serde_json::json!(other);
    staging["appId"] = serde_json::json!("7c1d4a5f-3e8b-4d66-8f2c-4a2b3c4d5e6f");
    staging["displayName"] = serde_json::json!("Orchidea Staging");
    // Entra keeps an Identifier on one app only: the copy has no SAML.
    staging.as_object_mut().unwrap().remove("saml");
    sps.push(staging);
    let tenant_path = dir.path().join("tenant.json");
    std::fs::write(&tenant_path, tenant.to_string()).unwrap();
    let state = dir.path().join("state.json");
    let sandbox = [
        "--sandbox",
        "--sandbox-tenant",
        tenant_path.to_str().unwrap(),
        "--sandbox-state",
        state.to_str().unwrap(),
    ];
    // Both apps get a job, each set up by the wizard.
    for app in [orchidea.as_str(), other] {
        let (ok, stdout, stderr) =
            run(&[&["run", "--yes", "--app-id", app], &sandbox[..]].concat());
        assert!(ok, "{stdout}\n{stderr}");
    }
    let jobs = || {
        let saved: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
        saved["entra"]["jobs"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(jobs(), 2);

    let (ok, stdout, stderr) = run(&[&["undo", "--yes"], &sandbox[..]].concat());
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("Several enterprise applications can provision")
            && stderr.contains("Orchidea Staging")
            && stderr.contains("--app-id"),
        "{stderr}"
    );
    assert!(
        !stdout.contains("Undo will:"),
        "no plan without an app: {stdout}"
    );
    assert_eq!(jobs(), 2, "nothing was changed");

    let (ok, stdout, stderr) =
        run(&[&["undo", "--dry-run", "--app-id", other], &sandbox[..]].concat());
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("Undo will:"), "{stdout}");
}
