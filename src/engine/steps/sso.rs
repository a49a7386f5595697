//! Step 0: the SAML single sign-on integration Orchidea's SCIM article
//! takes for granted (Orchidea's SSO article). Check, then act: an app that
//! already signs users in with SAML to Orchidea is left alone; otherwise,
//! when the admin agreed, the app is created or completed (Identifier,
//! Reply URL, Sign on URL, SAML mode, a signing certificate), Orchidea gets
//! an IDP from Entra's federation metadata, and the IDP's reply URL
//! replaces the placeholder in Entra.

use std::time::SystemTime;

use super::{StepResult, graph};
use crate::engine::config::{SecretSource, SsoChoice};
use crate::engine::error::EngineError;
use crate::engine::facts::Facts;
use crate::engine::handle::Engine;
use crate::procedure::checklist::Status;
use crate::services::graph::sso::{SamlAppUpdate, SamlApplication, SamlSpUpdate};
use crate::services::graph::sso_check::{OrchideaSaml, check_saml};
use crate::services::orchidea::sso::{ENTITY_ID, SUGGESTED_IDP_NAME};
use crate::services::orchidea::{NewSamlIdp, SamlAttributeNames};

/// What the admin is told to do when the wizard does not set SSO up.
const BY_HAND: &str = "Not set up by the wizard: follow Orchidea's SSO article (an Orchidea app in Entra with SAML single sign-on, and an IDP in Orchidea from Entra's federation metadata), or let the wizard do it.";

/// The workspace name and origin the Sign on URL is made of.
fn wanted(engine: &Engine) -> Result<OrchideaSaml, EngineError> {
    let Some(home) = engine.cfg.sso.workspace_url.clone() else {
        return Err(EngineError::Input(
            "Single sign-on needs the Orchidea workspace's address (https://app.orchidea.dev/<workspace>).".into(),
        ));
    };
    let workspace = home.path().trim_matches('/').to_string();
    let mut origin = home.clone();
    origin.set_path("");
    Ok(OrchideaSaml::new(&workspace).with_origin(&origin))
}

