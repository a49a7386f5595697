//! Graph's permissions, as each v1.0 page's table has them: the sandbox
//! refuses a token without one of a route's accepted sets (403
//! `Authorization_RequestDenied`), the wizard requests what it uses and, on
//! a 403, names the permission and the admin-consent link. Also the
//! undocumented and advanced reads of issue #13 item 8: the saved settings
//! GET may fail without failing the run, the deletion threshold is read
//! back from the job, and the role check sends what an `OData` cast needs.
//! Everything over real HTTP on 127.0.0.1.

use crate::common;

use common::graph_api::{Api, answer};
use orchidea_wizard::engine::{AlwaysYes, Engine, EngineError, Notifications};
use orchidea_wizard::sandbox::{Fault, Sandbox, SandboxOptions, SignInBehaviour};
use orchidea_wizard::services::graph::GraphError;
use orchidea_wizard::services::signin::GRAPH_PERMISSIONS;
use orchidea_wizard::setup::{self, Choices};
use orchidea_wizard::{Status, StepId};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CLIENT: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

async fn sandbox_with(token_scopes: Option<Vec<String>>) -> Sandbox {
    Sandbox::start(SandboxOptions {
        sign_in: Some(SignInBehaviour {
            graph_token_scopes: token_scopes,
            ..Default::default()
        }),
        ..SandboxOptions::default()
    })
    .await
    .unwrap()
}

fn without(missing: &str) -> Vec<String> {
    GRAPH_PERMISSIONS
        .iter()
        .filter(|p| **p != missing)
        .map(std::string::ToString::to_string)
        .collect()
}

