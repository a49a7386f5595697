//! Headless front end: the same engine and sandbox as the window.
//!
//! Secrets are read from the environment or a hidden prompt, never argv.

mod bench;
mod mappings;
mod signin;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use futures::future::BoxFuture;
use orchidea_wizard::engine::report;
use orchidea_wizard::engine::{
    self, AlwaysYes, Confirm, Engine, EngineConfig, EngineError, Notifications, Scope,
};
use orchidea_wizard::procedure::mapping::{MappingOptions, UserNameSource};
use orchidea_wizard::sandbox::{Fault, Sandbox, SandboxOptions};
use orchidea_wizard::services::graph::{DirectoryUser, Outcome};
use orchidea_wizard::services::orchidea::{self, ManualScim};
use orchidea_wizard::setup::{self, Choices, OrchideaAccess};
use orchidea_wizard::{Progress, StepId};
use url::Url;

#[derive(Parser)]
#[command(
    name = "orchidea-wizard-cli",
    version = orchidea_wizard::platform::build_info::LONG_VERSION,
    about = "Connect Orchidea to Microsoft Entra ID for SCIM provisioning, headless"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the 16 steps (check first, then write only what is missing).
    Run(RunArgs),
    /// After Start: the job's status, quarantine and the latest provisioning logs.
    Status(StatusArgs),
    /// Provision one user now (search by name, mail or UPN) and show each stage.
    ProvisionUser(ProvisionUserArgs),
    /// List the backups taken before each write, or put one back (the diff is shown first).
    Restore(RestoreArgs),
    /// Sign in to Microsoft Entra (device code, or --browser), check your
    /// roles, and with --remember keep the sign-in for later commands.
    Signin(SigninArgs),
    /// Forget the remembered sign-in (and, with --orchidea-url, Orchidea's admin token).
    Signout(SignoutArgs),
    /// Serve the sandbox (simulated Entra tenant + Orchidea workspace) until Ctrl-C.
    Sandbox(SandboxArgs),
    /// List the steps of the procedure.
    Steps,
    /// Apply the mapping edit of steps 9–13 to an exported schema file and
    /// show the diff (offline: no sign-in, no network).
    Mappings(mappings::MappingsArgs),
    /// Measure the critical path under latency, a 5,000-user cycle, the
    /// window's first frame, memory and responsiveness, and binary sizes.
    Bench(bench::BenchArgs),
    /// One provisioning cycle of N users, measured in its own process (used by `bench`).
    #[command(hide = true)]
    BenchProvision {
        #[arg(long)]
        users: usize,
    },
}

#[derive(clap::Args)]
struct SandboxArgs {
    /// Tenant and workspace to simulate (format: docs/sandbox-tenant.md).
    #[arg(long, value_name = "FILE")]
    sandbox_tenant: Option<PathBuf>,
    /// Keep the sandbox's state in FILE between runs.
    #[arg(long, value_name = "FILE")]
    sandbox_state: Option<PathBuf>,
    /// Make the sandbox fail or slow down, e.g. `scim:503x1` or
    /// `graph:POST:/start:429x1:retry-after=2` (docs/sandbox-tenant.md). Repeatable.
    #[arg(long, value_name = "SPEC", value_parser = parse_fault)]
    sandbox_fault: Vec<Fault>,
}

fn parse_fault(spec: &str) -> Result<Fault, String> {
    Fault::parse(spec).map_err(String::from)
}

#[derive(Clone, Copy, ValueEnum)]
enum ScopeArg {
    Assigned,
    All,
}

