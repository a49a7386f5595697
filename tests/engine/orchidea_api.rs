//! The admin API client against the sandbox workspace, and SCIM round trips shaped like Entra's requests.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::get;
use common::serve;
use orchidea_wizard::Secret;
use orchidea_wizard::sandbox::orchidea::{SharedWorkspace, Workspace, router};
use orchidea_wizard::services::orchidea::{
    HttpOrchideaAdmin, OrchideaAdmin, OrchideaError, pick_idp,
};
use orchidea_wizard::services::probe::{self, ProbeFailure, ProbeOptions};
use serde_json::{Value, json};
use url::Url;

struct Running {
    url: Url,
    admin_token: Secret,
    ws: SharedWorkspace,
    changes: Arc<AtomicUsize>,
}

impl Running {
    fn admin(&self) -> HttpOrchideaAdmin {
        self.admin_with(self.admin_token.clone())
    }

    fn admin_with(&self, token: Secret) -> HttpOrchideaAdmin {
        HttpOrchideaAdmin::new(
            orchidea_wizard::platform::http::loopback_client(),
            self.url.clone(),
            token,
        )
    }

    fn scim_url(&self) -> Url {
        self.url.join("scim/v2").unwrap()
    }

    fn scim(&self, secret: &Secret) -> Scim {
        Scim {
            http: orchidea_wizard::platform::http::loopback_client(),
            base: self.scim_url(),
            secret: secret.clone(),
        }
    }

    async fn secret(&self) -> Secret {
        self.admin()
            .create_scim_secret("idp-entra")
            .await
            .unwrap()
            .secret
    }
}

/// The workspace router on its own listener, as the sandbox mounts it.
async fn start() -> Running {
    let admin_token = Secret::generate(32);
    let ws = Workspace::new_default(&admin_token).into_shared();
    let changes = Arc::new(AtomicUsize::new(0));
    let counter = changes.clone();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url: Url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
        .parse()
        .unwrap();
    let app = router(
        ws.clone(),
        url.clone(),
        Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }),
    );
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Running {
        url,
        admin_token,
        ws,
        changes,
    }
}

/// A SCIM client that sends what Entra sends.
struct Scim {
    http: reqwest::Client,
    base: Url,
    secret: Secret,
}

struct Answer {
    status: u16,
    content_type: String,
    location: Option<String>,
    body: Value,
}

impl Scim {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(self.secret.expose());
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/scim+json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let header_text = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header_text(header::CONTENT_TYPE).unwrap_or_default();
        let location = header_text(header::LOCATION);
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            location,
            body,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn filter(&self, endpoint: &str, filter: &str) -> Answer {
        let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
        self.get(&format!(
            "/{endpoint}?filter={}",
            encoded.replace('+', "%20")
        ))
        .await
    }
}

fn entra_user(user_name: &str, external_id: &str) -> Value {
    // Entra docs, "Create User" request.
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "emails": [{ "primary": true, "type": "work", "value": user_name }],
        "meta": { "resourceType": "User" },
        "name": { "formatted": "Ada Lovelace", "familyName": "Lovelace", "givenName": "Ada" },
        "roles": []
    })
}

fn assert_scim_error(answer: &Answer, status: u16, scim_type: Option<&str>) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert!(answer.content_type.starts_with("application/scim+json"));
    assert_eq!(
        answer.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(answer.body["status"], status.to_string());
    assert_eq!(
        answer.body["scimType"].as_str(),
        scim_type,
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn workspace_and_idps() {
    let ws = start().await;
    let admin = ws.admin();
    let info = admin.workspace().await.unwrap();
    assert_eq!(info.scim_url, ws.scim_url());
    assert!(!info.name.is_empty());
    let idps = admin.list_idps().await.unwrap();
    let names: Vec<&str> = idps.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Microsoft Entra ID",
            "Google Workspace",
            "Orchidea password"
        ]
    );
    let chosen = pick_idp(&idps, None).unwrap();
    assert_eq!((chosen.kind.as_str(), chosen.default), ("entra-id", true));
    assert_eq!(ws.changes.load(Ordering::SeqCst), 0, "reads change nothing");
}

