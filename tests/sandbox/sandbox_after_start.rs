//! What the sandbox offers after provisioning starts: provisionOnDemand, the provisioning logs, `/me`,
//! assigning principals to the app, and fault injection. Plain HTTP on 127.0.0.1.

use std::collections::BTreeSet;

use orchidea_wizard::sandbox::{Fault, FaultTarget, Sandbox, SandboxOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common;

use crate::local::*;
use common::graph_api::*;

/// Assigned directly, has a mail.
const ADELE: &str = "a851a8d7-f967-5302-a196-25892be790af";
/// Assigned through Innovation Team, no mail.
const RAJ: &str = "15059876-301a-52f6-8639-8bc5f38a5489";
/// The signed-in admin: IT Operations, not assigned to Orchidea.
const ALLAN: &str = "01ec28c6-b96b-5cf9-a51e-ea2da4bc4ff7";
const IT_OPERATIONS: &str = "c028e958-f4cf-5452-a48c-65f42174452e";
const DEFAULT_ROLE: &str = "00000000-0000-0000-0000-000000000000";

/// A configured Orchidea job (not started): `(job id, rule id, SCIM secret)`.
async fn configure(api: &Api, sandbox: &Sandbox) -> (String, String, String) {
    let secret = orchidea_secret(sandbox).await;
    let jobs = format!("/servicePrincipals/{ORCHIDEA_SP}/synchronization/jobs");
    let job = api.post(&jobs, json!({"templateId": "scim"})).await;
    assert_eq!(job.status, StatusCode::CREATED, "{}", job.body);
    let job = job.body["id"].as_str().unwrap().to_string();
    let secrets = json!({"value": [
        {"key": "BaseAddress", "value": sandbox.scim_url.as_str()},
        {"key": "SecretToken", "value": secret},
        {"key": "SyncAll", "value": "false"},
    ]});
    let put = api
        .call(
            Method::PUT,
            &format!("/servicePrincipals/{ORCHIDEA_SP}/synchronization/secrets"),
            Some(secrets),
        )
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.body);
    let schema = fixture("schema-orchidea-configured.json");
    let rule = schema["synchronizationRules"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let put = api
        .call(Method::PUT, &format!("{jobs}/{job}/schema"), Some(schema))
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.body);
    (job, rule, secret)
}

async fn on_demand(api: &Api, job: &str, rule: &str, user: &str) -> Answer {
    api.post(
        &job_path(job, "/provisionOnDemand"),
        json!({"parameters": [{"ruleId": rule, "subjects": [{"objectId": user, "objectTypeName": "User"}]}]}),
    )
    .await
}

/// `key` and `value` of a provisionOnDemand answer, each a JSON document in a string.
fn parse_on_demand(body: &Value) -> (Value, Value) {
    let doc = |name: &str| -> Value {
        let text = body[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} is a string: {body}"));
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{name} holds JSON ({e}): {text}"))
    };
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#microsoft.graph.stringKeyStringValuePair")
    );
    (doc("key"), doc("value"))
}

/// Every key of `expected` (recursively; arrays by their first element) is in `got`.
fn assert_keys_superset(expected: &Value, got: &Value, at: &str) {
    match (expected, got) {
        (Value::Object(e), Value::Object(g)) => {
            for (k, v) in e {
                if k == "details" && at.contains("Steps") {
                    // A step's details are the example's own attributes.
                    assert!(g.contains_key(k), "{at}.details is missing");
                    continue;
                }
                let inner = g
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}.{k} is missing in {got}"));
                assert_keys_superset(v, inner, &format!("{at}.{k}"));
            }
        }
        (Value::Array(e), Value::Array(g)) if !e.is_empty() => {
            assert!(!g.is_empty(), "{at} is empty");
            assert_keys_superset(&e[0], &g[0], &format!("{at}[0]"));
        }
        _ => {}
    }
}

