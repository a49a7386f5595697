//! Connecting to a real tenant, the same way for the CLI and the window:
//! where and as which app to sign in (settings, then flags or fields), the
//! remembered refresh token, the session the Graph client draws tokens
//! from, and Orchidea's admin API token, checked before use.
//!
//! Remembering is opt-in: nothing goes to the credential store unless the
//! admin asked ("Remember me", `--remember`). A stored token is used when
//! present, kept current as Entra rotates it, and removed by sign-out.

use std::sync::Arc;

use url::Url;

use crate::platform::cloud::Cloud;
use crate::platform::credstore::{self, CredentialStore};
use crate::platform::secret::Secret;
use crate::platform::settings::Settings;
use crate::services::orchidea::{HttpOrchideaAdmin, OrchideaAdmin, WorkspaceInfo};
use crate::services::signin::{self, DEFAULT_TENANT, RedirectHost, Session, SignInConfig, Tokens};

/// What the admin gave on this run, over the saved settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub cloud: Option<Cloud>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub login_url: Option<String>,
    pub graph_url: Option<String>,
}

/// What connecting can refuse or fail with; `Display` is the sentence the
/// admin reads (the window's banner, the CLI's error line).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    #[error("The {what} \"{raw}\" is not a valid address ({reason}). Use https://…")]
    NotAnAddress {
        what: String,
        raw: String,
        reason: String,
    },
    #[error(
        "The {what} must start with https:// (plain http is only accepted for a sandbox on this computer): {url}"
    )]
    NotHttps { what: String, url: Url },
    /// A Graph URL the cloud's sign-in does not issue tokens for: the
    /// token would go to an endpoint that did not issue it.
    #[error(
        "The Microsoft Graph URL {graph} does not belong to the {cloud} cloud, whose sign-in would issue the token: the token would be sent to an endpoint it was not issued for. Leave the Graph URL empty, choose its cloud, or also give the sign-in URL that belongs to it."
    )]
    GraphOfAnotherIssuer { graph: Url, cloud: Cloud },
    #[error(
        "\"{0}\" would allow personal Microsoft accounts, which cannot administer Entra. Enter your tenant's domain (contoso.onmicrosoft.com) or tenant ID, or leave it empty for any work account."
    )]
    PersonalAccounts(String),
    #[error(
        "\"{0}\" is not a tenant. Enter the tenant ID (a GUID, shown in Entra → Overview) or a verified domain such as contoso.onmicrosoft.com."
    )]
    NotATenant(String),
    #[error(
        "\"{0}\" is not an application (client) ID. Copy the GUID from Entra → App registrations → your app → Overview, or leave it empty to use the default."
    )]
    NotAClientId(String),
    #[error("the credential store call did not finish: {0}")]
    StoreCallLost(String),
    #[error("{0}")]
    Store(credstore::StoreError),
    /// Refreshing failed for a reason that does not condemn the token.
    #[error("{}{} The remembered sign-in was kept; it is tried again next time.", .0, full_stop(&.0.to_string()))]
    RememberedKept(signin::SignInError),
    #[error(
        "Entra gave no refresh token (offline_access was not granted), so the sign-in cannot be remembered."
    )]
    NoRefreshToken,
    #[error(
        "The Orchidea admin API token is empty. Create one in Orchidea's workspace admin and paste it."
    )]
    EmptyOrchideaToken,
    #[error("{0}")]
    Orchidea(crate::services::orchidea::OrchideaError),
    #[error("No Orchidea admin API token is remembered for this workspace: paste it.")]
    NoRememberedOrchideaToken,
    #[error("{0}")]
    SignIn(signin::SignInError),
    #[error("{0}")]
    Http(crate::platform::http::ClientError),
}

impl From<signin::SignInError> for ConnectError {
    fn from(e: signin::SignInError) -> Self {
        ConnectError::SignIn(e)
    }
}

impl From<crate::platform::http::ClientError> for ConnectError {
    fn from(e: crate::platform::http::ClientError) -> Self {
        ConnectError::Http(e)
    }
}

/// "." unless the sentence already ends with one.
fn full_stop(sentence: &str) -> &'static str {
    if sentence.ends_with('.') { "" } else { "." }
}