#[tokio::test]
async fn a_created_secret_is_shown_once_then_only_its_last_four() {
    let ws = start().await;
    let admin = ws.admin();
    let created = admin.create_scim_secret("idp-google").await.unwrap();
    assert_eq!(created.secret.expose().len(), 40);
    assert_eq!(created.idp_id, "idp-google");
    assert_eq!(created.scim_url, ws.scim_url());
    assert!(!format!("{created:?}").contains(created.secret.expose()));
    assert_eq!(ws.changes.load(Ordering::SeqCst), 1);

    let listed = admin.list_scim_secrets().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, created.id);
    assert_eq!(listed[0].last4, created.secret.last4());
    assert!(!listed[0].revoked);

    // The raw list response and the stored state never hold the value.
    let raw = orchidea_wizard::platform::http::loopback_client()
        .get(ws.url.join("api/admin/v1/scim/secrets").unwrap())
        .bearer_auth(ws.admin_token.expose())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(raw.contains(&created.secret.last4()));
    assert!(!raw.contains(created.secret.expose()));
    let state = ws.ws.lock().await;
    assert!(!state.dump().to_string().contains(created.secret.expose()));
    assert!(
        !serde_json::to_string(&*state)
            .unwrap()
            .contains(created.secret.expose())
    );
    drop(state);

    // Works as a SCIM bearer.
    let answer = ws.scim(&created.secret).get("/Users").await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn creating_for_an_unknown_idp_is_refused() {
    let ws = start().await;
    let err = ws.admin().create_scim_secret("idp-okta").await.unwrap_err();
    assert!(
        matches!(&err, OrchideaError::Api { status: 400, code, message } if code == "invalid_request" && message.contains("idp-okta")),
        "{err:?}"
    );
}

