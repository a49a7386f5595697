//! The wizard's sign-in (src/services/signin) against the sandbox's identity
//! platform and Graph, over real HTTP on 127.0.0.1: the browser flow with
//! a test opener that plays the browser, device code, the simulated
//! refusals, refresh during an engine run, a 401 recovered by one
//! refresh, and the role check.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use orchidea_wizard::Secret;
use orchidea_wizard::engine::{AlwaysYes, Engine};
use orchidea_wizard::sandbox::{
    Consent, DeviceCodePolicy, Sandbox, SandboxOptions, SignInBehaviour,
};
use orchidea_wizard::services::graph::{GraphClient, GraphError, TokenSource};
use orchidea_wizard::services::signin::{
    self, DeviceCodePrompt, RedirectHost, RoleCheck, Session, SignInConfig, SignInError, Tokens,
    UrlOpener,
};
use orchidea_wizard::setup::{self, Choices, OrchideaAccess};
use url::Url;

fn http() -> reqwest::Client {
    orchidea_wizard::platform::http::loopback_client()
}

async fn sandbox(behaviour: SignInBehaviour) -> Sandbox {
    Sandbox::start(SandboxOptions {
        sign_in: Some(behaviour),
        ..SandboxOptions::default()
    })
    .await
    .unwrap()
}

fn config(sandbox: &Sandbox) -> SignInConfig {
    let mut cfg = SignInConfig::for_cloud(orchidea_wizard::platform::cloud::Cloud::Global);
    cfg.login_url = sandbox.login_url.clone();
    cfg.graph_url = sandbox.graph_url.clone();
    cfg
}

/// Plays the browser: GETs the authorize URL, then follows the one
/// redirect to the wizard's loopback listener.
#[derive(Default)]
struct TestBrowser {
    opened: Mutex<Vec<Url>>,
}

impl UrlOpener for TestBrowser {
    fn open(&self, url: &Url) -> BoxFuture<'_, Result<(), String>> {
        let url = url.clone();
        Box::pin(async move {
            self.opened.lock().unwrap().push(url.clone());
            let r = http().get(url).send().await.map_err(|e| e.to_string())?;
            let location = r
                .headers()
                .get("location")
                .ok_or(format!("no redirect: {}", r.status()))?
                .to_str()
                .map_err(|e| e.to_string())?
                .to_string();
            let page = http()
                .get(&location)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            assert_eq!(page.status(), 200);
            assert!(
                page.text()
                    .await
                    .unwrap()
                    .contains("You can close this tab")
            );
            Ok(())
        })
    }
}

async fn browser_sign_in(cfg: &SignInConfig) -> (Result<Tokens, SignInError>, Vec<Url>) {
    let browser = TestBrowser::default();
    let shown = Mutex::new(Vec::new());
    let result = signin::sign_in_with_browser(cfg, &http(), &browser, &|u: &Url| {
        shown.lock().unwrap().push(u.clone());
    })
    .await;
    let opened = browser.opened.into_inner().unwrap();
    assert_eq!(
        shown.into_inner().unwrap(),
        opened,
        "on_url saw what was opened"
    );
    (result, opened)
}

async fn device_sign_in(cfg: &SignInConfig) -> (Result<Tokens, SignInError>, usize) {
    let prompts = AtomicUsize::new(0);
    let result = signin::sign_in_with_device_code(cfg, &http(), &|p: &DeviceCodePrompt| {
        assert!(p.message.contains(&p.user_code));
        prompts.fetch_add(1, Ordering::SeqCst);
    })
    .await;
    (result, prompts.load(Ordering::SeqCst))
}

fn graph(sandbox: &Sandbox, tokens: Arc<dyn TokenSource>) -> GraphClient {
    GraphClient::new(http(), sandbox.graph_url.clone(), tokens)
}

