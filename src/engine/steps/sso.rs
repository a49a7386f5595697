//! Step 0: the SAML single sign-on integration Orchidea's SCIM article
//! takes for granted (Orchidea's SSO article). Check, then act: an app that
//! already signs users in with SAML to Orchidea is left alone; otherwise,
//! when the admin agreed, the app is created or completed (Identifier,
//! Reply URL, Sign on URL, SAML mode, a signing certificate), Orchidea gets
//! an IDP from Entra's federation metadata, and the IDP's reply URL
//! replaces the placeholder in Entra.

use std::time::SystemTime;

use super::sso_idp::{orchidea_idp, record};
use super::{StepResult, graph};
use crate::engine::config::SsoChoice;
use crate::engine::error::EngineError;
use crate::engine::facts::Facts;
use crate::engine::handle::Engine;
use crate::procedure::checklist::Status;
use crate::services::graph::sso::{
    SamlAppUpdate, SamlApplication, SamlServicePrincipal, SamlSpUpdate, SelfSignedCertificate,
};
use crate::services::graph::sso_check::{OrchideaSaml, check_saml};
use crate::services::graph::{GraphClient, GraphError};
use crate::services::orchidea::sso::{ENTITY_ID, ReplyUrlRules, parse_reply_url};

/// What the admin is told to do when the wizard does not set SSO up.
const BY_HAND: &str = "Not set up by the wizard: follow Orchidea's SSO article (an Orchidea app in Entra with SAML single sign-on, and an IDP in Orchidea from Entra's federation metadata), or let the wizard do it.";

/// The workspace name and origin the Sign on URL is made of.
fn wanted(engine: &Engine) -> Result<OrchideaSaml, EngineError> {
    let home = engine
        .cfg
        .sso
        .workspace_url
        .clone()
        .ok_or(EngineError::SsoWorkspaceUrlNeeded)?;
    let workspace = home.path().trim_matches('/').to_string();
    let mut origin = home.clone();
    origin.set_path("");
    Ok(OrchideaSaml::new(&workspace).with_origin(&origin))
}

/// The reply URL the admin gave (manual path), checked before anything is
/// written: a bad one is refused with its own message.
fn given_reply_url(engine: &Engine) -> Result<Option<String>, EngineError> {
    let Some(raw) = engine.cfg.sso.reply_url.as_deref() else {
        return Ok(None);
    };
    let rules = ReplyUrlRules {
        workspace_url: engine.cfg.sso.workspace_url.as_ref(),
        // Orchidea on loopback only stands in for the real one beside a
        // Graph on loopback (the sandbox).
        sandbox: crate::platform::http::is_loopback(engine.cfg.graph.base()),
    };
    Ok(Some(parse_reply_url(raw, rules)?.to_string()))
}

pub(super) async fn sso(engine: &Engine, facts: &mut Facts) -> StepResult {
    let asked = match engine.cfg.sso.choice {
        SsoChoice::Yes => true,
        SsoChoice::Ask => facts.sso_answer == Some(true),
        SsoChoice::No => false,
    };
    if !asked {
        return Ok(not_asked(engine, facts).await);
    }
    let want = wanted(engine)?;
    let pasted = given_reply_url(engine)?;
    super::discover(engine, facts).await?;
    let client = graph(engine, facts);
    // Check: an app that already holds Orchidea's SAML settings.
    if let Some(sp) = facts.app.clone() {
        let saml_sp = client.get_service_principal_sso(&sp.id).await?;
        let check = match &pasted {
            Some(reply) => want.clone().with_reply_url(reply),
            None => want.clone(),
        };
        if let Some(app_id) = saml_sp.app_id.as_deref()
            && let Some(app) = client.find_application_by_app_id(app_id).await?
            && check_saml(&app, &saml_sp, &check, SystemTime::now()).is_empty()
            && has_idp_reply_url(&app, &want)
        {
            super::sso_idp::idp_of_app(engine, facts, &app.web.redirect_uris).await;
            return Ok(Status::AlreadyDone(format!(
                "Not needed: \"{}\" already signs users in to Orchidea with SAML (Identifier {ENTITY_ID}).",
                sp.display_name.as_deref().unwrap_or("the Orchidea app")
            )));
        }
    }
    Box::pin(set_up(engine, facts, &want, pasted)).await
}

