//! `rotate`: replaces the SCIM secret Entra holds without stopping
//! provisioning, printing each of the six stages as it finishes. Exit 0
//! when Entra holds a new working secret and no old one is left to deal
//! with, 1 when rotation stopped (the old secret still works) or the old
//! one is still live, 2 when nothing could be done.
// Flag docs are `--help` text, where backticks would show.
#![allow(clippy::doc_markdown)]

use std::io::IsTerminal;

use orchidea_wizard::engine::rotate::{NewSecret, OldSecret, RotateOptions, RotateStage};
use orchidea_wizard::engine::{Engine, EngineError};
use orchidea_wizard::platform::secret::Secret;
use orchidea_wizard::services::orchidea::{self, ManualScim};
use orchidea_wizard::setup::Choices;
use url::Url;

use crate::args::TargetArgs;
use crate::error::CliError;
use crate::signin;
use crate::target::{OrchideaChoice, connect, read_secret};

/// Where the old secret is read from for `--verify-old`.
pub const OLD_SECRET_VAR: &str = "ORCHIDEA_OLD_SCIM_SECRET";

#[derive(clap::Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Orchidea's workspace: the new secret is created and the old one
    /// revoked through its admin API (token from ORCHIDEA_ADMIN_TOKEN, the
    /// remembered one, or a hidden prompt).
    #[arg(long, value_name = "URL", value_parser = signin::orchidea_url_flag, conflicts_with = "scim_url")]
    pub orchidea_url: Option<Url>,
    /// Guided manual path: the Tenant URL Entra holds; the new secret, made
    /// in Orchidea's web UI, comes from ORCHIDEA_SCIM_SECRET or a hidden prompt.
    #[arg(long, value_name = "URL")]
    pub scim_url: Option<String>,
    /// The old secret's id in Orchidea, when the wizard cannot tell which
    /// one Entra held (it did not create or record it).
    #[arg(long, value_name = "ID", conflicts_with = "scim_url")]
    pub old_secret_id: Option<String>,
    /// Do not rotate: check that Orchidea now refuses the old secret (from
    /// ORCHIDEA_OLD_SCIM_SECRET or a hidden prompt), after you revoked it.
    #[arg(long)]
    pub verify_old: bool,
}

pub async fn rotate(args: RotateArgs) -> Result<bool, CliError> {
    let orchidea = match (&args.scim_url, &args.orchidea_url, args.target.sandbox) {
        (Some(raw), _, _) if !args.verify_old => {
            let scim_url =
                orchidea::parse_scim_url_for(raw, args.target.local()).map_err(CliError::lib)?;
            let secret = read_secret(
                "ORCHIDEA_SCIM_SECRET",
                "New SCIM secret (from Orchidea's web UI): ",
            )?;
            let secret = orchidea::parse_secret(&secret).map_err(CliError::lib)?;
            OrchideaChoice::Manual(ManualScim { scim_url, secret })
        }
        (Some(_), _, _) => OrchideaChoice::NotNeeded,
        (None, Some(url), _) => OrchideaChoice::AdminApi(Some(url.clone())),
        (None, None, true) => OrchideaChoice::AdminApi(None),
        (None, None, false) if args.verify_old => OrchideaChoice::NotNeeded,
        (None, None, false) => {
            return Err(CliError::Refused(
                "Rotation needs Orchidea: --orchidea-url URL (the wizard creates the new secret and revokes the old one through the admin API), or --scim-url URL with the new secret from Orchidea's web UI in ORCHIDEA_SCIM_SECRET.".into(),
            ));
        }
    };
    let (sandbox, cfg) = connect(&args.target, orchidea, Choices::default()).await?;
    let engine = Engine::new(cfg);
    let result = if args.verify_old {
        verify_old(&engine).await
    } else {
        rotate_inner(&engine, &args).await
    };
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    result
}

async fn rotate_inner(engine: &Engine, args: &RotateArgs) -> Result<bool, CliError> {
    let print = |stage: RotateStage, line: &str| {
        println!("[{}/6] {}: {line}", stage.number(), stage.title());
    };
    let opts = RotateOptions {
        new_secret: NewSecret::Configured,
        old_id: args.old_secret_id.clone(),
    };
    let outcome = match engine.rotate(&opts, &print).await {
        Ok(outcome) => outcome,
        Err(e @ EngineError::RotateStopped { .. }) => {
            println!("{e}");
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    };
    for w in &outcome.warnings {
        println!("warning: {w}");
    }
    println!("Entra now holds {}.", outcome.new_secret);
    match &outcome.old {
        OldSecret::Revoked(_) | OldSecret::None => Ok(true),
        OldSecret::RevokeByHand { .. } => {
            // The admin revokes it now in Orchidea's web UI, then the
            // wizard proves it is refused.
            if !std::io::stdin().is_terminal() {
                println!(
                    "Once revoked, check it: orchidea-wizard-cli rotate --verify-old --scim-url … (old secret in {OLD_SECRET_VAR})."
                );
                return Ok(false);
            }
            println!(
                "Revoke it now in Orchidea's web UI; then paste the old secret to check that Orchidea refuses it (Enter to skip)."
            );
            let old =
                rpassword::prompt_password("Old SCIM secret: ").map_err(CliError::ReadSecret)?;
            if old.trim().is_empty() {
                println!("Not checked: the old secret may still work.");
                return Ok(false);
            }
            report_refused(engine, &Secret::new(old.trim().to_string())).await
        }
        OldSecret::NotIdentified { .. } => {
            println!(
                "Name the old one with --old-secret-id ID and rotate again, or revoke it in Orchidea's web UI."
            );
            Ok(false)
        }
        OldSecret::NotRevoked { .. } => Ok(false),
    }
}

async fn verify_old(engine: &Engine) -> Result<bool, CliError> {
    let old = read_secret(OLD_SECRET_VAR, "Old SCIM secret: ")?;
    report_refused(engine, &Secret::new(old.trim().to_string())).await
}

async fn report_refused(engine: &Engine, old: &Secret) -> Result<bool, CliError> {
    if engine.old_secret_refused(old).await? {
        println!(
            "Orchidea refuses the old secret {} now: rotation complete.",
            old.masked()
        );
        Ok(true)
    } else {
        println!(
            "Orchidea still accepts the old secret {}: revoke it in Orchidea's web UI (workspace admin → User management → SCIM).",
            old.masked()
        );
        Ok(false)
    }
}
