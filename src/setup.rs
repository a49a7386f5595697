//! Builds an engine for the sandbox or for explicit endpoints, so the CLI,
//! the window and the tests wire things up the same way.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::engine::{EngineConfig, Notifications, Scope, SecretSource};
use crate::platform::secret::Secret;
use crate::procedure::mapping::MappingOptions;
use crate::sandbox::Sandbox;
use crate::services::graph::{GraphClient, StaticToken, TokenSource};
use crate::services::orchidea::{HttpOrchideaAdmin, ManualScim};
use crate::services::probe::ProbeOptions;

/// How the wizard reaches Orchidea.
#[derive(Debug, Clone)]
pub enum OrchideaAccess {
    /// Workspace URL and admin API token: the wizard creates the secret.
    AdminApi {
        workspace_url: Url,
        admin_token: Secret,
        idp: Option<String>,
    },
    /// The admin created the secret in the web UI and pasted it.
    Manual(ManualScim),
    /// Only the job is used (status, provision on demand).
    NotNeeded,
}

/// Choices that do not depend on where the services are.
#[derive(Debug, Clone)]
pub struct Choices {
    pub scope: Scope,
    pub app_name: String,
    pub app_id: Option<String>,
    pub create_app: bool,
    /// See [`EngineConfig::create_app_again`].
    pub create_app_again: bool,
    pub mapping: MappingOptions,
    /// IDP for SCIM-created users (id or name) on the admin-API path.
    pub idp: Option<String>,
    /// Step 15's notification settings; `None`: what Entra has, else the
    /// admin's mail and a threshold of 500.
    pub notifications: Option<Notifications>,
}

impl Default for Choices {
    fn default() -> Self {
        Self {
            scope: Scope::Assigned,
            app_name: "Orchidea".into(),
            app_id: None,
            create_app: false,
            create_app_again: false,
            mapping: MappingOptions::default(),
            idp: None,
            notifications: None,
        }
    }
}

/// An engine configuration for explicit endpoints.
pub fn config(
    http: reqwest::Client,
    graph_url: Url,
    token: Arc<dyn TokenSource>,
    orchidea: OrchideaAccess,
    choices: Choices,
) -> EngineConfig {
    // Step 0's Sign on URL: the workspace the admin API reaches, unless
    // the caller names another.
    let workspace_url = match &orchidea {
        OrchideaAccess::AdminApi { workspace_url, .. } => Some(workspace_url.clone()),
        _ => None,
    };
    let secret_source = match orchidea {
        OrchideaAccess::AdminApi {
            workspace_url,
            admin_token,
            idp,
        } => SecretSource::AdminApi {
            admin: Arc::new(HttpOrchideaAdmin::new(
                http.clone(),
                workspace_url,
                admin_token,
            )),
            idp,
        },
        OrchideaAccess::Manual(manual) => SecretSource::Manual(manual),
        OrchideaAccess::NotNeeded => SecretSource::NotNeeded,
    };
    EngineConfig {
        graph: GraphClient::new(http.clone(), graph_url, token),
        http,
        secret_source,
        app_name: choices.app_name,
        app_id: choices.app_id,
        create_app: choices.create_app || choices.create_app_again,
        create_app_again: choices.create_app_again,
        scope: choices.scope,
        mapping: choices.mapping,
        notifications: choices.notifications,
        probe: ProbeOptions::default(),
        watch_timeout: Duration::from_secs(30),
        backup_dir: Some(crate::platform::paths::data_dir().join("backups")),
        run_state: Some(crate::engine::resume::default_path()),
        cloud: crate::platform::cloud::Cloud::Global,
        tenant_id: None,
        sso: crate::engine::SsoConfig {
            workspace_url,
            metadata_dir: Some(crate::platform::paths::data_dir()),
            ..crate::engine::SsoConfig::default()
        },
    }
}

/// An engine configuration against a running sandbox. `manual` takes the
/// guided manual path instead of the admin API.
pub fn sandbox_config(
    sandbox: &Sandbox,
    manual: Option<ManualScim>,
    choices: Choices,
) -> EngineConfig {
    let orchidea = match manual {
        Some(m) => OrchideaAccess::Manual(m),
        None => OrchideaAccess::AdminApi {
            workspace_url: sandbox.orchidea_url.clone(),
            admin_token: sandbox.admin_token.clone(),
            idp: choices.idp.clone(),
        },
    };
    let mut cfg = config(
        crate::platform::http::loopback_client(),
        sandbox.graph_url.clone(),
        Arc::new(StaticToken(sandbox.graph_token.clone())),
        orchidea,
        choices,
    );
    let mut sign_in =
        crate::services::signin::SignInConfig::for_cloud(crate::platform::cloud::Cloud::Global);
    sign_in.login_url = sandbox.login_url.clone();
    sign_in.graph_url = sandbox.graph_url.clone();
    cfg.graph = cfg
        .graph
        .with_admin_consent_url(&sign_in.admin_consent_url());
    // The simulated tenant's files stay with it, apart from real ones.
    cfg.backup_dir = Some(sandbox.wizard_dir.join("backups"));
    cfg.run_state = Some(sandbox.wizard_dir.join("run-state.json"));
    cfg.sso.login_url = Some(sandbox.login_url.clone());
    cfg.sso.tenant = Some(sandbox.tenant_id.clone());
    cfg.sso.workspace_url = Some(sandbox.orchidea_url.clone());
    cfg.sso.metadata_dir = Some(sandbox.wizard_dir.clone());
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(orchidea: OrchideaAccess) -> EngineConfig {
        config(
            crate::platform::http::loopback_client(),
            Url::parse("https://graph.microsoft.com/v1.0").unwrap(),
            Arc::new(StaticToken(Secret::new("t"))),
            orchidea,
            Choices::default(),
        )
    }

    #[test]
    fn a_real_tenant_signs_on_at_the_admin_apis_workspace_and_keeps_the_metadata_in_the_data_dir() {
        let workspace = Url::parse("https://app.orchidea.dev/acme").unwrap();
        let c = cfg(OrchideaAccess::AdminApi {
            workspace_url: workspace.clone(),
            admin_token: Secret::new("a"),
            idp: None,
        });
        assert_eq!(c.sso.workspace_url, Some(workspace));
        assert_eq!(c.sso.metadata_dir, Some(crate::platform::paths::data_dir()));
        assert_eq!(
            c.sso.choice,
            crate::engine::SsoChoice::No,
            "only when asked"
        );
        // The sign-in and tenant come from the sign-in (the engine falls
        // back to the cloud's and the signed-in tenant).
        assert!(c.sso.login_url.is_none() && c.sso.tenant.is_none());
        let manual = cfg(OrchideaAccess::NotNeeded);
        assert_eq!(manual.sso.workspace_url, None);
    }
}
