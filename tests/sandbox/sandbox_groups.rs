//! Entra's SCIM traffic for groups and Test Connection, as the sandbox plays it, and the
//! wizard's answer to an Orchidea that serves no groups (Entra docs
//! `use-scim-to-provision-users-and-groups.md`, "Group Operations" and "General";
//! `how-provisioning-works.md`, "Initial cycle").

use crate::common;

use std::collections::BTreeSet;

use crate::local::*;
use common::graph_api::*;
use orchidea_wizard::engine::{AlwaysYes, Engine};
use orchidea_wizard::sandbox::{RequestRecord, Sandbox, SandboxOptions, SandboxServer};
use orchidea_wizard::setup::{self, Choices};
use orchidea_wizard::{Status, StepId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const TEAM: &str = "Innovation Team";

/// A sandbox whose Orchidea serves groups or not (tenant file `orchidea.scimGroups`).
async fn sandbox(scim_groups: Option<bool>) -> (Sandbox, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut tenant: Value = crate::common::default_tenant();
    if let Some(on) = scim_groups {
        tenant["orchidea"]["scimGroups"] = json!(on);
    }
    let path = dir.path().join("tenant.json");
    std::fs::write(&path, tenant.to_string()).unwrap();
    let sandbox = Sandbox::start(SandboxOptions {
        tenant_file: Some(path),
        record_requests: true,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    (sandbox, dir)
}

/// The Orchidea app with a job, saved credentials and `schema`.
async fn configure(api: &Api, base: &str, token: &str, schema: Value) -> (String, String) {
    let sp = api.sp_id("Orchidea").await;
    let job = api
        .post(
            &format!("/servicePrincipals/{sp}/synchronization/jobs"),
            json!({"templateId": "scim"}),
        )
        .await;
    assert_eq!(job.status, StatusCode::CREATED, "{}", job.body);
    let job = job.body["id"].as_str().unwrap().to_string();
    save_secrets(api, &sp, base, token, false).await;
    let path = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/schema");
    let put = api.call(Method::PUT, &path, Some(schema)).await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.body);
    (sp, job)
}

/// Saves the Tenant URL, the Secret Token and `SyncAll`.
async fn save_secrets(api: &Api, sp: &str, base: &str, token: &str, all: bool) {
    let secrets = json!({"value": [
        {"key": "BaseAddress", "value": base},
        {"key": "SecretToken", "value": token},
        {"key": "SyncAll", "value": all.to_string()},
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

/// The SCIM requests the sandbox's Entra made, as `METHOD target`.
fn scim_calls(records: &[RequestRecord]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.server == SandboxServer::Scim && r.internal)
        .map(|r| format!("{} {}", r.method, r.target))
        .collect()
}

fn entra_group<'a>(dump: &'a Value, name: &str) -> &'a Value {
    dump["entra"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["displayName"] == name)
        .unwrap()
}

fn group_log(dump: &Value, group_id: &str) -> Vec<Value> {
    dump["entra"]["provisioningLog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["userId"] == group_id)
        .cloned()
        .collect()
}

#[tokio::test]
async fn assigned_groups_arrive_after_their_users_with_their_members() {
    let (sandbox, _dir) = sandbox(None).await;
    let api = Api::new(&sandbox);
    let secret = orchidea_secret(&sandbox).await;
    let (sp, job) = configure(
        &api,
        sandbox.scim_url.as_str(),
        &secret,
        fixture("schema-orchidea-configured.json"),
    )
    .await;
    sandbox.take_requests();
    start(&api, &sandbox, &sp, &job).await;
    let calls = scim_calls(&sandbox.take_requests());
    let dump = sandbox.dump().await;

    // One group stored, named, with its Entra id as externalId ...
    let team = entra_group(&dump, TEAM);
    let groups = dump["orchidea"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "only the assigned group: {groups:?}");
    let stored = &groups[0];
    assert_eq!(stored["displayName"], TEAM);
    assert_eq!(stored["externalId"], team["id"]);
    // ... whose members are the SCIM ids of its members Orchidea received.
    let scim_users = dump["orchidea"]["users"].as_array().unwrap();
    let expected: BTreeSet<&str> = team["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| scim_users.iter().find(|u| u["externalId"] == *m))
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(expected.len(), 6, "Raj Patel has no mail and is skipped");
    let members: BTreeSet<&str> = stored["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, expected);

    // The doc's requests, users first: find without members, create, add members.
    let first_group = calls.iter().position(|c| c.contains("/Groups")).unwrap();
    let last_user = calls.iter().rposition(|c| c.contains("/Users")).unwrap();
    assert!(last_user < first_group, "{calls:#?}");
    let group_calls: Vec<&String> = calls.iter().filter(|c| c.contains("/Groups")).collect();
    assert_eq!(group_calls.len(), 3, "{group_calls:#?}");
    assert!(
        group_calls[0].starts_with(
            "GET /scim/v2/Groups?excludedAttributes=members&filter=displayName%20eq%20%22Innovation%20Team%22"
        ),
        "{}",
        group_calls[0]
    );
    assert_eq!(group_calls[1], "POST /scim/v2/Groups");
    assert!(group_calls[2].starts_with("PATCH /scim/v2/Groups/"));

    let log = group_log(&dump, team["id"].as_str().unwrap());
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["action"], "Create");
    assert_eq!(log[0]["status"], "success");
    let status = &dump["entra"]["jobs"][0]["job"]["status"];
    assert_eq!(status["lastExecution"]["state"], "Succeeded");
    assert_eq!(
        status["synchronizedEntryCountByType"],
        json!([{"key": "User", "value": 7}, {"key": "Group", "value": 1}])
    );

    // A second cycle finds the group and has nothing to send.
    start(&api, &sandbox, &sp, &job).await;
    let again = scim_calls(&sandbox.take_requests());
    let writes: Vec<&String> = again
        .iter()
        .filter(|c| c.contains("/Groups") && !c.starts_with("GET "))
        .collect();
    assert!(writes.is_empty(), "{writes:#?}");
    // Known users and groups are read by the ids the job cached ("Get User",
    // "Get Group"), not queried again.
    let users: Vec<&String> = again.iter().filter(|c| c.contains("/Users")).collect();
    assert_eq!(users.len(), 7, "{users:#?}");
    assert!(
        users
            .iter()
            .all(|c| c.starts_with("GET /scim/v2/Users/") && !c.contains("filter")),
        "{users:#?}"
    );
    let group_id = stored["id"].as_str().unwrap();
    let groups: Vec<&String> = again.iter().filter(|c| c.contains("/Groups")).collect();
    assert_eq!(
        groups,
        [&format!(
            "GET /scim/v2/Groups/{group_id}?excludedAttributes=members"
        )]
    );
    let dump = sandbox.dump().await;
    let log = group_log(&dump, team["id"].as_str().unwrap());
    assert_eq!(log.last().unwrap()["action"], "Skip");
    assert_eq!(log.last().unwrap()["errorCode"], "RedundantExport");
    assert_eq!(dump["orchidea"]["groups"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_group_mapping_left_enabled_against_an_orchidea_without_groups_fails_per_group() {
    let (sandbox, _dir) = sandbox(Some(false)).await;
    let api = Api::new(&sandbox);
    let secret = orchidea_secret(&sandbox).await;
    // As if the schema were applied by hand (Graph Explorer): group mapping on.
    let (sp, job) = configure(
        &api,
        sandbox.scim_url.as_str(),
        &secret,
        fixture("schema-orchidea-configured.json"),
    )
    .await;
    start(&api, &sandbox, &sp, &job).await;
    let dump = sandbox.dump().await;
    assert_eq!(
        dump["orchidea"]["users"].as_array().unwrap().len(),
        7,
        "users are not affected"
    );
    let team = entra_group(&dump, TEAM);
    let log = group_log(&dump, team["id"].as_str().unwrap());
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["status"], "failure");
    assert_eq!(
        log[0]["errorCode"],
        "SystemForCrossDomainIdentityManagementServiceIncompatible"
    );
    assert!(
        log[0]["reason"].as_str().unwrap().contains("404"),
        "{}",
        log[0]["reason"]
    );
    let last = &dump["entra"]["jobs"][0]["job"]["status"]["lastExecution"];
    assert_eq!(last["state"], "EntryLevelErrors");
    assert_eq!(last["countEscrowed"], 1);
    // Served as a provisioning log entry too.
    let served = api.get("/auditLogs/provisioning?$top=100").await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.body);
    let failures: Vec<&Value> = served.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["provisioningStatusInfo"]["status"] == "failure")
        .collect();
    assert_eq!(failures.len(), 1, "{failures:#?}");
}

#[tokio::test]
async fn orchidea_without_groups_answers_404_and_lists_no_group_type() {
    let (sandbox, _dir) = sandbox(Some(false)).await;
    let secret = orchidea_secret(&sandbox).await;
    let http = orchidea_wizard::platform::http::loopback_client();
    let base = sandbox.scim_url.as_str().trim_end_matches('/');
    let groups = http
        .get(format!("{base}/Groups"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.status(), StatusCode::NOT_FOUND);
    let types: Value = http
        .get(format!("{base}/ResourceTypes"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = types["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["User"]);
    // Without the secret it is still 401, not 404: nothing leaks.
    let anonymous = http.get(format!("{base}/Groups")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn test_connection_fetches_a_random_user_and_a_random_group() {
    let (sandbox, _dir) = sandbox(None).await;
    let api = Api::new(&sandbox);
    let secret = orchidea_secret(&sandbox).await;
    let sp = api.sp_id("Orchidea").await;
    let job = api
        .post(
            &format!("/servicePrincipals/{sp}/synchronization/jobs"),
            json!({"templateId": "scim"}),
        )
        .await;
    let job = job.body["id"].as_str().unwrap().to_string();
    sandbox.take_requests();
    let test = api
        .post(
            &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/validateCredentials"),
            json!({"credentials": [
                {"key": "BaseAddress", "value": sandbox.scim_url.as_str()},
                {"key": "SecretToken", "value": secret},
            ]}),
        )
        .await;
    assert_eq!(test.status, StatusCode::NO_CONTENT, "{}", test.body);
    let calls = scim_calls(&sandbox.take_requests());
    assert_eq!(calls.len(), 2, "{calls:#?}");
    let guid = |call: &str, prefix: &str| {
        let rest = call
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{call}"));
        let value = rest.strip_suffix("%22").unwrap();
        assert!(uuid::Uuid::parse_str(value).is_ok(), "{call}");
    };
    guid(&calls[0], "GET /scim/v2/Users?filter=userName%20eq%20%22");
    guid(
        &calls[1],
        "GET /scim/v2/Groups?excludedAttributes=members&filter=displayName%20eq%20%22",
    );
}

#[tokio::test]
async fn test_connection_passes_without_groups_but_fails_on_a_group_request_refused() {
    use axum::routing::get;
    // Users answer; /Groups refuses the bearer.
    let empty = || async {
        axum::Json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0, "Resources": [], "startIndex": 1, "itemsPerPage": 20
        }))
    };
    let refusing = common::serve(
        axum::Router::new()
            .route("/scim/v2/Users", get(empty))
            .route(
                "/scim/v2/Groups",
                get(|| async { (StatusCode::UNAUTHORIZED, "no") }),
            ),
    )
    .await;
    let users_only = common::serve(axum::Router::new().route("/scim/v2/Users", get(empty))).await;
    let (sandbox, _dir) = sandbox(None).await;
    let api = Api::new(&sandbox);
    let sp = api.sp_id("Orchidea").await;
    let job = api
        .post(
            &format!("/servicePrincipals/{sp}/synchronization/jobs"),
            json!({"templateId": "scim"}),
        )
        .await;
    let job = job.body["id"].as_str().unwrap().to_string();
    let test = |base: String| {
        let api = &api;
        let path =
            format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/validateCredentials");
        async move {
            api.post(
                &path,
                json!({"credentials": [
                    {"key": "BaseAddress", "value": base},
                    {"key": "SecretToken", "value": "s3cret-for-stub"},
                ]}),
            )
            .await
        }
    };
    let ok = test(format!("{users_only}scim/v2")).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    let refused = test(format!("{refusing}scim/v2")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("401"), "{message}");
    assert!(
        message.contains("/Groups?excludedAttributes=members&filter=displayName eq"),
        "{message}"
    );
    assert!(!message.contains("s3cret-for-stub"), "{message}");
}

#[tokio::test]
async fn the_wizard_disables_the_group_mapping_when_orchidea_serves_no_groups() {
    let (sandbox, _dir) = sandbox(Some(false)).await;
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    engine.run_all(&AlwaysYes).await.unwrap();
    let checklist = engine.checklist().await;
    let mut count = 0;
    for (step, status) in checklist.iter() {
        count += 1;
        // The tenant's app already has SAML single sign-on (step 0).
        let done = match step {
            StepId::SsoIntegration => matches!(status, Status::AlreadyDone(_)),
            _ => matches!(status, Status::Done(_)),
        };
        assert!(done, "{step}: {status:?}");
    }
    assert_eq!(count, 19);
    let facts = engine.facts().await;
    assert_eq!(facts.probe.as_ref().unwrap().groups, Some(false));
    let diff = facts.mapping.as_ref().unwrap().diff_lines();
    assert!(
        diff.iter().any(
            |l| l.starts_with("! disable \"Provision Microsoft Entra ID Groups\"")
                && l.contains("lists no Group")
        ),
        "{diff:#?}"
    );
    let step9 = checklist.status(StepId::KeepFiveAttributes);
    assert!(
        format!("{step9:?}").contains("Provision Microsoft Entra ID Groups"),
        "{step9:?}"
    );
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    let schema = &common::jobs(&dump)[0]["schema"];
    assert_eq!(common::group_mapping(schema).unwrap()["enabled"], false);
    assert!(
        !scim_calls(&sandbox.take_requests())
            .iter()
            .any(|c| c.contains("/Groups") && !c.contains("filter=displayName")),
        "no group traffic beyond Test Connection"
    );
    assert!(dump["orchidea"]["groups"].as_array().unwrap().is_empty());
    let last = &common::jobs(&dump)[0]["job"]["status"]["lastExecution"];
    assert_eq!(last["state"], "Succeeded");
}

#[tokio::test]
async fn the_wizard_keeps_the_group_mapping_when_orchidea_serves_groups() {
    let (sandbox, _dir) = sandbox(None).await;
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    engine.run_all(&AlwaysYes).await.unwrap();
    let facts = engine.facts().await;
    assert_eq!(facts.probe.as_ref().unwrap().groups, Some(true));
    let diff = facts.mapping.as_ref().unwrap().diff_lines();
    assert!(!diff.iter().any(|l| l.starts_with('!')), "{diff:#?}");
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    common::assert_configured(&dump, "false");
    let groups = dump["orchidea"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["displayName"], TEAM);
}

/// A second run finds Entra holding a working secret, so step 1c makes no
/// secret and runs no pre-flight: nothing tells whether Orchidea serves
/// groups, and step 9 says so instead of staying silent.
#[tokio::test]
async fn a_run_without_the_probe_says_the_group_mapping_was_not_checked() {
    let (sandbox, _dir) = sandbox(None).await;
    let first = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    first.run_all(&AlwaysYes).await.unwrap();
    let unchecked = "Could not check whether Orchidea serves groups";
    assert!(
        !first
            .facts()
            .await
            .all_warnings()
            .iter()
            .any(|w| w.contains(unchecked))
    );
    sandbox.wait_idle().await;
    let second = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    second.run_all(&AlwaysYes).await.unwrap();
    let facts = second.facts().await;
    assert!(facts.probe.is_none(), "no pre-flight without a new secret");
    let detail = format!(
        "{:?}",
        second.checklist().await.status(StepId::KeepFiveAttributes)
    );
    assert!(detail.contains(unchecked), "{detail}");
    assert!(
        detail.contains("Entra already held a working SCIM secret"),
        "{detail}"
    );
    assert!(
        facts.all_warnings().iter().any(|w| w.contains(unchecked)),
        "{:?}",
        facts.all_warnings()
    );
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    let group = common::group_mapping(&common::jobs(&dump)[0]["schema"])
        .unwrap()
        .clone();
    assert_eq!(group["enabled"], json!(true), "left as it is");
}

/// Orchidea's SCIM takes both forms Entra sends: the default (capitalised
/// `op`, `"False"`, member removal by value list) and the `aadOptscim062020`
/// one (lowercase `op`, boolean, `members[value eq "…"]`), as built by the
/// sandbox's Entra (`application-provisioning-config-problem-scim-compatibility.md`).
#[tokio::test]
async fn orchidea_takes_the_default_and_the_flagged_patch_forms() {
    use orchidea_wizard::sandbox::payload::{self, Change};
    let token = orchidea_wizard::Secret::generate(40);
    let server = orchidea_wizard::sandbox::scim::serve_standalone(token.clone())
        .await
        .unwrap();
    let http = orchidea_wizard::platform::http::loopback_client();
    let base = server.url.as_str().trim_end_matches('/').to_string();
    let send = |method: Method, path: String, body: Value| {
        let req = http
            .request(method, format!("{base}{path}"))
            .bearer_auth(token.expose())
            .header("content-type", "application/scim+json")
            .body(body.to_string());
        async move {
            let r = req.send().await.unwrap();
            let status = r.status();
            let text = r.text().await.unwrap();
            (status, text)
        }
    };
    let mut ids = Vec::new();
    for name in ["a@contoso.com", "b@contoso.com"] {
        let body = payload::create_body(
            &[
                ("userName".to_string(), name.to_string()),
                ("active".to_string(), "True".to_string()),
            ],
            &payload::Types::default(),
        );
        let (status, text) = send(Method::POST, "/Users".into(), body).await;
        assert_eq!(status, StatusCode::CREATED, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let off = [Change {
        target: "active".into(),
        value: "False".into(),
        add: false,
    }];
    for (id, compliant) in ids.iter().zip([false, true]) {
        let (status, text) = send(
            Method::PATCH,
            format!("/Users/{id}"),
            payload::patch_body(&off, compliant, &payload::Types::default()),
        )
        .await;
        assert!(status.is_success(), "{compliant}: {status} {text}");
    }
    let users = server.users().await;
    assert!(
        users.iter().all(|u| u["active"] == json!(false)),
        "both disabled, stored as booleans: {users:?}"
    );

    for compliant in [false, true] {
        let body = payload::create_group_body(&[
            ("displayName".to_string(), format!("Team {compliant}")),
            ("externalId".to_string(), format!("g-{compliant}")),
        ]);
        let (status, text) = send(Method::POST, "/Groups".into(), body).await;
        assert_eq!(status, StatusCode::CREATED, "{text}");
        let group: Value = serde_json::from_str(&text).unwrap();
        let id = group["id"].as_str().unwrap().to_string();
        assert_eq!(group["members"], json!([]));
        let add = payload::members_patch_body(&ids, &[], compliant);
        let (status, text) = send(Method::PATCH, format!("/Groups/{id}"), add).await;
        assert!(status.is_success(), "{compliant}: {status} {text}");
        let remove = payload::members_patch_body(&[], &ids[..1], compliant);
        let (status, text) = send(Method::PATCH, format!("/Groups/{id}"), remove).await;
        assert!(status.is_success(), "{compliant}: {status} {text}");
        let groups = server.groups().await;
        let stored = groups.iter().find(|g| g["id"] == id.as_str()).unwrap();
        let members: Vec<&str> = stored["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["value"].as_str().unwrap())
            .collect();
        assert_eq!(members, [ids[1].as_str()], "{compliant}: {stored}");
    }
}

/// With the flag in the Tenant URL, users leaving the scope are disabled with
/// the flagged request, and Orchidea stores them inactive.
#[tokio::test]
async fn the_flagged_tenant_url_disables_users_leaving_the_scope() {
    let (sandbox, _dir) = sandbox(None).await;
    let api = Api::new(&sandbox);
    let secret = orchidea_secret(&sandbox).await;
    let flagged = format!("{}?aadOptscim062020", sandbox.scim_url);
    let (sp, job) = configure(
        &api,
        &flagged,
        &secret,
        fixture("schema-orchidea-configured.json"),
    )
    .await;
    start(&api, &sandbox, &sp, &job).await;
    let before = sandbox.dump().await;
    let active = |dump: &Value| {
        dump["orchidea"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["active"] == json!(true))
            .count()
    };
    assert_eq!(active(&before), 6, "Lee Gu arrives inactive");
    // SyncAll brings everyone with a mail; turning it off again makes them leave the scope.
    save_secrets(&api, &sp, &flagged, &secret, true).await;
    start(&api, &sandbox, &sp, &job).await;
    let all = active(&sandbox.dump().await);
    assert!(all > 6, "SyncAll brought more users: {all}");
    save_secrets(&api, &sp, &flagged, &secret, false).await;
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
    assert_eq!(
        active(&dump),
        6,
        "the users SyncAll brought are disabled again"
    );
    let disabled: Vec<&Value> = dump["entra"]["provisioningLog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "Disable")
        .collect();
    assert_eq!(disabled.len(), all - 6, "{disabled:#?}");
    assert!(disabled.iter().all(|e| e["status"] == "success"));
}

/// On demand, the `aadOptscim062020` flag does not apply ("this feature flag
/// currently doesn't work with on-demand provisioning",
/// `application-provisioning-config-problem-scim-compatibility.md`): the
/// disable goes out in the default form even with the flag in the Tenant URL.
#[tokio::test]
async fn on_demand_ignores_the_flag_and_disables_in_the_default_form() {
    use axum::routing::{get, patch};
    use std::sync::{Arc, Mutex};
    const LEE: &str = "b78bf409-8d67-5dac-85f5-09e0a53fa150";
    let lee = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u-lee", "userName": "LeeG@contoso.com", "externalId": LEE, "active": true,
        "name": {"givenName": "Lee", "familyName": "Gu"}
    });
    let patches: Arc<Mutex<Vec<Value>>> = Arc::default();
    let seen = patches.clone();
    let listed = lee.clone();
    let stub = common::serve(
        axum::Router::new()
            .route(
                "/scim/v2/Users",
                get(move || {
                    let lee = listed.clone();
                    async move {
                        axum::Json(json!({
                            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                            "totalResults": 1, "Resources": [lee], "startIndex": 1, "itemsPerPage": 1
                        }))
                    }
                }),
            )
            .route(
                "/scim/v2/Users/u-lee",
                patch(move |body: String| {
                    let seen = seen.clone();
                    let lee = lee.clone();
                    async move {
                        seen.lock().unwrap().push(serde_json::from_str(&body).unwrap());
                        axum::Json(lee)
                    }
                }),
            ),
    )
    .await;
    let (sandbox, _dir) = sandbox(None).await;
    let api = Api::new(&sandbox);
    let schema = fixture("schema-orchidea-configured.json");
    let rule = schema["synchronizationRules"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let flagged = format!("{stub}scim/v2?aadOptscim062020");
    let (sp, job) = configure(&api, &flagged, "stub-token", schema).await;
    let answer = api
        .post(
            &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/provisionOnDemand"),
            json!({"parameters": [{"ruleId": rule, "subjects": [{"objectId": LEE, "objectTypeName": "User"}]}]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let patches = patches.lock().unwrap().clone();
    assert_eq!(patches.len(), 1, "{patches:#?}");
    assert_eq!(
        patches[0]["Operations"],
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
        "{:#}",
        patches[0]
    );
}
