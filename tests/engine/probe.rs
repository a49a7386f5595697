//! The SCIM pre-flight against loopback servers that misbehave in each way Entra's Test Connection trips on.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::serve;
use orchidea_wizard::Secret;
use orchidea_wizard::services::probe::{
    self, CHECK_CONFIG, CHECK_EXTERNAL_ID, CHECK_GROUP, CHECK_REACH, CHECK_RESOURCE_TYPES,
    CHECK_USERNAME, CheckOutcome, ProbeFailure, ProbeOptions, ProbeReport,
};
use serde_json::{Value, json};
use url::Url;

const SECRET: &str = "pr0be-Secret-Value-7Hq2";

/// A server whose `GET /scim/v2/Users` is `users`.
async fn scim_server<H, T>(users: H) -> Url
where
    H: axum::handler::Handler<T, ()>,
    T: 'static,
{
    let base = serve(Router::new().route("/scim/v2/Users", get(users))).await;
    base.join("scim/v2").unwrap()
}

async fn run(url: &Url, opts: ProbeOptions) -> ProbeReport {
    let http = orchidea_wizard::platform::http::loopback_client();
    probe::probe(&http, url, &Secret::new(SECRET), &opts).await
}

fn scim(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/scim+json")],
        body.to_string(),
    )
        .into_response()
}

fn empty_list() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0, "Resources": [], "startIndex": 1, "itemsPerPage": 20
    })
}

/// The report failed at `check`; its words are non-empty and never show the secret.
fn failure(report: &ProbeReport, check: &str) -> ProbeFailure {
    assert!(!report.passed(), "{:#?}", report.lines());
    let last = report.checks.last().unwrap();
    assert_eq!(last.name, check, "{:#?}", report.lines());
    assert!(last.is_failure());
    let f = report.first_failure().unwrap().clone();
    assert!(!f.cause().trim().is_empty() && !f.fix().trim().is_empty());
    for text in [
        f.cause(),
        f.fix(),
        f.to_string(),
        format!("{report:?}"),
        report.lines().join("\n"),
    ] {
        assert!(!text.contains(SECRET), "secret leaked: {text}");
    }
    f
}

#[tokio::test]
async fn dns_failure_is_named() {
    let url: Url = "https://scim-probe-test.invalid/scim/v2".parse().unwrap();
    let report = run(&url, ProbeOptions::default()).await;
    let f = failure(&report, CHECK_REACH);
    assert!(
        matches!(&f, ProbeFailure::Dns { host } if host == "scim-probe-test.invalid"),
        "{f:?}"
    );
    assert!(f.cause().contains("scim-probe-test.invalid"));
}

#[tokio::test]
async fn https_to_a_plain_http_port_is_a_tls_failure() {
    let base = serve(Router::new().route("/scim/v2/Users", get(|| async { "x" }))).await;
    let url: Url = format!("https://127.0.0.1:{}/scim/v2", base.port().unwrap())
        .parse()
        .unwrap();
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_REACH);
    assert!(matches!(f, ProbeFailure::Tls { .. }), "{f:?}");
}

#[tokio::test]
async fn closed_port_is_connection_refused() {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url: Url = format!("http://127.0.0.1:{port}/scim/v2").parse().unwrap();
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_REACH);
    assert!(
        matches!(&f, ProbeFailure::ConnectionRefused { address } if address.ends_with(&port.to_string())),
        "{f:?}"
    );
}

#[tokio::test]
async fn no_answer_within_the_timeout() {
    let url = scim_server(|| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        scim(StatusCode::OK, empty_list())
    })
    .await;
    let opts = ProbeOptions {
        timeout: Duration::from_millis(300),
        ..ProbeOptions::default()
    };
    let f = failure(&run(&url, opts).await, CHECK_USERNAME);
    assert!(
        matches!(f, ProbeFailure::Timeout { after_ms: 300 }),
        "{f:?}"
    );
}

