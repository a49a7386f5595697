//! The window's real-tenant sign-in, headless, against the sandbox's sign-in
//! and Graph over HTTP on 127.0.0.1 (endpoint overrides from the settings):
//! browser and device code, the role verdict, "Remember me", sign-out, the
//! Orchidea token check, and what the settings file keeps.

use std::sync::Arc;

use crate::support::{Harness, HttpOpener};
use orchidea_wizard::platform::credstore::{CredentialStore, SessionStore};
use orchidea_wizard::platform::settings::Settings;
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions, SignInBehaviour};
use orchidea_wizard::ui::ScreenId;
use orchidea_wizard::ui::work::SignInEnv;

struct World {
    h: Harness,
    sandbox: Arc<Sandbox>,
    store: Arc<dyn CredentialStore>,
    _dir: tempfile::TempDir,
}

/// The window pointed at a fresh sandbox through the saved settings, as
/// an admin who typed the overrides under "Advanced settings" last time.
fn world(behaviour: Option<SignInBehaviour>, remember: bool) -> World {
    world_with(
        behaviour,
        remember,
        Arc::new(SessionStore::default()),
        |_| {},
    )
}

/// [`world`] with the given credential store, prepared once the sandbox's
/// endpoints are known.
fn world_with(
    behaviour: Option<SignInBehaviour>,
    remember: bool,
    store: Arc<dyn CredentialStore>,
    prepare: impl FnOnce(&Sandbox),
) -> World {
    let dir = tempfile::tempdir().unwrap();
    let mut prepare = Some(prepare);
    let mut sandbox = None;
    let h = Harness::build(false, |options, rt| {
        let s = rt
            .block_on(Sandbox::start(SandboxOptions {
                sign_in: behaviour,
                ..SandboxOptions::default()
            }))
            .unwrap();
        options.settings = Settings {
            login_url: Some(s.login_url.clone()),
            graph_url: Some(s.graph_url.clone()),
            remember_me: remember,
            ..Settings::default()
        };
        options.sign_in_env = Some(SignInEnv {
            store: Some(store.clone()),
            opener: Arc::new(HttpOpener),
            settings_path: Some(dir.path().join("settings.json")),
        });
        if let Some(prepare) = prepare.take() {
            prepare(&s);
        }
        sandbox = Some(Arc::new(s));
    });
    World {
        h,
        sandbox: sandbox.unwrap(),
        store,
        _dir: dir,
    }
}

/// The refresh token kept for the default cloud, tenant and client at the
/// sandbox's sign-in endpoint.
fn remembered(w: &World) -> Option<orchidea_wizard::Secret> {
    let key = orchidea_wizard::platform::credstore::keys::refresh_token(
        orchidea_wizard::platform::cloud::Cloud::Global,
        &w.sandbox.login_url,
        orchidea_wizard::services::signin::DEFAULT_TENANT,
        orchidea_wizard::services::signin::DEFAULT_CLIENT_ID,
    );
    w.store.get(&key).unwrap()
}

#[test]
fn browser_sign_in_checks_the_role_then_orchidea_then_moves_on() {
    let mut w = world(None, false);
    w.h.click("My Microsoft Entra tenant");
    w.h.click("Sign in with browser");
    w.h.assert_sees_part("Signed in as");
    w.h.assert_sees_part("Application Administrator");
    assert_eq!(w.h.app.screen(), ScreenId::Welcome);

    // Settings were saved: where to sign in, never a token.
    // (The harness keeps what the window asks to write instead of writing it.)
    let saved = serde_json::to_string(w.h.saved_settings.last().expect("settings saved")).unwrap();
    assert!(saved.contains(w.sandbox.login_url.as_str()), "{saved}");
    assert!(!saved.contains(w.sandbox.graph_token.expose()));
    assert!(!saved.to_lowercase().contains("token\""), "{saved}");

    // A wrong admin token is refused before use, and nothing moves.
    w.h.type_into(
        "https://yourcompany.orchidea.example",
        w.sandbox.orchidea_url.as_str(),
    );
    w.h.type_into("Paste the admin API token", "not-the-token");
    w.h.click("Next");
    w.h.assert_sees_part("Orchidea rejected the admin API token (401)");
    assert_eq!(w.h.app.screen(), ScreenId::Welcome);

    // The right one moves to the Orchidea screen, which lists the IDPs.
    w.h.click("Show");
    let token = w.sandbox.admin_token.expose().to_string();
    w.h.send(orchidea_wizard::ui::Message::Welcome(
        orchidea_wizard::ui::screen::welcome::Message::SignIn(
            orchidea_wizard::ui::panel::sign_in::Message::AdminTokenChanged(
                orchidea_wizard::Secret::new(token),
            ),
        ),
    ));
    w.h.click("Next");
    assert_eq!(w.h.app.screen(), ScreenId::OrchideaSecret);
    // Nothing remembered: "Remember me" was off.
    assert!(remembered(&w).is_none());
}

