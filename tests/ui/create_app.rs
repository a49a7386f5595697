//! The window's "create it" on the choose-app screen, against a sandbox
//! tenant without the Orchidea app that keeps a new app unseen for a while
//! (Entra's replication delay): the app is created once, the window waits
//! for it, and the remaining steps finish with one app and one job.

use crate::common::*;
use crate::support::Harness;
use orchidea_wizard::ui::ScreenId;
use orchidea_wizard::ui::screen::choose_app::{CREATE_ANOTHER, CREATE_IT};
use orchidea_wizard::ui::screen::sso::SKIP as SKIP_SSO;
use orchidea_wizard::ui::work::Target;
use orchidea_wizard::{Status, StepId};

#[test]
fn create_it_makes_one_app_waits_for_entra_and_the_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = tenant_without_the_app(Some(1500));
    let path = dir.path().join("tenant.json");
    std::fs::write(&path, tenant.to_string()).unwrap();

    let mut h = Harness::build(true, |options, _| options.sandbox_tenant = Some(path));
    // No Orchidea app has single sign-on: step 0 waits for a choice.
    assert_eq!(h.app.screen(), ScreenId::Sso);
    h.click(SKIP_SSO);
    assert_eq!(h.app.screen(), ScreenId::OrchideaSecret);
    h.click("Create SCIM secret");
    h.click("Next");
    assert_eq!(h.app.screen(), ScreenId::ChooseApp, "{:?}", h.app.error());
    // Only the OIDC registration matches: greyed, and the wizard offers to create the app.
    h.assert_sees_part("Cannot provision");
    h.click(CREATE_IT);
    let step2 = h
        .app
        .session()
        .checklist
        .status(StepId::OpenEnterpriseApp)
        .clone();
    assert!(
        matches!(&step2, Status::Done(d) if d.contains("Created \"Orchidea\"") && d.contains("s for Entra to replicate the new app (")),
        "{step2:?} {:?}",
        h.app.error()
    );
    // The new app is listed as able to provision, and step 2 is done.
    h.assert_sees_part("Can provision over SCIM");
    assert!(
        !h.sees(CREATE_IT),
        "no second offer once an app can provision"
    );
    h.click("Next");
    assert_eq!(h.app.screen(), ScreenId::Credentials, "{:?}", h.app.error());

    h.click("Run the remaining steps");
    h.click("Continue");
    h.click("Continue");
    h.click("Continue");
    let checklist = &h.app.session().checklist;
    assert!(
        checklist.all_complete(),
        "{checklist:?} {:?}",
        h.app.error()
    );

    let Some(Target::Sandbox(sandbox)) = h.app.session().target.clone() else {
        panic!("not in the sandbox");
    };
    h.block_on(sandbox.wait_idle());
    let dump = h.block_on(sandbox.dump());
    let made = orchidea_apps(&dump);
    assert_eq!(made.len(), 1, "exactly one new app");
    assert_configured(&dump, "false");
    assert_eq!(jobs(&dump)[0]["servicePrincipalId"], made[0]["id"]);
}

/// An earlier run created the app and Entra never showed it (the admin
/// deleted it within the day): the choose-app screen says so and offers
/// "Create another app anyway" beside "Create it in Entra"; clicking it
/// creates one new app without waiting for the old one.
#[test]
fn create_another_app_anyway_when_the_one_created_earlier_is_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = tenant_without_the_app(Some(300));
    let path = dir.path().join("tenant.json");
    std::fs::write(&path, tenant.to_string()).unwrap();

    let mut h = Harness::build(true, |options, _| options.sandbox_tenant = Some(path));
    let Some(Target::Sandbox(sandbox)) = h.app.session().target.clone() else {
        panic!("not in the sandbox");
    };
    // What the earlier run left in the sandbox's run state.
    let gone = "0f5bd7e2-1c54-4c3b-a1f0-3c29b5a0d6e4";
    let facts = orchidea_wizard::engine::Facts {
        created_earlier: Some(orchidea_wizard::engine::resume::CreatedApp {
            service_principal_id: Some(gone.into()),
            app_id: None,
            tenant_id: None,
            display_name: "Orchidea".into(),
            at: orchidea_wizard::platform::timefmt::now_rfc3339(),
        }),
        ..Default::default()
    };
    orchidea_wizard::engine::resume::save(
        &sandbox.wizard_dir.join("run-state.json"),
        &orchidea_wizard::engine::resume::RunState::from_facts(
            sandbox.graph_url.as_str(),
            &facts,
            orchidea_wizard::engine::Scope::Assigned,
        ),
    )
    .unwrap();

    h.click(SKIP_SSO);
    h.click("Create SCIM secret");
    h.click("Next");
    assert_eq!(h.app.screen(), ScreenId::ChooseApp, "{:?}", h.app.error());
    h.assert_sees_part(gone);
    assert!(h.sees(CREATE_IT));
    h.click(CREATE_ANOTHER);
    let step2 = h
        .app
        .session()
        .checklist
        .status(StepId::OpenEnterpriseApp)
        .clone();
    assert!(
        matches!(&step2, Status::Done(d) if d.contains("Created \"Orchidea\"")),
        "{step2:?} {:?}",
        h.app.error()
    );
    h.assert_sees_part("Can provision over SCIM");
    let dump = h.block_on(sandbox.dump());
    assert_eq!(orchidea_apps(&dump).len(), 1, "one new app");
}