fn step_types(value: &Value) -> Vec<&str> {
    value["provisioningSteps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect()
}

/// `GET {scim}/Users?filter=userName eq "<name>"` with the secret: totalResults.
async fn scim_count(sandbox: &Sandbox, secret: &str, user_name: &str) -> u64 {
    let a = answer(
        orchidea_wizard::platform::http::loopback_client()
            .get(format!("{}/Users", sandbox.scim_url))
            .query(&[("filter", format!("userName eq \"{user_name}\""))])
            .bearer_auth(secret),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body["totalResults"].as_u64().unwrap()
}

#[tokio::test]
async fn provision_on_demand_creates_then_skips_and_parses_like_the_docs() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let (job, rule, secret) = configure(&api, &sandbox).await;
    assert_eq!(scim_count(&sandbox, &secret, "AdeleV@contoso.com").await, 0);

    let first = on_demand(&api, &job, &rule, ADELE).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let (key, value) = parse_on_demand(&first.body);
    assert_eq!(key["result"], "Success", "{key}");
    assert_eq!(value["action"], "Create");
    assert_eq!(
        step_types(&value),
        ["Import", "Scoping", "Matching", "Export"]
    );
    let steps = value["provisioningSteps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["status"] == "Success"), "{value}");
    assert_eq!(
        steps[0]["description"],
        "Retrieved User 'adelev@contoso.com' from Azure Active Directory"
    );
    assert_eq!(steps[0]["details"]["mail"], "AdeleV@contoso.com");
    assert_eq!(steps[1]["details"]["Assigned"], "True");
    assert!(
        steps[2]["description"]
            .as_str()
            .unwrap()
            .contains("No matching User found"),
        "{}",
        steps[2]
    );
    assert_eq!(steps[3]["name"], "EntryExportAdd");
    let target_id = value["targetIdentity"]["id"].as_str().unwrap().to_string();
    assert!(!target_id.is_empty());
    assert_eq!(value["reportableIdentifier"], "adelev@contoso.com");
    assert_eq!(value["sourceIdentity"]["id"], ADELE);
    assert!(
        value["modifiedProperties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["displayName"] == "userName" && p["newValue"] == "AdeleV@contoso.com")
    );
    assert_eq!(scim_count(&sandbox, &secret, "AdeleV@contoso.com").await, 1);

    // The docs' example and the sandbox's answer parse the same way.
    let docs = fixture("provisionondemand.response.json");
    let (docs_key, docs_value) = parse_on_demand(&docs);
    let second = on_demand(&api, &job, &rule, ADELE).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let (key, value) = parse_on_demand(&second.body);
    assert_keys_superset(&docs_key, &key, "key");
    assert_keys_superset(&docs_value, &value, "value");
    assert_eq!(key["result"], "Skipped");
    assert_eq!(key["details"]["errorCode"], "RedundantExport");
    assert_eq!(value["action"], "Other");
    assert_eq!(
        step_types(&value),
        ["Import", "Scoping", "Matching", "Export"]
    );
    let export = &value["provisioningSteps"][3];
    assert_eq!(export["name"], "EntrySynchronizationSkip");
    assert_eq!(export["status"], "Skipped");
    assert_eq!(export["details"]["SkipReason"], "RedundantExport");
    assert_eq!(
        value["provisioningSteps"][2]["details"]["id"],
        target_id.as_str()
    );
    assert_eq!(value["targetIdentity"]["id"], target_id.as_str());
    assert_eq!(
        scim_count(&sandbox, &secret, "AdeleV@contoso.com").await,
        1,
        "no duplicate"
    );

    // Not assigned: stops at Scoping.
    let other = on_demand(&api, &job, &rule, ALLAN).await;
    let (key, value) = parse_on_demand(&other.body);
    assert_eq!(key["result"], "Skipped");
    assert_eq!(key["details"]["errorCode"], "NotEffectivelyEntitled");
    assert_eq!(step_types(&value), ["Import", "Scoping"]);
    assert_eq!(value["provisioningSteps"][1]["status"], "Skipped");
    assert!(
        value["provisioningSteps"][1]["description"]
            .as_str()
            .unwrap()
            .contains("not assigned")
    );
    assert_eq!(scim_count(&sandbox, &secret, "AllanD@contoso.com").await, 0);

    // No mail: stops at Matching with the reason.
    let raj = on_demand(&api, &job, &rule, RAJ).await;
    let (key, value) = parse_on_demand(&raj.body);
    assert_eq!(key["result"], "Skipped");
    assert_eq!(key["details"]["errorCode"], "EmptyMatchingValue");
    assert_eq!(step_types(&value), ["Import", "Scoping", "Matching"]);
    assert_eq!(value["statusInfo"]["errorCode"], "EmptyMatchingValue");
    assert!(
        value["statusInfo"]["reason"]
            .as_str()
            .unwrap()
            .contains("userName")
    );

    // The log has the four on-demand runs, marked as started by the admin.
    let logs = api
        .get(&format!(
            "/auditLogs/provisioning?$filter=jobId eq '{job}' and provisioningAction eq 'create'"
        ))
        .await;
    assert_eq!(logs.status, StatusCode::OK, "{}", logs.body);
    let created = logs.body["value"].as_array().unwrap();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["initiatedBy"]["initiatorType"], "user");
    assert_eq!(created[0]["initiatedBy"]["id"], ALLAN);
    assert_eq!(created[0]["targetIdentity"]["id"], target_id.as_str());
    let all = api
        .get(&format!("/auditLogs/provisioning?$filter=jobId eq '{job}'"))
        .await;
    assert_eq!(all.body["value"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn provision_on_demand_validates_and_is_rate_limited() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let (job, rule, _) = configure(&api, &sandbox).await;

    let unknown_job = on_demand(&api, "scim.nope", &rule, ADELE).await;
    assert_eq!(unknown_job.status, StatusCode::NOT_FOUND);

    let wrong_rule = on_demand(&api, &job, "not-a-rule", ADELE).await;
    assert_eq!(
        wrong_rule.status,
        StatusCode::BAD_REQUEST,
        "{}",
        wrong_rule.body
    );
    let message = wrong_rule.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("not-a-rule") && message.contains(&rule),
        "{message}"
    );

    let group = api
        .post(
            &job_path(&job, "/provisionOnDemand"),
            json!({"parameters": [{"ruleId": rule, "subjects": [{"objectId": IT_OPERATIONS, "objectTypeName": "Group"}]}]}),
        )
        .await;
    assert_eq!(group.status, StatusCode::BAD_REQUEST);
    assert!(
        group.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not supported by the sandbox")
    );

    let nobody = on_demand(&api, &job, &rule, "00000000-0000-0000-0000-00000000dead").await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.body["error"]["code"], "Request_ResourceNotFound");

    let empty = api
        .post(
            &job_path(&job, "/provisionOnDemand"),
            json!({"parameters": []}),
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.body["error"]["innerError"]["request-id"].is_string());

    let fifth = on_demand(&api, &job, &rule, RAJ).await;
    assert_eq!(fifth.status, StatusCode::OK, "{}", fifth.body);
    // Five requests for this job in the window, valid or not (the unknown
    // job's did not count): the sixth is throttled.
    let sixth = on_demand(&api, &job, &rule, ADELE).await;
    assert_eq!(
        sixth.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        sixth.body
    );
    assert_eq!(sixth.body["error"]["code"], "TooManyRequests");
    let wait: u64 = sixth.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&wait), "{wait}");
    assert_eq!(sandbox.dump().await["orchidea"]["users"], json!([]));
}

