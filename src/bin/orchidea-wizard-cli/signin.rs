//! Signing in from the terminal: device code by default (works over SSH
//! and on servers without a browser), the system browser with `--browser`,
//! a remembered refresh token when one is stored, or a token handed over
//! in `GRAPH_ACCESS_TOKEN` for automation.

use std::io::Write;
use std::sync::Arc;

use orchidea_wizard::Secret;
use orchidea_wizard::platform::cloud::Cloud;
use orchidea_wizard::platform::credstore::CredentialStore;
use orchidea_wizard::platform::settings;
use orchidea_wizard::services::connect::{self, Overrides, Remembered};
use orchidea_wizard::services::graph::{GraphClient, StaticToken, TokenSource};
use orchidea_wizard::services::signin::{
    self, DeviceCodePrompt, RoleCheck, SignInConfig, SystemBrowser,
};
use url::Url;

use crate::error::CliError;

/// Where and how to sign in (flags win over the saved settings).
#[derive(clap::Args, Clone)]
#[allow(clippy::doc_markdown)] // the field docs are the --help text; backticks would print
pub struct SignInArgs {
    /// Microsoft cloud: global, usgov (US Government L4), usgovdod (US
    /// Government L5, DoD) or china (21Vianet). Default: the saved one, else global.
    #[arg(long, value_parser = Cloud::parse)]
    pub cloud: Option<Cloud>,
    /// Tenant ID or verified domain. Default: the saved one, else any work account.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Application (client) ID of your own app registration. Default:
    /// Microsoft Graph Command Line Tools (README, "Signing in").
    #[arg(long, value_name = "GUID")]
    pub client_id: Option<String>,
    /// Identity platform base URL (e.g. a standalone sandbox's login_url).
    /// https://, or http:// on this computer only.
    #[arg(long, value_name = "URL", value_parser = login_url_flag)]
    pub login_url: Option<String>,
    /// Microsoft Graph v1.0 base URL. Default: the cloud's. https://, or
    /// http:// on this computer only.
    #[arg(long, value_name = "URL", value_parser = graph_url_flag)]
    pub graph_url: Option<String>,
    /// Sign in with the system browser instead of a device code.
    #[arg(long)]
    pub browser: bool,
    /// Keep the sign-in (the refresh token only) and Orchidea's admin API
    /// token in the OS credential store; `signout` removes them.
    #[arg(long)]
    pub remember: bool,
    /// Only the remembered sign-in (and Orchidea token) may be used: no
    /// prompt, no token from the environment. Set by `run --plan` per tenant.
    #[arg(long, hide = true)]
    pub remembered_only: bool,
}

/// `--login-url`, refused while the command line is read (before any
/// request) unless [`connect::parse_endpoint`] accepts it; empty, as
/// before, means the saved or default one.
fn login_url_flag(raw: &str) -> Result<String, CliError> {
    endpoint_flag(raw, "sign-in URL")
}

/// `--graph-url`, as [`login_url_flag`].
fn graph_url_flag(raw: &str) -> Result<String, CliError> {
    endpoint_flag(raw, "Microsoft Graph URL")
}

fn endpoint_flag(raw: &str, what: &str) -> Result<String, CliError> {
    let raw = raw.trim();
    if !raw.is_empty() {
        connect::parse_endpoint(raw, what).map_err(CliError::lib)?;
    }
    Ok(raw.to_string())
}

/// `--orchidea-url` where the admin token is sent to it: the window's rule.
pub fn orchidea_url_flag(raw: &str) -> Result<Url, CliError> {
    connect::parse_endpoint(raw, "Orchidea workspace URL").map_err(CliError::lib)
}

impl SignInArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            cloud: self.cloud,
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            login_url: self.login_url.clone(),
            graph_url: self.graph_url.clone(),
        }
    }

    /// The sign-in configuration: saved settings, then these flags.
    pub fn config(&self) -> Result<SignInConfig, CliError> {
        let path = settings::path();
        let saved = match settings::load_from(&path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("warning: {e} The defaults are used instead.");
                settings::Settings::default()
            }
        };
        connect::signin_config(&saved, &self.overrides()).map_err(CliError::lib)
    }
}

