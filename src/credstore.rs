//! Where "Remember me" keeps the refresh token and Orchidea's admin API
//! token: the OS credential store (Keychain, Credential Manager, Secret
//! Service) through `keyring-core`, or nowhere (session only). Never a
//! plain file.
//!
//! SKELETON: the contract the CLI and the window are written against.

use std::sync::Arc;

use crate::cloud::Cloud;
use crate::secret::Secret;

/// The service name every entry is stored under.
pub const SERVICE: &str = "com.orchidea.ScimWizard";

/// Why the store could not be used; `Display` is for the admin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Todo(String),
}

/// A place for secrets. Calls block (the OS stores are synchronous): run
/// them in `spawn_blocking`.
pub trait CredentialStore: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<Secret>, StoreError>;
    fn set(&self, key: &str, value: &Secret) -> Result<(), StoreError>;
    /// Removes the entry; absent is fine.
    fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// "the OS credential store" / "this session only", for messages.
    fn describe(&self) -> String;
    /// Whether what is stored survives the process.
    fn persistent(&self) -> bool;
}

/// The OS store, or the session-only store with the reason the OS store
/// cannot be used (shown to the admin once).
pub fn open() -> (Arc<dyn CredentialStore>, Option<String>) {
    todo!("credstore: open")
}

/// Keeps secrets for this process only ("Remember me" off, or no OS store).
#[derive(Default)]
pub struct SessionStore {
    _todo: (),
}

impl CredentialStore for SessionStore {
    fn get(&self, _key: &str) -> Result<Option<Secret>, StoreError> {
        todo!("credstore: SessionStore")
    }
    fn set(&self, _key: &str, _value: &Secret) -> Result<(), StoreError> {
        todo!("credstore: SessionStore")
    }
    fn delete(&self, _key: &str) -> Result<(), StoreError> {
        todo!("credstore: SessionStore")
    }
    fn describe(&self) -> String {
        todo!("credstore: SessionStore")
    }
    fn persistent(&self) -> bool {
        false
    }
}

/// Entry names.
pub mod keys {
    use super::Cloud;

    /// The refresh token for one cloud, tenant and client.
    pub fn refresh_token(cloud: Cloud, tenant: &str, client_id: &str) -> String {
        format!(
            "entra-refresh-token:{}:{}:{}",
            cloud.key(),
            tenant.trim().to_ascii_lowercase(),
            client_id.trim().to_ascii_lowercase()
        )
    }

    /// Orchidea's admin API token for one workspace.
    pub fn orchidea_admin_token(workspace_url: &url::Url) -> String {
        format!(
            "orchidea-admin-token:{}",
            workspace_url.origin().ascii_serialization()
        )
    }
}
