//! The credential store against a real Secret Service (a private D-Bus
//! session and gnome-keyring-daemon, see `common/keyring.rs`).
//!
//! The store finds the bus through environment variables, which a test
//! may not change in its own process. So each test, run normally, starts
//! the keyring and re-runs this test binary as a child (`--exact <test>`)
//! with the keyring's environment and `KEYRING_CHILD=<step>`; the same test
//! function, seeing that variable, performs that one step through
//! `credstore::open()` and prints `STEP-OK …`. A fresh process per step
//! also shows that what is stored survives the process.

use crate::common;

use std::process::Command;

use common::keyring::PrivateKeyring;
use orchidea_wizard::Secret;
use orchidea_wizard::platform::credstore::{self, CredentialStore, SERVICE, SessionStore};

const CHILD: &str = "KEYRING_CHILD";
const KEY: &str = "entra-refresh-token:global:contoso:client";

/// 3,000 bytes: more than one 2,560-byte blob.
fn long_value() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..3000)
        .map(|i| char::from(ALPHABET[(i * 7 + 3) % ALPHABET.len()]))
        .collect()
}

/// Runs `test` in a child with `env` and `KEYRING_CHILD=step`; returns its
/// stdout after checking it succeeded and printed `STEP-OK`.
fn run_child(test: &str, step: &str, env: &[(String, String)], remove_bus: bool) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        &in_this_binary(test),
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, step)
    .envs(env.iter().cloned());
    if remove_bus {
        cmd.env_remove("DBUS_SESSION_BUS_ADDRESS");
    }
    let out = cmd.output().expect("re-run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("STEP-OK"),
        "child step {step} of {test} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

fn child_step() -> Option<String> {
    std::env::var(CHILD).ok()
}

#[test]
fn round_trip_of_a_chunked_value_through_the_real_secret_service() {
    const TEST: &str = "round_trip_of_a_chunked_value_through_the_real_secret_service";
    if let Some(step) = child_step() {
        let (store, reason) = credstore::open();
        assert_eq!(reason, None, "the OS store is used");
        assert!(store.persistent());
        match step.as_str() {
            "set" => store.set(KEY, &Secret::new(long_value())).unwrap(),
            "get" => {
                let got = store
                    .get(KEY)
                    .unwrap()
                    .expect("stored by the previous process");
                assert!(got.expose() == long_value(), "the value round-trips");
            }
            "delete" => {
                store.delete(KEY).unwrap();
                assert_eq!(store.get(KEY).unwrap(), None);
                store.delete(KEY).unwrap();
            }
            other => panic!("unknown step {other}"),
        }
        println!("STEP-OK {step}");
        return;
    }

    let keyring = PrivateKeyring::start();
    assert!(keyring.items(SERVICE).is_empty());
    run_child(TEST, "set", &keyring.env(), false);
    assert_eq!(
        keyring.items(SERVICE),
        [KEY.to_string(), format!("{KEY}#1")],
        "3,000 bytes take a head entry and one more"
    );
    run_child(TEST, "get", &keyring.env(), false);
    run_child(TEST, "delete", &keyring.env(), false);
    assert!(keyring.items(SERVICE).is_empty(), "every part is gone");
}

#[test]
fn the_session_store_leaves_the_real_keyring_empty() {
    // The primitive behind "nothing stored when Remember me is off".
    const TEST: &str = "the_session_store_leaves_the_real_keyring_empty";
    if let Some(step) = child_step() {
        // The OS store is there and working ...
        let (os, reason) = credstore::open();
        assert_eq!(reason, None);
        assert!(os.persistent());
        // ... but the session store is what is written to.
        let session = SessionStore::new();
        session.set(KEY, &Secret::new(long_value())).unwrap();
        assert!(session.get(KEY).unwrap().unwrap().expose() == long_value());
        assert!(!session.persistent());
        println!("STEP-OK {step}");
        return;
    }

    let keyring = PrivateKeyring::start();
    run_child(TEST, "session", &keyring.env(), false);
    assert!(keyring.items(SERVICE).is_empty());
}

#[test]
fn without_a_session_bus_open_falls_back_to_session_only() {
    const TEST: &str = "without_a_session_bus_open_falls_back_to_session_only";
    if let Some(step) = child_step() {
        let (store, reason) = credstore::open();
        let reason = reason.expect("a reason for the admin");
        assert!(!store.persistent());
        assert_eq!(store.describe(), "this session only");
        store.set(KEY, &Secret::new("kept-in-memory")).unwrap();
        assert_eq!(store.get(KEY).unwrap().unwrap().expose(), "kept-in-memory");
        // Later opens hand out the same session store.
        let (again, _) = credstore::open();
        assert!(again.get(KEY).unwrap().is_some());
        println!("STEP-OK {step} reason={reason}");
        return;
    }

    // No DBUS_SESSION_BUS_ADDRESS, and XDG_RUNTIME_DIR/bus does not exist.
    let root = tempfile::tempdir().unwrap();
    let env = vec![
        ("HOME".to_string(), root.path().display().to_string()),
        (
            "XDG_RUNTIME_DIR".to_string(),
            root.path().display().to_string(),
        ),
    ];
    let out = run_child(TEST, "no-bus", &env, true);
    assert!(
        out.contains(
            "reason=Your passwords store is not available (the platform service failed), so you will need to sign in again next time."
        ),
        "{out}"
    );
}

#[test]
fn a_bus_without_a_secret_service_falls_back_to_session_only() {
    const TEST: &str = "a_bus_without_a_secret_service_falls_back_to_session_only";
    if let Some(step) = child_step() {
        let (store, reason) = credstore::open();
        assert!(!store.persistent());
        println!("STEP-OK {step} reason={}", reason.expect("a reason"));
        return;
    }

    let bus = PrivateKeyring::bus_only();
    let out = run_child(TEST, "bus-only", &bus.env(), false);
    assert!(
        out.contains("reason=Your passwords store is not available ("),
        "{out}"
    );
    assert!(
        out.contains("so you will need to sign in again next time."),
        "{out}"
    );
}

/// The harness names a test by its path inside the test binary
/// (`module::test`), which `--exact` needs.
fn in_this_binary(test: &str) -> String {
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    format!("{module}::{test}")
}
