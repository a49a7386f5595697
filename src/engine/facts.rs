//! What a run has learned so far: the data every step, `resume` and
//! `report` read. A leaf: it names the engine's data types, never its steps.

use std::time::Duration;

use super::apps::AppCandidate;
use super::audience::{Audience, Scope};
use super::monitor::JobView;
use super::notify::Notifications;
use super::remembered::{CreatedApp, CreatedScimSecret};
use crate::platform::secret::Secret;
use crate::procedure::checklist::Checklist;
use crate::procedure::mapping::{MappingOptions, MappingPlan, UserNameSource};
use crate::procedure::step::StepId;
use crate::services::graph::{
    GraphError, OnDemandResult, ProvisioningEvent, ServicePrincipal, SynchronizationJob,
};
use crate::services::orchidea::Idp;
use crate::services::probe::ProbeReport;

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
    /// The step `run_step` runs now: where progress from code several
    /// steps share goes (step 0 creates the app with step 2's code).
    pub running: Option<StepId>,
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
    /// twice (see [`CreatedApp`]).
    pub created_earlier: Option<CreatedApp>,
    /// Such an app of another tenant (the run-state file is one per data
    /// dir): not waited for here, written back unless replaced.
    pub created_elsewhere: Option<CreatedApp>,
    /// SCIM secrets the wizard created and has not revoked (every
    /// workspace and tenant; from the run state, kept after each step).
    pub created_secrets: Vec<CreatedScimSecret>,
    /// The id of the secret in [`Facts::scim`] when this run created it,
    /// and whether Test Connection passed with it.
    pub new_secret: Option<(String, bool)>,
    /// Provisioning jobs the wizard created, from the run state.
    pub created_jobs: Vec<super::remembered::CreatedJob>,
    /// What step 0 created or set, per app (run state).
    pub created_sso: Vec<super::remembered::CreatedSso>,
    /// The admin's answer to step 0's question (`SsoChoice::Ask`), once asked.
    pub sso_answer: Option<bool>,
    /// The secret Entra holds as the wizard last saved it (run state).
    pub held_secret: Option<super::remembered::HeldSecret>,
    /// Each SCIM secret's age and expiry, as last read (`Engine::secret_ages`).
    pub secret_ages: Option<super::secret_list::SecretAges>,
    pub template_ids: Vec<String>,
    pub job: Option<SynchronizationJob>,
    pub scim: Option<ScimTarget>,
    pub idp: Option<Idp>,
    /// The secret Entra had saved before this run still validates.
    pub saved_credentials_work: bool,
    /// Why Test Connection on the saved credentials did not pass, when it
    /// was asked: a refusal, or a failure that says nothing about them.
    pub saved_credentials_error: Option<GraphError>,
    pub saved_base_address: Option<String>,
    pub saved_sync_all: Option<String>,
    pub probe: Option<ProbeReport>,
    pub test_connection: Option<Result<(), TestConnectionFailure>>,
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

/// Why Test Connection (step 5) did not pass.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TestConnectionFailure {
    /// The cloud has no Test Connection; the note says what instead.
    #[error("{0}")]
    NotAvailable(&'static str),
    /// Entra (or the SCIM endpoint through it) refused.
    #[error(transparent)]
    Refused(GraphError),
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
        let secrets = super::secret_list::known(self, std::time::SystemTime::now());
        out.extend(secrets.into_iter().filter_map(|s| s.age.warning));
        out
    }
}

/// One on-demand run for the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OnDemandRecord {
    pub user: String,
    pub result: OnDemandResult,
}