/// Not asked to set it up: what the tenant read shows (the app's SAML mode
/// comes with the app list step 1a reads anyway), nothing more is read and
/// nothing fails here — a read that fails is step 1a's to report.
async fn not_asked(engine: &Engine, facts: &mut Facts) -> Status {
    if facts.app.is_none() && super::discover(engine, facts).await.is_err() {
        return Status::Manual(BY_HAND.into());
    }
    match &facts.app {
        Some(app) if app.preferred_single_sign_on_mode.as_deref() == Some("saml") => {
            Status::AlreadyDone(format!(
                "Not needed: \"{}\" already signs users in with SAML single sign-on.",
                app.display_name.as_deref().unwrap_or("the Orchidea app")
            ))
        }
        _ => Status::Manual(BY_HAND.into()),
    }
}

async fn set_up(
    engine: &Engine,
    facts: &mut Facts,
    want: &OrchideaSaml,
    pasted: Option<String>,
) -> StepResult {
    // The app: found, or created from the non-gallery template (step 2's way).
    if facts.app.is_none() {
        facts.create_app = true;
        super::app::open_app(engine, facts).await?;
    }
    let sp = facts.app.clone().ok_or(EngineError::NoApp {
        name: engine.cfg.app_name.clone(),
    })?;
    if facts.created_app.as_deref() == Some(sp.id.as_str()) {
        record(engine, facts, &sp, |r| r.app_created = true);
    }
    let client = graph(engine, facts).settling();
    let saml_sp = client.get_service_principal_sso(&sp.id).await?;
    let app_id = saml_sp.app_id.clone().unwrap_or_default();
    let app = client
        .find_application_by_app_id(&app_id)
        .await?
        .ok_or_else(|| {
            EngineError::Input(format!(
                "The application object of app {app_id} was not found."
            ))
        })?;
    let name = sp.display_name.clone().unwrap_or_else(|| "Orchidea".into());
    let mut lines = Vec::new();
    // The Identifier is unique in a tenant: another app holding it is
    // explained, never taken over.
    if !app.identifier_uris.iter().any(|u| u == ENTITY_ID) {
        let others: Vec<SamlApplication> = client
            .applications_with_identifier_uri(ENTITY_ID)
            .await?
            .into_iter()
            .filter(|a| a.id != app.id)
            .collect();
        if let Some(other) = others.first() {
            return Err(EngineError::Input(format!(
                "Another app in this tenant, \"{}\" (appId {}), already uses the Identifier {ENTITY_ID}; Entra allows it on one app only. If that app is Orchidea's single sign-on, choose it; otherwise remove the Identifier there first.",
                other.display_name.as_deref().unwrap_or("?"),
                other.app_id.as_deref().unwrap_or("?")
            )));
        }
    }
    // Identifier and Reply URL: the admin's reply URL (manual path) or the
    // article's placeholder until Orchidea's IDP gives its own; the app's
    // other reply URLs are kept.
    let mut update = SamlAppUpdate::default();
    if !app.identifier_uris.iter().any(|u| u == ENTITY_ID) {
        let mut ids = app.identifier_uris.clone();
        ids.push(ENTITY_ID.into());
        update = update.identifier_uris(ids);
    }
    let urls = with_reply_url(&app, want, pasted.as_deref());
    if urls != app.web.redirect_uris {
        update = update.reply_urls(&app, urls);
    }
    if update != SamlAppUpdate::default() {
        client.update_application_saml(&app.id, &update).await?;
        lines.push(format!("Set the Identifier {ENTITY_ID} and the Reply URL."));
        facts.changes.push(format!(
            "Entra: set the SAML Identifier {ENTITY_ID} and Reply URL on \"{name}\"."
        ));
        record(engine, facts, &sp, |r| r.saml_set = true);
    }
    // SAML mode, Sign on URL, and a signing certificate.
    let mut sp_update = SamlSpUpdate::default();
    if !saml_sp.is_saml() {
        sp_update.preferred_single_sign_on_mode = Some("saml".into());
    }
    if saml_sp.login_url.as_deref() != Some(want.sign_on_url().as_str()) {
        sp_update.login_url = Some(want.sign_on_url());
    }
    if saml_sp.active_signing_certificate().is_none() {
        let cert = add_certificate(&client, &saml_sp).await?;
        sp_update.preferred_token_signing_key_thumbprint = Some(cert.thumbprint.clone());
        lines.push(format!("Added signing certificate {}.", cert.thumbprint));
        facts.changes.push(format!(
            "Entra: added SAML signing certificate {} to \"{name}\".",
            cert.thumbprint
        ));
        record(engine, facts, &sp, |r| {
            r.certificate_thumbprint = Some(cert.thumbprint.clone());
            r.certificate_key_id.clone_from(&cert.key_id);
        });
    }
    if sp_update != SamlSpUpdate::default() {
        client
            .update_service_principal_sso(&sp.id, &sp_update)
            .await?;
        lines.push(format!(
            "SAML single sign-on on, Sign on URL {}.",
            want.sign_on_url()
        ));
        facts.changes.push(format!(
            "Entra: SAML single sign-on on \"{name}\", Sign on URL {}.",
            want.sign_on_url()
        ));
        record(engine, facts, &sp, |r| r.saml_set = true);
    }
    // Orchidea's IDP from the metadata (admin API), or the admin's reply
    // URL; then it replaces the placeholder in Entra.
    let reply = if let Some(r) = pasted {
        record(engine, facts, &sp, |rec| rec.idp_by_hand = true);
        r
    } else {
        let r = Box::pin(orchidea_idp(engine, facts, &sp, &app_id)).await?;
        let app_now = client.get_application(&app.id).await?;
        let urls = with_reply_url(&app_now, want, Some(&r));
        if urls != app_now.web.redirect_uris {
            client
                .update_application_saml(
                    &app.id,
                    &SamlAppUpdate::default().reply_urls(&app_now, urls),
                )
                .await?;
            facts.changes.push(format!(
                "Entra: Orchidea's reply URL {r} is the Reply URL of \"{name}\"."
            ));
        }
        r
    };
    record(engine, facts, &sp, |r| r.reply_url = Some(reply.clone()));
    lines.push(format!(
        "Orchidea's reply URL {reply} is the app's Reply URL."
    ));
    Ok(Status::Done(lines.join(" ")))
}

