//! `run_all` stops at step 14 (before 15 saves the scope) when the count
//! warns, for every front end: the window and the CLI both confirm there.

use crate::common;

use std::sync::Mutex;

use common::*;
use futures::future::BoxFuture;
use orchidea_wizard::StepId;
use orchidea_wizard::engine::{Confirm, EngineError};
use orchidea_wizard::sandbox::SandboxOptions;

/// Says yes, except at `refuse`, and records what it was asked.
struct Recording {
    asked: Mutex<Vec<(StepId, String)>>,
    refuse: Option<StepId>,
}

impl Recording {
    fn new(refuse: Option<StepId>) -> Self {
        Self {
            asked: Mutex::new(Vec::new()),
            refuse,
        }
    }

    fn steps(&self) -> Vec<&'static str> {
        self.asked
            .lock()
            .unwrap()
            .iter()
            .map(|(s, _)| s.number())
            .collect()
    }
}

impl Confirm for Recording {
    fn confirm(&self, step: StepId, detail: String) -> BoxFuture<'_, bool> {
        self.asked.lock().unwrap().push((step, detail));
        let yes = self.refuse != Some(step);
        Box::pin(async move { yes })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_without_mail_are_confirmed_at_14_and_a_no_saves_nothing() {
    let s = Scenario::new().start().await;
    let confirm = Recording::new(None);
    s.engine.run_all(&confirm).await.unwrap();
    assert_eq!(confirm.steps(), ["9", "14", "16"]);
    let detail = confirm.asked.lock().unwrap()[1].1.clone();
    assert!(
        detail.starts_with("2 of ") && detail.contains("have no mail and will be skipped"),
        "{detail}"
    );

    // Saying no at 14: the scope is not saved and the run stops there.
    let s = Scenario::new().start().await;
    let confirm = Recording::new(Some(StepId::ChooseScope));
    let err = s.engine.run_all(&confirm).await.unwrap_err();
    assert!(
        matches!(err, EngineError::NotConfirmed(StepId::ChooseScope)),
        "{err}"
    );
    let checklist = s.engine.checklist().await;
    assert!(!checklist.status(StepId::SaveSettings).is_complete());
    assert!(!checklist.status(StepId::StartProvisioning).is_complete());
    let dump = s.sandbox.dump().await;
    assert!(
        secret_value(&dump, "SyncAll").is_none(),
        "the scope was not saved: {:?}",
        secret_value(&dump, "SyncAll")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_without_warnings_is_not_confirmed_at_14() {
    let mut tenant = default_tenant();
    for user in tenant["users"].as_array_mut().unwrap() {
        if user["mail"].is_null() {
            let upn = user["userPrincipalName"].clone();
            user["mail"] = upn;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    std::fs::write(&file, tenant.to_string()).unwrap();
    let s = Scenario::new()
        .sandbox(SandboxOptions {
            tenant_file: Some(file),
            ..SandboxOptions::default()
        })
        .start()
        .await;
    let confirm = Recording::new(None);
    s.engine.run_all(&confirm).await.unwrap();
    assert_eq!(confirm.steps(), ["9", "16"]);
    assert!(s.engine.checklist().await.all_complete());
}
