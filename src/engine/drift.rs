//! The drift check: the live configuration compared with Orchidea's
//! specification, read-only. What is read is gathered once into a
//! [`Snapshot`]; each check is a pure function of it listed in [`CHECKS`],
//! so one more check is one more entry there.

use serde::Serialize;
use serde_json::Value;

use super::audience::Scope;
use super::error::EngineError;
use super::facts::Facts;
use super::handle::Engine;
use super::secret_age::WARN_DAYS;
use super::secret_list::{SecretStatus, from_held, from_listing};
use crate::procedure::mapping::{self, ChangeKind, MappingOptions, UserNameSource};
use crate::procedure::step::StepId;
use crate::services::graph::secret_keys::SECRET_TOKEN;
use crate::services::graph::{JobStatusCode, SynchronizationJob};

/// What the check read from Entra and what the last run recorded; no
/// secret values (only whether one is saved and whether it validates).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The app's service principal id (`None`: no Orchidea app found).
    pub app: Option<String>,
    pub job: Option<SynchronizationJob>,
    /// The job's schema (`None` when there is no job).
    pub schema: Option<Value>,
    /// The userName source the admin chose.
    pub mapping: MappingOptions,
    /// The scope the last run saved (or the one configured now).
    pub expected_scope: Option<Scope>,
    /// `SyncAll` as Entra has it saved.
    pub saved_sync_all: Option<String>,
    /// Orchidea's SCIM URL as the last run saved it (or as given now).
    pub expected_url: Option<String>,
    /// `BaseAddress` (the Tenant URL) as Entra has it saved.
    pub saved_url: Option<String>,
    /// A Secret Token is saved.
    pub has_token: bool,
    /// `validateCredentials` with the saved credentials passed.
    pub credentials_pass: bool,
    /// The SCIM secret Entra holds, as the wizard saved it (age and expiry);
    /// `None` when the wizard has not saved one for this app.
    pub held_secret: Option<SecretStatus>,
}

/// What puts a difference right: one of the article's steps (a run re-checks
/// and rewrites it), or rotating the SCIM secret, which no step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    Step(StepId),
    RotateSecret,
}

impl Remedy {
    /// The step, when a step fixes it.
    pub fn step(self) -> Option<StepId> {
        match self {
            Remedy::Step(step) => Some(step),
            Remedy::RotateSecret => None,
        }
    }

    /// "step 11: …" or "rotating the SCIM secret".
    pub fn describe(self) -> String {
        match self {
            Remedy::Step(step) => format!("step {}: {}", step.number(), step.title()),
            Remedy::RotateSecret => "rotating the SCIM secret".into(),
        }
    }
}

impl From<StepId> for Remedy {
    fn from(step: StepId) -> Self {
        Remedy::Step(step)
    }
}

impl PartialEq<StepId> for Remedy {
    fn eq(&self, other: &StepId) -> bool {
        *self == Remedy::Step(*other)
    }
}

/// In JSON `fix` is the step's number ("11"), or `"rotateSecret"`.
impl Serialize for Remedy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Remedy::Step(step) => s.serialize_str(step.number()),
            Remedy::RotateSecret => s.serialize_str("rotateSecret"),
        }
    }
}

/// One difference between the live configuration and the specification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// What differs, e.g. "userName source".
    pub what: String,
    pub expected: String,
    pub found: String,
    /// What fixes it: a step (a run re-checks and rewrites it) or rotation.
    pub fix: Remedy,
}

impl Finding {
    /// "userName source: expected mail, found userPrincipalName (fixed by step 11: …)".
    pub fn sentence(&self) -> String {
        format!(
            "{}: expected {}, found {} (fixed by {})",
            self.what,
            self.expected,
            self.found,
            self.fix.describe()
        )
    }
}

/// One check and what it found (nothing: it holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    /// Stable name for monitoring (`mappings`, `scope`, …).
    pub id: &'static str,
    /// What is checked, for people.
    pub label: &'static str,
    pub ok: bool,
    pub findings: Vec<Finding>,
}

/// Every check in [`CHECKS`] order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftReport {
    pub ok: bool,
    /// The enterprise app's service principal id, when one was found.
    pub app_id: Option<String>,
    /// The provisioning job's id, when there is one.
    pub job_id: Option<String>,
    pub checks: Vec<CheckResult>,
}