async fn graph_status(sandbox: &Sandbox, token: &Secret) -> reqwest::StatusCode {
    http()
        .get(format!("{}/me", sandbox.graph_url))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn browser_sign_in_gives_tokens_that_open_graph_through_a_session() {
    let sandbox = sandbox(SignInBehaviour::default()).await;
    let cfg = config(&sandbox);
    let (tokens, opened) = browser_sign_in(&cfg).await;
    let tokens = tokens.unwrap();
    let url = &opened[0];
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("prompt"), Some("select_account"));
    assert_eq!(get("code_challenge_method"), Some("S256"));
    assert!(
        get("redirect_uri")
            .unwrap()
            .starts_with("http://localhost:")
    );
    assert!(get("scope").unwrap().contains("offline_access"));
    assert_ne!(tokens.access, sandbox.graph_token, "a token of its own");
    assert!(tokens.refresh.is_some());
    assert_eq!(
        tokens.account.username.as_deref(),
        Some("alland@contoso.com")
    );
    assert_eq!(
        tokens.account.tenant_id.as_deref(),
        Some("520a5d7b-f0fe-5320-84c5-521bdcabbd8c")
    );

    let session = Arc::new(Session::new(cfg, http(), tokens, None));
    let me = graph(&sandbox, session.clone()).me().await.unwrap();
    assert_eq!(
        me.user_principal_name.as_deref(),
        Some("alland@contoso.com")
    );
    assert_eq!(
        session.account().username.as_deref(),
        Some("alland@contoso.com")
    );
    assert_eq!(sandbox.login_stats().authorization_code, 1);
    assert_eq!(sandbox.login_stats().refresh_token, 0);
}

