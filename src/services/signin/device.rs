//! Device code (`v2-oauth2-device-code.md`): the fallback when no browser
//! can reach the loopback listener. oauth2 polls; Entra's `message` is
//! kept through [`MsDeviceFields`](super::protocol::MsDeviceFields).

use oauth2::{DeviceAuthorizationResponse, Scope};
use url::Url;

use super::errors::SignInError;
use super::protocol::{self, MsDeviceFields};
use super::{DeviceCodePrompt, SignInConfig, Tokens};

pub(super) async fn sign_in(
    cfg: &SignInConfig,
    http: &reqwest::Client,
    on_prompt: &(dyn Fn(&DeviceCodePrompt) + Send + Sync),
) -> Result<Tokens, SignInError> {
    let client = protocol::client(cfg)?;
    let oauth_http = protocol::http(http);
    let details: DeviceAuthorizationResponse<MsDeviceFields> = client
        .exchange_device_code()
        .add_scopes(cfg.scopes().into_iter().map(Scope::new))
        .request_async(&oauth_http)
        .await
        .map_err(|e| protocol::request_error(cfg, e))?;
    let verification_uri =
        Url::parse(details.verification_uri().as_str()).map_err(|e| SignInError::Other {
            code: "invalid_verification_uri".into(),
            description: format!("the sign-in page address is not valid ({e})."),
        })?;
    let user_code = details.user_code().secret().clone();
    let message = details.extra_fields().message.clone().unwrap_or_else(|| {
        format!("To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate.")
    });
    on_prompt(&DeviceCodePrompt {
        user_code,
        verification_uri,
        message,
        expires_in: details.expires_in(),
    });
    let response = client
        .exchange_device_access_token(&details)
        .request_async(&oauth_http, tokio::time::sleep, Some(details.expires_in()))
        .await
        .map_err(|e| protocol::request_error(cfg, e))?;
    Ok(protocol::tokens(response, None))
}
