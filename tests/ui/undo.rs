//! "Undo this setup" on the summary screen: the plan is shown before
//! anything changes, "Undo now" carries out that plan, and the sandbox
//! (read through its own dump, not the window) holds no job afterwards.

use std::sync::Arc;

use crate::common::jobs;
use crate::support::Harness;
use orchidea_wizard::sandbox::Sandbox;
use orchidea_wizard::ui::panel::{backups, undo};
use orchidea_wizard::ui::work::Target;
use orchidea_wizard::ui::{Message, ScreenId};

fn sandbox(h: &Harness) -> Arc<Sandbox> {
    match &h.app.session().target {
        Some(Target::Sandbox(s)) => s.clone(),
        other => panic!("not the sandbox: {other:?}"),
    }
}

#[test]
fn undo_shows_the_plan_first_then_removes_the_job_the_wizard_created() {
    let mut h = Harness::new(true);
    h.click("Run the remaining steps");
    // The three pauses: step 9, step 14 (users without mail), step 16.
    h.click("Continue");
    h.click("Continue");
    h.click("Continue");
    assert_eq!(h.app.screen(), ScreenId::Summary, "{:?}", h.app.error());
    let sandbox = sandbox(&h);
    assert_eq!(jobs(&h.block_on(sandbox.dump())).len(), 1);

    // Nothing is undone before the plan was shown.
    h.send(Message::Backups(backups::Message::Undo(
        undo::Message::Confirm,
    )));
    assert_eq!(
        h.app.error(),
        Some("Show the undo plan first, then confirm it.")
    );
    assert_eq!(jobs(&h.block_on(sandbox.dump())).len(), 1);

    h.click("Show the undo plan");
    h.assert_sees_part("Undo will:");
    h.assert_sees_part("Delete provisioning job");
    h.assert_sees_part("Revoke Orchidea SCIM secret");
    h.assert_sees_part("Undo does not touch:");
    assert_eq!(jobs(&h.block_on(sandbox.dump())).len(), 1, "only shown");

    h.click("Undo now");
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    h.assert_sees("Undone:");
    h.assert_sees_part("Deleted provisioning job");
    assert!(jobs(&h.block_on(sandbox.dump())).is_empty(), "no job left");
    // The summary shows what is there now, not the setup that was undone.
    assert_eq!(h.app.session().checklist.completed(), 0);
    let engine = h.app.session().engine.clone().unwrap();
    assert_eq!(
        h.block_on(engine.checklist()).completed(),
        0,
        "a rerun redoes"
    );
    assert!(h.app.session().facts().unwrap().job.is_none());
    h.assert_sees_part("Not finished yet");

    // A second look finds nothing to change.
    h.click("Show the undo plan");
    h.assert_sees_part("Nothing for the wizard to change");
    assert!(!h.sees("Undo now"));
}

#[test]
fn a_failed_undo_shows_which_action_stopped_and_undoing_again_finishes() {
    use orchidea_wizard::sandbox::Fault;
    let mut h = Harness::new(true);
    h.click("Run the remaining steps");
    // The three pauses: step 9, step 14 (users without mail), step 16.
    h.click("Continue");
    h.click("Continue");
    h.click("Continue");
    let sandbox = sandbox(&h);
    h.block_on(sandbox.inject_fault(Fault::parse("graph:DELETE:/jobs/:403x1").unwrap()));
    h.click("Show the undo plan");
    h.click("Undo now");
    h.assert_sees_part("Undo stopped at action");
    h.assert_sees_part("Delete provisioning job");
    assert_eq!(
        jobs(&h.block_on(sandbox.dump())).len(),
        1,
        "the delete failed"
    );
    // The job was paused before the stop: no step counts as done, in the
    // window and in the engine, so "Run the remaining steps" redoes them.
    assert_eq!(h.app.session().checklist.completed(), 0);
    let engine = h.app.session().engine.clone().unwrap();
    assert_eq!(h.block_on(engine.checklist()).completed(), 0);
    h.assert_sees_part("Not finished yet");

    h.click("Show the undo plan");
    h.assert_sees_part("Undo will:");
    h.click("Undo now");
    h.assert_sees("Undone:");
    assert!(jobs(&h.block_on(sandbox.dump())).is_empty());
}