#[tokio::test]
async fn the_127_redirect_host_is_sent_when_chosen() {
    let sandbox = sandbox(SignInBehaviour::default()).await;
    let mut cfg = config(&sandbox);
    cfg.redirect_host = RedirectHost::Loopback127;
    let (tokens, opened) = browser_sign_in(&cfg).await;
    tokens.unwrap();
    let redirect: String = opened[0]
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_refused_in_plain_words() {
    let sandbox = sandbox(SignInBehaviour::default()).await;
    // The browser step by hand, then the token request with another verifier.
    let cfg = config(&sandbox);
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let mut url = Url::parse(&format!(
        "{}organizations/oauth2/v2.0/authorize",
        cfg.login_url
    ))
    .unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &cfg.client_id)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", "http://localhost:1234")
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    let r = http().get(url).send().await.unwrap();
    let location = Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let body: serde_json::Value = http()
        .post(format!("{}organizations/oauth2/v2.0/token", cfg.login_url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", cfg.client_id.as_str()),
            ("code", &code),
            ("redirect_uri", "http://localhost:1234"),
            (
                "code_verifier",
                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-wrong",
            ),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let e = signin::classify(
        body["error"].as_str().unwrap(),
        body["error_description"].as_str(),
    );
    assert!(matches!(e, SignInError::PkceMismatch { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("proof key") && text.contains("AADSTS501481"),
        "{text}"
    );
    assert!(text.contains("trace ID"), "{text}");
}

#[tokio::test]
async fn consent_required_reaches_both_flows_with_the_admin_consent_link() {
    let sandbox = sandbox(SignInBehaviour {
        consent: Consent::Required,
        ..Default::default()
    })
    .await;
    let cfg = config(&sandbox);
    let (browser, _) = browser_sign_in(&cfg).await;
    let (device, prompts) = device_sign_in(&cfg).await;
    assert_eq!(prompts, 1);
    for e in [browser.unwrap_err(), device.unwrap_err()] {
        assert!(matches!(e, SignInError::ConsentRequired { .. }), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("admin consent"), "{text}");
        assert!(
            text.contains("/organizations/v2.0/adminconsent?client_id="),
            "{text}"
        );
        assert!(text.contains("AADSTS65001"), "{text}");
    }
    assert_eq!(sandbox.login_stats().device_code, 0, "no token was issued");
}

#[tokio::test]
async fn a_declined_consent_reaches_both_flows_as_declined() {
    let sandbox = sandbox(SignInBehaviour {
        consent: Consent::Declined,
        ..Default::default()
    })
    .await;
    let cfg = config(&sandbox);
    let (browser, _) = browser_sign_in(&cfg).await;
    let browser = browser.unwrap_err();
    assert!(browser.to_string().contains("AADSTS65004"), "{browser}");
    let (device, _) = device_sign_in(&cfg).await;
    let device = device.unwrap_err();
    for e in [browser, device] {
        assert!(matches!(e, SignInError::Declined { .. }), "{e:?}");
        assert!(e.to_string().contains("declined"), "{e}");
    }
}

#[tokio::test]
async fn device_code_signs_in_after_pending_polls_with_one_prompt() {
    let sandbox = sandbox(SignInBehaviour::default()).await;
    let cfg = config(&sandbox);
    let (tokens, prompts) = device_sign_in(&cfg).await;
    let tokens = tokens.unwrap();
    assert_eq!(prompts, 1);
    let stats = sandbox.login_stats();
    assert!(stats.pending_polls >= 2, "{stats:?}");
    assert_eq!(stats.device_code, 1);
    assert_eq!(graph_status(&sandbox, &tokens.access).await, 200);
    assert_eq!(tokens.account.name.as_deref(), Some("Allan Deyoung"));
}

#[tokio::test]
async fn device_code_blocked_by_conditional_access_suggests_the_browser() {
    let sandbox = sandbox(SignInBehaviour {
        device_code: DeviceCodePolicy::BlockedByConditionalAccess,
        ..Default::default()
    })
    .await;
    let (result, _) = device_sign_in(&config(&sandbox)).await;
    let e = result.unwrap_err();
    assert!(matches!(e, SignInError::DeviceCodeBlocked { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("browser sign-in") && text.contains("AADSTS53003"),
        "{text}"
    );
    // The browser sign-in still works in that tenant.
    let (browser, _) = browser_sign_in(&config(&sandbox)).await;
    browser.unwrap();
}

#[tokio::test]
async fn an_unknown_tenant_is_named_in_the_error() {
    let sandbox = sandbox(SignInBehaviour::default()).await;
    let mut cfg = config(&sandbox);
    cfg.tenant = "fabrikam.example".into();
    let (result, prompts) = device_sign_in(&cfg).await;
    assert_eq!(prompts, 0, "no code to show");
    let e = result.unwrap_err();
    assert!(matches!(e, SignInError::WrongTenant { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("\"fabrikam.example\" was not found"),
        "{text}"
    );
    assert!(text.contains("AADSTS90002"), "{text}");
    // The tenant's own domain is accepted.
    cfg.tenant = "contoso.com".into();
    device_sign_in(&cfg).await.0.unwrap();
}

#[tokio::test]
async fn a_refresh_rotates_and_the_old_refresh_token_is_spent() {
    let sandbox = sandbox(SignInBehaviour::default()).await;
    let cfg = config(&sandbox);
    let first = device_sign_in(&cfg).await.0.unwrap();
    let old = first.refresh.clone().unwrap();
    let second = signin::redeem_refresh_token(&cfg, &http(), &old)
        .await
        .unwrap();
    assert_ne!(second.refresh.as_ref(), Some(&old), "rotated");
    let e = signin::redeem_refresh_token(&cfg, &http(), &old)
        .await
        .unwrap_err();
    assert!(matches!(e, SignInError::ExpiredSignIn { .. }), "{e:?}");
    assert!(e.to_string().contains("sign in again"), "{e}");
}

fn engine_config(sandbox: &Sandbox, session: Arc<Session>, dir: &std::path::Path) -> Engine {
    let mut cfg = setup::config(
        http(),
        sandbox.graph_url.clone(),
        session,
        OrchideaAccess::AdminApi {
            workspace_url: sandbox.orchidea_url.clone(),
            admin_token: sandbox.admin_token.clone(),
            idp: None,
        },
        Choices::default(),
    );
    cfg.backup_dir = Some(dir.join("backups"));
    cfg.run_state = Some(dir.join("run-state.json"));
    Engine::new(cfg)
}

#[tokio::test]
async fn an_engine_run_refreshes_an_expiring_token_and_stores_each_rotation() {
    let sandbox = sandbox(SignInBehaviour {
        access_token_lifetime_secs: Some(1),
        ..Default::default()
    })
    .await;
    let cfg = config(&sandbox);
    let tokens = device_sign_in(&cfg).await.0.unwrap();
    let first_access = tokens.access.clone();
    let rotated: Arc<Mutex<Vec<Secret>>> = Arc::default();
    let seen = rotated.clone();
    let session = Arc::new(Session::new(
        cfg,
        http(),
        tokens,
        Some(Arc::new(move |r: &Secret| {
            seen.lock().unwrap().push(r.clone());
        })),
    ));
    // Let the first token expire, so the run must refresh before its first call.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(graph_status(&sandbox, &first_access).await, 401, "expired");

    let dir = tempfile::tempdir().unwrap();
    let engine = engine_config(&sandbox, session.clone(), dir.path());
    engine.run_all(&AlwaysYes).await.unwrap();
    let refreshes = sandbox.login_stats().refresh_token;
    assert!(refreshes >= 1, "refreshed {refreshes} times");
    let rotated = rotated.lock().unwrap().clone();
    assert_eq!(
        u32::try_from(rotated.len()).unwrap(),
        refreshes,
        "every rotation was handed over"
    );
    assert_eq!(session.refresh_token().as_ref(), rotated.last());
}

#[tokio::test]
async fn a_401_mid_run_is_recovered_by_exactly_one_refresh() {
    let sandbox = sandbox(SignInBehaviour::default()).await;
    let cfg = config(&sandbox);
    let tokens = device_sign_in(&cfg).await.0.unwrap();
    let session = Arc::new(Session::new(cfg, http(), tokens, None));
    let client = graph(&sandbox, session.clone());
    client.me().await.unwrap();
    sandbox.revoke_access_tokens();
    // Concurrent callers hit the 401 together; one refresh serves all.
    let (a, b, c) = tokio::join!(client.me(), client.me(), client.list_users());
    a.unwrap();
    b.unwrap();
    c.unwrap();
    let dir = tempfile::tempdir().unwrap();
    engine_config(&sandbox, session.clone(), dir.path())
        .run_all(&AlwaysYes)
        .await
        .unwrap();
    assert_eq!(sandbox.login_stats().refresh_token, 1);
}

/// A token source that can never refresh: the 401 stands.
struct Fixed(Secret);

impl TokenSource for Fixed {
    fn token(&self) -> BoxFuture<'_, Result<Secret, GraphError>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }
}

#[tokio::test]
async fn without_a_refresh_the_401_reaches_the_caller() {
    let sandbox = sandbox(SignInBehaviour::default()).await;
    let e = graph(&sandbox, Arc::new(Fixed(Secret::new("not-a-token-123"))))
        .me()
        .await
        .unwrap_err();
    assert!(matches!(e, GraphError::Unauthorized { .. }), "{e:?}");
}

async fn roles_with(roles: Option<Vec<&str>>) -> RoleCheck {
    let sandbox = sandbox(SignInBehaviour {
        roles: roles.map(|r| r.into_iter().map(String::from).collect()),
        ..Default::default()
    })
    .await;
    let cfg = config(&sandbox);
    let tokens = device_sign_in(&cfg).await.0.unwrap();
    let session = Arc::new(Session::new(cfg, http(), tokens, None));
    signin::check_roles(&graph(&sandbox, session))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_role_check_accepts_the_default_admin_and_explains_the_rest() {
    assert_eq!(
        roles_with(None).await,
        RoleCheck::Sufficient(vec!["Application Administrator".into()])
    );
    let user_admin = roles_with(Some(vec!["User Administrator"])).await;
    assert_eq!(
        user_admin,
        RoleCheck::Insufficient(vec!["User Administrator".into()])
    );
    let text = user_admin.message();
    assert!(
        text.contains("Cloud Application Administrator") && text.contains("PIM"),
        "{text}"
    );
    let none = roles_with(Some(vec![])).await;
    assert_eq!(none, RoleCheck::Insufficient(vec![]));
    assert!(none.message().contains("no active directory role"));
}

/// Serves `app` on 127.0.0.1:0.
async fn serve(app: axum::Router) -> Url {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://127.0.0.1:{port}/").parse().unwrap()
}

/// oauth2 calls the token endpoints through the wizard's own client
/// (`src/services/signin/oauth_http.rs)`: a redirect from the sign-in service is not
/// followed, so a request body (a device code, a refresh token) is never
/// re-sent to wherever the redirect points.
#[tokio::test]
async fn a_redirect_from_the_sign_in_service_is_not_followed() {
    let followed = Arc::new(AtomicUsize::new(0));
    let count = followed.clone();
    let elsewhere = serve(axum::Router::new().fallback(move || {
        count.fetch_add(1, Ordering::SeqCst);
        async { "{}" }
    }))
    .await;
    let login = serve(axum::Router::new().fallback(move || {
        let to = elsewhere.to_string();
        async move {
            (
                axum::http::StatusCode::TEMPORARY_REDIRECT,
                [(axum::http::header::LOCATION, to)],
            )
        }
    }))
    .await;
    let mut cfg = SignInConfig::for_cloud(orchidea_wizard::platform::cloud::Cloud::Global);
    cfg.login_url = login;
    let (result, prompts) = device_sign_in(&cfg).await;
    assert_eq!(prompts, 0, "no code to show");
    assert!(result.is_err(), "a redirect is not a device code");
    assert_eq!(
        followed.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
}
