//! Step 0 through the window, from nothing: a tenant with no Orchidea app
//! and a workspace with no Entra IDP run to a started provisioning job. The
//! new app has SAML single sign-on as Orchidea's article asks (checked in
//! the sandbox's own state), Orchidea holds the certificate Entra signs
//! with, the SCIM secret is for the IDP made here, and a second run through
//! the window changes nothing.

use std::sync::Arc;

use crate::support::Harness;
use orchidea_wizard::engine::undo::UndoAction;
use orchidea_wizard::sandbox::Sandbox;
use orchidea_wizard::services::graph::{GraphClient, OrchideaSaml, StaticToken};
use orchidea_wizard::services::orchidea::sso::SUGGESTED_IDP_NAME;
use orchidea_wizard::services::orchidea::{HttpOrchideaAdmin, OrchideaAdmin};
use orchidea_wizard::ui::work::Target;
use orchidea_wizard::ui::{Message, ScreenId};
use orchidea_wizard::{Status, StepId};

/// No Orchidea app in Entra, no Entra IDP in Orchidea.
fn from_nothing(dir: &std::path::Path) -> std::path::PathBuf {
    let mut tenant = crate::common::tenant_from_nothing();
    tenant["replicationDelayMs"] = serde_json::Value::from(200);
    let path = dir.join("tenant.json");
    std::fs::write(&path, tenant.to_string()).unwrap();
    path
}

fn sandbox(h: &Harness) -> Arc<Sandbox> {
    match h.app.session().target.clone() {
        Some(Target::Sandbox(s)) => s,
        _ => panic!("not in the sandbox"),
    }
}

/// Runs every remaining step, answering the pauses (9, 14, 16) with Continue.
fn run_to_the_summary(h: &mut Harness) {
    h.send(Message::RunRemaining);
    for _ in 0..3 {
        if h.app.session().pause.is_none() {
            break;
        }
        h.click("Continue");
    }
    assert_eq!(h.app.screen(), ScreenId::Summary, "{:?}", h.app.error());
    assert!(h.app.session().checklist.all_complete());
}

#[test]
fn from_nothing_the_window_sets_up_saml_then_provisioning_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = from_nothing(dir.path());
    let state = dir.path().join("state.json");
    let (tenant_file, state_file) = (tenant.clone(), state.clone());
    let mut h = Harness::build(true, move |options, _| {
        options.sandbox_tenant = Some(tenant_file);
        options.sandbox_state = Some(state_file);
    });

    // Step 0 waits for the admin: nothing has single sign-on.
    assert_eq!(h.app.screen(), ScreenId::Sso);
    assert!(matches!(
        h.app.session().checklist.status(StepId::SsoIntegration),
        Status::Manual(_)
    ));
    h.click("Set up single sign-on");
    let status = h.app.session().checklist.status(StepId::SsoIntegration);
    assert!(matches!(status, Status::Done(_)), "{status:?}");
    // The waits for the new app are step 0's, not step 2's.
    assert_eq!(
        h.app.session().checklist.status(StepId::OpenEnterpriseApp),
        &Status::Pending
    );
    h.click("Next");
    assert_eq!(h.app.screen(), ScreenId::OrchideaSecret);
    run_to_the_summary(&mut h);
    // The summary lists what step 0 did with the rest.
    h.assert_sees_part("Orchidea: created IDP");
    h.assert_sees_part("SAML signing certificate");

    let sandbox = sandbox(&h);
    let sp = h.app.session().facts().unwrap().app.clone().unwrap().id;

    let admin = HttpOrchideaAdmin::new(
        orchidea_wizard::platform::http::loopback_client(),
        sandbox.orchidea_url.clone(),
        sandbox.admin_token.clone(),
    );
    let saml: Vec<_> = h
        .block_on(admin.list_idps())
        .unwrap()
        .into_iter()
        .filter(|i| i.kind == "saml")
        .collect();
    assert_eq!(saml.len(), 1, "{saml:?}");
    let idp = h.block_on(admin.get_saml_idp(&saml[0].id)).unwrap();
    // Identifier, Sign on URL, and the reply URL Orchidea gave: as the
    // sandbox's own checker of Orchidea's article sees them.
    let want = OrchideaSaml::new("")
        .with_origin(&sandbox.orchidea_url)
        .with_reply_url(idp.reply_url.as_str());
    let issues = h.block_on(sandbox.saml_issues(&sp, &want)).unwrap();
    assert!(issues.is_empty(), "{issues:?}");
    // Orchidea holds the certificate Entra signs with.
    let graph = GraphClient::new(
        orchidea_wizard::platform::http::loopback_client(),
        sandbox.graph_url.clone(),
        Arc::new(StaticToken(sandbox.graph_token.clone())),
    );
    let saml_sp = h.block_on(graph.get_service_principal_sso(&sp)).unwrap();
    let active = saml_sp.active_signing_certificate().unwrap();
    assert!(
        idp.signing_certificates
            .iter()
            .any(|c| Some(c.as_str()) == active.key.as_deref())
    );
    // Step 1b chose the IDP made here: the SCIM secret is for it.
    let secrets = h.block_on(admin.list_scim_secrets()).unwrap();
    assert!(
        secrets.iter().any(|s| !s.revoked && s.idp_id == idp.id),
        "{secrets:?}"
    );
    // The window's undo knows the IDP step 0 made (its engine was not the
    // one that made it: the run state carries it).
    let engine = h.app.session().engine.clone().unwrap();
    let plan = h.block_on(engine.undo_plan()).unwrap();
    assert!(
        plan.actions.contains(&UndoAction::DeleteIdp {
            id: idp.id.clone(),
            name: SUGGESTED_IDP_NAME.into(),
        }),
        "{:?}",
        plan.actions
    );
    drop(h);

    // A second run through the window, on the same sandbox state: step 0
    // is not needed (its screen is skipped) and nothing changes.
    let mut again = Harness::build(true, move |options, _| {
        options.sandbox_tenant = Some(tenant);
        options.sandbox_state = Some(state);
    });
    // The setup exists: the window opens on its check.
    assert_eq!(again.app.screen(), ScreenId::Drift);
    run_to_the_summary(&mut again);
    assert!(matches!(
        again.app.session().checklist.status(StepId::SsoIntegration),
        Status::AlreadyDone(_)
    ));
    let facts = again.app.session().facts().unwrap();
    assert!(facts.changes.is_empty(), "{:?}", facts.changes);
}

