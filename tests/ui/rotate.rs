//! "Rotate secret" on the summary screen: one click through Orchidea's
//! admin API leaves Entra holding a new secret that works and the old one
//! refused; a save Graph refuses stops at stage 4 and the old secret still
//! works. Checked in the sandbox (its Entra state and Orchidea's SCIM
//! endpoint), not through the window.

use std::sync::Arc;

use crate::common::jobs;
use crate::support::Harness;
use orchidea_wizard::Secret;
use orchidea_wizard::sandbox::{Fault, Sandbox};
use orchidea_wizard::ui::ScreenId;
use orchidea_wizard::ui::work::Target;

fn sandbox(h: &Harness) -> Arc<Sandbox> {
    match &h.app.session().target {
        Some(Target::Sandbox(s)) => s.clone(),
        other => panic!("not the sandbox: {other:?}"),
    }
}

/// The whole setup, then the summary; the sandbox, the app and the
/// secret Entra holds.
fn set_up(h: &mut Harness) -> (Arc<Sandbox>, String, Secret) {
    h.click("Run the remaining steps");
    // The three pauses: step 9, step 14 (users without mail), step 16.
    h.click("Continue");
    h.click("Continue");
    h.click("Continue");
    assert_eq!(h.app.screen(), ScreenId::Summary, "{:?}", h.app.error());
    let sandbox = sandbox(h);
    let dump = h.block_on(sandbox.dump());
    let sp = jobs(&dump)[0]["servicePrincipalId"]
        .as_str()
        .unwrap()
        .to_string();
    let held = h
        .block_on(sandbox.saved_setting(&sp, "SecretToken"))
        .unwrap();
    (sandbox, sp, held)
}

fn scim_status(h: &Harness, sandbox: &Sandbox, secret: &Secret) -> u16 {
    h.block_on(crate::common::scim_status(sandbox, secret))
}

#[test]
fn rotate_secret_replaces_entras_secret_and_revokes_the_old_one() {
    let mut h = Harness::new(true);
    let (sandbox, sp, old) = set_up(&mut h);
    h.assert_sees("Rotate the SCIM secret");
    h.click("Rotate secret");
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    h.assert_sees_part("6. Revoke the old secret: Revoked the old secret");
    let new = h
        .block_on(sandbox.saved_setting(&sp, "SecretToken"))
        .unwrap();
    assert_ne!(new.expose(), old.expose(), "Entra holds a new secret");
    assert_eq!(scim_status(&h, &sandbox, &new), 200);
    assert_eq!(
        scim_status(&h, &sandbox, &old),
        401,
        "the old one is refused"
    );
    let dump = h.block_on(sandbox.dump());
    assert_eq!(jobs(&dump)[0]["job"]["status"]["code"], "Active");
    assert!(!h.sees_part(new.expose()) && !h.sees_part(old.expose()));
    // The summary's facts and backups show what is there now.
    h.assert_sees(&new.masked());
    h.assert_sees_part("before rotating the SCIM secret");
}

#[test]
fn a_refused_save_stops_at_stage_four_and_the_old_secret_works() {
    let mut h = Harness::new(true);
    let (sandbox, sp, old) = set_up(&mut h);
    h.block_on(
        sandbox.inject_fault(Fault::parse("graph:PUT:/synchronization/secrets:400x1").unwrap()),
    );
    h.click("Rotate secret");
    h.assert_sees_part("Rotation stopped at stage 4 of 6");
    h.assert_sees_part("The old secret still works");
    let now = h
        .block_on(sandbox.saved_setting(&sp, "SecretToken"))
        .unwrap();
    assert_eq!(now.expose(), old.expose(), "Entra keeps the old one");
    assert_eq!(scim_status(&h, &sandbox, &old), 200);
}
