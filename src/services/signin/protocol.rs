//! The oauth2 client for Entra's v2.0 endpoints, and the boundary where a
//! token response becomes [`Tokens`] (tokens move into [`Secret`] here and
//! the response is dropped, never serialised or logged).

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, Client, ClientId, DeviceAuthorizationUrl, EndpointNotSet, EndpointSet, ErrorResponse,
    ExtraDeviceAuthorizationFields, ExtraTokenFields, HttpClientError, RequestTokenError,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::errors::{SignInError, classify};
use super::{Account, SignInConfig, Tokens};
use crate::platform::secret::Secret;

/// Entra's extra token fields; `Debug` hides the ID token.
#[derive(Clone, Default, Deserialize, Serialize)]
pub(crate) struct MsTokenFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl fmt::Debug for MsTokenFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MsTokenFields")
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ExtraTokenFields for MsTokenFields {}

/// Keeps the device response's `message` ("To sign in, use a web browser…").
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct MsDeviceFields {
    #[serde(default)]
    pub message: Option<String>,
}

impl ExtraDeviceAuthorizationFields for MsDeviceFields {}

pub(crate) type MsTokenResponse = StandardTokenResponse<MsTokenFields, BasicTokenType>;

pub(crate) type MsClient = Client<
    BasicErrorResponse,
    MsTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// `{login}{tenant}/oauth2/v2.0/{name}`.
pub(crate) fn endpoint(cfg: &SignInConfig, name: &str) -> String {
    let mut base = cfg.login_url.to_string();
    if !base.ends_with('/') {
        base.push('/');
    }
    format!("{base}{}/oauth2/v2.0/{name}", cfg.tenant)
}

pub(crate) fn client(cfg: &SignInConfig) -> Result<MsClient, SignInError> {
    let bad = |e: url::ParseError| SignInError::Other {
        code: "configuration".into(),
        description: format!("the sign-in address is not valid ({e})"),
    };
    Ok(Client::new(ClientId::new(cfg.client_id.clone()))
        .set_auth_uri(AuthUrl::new(endpoint(cfg, "authorize")).map_err(bad)?)
        .set_token_uri(TokenUrl::new(endpoint(cfg, "token")).map_err(bad)?)
        .set_device_authorization_url(
            DeviceAuthorizationUrl::new(endpoint(cfg, "devicecode")).map_err(bad)?,
        ))
}

/// Token requests never follow redirects (oauth2's SSRF warning): callers
/// pass a client from `crate::platform::http`, all built with `redirect(Policy::none())`,
/// and it is used as given (its proxy and TLS settings kept). The answer is
/// read within [`crate::platform::http::TOKEN_BODY_CAP`].
pub(crate) fn http(client: &reqwest::Client) -> super::oauth_http::OAuthHttp {
    super::oauth_http::OAuthHttp::from(client.clone())
}

/// Any oauth2 request error, as a [`SignInError`] in context.
pub(crate) fn request_error<T>(
    cfg: &SignInConfig,
    e: RequestTokenError<HttpClientError<reqwest::Error>, T>,
) -> SignInError
where
    T: ErrorResponse + OAuthError + 'static,
{
    match e {
        RequestTokenError::ServerResponse(r) => classify(r.code(), r.description()).in_context(cfg),
        RequestTokenError::Request(e) => SignInError::Network(transport(&e)),
        // The body may hold a token: only the parser's position is kept.
        // A non-200 answer that is not OAuth JSON: a proxy error page, a
        // captive portal, a 5xx from a gateway.
        RequestTokenError::Parse(e, _) => SignInError::Other {
            code: "unreadable_response".into(),
            description: format!(
                "what came back is not an OAuth answer ({}), perhaps a proxy error page or a captive portal. Check the network and proxy, then retry (sign-in service: {}).",
                match e.path().to_string().as_str() {
                    "." => "not JSON".to_string(),
                    at => format!("unreadable at {at}"),
                },
                cfg.login_url.origin().ascii_serialization(),
            ),
        },
        // oauth2's own sentence names the content type only (an HTML page
        // answered with 200, an empty body), never the body.
        RequestTokenError::Other(text) => SignInError::Other {
            code: "unexpected_response".into(),
            description: format!(
                "what came back is not a token ({text}), perhaps a proxy or captive portal page. Check the network and proxy, then retry (sign-in service: {}).",
                cfg.login_url.origin().ascii_serialization()
            ),
        },
    }
}

