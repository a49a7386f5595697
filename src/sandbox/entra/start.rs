//! Group *start* (step 16) on the Graph side: start, pause and restart a job (a provisioning cycle then runs, `crate::sandbox::provision`), provision one user on demand (`ondemand`) and the provisioning logs (`auditlogs`).

pub mod auditlogs;
pub mod ondemand;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::Value;

use super::HeldDeletes;
use super::credentials::check_job;
use super::graph::{AppState, GraphError, GraphResult, json_object};

/// The routes, each path under `prefix` (`/v1.0`).
pub(crate) fn routes(prefix: &str) -> Router<AppState> {
    let base = format!("{prefix}/servicePrincipals/{{id}}/synchronization");
    Router::new()
        .route(&format!("{base}/jobs/{{job}}/start"), post(start))
        .route(&format!("{base}/jobs/{{job}}/pause"), post(pause))
        .route(&format!("{base}/jobs/{{job}}/restart"), post(restart))
        .merge(ondemand::routes(prefix))
        .merge(auditlogs::routes(prefix))
}

async fn start(
    State(shared): State<AppState>,
    Path((sp_id, job_id)): Path<(String, String)>,
) -> GraphResult {
    activate(&shared, &sp_id, &job_id, None).await
}

async fn pause(
    State(shared): State<AppState>,
    Path((sp_id, job_id)): Path<(String, String)>,
) -> GraphResult {
    let mut entra = shared.entra.lock().await;
    check_job(&entra, &sp_id, &job_id)?;
    if let Some(r) = entra.job_mut(&sp_id, &job_id) {
        r.job.set_state("Paused", "Paused");
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The `synchronizationJobRestartScope` flags
/// (`synchronization-synchronizationjobrestartcriteria.md`).
const RESET_SCOPES: [&str; 7] = [
    "None",
    "ConnectorDataStore",
    "Escrows",
    "Watermark",
    "QuarantineState",
    "Full",
    "ForceDeletes",
];

/// An empty `resetScope` "emulates the Restart provisioning option" of the
/// portal: "similar to … `QuarantineState`, `Watermark`, and `Escrows`".
const PORTAL_RESTART: [&str; 3] = ["QuarantineState", "Watermark", "Escrows"];

/// The flags a restart body asks for, `Full` spelled out ("all of the
/// options"). No body, no `criteria` or an empty `resetScope` is the
/// portal's restart. A value outside the enum is a 400 (assumed: the
/// page does not show the error).
fn reset_scopes(body: &Bytes) -> Result<Vec<&'static str>, GraphError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(PORTAL_RESTART.to_vec());
    }
    let body = json_object(body)?;
    let text = match body.get("criteria") {
        None | Some(Value::Null) => None,
        Some(Value::Object(c)) => match c.get("resetScope") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => Some(t.as_str()),
            Some(_) => {
                return Err(GraphError::bad_request(
                    "BadRequest",
                    "resetScope must be a string: a comma-separated list of synchronizationJobRestartScope values.",
                ));
            }
        },
        Some(_) => {
            return Err(GraphError::bad_request(
                "BadRequest",
                "criteria must be a synchronizationJobRestartCriteria object.",
            ));
        }
    };
    let mut scopes = Vec::new();
    for part in text
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let known = RESET_SCOPES
            .iter()
            .find(|s| s.eq_ignore_ascii_case(part))
            .ok_or_else(|| {
                GraphError::bad_request(
                    "BadRequest",
                    format!(
                        "Cannot convert the literal '{part}' to the expected type 'microsoft.graph.synchronizationJobRestartScope'."
                    ),
                )
            })?;
        if *known == "Full" {
            scopes.extend(
                RESET_SCOPES
                    .iter()
                    .filter(|s| !matches!(**s, "None" | "Full")),
            );
        } else {
            scopes.push(*known);
        }
    }
    if scopes.is_empty() {
        return Ok(PORTAL_RESTART.to_vec());
    }
    Ok(scopes)
}

async fn restart(
    State(shared): State<AppState>,
    Path((sp_id, job_id)): Path<(String, String)>,
    body: Bytes,
) -> GraphResult {
    let scopes = reset_scopes(&body)?;
    activate(&shared, &sp_id, &job_id, Some(&scopes)).await
}

/// Start (or restart with `reset`): the job becomes Active and a
/// provisioning cycle runs in the background.
async fn activate(
    shared: &AppState,
    sp_id: &str,
    job_id: &str,
    reset: Option<&[&str]>,
) -> GraphResult {
    {
        let mut entra = shared.entra.lock().await;
        check_job(&entra, sp_id, job_id)?;
        if let Some(r) = entra.job_mut(sp_id, job_id) {
            let has = |flag: &str| reset.unwrap_or_default().contains(&flag);
            // "Clears the underlying cache": the job forgets what it
            // provisioned, so the next cycle matches every user again.
            if has("ConnectorDataStore") {
                r.provisioned.clear();
                r.deletes = HeldDeletes::default();
                r.provisioned_groups.clear();
                r.job.status.synchronized_entry_count_by_type.clear();
            }
            if has("QuarantineState") {
                r.job.status.quarantine = None;
            }
            if has("Escrows") {
                r.job.status.escrows_pruned = true;
            }
            // "Forces the system to delete the pending deleted users": the
            // ones the threshold held back, not any new ones.
            if has("ForceDeletes") {
                let pending = std::mem::take(&mut r.deletes.pending);
                r.deletes.allowed.extend(pending);
            }
            // `Watermark`: every sandbox cycle already evaluates every user.
            r.job.set_state("Active", "Active");
        }
    }
    crate::sandbox::provision::spawn_cycle(shared.clone(), sp_id.to_string(), job_id.to_string());
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_scopes_follow_the_restart_criteria_page() {
        let portal = PORTAL_RESTART.to_vec();
        for body in [
            "",
            " ",
            "{}",
            r#"{"criteria":{}}"#,
            r#"{"criteria":{"resetScope":""}}"#,
        ] {
            assert_eq!(reset_scopes(&Bytes::from(body)).unwrap(), portal, "{body}");
        }
        let full = reset_scopes(&Bytes::from_static(
            br#"{"criteria":{"resetScope":"Full"}}"#,
        ))
        .unwrap();
        assert!(full.contains(&"ForceDeletes") && full.contains(&"ConnectorDataStore"));
        let some = reset_scopes(&Bytes::from_static(
            br#"{"criteria":{"resetScope":"watermark, QuarantineState"}}"#,
        ))
        .unwrap();
        assert_eq!(some, vec!["Watermark", "QuarantineState"]);
        let bad = reset_scopes(&Bytes::from_static(
            br#"{"criteria":{"resetScope":"Everything"}}"#,
        ))
        .unwrap_err();
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(reset_scopes(&Bytes::from_static(br#"{"criteria":"Full"}"#)).is_err());
    }
}
