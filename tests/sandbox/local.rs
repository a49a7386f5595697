//! Helpers only the sandbox tests use: Graph fixtures, a SCIM secret from
//! the admin API, and the built-in Orchidea app's job.

use orchidea_wizard::sandbox::Sandbox;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::graph_api::{Api, answer};

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/graph/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A new SCIM secret from the sandbox's Orchidea admin API.
pub async fn orchidea_secret(sandbox: &Sandbox) -> String {
    let a = answer(
        orchidea_wizard::platform::http::loopback_client()
            .post(format!("{}api/admin/v1/scim/secrets", sandbox.orchidea_url))
            .bearer_auth(sandbox.admin_token.expose())
            .json(&json!({ "idpId": "idp-entra" })),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body["secret"].as_str().unwrap().to_string()
}

/// The Orchidea app of the built-in tenant.
pub const ORCHIDEA_SP: &str = "05c8b40c-74e4-50c9-bd7c-a7a608f5205c";

/// A path under the Orchidea app's job.
pub fn job_path(job: &str, tail: &str) -> String {
    format!("/servicePrincipals/{ORCHIDEA_SP}/synchronization/jobs/{job}{tail}")
}

/// Saves the job's secrets: the Orchidea credentials, `SyncAll` and an
/// accidental-deletions threshold (`None`: the check off), as the portal's
/// "Prevent accidental deletions" saves it in `SyncNotificationSettings`.
pub async fn save_scope(
    api: &Api,
    sandbox: &Sandbox,
    secret: &str,
    all: bool,
    threshold: Option<u32>,
) {
    let notifications = json!({
        "Enabled": false,
        "Recipients": "",
        "DeleteThresholdEnabled": threshold.is_some(),
        "DeleteThresholdValue": threshold.unwrap_or(500),
    });
    let secrets = json!({"value": [
        {"key": "BaseAddress", "value": sandbox.scim_url.as_str()},
        {"key": "SecretToken", "value": secret},
        {"key": "SyncAll", "value": all.to_string()},
        {"key": "SyncNotificationSettings", "value": notifications.to_string()},
    ]});
    let put = api
        .call(
            Method::PUT,
            &format!("/servicePrincipals/{ORCHIDEA_SP}/synchronization/secrets"),
            Some(secrets),
        )
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.body);
}
