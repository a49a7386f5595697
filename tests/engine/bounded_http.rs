//! Answers too big, `nextLink`s that loop or leave the origin, SCIM URLs from
//! Orchidea's API that break the paste rules, and secret variables around
//! the browser: every surface the wizard reads over HTTP stays bounded, and
//! a token only goes where it was meant to (issue #14, item 10).

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use orchidea_wizard::Secret;
use orchidea_wizard::services::graph::{GraphClient, GraphError, RetryPolicy, StaticToken};
use orchidea_wizard::services::orchidea::{HttpOrchideaAdmin, OrchideaAdmin, OrchideaError};
use orchidea_wizard::services::probe::{self, CheckOutcome, ProbeOptions};
use orchidea_wizard::services::signin::{self, SignInConfig};
use serde_json::json;
use url::Url;

const TOKEN: &str = "graph-token-for-bounded-tests";
/// Far above every cap (Graph's is the largest, 16 MiB).
const HUGE: usize = 50 << 20;

/// A request as a server saw it.
#[derive(Clone)]
struct Seen {
    method: String,
    uri: String,
    #[allow(dead_code)]
    headers: HeaderMap,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// Serves `answer` for every request and records what came in.
async fn recording(answer: impl Fn(&Seen, &Url) -> Response + Send + Sync + 'static) -> (Url, Log) {
    let log: Log = Arc::default();
    let base: Arc<Mutex<Option<Url>>> = Arc::default();
    let answer = Arc::new(answer);
    let app = {
        let (log, base) = (Arc::clone(&log), Arc::clone(&base));
        Router::new().fallback(move |req: Request| {
            let (log, base, answer) = (Arc::clone(&log), Arc::clone(&base), Arc::clone(&answer));
            async move {
                let seen = Seen {
                    method: req.method().to_string(),
                    uri: req.uri().to_string(),
                    headers: req.headers().clone(),
                };
                log.lock().unwrap().push(seen.clone());
                let base = base.lock().unwrap().clone().unwrap();
                answer(&seen, &base)
            }
        })
    };
    let url = common::serve(app).await;
    *base.lock().unwrap() = Some(url.clone());
    (url, log)
}

/// A body of `len` bytes with its length announced.
fn sized(len: usize) -> Response {
    let mut body = vec![b' '; len];
    body[0] = b'{';
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A body of `len` bytes streamed without a length; `sent` counts what the
/// server produced, so a test can see the client stopped reading.
fn streamed(len: usize, sent: Arc<AtomicUsize>) -> Response {
    const CHUNK: usize = 64 << 10;
    let chunks = futures::stream::iter((0..len / CHUNK).map(move |i| {
        sent.fetch_add(CHUNK, Ordering::SeqCst);
        let mut chunk = vec![b' '; CHUNK];
        if i == 0 {
            chunk[0] = b'{';
        }
        Ok::<_, std::io::Error>(Bytes::from(chunk))
    }));
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(chunks))
        .unwrap()
}

fn graph(base: &Url) -> GraphClient {
    GraphClient::with_retry(
        orchidea_wizard::platform::http::loopback_client(),
        base.join("v1.0").unwrap(),
        Arc::new(StaticToken(Secret::new(TOKEN))),
        RetryPolicy::none(),
    )
}

fn detail(e: &GraphError) -> String {
    match e {
        GraphError::UnexpectedBody { detail, .. } => detail.clone(),
        other => panic!("not UnexpectedBody: {other:?}"),
    }
}

#[tokio::test]
async fn a_graph_answer_over_the_cap_is_refused_announced_or_streamed() {
    let (url, _) = recording(|_, _| sized(HUGE)).await;
    let e = graph(&url).list_users().await.unwrap_err();
    assert!(detail(&e).contains("larger than 16 MiB"), "{e}");
    assert!(e.to_string().contains("the user list"), "{e}");

    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let (url, _) = recording(move |_, _| streamed(HUGE, Arc::clone(&counter))).await;
    let e = graph(&url).list_users().await.unwrap_err();
    assert!(detail(&e).contains("larger than 16 MiB"), "{e}");
    assert!(
        sent.load(Ordering::SeqCst) < HUGE,
        "the client stopped reading: {} bytes produced",
        sent.load(Ordering::SeqCst)
    );
}

/// Pages that point back at themselves or at each other: reading stops at
/// the first repeat. (The server gives up after 50 pages, so the old code,
/// which followed forever, ends and fails the count.)
#[tokio::test]
async fn a_next_link_loop_is_stopped_at_the_first_repeat() {
    let page = |next: Option<String>| {
        axum::Json(json!({
            "value": [{"id": "u1"}],
            "@odata.nextLink": next,
        }))
        .into_response()
    };
    // A page that names itself as the next one.
    let n = AtomicUsize::new(0);
    let (url, log) = recording(move |seen, base| {
        let next = n.fetch_add(1, Ordering::SeqCst) < 50;
        page(next.then(|| base.join(&seen.uri).unwrap().to_string()))
    })
    .await;
    let e = graph(&url).list_users().await.unwrap_err();
    assert!(detail(&e).contains("already read"), "{e}");
    assert_eq!(log.lock().unwrap().len(), 1, "the repeat was not requested");

    // Two pages that name each other.
    let n = AtomicUsize::new(0);
    let (url, log) = recording(move |seen, base| {
        let other = if seen.uri.contains("page=b") {
            "/v1.0/users?page=a"
        } else {
            "/v1.0/users?page=b"
        };
        let next = n.fetch_add(1, Ordering::SeqCst) < 50;
        page(next.then(|| base.join(other).unwrap().to_string()))
    })
    .await;
    let e = graph(&url).list_users().await.unwrap_err();
    assert!(detail(&e).contains("already read"), "{e}");
    assert_eq!(
        log.lock().unwrap().len(),
        3,
        "first page, b, a; then b again is refused"
    );
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused_and_gets_no_token() {
    let (elsewhere, elsewhere_log) =
        recording(|_, _| axum::Json(json!({"value": []})).into_response()).await;
    let link = elsewhere
        .join("v1.0/users?$skiptoken=x")
        .unwrap()
        .to_string();
    let (url, log) = recording(move |_, _| {
        axum::Json(json!({"value": [{"id": "u1"}], "@odata.nextLink": link})).into_response()
    })
    .await;
    let e = graph(&url).list_users().await.unwrap_err();
    assert!(detail(&e).contains("another host"), "{e}");
    assert_eq!(log.lock().unwrap().len(), 1);
    assert!(
        elsewhere_log.lock().unwrap().is_empty(),
        "the other origin never saw a request, so never the token"
    );
}

#[tokio::test]
async fn a_token_endpoint_answer_over_the_cap_is_a_network_error_that_keeps_the_token() {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let (url, log) = recording(move |_, _| streamed(HUGE, Arc::clone(&counter))).await;
    let mut cfg = SignInConfig::for_cloud(orchidea_wizard::platform::cloud::Cloud::Global);
    cfg.login_url = url.clone();
    let refresh = Secret::new("refresh-token-kept-after-a-huge-answer");
    let e = signin::redeem_refresh_token(
        &cfg,
        &orchidea_wizard::platform::http::loopback_client(),
        &refresh,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("larger than 1 MiB"), "{e}");
    assert!(
        !e.is_sign_in_again(),
        "a broken answer is no reason to drop the refresh token"
    );
    assert!(log.lock().unwrap()[0].uri.ends_with("/oauth2/v2.0/token"));
    assert!(sent.load(Ordering::SeqCst) < HUGE);
}

fn admin(url: &Url) -> HttpOrchideaAdmin {
    HttpOrchideaAdmin::new(
        orchidea_wizard::platform::http::loopback_client(),
        url.clone(),
        Secret::new("orchidea-admin-token-bounded"),
    )
}

#[tokio::test]
async fn an_orchidea_answer_over_the_cap_is_refused() {
    let (url, _) = recording(|_, _| sized(HUGE)).await;
    match admin(&url).workspace().await.unwrap_err() {
        OrchideaError::UnexpectedResponse { detail, .. } => {
            assert!(detail.contains("larger than 1 MiB"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_scim_answer_over_the_cap_fails_the_probe_with_its_reason() {
    let (url, _) = recording(|_, _| sized(HUGE)).await;
    let report = probe::probe(
        &orchidea_wizard::platform::http::loopback_client(),
        &url.join("scim/v2").unwrap(),
        &Secret::new("scim-secret-bounded-probe"),
        &ProbeOptions::default(),
    )
    .await;
    let failure = report.first_failure().expect("the probe failed");
    assert!(failure.cause().contains("larger than 4 MiB"), "{failure}");
}

/// Orchidea's API names a SCIM URL the paste field would refuse: refused
/// with its reason, and a secret created with it is revoked at once.
#[tokio::test]
async fn scim_urls_from_orchidea_s_api_follow_the_paste_rules() {
    let (url, _) = recording(|_, _| {
        axum::Json(json!({"name": "Acme", "scimUrl": "http://acme.example/scim/v2"}))
            .into_response()
    })
    .await;
    let e = admin(&url).workspace().await.unwrap_err();
    assert!(matches!(e, OrchideaError::ApiScimUrl { .. }), "{e:?}");
    assert!(e.to_string().contains("https://"), "{e}");

    let (url, log) = recording(|seen, _| match seen.method.as_str() {
        "POST" => (
            StatusCode::CREATED,
            axum::Json(json!({
                "id": "sec-1",
                "idpId": "idp-1",
                "scimUrl": "https://user:s3cret-pw@acme.example/scim/v2",
                "secret": "created-secret-value-never-used",
                "createdAt": "2026-01-01T00:00:00Z"
            })),
        )
            .into_response(),
        _ => StatusCode::NO_CONTENT.into_response(),
    })
    .await;
    let e = admin(&url).create_scim_secret("idp-1").await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("user name or password"), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
    assert!(text.contains("was revoked"), "{text}");
    let log = log.lock().unwrap();
    assert!(
        log.iter()
            .any(|s| s.method == "DELETE" && s.uri.ends_with("/scim/secrets/sec-1")),
        "the unusable secret was revoked"
    );
}

/// A `.local` host answers this computer (resolved here to the recording
/// server) but never Entra: the pre-flight says so, as a warning.
#[tokio::test]
async fn a_scim_host_entra_cannot_reach_is_warned_about() {
    let (url, _) = recording(|_, _| StatusCode::NOT_FOUND.into_response()).await;
    let port = url.port().unwrap();
    let client = reqwest::Client::builder()
        .no_proxy()
        .resolve(
            "orchidea.local",
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        )
        .build()
        .unwrap();
    let scim: Url = format!("http://orchidea.local:{port}/scim/v2")
        .parse()
        .unwrap();
    let report = probe::probe(
        &client,
        &scim,
        &Secret::new("scim-secret-local-host"),
        &ProbeOptions::default(),
    )
    .await;
    let first = &report.checks[0];
    assert_eq!(first.name, probe::CHECK_PUBLIC);
    match &first.outcome {
        CheckOutcome::Warn { detail, .. } => {
            assert!(
                detail.contains(".local") && detail.contains("cannot reach"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Loopback (the sandbox) gets no such warning.
    let report = probe::probe(
        &orchidea_wizard::platform::http::loopback_client(),
        &url.join("scim/v2").unwrap(),
        &Secret::new("scim-secret-local-host"),
        &ProbeOptions::default(),
    )
    .await;
    assert!(report.checks.iter().all(|c| c.name != probe::CHECK_PUBLIC));
}

/// The browser opened for sign-in does not inherit the secret variables:
/// `$BROWSER` is a script that writes its environment to a file, then
/// follows the sign-in address like a browser would.
#[cfg(target_os = "linux")]
#[test]
fn the_browser_does_not_inherit_secret_variables() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = common::standalone::Standalone::start(None);
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("browser-env.txt");
    let script = dir.path().join("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nenv > '{}'\ncurl -s -L --max-redirs 3 -o /dev/null \"$1\"\n",
            dump.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (ok, stdout, stderr) = sandbox.cli_with(
        &["signin", "--browser"],
        &[
            ("BROWSER".into(), format!("{} %s", script.display())),
            (
                "ORCHIDEA_SCIM_SECRET".into(),
                "scim-secret-from-env-42".into(),
            ),
            ("MARKER_SEEN_BY_BROWSER".into(), "yes".into()),
            (
                "DBUS_SESSION_BUS_ADDRESS".into(),
                "unix:path=/nonexistent/bus".into(),
            ),
        ],
    );
    assert!(ok, "{stdout}\n{stderr}");
    let env = std::fs::read_to_string(&dump).expect("the browser ran");
    assert!(env.contains("MARKER_SEEN_BY_BROWSER=yes"), "{env}");
    for name in orchidea_wizard::platform::secret_env::SECRET_VARS {
        assert!(
            !env.contains(&format!("{name}=")),
            "{name} reached the browser"
        );
    }
    assert!(!env.contains(sandbox.url("orchidea_admin_token")));
    assert!(!env.contains("scim-secret-from-env-42"));
}
