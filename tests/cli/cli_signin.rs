//! The CLI against a standalone sandbox (`orchidea-wizard-cli sandbox`, its
//! own process) through the real sign-in code: `--login-url`, `--graph-url`,
//! `--orchidea-url`, device code with pending polls, the role check, and
//! the sign-in errors as the admin reads them.

use crate::common;

use std::process::{Command, Stdio};

use common::standalone::{CLI, Standalone, final_states, scim_steps_done, state_of};
use common::*;
use orchidea_wizard::engine::Scope;
use serde_json::json;

fn no_step_ran(stdout: &str) {
    assert!(final_states(stdout).is_empty(), "no step may run: {stdout}");
}

#[test]
fn run_signs_in_with_a_device_code_and_completes_all_16_steps() {
    let sandbox = Standalone::start(None);
    let orchidea = sandbox.url("orchidea_url").to_string();
    let (ok, stdout, stderr) = sandbox.cli(&["run", "--orchidea-url", &orchidea, "--yes"]);
    assert!(ok, "exit 0\n{stdout}\n{stderr}");
    // The device-code prompt, in Entra's own words, then the account.
    assert!(
        stdout.contains("To sign in, use a web browser to open the page")
            && stdout.contains("enter the code"),
        "{stdout}"
    );
    assert!(stdout.contains("Signed in as"), "{stdout}");
    assert!(stdout.contains("Application Administrator"), "{stdout}");
    let states = final_states(&stdout);
    assert!(scim_steps_done(&states), "{states:?}\n{stdout}");
    assert_eq!(state_of(&states, "0"), "already done");

    // What the sandbox holds, read from its own state file.
    let dump = sandbox.dump_after_first_cycle();
    assert_configured(&dump, "false");
    assert_eq!(scim_users(&dump), expected_users(&dump, Scope::Assigned));
    assert!(
        !stdout.contains(sandbox.url("orchidea_admin_token")),
        "the admin token is never printed"
    );
}

#[test]
fn an_account_without_an_admin_role_is_stopped_before_any_step() {
    let sandbox = Standalone::start(Some(json!({"roles": ["User Administrator"]})));
    let orchidea = sandbox.url("orchidea_url").to_string();
    let (ok, stdout, stderr) = sandbox.cli(&["run", "--orchidea-url", &orchidea, "--yes"]);
    assert!(!ok, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("Application Administrator") && stderr.contains("User Administrator"),
        "names what is missing and what the account has: {stderr}"
    );
    no_step_ran(&stdout);
    assert!(
        orchidea_secrets(&sandbox.dump()).is_empty(),
        "nothing was created in Orchidea"
    );
}

#[test]
fn sign_in_errors_reach_the_admin_as_plain_sentences() {
    let cases = [
        (
            json!({"deviceCode": "blockedByConditionalAccess"}),
            vec!["Conditional Access", "--browser"],
        ),
        (json!({"consent": "required"}), vec!["consent"]),
        (json!({"consent": "declined"}), vec!["declined"]),
    ];
    for (sign_in, words) in cases {
        let sandbox = Standalone::start(Some(sign_in.clone()));
        let (ok, stdout, stderr) = sandbox.cli(&["signin"]);
        assert!(!ok, "{sign_in}: {stdout}\n{stderr}");
        for w in &words {
            assert!(stderr.contains(w), "{sign_in}: \"{w}\" in {stderr}");
        }
        assert!(
            !stderr.contains("\"error\""),
            "no raw JSON for the admin: {stderr}"
        );
    }
}

#[test]
fn a_tenant_the_sign_in_service_does_not_know_is_named() {
    let sandbox = Standalone::start(None);
    let (ok, stdout, stderr) = sandbox.cli(&["signin", "--tenant", "fabrikam.onmicrosoft.com"]);
    assert!(!ok, "{stdout}\n{stderr}");
    assert!(stderr.contains("fabrikam.onmicrosoft.com"), "{stderr}");
}

