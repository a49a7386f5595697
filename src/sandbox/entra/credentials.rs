//! Group *credentials* (steps 3–6) on the Graph side, under `/servicePrincipals/{id}/synchronization`: templates, jobs (create, get, list, delete), saved secrets and Test Connection (`validateCredentials`).

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::graph::{AppState, GraphError, GraphResult, json_object, ok_json};
use super::{EntraState, HeldDeletes, JobRecord, SecretPair};
use crate::platform::secret::Secret;
use crate::sandbox::job::Job;
use crate::sandbox::outbound::ScimTarget;

/// The routes, each path under `prefix` (`/v1.0`).
pub(crate) fn routes(prefix: &str) -> Router<AppState> {
    let base = format!("{prefix}/servicePrincipals/{{id}}/synchronization");
    Router::new()
        .route(&format!("{base}/templates"), get(templates))
        .route(&format!("{base}/jobs"), get(list_jobs).post(create_job))
        .route(
            &format!("{base}/jobs/{{job}}"),
            get(get_job).delete(delete_job),
        )
        .route(
            &format!("{base}/jobs/{{job}}/validateCredentials"),
            post(validate_credentials),
        )
        .route(
            &format!("{base}/secrets"),
            get(get_secrets).put(put_secrets),
        )
}

pub(super) fn no_job(job_id: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("The synchronization job '{job_id}' was not found for this service principal."),
    )
}

/// The app exists and Graph's replicas show it: a new app answers 404
/// `Request_ResourceNotFound` until it has replicated.
pub(crate) fn check_sp(entra: &EntraState, sp_id: &str) -> Result<(), GraphError> {
    entra
        .sp(sp_id)
        .filter(|_| entra.replicated(sp_id))
        .map(drop)
        .ok_or_else(|| GraphError::no_object(sp_id))
}

pub(crate) fn check_job(entra: &EntraState, sp_id: &str, job_id: &str) -> Result<(), GraphError> {
    check_sp(entra, sp_id)?;
    entra
        .job(sp_id, job_id)
        .map(drop)
        .ok_or_else(|| no_job(job_id))
}

pub(crate) fn context(shared: &AppState, sp_id: &str, tail: &str) -> String {
    format!(
        "{}/$metadata#servicePrincipals('{sp_id}')/synchronization/{tail}",
        shared.graph_url
    )
}

/// Template ids an app offers: `scim` when it can provision, none otherwise.
fn template_ids(entra: &EntraState, sp_id: &str) -> Vec<&'static str> {
    match entra.sp(sp_id) {
        Some(sp) if sp.can_provision() => vec!["scim"],
        _ => Vec::new(),
    }
}

async fn templates(State(shared): State<AppState>, Path(sp_id): Path<String>) -> GraphResult {
    let entra = shared.entra.lock().await;
    check_sp(&entra, &sp_id)?;
    let app_id = entra
        .sp(&sp_id)
        .map(|s| s.app_id.clone())
        .unwrap_or_default();
    let schema = entra.template_schema();
    let value: Vec<Value> = template_ids(&entra, &sp_id)
        .into_iter()
        .map(|id| {
            json!({
                "id": id,
                "applicationId": app_id,
                "default": true,
                "description": "Provision users to any application that implements SCIM 2.0.",
                "discoverable": true,
                "factoryTag": "scim",
                "metadata": [],
                "schema": schema,
            })
        })
        .collect();
    let body = json!({ "@odata.context": context(&shared, &sp_id, "templates"), "value": value });
    Ok(ok_json(StatusCode::OK, &body))
}

async fn list_jobs(State(shared): State<AppState>, Path(sp_id): Path<String>) -> GraphResult {
    let entra = shared.entra.lock().await;
    check_sp(&entra, &sp_id)?;
    let value: Vec<&Job> = entra
        .jobs
        .iter()
        .filter(|j| j.service_principal_id == sp_id)
        .map(|j| &j.job)
        .collect();
    let body = json!({ "@odata.context": context(&shared, &sp_id, "jobs"), "value": value });
    Ok(ok_json(StatusCode::OK, &body))
}

