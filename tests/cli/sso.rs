//! Step 0 from the CLI (#17), against a standalone sandbox through the real
//! sign-in: a tenant with no Orchidea app and a workspace with no Entra IDP
//! run to a started job with SAML single sign-on (admin API), a second run
//! changes nothing; and the manual path, where the admin adds the IDP in
//! Orchidea and gives the wizard its reply URL. Everything is checked in
//! the sandbox's own state file, not in what the CLI says.

use crate::common;

use common::standalone::{Standalone, final_states, scim_steps_done, state_of};
use orchidea_wizard::platform::secret::Secret;
use orchidea_wizard::services::orchidea::sso::{ENTITY_ID, REPLY_PATH_PREFIX};
use orchidea_wizard::services::orchidea::{
    HttpOrchideaAdmin, NewSamlIdp, OrchideaAdmin, SamlAttributeNames,
};
use serde_json::{Value, json};

/// The built-in tenant without the Orchidea app, and a workspace whose
/// IDPs are Google and passwords only.
fn from_nothing() -> Standalone {
    Standalone::with_tenant(|tenant, _| *tenant = crate::common::tenant_from_nothing())
}

/// The apps holding Orchidea's Identifier.
fn saml_apps(dump: &Value) -> Vec<Value> {
    dump["entra"]["applications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["identifierUris"]
                .as_array()
                .is_some_and(|u| u.iter().any(|x| x == ENTITY_ID))
        })
        .cloned()
        .collect()
}

