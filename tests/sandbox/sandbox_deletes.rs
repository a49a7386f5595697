//! Users deleted in Entra, as the provisioning service treats them (Entra docs
//! `how-provisioning-works.md`, "Incremental cycles" 8–9 and "Deprovisioning"):
//! a soft delete disables the user in Orchidea, a permanent delete sends
//! `DELETE /Users/{id}`, and permanent deletes count against the
//! accidental-deletions threshold like disables. Plain HTTP on 127.0.0.1.

use std::collections::BTreeSet;

use orchidea_wizard::sandbox::{Sandbox, SandboxOptions, SandboxServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common;

use crate::local::*;
use common::graph_api::*;

/// Assigned directly.
const ADELE: &str = "a851a8d7-f967-5302-a196-25892be790af";

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions {
        record_requests: true,
        ..SandboxOptions::default()
    })
    .await
    .unwrap()
}

/// A job with Orchidea's mapping and credentials (assigned users only, the
/// given accidental-deletions threshold), after its first cycle.
async fn provisioned(api: &Api, sandbox: &Sandbox, threshold: Option<u32>) -> String {
    let jobs = format!("/servicePrincipals/{ORCHIDEA_SP}/synchronization/jobs");
    let job = api.post(&jobs, json!({"templateId": "scim"})).await;
    assert_eq!(job.status, StatusCode::CREATED, "{}", job.body);
    let job = job.body["id"].as_str().unwrap().to_string();
    save_secrets(api, sandbox, false, threshold).await;
    let put = api
        .call(
            Method::PUT,
            &format!("{jobs}/{job}/schema"),
            Some(fixture("schema-orchidea-configured.json")),
        )
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.body);
    cycle(api, sandbox, &job).await;
    job
}

/// Saves Orchidea's credentials, `SyncAll` and the threshold (`None`: off).
async fn save_secrets(api: &Api, sandbox: &Sandbox, all: bool, threshold: Option<u32>) {
    let secret = orchidea_secret(sandbox).await;
    save_scope(api, sandbox, &secret, all, threshold).await;
}

/// Starts the job and waits for its cycle.
async fn cycle(api: &Api, sandbox: &Sandbox, job: &str) {
    let start = api.call(Method::POST, &job_path(job, "/start"), None).await;
    assert_eq!(start.status, StatusCode::NO_CONTENT, "{}", start.body);
    sandbox.wait_idle().await;
}

async fn restart_with(api: &Api, sandbox: &Sandbox, job: &str, body: Value) {
    let restart = api
        .call(Method::POST, &job_path(job, "/restart"), Some(body))
        .await;
    assert_eq!(restart.status, StatusCode::NO_CONTENT, "{}", restart.body);
    sandbox.wait_idle().await;
}

/// Orchidea's users: externalId → (SCIM id, active).
async fn orchidea_users(sandbox: &Sandbox) -> Vec<(String, String, bool)> {
    let dump = sandbox.dump().await;
    let mut out: Vec<(String, String, bool)> = dump["orchidea"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["externalId"].as_str().unwrap_or_default().to_string(),
                u["id"].as_str().unwrap().to_string(),
                u["active"] == true,
            )
        })
        .collect();
    out.sort();
    out
}

fn scim_id(users: &[(String, String, bool)], entra_id: &str) -> String {
    users
        .iter()
        .find(|(ext, _, _)| ext == entra_id)
        .unwrap_or_else(|| panic!("{entra_id} is not in Orchidea: {users:?}"))
        .1
        .clone()
}

/// The SCIM requests the sandbox's cycle made since the last call.
fn cycle_writes(sandbox: &Sandbox) -> Vec<(String, String, u16)> {
    sandbox
        .take_requests()
        .into_iter()
        .filter(|r| r.server == SandboxServer::Scim && r.internal && r.method != "GET")
        .map(|r| (r.method, r.target, r.status))
        .collect()
}

async fn logged(api: &Api, job: &str, action: &str) -> Vec<Value> {
    let got = api
        .get(&format!(
            "/auditLogs/provisioning?$top=500&$filter=jobId eq '{job}' and provisioningAction eq '{action}'"
        ))
        .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    got.body["value"].as_array().unwrap().clone()
}

