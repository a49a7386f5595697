//! `GET /auditLogs/provisioning`: the provisioning log as `provisioningObjectSummary` objects (`api/provisioningobjectsummary-list.md`, `resources/provisioningobjectsummary.md`).
//!
//! Newest first. `$filter` takes `eq` clauses joined by `and` on `jobId`,
//! `servicePrincipal/id`, `provisioningStatusInfo/status` and
//! `provisioningAction`; values compare case-sensitively, as the docs say
//! the filters are. Anything else is `400 Request_UnsupportedQuery`. Pages
//! hold 50 entries unless `$top` (1–500) says otherwise (the docs give no
//! page size; the sandbox chooses these), and `@odata.nextLink` carries a
//! `$skiptoken`.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::routing::get;
use serde_json::{Value, json};

use crate::sandbox::entra::graph::{AppState, GraphError, GraphResult, ok_json, self_url};
use crate::sandbox::entra::odata::{Filter, Query, QueryError};
use crate::sandbox::entra::{EntraState, LogEntry};
use crate::sandbox::provision::{CREDENTIAL_ERROR, UNAVAILABLE_ERROR, code};

/// Entries per page without `$top`.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest `$top`.
pub const MAX_PAGE_SIZE: usize = 500;

/// What `$filter` may name.
const FILTERABLE: [&str; 4] = [
    "jobId",
    "servicePrincipal/id",
    "provisioningStatusInfo/status",
    "provisioningAction",
];

const PROPERTIES: &[&str] = &[
    "id",
    "activityDateTime",
    "tenantId",
    "jobId",
    "cycleId",
    "changeId",
    "provisioningAction",
    "durationInMilliseconds",
    "sourceSystem",
    "targetSystem",
    "initiatedBy",
    "servicePrincipal",
    "sourceIdentity",
    "targetIdentity",
    "provisioningStatusInfo",
    "provisioningSteps",
    "modifiedProperties",
];

pub(crate) fn routes(prefix: &str) -> Router<AppState> {
    Router::new().route(&format!("{prefix}/auditLogs/provisioning"), get(list))
}

fn unsupported(message: impl Into<String>) -> GraphError {
    GraphError::bad_request("Request_UnsupportedQuery", message)
}

/// Splits on ` and ` (any case) outside quoted literals.
fn split_and(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            quoted = !quoted;
        }
        if !quoted && c == ' ' {
            let ahead: String = chars[i..chars.len().min(i + 5)].iter().collect();
            if ahead.eq_ignore_ascii_case(" and ") {
                parts.push(std::mem::take(&mut current));
                i += 5;
                continue;
            }
        }
        current.push(c);
        i += 1;
    }
    parts.push(current);
    parts
}

/// `$filter` as `(property, value)` pairs, all of which must hold.
fn parse_filter(text: &str) -> Result<Vec<(&'static str, String)>, GraphError> {
    let mut clauses = Vec::new();
    for clause in split_and(text) {
        let clause = clause.trim();
        let bad = || {
            unsupported(format!(
                "Unsupported or invalid query filter clause specified: '{clause}'. The sandbox's provisioning logs take eq on {} joined by and.",
                FILTERABLE.join(", ")
            ))
        };
        let parsed = Filter::parse(clause).map_err(|_| bad())?;
        let Filter::Eq(prop, Value::String(value)) = parsed else {
            return Err(bad());
        };
        let prop = FILTERABLE
            .iter()
            .find(|p| p.eq_ignore_ascii_case(&prop))
            .ok_or_else(|| {
                unsupported(format!(
                    "Unsupported or invalid query filter clause specified for property '{prop}' of resource 'provisioningObjectSummary'."
                ))
            })?;
        clauses.push((*prop, value));
    }
    Ok(clauses)
}

/// `$filter`'s value, and the rest of the query string.
fn split_filter(query: &str) -> (Option<String>, String) {
    let mut filter = None;
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if k.eq_ignore_ascii_case("$filter") {
            filter = Some(v.into_owned());
        } else {
            rest.append_pair(&k, &v);
        }
    }
    (filter, rest.finish())
}

