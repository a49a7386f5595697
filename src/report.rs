//! The JSON report of a run: what was found, what changed. Never secrets:
//! it is built only from checklist details and change sentences, which show
//! secrets masked to their last four characters.

use serde::Serialize;

use crate::engine::{Facts, Scope};
use crate::step::StepId;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub version: &'static str,
    pub generated_at: String,
    pub mode: String,
    pub complete: bool,
    pub scope: Scope,
    pub app: Option<AppRef>,
    pub job_id: Option<String>,
    pub scim_url: Option<String>,
    pub steps: Vec<StepReport>,
    pub changes: Vec<String>,
    pub mapping_diff: Vec<String>,
    pub probe: Vec<String>,
    pub test_connection: Option<String>,
    pub users_in_scope: Option<usize>,
    pub users_without_mail: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub number: &'static str,
    pub title: &'static str,
    pub state: &'static str,
    pub detail: String,
}

pub fn build(facts: &Facts, scope: Scope, mode: &str) -> Report {
    Report {
        tool: "orchidea-wizard",
        version: env!("CARGO_PKG_VERSION"),
        generated_at: crate::timefmt::now_rfc3339(),
        mode: mode.to_string(),
        complete: facts.checklist.all_complete(),
        scope,
        app: facts.app.as_ref().map(|a| AppRef {
            id: a.id.clone(),
            name: a.display_name.clone().unwrap_or_default(),
        }),
        job_id: facts.job.as_ref().map(|j| j.id.clone()),
        scim_url: facts.scim.as_ref().map(|s| s.url.to_string()),
        steps: StepId::ALL
            .iter()
            .map(|s| {
                let status = facts.checklist.status(*s);
                StepReport {
                    number: s.number(),
                    title: s.title(),
                    state: status.label(),
                    detail: status.detail().to_string(),
                }
            })
            .collect(),
        changes: facts.changes.clone(),
        mapping_diff: facts
            .mapping
            .as_ref()
            .map(|m| m.diff_lines())
            .unwrap_or_default(),
        probe: facts
            .probe
            .as_ref()
            .map(crate::probe::ProbeReport::lines)
            .unwrap_or_default(),
        test_connection: facts.test_connection.as_ref().map(|r| match r {
            Ok(()) => "passed".to_string(),
            Err(e) => format!("failed: {e}"),
        }),
        users_in_scope: facts.audience.as_ref().map(|a| a.in_scope),
        users_without_mail: facts
            .audience
            .as_ref()
            .map(|a| a.without_mail.clone())
            .unwrap_or_default(),
        warnings: facts.warnings.clone(),
    }
}
