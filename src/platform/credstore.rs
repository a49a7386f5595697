//! Where "Remember me" keeps the refresh token and Orchidea's admin API
//! token: the OS credential store (Keychain, Credential Manager, Secret
//! Service) through `keyring-core`, or nowhere (session only). Never a
//! plain file.
//!
//! - [`open`] builds the OS store once per process and probes it with a
//!   read. When it cannot be used (no D-Bus session, no Secret Service,
//!   keychain missing) it hands out the process-wide [`SessionStore`] and a
//!   sentence for the admin; only the error class is logged.
//! - [`KeyringStore`] stores UTF-8 bytes with `set_secret` and splits values
//!   longer than one blob ([`MAX_BLOB`], Windows' 2,560-byte limit) over
//!   `key`, `key#1`, `key#2`… (see [`chunk`]).
//! - Every call blocks, and the Secret Service store runs its own tokio
//!   runtime: call from `spawn_blocking` or a plain thread, never directly
//!   inside async code.

mod chunk;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::platform::cloud::Cloud;
use crate::platform::secret::Secret;

use chunk::Blobs as _;
pub use chunk::{HEADER_LEN, MAX_PARTS};

/// The service name every entry is stored under.
pub const SERVICE: &str = "com.orchidea.ScimWizard";

/// The largest blob one entry may hold: Windows Credential Manager's
/// `CRED_MAX_CREDENTIAL_BLOB_SIZE`. Used on every OS so that what is stored
/// looks the same everywhere (and the chunking is exercised everywhere).
pub const MAX_BLOB: usize = 2560;

/// Why the store could not be used; `Display` is for the admin. Variants
/// carry error classes only, never stored values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached or is locked; the text is the class.
    #[error("Your passwords store is not available ({0}).")]
    Unavailable(String),
    /// The value needs more entries than [`MAX_PARTS`].
    #[error("The value is too long for your passwords store ({bytes} bytes).")]
    TooLong { bytes: usize },
    /// What is stored is not what this wizard wrote; signing in again
    /// replaces it.
    #[error(
        "The saved sign-in in your passwords store is damaged ({0}); sign in again to replace it."
    )]
    Corrupt(String),
    /// More than one item matches one entry (edited by hand or another tool).
    #[error(
        "Your passwords store holds several items for one saved sign-in; remove the {SERVICE} items in it and sign in again."
    )]
    Ambiguous,
    /// Anything else the OS store reported; the text is the class.
    #[error("Your passwords store reported an error ({0}).")]
    Failed(String),
}

/// A place for secrets. Calls block (the OS stores are synchronous): run
/// them in `spawn_blocking`.
pub trait CredentialStore: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<Secret>, StoreError>;
    fn set(&self, key: &str, value: &Secret) -> Result<(), StoreError>;
    /// Removes the entry, readable or not (a damaged entry must not
    /// outlive sign-out); absent is fine. `Ok(true)` when something was
    /// there.
    fn delete(&self, key: &str) -> Result<bool, StoreError>;
    /// "the OS credential store" / "this session only", for messages.
    fn describe(&self) -> String;
    /// Whether what is stored survives the process.
    fn persistent(&self) -> bool;
}

/// The OS store, or the session-only store with the reason the OS store
/// cannot be used (shown to the admin once).
///
/// The OS store is built and probed once per process; later calls return
/// the same store (or the same session store and reason).
pub fn open() -> (Arc<dyn CredentialStore>, Option<String>) {
    static OPENED: OnceLock<Result<Arc<KeyringStore>, StoreError>> = OnceLock::new();
    static SESSION: OnceLock<Arc<SessionStore>> = OnceLock::new();
    let opened = OPENED.get_or_init(|| open_os(os_store()));
    match opened {
        Ok(store) => (store.clone(), None),
        Err(e) => (
            SESSION
                .get_or_init(|| Arc::new(SessionStore::new()))
                .clone(),
            Some(fallback_reason(e)),
        ),
    }
}

/// [`open`] for a given low-level store (or the error building it): a
/// fresh [`KeyringStore`] when the probe passes, else a fresh session
/// store and the reason. No process-wide state; for tests and tools.
pub fn open_with(
    store: keyring_core::Result<Arc<keyring_core::CredentialStore>>,
) -> (Arc<dyn CredentialStore>, Option<String>) {
    match open_os(store) {
        Ok(store) => (store, None),
        Err(e) => (Arc::new(SessionStore::new()), Some(fallback_reason(&e))),
    }
}

