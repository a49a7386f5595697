//! The sandbox's Graph and provisioning over plain HTTP on 127.0.0.1, independent of the wizard's Graph client.

use std::collections::BTreeSet;

use orchidea_wizard::Secret;
use orchidea_wizard::sandbox::{Sandbox, SandboxError, SandboxOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common;

use crate::local::*;
use common::graph_api::*;

const ORCHIDEA: &str = "Orchidea";
const OIDC: &str = "Orchidea (OIDC app registration)";

/// The Orchidea app with a job and saved credentials; `schema` replaces the template's.
async fn configure(
    api: &Api,
    base: &str,
    token: &str,
    sync_all: bool,
    schema: Option<Value>,
) -> (String, String) {
    let sp = api.sp_id(ORCHIDEA).await;
    let job = api
        .call(
            Method::POST,
            &format!("/servicePrincipals/{sp}/synchronization/jobs"),
            Some(json!({"templateId": "scim"})),
        )
        .await;
    assert_eq!(job.status, StatusCode::CREATED, "{}", job.body);
    let job_id = job.body["id"].as_str().unwrap().to_string();
    configure_secrets(api, &sp, base, token, sync_all).await;
    if let Some(schema) = schema {
        let path = format!("/servicePrincipals/{sp}/synchronization/jobs/{job_id}/schema");
        assert_eq!(
            api.call(Method::PUT, &path, Some(schema)).await.status,
            StatusCode::NO_CONTENT
        );
    }
    (sp, job_id)
}

async fn start(api: &Api, sandbox: &Sandbox, sp: &str, job: &str) {
    let a = api
        .call(
            Method::POST,
            &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/start"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.body);
    sandbox.wait_idle().await;
}

fn users(dump: &Value) -> Vec<Value> {
    dump["entra"]["users"].as_array().unwrap().clone()
}

/// Ids of users assigned to the Orchidea app, directly or through a group.
fn assigned(dump: &Value) -> BTreeSet<String> {
    let sp = dump["entra"]["servicePrincipals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["displayName"] == ORCHIDEA)
        .unwrap();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    let mut ids: BTreeSet<String> = strings(&sp["assignments"]["users"]).into_iter().collect();
    for g in dump["entra"]["groups"].as_array().unwrap() {
        if strings(&sp["assignments"]["groups"]).contains(&g["id"].as_str().unwrap().to_string()) {
            ids.extend(strings(&g["members"]));
        }
    }
    ids
}

fn scim_user_names(users: &[Value]) -> BTreeSet<String> {
    users
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_lowercase())
        .collect()
}

fn mails_of(dump: &Value, ids: impl Fn(&str) -> bool) -> BTreeSet<String> {
    users(dump)
        .iter()
        .filter(|u| ids(u["id"].as_str().unwrap()))
        .filter_map(|u| u["mail"].as_str().map(str::to_lowercase))
        .collect()
}

#[tokio::test]
async fn every_request_needs_the_bearer_and_errors_have_the_graph_shape() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let http = orchidea_wizard::platform::http::loopback_client();
    let url = format!("{}/servicePrincipals", sandbox.graph_url);
    let none = answer(http.get(&url).header("client-request-id", "my-call-1")).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    let error = &none.body["error"];
    assert_eq!(error["code"], "InvalidAuthenticationToken");
    assert_eq!(error["innerError"]["client-request-id"], "my-call-1");
    let request_id = error["innerError"]["request-id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(request_id).is_ok());
    assert_eq!(none.headers["request-id"], request_id);
    assert_eq!(none.headers["client-request-id"], "my-call-1");
    assert!(error["innerError"]["date"].as_str().unwrap().ends_with('Z'));
    assert!(none.headers.contains_key("www-authenticate"));

    let wrong = answer(http.get(&url).bearer_auth("not-the-token")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body["error"]["code"], "InvalidAuthenticationToken");

    let api = Api::new(&sandbox);
    let ok = api.get("/servicePrincipals").await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(uuid::Uuid::parse_str(ok.headers["client-request-id"].to_str().unwrap()).is_ok());
    let unknown = api.get("/notAThing").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("notAThing")
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn service_principals_filter_search_select_and_page() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let (orch, pages) = api
        .get_all("/servicePrincipals?$filter=startswith(displayName,'orch')&$select=id,displayName,tags&$top=1")
        .await;
    assert_eq!(
        pages, 2,
        "one per page, the second reached through @odata.nextLink"
    );
    let names: BTreeSet<&str> = orch
        .iter()
        .map(|s| s["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from([ORCHIDEA, OIDC]));
    assert!(
        orch[0].get("appId").is_none(),
        "$select keeps only what was asked"
    );
    assert!(orch[0]["tags"].is_array());

    let (all, pages) = api.get_all("/servicePrincipals?$top=3").await;
    assert_eq!((all.len(), pages), (4, 2));
    let app_id = all.iter().find(|s| s["displayName"] == ORCHIDEA).unwrap()["appId"]
        .as_str()
        .unwrap()
        .to_string();
    let by_app = api
        .get(&format!("/servicePrincipals?$filter=appId eq '{app_id}'"))
        .await;
    assert_eq!(by_app.body["value"].as_array().unwrap().len(), 1);

    let bad = api
        .get("/servicePrincipals?$filter=contains(displayName,'Orch')")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["error"]["code"], "Request_UnsupportedQuery");

    let search = "/servicePrincipals?$search=\"displayName:HR\"";
    let refused = api.get(search).await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "$search needs ConsistencyLevel"
    );
    let found = answer(
        api.http
            .get(api.url(search))
            .bearer_auth(&api.token)
            .header("ConsistencyLevel", "eventual"),
    )
    .await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body["value"][0]["displayName"], "Contoso HR Portal");

    let id = all[0]["id"].as_str().unwrap();
    let one = api
        .get(&format!("/servicePrincipals/{id}?$select=displayName"))
        .await;
    assert_eq!(one.body["displayName"], all[0]["displayName"]);
    let missing = api
        .get("/servicePrincipals/00000000-0000-0000-0000-000000000001")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["error"]["code"], "Request_ResourceNotFound");
}

