//! Reaching the tenant: the sandbox or a signed-in tenant, and the secrets
//! read from the environment or a hidden prompt (never argv).

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use orchidea_wizard::engine::EngineConfig;
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::services::orchidea::ManualScim;
use orchidea_wizard::setup::{self, Choices, OrchideaAccess};
use url::Url;

use crate::args::{SandboxArgs, SigninArgs, TargetArgs};
use crate::error::CliError;
use crate::signin;

/// `sandbox`: serves the sandbox until Ctrl-C, its endpoints on stdout.
pub async fn serve(args: SandboxArgs) -> Result<bool, CliError> {
    let sandbox = Sandbox::start(SandboxOptions {
        tenant_file: args.sandbox_tenant,
        state_file: args.sandbox_state,
        faults: args.sandbox_fault,
        ..SandboxOptions::default()
    })
    .await?;
    println!("{}", sandbox.endpoints_json());
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    Ok(true)
}

/// Reads a secret from `var` (taken from the environment at start), else a
/// hidden prompt; refuses without a terminal.
pub fn read_secret(var: &str, prompt: &str) -> Result<String, CliError> {
    if let Some(value) = orchidea_wizard::platform::secret_env::var(var) {
        return Ok(value.expose().to_string());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::NoTerminal {
            var: var.to_string(),
        });
    }
    rpassword::prompt_password(prompt).map_err(CliError::ReadSecret)
}

/// What the engine needs to reach Orchidea, before the tenant is known.
pub enum OrchideaChoice {
    Manual(ManualScim),
    AdminApi(Option<Url>),
    NotNeeded,
}

/// Starts the sandbox or reads the Graph token, and builds the engine's
/// configuration the same way for every command.
pub async fn connect(
    target: &TargetArgs,
    orchidea: OrchideaChoice,
    mut choices: Choices,
) -> Result<(Option<Sandbox>, EngineConfig), CliError> {
    choices.app_name.clone_from(&target.app);
    choices.app_id.clone_from(&target.app_id);
    if target.sandbox {
        let sandbox = Sandbox::start(SandboxOptions {
            tenant_file: target.sandbox_args.sandbox_tenant.clone(),
            state_file: target.sandbox_args.sandbox_state.clone(),
            faults: target.sandbox_args.sandbox_fault.clone(),
            ..SandboxOptions::default()
        })
        .await?;
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
            admin_token: signin::orchidea_token(
                &url,
                Some(&signed),
                remember,
                target.signin.remembered_only,
                read_secret,
            )
            .await?,
            workspace_url: url,
            idp: choices.idp.clone(),
        },
        OrchideaChoice::AdminApi(None) => return Err(CliError::NoOrchideaAccess),
    };
    let mut cfg = setup::config(
        signed.http.clone(),
        signed.cfg.graph_url.clone(),
        Arc::clone(&signed.token),
        access,
        choices,
    );
    cfg.cloud = signed.cfg.cloud;
    cfg.tenant_id.clone_from(&signed.tenant_id);
    // Step 0 reads Entra's federation metadata where the admin signed in.
    cfg.sso.login_url = Some(signed.cfg.login_url.clone());
    cfg.graph = cfg
        .graph
        .with_admin_consent_url(&signed.cfg.admin_consent_url());
    Ok((None, cfg))
}

/// `signin`: sign in, check the roles (and Orchidea's token), remember if asked.
pub async fn sign_in_only(args: SigninArgs) -> Result<bool, CliError> {
    let signed = signin::sign_in(&args.signin).await?;
    if let Some(url) = &args.orchidea_url {
        signin::orchidea_token(url, Some(&signed), args.signin.remember, false, read_secret)
            .await?;
    }
    Ok(true)
}
