//! What outlives a screen: the target, the engine, the checklist, the
//! work in flight and the clipboard. Screens borrow it.

use std::time::Instant;

use iced::task;

use super::screen::Action;
use super::work::{Op, Reply, Snapshot, Target};
use crate::engine::{Engine, Facts, JobView, ScimTarget};
use crate::platform::clipboard::Copier;
use crate::procedure::checklist::{Checklist, Progress};
use crate::procedure::step::StepId;
use crate::services::graph::ProvisioningEvent;
use crate::services::orchidea::Idp;

pub struct Session {
    pub target: Option<Target>,
    pub engine: Option<Engine>,
    /// Mirrors the engine's checklist from its progress events.
    pub checklist: Checklist,
    pub snapshot: Option<Snapshot>,
    pub idps: Option<Result<Vec<Idp>, crate::ui::work::IdpsError>>,
    pub running: Option<Running>,
    pub error: Option<Failure>,
    pub pause: Option<Pause>,
    pub copier: Copier,
    pub reveal_secret: bool,
    pub now: Instant,
    /// Spinner animation frame.
    pub frame: usize,
    pub selected_step: Option<StepId>,
    /// "Run the remaining steps" is in flight: screens follow the engine.
    pub running_all: bool,
    /// A choice made at the step-14 pause: run once "run the remaining
    /// steps" has stopped there, then the run goes on.
    pub after_pause: Option<Op>,
    /// The choice made at the step-14 pause is running: "run the remaining
    /// steps" goes on once it has finished.
    pub resume_all: bool,
    /// The job as last read after Start (monitor or an action).
    pub job_view: Option<JobView>,
    pub monitor_error: Option<crate::engine::EngineError>,
    /// The newest provisioning log events.
    pub events: Vec<ProvisioningEvent>,
    /// Changes when the monitor must start over (new engine, restart).
    pub monitor_epoch: u64,
    /// Each SCIM secret's age and expiry, as last read (summary).
    pub secret_ages: crate::ui::panel::secret_age::SecretAgePanel,
}

/// Work in flight. Dropping the handle aborts the task.
pub struct Running {
    pub id: u64,
    pub op: Op,
    pub handle: Option<task::Handle>,
}

/// The last failure, with the work that retries it unchanged.
#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    pub retry: Option<Op>,
}

/// "Run the remaining steps" waits for the admin before a big change.
pub struct Pause {
    pub id: u64,
    pub step: StepId,
    pub detail: String,
    pub reply: Reply,
}

impl Session {
    pub fn new(copier: Copier) -> Self {
        Self {
            target: None,
            engine: None,
            checklist: Checklist::default(),
            snapshot: None,
            idps: None,
            running: None,
            error: None,
            pause: None,
            after_pause: None,
            resume_all: false,
            copier,
            reveal_secret: false,
            now: Instant::now(),
            frame: 0,
            selected_step: None,
            running_all: false,
            job_view: None,
            monitor_error: None,
            events: Vec::new(),
            monitor_epoch: 0,
            secret_ages: crate::ui::panel::secret_age::SecretAgePanel::default(),
        }
    }

    pub fn facts(&self) -> Option<&Facts> {
        self.snapshot.as_ref().map(|s| &s.facts)
    }

    pub fn scim(&self) -> Option<&ScimTarget> {
        self.facts().and_then(|f| f.scim.as_ref())
    }

    pub fn is_busy(&self) -> bool {
        self.running.is_some()
    }

    /// Paused at step 14 with a warning: the scope screen's choices stay
    /// usable (they end the pause and the run goes on with them).
    pub fn paused_at_scope(&self) -> bool {
        self.pause
            .as_ref()
            .is_some_and(|p| p.step == StepId::ChooseScope)
    }

    /// Whether a write to Entra or Orchidea may be under way.
    pub fn is_writing(&self) -> bool {
        self.running.as_ref().is_some_and(|r| r.op.writes())
    }

    pub fn complete(&self, steps: &[StepId]) -> bool {
        steps
            .iter()
            .all(|s| self.checklist.status(*s).is_complete())
    }

    pub fn apply(&mut self, progress: &Progress) {
        self.checklist.apply(progress);
    }

    /// Forgets everything tied to the engine (another target or path).
    pub fn reset_engine(&mut self) {
        self.running = None;
        self.pause = None;
        self.engine = None;
        self.snapshot = None;
        self.checklist = Checklist::default();
        self.error = None;
        self.selected_step = None;
        self.job_view = None;
        self.monitor_error = None;
        self.events.clear();
        self.monitor_epoch += 1;
        self.secret_ages.clear();
    }

    /// Whether Start has run, so the job can be watched.
    pub fn started(&self) -> bool {
        self.engine.is_some()
            && self
                .checklist
                .status(StepId::StartProvisioning)
                .is_complete()
    }

    /// Takes what finished work learned about the job and its log.
    pub fn absorb(&mut self, facts: &Facts) {
        if let Some(view) = &facts.job_view {
            self.job_view = Some(view.clone());
        }
        if !facts.events.is_empty() {
            self.events.clone_from(&facts.events);
        }
    }

    /// "Copy URL": the SCIM URL on the clipboard.
    pub fn copy_scim_url(&mut self) -> Action {
        let Some(url) = self.scim().map(|s| s.url.to_string()) else {
            return Action::None;
        };
        Self::copied(self.copier.copy_text(&url))
    }

    /// "Copy secret": on the clipboard for a while, then cleared.
    pub fn copy_scim_secret(&mut self) -> Action {
        let Some(secret) = self.scim().and_then(|s| s.secret.clone()) else {
            return Action::None;
        };
        Self::copied(self.copier.copy_secret(&secret, self.now))
    }

    fn copied<E: std::fmt::Display>(result: Result<(), E>) -> Action {
        match result {
            Ok(()) => Action::None,
            Err(e) => Action::Fail(e.to_string()),
        }
    }

    /// Cancels the work in flight; steps it left running go back to pending.
    pub fn cancel(&mut self) -> bool {
        let Some(running) = self.running.take() else {
            return false;
        };
        drop(running);
        self.pause = None;
        self.running_all = false;
        let stuck: Vec<StepId> = self
            .checklist
            .iter()
            .filter(|(_, s)| matches!(s, crate::Status::Running(_)))
            .map(|(step, _)| step)
            .collect();
        for step in stuck {
            self.checklist.apply(&Progress {
                step,
                status: crate::Status::Pending,
            });
        }
        true
    }
}
