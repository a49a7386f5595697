//! The wizard's settings: where to sign in and what was chosen last time.
//! No secrets, ever (tokens live in [`crate::credstore`]). A JSON file in
//! the platform config dir, `ORCHIDEA_WIZARD_CONFIG_DIR` overrides it;
//! written atomically.
//!
//! SKELETON: the contract the CLI and the window are written against.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::cloud::Cloud;

/// Environment override of the config dir (tests, portable installs).
pub const CONFIG_DIR_ENV: &str = "ORCHIDEA_WIZARD_CONFIG_DIR";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub cloud: Cloud,
    /// Tenant id or domain; `None`: `organizations`.
    pub tenant: Option<String>,
    /// The admin's own app registration; `None`: the default public client.
    pub client_id: Option<String>,
    /// Endpoint overrides (a standalone sandbox, a proxy-fronted test tenant).
    pub login_url: Option<Url>,
    pub graph_url: Option<Url>,
    pub orchidea_url: Option<Url>,
    /// Redirect to `http://127.0.0.1` instead of `http://localhost`.
    pub redirect_127: bool,
    /// Keep the refresh token in the OS credential store.
    pub remember_me: bool,
    pub last: LastChoices,
}

/// What the admin chose last time, offered again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LastChoices {
    pub app_name: Option<String>,
    /// "assigned" or "all".
    pub scope: Option<String>,
    /// "mail" or "coalesce".
    pub user_name: Option<String>,
}

/// `settings.json` in the config dir.
pub fn path() -> PathBuf {
    todo!("settings: path")
}

/// The settings at `path`; a missing file is the defaults, an unreadable
/// one is an error that says which file and what is wrong.
pub fn load_from(_path: &Path) -> Result<Settings, String> {
    todo!("settings: load_from")
}

/// Writes atomically (temp file in the same dir, then rename), private.
pub fn save_to(_path: &Path, _settings: &Settings) -> std::io::Result<()> {
    todo!("settings: save_to")
}
