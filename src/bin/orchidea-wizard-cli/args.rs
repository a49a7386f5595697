//! The command line: subcommands and their flags (clap).

// The doc comments here are the `--help` text; backticks would be printed.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use orchidea_wizard::sandbox::Fault;
use url::Url;

use crate::{bench, mappings, signin};

#[derive(Parser)]
#[command(
    name = "orchidea-wizard-cli",
    version = orchidea_wizard::platform::build_info::LONG_VERSION,
    about = "Connect Orchidea to Microsoft Entra ID for SCIM provisioning, headless"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the steps (check first, then write only what is missing); with
    /// --with-sso, step 0 sets up SAML single sign-on first when no app has it.
    Run(RunArgs),
    /// After Start: the job's status, quarantine and the latest provisioning logs.
    Status(StatusArgs),
    /// Drift check (read-only): compare the live setup with Orchidea's
    /// specification; exit 0 when all holds, 1 when something differs.
    Check(crate::check::CheckArgs),
    /// Provision one user now (search by name, mail or UPN) and show each stage.
    ProvisionUser(ProvisionUserArgs),
    /// List the backups taken before each write, or put one back (the diff is shown first).
    Restore(RestoreArgs),
    /// Undo this setup: pause the job, put back the first backups, delete
    /// the job, revoke the secrets and delete the single sign-on IDP the
    /// wizard created (plan shown first; the app and its SAML settings stay).
    Undo(UndoArgs),
    /// Rotate the SCIM secret without stopping provisioning: new secret,
    /// probed, tested by Entra, saved (settings kept), tested as saved, and
    /// only then the old one revoked.
    Rotate(crate::rotate::RotateArgs),
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
#[allow(clippy::struct_field_names)] // the fields are the --sandbox-* flags
pub struct SandboxArgs {
    /// Tenant and workspace to simulate (format: docs/sandbox-tenant.md).
    #[arg(long, value_name = "FILE")]
    pub sandbox_tenant: Option<PathBuf>,
    /// Keep the sandbox's state in FILE between runs.
    #[arg(long, value_name = "FILE")]
    pub sandbox_state: Option<PathBuf>,
    /// Make the sandbox fail or slow down, e.g. `scim:503x1` or
    /// `graph:POST:/start:429x1:retry-after=2` (docs/sandbox-tenant.md). Repeatable.
    #[arg(long, value_name = "SPEC", value_parser = Fault::parse)]
    pub sandbox_fault: Vec<Fault>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    Assigned,
    All,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum UserNameArg {
    /// userName ← mail (Orchidea's specification).
    Mail,
    /// userName ← Coalesce([mail],[userPrincipalName]): users without mail
    /// arrive too (a deviation from Orchidea's specification).
    Coalesce,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OutcomeArg {
    Success,
    Skipped,
    Failure,
}

#[derive(clap::Args)]
pub struct SigninArgs {
    #[command(flatten)]
    pub signin: signin::SignInArgs,
    /// Also check (and with --remember keep) Orchidea's admin API token for
    /// this workspace (from ORCHIDEA_ADMIN_TOKEN or a hidden prompt).
    /// https://, or http:// on this computer only.
    #[arg(long, value_name = "URL", value_parser = signin::orchidea_url_flag)]
    pub orchidea_url: Option<Url>,
}

#[derive(clap::Args)]
pub struct SignoutArgs {
    #[command(flatten)]
    pub signin: signin::SignInArgs,
    /// Also forget Orchidea's admin API token for this workspace.
    #[arg(long, value_name = "URL")]
    pub orchidea_url: Option<Url>,
}

/// Where the tenant is: the sandbox or real endpoints.
#[derive(clap::Args)]
pub struct TargetArgs {
    /// Run against the built-in sandbox instead of a real tenant.
    #[arg(long)]
    pub sandbox: bool,
    #[command(flatten)]
    pub sandbox_args: SandboxArgs,
    /// Enterprise app display-name prefix to look for.
    #[arg(long, default_value = "Orchidea")]
    pub app: String,
    /// Service principal id of the enterprise app (when several match).
    #[arg(long)]
    pub app_id: Option<String>,
    #[command(flatten)]
    pub signin: signin::SignInArgs,
}

impl TargetArgs {
    /// Whether Graph is on this computer: the built-in or a standalone sandbox.
    pub fn local(&self) -> bool {
        self.sandbox
            || self
                .signin
                .graph_url
                .as_deref()
                .and_then(|u| Url::parse(u.trim()).ok())
                .is_some_and(|u| orchidea_wizard::platform::http::is_loopback(&u))
    }

    /// How the report names where the run happened.
    pub fn mode(&self) -> &'static str {
        if self.local() { "sandbox" } else { "tenant" }
    }
}

#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// How many of the newest provisioning log events to show.
    #[arg(long, default_value_t = 20)]
    pub logs: usize,
    /// Show only events with this outcome.
    #[arg(long, value_enum)]
    pub filter: Option<OutcomeArg>,
    /// Restart the job as the portal's "Restart provisioning" does (lifts the
    /// quarantine once the cause is fixed); deletions held back by the
    /// accidental-deletion threshold stay held.
    #[arg(long)]
    pub restart: bool,
    /// Let the deletions held back by the accidental-deletion threshold
    /// through: lists them and asks first.
    #[arg(long, conflicts_with = "restart")]
    pub allow_deletes: bool,
    /// With --allow-deletes: do not ask (the list is still printed).
    #[arg(long, requires = "allow_deletes")]
    pub yes: bool,
    /// Write the report as JSON to FILE and as Markdown beside it (no secrets).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup to put back (its id, or a unique start of it); without
    /// one, the backups are listed.
    pub id: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Do not ask before restoring.
    #[arg(long)]
    pub yes: bool,
}

