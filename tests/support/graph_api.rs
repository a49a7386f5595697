//! A bare HTTP caller for the sandbox's Graph, independent of the wizard's
//! Graph client: what the sandbox tests speak.

use orchidea_wizard::sandbox::Sandbox;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/graph/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Api {
    pub fn new(sandbox: &Sandbox) -> Api {
        Api {
            http: orchidea_wizard::platform::http::loopback_client(),
            base: sandbox.graph_url.as_str().trim_end_matches('/').to_string(),
            token: sandbox.graph_token.expose().to_string(),
        }
    }

    /// `path` under the Graph base, or a whole URL (a next link).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            request = request
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        answer(request).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Every item of a collection, following `@odata.nextLink`; and the pages.
    pub async fn get_all(&self, path: &str) -> (Vec<Value>, usize) {
        let (mut items, mut pages, mut next) = (Vec::new(), 0, Some(path.to_string()));
        while let Some(url) = next.take() {
            let a = self.get(&url).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            items.extend(a.body["value"].as_array().unwrap().clone());
            next = a.body["@odata.nextLink"].as_str().map(str::to_string);
            pages += 1;
        }
        (items, pages)
    }

    pub async fn sp_id(&self, name: &str) -> String {
        let (sps, _) = self.get_all("/servicePrincipals").await;
        let sp = sps.iter().find(|s| s["displayName"] == name).unwrap();
        sp["id"].as_str().unwrap().to_string()
    }
}

pub async fn answer(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    }
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
