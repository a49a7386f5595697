//! The headless CLI as an admin runs it: a real process, the sandbox inside it.

use crate::common;

use std::process::{Command, Stdio};

use common::standalone::{Standalone, final_states, scim_steps_done, state_of};
use common::*;
use orchidea_wizard::engine::Scope;
use serde_json::Value;

const CLI: &str = env!("CARGO_BIN_EXE_orchidea-wizard-cli");

/// The CLI with `args`, as the tests run it: no SCIM secret from the
/// environment, no terminal, and logs, run state and backups in a scratch
/// folder, not the home. Callers may add to it before [`output`].
pub(crate) fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(CLI);
    cmd.args(args)
        .env_remove("ORCHIDEA_SCIM_SECRET")
        .env(
            "ORCHIDEA_WIZARD_DATA_DIR",
            std::env::temp_dir().join("orchidea-wizard-cli-tests"),
        )
        .stdin(Stdio::null());
    cmd
}

/// Runs `cmd`: whether it exited 0, its stdout and its stderr.
pub(crate) fn output(mut cmd: Command) -> (bool, String, String) {
    let out = cmd.output().expect("the CLI runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub(crate) fn run(args: &[&str]) -> (bool, String, String) {
    output(command(args))
}

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn run_sandbox_assigned_configures_entra_and_provisions_assigned_users() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("s.json");
    let report = dir.path().join("report.json");
    let (ok, stdout, stderr) = run(&[
        "run",
        "--sandbox",
        "--yes",
        "--scope",
        "assigned",
        "--sandbox-dump",
        dump.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(ok, "exit 0\n{stdout}\n{stderr}");
    let states = final_states(&stdout);
    assert!(scim_steps_done(&states), "{states:?}\n{stdout}");
    // The built-in tenant's app already has SAML single sign-on.
    assert_eq!(state_of(&states, "0"), "already done");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("warning: ") && l.contains("no mail")),
        "the empty-mail warning is printed: {stdout}"
    );
    let dump = read_json(&dump);
    assert_configured(&dump, "false");
    assert_eq!(scim_users(&dump), expected_users(&dump, Scope::Assigned));

    let report = read_json(&report);
    assert_eq!(report["complete"], true);
    assert_eq!(report["steps"].as_array().unwrap().len(), 19);
    assert!(!report["changes"].as_array().unwrap().is_empty());
    assert_eq!(
        report["users_without_mail"].as_array().unwrap().len(),
        users_without_mail(&dump, Scope::Assigned)
    );
}

#[test]
fn run_sandbox_all_provisions_every_user_with_mail() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("s.json");
    let (ok, stdout, stderr) = run(&[
        "run",
        "--sandbox",
        "--yes",
        "--scope",
        "all",
        "--sandbox-dump",
        dump.to_str().unwrap(),
    ]);
    assert!(ok, "{stdout}\n{stderr}");
    let dump = read_json(&dump);
    assert_configured(&dump, "true");
    assert_eq!(scim_users(&dump), expected_users(&dump, Scope::All));
}

#[test]
fn second_run_with_the_same_state_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let dump1 = dir.path().join("1.json");
    let dump2 = dir.path().join("2.json");
    let args = |dump: &std::path::Path| {
        vec![
            "run".to_string(),
            "--sandbox".into(),
            "--yes".into(),
            "--sandbox-state".into(),
            state.to_str().unwrap().into(),
            "--sandbox-dump".into(),
            dump.to_str().unwrap().into(),
        ]
    };
    let a1 = args(&dump1);
    let (ok, stdout, stderr) = run(&a1.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "{stdout}\n{stderr}");
    let a2 = args(&dump2);
    let (ok, stdout, stderr) = run(&a2.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "{stdout}\n{stderr}");
    let states = final_states(&stdout);
    assert_eq!(states.len(), 19);
    assert!(states.iter().all(|(_, s)| s == "already done"), "{stdout}");

    let (d1, d2) = (read_json(&dump1), read_json(&dump2));
    assert_eq!(jobs(&d2).len(), 1);
    assert_eq!(jobs(&d1)[0]["job"]["id"], jobs(&d2)[0]["job"]["id"]);
    assert_eq!(jobs(&d1)[0]["schema"], jobs(&d2)[0]["schema"]);
    assert_eq!(orchidea_secrets(&d1).len(), orchidea_secrets(&d2).len());
    assert_eq!(scim_users(&d1), scim_users(&d2));
}

