//! Runs the steps: check the tenant first, then write only what is missing.
//!
//! The CLI, the window and the tests all drive this type. It is cheap to
//! clone (the state sits behind an `Arc`), so the window can hand a clone to
//! each async task.

mod apps;
mod audience;
mod error;
mod steps;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{Mutex, mpsc};

pub use apps::{AppCandidate, Capability};
pub use audience::Audience;
pub use error::EngineError;

use crate::checklist::{Checklist, Progress, Status};
use crate::graph::{GraphClient, ServicePrincipal, SynchronizationJob};
use crate::mapping::{MappingOptions, MappingPlan};
use crate::orchidea::{Idp, ManualScim, OrchideaAdmin};
use crate::probe::{ProbeOptions, ProbeReport};
use crate::secret::Secret;
use crate::step::StepId;

/// Which users Entra provisions (step 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// "Sync only assigned users and groups" (`SyncAll` = "false").
    Assigned,
    /// "Sync all users and groups" (`SyncAll` = "true").
    All,
}

impl Scope {
    pub fn sync_all(self) -> &'static str {
        match self {
            Scope::Assigned => "false",
            Scope::All => "true",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Scope::Assigned => "Only assigned users and groups",
            Scope::All => "All users and groups",
        }
    }
}

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
    pub scope: Scope,
    pub mapping: MappingOptions,
    pub probe: ProbeOptions,
    /// How long step 16 waits for the first cycle to report.
    pub watch_timeout: Duration,
}

/// The SCIM endpoint and, when the wizard holds it, its secret.
#[derive(Debug, Clone)]
pub struct ScimTarget {
    pub url: url::Url,
    /// `None` when Entra already holds a working secret and none was needed.
    pub secret: Option<Secret>,
}

/// What the run has learned so far; every field is read from the services.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub checklist: Checklist,
    /// Step 14's choice; starts as the configured scope, the window may change it.
    pub scope: Option<Scope>,
    pub candidates: Vec<AppCandidate>,
    pub app: Option<ServicePrincipal>,
    pub template_ids: Vec<String>,
    pub job: Option<SynchronizationJob>,
    pub scim: Option<ScimTarget>,
    pub idp: Option<Idp>,
    /// The secret Entra had saved before this run still validates.
    pub saved_credentials_work: bool,
    pub saved_base_address: Option<String>,
    pub saved_sync_all: Option<String>,
    pub probe: Option<ProbeReport>,
    pub test_connection: Option<Result<(), String>>,
    pub schema_before: Option<serde_json::Value>,
    pub mapping: Option<MappingPlan>,
    /// Every write the run made, in order, as sentences for the report.
    pub changes: Vec<String>,
    /// Who the scope reaches (step 14).
    pub audience: Option<Audience>,
    /// Things the admin should know that did not stop the run.
    pub warnings: Vec<String>,
}

/// Asked before the steps that change Entra the most.
pub trait Confirm: Send + Sync {
    /// `detail` explains what is about to happen (e.g. the mapping diff).
    fn confirm(&self, step: StepId, detail: String) -> BoxFuture<'_, bool>;
}

/// Confirms everything (`--yes`).
pub struct AlwaysYes;

impl Confirm for AlwaysYes {
    fn confirm(&self, _: StepId, _: String) -> BoxFuture<'_, bool> {
        Box::pin(async { true })
    }
}

/// Steps before which a full run pauses for confirmation.
pub const PAUSE_BEFORE: [StepId; 2] = [StepId::KeepFiveAttributes, StepId::StartProvisioning];

#[derive(Clone)]
pub struct Engine {
    cfg: Arc<EngineConfig>,
    facts: Arc<Mutex<Facts>>,
    events: Option<mpsc::UnboundedSender<Progress>>,
}

impl Engine {
    pub fn new(cfg: EngineConfig) -> Self {
        let facts = Facts {
            scope: Some(cfg.scope),
            ..Facts::default()
        };
        Self {
            cfg: Arc::new(cfg),
            facts: Arc::new(Mutex::new(facts)),
            events: None,
        }
    }