#[test]
fn bad_sign_in_settings_are_refused_before_any_request() {
    let sandbox = Standalone::start(None);
    for (args, words) in [
        (vec!["signin", "--tenant", "common"], "personal"),
        (vec!["signin", "--client-id", "my-app"], "GUID"),
        (vec!["signin", "--cloud", "germany"], "usgovdod"),
    ] {
        let (ok, _, stderr) = sandbox.cli(&args);
        assert!(!ok && stderr.contains(words), "{args:?}: {stderr}");
    }
    let (ok, _, stderr) = {
        let out = Command::new(CLI)
            .args(["signin", "--login-url", "http://login.example.com/"])
            .env("ORCHIDEA_WIZARD_CONFIG_DIR", sandbox.dir.path().join("c2"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::new(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(!ok && stderr.contains("https://"), "{stderr}");
}

/// `--create-app` against a tenant without the Orchidea app, in a sandbox
/// that keeps the new app unseen for two seconds (Entra's replication
/// delay): the run waits for it, ends with every step done, and the tenant
/// holds exactly one new app with one job.
#[test]
fn create_app_waits_for_the_new_app_to_replicate_and_completes_all_steps() {
    let tenant = common::tenant_without_the_app(Some(2000));
    let sandbox = Standalone::with_tenant(|t, _| *t = tenant);
    let orchidea = sandbox.url("orchidea_url").to_string();
    let (ok, stdout, stderr) =
        sandbox.cli(&["run", "--orchidea-url", &orchidea, "--yes", "--create-app"]);
    assert!(ok, "exit 0\n{stdout}\n{stderr}");
    let states = final_states(&stdout);
    assert!(scim_steps_done(&states), "{states:?}\n{stdout}");
    // A bare app the wizard created has no single sign-on: left to the admin.
    assert_eq!(state_of(&states, "0"), "manual");
    assert!(
        stdout.contains("waiting for Entra to replicate it")
            && stdout.contains("s for Entra to replicate the new app (")
            && !stdout.contains("not visible yet (404)"),
        "says it waits for Entra: {stdout}"
    );
    let dump = sandbox.dump();
    let made = common::orchidea_apps(&dump);
    assert_eq!(made.len(), 1, "exactly one new app");
    assert_configured(&dump, "false");
    assert_eq!(jobs(&dump)[0]["servicePrincipalId"], made[0]["id"]);
}

/// `--create-app` stopped because Entra had not shown the new app within
/// `--replication-wait`; the admin runs again at once, while the app is
/// still unlisted: the second run waits for that app (remembered in the
/// data dir's run state) and completes, and the tenant holds one app.
#[test]
fn a_run_again_after_the_new_app_was_not_shown_in_time_uses_it_and_creates_no_second() {
    let tenant = common::tenant_without_the_app(Some(8000));
    let sandbox = Standalone::with_tenant(|t, _| *t = tenant);
    let orchidea = sandbox.url("orchidea_url").to_string();
    let args = ["run", "--orchidea-url", &orchidea, "--yes", "--create-app"];
    let (ok, stdout, stderr) = sandbox.cli(&[&args[..], &["--replication-wait", "1"]].concat());
    assert!(!ok, "stops at step 2\n{stdout}\n{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("has not shown it to the wizard within 1 s"),
        "{stdout}\n{stderr}"
    );
    let (ok, stdout, stderr) = sandbox.cli(&args);
    assert!(ok, "exit 0\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("An earlier run created \"Orchidea\""),
        "says it waits for the app made before: {stdout}"
    );
    let states = final_states(&stdout);
    assert!(scim_steps_done(&states), "{states:?}");
    assert_eq!(state_of(&states, "0"), "manual");
    let dump = sandbox.dump();
    assert_eq!(common::orchidea_apps(&dump).len(), 1, "exactly one app");
    assert_configured(&dump, "false");
}
