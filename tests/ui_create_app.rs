//! The window's "create it" on the choose-app screen, against a sandbox
//! tenant without the Orchidea app that keeps a new app unseen for a while
//! (Entra's replication delay): the app is created once, the window waits
//! for it, and the remaining steps finish with one app and one job.
#![cfg(feature = "gui")]

mod common;
mod ui_common;

use common::*;
use orchidea_wizard::ui::Screen;
use orchidea_wizard::ui::screen::choose_app::CREATE_IT;
use orchidea_wizard::ui::work::Target;
use orchidea_wizard::{Status, StepId};
use serde_json::{Value, json};
use ui_common::Harness;

#[test]
fn create_it_makes_one_app_waits_for_entra_and_the_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let mut tenant: Value =
        serde_json::from_str(include_str!("../src/sandbox/default-tenant.json")).unwrap();
    tenant["servicePrincipals"]
        .as_array_mut()
        .unwrap()
        .retain(|sp| sp["displayName"] != "Orchidea");
    tenant["replicationDelayMs"] = json!(1500);
    let path = dir.path().join("tenant.json");
    std::fs::write(&path, tenant.to_string()).unwrap();

    let mut h = Harness::build(true, |options, _| options.sandbox_tenant = Some(path));
    h.click("Create SCIM secret");
    h.click("Next");
    assert_eq!(h.app.screen(), Screen::ChooseApp, "{:?}", h.app.error());
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
    assert_eq!(h.app.screen(), Screen::Credentials, "{:?}", h.app.error());

    h.click("Run the remaining steps");
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
    let made: Vec<&Value> = dump["entra"]["servicePrincipals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|sp| sp["displayName"] == "Orchidea")
        .collect();
    assert_eq!(made.len(), 1, "exactly one new app");
    assert_configured(&dump, "false");
    assert_eq!(jobs(&dump)[0]["servicePrincipalId"], made[0]["id"]);
}
