//! Step 16: start provisioning and watch for the first cycle.

use std::time::{Duration, Instant};

use super::{StepResult, graph, job_ids, job_is_active, require};
use crate::engine::facts::{Facts, Reads};
use crate::engine::handle::Engine;
use crate::procedure::checklist::Status;
use crate::procedure::step::StepId;
use crate::services::graph::SynchronizationJob;

pub(super) async fn start(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::StartProvisioning, StepId::SaveSettings)?;
    require(
        facts,
        StepId::StartProvisioning,
        StepId::ExternalIdFromObjectId,
    )?;
    let (app, job_id) = job_ids(facts)?;
    let graph = &graph(engine, facts);
    let job = match &facts.job {
        Some(job) if Reads::fresh(facts.reads.job) && job.id == job_id => job.clone(),
        _ => graph.get_job(&app, &job_id).await?,
    };
    if job_is_active(&job) {
        let text = format!("Provisioning is running ({}).", execution_summary(&job));
        facts.job = Some(job);
        return Ok(Status::AlreadyDone(text));
    }
    graph.start_job(&app, &job_id).await?;
    facts
        .changes
        .push(format!("Entra: started provisioning job {job_id}."));
    // Watch until the first cycle reports or the timeout passes.
    let deadline = Instant::now() + engine.cfg.watch_timeout;
    let mut delay = Duration::from_millis(100);
    let job = loop {
        let job = graph.get_job(&app, &job_id).await?;
        let reported = job
            .status
            .as_ref()
            .is_some_and(|s| s.last_execution.is_some());
        if reported || Instant::now() >= deadline {
            break job;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    };
    let text = format!("Started; {}.", execution_summary(&job));
    facts.job = Some(job);
    Ok(Status::Done(text))
}

fn execution_summary(job: &SynchronizationJob) -> String {
    let Some(status) = &job.status else {
        return "no status yet".into();
    };
    let code = format!("status {:?}", status.code);
    match &status.last_execution {
        Some(exec) => format!(
            "{code}; last cycle {}: {} exported",
            exec.state.as_deref().unwrap_or("?"),
            exec.count_exported.unwrap_or(0)
        ),
        None => format!("{code}; the first cycle is still running"),
    }
}
