//! Runs the steps: check the tenant first, then write only what is missing.
//!
//! The CLI, the window and the tests all drive this type. It is cheap to
//! clone (the state sits behind an `Arc`), so the window can hand a clone to
//! each async task.

mod apps;
mod audience;
mod created_earlier;
mod error;
mod monitor;
mod notify;
mod own_secrets;
mod steps;

pub mod backup;
pub mod report;
pub mod resume;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{Mutex, mpsc};

pub use apps::{AppCandidate, Capability};
pub use audience::Audience;
pub use error::{EngineError, SCHEMA_CHANGED};
pub use monitor::{
    ExecutionView, JobView, PENDING_PAGE, QuarantineView, STAGED_DELETE, TOO_MANY_DELETES,
    filter_events, newest_cycle, stage_sentence,
};
pub use notify::{DEFAULT_DELETE_THRESHOLD, Notifications, parse_email, parse_threshold};

use crate::platform::secret::Secret;
use crate::procedure::checklist::{Checklist, Progress, Status};
use crate::procedure::mapping::{MappingOptions, MappingPlan, UserNameSource};
use crate::procedure::step::StepId;
use crate::services::graph::{
    DirectoryUser, GraphClient, Group, OnDemandResult, ProvisioningEvent, RestartScope,
    ServicePrincipal, SynchronizationJob,
};
use crate::services::orchidea::{Idp, ManualScim, OrchideaAdmin};
use crate::services::probe::{ProbeOptions, ProbeReport};

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
    /// The admin asked the window to create the app (the CLI's `--create-app`
    /// is [`EngineConfig::create_app`]).
    pub create_app: bool,
    /// The admin asked the window for a new app although the one created
    /// earlier is not shown yet ([`EngineConfig::create_app_again`]).
    pub create_app_again: bool,
    /// The app this run created (its service principal id).
    pub created_app: Option<String>,
    /// An app the wizard created (this run or an earlier one, read from the
    /// run state) that Entra has not listed yet: waited for, never created
    /// twice (see [`crate::engine::resume::CreatedApp`]).
    pub created_earlier: Option<crate::engine::resume::CreatedApp>,
    /// Such an app of another tenant (the run-state file is one per data
    /// dir): not waited for here, written back unless replaced.
    pub created_elsewhere: Option<crate::engine::resume::CreatedApp>,
    /// SCIM secrets the wizard created and has not revoked (every
    /// workspace and tenant; from the run state, kept after each step).
    pub created_secrets: Vec<crate::engine::resume::CreatedScimSecret>,
    /// The id of the secret in [`Facts::scim`] when this run created it,
    /// and whether Test Connection passed with it.
    pub new_secret: Option<(String, bool)>,
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
    /// Things the admin should know that did not stop the run (the
    /// audience's own are derived: see [`Facts::all_warnings`]).
    pub warnings: Vec<String>,
    /// The mapping steps 7–13 apply; the window may switch userName to Coalesce.
    pub mapping_options: MappingOptions,
    /// What step 15 saves; resolved at step 14 when not chosen.
    pub notifications: Option<Notifications>,
    /// `SyncNotificationSettings` as Entra had it saved.
    pub saved_notifications: Option<String>,
    /// Why the saved settings (`GET …/synchronization/secrets`, not in the
    /// v1.0 reference) could not be read; they are then unknown, and the
    /// steps that write them say so. Cleared by a read or our own write.
    pub secrets_unread: Option<String>,
    /// The job as last read after Start.
    pub job_view: Option<JobView>,
    /// Users provisioned on demand, with what Entra answered.
    pub on_demand: Vec<OnDemandRecord>,
    /// The newest provisioning log events read.
    pub events: Vec<ProvisioningEvent>,
    /// The deletions the accidental-deletion threshold holds back, as last
    /// reviewed (`None`: not read since the job was last read).
    pub pending_deletions: Option<Vec<ProvisioningEvent>>,
    /// Backups taken before writes, one line each (id, time, what).
    pub backups: Vec<String>,
    /// What was last read from Entra and when, so a run does not ask twice
    /// (see [`FRESH`]).
    pub reads: Reads,
}

/// Reads younger than this are used again instead of asking Graph twice;
/// older ones are read again before a write depends on them. A scripted
/// run crosses all 16 steps well within it; in the window, an admin who
/// pauses between steps gets fresh reads.
pub const FRESH: Duration = Duration::from_secs(10);

