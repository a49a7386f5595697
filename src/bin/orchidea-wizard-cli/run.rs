//! `run`: the 16 steps, checked first, then only what is missing written.

use std::io::Write;

use orchidea_wizard::engine::{
    self, AlwaysYes, Confirm, Engine, EngineError, Notifications, Scope, report,
};
use orchidea_wizard::procedure::mapping::{MappingOptions, UserNameSource};
use orchidea_wizard::services::orchidea::{self, ManualScim};
use orchidea_wizard::setup::Choices;
use orchidea_wizard::{Progress, StepId};

use crate::args::{RunArgs, ScopeArg, UserNameArg};
use crate::error::CliError;
use crate::render::{AskOnTerminal, print_progress, write_report};
use crate::target::{OrchideaChoice, connect, read_secret};

fn notifications_from(args: &RunArgs) -> Result<Option<Notifications>, CliError> {
    if args.notify_email.is_none() && args.delete_threshold.is_none() {
        return Ok(None);
    }
    let email = match args.notify_email.as_deref() {
        Some(e) if e.trim().eq_ignore_ascii_case("none") => None,
        Some(e) => engine::parse_email(e).map_err(CliError::lib)?,
        None => None,
    };
    let delete_threshold = match args.delete_threshold.as_deref() {
        Some(t) if t.trim().eq_ignore_ascii_case("off") => None,
        Some(t) => engine::parse_threshold(t).map_err(CliError::lib)?,
        None => Some(engine::DEFAULT_DELETE_THRESHOLD),
    };
    Ok(Some(Notifications {
        email,
        delete_threshold,
    }))
}

/// What one tenant's run came to, for `--plan`'s summary.
pub struct TenantOutcome {
    /// Every step complete and no error.
    pub complete: bool,
    /// Steps complete, of the article's 18.
    pub completed: usize,
    /// Writes this run made (0: nothing was missing).
    pub changes: usize,
    /// Users Entra reports as provisioned, once the job has run.
    pub users: Option<i64>,
    pub warnings: usize,
    /// Why the run stopped, when it did.
    pub stopped: Option<String>,
}

/// Step 0's flags: set up single sign-on, where the workspace is, and the
/// reply URL the admin copied from Orchidea (manual path).
fn sso_choices(run: &RunArgs, cfg: &mut engine::EngineConfig) {
    let args = &run.sso;
    cfg.sso.choice = sso_choice(args.with_sso, run.yes);
    if !args.with_sso {
        return;
    }
    if let Some(url) = &args.workspace_url {
        cfg.sso.workspace_url = Some(url.clone());
    }
    cfg.sso.reply_url = args
        .reply_url
        .clone()
        .or_else(|| std::env::var("ORCHIDEA_SAML_REPLY_URL").ok());
}

/// `--with-sso` sets single sign-on up; otherwise the admin is asked when
/// no app has it, unless `--yes` (which never sets it up unasked).
fn sso_choice(with_sso: bool, yes: bool) -> engine::SsoChoice {
    match (with_sso, yes) {
        (true, _) => engine::SsoChoice::Yes,
        (false, true) => engine::SsoChoice::No,
        (false, false) => engine::SsoChoice::Ask,
    }
}

pub async fn run(args: RunArgs) -> Result<bool, CliError> {
    if let Some(plan) = &args.plan {
        return crate::plan::run_plan(plan, args.report_dir.as_deref(), args.yes).await;
    }
    Ok(Box::pin(run_tenant(args)).await?.complete)
}

