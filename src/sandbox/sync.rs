//! The synchronization API under `/servicePrincipals/{id}/synchronization`: templates, jobs, schema, start/pause/restart (secrets and Test Connection: `credentials`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::credentials;
use super::entra::{EntraState, HeldDeletes, JobRecord};
use super::expression::Expr;
use super::graph::{AppState, GraphError, GraphResult, json_object, ok_json};
use super::job::Job;

/// The schema of template `scim`, which a new job starts from.
///
/// # Panics
///
/// Never in practice: the embedded fixture is parsed by a unit test.
pub fn template_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(include_str!(
            "../../tests/fixtures/graph/schema-scim-default.json"
        ))
        .unwrap_or_else(|e| panic!("schema-scim-default.json: {e}"))
    })
}

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
            &format!("{base}/jobs/{{job}}/schema"),
            get(get_schema).put(put_schema),
        )
        .route(
            &format!("{base}/jobs/{{job}}/validateCredentials"),
            post(credentials::validate_credentials),
        )
        .route(&format!("{base}/jobs/{{job}}/start"), post(start))
        .route(&format!("{base}/jobs/{{job}}/pause"), post(pause))
        .route(&format!("{base}/jobs/{{job}}/restart"), post(restart))
        .route(
            &format!("{base}/secrets"),
            get(credentials::get_secrets).put(credentials::put_secrets),
        )
}