#[tokio::test]
async fn wrong_secret_is_unauthorized() {
    // The server knows another secret, like Orchidea after a revoke.
    let url = scim_server(|headers: HeaderMap| async move {
        let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if auth == Some("Bearer the-right-one") {
            scim(StatusCode::OK, empty_list())
        } else {
            scim(
                StatusCode::UNAUTHORIZED,
                json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"bad token"}),
            )
        }
    })
    .await;
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_USERNAME);
    assert_eq!(f, ProbeFailure::Unauthorized);
    assert!(f.cause().contains("401") && f.cause().contains("secret"));
}

#[tokio::test]
async fn forbidden() {
    let url = scim_server(|| async { StatusCode::FORBIDDEN }).await;
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_USERNAME);
    assert_eq!(f, ProbeFailure::Forbidden);
}

#[tokio::test]
async fn url_without_the_scim_base_is_a_wrong_base_path() {
    let scim_base = scim_server(|| async { scim(StatusCode::OK, empty_list()) }).await;
    // The admin pasted the workspace address instead of …/scim/v2.
    let workspace = scim_base.join("/").unwrap();
    let f = failure(
        &run(&workspace, ProbeOptions::default()).await,
        CHECK_USERNAME,
    );
    assert!(matches!(f, ProbeFailure::WrongBasePath { .. }), "{f:?}");
    assert!(f.fix().contains("/scim/v2"));
}

#[tokio::test]
async fn a_sign_in_page_is_not_scim() {
    let url = scim_server(|| async {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html><body>Sign in to Orchidea</body></html>",
        )
    })
    .await;
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_USERNAME);
    assert!(
        matches!(&f, ProbeFailure::NotScim { detail } if detail.contains("web page")),
        "{f:?}"
    );
}

#[tokio::test]
async fn json_that_is_not_a_list_response_is_not_scim() {
    let url = scim_server(|| async { scim(StatusCode::OK, json!({"users": []})) }).await;
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_USERNAME);
    assert!(
        matches!(&f, ProbeFailure::NotScim { detail } if detail.contains("ListResponse")),
        "{f:?}"
    );

    let url = scim_server(|| async {
        (
            [(header::CONTENT_TYPE, "application/scim+json")],
            "{not json",
        )
    })
    .await;
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_USERNAME);
    assert!(matches!(f, ProbeFailure::NotScim { .. }), "{f:?}");
}

#[tokio::test]
async fn invalid_filter_answer_is_filter_unsupported() {
    let url = scim_server(|| async {
        scim(
            StatusCode::BAD_REQUEST,
            json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400",
                   "scimType":"invalidFilter","detail":"filters are not supported"}),
        )
    })
    .await;
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_USERNAME);
    assert!(
        matches!(&f, ProbeFailure::FilterUnsupported { detail } if detail.contains("invalidFilter")),
        "{f:?}"
    );
}

#[tokio::test]
async fn not_implemented_is_filter_unsupported() {
    let url = scim_server(|| async { StatusCode::NOT_IMPLEMENTED }).await;
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_USERNAME);
    assert!(matches!(f, ProbeFailure::FilterUnsupported { .. }), "{f:?}");
}

#[tokio::test]
async fn results_for_a_random_guid_mean_the_filter_is_ignored() {
    let url = scim_server(|| async {
        scim(
            StatusCode::OK,
            json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                   "totalResults": 2, "Resources": [{"id":"1","userName":"a"},{"id":"2","userName":"b"}]}),
        )
    })
    .await;
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_USERNAME);
    assert!(
        matches!(&f, ProbeFailure::FilterUnsupported { detail } if detail.contains("ignores the filter")),
        "{f:?}"
    );
}

#[tokio::test]
async fn server_error() {
    let url = scim_server(|| async { StatusCode::SERVICE_UNAVAILABLE }).await;
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_USERNAME);
    assert_eq!(f, ProbeFailure::ServerError { status: 503 });
}