/// Where and as which app to sign in: a given value wins over the saved
/// one, which wins over the cloud's default. A Graph URL of a known cloud
/// picks that cloud when none is named.
pub fn signin_config(settings: &Settings, o: &Overrides) -> Result<SignInConfig, ConnectError> {
    let graph_given = match o.graph_url.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(raw) => Some(parse_endpoint(raw, "Microsoft Graph URL")?),
        None => saved_endpoint(
            settings.graph_url.as_ref(),
            "Microsoft Graph URL",
            "graphUrl",
        )?,
    };
    let cloud = o
        .cloud
        .or_else(|| graph_given.as_ref().and_then(Cloud::from_graph_url))
        .unwrap_or(settings.cloud);
    let login_url = match o.login_url.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(raw) => parse_endpoint(raw, "sign-in URL")?,
        None => saved_endpoint(settings.login_url.as_ref(), "sign-in URL", "loginUrl")?
            .unwrap_or_else(|| cloud.login_url()),
    };
    let tenant = match o.tenant.as_deref().or(settings.tenant.as_deref()) {
        Some(t) if !t.trim().is_empty() => parse_tenant(t)?,
        _ => DEFAULT_TENANT.to_string(),
    };
    let client_id = match o.client_id.as_deref().or(settings.client_id.as_deref()) {
        Some(c) if !c.trim().is_empty() => parse_client_id(c)?,
        _ => signin::DEFAULT_CLIENT_ID.to_string(),
    };
    // The cloud's own sign-in issues tokens for the cloud's own Graph only
    // (or a sandbox on this computer); another Graph needs its own sign-in.
    if let Some(graph) = &graph_given {
        let cloud_login = login_url.origin() == cloud.login_url().origin();
        let cloud_graph = Cloud::from_graph_url(graph) == Some(cloud);
        if cloud_login && !cloud_graph && !crate::platform::http::is_loopback(graph) {
            return Err(ConnectError::GraphOfAnotherIssuer {
                graph: graph.clone(),
                cloud,
            });
        }
    }
    Ok(SignInConfig {
        cloud,
        login_url: with_trailing_slash(login_url),
        graph_url: graph_given.unwrap_or_else(|| cloud.graph_url()),
        tenant,
        client_id,
        redirect_host: if settings.redirect_127 {
            RedirectHost::Loopback127
        } else {
            RedirectHost::Localhost
        },
    })
}

/// An endpoint override, typed (a field, a flag): parsed, then [`check_endpoint`].
pub fn parse_endpoint(raw: &str, what: &str) -> Result<Url, ConnectError> {
    let url = Url::parse(raw.trim()).map_err(|e| ConnectError::NotAnAddress {
        what: what.to_string(),
        raw: raw.trim().to_string(),
        reason: e.to_string(),
    })?;
    check_endpoint(&url, what)?;
    Ok(url)
}

/// The one rule for every URL a token or secret is sent to (sign-in,
/// Graph, Orchidea's admin API), typed or saved: https, or plain http only
/// to this computer (a sandbox), so no token crosses a network in clear.
pub fn check_endpoint(url: &Url, what: &str) -> Result<(), ConnectError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if crate::platform::http::is_loopback(url) => Ok(()),
        _ => Err(ConnectError::NotHttps {
            what: what.to_string(),
            url: url.clone(),
        }),
    }
}

/// A URL from the settings file, held to [`check_endpoint`]: the file can
/// be edited by hand, and the message names its key.
fn saved_endpoint(url: Option<&Url>, what: &str, key: &str) -> Result<Option<Url>, ConnectError> {
    if let Some(u) = url {
        check_endpoint(u, &format!("{what} saved in the settings file ({key})"))?;
    }
    Ok(url.cloned())
}

fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// A tenant id (GUID), a verified domain, or `organizations`. Personal
/// accounts (`common`, `consumers`) cannot administer a tenant.
pub fn parse_tenant(raw: &str) -> Result<String, ConnectError> {
    let t = raw.trim().to_ascii_lowercase();
    if t == "organizations" || is_guid(&t) {
        return Ok(t);
    }
    if t == "common" || t == "consumers" {
        return Err(ConnectError::PersonalAccounts(t));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if t.contains('.') && t.split('.').all(label_ok) {
        return Ok(t);
    }
    Err(ConnectError::NotATenant(raw.trim().to_string()))
}

/// An application (client) ID: a GUID.
pub fn parse_client_id(raw: &str) -> Result<String, ConnectError> {
    let c = raw.trim().to_ascii_lowercase();
    if is_guid(&c) {
        Ok(c)
    } else {
        Err(ConnectError::NotAClientId(raw.trim().to_string()))
    }
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok() && s.len() == 36
}

/// The OS credential store, opened off the async threads (the Secret
/// Service store runs its own runtime), or the session-only one and why.
pub async fn open_store() -> (Arc<dyn CredentialStore>, Option<String>) {
    tokio::task::spawn_blocking(credstore::open)
        .await
        .unwrap_or_else(|_| {
            (
                Arc::new(credstore::SessionStore::new()),
                Some("The credential store could not be opened.".into()),
            )
        })
}

/// The credential store's entry for this sign-in: cloud, sign-in
/// endpoint origin, tenant and client.
pub fn refresh_key(cfg: &SignInConfig) -> String {
    credstore::keys::refresh_token(cfg.cloud, &cfg.login_url, &cfg.tenant, &cfg.client_id)
}

/// The entry under the key format without the endpoint, which only the
/// cloud's own sign-in endpoint can have issued: `None` for any other
/// endpoint, so an override never reads, sends or removes it.
pub fn legacy_refresh_key(cfg: &SignInConfig) -> Option<String> {
    (cfg.login_url.origin() == cfg.cloud.login_url().origin())
        .then(|| credstore::keys::legacy_refresh_token(cfg.cloud, &cfg.tenant, &cfg.client_id))
}

/// Runs a blocking store call off the async threads.
async fn blocking<T: Send + 'static>(
    store: &Arc<dyn CredentialStore>,
    f: impl FnOnce(&dyn CredentialStore) -> T + Send + 'static,
) -> Result<T, ConnectError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(|e| ConnectError::StoreCallLost(e.to_string()))
}

/// What a remembered sign-in gave.
#[derive(Debug)]
pub enum Remembered {
    /// Nothing stored for this cloud, endpoint, tenant and app.
    Nothing,
    Tokens(Tokens),
    /// A stored token Entra refused as expired or revoked: removed.
    Stale(String),
    /// What is stored could not be read (damaged, several items, store
    /// error): left in place (a new sign-in with "Remember me" replaces
    /// it, sign-out removes it) and treated as nothing remembered.
    Unreadable(String),
}

/// Signs in with the stored refresh token, if there is one for this
/// endpoint. Only a token Entra refuses as expired or revoked
/// ([`signin::SignInError::is_sign_in_again`]) is removed; any other
/// failure (network, an HTML page, a 5xx, an OAuth error that does not
/// condemn the token) keeps it and is returned as an error.
pub async fn remembered(
    cfg: &SignInConfig,
    http: &reqwest::Client,
    store: &Arc<dyn CredentialStore>,
) -> Result<Remembered, ConnectError> {
    let key = refresh_key(cfg);
    let legacy = legacy_refresh_key(cfg);
    let read = (key.clone(), legacy.clone());
    let stored = blocking(store, move |s| {
        let (key, legacy) = read;
        match s.get(&key)? {
            Some(token) => Ok(Some((token, key))),
            None => match legacy {
                Some(old) => Ok(s.get(&old)?.map(|t| (t, old))),
                None => Ok::<_, credstore::StoreError>(None),
            },
        }
    })
    .await?;
    let (refresh, from) = match stored {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(Remembered::Nothing),
        Err(e) => {
            tracing::warn!(error = %e, "the remembered sign-in could not be read");
            return Ok(Remembered::Unreadable(e.to_string()));
        }
    };
    match signin::redeem_refresh_token(cfg, http, &refresh).await {
        Ok(tokens) => {
            // Entra rotates the refresh token: keep the new one, under this
            // endpoint's key (an old-format entry moves there).
            let keep = tokens.refresh.clone().unwrap_or(refresh);
            let _ = blocking(store, move |s| {
                s.set(&key, &keep)?;
                if from != key {
                    s.delete(&from)?;
                }
                Ok::<_, credstore::StoreError>(())
            })
            .await;
            Ok(Remembered::Tokens(tokens))
        }
        Err(e) if e.is_sign_in_again() => {
            let _ = blocking(store, move |s| s.delete(&from)).await;
            Ok(Remembered::Stale(e.to_string()))
        }
        Err(e) => Err(ConnectError::RememberedKept(e)),
    }
}

