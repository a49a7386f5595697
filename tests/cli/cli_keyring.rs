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

/// `run --plan` with two real tenants (two standalone sandboxes, each its
/// own login and Graph): the one whose sign-in and Orchidea token were
/// remembered runs with them and nothing else (no device code, no token
/// from the environment); the other fails alone, naming `signin`.
#[test]
fn a_plan_uses_each_tenants_own_remembered_sign_in_and_nothing_else() {
    let a = Standalone::start(None);
    let b = Standalone::start(None);
    let keyring = PrivateKeyring::start();
    let env = keyring.env();
    let tenant = common::default_tenant()["tenant"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let orchidea_a = a.url("orchidea_url").to_string();
    let (ok, stdout, stderr) = a.cli_with(
        &[
            "signin",
            "--tenant",
            &tenant,
            "--remember",
            "--orchidea-url",
            &orchidea_a,
        ],
        &env,
    );
    assert!(ok, "{stdout}\n{stderr}");
    assert_eq!(keyring.items(SERVICE).len(), 2);

    let entry = |name: &str, s: &Standalone| {
        format!(
            "[[tenant]]\nname = \"{name}\"\ntenant = \"{tenant}\"\nlogin_url = \"{}\"\ngraph_url = \"{}\"\norchidea_url = \"{}\"\n",
            s.url("login_url"),
            s.url("graph_url"),
            s.url("orchidea_url"),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        entry("remembered", &a) + "\n" + &entry("not-signed-in", &b),
    )
    .unwrap();
    let out = std::process::Command::new(common::standalone::CLI)
        .args(["run", "--plan", plan.to_str().unwrap(), "--yes"])
        .envs(
            env.iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k, v)),
        )
        // A token in the environment must not be used for either tenant.
        .env("ORCHIDEA_ADMIN_TOKEN", b.url("orchidea_admin_token"))
        .env_remove("GRAPH_ACCESS_TOKEN")
        .env("ORCHIDEA_WIZARD_DATA_DIR", dir.path().join("data"))
        .env("ORCHIDEA_WIZARD_CONFIG_DIR", dir.path().join("config"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        !stdout.contains(DEVICE_PROMPT),
        "never a device code: {stdout}"
    );
    assert!(stdout.contains("remembered sign-in"), "{stdout}");
    assert!(stdout.contains("remembered admin token"), "{stdout}");
    let summary = stdout.split("Plan summary").nth(1).unwrap();
    let row = |name: &str| {
        summary
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {summary}"))
            .to_string()
    };
    assert!(row("remembered ").contains(" done "), "{summary}");
    assert!(
        row("not-signed-in").contains("No remembered sign-in for tenant"),
        "{summary}"
    );
}