#[test]
fn by_hand_the_window_saves_the_metadata_and_takes_the_reply_url_orchidea_gives() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = from_nothing(dir.path());
    let mut h = Harness::build(true, move |options, _| {
        options.sandbox_tenant = Some(tenant);
    });
    assert_eq!(h.app.screen(), ScreenId::Sso);
    // Up/Down move between the two ways, as on the other screens.
    h.send(Message::Arrow);
    h.assert_sees_part("/admin/settings/authentication");
    h.send(Message::Arrow);
    assert!(!h.sees_part("/admin/settings/authentication"));
    h.click("I add the IDP in Orchidea");
    h.assert_sees_part("/admin/settings/authentication");
    // The four names Orchidea asks for, each with its copy button.
    h.assert_sees("http://schemas.microsoft.com/identity/claims/objectidentifier");

    // First: Entra's half, and the metadata file for Orchidea.
    h.click("Set up single sign-on");
    let status = h.app.session().checklist.status(StepId::SsoIntegration);
    assert!(status.is_failed(), "{status:?}");
    let sp = h.app.session().facts().unwrap().app.clone().unwrap().id;
    let sandbox = sandbox(&h);
    let metadata = sandbox.wizard_dir.join("orchidea-federation-metadata.xml");
    h.assert_sees_part(&metadata.display().to_string());
    let xml = std::fs::read_to_string(&metadata).unwrap();

    // The admin adds the IDP in Orchidea's web UI and pastes its reply URL:
    // first with a typo, refused before anything is written.
    let reply = h.block_on(crate::common::add_idp_by_hand(
        &sandbox.orchidea_url,
        "Entra SSO",
        "",
        &xml,
    ));
    let field = "https://app.orchidea.dev/api/saml/login/…";
    let typo = format!("{reply}?x=1");
    h.type_into(field, &typo);
    h.click("Set up single sign-on");
    // Its own message, under the field; step 0 did not run again (it still
    // shows why it stopped the first time).
    h.assert_sees_part("query");
    let status = h.app.session().checklist.status(StepId::SsoIntegration);
    assert!(
        status.is_failed() && !status.detail().contains("query"),
        "{status:?}"
    );
    let want = OrchideaSaml::new("")
        .with_origin(&sandbox.orchidea_url)
        .with_reply_url(&reply);
    assert!(
        !h.block_on(sandbox.saml_issues(&sp, &want))
            .unwrap()
            .is_empty()
    );

    // Then right: step 0 is done and Entra's Reply URL is Orchidea's.
    h.send(Message::Sso(
        orchidea_wizard::ui::screen::sso::Message::ReplyUrlChanged(reply.clone()),
    ));
    h.click("Set up single sign-on");
    let status = h.app.session().checklist.status(StepId::SsoIntegration);
    assert!(matches!(status, Status::Done(_)), "{status:?}");
    let issues = h.block_on(sandbox.saml_issues(&sp, &want)).unwrap();
    assert!(issues.is_empty(), "{issues:?}");
    assert_eq!(h.app.screen(), ScreenId::Sso, "Next moves on");
}
