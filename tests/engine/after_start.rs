//! After Start, through the engine against the sandbox over real HTTP on
//! 127.0.0.1: who the scope misses and the Coalesce fix, notifications,
//! provisioning on demand, quarantine and its recovery, the logs, the report.

use crate::common;

use common::*;
use orchidea_wizard::StepId;
use orchidea_wizard::engine::report;
use orchidea_wizard::engine::{AlwaysYes, Engine, Notifications, Scope};
use orchidea_wizard::procedure::mapping::{MappingOptions, UserNameSource};
use orchidea_wizard::sandbox::{Fault, Sandbox, SandboxOptions};
use orchidea_wizard::services::graph::{DirectoryUser, Outcome};
use orchidea_wizard::setup::Choices;
use serde_json::Value;

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::default()).await.unwrap()
}

fn engine(sandbox: &Sandbox, choices: Choices) -> Engine {
    Scenario::new().choices(choices).engine(sandbox)
}

/// Runs every step but Start.
async fn configure(engine: &Engine) {
    for step in StepId::ALL {
        if step != StepId::StartProvisioning {
            engine.run_step(step).await.unwrap();
        }
    }
}

/// Assigned users of the Orchidea app without a mail, as (upn, id).
fn assigned_without_mail(dump: &Value) -> Vec<(String, String)> {
    let assigned = assigned_user_ids(dump);
    dump["entra"]["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|u| assigned.contains(u["id"].as_str().unwrap_or_default()))
        .filter(|u| u["mail"].as_str().is_none_or(str::is_empty))
        .map(|u| {
            (
                u["userPrincipalName"].as_str().unwrap().to_string(),
                u["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn scim_user_names(dump: &Value) -> Vec<String> {
    scim_users(dump).into_iter().map(|u| u.user_name).collect()
}

#[tokio::test]
async fn the_empty_mail_warning_counts_the_default_tenant() {
    let sandbox = sandbox().await;
    let engine = engine(&sandbox, Choices::default());
    configure(&engine).await;
    let facts = engine.facts().await;
    let dump = sandbox.dump().await;
    let audience = facts.audience.clone().unwrap();
    assert_eq!(audience.in_scope, assigned_user_ids(&dump).len());
    let missing = users_without_mail(&dump, Scope::Assigned);
    assert_eq!(
        missing, 2,
        "the default tenant assigns two users without mail"
    );
    assert_eq!(audience.without_mail.len(), missing);
    let warnings = facts.all_warnings();
    let warning = warnings
        .iter()
        .find(|w| w.contains("have no mail"))
        .expect("a warning about users without mail");
    assert!(warning.starts_with(&format!("{missing} of {} users", audience.in_scope)));
    assert!(warning.contains("Coalesce([mail],[userPrincipalName])"));
}

#[tokio::test]
async fn coalesce_brings_the_users_without_mail() {
    let sandbox = sandbox().await;
    let choices = Choices {
        mapping: MappingOptions {
            user_name_source: UserNameSource::CoalesceMailUpn,
            ..MappingOptions::default()
        },
        ..Choices::default()
    };
    let engine = engine(&sandbox, choices);
    engine.run_all(&AlwaysYes).await.unwrap();
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    let names = scim_user_names(&dump);
    let missing = assigned_without_mail(&dump);
    assert_eq!(missing.len(), 2);
    for (upn, _) in &missing {
        assert!(
            names.contains(upn),
            "{upn} arrived under its UPN: {names:?}"
        );
    }
    // Everyone with mail still arrives under the mail.
    for e in expected_users(&dump, Scope::Assigned) {
        assert!(names.contains(&e.user_name), "{}", e.user_name);
    }
    let facts = engine.facts().await;
    assert!(
        !facts
            .all_warnings()
            .iter()
            .any(|w| w.contains("have no mail"))
    );
    let md = report::to_markdown(&report::build(&facts, Scope::Assigned, "sandbox"));
    assert!(
        md.contains("deviation from Orchidea's specification"),
        "{md}"
    );
    assert!(md.contains("userName ← Coalesce([mail], [userPrincipalName]) (matching 1)"));
}

#[tokio::test]
async fn switching_to_coalesce_after_the_mapping_rewrites_it() {
    let sandbox = sandbox().await;
    let engine = engine(&sandbox, Choices::default());
    configure(&engine).await;
    engine
        .set_user_name_source(UserNameSource::CoalesceMailUpn)
        .await;
    // 7–13 are open again; running everything writes the mapping once more.
    assert!(
        !engine
            .checklist()
            .await
            .status(StepId::ExternalIdFromObjectId)
            .is_complete()
    );
    engine.run_all(&AlwaysYes).await.unwrap();
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    let job = &jobs(&dump)[0];
    let mapping = user_mapping(&job["schema"]).unwrap();
    let user_name = mapping["attributeMappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["targetAttributeName"] == "userName")
        .unwrap();
    assert_eq!(user_name["source"]["name"], "Coalesce");
    let names = scim_user_names(&dump);
    for (upn, _) in assigned_without_mail(&dump) {
        assert!(names.contains(&upn));
    }
}

#[tokio::test]
async fn notifications_default_to_the_admins_mail_and_500() {
    let sandbox = sandbox().await;
    let engine = engine(&sandbox, Choices::default());
    configure(&engine).await;
    let dump = sandbox.dump().await;
    let saved = secret_value(&dump, "SyncNotificationSettings").expect("saved in step 15");
    let saved = Notifications::from_secret_value(&saved).unwrap();
    let me = engine.config().graph.me().await.unwrap();
    let mail = me.mail.expect("the sandbox's admin has a mail");
    assert_eq!(saved.email.as_deref(), Some(mail.as_str()));
    assert_eq!(saved.delete_threshold, Some(500));
    // The other settings survived the PUT.
    assert_eq!(secret_value(&dump, "SyncAll").as_deref(), Some("false"));
    assert!(secret_value(&dump, "BaseAddress").is_some());
    assert_eq!(secret_value(&dump, "SecretToken").as_deref(), Some("*"));

    // Edited: step 15 runs again and saves exactly that.
    let chosen = Notifications {
        email: Some("ops@contoso.com; it@contoso.com".into()),
        delete_threshold: None,
    };
    engine.set_notifications(chosen.clone()).await;
    engine.run_step(StepId::SaveSettings).await.unwrap();
    let dump = sandbox.dump().await;
    let saved = secret_value(&dump, "SyncNotificationSettings").unwrap();
    assert_eq!(Notifications::from_secret_value(&saved).unwrap(), chosen);
    let v: Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(v["DeleteThresholdEnabled"], false);
    assert_eq!(v["Recipients"], "ops@contoso.com; it@contoso.com");
}

#[tokio::test]
async fn provision_on_demand_shows_every_stage_and_the_user_arrives() {
    let sandbox = sandbox().await;
    let engine = engine(&sandbox, Choices::default());
    configure(&engine).await;
    let dump = sandbox.dump().await;
    assert!(
        scim_users(&dump).is_empty(),
        "not started: nobody provisioned"
    );
    let target = expected_users(&dump, Scope::Assigned)
        .into_iter()
        .next()
        .unwrap();
    let found = engine.find_users(&target.user_name).await.unwrap();
    let user: DirectoryUser = found
        .into_iter()
        .find(|u| u.id == target.external_id)
        .expect("search by mail finds the user");

    let result = engine.provision_user(&user).await.unwrap();
    assert!(result.succeeded(), "{result:?}");
    let kinds: Vec<&str> = result.steps.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["Import", "Scoping", "Matching", "Export"]);
    assert!(
        result.steps.iter().all(|s| s.status == "Success"),
        "{result:?}"
    );
    let dump = sandbox.dump().await;
    let arrived = scim_users(&dump);
    assert_eq!(arrived.len(), 1);
    assert!(arrived.contains(&target));
    assert!(result.target_id.is_some());

    // Again: nothing to do, Entra says so.
    let again = engine.provision_user(&user).await.unwrap();
    assert_eq!(again.result, "Skipped");
    assert_eq!(scim_users(&sandbox.dump().await).len(), 1);

    // Someone outside the scope stops at scoping.
    let outside = dump["entra"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| {
            !assigned_user_ids(&dump).contains(u["id"].as_str().unwrap())
                && u["mail"].as_str().is_some_and(|m| !m.is_empty())
        })
        .unwrap();
    let outsider = DirectoryUser {
        id: outside["id"].as_str().unwrap().into(),
        ..DirectoryUser::default()
    };
    let r = engine.provision_user(&outsider).await.unwrap();
    assert_eq!(r.result, "Skipped");
    assert_eq!(r.steps.last().unwrap().kind, "Scoping");
    assert_eq!(scim_users(&sandbox.dump().await).len(), 1);
    assert_eq!(engine.facts().await.on_demand.len(), 3);
}

#[tokio::test]
async fn logs_list_the_skipped_users_with_their_reason() {
    let sandbox = sandbox().await;
    let engine = engine(&sandbox, Choices::default());
    engine.run_all(&AlwaysYes).await.unwrap();
    sandbox.wait_idle().await;
    let events = engine.provisioning_events(50).await.unwrap();
    let dump = sandbox.dump().await;
    let skipped = orchidea_wizard::engine::filter_events(&events, Some(Outcome::Skipped), "");
    let missing = assigned_without_mail(&dump);
    assert_eq!(skipped.len(), missing.len(), "{events:#?}");
    for e in &skipped {
        let reason = e.reason().expect("a skipped event says why");
        assert!(reason.contains("userName"), "{reason}");
    }
    let created = orchidea_wizard::engine::filter_events(&events, Some(Outcome::Success), "");
    let users = created.iter().filter(|e| {
        e.source_identity
            .as_ref()
            .and_then(|i| i.identity_type.as_deref())
            == Some("User")
    });
    assert_eq!(users.count(), expected_users(&dump, Scope::Assigned).len());
    // Text filter: one of the skipped users by name.
    let name = skipped[0].subject();
    assert!(
        orchidea_wizard::engine::filter_events(&events, None, &name)
            .iter()
            .all(|e| e.subject() == name)
    );
}

#[tokio::test]
async fn a_quarantined_job_is_explained_and_recovered_by_restart() {
    let sandbox = sandbox().await;
    let engine = engine(&sandbox, Choices::default());
    configure(&engine).await;
    // Orchidea's SCIM endpoint fails the first request of the first cycle.
    sandbox
        .inject_fault(Fault::parse("scim:503x1").unwrap())
        .await;
    engine.run_step(StepId::StartProvisioning).await.unwrap();
    sandbox.wait_idle().await;
    let view = engine.job_status().await.unwrap();
    assert!(view.is_quarantined(), "{view:#?}");
    let q = view.quarantine.clone().unwrap();
    assert!(
        q.error_code.as_deref().unwrap().contains("Unavailable"),
        "{q:?}"
    );
    assert!(q.fix.contains("restart the job (Restart)"), "{}", q.fix);
    assert!(!q.too_many_deletes);
    assert!(scim_users(&sandbox.dump().await).is_empty());

    // The cause is gone (the fault is spent), then the admin restarts.
    let after = engine.restart_job().await.unwrap();
    assert!(!after.headline.is_empty());
    sandbox.wait_idle().await;
    let view = engine.job_status().await.unwrap();
    assert!(!view.is_quarantined(), "{view:#?}");
    assert_eq!(view.code, "Active");
    let dump = sandbox.dump().await;
    assert_eq!(scim_users(&dump), expected_users(&dump, Scope::Assigned));
    assert!(
        engine
            .facts()
            .await
            .changes
            .iter()
            .any(|c| c.contains("held deletions stay held"))
    );
}

#[tokio::test]
async fn the_report_tells_the_whole_story_without_the_secret() {
    let sandbox = sandbox().await;
    let engine = engine(&sandbox, Choices::default());
    engine.run_all(&AlwaysYes).await.unwrap();
    sandbox.wait_idle().await;
    engine.job_status().await.unwrap();
    engine.provisioning_events(50).await.unwrap();
    let facts = engine.facts().await;
    let secret = facts.scim.as_ref().unwrap().secret.clone().unwrap();
    let r = report::build(&facts, Scope::Assigned, "sandbox");
    let dir = tempfile::tempdir().unwrap();
    let written = report::write(&r, &dir.path().join("run.json")).unwrap();
    assert_eq!(written.len(), 2);
    let json = std::fs::read_to_string(&written[0]).unwrap();
    let md = std::fs::read_to_string(&written[1]).unwrap();
    for text in [&json, &md] {
        assert!(!text.contains(secret.expose()), "the secret leaked");
    }
    let v: Value = serde_json::from_str(&json).unwrap();
    assert!(v["mappings_before"].as_array().unwrap().len() > 5);
    assert_eq!(v["mappings_after"].as_array().unwrap().len(), 5);
    assert_eq!(v["job_status"]["code"], "Active");
    assert!(!v["provisioning_results"].as_array().unwrap().is_empty());
    assert!(v["held_deletions"].as_array().unwrap().is_empty());
    assert!(!md.contains("Deletions held back"));
    for heading in [
        "## Changes made",
        "## User mapping before",
        "## User mapping after",
        "## Backups taken",
        "## Provisioning status",
        "## First provisioning results",
    ] {
        assert!(md.contains(heading), "{heading} missing:\n{md}");
    }
    assert!(md.contains("| Test Connection | passed |"));
    assert!(md.contains("userName ← mail (matching 1)"));
}

#[tokio::test]
async fn nobody_assigned_is_said_and_assigning_a_group_fixes_it() {
    // The built-in tenant with nobody assigned to the Orchidea app.
    let mut tenant: Value = crate::common::default_tenant();
    for sp in tenant["servicePrincipals"].as_array_mut().unwrap() {
        if sp["displayName"] == "Orchidea" {
            sp["assignments"] = serde_json::json!({ "users": [], "groups": [] });
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    std::fs::write(&file, tenant.to_string()).unwrap();
    let sandbox = Sandbox::start(SandboxOptions {
        tenant_file: Some(file),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let engine = engine(&sandbox, Choices::default());
    configure(&engine).await;
    let facts = engine.facts().await;
    assert_eq!(facts.audience.as_ref().unwrap().in_scope, 0);
    assert!(
        facts
            .all_warnings()
            .iter()
            .any(|w| w.starts_with("Nobody is assigned to the app")),
        "{:?}",
        facts.all_warnings()
    );

    let groups = engine.list_groups("").await.unwrap();
    let team = groups
        .iter()
        .find(|g| g.display_name.as_deref() == Some("Innovation Team"))
        .expect("the tenant's groups are listed");
    engine
        .assign_to_app(&team.id, "Innovation Team")
        .await
        .unwrap();
    let facts = engine.facts().await;
    let audience = facts.audience.clone().unwrap();
    assert_eq!(audience.in_scope, 7, "the group's members");
    assert!(
        !facts
            .all_warnings()
            .iter()
            .any(|w| w.starts_with("Nobody is assigned"))
    );
    assert!(
        facts
            .changes
            .iter()
            .any(|c| c.contains("assigned \"Innovation Team\""))
    );
    // Assigning twice is refused by Graph, with its message.
    let err = engine
        .assign_to_app(&team.id, "Innovation Team")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");

    engine.run_step(StepId::StartProvisioning).await.unwrap();
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    assert_eq!(assigned_user_ids(&dump).len(), 7);
    assert_eq!(scim_users(&dump), expected_users(&dump, Scope::Assigned));
}

/// Orchidea's users that are active, by externalId (the Entra user id).
fn active_ids(dump: &Value) -> std::collections::BTreeSet<String> {
    dump["orchidea"]["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|u| u["active"] == true)
        .filter_map(|u| u["externalId"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn a_restart_after_too_many_deletes_keeps_them_held_until_the_admin_allows_them() {
    let sandbox = sandbox().await;
    let guarded = Some(Notifications {
        email: None,
        delete_threshold: Some(2),
    });
    let everyone = engine(
        &sandbox,
        Choices {
            scope: Scope::All,
            notifications: guarded.clone(),
            ..Choices::default()
        },
    );
    everyone.run_all(&AlwaysYes).await.unwrap();
    sandbox.wait_idle().await;
    let before = active_ids(&sandbox.dump().await);
    // The admin narrows the scope to assigned users and restarts.
    let engine = engine(
        &sandbox,
        Choices {
            scope: Scope::Assigned,
            notifications: guarded,
            ..Choices::default()
        },
    );
    engine.run_all(&AlwaysYes).await.unwrap();
    engine.restart_job().await.unwrap();
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    let assigned = assigned_user_ids(&dump);
    let leaving: Vec<&String> = before.iter().filter(|id| !assigned.contains(*id)).collect();
    assert!(leaving.len() > 2, "{leaving:?}");
    let view = engine.job_status().await.unwrap();
    let q = view.quarantine.clone().expect("held back: quarantined");
    assert_eq!(q.reason, "TooManyDeletes");
    assert!(q.too_many_deletes);
    assert!(q.fix.contains("Review the pending deletions"), "{}", q.fix);
    assert_eq!(active_ids(&dump), before, "nothing disabled yet");

    let pending = engine.pending_deletions().await.unwrap();
    let ids: Vec<String> = pending.iter().map(|e| e.subject_id().to_string()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    let mut expected: Vec<String> = leaving.iter().map(|s| (*s).clone()).collect();
    expected.sort();
    assert_eq!(sorted, expected);

    // The status report lists who is held back and why, never the secret.
    let facts = engine.facts().await;
    let r = report::build(&facts, Scope::Assigned, "sandbox");
    assert_eq!(
        r.held_deletions.len(),
        leaving.len(),
        "{:#?}",
        r.held_deletions
    );
    for id in &leaving {
        let line = r.held_deletions.iter().find(|l| l.contains(id.as_str()));
        let line = line.unwrap_or_else(|| panic!("{id} missing: {:#?}", r.held_deletions));
        assert!(line.contains("accidental deletions threshold"), "{line}");
    }
    let dir = tempfile::tempdir().unwrap();
    let written = report::write(&r, &dir.path().join("status.json")).unwrap();
    let json = std::fs::read_to_string(&written[0]).unwrap();
    let md = std::fs::read_to_string(&written[1]).unwrap();
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["held_deletions"].as_array().unwrap().len(), leaving.len());
    assert!(md.contains("## Deletions held back"), "{md}");
    assert!(md.contains(leaving[0].as_str()), "{md}");
    for secret in sandbox.issued_tokens() {
        assert!(!json.contains(secret.expose()) && !md.contains(secret.expose()));
    }
    if let Some(secret) = facts.scim.as_ref().and_then(|t| t.secret.clone()) {
        assert!(!json.contains(secret.expose()) && !md.contains(secret.expose()));
    }

    // An ordinary restart (what recovery used to send as Full) keeps them held.
    engine.restart_job().await.unwrap();
    sandbox.wait_idle().await;
    let view = engine.job_status().await.unwrap();
    assert!(view.quarantine.is_some_and(|q| q.too_many_deletes));
    assert_eq!(active_ids(&sandbox.dump().await), before);

    // Allowing what the admin did not review is refused; nothing is sent.
    let err = engine.allow_deletions(&ids[1..]).await.unwrap_err();
    assert!(err.to_string().contains("review them again"), "{err}");
    sandbox.wait_idle().await;
    assert_eq!(active_ids(&sandbox.dump().await), before);

    engine.allow_deletions(&ids).await.unwrap();
    sandbox.wait_idle().await;
    let view = engine.job_status().await.unwrap();
    assert!(!view.is_quarantined(), "{view:#?}");
    let after = active_ids(&sandbox.dump().await);
    assert!(after.iter().all(|id| assigned.contains(id)), "{after:?}");
    assert!(leaving.iter().all(|id| !after.contains(*id)));
    assert!(
        engine
            .facts()
            .await
            .changes
            .iter()
            .any(|c| c.contains("ForceDeletes") && c.contains("reviewed"))
    );
    assert!(engine.pending_deletions().await.unwrap().is_empty());
}
