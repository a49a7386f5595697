//! Step 2: the enterprise app, found or created from the non-gallery
//! template (once, however the request fails).

use std::time::Instant;

use super::StepResult;
use super::discover::discover;
use crate::engine::apps::{Capability, Choice};
use crate::engine::error::EngineError;
use crate::engine::facts::Facts;
use crate::engine::handle::Engine;
use crate::engine::remembered::CreatedApp;
use crate::engine::{apps, created_earlier};
use crate::procedure::checklist::Status;
use crate::procedure::step::StepId;
use crate::services::graph::GraphError;

/// Several apps can provision and none was chosen: the admin picks one.
pub(in crate::engine) fn ambiguous(many: &[&apps::AppCandidate]) -> EngineError {
    EngineError::AmbiguousApp {
        names: many
            .iter()
            .map(|c| format!("\"{}\" ({})", c.name(), c.service_principal.id))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

pub(super) async fn open_app(engine: &Engine, facts: &mut Facts) -> StepResult {
    if facts.candidates.is_empty() {
        discover(engine, facts).await?;
    }
    let creates = engine.cfg.create_app || facts.create_app;
    if facts.app.is_none() {
        let found = match &engine.cfg.app_id {
            Some(id) => match facts
                .candidates
                .iter()
                .find(|c| &c.service_principal.id == id)
            {
                Some(c) => Err(EngineError::AppCannotProvision {
                    name: c.name().to_string(),
                    reason: c.capability.reason().to_string(),
                }),
                None => Err(EngineError::NoApp { name: id.clone() }),
            },
            None => match apps::choose(&facts.candidates) {
                Choice::One(c) => Ok(c.service_principal.clone()),
                Choice::Ambiguous(many) => Err(ambiguous(&many)),
                Choice::NotCapable(c) => {
                    let none_fits = EngineError::AppCannotProvision {
                        name: c.name().to_string(),
                        reason: c.capability.reason().to_string(),
                    };
                    created_or_create(engine, facts, creates, none_fits).await
                }
                Choice::None => {
                    let none_fits = EngineError::NoApp {
                        name: engine.cfg.app_name.clone(),
                    };
                    created_or_create(engine, facts, creates, none_fits).await
                }
            },
        };
        facts.app = Some(found?);
    }
    // Re-read the job and saved settings of the app now chosen: the admin
    // may have picked another app than the one step 1a looked at.
    discover(engine, facts).await?;
    let Some(app) = facts.app.clone() else {
        return Err(EngineError::NoApp {
            name: engine.cfg.app_name.clone(),
        });
    };
    let candidate = facts
        .candidates
        .iter()
        .find(|c| c.service_principal.id == app.id);
    let name = app.display_name.clone().unwrap_or_default();
    let made_here = facts.created_app.as_ref() == Some(&app.id);
    match candidate.map(|c| &c.capability) {
        Some(Capability::Scim {
            template_id,
            has_job,
        }) => {
            facts.template_ids = vec![template_id.clone()];
            let text = if made_here {
                format!(
                    "Created \"{name}\" ({}) from the non-gallery template; it can provision over SCIM.",
                    app.id
                )
            } else {
                format!("\"{name}\" ({}) can provision over SCIM.", app.id)
            };
            Ok(if *has_job {
                Status::AlreadyDone(text)
            } else {
                Status::Done(text)
            })
        }
        Some(other) => Err(EngineError::AppCannotProvision {
            name,
            reason: other.reason().to_string(),
        }),
        None => {
            // Chosen but not among the apps read (a list that lags):
            // the capability was checked when it was chosen.
            facts.template_ids = vec![apps::SCIM_TEMPLATES[0].to_string()];
            Ok(Status::Done(format!("\"{name}\" ({}) selected.", app.id)))
        }
    }
}

/// No listed app fits: the app the wizard created earlier (waited for
/// while Entra replicates it), else a new one when the admin asked for it.
async fn created_or_create(
    engine: &Engine,
    facts: &mut Facts,
    creates: bool,
    none_fits: EngineError,
) -> Result<crate::services::graph::ServicePrincipal, EngineError> {
    if let Some(sp) = created_earlier::wait_for(engine, facts).await? {
        return Ok(sp);
    }
    if creates {
        create_app(engine, facts).await
    } else {
        Err(none_fits)
    }
}

/// Creates the app from the cloud's non-gallery template — once, however
/// the request fails — and waits until Entra shows it: a new app is
/// missing from lists and answers 404 for a while (replication; support
/// article `404-not-found-error-manage-objects-microsoft-graph.md`). The
/// app and what it can do join the candidates, so step 2 goes on as for
/// an app that existed.
async fn create_app(
    engine: &Engine,
    facts: &mut Facts,
) -> Result<crate::services::graph::ServicePrincipal, EngineError> {
    let name = engine.cfg.app_name.clone();
    let sp = create_app_once(engine, facts, &name).await?;
    facts.created_app = Some(sp.id.clone());
    facts.reads.created = Some(Instant::now());
    let waited_s = engine.cfg.graph.retry_policy().settle_within.as_secs();
    engine.report_running(
        facts,
        StepId::OpenEnterpriseApp,
        format!(
            "Created \"{name}\" ({}); waiting for Entra to replicate it (up to {waited_s} s)…",
            sp.id
        ),
    );
    let settling = engine.cfg.graph.settling();
    let read = created_earlier::replicated(engine, apps::created(&settling, sp.clone())).await;
    let candidate = match read {
        Ok(c) => c,
        // A 403 that outlasts the wait is a missing permission: it keeps
        // its own message.
        Err(GraphError::NotFound { .. }) => {
            return Err(EngineError::NotReplicated {
                name,
                id: sp.id,
                waited_s,
            });
        }
        Err(e) => return Err(e.into()),
    };
    created_earlier::seen(facts, candidate);
    Ok(sp)
}

/// `instantiate`, never repeated blindly: after a lost answer (dropped
/// connection, server error) the apps of that name are looked for while
/// Entra replicates, and a new one is used. If none appears in time the
/// step stops rather than risk a second app.
async fn create_app_once(
    engine: &Engine,
    facts: &mut Facts,
    name: &str,
) -> Result<crate::services::graph::ServicePrincipal, EngineError> {
    let graph = &engine.cfg.graph;
    let template = engine.cfg.cloud.non_gallery_template_id();
    // Kept before sending: if the answer never comes (lost, or the
    // wizard is closed), the next run looks for the app instead.
    facts.created_earlier = Some(CreatedApp::attempt(name, engine.cfg.tenant_id.as_deref()));
    engine.save_run_state(facts);
    // Sent once: a lost answer is looked for by name below, never repeated.
    let error = match graph.instantiate_template(template, name).await {
        Ok(made) => {
            facts.changes.push(format!(
                "Entra: created enterprise app \"{name}\" ({}) from the non-gallery template {template}.",
                made.service_principal.id
            ));
            created_earlier::answered(
                engine,
                facts,
                &made.service_principal,
                made.application.app_id.as_deref(),
            );
            return Ok(made.service_principal);
        }
        Err(e) if e.outcome_unknown() => e,
        Err(e) => {
            // Refused: nothing was created.
            facts.created_earlier = None;
            engine.save_run_state(facts);
            return Err(e.into());
        }
    };
    let policy = graph.retry_policy().clone();
    engine.report_running(
        facts,
        StepId::OpenEnterpriseApp,
        format!(
            "Entra's answer to creating \"{name}\" was lost; looking for it by name while Entra replicates (up to {} s)…",
            policy.settle_within.as_secs()
        ),
    );
    let found =
        created_earlier::named_within(graph, name, &facts.candidates, policy.settle_within).await?;
    match found.as_slice() {
        [one] => {
            tracing::warn!("creating the app: {error}; it exists, so the create went through");
            created_earlier::answered(engine, facts, one, None);
            facts.changes.push(format!(
                "Entra: created enterprise app \"{name}\" ({}) from the non-gallery template {template} (the answer was lost; found by name).",
                one.id
            ));
            Ok(one.clone())
        }
        [] => Err(EngineError::CreateUnconfirmed {
            name: name.to_string(),
            cause: error.to_string(),
            waited_s: policy.settle_within.as_secs(),
        }),
        many => Err(created_earlier::ambiguous(name, many)),
    }
}