    /// Sends every checklist change to `events` as well.
    pub fn with_events(mut self, events: mpsc::UnboundedSender<Progress>) -> Self {
        self.events = Some(events);
        self
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// A copy of what is known now.
    pub async fn facts(&self) -> Facts {
        self.facts.lock().await.clone()
    }

    pub async fn checklist(&self) -> Checklist {
        self.facts.lock().await.checklist.clone()
    }

    /// The scope steps 14–15 will save.
    pub async fn scope(&self) -> Scope {
        self.facts.lock().await.scope.unwrap_or(self.cfg.scope)
    }

    /// The admin chose the scope in the window (step 14). Steps 14–15 run
    /// again with it if they had already completed with another one.
    pub async fn set_scope(&self, scope: Scope) {
        let mut facts = self.facts.lock().await;
        if facts.scope != Some(scope) {
            facts.scope = Some(scope);
            for step in [StepId::ChooseScope, StepId::SaveSettings] {
                if facts.checklist.status(step).is_complete() {
                    self.report(&mut facts, step, Status::Pending);
                }
            }
        }
    }

    /// Reads the tenant (candidate apps, the job, saved settings) without
    /// writing anything, so the window can list apps before step 1 ran.
    pub async fn discover(&self) -> Result<(), EngineError> {
        let mut facts = self.facts.lock().await;
        steps::discover(self, &mut facts).await
    }

    /// The admin picked an app in the window (step 2).
    pub async fn choose_app(&self, sp_id: &str) -> Result<(), EngineError> {
        let mut facts = self.facts.lock().await;
        let candidate = facts
            .candidates
            .iter()
            .find(|c| c.service_principal.id == sp_id)
            .cloned();
        match candidate {
            Some(c) if c.capability.can_provision() => {
                let changed = facts.app.as_ref().is_none_or(|a| a.id != sp_id);
                if changed {
                    // What was read for another app does not hold for this one.
                    facts.job = None;
                    facts.saved_base_address = None;
                    facts.saved_sync_all = None;
                    facts.saved_credentials_work = false;
                    facts.template_ids.clear();
                }
                facts.app = Some(c.service_principal);
                Ok(())
            }
            Some(c) => Err(EngineError::AppCannotProvision {
                name: c.service_principal.display_name.clone().unwrap_or_default(),
                reason: c.capability.reason().to_string(),
            }),
            None => Err(EngineError::NoApp {
                name: sp_id.to_string(),
            }),
        }
    }

    pub(crate) fn report(&self, facts: &mut Facts, step: StepId, status: Status) {
        let progress = Progress { step, status };
        facts.checklist.apply(&progress);
        tracing::info!(
            step = step.number(),
            state = progress.status.label(),
            detail = progress.status.detail()
        );
        if let Some(tx) = &self.events {
            let _ = tx.send(progress);
        }
    }

    /// Runs one step (or, for 9–13, the whole mapping edit it belongs to)
    /// and returns its final status. A failure is also recorded in the
    /// checklist, so the window and the CLI show the same reason.
    pub async fn run_step(&self, step: StepId) -> Result<Status, EngineError> {
        let mut facts = self.facts.lock().await;
        self.report(
            &mut facts,
            step,
            Status::Running(step.automation().to_string()),
        );
        let result = steps::run(self, &mut facts, step).await;
        match result {
            Ok(status) => {
                self.report(&mut facts, step, status.clone());
                Ok(status)
            }
            Err(err) => {
                self.report(&mut facts, step, Status::Failed(err.to_string()));
                Err(err)
            }
        }
    }

    /// Runs every step that is not complete yet, in article order, pausing
    /// for `confirm` before the schema write and before start when those
    /// would change something.
    pub async fn run_all(&self, confirm: &dyn Confirm) -> Result<(), EngineError> {
        for step in StepId::ALL {
            if self.checklist().await.status(step).is_complete() {
                continue;
            }
            if PAUSE_BEFORE.contains(&step)
                && let Some(detail) = self.pending_change(step).await
                && !confirm.confirm(step, detail).await
            {
                let mut facts = self.facts.lock().await;
                self.report(
                    &mut facts,
                    step,
                    Status::Failed("Not confirmed; nothing was written.".into()),
                );
                return Err(EngineError::NotConfirmed(step));
            }
            self.run_step(step).await?;
        }
        Ok(())
    }

    /// What `step` is about to change, or `None` when it changes nothing.
    pub async fn pending_change(&self, step: StepId) -> Option<String> {
        let facts = self.facts.lock().await;
        match step {
            StepId::KeepFiveAttributes => facts
                .mapping
                .as_ref()
                .filter(|plan| !plan.is_noop())
                .map(|plan| plan.diff_lines().join("\n")),
            StepId::StartProvisioning => {
                let active = facts.job.as_ref().is_some_and(steps::job_is_active);
                (!active).then(|| {
                    format!(
                        "Start provisioning: Entra begins creating users in Orchidea ({}).",
                        facts.scope.unwrap_or(self.cfg.scope).label()
                    )
                })
            }
            _ => None,
        }
    }
}