#[derive(Clone, Copy, ValueEnum)]
enum UserNameArg {
    /// userName ← mail (Orchidea's specification).
    Mail,
    /// userName ← Coalesce([mail],[userPrincipalName]): users without mail
    /// arrive too (a deviation from Orchidea's specification).
    Coalesce,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutcomeArg {
    Success,
    Skipped,
    Failure,
}

#[derive(clap::Args)]
struct SigninArgs {
    #[command(flatten)]
    signin: signin::SignInArgs,
    /// Also check (and with --remember keep) Orchidea's admin API token for
    /// this workspace (from ORCHIDEA_ADMIN_TOKEN or a hidden prompt).
    /// https://, or http:// on this computer only.
    #[arg(long, value_name = "URL", value_parser = signin::orchidea_url_flag)]
    orchidea_url: Option<Url>,
}

#[derive(clap::Args)]
struct SignoutArgs {
    #[command(flatten)]
    signin: signin::SignInArgs,
    /// Also forget Orchidea's admin API token for this workspace.
    #[arg(long, value_name = "URL")]
    orchidea_url: Option<Url>,
}

/// Where the tenant is: the sandbox or real endpoints.
#[derive(clap::Args)]
struct TargetArgs {
    /// Run against the built-in sandbox instead of a real tenant.
    #[arg(long)]
    sandbox: bool,
    #[command(flatten)]
    sandbox_args: SandboxArgs,
    /// Enterprise app display-name prefix to look for.
    #[arg(long, default_value = "Orchidea")]
    app: String,
    /// Service principal id of the enterprise app (when several match).
    #[arg(long)]
    app_id: Option<String>,
    #[command(flatten)]
    signin: signin::SignInArgs,
}

impl TargetArgs {
    /// Whether Graph is on this computer: the built-in or a standalone sandbox.
    fn local(&self) -> bool {
        self.sandbox
            || self
                .signin
                .graph_url
                .as_deref()
                .and_then(|u| Url::parse(u.trim()).ok())
                .is_some_and(|u| orchidea_wizard::platform::http::is_loopback(&u))
    }

    /// How the report names where the run happened.
    fn mode(&self) -> &'static str {
        if self.local() { "sandbox" } else { "tenant" }
    }
}

#[derive(clap::Args)]
struct StatusArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// How many of the newest provisioning log events to show.
    #[arg(long, default_value_t = 20)]
    logs: usize,
    /// Show only events with this outcome.
    #[arg(long, value_enum)]
    filter: Option<OutcomeArg>,
    /// Restart the job as the portal's "Restart provisioning" does (lifts the
    /// quarantine once the cause is fixed); deletions held back by the
    /// accidental-deletion threshold stay held.
    #[arg(long)]
    restart: bool,
    /// Let the deletions held back by the accidental-deletion threshold
    /// through: lists them and asks first.
    #[arg(long, conflicts_with = "restart")]
    allow_deletes: bool,
    /// With --allow-deletes: do not ask (the list is still printed).
    #[arg(long, requires = "allow_deletes")]
    yes: bool,
    /// Write the report as JSON to FILE and as Markdown beside it (no secrets).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RestoreArgs {
    /// The backup to put back (its id, or a unique start of it); without
    /// one, the backups are listed.
    id: Option<String>,
    #[command(flatten)]
    target: TargetArgs,
    /// Do not ask before restoring.
    #[arg(long)]
    yes: bool,
}