async fn list(State(shared): State<AppState>, uri: Uri) -> GraphResult {
    // `$filter` is read here (and-joined clauses); the rest by the shared parser.
    let (filter_text, rest) = split_filter(uri.query().unwrap_or_default());
    let mut q = Query::parse(Some(&rest))?;
    if q.search.is_some() {
        return Err(unsupported(
            "$search is not supported on provisioning logs; use $filter.",
        ));
    }
    if q.top.is_some_and(|t| t > MAX_PAGE_SIZE) {
        return Err(GraphError::from(QueryError {
            code: "Request_BadRequest",
            message: format!(
                "Invalid page size specified: '{}'. Must be between 1 and {MAX_PAGE_SIZE} inclusive.",
                q.top.unwrap_or_default()
            ),
        }));
    }
    q.top = Some(q.top.unwrap_or(DEFAULT_PAGE_SIZE));
    q.check_select(PROPERTIES, "provisioningObjectSummary")?;
    let clauses = match &filter_text {
        Some(text) => {
            q.raw.insert(0, ("$filter".into(), text.clone()));
            parse_filter(text)?
        }
        None => Vec::new(),
    };
    // Only the page (and one past it, for the next link) is built as JSON:
    // a summary is a few kB, and the log holds up to 10,000 lines.
    let window = q.skip..q.skip + q.top.unwrap_or(DEFAULT_PAGE_SIZE) + 1;
    let items: Vec<Value> = {
        let entra = shared.entra.lock().await;
        entra
            .provisioning_log
            .iter()
            .rev()
            .filter(|e| clauses.iter().all(|(p, v)| entry_field(e, p) == v))
            .enumerate()
            .map(|(i, e)| {
                if window.contains(&i) {
                    summary(&entra, e)
                } else {
                    Value::Null
                }
            })
            .collect()
    };
    let context = format!("{}/$metadata#auditLogs/provisioning", shared.graph_url);
    let page = q.page(&items, &[], &context, &self_url(&shared, &uri));
    Ok(ok_json(StatusCode::OK, &page))
}

/// The code of an entry written before codes were recorded.
fn legacy_code(e: &LogEntry) -> Option<&'static str> {
    match e.status.as_str() {
        "success" => None,
        _ if e.reason.starts_with("matching attribute empty") => Some(code::EMPTY_MATCHING_VALUE),
        _ if e.reason == "already up to date" => Some(code::REDUNDANT_EXPORT),
        _ if e.reason.starts_with("out of scope") => Some(code::NOT_EFFECTIVELY_ENTITLED),
        _ if e.reason.starts_with("mapping to") => Some(code::MAPPING_FAILED),
        _ => Some(code::SCIM_REJECTED),
    }
}

/// `errorCategory`: a mapping the sandbox cannot evaluate is the service's
/// failure; everything else comes from the data or the target.
pub(super) fn error_category(code: &str) -> &'static str {
    if code == code::MAPPING_FAILED {
        "failure"
    } else {
        "nonServiceFailure"
    }
}

/// What the admin can do about a skip or failure.
pub(super) fn recommended_action(code: &str) -> Option<&'static str> {
    Some(match code {
        code::EMPTY_MATCHING_VALUE => {
            "Give the user a value for the source of the first matching attribute (for Orchidea: mail), or change the matching attributes in the mappings."
        }
        code::NOT_EFFECTIVELY_ENTITLED => {
            "If the user should be provisioned, assign them (or a group they belong to) to the application, or provision all users."
        }
        code::MAPPING_FAILED => "Fix the expression of the attribute mapping named in the reason.",
        code::SCIM_CONFLICT => {
            "Remove or rename the conflicting user in the target application, or change the matching attributes."
        }
        code::SCIM_REJECTED => "Check the value the target application refused (see the reason).",
        code::DELETE_THRESHOLD_EXCEEDED => {
            "Review the pending deletions; allow them (restart with ForceDeletes) or fix the scope, assignments or users and restart provisioning."
        }
        CREDENTIAL_ERROR => {
            "Create a new SCIM secret in Orchidea, save it as the Secret Token, and restart provisioning."
        }
        UNAVAILABLE_ERROR => {
            "Check the Tenant URL and that the SCIM service is up, then restart provisioning."
        }
        _ => return None,
    })
}

/// A log entry as a `provisioningObjectSummary`.
/// `provisioningAction` as Graph spells it.
fn action_of(e: &LogEntry) -> &'static str {
    match e.action.as_str() {
        "Create" => "create",
        "Update" => "update",
        "Disable" => "disable",
        "Delete" => "delete",
        crate::sandbox::provision::STAGED_DELETE => "stagedDelete",
        _ => "other",
    }
}

/// A filterable property read straight from the log line, so filtering
/// does not build the whole summary of every line.
fn entry_field<'a>(e: &'a LogEntry, prop: &str) -> &'a str {
    match prop {
        "jobId" => &e.job_id,
        "servicePrincipal/id" => &e.service_principal_id,
        "provisioningStatusInfo/status" => &e.status,
        "provisioningAction" => action_of(e),
        _ => "",
    }
}

