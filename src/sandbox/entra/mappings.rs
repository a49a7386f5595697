//! Group *mappings* (steps 7–13) on the Graph side: the job's synchronization schema (`GET`/`PUT …/jobs/{job}/schema`) and the checks Graph makes on a schema it is sent.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::Value;

use super::credentials::{check_job, no_job};
use super::graph::{AppState, GraphError, GraphResult, json_object, ok_json};
use crate::sandbox::expression::Expr;

/// The schema of template `scim`, which a new job starts from.
///
/// # Panics
///
/// Never in practice: the embedded fixture is parsed by a unit test.
pub fn template_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(include_str!(
            "../../../tests/fixtures/graph/schema-scim-default.json"
        ))
        .unwrap_or_else(|e| panic!("schema-scim-default.json: {e}"))
    })
}

/// The routes, each path under `prefix` (`/v1.0`).
pub(crate) fn routes(prefix: &str) -> Router<AppState> {
    let base = format!("{prefix}/servicePrincipals/{{id}}/synchronization");
    Router::new().route(
        &format!("{base}/jobs/{{job}}/schema"),
        get(get_schema).put(put_schema),
    )
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
            include_str!("../../../tests/fixtures/graph/schema-scim-plain-names.json"),
            include_str!("../../../tests/fixtures/graph/schema-scim-entra-id.json"),
            include_str!("../../../tests/fixtures/graph/schema-scim-core-urn.json"),
            include_str!("../../../tests/fixtures/graph/schema-customappsso-legacy.json"),
            include_str!("../../../tests/fixtures/graph/schema-orchidea-configured.json"),
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
