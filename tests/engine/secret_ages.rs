//! `Engine::secret_ages` and the drift check's "secret not expiring" over
//! real HTTP: with the admin API, Orchidea's live secrets (the one Entra
//! holds marked); on the manual path, the held secret from the run state,
//! its expiry left to Orchidea's web UI.

use crate::common::admin_client;
use orchidea_wizard::engine::drift::Remedy;
use orchidea_wizard::engine::secret_list::SecretOrigin;
use orchidea_wizard::engine::{AlwaysYes, Engine};
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::services::orchidea::{ManualScim, OrchideaAdmin};
use orchidea_wizard::setup::{self, Choices};

/// A sandbox whose Orchidea secrets live `days` days.
async fn sandbox(days: u32) -> (Sandbox, tempfile::TempDir) {
    let mut tenant = crate::common::default_tenant();
    tenant["orchidea"]["secretLifetimeDays"] = days.into();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    std::fs::write(&file, tenant.to_string()).unwrap();
    let sandbox = Sandbox::start(SandboxOptions {
        tenant_file: Some(file),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    (sandbox, dir)
}

fn admin_engine(sandbox: &Sandbox) -> Engine {
    Engine::new(setup::sandbox_config(sandbox, None, Choices::default()))
}

#[tokio::test]
async fn orchidea_s_secrets_are_listed_the_held_one_warned_and_the_check_names_rotation() {
    let (sandbox, _dir) = sandbox(20).await;
    let engine = admin_engine(&sandbox);
    engine.run_all(&AlwaysYes).await.unwrap();
    let created = engine.facts().await.held_secret.clone().unwrap();

    let ages = engine.secret_ages().await.unwrap();
    assert_eq!(ages.origin, SecretOrigin::Orchidea);
    assert_eq!(ages.secrets.len(), 1, "{ages:?}");
    let held = ages.held().unwrap();
    assert_eq!(held.id, created.id);
    assert_eq!(held.last4, created.last4);
    let days = held.age.expires_in_days.unwrap();
    assert!((19..=20).contains(&days), "{held:?}");
    assert_eq!(ages.warnings().len(), 1);
    // What the run warns about, the report and `status` show too.
    assert!(
        engine
            .facts()
            .await
            .all_warnings()
            .iter()
            .any(|w| w.contains(&format!("expires in {days} days")))
    );

    let report = engine.check_drift().await.unwrap();
    assert!(!report.ok);
    let finding: Vec<_> = report.findings().collect();
    assert_eq!(finding.len(), 1, "{finding:?}");
    assert_eq!(finding[0].fix, Remedy::RotateSecret);
    assert!(finding[0].found.contains(&held.last4), "{finding:?}");
    assert!(report.fixing_steps().is_empty());

    // A second secret made in Orchidea is listed, not held, not warned.
    let other = admin_client(&sandbox)
        .create_scim_secret("idp-entra")
        .await
        .unwrap();
    let ages = engine.secret_ages().await.unwrap();
    assert_eq!(ages.secrets.len(), 2);
    assert!(ages.secrets[0].held_by_entra, "held first");
    assert_eq!(ages.secrets[1].id.as_deref(), Some(other.id.as_str()));
    assert!(!ages.secrets[1].held_by_entra);
    assert_eq!(ages.warnings().len(), 1, "only the held one warns");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_pasted_secret_is_shown_from_the_run_state_and_found_in_orchidea_by_its_last_four() {
    let (sandbox, _dir) = sandbox(90).await;
    let pasted = admin_client(&sandbox)
        .create_scim_secret("idp-entra")
        .await
        .unwrap();
    let manual = ManualScim {
        scim_url: sandbox.scim_url.clone(),
        secret: pasted.secret.clone(),
    };
    let engine = Engine::new(setup::sandbox_config(
        &sandbox,
        Some(manual),
        Choices::default(),
    ));
    engine.run_all(&AlwaysYes).await.unwrap();

    let ages = engine.secret_ages().await.unwrap();
    assert_eq!(ages.origin, SecretOrigin::RunState);
    let held = ages.held().unwrap();
    assert_eq!(held.last4, pasted.secret.last4());
    assert_eq!(held.id, None, "a pasted secret's id is unknown");
    assert!(!held.expiry_known);
    assert!(held.saved_at.is_some());
    assert_eq!(held.age.age_days, Some(0));
    assert!(
        held.describe()
            .contains("expiry unknown here: Orchidea's web UI shows it"),
        "{}",
        held.describe()
    );
    assert!(ages.warnings().is_empty());
    assert!(
        engine.check_drift().await.unwrap().ok,
        "unknown is not drift"
    );

    // With the admin API the same secret is found by its last four, expiry known.
    let ages = admin_engine(&sandbox).secret_ages().await.unwrap();
    let held = ages.held().unwrap();
    assert_eq!(held.id.as_deref(), Some(pasted.id.as_str()));
    assert!(held.expiry_known);
    let days = held.age.expires_in_days.unwrap();
    assert!((89..=90).contains(&days), "{held:?}");
    assert!(ages.warnings().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn rotating_where_secrets_live_twenty_days_says_the_new_one_expires_soon_too() {
    for (days, warned) in [(20, true), (90, false)] {
        let (short, _dir) = sandbox(days).await;
        admin_engine(&short)
            .run_all(&orchidea_wizard::engine::AlwaysYes)
            .await
            .unwrap();
        let outcome = admin_engine(&short)
            .rotate(
                &orchidea_wizard::engine::rotate::RotateOptions::default(),
                &|_, _| {},
            )
            .await
            .unwrap();
        let said = outcome
            .warnings
            .iter()
            .any(|w| w.starts_with("The new SCIM secret") && w.contains("expires in 19 days"));
        assert_eq!(said, warned, "{days} days: {:?}", outcome.warnings);
    }
}
