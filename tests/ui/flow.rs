//! The whole sandbox flow through the window: first screen to a started
//! provisioning job, clicking by visible text and typing into fields.

use crate::support::Harness;
use orchidea_wizard::engine::Capability;
use orchidea_wizard::ui::{Message, ScreenId};
use orchidea_wizard::{Status, StepId};

fn provisionable_app(h: &Harness) -> String {
    let facts = h.app.session().facts().expect("step 1 ran");
    facts
        .candidates
        .iter()
        .find(|c| matches!(c.capability, Capability::Scim { .. }))
        .map(|c| c.name().to_string())
        .expect("the default tenant has a provisionable Orchidea app")
}

#[track_caller]
fn assert_screen(h: &Harness, screen: ScreenId) {
    assert_eq!(h.app.screen(), screen, "error banner: {:?}", h.app.error());
}

#[track_caller]
fn assert_complete(h: &Harness, steps: &[StepId]) {
    for step in steps {
        let status = h.app.session().checklist.status(*step);
        assert!(
            status.is_complete(),
            "{step}: {status:?} ({:?})",
            h.app.error()
        );
    }
}

#[test]
fn walks_the_sandbox_flow_step_by_step() {
    // `cargo run` with nothing configured lands on the welcome screen.
    let mut h = Harness::new(false);
    assert_screen(&h, ScreenId::Welcome);
    h.assert_sees("Connect Orchidea to Microsoft Entra ID");
    h.assert_sees("0 of 19 steps complete");

    // Step 0 is not needed in the built-in tenant: its screen is skipped.
    h.click("Start the sandbox");
    assert_screen(&h, ScreenId::OrchideaSecret);
    assert!(matches!(
        h.app.session().checklist.status(StepId::SsoIntegration),
        Status::AlreadyDone(_)
    ));

    // 1a–1c: the admin API path with the IDP list.
    h.assert_sees("Create it for me");
    h.click("Create SCIM secret");
    assert_complete(&h, ScreenId::OrchideaSecret.steps());
    h.assert_sees("Copy URL");
    h.assert_sees("4 of 19 steps complete");
    let secret = h.app.session().scim().unwrap().secret.clone().unwrap();
    h.assert_sees(&secret.masked());
    assert!(
        !h.sees(secret.expose()),
        "the secret is masked until revealed"
    );
    h.click("Reveal");
    h.assert_sees(secret.expose());
    h.click("Hide");

    h.click("Copy secret");
    assert_eq!(h.clipboard.contents().unwrap(), secret);
    assert!(h.clipboard.excluded_from_history());
    h.assert_sees("Copied, kept out of clipboard history. Clipboard clears in 60 s.");
    h.click("Copy URL");
    let url = h.app.session().scim().unwrap().url.to_string();
    assert_eq!(h.clipboard.contents().unwrap().expose(), url);

    // 2: choose the enterprise app.
    h.click("Next");
    assert_screen(&h, ScreenId::ChooseApp);
    let app = provisionable_app(&h);
    h.click(&app);
    h.click("Use this app");
    assert_complete(&h, &[StepId::OpenEnterpriseApp]);

    // 3–5: provisioning mode and Test Connection.
    h.click("Next");
    assert_screen(&h, ScreenId::Credentials);
    h.click("Test connection");
    assert_complete(&h, ScreenId::Credentials.steps());
    h.assert_sees("Entra reached the SCIM endpoint and accepted the secret.");

    // 6: save.
    h.click("Next");
    h.click("Save credentials");
    assert_complete(&h, &[StepId::SaveCredentials]);

    // 7–13: the diff is shown before anything is written.
    h.click("Next");
    assert_screen(&h, ScreenId::Mappings);
    assert_complete(&h, &[StepId::OpenMappings, StepId::OpenUserMapping]);
    let plan = h.app.session().facts().unwrap().mapping.clone().unwrap();
    assert!(!plan.is_noop(), "a fresh tenant needs the mapping edit");
    for line in plan.diff_lines() {
        h.assert_sees(&line);
    }
    assert_eq!(
        h.app.session().checklist.status(StepId::KeepFiveAttributes),
        &Status::Pending
    );
    h.click("Apply");
    assert_complete(&h, ScreenId::Mappings.steps());

    // 14–15: scope.
    h.click("Next");
    assert_screen(&h, ScreenId::Scope);
    h.click("Save scope");
    assert_complete(&h, ScreenId::Scope.steps());

    // 16: start.
    h.click("Next");
    assert_screen(&h, ScreenId::Start);
    h.click("Start provisioning now");
    assert_complete(&h, &[StepId::StartProvisioning]);
    h.click("Finish");

    assert_screen(&h, ScreenId::Summary);
    assert!(h.app.session().checklist.all_complete());
    h.assert_sees("19 of 19 steps complete");
    h.assert_sees("Provisioning is set up: all 19 steps are complete.");
    h.assert_sees(&url);
}

