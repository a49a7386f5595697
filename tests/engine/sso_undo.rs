//! Step 0 (#17) beyond the happy path, over the sandbox: a certificate and
//! an IDP whose answers were lost are looked up, never made twice; the run
//! state and the report keep what step 0 created (ids only); undo deletes
//! the IDP the wizard created and leaves the app and its SAML settings.

use orchidea_wizard::StepId;
use orchidea_wizard::engine::undo::UndoAction;
use orchidea_wizard::engine::{AlwaysYes, Scope, report, resume};
use orchidea_wizard::sandbox::Sandbox;
use orchidea_wizard::sandbox::faults::Fault;
use orchidea_wizard::services::graph::{GraphClient, StaticToken};

use crate::sso_step::{engine, from_nothing, saml_idp_ids};

fn graph(sandbox: &Sandbox) -> GraphClient {
    GraphClient::new(
        orchidea_wizard::platform::http::loopback_client(),
        sandbox.graph_url.clone(),
        std::sync::Arc::new(StaticToken(sandbox.graph_token.clone())),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_of_the_certificate_and_the_idp_are_looked_up_not_repeated() {
    let (sandbox, _dir) = from_nothing().await;
    // Both creates land; their answers are lost (HTTP 500 after the change).
    for spec in [
        "graph:POST:/addTokenSigningCertificate:500:after",
        "admin:POST:/idps:500:after",
    ] {
        sandbox.inject_fault(Fault::parse(spec).unwrap()).await;
    }
    let e = engine(&sandbox);
    e.run_all(&AlwaysYes).await.unwrap();
    assert!(sandbox.pending_faults().is_empty(), "both faults hit");
    let facts = e.facts().await;
    assert!(facts.checklist.all_complete(), "{:?}", facts.checklist);
    assert!(matches!(
        facts.checklist.status(StepId::SsoIntegration),
        orchidea_wizard::Status::Done(_)
    ));

    // One certificate, one IDP.
    let sp = facts.app.clone().unwrap().id;
    let saml_sp = graph(&sandbox)
        .get_service_principal_sso(&sp)
        .await
        .unwrap();
    let certs: Vec<_> = saml_sp
        .key_credentials
        .iter()
        .filter(|k| k.is_signing_certificate())
        .collect();
    assert_eq!(certs.len(), 1, "{certs:?}");
    let idps = saml_idp_ids(&sandbox).await;
    assert_eq!(idps.len(), 1, "{idps:?}");
    let thumbprint = certs[0].thumbprint().unwrap();
    assert_eq!(
        saml_sp.preferred_token_signing_key_thumbprint.as_deref(),
        Some(thumbprint.as_str())
    );

    // The run state keeps what step 0 created, ids only.
    let state = resume::load(&sandbox.wizard_dir.join("run-state.json")).unwrap();
    assert_eq!(state.created_sso.len(), 1, "{:?}", state.created_sso);
    let made = &state.created_sso[0];
    assert_eq!(made.service_principal_id, sp);
    assert!(made.app_created && made.saml_set);
    assert_eq!(
        made.certificate_thumbprint.as_deref(),
        Some(thumbprint.as_str())
    );
    assert_eq!(made.certificate_key_id, certs[0].key_id);
    assert_eq!(made.idp_id.as_deref(), Some(idps[0].as_str()));
    // The report lists them.
    let r = report::build(&facts, Scope::All, "sandbox");
    let lines = r.single_sign_on.join("\n");
    assert!(
        lines.contains(&thumbprint)
            && lines.contains(&idps[0])
            && lines.contains("created the enterprise app"),
        "{lines}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_deletes_the_idp_step_0_created_and_leaves_the_app_with_its_saml_settings() {
    let (sandbox, _dir) = from_nothing().await;
    let first = engine(&sandbox);
    first.run_all(&AlwaysYes).await.unwrap();
    let sp = first.facts().await.app.unwrap().id;
    let idps = saml_idp_ids(&sandbox).await;
    assert_eq!(idps.len(), 1);
    drop(first);

    // A later undo knows from the run state what step 0 created.
    let undo = engine(&sandbox);
    let plan = undo.undo_plan().await.unwrap();
    assert!(
        plan.actions.contains(&UndoAction::DeleteIdp {
            id: idps[0].clone(),
            name: orchidea_wizard::services::orchidea::sso::SUGGESTED_IDP_NAME.into(),
        }),
        "{:?}",
        plan.actions
    );
    let delete_at = plan
        .actions
        .iter()
        .position(|a| matches!(a, UndoAction::DeleteIdp { .. }))
        .unwrap();
    assert!(
        plan.actions[..delete_at]
            .iter()
            .any(|a| matches!(a, UndoAction::RevokeSecret { .. })),
        "the secrets that use the IDP are revoked first: {:?}",
        plan.actions
    );
    let text = plan.text();
    assert!(text.contains("SAML single sign-on settings of"), "{text}");
    let outcome = undo.undo(&AlwaysYes).await.unwrap();
    assert!(outcome.confirmed);
    assert!(saml_idp_ids(&sandbox).await.is_empty(), "the IDP is gone");

    // The app and its SAML settings stay.
    let saml_sp = graph(&sandbox)
        .get_service_principal_sso(&sp)
        .await
        .unwrap();
    assert!(saml_sp.is_saml());
    assert!(saml_sp.active_signing_certificate().is_some());

    // A second undo has no IDP to delete.
    let again = engine(&sandbox).undo_plan().await.unwrap();
    assert!(
        !again
            .actions
            .iter()
            .any(|a| matches!(a, UndoAction::DeleteIdp { .. })),
        "{:?}",
        again.actions
    );
}

/// Step 0's rows of the bad-input catalogue (`docs/bad-input.md`), each
/// from a real run over the sandbox; nothing a refusal leaves is made twice.
pub(crate) async fn bad_input_rows(
    rows: &mut std::collections::BTreeMap<String, String>,
    check: impl Fn(&mut std::collections::BTreeMap<String, String>, &str, &str),
) {
    use orchidea_wizard::services::orchidea::ManualScim;
    let (sandbox, _dir) = from_nothing().await;
    let step0 = |e: orchidea_wizard::engine::Engine| async move {
        e.run_step(StepId::SsoIntegration)
            .await
            .unwrap_err()
            .to_string()
    };

    // No workspace address: refused before anything is read.
    let mut e = engine(&sandbox);
    let mut cfg = e.config().clone();
    cfg.sso.workspace_url = None;
    e = orchidea_wizard::engine::Engine::new(cfg);
    check(rows, "sso-workspace-missing", &step0(e).await);

    // A certificate whose create did not land (500, no change): not sent
    // again in this run; the next run adds exactly one.
    sandbox
        .inject_fault(Fault::parse("graph:POST:/addTokenSigningCertificate:500").unwrap())
        .await;
    check(rows, "sso-certificate-lost", &step0(engine(&sandbox)).await);
    // The same for Orchidea's IDP.
    sandbox
        .inject_fault(Fault::parse("admin:POST:/idps:500").unwrap())
        .await;
    check(rows, "sso-idp-lost", &step0(engine(&sandbox)).await);
    assert!(saml_idp_ids(&sandbox).await.is_empty());
    let e = engine(&sandbox);
    e.run_step(StepId::SsoIntegration).await.unwrap();
    let sp = e.facts().await.app.unwrap().id;
    let saml_sp = graph(&sandbox)
        .get_service_principal_sso(&sp)
        .await
        .unwrap();
    assert_eq!(
        saml_sp
            .key_credentials
            .iter()
            .filter(|k| k.is_signing_certificate())
            .count(),
        1
    );
    assert_eq!(saml_idp_ids(&sandbox).await.len(), 1);

    // The manual path before the reply URL: the guide.
    let (sandbox, _dir) = from_nothing().await;
    let mut cfg = orchidea_wizard::setup::sandbox_config(
        &sandbox,
        Some(ManualScim {
            scim_url: sandbox.orchidea_url.join("scim/v2").unwrap(),
            secret: orchidea_wizard::Secret::new("x".repeat(40)),
        }),
        orchidea_wizard::setup::Choices::default(),
    );
    cfg.sso.choice = orchidea_wizard::engine::SsoChoice::Yes;
    let text = step0(orchidea_wizard::engine::Engine::new(cfg)).await;
    check(rows, "sso-reply-url-needed", &text);
    let file = sandbox.wizard_dir.join("orchidea-federation-metadata.xml");
    assert!(text.contains(file.to_str().unwrap()), "{text}");
    assert!(file.exists());
}