#[derive(clap::Args)]
struct ProvisionUserArgs {
    /// The user: the start of a display name, a mail or a user principal name.
    user: String,
    #[command(flatten)]
    target: TargetArgs,
    /// Write the report as JSON to FILE and as Markdown beside it (no secrets).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Write the sandbox's final state as JSON (with --sandbox).
    #[arg(long, value_name = "FILE")]
    sandbox_dump: Option<PathBuf>,
    /// Who Entra provisions (step 14).
    #[arg(long, value_enum, default_value = "assigned")]
    scope: ScopeArg,
    /// Do not ask before the schema write and before start.
    #[arg(long)]
    yes: bool,
    /// Guided manual path: the SCIM URL you created in Orchidea's web UI.
    /// The secret comes from ORCHIDEA_SCIM_SECRET or a hidden prompt.
    #[arg(long, value_name = "URL")]
    scim_url: Option<String>,
    /// IDP for users created through SCIM (id or name; default: the workspace default).
    #[arg(long)]
    idp: Option<String>,
    /// Source of userName (steps 11–12).
    #[arg(long, value_enum, default_value = "mail")]
    user_name: UserNameArg,
    /// Failure and quarantine e-mails go here (default: what Entra has
    /// saved, else your own mail); "none" sends none.
    #[arg(long, value_name = "EMAIL")]
    notify_email: Option<String>,
    /// Accidental-deletion threshold (default 500); "off" switches it off.
    #[arg(long, value_name = "N")]
    delete_threshold: Option<String>,
    /// Create the enterprise app from the non-gallery template if none is found.
    #[arg(long)]
    create_app: bool,
    /// As --create-app, even though an app an earlier run created is not
    /// shown by Entra yet (deleted, or a second app wanted knowingly).
    #[arg(long)]
    create_app_again: bool,
    /// How long to wait for Entra to show an app just created (replication
    /// can take minutes).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    replication_wait: u64,
    /// Write the report as JSON to FILE and as Markdown beside it (no secrets).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// End the process as a kill would when step N starts (kill-and-resume test).
    #[arg(long, value_name = "N", hide = true)]
    crash_at_step: Option<String>,
    /// Orchidea workspace URL for the admin API (token from
    /// ORCHIDEA_ADMIN_TOKEN). https://, or http:// on this computer only.
    #[arg(long, value_name = "URL", value_parser = signin::orchidea_url_flag)]
    orchidea_url: Option<Url>,
}

fn main() -> ExitCode {
    // SAFETY: the first thing the process does: no other thread runs yet
    // (the runtime is started below, after the secrets left the environment).
    #[allow(unsafe_code)]
    unsafe {
        orchidea_wizard::platform::secret_env::take_from_env()
    };
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(async_main()),
        Err(e) => {
            eprintln!("error: could not start: {e}");
            ExitCode::from(2)
        }
    }
}