pub(super) async fn sso(engine: &Engine, facts: &mut Facts) -> StepResult {
    if engine.cfg.sso.choice == SsoChoice::No {
        return Ok(not_asked(engine, facts).await);
    }
    super::discover(engine, facts).await?;
    let client = graph(engine, facts);
    let want = wanted(engine)?;
    // Check: an app that already holds Orchidea's SAML settings.
    if let Some(sp) = facts.app.clone() {
        let saml_sp = client.get_service_principal_sso(&sp.id).await?;
        if let Some(app_id) = saml_sp.app_id.as_deref()
            && let Some(app) = client.find_application_by_app_id(app_id).await?
            && check_saml(&app, &saml_sp, &want, SystemTime::now()).is_empty()
        {
            return Ok(Status::AlreadyDone(format!(
                "Not needed: \"{}\" already signs users in to Orchidea with SAML (Identifier {ENTITY_ID}).",
                sp.display_name.as_deref().unwrap_or("the Orchidea app")
            )));
        }
    }
    set_up(engine, facts, &want).await
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

async fn set_up(engine: &Engine, facts: &mut Facts, want: &OrchideaSaml) -> StepResult {
    // The app: found, or created from the non-gallery template (step 2's way).
    if facts.app.is_none() {
        facts.create_app = true;
        super::app::open_app(engine, facts).await?;
    }
    let sp = facts.app.clone().ok_or(EngineError::NoApp {
        name: engine.cfg.app_name.clone(),
    })?;
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
    // Reply URLs: Orchidea's own (once known) or the article's placeholder;
    // the app's other reply URLs are kept.
    let reply = orchidea_idp(engine, facts, None).await?;
    let mut urls: Vec<String> = app
        .web
        .redirect_uris
        .iter()
        .filter(|u| !u.starts_with(&want.placeholder_reply_url()))
        .cloned()
        .collect();
    urls.push(
        reply
            .clone()
            .unwrap_or_else(|| want.placeholder_reply_url()),
    );
    let mut update = SamlAppUpdate::default();
    if !app.identifier_uris.iter().any(|u| u == ENTITY_ID) {
        let mut ids = app.identifier_uris.clone();
        ids.push(ENTITY_ID.into());
        update = update.identifier_uris(ids);
    }
    if urls != app.web.redirect_uris {
        update = update.reply_urls(&app, urls);
    }
    if update != SamlAppUpdate::default() {
        client.update_application_saml(&app.id, &update).await?;
        lines.push(format!("Set the Identifier {ENTITY_ID} and the Reply URL."));
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
        let cert = client
            .add_token_signing_certificate(&sp.id, "CN=Orchidea SSO", None)
            .await?;
        sp_update.preferred_token_signing_key_thumbprint = Some(cert.thumbprint.clone());
        lines.push(format!("Added signing certificate {}.", cert.thumbprint));
        facts.changes.push(format!(
            "Entra: added SAML signing certificate {} to \"{}\".",
            cert.thumbprint,
            sp.display_name.as_deref().unwrap_or("Orchidea")
        ));
    }
    if sp_update != SamlSpUpdate::default() {
        client
            .update_service_principal_sso(&sp.id, &sp_update)
            .await?;
        lines.push(format!(
            "SAML single sign-on on, Sign on URL {}.",
            want.sign_on_url()
        ));
    }
    // Orchidea's IDP from the metadata, then its reply URL in Entra.
    let reply = match reply {
        Some(r) => r,
        None => {
            let r = orchidea_idp(engine, facts, Some(&app_id))
                .await?
                .ok_or(EngineError::Input(
                    "Orchidea gave no reply URL for the new IDP.".into(),
                ))?;
            let app_now = client.get_application(&app.id).await?;
            let mut urls: Vec<String> = app_now
                .web
                .redirect_uris
                .iter()
                .filter(|u| !u.starts_with(&want.placeholder_reply_url()))
                .cloned()
                .collect();
            urls.push(r.clone());
            client
                .update_application_saml(
                    &app.id,
                    &SamlAppUpdate::default().reply_urls(&app_now, urls),
                )
                .await?;
            r
        }
    };
    lines.push(format!(
        "Orchidea's reply URL {reply} is the app's Reply URL."
    ));
    if !lines.is_empty() {
        facts.changes.push(format!(
            "Entra: set up SAML single sign-on on \"{}\" for Orchidea.",
            sp.display_name.as_deref().unwrap_or("Orchidea")
        ));
    }
    Ok(Status::Done(lines.join(" ")))
}

/// Orchidea's IDP for this app: an existing SAML IDP whose signing
/// certificate is the one Entra's metadata holds, else (with `app_id`, and
/// the admin API) one created from the metadata. Returns its reply URL;
/// `None` before the metadata is read. On the manual path the reply URL the
/// admin pasted is used.
async fn orchidea_idp(
    engine: &Engine,
    facts: &mut Facts,
    app_id: Option<&str>,
) -> Result<Option<String>, EngineError> {
    if let Some(pasted) = &engine.cfg.sso.reply_url {
        return Ok(Some(pasted.clone()));
    }
    let Some(app_id) = app_id else {
        return Ok(None);
    };
    let login = engine.cfg.sso.login_url.clone().ok_or_else(|| {
        EngineError::Input(
            "The Microsoft sign-in address is not known: the federation metadata is read there."
                .into(),
        )
    })?;
    let tenant = engine
        .cfg
        .sso
        .tenant
        .clone()
        .or_else(|| engine.cfg.tenant_id.clone())
        .ok_or_else(|| {
            EngineError::Input(
                "The tenant's id is not known: the federation metadata is read for it.".into(),
            )
        })?;
    let metadata = graph(engine, facts)
        .settling()
        .federation_metadata(&login, &tenant, app_id)
        .await?;
    if let Some(dir) = &engine.cfg.sso.metadata_dir {
        let path = dir.join("orchidea-federation-metadata.xml");
        if std::fs::write(&path, &metadata).is_ok() {
            facts
                .warnings
                .retain(|w| !w.starts_with("Entra's federation metadata for Orchidea"));
            facts.warnings.push(format!(
                "Entra's federation metadata for Orchidea is saved in {} (to upload in Orchidea's \"+ Add new IDP\").",
                path.display()
            ));
        }
    }
    let certs = crate::services::graph::sso::metadata_signing_certificates(&metadata);
    let SecretSource::AdminApi { admin, .. } = &engine.cfg.secret_source else {
        return Err(EngineError::Input(
            "Orchidea's part is done in its web UI: add a new IDP (workspace settings → Authentication) from the saved federation metadata, then give the wizard the reply URL it shows.".into(),
        ));
    };
    let idps = admin.list_idps().await?;
    for idp in idps.iter().filter(|i| i.kind == "saml") {
        let full = admin.get_saml_idp(&idp.id).await?;
        if full.signing_certificates.iter().any(|c| certs.contains(c)) {
            facts.idp = Some(idp.clone());
            return Ok(Some(full.reply_url.to_string()));
        }
    }
    let created = admin
        .create_saml_idp(&NewSamlIdp {
            name: SUGGESTED_IDP_NAME.into(),
            metadata_xml: metadata,
            attributes: SamlAttributeNames::entra_default_claims(),
            email_domains: Vec::new(),
        })
        .await?;
    facts.changes.push(format!(
        "Orchidea: created IDP \"{}\" ({}) from Entra's federation metadata.",
        created.name, created.id
    ));
    let listed = admin
        .list_idps()
        .await?
        .into_iter()
        .find(|i| i.id == created.id);
    facts.idp = listed;
    Ok(Some(created.reply_url.to_string()))
}
