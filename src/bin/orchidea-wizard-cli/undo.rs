//! `undo`: shows the plan that puts Entra and Orchidea back as they were
//! before the wizard, asks, carries it out and prints what was done.

use futures::future::BoxFuture;
use orchidea_wizard::StepId;
use orchidea_wizard::engine::{Confirm, Engine, EngineError};
use orchidea_wizard::setup::Choices;

use crate::args::UndoArgs;
use crate::error::CliError;
use crate::render::AskOnTerminal;
use crate::target::{OrchideaChoice, connect};

pub async fn undo(args: UndoArgs) -> Result<bool, CliError> {
    let orchidea = match (&args.orchidea_url, args.target.sandbox) {
        (_, true) => OrchideaChoice::AdminApi(None),
        (Some(url), false) => OrchideaChoice::AdminApi(Some(url.clone())),
        (None, false) => OrchideaChoice::NotNeeded,
    };
    let (sandbox, cfg) = connect(&args.target, orchidea, Choices::default()).await?;
    let engine = Engine::new(cfg);
    let result = undo_inner(&engine, &args).await;
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    result
}

/// Prints the plan and asks y/N (or, with `--yes`, only prints it).
struct ShowAndAsk {
    yes: bool,
}

impl Confirm for ShowAndAsk {
    fn confirm(&self, _: StepId, plan: String) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            println!("{plan}");
            self.yes || AskOnTerminal::ask("Undo this setup?").await
        })
    }

    fn asks(&self) -> bool {
        !self.yes
    }
}

/// The engine's error with the CLI's hint (e.g. `--app-id` when several
/// apps match).
fn refused(e: EngineError) -> CliError {
    match (&e, crate::hints::hint(&e)) {
        (EngineError::UndoStopped { .. }, _) => {
            CliError::Refused(format!("{e} (`orchidea-wizard-cli undo` again continues.)"))
        }
        (_, Some(hint)) => CliError::Refused(format!("{e}\n{hint}")),
        (_, None) => e.into(),
    }
}

async fn undo_inner(engine: &Engine, args: &UndoArgs) -> Result<bool, CliError> {
    if args.dry_run {
        println!("{}", engine.undo_plan().await.map_err(refused)?.text());
        println!("(--dry-run: nothing was changed.)");
        return Ok(true);
    }
    let outcome = engine
        .undo(&ShowAndAsk { yes: args.yes })
        .await
        .map_err(refused)?;
    if outcome.plan.actions.is_empty() {
        println!("{}", outcome.plan.text());
        println!("Nothing was changed.");
        return Ok(true);
    }
    if !outcome.confirmed {
        println!("Not undone: nothing was changed.");
        return Ok(false);
    }
    println!("Done:");
    for line in &outcome.done {
        println!("  {line}");
    }
    Ok(true)
}
