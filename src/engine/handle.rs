//! The engine's handle: its configuration, what it knows and where its
//! progress goes. The steps receive it; the operations the window and the
//! CLI call are in `engine.rs`.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc};

use super::config::EngineConfig;
use super::facts::Facts;
use crate::procedure::checklist::{Progress, Status};
use crate::procedure::step::StepId;

#[derive(Clone)]
pub struct Engine {
    pub(super) cfg: Arc<EngineConfig>,
    pub(super) facts: Arc<Mutex<Facts>>,
    pub(super) events: Option<mpsc::UnboundedSender<Progress>>,
}

impl Engine {
    pub fn new(cfg: EngineConfig) -> Self {
        let remembered = cfg
            .run_state
            .as_deref()
            .and_then(|path| super::resume::created_app(path, cfg.graph.base().as_str()));
        let (created_earlier, created_elsewhere) = match remembered {
            Some(app) if !app.same_tenant(cfg.tenant_id.as_deref()) => (None, Some(app)),
            other => (other, None),
        };
        let created_secrets = cfg
            .run_state
            .as_deref()
            .map(super::resume::created_secrets)
            .unwrap_or_default();
        let (created_jobs, held_secret, created_sso) = cfg
            .run_state
            .as_deref()
            .and_then(super::resume::load)
            .map(|s| (s.created_jobs, s.held_secret, s.created_sso))
            .unwrap_or_default();
        let facts = Facts {
            created_secrets,
            created_jobs,
            held_secret,
            created_sso,
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

    /// Starts from what an earlier engine on the same target did: the
    /// window runs step 0 before the secret path (and so this engine) is
    /// chosen, and the summary and report list both runs' changes.
    #[must_use]
    pub fn after(mut self, earlier: &Facts) -> Self {
        if let Some(facts) = Arc::get_mut(&mut self.facts).map(Mutex::get_mut) {
            let step = StepId::SsoIntegration;
            let status = earlier.checklist.status(step).clone();
            if status.is_complete() {
                facts.checklist.apply(&Progress { step, status });
            }
            facts.changes.extend(earlier.changes.iter().cloned());
            facts.warnings.extend(earlier.warnings.iter().cloned());
            if facts.created_app.is_none() {
                facts.created_app.clone_from(&earlier.created_app);
            }
        }
        self
    }

    /// Sends every checklist change to `events` as well.
    #[must_use]
    pub fn with_events(mut self, events: mpsc::UnboundedSender<Progress>) -> Self {
        self.events = Some(events);
        self
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
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

    /// Progress of the step running now, from code that `usual` (the step
    /// it belongs to) shares with other steps.
    pub(crate) fn report_running(&self, facts: &mut Facts, usual: StepId, text: String) {
        let step = facts.running.unwrap_or(usual);
        self.report(facts, step, Status::Running(text));
    }

    /// Keeps where the run got to; a file that cannot be written is logged,
    /// not fatal (the engine re-checks every step anyway).
    pub(super) fn save_run_state(&self, facts: &Facts) {
        let Some(path) = &self.cfg.run_state else {
            return;
        };
        let scope = facts.scope.unwrap_or(self.cfg.scope);
        let state =
            super::resume::RunState::from_facts(self.cfg.graph.base().as_str(), facts, scope);
        if let Err(e) = super::resume::save(path, &state) {
            tracing::warn!(path = %path.display(), error = %e, "run state not saved");
        }
    }
}
