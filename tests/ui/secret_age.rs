//! The summary's "SCIM secrets" block: each secret's age and expiry read
//! off the UI thread after a run, the 30-day warning for the one Entra
//! holds, and Refresh reading Orchidea again.

use std::sync::Arc;

use crate::common;
use crate::support::Harness;
use orchidea_wizard::sandbox::Sandbox;
use orchidea_wizard::ui::panel::secret_age;
use orchidea_wizard::ui::work::Target;
use orchidea_wizard::ui::{Message, ScreenId};

/// A full run in the window on a tenant whose secrets live `days` days.
fn summary_after_a_run(days: u32) -> (Harness, tempfile::TempDir) {
    let mut tenant = common::default_tenant();
    tenant["orchidea"]["secretLifetimeDays"] = days.into();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    std::fs::write(&file, tenant.to_string()).unwrap();
    let mut h = Harness::build(true, |o, _| o.sandbox_tenant = Some(file.clone()));
    h.click("Run the remaining steps");
    // The three pauses: step 9, step 14 (users without mail), step 16.
    h.click("Continue");
    h.click("Continue");
    h.click("Continue");
    assert_eq!(h.app.screen(), ScreenId::Summary, "{:?}", h.app.error());
    (h, dir)
}

fn sandbox(h: &Harness) -> Arc<Sandbox> {
    match &h.app.session().target {
        Some(Target::Sandbox(s)) => s.clone(),
        other => panic!("not the sandbox: {other:?}"),
    }
}

/// "expires in 19 days" or "… 20 days", whichever the clock gives.
fn sees_expiry(h: &Harness, days: [u32; 2]) -> bool {
    days.iter()
        .any(|d| h.sees_part(&format!("created today; expires in {d} days")))
}

#[test]
fn a_secret_expiring_in_twenty_days_is_shown_with_the_warning_and_refresh_reads_again() {
    let (mut h, _dir) = summary_after_a_run(20);
    h.assert_sees("SCIM secrets");
    h.assert_sees("Held by Entra");
    assert!(sees_expiry(&h, [19, 20]), "no 19-20 day expiry shown");
    h.assert_sees_part("rotate it before then");
    h.assert_sees_part("before the old one is revoked");
    assert!(!h.sees("Not used by Entra"));

    // Another secret made in Orchidea shows up on Refresh, not used by Entra.
    let sandbox = sandbox(&h);
    let created = h.block_on(async {
        orchidea_wizard::platform::http::loopback_client()
            .post(format!("{}api/admin/v1/scim/secrets", sandbox.orchidea_url))
            .bearer_auth(sandbox.admin_token.expose())
            .json(&serde_json::json!({ "idpId": "idp-entra" }))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(created.as_u16(), 201);
    assert!(!h.sees("Not used by Entra"), "not read yet");
    h.send(Message::SecretAge(secret_age::Message::Refresh));
    h.assert_sees("Not used by Entra");
    h.assert_sees("Held by Entra");
}

#[test]
fn a_secret_living_ninety_days_is_shown_without_a_warning() {
    let (h, _dir) = summary_after_a_run(90);
    h.assert_sees("Held by Entra");
    assert!(sees_expiry(&h, [89, 90]), "no 89-90 day expiry shown");
    assert!(!h.sees_part("rotate it before then"));
}