async fn create_job(
    State(shared): State<AppState>,
    Path(sp_id): Path<String>,
    body: Bytes,
) -> GraphResult {
    let body = json_object(&body)?;
    let template = body
        .get("templateId")
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::bad_request("BadRequest", "templateId is required."))?;
    let mut entra = shared.entra.lock().await;
    check_sp(&entra, &sp_id)?;
    let offered = template_ids(&entra, &sp_id);
    let Some(template) = offered.iter().find(|t| t.eq_ignore_ascii_case(template)) else {
        let known = if offered.is_empty() {
            "this application offers no synchronization templates".to_string()
        } else {
            format!("its templates are: {}", offered.join(", "))
        };
        return Err(GraphError::bad_request(
            "BadRequest",
            format!("The template '{template}' was not found for this application; {known}."),
        ));
    };
    // The docs are silent on a second job from the same template; one job
    // per template keeps "check before creating" meaningful.
    if let Some(existing) = entra
        .jobs
        .iter()
        .find(|j| j.service_principal_id == sp_id && j.job.template_id == *template)
    {
        return Err(GraphError::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "This application already has a synchronization job from template '{template}': {}.",
                existing.job.id
            ),
        ));
    }
    let job = Job::new(template, &entra.tenant.id);
    let schema = entra.template_schema().clone();
    entra.jobs.push(JobRecord {
        service_principal_id: sp_id.clone(),
        job: job.clone(),
        // The template's schema as it is (its id included).
        schema,
        provisioned: BTreeMap::default(),
        deletes: HeldDeletes::default(),
        provisioned_groups: BTreeMap::default(),
    });
    let mut body = serde_json::to_value(&job).unwrap_or_default();
    body["@odata.context"] = json!(context(&shared, &sp_id, "jobs/$entity"));
    Ok(ok_json(StatusCode::CREATED, &body))
}

async fn get_job(
    State(shared): State<AppState>,
    Path((sp_id, job_id)): Path<(String, String)>,
) -> GraphResult {
    let entra = shared.entra.lock().await;
    check_job(&entra, &sp_id, &job_id)?;
    let record = entra.job(&sp_id, &job_id).ok_or_else(|| no_job(&job_id))?;
    Ok(ok_json(
        StatusCode::OK,
        &serde_json::to_value(&record.job).unwrap_or_default(),
    ))
}

async fn delete_job(
    State(shared): State<AppState>,
    Path((sp_id, job_id)): Path<(String, String)>,
) -> GraphResult {
    let mut entra = shared.entra.lock().await;
    check_job(&entra, &sp_id, &job_id)?;
    entra
        .jobs
        .retain(|j| !(j.service_principal_id == sp_id && j.job.id == job_id));
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Reads `[{key, value}, …]`. A key outside the enum fails the way Graph's
/// enum parsing does: 500 "Requested value '…' was not found.".
fn parse_pairs(list: Option<&Value>, field: &str) -> Result<Vec<SecretPair>, GraphError> {
    let Some(items) = list.and_then(Value::as_array) else {
        return Err(GraphError::bad_request(
            "BadRequest",
            format!("'{field}' must be an array of {{\"key\",\"value\"}} pairs."),
        ));
    };
    let mut pairs: Vec<SecretPair> = Vec::new();
    for item in items {
        let Some(key) = item["key"].as_str() else {
            return Err(GraphError::bad_request(
                "BadRequest",
                "Every pair needs a string 'key'.",
            ));
        };
        let Some(canonical) = super::canonical_key(key) else {
            return Err(GraphError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UnknownError",
                format!("Requested value '{key}' was not found."),
            ));
        };
        let Some(value) = item["value"].as_str() else {
            return Err(GraphError::bad_request(
                "BadRequest",
                format!("The value of '{canonical}' must be a string."),
            ));
        };
        if pairs.iter().any(|p| p.key == canonical) {
            return Err(GraphError::bad_request(
                "BadRequest",
                format!("'{canonical}' is given twice."),
            ));
        }
        pairs.push(SecretPair {
            key: canonical.to_string(),
            value: Secret::new(value),
        });
    }
    Ok(pairs)
}

pub(crate) async fn get_secrets(
    State(shared): State<AppState>,
    Path(sp_id): Path<String>,
) -> GraphResult {
    let entra = shared.entra.lock().await;
    check_sp(&entra, &sp_id)?;
    let value: Vec<Value> = entra
        .secrets
        .get(&sp_id)
        .into_iter()
        .flatten()
        .map(SecretPair::masked)
        .collect();
    let body = json!({ "@odata.context": context(&shared, &sp_id, "secrets"), "value": value });
    Ok(ok_json(StatusCode::OK, &body))
}

/// Replaces the whole set (`synchronization-serviceprincipal-put-synchronization.md`).
pub(crate) async fn put_secrets(
    State(shared): State<AppState>,
    Path(sp_id): Path<String>,
    body: Bytes,
) -> GraphResult {
    let body = json_object(&body)?;
    let pairs = parse_pairs(body.get("value"), "value")?;
    for p in &pairs {
        let v = p.value.expose();
        match p.key.as_str() {
            "SyncAll" | "SkipOutOfScopeDeletions"
                if !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false") =>
            {
                return Err(GraphError::bad_request(
                    "BadRequest",
                    format!("{} must be \"true\" or \"false\", not \"{v}\".", p.key),
                ));
            }
            "SyncNotificationSettings"
                if !serde_json::from_str::<Value>(v).is_ok_and(|j| j.is_object()) =>
            {
                return Err(GraphError::bad_request(
                    "BadRequest",
                    "SyncNotificationSettings must be a JSON object in a string, e.g. {\"Enabled\":true,\"Recipients\":\"admin@contoso.com\"}.",
                ));
            }
            _ => {}
        }
    }
    let mut entra = shared.entra.lock().await;
    check_sp(&entra, &sp_id)?;
    let threshold = pairs
        .iter()
        .find(|p| p.key == "SyncNotificationSettings")
        .and_then(|p| delete_threshold(p.value.expose()));
    if let Some(threshold) = threshold {
        for record in entra
            .jobs
            .iter_mut()
            .filter(|r| r.service_principal_id == sp_id)
        {
            set_threshold(&mut record.job.synchronization_job_settings, threshold);
        }
    }
    entra.secrets.insert(sp_id, pairs);
    Ok(StatusCode::NO_CONTENT.into_response())
}

