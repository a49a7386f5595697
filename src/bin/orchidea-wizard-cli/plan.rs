//! `run --plan FILE.toml`: many tenants, one after another, each on its own.
//!
//! The plan file (format: docs/plan-format.md) holds no secrets. Each entry
//! becomes the argument list of a single-tenant `run`, parsed by the same
//! clap definitions, so every value is checked exactly as on the command
//! line. A failure in one tenant is recorded and the next one runs.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde::Deserialize;

use crate::args::{Cli, Command};
use crate::error::CliError;
use crate::run::{TenantOutcome, run_tenant};

/// Why a plan file was refused before any tenant ran.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("The plan {path} could not be read: {reason}")]
    Read { path: String, reason: String },
    #[error("The plan is not valid TOML for a plan: {0}")]
    Syntax(String),
    #[error("The plan has no [[tenant]] entries.")]
    Empty,
    #[error(
        "Plan entry {entry}: give either `tenant` (a real tenant) or `sandbox` (a practice tenant file), not {found}."
    )]
    TenantOrSandbox { entry: String, found: &'static str },
    #[error(
        "Plan entry {entry}: `orchidea_url` is needed for a real tenant (the workspace whose admin API token you remembered with `signin --orchidea-url … --remember`)."
    )]
    NoOrchidea { entry: String },
    #[error("Plan entry {entry}: `{key}` only applies to a practice entry (`sandbox = …`).")]
    PracticeOnly { entry: String, key: &'static str },
    #[error(
        "Plan entry {entry}: `{key}` does not apply to a practice entry; the sandbox has its own."
    )]
    RealOnly { entry: String, key: &'static str },
    #[error("Two plan entries are named \"{0}\"; give each a different `name`.")]
    Duplicate(String),
    #[error("Plan entry {entry}: {message}")]
    Value { entry: String, message: String },
}

/// `delete_threshold`: a number, or "off".
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
enum Threshold {
    Number(u64),
    Word(String),
}

/// One `[[tenant]]` table, as written.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: Option<String>,
    tenant: Option<String>,
    cloud: Option<String>,
    client_id: Option<String>,
    login_url: Option<String>,
    graph_url: Option<String>,
    app: Option<String>,
    app_id: Option<String>,
    create_app: Option<bool>,
    /// Step 0: set up SAML single sign-on (as `--with-sso`).
    with_sso: Option<bool>,
    /// Step 0's Sign on URL (as `--workspace-url`).
    workspace_url: Option<String>,
    orchidea_url: Option<String>,
    idp: Option<String>,
    scope: Option<String>,
    user_name: Option<String>,
    notify_email: Option<String>,
    delete_threshold: Option<Threshold>,
    sandbox: Option<PathBuf>,
    #[serde(default)]
    sandbox_faults: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    #[serde(default)]
    tenant: Vec<RawEntry>,
}

/// A checked entry: its label, and the `run` arguments it stands for.
#[derive(Debug)]
pub struct Entry {
    pub name: String,
    practice: bool,
    argv: Vec<String>,
}

/// The label an entry is shown and filed under.
fn label(index: usize, raw: &RawEntry) -> String {
    if let Some(name) = raw.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        return name.to_string();
    }
    if let Some(tenant) = &raw.tenant {
        return tenant.trim().to_string();
    }
    if let Some(stem) = raw
        .sandbox
        .as_deref()
        .and_then(Path::file_stem)
        .and_then(|s| s.to_str())
    {
        return stem.to_string();
    }
    format!("#{}", index + 1)
}

/// A label as a file name: letters, digits, `-`, `_` and `.`; nothing else.
fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    stem.trim_matches('.').to_string()
}

/// Where a plan keeps things: its folder (sandbox files are relative to
/// it), each tenant's report, and the practice tenants' sandbox state.
pub struct Places {
    pub base: PathBuf,
    pub reports: PathBuf,
    /// Beside the plan, whatever `--report-dir` says, so a second run of
    /// the same plan always continues the same practice tenants.
    pub state: PathBuf,
}

/// Parses and checks a plan.
pub fn parse(text: &str, places: &Places, yes: bool) -> Result<Vec<Entry>, PlanError> {
    let raw: RawPlan =
        toml::from_str(text).map_err(|e| PlanError::Syntax(one_line(&e.to_string())))?;
    if raw.tenant.is_empty() {
        return Err(PlanError::Empty);
    }
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    for (index, entry) in raw.tenant.iter().enumerate() {
        let name = label(index, entry);
        if !seen.insert(file_stem(&name).to_ascii_lowercase()) {
            return Err(PlanError::Duplicate(name));
        }
        let argv = arguments(&name, entry, places, yes)?;
        // Every value is checked now, by the command line's own rules,
        // before any tenant runs.
        Cli::try_parse_from(&argv).map_err(|e| PlanError::Value {
            entry: name.clone(),
            message: one_line(&e.to_string()),
        })?;
        entries.push(Entry {
            name,
            practice: entry.sandbox.is_some(),
            argv,
        });
    }
    Ok(entries)
}

fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn arguments(
    name: &str,
    e: &RawEntry,
    places: &Places,
    yes: bool,
) -> Result<Vec<String>, PlanError> {
    let (base, reports) = (&places.base, &places.reports);
    let entry = || name.to_string();
    let stem = file_stem(name);
    let mut argv: Vec<String> = vec!["orchidea-wizard-cli".into(), "run".into()];
    let flag = |argv: &mut Vec<String>, f: &str, v: Option<&String>| {
        if let Some(v) = v {
            argv.push(format!("--{f}"));
            argv.push(v.clone());
        }
    };
    match (&e.tenant, &e.sandbox) {
        (Some(_), Some(_)) => {
            return Err(PlanError::TenantOrSandbox {
                entry: entry(),
                found: "both",
            });
        }
        (None, None) => {
            return Err(PlanError::TenantOrSandbox {
                entry: entry(),
                found: "neither",
            });
        }
        (Some(tenant), None) => {
            if !e.sandbox_faults.is_empty() {
                return Err(PlanError::PracticeOnly {
                    entry: entry(),
                    key: "sandbox_faults",
                });
            }
            if e.orchidea_url.is_none() {
                return Err(PlanError::NoOrchidea { entry: entry() });
            }
            flag(&mut argv, "tenant", Some(tenant));
            flag(&mut argv, "cloud", e.cloud.as_ref());
            flag(&mut argv, "client-id", e.client_id.as_ref());
            flag(&mut argv, "login-url", e.login_url.as_ref());
            flag(&mut argv, "graph-url", e.graph_url.as_ref());
            flag(&mut argv, "orchidea-url", e.orchidea_url.as_ref());
            // Each tenant with its own remembered sign-in and Orchidea
            // token: never a prompt, never one token for every tenant.
            argv.push("--remembered-only".into());
        }
        (None, Some(file)) => {
            for (key, set) in [
                ("cloud", e.cloud.is_some()),
                ("client_id", e.client_id.is_some()),
                ("login_url", e.login_url.is_some()),
                ("graph_url", e.graph_url.is_some()),
                ("orchidea_url", e.orchidea_url.is_some()),
            ] {
                if set {
                    return Err(PlanError::RealOnly {
                        entry: entry(),
                        key,
                    });
                }
            }
            argv.push("--sandbox".into());
            flag(
                &mut argv,
                "sandbox-tenant",
                Some(&base.join(file).display().to_string()),
            );
            // The practice tenant's state is kept so a second run continues it.
            flag(
                &mut argv,
                "sandbox-state",
                Some(
                    &places
                        .state
                        .join(format!("{stem}.json"))
                        .display()
                        .to_string(),
                ),
            );
            for fault in &e.sandbox_faults {
                flag(&mut argv, "sandbox-fault", Some(fault));
            }
        }
    }
    flag(&mut argv, "app", e.app.as_ref());
    flag(&mut argv, "app-id", e.app_id.as_ref());
    if e.create_app == Some(true) {
        argv.push("--create-app".into());
    }
    if e.with_sso == Some(true) {
        argv.push("--with-sso".into());
        flag(&mut argv, "workspace-url", e.workspace_url.as_ref());
    }
    flag(&mut argv, "idp", e.idp.as_ref());
    flag(&mut argv, "scope", e.scope.as_ref());
    flag(&mut argv, "user-name", e.user_name.as_ref());
    flag(&mut argv, "notify-email", e.notify_email.as_ref());
    let threshold = e.delete_threshold.as_ref().map(|t| match t {
        Threshold::Number(n) => n.to_string(),
        Threshold::Word(w) => w.clone(),
    });
    flag(&mut argv, "delete-threshold", threshold.as_ref());
    flag(
        &mut argv,
        "report",
        Some(&reports.join(format!("{stem}.json")).display().to_string()),
    );
    if yes {
        argv.push("--yes".into());
    }
    Ok(argv)
}

/// One tenant's line in the summary (also `summary.json`, for monitoring).
#[derive(serde::Serialize)]
struct Row {
    name: String,
    result: String,
    users: String,
    warnings: usize,
    ok: bool,
}