impl DriftReport {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.checks.iter().flat_map(|c| c.findings.iter())
    }

    /// The steps a run would fix, in article order, once each.
    pub fn fixing_steps(&self) -> Vec<StepId> {
        let mut steps: Vec<StepId> = self.findings().filter_map(|f| f.fix.step()).collect();
        steps.sort_by_key(|s| s.index());
        steps.dedup();
        steps
    }

    /// A difference only rotating the SCIM secret fixes.
    pub fn needs_rotation(&self) -> bool {
        self.findings().any(|f| f.fix == Remedy::RotateSecret)
    }
}

/// A check: a stable id, a label and a pure function of the snapshot.
pub struct Check {
    pub id: &'static str,
    pub label: &'static str,
    pub run: fn(&Snapshot) -> Vec<Finding>,
}

/// The checks, in the order they are shown. Add one here.
pub const CHECKS: &[Check] = &[
    Check {
        id: "job",
        label: "Provisioning job exists, is active and not quarantined",
        run: check_job,
    },
    Check {
        id: "tenantUrl",
        label: "Tenant URL is Orchidea's SCIM URL",
        run: check_tenant_url,
    },
    Check {
        id: "credentials",
        label: "Saved credentials still valid",
        run: check_credentials,
    },
    Check {
        id: "mappings",
        label: "User mappings as specified",
        run: check_mappings,
    },
    Check {
        id: "scope",
        label: "Scope as last saved",
        run: check_scope,
    },
    Check {
        id: "secretExpiry",
        label: "SCIM secret not expiring",
        run: check_secret_expiry,
    },
];

/// Runs every check over one snapshot.
pub fn compare(snapshot: &Snapshot) -> DriftReport {
    let checks: Vec<CheckResult> = CHECKS
        .iter()
        .map(|c| {
            let findings = (c.run)(snapshot);
            CheckResult {
                id: c.id,
                label: c.label,
                ok: findings.is_empty(),
                findings,
            }
        })
        .collect();
    DriftReport {
        ok: checks.iter().all(|c| c.ok),
        app_id: snapshot.app.clone(),
        job_id: snapshot.job.as_ref().map(|j| j.id.clone()),
        checks,
    }
}

fn finding(what: &str, expected: &str, found: &str, fix: StepId) -> Finding {
    Finding {
        what: what.into(),
        expected: expected.into(),
        found: found.into(),
        fix: Remedy::Step(fix),
    }
}

pub fn check_job(s: &Snapshot) -> Vec<Finding> {
    if s.app.is_none() {
        return vec![finding(
            "Orchidea enterprise app",
            "one app to provision to",
            "none (or several and none chosen)",
            StepId::OpenEnterpriseApp,
        )];
    }
    let Some(job) = &s.job else {
        return vec![finding(
            "provisioning job",
            "a job in automatic mode",
            "no job",
            StepId::AutomaticMode,
        )];
    };
    let mut out = Vec::new();
    let paused = job
        .schedule
        .as_ref()
        .and_then(|sch| sch.state.as_deref())
        .filter(|st| !st.eq_ignore_ascii_case("Active"));
    let code = job.status.as_ref().map(|st| &st.code);
    if let Some(state) = paused {
        out.push(finding(
            "job schedule",
            "Active",
            state,
            StepId::StartProvisioning,
        ));
    } else if code.is_some_and(|c| *c == JobStatusCode::Paused) {
        out.push(finding(
            "job status",
            "Active",
            "Paused",
            StepId::StartProvisioning,
        ));
    }
    let view = super::monitor::JobView::from_job(job);
    if view.is_quarantined() {
        let reason = view.quarantine.as_ref().map_or_else(
            || "in quarantine".to_string(),
            |q| format!("in quarantine ({})", q.reason),
        );
        out.push(finding(
            "job quarantine",
            "not in quarantine",
            &reason,
            StepId::StartProvisioning,
        ));
    }
    out
}

/// Graph and our run state may differ only by a trailing slash or case.
fn same_url(a: &str, b: &str) -> bool {
    a.trim()
        .trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim().trim_end_matches('/'))
}

