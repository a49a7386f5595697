//! Authorization code + PKCE through the system browser: a one-route axum
//! listener on `127.0.0.1:{ephemeral}` (and best effort `[::1]` on the same
//! port, as a browser may try `localhost` over IPv6 first) receives the
//! redirect (RFC 8252 §7.3, the loopback redirect for native apps; no
//! crate of its own: the axum the sandbox already uses). The query string,
//! which carries the code, is never logged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use url::Url;

use super::errors::{SignInError, classify};
use super::{RedirectHost, SignInConfig, Tokens, UrlOpener, protocol};

/// How long the listener waits for the browser's answer.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// What came back on the redirect.
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    description: Option<String>,
}

#[derive(Clone)]
struct Listener {
    done: Arc<Mutex<Option<oneshot::Sender<Callback>>>>,
}

const DONE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Orchidea SCIM Setup Wizard</title></head><body style=\"font-family:sans-serif;margin:3em\"><h1>You can close this tab</h1><p>Return to the Orchidea SCIM Setup Wizard.</p></body></html>";
const WAITING_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Orchidea SCIM Setup Wizard</title></head><body style=\"font-family:sans-serif;margin:3em\"><p>The Orchidea SCIM Setup Wizard is waiting for the sign-in.</p></body></html>";

/// The only route: any path, so `/` and a registered path both work.
async fn callback(
    State(listener): State<Listener>,
    Query(mut q): Query<HashMap<String, String>>,
) -> Html<&'static str> {
    if !q.contains_key("code") && !q.contains_key("error") {
        // favicon.ico and the like.
        return Html(WAITING_PAGE);
    }
    let answer = Callback {
        code: q.remove("code"),
        state: q.remove("state"),
        error: q.remove("error"),
        description: q.remove("error_description"),
    };
    if let Some(tx) = listener
        .done
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
    {
        let _ = tx.send(answer);
    }
    Html(DONE_PAGE)
}

pub(super) async fn sign_in(
    cfg: &SignInConfig,
    http: &reqwest::Client,
    opener: &dyn UrlOpener,
    on_url: &(dyn Fn(&Url) + Send + Sync),
) -> Result<Tokens, SignInError> {
    let v4 = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| SignInError::Listener(e.to_string()))?;
    let port = v4
        .local_addr()
        .map_err(|e| SignInError::Listener(e.to_string()))?
        .port();
    let host = match cfg.redirect_host {
        RedirectHost::Localhost => "localhost",
        RedirectHost::Loopback127 => "127.0.0.1",
    };
    // Entra ignores the port when matching a loopback redirect URI.
    let redirect = RedirectUrl::new(format!("http://{host}:{port}"))
        .map_err(|e| SignInError::Listener(format!("redirect address not valid: {e}")))?;
    let v6 = match cfg.redirect_host {
        RedirectHost::Localhost => TcpListener::bind(("::1", port)).await.ok(),
        RedirectHost::Loopback127 => None,
    };

    let client = protocol::client(cfg)?.set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(cfg.scopes().into_iter().map(Scope::new))
        .set_pkce_challenge(challenge)
        .add_extra_param("prompt", "select_account")
        .url();

    let (tx, rx) = oneshot::channel();
    let (stop, stopped) = watch::channel(false);
    let app = Router::new().fallback(callback).with_state(Listener {
        done: Arc::new(Mutex::new(Some(tx))),
    });
    for listener in std::iter::once(v4).chain(v6) {
        let app = app.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await;
        });
    }
    // Stops the listeners however this future ends (also when dropped).
    let _stop_on_exit = StopOnDrop(stop);

    on_url(&auth_url);
    if let Err(e) = opener.open(&auth_url).await {
        // The window and the CLI also show the address: keep waiting.
        tracing::warn!(error = %e, "browser not opened; waiting for the sign-in address to be opened by hand");
    }
    let answer = match tokio::time::timeout(BROWSER_TIMEOUT, rx).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(_)) => return Err(SignInError::Cancelled),
        Err(_) => return Err(SignInError::TimedOut),
    };
    if answer.state.as_deref() != Some(csrf.secret().as_str()) {
        return Err(SignInError::StateMismatch);
    }
    if let Some(error) = answer.error {
        return Err(classify(&error, answer.description.as_deref()).in_context(cfg));
    }
    let Some(code) = answer.code else {
        return Err(SignInError::StateMismatch);
    };
    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&protocol::http(http))
        .await
        .map_err(|e| protocol::request_error(cfg, e))?;
    Ok(protocol::tokens(response, None))
}

struct StopOnDrop(watch::Sender<bool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}
