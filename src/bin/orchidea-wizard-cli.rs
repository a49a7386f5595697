//! Headless front end: the same engine and sandbox as the window.
//!
//! Secrets are read from the environment or a hidden prompt, never argv.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use futures::future::BoxFuture;
use orchidea_wizard::engine::{AlwaysYes, Confirm, Engine, EngineError, Scope};
use orchidea_wizard::graph::StaticToken;
use orchidea_wizard::orchidea::{self, ManualScim};
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::setup::{self, Choices, OrchideaAccess};
use orchidea_wizard::{Progress, Secret, StepId, report};
use url::Url;

#[derive(Parser)]
#[command(
    name = "orchidea-wizard-cli",
    version = orchidea_wizard::build_info::LONG_VERSION,
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
    /// Serve the sandbox (simulated Entra tenant + Orchidea workspace) until Ctrl-C.
    Sandbox(SandboxArgs),
    /// List the steps of the procedure.
    Steps,
}

#[derive(clap::Args)]
struct SandboxArgs {
    /// Tenant and workspace to simulate (format: docs/sandbox-tenant.md).
    #[arg(long, value_name = "FILE")]
    sandbox_tenant: Option<PathBuf>,
    /// Keep the sandbox's state in FILE between runs.
    #[arg(long, value_name = "FILE")]
    sandbox_state: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ScopeArg {
    Assigned,
    All,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Run against the built-in sandbox instead of a real tenant.
    #[arg(long)]
    sandbox: bool,
    #[command(flatten)]
    sandbox_args: SandboxArgs,
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
    /// Enterprise app display-name prefix to look for.
    #[arg(long, default_value = "Orchidea")]
    app: String,
    /// Service principal id of the enterprise app (when several match).
    #[arg(long)]
    app_id: Option<String>,
    /// Create the enterprise app from the non-gallery template if none is found.
    #[arg(long)]
    create_app: bool,
    /// Write a JSON report of every step and every change (no secrets).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Microsoft Graph base URL (real tenants; the token comes from GRAPH_ACCESS_TOKEN).
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://graph.microsoft.com/v1.0"
    )]
    graph_url: Url,
    /// Orchidea workspace URL for the admin API (token from ORCHIDEA_ADMIN_TOKEN).
    #[arg(long, value_name = "URL")]
    orchidea_url: Option<Url>,
}

#[tokio::main]
async fn main() -> ExitCode {
    orchidea_wizard::logging::init();
    orchidea_wizard::http::install_crypto_provider();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args).await,
        Command::Sandbox(args) => serve(args).await,
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
    })
    .await
    .map_err(|e| e.to_string())?;
    println!("{}", sandbox.endpoints_json());
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    Ok(true)
}

/// Reads a secret from `var`, else a hidden prompt; refuses without a terminal.
fn read_secret(var: &str, prompt: &str) -> Result<String, String> {
    if let Ok(value) = std::env::var(var) {
        return Ok(value);
    }
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "{var} is not set and there is no terminal to ask on. Set {var}."
        ));
    }
    rpassword::prompt_password(prompt).map_err(|e| format!("could not read the secret: {e}"))
}

async fn run(args: RunArgs) -> Result<bool, String> {
    let manual = match &args.scim_url {
        Some(raw) => {
            let scim_url = orchidea::parse_scim_url(raw).map_err(|e| e.to_string())?;
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
        app_name: args.app.clone(),
        app_id: args.app_id.clone(),
        create_app: args.create_app,
        idp: args.idp.clone(),
        ..Choices::default()
    };
    let (sandbox, cfg) = if args.sandbox {
        let sandbox = Sandbox::start(SandboxOptions {
            tenant_file: args.sandbox_args.sandbox_tenant.clone(),
            state_file: args.sandbox_args.sandbox_state.clone(),
        })
        .await
        .map_err(|e| e.to_string())?;
        let cfg = setup::sandbox_config(&sandbox, manual, choices);
        (Some(sandbox), cfg)
    } else {
        let token = Secret::new(read_secret(
            "GRAPH_ACCESS_TOKEN",
            "Microsoft Graph access token: ",
        )?);
        let orchidea = match (manual, &args.orchidea_url) {
            (Some(m), _) => OrchideaAccess::Manual(m),
            (None, Some(url)) => OrchideaAccess::AdminApi {
                workspace_url: url.clone(),
                admin_token: Secret::new(read_secret(
                    "ORCHIDEA_ADMIN_TOKEN",
                    "Orchidea admin API token: ",
                )?),
                idp: args.idp.clone(),
            },
            (None, None) => {
                return Err("give --scim-url (secret created in Orchidea's web UI) or --orchidea-url (admin API), or use --sandbox".into());
            }
        };
        let http = orchidea_wizard::http::client();
        let cfg = setup::config(
            http,
            args.graph_url.clone(),
            Arc::new(StaticToken(token)),
            orchidea,
            choices,
        );
        (None, cfg)
    };
    let scope = cfg.scope;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
    let printer = tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            print_progress(&p);
        }
    });
    let engine = Engine::new(cfg).with_events(tx);
    let confirm: Box<dyn Confirm> = if args.yes {
        Box::new(AlwaysYes)
    } else {
        Box::new(AskOnTerminal)
    };
    let outcome = engine.run_all(confirm.as_ref()).await;
    let facts = engine.facts().await;
    drop(engine);
    let _ = printer.await;

    if let Err(err) = &outcome {
        eprintln!("stopped: {err}");
        if let EngineError::Graph(g) = err
            && let Some(id) = g.request_id()
        {
            eprintln!("Graph request-id: {id}");
        }
    }
    for warning in &facts.warnings {
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
        let mode = if args.sandbox { "sandbox" } else { "tenant" };
        let json = serde_json::to_string_pretty(&report::build(&facts, scope, mode))
            .map_err(|e| e.to_string())?;
        std::fs::write(path, json)
            .map_err(|e| format!("could not write the report {}: {e}", path.display()))?;
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
            if !std::io::stdin().is_terminal() {
                println!("No terminal to confirm on; pass --yes to proceed without asking.");
                return false;
            }
            tokio::task::spawn_blocking(|| {
                print!("Proceed? [y/N] ");
                let _ = std::io::stdout().flush();
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).is_ok()
                    && line.trim().eq_ignore_ascii_case("y")
            })
            .await
            .unwrap_or(false)
        })
    }
}
