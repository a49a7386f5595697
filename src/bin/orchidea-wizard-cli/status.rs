//! `status`: the job's state, quarantine and latest provisioning logs, with
//! the portal's restart and the held deletions let through on request.

use orchidea_wizard::engine::{self, Engine, report};
use orchidea_wizard::sandbox::Sandbox;
use orchidea_wizard::services::graph::Outcome;
use orchidea_wizard::setup::Choices;

use crate::args::{OutcomeArg, StatusArgs};
use crate::error::CliError;
use crate::render::{AskOnTerminal, print_pending, write_report};
use crate::target::{OrchideaChoice, connect};

/// Each SCIM secret's age and expiry, and the warning for the one Entra
/// holds; a list that cannot be read is said, not fatal (the job comes first).
async fn print_secret_ages(engine: &Engine) {
    println!("\nSCIM secrets (age and expiry):");
    match engine.secret_ages().await {
        Ok(ages) => {
            for line in ages.lines() {
                println!("  {line}");
            }
            let warnings = ages.warnings();
            for w in &warnings {
                println!("  warning: {w}");
            }
            if !warnings.is_empty() {
                println!(
                    "  To replace it without stopping provisioning: {}.",
                    crate::check::ROTATE_COMMAND
                );
            }
        }
        Err(e) => println!("  not read: {e}"),
    }
}

pub async fn status(args: StatusArgs) -> Result<bool, CliError> {
    let (sandbox, cfg) =
        connect(&args.target, OrchideaChoice::NotNeeded, Choices::default()).await?;
    let scope = cfg.scope;
    let mode = args.target.mode();
    let engine = Engine::new(cfg);
    let result = status_inner(&engine, &args, sandbox.as_ref()).await;
    if let Some(path) = &args.report {
        write_report(&report::build(&engine.facts().await, scope, mode), path)?;
    }
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    result
}

async fn status_inner(
    engine: &Engine,
    args: &StatusArgs,
    sandbox: Option<&Sandbox>,
) -> Result<bool, CliError> {
    let mut view = engine.job_status().await?;
    let mut acted = false;
    if args.restart {
        println!(
            "Restarting the job (quarantine, escrows and watermark reset; held deletions stay held)…"
        );
        view = engine.restart_job().await?;
        acted = true;
    }
    if args.allow_deletes {
        let pending = engine.pending_deletions().await?;
        if pending.is_empty() {
            println!("Entra holds no deletions back: nothing to allow.");
        } else {
            print_pending(&pending);
            if args.yes || AskOnTerminal::ask("Allow these deletions in Orchidea?").await {
                let reviewed: Vec<String> =
                    pending.iter().map(|e| e.subject_id().to_string()).collect();
                view = engine.allow_deletions(&reviewed).await?;
                println!(
                    "Allowed: Entra performs the {} deletions now.",
                    pending.len()
                );
                acted = true;
            } else {
                println!("Not allowed: the deletions stay held and the job stays in quarantine.");
            }
        }
    }
    if acted && let Some(sandbox) = sandbox {
        // The sandbox's cycle takes a moment; show its result.
        sandbox.wait_idle().await;
        view = engine.job_status().await?;
    }
    for line in view.lines() {
        println!("{line}");
    }
    if !args.allow_deletes && view.quarantine.as_ref().is_some_and(|q| q.too_many_deletes) {
        let pending = engine.pending_deletions().await?;
        print_pending(&pending);
        println!(
            "To let them through: status --allow-deletes. To keep them: fix the scope, assignments or users, then status --restart."
        );
    }
    print_secret_ages(engine).await;
    let events = engine.provisioning_events(args.logs).await?;
    let outcome = args.filter.map(|f| match f {
        OutcomeArg::Success => Outcome::Success,
        OutcomeArg::Skipped => Outcome::Skipped,
        OutcomeArg::Failure => Outcome::Failure,
    });
    let shown = engine::filter_events(&events, outcome, "");
    println!(
        "\nProvisioning logs ({} of the newest {}):",
        shown.len(),
        events.len()
    );
    for e in shown {
        println!("  {}", e.line());
    }
    // Exit 1 when the admin has something to fix.
    let failed = view
        .last_execution
        .as_ref()
        .is_some_and(|e| e.state == "Failed");
    Ok(!view.is_quarantined() && !failed)
}
