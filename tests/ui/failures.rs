//! Failure paths through the window: the admin sees the cause and the fix,
//! and nothing typed is lost.

use crate::support::Harness;
use orchidea_wizard::engine::Capability;
use orchidea_wizard::services::probe::{CheckOutcome, ProbeFailure};
use orchidea_wizard::ui::screen::choose_app::NO_APP_SELECTED;
use orchidea_wizard::ui::{Message, ScreenId};
use orchidea_wizard::{Status, StepId};

const WRONG_SECRET: &str = "not-the-secret-orchidea-made";

fn scim_url(h: &Harness) -> String {
    match &h.app.session().target {
        Some(orchidea_wizard::ui::work::Target::Sandbox(s)) => s.scim_url.to_string(),
        other => panic!("not in the sandbox: {other:?}"),
    }
}

/// The sandbox, at the app screen with step 1 done.
fn at_choose_app() -> Harness {
    let mut h = Harness::new(true);
    h.click("Create SCIM secret");
    h.click("Next");
    assert_eq!(h.app.screen(), ScreenId::ChooseApp, "{:?}", h.app.error());
    h
}

#[test]
fn a_wrong_pasted_secret_shows_the_401_cause_and_keeps_the_fields() {
    let mut h = Harness::new(true);
    let url = scim_url(&h);
    h.click("I created it in Orchidea");
    h.type_into("https://yourcompany.orchidea.example/scim/v2", &url);
    h.type_into("Paste the SCIM secret", WRONG_SECRET);
    h.click("Verify secret");

    let error = h.app.error().expect("an error banner").to_string();
    assert!(error.contains("401 Unauthorized"), "{error}");
    assert!(
        error.contains("Create a new SCIM secret in Orchidea"),
        "{error}"
    );
    assert!(
        !error.contains(WRONG_SECRET),
        "the message never shows the secret"
    );
    h.assert_sees(&error);
    assert!(
        h.app
            .session()
            .checklist
            .status(StepId::CopyUrlAndSecret)
            .is_failed()
    );
    h.assert_sees("failed");

    // The pre-flight panel names the failing check with the same cause and fix.
    let failure = ProbeFailure::Unauthorized;
    let report = h.app.session().facts().unwrap().probe.clone().unwrap();
    let check = report
        .checks
        .iter()
        .find(|c| matches!(c.outcome, CheckOutcome::Fail(_)))
        .expect("a failed check");
    h.assert_sees(&format!("{}: {}", check.name, failure.cause()));
    h.assert_sees(&format!("Fix: {}", failure.fix()));

    // Every field is as typed: the URL is shown, the secret is still there.
    h.assert_sees(&url);
    assert!(!h.sees(WRONG_SECRET), "masked while hidden");
    h.click("Show");
    h.assert_sees(WRONG_SECRET);

    // Nothing in Entra was touched.
    for step in &StepId::ALL[StepId::OpenProvisioning.index()..] {
        assert_eq!(h.app.session().checklist.status(*step), &Status::Pending);
    }
}

#[test]
fn an_invalid_pasted_url_is_explained_under_the_field() {
    let mut h = Harness::new(true);
    h.click("I created it in Orchidea");
    h.type_into(
        "https://yourcompany.orchidea.example/scim/v2",
        "orchidea scim",
    );
    h.type_into("Paste the SCIM secret", "x");
    h.click("Verify secret");
    let expected = orchidea_wizard::services::orchidea::parse_scim_url("orchidea scim")
        .unwrap_err()
        .to_string();
    h.assert_sees(&expected);
    assert!(h.app.session().running.is_none(), "nothing was sent");
    assert_eq!(
        h.app.session().checklist.status(StepId::CreateSecret),
        &Status::Pending
    );
}

#[test]
fn continuing_without_choosing_an_app_says_what_to_do() {
    let mut h = at_choose_app();
    h.click("Use this app");
    assert_eq!(h.app.error(), Some(NO_APP_SELECTED));
    h.assert_sees(NO_APP_SELECTED);
    assert_eq!(h.app.screen(), ScreenId::ChooseApp);
    assert_eq!(
        h.app.session().checklist.status(StepId::OpenEnterpriseApp),
        &Status::Pending
    );
}