#[test]
fn without_yes_and_without_a_terminal_it_stops_before_writing_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("s.json");
    let (ok, stdout, _) = run(&["run", "--sandbox", "--sandbox-dump", dump.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stdout.contains("remove"),
        "shows the mapping diff: {stdout}"
    );
    assert!(stdout.contains("--yes"), "{stdout}");
    let dump = read_json(&dump);
    assert!(user_targets(&dump).len() > 5, "schema untouched");
}

#[test]
fn manual_path_needs_the_secret_from_the_environment_not_argv() {
    let (ok, _, stderr) = run(&[
        "run",
        "--sandbox",
        "--yes",
        "--scim-url",
        "http://127.0.0.1:9/scim/v2",
    ]);
    assert!(!ok);
    assert!(stderr.contains("ORCHIDEA_SCIM_SECRET"), "{stderr}");
}

#[test]
fn bad_scim_url_gets_a_specific_message() {
    let out = Command::new(CLI)
        .args([
            "run",
            "--sandbox",
            "--yes",
            "--scim-url",
            "http://orchidea.example/scim/v2",
        ])
        .env("ORCHIDEA_SCIM_SECRET", "x".repeat(40))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.to_lowercase().contains("https"), "{stderr}");
}

#[test]
fn sandbox_command_prints_its_endpoints_as_one_json_line() {
    let sandbox = Standalone::start(None);
    for key in [
        "login_url",
        "graph_url",
        "orchidea_url",
        "scim_url",
        "orchidea_admin_token",
    ] {
        assert!(
            sandbox.endpoints[key]
                .as_str()
                .is_some_and(|v| !v.is_empty()),
            "{key} in {}",
            sandbox.endpoints
        );
    }
    assert!(sandbox.url("graph_url").starts_with("http://127.0.0.1:"));
}

#[test]
fn steps_lists_the_article_numbering() {
    let (ok, stdout, _) = run(&["steps"]);
    assert!(ok);
    for n in ["1a", "1b", "1c", "9", "16"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{n} "))),
            "{n}"
        );
    }
}

