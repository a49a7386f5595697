//! The body of each step: read the current state, then write only what is
//! missing. A step that finds its work done reports `AlreadyDone`. One file
//! per step group (`procedure::step::StepGroup`); what they share is here
//! and in `discover` and `saved`.

mod app;
mod credentials;
mod discover;
mod mappings;
mod restore;
mod rotate;
mod saved;
mod scope;
mod secret;
mod sso;
mod sso_idp;
mod start;

pub(super) use app::ambiguous;
pub(super) use discover::discover;
pub(super) use restore::restore;
pub(super) use rotate::{OnStage, refused, rotate};
pub(super) use saved::backup_settings;

use crate::engine::error::EngineError;
use crate::engine::facts::{Facts, Reads};
use crate::engine::handle::Engine;
use crate::procedure::checklist::Status;
use crate::procedure::step::StepId;
use crate::services::graph::{JobStatusCode, SynchronizationJob};

type StepResult = Result<Status, EngineError>;

/// The Graph client for this moment: right after the run created the app
/// or the job, 404/403/409 mean "not replicated yet" and are retried.
fn graph(engine: &Engine, facts: &Facts) -> crate::services::graph::GraphClient {
    if Reads::fresh(facts.reads.created) {
        engine.cfg.graph.settling()
    } else {
        engine.cfg.graph.clone()
    }
}

pub(super) async fn run(engine: &Engine, facts: &mut Facts, step: StepId) -> StepResult {
    match step {
        StepId::SsoIntegration => sso::sso(engine, facts).await,
        StepId::CreateSecret => secret::create_secret(engine, facts).await,
        StepId::ChooseIdp => secret::choose_idp(engine, facts),
        StepId::CopyUrlAndSecret => secret::copy_and_probe(engine, facts).await,
        StepId::OpenEnterpriseApp => app::open_app(engine, facts).await,
        StepId::OpenProvisioning => credentials::open_provisioning(facts),
        StepId::AutomaticMode => credentials::automatic_mode(engine, facts).await,
        StepId::TestConnection => credentials::test_connection(engine, facts).await,
        StepId::SaveCredentials => credentials::save_credentials(engine, facts).await,
        StepId::OpenMappings => mappings::open_mappings(engine, facts).await,
        StepId::OpenUserMapping => mappings::open_user_mapping(facts),
        StepId::KeepFiveAttributes
        | StepId::EditUserName
        | StepId::UserNameFromMail
        | StepId::EditExternalId
        | StepId::ExternalIdFromObjectId => mappings::apply_mapping(engine, facts, step).await,
        StepId::ChooseScope => scope::choose_scope(engine, facts).await,
        StepId::SaveSettings => scope::save_settings(engine, facts).await,
        StepId::StartProvisioning => start::start(engine, facts).await,
    }
}

pub(super) fn job_is_active(job: &SynchronizationJob) -> bool {
    job.status
        .as_ref()
        .is_some_and(|s| s.code == JobStatusCode::Active)
}

fn require(facts: &Facts, step: StepId, needs: StepId) -> Result<(), EngineError> {
    if facts.checklist.status(needs).is_complete() {
        Ok(())
    } else {
        Err(EngineError::Prerequisite {
            step: step.number(),
            needs: needs.number(),
        })
    }
}

pub(super) fn app_id(facts: &Facts) -> Result<String, EngineError> {
    facts
        .app
        .as_ref()
        .map(|a| a.id.clone())
        .ok_or(EngineError::Prerequisite {
            step: "3",
            needs: "2",
        })
}

pub(super) fn job_ids(facts: &Facts) -> Result<(String, String), EngineError> {
    let app = app_id(facts)?;
    let job = facts
        .job
        .as_ref()
        .map(|j| j.id.clone())
        .ok_or(EngineError::Prerequisite {
            step: "5",
            needs: "4",
        })?;
    Ok((app, job))
}

/// The step's detail with what happened to older SCIM secrets after it.
fn with_lines(status: Status, lines: &[String]) -> Status {
    if lines.is_empty() {
        status
    } else {
        status.with_note(&lines.join(" "))
    }
}