#[test]
fn an_app_that_cannot_provision_is_greyed_with_its_reason() {
    let mut h = at_choose_app();
    let facts = h.app.session().facts().unwrap().clone();
    let oidc = facts
        .candidates
        .iter()
        .find(|c| c.capability == Capability::OidcRegistration)
        .expect("the default tenant has an OIDC app registration");
    let reason = format!("Cannot provision: {}", oidc.capability.reason());
    h.assert_sees(&reason);

    h.click(oidc.name());
    let error = h.app.error().expect("clicking it explains").to_string();
    assert!(error.contains("OpenID Connect"), "{error}");
    assert!(error.contains(oidc.name()), "{error}");
    h.assert_sees(&error);

    // It was not selected: continuing still asks for an app.
    h.click("Use this app");
    assert_eq!(h.app.error(), Some(NO_APP_SELECTED));
}

#[test]
fn back_cancels_work_and_keeps_what_was_chosen() {
    let mut h = Harness::new(true);
    h.click("Run the remaining steps");
    assert_eq!(
        h.app.screen(),
        ScreenId::Mappings,
        "paused before the schema write"
    );
    assert!(h.app.session().is_writing());

    h.click("Back");
    assert!(h.app.session().running.is_none(), "the run was cancelled");
    assert!(h.app.session().pause.is_none());
    assert_eq!(h.app.screen(), ScreenId::Save);
    assert_eq!(
        h.app.session().checklist.status(StepId::KeepFiveAttributes),
        &Status::Pending
    );
    // The steps done so far stay done; the flow resumes from here.
    assert!(
        h.app
            .session()
            .checklist
            .status(StepId::SaveCredentials)
            .is_complete()
    );
    h.click("Next");
    h.click("Apply");
    assert!(
        h.app
            .session()
            .checklist
            .status(StepId::ExternalIdFromObjectId)
            .is_complete()
    );
}

#[test]
fn closing_during_a_write_asks_first() {
    let mut h = Harness::new(true);
    h.click("Run the remaining steps");
    assert!(h.app.session().is_writing());
    h.send(Message::CloseRequested(None));
    h.assert_sees("A change is being written");
    h.click("Keep the window open");
    assert!(!h.sees("A change is being written"));
    assert!(h.app.session().is_writing(), "the run is still there");

    // With nothing in flight the window closes without asking.
    h.click("Continue");
    h.click("Continue");
    h.click("Continue");
    assert!(h.app.session().running.is_none());
    let effects = h.app.handle(Message::CloseRequested(None));
    assert!(matches!(
        effects.as_slice(),
        [orchidea_wizard::ui::Effect::Exit]
    ));
}

#[test]
fn the_copied_secret_is_cleared_after_a_minute_unless_replaced() {
    let mut h = Harness::new(true);
    h.click("Create SCIM secret");
    h.click("Copy secret");
    let copied_at = h.app.session().now;
    assert!(h.clipboard.contents().is_some());
    h.send(Message::Tick(
        copied_at + std::time::Duration::from_secs(30),
    ));
    h.assert_sees("Copied, kept out of clipboard history. Clipboard clears in 30 s.");
    h.send(Message::Tick(
        copied_at + std::time::Duration::from_secs(60),
    ));
    assert!(h.clipboard.contents().is_none(), "cleared after 60 s");
    assert!(!h.sees("Clear now"));
}

