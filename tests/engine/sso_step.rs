//! Step 0 from nothing: a tenant with no Orchidea app and a workspace with
//! no Entra IDP run to a started provisioning job; the new app has SAML
//! single sign-on as Orchidea's article asks (checked in the sandbox's own
//! state), Orchidea holds the signing certificate Entra's metadata carries,
//! step 1b's IDP is the one made here, and a second run changes nothing.

use futures::future::BoxFuture;
use orchidea_wizard::engine::{AlwaysYes, Confirm, Engine, Scope, SsoChoice};
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::services::graph::OrchideaSaml;
use orchidea_wizard::services::orchidea::OrchideaAdmin;
use orchidea_wizard::setup::{Choices, sandbox_config};
use orchidea_wizard::{Status, StepId};

use crate::common::admin_client;

/// No Orchidea app in Entra, no Entra IDP in Orchidea.
pub(crate) async fn from_nothing() -> (Sandbox, tempfile::TempDir) {
    let tenant = crate::common::tenant_from_nothing();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    std::fs::write(&file, tenant.to_string()).unwrap();
    let sandbox = Sandbox::start(SandboxOptions {
        tenant_file: Some(file),
        replication_delay: Some(std::time::Duration::from_millis(200)),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    (sandbox, dir)
}

pub(crate) fn engine(sandbox: &Sandbox) -> Engine {
    engine_choosing(sandbox, SsoChoice::Yes)
}

fn engine_choosing(sandbox: &Sandbox, choice: SsoChoice) -> Engine {
    let mut cfg = sandbox_config(
        sandbox,
        None,
        Choices {
            scope: Scope::All,
            ..Choices::default()
        },
    );
    cfg.sso.choice = choice;
    Engine::new(cfg)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_nothing_to_a_started_job_with_saml_sso_and_a_second_run_changes_nothing() {
    let (sandbox, _dir) = from_nothing().await;
    let first = engine(&sandbox);
    first.run_all(&AlwaysYes).await.unwrap();
    let facts = first.facts().await;
    assert!(facts.checklist.all_complete(), "{:?}", facts.checklist);
    assert!(
        matches!(
            facts.checklist.status(StepId::SsoIntegration),
            orchidea_wizard::Status::Done(_)
        ),
        "{:?}",
        facts.checklist.status(StepId::SsoIntegration)
    );
    let sp = facts.app.clone().unwrap().id;

    // Orchidea holds one SAML IDP; its reply URL is the app's, and its
    // signing certificate is the one Entra's metadata carries.
    let admin = admin_client(&sandbox);
    let saml: Vec<_> = admin
        .list_idps()
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.kind == "saml")
        .collect();
    assert_eq!(saml.len(), 1, "{saml:?}");
    let idp = admin.get_saml_idp(&saml[0].id).await.unwrap();
    let want = OrchideaSaml::new("")
        .with_origin(&sandbox.orchidea_url)
        .with_reply_url(idp.reply_url.as_str());
    let issues = sandbox.saml_issues(&sp, &want).await.unwrap();
    assert!(issues.is_empty(), "{issues:?}");
    // The certificate Entra signs with is the one Orchidea read from the metadata.
    let graph = orchidea_wizard::services::graph::GraphClient::new(
        orchidea_wizard::platform::http::loopback_client(),
        sandbox.graph_url.clone(),
        std::sync::Arc::new(orchidea_wizard::services::graph::StaticToken(
            sandbox.graph_token.clone(),
        )),
    );
    let saml_sp = graph.get_service_principal_sso(&sp).await.unwrap();
    let active = saml_sp.active_signing_certificate().unwrap();
    assert!(
        idp.signing_certificates
            .iter()
            .any(|c| Some(c.as_str()) == active.key.as_deref()),
        "{:?} vs {:?}",
        idp.signing_certificates,
        active.key
    );

    // Step 1b's IDP is the one made here: the SCIM secret was created for it.
    let secrets = admin.list_scim_secrets().await.unwrap();
    assert!(
        secrets.iter().any(|s| !s.revoked && s.idp_id == idp.id),
        "{secrets:?}"
    );
    assert_eq!(
        facts.idp.as_ref().map(|i| i.id.clone()),
        Some(idp.id.clone())
    );

    // A second run changes nothing.
    let second = engine(&sandbox);
    second.run_all(&AlwaysYes).await.unwrap();
    let again = second.facts().await;
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    assert!(matches!(
        again.checklist.status(StepId::SsoIntegration),
        orchidea_wizard::Status::AlreadyDone(_)
    ));
    // Already done, step 0 still names its IDP for step 1b.
    assert_eq!(again.idp.map(|i| i.id), Some(idp.id.clone()));
}

/// Answers step 0's question with `sso` and every pause with yes; keeps
/// what it was asked.
struct Answers {
    sso: bool,
    asked: std::sync::Mutex<Vec<StepId>>,
}

impl Confirm for Answers {
    fn confirm(&self, step: StepId, _: String) -> BoxFuture<'_, bool> {
        self.asked.lock().unwrap().push(step);
        let yes = step != StepId::SsoIntegration || self.sso;
        Box::pin(async move { yes })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asked_the_admin_agrees_once_and_step_0_sets_single_sign_on_up() {
    let (sandbox, _dir) = from_nothing().await;
    let answers = Answers {
        sso: true,
        asked: std::sync::Mutex::default(),
    };
    let engine = engine_choosing(&sandbox, SsoChoice::Ask);
    engine.run_all(&answers).await.unwrap();
    let asked = answers.asked.lock().unwrap().clone();
    assert_eq!(
        asked
            .iter()
            .filter(|s| **s == StepId::SsoIntegration)
            .count(),
        1,
        "{asked:?}"
    );
    let facts = engine.facts().await;
    assert!(matches!(
        facts.checklist.status(StepId::SsoIntegration),
        Status::Done(_)
    ));
    assert_eq!(saml_idp_ids(&sandbox).await.len(), 1);

    // Asked again on the same tenant: nothing is missing, nobody is asked.
    let again = Answers {
        sso: true,
        asked: std::sync::Mutex::default(),
    };
    let second = engine_choosing(&sandbox, SsoChoice::Ask);
    second.run_all(&again).await.unwrap();
    assert!(
        !again
            .asked
            .lock()
            .unwrap()
            .contains(&StepId::SsoIntegration)
    );
    assert!(second.facts().await.changes.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asked_the_admin_declines_or_no_one_is_asked_and_nothing_of_single_sign_on_is_made() {
    let (sandbox, _dir) = from_nothing().await;
    let answers = Answers {
        sso: false,
        asked: std::sync::Mutex::default(),
    };
    let declined = engine_choosing(&sandbox, SsoChoice::Ask);
    // The run goes on without it (the app step then has none to use).
    let _ = declined.run_all(&answers).await;
    assert!(
        answers
            .asked
            .lock()
            .unwrap()
            .contains(&StepId::SsoIntegration)
    );
    assert!(matches!(
        declined.checklist().await.status(StepId::SsoIntegration),
        Status::Manual(_)
    ));
    // `--yes` asks no one: it never sets single sign-on up unasked.
    let unasked = engine_choosing(&sandbox, SsoChoice::Ask);
    let _ = unasked.run_all(&AlwaysYes).await;
    assert!(matches!(
        unasked.checklist().await.status(StepId::SsoIntegration),
        Status::Manual(_)
    ));
    assert!(saml_idp_ids(&sandbox).await.is_empty());
    let dump = sandbox.dump().await;
    let apps = dump["entra"]["applications"].as_array().unwrap();
    assert!(
        apps.iter()
            .all(|a| a["identifierUris"].as_array().is_none_or(Vec::is_empty)),
        "no app holds Orchidea's Identifier: {apps:?}"
    );
}

pub(crate) async fn saml_idp_ids(sandbox: &Sandbox) -> Vec<String> {
    admin_client(sandbox)
        .list_idps()
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.kind == "saml")
        .map(|i| i.id)
        .collect()
}
