//! The window after Start: live status, quarantine and its recovery, one
//! user on demand, the logs and their filters, the report export, and the
//! scope screen's count, Coalesce offer and notification fields.

use std::sync::Arc;

use crate::support::Harness;
use orchidea_wizard::engine::stage_sentence;
use orchidea_wizard::procedure::mapping::UserNameSource;
use orchidea_wizard::sandbox::{Fault, Sandbox};
use orchidea_wizard::services::graph::Outcome;
use orchidea_wizard::ui::screen::scope;
use orchidea_wizard::ui::work::{self, Target};
use orchidea_wizard::ui::{Message, ScreenId};
use orchidea_wizard::{Status, StepId};

fn sandbox(h: &Harness) -> Arc<Sandbox> {
    match &h.app.session().target {
        Some(Target::Sandbox(s)) => s.clone(),
        other => panic!("not the sandbox: {other:?}"),
    }
}

/// Runs every step through "Run the remaining steps", confirming its three
/// pauses: the schema write, step 14's warning (the built-in tenant has
/// users without mail) and start.
fn run_all(h: &mut Harness) {
    h.click("Run the remaining steps");
    h.click("Continue");
    h.click("Continue");
    h.click("Continue");
    assert_eq!(h.app.screen(), ScreenId::Summary, "{:?}", h.app.error());
    assert!(h.app.session().checklist.all_complete());
}

/// One tick of the monitor subscription, after the sandbox's cycle ended.
fn observe(h: &mut Harness) {
    let sandbox = sandbox(h);
    h.block_on(sandbox.wait_idle());
    let engine = h.app.session().engine.clone().unwrap();
    h.poll_once(work::monitor(engine));
}

#[test]
fn summary_watches_the_job_filters_the_logs_and_exports_the_report() {
    let mut h = Harness::new(true);
    run_all(&mut h);
    observe(&mut h);
    let view = h
        .app
        .session()
        .job_view
        .clone()
        .expect("the monitor read the job");
    assert_eq!(view.code, "Active");
    h.assert_sees("Job status: Active");
    h.assert_sees(&view.headline);
    // Users, and the assigned group the group mapping provisions.
    let counts: Vec<String> = view
        .counts
        .iter()
        .map(|(kind, count)| format!("{count} {kind}"))
        .collect();
    assert_eq!(counts.len(), 2, "{counts:?}");
    h.assert_sees(&format!("In Orchidea now: {}", counts.join(", ")));

    // Logs: every event first, then only the skipped ones.
    let events = h.app.session().events.clone();
    assert!(!events.is_empty());
    let skipped: Vec<_> = events
        .iter()
        .filter(|e| e.outcome() == Outcome::Skipped)
        .cloned()
        .collect();
    assert_eq!(skipped.len(), 2, "the assigned users without mail");
    h.assert_sees(&format!(
        "Provisioning logs ({} of the newest {})",
        events.len(),
        events.len()
    ));
    h.click("Skipped");
    h.assert_sees(&format!(
        "Provisioning logs (2 of the newest {})",
        events.len()
    ));
    for e in &skipped {
        h.assert_sees(&e.subject());
        h.assert_sees(&e.reason().unwrap());
    }
    let created = events
        .iter()
        .find(|e| e.outcome() == Outcome::Success)
        .unwrap();
    assert!(!h.sees(&created.subject()), "filtered out");
    h.type_into("Filter by name or reason", &skipped[0].subject());
    h.assert_sees(&format!(
        "Provisioning logs (1 of the newest {})",
        events.len()
    ));

    // The report, as files next to each other.
    h.click("Export report (Markdown + JSON)");
    let files: Vec<_> = std::fs::read_dir(h.reports.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        h.assert_sees(&format!("Saved {}", f.display()));
    }
    let md = files
        .iter()
        .find(|f| f.extension().unwrap() == "md")
        .unwrap();
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.contains("## First provisioning results"));
    let secret = h.app.session().scim().unwrap().secret.clone().unwrap();
    assert!(!md.contains(secret.expose()));
}