fn sp_of(dump: &Value, app: &Value) -> Value {
    dump["entra"]["servicePrincipals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["appId"] == app["appId"])
        .cloned()
        .expect("the app's service principal")
}

/// The signing certificates (base64 DER) the service principal holds, as
/// the sandbox stores them (one per `addTokenSigningCertificate`).
fn signing_keys(sp: &Value) -> Vec<String> {
    sp["sso"]["certificates"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k["key"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn saml_idps(dump: &Value) -> Vec<Value> {
    dump["orchidea"]["samlIdps"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn reply_urls(app: &Value) -> Vec<String> {
    app["web"]["redirectUris"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect()
}

fn admin(sandbox: &Standalone) -> HttpOrchideaAdmin {
    HttpOrchideaAdmin::new(
        orchidea_wizard::platform::http::loopback_client(),
        sandbox.url("orchidea_url").parse().unwrap(),
        Secret::new(sandbox.url("orchidea_admin_token")),
    )
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn with_sso_from_nothing_reaches_a_started_job_and_a_second_run_changes_nothing() {
    let sandbox = from_nothing();
    let orchidea = sandbox.url("orchidea_url").to_string();
    let report = sandbox.dir.path().join("report.json");
    let args = [
        "run",
        "--with-sso",
        "--create-app",
        "--yes",
        "--scope",
        "all",
        "--orchidea-url",
        &orchidea,
        "--report",
        report.to_str().unwrap(),
    ];
    let (ok, stdout, stderr) = sandbox.cli(&args);
    assert!(ok, "exit 0\n{stdout}\n{stderr}");
    let states = final_states(&stdout);
    assert!(scim_steps_done(&states), "{states:?}\n{stdout}");
    assert_eq!(state_of(&states, "0"), "done", "{stdout}");

    let dump = sandbox.dump_after_first_cycle();
    // One app with Orchidea's Identifier; one SAML IDP in Orchidea.
    let apps = saml_apps(&dump);
    assert_eq!(apps.len(), 1, "{apps:?}");
    let idps = saml_idps(&dump);
    assert_eq!(idps.len(), 1, "{idps:?}");
    let idp_id = idps[0]["id"].as_str().unwrap();
    // The Reply URL is the IDP's (Orchidea's "Copy reply URL"), not the placeholder.
    let reply = block_on(admin(&sandbox).get_saml_idp(idp_id))
        .unwrap()
        .reply_url
        .to_string();
    assert!(
        reply.ends_with(&format!("{REPLY_PATH_PREFIX}{idp_id}")),
        "{reply}"
    );
    assert_eq!(reply_urls(&apps[0]), vec![reply.clone()]);
    // SAML on, and Orchidea holds the certificate Entra signs with.
    let sp = sp_of(&dump, &apps[0]);
    assert_eq!(sp["sso"]["preferredSingleSignOnMode"], "saml", "{sp}");
    let keys = signing_keys(&sp);
    assert_eq!(keys.len(), 1, "one signing certificate: {sp}");
    assert!(
        idps[0]["signingCertificates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == keys[0].as_str()),
        "Orchidea holds Entra's certificate"
    );
    // Step 1b's IDP is the new one: the SCIM secret is for it.
    let secrets = dump["orchidea"]["secrets"].as_array().unwrap();
    assert!(
        secrets
            .iter()
            .any(|s| s["idpId"] == idp_id && s["revoked"] != true),
        "{secrets:?}"
    );
    // The metadata the admin could upload is saved, private.
    let metadata = sandbox
        .dir
        .path()
        .join("data")
        .join("orchidea-federation-metadata.xml");
    let xml = std::fs::read_to_string(&metadata).unwrap();
    assert!(
        xml.contains(&keys[0]),
        "the metadata carries the certificate"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&metadata).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // The report lists what step 0 created.
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let sso = r["single_sign_on"].to_string();
    assert!(
        sso.contains(idp_id) && sso.contains("created the enterprise app"),
        "{sso}"
    );

    // A second identical run changes nothing.
    let (ok, stdout, stderr) = sandbox.cli(&args);
    assert!(ok, "exit 0\n{stdout}\n{stderr}");
    assert_eq!(
        state_of(&final_states(&stdout), "0"),
        "already done",
        "{stdout}"
    );
    let again = sandbox.dump();
    assert_eq!(saml_apps(&again), apps, "the app is unchanged");
    assert_eq!(saml_idps(&again).len(), 1);
    assert_eq!(signing_keys(&sp_of(&again, &apps[0])), keys);
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["changes"], json!([]), "{}", r["changes"]);

    // Undo deletes the IDP it created and leaves the app with its SAML settings.
    let (ok, stdout, stderr) = sandbox.cli(&["undo", "--yes", "--orchidea-url", &orchidea]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("({idp_id})")), "{stdout}");
    assert!(
        stdout.contains("SAML single sign-on settings of"),
        "{stdout}"
    );
    // Orchidea's own answer (its state file is written just after).
    let left = block_on(admin(&sandbox).list_idps()).unwrap();
    assert!(
        !left.iter().any(|i| i.id == idp_id),
        "the IDP is gone: {left:?}"
    );
    let undone = sandbox.dump();
    let apps_now = saml_apps(&undone);
    assert_eq!(apps_now.len(), 1, "the app stays");
    assert_eq!(
        sp_of(&undone, &apps_now[0])["sso"]["preferredSingleSignOnMode"],
        "saml"
    );
}

#[test]
fn the_manual_path_stops_with_the_guide_then_takes_the_checked_reply_url() {
    let sandbox = from_nothing();
    let admin = admin(&sandbox);
    let scim_url = sandbox.url("scim_url").to_string();
    // The admin's SCIM secret from Orchidea's web UI (here: its admin API).
    let secret = block_on(admin.create_scim_secret("idp-google")).unwrap();
    let env = [(
        "ORCHIDEA_SCIM_SECRET".to_string(),
        secret.secret.expose().to_string(),
    )];
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--with-sso",
            "--create-app",
            "--yes",
            "--scim-url",
            &scim_url,
            "--workspace-url",
            sandbox.url("orchidea_url"),
        ];
        args.extend_from_slice(extra);
        let mut env = env.to_vec();
        env.push((
            "DBUS_SESSION_BUS_ADDRESS".into(),
            "unix:path=/nonexistent/bus".into(),
        ));
        sandbox.cli_with(&args, &env)
    };

    // 1. Entra's half, then the guide: stopped at step 0, metadata saved.
    let (ok, stdout, stderr) = run(&[]);
    assert!(!ok, "{stdout}\n{stderr}");
    assert_eq!(state_of(&final_states(&stdout), "0"), "failed", "{stdout}");
    assert!(stderr.contains("+ Add new IDP"), "{stderr}");
    for (_, c) in SamlAttributeNames::entra_default_claims().labelled() {
        assert!(stderr.contains(c), "{c}: {stderr}");
    }
    assert!(
        stderr.contains("Copy reply URL") && stderr.contains("--reply-url"),
        "{stderr}"
    );
    let metadata = sandbox
        .dir
        .path()
        .join("data")
        .join("orchidea-federation-metadata.xml");
    assert!(stderr.contains(metadata.to_str().unwrap()), "{stderr}");
    let xml = std::fs::read_to_string(&metadata).unwrap();
    let dump = sandbox.dump();
    let apps = saml_apps(&dump);
    assert_eq!(apps.len(), 1);
    let placeholder = format!(
        "{}{}",
        sandbox.url("orchidea_url").trim_end_matches('/'),
        REPLY_PATH_PREFIX
    );
    assert_eq!(reply_urls(&apps[0]), vec![placeholder]);
    assert!(saml_idps(&dump).is_empty(), "the wizard adds no IDP itself");

    // 2. The admin adds the IDP in Orchidea from the saved file.
    let idp = block_on(admin.create_saml_idp(&NewSamlIdp {
        name: "Entra".into(),
        metadata_xml: xml,
        attributes: SamlAttributeNames::entra_default_claims(),
        email_domains: Vec::new(),
    }))
    .unwrap();

    // 3. A reply URL that is not Orchidea's: refused, nothing in Entra changes.
    let (ok, stdout, stderr) = run(&["--reply-url", "https://evil.example/api/saml/login/x"]);
    assert!(!ok, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("The reply URL's host evil.example is not Orchidea's"),
        "{stderr}"
    );
    let after_bad = sandbox.dump();
    assert_eq!(after_bad["entra"], dump["entra"], "Entra is untouched");

    // 4. The IDP's reply URL: step 0 is done and the run completes.
    let reply = idp.reply_url.to_string();
    let (ok, stdout, stderr) = run(&["--reply-url", &reply]);
    assert!(ok, "exit 0\n{stdout}\n{stderr}");
    let states = final_states(&stdout);
    assert_eq!(state_of(&states, "0"), "done", "{stdout}");
    // Steps 1a and 1b were the admin's (manual SCIM secret).
    assert!(
        stdout.contains("19 of 19 steps complete"),
        "{states:?}\n{stdout}"
    );
    assert_eq!(state_of(&states, "16"), "done");
    let dump = sandbox.dump();
    let apps = saml_apps(&dump);
    assert_eq!(reply_urls(&apps[0]), vec![reply.clone()]);
    let keys = signing_keys(&sp_of(&dump, &apps[0]));
    assert_eq!(keys.len(), 1);
    assert!(idp.signing_certificates.contains(&keys[0]));

    // 5. Again: nothing changes.
    let (ok, stdout, stderr) = run(&["--reply-url", &reply]);
    assert!(ok, "exit 0\n{stdout}\n{stderr}");
    assert_eq!(state_of(&final_states(&stdout), "0"), "already done");
    assert_eq!(saml_apps(&sandbox.dump()), apps);
}

#[test]
fn without_with_sso_step_0_is_only_checked_and_names_the_flag() {
    let sandbox = from_nothing();
    let orchidea = sandbox.url("orchidea_url").to_string();
    let (_, stdout, _) =
        sandbox.cli(&["run", "--create-app", "--yes", "--orchidea-url", &orchidea]);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("[  0]"))
        .unwrap_or_default();
    assert!(
        line.contains("manual") && line.contains("--with-sso"),
        "{stdout}"
    );
    assert!(saml_apps(&sandbox.dump()).is_empty(), "nothing set up");
}

#[test]
fn killed_right_after_the_certificate_or_the_idp_landed_a_second_run_makes_no_second_one() {
    use orchidea_wizard::sandbox::faults::CRASH_EXIT_CODE;
    for spec in [
        "graph:POST:/addTokenSigningCertificate:crash:after",
        "admin:POST:/idps:crash:after",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut tenant = common::default_tenant();
        tenant["servicePrincipals"]
            .as_array_mut()
            .unwrap()
            .retain(|s| s["displayName"] != "Orchidea");
        let file = dir.path().join("tenant.json");
        std::fs::write(&file, tenant.to_string()).unwrap();
        let state = dir.path().join("state.json");
        let run = |extra: &[&str]| {
            let mut cmd = crate::cli::command(&[
                "run",
                "--sandbox",
                "--with-sso",
                "--create-app",
                "--yes",
                "--sandbox-tenant",
                file.to_str().unwrap(),
                "--sandbox-state",
                state.to_str().unwrap(),
            ]);
            cmd.args(extra)
                .env("ORCHIDEA_WIZARD_DATA_DIR", dir.path().join("data"));
            let out = cmd.output().unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        };
        let (code, out) = run(&["--sandbox-fault", spec]);
        assert_eq!(code, Some(CRASH_EXIT_CODE), "{spec}: {out}");
        let (code, out) = run(&[]);
        assert_eq!(code, Some(0), "{spec}: {out}");
        assert_eq!(state_of(&final_states(&out), "0"), "done", "{spec}: {out}");
        let dump: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
        let apps = saml_apps(&dump);
        assert_eq!(apps.len(), 1, "{spec}");
        assert_eq!(
            signing_keys(&sp_of(&dump, &apps[0])).len(),
            1,
            "{spec}: one certificate"
        );
        assert_eq!(saml_idps(&dump).len(), 1, "{spec}: one IDP");
    }
}
