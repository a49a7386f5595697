//! SCIM secrets that expire (tenant file `orchidea.secretLifetimeDays`):
//! created with `expiresAt`, and refused by Orchidea's SCIM endpoint with 401
//! once past it, like a revoked one (assumed: `docs/orchidea-admin-api.md`).

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::common::graph_api::answer;
use crate::local::orchidea_secret;
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn start(tenant: Option<&Path>, state: &Path) -> Sandbox {
    Sandbox::start(SandboxOptions {
        tenant_file: tenant.map(Path::to_path_buf),
        state_file: Some(state.to_path_buf()),
        ..SandboxOptions::default()
    })
    .await
    .unwrap()
}

/// `GET /Users` with `secret` as the bearer: the status and the body.
async fn scim_users(sandbox: &Sandbox, secret: &str) -> (StatusCode, Value) {
    let a = answer(
        orchidea_wizard::platform::http::loopback_client()
            .get(format!("{}/Users?count=1", sandbox.scim_url))
            .bearer_auth(secret),
    )
    .await;
    (a.status, a.body)
}

async fn listed(sandbox: &Sandbox) -> Vec<Value> {
    let a = answer(
        orchidea_wizard::platform::http::loopback_client()
            .get(format!("{}api/admin/v1/scim/secrets", sandbox.orchidea_url))
            .bearer_auth(sandbox.admin_token.expose()),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body["items"].as_array().unwrap().clone()
}

fn time(v: &Value) -> SystemTime {
    humantime::parse_rfc3339_weak(v.as_str().unwrap().trim_end_matches('Z')).unwrap()
}

#[tokio::test]
async fn an_expired_secret_gets_401_and_a_live_one_200() {
    let dir = tempfile::tempdir().unwrap();
    let mut tenant = crate::common::default_tenant();
    tenant["orchidea"]["secretLifetimeDays"] = json!(20);
    let tenant_path = dir.path().join("tenant.json");
    std::fs::write(&tenant_path, tenant.to_string()).unwrap();
    let state = dir.path().join("state.json");

    let sandbox = start(Some(&tenant_path), &state).await;
    let old = orchidea_secret(&sandbox).await;
    let fresh = orchidea_secret(&sandbox).await;
    // The web UI stand-in's secrets expire the same way.
    let page = answer(
        orchidea_wizard::platform::http::loopback_client()
            .post(format!(
                "{}{}",
                sandbox.orchidea_url.as_str().trim_end_matches('/'),
                orchidea_wizard::sandbox::webui::PATH
            ))
            .form(&[("idp", "idp-entra")]),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    // The page lists each secret's expiry, as the wizard tells admins it does.
    let html = orchidea_wizard::platform::http::loopback_client()
        .get(format!(
            "{}{}",
            sandbox.orchidea_url.as_str().trim_end_matches('/'),
            orchidea_wizard::sandbox::webui::PATH
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(html.matches(" — expires 20").count(), 3, "{html}");
    let items = listed(&sandbox).await;
    assert_eq!(items.len(), 3, "{items:?}");
    for item in &items {
        let lifetime = time(&item["expiresAt"])
            .duration_since(time(&item["createdAt"]))
            .unwrap();
        assert_eq!(lifetime, Duration::from_secs(20 * 86_400), "{item}");
    }
    assert_eq!(scim_users(&sandbox, &old).await.0, StatusCode::OK);
    let old_id = items[0]["id"].as_str().unwrap().to_string();
    sandbox.shutdown().await;

    // A day later than its expiry, as far as the state file says.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let secrets = doc["orchidea"]["secrets"].as_array_mut().unwrap();
    let kept = secrets
        .iter_mut()
        .find(|s| s["id"] == old_id.as_str())
        .unwrap();
    let yesterday = SystemTime::now() - Duration::from_secs(86_400);
    kept["expiresAt"] = json!(humantime::format_rfc3339_seconds(yesterday).to_string());
    std::fs::write(&state, doc.to_string()).unwrap();

    let sandbox = start(None, &state).await;
    let (status, body) = scim_users(&sandbox, &old).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["status"], "401", "{body}");
    assert_eq!(scim_users(&sandbox, &fresh).await.0, StatusCode::OK);
    // Listed as it is: not revoked, past its expiry.
    let items = listed(&sandbox).await;
    let old_item = items.iter().find(|i| i["id"] == old_id.as_str()).unwrap();
    assert_eq!(old_item["revoked"], false);
    assert!(time(&old_item["expiresAt"]) < SystemTime::now());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn without_a_lifetime_secrets_do_not_expire() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(None, &dir.path().join("state.json")).await;
    let secret = orchidea_secret(&sandbox).await;
    let items = listed(&sandbox).await;
    assert!(items[0]["expiresAt"].is_null(), "{items:?}");
    assert_eq!(scim_users(&sandbox, &secret).await.0, StatusCode::OK);
    sandbox.shutdown().await;
}