#[tokio::test]
async fn a_slow_answer_fails_even_when_correct() {
    let url = scim_server(|| async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        scim(StatusCode::OK, empty_list())
    })
    .await;
    let opts = ProbeOptions {
        slow_after: Duration::from_millis(20),
        ..ProbeOptions::default()
    };
    let f = failure(&run(&url, opts).await, CHECK_USERNAME);
    assert!(
        matches!(f, ProbeFailure::Slow { limit_ms: 20, .. }),
        "{f:?}"
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let url = scim_server(|| async {
        (
            StatusCode::MOVED_PERMANENTLY,
            [(
                header::LOCATION,
                "https://acme.orchidea.example/scim/v2/Users",
            )],
        )
    })
    .await;
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_USERNAME);
    assert_eq!(
        f,
        ProbeFailure::Redirect {
            status: 301,
            location: Some("https://acme.orchidea.example/scim/v2/Users".into())
        }
    );
}

#[tokio::test]
async fn an_externalid_filter_failure_is_reported_on_its_own_check() {
    let url = scim_server(|RawQuery(q): RawQuery| async move {
        if q.unwrap_or_default().contains("externalId") {
            scim(
                StatusCode::BAD_REQUEST,
                json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter"}),
            )
        } else {
            scim(StatusCode::OK, empty_list())
        }
    })
    .await;
    let report = run(&url, ProbeOptions::default()).await;
    let f = failure(&report, CHECK_EXTERNAL_ID);
    assert!(matches!(f, ProbeFailure::FilterUnsupported { .. }), "{f:?}");
    assert!(matches!(
        report.checks[1].outcome,
        CheckOutcome::Pass { .. }
    ));
}

#[tokio::test]
async fn a_server_echoing_the_secret_never_gets_it_shown() {
    let url = scim_server(|headers: HeaderMap| async move {
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        scim(
            StatusCode::BAD_REQUEST,
            json!({"status":"400","scimType":"invalidFilter","detail":format!("rejected {auth}")}),
        )
    })
    .await;
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_USERNAME);
    assert!(f.cause().contains("<redacted>"), "{}", f.cause());
}

#[tokio::test]
async fn plain_json_content_type_passes_with_a_warning() {
    let url = scim_server(|| async { axum::Json(empty_list()) }).await;
    let report = run(&url, ProbeOptions::default()).await;
    assert!(report.passed(), "{:#?}", report.lines());
    assert!(
        matches!(&report.checks[1].outcome, CheckOutcome::Warn { detail, .. } if detail.contains("application/json")),
        "{:#?}",
        report.checks[1]
    );
    // No ServiceProviderConfig on this server: informational only.
    let config = report.checks.last().unwrap();
    assert_eq!(config.name, CHECK_CONFIG);
    assert!(matches!(config.outcome, CheckOutcome::Warn { .. }));
}

/// (Authorization header, filter) of each request the server saw.
type Seen = Arc<Mutex<Vec<(Option<String>, Option<String>)>>>;

#[tokio::test]
async fn requests_look_like_entras_test_connection() {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let url = scim_server(move |headers: HeaderMap, RawQuery(q): RawQuery| {
        let record = record.clone();
        async move {
            let auth = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let filter = url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
                .find(|(k, _)| k == "filter")
                .map(|(_, v)| v.into_owned());
            record.lock().unwrap().push((auth, filter));
            scim(StatusCode::OK, empty_list())
        }
    })
    .await;
    let report = run(&url, ProbeOptions::default()).await;
    assert!(report.passed(), "{:#?}", report.lines());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for ((auth, filter), attribute) in seen.iter().zip(["userName", "externalId"]) {
        assert_eq!(auth.as_deref(), Some(format!("Bearer {SECRET}").as_str()));
        let filter = filter.as_deref().unwrap();
        let value = filter
            .strip_prefix(&format!("{attribute} eq \""))
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{filter}"));
        assert!(
            uuid::Uuid::parse_str(value).is_ok(),
            "a random GUID: {filter}"
        );
    }
}

