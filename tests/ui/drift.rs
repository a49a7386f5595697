//! The window opens on the drift check when a setup already exists: a
//! mapping another admin changed in Entra is named with the step that
//! fixes it, "Fix these" puts it right (a check read independently of the
//! window is clean afterwards), and a tenant without a setup opens as usual.

use std::path::Path;
use std::sync::Arc;

use crate::common::{another_admin_changes_user_name, change_user_name};
use crate::support::Harness;
use orchidea_wizard::engine::{AlwaysYes, Engine};
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::setup::{Choices, sandbox_config};
use orchidea_wizard::ui::ScreenId;
use orchidea_wizard::ui::work::Target;
use serde_json::Value;

fn start(state: &Path) -> impl std::future::Future<Output = Sandbox> {
    let opts = SandboxOptions {
        state_file: Some(state.to_path_buf()),
        ..SandboxOptions::default()
    };
    async move { Sandbox::start(opts).await.unwrap() }
}

/// A completed setup on the sandbox kept in `state` (the engine's own run,
/// as `orchidea-wizard-cli run --yes` makes it).
fn completed_setup(state: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sandbox = start(state).await;
        let engine = Engine::new(sandbox_config(&sandbox, None, Choices::default()));
        engine.run_all(&AlwaysYes).await.unwrap();
        assert!(engine.check_drift().await.unwrap().ok);
        sandbox.shutdown().await;
    });
}

/// The success line, for however many checks the engine has.
fn all_hold() -> String {
    format!(
        "All {} checks hold",
        orchidea_wizard::engine::drift::CHECKS.len()
    )
}

fn window_on(state: &Path) -> Harness {
    let state = state.to_path_buf();
    Harness::build(true, move |o, _| o.sandbox_state = Some(state))
}

fn sandbox(h: &Harness) -> Arc<Sandbox> {
    match &h.app.session().target {
        Some(Target::Sandbox(s)) => s.clone(),
        other => panic!("not the sandbox: {other:?}"),
    }
}

#[test]
fn an_existing_setup_opens_on_the_drift_check_and_fix_these_puts_it_right() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    completed_setup(&state);

    // Nothing changed: the window opens on the check, and everything holds.
    let mut h = window_on(&state);
    assert_eq!(h.app.screen(), ScreenId::Drift, "{:?}", h.app.error());
    h.assert_sees_part(&all_hold());
    h.assert_sees("Go to the steps");
    assert!(!h.sees("Fix these"));
    // "Check again" reads again: a change made meanwhile is named.
    h.block_on(change_user_name(&sandbox(&h)));
    h.click("Check again");
    assert_eq!(h.app.screen(), ScreenId::Drift);
    h.assert_sees_part("1 difference from Orchidea's specification");
    h.assert_sees("Fix these");
    drop(h);

    another_admin_changes_user_name(&state);
    let mut h = window_on(&state);
    assert_eq!(h.app.screen(), ScreenId::Drift, "{:?}", h.app.error());
    h.assert_sees_part("1 difference from Orchidea's specification");
    h.assert_sees("userName source");
    h.assert_sees("userPrincipalName");
    h.assert_sees_part("step 11");
    h.assert_sees("Fix these");
    // The check only read: the change is still there.
    let check = |h: &Harness| {
        let engine = Engine::new(sandbox_config(&sandbox(h), None, Choices::default()));
        h.block_on(engine.check_drift()).unwrap()
    };
    assert!(!check(&h).ok);

    h.click("Fix these");
    // The run pauses where it always does (the mapping diff at step 9, the
    // users without mail at step 14); each pause is confirmed.
    for _ in 0..4 {
        if !h.sees("Continue") {
            break;
        }
        h.click("Continue");
    }
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    assert_eq!(
        h.app.screen(),
        ScreenId::Drift,
        "checked again after the fix"
    );
    h.assert_sees_part(&all_hold());
    let report = check(&h);
    assert!(report.ok, "a check of its own is clean too: {report:?}");

    // The way on leads to the summary of the run that fixed it.
    h.click("Go to the summary");
    assert_eq!(h.app.screen(), ScreenId::Summary);
    h.assert_sees_part("Provisioning is set up");
}