/// A signed-in tenant: the token source for Graph, and the store when the
/// admin asked to remember (or had remembered before).
pub struct SignedIn {
    pub cfg: SignInConfig,
    pub http: reqwest::Client,
    pub token: Arc<dyn TokenSource>,
    pub store: Option<Arc<dyn CredentialStore>>,
    /// The signed-in account's tenant (`tid`), when a sign-in gave one.
    pub tenant_id: Option<String>,
}

/// The credential store, saying once when only this session can be used.
async fn open_store(remember: bool) -> Arc<dyn CredentialStore> {
    let (store, note) = connect::open_store().await;
    if let (true, Some(note)) = (remember, note) {
        eprintln!("warning: {note}");
    }
    store
}

/// Signs in for a command: `GRAPH_ACCESS_TOKEN`, else the remembered
/// sign-in, else device code (or the browser with `--browser`); then
/// checks the admin's roles before any step runs.
pub async fn sign_in(args: &SignInArgs) -> Result<SignedIn, CliError> {
    let cfg = args.config()?;
    let http = orchidea_wizard::platform::http::try_client().map_err(CliError::lib)?;
    // In a plan, one token in the environment would go to every tenant.
    let from_env = (!args.remembered_only)
        .then(|| orchidea_wizard::platform::secret_env::var("GRAPH_ACCESS_TOKEN"))
        .flatten();
    if let Some(token) = from_env {
        println!("Using the Microsoft Graph access token from GRAPH_ACCESS_TOKEN.");
        let signed = SignedIn {
            token: Arc::new(StaticToken(Secret::new(token.expose().trim()))),
            cfg,
            http,
            store: None,
            tenant_id: None,
        };
        check_roles(&signed).await?;
        return Ok(signed);
    }
    let store = open_store(args.remember).await;
    let tokens = match connect::remembered(&cfg, &http, &store)
        .await
        .map_err(CliError::lib)?
    {
        Remembered::Tokens(t) => {
            println!("Signed in with the remembered sign-in (`signout` forgets it).");
            Some(t)
        }
        Remembered::Stale(why) => {
            eprintln!("The remembered sign-in no longer works and was removed: {why}");
            None
        }
        Remembered::Unreadable(why) => {
            eprintln!(
                "warning: the remembered sign-in could not be read and is not used: {why} Signing in again (with --remember the new sign-in replaces it; `signout` removes it)."
            );
            None
        }
        Remembered::Nothing => None,
    };
    let remembered = tokens.is_some();
    if !remembered && args.remembered_only {
        let cloud = args
            .cloud
            .filter(|c| *c != Cloud::Global)
            .map(|c| format!(" --cloud {}", c.key()));
        let login = args.login_url.as_ref().map(|u| format!(" --login-url {u}"));
        let flags = [cloud, login].into_iter().flatten().collect::<String>();
        return Err(CliError::NotRemembered {
            tenant: cfg.tenant.clone(),
            cloud: cfg.cloud.to_string(),
            flags,
        });
    }
    let tokens = if let Some(t) = tokens {
        t
    } else {
        let t = interactive(&cfg, &http, args.browser).await?;
        connect::keep_or_forget(&cfg, &store, &t, args.remember)
            .await
            .map_err(CliError::lib)?;
        t
    };
    let who = tokens.account.describe();
    let tenant_id = tokens.account.tenant_id.clone();
    let keep = (args.remember || remembered).then(|| Arc::clone(&store));
    if keep.is_some() && args.remember && !remembered {
        println!(
            "Signed in as {who}; the sign-in is kept in {}.",
            store.describe()
        );
    } else {
        println!("Signed in as {who}.");
    }
    let session = connect::session(&cfg, http.clone(), tokens, keep.clone());
    let signed = SignedIn {
        token: Arc::new(session),
        cfg,
        http,
        store: keep,
        tenant_id,
    };
    check_roles(&signed).await?;
    Ok(signed)
}

async fn interactive(
    cfg: &SignInConfig,
    http: &reqwest::Client,
    browser: bool,
) -> Result<signin::Tokens, CliError> {
    if browser {
        let show = |url: &Url| {
            println!(
                "Opening the sign-in page in your browser. If it does not open, visit:\n  {url}"
            );
            let _ = std::io::stdout().flush();
        };
        return signin::sign_in_with_browser(cfg, http, &SystemBrowser, &show)
            .await
            .map_err(CliError::lib);
    }
    let prompt = |p: &DeviceCodePrompt| {
        println!("{}", p.message);
        println!(
            "  (code {}; waiting for you to finish signing in)",
            p.user_code
        );
        let _ = std::io::stdout().flush();
    };
    signin::sign_in_with_device_code(cfg, http, &prompt)
        .await
        .map_err(|e| match e {
            e @ signin::SignInError::DeviceCodeBlocked { .. } => CliError::DeviceCodeBlocked(e),
            e => CliError::lib(e),
        })
}

