//! What the CLI prints: progress lines, the step list, report paths, and the
//! yes/no questions asked on the terminal.

use std::io::{IsTerminal, Write};

use futures::future::BoxFuture;
use orchidea_wizard::engine::{Confirm, report};
use orchidea_wizard::services::graph::ProvisioningEvent;
use orchidea_wizard::{Progress, StepId};

use crate::error::CliError;

/// `steps`: the procedure, by hand and by the wizard.
pub fn print_steps() {
    for s in StepId::ALL {
        println!(
            "{:>3}  {}\n     by hand: {}\n     wizard:  {}",
            s.number(),
            s.title(),
            s.instruction(),
            s.automation()
        );
    }
}

pub fn print_progress(p: &Progress) {
    let detail = p.status.detail();
    let hint = if p.step == StepId::SsoIntegration {
        crate::hints::sso_not_asked(&p.status)
            .map(|h| format!(" {h}"))
            .unwrap_or_default()
    } else {
        String::new()
    };
    println!(
        "[{:>3}] {:<12} {}{}{}{hint}",
        p.step.number(),
        p.status.label(),
        p.step.title(),
        if detail.is_empty() { "" } else { " — " },
        detail
    );
}

/// The held deletions, one line each.
pub fn print_pending(pending: &[ProvisioningEvent]) {
    println!(
        "\nDeletions held back by the accidental-deletion threshold ({}):",
        pending.len()
    );
    for e in pending {
        println!("  {}", e.line());
    }
}

/// Writes the report (JSON and Markdown beside it) and names the files.
pub fn write_report(report: &report::Report, path: &std::path::Path) -> Result<(), CliError> {
    for written in report::write(report, path).map_err(CliError::lib)? {
        println!("report: {}", written.display());
    }
    Ok(())
}

/// Asks on the terminal; without one, refuses (use --yes).
pub struct AskOnTerminal;

impl Confirm for AskOnTerminal {
    fn confirm(&self, step: StepId, detail: String) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            println!(
                "\nBefore step {} ({}):\n{detail}",
                step.number(),
                step.title()
            );
            // Step 0's offer: without a terminal it is simply not taken
            // (`--yes` would not set single sign-on up either).
            if step == StepId::SsoIntegration && !std::io::stdin().is_terminal() {
                println!("Not set up: no terminal to ask on.");
                return false;
            }
            if step == StepId::ChooseScope {
                println!(
                    "To change it, answer no and run again with --user-name coalesce or --scope all (in a plan file: user_name = \"coalesce\" or scope = \"all\" in the tenant's entry), or assign users in Entra first."
                );
            }
            AskOnTerminal::ask("Proceed?").await
        })
    }
}

impl AskOnTerminal {
    /// Asks `question` [y/N]; without a terminal, no.
    pub async fn ask(question: &'static str) -> bool {
        if !std::io::stdin().is_terminal() {
            println!("No terminal to confirm on; pass --yes to proceed without asking.");
            return false;
        }
        tokio::task::spawn_blocking(move || {
            print!("{question} [y/N] ");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).is_ok() && line.trim().eq_ignore_ascii_case("y")
        })
        .await
        .unwrap_or(false)
    }
}
