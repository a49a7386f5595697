//! Steps 1a–1c: the SCIM secret, the IDP, and the pre-flight against the
//! SCIM endpoint.

use super::discover::discover;
use super::saved::entra_holds;
use super::{StepResult, require};
use crate::engine::config::SecretSource;
use crate::engine::error::EngineError;
use crate::engine::facts::{Facts, ScimTarget};
use crate::engine::handle::Engine;
use crate::engine::own_secrets;
use crate::procedure::checklist::Status;
use crate::procedure::step::StepId;
use crate::services::orchidea::pick_idp;
use crate::services::probe;

pub(super) async fn create_secret(engine: &Engine, facts: &mut Facts) -> StepResult {
    match &engine.cfg.secret_source {
        SecretSource::Manual(manual) => {
            discover(engine, facts).await?;
            let url = manual.scim_url.to_string();
            facts.scim = Some(ScimTarget {
                url: manual.scim_url.clone(),
                secret: Some(manual.secret.clone()),
            });
            Ok(if entra_holds(facts, &url) {
                Status::AlreadyDone(format!(
                    "Entra already provisions to {url} with a secret that works."
                ))
            } else {
                Status::Manual(format!(
                    "Created by you in Orchidea's web UI (secret {}).",
                    manual.secret.masked()
                ))
            })
        }
        SecretSource::AdminApi { admin, idp } => {
            // Independent reads, asked together with Entra's; the IDPs go
            // unused when Entra already holds a working secret.
            let orchidea = async {
                futures::future::try_join(admin.workspace(), admin.list_idps())
                    .await
                    .map_err(EngineError::from)
            };
            let ((), (workspace, idps)) =
                futures::future::try_join(discover(engine, facts), orchidea).await?;
            let url = workspace.scim_url.to_string();
            if entra_holds(facts, &url) {
                facts.scim = Some(ScimTarget {
                    url: workspace.scim_url,
                    secret: None,
                });
                return Ok(Status::AlreadyDone(format!(
                    "Entra already provisions to {url} with a secret that works; no new secret made."
                )));
            }
            // Step 0's IDP, when it made one, is the one new users get.
            let chosen = match (&facts.idp, idp) {
                (Some(made), None) if idps.iter().any(|i| i.id == made.id) => made.clone(),
                _ => pick_idp(&idps, idp.as_deref())?.clone(),
            };
            let created =
                own_secrets::create(engine, facts, admin.as_ref(), &chosen.id, &url).await?;
            let detail = format!(
                "Created SCIM secret {} in workspace \"{}\".",
                created.secret.masked(),
                workspace.name
            );
            facts.changes.push(format!(
                "Orchidea: created SCIM secret {} (id {}) for IDP \"{}\".",
                created.secret.masked(),
                created.id,
                chosen.name
            ));
            facts.scim = Some(ScimTarget {
                url: created.scim_url,
                secret: Some(created.secret),
            });
            facts.idp = Some(chosen);
            Ok(Status::Done(detail))
        }
        SecretSource::NotNeeded => Err(EngineError::Input(
            "This only reads the provisioning job; the SCIM secret is set up by a run of the steps.".into(),
        )),
    }
}

pub(super) fn choose_idp(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::ChooseIdp, StepId::CreateSecret)?;
    let already = matches!(
        facts.checklist.status(StepId::CreateSecret),
        Status::AlreadyDone(_)
    );
    Ok(match (&engine.cfg.secret_source, &facts.idp) {
        _ if already => {
            Status::AlreadyDone("Chosen when the secret Entra uses was created.".into())
        }
        (SecretSource::Manual(_), _) => {
            Status::Manual("Chosen by you in Orchidea's web UI.".into())
        }
        (_, Some(idp)) => Status::Done(format!("New users get the IDP \"{}\".", idp.name)),
        (_, None) => Status::Done("Workspace default IDP.".into()),
    })
}

pub(super) async fn copy_and_probe(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::CopyUrlAndSecret, StepId::CreateSecret)?;
    let Some(target) = facts.scim.clone() else {
        return Err(EngineError::Prerequisite {
            step: "1c",
            needs: "1a",
        });
    };
    let Some(secret) = &target.secret else {
        return Ok(Status::AlreadyDone(format!(
            "Entra already holds the URL {} and a working secret.",
            target.url
        )));
    };
    let report = probe::probe(&engine.cfg.http, &target.url, secret, &engine.cfg.probe).await;
    let passed = report.passed();
    let failure = report
        .first_failure()
        .map(|f| (f.cause().clone(), f.fix().clone()));
    let checks = report.checks.len();
    // Step 9 disables the group mapping when Orchidea serves no groups.
    facts.mapping_options.scim_groups = report.groups;
    facts.probe = Some(report);
    match failure {
        Some((cause, fix)) if !passed => Err(EngineError::Probe { cause, fix }),
        _ => Ok(Status::Done(format!(
            "URL {} and secret {} ready (kept in memory only); SCIM pre-flight passed {checks} checks.",
            target.url,
            secret.masked()
        ))),
    }
}