/// The sentence the admin sees when [`open`] falls back.
fn fallback_reason(e: &StoreError) -> String {
    let class = match e {
        StoreError::Unavailable(c) | StoreError::Failed(c) | StoreError::Corrupt(c) => c.as_str(),
        StoreError::TooLong { .. } => "value too long",
        StoreError::Ambiguous => "duplicate items",
    };
    format!(
        "Your passwords store is not available ({class}), so you will need to sign in again next time."
    )
}

/// Builds the store and reads a probe entry: a store that cannot even
/// answer "not found" (no Secret Service on the bus, keychain missing)
/// is not used. The probe never writes.
fn open_os(
    store: keyring_core::Result<Arc<keyring_core::CredentialStore>>,
) -> Result<Arc<KeyringStore>, StoreError> {
    let store = store.map_err(|e| log_class(map_error(e), "open"))?;
    let store = Arc::new(KeyringStore::new(store, MAX_BLOB));
    store
        .probe()
        .map_err(|e| log_class(e, "probe"))
        .map(|()| store)
}

fn log_class(e: StoreError, during: &str) -> StoreError {
    // `Display` of a StoreError holds the class only, never a value.
    tracing::info!(during, error = %e, "OS credential store not usable; session-only store");
    e
}

/// The platform's store: Secret Service (Linux/FreeBSD), Keychain (macOS),
/// Credential Manager (Windows).
fn os_store() -> keyring_core::Result<Arc<keyring_core::CredentialStore>> {
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    {
        let store: Arc<keyring_core::CredentialStore> =
            zbus_secret_service_keyring_store::Store::new()?;
        Ok(store)
    }
    #[cfg(target_os = "macos")]
    {
        let store: Arc<keyring_core::CredentialStore> =
            apple_native_keyring_store::keychain::Store::new()?;
        Ok(store)
    }
    #[cfg(windows)]
    {
        let store: Arc<keyring_core::CredentialStore> = windows_native_keyring_store::Store::new()?;
        Ok(store)
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "macos",
        windows
    )))]
    {
        Err(keyring_core::Error::NotSupportedByStore(
            "no credential store on this platform".to_string(),
        ))
    }
}

/// The class of a keyring error, for messages and logs. Never formats the
/// error itself: `BadEncoding`/`BadDataFormat` carry the stored bytes.
pub(crate) fn map_error(e: keyring_core::Error) -> StoreError {
    use keyring_core::Error as E;
    match e {
        E::NoStorageAccess(_) => {
            StoreError::Unavailable("it is locked or cannot be reached".into())
        }
        E::PlatformFailure(_) => StoreError::Unavailable("the platform service failed".into()),
        E::NoDefaultStore => StoreError::Unavailable("no store is configured".into()),
        E::NoEntry => StoreError::Failed("entry not found".into()),
        E::BadEncoding(_) => StoreError::Corrupt("not text".into()),
        E::BadDataFormat(..) => StoreError::Corrupt("unreadable data".into()),
        E::BadStoreFormat(_) => StoreError::Failed("the store is malformed".into()),
        E::TooLong(_, limit) => StoreError::Failed(format!("entry longer than {limit} bytes")),
        E::Invalid(attr, _) => StoreError::Failed(format!("invalid {attr}")),
        E::Ambiguous(_) => StoreError::Ambiguous,
        E::NotSupportedByStore(_) => StoreError::Failed("operation not supported".into()),
        _ => StoreError::Failed("unknown error".into()),
    }
}

/// A `keyring-core` store holding values under [`SERVICE`], chunked over
/// `max_blob`-byte entries.
pub struct KeyringStore {
    store: Arc<keyring_core::CredentialStore>,
    max_blob: usize,
}

impl KeyringStore {
    /// `max_blob` must leave room for the chunk header.
    ///
    /// # Panics
    ///
    /// If `max_blob` does not exceed the chunk header (a programming error).
    pub fn new(store: Arc<keyring_core::CredentialStore>, max_blob: usize) -> Self {
        assert!(max_blob > HEADER_LEN, "blob size below the chunk header");
        Self { store, max_blob }
    }

    /// Reads an entry that is never written: fine when the store answers.
    pub fn probe(&self) -> Result<(), StoreError> {
        self.raw_get("probe:never-written").map(|_| ())
    }