/// Stores the refresh token when `remember` is on; removes any stored one
/// when it is off, so "off" leaves nothing behind. Either way an
/// old-format entry of this endpoint goes (the new key replaces it).
pub async fn keep_or_forget(
    cfg: &SignInConfig,
    store: &Arc<dyn CredentialStore>,
    tokens: &Tokens,
    remember: bool,
) -> Result<(), ConnectError> {
    let key = refresh_key(cfg);
    let legacy = legacy_refresh_key(cfg);
    let refresh = match (remember, tokens.refresh.clone()) {
        (true, Some(refresh)) => Some(refresh),
        (true, None) => {
            return Err(ConnectError::NoRefreshToken);
        }
        (false, _) => None,
    };
    blocking(store, move |s| {
        match refresh {
            Some(refresh) => s.set(&key, &refresh)?,
            None => {
                s.delete(&key)?;
            }
        }
        if let Some(old) = legacy {
            s.delete(&old)?;
        }
        Ok::<_, credstore::StoreError>(())
    })
    .await?
    .map_err(ConnectError::Store)
}

/// The session the Graph client uses; with `store`, every rotated refresh
/// token replaces the stored one.
pub fn session(
    cfg: &SignInConfig,
    http: reqwest::Client,
    tokens: Tokens,
    store: Option<Arc<dyn CredentialStore>>,
) -> Session {
    let on_rotate = store.map(|store| {
        let key = refresh_key(cfg);
        let f: signin::OnRotate = Arc::new(move |refresh: &Secret| {
            let (store, key, refresh) = (Arc::clone(&store), key.clone(), refresh.clone());
            // Fire and forget: a failed write only means signing in next time.
            tokio::task::spawn_blocking(move || {
                if let Err(e) = store.set(&key, &refresh) {
                    tracing::warn!("could not keep the rotated refresh token: {e}");
                }
            });
        });
        f
    });
    Session::new(cfg.clone(), http, tokens, on_rotate)
}

/// Signs out: removes the stored refresh token of this endpoint (and its
/// old-format entry, for the cloud's own endpoint) and, with a workspace,
/// the stored Orchidea token, whether they can be read or not. Returns
/// how many entries were removed.
pub async fn sign_out(
    cfg: &SignInConfig,
    store: &Arc<dyn CredentialStore>,
    workspace: Option<&Url>,
) -> Result<usize, ConnectError> {
    let mut keys = vec![refresh_key(cfg)];
    keys.extend(legacy_refresh_key(cfg));
    if let Some(w) = workspace {
        keys.push(credstore::keys::orchidea_admin_token(w));
    }
    blocking(store, move |s| {
        let mut removed = 0;
        for key in &keys {
            if s.delete(key)? {
                removed += 1;
            }
        }
        Ok::<_, credstore::StoreError>(removed)
    })
    .await?
    .map_err(ConnectError::Store)
}

/// Checks Orchidea's workspace URL and admin API token with the cheapest
/// call (`GET /workspace`), before any step uses them.
pub async fn check_orchidea(
    http: reqwest::Client,
    workspace_url: &Url,
    token: &Secret,
) -> Result<WorkspaceInfo, ConnectError> {
    if token.expose().trim().is_empty() {
        return Err(ConnectError::EmptyOrchideaToken);
    }
    HttpOrchideaAdmin::new(http, workspace_url.clone(), token.clone())
        .workspace()
        .await
        .map_err(ConnectError::Orchidea)
}