#[tokio::test]
async fn provisioning_logs_list_skips_with_reasons_filter_and_page() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let (job, _, _) = configure(&api, &sandbox).await;
    let start = api
        .call(Method::POST, &job_path(&job, "/start"), None)
        .await;
    assert_eq!(start.status, StatusCode::NO_CONTENT);
    sandbox.wait_idle().await;

    let skipped = api
        .get(&format!(
            "/auditLogs/provisioning?$filter=jobId eq '{job}' and provisioningStatusInfo/status eq 'skipped'"
        ))
        .await;
    assert_eq!(skipped.status, StatusCode::OK, "{}", skipped.body);
    assert!(
        skipped.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#auditLogs/provisioning")
    );
    let entries = skipped.body["value"].as_array().unwrap();
    let names: BTreeSet<&str> = entries
        .iter()
        .map(|e| e["sourceIdentity"]["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["Miriam Graham", "Raj Patel"]));
    let docs = fixture("auditlogs-provisioning.response.json");
    for e in entries {
        assert_keys_superset(&docs["value"][0], e, "entry");
        let info = &e["provisioningStatusInfo"];
        assert_eq!(info["status"], "skipped");
        assert_eq!(info["errorInformation"]["errorCode"], "EmptyMatchingValue");
        assert_eq!(
            info["errorInformation"]["reason"],
            "matching attribute empty: userName has no value for this user"
        );
        assert_eq!(e["provisioningAction"], "other");
        assert_eq!(e["jobId"], job.as_str());
        assert_eq!(e["servicePrincipal"]["id"], ORCHIDEA_SP);
        assert_eq!(e["initiatedBy"]["initiatorType"], "system");
        let types: Vec<&str> = e["provisioningSteps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["provisioningStepType"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["import", "scoping", "matching"]);
    }

    let created = api
        .get(&format!(
            "/auditLogs/provisioning?$filter=provisioningAction eq 'create' and servicePrincipal/id eq '{ORCHIDEA_SP}'"
        ))
        .await;
    let created = created.body["value"].as_array().unwrap();
    // 7 users, then the assigned group (the group mapping is enabled).
    let kinds: Vec<&str> = created
        .iter()
        .map(|e| e["sourceIdentity"]["identityType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "User").count(), 7);
    assert_eq!(kinds.iter().filter(|k| **k == "Group").count(), 1);
    assert!(created.iter().all(|e| {
        e["provisioningStatusInfo"]["status"] == "success"
            && e["provisioningStatusInfo"]["errorInformation"].is_null()
            && e["provisioningSteps"][3]["provisioningStepType"] == "export"
            && !e["targetIdentity"]["id"].as_str().unwrap().is_empty()
    }));

    // Case-sensitive values, as the docs say.
    let cased = api
        .get("/auditLogs/provisioning?$filter=provisioningStatusInfo/status eq 'Skipped'")
        .await;
    assert_eq!(cased.status, StatusCode::OK);
    assert_eq!(cased.body["value"], json!([]));

    // Pages of two, newest first, through @odata.nextLink.
    let (mut seen, mut pages, mut times) = (Vec::new(), 0, Vec::new());
    let mut next = Some(format!(
        "/auditLogs/provisioning?$filter=jobId eq '{job}'&$top=2"
    ));
    while let Some(url) = next.take() {
        let page = api.get(&url).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let value = page.body["value"].as_array().unwrap();
        assert!(value.len() <= 2);
        for e in value {
            seen.push(e["id"].as_str().unwrap().to_string());
            times.push(e["activityDateTime"].as_str().unwrap().to_string());
        }
        next = page.body["@odata.nextLink"].as_str().map(str::to_string);
        if let Some(n) = &next {
            assert!(n.contains("skiptoken") && n.contains("filter"), "{n}");
        }
        pages += 1;
    }
    // 9 users and the assigned group.
    assert_eq!((seen.len(), pages), (10, 5));
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 10);
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );

    for bad in [
        "/auditLogs/provisioning?$filter=userPrincipalName eq 'x'",
        "/auditLogs/provisioning?$filter=jobId ne 'x'",
        "/auditLogs/provisioning?$filter=jobId eq 'x' or jobId eq 'y'",
    ] {
        let a = api.get(bad).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(a.body["error"]["code"], "Request_UnsupportedQuery", "{bad}");
    }
    let too_big = api.get("/auditLogs/provisioning?$top=501").await;
    assert_eq!(too_big.status, StatusCode::BAD_REQUEST);
}

async fn job_status(api: &Api, job: &str) -> Value {
    let got = api.get(&job_path(job, "")).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    got.body["status"].clone()
}

#[tokio::test]
async fn scim_faults_quarantine_the_job_and_a_full_restart_recovers() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let (job, _, secret) = configure(&api, &sandbox).await;

    sandbox
        .inject_fault(Fault::parse("scim:503x2").unwrap())
        .await;
    let start = api
        .call(Method::POST, &job_path(&job, "/start"), None)
        .await;
    assert_eq!(start.status, StatusCode::NO_CONTENT);
    sandbox.wait_idle().await;
    let status = job_status(&api, &job).await;
    assert_eq!(status["code"], "Quarantine", "{status}");
    assert_eq!(
        status["quarantine"]["error"]["code"],
        "SystemForCrossDomainIdentityManagementServiceUnavailable"
    );
    assert!(
        status["quarantine"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("503")
    );
    assert_eq!(
        status["quarantine"]["reason"],
        "EncounteredQuarantineException"
    );
    assert_eq!(sandbox.dump().await["orchidea"]["users"], json!([]));
    // The cycle stopped on its first SCIM request: one failure is left.
    assert_eq!(
        sandbox.pending_faults(),
        vec![Fault::fail(FaultTarget::Scim, 503, 1)]
    );

    // The last failure answers with SCIM's error body.
    let direct = answer(
        orchidea_wizard::platform::http::loopback_client()
            .get(format!("{}/Users", sandbox.scim_url))
            .bearer_auth(&secret),
    )
    .await;
    assert_eq!(direct.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        direct.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(direct.body["status"], "503");
    assert!(sandbox.pending_faults().is_empty(), "spent");

    let restart = api
        .post(
            &job_path(&job, "/restart"),
            json!({"criteria": {"resetScope": "Full"}}),
        )
        .await;
    assert_eq!(restart.status, StatusCode::NO_CONTENT, "{}", restart.body);
    sandbox.wait_idle().await;
    let status = job_status(&api, &job).await;
    assert_eq!(status["code"], "Active", "{status}");
    assert!(status["quarantine"].is_null());
    assert_eq!(status["lastExecution"]["state"], "Succeeded");
    assert_eq!(scim_count(&sandbox, &secret, "AdeleV@contoso.com").await, 1);
    assert_eq!(
        sandbox.dump().await["orchidea"]["users"]
            .as_array()
            .unwrap()
            .len(),
        7
    );

    // A refused secret on the lookups quarantines with the credential code.
    sandbox
        .inject_fault(Fault::parse("scim:GET:/Users:401x1").unwrap())
        .await;
    let restart = api
        .post(
            &job_path(&job, "/restart"),
            json!({"criteria": {"resetScope": "Full"}}),
        )
        .await;
    assert_eq!(restart.status, StatusCode::NO_CONTENT);
    sandbox.wait_idle().await;
    let status = job_status(&api, &job).await;
    assert_eq!(status["code"], "Quarantine");
    assert_eq!(
        status["quarantine"]["error"]["code"],
        "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable"
    );
}

#[tokio::test]
async fn graph_faults_answer_with_graph_errors_and_tenant_files_carry_faults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.json");
    let mut tenant: Value = crate::common::default_tenant();
    tenant["faults"] = json!(["scim:latency=1", {"target": "scim", "status": 500, "count": 1}]);
    std::fs::write(&path, tenant.to_string()).unwrap();
    let sandbox = Sandbox::start(SandboxOptions {
        tenant_file: Some(path),
        faults: vec![Fault::parse("graph:POST:/start:429x1:retry-after=2").unwrap()],
        ..Default::default()
    })
    .await
    .unwrap();
    let pending = sandbox.pending_faults();
    assert_eq!(pending.len(), 3);
    assert_eq!(pending[1], Fault::fail(FaultTarget::Scim, 500, 1));
    assert_eq!(pending[2].target, FaultTarget::Graph);

    let api = Api::new(&sandbox);
    let (job, _, secret) = configure(&api, &sandbox).await;
    let throttled = api
        .call(Method::POST, &job_path(&job, "/start"), None)
        .await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.headers["retry-after"], "2");
    assert_eq!(throttled.body["error"]["code"], "TooManyRequests");
    assert!(throttled.body["error"]["innerError"]["request-id"].is_string());
    let status = job_status(&api, &job).await;
    assert_eq!(
        status["code"], "NotConfigured",
        "the refused start did nothing"
    );

    // A dropped connection is a transport error for the client.
    sandbox
        .inject_fault(Fault::parse("scim:drop:x1").unwrap())
        .await;
    let http = orchidea_wizard::platform::http::loopback_client();
    // The tenant file's 500 comes first.
    let first = http
        .get(format!("{}/Users", sandbox.scim_url))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let dropped = async {
        http.get(format!("{}/Users", sandbox.scim_url))
            .bearer_auth(&secret)
            .send()
            .await?
            .bytes()
            .await
    }
    .await;
    assert!(dropped.is_err(), "{dropped:?}");
    let fine = http
        .get(format!("{}/Users", sandbox.scim_url))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), StatusCode::OK);
}