#[test]
fn device_code_sign_in_remembers_and_sign_out_forgets() {
    let mut w = world(None, true);
    w.h.click("My Microsoft Entra tenant");
    w.h.click("Use a device code");
    w.h.assert_sees_part("Signed in as");
    w.h.assert_sees_part("The sign-in is remembered in");
    assert!(remembered(&w).is_some(), "the refresh token is kept");
    w.h.click("Sign out");
    w.h.assert_sees("Sign in with browser");
    assert!(remembered(&w).is_none(), "sign-out removes it");
}

#[test]
fn a_missing_role_blocks_continue_with_the_reason() {
    let mut w = world(
        Some(SignInBehaviour {
            roles: Some(vec!["User Administrator".into()]),
            ..SignInBehaviour::default()
        }),
        false,
    );
    w.h.click("My Microsoft Entra tenant");
    w.h.click("Sign in with browser");
    w.h.assert_sees_part("User Administrator");
    w.h.click("Next");
    assert_eq!(w.h.app.screen(), ScreenId::Welcome);
}

#[test]
fn declined_consent_keeps_every_field_and_says_why() {
    let mut w = world(
        Some(SignInBehaviour {
            consent: orchidea_wizard::sandbox::Consent::Declined,
            ..SignInBehaviour::default()
        }),
        false,
    );
    w.h.click("My Microsoft Entra tenant");
    w.h.type_into(
        "https://yourcompany.orchidea.example",
        "https://acme.orchidea.example",
    );
    w.h.click("Sign in with browser");
    w.h.assert_sees_part("declined");
    // Back to the sign-in buttons, with the workspace URL as typed.
    w.h.assert_sees("Sign in with browser");
    w.h.assert_sees("https://acme.orchidea.example");
}

#[test]
fn escape_during_sign_in_returns_to_the_buttons() {
    let mut w = world(None, false);
    w.h.click("My Microsoft Entra tenant");
    // Start the work but do not run it: the admin presses Esc first.
    let effects = w.h.app.handle(orchidea_wizard::ui::Message::Welcome(
        orchidea_wizard::ui::screen::welcome::Message::SignIn(
            orchidea_wizard::ui::panel::sign_in::Message::DeviceCode,
        ),
    ));
    assert_eq!(effects.len(), 1, "the sign-in work started");
    assert!(!w.h.sees("Sign in with browser"));
    w.h.send(orchidea_wizard::ui::Message::Escape);
    w.h.assert_sees("Sign in with browser");
    assert_eq!(w.h.app.screen(), ScreenId::Welcome);
}

/// A damaged entry under the sign-in's key (not this wizard's format, as
/// another tool could leave it) does not block the window: it says so,
/// signs in again, and the new sign-in replaces it.
#[test]
fn a_damaged_remembered_sign_in_is_named_and_replaced() {
    use keyring_core::api::CredentialStoreApi;
    use orchidea_wizard::platform::credstore::{KeyringStore, MAX_BLOB, SERVICE};

    let mock = keyring_core::mock::Store::new().unwrap();
    let store: Arc<dyn CredentialStore> = Arc::new(KeyringStore::new(mock.clone(), MAX_BLOB));
    let mut w = world_with(None, true, store, |s| {
        let key = orchidea_wizard::platform::credstore::keys::refresh_token(
            orchidea_wizard::platform::cloud::Cloud::Global,
            &s.login_url,
            orchidea_wizard::services::signin::DEFAULT_TENANT,
            orchidea_wizard::services::signin::DEFAULT_CLIENT_ID,
        );
        mock.build(SERVICE, &key, None)
            .unwrap()
            .set_secret(b"plain-refresh-token")
            .unwrap();
    });
    w.h.click("My Microsoft Entra tenant");
    w.h.click("Use a device code");
    w.h.assert_sees_part("Signed in as");
    w.h.assert_sees_part("The remembered sign-in could not be read");
    assert!(remembered(&w).is_some(), "the new sign-in replaced it");
    w.h.click("Sign out");
    assert!(remembered(&w).is_none(), "sign-out removes it");
}
