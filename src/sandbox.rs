//! Simulated Microsoft Entra tenant (Graph v1.0 synchronization API) and Orchidea workspace, served on 127.0.0.1.
//!
//! Three listeners on ephemeral ports: Graph (`/v1.0`), a login placeholder,
//! and the Orchidea workspace (admin API + SCIM). The tenant comes from a
//! state file, a tenant file (`docs/sandbox-tenant.md`) or the built-in
//! Contoso tenant. The desktop app's default mode, the CLI's `--sandbox` and
//! the tests all use [`Sandbox::start`].
//!
//! Layout, by the step groups of [`crate::procedure::step::StepGroup`]
//! (the same file names as in the other layers).
//!
//! Orchidea side: `orchidea` (workspace model and admin API) with
//! `orchidea/secret.rs` (group *secret*: SCIM secrets), `webui`, and `scim/`
//! (the SCIM server: `handlers`, `patch`, `filter`, `path`, `projection`,
//! `discovery`, `index`, `schema`).
//!
//! Entra side: `entra` (the directory model) with its Graph routes in
//! `entra/`, one file per group: `app.rs` (service principals,
//! `applicationTemplates/{id}/instantiate`, the admin and their roles),
//! `credentials.rs` (templates, jobs, saved secrets, Test Connection),
//! `mappings.rs` (the job's schema and its checks), `scope.rs` (users,
//! groups, members, `appRoleAssignedTo`), `start.rs` (start, pause,
//! restart, with `start/ondemand.rs` and `start/auditlogs.rs`), on the
//! Graph plumbing of `entra/graph.rs` and `entra/odata.rs`. Beside it:
//! `login`, `tenant`, `job`, `faults`, and the provisioning cycle in
//! `provision/` (`plan`, `users`, `log`, `groups`) with `outbound`,
//! `payload` and `expression`.

/// A rejection whose whole content is its message, shown word for word
/// (tests and `docs/` quote them): one type per kind of input refused.
macro_rules! message_error {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("{0}")]
        pub struct $name(pub String);

        impl From<String> for $name {
            fn from(message: String) -> Self {
                Self(message)
            }
        }

        impl From<&str> for $name {
            fn from(message: &str) -> Self {
                Self(message.to_string())
            }
        }

        impl From<$name> for String {
            fn from(e: $name) -> String {
                e.0
            }
        }
    };
}

pub mod orchidea;
pub mod scim;

pub mod entra;
pub mod expression;
pub mod faults;
pub mod job;
pub mod login;
mod markup;
pub mod outbound;
pub mod payload;
pub mod provision;
pub mod tenant;
pub mod traffic;
pub mod webui;

// The Graph plumbing moved under `entra/`; its old paths still work.
pub use self::entra::{graph, odata};
pub use self::faults::{Fault, FaultTarget};
pub use self::login::{Consent, DeviceCodePolicy, LoginStats, SignInBehaviour};
pub use self::scim::{index as scim_index, schema as scim_schema};
pub use self::traffic::{RequestRecord, Server as SandboxServer};

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use url::Url;

use self::entra::EntraState;
use self::orchidea::{SharedWorkspace, Workspace};
use self::tenant::TenantFile;
use crate::platform::secret::Secret;

/// Where the sandbox's tenant comes from and where its state is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxOptions {
    /// A tenant file (`docs/sandbox-tenant.md`); the built-in tenant if `None`.
    pub tenant_file: Option<PathBuf>,
    /// Saved after every change and loaded on start when it exists (it then
    /// wins over `tenant_file`).
    pub state_file: Option<PathBuf>,
    /// Faults injected from the start, after the tenant file's own
    /// (`docs/sandbox-tenant.md`, "Fault injection"; the CLI parses its flag
    /// with [`Fault::parse`]).
    pub faults: Vec<Fault>,
    /// Log every request each server answers ([`Sandbox::take_requests`]).
    pub record_requests: bool,
    /// How sign-in behaves; wins over the tenant file's `signIn`.
    pub sign_in: Option<login::SignInBehaviour>,
    /// How long an app made by `instantiate` stays invisible (missing from
    /// lists, 404 on its own routes); wins over the tenant file's
    /// `replicationDelayMs`. Default [`DEFAULT_REPLICATION_DELAY`].
    pub replication_delay: Option<Duration>,
}