pub fn check_tenant_url(s: &Snapshot) -> Vec<Finding> {
    if s.job.is_none() {
        return Vec::new();
    }
    match (&s.saved_url, &s.expected_url) {
        (None, expected) => vec![finding(
            "Tenant URL",
            expected.as_deref().unwrap_or("Orchidea's SCIM URL"),
            "none saved",
            StepId::SaveCredentials,
        )],
        (Some(saved), Some(expected)) if !same_url(saved, expected) => vec![finding(
            "Tenant URL",
            expected,
            saved,
            StepId::SaveCredentials,
        )],
        _ => Vec::new(),
    }
}

pub fn check_credentials(s: &Snapshot) -> Vec<Finding> {
    if s.job.is_none() {
        return Vec::new();
    }
    if !s.has_token {
        vec![finding(
            "Secret Token",
            "a saved secret",
            "none saved",
            StepId::SaveCredentials,
        )]
    } else if !s.credentials_pass {
        vec![finding(
            "saved credentials",
            "Test Connection passes",
            "Test Connection refused",
            StepId::SaveCredentials,
        )]
    } else {
        Vec::new()
    }
}

pub fn check_mappings(s: &Snapshot) -> Vec<Finding> {
    let Some(schema) = &s.schema else {
        return Vec::new();
    };
    // Groups are left as they are: whether Orchidea serves them is not read here.
    let opts = MappingOptions {
        scim_groups: None,
        ..s.mapping
    };
    match mapping::plan(schema, &opts) {
        Ok(plan) => plan.changes.iter().map(change_finding).collect(),
        Err(e) => vec![finding(
            "user mapping",
            "Orchidea's five attributes",
            &e.to_string(),
            StepId::OpenMappings,
        )],
    }
}

fn change_finding(c: &mapping::Change) -> Finding {
    let before = c.before.as_deref().unwrap_or("(none)");
    let after = c.after.as_deref().unwrap_or("(none)");
    let (what, expected, found) = match c.kind {
        ChangeKind::Remove => (
            format!("extra mapping {}", c.target),
            "not mapped".to_string(),
            format!("{} ← {before}", c.target),
        ),
        ChangeKind::Add => (
            format!("{} mapping", c.target),
            format!("{} ← {after}", c.target),
            "not mapped".to_string(),
        ),
        ChangeKind::SetSource => (
            format!("{} source", c.target),
            after.to_string(),
            before.to_string(),
        ),
        ChangeKind::SetMatching => (
            format!("{} matching precedence", c.target),
            after.to_string(),
            before.to_string(),
        ),
        ChangeKind::DisableObjectMapping => (
            format!("object mapping {}", c.target),
            "disabled".to_string(),
            "enabled".to_string(),
        ),
    };
    Finding {
        what,
        expected,
        found,
        fix: Remedy::Step(c.step),
    }
}

pub fn check_scope(s: &Snapshot) -> Vec<Finding> {
    let (Some(expected), Some(_)) = (s.expected_scope, &s.job) else {
        return Vec::new();
    };
    let found = match s.saved_sync_all.as_deref() {
        Some(v) if v.eq_ignore_ascii_case(expected.sync_all()) => return Vec::new(),
        Some(v) if v.eq_ignore_ascii_case("true") => Scope::All.label(),
        Some(v) if v.eq_ignore_ascii_case("false") => Scope::Assigned.label(),
        Some(_) => "an unknown value",
        None => "none saved",
    };
    vec![finding(
        "scope",
        expected.label(),
        found,
        StepId::SaveSettings,
    )]
}

/// The secret Entra holds expires within [`WARN_DAYS`] days, has expired, or
/// has an expiry that cannot be read. An unknown expiry (a pasted secret) is
/// not a difference: Orchidea's web UI shows it.
pub fn check_secret_expiry(s: &Snapshot) -> Vec<Finding> {
    let Some(held) = &s.held_secret else {
        return Vec::new();
    };
    let found = match held.age.expires_in_days {
        Some(days) if days < 0 => format!(
            "{} expired {} day{} ago",
            held.name(),
            -days,
            if days == -1 { "" } else { "s" }
        ),
        Some(days) if days <= WARN_DAYS => format!(
            "{} expires in {days} day{}",
            held.name(),
            if days == 1 { "" } else { "s" }
        ),
        None if held.age.warning.is_some() => {
            format!("{} has an expiry that cannot be read", held.name())
        }
        // Far off, no expiry, or unknown (a pasted secret).
        Some(_) | None => return Vec::new(),
    };
    vec![Finding {
        what: "SCIM secret Entra holds".into(),
        expected: format!("more than {WARN_DAYS} days before it expires"),
        found,
        fix: Remedy::RotateSecret,
    }]
}

