//! A remembered refresh token belongs to the sign-in endpoint that issued
//! it, and only Entra's "sign in again" answers drop it (#14 items 1 and 6).
//! The token endpoint is a scripted server on 127.0.0.1 that records every
//! request it receives; the store is the session store, or keyring-core's
//! mock behind the wizard's chunked store for damaged entries.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use keyring_core::api::CredentialStoreApi;
use orchidea_wizard::Secret;
use orchidea_wizard::platform::cloud::Cloud;
use orchidea_wizard::platform::credstore::{
    self, CredentialStore, KeyringStore, MAX_BLOB, SERVICE, SessionStore,
};
use orchidea_wizard::services::connect::{self, Remembered};
use orchidea_wizard::services::signin::SignInConfig;

/// The admin's real Entra refresh token, remembered before the run.
const REAL: &str = "0.AAAA-real-entra-refresh-token-never-leaves";

/// What the fake token endpoint answers next.
#[derive(Clone)]
enum Answer {
    /// 200 with a token answer (a rotated refresh token).
    Token,
    /// `status` with an OAuth error body.
    OAuth(u16, &'static str, &'static str),
    /// `status` with an HTML page (a proxy error, a captive portal).
    Html(u16),
}

#[derive(Clone)]
struct Server {
    url: url::Url,
    seen: Arc<Mutex<Vec<String>>>,
    answer: Arc<Mutex<Answer>>,
}