#[tokio::test]
async fn users_groups_and_assignments_are_readable() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let (all, pages) = api.get_all("/users?$top=10").await;
    assert_eq!((all.len(), pages), (28, 3));
    assert!(
        all[0].get("accountEnabled").is_none(),
        "not in Graph's default properties"
    );
    let (a, _) = api
        .get_all(
            "/users?$filter=startswith(displayName,'a')&$select=displayName,mail,accountEnabled",
        )
        .await;
    let names: BTreeSet<&str> = a
        .iter()
        .map(|u| u["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "Adele Vance",
            "Alex Wilber",
            "Allan Deyoung",
            "Amara Okafor"
        ])
    );
    assert!(a.iter().all(|u| u["accountEnabled"].is_boolean()));
    let (by_mail, _) = api
        .get_all("/users?$filter=startswith(mail,'meganb')")
        .await;
    assert_eq!(by_mail.len(), 1);

    let sp = api.sp_id(ORCHIDEA).await;
    let (assignments, _) = api
        .get_all(&format!("/servicePrincipals/{sp}/appRoleAssignedTo"))
        .await;
    let kinds: Vec<&str> = assignments
        .iter()
        .map(|a| a["principalType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["User", "User", "User", "Group"]);
    assert!(assignments.iter().all(|a| a["resourceId"] == sp.as_str()));
    let group = assignments[3]["principalId"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("/groups/{group}")).await.body["displayName"],
        "Innovation Team"
    );
    let (members, _) = api.get_all(&format!("/groups/{group}/members")).await;
    assert_eq!(members.len(), 7);
    assert_eq!(members[0]["@odata.type"], "#microsoft.graph.user");
    let (groups, _) = api.get_all("/groups").await;
    assert_eq!(groups.len(), 3);
}

#[tokio::test]
async fn templates_say_which_app_can_provision() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let sp = api.sp_id(ORCHIDEA).await;
    let t = api
        .get(&format!(
            "/servicePrincipals/{sp}/synchronization/templates"
        ))
        .await;
    assert_eq!(t.status, StatusCode::OK);
    let value = t.body["value"].as_array().unwrap();
    assert_eq!(value.len(), 1);
    assert_eq!(value[0]["id"], "scim");
    assert_eq!(value[0]["factoryTag"], "scim");
    assert_eq!(value[0]["schema"], fixture("schema-scim-default.json"));
    let oidc = api.sp_id(OIDC).await;
    let t = api
        .get(&format!(
            "/servicePrincipals/{oidc}/synchronization/templates"
        ))
        .await;
    assert_eq!(t.status, StatusCode::OK);
    assert_eq!(t.body["value"], json!([]));
}