impl Engine {
    /// Reads the live configuration and compares it with the specification.
    /// Read-only: GETs, and `validateCredentials` on the saved credentials.
    pub async fn check_drift(&self) -> Result<DriftReport, EngineError> {
        let mut facts = self.facts.lock().await;
        let snapshot = self.snapshot(&mut facts).await?;
        Ok(compare(&snapshot))
    }

    async fn snapshot(&self, facts: &mut Facts) -> Result<Snapshot, EngineError> {
        // Never reuse reads from before: the check is about now.
        facts.reads = super::facts::Reads::default();
        facts.app = None;
        facts.job = None;
        facts.saved_credentials_work = false;
        facts.saved_credentials_error = None;
        super::steps::discover(self, facts).await?;
        // The run state is one file for every tenant on this Graph: only
        // the one about the app found counts.
        let last = facts
            .app
            .as_ref()
            .and_then(|app| super::last_choices::for_app(self, &app.id));
        let expected_url = match &self.cfg.secret_source {
            super::config::SecretSource::Manual(m) => Some(m.scim_url.to_string()),
            _ => last.as_ref().and_then(|s| s.scim_url.clone()),
        };
        let schema = match (&facts.app, &facts.job) {
            (Some(app), Some(job)) => Some(self.cfg.graph.get_schema(&app.id, &job.id).await?),
            _ => None,
        };
        let mut mapping = facts.mapping_options;
        match last.as_ref().and_then(|s| s.user_name.as_deref()) {
            Some("coalesce") => mapping.user_name_source = UserNameSource::CoalesceMailUpn,
            Some("mail") => mapping.user_name_source = UserNameSource::Mail,
            _ => {}
        }
        let has_token = facts
            .reads
            .secrets
            .as_ref()
            .is_some_and(|(_, saved)| saved.iter().any(|e| e.key == SECRET_TOKEN));
        // Discovery asked Test Connection already: a refusal is a
        // difference; a failure that says nothing about the credentials (a
        // throttle, a lost connection) means the check could not be done.
        match &facts.saved_credentials_error {
            Some(crate::services::graph::GraphError::CredentialValidation { .. }) | None => {}
            Some(e) => return Err(e.clone().into()),
        }
        let credentials_pass = facts.saved_credentials_work;
        Ok(Snapshot {
            app: facts.app.as_ref().map(|a| a.id.clone()),
            job: facts.job.clone(),
            schema,
            mapping,
            expected_scope: Some(last.as_ref().map_or(self.cfg.scope, |s| s.scope)),
            saved_sync_all: facts.saved_sync_all.clone(),
            expected_url,
            saved_url: facts.saved_base_address.clone(),
            has_token,
            credentials_pass,
            held_secret: self.held_secret_status(facts).await,
        })
    }

    /// The secret Entra holds, for the app found: as Orchidea lists it when
    /// the admin API is at hand (its expiry as of now), else as recorded.
    async fn held_secret_status(&self, facts: &Facts) -> Option<SecretStatus> {
        let graph = self.cfg.graph.base().as_str();
        let app = facts.app.as_ref()?;
        let held = facts
            .held_secret
            .as_ref()
            .filter(|h| h.is_for(&app.id, graph))?;
        let now = std::time::SystemTime::now();
        if let super::config::SecretSource::AdminApi { admin, .. } = &self.cfg.secret_source {
            match admin.list_scim_secrets().await {
                Ok(items) => {
                    if let Some(listed) = from_listing(&items, Some(held), now)
                        .into_iter()
                        .find(|s| s.held_by_entra)
                    {
                        return Some(listed);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "SCIM secrets not listed; expiry as recorded"),
            }
        }
        Some(from_held(held, now))
    }
}

#[cfg(test)]
mod tests;
