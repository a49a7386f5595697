//! Issue #14 item 3: the schema is re-read right before the whole-schema
//! PUT of step 9. Another admin's change made while the diff was on screen
//! is never overwritten: the new diff is confirmed again (or, with `--yes`,
//! the run stops), and the backup holds what the PUT really replaced.

use crate::common;

use std::sync::Mutex;

use common::*;
use futures::future::BoxFuture;
use orchidea_wizard::StepId;
use orchidea_wizard::engine::backup::Kind;
use orchidea_wizard::engine::{Confirm, Engine, EngineError, Scope};
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use serde_json::Value;

const MARK: &str = "set-by-another-admin";

fn engine(sandbox: &Sandbox, dir: &std::path::Path) -> Engine {
    Scenario::new()
        .scope(Scope::Assigned)
        .backups_in(dir)
        .engine(sandbox)
}

fn schema_url(sandbox: &Sandbox, sp: &str, job: &str) -> String {
    format!(
        "{}/servicePrincipals/{sp}/synchronization/jobs/{job}/schema",
        sandbox.graph_url
    )
}

/// A second Graph client (another admin in the portal): reads the schema,
/// sets a default value on the group mapping's first attribute (a part
/// step 9 never edits), and PUTs the whole schema back.
async fn another_admin_edits(sandbox: &Sandbox, sp: &str, job: &str) {
    let mut schema = stored_schema(sandbox, sp, job).await;
    let group = schema["synchronizationRules"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .flat_map(|r| r["objectMappings"].as_array_mut().unwrap().iter_mut())
        .find(|m| m["sourceObjectName"] == "Group")
        .expect("the template has a group mapping");
    group["attributeMappings"][0]["defaultValue"] = Value::String(MARK.into());
    let status = orchidea_wizard::platform::http::loopback_client()
        .put(schema_url(sandbox, sp, job))
        .bearer_auth(sandbox.graph_token.expose())
        .json(&schema)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "{status}");
}

fn has_mark(schema: &Value) -> bool {
    group_mapping(schema).unwrap()["attributeMappings"][0]["defaultValue"] == MARK
}

async fn stored_schema(sandbox: &Sandbox, sp: &str, job: &str) -> Value {
    orchidea_wizard::platform::http::loopback_client()
        .get(schema_url(sandbox, sp, job))
        .bearer_auth(sandbox.graph_token.expose())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Says yes; the first time, another admin edits the schema while this
/// admin reads the diff.
struct Pausing<'a> {
    sandbox: &'a Sandbox,
    ids: (String, String),
    asks: bool,
    details: Mutex<Vec<String>>,
}

impl Confirm for Pausing<'_> {
    fn confirm(&self, step: StepId, detail: String) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            let first = {
                let mut seen = self.details.lock().unwrap();
                if step == StepId::KeepFiveAttributes {
                    seen.push(detail);
                }
                seen.len() == 1 && step == StepId::KeepFiveAttributes
            };
            if first {
                another_admin_edits(self.sandbox, &self.ids.0, &self.ids.1).await;
            }
            true
        })
    }

    fn asks(&self) -> bool {
        self.asks
    }
}

async fn ids_after_step_8(engine: &Engine) -> (String, String) {
    for step in StepId::ALL {
        engine.run_step(step).await.unwrap();
        if step == StepId::OpenUserMapping {
            break;
        }
    }
    let facts = engine.facts().await;
    (facts.app.unwrap().id, facts.job.unwrap().id)
}

#[tokio::test]
async fn a_change_between_diff_and_write_is_shown_again_not_overwritten() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&sandbox, dir.path());
    let (sp, job) = ids_after_step_8(&engine).await;
    let diff_shown = engine
        .pending_change(StepId::KeepFiveAttributes)
        .await
        .expect("step 9 has changes to confirm");

    let confirm = Pausing {
        sandbox: &sandbox,
        ids: (sp.clone(), job.clone()),
        asks: true,
        details: Mutex::new(Vec::new()),
    };
    engine.run_all(&confirm).await.unwrap();

    let details = confirm.details.into_inner().unwrap();
    assert_eq!(
        details.len(),
        2,
        "asked again after the change: {details:#?}"
    );
    assert_eq!(details[0], diff_shown);
    assert!(
        details[1].starts_with("Someone changed the mappings in Entra since you reviewed them"),
        "{}",
        details[1]
    );
    assert!(
        details[1].contains(details[0].lines().next().unwrap()),
        "the new diff is listed: {}",
        details[1]
    );
    let now = stored_schema(&sandbox, &sp, &job).await;
    assert!(
        has_mark(&now),
        "the other admin's change survives the write"
    );
    assert!(
        orchidea_wizard::procedure::mapping::plan(
            &now,
            &orchidea_wizard::procedure::mapping::MappingOptions::default()
        )
        .unwrap()
        .is_noop(),
        "and step 9's edits were written"
    );
    let step9 = engine
        .backups()
        .await
        .into_iter()
        .find(|b| b.kind == Kind::Schema && b.reason == "before step 9 (mappings)")
        .expect("a step-9 backup");
    assert!(
        has_mark(step9.schema.as_ref().unwrap()),
        "the backup is of what the PUT replaced, the other admin's change included"
    );
}

#[tokio::test]
async fn with_yes_a_changed_schema_stops_the_run_and_writes_nothing() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&sandbox, dir.path());
    let (sp, job) = ids_after_step_8(&engine).await;
    let confirm = Pausing {
        sandbox: &sandbox,
        ids: (sp.clone(), job.clone()),
        asks: false,
        details: Mutex::new(Vec::new()),
    };
    let err = engine.run_all(&confirm).await.unwrap_err();
    assert!(matches!(err, EngineError::SchemaChanged(_)), "{err}");
    assert!(
        err.to_string().starts_with(
            "Someone changed the mappings in Entra since you reviewed them; nothing was written."
        ),
        "{err}"
    );
    let now = stored_schema(&sandbox, &sp, &job).await;
    assert!(has_mark(&now));
    let plan_now = orchidea_wizard::procedure::mapping::plan(
        &now,
        &orchidea_wizard::procedure::mapping::MappingOptions::default(),
    )
    .unwrap();
    assert!(!plan_now.is_noop(), "step 9 wrote nothing");
    assert!(
        !engine
            .checklist()
            .await
            .status(StepId::KeepFiveAttributes)
            .is_complete()
    );
    // The next attempt works on what Entra holds now, and keeps the change.
    engine.run_step(StepId::KeepFiveAttributes).await.unwrap();
    assert!(has_mark(&stored_schema(&sandbox, &sp, &job).await));
}
