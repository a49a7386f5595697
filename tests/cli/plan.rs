//! `run --plan`: several practice tenants in one run, a failure in one not
//! stopping the others, and a second run finishing what the first left.

use std::path::Path;

use crate::cli::{command, output};
use crate::common;

fn run_in(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let mut cmd = command(args);
    cmd.env_remove("ORCHIDEA_ADMIN_TOKEN")
        .env_remove("GRAPH_ACCESS_TOKEN")
        // Run state, logs and settings in the test's own folder; no
        // desktop keyring (nothing is remembered there for these tenants).
        .env("ORCHIDEA_WIZARD_DATA_DIR", dir.join("data"))
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    output(cmd)
}

/// The summary's row for `tenant`, split into its columns.
fn row(stdout: &str, tenant: &str) -> Vec<String> {
    let summary = stdout
        .split("Plan summary")
        .nth(1)
        .unwrap_or_else(|| panic!("no summary:\n{stdout}"));
    let line = summary
        .lines()
        .find(|l| l.split_whitespace().next() == Some(tenant))
        .unwrap_or_else(|| panic!("no row for {tenant}:\n{summary}"));
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

fn write_tenants(dir: &Path) {
    for (name, org) in [
        ("alpha", "Alpha Ltd"),
        ("beta", "Beta GmbH"),
        ("gamma", "Gamma SA"),
    ] {
        let mut tenant = common::default_tenant();
        tenant["tenant"]["displayName"] = org.into();
        std::fs::create_dir_all(dir.join("tenants")).unwrap();
        std::fs::write(
            dir.join(format!("tenants/{name}.json")),
            serde_json::to_vec_pretty(&tenant).unwrap(),
        )
        .unwrap();
    }
}

fn plan(beta_faults: &str) -> String {
    format!(
        r#"# three practice tenants
[[tenant]]
name = "alpha"
sandbox = "tenants/alpha.json"

[[tenant]]
name = "beta"
sandbox = "tenants/beta.json"
sandbox_faults = [{beta_faults}]

[[tenant]]
name = "gamma"
sandbox = "tenants/gamma.json"
scope = "all"
"#
    )
}

#[test]
fn a_plan_of_three_runs_on_past_a_failure_and_a_second_run_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    write_tenants(dir.path());
    let file = dir.path().join("plan.toml");
    // Beta's schema write is refused every time: its run stops at step 9.
    std::fs::write(&file, plan(r#""graph:PUT:/schema:400x*""#)).unwrap();
    let (ok, stdout, stderr) = run_in(
        dir.path(),
        &["run", "--plan", file.to_str().unwrap(), "--yes"],
    );
    assert!(!ok, "one tenant failed: exit 1\n{stdout}\n{stderr}");
    assert!(stdout.contains("Plan summary (3 tenants)"), "{stdout}");
    let alpha = row(&stdout, "alpha");
    let beta = row(&stdout, "beta");
    let gamma = row(&stdout, "gamma");
    assert_eq!(alpha[1], "done", "{alpha:?}");
    // 0–8 done (eleven entries of the checklist), then the refused write.
    assert!(
        beta[1].starts_with("failed after 11 of 19 steps") && beta[1].contains("HTTP 400"),
        "{beta:?}"
    );
    assert_eq!(gamma[1], "done", "gamma ran after beta failed: {gamma:?}");
    // Users provisioned, as Entra counts them once the first cycle ran.
    let users: i64 = alpha[2].parse().unwrap_or_else(|_| panic!("{alpha:?}"));
    let all: i64 = gamma[2].parse().unwrap_or_else(|_| panic!("{gamma:?}"));
    assert!(users > 0 && all >= users, "{alpha:?} {gamma:?}");
    assert_eq!(beta[2], "-");
    assert!(stdout.contains("1 of 3 did not finish"), "{stdout}");
    let summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("plan-reports/summary.json")).unwrap(),
    )
    .unwrap();
    let oks: Vec<bool> = summary
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ok"].as_bool().unwrap())
        .collect();
    assert_eq!(oks, [true, false, true], "{summary}");
    // Practice state beside the plan, one file per tenant.
    for name in ["alpha", "beta", "gamma"] {
        assert!(
            dir.path().join(format!("plan.state/{name}.json")).is_file(),
            "{name}"
        );
    }

    // One report per tenant, beside the plan.
    let reports = dir.path().join("plan-reports");
    for (name, complete) in [("alpha", true), ("beta", false), ("gamma", true)] {
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(reports.join(format!("{name}.json"))).unwrap())
                .unwrap();
        assert_eq!(report["complete"], complete, "{name}");
        assert!(reports.join(format!("{name}.md")).is_file(), "{name}");
    }

    // The cause is fixed; the second run finishes beta and changes nothing
    // where nothing is missing.
    std::fs::write(&file, plan("")).unwrap();
    let (ok, stdout, stderr) = run_in(
        dir.path(),
        &["run", "--plan", file.to_str().unwrap(), "--yes"],
    );
    assert!(ok, "all three done: exit 0\n{stdout}\n{stderr}");
    assert_eq!(row(&stdout, "alpha")[1], "unchanged", "{stdout}");
    assert_eq!(row(&stdout, "beta")[1], "done", "{stdout}");
    assert_eq!(row(&stdout, "gamma")[1], "unchanged", "{stdout}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("beta.json")).unwrap()).unwrap();
    assert_eq!(report["complete"], true);
}

#[test]
fn a_tenant_without_a_remembered_sign_in_fails_alone_and_a_bad_plan_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_tenants(dir.path());
    let file = dir.path().join("plan.toml");
    std::fs::write(
        &file,
        r#"[[tenant]]
tenant = "contoso.example"
orchidea_url = "https://app.orchidea.dev/contoso"

[[tenant]]
sandbox = "tenants/alpha.json"
"#,
    )
    .unwrap();
    let reports = dir.path().join("out");
    let (ok, stdout, stderr) = run_in(
        dir.path(),
        &[
            "run",
            "--plan",
            file.to_str().unwrap(),
            "--report-dir",
            reports.to_str().unwrap(),
            "--yes",
        ],
    );
    assert!(!ok, "{stdout}\n{stderr}");
    let real = row(&stdout, "contoso.example");
    assert!(
        real[1].contains("No remembered sign-in for tenant contoso.example")
            && real[1].contains("signin --tenant contoso.example --remember"),
        "{real:?}"
    );
    assert_eq!(row(&stdout, "alpha")[1], "done", "{stdout}");
    assert!(reports.join("alpha.json").is_file());

    // An unknown key: refused before any tenant runs, naming the key.
    std::fs::write(
        &file,
        "[[tenant]]\nsandbox = \"tenants/alpha.json\"\nscoop = \"all\"\n",
    )
    .unwrap();
    let (ok, stdout, stderr) = run_in(dir.path(), &["run", "--plan", file.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("scoop"), "{stderr}");
    assert!(!stdout.contains("==="), "nothing ran: {stdout}");

    // The plan sets each tenant's flags; single-tenant flags are refused beside it.
    let (ok, _, stderr) = run_in(
        dir.path(),
        &["run", "--plan", file.to_str().unwrap(), "--sandbox"],
    );
    assert!(!ok);
    assert!(stderr.contains("--sandbox"), "{stderr}");
}
