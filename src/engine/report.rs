//! The report of a run, as JSON and as Markdown for a change ticket: what
//! was found, what changed, the mappings before and after, the Test
//! Connection result and the first provisioning results. Never secrets: it
//! is built only from checklist details, change sentences (secrets masked to
//! their last four characters), schemas and Graph's job and log answers.

use std::fmt::Write as _;

use serde::Serialize;

use super::audience::Scope;
use super::facts::{Facts, OnDemandRecord};
use super::monitor::{JobView, stage_sentence};
use super::secret_list::SecretStatus;
use crate::procedure::mapping::UserNameSource;
use crate::procedure::step::StepId;

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
    /// What step 0 (single sign-on) created or set for this app, in this
    /// run or an earlier one (ids only).
    pub single_sign_on: Vec<String>,
    pub mapping_diff: Vec<String>,
    pub probe: Vec<String>,
    pub test_connection: Option<String>,
    pub users_in_scope: Option<usize>,
    pub users_without_mail: Vec<String>,
    pub warnings: Vec<String>,
    /// Each SCIM secret's age and expiry (no values), the one Entra holds first.
    pub scim_secrets: Vec<SecretStatus>,
    /// How userName is sourced, and whether that deviates from Orchidea's spec.
    pub user_name_source: String,
    pub notifications: Option<String>,
    /// The user mapping as Entra had it, and as it is after the run.
    pub mappings_before: Vec<String>,
    pub mappings_after: Vec<String>,
    /// Backups of the schema and settings taken before writes.
    pub backups: Vec<String>,
    pub job_status: Option<JobView>,
    /// When the job is quarantined for too many deletes: the users whose
    /// deletion (or disable) Entra holds back, with the reason, one line
    /// each; empty otherwise.
    pub held_deletions: Vec<String>,
    pub on_demand: Vec<OnDemandRecord>,
    /// The newest provisioning log events read, one line each.
    pub provisioning_results: Vec<String>,
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
        generated_at: crate::platform::timefmt::now_rfc3339(),
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
        single_sign_on: facts
            .created_sso
            .iter()
            .filter(|r| facts.app.as_ref().is_some_and(|a| a.id == r.service_principal_id))
            .flat_map(crate::engine::resume::CreatedSso::lines)
            .collect(),
        mapping_diff: facts
            .mapping
            .as_ref()
            .map(crate::procedure::mapping::MappingPlan::diff_lines)
            .unwrap_or_default(),
        probe: facts
            .probe
            .as_ref()
            .map(crate::services::probe::ProbeReport::lines)
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
        warnings: facts.all_warnings(),
        scim_secrets: super::secret_list::known(facts, std::time::SystemTime::now()),
        user_name_source: match facts.mapping_options.user_name_source {
            UserNameSource::Mail => "mail (Orchidea's specification)".into(),
            UserNameSource::CoalesceMailUpn => {
                "Coalesce([mail], [userPrincipalName]) — a deviation from Orchidea's specification, chosen so users without mail are provisioned".into()
            }
        },
        notifications: facts.notifications.as_ref().map(super::notify::Notifications::summary),
        mappings_before: facts
            .schema_before
            .as_ref()
            .and_then(|s| crate::procedure::mapping::user_mapping_lines(s).ok())
            .unwrap_or_default(),
        mappings_after: facts
            .mapping
            .as_ref()
            .and_then(|p| crate::procedure::mapping::user_mapping_lines(&p.edited).ok())
            .unwrap_or_default(),
        backups: facts.backups.clone(),
        job_status: facts.job_view.clone(),
        held_deletions: held_deletions(facts),
        on_demand: facts.on_demand.clone(),
        provisioning_results: facts
            .events
            .iter()
            .map(crate::services::graph::ProvisioningEvent::line)
            .collect(),
    }
}

/// Who Entra holds back and why, from the `stagedDelete` events read by
/// [`crate::engine::Engine::pending_deletions`]; a pointer to them when the
/// job is quarantined for too many deletes but they were not read.
fn held_deletions(facts: &Facts) -> Vec<String> {
    let quarantined = facts
        .job_view
        .as_ref()
        .and_then(|v| v.quarantine.as_ref())
        .is_some_and(|q| q.too_many_deletes);
    if !quarantined {
        return Vec::new();
    }
    match &facts.pending_deletions {
        Some(events) if !events.is_empty() => events
            .iter()
            .map(|e| {
                let why = e.reason().unwrap_or_else(|| "no reason given".into());
                format!("{} ({}): {why}", e.subject(), e.subject_id())
            })
            .collect(),
        _ => vec![
            "Entra holds deletions back (quarantine reason TooManyDeletes); they were not listed here: review them with `status` or the window's \"Review pending deletions\".".into(),
        ],
    }
}