/// The contract's optional `description`: kept, listed, bounded; a plain
/// create has none.
#[tokio::test]
async fn a_description_given_at_create_is_listed() {
    let ws = start().await;
    let admin = ws.admin();
    let described = admin
        .create_described_scim_secret("idp-entra", "Orchidea SCIM Setup Wizard, run 7")
        .await
        .unwrap();
    let plain = admin.create_scim_secret("idp-entra").await.unwrap();
    let listed = admin.list_scim_secrets().await.unwrap();
    let find = |id: &str| {
        listed
            .iter()
            .find(|s| s.id == id)
            .unwrap()
            .description
            .clone()
    };
    assert_eq!(
        find(&described.id).as_deref(),
        Some("Orchidea SCIM Setup Wizard, run 7")
    );
    assert_eq!(find(&plain.id), None);
    let err = admin
        .create_described_scim_secret("idp-entra", &"x".repeat(201))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, OrchideaError::Api { status: 400, code, .. } if code == "invalid_request"),
        "{err:?}"
    );
    assert_eq!(admin.list_scim_secrets().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_revoked_secret_no_longer_opens_scim() {
    let ws = start().await;
    let admin = ws.admin();
    let created = admin.create_scim_secret("idp-entra").await.unwrap();
    let other = admin.create_scim_secret("idp-entra").await.unwrap();
    assert_eq!(ws.scim(&created.secret).get("/Users").await.status, 200);

    admin.revoke_scim_secret(&created.id).await.unwrap();
    admin.revoke_scim_secret(&created.id).await.unwrap();
    let listed = admin.list_scim_secrets().await.unwrap();
    let revoked = listed.iter().find(|s| s.id == created.id).unwrap();
    assert!(revoked.revoked);
    assert!(!listed.iter().find(|s| s.id == other.id).unwrap().revoked);

    let answer = ws.scim(&created.secret).get("/Users").await;
    assert_scim_error(&answer, 401, None);
    assert_eq!(ws.scim(&other.secret).get("/Users").await.status, 200);

    let http = orchidea_wizard::platform::http::loopback_client();
    let report = probe::probe(
        &http,
        &ws.scim_url(),
        &created.secret,
        &ProbeOptions::default(),
    )
    .await;
    assert_eq!(report.first_failure(), Some(&ProbeFailure::Unauthorized));

    let err = admin.revoke_scim_secret("scs_missing").await.unwrap_err();
    assert_eq!(
        err,
        OrchideaError::SecretNotFound {
            id: "scs_missing".into()
        }
    );
}

#[tokio::test]
async fn a_wrong_admin_token_says_what_to_do() {
    let ws = start().await;
    let wrong = ws.admin_with(Secret::new("not-the-admin-token"));
    for err in [
        wrong.workspace().await.unwrap_err(),
        wrong.list_idps().await.unwrap_err(),
        wrong.create_scim_secret("idp-entra").await.unwrap_err(),
        wrong.list_scim_secrets().await.unwrap_err(),
    ] {
        assert_eq!(err, OrchideaError::TokenRejected);
        let message = err.to_string();
        assert!(message.contains("admin API token"), "{message}");
        assert!(message.contains("manual path"), "{message}");
        assert!(!message.contains("not-the-admin-token"));
    }
    assert!(ws.ws.lock().await.secrets.is_empty(), "nothing was created");
}

#[tokio::test]
async fn a_workspace_url_without_the_api_is_not_found() {
    let ws = start().await;
    let admin = HttpOrchideaAdmin::new(
        orchidea_wizard::platform::http::loopback_client(),
        ws.url.join("somewhere-else/").unwrap(),
        ws.admin_token.clone(),
    );
    let err = admin.workspace().await.unwrap_err();
    assert!(
        matches!(&err, OrchideaError::NotFound { url } if url.ends_with("/somewhere-else/api/admin/v1")),
        "{err:?}"
    );
    assert!(err.to_string().contains("workspace URL"));
}

#[tokio::test]
async fn a_web_page_or_redirect_instead_of_the_api() {
    let html = serve(Router::new().route(
        "/api/admin/v1/workspace",
        get(|| async {
            (
                [(header::CONTENT_TYPE, "text/html")],
                "<html>Sign in</html>",
            )
        }),
    ))
    .await;
    let admin = HttpOrchideaAdmin::new(
        orchidea_wizard::platform::http::loopback_client(),
        html,
        Secret::new("t"),
    );
    let err = admin.workspace().await.unwrap_err();
    assert!(
        matches!(err, OrchideaError::UnexpectedResponse { status: 200, .. }),
        "{err:?}"
    );

    let echo = serve(Router::new().route(
        "/api/admin/v1/workspace",
        get(|headers: axum::http::HeaderMap| async move {
            let auth = headers[header::AUTHORIZATION].to_str().unwrap().to_string();
            (
                [(header::CONTENT_TYPE, "text/plain")],
                format!("no API here; you sent {auth}"),
            )
        }),
    ))
    .await;
    let admin = HttpOrchideaAdmin::new(
        orchidea_wizard::platform::http::loopback_client(),
        echo,
        Secret::new("echoed-admin-token"),
    );
    let message = admin.workspace().await.unwrap_err().to_string();
    assert!(message.contains("<redacted>"), "{message}");
    assert!(!message.contains("echoed-admin-token"), "{message}");

    let moved = serve(Router::new().route(
        "/api/admin/v1/workspace",
        get(|| async {
            (
                StatusCode::FOUND,
                [(header::LOCATION, "https://login.orchidea.example/")],
            )
        }),
    ))
    .await;
    let admin = HttpOrchideaAdmin::new(
        orchidea_wizard::platform::http::loopback_client(),
        moved,
        Secret::new("t"),
    );
    let err = admin.workspace().await.unwrap_err();
    assert_eq!(
        err,
        OrchideaError::Redirected {
            location: "https://login.orchidea.example/".into()
        }
    );

    let closed = {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        l.local_addr().unwrap().port()
    };
    let admin = HttpOrchideaAdmin::new(
        orchidea_wizard::platform::http::loopback_client(),
        format!("http://127.0.0.1:{closed}").parse().unwrap(),
        Secret::new("t"),
    );
    let err = admin.list_idps().await.unwrap_err();
    assert!(matches!(err, OrchideaError::Transport { .. }), "{err:?}");
}

#[tokio::test]
async fn scim_user_lifecycle_as_entra_drives_it() {
    let ws = start().await;
    let scim = ws.scim(&ws.secret().await);
    let before = ws.changes.load(Ordering::SeqCst);

    // Test Connection: a random userName finds nobody.
    let none = scim
        .filter(
            "Users",
            "userName eq \"6a1b3b5e-0000-4000-8000-000000000000\"",
        )
        .await;
    assert_eq!(none.status, 200);
    assert!(none.content_type.starts_with("application/scim+json"));
    assert_eq!(none.body["totalResults"], 0);
    assert_eq!(none.body["Resources"], json!([]));

    // Create.
    let created = scim
        .send(
            reqwest::Method::POST,
            "/Users",
            Some(entra_user("Ada@Contoso.com", "obj-1")),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.content_type.starts_with("application/scim+json"));
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        created.location.as_deref(),
        Some(format!("{}/Users/{id}", ws.scim_url()).as_str())
    );
    assert_eq!(created.body["meta"]["resourceType"], "User");
    assert_eq!(
        created.body["userName"], "Ada@Contoso.com",
        "stored as sent"
    );

    // Matching: userName (case-insensitive) and externalId.
    let by_name = scim
        .filter("Users", "userName eq \"ada@contoso.com\"")
        .await;
    assert_eq!(by_name.body["totalResults"], 1);
    assert_eq!(by_name.body["Resources"][0]["id"], id.as_str());
    let by_external = scim.filter("Users", "externalId eq \"obj-1\"").await;
    assert_eq!(by_external.body["totalResults"], 1);
    let by_mail = scim
        .filter(
            "Users",
            "emails[type eq \"work\"].value eq \"Ada@Contoso.com\"",
        )
        .await;
    assert_eq!(by_mail.body["totalResults"], 1);

    // Uniqueness on userName ignores case.
    let dup = scim
        .send(
            reqwest::Method::POST,
            "/Users",
            Some(entra_user("ADA@contoso.com", "obj-2")),
        )
        .await;
    assert_scim_error(&dup, 409, Some("uniqueness"));

    // Disable the way Entra does without aadOptscim062020.
    let patched = scim
        .send(
            reqwest::Method::PATCH,
            &format!("/Users/{id}"),
            Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                    {"op": "Replace", "path": "active", "value": "False"},
                    {"op": "Replace", "path": "name.familyName", "value": "Byron"},
                    {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ada@byron.example"}
                ]
            })),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["active"], false);
    assert_eq!(patched.body["name"]["familyName"], "Byron");
    assert_eq!(patched.body["name"]["givenName"], "Ada");
    assert_eq!(patched.body["emails"][0]["value"], "ada@byron.example");
    let inactive = scim.filter("Users", "active eq false").await;
    assert_eq!(inactive.body["totalResults"], 1);

    // Replace.
    let mut replacement = entra_user("ada.lovelace@contoso.com", "obj-1");
    replacement["name"] = json!({"givenName": "Augusta", "familyName": "King"});
    let put = scim
        .send(
            reqwest::Method::PUT,
            &format!("/Users/{id}"),
            Some(replacement),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["userName"], "ada.lovelace@contoso.com");
    assert_eq!(put.body["active"], true);
    assert_eq!(put.body["meta"]["created"], created.body["meta"]["created"]);
    let got = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["name"]["givenName"], "Augusta");

    // The workspace stores what SCIM returns.
    let stored = ws.ws.lock().await.dump();
    assert_eq!(stored["users"][0]["userName"], "ada.lovelace@contoso.com");

    // Delete.
    let deleted = scim
        .send(reqwest::Method::DELETE, &format!("/Users/{id}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    assert_scim_error(&scim.get(&format!("/Users/{id}")).await, 404, None);
    assert_scim_error(
        &scim
            .send(reqwest::Method::DELETE, &format!("/Users/{id}"), None)
            .await,
        404,
        None,
    );
    assert!(ws.ws.lock().await.users.is_empty());
    // POST, PATCH, PUT, DELETE each told the owner to persist.
    assert_eq!(ws.changes.load(Ordering::SeqCst) - before, 4);
}

#[tokio::test]
async fn invalid_filters_and_bad_bodies_are_scim_errors() {
    let ws = start().await;
    let scim = ws.scim(&ws.secret().await);
    for filter in [
        "userName",
        "userName eq",
        "userName like \"a\"",
        "(userName eq \"a\"",
    ] {
        let answer = scim.filter("Users", filter).await;
        assert_scim_error(&answer, 400, Some("invalidFilter"));
        assert!(
            answer.body["detail"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
    }
    let no_name = scim
        .send(
            reqwest::Method::POST,
            "/Users",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "externalId": "x"})),
        )
        .await;
    assert_scim_error(&no_name, 400, Some("invalidValue"));
    let bad_op = scim
        .send(
            reqwest::Method::PATCH,
            "/Users/none",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "Replace", "path": "active", "value": false}]}),
            ),
        )
        .await;
    assert_scim_error(&bad_op, 404, None);
}