/// Stops before any step when the account may not configure provisioning;
/// a role list Graph will not show is a warning, not a stop.
async fn check_roles(signed: &SignedIn) -> Result<(), CliError> {
    let graph = GraphClient::new(
        signed.http.clone(),
        signed.cfg.graph_url.clone(),
        Arc::clone(&signed.token),
    );
    match signin::check_roles(&graph).await {
        Ok(check @ RoleCheck::Sufficient(_)) => {
            println!("{}", check.message());
            Ok(())
        }
        Ok(check @ RoleCheck::Insufficient(_)) => Err(CliError::Refused(check.message())),
        Err(e) => {
            eprintln!("warning: could not read your directory roles ({e}); continuing.");
            Ok(())
        }
    }
}

/// Orchidea's admin API token: `ORCHIDEA_ADMIN_TOKEN`, else the remembered
/// one, else a hidden prompt; checked against the workspace before use.
pub async fn orchidea_token(
    workspace: &Url,
    signed: Option<&SignedIn>,
    remember: bool,
    remembered_only: bool,
    read_secret: impl Fn(&str, &str) -> Result<String, CliError>,
) -> Result<Secret, CliError> {
    let http = orchidea_wizard::platform::http::try_client().map_err(CliError::lib)?;
    let store = signed.and_then(|s| s.store.clone());
    let store = match (store, remember) {
        (Some(s), _) => Some(s),
        (None, true) => Some(open_store(true).await),
        (None, false) => None,
    };
    if (remembered_only || !orchidea_wizard::platform::secret_env::is_set("ORCHIDEA_ADMIN_TOKEN"))
        && let Some(store) = &store
        && let Some(token) = connect::remembered_orchidea_token(store, workspace)
            .await
            .unwrap_or_else(|e| {
                // A damaged entry does not block the command: ask instead.
                eprintln!(
                    "warning: the remembered Orchidea admin token could not be read and is not used: {e}"
                );
                None
            })
    {
        match connect::check_orchidea(http.clone(), workspace, &token).await {
            Ok(info) => {
                println!(
                    "Orchidea: workspace \"{}\" (remembered admin token).",
                    info.name
                );
                return Ok(token);
            }
            Err(e) => {
                eprintln!(
                    "The remembered Orchidea admin token no longer works and was removed: {e}"
                );
                let _ =
                    connect::keep_or_forget_orchidea_token(store, workspace, &token, false).await;
            }
        }
    }
    if remembered_only {
        return Err(CliError::NoRememberedOrchideaToken(workspace.to_string()));
    }
    let token = Secret::new(
        read_secret("ORCHIDEA_ADMIN_TOKEN", "Orchidea admin API token: ")?
            .trim()
            .to_string(),
    );
    let info = connect::check_orchidea(http, workspace, &token)
        .await
        .map_err(CliError::lib)?;
    println!(
        "Orchidea: workspace \"{}\"; the admin token works.",
        info.name
    );
    if let Some(store) = &store {
        connect::keep_or_forget_orchidea_token(store, workspace, &token, remember)
            .await
            .map_err(CliError::lib)?;
    }
    Ok(token)
}

/// `signout`: forgets the remembered sign-in and Orchidea token.
pub async fn sign_out(args: &SignInArgs, workspace: Option<&Url>) -> Result<bool, CliError> {
    let cfg = args.config()?;
    let (store, note) = connect::open_store().await;
    if let Some(note) = note {
        println!("Nothing to remove: {note}");
        return Ok(true);
    }
    let removed = connect::sign_out(&cfg, &store, workspace)
        .await
        .map_err(CliError::lib)?;
    println!(
        "Signed out of {} ({}): {removed} stored item(s) removed from {}.",
        cfg.tenant,
        cfg.cloud,
        store.describe()
    );
    Ok(true)
}