/// A device-code sign-in to the sandbox asking for `scope`; the access token.
async fn device_token(sandbox: &Sandbox, scope: &str) -> String {
    let http = orchidea_wizard::platform::http::loopback_client();
    let base = format!("{}organizations/oauth2/v2.0", sandbox.login_url);
    let dc: Value = http
        .post(format!("{base}/devicecode"))
        .form(&[("client_id", CLIENT), ("scope", scope)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", CLIENT),
        ("device_code", dc["device_code"].as_str().unwrap()),
    ];
    loop {
        let body: Value = http
            .post(format!("{base}/token"))
            .form(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if body["error"] == "authorization_pending" {
            continue;
        }
        return body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_string();
    }
}

/// Runs the steps up to the one that finds the app, so the engine knows it.
async fn discover(engine: &Engine) {
    for step in StepId::ALL {
        engine.run_step(step).await.unwrap();
        if step == StepId::OpenEnterpriseApp {
            break;
        }
    }
}

#[tokio::test]
async fn assigning_without_approleassignment_is_refused_and_the_message_names_it() {
    let sandbox = sandbox_with(Some(without("AppRoleAssignment.ReadWrite.All"))).await;
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    discover(&engine).await;
    let groups = engine.list_groups("").await.unwrap();
    let group = groups.first().expect("the tenant has groups");
    let err = engine
        .assign_to_app(&group.id, group.display_name.as_deref().unwrap_or("group"))
        .await
        .unwrap_err();
    let EngineError::Graph(GraphError::Forbidden { code, needs, .. }) = &err else {
        panic!("not a 403: {err:?}");
    };
    assert_eq!(code, "Authorization_RequestDenied");
    assert!(
        needs
            .as_deref()
            .is_some_and(|n| n.contains("POST /servicePrincipals/{id}/appRoleAssignedTo")),
        "{needs:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("AppRoleAssignment.ReadWrite.All and Application.Read.All"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{}organizations/v2.0/adminconsent?client_id=",
            sandbox.login_url
        )),
        "{text}"
    );
    assert!(
        engine
            .facts()
            .await
            .changes
            .iter()
            .all(|c| !c.contains("assigned")),
        "nothing was assigned"
    );

    // The wizard's own set is enough: the same call succeeds.
    let full = sandbox_with(None).await;
    let engine = Engine::new(setup::sandbox_config(&full, None, Choices::default()));
    discover(&engine).await;
    let groups = engine.list_groups("").await.unwrap();
    let assigned_before = Api::new(&full)
        .get(&format!(
            "/servicePrincipals/{}/appRoleAssignedTo",
            Api::new(&full).sp_id("Orchidea").await
        ))
        .await
        .body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["principalId"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let fresh = groups
        .iter()
        .find(|g| !assigned_before.contains(&g.id))
        .expect("a group not yet assigned");
    engine.assign_to_app(&fresh.id, "a group").await.unwrap();
}

#[tokio::test]
async fn a_signed_in_token_carries_the_scopes_asked_for_and_graph_checks_each_table() {
    let sandbox = sandbox_with(None).await;
    let origin = sandbox.graph_url.origin().ascii_serialization();
    let sp = Api::new(&sandbox).sp_id("Orchidea").await;
    let assign = format!("/servicePrincipals/{sp}/appRoleAssignedTo");
    let assigned = Api::new(&sandbox).get(&assign).await.body.to_string();
    let (groups, _) = Api::new(&sandbox).get_all("/groups").await;
    let group = groups
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .find(|id| !assigned.contains(id.as_str()))
        .expect("a group not yet assigned");
    let body = json!({
        "principalId": group,
        "resourceId": sp,
        "appRoleId": "00000000-0000-0000-0000-000000000000",
    });

    // What the wizard asked for before #13: no AppRoleAssignment.ReadWrite.All.
    let old = device_token(
        &sandbox,
        &format!("{origin}/Application.ReadWrite.All {origin}/Synchronization.ReadWrite.All offline_access"),
    )
    .await;
    let api = Api {
        token: old,
        ..Api::new(&sandbox)
    };
    assert_eq!(api.get(&assign).await.status, StatusCode::OK);
    let refused = api.post(&assign, body.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.body["error"]["code"], "Authorization_RequestDenied");
    assert_eq!(
        refused.body["error"]["message"],
        "Insufficient privileges to complete the operation."
    );
    assert!(refused.body["error"]["innerError"]["request-id"].is_string());
    // The refusal names the same request id in its header and its body, so
    // an admin can quote either to Microsoft support.
    assert_eq!(
        refused.headers["request-id"].to_str().unwrap(),
        refused.body["error"]["innerError"]["request-id"]
    );
    // A read-only table: Synchronization.Read.All is enough to read jobs,
    // AuditLog.Read.All was not asked for.
    let logs = api.get("/auditLogs/provisioning").await;
    assert_eq!(logs.status, StatusCode::FORBIDDEN, "{}", logs.body);

    // One half of the pair is not enough either.
    let half = Api {
        token: device_token(
            &sandbox,
            &format!("{origin}/AppRoleAssignment.ReadWrite.All"),
        )
        .await,
        ..Api::new(&sandbox)
    };
    assert_eq!(
        half.post(&assign, body.clone()).await.status,
        StatusCode::FORBIDDEN
    );

    // The wizard's set today.
    let scopes: Vec<String> = GRAPH_PERMISSIONS
        .iter()
        .map(|p| format!("{origin}/{p}"))
        .collect();
    let now = Api {
        token: device_token(&sandbox, &scopes.join(" ")).await,
        ..Api::new(&sandbox)
    };
    let created = now.post(&assign, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
}

#[tokio::test]
async fn the_role_check_sends_what_an_odata_cast_needs_and_the_sandbox_requires_it() {
    let sandbox = sandbox_with(None).await;
    let http = orchidea_wizard::platform::http::loopback_client();
    let url = format!(
        "{}/me/transitiveMemberOf/microsoft.graph.directoryRole",
        sandbox.graph_url
    );
    let bare = answer(http.get(&url).bearer_auth(sandbox.graph_token.expose())).await;
    assert_eq!(bare.status, StatusCode::BAD_REQUEST, "{}", bare.body);
    assert_eq!(bare.body["error"]["code"], "Request_UnsupportedQuery");
    let header_only = answer(
        http.get(&url)
            .bearer_auth(sandbox.graph_token.expose())
            .header("ConsistencyLevel", "eventual"),
    )
    .await;
    assert_eq!(header_only.status, StatusCode::BAD_REQUEST);
    let full = answer(
        http.get(format!("{url}?$count=true"))
            .bearer_auth(sandbox.graph_token.expose())
            .header("ConsistencyLevel", "eventual"),
    )
    .await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.body);
    assert!(full.body["@odata.count"].is_number(), "{}", full.body);

    // The wizard's client sends both.
    let graph = orchidea_wizard::services::graph::GraphClient::new(
        http,
        sandbox.graph_url.clone(),
        std::sync::Arc::new(orchidea_wizard::services::graph::StaticToken(
            sandbox.graph_token.clone(),
        )),
    );
    let check = orchidea_wizard::services::signin::check_roles(&graph)
        .await
        .unwrap();
    assert!(
        matches!(
            check,
            orchidea_wizard::services::signin::RoleCheck::Sufficient(_)
        ),
        "{check:?}"
    );
}

#[tokio::test]
async fn a_run_completes_when_the_saved_settings_cannot_be_read() {
    let sandbox = sandbox_with(None).await;
    // Graph v1.0 does not document this GET: a tenant may refuse it.
    sandbox
        .inject_fault(Fault::parse("graph:GET:/synchronization/secrets:400x*").unwrap())
        .await;
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    engine.run_all(&AlwaysYes).await.unwrap();
    let facts = engine.facts().await;
    for step in StepId::ALL {
        assert!(
            facts.checklist.status(step).is_complete(),
            "{step:?}: {:?}",
            facts.checklist.status(step)
        );
    }
    assert!(
        facts
            .warnings
            .iter()
            .any(|w| w
                .contains("Could not read the saved provisioning settings (Graph answered 400")),
        "{:?}",
        facts.warnings
    );
    let step6 = facts
        .checklist
        .status(StepId::SaveCredentials)
        .detail()
        .to_string();
    assert!(
        step6.contains("could not be read first (Graph answered 400"),
        "{step6}"
    );
}

#[tokio::test]
async fn step_15_reads_the_threshold_back_from_the_job() {
    let sandbox = sandbox_with(None).await;
    let choices = Choices {
        notifications: Some(Notifications {
            email: Some("admin@contoso.com".into()),
            delete_threshold: Some(250),
        }),
        ..Choices::default()
    };
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, choices));
    for step in StepId::ALL {
        if step != StepId::StartProvisioning {
            engine.run_step(step).await.unwrap();
        }
    }
    let facts = engine.facts().await;
    let Status::Done(detail) = facts.checklist.status(StepId::SaveSettings) else {
        panic!("{:?}", facts.checklist.status(StepId::SaveSettings));
    };
    assert!(
        detail.contains(
            "The job shows the deletion threshold 250 (QuarantineTooManyDeletesThreshold)"
        ),
        "{detail}"
    );
    // The sandbox shows it as Graph's job GET does.
    let api = Api::new(&sandbox);
    let sp = api.sp_id("Orchidea").await;
    let jobs = api
        .get(&format!("/servicePrincipals/{sp}/synchronization/jobs"))
        .await;
    assert_eq!(
        jobs.body["value"][0]["synchronizationJobSettings"],
        json!([{"name": "QuarantineTooManyDeletesThreshold", "value": "250"}]),
        "{}",
        jobs.body
    );
}