fn transport(e: &HttpClientError<reqwest::Error>) -> String {
    match e {
        HttpClientError::Reqwest(e) => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e.as_ref());
            while let Some(s) = source {
                text = format!("{text}: {s}");
                source = s.source();
            }
            text
        }
        other => other.to_string(),
    }
}

/// The `error` and `error_description` of both oauth2 error types.
pub(crate) trait OAuthError {
    fn code(&self) -> &str;
    fn description(&self) -> Option<&str>;
}

impl OAuthError for BasicErrorResponse {
    fn code(&self) -> &str {
        self.error().as_ref()
    }
    fn description(&self) -> Option<&str> {
        self.error_description().map(String::as_str)
    }
}

impl OAuthError for oauth2::DeviceCodeErrorResponse {
    fn code(&self) -> &str {
        self.error().as_ref()
    }
    fn description(&self) -> Option<&str> {
        self.error_description().map(String::as_str)
    }
}

/// The boundary: a token response becomes [`Tokens`] and is dropped.
pub(crate) fn tokens(response: MsTokenResponse, previous_refresh: Option<&Secret>) -> Tokens {
    let lifetime = response.expires_in().unwrap_or(Duration::from_secs(3599));
    let account = response
        .extra_fields()
        .id_token
        .as_deref()
        .map(account_from_id_token)
        .unwrap_or_default();
    let tokens = Tokens {
        access: Secret::new(response.access_token().secret().as_str()),
        expires_at: SystemTime::now() + lifetime,
        // Entra rotates: keep the new one, the old only when none came back.
        refresh: response
            .refresh_token()
            .map(|r| Secret::new(r.secret().as_str()))
            .or_else(|| previous_refresh.cloned()),
        account,
    };
    // The response's copies of the tokens go now, not with the caller's.
    drop(response);
    tokens
}

/// Reads `name`, `preferred_username` and `tid` from an ID token's payload.
/// The signature is NOT checked: the values are only shown to the admin,
/// and the token came straight from the token endpoint over TLS; Graph
/// decides what the access token may do.
pub(crate) fn account_from_id_token(id_token: &str) -> Account {
    let payload = id_token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .unwrap_or_default();
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let text = |k: &str| claims[k].as_str().map(str::to_string);
    Account {
        name: text("name"),
        username: text("preferred_username"),
        tenant_id: text("tid"),
    }
}

/// A token lifetime's refresh margin: five minutes, or half the lifetime
/// when that is shorter (a 2-second sandbox token is still used once).
pub(crate) fn margin(lifetime: Duration) -> Duration {
    (lifetime / 2).min(Duration::from_secs(300))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &serde_json::Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[test]
    fn id_token_claims_become_the_account() {
        let token = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg":"none"})),
            b64(&serde_json::json!({
                "name": "Allan Deyoung",
                "preferred_username": "alland@contoso.com",
                "tid": "520a5d7b-f0fe-5320-84c5-521bdcabbd8c",
            }))
        );
        let a = account_from_id_token(&token);
        assert_eq!(a.name.as_deref(), Some("Allan Deyoung"));
        assert_eq!(a.username.as_deref(), Some("alland@contoso.com"));
        assert_eq!(
            a.tenant_id.as_deref(),
            Some("520a5d7b-f0fe-5320-84c5-521bdcabbd8c")
        );
        assert_eq!(account_from_id_token("garbage"), Account::default());
        assert_eq!(account_from_id_token("a.!!!.c"), Account::default());
    }

    #[test]
    fn margin_is_five_minutes_or_half_the_lifetime() {
        assert_eq!(margin(Duration::from_secs(3599)), Duration::from_secs(300));
        assert_eq!(margin(Duration::from_secs(2)), Duration::from_secs(1));
        assert_eq!(margin(Duration::from_secs(400)), Duration::from_secs(200));
        assert_eq!(margin(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn a_response_without_refresh_token_keeps_the_old_one() {
        let body = serde_json::json!({
            "token_type": "Bearer", "access_token": "acc-123456", "expires_in": 60
        });
        let r: MsTokenResponse = serde_json::from_value(body).unwrap();
        let old = Secret::new("old-refresh-123");
        let t = tokens(r, Some(&old));
        assert_eq!(t.refresh, Some(old));
        assert_eq!(t.access.expose(), "acc-123456");
        let body = serde_json::json!({
            "token_type": "Bearer", "access_token": "acc-123456", "expires_in": 60,
            "refresh_token": "new-refresh-456"
        });
        let r: MsTokenResponse = serde_json::from_value(body).unwrap();
        let t = tokens(r, Some(&Secret::new("old-refresh-123")));
        assert_eq!(t.refresh.unwrap().expose(), "new-refresh-456");
    }
}