#[tokio::test]
async fn me_is_the_admin_and_assigning_a_group_brings_its_members_in_scope() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let opts = || SandboxOptions {
        state_file: Some(state.clone()),
        ..Default::default()
    };
    let sandbox = Sandbox::start(opts()).await.unwrap();
    let api = Api::new(&sandbox);
    let me = api.get("/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["id"], ALLAN);
    assert_eq!(me.body["mail"], "AllanD@contoso.com");
    assert_eq!(me.body["userPrincipalName"], "alland@contoso.com");
    assert!(me.body["displayName"].is_string());
    let selected = api.get("/me?$select=mail").await;
    assert_eq!(selected.body["mail"], "AllanD@contoso.com");
    assert!(selected.body.get("jobTitle").is_none());

    let (job, rule, secret) = configure(&api, &sandbox).await;
    let before = on_demand(&api, &job, &rule, ALLAN).await;
    let (key, value) = parse_on_demand(&before.body);
    assert_eq!(key["result"], "Skipped");
    assert_eq!(step_types(&value).last(), Some(&"Scoping"));

    let assign_path = format!("/servicePrincipals/{ORCHIDEA_SP}/appRoleAssignedTo");
    let body =
        json!({"principalId": IT_OPERATIONS, "resourceId": ORCHIDEA_SP, "appRoleId": DEFAULT_ROLE});
    let created = api.post(&assign_path, body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["principalId"], IT_OPERATIONS);
    assert_eq!(created.body["principalType"], "Group");
    assert_eq!(created.body["principalDisplayName"], "IT Operations");
    assert_eq!(created.body["resourceId"], ORCHIDEA_SP);
    assert_eq!(created.body["appRoleId"], DEFAULT_ROLE);
    assert!(created.body["id"].as_str().is_some_and(|i| !i.is_empty()));

    let duplicate = api.post(&assign_path, body).await;
    assert_eq!(duplicate.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        duplicate.body["error"]["message"],
        "Permission being assigned already exists on the object"
    );
    let wrong_role = api
        .post(
            &assign_path,
            json!({"principalId": ADELE, "resourceId": ORCHIDEA_SP, "appRoleId": "11111111-1111-1111-1111-111111111111"}),
        )
        .await;
    assert_eq!(wrong_role.status, StatusCode::BAD_REQUEST);
    let wrong_resource = api
        .post(
            &assign_path,
            json!({"principalId": ALLAN, "resourceId": "c273f536-e2b2-5749-a60f-1d5f5350f731", "appRoleId": DEFAULT_ROLE}),
        )
        .await;
    assert_eq!(wrong_resource.status, StatusCode::BAD_REQUEST);
    let nobody = api
        .post(
            &assign_path,
            json!({"principalId": "00000000-0000-0000-0000-00000000dead", "resourceId": ORCHIDEA_SP, "appRoleId": DEFAULT_ROLE}),
        )
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);

    let after = on_demand(&api, &job, &rule, ALLAN).await;
    let (key, value) = parse_on_demand(&after.body);
    assert_eq!(key["result"], "Success", "{key}");
    assert_eq!(value["provisioningSteps"][1]["details"]["Assigned"], "True");
    assert_eq!(scim_count(&sandbox, &secret, "AllanD@contoso.com").await, 1);
    sandbox.shutdown().await;

    // The assignment is in the state file.
    let sandbox = Sandbox::start(opts()).await.unwrap();
    let api = Api::new(&sandbox);
    let list = api
        .get(&format!(
            "/servicePrincipals/{ORCHIDEA_SP}/appRoleAssignedTo?$filter=principalId eq '{IT_OPERATIONS}'"
        ))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        list.body["value"][0]["createdDateTime"],
        created.body["createdDateTime"]
    );
}