const THRESHOLD_SETTING: &str = "QuarantineTooManyDeletesThreshold";

/// The accidental-deletion threshold in a `SyncNotificationSettings`
/// document, `None` when the document does not say.
fn delete_threshold(document: &str) -> Option<DeleteThreshold> {
    let v: Value = serde_json::from_str(document).ok()?;
    let flag = |v: &Value| match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.trim().to_ascii_lowercase().parse().ok(),
        _ => None,
    };
    if flag(&v["DeleteThresholdEnabled"])? {
        match &v["DeleteThresholdValue"] {
            Value::Number(n) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(DeleteThreshold::On),
            Value::String(s) => s.trim().parse().ok().map(DeleteThreshold::On),
            _ => None,
        }
    } else {
        Some(DeleteThreshold::Off)
    }
}

/// The job shows the saved threshold as its `QuarantineTooManyDeletesThreshold`
/// setting (`synchronizationJobSettings`, a `keyValuePair` list, as the
/// Entra doc `application-provisioning-configuration-api.md` shows a job
/// GET); a switched-off guard removes it. The link between the two is
/// assumed: no page says which write changes the job setting.
/// The accidental-deletion threshold a `SyncNotificationSettings` document sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeleteThreshold {
    Off,
    On(u32),
}

fn set_threshold(settings: &mut Vec<crate::sandbox::job::NameValue>, threshold: DeleteThreshold) {
    settings.retain(|s| s.name != THRESHOLD_SETTING);
    if let DeleteThreshold::On(n) = threshold {
        settings.push(crate::sandbox::job::NameValue {
            name: THRESHOLD_SETTING.into(),
            value: n.to_string(),
        });
    }
}

/// Test Connection: really calls the SCIM endpoint, as Entra does.
pub(crate) async fn validate_credentials(
    State(shared): State<AppState>,
    Path((sp_id, job_id)): Path<(String, String)>,
    body: Bytes,
) -> GraphResult {
    let body = json_object(&body)?;
    // The documented example omits useSavedCredentials: absent means false.
    let use_saved = match body.get("useSavedCredentials") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(GraphError::bad_request(
                "BadRequest",
                "useSavedCredentials must be true or false.",
            ));
        }
    };
    let given = if use_saved {
        Vec::new()
    } else {
        parse_pairs(body.get("credentials"), "credentials")?
    };
    let (base, token) = {
        let entra = shared.entra.lock().await;
        check_job(&entra, &sp_id, &job_id)?;
        let pick = |key: &str| -> Option<Secret> {
            if use_saved {
                entra.secret(&sp_id, key).cloned()
            } else {
                given.iter().find(|p| p.key == key).map(|p| p.value.clone())
            }
        };
        (pick("BaseAddress"), pick("SecretToken"))
    };
    let unavailable = |detail: String| {
        GraphError::bad_request(
            "CredentialValidationUnavailable",
            format!(
                "You appear to have entered invalid credentials. Error code: SystemForCrossDomainIdentityManagementCredentialValidationUnavailable. Details: {detail}."
            ),
        )
    };
    let (Some(base), Some(token)) = (base, token) else {
        let which = if use_saved {
            "saved credentials"
        } else {
            "credentials"
        };
        return Err(unavailable(format!(
            "the {which} need both BaseAddress (Tenant URL) and SecretToken"
        )));
    };
    let target = ScimTarget::new(base.expose(), token).map_err(unavailable)?;
    match target.test_connection().await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(e) => {
            let request = e.request();
            let (path, query) = request
                .trim_start_matches("GET ")
                .split_once('?')
                .unwrap_or((request, ""));
            Err(unavailable(format!(
                "{} when Entra sent GET {}{path}?{query} with the Secret Token",
                e.failure(),
                target.base().as_str().trim_end_matches('/')
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_follow_the_enum() {
        let ok = json!([{"key": "baseaddress", "value": "https://x"}]);
        assert_eq!(
            parse_pairs(Some(&ok), "value").unwrap()[0].key,
            "BaseAddress"
        );
        let bad = json!([{"key": "TenantUrl", "value": "https://x"}]);
        let err = parse_pairs(Some(&bad), "value").unwrap_err();
        assert_eq!(err.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(err.message, "Requested value 'TenantUrl' was not found.");
        let twice =
            json!([{"key": "SyncAll", "value": "true"}, {"key": "SyncAll", "value": "false"}]);
        assert!(parse_pairs(Some(&twice), "value").is_err());
    }
}