/// When the engine last read the tenant, per kind of read.
#[derive(Debug, Clone, Default)]
pub struct Reads {
    /// `discover` ran for this app at this time.
    pub discovered: Option<(String, std::time::Instant)>,
    /// The candidates (with their jobs) were read at this time.
    pub candidates: Option<std::time::Instant>,
    /// `facts.job` is what Graph said at this time (or what we just made).
    pub job: Option<std::time::Instant>,
    /// The saved secrets as of this time: read, or just written by us.
    pub secrets: Option<(std::time::Instant, Vec<crate::services::graph::SecretEntry>)>,
    /// The run created the app or the job at this time (Graph may not show
    /// it everywhere yet).
    pub created: Option<std::time::Instant>,
}

impl Reads {
    pub fn fresh(at: Option<std::time::Instant>) -> bool {
        at.is_some_and(|t| t.elapsed() < FRESH)
    }
}

impl Facts {
    /// Every warning: the run's, then those about who the scope reaches
    /// (from the latest count, with the userName source in force).
    pub fn all_warnings(&self) -> Vec<String> {
        let coalesce = self.mapping_options.user_name_source == UserNameSource::CoalesceMailUpn;
        let mut out = self.warnings.clone();
        if let Some(audience) = &self.audience {
            out.extend(audience.warnings(coalesce));
        }
        out
    }
}

/// One on-demand run for the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OnDemandRecord {
    pub user: String,
    pub result: OnDemandResult,
}

/// Asked before the steps that change Entra the most.
pub trait Confirm: Send + Sync {
    /// `detail` explains what is about to happen (e.g. the mapping diff).
    fn confirm(&self, step: StepId, detail: String) -> BoxFuture<'_, bool>;
    /// Whether someone is asked (false for `--yes`): a schema that changed
    /// after it was confirmed is shown again only to someone.
    fn asks(&self) -> bool {
        true
    }
}

/// Confirms everything (`--yes`).
pub struct AlwaysYes;