#[test]
fn a_fresh_state_opens_on_the_usual_first_screen() {
    let dir = tempfile::tempdir().unwrap();
    let h = window_on(&dir.path().join("state.json"));
    assert_eq!(
        h.app.screen(),
        ScreenId::OrchideaSecret,
        "{:?}",
        h.app.error()
    );
    assert!(!h.sees("Fix these"));
    h.assert_sees("Create it for me");
    // The IDPs load as the screen opens, as they always did.
    assert!(h.app.session().idps.is_some());
}

/// On a real tenant the check runs right after sign-in (the first moment
/// Entra can be read): here the sandbox signed in to as a tenant, where
/// another machine completed the setup (no run state on this one), so
/// discovery finds the Orchidea app with its provisioning job.
#[test]
fn a_tenant_with_a_setup_opens_on_the_drift_check_after_sign_in() {
    use orchidea_wizard::platform::credstore::SessionStore;
    use orchidea_wizard::platform::settings::Settings;
    use orchidea_wizard::ui::work::SignInEnv;

    let (mut sandbox, mut app) = (None, None);
    let mut h = Harness::build(false, |options, rt| {
        let s = rt
            .block_on(Sandbox::start(SandboxOptions::default()))
            .unwrap();
        let engine = Engine::new(sandbox_config(&s, None, Choices::default()));
        rt.block_on(engine.run_all(&AlwaysYes)).unwrap();
        app = rt.block_on(engine.facts()).app.map(|a| a.id);
        options.settings = Settings {
            login_url: Some(s.login_url.clone()),
            graph_url: Some(s.graph_url.clone()),
            ..Settings::default()
        };
        options.sign_in_env = Some(SignInEnv {
            store: Some(Arc::new(SessionStore::default())),
            opener: Arc::new(crate::support::HttpOpener),
            settings_path: None,
        });
        sandbox = Some(s);
    });
    // The sandbox runs as long as the window works on it.
    let _sandbox = sandbox.unwrap();
    h.click("My Microsoft Entra tenant");
    h.click("Sign in with browser");
    h.assert_sees_part("Signed in as");
    assert_eq!(
        h.app.screen(),
        ScreenId::Welcome,
        "nothing read before sign-in"
    );
    // No admin API token: the guided manual path, which the check does not need.
    h.click("Next");
    assert_eq!(h.app.screen(), ScreenId::Drift, "{:?}", h.app.error());
    let app = app.unwrap();
    h.assert_sees_part(&format!("Enterprise app {app}"));
    h.assert_sees_part("Provisioning job exists, is active and not quarantined");
}

#[test]
fn a_secret_expiring_soon_is_rotated_from_the_drift_check_and_the_check_holds_again() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    completed_setup(&state);
    // The secret Entra holds (the only live one) expires in ten days.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let soon = std::time::SystemTime::now() + std::time::Duration::from_secs(10 * 86_400);
    for s in doc["orchidea"]["secrets"].as_array_mut().unwrap() {
        if s["revoked"] != true {
            s["expiresAt"] = humantime::format_rfc3339_seconds(soon).to_string().into();
        }
    }
    std::fs::write(&state, doc.to_string()).unwrap();

    let mut h = window_on(&state);
    assert_eq!(h.app.screen(), ScreenId::Drift, "{:?}", h.app.error());
    h.assert_sees("1 difference from Orchidea's specification.");
    h.assert_sees_part("expires in 9 days");
    h.click("Rotate secret");
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    h.assert_sees_part("6. Revoke the old secret: Revoked the old secret");
    // Checked again after the rotation: the new secret does not expire.
    assert_eq!(h.app.screen(), ScreenId::Drift);
    h.assert_sees_part(&all_hold());
}