#[test]
fn runs_the_remaining_steps_pausing_before_the_schema_write_and_start() {
    let mut h = Harness::new(true);
    assert_screen(&h, ScreenId::OrchideaSecret);

    h.click("Run the remaining steps");
    // First pause: before the mapping write, on the mappings screen.
    assert_screen(&h, ScreenId::Mappings);
    h.assert_sees(
        "Paused before step 9 (Keep only five attributes). Nothing has been written for it yet.",
    );
    assert_complete(&h, &StepId::ALL[..StepId::KeepFiveAttributes.index()]);
    assert_eq!(
        h.app.session().checklist.status(StepId::KeepFiveAttributes),
        &Status::Pending
    );
    h.click("Continue");

    // Second pause: step 14 counted users without mail (the built-in tenant
    // has two), on the scope screen with its choices, before 15 saves.
    assert_screen(&h, ScreenId::Scope);
    h.assert_sees_part("Paused at step 14 (Choose the scope)");
    h.assert_sees_part("have no mail and will be skipped");
    assert_eq!(
        h.app.session().checklist.status(StepId::SaveSettings),
        &Status::Pending
    );
    h.click("Continue");

    // Third pause: before start.
    assert_screen(&h, ScreenId::Start);
    h.assert_sees(
        "Paused before step 16 (Start provisioning). Nothing has been written for it yet.",
    );
    assert_complete(&h, &StepId::ALL[..StepId::StartProvisioning.index()]);
    h.click("Continue");

    assert_screen(&h, ScreenId::Summary);
    assert!(h.app.session().checklist.all_complete());
    h.assert_sees("19 of 19 steps complete");
}

#[test]
fn clicking_a_finished_step_shows_what_it_did() {
    let mut h = Harness::new(true);
    h.click("Create SCIM secret");
    h.click("Create a SCIM secret");
    let detail = h
        .app
        .session()
        .checklist
        .status(StepId::CreateSecret)
        .detail()
        .to_string();
    h.assert_sees("Step 1a: Create a SCIM secret");
    h.assert_sees(&detail);
    h.click("Close");
    assert!(!h.sees("Step 1a: Create a SCIM secret"));
    // Pending steps are not clickable.
    h.click("Start provisioning");
    assert!(!h.sees("Step 16: Start provisioning"));
}

#[test]
fn keyboard_enter_runs_the_primary_action_and_escape_goes_back() {
    use iced::keyboard::{Event, Key, Location, Modifiers, key::Named};
    let press = |named: Named, modifiers: Modifiers| Event::KeyPressed {
        key: Key::Named(named),
        modified_key: Key::Named(named),
        physical_key: iced::keyboard::key::Physical::Unidentified(
            iced::keyboard::key::NativeCode::Unidentified,
        ),
        location: Location::Standard,
        modifiers,
        text: None,
        repeat: false,
    };
    let key = orchidea_wizard::ui::app::key_message;
    assert!(matches!(
        key(press(Named::Tab, Modifiers::empty())),
        Some(Message::FocusNext)
    ));
    assert!(matches!(
        key(press(Named::Tab, Modifiers::SHIFT)),
        Some(Message::FocusPrevious)
    ));

    let mut h = Harness::new(false);
    h.send(key(press(Named::Enter, Modifiers::empty())).unwrap());
    assert_screen(&h, ScreenId::OrchideaSecret);
    h.send(key(press(Named::Enter, Modifiers::empty())).unwrap());
    assert_complete(&h, ScreenId::OrchideaSecret.steps());
    // Back passes the step-0 screen, skipped on the way in (not needed).
    h.send(key(press(Named::Escape, Modifiers::empty())).unwrap());
    assert_screen(&h, ScreenId::Sso);
    h.send(key(press(Named::Escape, Modifiers::empty())).unwrap());
    assert_screen(&h, ScreenId::Welcome);
}
