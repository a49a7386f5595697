//! Where the last run got to, kept between runs in the data dir (no
//! secrets: ids, URLs and each step's state). The engine checks every step
//! against the tenant before writing, so a new run finishes whatever is
//! left; this file lets the CLI and the window say where that is.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::{Facts, Scope};
use crate::step::StepId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunState {
    pub graph_url: String,
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    pub job_id: Option<String>,
    pub scim_url: Option<String>,
    pub scope: Scope,
    /// Step number → state label ("done", "failed", …), in article order.
    pub steps: Vec<(String, String)>,
    pub updated_at: String,
}

impl RunState {
    pub fn from_facts(graph_url: &str, facts: &Facts, scope: Scope) -> RunState {
        RunState {
            graph_url: graph_url.to_string(),
            app_id: facts.app.as_ref().map(|a| a.id.clone()),
            app_name: facts.app.as_ref().and_then(|a| a.display_name.clone()),
            job_id: facts.job.as_ref().map(|j| j.id.clone()),
            scim_url: facts.scim.as_ref().map(|s| s.url.to_string()),
            scope,
            steps: StepId::ALL
                .iter()
                .map(|s| {
                    (
                        s.number().to_string(),
                        facts.checklist.status(*s).label().to_string(),
                    )
                })
                .collect(),
            updated_at: crate::timefmt::now_rfc3339(),
        }
    }

    pub fn completed(&self) -> usize {
        self.steps
            .iter()
            .filter(|(_, l)| matches!(l.as_str(), "done" | "already done" | "manual"))
            .count()
    }

    pub fn complete(&self) -> bool {
        self.completed() == StepId::ALL.len()
    }

    /// The first step not complete, e.g. "9".
    pub fn next_step(&self) -> Option<&str> {
        self.steps
            .iter()
            .find(|(_, l)| !matches!(l.as_str(), "done" | "already done" | "manual"))
            .map(|(n, _)| n.as_str())
    }

    /// "12 of 18 steps complete on "Orchidea" (job …), next: step 9; 2026-… UTC".
    pub fn summary(&self) -> String {
        let app = match (&self.app_name, &self.app_id) {
            (Some(n), _) => format!(" on \"{n}\""),
            (None, Some(id)) => format!(" on app {id}"),
            _ => String::new(),
        };
        let job = self
            .job_id
            .as_deref()
            .map(|j| format!(" (job {j})"))
            .unwrap_or_default();
        let next = self
            .next_step()
            .map(|n| format!(", next: step {n}"))
            .unwrap_or_default();
        format!(
            "{} of {} steps complete{app}{job}{next}; {}",
            self.completed(),
            StepId::ALL.len(),
            crate::timefmt::readable(&self.updated_at)
        )
    }
}

/// The run-state file for real tenants (a sandbox keeps its own, see
/// [`crate::sandbox::Sandbox::wizard_dir`]).
pub fn default_path() -> PathBuf {
    crate::paths::data_dir().join("run-state.json")
}

pub fn save(path: &Path, state: &RunState) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        crate::paths::ensure_private_dir(dir)?;
    }
    let bytes = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    crate::paths::write_private(path, &bytes)
}

/// The saved state, if there is a readable one.
pub fn load(path: &Path) -> Option<RunState> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::{Progress, Status};

    #[test]
    fn saved_and_loaded_with_where_it_stopped() {
        let mut facts = Facts::default();
        for step in &StepId::ALL[..3] {
            facts.checklist.apply(&Progress {
                step: *step,
                status: Status::Done("ok".into()),
            });
        }
        facts.checklist.apply(&Progress {
            step: StepId::ALL[3],
            status: Status::Failed("Graph said no".into()),
        });
        let state = RunState::from_facts("https://graph.microsoft.com/v1.0", &facts, Scope::All);
        assert_eq!(state.completed(), 3);
        assert_eq!(state.next_step(), Some("2"));
        assert!(
            state
                .summary()
                .starts_with("3 of 18 steps complete, next: step 2; ")
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("run-state.json");
        save(&path, &state).unwrap();
        assert_eq!(load(&path), Some(state));
        assert_eq!(load(&dir.path().join("missing.json")), None);
    }
}
