//! The window's sign-in work, off the UI thread: the remembered sign-in or
//! an interactive one (the prompt goes to the screen as it is known), the
//! role check and "Remember me" (the root saves the settings after). The logic
//! itself is [`crate::services::connect`] and [`crate::services::signin`], shared with the CLI.

use std::sync::Arc;

use tokio::sync::mpsc;
use url::Url;

use super::sign_in::{self, Prompt, SignedIn};
use crate::platform::credstore::CredentialStore;
use crate::platform::secret::Secret;
use crate::services::connect::{self, ConnectError, Remembered};
use crate::services::graph::GraphClient;
use crate::services::signin;
use crate::ui::app::Message;
use crate::ui::screen::welcome;
use crate::ui::work::{Method, SignInEnv, SignInRequest};

fn prompted(p: Prompt) -> Message {
    Message::Welcome(welcome::Message::SignIn(sign_in::Message::Prompted(p)))
}

/// The store the tests gave, else the OS one (opened off the UI thread),
/// with the reason when only this session can be used.
async fn store(env: &SignInEnv) -> (Arc<dyn CredentialStore>, Option<String>) {
    match &env.store {
        Some(s) => (Arc::clone(s), None),
        None => connect::open_store().await,
    }
}

pub async fn sign_in(
    request: SignInRequest,
    env: SignInEnv,
    side: mpsc::UnboundedSender<Message>,
) -> Result<SignedIn, ConnectError> {
    let SignInRequest {
        cfg,
        method,
        remember,
        ..
    } = request;
    let http = crate::platform::http::try_client()?;
    let (store, store_note) = store(&env).await;
    // "Remember me" on and a stored sign-in: no browser needed.
    let mut unreadable = None;
    let remembered = if remember {
        match connect::remembered(&cfg, &http, &store).await? {
            Remembered::Tokens(t) => Some(t),
            Remembered::Stale(_) | Remembered::Nothing => None,
            // Damaged: a new sign-in with "Remember me" on replaces it.
            Remembered::Unreadable(why) => {
                unreadable = Some(why);
                None
            }
        }
    } else {
        None
    };
    let from_store = remembered.is_some();
    let tokens = if let Some(t) = remembered {
        t
    } else {
        let tokens = match method {
            Method::Browser => {
                let tx = side.clone();
                let show = move |url: &Url| {
                    let _ = tx.send(prompted(Prompt::Browser(url.clone())));
                };
                signin::sign_in_with_browser(&cfg, &http, env.opener.as_ref(), &show).await
            }
            Method::DeviceCode => {
                let tx = side.clone();
                let show = move |p: &signin::DeviceCodePrompt| {
                    let _ = tx.send(prompted(Prompt::Device(p.clone())));
                };
                signin::sign_in_with_device_code(&cfg, &http, &show).await
            }
        }?;
        connect::keep_or_forget(&cfg, &store, &tokens, remember).await?;
        tokens
    };
    let kept = match (remember, &store_note) {
        (true, None) if unreadable.is_some() => Some(format!(
            "The remembered sign-in could not be read and was not used: {} This sign-in replaces it in {}.",
            unreadable.unwrap_or_default(),
            store.describe()
        )),
        (true, Some(note)) => Some(note.clone()),
        (true, None) if from_store => Some(format!(
            "Signed in with the sign-in remembered in {}.",
            store.describe()
        )),
        (true, None) => Some(format!(
            "The sign-in is remembered in {}; Sign out removes it.",
            store.describe()
        )),
        (false, _) => None,
    };
    let account = tokens.account.clone();
    let session = connect::session(&cfg, http.clone(), tokens, remember.then_some(store));
    let token: Arc<dyn crate::services::graph::TokenSource> = Arc::new(session);
    let graph = GraphClient::new(http, cfg.graph_url.clone(), Arc::clone(&token));
    let roles = signin::check_roles(&graph).await.map_err(|e| e.to_string());
    Ok(SignedIn {
        cfg,
        token,
        account,
        roles,
        kept,
    })
}

pub async fn sign_out(
    cfg: signin::SignInConfig,
    workspace: Option<Url>,
    env: SignInEnv,
) -> Result<usize, ConnectError> {
    let (store, _) = store(&env).await;
    connect::sign_out(&cfg, &store, workspace.as_ref()).await
}

/// Checks the admin token against the workspace; remembers it with the
/// sign-in's "Remember me", forgets any stored one otherwise.
pub async fn check_orchidea(
    workspace: Url,
    token: Option<Secret>,
    remember: bool,
    env: SignInEnv,
) -> Result<(String, Secret), ConnectError> {
    let (store, _) = store(&env).await;
    let token = match token {
        Some(t) => t,
        None => connect::remembered_orchidea_token(&store, &workspace)
            .await?
            .ok_or(ConnectError::NoRememberedOrchideaToken)?,
    };
    let info =
        connect::check_orchidea(crate::platform::http::try_client()?, &workspace, &token).await?;
    if let Err(e) =
        connect::keep_or_forget_orchidea_token(&store, &workspace, &token, remember).await
    {
        tracing::warn!("could not keep the Orchidea admin token: {e}");
    }
    Ok((info.name, token))
}