    fn entry(&self, name: &str) -> Result<keyring_core::Entry, StoreError> {
        self.store.build(SERVICE, name, None).map_err(map_error)
    }
}

impl chunk::Blobs for KeyringStore {
    fn raw_get(&self, name: &str) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, StoreError> {
        match self.entry(name)?.get_secret() {
            Ok(bytes) => Ok(Some(zeroize::Zeroizing::new(bytes))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    fn raw_set(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.entry(name)?.set_secret(bytes).map_err(map_error)
    }

    fn raw_delete(&self, name: &str) -> Result<bool, StoreError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
    }
}

impl CredentialStore for KeyringStore {
    fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        chunk::get(self, key)
    }

    fn set(&self, key: &str, value: &Secret) -> Result<(), StoreError> {
        chunk::set(self, self.max_blob, key, value)
    }

    fn delete(&self, key: &str) -> Result<bool, StoreError> {
        chunk::delete(self, key)
    }

    fn describe(&self) -> String {
        if cfg!(target_os = "macos") {
            "the macOS Keychain".into()
        } else if cfg!(windows) {
            "Windows Credential Manager".into()
        } else {
            "the OS credential store".into()
        }
    }

    fn persistent(&self) -> bool {
        use keyring_core::CredentialPersistence as P;
        !matches!(
            self.store.persistence(),
            P::EntryOnly | P::ProcessOnly | P::Unspecified
        )
    }
}

impl std::fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringStore")
            .field("vendor", &self.store.vendor())
            .field("max_blob", &self.max_blob)
            .finish()
    }
}

/// Secrets kept in memory for this process only ("Remember me" off, or no
/// OS store). Nothing is written anywhere.
#[derive(Default)]
pub struct SessionStore {
    values: Mutex<HashMap<String, Secret>>,
}

impl SessionStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn values(&self) -> std::sync::MutexGuard<'_, HashMap<String, Secret>> {
        // A panic while holding the lock cannot leave the map half-updated.
        self.values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl CredentialStore for SessionStore {
    fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        Ok(self.values().get(key).cloned())
    }

    fn set(&self, key: &str, value: &Secret) -> Result<(), StoreError> {
        self.values().insert(key.to_string(), value.clone());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.values().remove(key).is_some())
    }

    fn describe(&self) -> String {
        "this session only".into()
    }

    fn persistent(&self) -> bool {
        false
    }
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore")
            .field("entries", &self.values().len())
            .finish()
    }
}

/// Entry names.
pub mod keys {
    use super::Cloud;

    /// The prefix of every Entra refresh-token entry, current and legacy.
    pub const REFRESH_TOKEN_PREFIX: &str = "entra-refresh-token";
    /// The prefix of every Orchidea admin-token entry.
    pub const ORCHIDEA_ADMIN_TOKEN_PREFIX: &str = "orchidea-admin-token";

    /// The refresh token for one cloud, sign-in endpoint, tenant and
    /// client. The endpoint's origin (scheme, host, port; lower case,
    /// default port dropped) is part of the key, so a token is only ever
    /// read, sent, rotated or removed for the endpoint that issued it: a
    /// `--login-url` override (a sandbox, a gateway) has entries of its own.
    pub fn refresh_token(
        cloud: Cloud,
        login_url: &url::Url,
        tenant: &str,
        client_id: &str,
    ) -> String {
        format!(
            "{REFRESH_TOKEN_PREFIX}:{}:{}:{}:{}",
            cloud.key(),
            login_url.origin().ascii_serialization(),
            tenant.trim().to_ascii_lowercase(),
            client_id.trim().to_ascii_lowercase()
        )
    }

    /// The key before the endpoint was part of it (`cloud:tenant:client`).
    /// Such an entry was issued by the cloud's own sign-in endpoint, so it
    /// is only read for that endpoint (and moved to [`refresh_token`]'s key).
    pub fn legacy_refresh_token(cloud: Cloud, tenant: &str, client_id: &str) -> String {
        format!(
            "{REFRESH_TOKEN_PREFIX}:{}:{}:{}",
            cloud.key(),
            tenant.trim().to_ascii_lowercase(),
            client_id.trim().to_ascii_lowercase()
        )
    }

    /// Orchidea's admin API token for one workspace.
    pub fn orchidea_admin_token(workspace_url: &url::Url) -> String {
        format!(
            "{ORCHIDEA_ADMIN_TOKEN_PREFIX}:{}",
            workspace_url.origin().ascii_serialization()
        )
    }
}