/// The placeholder alone is not done: Orchidea's IDP has not given its
/// reply URL yet (the manual path stopped there).
fn has_idp_reply_url(app: &SamlApplication, want: &OrchideaSaml) -> bool {
    let placeholder = want.placeholder_reply_url();
    app.web
        .redirect_uris
        .iter()
        .any(|u| u.starts_with(&placeholder) && *u != placeholder)
}

/// The app's reply URLs with Orchidea's: `reply` (or the placeholder) in
/// place of the placeholder; the app's other reply URLs are kept.
fn with_reply_url(app: &SamlApplication, want: &OrchideaSaml, reply: Option<&str>) -> Vec<String> {
    let placeholder = want.placeholder_reply_url();
    // Not known yet: an IDP's reply URL the app already holds stays until
    // Orchidea's IDP is found (it may be that one).
    if reply.is_none()
        && app
            .web
            .redirect_uris
            .iter()
            .any(|u| u.starts_with(&placeholder) && *u != placeholder)
    {
        return app.web.redirect_uris.clone();
    }
    let mut urls: Vec<String> = app
        .web
        .redirect_uris
        .iter()
        .filter(|u| !u.starts_with(&placeholder))
        .cloned()
        .collect();
    let wanted = reply.map_or(placeholder, str::to_string);
    if !urls.contains(&wanted) {
        urls.push(wanted);
    }
    urls
}