#[tokio::test]
async fn jobs_are_made_from_offered_templates_only() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let sp = api.sp_id(ORCHIDEA).await;
    let jobs = format!("/servicePrincipals/{sp}/synchronization/jobs");
    let made = api
        .call(Method::POST, &jobs, Some(json!({"templateId": "scim"})))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_string();
    let parts: Vec<&str> = id.split('.').collect();
    assert_eq!(parts[0], "scim");
    assert!(
        parts[1].len() == 32 && parts[1].chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
    assert!(uuid::Uuid::parse_str(parts[2]).is_ok(), "{id}");
    assert_eq!(made.body["status"]["code"], "NotConfigured");
    assert_eq!(made.body["schedule"]["state"], "Disabled");
    assert_eq!(made.body["templateId"], "scim");

    let listed = api.get(&jobs).await;
    assert_eq!(listed.body["value"][0]["id"], id.as_str());
    assert_eq!(
        api.get(&format!("{jobs}/{id}")).await.body["id"],
        id.as_str()
    );

    let unknown = api
        .call(
            Method::POST,
            &jobs,
            Some(json!({"templateId": "salesforce"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let oidc = api.sp_id(OIDC).await;
    let refused = api
        .call(
            Method::POST,
            &format!("/servicePrincipals/{oidc}/synchronization/jobs"),
            Some(json!({"templateId": "scim"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let no_body = api.call(Method::POST, &jobs, Some(json!({}))).await;
    assert_eq!(no_body.status, StatusCode::BAD_REQUEST);

    let missing = api
        .get(&format!(
            "{jobs}/scim.00000000000000000000000000000000.nope"
        ))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["error"]["code"], "ResourceNotFound");
    assert!(missing.body["error"]["innerError"]["request-id"].is_string());

    assert_eq!(
        api.call(Method::DELETE, &format!("{jobs}/{id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.get(&format!("{jobs}/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_schema_is_the_template_and_a_put_is_stored_exactly() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let (sp, job) = configure(&api, "http://127.0.0.1:9/scim", "t", false, None).await;
    let path = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/schema");
    let got = api.get(&path).await;
    assert_eq!(got.body, fixture("schema-scim-default.json"));

    let configured = fixture("schema-orchidea-configured.json");
    assert_eq!(
        api.call(Method::PUT, &path, Some(configured.clone()))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let text = api
        .http
        .get(api.url(&path))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, configured.to_string(), "same keys in the same order");

    let mut partial = configured.clone();
    partial
        .as_object_mut()
        .unwrap()
        .remove("synchronizationRules");
    let refused = api.call(Method::PUT, &path, Some(partial)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("synchronizationRules")
    );
    assert_eq!(
        api.get(&path).await.body,
        configured,
        "a refused PUT changes nothing"
    );
}

#[tokio::test]
async fn secrets_are_replaced_as_a_set_and_tokens_read_back_masked() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let (sp, _) = configure(
        &api,
        "https://acme.orchidea.com/scim/v2",
        "tok-secret-value",
        false,
        None,
    )
    .await;
    let path = format!("/servicePrincipals/{sp}/synchronization/secrets");
    let got = api.get(&path).await;
    assert_eq!(
        got.body["value"],
        json!([
            {"key": "BaseAddress", "value": "https://acme.orchidea.com/scim/v2"},
            {"key": "SecretToken", "value": "*"},
            {"key": "SyncAll", "value": "false"},
        ])
    );
    let put = api
        .call(Method::PUT, &path, Some(json!({"value": [{"key": "SyncNotificationSettings", "value": "{\"Enabled\":false}"}]})))
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT);
    let keys: Vec<String> = api.get(&path).await.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        keys,
        ["SyncNotificationSettings"],
        "the PUT replaced the whole set"
    );

    let bad_sync_all = api
        .call(
            Method::PUT,
            &path,
            Some(json!({"value": [{"key": "SyncAll", "value": "yes"}]})),
        )
        .await;
    assert_eq!(bad_sync_all.status, StatusCode::BAD_REQUEST);
    let outside = api
        .call(
            Method::PUT,
            &path,
            Some(json!({"value": [{"key": "TenantUrl", "value": "x"}]})),
        )
        .await;
    assert_eq!(outside.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        outside.body["error"]["message"],
        "Requested value 'TenantUrl' was not found."
    );
    let dump = sandbox.dump().await.to_string();
    assert!(!dump.contains("tok-secret-value"), "dump masks the token");
}

#[tokio::test]
async fn test_connection_really_calls_the_scim_endpoint() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let secret = orchidea_secret(&sandbox).await;
    let scim = sandbox.scim_url.as_str();
    let (sp, job) = configure(&api, scim, &secret, false, None).await;
    let path = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/validateCredentials");
    let creds = |token: &str| {
        json!({"useSavedCredentials": false, "credentials": [
            {"key": "BaseAddress", "value": scim}, {"key": "SecretToken", "value": token}]})
    };
    assert_eq!(
        api.call(Method::POST, &path, Some(creds(&secret)))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let saved = api
        .call(
            Method::POST,
            &path,
            Some(json!({"useSavedCredentials": true})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::NO_CONTENT, "{}", saved.body);

    let wrong = api
        .call(Method::POST, &path, Some(creds("wrong-token-abcdef")))
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong.body["error"]["code"],
        "CredentialValidationUnavailable"
    );
    let message = wrong.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("401"), "{message}");
    assert!(
        !message.contains("wrong-token-abcdef"),
        "never the token: {message}"
    );

    let outside = json!({"credentials": [{"key": "TenantUrl", "value": scim}]});
    let outside = api.call(Method::POST, &path, Some(outside)).await;
    assert_eq!(outside.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        outside.body["error"]["message"],
        "Requested value 'TenantUrl' was not found."
    );

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!(
            "http://127.0.0.1:{}/scim/v2",
            l.local_addr().unwrap().port()
        )
    };
    let body = json!({"credentials": [{"key": "BaseAddress", "value": closed}, {"key": "SecretToken", "value": secret}]});
    let unreachable = api.call(Method::POST, &path, Some(body)).await;
    assert_eq!(unreachable.status, StatusCode::BAD_REQUEST);
    assert!(
        unreachable.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("could not be reached")
    );
}

#[tokio::test]
async fn start_provisions_assigned_users_with_mail_under_the_orchidea_mapping() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let secret = orchidea_secret(&sandbox).await;
    let schema = fixture("schema-orchidea-configured.json");
    let (sp, job) = configure(
        &api,
        sandbox.scim_url.as_str(),
        &secret,
        false,
        Some(schema),
    )
    .await;
    start(&api, &sandbox, &sp, &job).await;

    let dump = sandbox.dump().await;
    let in_scope = assigned(&dump);
    let expected = mails_of(&dump, |id| in_scope.contains(id));
    let scim = dump["orchidea"]["users"].as_array().unwrap().clone();
    assert_eq!(expected.len(), 7);
    assert_eq!(scim_user_names(&scim), expected);
    for u in &scim {
        let entra = users(&dump)
            .into_iter()
            .find(|e| e["id"] == u["externalId"])
            .expect("externalId = objectId");
        assert_eq!(u["name"]["givenName"], entra["givenName"]);
        assert_eq!(
            u["active"], entra["accountEnabled"],
            "disabled users arrive inactive"
        );
    }
    let record = &dump["entra"]["jobs"][0]["job"];
    assert_eq!(record["status"]["code"], "Active");
    assert_eq!(record["schedule"]["state"], "Active");
    let last = &record["status"]["lastExecution"];
    // The two assigned users without mail have an empty first matching
    // attribute (userName ← mail), so Entra skips them.
    let log = dump["entra"]["provisioningLog"].as_array().unwrap();
    let skipped: Vec<&Value> = log.iter().filter(|e| e["status"] == "skipped").collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped.iter().all(|e| {
        e["action"] == "Skip"
            && e["reason"]
                .as_str()
                .unwrap()
                .contains("matching attribute empty")
            && e["reason"].as_str().unwrap().contains("userName")
    }));
    assert!(log.iter().all(|e| e["status"] != "failure"), "{log:?}");
    assert_eq!(last["state"], "Succeeded");
    // 7 users and the assigned group (Innovation Team), which the group
    // mapping provisions after them.
    assert_eq!(last["countExported"], 8);
    assert_eq!(last["countEntitled"], 10);
    assert_eq!(
        record["status"]["synchronizedEntryCountByType"],
        json!([{"key": "User", "value": 7}, {"key": "Group", "value": 1}])
    );
    assert_ne!(
        record["status"]["steadyStateLastAchievedTime"],
        "0001-01-01T00:00:00Z"
    );
    // The job as Graph returns it says the same.
    let got = api
        .get(&format!(
            "/servicePrincipals/{sp}/synchronization/jobs/{job}"
        ))
        .await;
    assert_eq!(got.body["status"]["lastExecution"]["state"], "Succeeded");
}

#[tokio::test]
async fn users_whose_matching_attributes_are_all_empty_are_skipped() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let secret = orchidea_secret(&sandbox).await;
    // Only userName ← mail matches: externalId no longer does.
    let mut schema = fixture("schema-orchidea-configured.json");
    for rule in schema["synchronizationRules"].as_array_mut().unwrap() {
        for m in rule["objectMappings"].as_array_mut().unwrap() {
            for a in m["attributeMappings"].as_array_mut().unwrap() {
                if a["targetAttributeName"] == "externalId" {
                    a["matchingPriority"] = json!(0);
                }
            }
        }
    }
    let (sp, job) = configure(
        &api,
        sandbox.scim_url.as_str(),
        &secret,
        false,
        Some(schema),
    )
    .await;
    start(&api, &sandbox, &sp, &job).await;
    let dump = sandbox.dump().await;
    assert_eq!(dump["orchidea"]["users"].as_array().unwrap().len(), 7);
    let log = dump["entra"]["provisioningLog"].as_array().unwrap();
    let skipped: BTreeSet<&str> = log
        .iter()
        .filter(|e| e["action"] == "Skip" && e["status"] == "skipped")
        .inspect(|e| {
            assert!(
                e["reason"]
                    .as_str()
                    .unwrap()
                    .contains("matching attribute empty")
            );
        })
        .map(|e| e["userDisplayName"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, BTreeSet::from(["Miriam Graham", "Raj Patel"]));
    let status = &dump["entra"]["jobs"][0]["job"]["status"];
    assert_eq!(status["lastExecution"]["state"], "Succeeded");
    assert_eq!(
        status["synchronizedEntryCountByType"],
        json!([{"key": "User", "value": 7}, {"key": "Group", "value": 1}])
    );
}

#[tokio::test]
async fn the_default_mapping_matches_on_user_principal_name() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let secret = orchidea_secret(&sandbox).await;
    let (sp, job) = configure(&api, sandbox.scim_url.as_str(), &secret, false, None).await;
    start(&api, &sandbox, &sp, &job).await;
    let dump = sandbox.dump().await;
    let in_scope = assigned(&dump);
    let upns: BTreeSet<String> = users(&dump)
        .iter()
        .filter(|u| in_scope.contains(u["id"].as_str().unwrap()))
        .map(|u| u["userPrincipalName"].as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(upns.len(), 9);
    let scim = dump["orchidea"]["users"].as_array().unwrap().clone();
    assert_eq!(scim_user_names(&scim), upns);
    let megan = scim
        .iter()
        .find(|u| u["userName"] == "meganb@contoso.com")
        .unwrap();
    assert_eq!(megan["name"]["formatted"], "Megan Bowen");
    assert_eq!(megan["emails"][0]["value"], "MeganB@contoso.com");
    assert_eq!(
        megan["externalId"], "meganb",
        "externalId ← mailNickname by default"
    );
    assert_eq!(megan["title"], "Marketing Manager");
}

#[tokio::test]
async fn sync_all_takes_everyone_with_a_matching_value_and_a_second_start_adds_nobody() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let secret = orchidea_secret(&sandbox).await;
    let schema = fixture("schema-orchidea-configured.json");
    let (sp, job) = configure(&api, sandbox.scim_url.as_str(), &secret, true, Some(schema)).await;
    start(&api, &sandbox, &sp, &job).await;
    let first = sandbox.dump().await;
    let everyone = mails_of(&first, |_| true);
    assert_eq!(everyone.len(), 25);
    let scim = first["orchidea"]["users"].as_array().unwrap().clone();
    assert_eq!(scim_user_names(&scim), everyone);

    start(&api, &sandbox, &sp, &job).await;
    let second = sandbox.dump().await;
    assert_eq!(
        second["orchidea"]["users"], first["orchidea"]["users"],
        "no duplicates, no changes"
    );
    let last = &second["entra"]["jobs"][0]["job"]["status"]["lastExecution"];
    assert_eq!(last["countExported"], 0);
}

#[tokio::test]
async fn users_leaving_the_scope_are_disabled_not_deleted() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let secret = orchidea_secret(&sandbox).await;
    let schema = fixture("schema-orchidea-configured.json");
    let (sp, job) = configure(&api, sandbox.scim_url.as_str(), &secret, true, Some(schema)).await;
    start(&api, &sandbox, &sp, &job).await;
    configure_secrets(&api, &sp, sandbox.scim_url.as_str(), &secret, false).await;
    let restart = api
        .call(
            Method::POST,
            &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/restart"),
            Some(json!({"criteria": {"resetScope": "Watermark, Escrows, QuarantineState"}})),
        )
        .await;
    assert_eq!(restart.status, StatusCode::NO_CONTENT, "{}", restart.body);
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    let in_scope = assigned(&dump);
    let scim = dump["orchidea"]["users"].as_array().unwrap();
    assert_eq!(scim.len(), 25);
    for u in scim {
        let id = u["externalId"].as_str().unwrap();
        let entra = users(&dump).into_iter().find(|e| e["id"] == id).unwrap();
        let should_be_active = in_scope.contains(id) && entra["accountEnabled"] == true;
        assert_eq!(u["active"], should_be_active, "{}", u["userName"]);
    }
    let bad = api
        .call(
            Method::POST,
            &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/restart"),
            Some(json!({"criteria": {"resetScope": "Everything"}})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn configure_secrets(api: &Api, sp: &str, base: &str, token: &str, sync_all: bool) {
    let secrets = json!({"value": [
        {"key": "BaseAddress", "value": base},
        {"key": "SecretToken", "value": token},
        {"key": "SyncAll", "value": sync_all.to_string()},
    ]});
    let put = api
        .call(
            Method::PUT,
            &format!("/servicePrincipals/{sp}/synchronization/secrets"),
            Some(secrets),
        )
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.body);
}

#[tokio::test]
async fn a_rejected_token_quarantines_the_job() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let (sp, job) = configure(
        &api,
        sandbox.scim_url.as_str(),
        "not-an-orchidea-secret",
        false,
        None,
    )
    .await;
    start(&api, &sandbox, &sp, &job).await;
    let got = api
        .get(&format!(
            "/servicePrincipals/{sp}/synchronization/jobs/{job}"
        ))
        .await;
    let status = &got.body["status"];
    assert_eq!(status["code"], "Quarantine");
    assert_eq!(
        status["quarantine"]["reason"],
        "EncounteredQuarantineException"
    );
    assert_eq!(
        status["quarantine"]["error"]["code"],
        "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable"
    );
    assert!(
        status["quarantine"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("401")
    );
    assert_eq!(status["lastExecution"]["state"], "Failed");
    assert!(status["lastSuccessfulExecution"].is_null());
    assert_eq!(sandbox.dump().await["orchidea"]["users"], json!([]));

    let pause = api
        .call(
            Method::POST,
            &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/pause"),
            None,
        )
        .await;
    assert_eq!(pause.status, StatusCode::NO_CONTENT);
    let got = api
        .get(&format!(
            "/servicePrincipals/{sp}/synchronization/jobs/{job}"
        ))
        .await;
    assert_eq!(got.body["status"]["code"], "Paused");
}

#[tokio::test]
async fn provisioning_goes_to_whatever_scim_server_the_tenant_url_names() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let token = Secret::generate(32);
    let other = orchidea_wizard::sandbox::scim::serve_standalone(token.clone())
        .await
        .unwrap();
    // The compliance flag changes how updates are sent, not where.
    let base = format!("{}?aadOptscim062020", other.url);
    let schema = fixture("schema-orchidea-configured.json");
    let (sp, job) = configure(&api, &base, token.expose(), false, Some(schema)).await;
    start(&api, &sandbox, &sp, &job).await;
    let dump = sandbox.dump().await;
    let in_scope = assigned(&dump);
    assert_eq!(
        scim_user_names(&other.users().await),
        mails_of(&dump, |id| in_scope.contains(id))
    );
    assert_eq!(
        dump["orchidea"]["users"],
        json!([]),
        "the sandbox's own workspace got nobody"
    );
    other.shutdown().await;
}

async fn instantiate(api: &Api, template: &str, name: &str) -> Value {
    let made = api
        .call(
            Method::POST,
            &format!("/applicationTemplates/{template}/instantiate"),
            Some(json!({"displayName": name})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.body
}

#[tokio::test]
async fn a_new_app_from_the_non_gallery_template_can_provision() {
    let sandbox = Sandbox::start(SandboxOptions {
        replication_delay: Some(std::time::Duration::ZERO),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let api = Api::new(&sandbox);
    let made = instantiate(
        &api,
        "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
        "Orchidea Test",
    )
    .await;
    let sp = &made["servicePrincipal"];
    assert_eq!(sp["displayName"], "Orchidea Test");
    assert!(sp["tags"].as_array().unwrap().contains(&json!(
        "WindowsAzureActiveDirectoryCustomSingleSignOnApplication"
    )));
    assert_eq!(made["application"]["appId"], sp["appId"]);
    let id = sp["id"].as_str().unwrap();
    let t = api
        .get(&format!(
            "/servicePrincipals/{id}/synchronization/templates"
        ))
        .await;
    assert_eq!(t.body["value"][0]["id"], "scim");
    // The US government and 21Vianet non-gallery templates
    // (applicationtemplate-instantiate.md) make the same kind of app.
    for template in [
        "4602d0b4-76bb-404b-bca9-2652e1a39c6d",
        "5a532e38-1581-4918-9658-008dc27c1d68",
    ] {
        let made = instantiate(&api, template, "Orchidea Gov").await;
        assert_eq!(made["application"]["applicationTemplateId"], template);
    }
    let unknown = api
        .call(
            Method::POST,
            "/applicationTemplates/00000000-67b2-4cf2-a259-e3dc5476c621/instantiate",
            Some(json!({"displayName": "x"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let nameless = api
        .call(
            Method::POST,
            "/applicationTemplates/8adf8e6e-67b2-4cf2-a259-e3dc5476c621/instantiate",
            Some(json!({})),
        )
        .await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST);
}

/// Entra's replication delay: until a new app has replicated it is missing
/// from lists and answers Graph's 404 for a missing object by id and on its
/// synchronization routes. A delay far longer than the test keeps it unseen.
#[tokio::test]
async fn a_new_app_is_unseen_until_it_has_replicated() {
    let sandbox = Sandbox::start(SandboxOptions {
        replication_delay: Some(std::time::Duration::from_secs(3600)),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let api = Api::new(&sandbox);
    let made = instantiate(&api, "8adf8e6e-67b2-4cf2-a259-e3dc5476c621", "Orchidea New").await;
    let id = made["servicePrincipal"]["id"].as_str().unwrap().to_string();
    let listed = api
        .get("/servicePrincipals?$filter=startswith(displayName,'Orchidea')")
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let names: Vec<&str> = listed.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|sp| sp["displayName"].as_str())
        .collect();
    assert!(!names.contains(&"Orchidea New"), "{names:?}");
    assert!(!names.is_empty(), "the apps that existed are listed");
    for path in [
        format!("/servicePrincipals/{id}"),
        format!("/servicePrincipals/{id}/synchronization/templates"),
        format!("/servicePrincipals/{id}/synchronization/jobs"),
    ] {
        let r = api.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
        assert_eq!(
            r.body["error"]["code"], "Request_ResourceNotFound",
            "{path}"
        );
    }
    let job = api
        .call(
            Method::POST,
            &format!("/servicePrincipals/{id}/synchronization/jobs"),
            Some(json!({"templateId": "scim"})),
        )
        .await;
    assert_eq!(job.status, StatusCode::NOT_FOUND, "{}", job.body);
    // The app exists all the same: a second look after replication finds it
    // (the dump is the tenant itself, not Graph's view of it).
    let dump = sandbox.dump().await;
    assert!(
        dump["entra"]["servicePrincipals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|sp| sp["id"] == id.as_str())
    );
}

#[tokio::test]
async fn the_state_file_carries_entra_and_orchidea_into_the_next_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sandbox-state.json");
    let opts = || SandboxOptions {
        state_file: Some(state.clone()),
        ..SandboxOptions::default()
    };
    let sandbox = Sandbox::start(opts()).await.unwrap();
    let api = Api::new(&sandbox);
    let secret = orchidea_secret(&sandbox).await;
    let schema = fixture("schema-orchidea-configured.json");
    let (sp, job) = configure(
        &api,
        sandbox.scim_url.as_str(),
        &secret,
        false,
        Some(schema.clone()),
    )
    .await;
    start(&api, &sandbox, &sp, &job).await;
    let before = sandbox.dump().await;
    sandbox.shutdown().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let sandbox = Sandbox::start(opts()).await.unwrap();
    let api = Api::new(&sandbox);
    let after = sandbox.dump().await;
    assert_eq!(after["entra"]["jobs"], before["entra"]["jobs"]);
    assert_eq!(after["entra"]["secrets"], before["entra"]["secrets"]);
    assert_eq!(after["orchidea"]["users"], before["orchidea"]["users"]);
    let schema_now = api
        .get(&format!(
            "/servicePrincipals/{sp}/synchronization/jobs/{job}/schema"
        ))
        .await;
    assert_eq!(schema_now.body, schema);
    // The saved credentials still open Orchidea's SCIM endpoint: the workspace
    // kept its secret (as a hash), Entra kept the token, and the saved Tenant
    // URL follows the workspace if it had to change port.
    let path = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/validateCredentials");
    let checked = api
        .call(
            Method::POST,
            &path,
            Some(json!({"useSavedCredentials": true})),
        )
        .await;
    assert_eq!(checked.status, StatusCode::NO_CONTENT, "{}", checked.body);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_tenant_file_replaces_the_built_in_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.json");
    let tenant = json!({
        "tenant": {"id": "11111111-1111-4111-8111-111111111111", "domain": "fabrikam.com", "displayName": "Fabrikam"},
        "users": [
            {"id": "22222222-2222-4222-8222-222222222222", "userPrincipalName": "ana@fabrikam.com", "mail": "ana@fabrikam.com",
             "givenName": "Ana", "surname": "Silva", "displayName": "Ana Silva", "employeeId": "E-7"},
            {"id": "33333333-3333-4333-8333-333333333333", "userPrincipalName": "bo@fabrikam.com", "mail": null,
             "displayName": "Bo Chen", "accountEnabled": false}
        ],
        "servicePrincipals": [
            {"id": "44444444-4444-4444-8444-444444444444", "appId": "55555555-5555-4555-8555-555555555555",
             "displayName": "Orchidea", "tags": [], "provisioning": "scim",
             "assignments": {"users": ["22222222-2222-4222-8222-222222222222"]}}
        ],
        "orchidea": {"workspaceName": "Fabrikam Ideas"}
    });
    std::fs::write(&path, tenant.to_string()).unwrap();
    let sandbox = Sandbox::start(SandboxOptions {
        tenant_file: Some(path.clone()),
        state_file: None,
        ..Default::default()
    })
    .await
    .unwrap();
    let api = Api::new(&sandbox);
    let (all, _) = api.get_all("/users?$select=displayName,employeeId").await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["employeeId"], "E-7");
    let dump = sandbox.dump().await;
    assert_eq!(dump["entra"]["tenant"]["displayName"], "Fabrikam");
    assert_eq!(dump["orchidea"]["name"], "Fabrikam Ideas");

    std::fs::write(&path, "{\"tenant\": {}}").unwrap();
    let err = Sandbox::start(SandboxOptions {
        tenant_file: Some(path),
        state_file: None,
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(err, SandboxError::TenantFile { .. }), "{err}");
    assert!(err.to_string().contains("tenant.json"));
}

#[tokio::test]
async fn endpoints_name_every_listener() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let e = sandbox.endpoints_json();
    assert_eq!(e["graph_url"], sandbox.graph_url.as_str());
    assert!(e["graph_url"].as_str().unwrap().ends_with("/v1.0"));
    assert_eq!(e["scim_url"], format!("{}scim/v2", sandbox.orchidea_url));
    assert_eq!(e["orchidea_admin_token"], sandbox.admin_token.expose());
    // The sign-in side names its endpoints when asked elsewhere.
    let login =
        answer(orchidea_wizard::platform::http::loopback_client().get(sandbox.login_url.as_str()))
            .await;
    assert_eq!(login.status, StatusCode::NOT_FOUND);
    assert!(
        login.body["error_description"]
            .as_str()
            .unwrap()
            .contains("/{tenant}/oauth2/v2.0/authorize")
    );
}
