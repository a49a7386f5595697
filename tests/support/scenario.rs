//! `Scenario`: the setup most engine tests repeat — a sandbox started with
//! some options, an engine wired to it the way the CLI and the window wire
//! it (`setup::sandbox_config`), and optionally the job configured up to a
//! step — built in one expression:
//!
//! ```ignore
//! let s = Scenario::new().scope(Scope::Assigned).backups().through(StepId::AutomaticMode).await;
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use orchidea_wizard::StepId;
use orchidea_wizard::engine::{Engine, EngineConfig, Scope};
use orchidea_wizard::platform::cloud::Cloud;
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::services::graph::{GraphClient, RetryPolicy, StaticToken};
use orchidea_wizard::setup::{self, Choices};

/// What to start and how to wire the engine; see the module doc.
#[derive(Default)]
pub struct Scenario {
    options: SandboxOptions,
    choices: Choices,
    backups: Backups,
    retry: Option<RetryPolicy>,
    watch_timeout: Option<Duration>,
    cloud: Option<Cloud>,
    /// The manual path: the pasted SCIM secret (URL: the sandbox's).
    manual: Option<orchidea_wizard::Secret>,
}

#[derive(Default)]
enum Backups {
    #[default]
    None,
    Started,
    In(PathBuf),
}

/// A started scenario: the sandbox, the engine, and the backup folder
/// (kept alive as long as this is).
pub struct Started {
    pub sandbox: Sandbox,
    pub engine: Engine,
    pub dir: tempfile::TempDir,
}

impl Scenario {
    pub fn new() -> Self {
        Self::default()
    }

    /// The sandbox's options (tenant, faults, ...).
    pub fn sandbox(mut self, options: SandboxOptions) -> Self {
        self.options = options;
        self
    }

    /// What the admin chose (scope, app, ...).
    pub fn choices(mut self, choices: Choices) -> Self {
        self.choices = choices;
        self
    }

    pub fn scope(mut self, scope: Scope) -> Self {
        self.choices.scope = scope;
        self
    }

    /// Keep backups in the scenario's own folder ([`Started::dir`]).
    pub fn backups(mut self) -> Self {
        self.backups = Backups::Started;
        self
    }

    /// Keep backups in `dir`.
    pub fn backups_in(mut self, dir: &Path) -> Self {
        self.backups = Backups::In(dir.to_path_buf());
        self
    }

    /// Retry with millisecond backoff (`Retry-After` is still honoured as
    /// sent), settling a lost answer within `settle_within` if given, and
    /// give up watching the job after five seconds.
    pub fn fast_retries(self, settle_within: Option<Duration>) -> Self {
        let fast = RetryPolicy {
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(40),
            ..RetryPolicy::default()
        };
        self.retry(match settle_within {
            Some(settle_within) => RetryPolicy {
                settle_within,
                ..fast
            },
            None => fast,
        })
    }

    /// Graph calls retry by `policy`; the job is watched for five seconds.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self.watch_timeout = Some(Duration::from_secs(5));
        self
    }

    /// The manual path: the admin pasted `secret` (and the sandbox's SCIM URL).
    pub fn manual(mut self, secret: orchidea_wizard::Secret) -> Self {
        self.manual = Some(secret);
        self
    }

    pub fn cloud(mut self, cloud: Cloud) -> Self {
        self.cloud = Some(cloud);
        self
    }

    /// The engine's configuration for `sandbox`; `own` is the scenario's
    /// folder when it was started here.
    fn config(&self, sandbox: &Sandbox, own: Option<&Path>) -> EngineConfig {
        let manual =
            self.manual
                .clone()
                .map(|secret| orchidea_wizard::services::orchidea::ManualScim {
                    scim_url: sandbox.scim_url.clone(),
                    secret,
                });
        let mut cfg = setup::sandbox_config(sandbox, manual, self.choices.clone());
        cfg.backup_dir = match &self.backups {
            Backups::None => None,
            Backups::Started => own.map(Path::to_path_buf),
            Backups::In(dir) => Some(dir.clone()),
        };
        if let Some(retry) = self.retry.clone() {
            cfg.graph = GraphClient::with_retry(
                orchidea_wizard::platform::http::loopback_client(),
                sandbox.graph_url.clone(),
                std::sync::Arc::new(StaticToken(sandbox.graph_token.clone())),
                retry,
            );
        }
        if let Some(timeout) = self.watch_timeout {
            cfg.watch_timeout = timeout;
        }
        if let Some(cloud) = self.cloud {
            cfg.cloud = cloud;
        }
        cfg
    }

    /// A new engine on an existing sandbox (a second admin, a re-run).
    pub fn engine(&self, sandbox: &Sandbox) -> Engine {
        Engine::new(self.config(sandbox, None))
    }

    /// Starts the sandbox and wires an engine to it; no step run.
    pub async fn start(self) -> Started {
        let sandbox = Sandbox::start(self.options.clone()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::new(self.config(&sandbox, Some(dir.path())));
        Started {
            sandbox,
            engine,
            dir,
        }
    }

    /// Starts, then runs the steps in order up to and including `last`.
    pub async fn through(self, last: StepId) -> Started {
        let started = self.start().await;
        run_through(&started.engine, last).await;
        started
    }
}

/// Runs the steps in the article's order up to and including `last`.
pub async fn run_through(engine: &Engine, last: StepId) {
    for step in StepId::ALL {
        engine.run_step(step).await.unwrap();
        if step == last {
            break;
        }
    }
}