pub(super) fn summary(entra: &EntraState, e: &LogEntry) -> Value {
    let sp = entra.sp(&e.service_principal_id);
    let app = sp.map_or("", |s| s.display_name.as_str());
    let app_id = sp.map_or("", |s| s.app_id.as_str());
    let action = action_of(e);
    let initiated_by = match (&e.initiated_by, e.on_demand) {
        (Some((id, name)), _) => json!({"id": id, "displayName": name, "initiatorType": "user"}),
        (None, true) => {
            json!({"id": "", "displayName": "Provision on demand", "initiatorType": "user"})
        }
        (None, false) => json!({
            "id": "",
            "displayName": "Azure AD Provisioning Service",
            "initiatorType": "system",
        }),
    };
    let code = e
        .error_code
        .as_deref()
        .or_else(|| legacy_code(e))
        .filter(|_| e.status != "success");
    let error_information = match code {
        None => Value::Null,
        Some(code) => json!({
            "errorCode": code,
            "reason": e.reason,
            "additionalDetails": Value::Null,
            "errorCategory": error_category(code),
            "recommendedAction": recommended_action(code),
        }),
    };
    let steps: Vec<Value> = e
        .steps
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "provisioningStepType": s.step_type.to_ascii_lowercase(),
                "status": s.status.to_ascii_lowercase(),
                "description": s.description,
                "details": s.details,
            })
        })
        .collect();
    let change_id = if e.change_id.is_empty() {
        &e.id
    } else {
        &e.change_id
    };
    json!({
        "id": e.id,
        "activityDateTime": e.activity_date_time,
        "tenantId": entra.tenant.id,
        "jobId": e.job_id,
        "cycleId": e.cycle_id,
        "changeId": change_id,
        "provisioningAction": action,
        "durationInMilliseconds": e.duration_ms,
        "sourceSystem": {
            "id": Value::Null,
            "displayName": "Azure Active Directory",
            "details": {},
        },
        "targetSystem": {
            "id": Value::Null,
            "displayName": app,
            "details": {
                "ApplicationId": app_id,
                "ServicePrincipalId": e.service_principal_id,
                "ServicePrincipalDisplayName": app,
            },
        },
        "initiatedBy": initiated_by,
        "servicePrincipal": { "id": e.service_principal_id, "displayName": app },
        "sourceIdentity": {
            "id": e.user_id,
            "displayName": e.user_display_name,
            "identityType": e.identity_type.as_deref().unwrap_or("User"),
            "details": {},
        },
        "targetIdentity": {
            "id": e.target_id.clone().unwrap_or_default(),
            "displayName": e.target_display_name.clone().unwrap_or_default(),
            "identityType": e.identity_type.as_deref().unwrap_or("User"),
            "details": {},
        },
        "provisioningStatusInfo": {
            "status": e.status,
            "errorInformation": error_information,
        },
        "provisioningSteps": steps,
        "modifiedProperties": e.modified_properties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_split_on_and_outside_quotes() {
        assert_eq!(
            split_and("jobId eq 'a and b' AND provisioningAction eq 'create'"),
            vec!["jobId eq 'a and b'", "provisioningAction eq 'create'"]
        );
        let clauses = parse_filter(
            "jobId eq 'j1' and servicePrincipal/id eq 's1' and provisioningStatusInfo/status eq 'skipped'",
        )
        .unwrap();
        assert_eq!(
            clauses,
            vec![
                ("jobId", "j1".to_string()),
                ("servicePrincipal/id", "s1".to_string()),
                ("provisioningStatusInfo/status", "skipped".to_string()),
            ]
        );
        for bad in [
            "jobId ne 'x'",
            "startswith(jobId,'x')",
            "userPrincipalName eq 'x'",
            "jobId eq 'x' or jobId eq 'y'",
            "activityDateTime gt 2024-01-01",
        ] {
            assert_eq!(
                parse_filter(bad).unwrap_err().code,
                "Request_UnsupportedQuery",
                "{bad}"
            );
        }
    }

    #[test]
    fn old_entries_get_codes_from_their_reasons() {
        let mut entry: LogEntry = serde_json::from_value(json!({
            "id": "1", "jobId": "j", "cycleId": "c", "servicePrincipalId": "s",
            "userId": "u", "userDisplayName": "U", "action": "Skip", "status": "skipped",
            "reason": "matching attribute empty: userName has no value for this user",
            "targetId": null, "activityDateTime": "2026-01-01T00:00:00Z"
        }))
        .expect("a line from an old state file still loads");
        assert_eq!(legacy_code(&entry), Some(code::EMPTY_MATCHING_VALUE));
        entry.reason = "already up to date".into();
        assert_eq!(legacy_code(&entry), Some(code::REDUNDANT_EXPORT));
        let state = EntraState::from_tenant(&crate::sandbox::tenant::TenantFile::builtin());
        let s = summary(&state, &entry);
        assert_eq!(s["provisioningAction"], "other");
        assert_eq!(s["changeId"], "1");
        assert_eq!(
            s["provisioningStatusInfo"]["errorInformation"]["errorCode"],
            "RedundantExport"
        );
    }
}
