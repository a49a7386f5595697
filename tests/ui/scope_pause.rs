//! "Run the remaining steps" stops at step 14 whenever its count warns
//! (users who would be skipped for lack of a mail, nobody assigned), on the
//! scope screen with its choices working, and goes on with what is chosen.

use crate::common;
use crate::support::Harness;
use orchidea_wizard::procedure::mapping::UserNameSource;
use orchidea_wizard::ui::screen::scope;
use orchidea_wizard::ui::{Message, ScreenId};
use orchidea_wizard::{Status, StepId};

const PAUSED: &str = "Paused at step 14 (Choose the scope)";

/// A harness on the built-in tenant changed by `edit`.
fn harness(edit: impl FnOnce(&mut serde_json::Value)) -> (Harness, tempfile::TempDir) {
    let mut tenant = common::default_tenant();
    edit(&mut tenant);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    std::fs::write(&file, tenant.to_string()).unwrap();
    let h = Harness::build(true, |o, _| o.sandbox_tenant = Some(file.clone()));
    (h, dir)
}

/// The built-in tenant run up to the step-14 pause (two users without mail).
fn at_the_pause() -> Harness {
    let mut h = Harness::new(true);
    h.click("Run the remaining steps");
    h.click("Continue"); // the schema write (step 9)
    h
}

#[test]
fn users_without_mail_stop_the_run_and_coalesce_chosen_there_goes_on() {
    let mut h = at_the_pause();
    assert_eq!(h.app.screen(), ScreenId::Scope, "{:?}", h.app.error());
    h.assert_sees_part(PAUSED);
    // The scope screen's own count and offer, and nothing saved yet.
    h.assert_sees_part("have no mail and will be skipped");
    assert_eq!(
        h.app.session().checklist.status(StepId::SaveSettings),
        &Status::Pending
    );

    // The choice works at the pause: the mapping is written again with
    // Coalesce, the count is taken again, and the run goes on to start.
    h.click("Use Coalesce([mail],[userPrincipalName]) for userName");
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    assert_eq!(h.app.screen(), ScreenId::Start, "{:?}", h.app.error());
    h.assert_sees(
        "Paused before step 16 (Start provisioning). Nothing has been written for it yet.",
    );
    let facts = h.app.session().facts().unwrap().clone();
    assert_eq!(
        facts.mapping_options.user_name_source,
        UserNameSource::CoalesceMailUpn
    );
    assert!(
        facts
            .mapping
            .unwrap()
            .diff_lines()
            .iter()
            .any(|l| l.contains("Coalesce")),
        "the mapping written carries Coalesce"
    );
    h.click("Continue");
    assert_eq!(h.app.screen(), ScreenId::Summary, "{:?}", h.app.error());
    assert!(h.app.session().checklist.all_complete());
}

#[test]
fn nobody_assigned_stops_the_run_offering_a_group_to_assign() {
    let (mut h, _dir) = harness(|tenant| {
        let orchidea = &mut tenant["servicePrincipals"][0];
        assert_eq!(orchidea["displayName"], "Orchidea");
        orchidea["assignments"] = serde_json::json!({ "users": [], "groups": [] });
    });
    h.click("Run the remaining steps");
    h.click("Continue"); // step 9
    assert_eq!(h.app.screen(), ScreenId::Scope, "{:?}", h.app.error());
    h.assert_sees_part(PAUSED);
    h.assert_sees_part("Nobody is assigned");

    // Showing the groups ends this pause; the run stops at 14 again with
    // the list shown, since nobody is assigned yet.
    h.click("Show groups to assign");
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    assert_eq!(h.app.screen(), ScreenId::Scope);
    h.assert_sees_part(PAUSED);
    let before = h.app.session().facts().unwrap().audience.clone().unwrap();
    assert_eq!(before.in_scope, 0);

    h.send(Message::Scope(scope::Message::Assign(0)));
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    let after = h.app.session().facts().unwrap().audience.clone().unwrap();
    assert!(
        after.in_scope > 0,
        "the group's members are counted: {after:?}"
    );
    // Still paused at 14 exactly when the group has members without mail.
    assert_eq!(
        h.sees_part(PAUSED),
        !after.without_mail.is_empty(),
        "{after:?}"
    );
    if !after.without_mail.is_empty() {
        h.click("Continue");
    }
    assert_eq!(h.app.screen(), ScreenId::Start, "{:?}", h.app.error());
    h.click("Continue");
    assert!(
        h.app.session().checklist.all_complete(),
        "{:?}",
        h.app.error()
    );
}

#[test]
fn a_scope_without_warnings_is_not_paused_at_14() {
    let (mut h, _dir) = harness(|tenant| {
        for user in tenant["users"].as_array_mut().unwrap() {
            if user["mail"].is_null() {
                let upn = user["userPrincipalName"].clone();
                user["mail"] = upn;
            }
        }
    });
    h.click("Run the remaining steps");
    h.click("Continue"); // step 9
    // Straight on to the pause before start: step 14 had nothing to say.
    assert_eq!(h.app.screen(), ScreenId::Start, "{:?}", h.app.error());
    assert!(!h.sees_part(PAUSED));
    assert!(
        h.app
            .session()
            .checklist
            .status(StepId::SaveSettings)
            .is_complete()
    );
    h.click("Continue");
    assert!(h.app.session().checklist.all_complete());
}

#[test]
fn stop_here_at_14_saves_nothing() {
    let mut h = at_the_pause();
    h.assert_sees_part(PAUSED);
    h.click("Stop here");
    assert_eq!(
        h.app.session().checklist.status(StepId::ChooseScope),
        &Status::Failed("Not confirmed; nothing was written.".into())
    );
    assert_eq!(
        h.app.session().checklist.status(StepId::SaveSettings),
        &Status::Pending
    );
    assert!(h.app.session().running.is_none());
}

#[test]
fn notifications_edited_at_the_pause_are_saved_by_continue() {
    let mut h = at_the_pause();
    h.assert_sees_part(PAUSED);
    h.send(Message::Scope(scope::Message::Email(
        "ops@contoso.com".into(),
    )));
    h.send(Message::Scope(scope::Message::Threshold("40".into())));
    h.click("Continue");
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    assert_eq!(h.app.screen(), ScreenId::Start, "{:?}", h.app.error());
    let saved = h
        .app
        .session()
        .facts()
        .unwrap()
        .notifications
        .clone()
        .unwrap();
    assert_eq!(saved.email.as_deref(), Some("ops@contoso.com"));
    assert_eq!(saved.delete_threshold, Some(40));
    assert!(
        h.app
            .session()
            .checklist
            .status(StepId::SaveSettings)
            .is_complete()
    );

    // A bad address at the pause is refused with its message; still paused.
    let mut h = at_the_pause();
    h.send(Message::Scope(scope::Message::Email("admin".into())));
    h.click("Continue");
    assert_eq!(
        h.app.error(),
        Some("Notification e-mail: \"admin\" is not an e-mail address (e.g. admin@contoso.com).")
    );
    h.assert_sees_part(PAUSED);
}
