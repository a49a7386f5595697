//! The engine when Graph misbehaves: throttling, unavailability, server
//! errors, dropped connections, lost answers after a write, latency. Each
//! run must either finish with the right final state or stop with a
//! specific message and finish when run again — never a second job.

mod common;

use std::time::Duration;

use common::*;
use orchidea_wizard::engine::{AlwaysYes, Engine};
use orchidea_wizard::graph::{GraphClient, RetryPolicy, StaticToken};
use orchidea_wizard::sandbox::{Fault, Sandbox, SandboxOptions};
use orchidea_wizard::setup::{self, Choices};
use orchidea_wizard::{Status, StepId};

/// Millisecond backoff; `Retry-After` is still honoured as sent.
fn fast() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
        ..RetryPolicy::default()
    }
}

fn engine(sandbox: &Sandbox) -> Engine {
    let mut cfg = setup::sandbox_config(sandbox, None, Choices::default());
    cfg.graph = GraphClient::with_retry(
        orchidea_wizard::http::loopback_client(),
        sandbox.graph_url.clone(),
        std::sync::Arc::new(StaticToken(sandbox.graph_token.clone())),
        fast(),
    );
    cfg.watch_timeout = Duration::from_secs(5);
    Engine::new(cfg)
}

#[tokio::test]
async fn a_retried_step_says_so_in_its_detail() {
    let sandbox = Sandbox::start(SandboxOptions {
        faults: vec![Fault::parse("graph:PUT:/schema:503x2").unwrap()],
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let engine = engine(&sandbox);
    engine.run_all(&AlwaysYes).await.unwrap();
    let checklist = engine.checklist().await;
    let detail = checklist.status(StepId::KeepFiveAttributes).detail();
    assert!(
        detail.contains("attempt 1 failed (throttled or unavailable); retried")
            && detail.contains("attempt 2 failed"),
        "{detail}"
    );
    sandbox.wait_idle().await;
    assert_configured(&sandbox.dump().await, "false");
}

#[tokio::test]
async fn a_job_created_but_whose_answer_was_lost_is_found_not_made_twice() {
    let sandbox = Sandbox::start(SandboxOptions {
        faults: vec![Fault::parse("graph:POST:/synchronization/jobs:500:after").unwrap()],
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let engine = engine(&sandbox);
    engine.run_all(&AlwaysYes).await.unwrap();
    sandbox.wait_idle().await;
    assert_configured(&sandbox.dump().await, "false");
}

#[tokio::test]
async fn a_retry_after_too_long_stops_with_a_specific_message_and_resumes() {
    let sandbox = Sandbox::start(SandboxOptions {
        faults: vec![Fault::parse("graph:PUT:/secrets:429x1:retry-after=3600").unwrap()],
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let err = engine(&sandbox).run_all(&AlwaysYes).await.unwrap_err();
    assert!(
        err.to_string().starts_with(
            "Microsoft Graph is busy and asked the wizard to slow down. Wait 3600 seconds"
        ),
        "{err}"
    );
    // Nothing half-done: a new run (the fault is spent) finishes.
    let again = engine(&sandbox);
    again.run_all(&AlwaysYes).await.unwrap();
    sandbox.wait_idle().await;
    assert_configured(&sandbox.dump().await, "false");
}

/// Where faults are injected: the Graph calls of the steps (1a/2
/// discovery, 4, 5, 6, 7, 9, 14, 15, 16).
const ENDPOINTS: [&str; 11] = [
    "GET:/servicePrincipals",
    "GET:/synchronization/templates",
    "POST:/synchronization/jobs",
    "POST:/validateCredentials",
    "GET:/synchronization/secrets",
    "PUT:/synchronization/secrets",
    "GET:/schema",
    "PUT:/schema",
    "GET:/users",
    "GET:/appRoleAssignedTo",
    "POST:/start",
];

/// What goes wrong at each of them.
const FAULTS: [&str; 8] = [
    "429x2:retry-after=1",
    "503x2",
    // More than the client's attempts: the step stops, the next run finishes.
    "503x5",
    "504x1",
    "500x1",
    "drop:x1",
    "500:after",
    "latency=300",
];

#[derive(Debug)]
enum Case {
    Completed,
    StoppedThenResumed(String),
}

async fn one_case(endpoint: &str, fault: &str) -> Result<Case, String> {
    let spec = format!("graph:{endpoint}:{fault}");
    let sandbox = Sandbox::start(SandboxOptions {
        faults: vec![Fault::parse(&spec).map_err(|e| format!("{spec}: {e}"))?],
        ..SandboxOptions::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    let first = engine(&sandbox);
    let outcome = first.run_all(&AlwaysYes).await;
    let case = match outcome {
        Ok(()) => Case::Completed,
        Err(e) => {
            let message = e.to_string();
            // The failed step says why, in the checklist too.
            let failed = first
                .checklist()
                .await
                .iter()
                .find(|(_, s)| matches!(s, Status::Failed(_)))
                .map(|(step, s)| (step, s.detail().to_string()));
            match failed {
                Some((_, detail)) if detail.starts_with(&message) => {}
                other => return Err(format!("{spec}: stopped without a failed step: {other:?}")),
            }
            // Resumable: a new run without the fault finishes.
            engine(&sandbox)
                .run_all(&AlwaysYes)
                .await
                .map_err(|e| format!("{spec}: did not resume: {e}"))?;
            Case::StoppedThenResumed(message)
        }
    };
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    let check = std::panic::catch_unwind(|| assert_configured(&dump, "false"));
    if check.is_err() {
        return Err(format!("{spec}: wrong final state after {case:?}"));
    }
    sandbox.shutdown().await;
    Ok(case)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix_every_graph_step_survives_or_stops_cleanly() {
    let cases: Vec<(&str, &str)> = ENDPOINTS
        .iter()
        .flat_map(|e| FAULTS.iter().map(move |f| (*e, *f)))
        .collect();
    let results = futures::future::join_all(
        cases
            .iter()
            .map(|(e, f)| async move { ((*e, *f), one_case(e, f).await) }),
    )
    .await;
    let mut completed = 0;
    let mut resumed = Vec::new();
    let mut wrong = Vec::new();
    for ((e, f), r) in &results {
        match r {
            Ok(Case::Completed) => completed += 1,
            Ok(Case::StoppedThenResumed(m)) => resumed.push(format!("{e} {f}: {m}")),
            Err(problem) => wrong.push(problem.clone()),
        }
    }
    println!(
        "fault matrix: {} faults × {} Graph endpoints = {} runs: {completed} completed through retries, {} stopped with a message and finished when run again, {} wrong",
        FAULTS.len(),
        ENDPOINTS.len(),
        results.len(),
        resumed.len(),
        wrong.len()
    );
    for r in &resumed {
        println!("  stopped, then resumed: {r}");
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(completed + resumed.len(), ENDPOINTS.len() * FAULTS.len());
}