#[test]
fn the_start_screen_provisions_one_user_on_demand_showing_each_stage() {
    let mut h = Harness::new(true);
    run_all(&mut h);
    h.click("Back");
    assert_eq!(h.app.screen(), ScreenId::Start);
    h.type_into("Name, mail or user principal name", "Raj");
    h.click("Search");
    h.assert_sees("Provision now");
    h.click("Provision now");
    let facts = h.app.session().facts().unwrap().clone();
    let last = facts.on_demand.last().expect("the on-demand result");
    assert!(last.user.starts_with("Raj"), "{}", last.user);
    h.assert_sees(&format!("{}: {}", last.user, last.result.result));
    assert!(last.result.steps.len() >= 3, "{:?}", last.result);
    for step in &last.result.steps {
        h.assert_sees(&stage_sentence(step));
    }
    // Raj has no mail: matching has nothing to match on.
    assert_eq!(last.result.result, "Skipped");
    // The log now lists the on-demand run as well.
    assert!(
        h.app
            .session()
            .events
            .iter()
            .any(|e| e.subject() == last.user)
    );
}

#[test]
fn a_quarantine_is_shown_with_its_fix_and_restart_recovers() {
    let mut h = Harness::new(true);
    let sandbox = sandbox(&h);
    // Only the cycle creates users; the checks before it only read.
    h.block_on(sandbox.inject_fault(Fault::parse("scim:POST:/Users:503x1").unwrap()));
    run_all(&mut h);
    observe(&mut h);
    let view = h.app.session().job_view.clone().unwrap();
    let q = view.quarantine.clone().expect("quarantined by the fault");
    h.assert_sees("Job status: Quarantine");
    h.assert_sees(&format!("Fix: {}", q.fix));
    h.assert_sees(q.error_message.as_deref().unwrap());

    // Not a deletion hold: no deletions to review.
    assert!(!h.sees("Review pending deletions"));
    h.click("Restart provisioning");
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    observe(&mut h);
    h.assert_sees("Job status: Active");
    assert!(!h.sees("Restart provisioning"));
    let view = h.app.session().job_view.clone().unwrap();
    assert!(!view.is_quarantined(), "{view:?}");
    assert!(view.counts.iter().any(|(_, n)| *n > 0));
}

