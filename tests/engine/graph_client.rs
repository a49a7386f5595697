//! The Graph client against small loopback servers that answer documented payloads.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use orchidea_wizard::Secret;
use orchidea_wizard::services::graph::{
    GraphClient, GraphError, JobStatusCode, RestartScope, RetryPolicy, SecretEntry, SecretValue,
    ServicePrincipal, StaticToken, SynchronizationJob,
};
use serde_json::{Value, json};
use url::Url;

const JOB_GET: &str = include_str!("../fixtures/graph/job-get.response.json");
const SCHEMA_DEFAULT: &str = include_str!("../fixtures/graph/schema-scim-default.json");
const SCHEMA_LEGACY: &str = include_str!("../fixtures/graph/schema-customappsso-legacy.json");
const SCHEMA_CONFIGURED: &str = include_str!("../fixtures/graph/schema-orchidea-configured.json");

const TOKEN: &str = "graph-token-abc";
const SP: &str = "00000000-0000-0000-0000-00000000a001";
const JOB: &str = "scim.e5f3c2a8b7d94f1e8c6a0b2d4f6e8a1c.7d9e2b4a-3c1f-4e5d-8a6b-9c0d1e2f3a4b";

/// A request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    /// Path and query, percent-encoded as sent.
    uri: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Decoded query parameter.
    fn query(&self, key: &str) -> Option<String> {
        let url = Url::parse(&format!("http://x{}", self.uri)).unwrap();
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }
}

type Responder = dyn Fn(&Seen, &Url) -> Response + Send + Sync;