#[test]
fn the_cli_names_the_permission_a_refused_call_needs() {
    // An automation token without Synchronization.*: the first provisioning
    // read is refused, and the CLI says which permission it needed.
    let mut tenant: Value = crate::common::default_tenant();
    tenant["signIn"] = json!({ "graphTokenScopes": without("Synchronization.ReadWrite.All") });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    std::fs::write(&file, tenant.to_string()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orchidea-wizard-cli"))
        .args(["run", "--sandbox", "--yes", "--sandbox-tenant"])
        .arg(&file)
        .env_remove("ORCHIDEA_SCIM_SECRET")
        .env("ORCHIDEA_WIZARD_DATA_DIR", dir.path().join("data"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the CLI runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("Authorization_RequestDenied"), "{text}");
    assert!(
        text.contains("Synchronization.Read.All (for GET /servicePrincipals/{id}/synchronization/"),
        "{text}"
    );
    assert!(text.contains("/v2.0/adminconsent?client_id="), "{text}");
}

#[tokio::test]
async fn a_tenant_consented_to_the_old_set_asks_for_admin_consent_and_default_lacks_the_pair() {
    // Admin consent given before the wizard asked for the assignment pair.
    let old: Vec<String> = without("AppRoleAssignment.ReadWrite.All")
        .into_iter()
        .filter(|p| p != "Application.Read.All")
        .collect();
    let sandbox = Sandbox::start(SandboxOptions {
        sign_in: Some(SignInBehaviour {
            granted_scopes: Some(old),
            ..Default::default()
        }),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let mut cfg = orchidea_wizard::services::signin::SignInConfig::for_cloud(
        orchidea_wizard::platform::cloud::Cloud::Global,
    );
    cfg.login_url = sandbox.login_url.clone();
    cfg.graph_url = sandbox.graph_url.clone();
    let err = orchidea_wizard::services::signin::sign_in_with_device_code(
        &cfg,
        &orchidea_wizard::platform::http::loopback_client(),
        &|_| {},
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert_eq!(err.aadsts(), Some(65001), "{text}");
    assert!(text.contains("/v2.0/adminconsent?client_id="), "{text}");
    assert!(text.contains("AppRoleAssignment.ReadWrite.All"), "{text}");

    // `.default` carries what was consented: reading works, assigning is refused.
    let origin = sandbox.graph_url.origin().ascii_serialization();
    let api = Api {
        token: device_token(&sandbox, &format!("{origin}/.default")).await,
        ..Api::new(&sandbox)
    };
    let sp = api.sp_id("Orchidea").await;
    let refused = api
        .post(
            &format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
            json!({"principalId": sp, "resourceId": sp, "appRoleId": "00000000-0000-0000-0000-000000000000"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}