#[tokio::test]
async fn paging_follows_start_index_and_count() {
    let ws = start().await;
    let scim = ws.scim(&ws.secret().await);
    for i in 0..5 {
        let answer = scim
            .send(
                reqwest::Method::POST,
                "/Users",
                Some(entra_user(
                    &format!("user{i}@contoso.com"),
                    &format!("obj-{i}"),
                )),
            )
            .await;
        assert_eq!(answer.status, 201);
    }
    let page = scim.get("/Users?startIndex=2&count=2").await;
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["itemsPerPage"], 2);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["Resources"][0]["userName"], "user1@contoso.com");
    assert_eq!(
        page.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    let past_end = scim.get("/Users?startIndex=9").await;
    assert_eq!(past_end.body["totalResults"], 5);
    assert_eq!(past_end.body["Resources"], json!([]));
}

#[tokio::test]
async fn groups_as_entra_queries_them() {
    let ws = start().await;
    let scim = ws.scim(&ws.secret().await);
    let user = scim
        .send(
            reqwest::Method::POST,
            "/Users",
            Some(entra_user("g@contoso.com", "obj-g")),
        )
        .await;
    let user_id = user.body["id"].as_str().unwrap().to_string();
    let group = scim
        .send(
            reqwest::Method::POST,
            "/Groups",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "externalId": "grp-1", "displayName": "Innovators", "meta": {"resourceType": "Group"}
            })),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    assert_eq!(group.body["members"], json!([]));
    let group_id = group.body["id"].as_str().unwrap().to_string();

    let added = scim
        .send(
            reqwest::Method::PATCH,
            &format!("/Groups/{group_id}"),
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": null, "value": user_id}]}]})),
        )
        .await;
    assert_eq!(added.status, 204);

    let found = scim
        .get("/Groups?excludedAttributes=members&filter=displayName%20eq%20%22innovators%22")
        .await;
    assert_eq!(found.body["totalResults"], 1);
    assert!(found.body["Resources"][0].get("members").is_none());
    let full = scim.get(&format!("/Groups/{group_id}")).await;
    assert_eq!(full.body["members"][0]["value"], user_id.as_str());

    let dup = scim
        .send(
            reqwest::Method::POST,
            "/Groups",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "INNOVATORS"})),
        )
        .await;
    assert_scim_error(&dup, 409, Some("uniqueness"));

    let removed = scim
        .send(
            reqwest::Method::PATCH,
            &format!("/Groups/{group_id}"),
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "Remove", "path": "members", "value": [{"value": user_id}]}]})),
        )
        .await;
    assert_eq!(removed.status, 204);
    assert_eq!(
        scim.get(&format!("/Groups/{group_id}")).await.body["members"],
        json!([])
    );
}

#[tokio::test]
async fn scim_needs_a_bearer_and_serves_discovery() {
    let ws = start().await;
    let http = orchidea_wizard::platform::http::loopback_client();
    let anonymous = http
        .get(format!("{}/Users", ws.scim_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key(header::WWW_AUTHENTICATE));

    let scim = ws.scim(&ws.secret().await);
    let config = scim.get("/ServiceProviderConfig").await;
    assert_eq!(config.status, 200);
    assert_eq!(config.body["patch"]["supported"], true);
    assert_eq!(config.body["filter"]["supported"], true);
    let schemas = scim.get("/Schemas").await;
    // Every schema /ResourceTypes names, the enterprise extension included.
    assert_eq!(schemas.body["totalResults"], 3);
    let types = scim.get("/ResourceTypes").await;
    let endpoints: Vec<&str> = types.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(endpoints, ["/Users", "/Groups"]);
    assert_scim_error(&scim.get("/Nothing").await, 404, None);
}
