//! "Remember me" from the CLI against a real Secret Service (a private
//! D-Bus session with gnome-keyring-daemon), checked with `secret-tool`,
//! independently of the wizard: nothing is stored without `--remember`;
//! with it only the refresh token (and Orchidea's admin token) are, a
//! later command signs in without a device code, and `signout` removes
//! them.

use crate::common;

use common::keyring::PrivateKeyring;
use common::standalone::Standalone;
use orchidea_wizard::platform::cloud::Cloud;
use orchidea_wizard::platform::credstore::SERVICE;
use orchidea_wizard::services::connect;
use orchidea_wizard::services::signin::SignInConfig;

const DEVICE_PROMPT: &str = "enter the code";

#[test]
fn remember_me_keeps_only_what_it_should_and_sign_out_removes_it() {
    let sandbox = Standalone::start(None);
    let keyring = PrivateKeyring::start();
    let env = keyring.env();
    let orchidea = sandbox.url("orchidea_url").to_string();

    // Remember me off: a full sign-in, nothing in the keyring.
    let (ok, stdout, stderr) = sandbox.cli_with(&["signin", "--orchidea-url", &orchidea], &env);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains(DEVICE_PROMPT), "{stdout}");
    assert_eq!(
        keyring.items(SERVICE),
        Vec::<String>::new(),
        "nothing stored when Remember me is off"
    );

    // Remember me on: the refresh token and the Orchidea token, nothing else.
    let (ok, stdout, stderr) =
        sandbox.cli_with(&["signin", "--remember", "--orchidea-url", &orchidea], &env);
    assert!(ok, "{stdout}\n{stderr}");
    let items = keyring.items(SERVICE);
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(
        items.iter().any(
            |i| i.starts_with("entra-refresh-token:global:http://127.0.0.1:")
                && i.contains(":organizations:")
        ) && items
            .iter()
            .any(|i| i.contains("orchidea-admin-token:http://127.0.0.1:")),
        "{items:?}"
    );

    // The next command signs in with the remembered sign-in: no device code,
    // and no Orchidea token needed from the environment.
    let (ok, stdout, stderr) = sandbox.cli_with(
        &["run", "--orchidea-url", &orchidea, "--yes"],
        &without_admin_token(&env),
    );
    assert!(ok, "{stdout}\n{stderr}");
    assert!(!stdout.contains(DEVICE_PROMPT), "{stdout}");
    assert!(stdout.contains("remembered sign-in"), "{stdout}");
    assert!(stdout.contains("remembered admin token"), "{stdout}");
    assert_eq!(
        keyring.items(SERVICE).len(),
        2,
        "the rotated token replaced the old one"
    );

    // Sign-out removes both.
    let (ok, stdout, stderr) = sandbox.cli_with(&["signout", "--orchidea-url", &orchidea], &env);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("2 stored item(s) removed"), "{stdout}");
    assert_eq!(keyring.items(SERVICE), Vec::<String>::new());

    // And the next command has to sign in again.
    let (ok, stdout, _) = sandbox.cli_with(&["signin"], &env);
    assert!(ok && stdout.contains(DEVICE_PROMPT), "{stdout}");
}

/// The keyring's environment without `ORCHIDEA_ADMIN_TOKEN` (an empty
/// value removes it): the CLI must take the remembered one.
fn without_admin_token(env: &[(String, String)]) -> Vec<(String, String)> {
    let mut env = env.to_vec();
    env.push(("ORCHIDEA_ADMIN_TOKEN".into(), String::new()));
    env
}

/// A damaged entry (not this wizard's format) under the sign-in's key
/// does not block the CLI: it says the entry could not be read and signs
/// in again; `signout` removes it, and a new `--remember` replaces it.
#[test]
fn a_damaged_entry_is_reported_replaced_and_removed_by_signout() {
    let sandbox = Standalone::start(None);
    let keyring = PrivateKeyring::start();
    let env = keyring.env();
    let mut cfg = SignInConfig::for_cloud(Cloud::Global);
    cfg.login_url = sandbox.url("login_url").parse().unwrap();
    let key = connect::refresh_key(&cfg);
    let damage = || keyring.store_raw(SERVICE, &key, b"\xffnot-a-refresh-token");

    damage();
    let (ok, stdout, stderr) = sandbox.cli_with(&["signout"], &env);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("1 stored item(s) removed"), "{stdout}");
    assert_eq!(keyring.items(SERVICE), Vec::<String>::new());

    damage();
    let (ok, stdout, stderr) = sandbox.cli_with(&["signin", "--remember"], &env);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("could not be read") && stderr.contains("damaged"),
        "{stderr}"
    );
    assert!(stdout.contains(DEVICE_PROMPT), "{stdout}");
    assert_eq!(keyring.items(SERVICE), vec![key.clone()]);
    let (ok, stdout, stderr) = sandbox.cli_with(&["signin"], &env);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("remembered sign-in"), "replaced: {stdout}");

    // A damaged Orchidea admin token entry: named, then asked for (here
    // there is no terminal, so the command says which variable to set).
    let orchidea = sandbox.url("orchidea_url").to_string();
    let orchidea_key = orchidea_wizard::platform::credstore::keys::orchidea_admin_token(
        &orchidea.parse().unwrap(),
    );
    keyring.store_raw(SERVICE, &orchidea_key, b"OW1:001;\xff\xfe");
    let (ok, stdout, stderr) = sandbox.cli_with(
        &["signin", "--remember", "--orchidea-url", &orchidea],
        &without_admin_token(&env),
    );
    assert!(!ok, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("remembered Orchidea admin token could not be read")
            && stderr.contains("ORCHIDEA_ADMIN_TOKEN is not set"),
        "{stderr}"
    );
    let (ok, stdout, stderr) = sandbox.cli_with(&["signout", "--orchidea-url", &orchidea], &env);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("2 stored item(s) removed"), "{stdout}");
    assert_eq!(keyring.items(SERVICE), Vec::<String>::new());
}