#[tokio::test]
async fn the_sandbox_scim_server_passes_every_check() {
    let token = Secret::generate(40);
    let server = orchidea_wizard::sandbox::scim::serve_standalone(token.clone())
        .await
        .unwrap();
    let http = orchidea_wizard::platform::http::loopback_client();
    let report = probe::probe(&http, &server.url, &token, &ProbeOptions::default()).await;
    assert!(report.passed(), "{:#?}", report.lines());
    let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            CHECK_REACH,
            CHECK_USERNAME,
            CHECK_GROUP,
            CHECK_EXTERNAL_ID,
            CHECK_RESOURCE_TYPES,
            CHECK_CONFIG
        ]
    );
    assert_eq!(
        report.groups,
        Some(true),
        "it lists Group in /ResourceTypes"
    );
    for check in &report.checks {
        assert!(
            matches!(check.outcome, CheckOutcome::Pass { .. }),
            "{check:?}"
        );
    }
    assert!(report.lines().iter().all(|l| l.starts_with("PASS ")));

    let wrong = probe::probe(
        &http,
        &server.url,
        &Secret::new(SECRET),
        &ProbeOptions::default(),
    )
    .await;
    assert_eq!(failure(&wrong, CHECK_USERNAME), ProbeFailure::Unauthorized);
}

/// The group request of Entra's Test Connection, and what `/ResourceTypes` says.
#[tokio::test]
async fn the_group_request_is_entras_and_resource_types_decide_groups() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let types = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 1, "startIndex": 1, "itemsPerPage": 1,
        "Resources": [{"id": "User", "name": "User", "endpoint": "/Users",
            "schema": "urn:ietf:params:scim:schemas:core:2.0:User"}]
    });
    let app = Router::new()
        .route(
            "/scim/v2/Users",
            get(|| async { scim(StatusCode::OK, empty_list()) }),
        )
        .route(
            "/scim/v2/Groups",
            get(move |RawQuery(q): RawQuery| {
                let record = record.clone();
                async move {
                    record.lock().unwrap().push(q.unwrap_or_default());
                    scim(StatusCode::OK, empty_list())
                }
            }),
        )
        .route(
            "/scim/v2/ResourceTypes",
            get(move || {
                let types = types.clone();
                async move { scim(StatusCode::OK, types) }
            }),
        );
    let url = serve(app).await.join("scim/v2").unwrap();
    let report = run(&url, ProbeOptions::default()).await;
    assert!(report.passed(), "{:#?}", report.lines());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let value = seen[0]
        .strip_prefix("excludedAttributes=members&filter=displayName%20eq%20%22")
        .and_then(|v| v.strip_suffix("%22"))
        .unwrap_or_else(|| panic!("{}", seen[0]));
    assert!(uuid::Uuid::parse_str(value).is_ok(), "{}", seen[0]);
    // /Groups answers, but /ResourceTypes lists no Group: it decides.
    assert_eq!(report.groups, Some(false), "{:#?}", report.lines());

    // Without /Groups and /ResourceTypes the 404 tells; the check passes.
    let url = scim_server(|| async { scim(StatusCode::OK, empty_list()) }).await;
    let report = run(&url, ProbeOptions::default()).await;
    assert!(report.passed(), "{:#?}", report.lines());
    assert_eq!(report.groups, Some(false));

    // A /Groups that refuses the secret fails the probe, as Test Connection fails.
    let app = Router::new()
        .route(
            "/scim/v2/Users",
            get(|| async { scim(StatusCode::OK, empty_list()) }),
        )
        .route(
            "/scim/v2/Groups",
            get(|| async { scim(StatusCode::FORBIDDEN, json!({"status": "403"})) }),
        );
    let url = serve(app).await.join("scim/v2").unwrap();
    let f = failure(&run(&url, ProbeOptions::default()).await, CHECK_GROUP);
    assert_eq!(f, ProbeFailure::Forbidden);
}
