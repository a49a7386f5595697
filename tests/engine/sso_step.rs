//! Step 0 from nothing: a tenant with no Orchidea app and a workspace with
//! no Entra IDP run to a started provisioning job; the new app has SAML
//! single sign-on as Orchidea's article asks (checked in the sandbox's own
//! state), Orchidea holds the signing certificate Entra's metadata carries,
//! step 1b's IDP is the one made here, and a second run changes nothing.

use orchidea_wizard::StepId;
use orchidea_wizard::engine::{AlwaysYes, Engine, Scope, SsoChoice};
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::services::graph::OrchideaSaml;
use orchidea_wizard::services::orchidea::OrchideaAdmin;
use orchidea_wizard::setup::{Choices, sandbox_config};

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
    let mut cfg = sandbox_config(
        sandbox,
        None,
        Choices {
            scope: Scope::All,
            ..Choices::default()
        },
    );
    cfg.sso.choice = SsoChoice::Yes;
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
