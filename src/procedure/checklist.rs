//! The live checklist: one status per step, fed by engine progress events.

use serde::{Deserialize, Serialize};

use crate::procedure::step::StepId;

/// The state of one step. Details are admin-facing sentences, never secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum Status {
    Pending,
    Running(String),
    /// The wizard did it in this run.
    Done(String),
    /// Nothing needed doing: the tenant was already configured this way.
    AlreadyDone(String),
    /// The admin does this by hand (the guided manual path).
    Manual(String),
    Failed(String),
}

impl Status {
    /// Done, already done, or done by hand: the step needs nothing more.
    pub fn is_complete(&self) -> bool {
        matches!(
            self,
            Status::Done(_) | Status::AlreadyDone(_) | Status::Manual(_)
        )
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, Status::Failed(_))
    }

    pub fn detail(&self) -> &str {
        match self {
            Status::Pending => "",
            Status::Running(d)
            | Status::Done(d)
            | Status::AlreadyDone(d)
            | Status::Manual(d)
            | Status::Failed(d) => d,
        }
    }

    /// The same state with `note` appended to its detail (e.g. the retries
    /// a step needed).
    #[must_use]
    pub fn with_note(self, note: &str) -> Status {
        let join = |d: String| {
            if d.is_empty() {
                note.to_string()
            } else {
                format!("{d} {note}")
            }
        };
        match self {
            Status::Pending => Status::Pending,
            Status::Running(d) => Status::Running(join(d)),
            Status::Done(d) => Status::Done(join(d)),
            Status::AlreadyDone(d) => Status::AlreadyDone(join(d)),
            Status::Manual(d) => Status::Manual(join(d)),
            Status::Failed(d) => Status::Failed(join(d)),
        }
    }

    /// A one-word label for terminals and reports.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running(_) => "running",
            Status::Done(_) => "done",
            Status::AlreadyDone(_) => "already done",
            Status::Manual(_) => "manual",
            Status::Failed(_) => "failed",
        }
    }
}

/// One step changed state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub step: StepId,
    pub status: Status,
}

/// The state of every step, in article order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checklist {
    entries: Vec<(StepId, Status)>,
}

impl Default for Checklist {
    fn default() -> Self {
        Self {
            entries: StepId::ALL.iter().map(|s| (*s, Status::Pending)).collect(),
        }
    }
}

impl Checklist {
    pub fn apply(&mut self, progress: &Progress) {
        self.entries[progress.step.index()].1 = progress.status.clone();
    }

    pub fn status(&self, step: StepId) -> &Status {
        &self.entries[step.index()].1
    }

    pub fn iter(&self) -> impl Iterator<Item = (StepId, &Status)> {
        self.entries.iter().map(|(s, st)| (*s, st))
    }

    /// Every step done, already done, or done by hand.
    pub fn all_complete(&self) -> bool {
        self.entries.iter().all(|(_, s)| s.is_complete())
    }

    pub fn completed(&self) -> usize {
        self.entries.iter().filter(|(_, s)| s.is_complete()).count()
    }

    /// The first step that is not complete.
    pub fn first_open(&self) -> Option<StepId> {
        self.entries
            .iter()
            .find(|(_, s)| !s.is_complete())
            .map(|(s, _)| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_pending_and_completes() {
        let mut c = Checklist::default();
        assert_eq!(c.completed(), 0);
        assert_eq!(c.first_open(), Some(StepId::SsoIntegration));
        for s in StepId::ALL {
            assert!(!c.all_complete());
            c.apply(&Progress {
                step: s,
                status: Status::AlreadyDone("x".into()),
            });
        }
        assert!(c.all_complete());
        assert_eq!(c.first_open(), None);
    }

    #[test]
    fn failure_is_not_complete() {
        let mut c = Checklist::default();
        c.apply(&Progress {
            step: StepId::TestConnection,
            status: Status::Failed("401".into()),
        });
        assert!(c.status(StepId::TestConnection).is_failed());
        assert_eq!(c.status(StepId::TestConnection).detail(), "401");
        assert_eq!(c.status(StepId::TestConnection).label(), "failed");
    }

    #[test]
    fn serializes_with_tagged_state() {
        let json = serde_json::to_string(&Status::AlreadyDone("ok".into())).unwrap();
        assert_eq!(json, r#"{"state":"already_done","detail":"ok"}"#);
    }
}
