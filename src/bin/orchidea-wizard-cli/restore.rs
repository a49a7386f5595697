//! `restore`: the backups taken before each write, listed or put back
//! after the diff is shown.

use orchidea_wizard::engine::Engine;
use orchidea_wizard::setup::Choices;

use crate::args::RestoreArgs;
use crate::error::CliError;
use crate::render::AskOnTerminal;
use crate::target::{OrchideaChoice, connect};

pub async fn restore(args: RestoreArgs) -> Result<bool, CliError> {
    // The admin API renews the secret if settings must be restored; without
    // it (a real tenant without --orchidea-url) only schemas can be.
    let orchidea = if args.target.sandbox {
        OrchideaChoice::AdminApi(None)
    } else {
        OrchideaChoice::NotNeeded
    };
    let (sandbox, cfg) = connect(&args.target, orchidea, Choices::default()).await?;
    let engine = Engine::new(cfg);
    let result = restore_inner(&engine, &args).await;
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    result
}

async fn restore_inner(engine: &Engine, args: &RestoreArgs) -> Result<bool, CliError> {
    // Discovery finds the job, so only its backups are listed.
    let _ = engine.discover().await;
    let backups = engine.backups().await;
    let Some(id) = &args.id else {
        if backups.is_empty() {
            println!("No backups for this tenant yet: they are taken before each write.");
        }
        for b in &backups {
            println!("{}", b.line());
        }
        return Ok(true);
    };
    let backup = match backups
        .iter()
        .filter(|b| b.id.starts_with(id.trim()))
        .count()
    {
        1 => backups
            .iter()
            .find(|b| b.id.starts_with(id.trim()))
            .cloned()
            .unwrap_or_else(|| unreachable!()),
        0 => {
            if let Some(refusal) = engine.backup_refusal(id).await {
                return Err(CliError::Refused(format!(
                    "{refusal} `orchidea-wizard-cli restore` lists this tenant's backups."
                )));
            }
            return Err(CliError::NoBackup(id.clone()));
        }
        count => {
            return Err(CliError::AmbiguousBackup {
                id: id.clone(),
                count,
            });
        }
    };
    let diff = engine.restore_preview(&backup).await?;
    if diff.is_empty() {
        println!(
            "Nothing to restore: Entra already holds what backup {} saved.",
            backup.id
        );
        return Ok(true);
    }
    println!("Restoring {} changes:", backup.line());
    for line in &diff {
        println!("  {line}");
    }
    if !args.yes && !AskOnTerminal::ask("Restore it?").await {
        println!("Not restored.");
        return Ok(false);
    }
    engine.restore(&backup).await?;
    println!(
        "Restored {}. What was there before is itself backed up.",
        backup.id
    );
    Ok(true)
}