#[derive(clap::Args)]
pub struct UndoArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Orchidea's workspace, to revoke the wizard's SCIM secrets through the
    /// admin API; without it they are named for you to revoke.
    #[arg(long, value_name = "URL", value_parser = signin::orchidea_url_flag)]
    pub orchidea_url: Option<Url>,
    /// Print the plan only; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask before undoing.
    #[arg(long, conflicts_with = "dry_run")]
    pub yes: bool,
}

#[derive(clap::Args)]
pub struct ProvisionUserArgs {
    /// The user: the start of a display name, a mail or a user principal name.
    pub user: String,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Write the report as JSON to FILE and as Markdown beside it (no secrets).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Run every tenant of a plan file, one after another (format:
    /// docs/plan-format.md); a failure in one does not stop the others.
    #[arg(long, value_name = "FILE.toml", conflicts_with_all = [
        "sandbox", "tenant", "cloud", "client_id", "app_id", "scim_url", "orchidea_url",
        "idp", "notify_email", "delete_threshold", "create_app", "create_app_again",
        "report", "sandbox_dump", "sandbox_tenant", "sandbox_state", "sandbox_fault",
        "crash_at_step", "user_name", "scope", "login_url", "graph_url", "browser",
        "remember", "app", "replication_wait", "with_sso", "reply_url", "workspace_url",
    ])]
    pub plan: Option<PathBuf>,
    /// With --plan: where each tenant's report (and a practice tenant's
    /// state) goes. Default: FILE-reports beside the plan.
    #[arg(long, value_name = "DIR", requires = "plan")]
    pub report_dir: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Write the sandbox's final state as JSON (with --sandbox).
    #[arg(long, value_name = "FILE")]
    pub sandbox_dump: Option<PathBuf>,
    /// Who Entra provisions (step 14). Default: what the last run saved
    /// for this app, else assigned.
    #[arg(long, value_enum)]
    pub scope: Option<ScopeArg>,
    /// Do not ask before the schema write and before start.
    #[arg(long)]
    pub yes: bool,
    /// Guided manual path: the SCIM URL you created in Orchidea's web UI.
    /// The secret comes from ORCHIDEA_SCIM_SECRET or a hidden prompt.
    #[arg(long, value_name = "URL")]
    pub scim_url: Option<String>,
    /// IDP for users created through SCIM (id or name; default: the workspace default).
    #[arg(long)]
    pub idp: Option<String>,
    /// Source of userName (steps 11–12). Default: what the last run saved
    /// for this app, else mail.
    #[arg(long, value_enum)]
    pub user_name: Option<UserNameArg>,
    /// Failure and quarantine e-mails go here (default: what Entra has
    /// saved, else your own mail); "none" sends none.
    #[arg(long, value_name = "EMAIL")]
    pub notify_email: Option<String>,
    /// Accidental-deletion threshold (default 500); "off" switches it off.
    #[arg(long, value_name = "N")]
    pub delete_threshold: Option<String>,
    /// Create the enterprise app from the non-gallery template if none is found.
    #[arg(long)]
    pub create_app: bool,
    /// As --create-app, even though an app an earlier run created is not
    /// shown by Entra yet (deleted, or a second app wanted knowingly).
    #[arg(long)]
    pub create_app_again: bool,
    /// How long to wait for Entra to show an app just created (replication
    /// can take minutes).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub replication_wait: u64,
    /// Write the report as JSON to FILE and as Markdown beside it (no secrets).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// End the process as a kill would when step N starts (kill-and-resume test).
    #[arg(long, value_name = "N", hide = true)]
    pub crash_at_step: Option<String>,
    /// Orchidea workspace URL for the admin API (token from
    /// ORCHIDEA_ADMIN_TOKEN). https://, or http:// on this computer only.
    #[arg(long, value_name = "URL", value_parser = signin::orchidea_url_flag)]
    pub orchidea_url: Option<Url>,
    #[command(flatten)]
    pub sso: SsoArgs,
}

/// `run`'s step 0 (single sign-on) flags.
#[derive(clap::Args)]
pub struct SsoArgs {
    /// Step 0: set up SAML single sign-on for Orchidea when no app has it
    /// (create or complete the app, signing certificate, federation
    /// metadata, Orchidea's IDP). Without it, when no app has it, you are
    /// asked on the terminal; with --yes it is only checked.
    #[arg(long)]
    pub with_sso: bool,
    /// Step 0 without Orchidea's admin API: the reply URL from "Copy reply
    /// URL" on the IDP you added in Orchidea (also ORCHIDEA_SAML_REPLY_URL).
    #[arg(long, value_name = "URL", requires = "with_sso")]
    pub reply_url: Option<String>,
    /// Step 0: your Orchidea workspace's home page, the app's Sign on URL
    /// (https://app.orchidea.dev/<workspace>). Default: --orchidea-url.
    #[arg(long, value_name = "URL", value_parser = signin::orchidea_url_flag)]
    pub workspace_url: Option<Url>,
}