/// Entra's replication delay as the sandbox plays it when nothing says
/// otherwise: a couple of seconds (assumed; Microsoft says only that
/// replication "might take several minutes", support article
/// `404-not-found-error-manage-objects-microsoft-graph.md`).
pub const DEFAULT_REPLICATION_DELAY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "The sandbox tenant file {path} is not usable: {detail}. Fix it (see docs/sandbox-tenant.md) or start without a tenant file."
    )]
    TenantFile { path: String, detail: String },
    #[error(
        "The sandbox state file {path} could not be loaded: {detail}. Delete it to start again from the tenant."
    )]
    StateFile { path: String, detail: String },
    #[error(
        "The sandbox could not listen on 127.0.0.1: {detail}. Check that loopback networking is allowed on this computer."
    )]
    Listen { detail: String },
}

/// A running sandbox. Dropping it stops the servers; [`Sandbox::shutdown`]
/// also waits for them and saves the state a last time.
pub struct Sandbox {
    /// The sign-in side: `{login_url}{tenant}/oauth2/v2.0/{authorize,devicecode,token}`.
    pub login_url: Url,
    /// `http://127.0.0.1:P/v1.0`
    pub graph_url: Url,
    /// `http://127.0.0.1:Q`
    pub orchidea_url: Url,
    /// `{orchidea_url}/scim/v2`
    pub scim_url: Url,
    /// The Orchidea admin API token (sandbox only).
    pub admin_token: Secret,
    /// The simulated tenant's id (Entra's `tid`).
    pub tenant_id: String,
    /// A bearer the sandbox's Graph always accepts (besides the access
    /// tokens its sign-in side issues, which expire).
    pub graph_token: Secret,
    /// The wizard's own files about this simulated tenant (backups, run
    /// state): beside the state file, so they last as long as it does;
    /// in a temporary folder for a throwaway sandbox. Kept apart from a
    /// real tenant's, and from other sandboxes'.
    pub wizard_dir: PathBuf,
    /// `wizard_dir` is a temporary folder, removed with the sandbox.
    throwaway: bool,
    shared: Arc<Shared>,
    servers: Vec<Server>,
}