impl Server {
    async fn start() -> Server {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(Mutex::new(Answer::Token));
        let (s, a) = (seen.clone(), answer.clone());
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (s, a) = (s.clone(), a.clone());
                async move {
                    s.lock().unwrap().push(format!(
                        "{method} {uri}\n{headers:?}\n{}",
                        String::from_utf8_lossy(&body)
                    ));
                    let answer = a.lock().unwrap().clone();
                    respond(answer)
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Server { url, seen, answer }
    }

    fn answer(&self, a: Answer) {
        *self.answer.lock().unwrap() = a;
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Default tenant and client, signing in here (`--login-url`).
    fn cfg(&self) -> SignInConfig {
        let mut cfg = SignInConfig::for_cloud(Cloud::Global);
        cfg.login_url = self.url.clone();
        cfg
    }
}

fn respond(answer: Answer) -> Response {
    match answer {
        Answer::Token => axum::Json(serde_json::json!({
            "token_type": "Bearer",
            "access_token": "access-from-the-override",
            "expires_in": 3599,
            "refresh_token": "rotated-by-the-override",
        }))
        .into_response(),
        Answer::OAuth(status, error, description) => (
            StatusCode::from_u16(status).unwrap(),
            axum::Json(serde_json::json!({
                "error": error, "error_description": description,
            })),
        )
            .into_response(),
        Answer::Html(status) => (
            StatusCode::from_u16(status).unwrap(),
            [("content-type", "text/html; charset=utf-8")],
            "<html><body><h1>Proxy error</h1><p>Please log in to the network.</p></body></html>",
        )
            .into_response(),
    }
}

/// The store keys of the real Entra sign-in (default tenant and client):
/// today's and the format without the endpoint.
fn real_keys() -> [String; 2] {
    let entra = SignInConfig::for_cloud(Cloud::Global);
    [
        connect::refresh_key(&entra),
        connect::legacy_refresh_key(&entra).expect("Entra's own endpoint reads the old format"),
    ]
}

fn value(store: &dyn CredentialStore, key: &str) -> Option<String> {
    store.get(key).unwrap().map(|s| s.expose().to_string())
}

#[tokio::test]
async fn a_token_remembered_for_entra_is_never_sent_to_an_overridden_endpoint() {
    let server = Server::start().await;
    let cfg = server.cfg();
    let session = Arc::new(SessionStore::new());
    let store: Arc<dyn CredentialStore> = session.clone();
    for key in real_keys() {
        store.set(&key, &Secret::new(REAL)).unwrap();
    }
    assert_eq!(connect::legacy_refresh_key(&cfg), None);

    // Nothing is remembered for the override: nothing is sent there.
    let http = orchidea_wizard::platform::http::client();
    let got = connect::remembered(&cfg, &http, &store).await.unwrap();
    assert!(matches!(got, Remembered::Nothing), "{got:?}");
    assert!(server.seen().is_empty(), "{:?}", server.seen());

    // A token the override issued is kept under its own key and works there;
    // the override refusing it removes only that one.
    let own = connect::refresh_key(&cfg);
    assert_ne!(own, real_keys()[0]);
    store
        .set(&own, &Secret::new("issued-by-the-override"))
        .unwrap();
    let got = connect::remembered(&cfg, &http, &store).await.unwrap();
    assert!(matches!(got, Remembered::Tokens(_)), "{got:?}");
    assert_eq!(
        value(store.as_ref(), &own).as_deref(),
        Some("rotated-by-the-override")
    );
    server.answer(Answer::OAuth(400, "invalid_grant", "AADSTS70008: expired"));
    let got = connect::remembered(&cfg, &http, &store).await.unwrap();
    assert!(matches!(got, Remembered::Stale(_)), "{got:?}");
    assert_eq!(value(store.as_ref(), &own), None);

    // Signing out of the override leaves Entra's sign-in alone.
    assert_eq!(connect::sign_out(&cfg, &store, None).await.unwrap(), 0);

    let everything = server.seen().join("\n");
    assert!(!everything.contains(REAL), "{everything}");
    for key in real_keys() {
        assert_eq!(value(store.as_ref(), &key).as_deref(), Some(REAL), "{key}");
    }
}

#[tokio::test]
async fn only_sign_in_again_answers_drop_a_remembered_token() {
    let server = Server::start().await;
    let cfg = server.cfg();
    let store: Arc<dyn CredentialStore> = Arc::new(SessionStore::new());
    let key = connect::refresh_key(&cfg);
    let http = orchidea_wizard::platform::http::client();
    let kept: [(Answer, &str); 6] = [
        (
            Answer::Html(200),
            "is not a token (unexpected response Content-Type",
        ),
        (Answer::Html(502), "not an OAuth answer (not JSON)"),
        (Answer::Html(503), "not an OAuth answer (not JSON)"),
        (
            Answer::OAuth(503, "temporarily_unavailable", "AADSTS90033: busy"),
            "temporarily_unavailable",
        ),
        (
            Answer::OAuth(401, "invalid_client", "AADSTS7000218: assertion"),
            "invalid_client",
        ),
        (
            Answer::OAuth(400, "invalid_grant", "AADSTS65001: consent"),
            "admin consent",
        ),
    ];
    for (answer, says) in kept {
        store.set(&key, &Secret::new("still-good-refresh")).unwrap();
        server.answer(answer);
        let e = connect::remembered(&cfg, &http, &store)
            .await
            .expect_err("no tokens")
            .to_string();
        assert!(e.contains(says) && e.contains("was kept"), "{e}");
        assert!(!e.contains("<html"), "no page text: {e}");
        assert_eq!(
            value(store.as_ref(), &key).as_deref(),
            Some("still-good-refresh"),
            "kept after: {e}"
        );
    }

    // Nobody listening: a network failure keeps it too.
    let mut gone = cfg.clone();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    gone.login_url = format!("http://{}/", dead.local_addr().unwrap())
        .parse()
        .unwrap();
    drop(dead);
    let dead_key = connect::refresh_key(&gone);
    store
        .set(&dead_key, &Secret::new("still-good-refresh"))
        .unwrap();
    let e = connect::remembered(&gone, &http, &store)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("Could not reach"), "{e}");
    assert!(value(store.as_ref(), &dead_key).is_some());

    // Entra's "sign in again": invalid_grant, with or without a listed code.
    for description in ["AADSTS700082: expired for inactivity", "revoked"] {
        store.set(&key, &Secret::new("condemned-refresh")).unwrap();
        server.answer(Answer::OAuth(400, "invalid_grant", description));
        let got = connect::remembered(&cfg, &http, &store).await.unwrap();
        assert!(matches!(got, Remembered::Stale(_)), "{got:?}");
        assert_eq!(value(store.as_ref(), &key), None, "{description}");
    }
}

/// The wizard's chunked store over keyring-core's mock, and a way to put
/// raw bytes under a name.
fn keyring() -> (Arc<keyring_core::mock::Store>, Arc<dyn CredentialStore>) {
    let mock = keyring_core::mock::Store::new().unwrap();
    let store = Arc::new(KeyringStore::new(mock.clone(), MAX_BLOB));
    (mock, store)
}

fn raw(mock: &keyring_core::mock::Store, name: &str, bytes: Option<&[u8]>) {
    let entry = mock.build(SERVICE, name, None).unwrap();
    match bytes {
        Some(b) => entry.set_secret(b).unwrap(),
        None => entry.delete_credential().unwrap(),
    }
}

#[tokio::test]
async fn a_damaged_entry_is_reported_not_used_and_removed_by_sign_out() {
    let server = Server::start().await;
    let cfg = server.cfg();
    let key = connect::refresh_key(&cfg);
    let http = orchidea_wizard::platform::http::client();
    let workspace: url::Url = "https://acme.orchidea.dev/".parse().unwrap();
    let orchidea_key = credstore::keys::orchidea_admin_token(&workspace);

    type Damage = fn(&keyring_core::mock::Store, &Arc<dyn CredentialStore>, &str);
    let damages: [(&str, Damage); 3] = [
        ("not written by this wizard", |m, _, k| {
            raw(m, k, Some(b"plain-refresh-token"));
        }),
        ("not text", |m, _, k| {
            raw(m, k, Some(b"OW1:001;\xff\xfe\xfd"));
        }),
        ("a part is missing", |m, s, k| {
            s.set(k, &Secret::new("x".repeat(2 * MAX_BLOB))).unwrap();
            raw(m, &format!("{k}#1"), None);
        }),
    ];
    for (what, damage) in damages {
        let (mock, store) = keyring();
        damage(&mock, &store, &key);
        damage(&mock, &store, &orchidea_key);
        assert!(store.get(&key).is_err(), "{what}");

        let got = connect::remembered(&cfg, &http, &store).await.unwrap();
        match got {
            Remembered::Unreadable(why) => assert!(why.contains(what), "{why}"),
            other => panic!("{what}: {other:?}"),
        }
        assert!(
            server.seen().is_empty(),
            "nothing sent: {:?}",
            server.seen()
        );
        // Left for sign-out (or a new remembered sign-in) to replace.
        assert!(store.get(&key).is_err(), "{what}: not removed silently");

        let removed = connect::sign_out(&cfg, &store, Some(&workspace))
            .await
            .unwrap();
        assert_eq!(removed, 2, "{what}");
        let spec = std::collections::HashMap::from([("service", SERVICE)]);
        let left: Vec<_> = mock
            .search(&spec)
            .unwrap()
            .into_iter()
            .filter(|e| e.get_secret().is_ok())
            .filter_map(|e| e.get_specifiers())
            .collect();
        assert!(left.is_empty(), "{what}: {left:?}");
    }
}