#[test]
fn status_and_provision_user_work_on_a_saved_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let (ok, stdout, stderr) = run(&["run", "--sandbox", "--sandbox-state", state, "--yes"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("status: Job ") && l.ends_with(": Active")),
        "the run ends with the job's status: {stdout}"
    );

    let report = dir.path().join("status.json");
    let (ok, stdout, stderr) = run(&[
        "status",
        "--sandbox",
        "--sandbox-state",
        state,
        "--filter",
        "skipped",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(ok, "a running job exits 0\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("Running: the initial cycle is done"),
        "{stdout}"
    );
    let skipped: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(" skipped ") && l.contains("userName"))
        .collect();
    assert_eq!(
        skipped.len(),
        2,
        "the two assigned users without mail: {stdout}"
    );
    assert!(report.exists() && report.with_extension("md").exists());
    let md = std::fs::read_to_string(report.with_extension("md")).unwrap();
    assert!(md.contains("## Provisioning status"));

    // One of the users without mail: skipped at matching, with the reason.
    let name = skipped[0]
        .split(" other   ")
        .nth(1)
        .and_then(|rest| rest.split(" — ").next())
        .unwrap_or_else(|| panic!("a subject in {:?}", skipped[0]))
        .trim()
        .to_string();
    let (ok, stdout, stderr) = run(&[
        "provision-user",
        &name,
        "--sandbox",
        "--sandbox-state",
        state,
    ]);
    assert!(ok, "Skipped is not a failure\n{stdout}\n{stderr}");
    assert!(stdout.contains("Read from Entra: ok"), "{stdout}");
    assert!(stdout.contains("Result: Skipped"), "{stdout}");

    // A user the search cannot pin down gets a specific message.
    let (ok, _, stderr) = run(&[
        "provision-user",
        "zzz-nobody",
        "--sandbox",
        "--sandbox-state",
        state,
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("No user's name, mail or user principal name starts with \"zzz-nobody\""),
        "{stderr}"
    );
}

#[test]
fn bad_notification_input_is_refused_before_anything_runs() {
    let (ok, stdout, stderr) = run(&["run", "--sandbox", "--yes", "--notify-email", "admin"]);
    assert!(!ok);
    assert!(
        stderr.contains("\"admin\" is not an e-mail address"),
        "{stderr}"
    );
    assert!(!stdout.contains("[ 1a]"), "nothing ran: {stdout}");
    let (ok, _, stderr) = run(&["run", "--sandbox", "--yes", "--delete-threshold", "many"]);
    assert!(!ok);
    assert!(stderr.contains("Deletion threshold: \"many\""), "{stderr}");
}

#[test]
fn quarantine_is_reported_and_restart_recovers_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let (ok, stdout, stderr) = run(&[
        "run",
        "--sandbox",
        "--sandbox-state",
        state,
        "--sandbox-fault",
        // Only the cycle writes users; the wizard's own checks only read.
        "scim:POST:/Users:503x1",
        "--yes",
    ]);
    // The steps all ran; the first cycle hit the fault on its first create.
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("status: Job ") && l.ends_with(": Quarantine")),
        "{stdout}"
    );
    let (ok, stdout, _) = run(&["status", "--sandbox", "--sandbox-state", state]);
    assert!(!ok, "a quarantined job exits 1");
    assert!(stdout.contains("In quarantine"), "{stdout}");
    assert!(stdout.contains("Fix: "), "{stdout}");
    let (ok, stdout, stderr) = run(&["status", "--sandbox", "--sandbox-state", state, "--restart"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(!stdout.contains("In quarantine"), "{stdout}");
}

#[test]
fn held_deletions_are_listed_and_allowed_only_with_a_separate_confirmed_flag() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let sandbox = ["--sandbox", "--sandbox-state", state];
    let run_with = |scope: &str| {
        let mut args = vec!["run"];
        args.extend(sandbox);
        args.extend(["--scope", scope, "--delete-threshold", "2", "--yes"]);
        run(&args)
    };
    let (ok, stdout, stderr) = run_with("all");
    assert!(ok, "{stdout}\n{stderr}");
    let active = |dump: &Value| {
        dump["orchidea"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["active"] == true)
            .count()
    };
    let everyone = active(&read_json(std::path::Path::new(state)));
    // Narrowing the scope leaves more than 2 users to disable.
    let (ok, stdout, stderr) = run_with("assigned");
    assert!(ok, "{stdout}\n{stderr}");
    let status = |extra: &[&str]| {
        let mut args = vec!["status"];
        args.extend(sandbox);
        args.extend(extra);
        run(&args)
    };
    let (ok, stdout, _) = status(&["--restart"]);
    assert!(!ok, "quarantined: {stdout}");
    assert!(stdout.contains("Quarantine (TooManyDeletes)"), "{stdout}");
    assert!(
        stdout.contains("Deletions held back by the accidental-deletion threshold ("),
        "{stdout}"
    );
    assert!(stdout.contains("stagedDelete"), "{stdout}");
    assert!(stdout.contains("status --allow-deletes"), "{stdout}");
    assert_eq!(active(&read_json(std::path::Path::new(state))), everyone);

    // Another ordinary restart keeps them held.
    let (ok, stdout, _) = status(&["--restart"]);
    assert!(!ok);
    assert!(stdout.contains("Quarantine (TooManyDeletes)"), "{stdout}");
    // Without a terminal and without --yes, nothing is allowed.
    let (ok, stdout, _) = status(&["--allow-deletes"]);
    assert!(!ok);
    assert!(stdout.contains("No terminal to confirm on"), "{stdout}");
    assert!(stdout.contains("Not allowed"), "{stdout}");
    assert_eq!(active(&read_json(std::path::Path::new(state))), everyone);
    // --yes alone is refused: it only confirms --allow-deletes.
    let (ok, _, stderr) = status(&["--yes"]);
    assert!(!ok);
    assert!(stderr.contains("--allow-deletes"), "{stderr}");

    let (ok, stdout, stderr) = status(&["--allow-deletes", "--yes"]);
    assert!(ok, "{stdout}\n{stderr}");
    let header = "Deletions held back by the accidental-deletion threshold (";
    let listed: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix(header))
        .and_then(|rest| rest.strip_suffix("):"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the list comes first: {stdout}"));
    assert!(listed > 2, "{stdout}");
    assert!(stdout.contains("Allowed: Entra performs the"), "{stdout}");
    assert!(!stdout.contains("In quarantine"), "{stdout}");
    assert_eq!(
        active(&read_json(std::path::Path::new(state))),
        everyone - listed
    );
}

#[test]
fn bench_prints_every_figure_next_to_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let (_, stdout, stderr) = run(&[
        "bench",
        "--users",
        "50",
        "--latency",
        "20",
        "--no-window",
        "--json",
        json.to_str().unwrap(),
    ]);
    // The verdicts are measurements, not asserted here: only that each
    // figure is printed with its target and the run did the work.
    for (figure, target) in [
        ("critical path 1a–16, L = 20 ms", "ratio ≤ 1.15"),
        ("provisioning cycle, 50 users", "< 10 s"),
        ("peak RSS, CLI + sandbox, 50 users", "≤ 120 MB"),
        ("binary size, orchidea-wizard-cli", "≤ 25 MB"),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(figure))
            .unwrap_or_else(|| panic!("no {figure:?} line:\n{stdout}\n{stderr}"));
        assert!(line.contains(target), "{line}");
    }
    let figures = read_json(&json);
    let cp = &figures["critical_path_20ms"];
    assert_eq!(cp["steps_complete"], 19, "{figures:#}");
    assert!(cp["chain"].as_u64().unwrap() > 5);
    assert!(cp["requests"].as_u64().unwrap() >= cp["chain"].as_u64().unwrap());
    assert_eq!(
        cp["repeated"],
        serde_json::json!([]),
        "nothing fetched twice"
    );
    assert_eq!(figures["provisioning"]["provisioned"], 50);
}