fn no_job(job_id: &str) -> GraphError {
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

async fn get_schema(
    State(shared): State<AppState>,
    Path((sp_id, job_id)): Path<(String, String)>,
) -> GraphResult {
    let entra = shared.entra.lock().await;
    check_job(&entra, &sp_id, &job_id)?;
    let record = entra.job(&sp_id, &job_id).ok_or_else(|| no_job(&job_id))?;
    Ok(ok_json(StatusCode::OK, &record.schema.clone()))
}

async fn put_schema(
    State(shared): State<AppState>,
    Path((sp_id, job_id)): Path<(String, String)>,
    body: Bytes,
) -> GraphResult {
    let schema = Value::Object(json_object(&body)?);
    check_schema(&schema).map_err(|m| GraphError::bad_request("BadRequest", m))?;
    let mut entra = shared.entra.lock().await;
    check_job(&entra, &sp_id, &job_id)?;
    let record = entra
        .job_mut(&sp_id, &job_id)
        .ok_or_else(|| no_job(&job_id))?;
    record.schema = schema;
    Ok(StatusCode::NO_CONTENT.into_response())
}

message_error!(
    /// A synchronization schema Graph refuses (`PUT …/schema`, a tenant file's `templateSchema`).
    SchemaError
);

/// What Graph refuses in a schema PUT: a partial document, enum values in
/// another casing, expressions that do not parse, and (stricter readings,
/// see [`check_targets`]) targets the target directory does not define and
/// repeated matching precedences.
pub(crate) fn check_schema(schema: &Value) -> Result<(), SchemaError> {
    for key in ["synchronizationRules", "directories"] {
        if !schema.get(key).is_some_and(Value::is_array) {
            return Err(format!(
                "The schema must be the whole synchronizationSchema document: '{key}' is missing or not an array. GET the schema, edit it, and PUT all of it."
            ).into());
        }
    }
    check_targets(schema)?;
    let mappings = schema["synchronizationRules"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["objectMappings"].as_array().into_iter().flatten())
        .flat_map(|m| m["attributeMappings"].as_array().into_iter().flatten());
    for m in mappings {
        let target = m["targetAttributeName"].as_str().unwrap_or("?");
        let checks: [(&str, &Value, &[&str]); 3] = [
            (
                "flowType",
                &m["flowType"],
                &[
                    "Always",
                    "ObjectAddOnly",
                    "MultiValueAddOnly",
                    "ValueAddOnly",
                    "AttributeAddOnly",
                ],
            ),
            (
                "flowBehavior",
                &m["flowBehavior"],
                &["FlowWhenChanged", "FlowAlways"],
            ),
            (
                "source.type",
                &m["source"]["type"],
                &["Attribute", "Constant", "Function"],
            ),
        ];
        for (name, value, allowed) in checks {
            if let Some(v) = value.as_str()
                && !allowed.contains(&v)
            {
                return Err(format!(
                    "The value '{v}' is not valid for {name} of the mapping to '{target}'. Valid values: {}.",
                    allowed.join(", ")
                ).into());
            }
        }
        if !m["matchingPriority"].is_null() && !m["matchingPriority"].is_i64() {
            return Err(format!(
                "matchingPriority of the mapping to '{target}' must be an integer."
            )
            .into());
        }
        if m["source"]["type"] == "Function"
            && let Some(expression) = m["source"]["expression"].as_str()
            && !expression.trim().is_empty()
        {
            Expr::parse(expression).map_err(|e| format!("The mapping to '{target}': {e}"))?;
        }
    }
    Ok(())
}

/// Each object mapping writes to an object its rule's target directory
/// defines, each attribute mapping to an attribute of that object, looked up
/// under the mapping's own `targetObjectName` (`synchronization-objectmapping.md`,
/// `…objectdefinition.md`; the portal maps only to listed attributes,
/// `customize-application-attributes.md` "Editing the list of supported
/// attributes"). Matching precedences within one object mapping are
/// distinct (`synchronization-attributemapping.md`: objects are matched by
/// the lowest `matchingPriority` first, then the next). That Graph's PUT
/// refuses either is assumed (stricter reading).
fn check_targets(schema: &Value) -> Result<(), SchemaError> {
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let name_is = |v: &Value, want: &str| {
        v["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(want))
    };
    let directories = list(&schema["directories"]);
    for rule in list(&schema["synchronizationRules"]) {
        let dir_name = rule["targetDirectoryName"].as_str().unwrap_or_default();
        let directory = directories.iter().find(|d| name_is(d, dir_name)).ok_or_else(|| {
            format!("The rule's targetDirectoryName '{dir_name}' is not one of the schema's directories.")
        })?;
        for om in list(&rule["objectMappings"]) {
            let mapping = om["name"].as_str().unwrap_or("(unnamed)");
            let object_name = om["targetObjectName"].as_str().unwrap_or_default();
            let object = list(&directory["objects"])
                .into_iter()
                .find(|o| name_is(o, object_name))
                .ok_or_else(|| {
                    format!(
                        "The object mapping '{mapping}' targets the object '{object_name}', which the directory '{dir_name}' does not define."
                    )
                })?;
            let attributes = list(&object["attributes"]);
            let mut priorities: Vec<(i64, String)> = Vec::new();
            for m in list(&om["attributeMappings"]) {
                let target = m["targetAttributeName"].as_str().unwrap_or_default();
                if !attributes.iter().any(|a| name_is(a, target)) {
                    return Err(format!(
                        "The attribute mapping to '{target}' in '{mapping}': the object '{object_name}' of the directory '{dir_name}' has no such attribute. Add it to the target attribute list first."
                    ).into());
                }
                let priority = m["matchingPriority"].as_i64().unwrap_or(0);
                if priority > 0 {
                    if let Some((_, other)) = priorities.iter().find(|(p, _)| *p == priority) {
                        return Err(format!(
                            "In '{mapping}', '{other}' and '{target}' share the matching precedence {priority}; each matching attribute needs its own."
                        ).into());
                    }
                    priorities.push((priority, target.to_string()));
                }
            }
        }
    }
    Ok(())
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
    super::provision::spawn_cycle(shared.clone(), sp_id.to_string(), job_id.to_string());
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

    #[test]
    fn schema_checks_refuse_partial_documents_and_recased_enums() {
        check_schema(template_schema()).unwrap();
        let mut partial = template_schema().clone();
        partial.as_object_mut().unwrap().remove("directories");
        assert!(
            check_schema(&partial)
                .unwrap_err()
                .to_string()
                .contains("directories")
        );
        let text =
            template_schema()
                .to_string()
                .replacen("\"FlowWhenChanged\"", "\"flowWhenChanged\"", 1);
        let recased: Value = serde_json::from_str(&text).unwrap();
        assert!(
            check_schema(&recased)
                .unwrap_err()
                .to_string()
                .contains("flowWhenChanged")
        );
    }

    fn user_attributes(schema: &mut Value) -> &mut Vec<Value> {
        schema["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"]
            .as_array_mut()
            .unwrap()
    }

    #[test]
    fn schema_checks_read_targets_under_the_mappings_own_object_name() {
        for text in [
            include_str!("../../tests/fixtures/graph/schema-scim-plain-names.json"),
            include_str!("../../tests/fixtures/graph/schema-scim-entra-id.json"),
            include_str!("../../tests/fixtures/graph/schema-scim-core-urn.json"),
            include_str!("../../tests/fixtures/graph/schema-customappsso-legacy.json"),
            include_str!("../../tests/fixtures/graph/schema-orchidea-configured.json"),
        ] {
            check_schema(&serde_json::from_str(text).unwrap()).unwrap();
        }
        // A target the URN-named object does not define.
        let mut schema = template_schema().clone();
        user_attributes(&mut schema)[0]["targetAttributeName"] = json!("nickName");
        let err = check_schema(&schema).unwrap_err().to_string();
        assert!(
            err.contains("'nickName'")
                && err.contains("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
            "{err}"
        );
        // The object mapping points at an object the target directory lacks.
        let mut schema = template_schema().clone();
        schema["synchronizationRules"][0]["objectMappings"][1]["targetObjectName"] = json!("User");
        let err = check_schema(&schema).unwrap_err().to_string();
        assert!(err.contains("does not define"), "{err}");
        // The rule's target directory is not in the document.
        let mut schema = template_schema().clone();
        schema["synchronizationRules"][0]["targetDirectoryName"] = json!("elsewhere");
        assert!(
            check_schema(&schema)
                .unwrap_err()
                .to_string()
                .contains("'elsewhere'")
        );
    }

    #[test]
    fn matching_precedences_must_be_distinct() {
        let mut schema = template_schema().clone();
        let attrs = user_attributes(&mut schema);
        let external = attrs
            .iter_mut()
            .find(|a| a["targetAttributeName"] == "externalId")
            .unwrap();
        external["matchingPriority"] = json!(1);
        let err = check_schema(&schema).unwrap_err().to_string();
        assert!(
            err.contains("'userName' and 'externalId' share the matching precedence 1"),
            "{err}"
        );
        let external = user_attributes(&mut schema)
            .iter_mut()
            .find(|a| a["targetAttributeName"] == "externalId")
            .unwrap();
        external["matchingPriority"] = json!(2);
        check_schema(&schema).unwrap();
    }
}