/// One tenant: the steps, then the status, the warnings and the report.
pub async fn run_tenant(args: RunArgs) -> Result<TenantOutcome, CliError> {
    let manual = match &args.scim_url {
        Some(raw) => {
            // Loopback SCIM URLs only make sense when Graph is the sandbox.
            let sandbox = args.target.local();
            let scim_url = orchidea::parse_scim_url_for(raw, sandbox).map_err(CliError::lib)?;
            let secret = read_secret(
                "ORCHIDEA_SCIM_SECRET",
                "SCIM secret (from Orchidea's web UI): ",
            )?;
            let secret = orchidea::parse_secret(&secret).map_err(CliError::lib)?;
            Some(ManualScim { scim_url, secret })
        }
        None => None,
    };
    let choices = Choices {
        scope: match args.scope {
            Some(ScopeArg::All) => Scope::All,
            Some(ScopeArg::Assigned) | None => Scope::Assigned,
        },
        create_app: args.create_app,
        create_app_again: args.create_app_again,
        idp: args.idp.clone(),
        mapping: MappingOptions {
            user_name_source: match args.user_name {
                Some(UserNameArg::Coalesce) => UserNameSource::CoalesceMailUpn,
                Some(UserNameArg::Mail) | None => UserNameSource::Mail,
            },
            ..MappingOptions::default()
        },
        notifications: notifications_from(&args)?,
        ..Choices::default()
    };
    let orchidea = match manual {
        Some(m) => OrchideaChoice::Manual(m),
        None => OrchideaChoice::AdminApi(args.orchidea_url.clone()),
    };
    let (sandbox, mut cfg) = connect(&args.target, orchidea, choices).await?;
    sso_choices(&args, &mut cfg);
    cfg.graph = cfg
        .graph
        .with_settle_within(std::time::Duration::from_secs(args.replication_wait));
    // A fresh sandbox is a new tenant: only a kept one continues a run.
    // In a plan the real tenants share one run-state file, so its summary
    // may be another tenant's: not shown there.
    let continues = (!args.target.sandbox || args.target.sandbox_args.sandbox_state.is_some())
        && !args.target.signin.remembered_only;
    if continues
        && let Some(path) = &cfg.run_state
        && let Some(last) = engine::resume::load(path)
        && !last.complete()
        && engine::backup::same_graph(&last.graph_url, cfg.graph.base().as_str())
    {
        println!(
            "Continuing where the last run stopped ({}): every step is checked, only what is missing is done.",
            last.summary()
        );
    }

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
    let crash_at = args.crash_at_step.clone();
    let printer = tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            print_progress(&p);
            // The kill-and-resume test: die as a kill would, at the first
            // sign of step N (steps 10–13 report with 9's single write).
            if crash_at.as_deref() == Some(p.step.number())
                && !matches!(p.status, orchidea_wizard::Status::Pending)
            {
                let _ = std::io::stdout().flush();
                std::process::exit(orchidea_wizard::sandbox::faults::CRASH_EXIT_CODE);
            }
        }
    });
    let engine = Engine::new(cfg).with_events(tx);
    let confirm: Box<dyn Confirm> = if args.yes {
        Box::new(AlwaysYes)
    } else {
        Box::new(AskOnTerminal)
    };
    // Flags not given keep what the last run saved for this app.
    let kept = if args.scope.is_none() || args.user_name.is_none() {
        engine
            .keep_last_choices(args.scope.is_none(), args.user_name.is_none())
            .await
    } else {
        Ok(None)
    };
    let outcome = match kept {
        Ok(line) => {
            if let Some(line) = line {
                println!("{line}");
            }
            engine.run_all(confirm.as_ref()).await
        }
        Err(e) => Err(e),
    };

    if let Err(err) = &outcome {
        eprintln!("{}", crate::hints::stopped(err));
        if let EngineError::SchemaChanged(lines) = err {
            eprintln!("The changes needed now:");
            for line in lines {
                eprintln!("  {line}");
            }
            eprintln!("Run again to review them (with --yes they are written without asking).");
        }
        if let EngineError::Graph(g) = err
            && let Some(id) = g.request_id()
        {
            eprintln!("Graph request-id: {id}");
        }
    }
    let started = engine
        .checklist()
        .await
        .status(StepId::StartProvisioning)
        .is_complete();
    let mut users = None;
    if started {
        if let Some(sandbox) = &sandbox {
            // The sandbox's first cycle is quick; wait so the report has it.
            sandbox.wait_idle().await;
        }
        match engine.job_status().await {
            Ok(view) => {
                for line in view.lines() {
                    println!("status: {line}");
                }
                users = view
                    .counts
                    .iter()
                    .find(|(kind, _)| kind.eq_ignore_ascii_case("user"))
                    .map(|(_, n)| *n);
            }
            Err(e) => eprintln!("could not read the job status: {e}"),
        }
        if let Err(e) = engine.provisioning_events(20).await {
            eprintln!("could not read the provisioning logs: {e}");
        }
    }
    let facts = engine.facts().await;
    let scope = engine.scope().await;
    drop(engine);
    let _ = printer.await;
    let warnings = facts.all_warnings();
    for warning in &warnings {
        println!("warning: {}", crate::hints::warning(warning));
    }
    let complete = facts.checklist.all_complete();
    println!(
        "{} of {} steps complete{}",
        facts.checklist.completed(),
        StepId::ALL.len(),
        if complete {
            ""
        } else {
            " — run again to continue where it stopped"
        }
    );
    if let Some(path) = &args.report {
        write_report(&report::build(&facts, scope, args.target.mode()), path)?;
    }
    if let Some(sandbox) = sandbox {
        sandbox.wait_idle().await;
        if let Some(path) = &args.sandbox_dump {
            let json = serde_json::to_string_pretty(&sandbox.dump().await)?;
            std::fs::write(path, json).map_err(|source| CliError::Write {
                path: path.clone(),
                source,
            })?;
        }
        sandbox.shutdown().await;
    }
    Ok(TenantOutcome {
        complete: complete && outcome.is_ok(),
        completed: facts.checklist.completed(),
        changes: facts.changes.len(),
        users,
        warnings: warnings.len(),
        stopped: outcome.err().map(|e| e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_sign_on_is_set_up_when_asked_for_or_agreed_to_never_by_yes_alone() {
        assert_eq!(sso_choice(true, false), engine::SsoChoice::Yes);
        assert_eq!(sso_choice(true, true), engine::SsoChoice::Yes);
        assert_eq!(sso_choice(false, false), engine::SsoChoice::Ask);
        assert_eq!(sso_choice(false, true), engine::SsoChoice::No);
    }
}