#[cfg(test)]
mod tests {
    use keyring_core::api::CredentialStoreApi;

    use super::*;

    fn mock() -> Arc<keyring_core::mock::Store> {
        keyring_core::mock::Store::new().unwrap()
    }

    #[test]
    fn session_store_round_trip_and_not_persistent() {
        let s = SessionStore::new();
        assert!(!s.persistent());
        assert_eq!(s.get("k").unwrap(), None);
        s.set("k", &Secret::new("session-value-1")).unwrap();
        assert_eq!(s.get("k").unwrap().unwrap().expose(), "session-value-1");
        assert!(!format!("{s:?}").contains("session-value-1"));
        assert!(s.delete("k").unwrap());
        assert!(!s.delete("k").unwrap());
        assert_eq!(s.get("k").unwrap(), None);
        assert_eq!(s.describe(), "this session only");
    }

    #[test]
    fn open_with_a_working_store_uses_it() {
        let m = mock();
        let (store, reason) = open_with(Ok(m.clone()));
        assert_eq!(reason, None);
        store.set("a", &Secret::new("value-in-mock")).unwrap();
        // Written through keyring-core, not kept aside.
        let entry = m.build(SERVICE, "a", None).unwrap();
        assert_eq!(entry.get_secret().unwrap()[HEADER_LEN..], *b"value-in-mock");
    }

    #[test]
    fn open_falls_back_when_the_store_cannot_be_built() {
        let err = keyring_core::Error::PlatformFailure("no bus at /run/user/0/bus".into());
        let (store, reason) = open_with(Err(err));
        let reason = reason.expect("a reason");
        assert!(!store.persistent());
        assert_eq!(
            reason,
            "Your passwords store is not available (the platform service failed), so you will need to sign in again next time."
        );
        assert!(!reason.contains("/run/user"), "class only: {reason}");
    }

    #[test]
    fn open_falls_back_when_the_probe_is_refused() {
        let m = mock();
        let probe = m.build(SERVICE, "probe:never-written", None).unwrap();
        let cred: &keyring_core::mock::Cred = probe.as_any().downcast_ref().unwrap();
        cred.set_error(keyring_core::Error::NoStorageAccess("locked".into()));
        let (store, reason) = open_with(Ok(m));
        assert!(!store.persistent());
        assert!(
            reason
                .unwrap()
                .contains("it is locked or cannot be reached"),
            "the class is named"
        );
    }

    #[test]
    fn errors_never_carry_stored_bytes() {
        let e = map_error(keyring_core::Error::BadEncoding(b"leaked-bytes".to_vec()));
        assert!(!format!("{e:?} {e}").contains("leaked"));
        let e = map_error(keyring_core::Error::BadDataFormat(
            b"leaked-bytes".to_vec(),
            "x".into(),
        ));
        assert!(!format!("{e:?} {e}").contains("leaked"));
    }

    #[test]
    fn mock_store_reports_not_persistent() {
        // keyring-core's mock keeps values in memory only: persistent()
        // follows the store's own persistence, so it says so.
        let store = KeyringStore::new(mock(), MAX_BLOB);
        assert!(!store.persistent());
    }

    #[test]
    fn keys_are_normalised() {
        let entra: url::Url = "https://LOGIN.microsoftonline.com:443/".parse().unwrap();
        assert_eq!(
            keys::refresh_token(Cloud::Global, &entra, " Contoso.onmicrosoft.com ", "ABC"),
            "entra-refresh-token:global:https://login.microsoftonline.com:contoso.onmicrosoft.com:abc"
        );
        let sandbox: url::Url = "http://127.0.0.1:4100/x/".parse().unwrap();
        assert_eq!(
            keys::refresh_token(Cloud::Global, &sandbox, "organizations", "abc"),
            "entra-refresh-token:global:http://127.0.0.1:4100:organizations:abc"
        );
        assert_eq!(
            keys::legacy_refresh_token(Cloud::Global, " Contoso.onmicrosoft.com ", "ABC"),
            "entra-refresh-token:global:contoso.onmicrosoft.com:abc"
        );
        let url: url::Url = "https://acme.orchidea.dev/admin/x".parse().unwrap();
        assert_eq!(
            keys::orchidea_admin_token(&url),
            "orchidea-admin-token:https://acme.orchidea.dev"
        );
    }
}
