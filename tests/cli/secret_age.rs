//! The SCIM secret's age and expiry as an admin sees them: in the report,
//! in `status`, and in `check`, which exits 1 while the secret Entra holds
//! expires within 30 days and names rotation (Orchidea's secrets live
//! `orchidea.secretLifetimeDays` days in the sandbox).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::cli::run;

/// A tenant file whose secrets live `days` days, and a state file beside it.
fn tenant(dir: &Path, days: u32) -> (PathBuf, PathBuf) {
    let mut tenant = crate::common::default_tenant();
    tenant["orchidea"]["secretLifetimeDays"] = json!(days);
    let path = dir.join("tenant.json");
    std::fs::write(&path, tenant.to_string()).unwrap();
    (path, dir.join("state.json"))
}

/// A full sandbox run with a report; the report's JSON.
fn run_with_report(tenant: &Path, state: &Path, report: &Path) -> Value {
    let (ok, stdout, stderr) = run(&[
        "run",
        "--sandbox",
        "--sandbox-tenant",
        tenant.to_str().unwrap(),
        "--sandbox-state",
        state.to_str().unwrap(),
        "--yes",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(ok, "{stdout}\n{stderr}");
    serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap()
}

#[test]
fn a_secret_expiring_in_twenty_days_is_shown_warned_and_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let (tenant, state) = tenant(dir.path(), 20);
    let report = run_with_report(&tenant, &state, &dir.path().join("report.json"));
    let secrets = report["scim_secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 1, "{secrets:?}");
    let held = &secrets[0];
    assert_eq!(held["heldByEntra"], true);
    assert!(held["id"].as_str().unwrap().starts_with("scs_"), "{held}");
    let days = held["age"]["expiresInDays"].as_i64().unwrap();
    assert!((19..=20).contains(&days), "{held}");
    assert_eq!(held["age"]["ageDays"], 0);
    let warning = held["age"]["warning"].as_str().unwrap();
    assert!(
        warning.contains(&format!("expires in {days} days")),
        "{warning}"
    );
    assert!(
        report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w == warning),
        "the report's warnings carry it: {}",
        report["warnings"]
    );
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    let section = md.split("## SCIM secrets (age and expiry)").nth(1).unwrap();
    assert!(
        section.contains(&format!(
            "held by Entra: created today; expires in {days} days"
        )),
        "{section}"
    );

    let s = state.to_str().unwrap();
    let (_, stdout, stderr) = run(&["status", "--sandbox", "--sandbox-state", s]);
    let block = stdout
        .split("SCIM secrets (age and expiry):")
        .nth(1)
        .unwrap_or_else(|| panic!("{stdout}\n{stderr}"));
    assert!(block.contains("held by Entra"), "{block}");
    assert!(
        block.contains(&format!("expires in {days} days")),
        "{block}"
    );
    assert!(block.contains("orchidea-wizard-cli rotate"), "{block}");

    let (ok, stdout, stderr) = run(&["check", "--sandbox", "--sandbox-state", s]);
    assert!(
        !ok,
        "exit 1 while the secret expires soon\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("differs  SCIM secret not expiring"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "expires in {days} days (fixed by rotating the SCIM secret)"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("`orchidea-wizard-cli rotate`"), "{stdout}");
    assert!(
        !stdout.contains("`orchidea-wizard-cli run` fixes it"),
        "no step fixes it: {stdout}"
    );
    let (ok, stdout, _) = run(&["check", "--sandbox", "--sandbox-state", s, "--json"]);
    assert!(!ok);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["fixingSteps"], json!([]));
    assert_eq!(json["fixCommand"], "orchidea-wizard-cli rotate");
    assert_eq!(json["fixCommands"], json!(["orchidea-wizard-cli rotate"]));
    let check = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "secretExpiry")
        .unwrap();
    assert_eq!(check["ok"], false);
    assert_eq!(check["findings"][0]["fix"], "rotateSecret");
}

#[test]
fn a_secret_living_ninety_days_is_shown_without_warning_and_the_check_holds() {
    let dir = tempfile::tempdir().unwrap();
    let (tenant, state) = tenant(dir.path(), 90);
    let report = run_with_report(&tenant, &state, &dir.path().join("report.json"));
    let held = &report["scim_secrets"][0];
    assert_eq!(held["heldByEntra"], true);
    let days = held["age"]["expiresInDays"].as_i64().unwrap();
    assert!((89..=90).contains(&days), "{held}");
    assert!(held["age"]["warning"].is_null(), "{held}");
    assert!(
        !report["warnings"].to_string().contains("expires in"),
        "{}",
        report["warnings"]
    );

    let s = state.to_str().unwrap();
    let (ok, stdout, stderr) = run(&["check", "--sandbox", "--sandbox-state", s]);
    assert!(ok, "exit 0\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("ok       SCIM secret not expiring"),
        "{stdout}"
    );
    let (_, stdout, _) = run(&["status", "--sandbox", "--sandbox-state", s]);
    assert!(
        stdout.contains(&format!("expires in {days} days")),
        "{stdout}"
    );
    assert!(!stdout.contains("orchidea-wizard-cli rotate"), "{stdout}");
}