/// The report as Markdown, for a change ticket.
pub fn to_markdown(r: &Report) -> String {
    let mut md = String::new();
    let app = r.app.as_ref().map_or_else(
        || "not found".into(),
        |a| format!("{} (`{}`)", a.name, a.id),
    );
    let _ = writeln!(md, "# Orchidea SCIM provisioning — change report\n");
    let _ = writeln!(md, "| | |\n|---|---|");
    let rows = [
        ("Generated", r.generated_at.clone()),
        ("Tool", format!("{} {}", r.tool, r.version)),
        ("Mode", r.mode.clone()),
        ("Enterprise application", app),
        ("Provisioning job", code_or(r.job_id.as_deref(), "none")),
        ("Tenant URL (SCIM)", code_or(r.scim_url.as_deref(), "none")),
        ("Scope", r.scope.label().to_string()),
        (
            "Users in scope",
            r.users_in_scope.map_or_else(
                || "not counted".into(),
                |n| format!("{n} ({} without mail)", r.users_without_mail.len()),
            ),
        ),
        ("userName source", r.user_name_source.clone()),
        (
            "Notifications",
            r.notifications.clone().unwrap_or_else(|| "not set".into()),
        ),
        (
            "Test Connection",
            r.test_connection
                .clone()
                .unwrap_or_else(|| "not run".into()),
        ),
        (
            "Complete",
            if r.complete { "yes, all steps" } else { "no" }.to_string(),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(md, "| {k} | {} |", v.replace('|', "\\|"));
    }
    section(&mut md, "Changes made", &r.changes, "Nothing was changed.");
    if !r.single_sign_on.is_empty() {
        section(
            &mut md,
            "Single sign-on set up by the wizard",
            &r.single_sign_on,
            "",
        );
    }
    let _ = writeln!(md, "\n## Steps\n");
    for s in &r.steps {
        let detail = if s.detail.is_empty() {
            String::new()
        } else {
            format!(" — {}", s.detail)
        };
        let _ = writeln!(md, "- **{}** {}: {}{detail}", s.number, s.title, s.state);
    }
    code_section(&mut md, "User mapping before", &r.mappings_before);
    code_section(&mut md, "User mapping after", &r.mappings_after);
    code_section(&mut md, "Mapping diff", &r.mapping_diff);
    section(
        &mut md,
        "Backups taken",
        &r.backups,
        "None: nothing was replaced in Entra.",
    );
    section(&mut md, "Pre-flight checks", &r.probe, "Not run.");
    section(&mut md, "Warnings", &r.warnings, "None.");
    let secrets: Vec<String> = r.scim_secrets.iter().map(SecretStatus::describe).collect();
    section(
        &mut md,
        "SCIM secrets (age and expiry)",
        &secrets,
        "Not known: the wizard has not saved a SCIM secret in Entra.",
    );
    let status = r
        .job_status
        .as_ref()
        .map(JobView::lines)
        .unwrap_or_default();
    section(&mut md, "Provisioning status", &status, "Not read.");
    if !r.held_deletions.is_empty() {
        section(
            &mut md,
            "Deletions held back (accidental-deletions threshold)",
            &r.held_deletions,
            "None.",
        );
    }
    let on_demand: Vec<String> = r
        .on_demand
        .iter()
        .flat_map(|o| {
            let mut lines = vec![format!("{}: {}", o.user, o.result.result)];
            lines.extend(
                o.result
                    .steps
                    .iter()
                    .map(|s| format!("  {}", stage_sentence(s))),
            );
            lines
        })
        .collect();
    section(&mut md, "Provisioned on demand", &on_demand, "Nobody.");
    code_section(
        &mut md,
        "First provisioning results",
        &r.provisioning_results,
    );
    md
}

fn code_or(v: Option<&str>, none: &str) -> String {
    v.map_or_else(|| none.to_string(), |s| format!("`{s}`"))
}

fn section(md: &mut String, title: &str, lines: &[String], empty: &str) {
    let _ = writeln!(md, "\n## {title}\n");
    if lines.is_empty() {
        let _ = writeln!(md, "{empty}");
    }
    for l in lines {
        let _ = writeln!(md, "- {l}");
    }
}

fn code_section(md: &mut String, title: &str, lines: &[String]) {
    let _ = writeln!(md, "\n## {title}\n");
    if lines.is_empty() {
        let _ = writeln!(md, "None.");
        return;
    }
    let _ = writeln!(md, "```");
    for l in lines {
        let _ = writeln!(md, "{l}");
    }
    let _ = writeln!(md, "```");
}

/// Writes the JSON report to `path` and the Markdown beside it (same name,
/// `.md`), or the Markdown alone when `path` ends in `.md`. Returns the
/// paths written. Each file is written like every other file of ours:
/// atomically (a crash leaves the old report or the new, never half of one)
/// and private (0600 on Unix), and every string in it has been through the
/// log redactor, since step details and errors carry upstream text.
pub fn write(r: &Report, path: &std::path::Path) -> Result<Vec<std::path::PathBuf>, ReportError> {
    let is_md = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md"));
    let (json_path, md_path) = if is_md {
        (None, path.to_path_buf())
    } else {
        (Some(path.to_path_buf()), path.with_extension("md"))
    };
    let mut written = Vec::new();
    if let Some(p) = json_path {
        let json = to_redacted_json(r)?;
        crate::platform::paths::write_private(&p, json.as_bytes()).map_err(|source| {
            ReportError::Write {
                path: p.clone(),
                source,
            }
        })?;
        written.push(p);
    }
    let md = crate::platform::logging::redact::redact(&to_markdown(r)).into_owned();
    crate::platform::paths::write_private(&md_path, md.as_bytes()).map_err(|source| {
        ReportError::Write {
            path: md_path.clone(),
            source,
        }
    })?;
    written.push(md_path);
    Ok(written)
}

/// The report as pretty JSON with every string value (and key) redacted.
/// Redacting the serialized text could let a `k=v` pattern swallow a closing
/// quote, so the strings are redacted one by one before serializing.
pub fn to_redacted_json(r: &Report) -> Result<String, ReportError> {
    let mut value = serde_json::to_value(r)?;
    redact_value(&mut value);
    Ok(serde_json::to_string_pretty(&value)?)
}

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("could not write the report {}: {source}", path.display())]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

fn redact_value(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(masked) = crate::platform::logging::redact::redact(s) {
                *s = masked;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut item) in entries {
                redact_value(&mut item);
                map.insert(
                    crate::platform::logging::redact::redact(&k).into_owned(),
                    item,
                );
            }
        }
        _ => {}
    }
}
