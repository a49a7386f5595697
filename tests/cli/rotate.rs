//! `rotate` as an admin runs it, against the sandbox with a state file:
//! afterwards Entra holds a new secret that works, Orchidea's SCIM endpoint
//! refuses the old one and provisioning is still active; a save refused by
//! Graph stops it at stage 4 with the old secret still working; the manual
//! path names the old secret and `--verify-old` proves it refused once the
//! admin revoked it. Checked by reopening the sandbox's state, not through
//! the CLI's own words.

use std::path::Path;

use orchidea_wizard::platform::secret::Secret;
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::services::orchidea::{HttpOrchideaAdmin, OrchideaAdmin};

use crate::cli::{command, output, run};
use crate::common::{jobs, scim_status};

/// What the sandbox on `state` holds now: Entra's Secret Token, the job's
/// status code, and the status Orchidea's SCIM answers to each of `probe`.
struct Seen {
    /// Orchidea's SCIM URL (its port is kept in the state).
    url: String,
    token: Secret,
    job: String,
    answers: Vec<u16>,
}

/// Reopens the sandbox on `state`, optionally lets Orchidea's admin (its
/// web UI) create or revoke a secret first, and reads what it holds.
fn look(state: &Path, probe: &[&Secret], admin: impl AdminAct) -> (Seen, Option<Secret>) {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let sandbox = Sandbox::start(SandboxOptions {
            state_file: Some(state.to_path_buf()),
            ..SandboxOptions::default()
        })
        .await
        .unwrap();
        let client = HttpOrchideaAdmin::new(
            orchidea_wizard::platform::http::loopback_client(),
            sandbox.orchidea_url.clone(),
            sandbox.admin_token.clone(),
        );
        let made = admin.act(&client).await;
        let dump = sandbox.dump().await;
        let job = &jobs(&dump)[0];
        let sp = job["servicePrincipalId"].as_str().unwrap().to_string();
        let token = sandbox.saved_setting(&sp, "SecretToken").await.unwrap();
        let mut answers = Vec::new();
        for secret in probe {
            answers.push(scim_status(&sandbox, secret).await);
        }
        let seen = Seen {
            url: sandbox.scim_url.to_string(),
            token,
            job: job["job"]["status"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            answers,
        };
        sandbox.shutdown().await;
        (seen, made)
    })
}

/// Something Orchidea's admin does in the web UI while the sandbox is open.
trait AdminAct {
    async fn act(self, admin: &HttpOrchideaAdmin) -> Option<Secret>;
}

struct Nothing;

impl AdminAct for Nothing {
    async fn act(self, _: &HttpOrchideaAdmin) -> Option<Secret> {
        None
    }
}

/// Creates a secret, as "Create new SCIM secret" does.
struct Create;

impl AdminAct for Create {
    async fn act(self, admin: &HttpOrchideaAdmin) -> Option<Secret> {
        Some(admin.create_scim_secret("idp-entra").await.unwrap().secret)
    }
}

/// Revokes the live secret ending in these four characters.
struct Revoke(String);

impl AdminAct for Revoke {
    async fn act(self, admin: &HttpOrchideaAdmin) -> Option<Secret> {
        let all = admin.list_scim_secrets().await.unwrap();
        let s = all
            .iter()
            .find(|s| !s.revoked && s.last4 == self.0)
            .unwrap();
        admin.revoke_scim_secret(&s.id).await.unwrap();
        None
    }
}

fn first_run(state: &Path) -> Secret {
    let s = state.to_str().unwrap();
    let (ok, stdout, stderr) = run(&["run", "--sandbox", "--sandbox-state", s, "--yes"]);
    assert!(ok, "{stdout}\n{stderr}");
    look(state, &[], Nothing).0.token
}

#[test]
fn rotate_leaves_a_new_working_secret_the_old_refused_and_the_job_active() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let s = state.to_str().unwrap();
    let old = first_run(&state);

    // Graph refuses the save: stage 4 stops, the old secret still works.
    let fault = "graph:PUT:/synchronization/secrets:400x1";
    let mut cmd = command(&[
        "rotate",
        "--sandbox",
        "--sandbox-state",
        s,
        "--sandbox-fault",
        fault,
    ]);
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("Rotation stopped at stage 4 of 6"),
        "{stdout}"
    );
    assert!(stdout.contains("old secret still works"), "{stdout}");
    let (seen, _) = look(&state, &[&old], Nothing);
    assert_eq!(seen.token.expose(), old.expose(), "Entra keeps the old one");
    assert_eq!(seen.answers, [200]);

    let (ok, stdout, stderr) = run(&["rotate", "--sandbox", "--sandbox-state", s]);
    assert!(ok, "{stdout}\n{stderr}");
    for n in 1..=6 {
        assert!(stdout.contains(&format!("[{n}/6]")), "stage {n}: {stdout}");
    }
    assert!(stdout.contains("Revoked the old secret"), "{stdout}");
    let (seen, _) = look(&state, &[&old], Nothing);
    assert_ne!(
        seen.token.expose(),
        old.expose(),
        "Entra holds a new secret"
    );
    let (seen_new, _) = look(&state, &[&seen.token], Nothing);
    assert_eq!(seen_new.answers, [200], "the new one works");
    assert_eq!(seen.answers, [401], "the old one is refused");
    assert_eq!(seen.job, "Active", "provisioning still active");
    for text in [&stdout, &stderr] {
        assert!(!text.contains(seen.token.expose()) && !text.contains(old.expose()));
    }
}

#[test]
fn the_manual_path_names_the_old_secret_and_verifies_it_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let s = state.to_str().unwrap();
    let old = first_run(&state);
    // The admin creates the new secret in Orchidea's web UI.
    let (seen, new) = look(&state, &[], Create);
    let (new, scim_url) = (new.unwrap(), seen.url);

    let mut cmd = command(&[
        "rotate",
        "--sandbox",
        "--sandbox-state",
        s,
        "--scim-url",
        &scim_url,
    ]);
    cmd.env("ORCHIDEA_SCIM_SECRET", new.expose());
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Saved, but the old one is still live: exit 1, and it is named.
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let named = stdout
        .lines()
        .find(|l| l.starts_with("[6/6]"))
        .unwrap_or_default();
    assert!(
        named.contains("Revoke the old secret") && named.contains(&format!("…{})", old.last4())),
        "{stdout}"
    );
    assert!(stdout.contains("--verify-old"), "{stdout}");
    let (seen, _) = look(&state, &[&old], Nothing);
    assert_eq!(seen.token.expose(), new.expose());
    assert_eq!(seen.answers, [200], "not revoked by the wizard");

    let verify = || {
        let mut cmd = command(&["rotate", "--sandbox", "--sandbox-state", s, "--verify-old"]);
        cmd.env("ORCHIDEA_OLD_SCIM_SECRET", old.expose());
        output(cmd)
    };
    let (ok, stdout, _) = verify();
    assert!(!ok && stdout.contains("still accepts"), "{stdout}");
    // The admin revokes it in the web UI; now it is proven refused.
    look(&state, &[], Revoke(old.last4()));
    let (ok, stdout, stderr) = verify();
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("refuses the old secret"), "{stdout}");
    assert!(!stdout.contains(old.expose()));
}

#[test]
fn rotate_without_orchidea_says_what_it_needs() {
    let (ok, _, stderr) = run(&["rotate", "--graph-url", "http://127.0.0.1:9/v1.0"]);
    assert!(!ok);
    assert!(stderr.contains("--orchidea-url"), "{stderr}");
}