/// `addTokenSigningCertificate`, once: each call adds a certificate, so a
/// lost answer is looked up in the service principal's keys (one that
/// was not there before) instead of being asked again.
async fn add_certificate(
    client: &GraphClient,
    before: &SamlServicePrincipal,
) -> Result<SelfSignedCertificate, EngineError> {
    let err = match client
        .add_token_signing_certificate(&before.id, "CN=Orchidea SSO", None)
        .await
    {
        Ok(cert) => return Ok(cert),
        Err(e) if e.outcome_unknown() => e,
        Err(e) => return Err(e.into()),
    };
    let now = client.get_service_principal_sso(&before.id).await?;
    match new_signing_key(before, &now) {
        Some(cert) => Ok(cert),
        None => Err(lost_certificate(&err)),
    }
}

/// A signing key `now` holds that `before` did not.
fn new_signing_key(
    before: &SamlServicePrincipal,
    now: &SamlServicePrincipal,
) -> Option<SelfSignedCertificate> {
    let known: Vec<Option<String>> = before
        .key_credentials
        .iter()
        .map(|k| k.key_id.clone())
        .collect();
    let key = now
        .key_credentials
        .iter()
        .filter(|k| k.is_signing_certificate() && !known.contains(&k.key_id))
        .max_by(|a, b| a.start_date_time.cmp(&b.start_date_time))?;
    Some(SelfSignedCertificate {
        key_id: key.key_id.clone(),
        display_name: key.display_name.clone(),
        thumbprint: key.thumbprint()?,
        key: key.key.clone(),
        start_date_time: key.start_date_time.clone(),
        end_date_time: key.end_date_time.clone(),
        custom_key_identifier: key.custom_key_identifier.clone(),
        kind: key.kind.clone(),
        usage: key.usage.clone(),
    })
}

fn lost_certificate(err: &GraphError) -> EngineError {
    EngineError::Input(format!(
        "Entra did not answer when the wizard added a SAML signing certificate ({}), and the app shows no new one yet. So that there is never a second certificate, the wizard does not add it again now: run again in a few minutes; it uses the certificate once Entra shows it, and adds one only if there is none.",
        err.lost_answer_cause()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::graph::sso::KeyCredential;

    fn key(id: &str, usage: &str) -> KeyCredential {
        KeyCredential {
            key_id: Some(id.into()),
            kind: Some("AsymmetricX509Cert".into()),
            usage: Some(usage.into()),
            // 20 bytes: a SHA-1 thumbprint.
            custom_key_identifier: Some("AAECAwQFBgcICQoLDA0ODxAREhM=".into()),
            start_date_time: Some(format!("2026-01-0{}T00:00:00Z", id.len() % 9)),
            ..KeyCredential::default()
        }
    }

    #[test]
    fn a_lost_certificate_is_the_signing_key_that_was_not_there_before() {
        let before = SamlServicePrincipal {
            key_credentials: vec![key("old", "Verify")],
            ..SamlServicePrincipal::default()
        };
        let mut now = before.clone();
        assert_eq!(new_signing_key(&before, &now), None);
        now.key_credentials.push(key("new-sign", "Sign"));
        assert_eq!(new_signing_key(&before, &now), None, "the private half");
        now.key_credentials.push(key("new", "Verify"));
        let found = new_signing_key(&before, &now).unwrap();
        assert_eq!(found.key_id.as_deref(), Some("new"));
        assert_eq!(found.thumbprint, "000102030405060708090A0B0C0D0E0F10111213");
    }

    #[test]
    fn the_reply_url_replaces_the_placeholder_and_keeps_the_others() {
        let want = OrchideaSaml::new("acme");
        let mut app = SamlApplication::default();
        app.web.redirect_uris = vec![
            "https://other.example/acs".into(),
            want.placeholder_reply_url(),
        ];
        let r = "https://app.orchidea.dev/api/saml/login/idp-1";
        assert_eq!(
            with_reply_url(&app, &want, Some(r)),
            vec!["https://other.example/acs".to_string(), r.to_string()]
        );
        app.web.redirect_uris = vec![r.into()];
        assert_eq!(with_reply_url(&app, &want, Some(r)), vec![r.to_string()]);
        assert_eq!(with_reply_url(&app, &want, None), vec![r.to_string()]);
        app.web.redirect_uris = vec!["https://other.example/acs".into()];
        assert_eq!(
            with_reply_url(&app, &want, None),
            vec![
                "https://other.example/acs".to_string(),
                want.placeholder_reply_url()
            ]
        );
    }
}
