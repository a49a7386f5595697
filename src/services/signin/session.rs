//! The signed-in session: the Graph client's [`TokenSource`]. Refreshes
//! a little before expiry and once after a 401. Refreshes are serialised
//! behind one async gate, because each refresh token is used once (Entra
//! rotates them; the sandbox refuses a reused one), so two callers must
//! never redeem the same one in parallel.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;

use super::errors::{SignInError, Support};
use super::protocol::margin;
use super::{Account, OnRotate, SignInConfig, Tokens, redeem_refresh_token};
use crate::platform::secret::Secret;
use crate::services::graph::{GraphError, TokenSource};

/// See the module docs.
pub struct Session {
    cfg: SignInConfig,
    http: reqwest::Client,
    state: Mutex<State>,
    /// Held for the whole of a refresh.
    gate: tokio::sync::Mutex<()>,
    on_rotate: Option<OnRotate>,
}

struct State {
    access: Secret,
    expires_at: SystemTime,
    /// The last token's whole lifetime, which sets the refresh margin.
    lifetime: Duration,
    refresh: Option<Secret>,
    account: Account,
}

impl State {
    fn from_tokens(tokens: Tokens, account_before: Option<Account>) -> State {
        let lifetime = tokens
            .expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        // A refresh response may carry no ID token: keep the account shown.
        let account = match account_before {
            Some(before) if tokens.account == Account::default() => before,
            _ => tokens.account,
        };
        State {
            access: tokens.access,
            expires_at: tokens.expires_at,
            lifetime,
            refresh: tokens.refresh,
            account,
        }
    }

    /// The access token while more than the margin remains.
    fn fresh(&self) -> Option<Secret> {
        let left = self
            .expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        (left > margin(self.lifetime)).then(|| self.access.clone())
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("tenant", &self.cfg.tenant)
            .field("account", &self.account())
            .finish_non_exhaustive()
    }
}

impl Session {
    pub fn new(
        cfg: SignInConfig,
        http: reqwest::Client,
        tokens: Tokens,
        on_rotate: Option<OnRotate>,
    ) -> Self {
        Self {
            cfg,
            http,
            state: Mutex::new(State::from_tokens(tokens, None)),
            gate: tokio::sync::Mutex::new(()),
            on_rotate,
        }
    }

    pub fn account(&self) -> Account {
        self.lock().account.clone()
    }

    /// The newest refresh token (to remember it after the run).
    pub fn refresh_token(&self) -> Option<Secret> {
        self.lock().refresh.clone()
    }

    /// When the current access token expires.
    pub fn expires_at(&self) -> SystemTime {
        self.lock().expires_at
    }

    /// Redeems the refresh token now, whatever the current token's age.
    pub async fn refresh(&self) -> Result<Secret, SignInError> {
        let _gate = self.gate.lock().await;
        self.redeem().await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Redeems the refresh token; the caller holds the gate.
    async fn redeem(&self) -> Result<Secret, SignInError> {
        let Some(refresh) = self.refresh_token() else {
            return Err(SignInError::ExpiredSignIn {
                support: Support::default(),
            });
        };
        let tokens = redeem_refresh_token(&self.cfg, &self.http, &refresh).await?;
        let rotated = tokens.refresh.clone().filter(|r| *r != refresh);
        let access = tokens.access.clone();
        {
            let mut state = self.lock();
            let before = state.account.clone();
            *state = State::from_tokens(tokens, Some(before));
        }
        if let (Some(new), Some(on_rotate)) = (rotated, &self.on_rotate) {
            on_rotate(&new);
        }
        Ok(access)
    }
}

fn graph_error(e: SignInError) -> GraphError {
    tracing::warn!(error = %e, "token refresh failed");
    match e {
        SignInError::Network(detail) => GraphError::Transport(detail),
        _ => GraphError::Unauthorized { request_id: None },
    }
}

impl TokenSource for Session {
    fn token(&self) -> BoxFuture<'_, Result<Secret, GraphError>> {
        Box::pin(async move {
            if let Some(token) = self.lock().fresh() {
                return Ok(token);
            }
            let _gate = self.gate.lock().await;
            // Another caller may have refreshed while this one waited.
            let (fresh, current, can_refresh) = {
                let state = self.lock();
                (state.fresh(), state.access.clone(), state.refresh.is_some())
            };
            match fresh {
                Some(token) => Ok(token),
                // Nothing to refresh with: let Graph judge the old token.
                None if !can_refresh => Ok(current),
                None => self.redeem().await.map_err(graph_error),
            }
        })
    }

    fn refresh_after_unauthorized<'a>(
        &'a self,
        rejected: &'a Secret,
    ) -> BoxFuture<'a, Result<Option<Secret>, GraphError>> {
        Box::pin(async move {
            let _gate = self.gate.lock().await;
            let (current, can_refresh) = {
                let state = self.lock();
                (state.access.clone(), state.refresh.is_some())
            };
            if current != *rejected {
                // Refreshed by another caller after this one's request left.
                return Ok(Some(current));
            }
            if !can_refresh {
                return Ok(None);
            }
            self.redeem().await.map(Some).map_err(graph_error)
        })
    }
}
