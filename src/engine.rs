//! Runs the steps: check the tenant first, then write only what is missing.
//!
//! The CLI, the window and the tests all drive [`Engine`]. It is cheap to
//! clone (the state sits behind an `Arc`), so the window can hand a clone to
//! each async task. This file is what the engine offers; the data it keeps
//! (`facts`, `config`, `remembered`) sits in leaf modules that the steps,
//! `resume` and `report` import without coming back here.

mod apps;
mod audience;
mod config;
mod created_earlier;
mod error;
mod facts;
mod handle;
mod monitor;
mod notify;
mod own_secrets;
mod remembered;
pub mod sso_guide;
mod steps;
mod undo_run;

pub mod backup;
pub mod drift;
pub mod last_choices;
pub mod report;
pub mod resume;
pub mod rotate;
pub mod secret_age;
pub mod secret_list;
pub mod undo;
pub mod undo_sso;

use futures::future::BoxFuture;

pub use apps::{AppCandidate, Capability};
pub use audience::{Audience, Scope};
pub use config::{EngineConfig, SecretSource, SsoChoice, SsoConfig};
pub use error::{EngineError, SCHEMA_CHANGED};
pub use facts::{FRESH, Facts, OnDemandRecord, Reads, ScimTarget, TestConnectionFailure};
pub use handle::Engine;
pub use monitor::{
    ExecutionView, JobView, PENDING_PAGE, QuarantineView, STAGED_DELETE, TOO_MANY_DELETES,
    filter_events, newest_cycle, stage_sentence,
};
pub use notify::{
    DEFAULT_DELETE_THRESHOLD, FieldError, NO_MAIL_FOR_NOTIFICATIONS, Notifications, parse_email,
    parse_threshold,
};
pub use undo_run::UndoOutcome;

use crate::procedure::checklist::{Checklist, Status};
use crate::procedure::mapping::UserNameSource;
use crate::procedure::step::StepId;
use crate::services::graph::{
    DirectoryUser, Group, OnDemandResult, ProvisioningEvent, RestartScope,
};

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

/// Step 0's question when the admin is asked (`SsoChoice::Ask`).
const SSO_OFFER: &str = "No Orchidea app in this tenant signs users in with SAML single sign-on, which Orchidea's SCIM article takes for granted. Set it up first? The wizard creates or completes the Orchidea app (Identifier https://orchidea.dev, Reply URL, Sign on URL, a signing certificate) and Orchidea's IDP from Entra's federation metadata.";

/// Steps before which a full run pauses for confirmation.
pub const PAUSE_BEFORE: [StepId; 2] = [StepId::KeepFiveAttributes, StepId::StartProvisioning];

/// What the window and the CLI ask of the engine; the type and what every
/// step shares with it are in `handle`.
impl Engine {
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
            "That backup belongs to another tenant or job ({}: tenant {}, job {}); nothing was restored.",
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
        let rule_id = if let Some(plan) = &facts.mapping {
            plan.rule_id.clone()
        } else {
            let schema = self.cfg.graph.get_schema(&app, &job_id).await?;
            crate::procedure::mapping::plan(&schema, &facts.mapping_options)?.rule_id
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
        facts.events.clone_from(&events);
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
        facts.running = Some(step);
        let result = steps::run(self, &mut facts, step).await;
        facts.running = None;
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

    /// Runs every step that is not complete yet, in article order, pausing
    /// for `confirm` before the schema write and before start when those
    /// would change something, and at step 14 (before step 15 saves the
    /// scope) when the scope's count has a warning: users who would be
    /// skipped for lack of a mail, or nobody assigned.
    pub async fn run_all(&self, confirm: &dyn Confirm) -> Result<(), EngineError> {
        for step in StepId::ALL {
            if self.checklist().await.status(step).is_complete() {
                continue;
            }
            if step == StepId::SsoIntegration
                && self.cfg.sso.choice == SsoChoice::Ask
                && confirm.asks()
            {
                self.offer_sso(confirm).await?;
                continue;
            }
            if step == StepId::SaveSettings
                && let Some(detail) = self.scope_warning().await
                && !confirm.confirm(StepId::ChooseScope, detail).await
            {
                return Err(self.not_confirmed(StepId::ChooseScope).await);
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

    /// Step 0 when the admin is asked: checked first, and the set-up offered
    /// only when no Orchidea app has single sign-on.
    async fn offer_sso(&self, confirm: &dyn Confirm) -> Result<(), EngineError> {
        let step = StepId::SsoIntegration;
        if let Status::Manual(_) = self.run_step(step).await? {
            let yes = confirm.confirm(step, SSO_OFFER.into()).await;
            self.facts.lock().await.sso_answer = Some(yes);
            if yes {
                self.run_step(step).await?;
            }
        }
        Ok(())
    }

    /// What step 14's count warns about, before the scope is saved (the
    /// sentences the scope screen shows), or `None` when nothing does.
    pub async fn scope_warning(&self) -> Option<String> {
        let facts = self.facts.lock().await;
        let coalesce = facts.mapping_options.user_name_source == UserNameSource::CoalesceMailUpn;
        scope_pause(facts.audience.as_ref(), coalesce)
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

/// Whether "run the remaining steps" stops at step 14, and what it shows:
/// the audience's warnings, joined, when it has any.
fn scope_pause(audience: Option<&Audience>, coalesce: bool) -> Option<String> {
    let warnings = audience?.warnings(coalesce);
    (!warnings.is_empty()).then(|| warnings.join("\n"))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn audience(scope: Scope, in_scope: usize, without_mail: &[&str]) -> Audience {
        Audience {
            scope,
            in_scope,
            without_mail: without_mail.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    #[test]
    fn step_14_pauses_only_on_a_warning() {
        assert_eq!(scope_pause(None, false), None, "not counted yet");
        assert_eq!(
            scope_pause(Some(&audience(Scope::Assigned, 5, &[])), false),
            None
        );
        let skipped = scope_pause(Some(&audience(Scope::All, 5, &["Ann", "Bo"])), false).unwrap();
        assert!(
            skipped.starts_with("2 of 5 users in scope have no mail"),
            "{skipped}"
        );
        // With Coalesce they arrive under their UPN: nothing to stop for.
        assert_eq!(
            scope_pause(Some(&audience(Scope::All, 5, &["Ann"])), true),
            None
        );
        let nobody = scope_pause(Some(&audience(Scope::Assigned, 0, &[])), true).unwrap();
        assert!(nobody.starts_with("Nobody is assigned"), "{nobody}");
        // Nobody in scope: nobody lacks a mail either, so one sentence.
        let both = scope_pause(Some(&audience(Scope::Assigned, 0, &[])), false).unwrap();
        assert_eq!(
            both.lines().count(),
            1,
            "no one in scope has no mail: {both}"
        );
    }
}
