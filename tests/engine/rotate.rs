//! Rotating the SCIM secret after a sandbox run: Entra ends up holding a
//! new secret that works, the old one is refused by Orchidea's SCIM
//! endpoint, the job keeps running and the scope and notifications stay;
//! a failure injected at each of the six stages leaves the old secret
//! working. Checked at the sandbox's SCIM endpoint and in its Entra state,
//! not through the wizard's own view.

use crate::common;

use common::*;
use orchidea_wizard::engine::rotate::{NewSecret, OldSecret, RotateOptions, RotateStage};
use orchidea_wizard::engine::{AlwaysYes, Engine, EngineError, Scope};
use orchidea_wizard::platform::secret::Secret;
use orchidea_wizard::sandbox::{Fault, Sandbox, SandboxOptions};
use orchidea_wizard::services::orchidea::OrchideaAdmin;

/// A later engine on the same sandbox, as a `rotate` command makes one.
fn later(sandbox: &Sandbox) -> Engine {
    Scenario::new().scope(Scope::All).engine(sandbox)
}

/// A whole run (scope: all users); the sandbox, the app and the secret
/// Entra holds.
async fn after_a_run() -> (Sandbox, String, Secret) {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let first = later(&sandbox);
    first.run_all(&AlwaysYes).await.unwrap();
    let facts = first.facts().await;
    let sp = facts.app.unwrap().id;
    let held = facts.scim.unwrap().secret.unwrap();
    assert_eq!(entra_token(&sandbox, &sp).await.expose(), held.expose());
    (sandbox, sp, held)
}

/// The Secret Token Entra holds, from the sandbox's own state.
async fn entra_token(sandbox: &Sandbox, sp: &str) -> Secret {
    sandbox
        .saved_setting(sp, "SecretToken")
        .await
        .expect("Entra holds a Secret Token")
}

async fn saved(sandbox: &Sandbox, sp: &str, key: &str) -> Option<String> {
    sandbox
        .saved_setting(sp, key)
        .await
        .map(|s| s.expose().to_string())
}