struct Server {
    base: Url,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    /// Serves `respond` on 127.0.0.1:0 under `/v1.0`, recording every request.
    async fn start(respond: impl Fn(&Seen, &Url) -> Response + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base: Url = format!("http://{}/v1.0", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Responder> = Arc::new(respond);
        let (record, root) = (seen.clone(), base.clone());
        let app = axum::Router::new().fallback(move |req: Request| {
            let (record, root, respond) = (record.clone(), root.clone(), respond.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                let seen = Seen {
                    method: parts.method,
                    uri: parts.uri.to_string(),
                    headers: parts.headers,
                    body,
                };
                record.lock().unwrap().push(seen.clone());
                respond(&seen, &root)
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server { base, seen }
    }

    /// One attempt per call: these tests read single answers.
    fn client(&self) -> GraphClient {
        self.client_with(RetryPolicy::none())
    }

    fn client_with(&self, retry: RetryPolicy) -> GraphClient {
        GraphClient::with_retry(
            orchidea_wizard::platform::http::loopback_client(),
            self.base.clone(),
            Arc::new(StaticToken(Secret::new(TOKEN))),
            retry,
        )
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Graph's documented error body.
fn graph_error(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response {
    json_response(
        status,
        json!({"error": {"code": code, "message": message, "innerError": {
            "date": "2025-03-04T10:00:00", "request-id": request_id,
            "client-request-id": "00000000-0000-0000-0000-000000000000"}}}),
    )
}

fn sp(id: &str, name: &str) -> Value {
    json!({"id": id, "appId": format!("app-{id}"), "displayName": name,
           "tags": ["WindowsAzureActiveDirectoryCustomSingleSignOnApplication"],
           "preferredSingleSignOnMode": "saml", "servicePrincipalType": "Application"})
}

#[test]
fn fixtures_parse_into_the_types() {
    let job: SynchronizationJob = serde_json::from_str(JOB_GET).unwrap();
    assert_eq!(job.id, "{jobId}");
    assert_eq!(job.template_id.as_deref(), Some("BoxOutDelta"));
    let schedule = job.schedule.as_ref().unwrap();
    assert_eq!(schedule.state.as_deref(), Some("Disabled"));
    assert_eq!(
        schedule.interval.as_deref(),
        Some("P10675199DT2H48M5.4775807S")
    );
    assert_eq!(schedule.expiration, None);
    let status = job.status.as_ref().unwrap();
    assert_eq!(status.code, JobStatusCode::Paused);
    assert_eq!(status.count_successive_complete_failures, Some(0));
    assert_eq!(status.last_execution, None);
    assert!(status.progress.is_empty() && status.synchronized_entry_count_by_type.is_empty());
    let quarantine = status.quarantine.as_ref().unwrap();
    assert_eq!(quarantine.current_began.as_deref(), Some(""));
    assert_eq!(quarantine.series_count, Some(2));
    let error = quarantine.error.as_ref().unwrap();
    assert_eq!(error.code.as_deref(), Some("SalesforceInvalidCredentials"));
    assert_eq!(error.tenant_actionable, Some(true));
    assert_eq!(job.synchronization_job_settings.len(), 1);
    assert_eq!(
        job.synchronization_job_settings[0].name,
        "QuarantineTooManyDeletesThreshold"
    );
    assert_eq!(
        job.synchronization_job_settings[0].value.as_deref(),
        Some("500")
    );

    // Schemas are raw JSON; each has one rule with a User → SCIM user mapping.
    for text in [SCHEMA_DEFAULT, SCHEMA_LEGACY, SCHEMA_CONFIGURED] {
        let schema: Value = serde_json::from_str(text).unwrap();
        let rules = schema["synchronizationRules"].as_array().unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0]["sourceDirectoryName"], "Azure Active Directory");
        assert_eq!(rules[0]["targetDirectoryName"], "customappsso");
        let mappings = rules[0]["objectMappings"].as_array().unwrap();
        assert!(
            mappings
                .iter()
                .any(orchidea_wizard::procedure::mapping::is_user_mapping)
        );
        assert_eq!(schema["directories"].as_array().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn service_principals_are_read_over_two_pages_with_an_escaped_filter() {
    let server = Server::start(|seen, base| {
        if seen.query("$skiptoken").as_deref() == Some("page2") {
            json_response(StatusCode::OK, json!({"value": [sp("c", "O'Brien Orchidea 3")]}))
        } else {
            json_response(
                StatusCode::OK,
                json!({
                    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals",
                    "@odata.nextLink": format!("{base}/servicePrincipals?$skiptoken=page2"),
                    "value": [sp("a", "O'Brien Orchidea"), sp("b", "O'Brien Orchidea 2")]
                }),
            )
        }
    })
    .await;
    let found: Vec<ServicePrincipal> = server
        .client()
        .find_service_principals("O'Brien Orch")
        .await
        .unwrap();
    let ids: Vec<&str> = found.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(found[0].app_id.as_deref(), Some("app-a"));
    assert_eq!(
        found[0].tags,
        ["WindowsAzureActiveDirectoryCustomSingleSignOnApplication"]
    );
    assert_eq!(
        found[0].preferred_single_sign_on_mode.as_deref(),
        Some("saml")
    );

    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[0].uri.starts_with("/v1.0/servicePrincipals?$filter="),
        "{}",
        seen[0].uri
    );
    // Spaces as %20: Graph does not read `+` as a space.
    assert!(seen[0].uri.contains("Brien%20Orch"), "{}", seen[0].uri);
    assert_eq!(
        seen[0].query("$filter").as_deref(),
        Some("startswith(displayName,'O''Brien Orch')")
    );
    assert_eq!(
        seen[0].query("$select").as_deref(),
        Some("id,appId,displayName,tags,preferredSingleSignOnMode,servicePrincipalType")
    );
    assert_eq!(seen[1].uri, "/v1.0/servicePrincipals?$skiptoken=page2");
}

#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed() {
    let server = Server::start(|_, _| {
        json_response(
            StatusCode::OK,
            json!({"@odata.nextLink": "http://127.0.0.2:9/v1.0/servicePrincipals?$skiptoken=x",
                   "value": [sp("a", "Orchidea")]}),
        )
    })
    .await;
    let err = server.client().list_jobs(SP).await.unwrap_err();
    assert!(matches!(err, GraphError::UnexpectedBody { .. }), "{err:?}");
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn every_request_carries_the_bearer_token_and_a_fresh_client_request_id() {
    let server = Server::start(|seen, _| match (seen.method.as_str(), seen.uri.as_str()) {
        ("GET", u) if u.ends_with("/jobs") => json_response(StatusCode::OK, json!({"value": []})),
        ("GET", _) => json_response(StatusCode::OK, serde_json::from_str(JOB_GET).unwrap()),
        _ => no_content(),
    })
    .await;
    let graph = server.client();
    graph.list_jobs(SP).await.unwrap();
    let job = graph.get_job(SP, JOB).await.unwrap();
    assert_eq!(job.status.unwrap().code, JobStatusCode::Paused);
    graph.start_job(SP, JOB).await.unwrap();

    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    let mut ids = Vec::new();
    for s in &seen {
        assert_eq!(s.header("authorization"), Some("Bearer graph-token-abc"));
        let id = s.header("client-request-id").expect("client-request-id");
        let parsed = uuid::Uuid::parse_str(id).expect("a GUID");
        assert_eq!(parsed.get_version_num(), 4);
        ids.push(id.to_string());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "each request gets its own id");
    assert_eq!(
        seen[1].uri,
        format!("/v1.0/servicePrincipals/{SP}/synchronization/jobs/{JOB}")
    );
    assert_eq!(seen[2].method, Method::POST);
    assert_eq!(
        seen[2].uri,
        format!("/v1.0/servicePrincipals/{SP}/synchronization/jobs/{JOB}/start")
    );
    assert_eq!(seen[2].header("content-length"), Some("0"));
}

#[tokio::test]
async fn error_bodies_become_admin_facing_errors() {
    let server = Server::start(|seen, _| {
        let path = seen.uri.split('?').next().unwrap_or_default().to_string();
        match path.rsplit('/').next().unwrap_or_default() {
            "s401" => graph_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
                "rid-401",
            ),
            "s403" => graph_error(
                StatusCode::FORBIDDEN,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
                "rid-403",
            ),
            "s404" => graph_error(
                StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                "gone",
                "rid-404",
            ),
            "s429" => {
                let mut r = graph_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    "Too many requests",
                    "rid-429",
                );
                r.headers_mut()
                    .insert("retry-after", HeaderValue::from_static("7"));
                r
            }
            "s503" => {
                let mut r = (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
                r.headers_mut()
                    .insert("request-id", HeaderValue::from_static("rid-503"));
                r
            }
            "s500" => graph_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "Requested value 'Tenant' was not found.",
                "rid-500",
            ),
            "validateCredentials" => graph_error(
                StatusCode::BAD_REQUEST,
                "CredentialValidationUnavailable",
                "The SCIM endpoint returned 401 Unauthorized.",
                "rid-400",
            ),
            _ => graph_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Invalid request.",
                "rid-400b",
            ),
        }
    })
    .await;
    let graph = server.client();

    let err = graph.get_job(SP, "s401").await.unwrap_err();
    assert_eq!(
        err,
        GraphError::Unauthorized {
            request_id: Some("rid-401".into())
        }
    );
    assert!(err.to_string().contains("Sign in again"));

    let err = graph.get_job(SP, "s403").await.unwrap_err();
    assert!(
        matches!(&err, GraphError::Forbidden { code, .. } if code == "Authorization_RequestDenied"),
        "{err:?}"
    );
    assert_eq!(err.request_id(), Some("rid-403"));
    assert!(err.to_string().contains("Application Administrator"));

    let err = graph.get_job(SP, "s404").await.unwrap_err();
    assert!(
        matches!(&err, GraphError::NotFound { what, .. } if what.contains("s404")),
        "{err:?}"
    );

    let err = graph.get_job(SP, "s429").await.unwrap_err();
    assert_eq!(
        err,
        GraphError::Throttled {
            status: 429,
            retry_after: Some(7),
            request_id: Some("rid-429".into())
        }
    );
    assert!(err.to_string().contains("Wait 7 seconds"));

    let err = graph.get_job(SP, "s503").await.unwrap_err();
    assert_eq!(
        err,
        GraphError::Throttled {
            status: 503,
            retry_after: None,
            request_id: Some("rid-503".into())
        }
    );

    let err = graph.get_job(SP, "s500").await.unwrap_err();
    assert!(
        matches!(&err, GraphError::Api { status: 500, code, .. } if code == "InternalServerError")
    );
    assert!(err.to_string().contains("rid-500"), "{err}");

    let secret = Secret::new("wrong-secret-9876");
    let err = graph
        .validate_credentials(SP, JOB, Some(("https://scim.example/v2", &secret)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::CredentialValidation { code, .. } if code == "CredentialValidationUnavailable"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.starts_with("Entra could not reach the SCIM endpoint or it refused the secret: The SCIM endpoint returned 401"), "{text}");
    assert!(!text.contains("9876") && !format!("{err:?}").contains("9876"));

    // A 400 from any other call is a plain API error.
    let err = graph.create_job(SP, "scim").await.unwrap_err();
    assert!(
        matches!(&err, GraphError::Api { status: 400, code, .. } if code == "BadRequest"),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_unreachable_graph_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base: Url = format!("http://{}/v1.0", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    drop(listener);
    let graph = GraphClient::with_retry(
        orchidea_wizard::platform::http::loopback_client(),
        base,
        Arc::new(StaticToken(Secret::new(TOKEN))),
        fast_retries(),
    );
    let err = graph.list_templates(SP).await.unwrap_err();
    assert!(matches!(err, GraphError::Transport(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("Could not reach Microsoft Graph")
    );
}

#[tokio::test]
async fn validate_credentials_sends_the_documented_bodies() {
    let server = Server::start(|_, _| no_content()).await;
    let graph = server.client();
    let secret = Secret::new("s3cret-value");
    graph
        .validate_credentials(SP, JOB, Some(("https://orchidea.example/scim/v2", &secret)))
        .await
        .unwrap();
    graph.validate_credentials(SP, JOB, None).await.unwrap();

    let seen = server.seen();
    assert_eq!(
        seen[0].uri,
        format!("/v1.0/servicePrincipals/{SP}/synchronization/jobs/{JOB}/validateCredentials")
    );
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(
        seen[0].json(),
        json!({"useSavedCredentials": false, "credentials": [
            {"key": "BaseAddress", "value": "https://orchidea.example/scim/v2"},
            {"key": "SecretToken", "value": "s3cret-value"}
        ]})
    );
    assert_eq!(seen[1].json(), json!({"useSavedCredentials": true}));
}

#[tokio::test]
async fn secrets_are_read_masked_and_written_as_one_set() {
    let server = Server::start(|seen, _| match seen.method.as_str() {
        "GET" => json_response(
            StatusCode::OK,
            json!({"value": [
                {"key": "BaseAddress", "value": "https://orchidea.example/scim/v2"},
                {"key": "SecretToken", "value": "*"},
                {"key": "SyncAll", "value": "false"},
                {"key": "SyncNotificationSettings", "value": "{\"Enabled\":false}"}
            ]}),
        ),
        _ => no_content(),
    })
    .await;
    let graph = server.client();
    let saved = graph.get_secrets(SP).await.unwrap();
    let keys: Vec<&str> = saved.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "BaseAddress",
            "SecretToken",
            "SyncAll",
            "SyncNotificationSettings"
        ]
    );
    assert_eq!(
        saved[0].plain_value(),
        Some("https://orchidea.example/scim/v2")
    );
    assert_eq!(saved[1].value, SecretValue::Masked);
    assert_eq!(saved[2].plain_value(), Some("false"));

    // Writing a masked value back would overwrite the secret with "*".
    let err = graph.put_secrets(SP, &saved).await.unwrap_err();
    assert_eq!(
        err,
        GraphError::MaskedSecret {
            key: "SecretToken".into()
        }
    );
    assert_eq!(server.seen().len(), 1, "nothing was sent");

    let entries = [
        SecretEntry::plain("BaseAddress", "https://orchidea.example/scim/v2"),
        SecretEntry::sensitive("SecretToken", Secret::new("new-secret-4321")),
        SecretEntry::plain("SyncAll", "false"),
        saved[3].clone(),
    ];
    assert!(!format!("{entries:?}").contains("4321"));
    graph.put_secrets(SP, &entries).await.unwrap();
    let put = server.seen().pop().unwrap();
    assert_eq!(put.method, Method::PUT);
    assert_eq!(
        put.uri,
        format!("/v1.0/servicePrincipals/{SP}/synchronization/secrets")
    );
    assert_eq!(
        put.json(),
        json!({"value": [
            {"key": "BaseAddress", "value": "https://orchidea.example/scim/v2"},
            {"key": "SecretToken", "value": "new-secret-4321"},
            {"key": "SyncAll", "value": "false"},
            {"key": "SyncNotificationSettings", "value": "{\"Enabled\":false}"}
        ]})
    );
}

#[tokio::test]
async fn the_schema_round_trips_byte_for_byte() {
    // The legacy fixture has non-alphabetical key order inside its mappings.
    let server = Server::start(|seen, _| match seen.method.as_str() {
        "GET" => (
            [("content-type", "application/json; odata.metadata=minimal")],
            SCHEMA_LEGACY,
        )
            .into_response(),
        _ => no_content(),
    })
    .await;
    let graph = server.client();
    let schema = graph.get_schema(SP, JOB).await.unwrap();
    let expected: Value = serde_json::from_str(SCHEMA_LEGACY).unwrap();
    assert_eq!(schema, expected);
    graph.put_schema(SP, JOB, &schema).await.unwrap();

    let put = server.seen().pop().unwrap();
    assert_eq!(put.method, Method::PUT);
    assert_eq!(
        put.uri,
        format!("/v1.0/servicePrincipals/{SP}/synchronization/jobs/{JOB}/schema")
    );
    assert_eq!(put.json(), expected);
    // Same bytes as the fixture with its whitespace removed: order and casing kept.
    assert_eq!(put.body, serde_json::to_vec(&expected).unwrap());
    let text = std::str::from_utf8(&put.body).unwrap();
    assert!(text.starts_with(r#"{"@odata.context":"#));
    assert!(text.contains(r#""matchingPriority":0,"targetAttributeName":"externalId","source":{"expression":"[mailNickname]","name":"mailNickname","type":"Attribute","parameters":[]}"#));
}

#[tokio::test]
async fn app_template_and_job_calls_send_the_documented_requests() {
    let server = Server::start(|seen, _| {
        let path = seen.uri.clone();
        if path.ends_with("/instantiate") {
            json_response(
                StatusCode::CREATED,
                json!({
                    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.applicationServicePrincipal",
                    "application": {"id": "obj-1", "appId": "app-1", "displayName": "Orchidea"},
                    "servicePrincipal": sp("sp-1", "Orchidea")
                }),
            )
        } else if path.ends_with("/templates") {
            json_response(
                StatusCode::OK,
                json!({"value": [{"id": "scim", "applicationId": "app-1", "default": true,
                    "description": null, "discoverable": true, "factoryTag": "scim",
                    "metadata": [{"key": "configurationFields", "value": "[]"}],
                    "schema": {"directories": []}}]}),
            )
        } else if path.ends_with("/jobs") && seen.method == Method::POST {
            json_response(
                StatusCode::CREATED,
                json!({"id": JOB, "templateId": "scim",
                    "schedule": {"expiration": null, "interval": "PT40M", "state": "Disabled"},
                    "status": {"code": "Paused", "quarantine": null, "progress": [],
                        "synchronizedEntryCountByType": [], "lastExecution": null},
                    "synchronizationJobSettings": [{"name": "AzureIngestionAttributeOptimization", "value": "False"}]}),
            )
        } else if path.contains("/servicePrincipals/sp-1?") {
            json_response(StatusCode::OK, sp("sp-1", "Orchidea"))
        } else {
            no_content()
        }
    })
    .await;
    let graph = server.client();
    let made = graph
        .instantiate_template(
            orchidea_wizard::services::graph::NON_GALLERY_TEMPLATE_ID,
            "Orchidea",
        )
        .await
        .unwrap();
    assert_eq!(made.service_principal.id, "sp-1");
    assert_eq!(made.application.app_id.as_deref(), Some("app-1"));
    let fetched = graph.get_service_principal("sp-1").await.unwrap();
    assert_eq!(fetched, made.service_principal);
    let templates = graph.list_templates("sp-1").await.unwrap();
    assert_eq!(templates[0].id, "scim");
    assert_eq!(templates[0].factory_tag.as_deref(), Some("scim"));
    let job = graph.create_job("sp-1", "scim").await.unwrap();
    assert_eq!(job.template_id.as_deref(), Some("scim"));
    assert_eq!(job.status.unwrap().code, JobStatusCode::Paused);
    graph.pause_job("sp-1", JOB).await.unwrap();
    graph
        .restart_job("sp-1", JOB, RestartScope::Ordinary)
        .await
        .unwrap();
    graph
        .restart_job("sp-1", JOB, RestartScope::ForceDeletes)
        .await
        .unwrap();

    let seen = server.seen();
    assert_eq!(
        seen[0].uri,
        "/v1.0/applicationTemplates/8adf8e6e-67b2-4cf2-a259-e3dc5476c621/instantiate"
    );
    assert_eq!(seen[0].json(), json!({"displayName": "Orchidea"}));
    assert_eq!(
        seen[1]
            .query("$select")
            .as_deref()
            .map(|s| s.contains("tags")),
        Some(true)
    );
    assert_eq!(seen[3].json(), json!({"templateId": "scim"}));
    assert!(seen[4].uri.ends_with("/pause"));
    assert!(seen[5].uri.ends_with("/restart"));
    // An ordinary restart leaves resetScope empty (the portal's "Restart
    // provisioning"); Full, which forces deletes, is never sent.
    assert_eq!(seen[5].json(), json!({"criteria": {}}));
    assert_eq!(
        seen[6].json(),
        json!({"criteria": {"resetScope": "ForceDeletes, QuarantineState"}})
    );
}

#[tokio::test]
async fn held_deletions_are_read_page_by_page_until_an_older_cycle() {
    let event = |id: &str, cycle: &str| {
        json!({"id": id, "cycleId": cycle, "provisioningAction": "stagedDelete",
               "sourceIdentity": {"id": format!("user-{id}")}})
    };
    let server = Server::start(move |seen, root| {
        let page = |n: u32| format!("{root}/auditLogs/provisioning?$skiptoken={n}");
        let body = if seen.uri.contains("skiptoken=2") {
            json!({"value": [event("4", "new"), event("5", "old")], "@odata.nextLink": page(3)})
        } else if seen.uri.contains("skiptoken=3") {
            json!({"value": [event("6", "old")]})
        } else {
            json!({"value": [event("1", "new"), event("2", "new"), event("3", "new")],
                   "@odata.nextLink": page(2)})
        };
        json_response(StatusCode::OK, body)
    })
    .await;
    let events = server
        .client()
        .newest_cycle_events_by_action(JOB, "stagedDelete", 3)
        .await
        .unwrap();
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    let seen = server.seen();
    assert_eq!(
        seen.len(),
        2,
        "the page of the older cycle ends the reading"
    );
    let filter = seen[0].query("$filter").unwrap();
    assert_eq!(
        filter,
        format!("jobId eq '{JOB}' and provisioningAction eq 'stagedDelete'")
    );
    assert_eq!(seen[0].query("$top").as_deref(), Some("3"));
}

#[tokio::test]
async fn a_body_graph_does_not_document_is_reported_as_such() {
    let server =
        Server::start(|_, _| (StatusCode::OK, "<html>proxy login</html>").into_response()).await;
    let err = server.client().get_job(SP, JOB).await.unwrap_err();
    assert!(
        matches!(&err, GraphError::UnexpectedBody { what, .. } if what.contains(JOB)),
        "{err:?}"
    );
}

/// Retries with millisecond backoff, so the tests do not wait.
fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

/// Answers `failures` (in order) to the first requests, then the job.
async fn flaky(failures: Vec<fn() -> Response>) -> Server {
    let left = Arc::new(Mutex::new(failures.into_iter()));
    Server::start(move |seen, _| {
        if let Some(fail) = left.lock().unwrap().next() {
            return fail();
        }
        match seen.method {
            Method::POST if seen.uri.ends_with("/jobs") => {
                json_response(StatusCode::CREATED, serde_json::from_str(JOB_GET).unwrap())
            }
            _ => json_response(StatusCode::OK, serde_json::from_str(JOB_GET).unwrap()),
        }
    })
    .await
}

fn throttled_1s() -> Response {
    let mut r = graph_error(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        "slow down",
        "rid-t",
    );
    r.headers_mut()
        .insert("retry-after", HeaderValue::from_static("1"));
    r
}

fn unavailable() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response()
}

fn server_error() -> Response {
    graph_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        "oops",
        "rid-5",
    )
}

fn not_yet() -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        "not yet",
        "rid-n",
    )
}

fn throttled_forever() -> Response {
    let mut r = graph_error(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        "later",
        "rid-l",
    );
    r.headers_mut()
        .insert("retry-after", HeaderValue::from_static("3600"));
    r
}

#[tokio::test]
async fn throttling_is_waited_out_as_retry_after_says_and_noted() {
    let server = flaky(vec![throttled_1s, unavailable]).await;
    let graph = server.client_with(fast_retries());
    let job = graph.get_job(SP, JOB).await.unwrap();
    assert_eq!(
        job.id,
        serde_json::from_str::<SynchronizationJob>(JOB_GET)
            .unwrap()
            .id
    );
    assert_eq!(server.seen().len(), 3, "two retries, then the answer");
    let notes = graph.take_retry_notes();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[0].contains("Retry-After 1 s") && notes[0].contains("retried after 1.0 s"),
        "{notes:?}"
    );
    assert!(notes[1].contains("throttled or unavailable"), "{notes:?}");
    assert!(graph.take_retry_notes().is_empty(), "taken once");
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_stops_at_once() {
    let server = flaky(vec![throttled_forever]).await;
    let err = server
        .client_with(fast_retries())
        .get_job(SP, JOB)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Throttled {
                retry_after: Some(3600),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_for_reads_but_a_create_is_never_repeated() {
    let server = flaky(vec![server_error]).await;
    let graph = server.client_with(fast_retries());
    graph.get_job(SP, JOB).await.unwrap();
    assert_eq!(server.seen().len(), 2, "the GET was repeated");

    let server = flaky(vec![server_error]).await;
    let err = server
        .client_with(fast_retries())
        .create_job(SP, "scim")
        .await
        .unwrap_err();
    assert!(
        matches!(err, GraphError::Api { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(server.seen().len(), 1, "POST /jobs is not blindly repeated");

    // A POST that changes nothing when repeated is retried.
    let server = flaky(vec![server_error]).await;
    server
        .client_with(fast_retries())
        .start_job(SP, JOB)
        .await
        .unwrap();
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn attempts_are_bounded() {
    let server = flaky(vec![unavailable; 10]).await;
    let err = server
        .client_with(fast_retries())
        .get_job(SP, JOB)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Throttled {
                retry_after: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.seen().len(), 4, "RetryPolicy::default().attempts");
}

#[tokio::test]
async fn an_object_created_moments_ago_is_waited_for_only_when_settling() {
    let server = flaky(vec![not_yet, not_yet]).await;
    let graph = server.client_with(fast_retries());
    let err = graph.get_job(SP, JOB).await.unwrap_err();
    assert!(
        matches!(err, GraphError::NotFound { .. }),
        "a plain 404 is final"
    );
    assert_eq!(server.seen().len(), 1);
    graph.settling().get_job(SP, JOB).await.unwrap();
    assert_eq!(server.seen().len(), 3, "404 once more, then found");
}

#[tokio::test]
async fn an_object_that_never_appears_is_waited_for_within_a_time_bound_not_a_count() {
    // Far more 404s than `attempts`: a settling client keeps trying while
    // its time bound allows, then gives the 404 back.
    let server = flaky(vec![not_yet as fn() -> Response; 40]).await;
    let graph = server.client_with(RetryPolicy {
        base_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(2),
        settle_within: std::time::Duration::from_secs(30),
        ..RetryPolicy::default()
    });
    graph.settling().get_job(SP, JOB).await.unwrap();
    assert_eq!(server.seen().len(), 41, "40 × 404, then found");

    let server = flaky(vec![not_yet as fn() -> Response; 1000]).await;
    let graph = server.client_with(RetryPolicy {
        base_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(10),
        settle_within: std::time::Duration::from_millis(100),
        ..RetryPolicy::default()
    });
    let err = graph.settling().get_job(SP, JOB).await.unwrap_err();
    assert!(matches!(err, GraphError::NotFound { .. }), "{err:?}");
    assert!(server.seen().len() < 1000, "the bound stopped it");
}
