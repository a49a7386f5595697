//! Where the last run got to, kept between runs in the data dir (no
//! secrets: ids, URLs and each step's state). The engine checks every step
//! against the tenant before writing, so a new run finishes whatever is
//! left; this file lets the CLI and the window say where that is.
//!
//! It also remembers an app the wizard created (or tried to) until Entra
//! lists it: a new app can stay unseen for minutes (replication), and a
//! run that could not see it must not create a second one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::audience::Scope;
use super::facts::Facts;
pub use super::remembered::{
    CREATED_APP_REMEMBERED, CreatedApp, CreatedJob, CreatedScimSecret, CreatedSso, HeldSecret,
    SecretUse,
};
use crate::procedure::mapping::UserNameSource;
use crate::procedure::step::StepId;

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
    /// An app created by the wizard that Entra has not listed yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_app: Option<CreatedApp>,
    /// SCIM secrets the wizard created in Orchidea and has not revoked yet
    /// (ids only, never values), for every workspace and tenant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created_secrets: Vec<CreatedScimSecret>,
    /// The userName source the run applied (`mail` or `coalesce`), so the
    /// drift check holds the admin's choice; absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Provisioning jobs the wizard created (undo deletes only these).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created_jobs: Vec<CreatedJob>,
    /// The SCIM secret Entra holds, as last saved by the wizard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_secret: Option<HeldSecret>,
    /// What step 0 (single sign-on) created or set, per app (ids only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created_sso: Vec<CreatedSso>,
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
            updated_at: crate::platform::timefmt::now_rfc3339(),
            created_app: facts
                .created_earlier
                .clone()
                .or_else(|| facts.created_elsewhere.clone()),
            created_secrets: facts.created_secrets.clone(),
            user_name: Some(
                match facts.mapping_options.user_name_source {
                    UserNameSource::Mail => "mail",
                    UserNameSource::CoalesceMailUpn => "coalesce",
                }
                .to_string(),
            ),
            created_jobs: facts.created_jobs.clone(),
            held_secret: facts.held_secret.clone(),
            created_sso: facts.created_sso.clone(),
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

    /// "12 of 19 steps complete on "Orchidea" (job …), next: step 9; 2026-… UTC".
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
            crate::platform::timefmt::readable(&self.updated_at)
        )
    }
}

/// The run-state file for real tenants (a sandbox keeps its own in its
/// folder: the demo wiring passes that path in `EngineConfig::run_state`).
pub fn default_path() -> PathBuf {
    crate::platform::paths::data_dir().join("run-state.json")
}

pub fn save(path: &Path, state: &RunState) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        crate::platform::paths::ensure_private_dir(dir)?;
    }
    let bytes = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    crate::platform::paths::write_private(path, &bytes)
}

/// The saved state, if there is a readable one.
pub fn load(path: &Path) -> Option<RunState> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Every SCIM secret the wizard created and has not revoked, of any
/// workspace or tenant (callers pick theirs with [`CreatedScimSecret::belongs_to`]).
pub fn created_secrets(path: &Path) -> Vec<CreatedScimSecret> {
    load(path).map(|s| s.created_secrets).unwrap_or_default()
}

/// The app a run against `graph_url` created and Entra has not listed yet.
pub fn created_app(path: &Path, graph_url: &str) -> Option<CreatedApp> {
    load(path)
        .filter(|s| crate::engine::backup::same_graph(&s.graph_url, graph_url))
        .and_then(|s| s.created_app)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procedure::checklist::{Progress, Status};

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
        assert_eq!(state.next_step(), Some("1c"));
        assert!(
            state
                .summary()
                .starts_with("3 of 19 steps complete, next: step 1c; ")
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("run-state.json");
        save(&path, &state).unwrap();
        assert_eq!(load(&path), Some(state));
        assert_eq!(load(&dir.path().join("missing.json")), None);
    }

    #[test]
    fn a_created_app_is_remembered_for_its_graph_and_a_day() {
        let mut facts = Facts::default();
        let mut made = CreatedApp::attempt("Orchidea", Some("tenant-a"));
        made.service_principal_id = Some("sp-1".into());
        assert!(made.same_tenant(Some("TENANT-A")) && made.same_tenant(None));
        assert!(!made.same_tenant(Some("tenant-b")));
        facts.created_earlier = Some(made.clone());
        let state = RunState::from_facts("https://graph.microsoft.com/v1.0", &facts, Scope::All);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run-state.json");
        save(&path, &state).unwrap();
        assert_eq!(
            created_app(&path, "https://graph.microsoft.com/v1.0/"),
            Some(made.clone())
        );
        assert_eq!(created_app(&path, "https://graph.microsoft.us/v1.0"), None);
        // Files written before the field existed still load.
        let mut old: serde_json::Value = serde_json::to_value(&state).unwrap();
        old.as_object_mut().unwrap().remove("createdApp");
        std::fs::write(&path, old.to_string()).unwrap();
        assert_eq!(load(&path).map(|s| s.created_app), Some(None));

        let now = std::time::SystemTime::now();
        assert!(!made.expired(now));
        assert!(made.expired(now + CREATED_APP_REMEMBERED));
        made.at = "not a time".into();
        assert!(
            !made.expired(now + CREATED_APP_REMEMBERED),
            "unreadable: kept"
        );
        assert_eq!(made.describe(), "\"Orchidea\" (sp-1)");
    }

    #[test]
    fn created_secrets_are_kept_by_id_per_workspace_and_tenant() {
        let graph = "https://graph.microsoft.com/v1.0";
        let mut made = CreatedScimSecret::attempt("https://a.example/scim/v2", graph, Some("t1"));
        let other = CreatedScimSecret::attempt("https://a.example/scim/v2", graph, Some("t1"));
        assert_ne!(made.description, other.description, "unique per create");
        assert!(made.describe().contains("whose id never arrived"));
        made.id = Some("scs_1".into());
        assert!(made.describe().starts_with("scs_1 (created "));
        assert!(made.belongs_to(
            "https://a.example/scim/v2/",
            "https://graph.microsoft.com/v1.0/",
            Some("T1")
        ));
        assert!(made.belongs_to("https://a.example/scim/v2", graph, None));
        assert!(!made.belongs_to("https://b.example/scim/v2", graph, Some("t1")));
        assert!(!made.belongs_to("https://a.example/scim/v2", graph, Some("t2")));
        assert!(!made.belongs_to(
            "https://a.example/scim/v2",
            "https://graph.microsoft.us/v1.0",
            None
        ));

        let facts = Facts {
            created_secrets: vec![made.clone()],
            ..Facts::default()
        };
        let state = RunState::from_facts(graph, &facts, Scope::All);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run-state.json");
        save(&path, &state).unwrap();
        assert_eq!(created_secrets(&path), vec![made]);
        // Files written before the field existed still load.
        let mut old: serde_json::Value = serde_json::to_value(&state).unwrap();
        old.as_object_mut().unwrap().remove("createdSecrets");
        std::fs::write(&path, old.to_string()).unwrap();
        assert!(created_secrets(&path).is_empty());
    }
}
