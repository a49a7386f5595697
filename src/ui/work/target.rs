//! Where the window works: the built-in sandbox or a real tenant, and the
//! engines and Orchidea clients built for it.

use std::sync::Arc;

use url::Url;

use super::sso;
use crate::engine::Engine;
use crate::platform::secret::Secret;
use crate::sandbox::Sandbox;
use crate::services::graph::TokenSource;
use crate::services::orchidea::{HttpOrchideaAdmin, ManualScim, OrchideaAdmin};
use crate::setup::{self, Choices, OrchideaAccess};

/// Why no engine or admin API client could be made for the target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Screen 1 was reached before the sandbox or a tenant was chosen.
    #[error("{}", crate::ui::screen::orchidea_secret::NO_TARGET)]
    NoTarget,
    #[error(
        "Orchidea's admin API is not configured: paste the SCIM URL and secret you created in Orchidea instead."
    )]
    NoAdminApi,
    #[error(transparent)]
    Client(#[from] crate::platform::http::ClientError),
}

/// The files the window's sandbox starts from (`--sandbox-tenant`,
/// `--sandbox-state`); both `None`: the built-in tenant, thrown away after.
#[derive(Debug, Clone, Default)]
pub struct SandboxFiles {
    pub tenant: Option<std::path::PathBuf>,
    pub state: Option<std::path::PathBuf>,
}

/// Where the wizard works: the built-in sandbox or a real tenant.
#[derive(Clone)]
pub enum Target {
    Sandbox(Arc<Sandbox>),
    Tenant(Tenant),
}

/// A real Entra tenant and, optionally, Orchidea's admin API.
#[derive(Clone)]
pub struct Tenant {
    pub graph_url: Url,
    /// The signed-in session (refreshes itself) or a given token.
    pub token: Arc<dyn TokenSource>,
    pub cloud: crate::platform::cloud::Cloud,
    /// Workspace URL and admin API token; `None` means the manual path.
    pub orchidea: Option<(Url, Secret)>,
    /// Where admin consent is granted, named when Graph answers 403.
    pub consent_url: Option<Url>,
    /// The signed-in account's tenant (`tid`), when known.
    pub tenant_id: Option<String>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("graph_url", &self.graph_url.as_str())
            .field("admin_api", &self.orchidea.is_some())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Sandbox(s) => write!(f, "Sandbox({})", s.graph_url),
            Target::Tenant(t) => write!(f, "Tenant({})", t.graph_url),
        }
    }
}

impl Target {
    /// Whether the wizard may create the secret itself (cheap: for views).
    pub fn has_admin(&self) -> bool {
        match self {
            Target::Sandbox(_) => true,
            Target::Tenant(t) => t.orchidea.is_some(),
        }
    }

    /// Orchidea's admin API client, built inside the task that uses it
    /// (`None`: no admin API configured).
    pub fn admin(&self) -> Result<Option<Arc<dyn OrchideaAdmin>>, TargetError> {
        let (url, token) = match self {
            Target::Sandbox(s) => (s.orchidea_url.clone(), s.admin_token.clone()),
            Target::Tenant(t) => match t.orchidea.clone() {
                Some(o) => o,
                None => return Ok(None),
            },
        };
        let http = match self {
            Target::Sandbox(_) => crate::platform::http::try_loopback_client(),
            Target::Tenant(_) => crate::platform::http::try_client(),
        }?;
        Ok(Some(Arc::new(HttpOrchideaAdmin::new(http, url, token))))
    }

    /// An engine for this target: the manual path when `manual` is given,
    /// otherwise Orchidea's admin API.
    pub fn engine(
        &self,
        manual: Option<ManualScim>,
        choices: Choices,
    ) -> Result<Engine, TargetError> {
        self.engine_with(manual, choices, sso::SsoRequest::default())
    }

    /// As [`Target::engine`], with step 0's choice from its screen.
    pub fn engine_with(
        &self,
        manual: Option<ManualScim>,
        choices: Choices,
        step0: sso::SsoRequest,
    ) -> Result<Engine, TargetError> {
        let mut cfg = match self {
            Target::Sandbox(s) => setup::sandbox_config(s, manual, choices),
            Target::Tenant(t) => {
                let orchidea = match (manual, &t.orchidea) {
                    (Some(m), _) => OrchideaAccess::Manual(m),
                    (None, Some((url, token))) => OrchideaAccess::AdminApi {
                        workspace_url: url.clone(),
                        admin_token: token.clone(),
                        idp: choices.idp.clone(),
                    },
                    (None, None) => return Err(TargetError::NoAdminApi),
                };
                t.config(orchidea, choices)?
            }
        };
        sso::apply(&mut cfg, step0);
        Ok(Engine::new(cfg))
    }
}

impl Tenant {
    /// An engine configuration for this tenant with Orchidea reached as given.
    pub fn config(
        &self,
        orchidea: OrchideaAccess,
        choices: Choices,
    ) -> Result<crate::engine::EngineConfig, TargetError> {
        let mut cfg = setup::config(
            crate::platform::http::try_client()?,
            self.graph_url.clone(),
            Arc::clone(&self.token),
            orchidea,
            choices,
        );
        cfg.cloud = self.cloud;
        cfg.tenant_id.clone_from(&self.tenant_id);
        if let Some(url) = &self.consent_url {
            cfg.graph = cfg.graph.with_admin_consent_url(url);
        }
        Ok(cfg)
    }
}