#[tokio::test]
async fn me_without_a_signed_in_user_is_refused_like_an_app_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.json");
    let mut tenant: Value = crate::common::default_tenant();
    tenant.as_object_mut().unwrap().remove("signedInUser");
    std::fs::write(&path, tenant.to_string()).unwrap();
    let sandbox = Sandbox::start(SandboxOptions {
        tenant_file: Some(path.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    let me = Api::new(&sandbox).get("/me").await;
    assert_eq!(me.status, StatusCode::BAD_REQUEST);
    assert!(
        me.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("delegated")
    );

    tenant["signedInUser"] = json!("nobody@contoso.com");
    std::fs::write(&path, tenant.to_string()).unwrap();
    let err = Sandbox::start(SandboxOptions {
        tenant_file: Some(path),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("signedInUser"), "{err}");
}

async fn restart_with(api: &Api, sandbox: &Sandbox, job: &str, body: Option<Value>) {
    let restart = api
        .call(Method::POST, &job_path(job, "/restart"), body)
        .await;
    assert_eq!(restart.status, StatusCode::NO_CONTENT, "{}", restart.body);
    sandbox.wait_idle().await;
}

/// Orchidea's users as (externalId, active).
async fn active_by_id(sandbox: &Sandbox) -> Vec<(String, bool)> {
    let dump = sandbox.dump().await;
    let mut out: Vec<(String, bool)> = dump["orchidea"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["externalId"].as_str().unwrap().to_string(),
                u["active"] == true,
            )
        })
        .collect();
    out.sort();
    out
}

async fn logged(api: &Api, job: &str, action: &str) -> Vec<Value> {
    let got = api
        .get(&format!(
            "/auditLogs/provisioning?$top=500&$filter=jobId eq '{job}' and provisioningAction eq '{action}'"
        ))
        .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    got.body["value"].as_array().unwrap().clone()
}

#[tokio::test]
async fn deletions_past_the_threshold_are_held_until_a_force_deletes_restart() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let (job, _, secret) = configure(&api, &sandbox).await;
    // Everyone in scope first, with a threshold of 2 deletions per cycle.
    save_scope(&api, &sandbox, &secret, true, Some(2)).await;
    restart_with(&api, &sandbox, &job, Some(json!({"criteria": {}}))).await;
    assert_eq!(job_status(&api, &job).await["code"], "Active");
    let before = active_by_id(&sandbox).await;
    // Back to assigned users only: every active unassigned user would be disabled.
    save_scope(&api, &sandbox, &secret, false, Some(2)).await;
    let assigned = orchidea_assigned(&sandbox).await;
    let leaving: BTreeSet<String> = before
        .iter()
        .filter(|(id, active)| *active && !assigned.contains(id))
        .map(|(id, _)| id.clone())
        .collect();
    assert!(leaving.len() > 2, "{leaving:?}");

    let start = api
        .call(Method::POST, &job_path(&job, "/start"), None)
        .await;
    assert_eq!(start.status, StatusCode::NO_CONTENT);
    sandbox.wait_idle().await;
    let status = job_status(&api, &job).await;
    assert_eq!(status["code"], "Quarantine", "{status}");
    assert_eq!(status["quarantine"]["reason"], "TooManyDeletes", "{status}");
    assert_eq!(status["quarantine"]["seriesCount"], 1);
    assert_eq!(active_by_id(&sandbox).await, before, "nothing was disabled");
    // Each held deletion is in the log as stagedDelete, skipped.
    let staged = logged(&api, &job, "stagedDelete").await;
    let staged_ids: BTreeSet<String> = staged
        .iter()
        .map(|e| e["sourceIdentity"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(staged_ids, leaving);
    assert!(
        staged
            .iter()
            .all(|e| e["provisioningStatusInfo"]["status"] == "skipped")
    );
    assert!(logged(&api, &job, "disable").await.is_empty());

    // Neither the portal's restart (no body, empty criteria) nor the
    // documented example's scope lets them through.
    for body in [
        None,
        Some(json!({"criteria": {}})),
        Some(json!({"criteria": {"resetScope": "Watermark, Escrows, QuarantineState"}})),
    ] {
        restart_with(&api, &sandbox, &job, body.clone()).await;
        let status = job_status(&api, &job).await;
        assert_eq!(status["quarantine"]["reason"], "TooManyDeletes", "{body:?}");
        assert_eq!(active_by_id(&sandbox).await, before, "{body:?}");
    }
    // A value outside synchronizationJobRestartScope is refused.
    let bad = api
        .post(
            &job_path(&job, "/restart"),
            json!({"criteria": {"resetScope": "Watermark, Everything"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    restart_with(
        &api,
        &sandbox,
        &job,
        Some(json!({"criteria": {"resetScope": "ForceDeletes"}})),
    )
    .await;
    let status = job_status(&api, &job).await;
    assert_eq!(status["code"], "Active", "{status}");
    assert!(status["quarantine"].is_null(), "{status}");
    let after = active_by_id(&sandbox).await;
    for (id, active) in &after {
        let was = before.iter().find(|(b, _)| b == id).unwrap().1;
        assert_eq!(*active, was && !leaving.contains(id), "{id}");
    }
    let disabled: BTreeSet<String> = logged(&api, &job, "disable")
        .await
        .iter()
        .map(|e| e["sourceIdentity"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(disabled, leaving);
}

#[tokio::test]
async fn each_restart_flag_does_what_the_criteria_page_says() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api = Api::new(&sandbox);
    let (job, _, secret) = configure(&api, &sandbox).await;
    save_scope(&api, &sandbox, &secret, true, Some(2)).await;
    restart_with(&api, &sandbox, &job, None).await;
    let before = active_by_id(&sandbox).await;
    save_scope(&api, &sandbox, &secret, false, Some(2)).await;
    restart_with(&api, &sandbox, &job, None).await;
    let scope = |s: &str| Some(json!({"criteria": {"resetScope": s}}));
    let quarantine = |status: &Value| {
        (
            status["quarantine"]["reason"]
                .as_str()
                .unwrap_or("none")
                .to_string(),
            status["quarantine"]["seriesCount"].as_i64().unwrap_or(0),
        )
    };
    assert_eq!(
        quarantine(&job_status(&api, &job).await),
        ("TooManyDeletes".into(), 1)
    );
    // None starts the job without lifting the quarantine: the series goes on.
    restart_with(&api, &sandbox, &job, scope("None")).await;
    assert_eq!(
        quarantine(&job_status(&api, &job).await),
        ("TooManyDeletes".into(), 2)
    );
    // QuarantineState lifts it; the next cycle, still over the threshold, starts a new series.
    restart_with(&api, &sandbox, &job, scope("QuarantineState")).await;
    assert_eq!(
        quarantine(&job_status(&api, &job).await),
        ("TooManyDeletes".into(), 1)
    );
    restart_with(&api, &sandbox, &job, scope("Escrows")).await;
    assert_eq!(job_status(&api, &job).await["escrowsPruned"], true);
    assert_eq!(active_by_id(&sandbox).await, before, "still held");
    // ConnectorDataStore forgets what the job provisioned: users are matched
    // again (no duplicates), and the ones out of scope are no longer known
    // to it, so they are neither disabled nor held ("DO NOT USE").
    restart_with(&api, &sandbox, &job, scope("ConnectorDataStore")).await;
    let status = job_status(&api, &job).await;
    assert_eq!(quarantine(&status), ("none".into(), 0), "{status}");
    assert_eq!(active_by_id(&sandbox).await, before);
}

#[tokio::test]
async fn deletions_within_or_without_a_threshold_go_through() {
    for threshold in [None, Some(50)] {
        let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
        let api = Api::new(&sandbox);
        let (job, _, secret) = configure(&api, &sandbox).await;
        save_scope(&api, &sandbox, &secret, true, threshold).await;
        restart_with(&api, &sandbox, &job, None).await;
        save_scope(&api, &sandbox, &secret, false, threshold).await;
        restart_with(&api, &sandbox, &job, None).await;
        let status = job_status(&api, &job).await;
        assert_eq!(status["code"], "Active", "{threshold:?}: {status}");
        assert!(logged(&api, &job, "stagedDelete").await.is_empty());
        assert!(!logged(&api, &job, "disable").await.is_empty());
    }
}

/// Users assigned to Orchidea, directly or through a group.
async fn orchidea_assigned(sandbox: &Sandbox) -> BTreeSet<String> {
    let dump = sandbox.dump().await;
    let sp = dump["entra"]["servicePrincipals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == ORCHIDEA_SP)
        .unwrap()
        .clone();
    let mut ids: BTreeSet<String> = sp["assignments"]["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let groups: Vec<&str> = sp["assignments"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for g in dump["entra"]["groups"].as_array().into_iter().flatten() {
        if groups.contains(&g["id"].as_str().unwrap_or_default()) {
            ids.extend(
                g["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string)),
            );
        }
    }
    ids
}
