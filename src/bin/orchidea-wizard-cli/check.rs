//! `check`: the drift check, read-only. Exit 0 when everything holds, 1
//! when something differs (each difference named with the step that fixes
//! it, or rotation for an expiring secret), 2 when the check could not be done.

use orchidea_wizard::engine::Engine;
use orchidea_wizard::engine::drift::{DriftReport, Remedy};
use orchidea_wizard::setup::Choices;
use serde::Serialize;

use crate::args::TargetArgs;
use crate::error::CliError;
use crate::target::{OrchideaChoice, connect};

/// What fixes every difference a step fixes.
pub const FIX_COMMAND: &str = "orchidea-wizard-cli run";
/// What fixes an expiring SCIM secret.
pub const ROTATE_COMMAND: &str = "orchidea-wizard-cli rotate";

#[derive(clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print one JSON document (for monitoring; field names in README.md).
    #[arg(long)]
    pub json: bool,
}

/// The JSON document: the report and the command that fixes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonOut<'a> {
    #[serde(flatten)]
    report: &'a DriftReport,
    /// The steps a run fixes, as numbers ("11", "16").
    fixing_steps: Vec<&'static str>,
    /// `None` when nothing differs; `run` when a step fixes something,
    /// else `rotate`.
    fix_command: Option<&'static str>,
    /// Every command that fixes a difference (`run`, `rotate`), in that order.
    fix_commands: Vec<&'static str>,
}

/// The commands that fix what the report names.
fn fix_commands(report: &DriftReport) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !report.fixing_steps().is_empty() {
        out.push(FIX_COMMAND);
    }
    if report.needs_rotation() {
        out.push(ROTATE_COMMAND);
    }
    out
}

pub async fn check(args: CheckArgs) -> Result<bool, CliError> {
    let (sandbox, cfg) =
        connect(&args.target, OrchideaChoice::NotNeeded, Choices::default()).await?;
    let engine = Engine::new(cfg);
    let result = engine.check_drift().await;
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    let report = result?;
    if args.json {
        let out = JsonOut {
            report: &report,
            fixing_steps: report.fixing_steps().iter().map(|s| s.number()).collect(),
            fix_command: fix_commands(&report).first().copied(),
            fix_commands: fix_commands(&report),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for line in lines(&report) {
            println!("{line}");
        }
    }
    Ok(report.ok)
}

/// The human-readable report, one line per check and per difference.
fn lines(report: &DriftReport) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(app), Some(job)) = (&report.app_id, &report.job_id) {
        out.push(format!("Drift check of app {app}, job {job}:"));
    }
    for c in &report.checks {
        out.push(format!(
            "  {:<8} {}",
            if c.ok { "ok" } else { "differs" },
            c.label
        ));
        for f in &c.findings {
            out.push(format!("           - {}", f.sentence()));
        }
    }
    let count = report.findings().count();
    let rotations = report
        .findings()
        .filter(|f| f.fix == Remedy::RotateSecret)
        .count();
    if count == 0 {
        out.push("Everything holds: the setup matches Orchidea's specification.".into());
    } else if count > rotations {
        let steps: Vec<&str> = report.fixing_steps().iter().map(|s| s.number()).collect();
        out.push(format!(
            "{} difference{} (steps {}). `{FIX_COMMAND}` fixes it: each step re-checks and rewrites only what differs, with a backup first.",
            count - rotations,
            if count - rotations == 1 { "" } else { "s" },
            steps.join(", ")
        ));
    }
    if rotations > 0 {
        out.push(format!(
            "The SCIM secret Entra holds is expiring. `{ROTATE_COMMAND}` replaces it without stopping provisioning."
        ));
    }
    out
}