async fn async_main() -> ExitCode {
    orchidea_wizard::platform::logging::init();
    orchidea_wizard::platform::http::install_crypto_provider();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args).await,
        Command::Status(args) => status(args).await,
        Command::ProvisionUser(args) => provision_user(args).await,
        Command::Restore(args) => restore(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::BenchProvision { users } => bench::provision(users).await,
        Command::Sandbox(args) => serve(args).await,
        Command::Mappings(args) => mappings::run(args),
        Command::Signin(args) => sign_in_only(args).await,
        Command::Signout(args) => signin::sign_out(&args.signin, args.orchidea_url.as_ref()).await,
        Command::Steps => {
            for s in StepId::ALL {
                println!(
                    "{:>3}  {}\n     by hand: {}\n     wizard:  {}",
                    s.number(),
                    s.title(),
                    s.instruction(),
                    s.automation()
                );
            }
            Ok(true)
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

async fn serve(args: SandboxArgs) -> Result<bool, String> {
    let sandbox = Sandbox::start(SandboxOptions {
        tenant_file: args.sandbox_tenant,
        state_file: args.sandbox_state,
        faults: args.sandbox_fault,
        ..SandboxOptions::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    println!("{}", sandbox.endpoints_json());
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    Ok(true)
}

/// Reads a secret from `var` (taken from the environment at start), else a
/// hidden prompt; refuses without a terminal.
fn read_secret(var: &str, prompt: &str) -> Result<String, String> {
    if let Some(value) = orchidea_wizard::platform::secret_env::var(var) {
        return Ok(value.expose().to_string());
    }
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "{var} is not set and there is no terminal to ask on. Set {var}."
        ));
    }
    rpassword::prompt_password(prompt).map_err(|e| format!("could not read the secret: {e}"))
}

/// What the engine needs to reach Orchidea, before the tenant is known.
enum OrchideaChoice {
    Manual(ManualScim),
    AdminApi(Option<Url>),
    NotNeeded,
}

/// Starts the sandbox or reads the Graph token, and builds the engine's
/// configuration the same way for every command.
async fn connect(
    target: &TargetArgs,
    orchidea: OrchideaChoice,
    mut choices: Choices,
) -> Result<(Option<Sandbox>, EngineConfig), String> {
    choices.app_name = target.app.clone();
    choices.app_id = target.app_id.clone();
    if target.sandbox {
        let sandbox = Sandbox::start(SandboxOptions {
            tenant_file: target.sandbox_args.sandbox_tenant.clone(),
            state_file: target.sandbox_args.sandbox_state.clone(),
            faults: target.sandbox_args.sandbox_fault.clone(),
            ..SandboxOptions::default()
        })
        .await
        .map_err(|e| e.to_string())?;
        let cfg = match orchidea {
            OrchideaChoice::Manual(m) => setup::sandbox_config(&sandbox, Some(m), choices),
            _ => setup::sandbox_config(&sandbox, None, choices),
        };
        return Ok((Some(sandbox), cfg));
    }
    let signed = signin::sign_in(&target.signin).await?;
    let remember = target.signin.remember;
    let access = match orchidea {
        OrchideaChoice::Manual(m) => OrchideaAccess::Manual(m),
        OrchideaChoice::NotNeeded => OrchideaAccess::NotNeeded,
        OrchideaChoice::AdminApi(Some(url)) => OrchideaAccess::AdminApi {
            admin_token: signin::orchidea_token(&url, Some(&signed), remember, read_secret).await?,
            workspace_url: url,
            idp: choices.idp.clone(),
        },
        OrchideaChoice::AdminApi(None) => {
            return Err("give --scim-url (secret created in Orchidea's web UI) or --orchidea-url (admin API), or use --sandbox".into());
        }
    };
    let mut cfg = setup::config(
        signed.http.clone(),
        signed.cfg.graph_url.clone(),
        Arc::clone(&signed.token),
        access,
        choices,
    );
    cfg.cloud = signed.cfg.cloud;
    cfg.tenant_id = signed.tenant_id.clone();
    cfg.graph = cfg
        .graph
        .with_admin_consent_url(&signed.cfg.admin_consent_url());
    Ok((None, cfg))
}

/// `signin`: sign in, check the roles (and Orchidea's token), remember if asked.
async fn sign_in_only(args: SigninArgs) -> Result<bool, String> {
    let signed = signin::sign_in(&args.signin).await?;
    if let Some(url) = &args.orchidea_url {
        signin::orchidea_token(url, Some(&signed), args.signin.remember, read_secret).await?;
    }
    Ok(true)
}

fn notifications_from(args: &RunArgs) -> Result<Option<Notifications>, String> {
    if args.notify_email.is_none() && args.delete_threshold.is_none() {
        return Ok(None);
    }
    let email = match args.notify_email.as_deref() {
        Some(e) if e.trim().eq_ignore_ascii_case("none") => None,
        Some(e) => engine::parse_email(e)?,
        None => None,
    };
    let delete_threshold = match args.delete_threshold.as_deref() {
        Some(t) if t.trim().eq_ignore_ascii_case("off") => None,
        Some(t) => engine::parse_threshold(t)?,
        None => Some(engine::DEFAULT_DELETE_THRESHOLD),
    };
    Ok(Some(Notifications {
        email,
        delete_threshold,
    }))
}

async fn run(args: RunArgs) -> Result<bool, String> {
    let manual = match &args.scim_url {
        Some(raw) => {
            // Loopback SCIM URLs only make sense when Graph is the sandbox.
            let sandbox = args.target.local();
            let scim_url = orchidea::parse_scim_url_for(raw, sandbox).map_err(|e| e.to_string())?;
            let secret = read_secret(
                "ORCHIDEA_SCIM_SECRET",
                "SCIM secret (from Orchidea's web UI): ",
            )?;
            let secret = orchidea::parse_secret(&secret).map_err(|e| e.to_string())?;
            Some(ManualScim { scim_url, secret })
        }
        None => None,
    };
    let choices = Choices {
        scope: match args.scope {
            ScopeArg::Assigned => Scope::Assigned,
            ScopeArg::All => Scope::All,
        },
        create_app: args.create_app,
        create_app_again: args.create_app_again,
        idp: args.idp.clone(),
        mapping: MappingOptions {
            user_name_source: match args.user_name {
                UserNameArg::Mail => UserNameSource::Mail,
                UserNameArg::Coalesce => UserNameSource::CoalesceMailUpn,
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
    cfg.graph = cfg
        .graph
        .with_settle_within(std::time::Duration::from_secs(args.replication_wait));
    let scope = cfg.scope;
    // A fresh sandbox is a new tenant: only a kept one continues a run.
    let continues = !args.target.sandbox || args.target.sandbox_args.sandbox_state.is_some();
    if continues
        && let Some(path) = &cfg.run_state
        && let Some(last) = orchidea_wizard::engine::resume::load(path)
        && !last.complete()
        && orchidea_wizard::engine::backup::same_graph(&last.graph_url, cfg.graph.base().as_str())
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
    let outcome = engine.run_all(confirm.as_ref()).await;

    if let Err(err) = &outcome {
        eprintln!("stopped: {err}");
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
            }
            Err(e) => eprintln!("could not read the job status: {e}"),
        }
        if let Err(e) = engine.provisioning_events(20).await {
            eprintln!("could not read the provisioning logs: {e}");
        }
    }
    let facts = engine.facts().await;
    drop(engine);
    let _ = printer.await;
    for warning in &facts.all_warnings() {
        println!("warning: {warning}");
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
            let json =
                serde_json::to_string_pretty(&sandbox.dump().await).map_err(|e| e.to_string())?;
            std::fs::write(path, json)
                .map_err(|e| format!("could not write {}: {e}", path.display()))?;
        }
        sandbox.shutdown().await;
    }
    Ok(complete && outcome.is_ok())
}

fn write_report(report: &report::Report, path: &std::path::Path) -> Result<(), String> {
    for written in report::write(report, path)? {
        println!("report: {}", written.display());
    }
    Ok(())
}

async fn status(args: StatusArgs) -> Result<bool, String> {
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
) -> Result<bool, String> {
    let mut view = engine.job_status().await.map_err(|e| e.to_string())?;
    let mut acted = false;
    if args.restart {
        println!(
            "Restarting the job (quarantine, escrows and watermark reset; held deletions stay held)…"
        );
        view = engine.restart_job().await.map_err(|e| e.to_string())?;
        acted = true;
    }
    if args.allow_deletes {
        let pending = engine
            .pending_deletions()
            .await
            .map_err(|e| e.to_string())?;
        if pending.is_empty() {
            println!("Entra holds no deletions back: nothing to allow.");
        } else {
            print_pending(&pending);
            if args.yes || AskOnTerminal::ask("Allow these deletions in Orchidea?").await {
                let reviewed: Vec<String> =
                    pending.iter().map(|e| e.subject_id().to_string()).collect();
                view = engine
                    .allow_deletions(&reviewed)
                    .await
                    .map_err(|e| e.to_string())?;
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
        view = engine.job_status().await.map_err(|e| e.to_string())?;
    }
    for line in view.lines() {
        println!("{line}");
    }
    if !args.allow_deletes && view.quarantine.as_ref().is_some_and(|q| q.too_many_deletes) {
        let pending = engine
            .pending_deletions()
            .await
            .map_err(|e| e.to_string())?;
        print_pending(&pending);
        println!(
            "To let them through: status --allow-deletes. To keep them: fix the scope, assignments or users, then status --restart."
        );
    }
    let events = engine
        .provisioning_events(args.logs)
        .await
        .map_err(|e| e.to_string())?;
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

/// The held deletions, one line each.
fn print_pending(pending: &[orchidea_wizard::services::graph::ProvisioningEvent]) {
    println!(
        "\nDeletions held back by the accidental-deletion threshold ({}):",
        pending.len()
    );
    for e in pending {
        println!("  {}", e.line());
    }
}

async fn restore(args: RestoreArgs) -> Result<bool, String> {
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

async fn restore_inner(engine: &Engine, args: &RestoreArgs) -> Result<bool, String> {
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
                return Err(refusal);
            }
            return Err(format!(
                "No backup \"{id}\" for this tenant. List them with `orchidea-wizard-cli restore`."
            ));
        }
        n => {
            return Err(format!(
                "\"{id}\" matches {n} backups; give more of the id."
            ));
        }
    };
    let diff = engine
        .restore_preview(&backup)
        .await
        .map_err(|e| e.to_string())?;
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
    engine.restore(&backup).await.map_err(|e| e.to_string())?;
    println!(
        "Restored {}. What was there before is itself backed up.",
        backup.id
    );
    Ok(true)
}

/// The one user `query` names: an exact id, mail or UPN wins; otherwise the
/// search must find exactly one.
fn pick_user(query: &str, found: Vec<DirectoryUser>) -> Result<DirectoryUser, String> {
    let q = query.trim();
    let exact = |u: &DirectoryUser| {
        u.id.eq_ignore_ascii_case(q)
            || u.mail.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(q))
            || u.user_principal_name
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(q))
    };
    if let Some(u) = found.iter().find(|u| exact(u)) {
        return Ok(u.clone());
    }
    match found.len() {
        0 => Err(format!(
            "No user's name, mail or user principal name starts with \"{q}\"."
        )),
        1 => Ok(found.into_iter().next().unwrap_or_default()),
        n => {
            let names: Vec<String> = found
                .iter()
                .take(10)
                .map(|u| {
                    format!(
                        "{} <{}>",
                        u.display_name.as_deref().unwrap_or("?"),
                        u.user_principal_name.as_deref().unwrap_or("?")
                    )
                })
                .collect();
            Err(format!(
                "{n} users match \"{q}\": {}. Give the mail or user principal name of one.",
                names.join(", ")
            ))
        }
    }
}