struct Server {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// What the Graph handlers and provisioning cycles share.
pub(crate) struct Shared {
    pub entra: tokio::sync::Mutex<EntraState>,
    pub workspace: SharedWorkspace,
    pub graph_url: Url,
    pub login_url: Url,
    pub orchidea_url: Url,
    pub graph_token: Secret,
    /// How many provisioning cycles are running (see [`Sandbox::wait_idle`]).
    pub cycles: tokio::sync::watch::Sender<usize>,
    /// Job id → "run again when done" for jobs with a cycle in flight.
    pub running: std::sync::Mutex<HashMap<String, bool>>,
    /// Injected faults, shared with the Orchidea server's SCIM layer.
    pub faults: faults::Faults,
    /// Every answered request, when recording (benchmarks).
    pub requests: traffic::RequestLog,
    /// Job id → times of recent `provisionOnDemand` calls (its rate limit).
    pub on_demand_calls:
        std::sync::Mutex<HashMap<String, std::collections::VecDeque<std::time::Instant>>>,
    /// The sign-in side: issued tokens and the simulated behaviour.
    pub(crate) login: login::LoginState,
    /// How long a new app stays invisible ([`SandboxOptions::replication_delay`]).
    pub replication_delay: Duration,
    store: Option<StateStore>,
}

struct StateStore {
    path: PathBuf,
    /// Serialises writers, so the last write holds the latest state.
    lock: tokio::sync::Mutex<()>,
}

const STATE_FORMAT: &str = "orchidea-wizard-sandbox-state";

impl Shared {
    /// Writes the whole state to the state file, if there is one. Failures
    /// are logged, not returned: the request that changed the state worked.
    pub async fn persist(&self) {
        let Some(store) = &self.store else { return };
        let _writer = store.lock.lock().await;
        let entra = self.entra.lock().await.to_state_json();
        let orchidea = serde_json::to_value(&*self.workspace.lock().await).unwrap_or(Value::Null);
        let doc = json!({
            "format": STATE_FORMAT,
            "version": 1,
            "orchideaUrl": self.orchidea_url,
            "entra": entra,
            "orchidea": orchidea,
        });
        let bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
        let path = store.path.clone();
        let written = tokio::task::spawn_blocking(move || write_atomic(&path, &bytes)).await;
        if let Ok(Err(e)) | Err(e) = written.map_err(std::io::Error::other) {
            tracing::warn!(path = %store.path.display(), error = %e, "sandbox state not saved");
        }
    }
}

/// Writes `bytes` to a temporary file beside `path` (mode 0600 on unix) and
/// renames it over `path`, so a reader never sees half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("state.json");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// What a state file holds.
struct Loaded {
    entra: EntraState,
    workspace: Workspace,
    /// Where the workspace was served last time.
    orchidea_url: Option<Url>,
    /// The tenant file's faults (a state file has none: faults are not state).
    faults: Vec<Fault>,
    /// The tenant file's `signIn` (a state file has none either).
    sign_in: Option<login::SignInBehaviour>,
    /// The tenant file's `replicationDelayMs` (a state file has none).
    replication_delay: Option<Duration>,
}

/// Reads a state file written by [`Shared::persist`].
fn load_state(path: &Path, admin_token: &Secret) -> Result<Loaded, SandboxError> {
    let fail = |detail: String| SandboxError::StateFile {
        path: path.display().to_string(),
        detail,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
    if doc["format"] != STATE_FORMAT {
        return Err(fail("it is not a sandbox state file".into()));
    }
    let entra =
        EntraState::from_state_json(&doc["entra"]).map_err(|e| fail(format!("entra: {e}")))?;
    let mut ws: Workspace = serde_json::from_value(doc["orchidea"].clone())
        .map_err(|e| fail(format!("orchidea: {e}")))?;
    // Each run has a fresh admin token; the workspace keeps its secrets.
    ws.set_admin_token(admin_token);
    Ok(Loaded {
        entra,
        workspace: ws,
        orchidea_url: doc["orchideaUrl"].as_str().and_then(|u| Url::parse(u).ok()),
        faults: Vec::new(),
        sign_in: None,
        replication_delay: None,
    })
}

fn fresh_state(opts: &SandboxOptions, admin_token: &Secret) -> Result<Loaded, SandboxError> {
    let tenant = match &opts.tenant_file {
        Some(path) => TenantFile::load(path)?,
        None => TenantFile::builtin(),
    };
    let mut ws = Workspace::new_default(admin_token);
    if let Some(name) = &tenant.orchidea.workspace_name {
        ws.name.clone_from(name);
    }
    if let Some(idps) = &tenant.orchidea.idps {
        ws.idps.clone_from(idps);
    }
    if let Some(groups) = tenant.orchidea.scim_groups {
        ws.scim_groups = groups;
    }
    ws.secret_lifetime_days = tenant.orchidea.secret_lifetime_days;
    Ok(Loaded {
        entra: EntraState::from_tenant(&tenant),
        workspace: ws,
        orchidea_url: None,
        faults: tenant.faults,
        sign_in: tenant.sign_in,
        replication_delay: tenant.replication_delay_ms.map(Duration::from_millis),
    })
}

/// The origin the built-in tenant's SAML URLs are written with.
const BUILTIN_ORCHIDEA_ORIGIN: &str = "https://app.orchidea.dev/";

/// Binds 127.0.0.1 on `port` if it is free, else on an ephemeral port.
async fn listen(port: u16) -> Result<(tokio::net::TcpListener, Url), SandboxError> {
    let listen_err = |e: std::io::Error| SandboxError::Listen {
        detail: e.to_string(),
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(_) if port != 0 => tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(listen_err)?,
        Err(e) => return Err(listen_err(e)),
    };
    let port = listener.local_addr().map_err(listen_err)?.port();
    let url =
        Url::parse(&format!("http://127.0.0.1:{port}")).map_err(|e| SandboxError::Listen {
            detail: e.to_string(),
        })?;
    Ok((listener, url))
}

fn serve(listener: tokio::net::TcpListener, app: axum::Router) -> Server {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(error = %e, "sandbox server stopped");
        }
    });
    Server {
        stop: Some(tx),
        task,
    }
}