/// What an admin does in the portal: saves the scope and a deletion
/// threshold of 2, then restarts; the sandbox's cycle runs to its end.
fn rescope(h: &Harness, all: bool) {
    let sandbox = sandbox(h);
    // The dump masks secrets; the wizard made this one.
    let token = h
        .app
        .session()
        .facts()
        .and_then(|f| f.scim.as_ref())
        .and_then(|t| t.secret.as_ref())
        .expect("the wizard holds the SCIM secret it created")
        .expose()
        .to_string();
    h.block_on(async {
        let dump = sandbox.dump().await;
        let job = &dump["entra"]["jobs"][0];
        let sp = job["servicePrincipalId"].as_str().unwrap();
        let job_id = job["job"]["id"].as_str().unwrap();
        let saved = dump["entra"]["secrets"][sp].as_array().unwrap();
        let keep = |key: &str| {
            saved.iter().find(|e| e["key"] == key).unwrap()["value"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let notifications = serde_json::json!({
            "Enabled": false, "Recipients": "",
            "DeleteThresholdEnabled": true, "DeleteThresholdValue": 2,
        });
        let secrets = serde_json::json!({"value": [
            {"key": "BaseAddress", "value": keep("BaseAddress")},
            {"key": "SecretToken", "value": token},
            {"key": "SyncAll", "value": all.to_string()},
            {"key": "SyncNotificationSettings", "value": notifications.to_string()},
        ]});
        let base = format!(
            "{}/servicePrincipals/{sp}/synchronization",
            sandbox.graph_url.as_str().trim_end_matches('/')
        );
        let http = orchidea_wizard::platform::http::loopback_client();
        let graph_token = sandbox.graph_token.expose().to_string();
        let put = http
            .put(format!("{base}/secrets"))
            .bearer_auth(&graph_token)
            .json(&secrets)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status().as_u16(), 204);
        let restart = http
            .post(format!("{base}/jobs/{job_id}/restart"))
            .bearer_auth(&graph_token)
            .json(&serde_json::json!({"criteria": {}}))
            .send()
            .await
            .unwrap();
        assert_eq!(restart.status().as_u16(), 204);
        sandbox.wait_idle().await;
    });
}

/// Orchidea's active users.
fn active_users(h: &Harness) -> usize {
    let dump = h.block_on(sandbox(h).dump());
    dump["orchidea"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["active"] == true)
        .count()
}

#[test]
fn held_deletions_are_reviewed_and_allowed_only_after_confirming() {
    let mut h = Harness::new(true);
    run_all(&mut h);
    rescope(&h, true);
    let everyone = active_users(&h);
    rescope(&h, false);
    observe(&mut h);
    let view = h.app.session().job_view.clone().unwrap();
    let q = view.quarantine.clone().expect("the deletions are held");
    assert!(q.too_many_deletes, "{q:?}");
    h.assert_sees("Job status: Quarantine");
    h.assert_sees(&format!("Fix: {}", q.fix));
    assert_eq!(active_users(&h), everyone, "nothing disabled");

    // The ordinary restart keeps them held.
    h.click("Restart provisioning");
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    observe(&mut h);
    assert!(
        h.app
            .session()
            .job_view
            .as_ref()
            .and_then(|v| v.quarantine.as_ref())
            .is_some_and(|q| q.too_many_deletes)
    );
    assert_eq!(active_users(&h), everyone);

    h.click("Review pending deletions");
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    let pending = h
        .app
        .session()
        .facts()
        .and_then(|f| f.pending_deletions.clone())
        .expect("read");
    let n = pending.len();
    assert!(n > 2, "{pending:?}");
    h.assert_sees(&format!("• {}", pending[0].subject()));
    // Allowing takes a second, explicit confirmation.
    h.click(&format!("Allow these {n} deletions…"));
    assert_eq!(active_users(&h), everyone, "not before the confirmation");
    h.assert_sees(&format!("Disable or delete these {n} users in Orchidea?"));
    h.click("Cancel");
    assert!(!h.sees(&format!("Yes, allow {n} deletions")));
    h.click(&format!("Allow these {n} deletions…"));
    h.click(&format!("Yes, allow {n} deletions"));
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    observe(&mut h);
    h.assert_sees("Job status: Active");
    assert!(!h.sees("Review pending deletions"));
    assert_eq!(active_users(&h), everyone - n);
}

#[test]
fn the_scope_screen_counts_before_saving_and_offers_coalesce() {
    let mut h = Harness::new(true);
    h.click("Run the remaining steps");
    h.click("Continue");
    // Step 14's warning (users without mail), then before start.
    h.click("Continue");
    // Paused before start: stop there and look at the scope screen.
    h.send(Message::Escape);
    assert_eq!(
        h.app.session().checklist.status(StepId::StartProvisioning),
        &Status::Failed("Not confirmed; nothing was written.".into())
    );
    h.click("Back");
    assert_eq!(h.app.screen(), ScreenId::Scope);
    let audience = h.app.session().facts().unwrap().audience.clone().unwrap();
    h.assert_sees(&format!(
        "{} users in scope; 2 of them without mail.",
        audience.in_scope
    ));
    // The admin's own mail is proposed for notifications.
    let mail = h
        .app
        .session()
        .facts()
        .unwrap()
        .notifications
        .clone()
        .unwrap()
        .email
        .unwrap();
    h.assert_sees(&mail);

    h.click("Use Coalesce([mail],[userPrincipalName]) for userName");
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    let facts = h.app.session().facts().unwrap().clone();
    assert_eq!(
        facts.mapping_options.user_name_source,
        UserNameSource::CoalesceMailUpn
    );
    assert!(
        h.app.session().complete(ScreenId::Mappings.steps()),
        "the mapping was written again"
    );
    h.assert_sees("Use mail only (Orchidea's specification)");
    // The choice is kept for next time (settings, no secret).
    assert_eq!(
        h.saved_settings
            .last()
            .and_then(|s| s.last.user_name.as_deref()),
        Some("coalesce")
    );
    assert!(
        facts
            .mapping
            .unwrap()
            .diff_lines()
            .iter()
            .any(|l| l.contains("Coalesce"))
    );

    // A bad address is refused with its own message; nothing is saved.
    h.send(Message::Scope(scope::Message::Email("admin".into())));
    h.assert_sees(
        "Notification e-mail: \"admin\" is not an e-mail address (e.g. admin@contoso.com).",
    );
    h.click("Save scope");
    assert_eq!(
        h.app.error(),
        Some("Notification e-mail: \"admin\" is not an e-mail address (e.g. admin@contoso.com).")
    );
}

#[test]
fn last_times_choices_are_where_a_new_setup_starts() {
    let mut h = Harness::build(true, |options, _| {
        options.settings.last.user_name = Some("coalesce".into());
        options.settings.last.scope = Some("all".into());
    });
    h.click("Run the remaining steps");
    let facts = h.app.session().facts().unwrap().clone();
    assert_eq!(
        facts.mapping_options.user_name_source,
        UserNameSource::CoalesceMailUpn
    );
    assert_eq!(
        h.app.session().snapshot.as_ref().map(|s| s.scope),
        Some(orchidea_wizard::engine::Scope::All)
    );
}

#[test]
fn the_first_screen_offers_to_continue_an_unfinished_run() {
    use orchidea_wizard::ui::screen::welcome;
    use orchidea_wizard::ui::{App, Options};
    let last = "12 of 19 steps complete on \"Orchidea\", next: step 9; 2026-11-29 03:00:00 UTC";
    let (mut app, _) = App::new(&Options {
        last_run: Some(last.into()),
        ..Options::default()
    });
    let notice = format!(
        "Continue where you left off: your last run stopped with {last}. Enter the same tenant and choose \"Run the remaining steps\": every step is checked, and only what is missing is done."
    );
    assert!(
        crate::support::simulator(app.view())
            .find(notice.as_str())
            .is_err(),
        "not in sandbox mode"
    );
    let _ = app.handle(Message::Welcome(welcome::Message::ModeSelected(
        welcome::Mode::Tenant,
    )));
    assert!(
        crate::support::simulator(app.view())
            .find(notice.as_str())
            .is_ok()
    );
}

#[test]
fn the_summary_lists_backups_shows_what_a_restore_changes_and_restores() {
    let mut h = Harness::new(true);
    run_all(&mut h);
    let engine = h.app.session().engine.clone().unwrap();
    let schema_backup = h
        .block_on(engine.backups())
        .into_iter()
        .find(|b| b.kind == orchidea_wizard::engine::backup::Kind::Schema)
        .expect("a schema backup from step 9");
    h.assert_sees(&schema_backup.line());
    // The newest first: find the row of the schema backup.
    let row = h
        .block_on(engine.backups())
        .iter()
        .position(|b| b.id == schema_backup.id)
        .unwrap();
    // Nothing is replaced before its changes were shown.
    h.send(Message::Backups(
        orchidea_wizard::ui::panel::backups::Message::Restore(row),
    ));
    assert_eq!(
        h.app.error(),
        Some("Show the backup's changes first, then restore it.")
    );
    h.send(Message::Backups(
        orchidea_wizard::ui::panel::backups::Message::Preview(row),
    ));
    h.assert_sees(&format!("Restoring {} would change:", schema_backup.id));
    h.assert_sees("+ userName ← userPrincipalName (matching 1)");
    h.send(Message::Backups(
        orchidea_wizard::ui::panel::backups::Message::Restore(row),
    ));
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    let facts = h.app.session().facts().unwrap();
    assert!(facts.changes.iter().any(|c| c
        == &format!(
            "Entra: restored the schema from backup {}.",
            schema_backup.id
        )));
    // The restore's own backup is listed now.
    let newest = h.block_on(engine.backups()).remove(0);
    h.assert_sees(&newest.line());
    assert!(newest.reason.starts_with("before restoring"));
}