fn job_code(dump: &serde_json::Value) -> String {
    jobs(dump)[0]["job"]["status"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Rotation with a secret pasted from Orchidea's web UI.
fn pasting(secret: &Secret) -> RotateOptions {
    RotateOptions {
        new_secret: NewSecret::Pasted(secret.clone()),
        old_id: None,
    }
}

fn no_stages() -> impl Fn(RotateStage, &str) + Send + Sync {
    |_, _| {}
}

#[tokio::test]
async fn rotation_leaves_a_new_working_secret_and_the_old_one_refused() {
    let (sandbox, sp, old) = after_a_run().await;
    let notes_before = saved(&sandbox, &sp, "SyncNotificationSettings").await;
    let heard = std::sync::Mutex::new(Vec::new());
    let on_stage = |stage: RotateStage, _: &str| heard.lock().unwrap().push(stage.number());

    let engine = later(&sandbox);
    let outcome = engine
        .rotate(&RotateOptions::default(), &on_stage)
        .await
        .unwrap();

    assert_eq!(
        *heard.lock().unwrap(),
        [1, 2, 3, 4, 5, 6],
        "every stage, in order"
    );
    let new = entra_token(&sandbox, &sp).await;
    assert_ne!(new.expose(), old.expose(), "Entra holds a new secret");
    assert_eq!(scim_status(&sandbox, &new).await, 200, "the new one works");
    assert_eq!(
        scim_status(&sandbox, &old).await,
        401,
        "the old one is refused"
    );
    assert!(
        matches!(&outcome.old, OldSecret::Revoked(_)),
        "{:?}",
        outcome.old
    );
    assert!(outcome.complete());
    let dump = sandbox.dump().await;
    assert_eq!(job_code(&dump), "Active", "provisioning never paused");
    assert_eq!(
        saved(&sandbox, &sp, "SyncAll").await.as_deref(),
        Some("true"),
        "the scope is kept"
    );
    assert_eq!(
        saved(&sandbox, &sp, "SyncNotificationSettings").await,
        notes_before,
        "the notifications are kept"
    );
    let live: Vec<_> = admin_client(&sandbox)
        .list_scim_secrets()
        .await
        .unwrap()
        .into_iter()
        .filter(|s| !s.revoked)
        .collect();
    assert_eq!(live.len(), 1, "only the new one is live: {live:?}");
    assert_eq!(live[0].last4, new.last4());
    // The run state names the new one (never a value).
    let state = std::fs::read_to_string(sandbox.wizard_dir.join("run-state.json")).unwrap();
    assert!(state.contains(&live[0].id), "{state}");
    assert!(!state.contains(new.expose()) && !state.contains(old.expose()));
    for (_, line) in &outcome.lines {
        assert!(!line.contains(new.expose()), "{line}");
    }

    // Rotating again replaces the new one in turn.
    let again = later(&sandbox)
        .rotate(&RotateOptions::default(), &no_stages())
        .await
        .unwrap();
    assert!(matches!(again.old, OldSecret::Revoked(ref w) if w.contains(&live[0].id)));
    assert_eq!(scim_status(&sandbox, &new).await, 401);
    assert_eq!(
        scim_status(&sandbox, &entra_token(&sandbox, &sp).await).await,
        200
    );
}

#[tokio::test]
async fn a_failure_at_any_stage_leaves_the_old_secret_working() {
    // Discovery calls validateCredentials once (the saved secret), stage 3
    // once (the new one): stage 5's is the third.
    let cases = [
        (1, "admin:POST:/scim/secrets:400x1"),
        // Entra's Test Connection of the saved secret asks /Users once first.
        (2, "scim:/Users:401x1:skip=1"),
        (3, "graph:POST:/validateCredentials:400x1:skip=1"),
        (4, "graph:PUT:/synchronization/secrets:400x1"),
        (5, "graph:POST:/validateCredentials:400x1:skip=2"),
        (6, "admin:DELETE:/scim/secrets:500x*"),
    ];
    for (stage, spec) in cases {
        let (sandbox, sp, old) = after_a_run().await;
        sandbox.inject_fault(Fault::parse(spec).unwrap()).await;
        let result = later(&sandbox)
            .rotate(&RotateOptions::default(), &no_stages())
            .await;
        match (stage, &result) {
            (6, Ok(outcome)) => {
                assert!(
                    matches!(outcome.old, OldSecret::NotRevoked { .. }),
                    "{:?}",
                    outcome.old
                );
                assert!(!outcome.complete());
            }
            (_, Err(e @ EngineError::RotateStopped { number, .. })) => {
                assert_eq!(*number, stage, "{spec}: {e}");
                assert!(e.to_string().contains("old secret"), "{e}");
            }
            (_, other) => panic!("{spec}: {other:?}"),
        }
        assert_eq!(
            scim_status(&sandbox, &old).await,
            200,
            "stage {stage} ({spec}): the old secret still works"
        );
        let now = entra_token(&sandbox, &sp).await;
        if stage <= 4 {
            assert_eq!(
                now.expose(),
                old.expose(),
                "stage {stage}: Entra keeps the old one"
            );
        } else {
            assert_eq!(scim_status(&sandbox, &now).await, 200, "stage {stage}");
        }
        assert_eq!(job_code(&sandbox.dump().await), "Active", "stage {stage}");
        // A new secret Entra never received is revoked at once.
        let live = admin_client(&sandbox)
            .list_scim_secrets()
            .await
            .unwrap()
            .into_iter()
            .filter(|s| !s.revoked)
            .count();
        let expected = if stage <= 3 { 1 } else { 2 };
        assert_eq!(live, expected, "stage {stage}: live secrets");
    }
}

#[tokio::test]
async fn a_pasted_secret_names_the_old_one_to_revoke_and_checks_it_is_refused() {
    let (sandbox, sp, old) = after_a_run().await;
    // The admin makes a new secret in Orchidea's web UI.
    let pasted = admin_client(&sandbox)
        .create_scim_secret("idp-entra")
        .await
        .unwrap();
    let manual = Scenario::new()
        .scope(Scope::All)
        .manual(pasted.secret.clone())
        .engine(&sandbox);
    let outcome = manual
        .rotate(&pasting(&pasted.secret), &no_stages())
        .await
        .unwrap();
    assert_eq!(
        entra_token(&sandbox, &sp).await.expose(),
        pasted.secret.expose()
    );
    match &outcome.old {
        OldSecret::RevokeByHand { which } => {
            assert!(which.contains(&old.last4()), "names it: {which}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!outcome.complete());
    assert!(
        !manual.old_secret_refused(&old).await.unwrap(),
        "not yet revoked"
    );
    // The admin revokes it in Orchidea's web UI.
    let admin = admin_client(&sandbox);
    let old_id = admin
        .list_scim_secrets()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.last4 == old.last4() && !s.revoked)
        .unwrap()
        .id;
    admin.revoke_scim_secret(&old_id).await.unwrap();
    assert!(manual.old_secret_refused(&old).await.unwrap());
    assert!(
        !manual.old_secret_refused(&pasted.secret).await.unwrap(),
        "the new one works"
    );

    // Pasting the secret Entra already holds is refused before any write.
    let again = manual
        .rotate(&pasting(&pasted.secret), &no_stages())
        .await
        .unwrap_err();
    assert!(again.to_string().contains("already holds"), "{again}");
}

#[tokio::test]
async fn nothing_to_rotate_before_a_setup() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let e = later(&sandbox)
        .rotate(&RotateOptions::default(), &no_stages())
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("Nothing to rotate"), "{e}");
    let live = admin_client(&sandbox).list_scim_secrets().await.unwrap();
    assert!(live.is_empty(), "no secret was created: {live:?}");
}