impl Sandbox {
    /// Loads the state file if it exists, else the tenant file, else the
    /// built-in tenant, and starts the three servers.
    pub async fn start(opts: SandboxOptions) -> Result<Sandbox, SandboxError> {
        let admin_token = Secret::generate(40);
        let graph_token = Secret::generate(48);
        let existing = opts.state_file.as_deref().filter(|p| p.exists());
        let Loaded {
            mut entra,
            workspace: ws,
            orchidea_url: previous,
            faults: mut injected,
            sign_in,
            replication_delay,
        } = match existing {
            Some(path) => load_state(path, &admin_token)?,
            None => fresh_state(&opts, &admin_token)?,
        };
        let (graph_listener, graph_origin) = listen(0).await?;
        let (login_listener, login_url) = listen(0).await?;
        // A resumed workspace keeps its address when it can, so the Tenant
        // URL saved in Entra still points at it.
        let old_port = previous.as_ref().and_then(Url::port).unwrap_or(0);
        let (orchidea_listener, orchidea_url) = listen(old_port).await?;
        if let Some(previous) = previous.filter(|p| *p != orchidea_url) {
            entra.move_base_address(previous.as_str(), orchidea_url.as_str());
        } else if existing.is_none() && opts.tenant_file.is_none() {
            // The built-in tenant followed Orchidea's SSO article: its
            // Reply and Sign on URLs name Orchidea's own address, which the
            // sandbox stands in for.
            entra.move_base_address(BUILTIN_ORCHIDEA_ORIGIN, orchidea_url.as_str());
        }
        let graph_url = graph_origin
            .join("v1.0")
            .map_err(|e| SandboxError::Listen {
                detail: e.to_string(),
            })?;
        let scim_url = orchidea::scim_base(&orchidea_url);
        let workspace = ws.into_shared();
        injected.extend(opts.faults.iter().cloned());
        let faults = faults::Faults::new(injected);
        let requests = traffic::RequestLog::new(opts.record_requests);
        let shared = Arc::new(Shared {
            entra: tokio::sync::Mutex::new(entra),
            workspace: workspace.clone(),
            graph_url: graph_url.clone(),
            login_url: login_url.clone(),
            orchidea_url: orchidea_url.clone(),
            graph_token: graph_token.clone(),
            cycles: tokio::sync::watch::Sender::new(0),
            running: std::sync::Mutex::new(HashMap::new()),
            faults: faults.clone(),
            requests: requests.clone(),
            on_demand_calls: std::sync::Mutex::new(HashMap::new()),
            login: login::LoginState::new(opts.sign_in.clone().or(sign_in).unwrap_or_default()),
            replication_delay: opts
                .replication_delay
                .or(replication_delay)
                .unwrap_or(DEFAULT_REPLICATION_DELAY),
            store: opts.state_file.clone().map(|path| StateStore {
                path,
                lock: tokio::sync::Mutex::new(()),
            }),
        });
        let saver = Arc::downgrade(&shared);
        faults.before_crash(Arc::new(move || {
            let shared = saver.upgrade();
            Box::pin(async move {
                if let Some(shared) = shared {
                    shared.persist().await;
                }
            })
        }));
        let weak = Arc::downgrade(&shared);
        let on_change: orchidea::OnChange = Arc::new(move || {
            if let Some(shared) = weak.upgrade() {
                tokio::spawn(async move { shared.persist().await });
            }
        });
        let servers = vec![
            serve(graph_listener, graph::router(shared.clone())),
            serve(login_listener, login::router(shared.clone())),
            serve(
                orchidea_listener,
                orchidea::router_with_faults(
                    workspace,
                    orchidea_url.clone(),
                    on_change,
                    faults,
                    requests,
                ),
            ),
        ];
        shared.persist().await;
        // Entra keeps running an active job: one whose first cycle never
        // finished (the process stopped mid-cycle) gets it now.
        let unfinished: Vec<(String, String)> = shared
            .entra
            .lock()
            .await
            .jobs
            .iter()
            .filter(|r| r.job.status.code == "Active" && r.job.status.last_execution.is_none())
            .map(|r| (r.service_principal_id.clone(), r.job.id.clone()))
            .collect();
        for (sp, job) in unfinished {
            provision::spawn_cycle(shared.clone(), sp, job);
        }
        let wizard_dir = match &opts.state_file {
            Some(state) => {
                let mut name = state.file_name().unwrap_or_default().to_os_string();
                name.push(".wizard");
                state.with_file_name(name)
            }
            None => std::env::temp_dir().join(format!(
                "orchidea-sandbox-{}",
                uuid::Uuid::new_v4().simple()
            )),
        };
        let tenant_id = shared.entra.lock().await.tenant.id.clone();
        Ok(Sandbox {
            tenant_id,
            login_url,
            graph_url,
            orchidea_url,
            scim_url,
            admin_token,
            graph_token,
            throwaway: opts.state_file.is_none(),
            wizard_dir,
            shared,
            servers,
        })
    }

    /// The requests answered since the last call (only with
    /// [`SandboxOptions::record_requests`]), in the order they finished.
    pub fn take_requests(&self) -> Vec<RequestRecord> {
        self.shared.requests.take()
    }

    /// Tokens issued by the sign-in side, per grant, and pending polls.
    pub fn login_stats(&self) -> LoginStats {
        self.shared.login.stats()
    }

    /// Every access and refresh token the sign-in side issued, so tests can
    /// search the wizard's output for them.
    pub fn issued_tokens(&self) -> Vec<Secret> {
        self.shared.login.issued_tokens()
    }