/// Issue #14 item 3 in the window: another admin changes the schema while
/// the mappings screen shows the diff. Apply writes nothing, the screen says
/// why and shows the diff computed again; a second Apply writes it and the
/// other admin's change stays.
#[test]
fn a_schema_changed_after_the_diff_is_shown_again_not_overwritten() {
    let mut h = at_choose_app();
    let app = h
        .app
        .session()
        .facts()
        .unwrap()
        .candidates
        .iter()
        .find(|c| matches!(c.capability, Capability::Scim { .. }))
        .map(|c| c.name().to_string())
        .unwrap();
    h.click(&app);
    h.click("Use this app");
    h.click("Next");
    h.click("Test connection");
    h.click("Next");
    h.click("Save credentials");
    h.click("Next");
    assert_eq!(h.app.screen(), ScreenId::Mappings, "{:?}", h.app.error());
    let marked = another_admin_edits(&h);

    h.click("Apply");
    h.assert_sees_part("Someone changed the mappings in Entra since this screen read them");
    assert!(
        h.app
            .session()
            .checklist
            .status(StepId::KeepFiveAttributes)
            .is_failed()
    );
    let plan = h.app.session().facts().unwrap().mapping.clone().unwrap();
    for line in plan.diff_lines() {
        h.assert_sees(&line);
    }
    assert!(
        marked(&h),
        "nothing was written over the other admin's change"
    );

    h.click("Apply");
    assert!(
        ScreenId::Mappings.steps().iter().all(|s| h
            .app
            .session()
            .checklist
            .status(*s)
            .is_complete()),
        "{:?}",
        h.app.error()
    );
    assert!(!h.sees_part("Someone changed the mappings"));
    assert!(marked(&h), "the change survives the write");
}

/// Another admin (a second Graph client) renames the group mapping, a part
/// the wizard never edits; returns a reader telling whether the schema in
/// Entra still carries that change.
fn another_admin_edits(h: &Harness) -> impl Fn(&Harness) -> bool + use<> {
    let facts = h.app.session().facts().unwrap();
    let sp = facts.app.as_ref().unwrap().id.clone();
    let job = facts.job.as_ref().unwrap().id.clone();
    let sandbox = match &h.app.session().target {
        Some(orchidea_wizard::ui::work::Target::Sandbox(s)) => s.clone(),
        other => panic!("not in the sandbox: {other:?}"),
    };
    let url = format!(
        "{}/servicePrincipals/{sp}/synchronization/jobs/{job}/schema",
        sandbox.graph_url
    );
    let token = sandbox.graph_token.clone();
    let get = {
        let (url, token) = (url.clone(), token.clone());
        move || {
            let (url, token) = (url.clone(), token.clone());
            async move {
                orchidea_wizard::platform::http::loopback_client()
                    .get(&url)
                    .bearer_auth(token.expose())
                    .send()
                    .await
                    .unwrap()
                    .json::<serde_json::Value>()
                    .await
                    .unwrap()
            }
        }
    };
    let get2 = get.clone();
    h.block_on(async move {
        let mut schema = get2().await;
        for m in schema["synchronizationRules"][0]["objectMappings"]
            .as_array_mut()
            .unwrap()
        {
            if m["sourceObjectName"] == "Group" {
                m["name"] = "Set by another admin".into();
            }
        }
        let status = orchidea_wizard::platform::http::loopback_client()
            .put(&url)
            .bearer_auth(token.expose())
            .json(&schema)
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success());
    });
    move |h: &Harness| {
        let schema = h.block_on(get());
        schema["synchronizationRules"][0]["objectMappings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "Set by another admin")
    }
}

/// The same during "Run the remaining steps": the pause before step 9 comes
/// back with the new diff, and Continue writes it.
#[test]
fn a_schema_changed_during_the_pause_is_confirmed_again() {
    let mut h = Harness::new(true);
    h.click("Run the remaining steps");
    assert_eq!(h.app.screen(), ScreenId::Mappings, "{:?}", h.app.error());
    let marked = another_admin_edits(&h);
    h.click("Continue");
    assert_eq!(h.app.screen(), ScreenId::Mappings, "{:?}", h.app.error());
    h.assert_sees(
        "Paused before step 9 (Keep only five attributes). Nothing has been written for it yet.",
    );
    h.assert_sees_part("Someone changed the mappings in Entra since this screen read them");
    assert!(
        marked(&h),
        "nothing was written over the other admin's change"
    );
    h.click("Continue");
    // Step 14's warning (the built-in tenant has users without mail).
    assert_eq!(h.app.screen(), ScreenId::Scope, "{:?}", h.app.error());
    h.click("Continue");
    assert_eq!(h.app.screen(), ScreenId::Start, "{:?}", h.app.error());
    assert!(
        ScreenId::Mappings.steps().iter().all(|s| h
            .app
            .session()
            .checklist
            .status(*s)
            .is_complete())
    );
    assert!(marked(&h), "the change survives the write");
}
