//! What a run is given before it starts.

use std::sync::Arc;
use std::time::Duration;

use super::audience::Scope;
use super::notify::Notifications;
use crate::procedure::mapping::MappingOptions;
use crate::services::graph::GraphClient;
use crate::services::orchidea::{ManualScim, OrchideaAdmin};
use crate::services::probe::ProbeOptions;

/// Where the SCIM URL and secret come from (step 1).
#[derive(Clone)]
pub enum SecretSource {
    /// The wizard creates the secret through Orchidea's admin API.
    AdminApi {
        admin: Arc<dyn OrchideaAdmin>,
        /// IDP id or name; `None` picks the workspace default.
        idp: Option<String>,
    },
    /// The admin created it in Orchidea's web UI and pasted it.
    Manual(ManualScim),
    /// Commands that only work with the job after Start (status, provision
    /// on demand) and never touch the SCIM secret.
    NotNeeded,
}

/// Everything a run needs to know before it starts.
#[derive(Clone)]
pub struct EngineConfig {
    pub graph: GraphClient,
    /// Used for the desktop SCIM probe.
    pub http: reqwest::Client,
    pub secret_source: SecretSource,
    /// Display-name prefix used to find the enterprise app.
    pub app_name: String,
    /// A service principal the admin picked; otherwise found by name.
    pub app_id: Option<String>,
    /// Create the app from the non-gallery template when none is found.
    pub create_app: bool,
    /// Create it even though an app an earlier run created is not shown by
    /// Entra yet (the admin deleted it, or asks for a second one knowingly).
    pub create_app_again: bool,
    pub scope: Scope,
    pub mapping: MappingOptions,
    /// Step 15's notification settings; `None` keeps what Entra has saved,
    /// or proposes the admin's mail and a threshold of 500 when nothing is.
    pub notifications: Option<Notifications>,
    pub probe: ProbeOptions,
    /// How long step 16 waits for the first cycle to report.
    pub watch_timeout: Duration,
    /// Where the schema and settings are saved before each write (`None`:
    /// no backups, e.g. benchmarks).
    pub backup_dir: Option<std::path::PathBuf>,
    /// Where the run's progress is kept after each step (`crate::engine::resume`).
    pub run_state: Option<std::path::PathBuf>,
    /// The Microsoft cloud: a few calls are missing from some national clouds.
    pub cloud: crate::platform::cloud::Cloud,
    /// The signed-in tenant's id, when the sign-in gave one: what the run
    /// state remembers is kept per tenant.
    pub tenant_id: Option<String>,
    /// Step 0: whether and how to set up SAML single sign-on.
    pub sso: SsoConfig,
}

/// Whether step 0 sets up single sign-on when no Orchidea app has it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SsoChoice {
    /// Leave it to the admin (the step says how).
    #[default]
    No,
    /// Set it up.
    Yes,
    /// Ask the admin (through [`crate::engine::Confirm`]) when no Orchidea
    /// app has it; a run that asks no one (`AlwaysYes`) leaves it.
    Ask,
}

/// What step 0 needs besides Graph and Orchidea's admin API.
#[derive(Debug, Clone, Default)]
pub struct SsoConfig {
    pub choice: SsoChoice,
    /// The Microsoft sign-in endpoint: the federation metadata is served there.
    pub login_url: Option<url::Url>,
    /// The tenant the metadata is read for (the sign-in's `tid` on a real tenant).
    pub tenant: Option<String>,
    /// The Orchidea workspace's home (`https://app.orchidea.dev/<workspace>`):
    /// the Sign on URL.
    pub workspace_url: Option<url::Url>,
    /// The manual path: the reply URL the admin copied from Orchidea's new IDP.
    pub reply_url: Option<String>,
    /// Where the federation metadata file is written for the admin.
    pub metadata_dir: Option<std::path::PathBuf>,
}