impl Confirm for AlwaysYes {
    fn confirm(&self, _: StepId, _: String) -> BoxFuture<'_, bool> {
        Box::pin(async { true })
    }

    fn asks(&self) -> bool {
        false
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
        let remembered = cfg
            .run_state
            .as_deref()
            .and_then(|path| crate::engine::resume::created_app(path, cfg.graph.base().as_str()));
        let (created_earlier, created_elsewhere) = match remembered {
            Some(app) if !app.same_tenant(cfg.tenant_id.as_deref()) => (None, Some(app)),
            other => (other, None),
        };
        let created_secrets = cfg
            .run_state
            .as_deref()
            .map(crate::engine::resume::created_secrets)
            .unwrap_or_default();
        let facts = Facts {
            created_secrets,
            scope: Some(cfg.scope),
            mapping_options: cfg.mapping,
            notifications: cfg.notifications.clone(),
            created_earlier,
            created_elsewhere,
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

    /// The admin chose how userName is sourced (the Coalesce offer at step
    /// 14). Steps 7–13 run again with it if they had already completed.
    pub async fn set_user_name_source(&self, source: UserNameSource) {
        let mut facts = self.facts.lock().await;
        if facts.mapping_options.user_name_source == source {
            return;
        }
        facts.mapping_options.user_name_source = source;
        facts.mapping = None;
        for step in StepId::ALL {
            let mapping_step = matches!(step.number(), "7" | "8" | "9" | "10" | "11" | "12" | "13");
            if mapping_step && facts.checklist.status(step).is_complete() {
                self.report(&mut facts, step, Status::Pending);
            }
        }
    }

    /// The admin edited the notification settings (step 15 saves them).
    pub async fn set_notifications(&self, notifications: Notifications) {
        let mut facts = self.facts.lock().await;
        if facts.notifications.as_ref() == Some(&notifications) {
            return;
        }
        facts.notifications = Some(notifications);
        if facts.checklist.status(StepId::SaveSettings).is_complete() {
            self.report(&mut facts, StepId::SaveSettings, Status::Pending);
        }
    }

    /// Groups to offer when nobody is assigned (first 50 by name).
    pub async fn list_groups(&self, prefix: &str) -> Result<Vec<Group>, EngineError> {
        Ok(self.cfg.graph.list_groups(prefix).await?)
    }

    /// Assigns a group (or user) to the app, then counts the audience again
    /// so step 14 shows who it reaches now.
    pub async fn assign_to_app(&self, principal_id: &str, name: &str) -> Result<(), EngineError> {
        let mut facts = self.facts.lock().await;
        let app = steps::app_id(&facts)?;
        assign_once(&self.cfg.graph, &app, principal_id).await?;
        facts
            .changes
            .push(format!("Entra: assigned \"{name}\" to the application."));
        let scope = facts.scope.unwrap_or(self.cfg.scope);
        let audience = audience::count(&self.cfg.graph, &app, scope).await?;
        facts.audience = Some(audience);
        Ok(())
    }

    /// Puts a backup back (see [`crate::engine::backup`]); returns what changed.
    pub async fn restore(
        &self,
        backup: &crate::engine::backup::Backup,
    ) -> Result<Vec<String>, EngineError> {
        let mut facts = self.facts.lock().await;
        steps::restore(self, &mut facts, backup, false).await
    }

    /// What [`Engine::restore`] would change, without changing it.
    pub async fn restore_preview(
        &self,
        backup: &crate::engine::backup::Backup,
    ) -> Result<Vec<String>, EngineError> {
        let mut facts = self.facts.lock().await;
        steps::restore(self, &mut facts, backup, true).await
    }

    /// The backups of this tenant's job, newest first (the job's, once it
    /// is known: sandboxes share a folder and look alike).
    pub async fn backups(&self) -> Vec<crate::engine::backup::Backup> {
        let Some(dir) = self.cfg.backup_dir.clone() else {
            return Vec::new();
        };
        let (app, job) = {
            let facts = self.facts.lock().await;
            (
                facts.app.as_ref().map(|a| a.id.clone()),
                facts.job.as_ref().map(|j| j.id.clone()),
            )
        };
        let tenant = self.cfg.tenant_id.clone();
        let here = self.cfg.graph.base().to_string();
        tokio::task::spawn_blocking(move || crate::engine::backup::list(&dir))
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|(_, b)| b)
            .filter(|b| crate::engine::backup::same_graph(&b.graph_url, &here))
            .filter(|b| b.belongs(tenant.as_deref(), app.as_deref(), job.as_deref()))
            .collect()
    }

    /// Why backup `id` (a prefix) is not offered here, when the folder holds
    /// it for another tenant or job: restore names that instead of "none".
    pub async fn backup_refusal(&self, id: &str) -> Option<String> {
        let dir = self.cfg.backup_dir.clone()?;
        let id = id.trim().to_string();
        let theirs = tokio::task::spawn_blocking(move || crate::engine::backup::list(&dir))
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|(_, b)| b)
            .find(|b| b.id.starts_with(&id))?;
        Some(format!(
            "That backup belongs to another tenant or job ({}: tenant {}, job {}); nothing was restored. `orchidea-wizard-cli restore` lists this tenant's backups.",
            theirs.id,
            theirs.tenant_id.as_deref().unwrap_or("not recorded"),
            theirs.job_id
        ))
    }

    /// The app and job ids, found first when this engine has not seen the
    /// job yet (the commands after Start start with a fresh engine).
    async fn known_job(&self, facts: &mut Facts) -> Result<(String, String), EngineError> {
        if facts.job.is_none() {
            steps::discover(self, facts).await?;
        }
        steps::job_ids(facts)
    }

    /// Reads the job and returns it for people; kept for the report.
    pub async fn job_status(&self) -> Result<JobView, EngineError> {
        let mut facts = self.facts.lock().await;
        let (app, job_id) = self.known_job(&mut facts).await?;
        let job = self.cfg.graph.get_job(&app, &job_id).await?;
        let view = JobView::from_job(&job);
        facts.job = Some(job);
        facts.job_view = Some(view.clone());
        Ok(view)
    }

    /// Recovers a stopped or quarantined job as the portal's "Restart
    /// provisioning" does: quarantine, escrows and watermark are reset;
    /// deletions held back by the accidental-deletion threshold stay held.
    pub async fn restart_job(&self) -> Result<JobView, EngineError> {
        {
            let mut facts = self.facts.lock().await;
            let (app, job_id) = self.known_job(&mut facts).await?;
            self.cfg
                .graph
                .restart_job(&app, &job_id, RestartScope::Ordinary)
                .await?;
            facts.changes.push(format!(
                "Entra: restarted provisioning job {job_id} (quarantine, escrows and watermark reset; held deletions stay held)."
            ));
            facts.pending_deletions = None;
        }
        self.job_status().await
    }

    /// The deletions (and disables) Entra holds back because a cycle
    /// exceeded the accidental-deletion threshold: the `stagedDelete`
    /// events of the newest cycle that logged any. Empty unless the job is
    /// quarantined with reason `TooManyDeletes`.
    pub async fn pending_deletions(&self) -> Result<Vec<ProvisioningEvent>, EngineError> {
        self.logs_available()?;
        let view = self.job_status().await?;
        let mut facts = self.facts.lock().await;
        let (_, job_id) = self.known_job(&mut facts).await?;
        let held = view.quarantine.as_ref().is_some_and(|q| q.too_many_deletes);
        let pending = if held {
            let events = self
                .cfg
                .graph
                .newest_cycle_events_by_action(&job_id, STAGED_DELETE, PENDING_PAGE)
                .await?;
            newest_cycle(events)
        } else {
            Vec::new()
        };
        facts.pending_deletions = Some(pending.clone());
        Ok(pending)
    }

    /// Lets the held deletions through (restart with `ForceDeletes`), but
    /// only the ones the admin reviewed: `reviewed` are the users of
    /// [`Engine::pending_deletions`] shown to them. If Entra now holds
    /// others, nothing is sent and they must review again.
    pub async fn allow_deletions(&self, reviewed: &[String]) -> Result<JobView, EngineError> {
        let pending = self.pending_deletions().await?;
        if pending.is_empty() {
            return Err(EngineError::Input(
                "Entra holds no deletions back: the job is not quarantined for too many deletes. Nothing was changed.".into(),
            ));
        }
        let now: std::collections::BTreeSet<&str> =
            pending.iter().map(ProvisioningEvent::subject_id).collect();
        let seen: std::collections::BTreeSet<&str> = reviewed.iter().map(String::as_str).collect();
        if now != seen {
            return Err(EngineError::Input(format!(
                "The pending deletions changed since you reviewed them (Entra now holds {} back); review them again. Nothing was changed.",
                pending.len()
            )));
        }
        {
            let mut facts = self.facts.lock().await;
            let (app, job_id) = self.known_job(&mut facts).await?;
            self.cfg
                .graph
                .restart_job(&app, &job_id, RestartScope::ForceDeletes)
                .await?;
            facts.changes.push(format!(
                "Entra: allowed the {} deletions held back by the accidental-deletion threshold (restart of job {job_id} with ForceDeletes), after the admin reviewed them.",
                pending.len()
            ));
            facts.pending_deletions = None;
        }
        self.job_status().await
    }

    /// Users whose name, mail or UPN starts with `query`.
    pub async fn find_users(&self, query: &str) -> Result<Vec<DirectoryUser>, EngineError> {
        if query.trim().is_empty() {
            return Err(EngineError::Input(
                "Type the start of a name, mail or user principal name to search.".into(),
            ));
        }
        Ok(self.cfg.graph.search_users(query).await?)
    }

    /// Provisions one user now and returns each stage Entra reports.
    pub async fn provision_user(
        &self,
        user: &DirectoryUser,
    ) -> Result<OnDemandResult, EngineError> {
        if let Some(note) = self
            .cfg
            .cloud
            .unsupported(crate::platform::cloud::Feature::ProvisionOnDemand)
        {
            return Err(EngineError::Input(note.to_string()));
        }
        let mut facts = self.facts.lock().await;
        let (app, job_id) = self.known_job(&mut facts).await?;
        let rule_id = match &facts.mapping {
            Some(plan) => plan.rule_id.clone(),
            None => {
                let schema = self.cfg.graph.get_schema(&app, &job_id).await?;
                crate::procedure::mapping::plan(&schema, &facts.mapping_options)?.rule_id
            }
        };
        let name = user
            .display_name
            .clone()
            .or_else(|| user.user_principal_name.clone())
            .unwrap_or_else(|| user.id.clone());
        // Sent once: an action that may have landed is not repeated blindly
        // (it could provision twice); the admin checks the logs instead.
        let result = match self
            .cfg
            .graph
            .provision_on_demand(&app, &job_id, &rule_id, &user.id)
            .await
        {
            Ok(r) => r,
            Err(e) if e.outcome_unknown() => {
                return Err(EngineError::OnDemandUnconfirmed {
                    user: name,
                    cause: e.lost_answer_cause(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        facts.changes.push(format!(
            "Entra: provisioned {name} on demand ({}).",
            result.result
        ));
        facts.on_demand.push(OnDemandRecord {
            user: name,
            result: result.clone(),
        });
        Ok(result)
    }

    /// The newest `top` provisioning log events of the job.
    pub async fn provisioning_events(
        &self,
        top: usize,
    ) -> Result<Vec<ProvisioningEvent>, EngineError> {
        self.logs_available()?;
        let mut facts = self.facts.lock().await;
        let (_, job_id) = self.known_job(&mut facts).await?;
        let events = self.cfg.graph.provisioning_events(&job_id, top).await?;
        facts.events = events.clone();
        Ok(events)
    }

    /// The provisioning logs API is not documented in every cloud: say so
    /// before sending anything.
    fn logs_available(&self) -> Result<(), EngineError> {
        match self
            .cfg
            .cloud
            .unsupported(crate::platform::cloud::Feature::ProvisioningLogs)
        {
            Some(note) => Err(EngineError::Input(note.to_string())),
            None => Ok(()),
        }
    }

    /// Reads the tenant (candidate apps, the job, saved settings) without
    /// writing anything, so the window can list apps before step 1 ran.
    pub async fn discover(&self) -> Result<(), EngineError> {
        let mut facts = self.facts.lock().await;
        steps::discover(self, &mut facts).await
    }

    /// The admin chose "create it" in the window: the next step 2 creates
    /// the app when none can provision (as `--create-app` does).
    pub async fn request_create_app(&self) {
        let mut facts = self.facts.lock().await;
        facts.create_app = true;
    }

    /// The admin chose "create another app anyway" in the window: as
    /// `--create-app-again`.
    pub async fn request_create_app_again(&self) {
        let mut facts = self.facts.lock().await;
        facts.create_app = true;
        facts.create_app_again = true;
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
                    facts.reads = Reads {
                        candidates: facts.reads.candidates,
                        ..Reads::default()
                    };
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
        // Retries are part of what the step did: shown in its detail.
        let retries = self.cfg.graph.take_retry_notes().join(" ");
        match result {
            Ok(status) => {
                let status = if retries.is_empty() {
                    status
                } else {
                    status.with_note(&retries)
                };
                self.report(&mut facts, step, status.clone());
                self.save_run_state(&facts);
                Ok(status)
            }
            Err(err) => {
                let failed = Status::Failed(err.to_string());
                let failed = if retries.is_empty() {
                    failed
                } else {
                    failed.with_note(&retries)
                };
                self.report(&mut facts, step, failed);
                self.save_run_state(&facts);
                Err(err)
            }
        }
    }

    /// Keeps where the run got to; a file that cannot be written is logged,
    /// not fatal (the engine re-checks every step anyway).
    fn save_run_state(&self, facts: &Facts) {
        let Some(path) = &self.cfg.run_state else {
            return;
        };
        let scope = facts.scope.unwrap_or(self.cfg.scope);
        let state = crate::engine::resume::RunState::from_facts(
            self.cfg.graph.base().as_str(),
            facts,
            scope,
        );
        if let Err(e) = crate::engine::resume::save(path, &state) {
            tracing::warn!(path = %path.display(), error = %e, "run state not saved");
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
                return Err(self.not_confirmed(step).await);
            }
            let mut result = self.run_step(step).await;
            // Another admin changed the schema after the diff was confirmed:
            // the new diff is confirmed again; `--yes` stops instead.
            while let Err(EngineError::SchemaChanged(lines)) = &result {
                if !confirm.asks() {
                    break;
                }
                let detail = format!(
                    "Someone changed the mappings in Entra since you reviewed them; nothing was written. The changes needed now:\n{}",
                    lines.join("\n")
                );
                if !confirm.confirm(step, detail).await {
                    return Err(self.not_confirmed(step).await);
                }
                result = self.run_step(step).await;
            }
            result?;
        }
        Ok(())
    }

    /// The admin said no at a pause: the step fails and nothing is written.
    async fn not_confirmed(&self, step: StepId) -> EngineError {
        let mut facts = self.facts.lock().await;
        self.report(
            &mut facts,
            step,
            Status::Failed("Not confirmed; nothing was written.".into()),
        );
        EngineError::NotConfirmed(step)
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

/// Assigns `principal_id` to the app — at most once, however the request
/// fails. A POST to `appRoleAssignedTo` is not repeated blindly: after a lost
/// answer or a server error the assignments are read first (while Entra
/// replicates), and the create is sent again only if the principal is not
/// among them.
async fn assign_once(
    graph: &crate::services::graph::GraphClient,
    app: &str,
    principal_id: &str,
) -> Result<(), EngineError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let error = match graph.assign_to_app(app, principal_id).await {
            Ok(_) => return Ok(()),
            Err(e) if e.outcome_unknown() => e,
            Err(e) => return Err(e.into()),
        };
        let assigned = graph.list_app_assignments(app).await?;
        if assigned.iter().any(|a| a.principal_id == principal_id) {
            tracing::warn!("assigning: {error}; the assignment exists, so the create went through");
            return Ok(());
        }
        if attempt >= 3 {
            return Err(error.into());
        }
        tracing::warn!("assigning: {error}; not assigned, assigning again");
    }
}