/// The stored Orchidea admin token for this workspace, if remembered.
pub async fn remembered_orchidea_token(
    store: &Arc<dyn CredentialStore>,
    workspace_url: &Url,
) -> Result<Option<Secret>, ConnectError> {
    let key = credstore::keys::orchidea_admin_token(workspace_url);
    blocking(store, move |s| s.get(&key))
        .await?
        .map_err(ConnectError::Store)
}

/// Stores (`remember`) or removes the Orchidea admin token for this workspace.
pub async fn keep_or_forget_orchidea_token(
    store: &Arc<dyn CredentialStore>,
    workspace_url: &Url,
    token: &Secret,
    remember: bool,
) -> Result<(), ConnectError> {
    let key = credstore::keys::orchidea_admin_token(workspace_url);
    let token = token.clone();
    blocking(store, move |s| {
        if remember {
            s.set(&key, &token)
        } else {
            s.delete(&key).map(|_| ())
        }
    })
    .await?
    .map_err(ConnectError::Store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_old_key_format_belongs_to_the_clouds_own_endpoint_only() {
        let entra = SignInConfig::for_cloud(Cloud::Global);
        assert_eq!(
            legacy_refresh_key(&entra).as_deref(),
            Some("entra-refresh-token:global:organizations:14d82eec-204b-4c2f-b7e8-296a70dab67e")
        );
        assert_eq!(
            refresh_key(&entra),
            "entra-refresh-token:global:https://login.microsoftonline.com:organizations:14d82eec-204b-4c2f-b7e8-296a70dab67e"
        );
        // The same origin written differently is the same endpoint.
        let mut same = entra.clone();
        same.login_url = "https://LOGIN.microsoftonline.com:443/".parse().unwrap();
        assert_eq!(refresh_key(&same), refresh_key(&entra));
        assert!(legacy_refresh_key(&same).is_some());
        for other in [
            "http://127.0.0.1:4100/",
            "https://login.microsoftonline.com:8443/",
            "https://gateway.contoso.com/",
            "https://login.microsoftonline.us/",
        ] {
            let mut o = entra.clone();
            o.login_url = other.parse().unwrap();
            assert_eq!(legacy_refresh_key(&o), None, "{other}");
            assert_ne!(refresh_key(&o), refresh_key(&entra), "{other}");
        }
        let gov = SignInConfig::for_cloud(Cloud::UsGov);
        assert!(
            legacy_refresh_key(&gov)
                .unwrap()
                .starts_with("entra-refresh-token:usgov:")
        );
    }

    #[test]
    fn flags_win_over_settings_which_win_over_the_cloud() {
        let settings = Settings {
            cloud: Cloud::UsGov,
            tenant: Some("contoso.onmicrosoft.us".into()),
            ..Settings::default()
        };
        let cfg = signin_config(&settings, &Overrides::default()).unwrap();
        assert_eq!(cfg.login_url.as_str(), "https://login.microsoftonline.us/");
        assert_eq!(cfg.graph_url.as_str(), "https://graph.microsoft.us/v1.0");
        assert_eq!(cfg.tenant, "contoso.onmicrosoft.us");
        assert_eq!(cfg.client_id, signin::DEFAULT_CLIENT_ID);

        let o = Overrides {
            cloud: Some(Cloud::China),
            tenant: Some(" 72F988BF-86F1-41AF-91AB-2D7CD011DB47 ".into()),
            ..Overrides::default()
        };
        let cfg = signin_config(&settings, &o).unwrap();
        assert_eq!(cfg.login_url.host_str(), Some("login.chinacloudapi.cn"));
        assert_eq!(cfg.tenant, "72f988bf-86f1-41af-91ab-2d7cd011db47");
    }

    #[test]
    fn a_dod_graph_url_alone_picks_the_dod_cloud_and_its_login() {
        let o = Overrides {
            graph_url: Some("https://dod-graph.microsoft.us/v1.0".into()),
            ..Overrides::default()
        };
        let cfg = signin_config(&Settings::default(), &o).unwrap();
        assert_eq!(cfg.cloud, Cloud::UsGovDod);
        assert_eq!(cfg.login_url.as_str(), "https://login.microsoftonline.us/");
    }

    #[test]
    fn a_graph_the_clouds_sign_in_does_not_issue_for_is_refused() {
        let foreign = Overrides {
            graph_url: Some("https://graph.example.net/v1.0".into()),
            ..Overrides::default()
        };
        let e = signin_config(&Settings::default(), &foreign).unwrap_err();
        assert!(
            matches!(e, ConnectError::GraphOfAnotherIssuer { .. }),
            "{e}"
        );
        let other_cloud = Overrides {
            cloud: Some(Cloud::Global),
            graph_url: Some("https://graph.microsoft.us/v1.0".into()),
            ..Overrides::default()
        };
        assert!(signin_config(&Settings::default(), &other_cloud).is_err());
        // With its own sign-in endpoint the pair is the admin's choice.
        let own = Overrides {
            login_url: Some("https://login.example.net".into()),
            ..foreign
        };
        assert!(signin_config(&Settings::default(), &own).is_ok());
    }

    #[test]
    fn sandbox_overrides_are_loopback_http_and_get_a_trailing_slash() {
        let o = Overrides {
            login_url: Some("http://127.0.0.1:4100".into()),
            graph_url: Some("http://127.0.0.1:4101/v1.0".into()),
            ..Overrides::default()
        };
        let cfg = signin_config(&Settings::default(), &o).unwrap();
        assert_eq!(cfg.login_url.as_str(), "http://127.0.0.1:4100/");
        assert_eq!(cfg.graph_url.as_str(), "http://127.0.0.1:4101/v1.0");
        let bad = Overrides {
            login_url: Some("http://login.example.com/".into()),
            ..Overrides::default()
        };
        let e = signin_config(&Settings::default(), &bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("https://") && e.contains("sign-in URL"), "{e}");
    }

    #[test]
    fn saved_endpoints_follow_the_typed_rule_and_name_their_key() {
        let saved = |login: &str, graph: &str| Settings {
            login_url: Some(login.parse().unwrap()),
            graph_url: Some(graph.parse().unwrap()),
            ..Settings::default()
        };
        let sandbox = saved("http://127.0.0.1:4100/", "http://[::1]:4101/v1.0");
        let cfg = signin_config(&sandbox, &Overrides::default()).unwrap();
        assert_eq!(cfg.login_url.as_str(), "http://127.0.0.1:4100/");
        assert_eq!(cfg.graph_url.as_str(), "http://[::1]:4101/v1.0");

        let e = signin_config(
            &saved(
                "http://login.example.com/",
                "https://graph.microsoft.com/v1.0",
            ),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("(loginUrl)") && e.contains("https://"), "{e}");
        let e = signin_config(
            &saved(
                "https://login.example.com/",
                "http://graph.example.com/v1.0",
            ),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("(graphUrl)"), "{e}");
        let e = signin_config(
            &saved(
                "ftp://login.example.com/",
                "https://graph.microsoft.com/v1.0",
            ),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("(loginUrl)"), "{e}");

        // A typed value replaces the saved one, so the saved one is not used.
        let o = Overrides {
            login_url: Some("https://login.microsoftonline.com/".into()),
            ..Overrides::default()
        };
        let cfg = signin_config(
            &saved(
                "http://login.example.com/",
                "https://graph.microsoft.com/v1.0",
            ),
            &o,
        )
        .unwrap();
        assert_eq!(cfg.login_url.as_str(), "https://login.microsoftonline.com/");
    }

    #[test]
    fn tenants_and_client_ids_are_checked_with_specific_messages() {
        assert_eq!(
            parse_tenant("Contoso.OnMicrosoft.com").unwrap(),
            "contoso.onmicrosoft.com"
        );
        assert!(
            parse_tenant("common")
                .unwrap_err()
                .to_string()
                .contains("personal")
        );
        assert!(
            parse_tenant("contoso")
                .unwrap_err()
                .to_string()
                .contains("tenant ID")
        );
        assert!(parse_tenant("a..b").is_err());
        assert!(
            parse_client_id("not-a-guid")
                .unwrap_err()
                .to_string()
                .contains("GUID")
        );
        assert!(parse_client_id("14d82eec-204b-4c2f-b7e8-296a70dab67e").is_ok());
        assert!(parse_client_id("14d82eec204b4c2fb7e8296a70dab67e").is_err());
    }
}