/// `mappings --schema`: the edit of steps 9–13 on an exported schema, offline.
fn mappings(args: &[&str]) -> (bool, String, String) {
    let mut all = vec!["mappings"];
    all.extend_from_slice(args);
    run(&all)
}

#[test]
fn mappings_edits_an_exported_schema_offline_and_writes_it_in_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph");
    let out = dir.path().join("edited.json");
    // A Graph GET response (it carries @odata.context).
    let (ok, stdout, stderr) = mappings(&[
        "--schema",
        fixtures.join("schema-scim-default.json").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "exit 0\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "\"Provision Microsoft Entra ID Users\" (rule 03f7d90d-bf71-41b1-bda6-aaf0ddbee5d8)"
        ),
        "{stdout}"
    );
    let diff: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(diff.len(), 19, "{stdout}");
    assert_eq!(diff[0], "  - remove displayName ← displayName");
    assert_eq!(
        diff[18],
        "  ~ externalId: source mailNickname → objectId, matching precedence 0 → 2"
    );
    // The same bytes the wizard's own edit produces.
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(fixtures.join("schema-orchidea-configured.json")).unwrap()
    );

    // The raw schema object (no @odata.context) and the coalesce option.
    let mut raw: Value = read_json(&fixtures.join("schema-scim-plain-names.json"));
    raw.as_object_mut().unwrap().remove("@odata.context");
    let input = dir.path().join("raw.json");
    std::fs::write(&input, raw.to_string()).unwrap();
    let (ok, stdout, stderr) = mappings(&[
        "--schema",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--user-name",
        "coalesce",
    ]);
    assert!(ok, "exit 0\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "~ userName: source userPrincipalName → Coalesce([mail], [userPrincipalName])"
        ),
        "{stdout}"
    );
    let edited = read_json(&out);
    assert!(edited.get("@odata.context").is_none());
    assert_eq!(
        edited["synchronizationRules"][0]["objectMappings"][1]["targetObjectName"],
        "User"
    );

    // Applied to its own output (same option) it has nothing left to do.
    let (ok, stdout, _) = mappings(&["--schema", out.to_str().unwrap(), "--user-name", "coalesce"]);
    assert!(ok && stdout.contains("already matches"), "{stdout}");
}

#[test]
fn mappings_refuses_schemas_it_cannot_edit_with_the_reason_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph");
    let default = read_json(&fixtures.join("schema-scim-default.json"));
    let out = dir.path().join("edited.json");
    let refused = |schema: &str, want: &str| {
        let input = dir.path().join("in.json");
        std::fs::write(&input, schema).unwrap();
        let (ok, stdout, stderr) = mappings(&[
            "--schema",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(!ok, "refused: {stdout}");
        assert!(stderr.contains(want), "{want}: {stderr}");
        assert!(!out.exists(), "nothing written");
    };
    let mut no_user = default.clone();
    no_user["synchronizationRules"][0]["objectMappings"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    refused(
        &no_user.to_string(),
        "no mapping from Entra users to SCIM users",
    );
    let mut required = default.clone();
    for d in required["directories"].as_array_mut().unwrap() {
        for object in d["objects"].as_array_mut().unwrap() {
            for attr in object["attributes"].as_array_mut().unwrap() {
                if attr["name"] == "title" {
                    attr["required"] = Value::Bool(true);
                }
            }
        }
    }
    refused(&required.to_string(), "marks title as required");
    refused("{\"synchronizationRules\": [", "is not JSON");
    refused("[]", "holds a JSON array");

    // --out onto the export itself would lose it.
    let input = dir.path().join("export.json");
    std::fs::write(&input, default.to_string()).unwrap();
    let (ok, _, stderr) = mappings(&[
        "--schema",
        input.to_str().unwrap(),
        "--out",
        input.to_str().unwrap(),
    ]);
    assert!(
        !ok && stderr.contains("is the exported schema itself"),
        "{stderr}"
    );
    assert_eq!(read_json(&input), default);
}