fn source_ids(entries: &[Value]) -> BTreeSet<String> {
    entries
        .iter()
        .map(|e| e["sourceIdentity"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_soft_deleted_user_is_disabled_and_a_permanently_deleted_one_deleted() {
    let sandbox = sandbox().await;
    let api = Api::new(&sandbox);
    let job = provisioned(&api, &sandbox, None).await;
    let before = orchidea_users(&sandbox).await;
    let adele = scim_id(&before, ADELE);
    // Another provisioned user, deleted straight from the directory.
    let (other, raj, _) = before
        .iter()
        .find(|(ext, _, _)| ext != ADELE)
        .unwrap()
        .clone();
    cycle_writes(&sandbox);

    // Soft delete (deleted items): an update setting active false, nothing deleted.
    assert!(sandbox.delete_user(ADELE).await);
    assert!(
        !sandbox.delete_user(ADELE).await,
        "already in deleted items"
    );
    cycle(&api, &sandbox, &job).await;
    let mut writes = cycle_writes(&sandbox);
    writes.retain(|(_, target, _)| target.starts_with("/scim/v2/Users"));
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(
        (writes[0].0.as_str(), writes[0].1.as_str()),
        ("PATCH", format!("/scim/v2/Users/{adele}").as_str())
    );
    assert!((200..300).contains(&writes[0].2), "{writes:?}");
    let after = orchidea_users(&sandbox).await;
    assert_eq!(after.len(), before.len());
    assert!(
        after.contains(&(ADELE.to_string(), adele.clone(), false)),
        "{after:?}"
    );
    assert_eq!(
        source_ids(&logged(&api, &job, "disable").await),
        BTreeSet::from([ADELE.to_string()])
    );

    // Permanent delete, one from deleted items and one straight from the
    // directory: DELETE by the cached id, and both are gone from Orchidea.
    assert!(sandbox.delete_user_permanently(ADELE).await);
    assert!(sandbox.delete_user_permanently(&other).await);
    cycle(&api, &sandbox, &job).await;
    let mut writes = cycle_writes(&sandbox);
    writes.retain(|(_, target, _)| target.starts_with("/scim/v2/Users"));
    writes.sort();
    let mut want = vec![
        ("DELETE".to_string(), format!("/scim/v2/Users/{adele}"), 204),
        ("DELETE".to_string(), format!("/scim/v2/Users/{raj}"), 204),
    ];
    want.sort();
    assert_eq!(writes, want);
    let after = orchidea_users(&sandbox).await;
    assert_eq!(after.len(), before.len() - 2, "{after:?}");
    assert!(
        after
            .iter()
            .all(|(ext, _, _)| ext != ADELE && ext != &other)
    );
    let deleted = logged(&api, &job, "delete").await;
    assert_eq!(
        source_ids(&deleted),
        BTreeSet::from([ADELE.to_string(), other.clone()])
    );
    assert!(
        deleted
            .iter()
            .all(|e| e["provisioningStatusInfo"]["status"] == "success")
    );
    let status = api.get(&job_path(&job, "")).await.body["status"].clone();
    assert_eq!(status["code"], "Active", "{status}");

    // The job forgot them: the next cycle sends nothing more.
    cycle(&api, &sandbox, &job).await;
    assert!(cycle_writes(&sandbox).is_empty());
    assert_eq!(logged(&api, &job, "delete").await.len(), 2);
}

#[tokio::test]
async fn permanent_deletes_past_the_threshold_are_held_until_force_deletes() {
    let sandbox = sandbox().await;
    let api = Api::new(&sandbox);
    let job = provisioned(&api, &sandbox, Some(2)).await;
    let before = orchidea_users(&sandbox).await;
    assert!(before.len() > 3, "{before:?}");
    let gone: BTreeSet<String> = before
        .iter()
        .take(3)
        .map(|(ext, _, _)| ext.clone())
        .collect();
    for id in &gone {
        assert!(sandbox.delete_user_permanently(id).await, "{id}");
    }
    cycle_writes(&sandbox);

    cycle(&api, &sandbox, &job).await;
    let status = api.get(&job_path(&job, "")).await.body["status"].clone();
    assert_eq!(status["code"], "Quarantine", "{status}");
    assert_eq!(status["quarantine"]["reason"], "TooManyDeletes", "{status}");
    assert!(
        cycle_writes(&sandbox)
            .iter()
            .all(|(method, _, _)| method != "DELETE")
    );
    assert_eq!(
        orchidea_users(&sandbox).await,
        before,
        "nothing was deleted"
    );
    let staged = logged(&api, &job, "stagedDelete").await;
    assert_eq!(source_ids(&staged), gone);
    assert!(
        staged
            .iter()
            .all(|e| e["provisioningStatusInfo"]["status"] == "skipped")
    );
    assert!(logged(&api, &job, "delete").await.is_empty());

    // An ordinary restart keeps them held.
    restart_with(&api, &sandbox, &job, json!({"criteria": {}})).await;
    let status = api.get(&job_path(&job, "")).await.body["status"].clone();
    assert_eq!(status["quarantine"]["reason"], "TooManyDeletes", "{status}");
    assert_eq!(orchidea_users(&sandbox).await, before);

    // The admin's confirmed "allow deletes": ForceDeletes lets exactly them through.
    restart_with(
        &api,
        &sandbox,
        &job,
        json!({"criteria": {"resetScope": "ForceDeletes, QuarantineState"}}),
    )
    .await;
    let status = api.get(&job_path(&job, "")).await.body["status"].clone();
    assert_eq!(status["code"], "Active", "{status}");
    let deletes: Vec<_> = cycle_writes(&sandbox)
        .into_iter()
        .filter(|(method, _, _)| method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 3, "{deletes:?}");
    assert!(deletes.iter().all(|(_, _, status)| *status == 204));
    let after = orchidea_users(&sandbox).await;
    assert_eq!(after.len(), before.len() - 3);
    assert!(after.iter().all(|(ext, _, _)| !gone.contains(ext)));
    assert_eq!(source_ids(&logged(&api, &job, "delete").await), gone);
}

/// "Known limitations": a user unassigned (and so disabled) is no longer
/// managed, so deleting it later sends no delete.
#[tokio::test]
async fn a_user_disabled_on_leaving_the_scope_gets_no_delete() {
    let sandbox = sandbox().await;
    let api = Api::new(&sandbox);
    let job = provisioned(&api, &sandbox, None).await;
    let assigned: BTreeSet<String> = orchidea_users(&sandbox)
        .await
        .into_iter()
        .map(|(ext, _, _)| ext)
        .collect();
    // Everyone in scope, then back to assigned users: the others are disabled.
    save_secrets(&api, &sandbox, true, None).await;
    cycle(&api, &sandbox, &job).await;
    save_secrets(&api, &sandbox, false, None).await;
    cycle(&api, &sandbox, &job).await;
    let users = orchidea_users(&sandbox).await;
    let (left, _, active) = users
        .iter()
        .find(|(ext, _, _)| !assigned.contains(ext))
        .unwrap()
        .clone();
    assert!(!active, "{left} was disabled on leaving the scope");
    cycle_writes(&sandbox);

    assert!(sandbox.delete_user_permanently(&left).await);
    cycle(&api, &sandbox, &job).await;
    let writes = cycle_writes(&sandbox);
    assert!(
        writes.iter().all(|(method, _, _)| method != "DELETE"),
        "{writes:?}"
    );
    assert_eq!(
        orchidea_users(&sandbox).await,
        users,
        "still there, disabled"
    );
    assert!(logged(&api, &job, "delete").await.is_empty());
}

/// The wizard's side: held permanent deletes are listed for review and go
/// through only with the admin's confirmed "allow deletions".
#[tokio::test]
async fn the_wizard_releases_held_permanent_deletes_only_when_the_admin_allows_them() {
    use orchidea_wizard::engine::{AlwaysYes, Engine, Notifications};
    use orchidea_wizard::setup::{self, Choices};
    let sandbox = sandbox().await;
    let choices = Choices {
        notifications: Some(Notifications {
            email: None,
            delete_threshold: Some(2),
        }),
        ..Choices::default()
    };
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, choices));
    engine.run_all(&AlwaysYes).await.unwrap();
    sandbox.wait_idle().await;
    let before = orchidea_users(&sandbox).await;
    let gone: BTreeSet<String> = before
        .iter()
        .take(3)
        .map(|(ext, _, _)| ext.clone())
        .collect();
    for id in &gone {
        assert!(sandbox.delete_user_permanently(id).await);
    }
    engine.restart_job().await.unwrap();
    sandbox.wait_idle().await;
    let view = engine.job_status().await.unwrap();
    assert!(view.quarantine.is_some_and(|q| q.too_many_deletes));
    assert_eq!(orchidea_users(&sandbox).await, before);
    let pending = engine.pending_deletions().await.unwrap();
    let ids: Vec<String> = pending.iter().map(|e| e.subject_id().to_string()).collect();
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), gone);

    engine.allow_deletions(&ids).await.unwrap();
    sandbox.wait_idle().await;
    assert!(!engine.job_status().await.unwrap().is_quarantined());
    let after = orchidea_users(&sandbox).await;
    assert_eq!(after.len(), before.len() - 3);
    assert!(after.iter().all(|(ext, _, _)| !gone.contains(ext)));
}