    /// Makes the sign-in side forget every access token it issued, as a
    /// revoked session would: Graph then answers 401 to them (the static
    /// `graph_token` keeps working). Refresh tokens stay valid.
    pub fn revoke_access_tokens(&self) {
        self.shared.login.revoke_access_tokens();
    }

    /// Deletes an Entra user as Graph's `DELETE /users/{id}` would: it moves
    /// to deleted items, so the next cycle disables it in Orchidea
    /// (`[IsSoftDeleted]`). False when no such user exists.
    pub async fn delete_user(&self, id: &str) -> bool {
        let done = self.shared.entra.lock().await.soft_delete_user(id);
        self.shared.persist().await;
        done
    }

    /// Deletes an Entra user permanently, as `DELETE
    /// /directory/deletedItems/{id}` or the end of the 30 days in deleted
    /// items would: the next cycle of a job that provisioned it while it was
    /// in scope sends `DELETE /Users/{id}` to Orchidea. False when no such
    /// user exists.
    pub async fn delete_user_permanently(&self, id: &str) -> bool {
        let done = self.shared.entra.lock().await.purge_user(id);
        self.shared.persist().await;
        done
    }

    /// How many users Orchidea's SCIM store holds (cheaper than a dump).
    pub async fn orchidea_user_count(&self) -> usize {
        self.shared.workspace.lock().await.users.len()
    }

    /// A provisioning setting Entra holds for app `sp_id` (`SecretToken`
    /// included, as a [`Secret`]): how a test tells which secret Entra has.
    pub async fn saved_setting(&self, sp_id: &str, key: &str) -> Option<Secret> {
        self.shared.entra.lock().await.secret(sp_id, key).cloned()
    }

    /// The whole simulated state: `{"entra": …, "orchidea": …}`, secrets masked.
    pub async fn dump(&self) -> Value {
        let entra = self.shared.entra.lock().await.dump();
        let orchidea = self.shared.workspace.lock().await.dump();
        json!({ "entra": entra, "orchidea": orchidea })
    }

    /// The addresses (and the sandbox-only admin token) for the CLI to print.
    pub fn endpoints_json(&self) -> Value {
        json!({
            "login_url": self.login_url,
            "graph_url": self.graph_url,
            "orchidea_url": self.orchidea_url,
            "scim_url": self.scim_url,
            "orchidea_admin_token": self.admin_token.expose(),
        })
    }

    /// Adds a fault (after those already waiting); it applies from the next
    /// request on. See [`Fault`]. Async so a later version may wait on the
    /// servers (callers `.await` it); today it returns at once.
    #[allow(clippy::unused_async)] // the documented API is async (see above); callers await it
    pub async fn inject_fault(&self, fault: Fault) {
        self.shared.faults.push(fault);
    }

    /// Faults not yet spent, in the order they apply.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.shared.faults.pending()
    }

    /// Waits until no provisioning cycle is running.
    pub async fn wait_idle(&self) {
        let mut rx = self.shared.cycles.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// Stops the servers and saves the state a last time.
    pub async fn shutdown(mut self) {
        // A cycle stuck on an unreachable SCIM server must not hold the exit.
        let _ = tokio::time::timeout(Duration::from_secs(30), self.wait_idle()).await;
        for server in &mut self.servers {
            if let Some(stop) = server.stop.take() {
                let _ = stop.send(());
            }
        }
        for server in &mut self.servers {
            if tokio::time::timeout(Duration::from_secs(5), &mut server.task)
                .await
                .is_err()
            {
                server.task.abort();
            }
        }
        self.shared.persist().await;
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for server in &mut self.servers {
            if let Some(stop) = server.stop.take() {
                let _ = stop.send(());
            }
            server.task.abort();
        }
        // A throwaway tenant's backups and run state go with it.
        if self.throwaway {
            let _ = std::fs::remove_dir_all(&self.wizard_dir);
        }
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("graph_url", &self.graph_url.as_str())
            .field("login_url", &self.login_url.as_str())
            .field("orchidea_url", &self.orchidea_url.as_str())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_restricts_the_file() {
        let dir = std::env::temp_dir().join(format!("sbx-{}", uuid::Uuid::new_v4().simple()));
        let path = dir.join("nested").join("state.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_foreign_state_file_is_refused_with_its_path() {
        let dir = std::env::temp_dir().join(format!("sbx-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        std::fs::write(&path, "{\"hello\":1}").unwrap();
        let Err(err) = load_state(&path, &Secret::new("t")) else {
            panic!("a foreign file was accepted");
        };
        assert!(matches!(err, SandboxError::StateFile { .. }));
        assert!(err.to_string().contains("state.json"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
