//! What the sandbox's SCIM endpoint answers to a secret: how a test sees
//! which secrets Orchidea accepts (200) or refuses (401), not through the
//! wizard.

use orchidea_wizard::Secret;
use orchidea_wizard::sandbox::Sandbox;

/// What the sandbox's SCIM endpoint answers to `secret`.
pub async fn scim_status(sandbox: &Sandbox, secret: &Secret) -> u16 {
    orchidea_wizard::platform::http::loopback_client()
        .get(format!(
            "{}/Users",
            sandbox.scim_url.as_str().trim_end_matches('/')
        ))
        .bearer_auth(secret.expose())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