async fn provision_user(args: ProvisionUserArgs) -> Result<bool, String> {
    let (sandbox, cfg) =
        connect(&args.target, OrchideaChoice::NotNeeded, Choices::default()).await?;
    let scope = cfg.scope;
    let mode = args.target.mode();
    let engine = Engine::new(cfg);
    let result = async {
        let found = engine
            .find_users(&args.user)
            .await
            .map_err(|e| e.to_string())?;
        let user = pick_user(&args.user, found)?;
        println!(
            "Provisioning {} <{}> now…",
            user.display_name.as_deref().unwrap_or("?"),
            user.user_principal_name.as_deref().unwrap_or("?")
        );
        let r = engine
            .provision_user(&user)
            .await
            .map_err(|e| e.to_string())?;
        for step in &r.steps {
            println!("  {}", engine::stage_sentence(step));
        }
        let why = match (&r.error_code, &r.error_message) {
            (Some(c), Some(m)) => format!(" — {m} ({c})"),
            (Some(c), None) => format!(" — {c}"),
            (None, Some(m)) => format!(" — {m}"),
            (None, None) => String::new(),
        };
        println!("Result: {}{why}", r.result);
        Ok::<bool, String>(!r.result.eq_ignore_ascii_case("failure"))
    }
    .await;
    if let Some(path) = &args.report {
        write_report(&report::build(&engine.facts().await, scope, mode), path)?;
    }
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    result
}

fn print_progress(p: &Progress) {
    let detail = p.status.detail();
    println!(
        "[{:>3}] {:<12} {}{}{}",
        p.step.number(),
        p.status.label(),
        p.step.title(),
        if detail.is_empty() { "" } else { " — " },
        detail
    );
}

/// Asks on the terminal; without one, refuses (use --yes).
struct AskOnTerminal;

impl Confirm for AskOnTerminal {
    fn confirm(&self, step: StepId, detail: String) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            println!(
                "\nBefore step {} ({}):\n{detail}",
                step.number(),
                step.title()
            );
            AskOnTerminal::ask("Proceed?").await
        })
    }
}

impl AskOnTerminal {
    /// Asks `question` [y/N]; without a terminal, no.
    async fn ask(question: &'static str) -> bool {
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