fn row(entry: &Entry, outcome: Result<TenantOutcome, CliError>) -> Row {
    match outcome {
        Ok(o) => {
            let result = match (o.complete, o.changes, &o.stopped) {
                (true, 0, _) => "unchanged".to_string(),
                (true, _, _) => "done".to_string(),
                (false, _, Some(why)) => {
                    format!(
                        "failed after {} of {} steps: {}",
                        o.completed,
                        orchidea_wizard::StepId::ALL.len(),
                        one_line(why)
                    )
                }
                (false, _, None) => format!(
                    "stopped after {} of {} steps",
                    o.completed,
                    orchidea_wizard::StepId::ALL.len()
                ),
            };
            Row {
                name: entry.name.clone(),
                result,
                users: o.users.map_or_else(|| "-".into(), |n| n.to_string()),
                warnings: o.warnings,
                ok: o.complete,
            }
        }
        Err(e) => Row {
            name: entry.name.clone(),
            result: format!("failed: {}", one_line(&e.to_string())),
            users: "-".into(),
            warnings: 0,
            ok: false,
        },
    }
}

/// The table printed at the end, widths fitted to its cells.
fn table(rows: &[Row]) -> String {
    let head = ["tenant", "result", "users provisioned", "warnings"];
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.result.clone(),
                r.users.clone(),
                r.warnings.to_string(),
            ]
        })
        .collect();
    let width = |i: usize| {
        cells
            .iter()
            .map(|c| c[i].chars().count())
            .chain([head[i].len()])
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1).min(60), width(2), width(3)];
    let mut out = String::new();
    let line = |out: &mut String, c: [&str; 4]| {
        let _ = writeln!(
            out,
            "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}",
            c[0],
            c[1],
            c[2],
            c[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
    };
    line(&mut out, head);
    for c in &cells {
        line(&mut out, [&c[0], &c[1], &c[2], &c[3]]);
    }
    out
}

/// `run --plan FILE`: every entry in order; true when all finished.
pub async fn run_plan(plan: &Path, report_dir: Option<&Path>, yes: bool) -> Result<bool, CliError> {
    let text = std::fs::read_to_string(plan).map_err(|e| {
        CliError::Plan(PlanError::Read {
            path: plan.display().to_string(),
            reason: e.to_string(),
        })
    })?;
    let base = plan.parent().unwrap_or(Path::new(".")).to_path_buf();
    let stem = plan.file_stem().and_then(|s| s.to_str()).unwrap_or("plan");
    let places = Places {
        reports: report_dir.map_or_else(|| base.join(format!("{stem}-reports")), Path::to_path_buf),
        state: base.join(format!("{stem}.state")),
        base,
    };
    let entries = parse(&text, &places, yes).map_err(CliError::Plan)?;
    for dir in [&places.reports, &places.state] {
        std::fs::create_dir_all(dir).map_err(|source| CliError::Write {
            path: dir.clone(),
            source,
        })?;
    }
    let reports = places.reports.clone();
    let mut rows = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        println!(
            "\n=== {} ({} of {}{}) ===",
            entry.name,
            i + 1,
            entries.len(),
            if entry.practice { ", practice" } else { "" }
        );
        let outcome = match Cli::try_parse_from(&entry.argv) {
            Ok(Cli {
                command: Command::Run(args),
            }) => Box::pin(run_tenant(args)).await,
            // Checked in `parse`; kept total rather than panicking.
            _ => Err(CliError::Refused(format!(
                "plan entry {} is not a run",
                entry.name
            ))),
        };
        if let Err(e) = &outcome {
            eprintln!("{}: {e}", entry.name);
        }
        rows.push(row(entry, outcome));
    }
    println!("\nPlan summary ({} tenants):", rows.len());
    print!("{}", table(&rows));
    let json = serde_json::to_string_pretty(&rows)?;
    let summary = reports.join("summary.json");
    std::fs::write(&summary, json).map_err(|source| CliError::Write {
        path: summary.clone(),
        source,
    })?;
    println!("Reports: {}", reports.display());
    let failed = rows.iter().filter(|r| !r.ok).count();
    if failed > 0 {
        println!(
            "{failed} of {} did not finish; run the plan again to continue them.",
            rows.len()
        );
    }
    Ok(failed == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places() -> Places {
        Places {
            base: "/plans".into(),
            reports: "/plans/out".into(),
            state: "/plans/p.state".into(),
        }
    }

    fn parse_ok(text: &str) -> Vec<Entry> {
        parse(text, &places(), true).unwrap()
    }

    fn parse_err(text: &str) -> PlanError {
        parse(text, &places(), true).unwrap_err()
    }

    #[test]
    fn a_practice_and_a_real_entry_become_run_arguments() {
        let entries = parse_ok(
            r#"
            [[tenant]]
            sandbox = "tenants/acme.json"
            scope = "all"
            sandbox_faults = ["scim:503x1"]

            [[tenant]]
            name = "Contoso EU"
            tenant = "contoso.onmicrosoft.com"
            cloud = "usgov"
            orchidea_url = "https://app.orchidea.dev/contoso"
            user_name = "coalesce"
            delete_threshold = 200
            with_sso = true
            "#,
        );
        assert_eq!(entries[0].name, "acme");
        assert!(entries[0].practice);
        let a = entries[0].argv.join(" ");
        assert!(
            a.contains("--sandbox --sandbox-tenant /plans/tenants/acme.json"),
            "{a}"
        );
        assert!(
            a.contains("--sandbox-state /plans/p.state/acme.json"),
            "{a}"
        );
        assert!(a.contains("--sandbox-fault scim:503x1 "), "{a}");
        assert!(a.contains("--report /plans/out/acme.json --yes"), "{a}");
        let b = entries[1].argv.join(" ");
        assert_eq!(entries[1].name, "Contoso EU");
        assert!(
            b.contains("--tenant contoso.onmicrosoft.com --cloud usgov"),
            "{b}"
        );
        assert!(b.contains("--remembered-only"), "{b}");
        assert!(b.contains("--delete-threshold 200"), "{b}");
        assert!(b.contains("--with-sso"), "{b}");
        assert!(!a.contains("--with-sso"), "{a}");
        assert!(b.contains("--report /plans/out/Contoso_EU.json"), "{b}");
    }

    #[test]
    fn refusals_name_the_entry_and_the_key() {
        let unknown = parse_err("[[tenant]]\nsandbox = \"a.json\"\nscoop = \"all\"\n");
        assert!(
            matches!(&unknown, PlanError::Syntax(m) if m.contains("scoop")),
            "{unknown}"
        );
        assert!(parse_err("title = \"x\"\n").to_string().contains("title"));
        assert_eq!(parse_err(""), PlanError::Empty);
        assert_eq!(
            parse_err("[[tenant]]\nscope = \"all\"\n"),
            PlanError::TenantOrSandbox {
                entry: "#1".into(),
                found: "neither"
            }
        );
        assert_eq!(
            parse_err("[[tenant]]\ntenant = \"t\"\n"),
            PlanError::NoOrchidea { entry: "t".into() }
        );
        assert_eq!(
            parse_err(
                "[[tenant]]\ntenant = \"t\"\norchidea_url = \"https://a.example/w\"\nsandbox_faults = [\"scim:503\"]\n"
            ),
            PlanError::PracticeOnly {
                entry: "t".into(),
                key: "sandbox_faults"
            }
        );
        assert_eq!(
            parse_err("[[tenant]]\nsandbox = \"a.json\"\norchidea_url = \"https://a.example/w\"\n"),
            PlanError::RealOnly {
                entry: "a".into(),
                key: "orchidea_url"
            }
        );
        assert_eq!(
            parse_err("[[tenant]]\nsandbox = \"x/a.json\"\n[[tenant]]\nsandbox = \"y/a.json\"\n"),
            PlanError::Duplicate("a".into())
        );
    }

    #[test]
    fn values_are_checked_by_the_command_line_rules() {
        let bad_scope = parse_err("[[tenant]]\nsandbox = \"a.json\"\nscope = \"everyone\"\n");
        assert!(
            matches!(&bad_scope, PlanError::Value { entry, message } if entry == "a" && message.contains("everyone")),
            "{bad_scope}"
        );
        let bad_fault =
            parse_err("[[tenant]]\nsandbox = \"a.json\"\nsandbox_faults = [\"nowhere:500\"]\n");
        assert!(matches!(bad_fault, PlanError::Value { .. }), "{bad_fault}");
        let http =
            parse_err("[[tenant]]\ntenant = \"t\"\norchidea_url = \"http://app.orchidea.dev/w\"\n");
        assert!(matches!(http, PlanError::Value { .. }), "{http}");
    }

    #[test]
    fn the_summary_lines_up_and_says_what_happened() {
        let rows = vec![
            Row {
                name: "acme".into(),
                result: "done".into(),
                users: "5".into(),
                warnings: 1,
                ok: true,
            },
            Row {
                name: "globex-practice".into(),
                result: "failed: Graph answered 400".into(),
                users: "-".into(),
                warnings: 0,
                ok: false,
            },
        ];
        let t = table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("tenant           result"), "{t}");
        assert!(lines[1].starts_with("acme             done"), "{t}");
        assert!(lines[2].contains("failed: Graph answered 400"), "{t}");
        assert_eq!(file_stem("a/../b c"), "a_.._b_c");
    }
}
