//! Step 0, Orchidea's half: Entra's federation metadata saved for the
//! admin, then the IDP made from it — found (by the signing certificate the
//! metadata carries) or created through the admin API, a create whose
//! answer was lost looked up before anything is sent again — or, on the
//! manual path, the admin's "+ Add new IDP" asked for.

use super::graph;
use crate::engine::config::{SecretSource, SsoConfig};
use crate::engine::error::EngineError;
use crate::engine::facts::Facts;
use crate::engine::handle::Engine;
use crate::engine::own_secrets::answer_may_be_lost;
use crate::engine::remembered::CreatedSso;
use crate::engine::sso_guide::{METADATA_FILE, METADATA_NOTE};
use crate::platform::cloud::Cloud;
use crate::services::graph::ServicePrincipal;
use crate::services::graph::sso::metadata_signing_certificates;
use crate::services::orchidea::sso::SUGGESTED_IDP_NAME;
use crate::services::orchidea::{
    NewSamlIdp, OrchideaAdmin, OrchideaError, SamlAttributeNames, SamlIdp,
};

/// Updates (or starts) the run state's record of what step 0 did on `sp`.
pub(super) fn record(
    engine: &Engine,
    facts: &mut Facts,
    sp: &ServicePrincipal,
    change: impl FnOnce(&mut CreatedSso),
) {
    let graph_url = engine.cfg.graph.base().as_str().to_string();
    let tenant = engine.cfg.tenant_id.as_deref();
    let at = facts
        .created_sso
        .iter()
        .position(|r| r.service_principal_id == sp.id && r.belongs_to(&graph_url, tenant));
    let index = at.unwrap_or_else(|| {
        facts.created_sso.push(CreatedSso {
            service_principal_id: sp.id.clone(),
            app_name: sp.display_name.clone(),
            graph_url: graph_url.clone(),
            tenant_id: engine.cfg.tenant_id.clone(),
            at: crate::platform::timefmt::now_rfc3339(),
            ..CreatedSso::default()
        });
        facts.created_sso.len() - 1
    });
    if let Some(r) = facts.created_sso.get_mut(index) {
        change(r);
    }
}

/// Orchidea's IDP for the app `app_id`: its reply URL. The metadata is read
/// and saved first; then an existing SAML IDP holding its signing
/// certificate, else a new one (admin API); on the manual path the admin
/// is asked to add it ([`EngineError::SsoReplyUrlNeeded`]).
pub(super) async fn orchidea_idp(
    engine: &Engine,
    facts: &mut Facts,
    sp: &ServicePrincipal,
    app_id: &str,
) -> Result<String, EngineError> {
    let (login, tenant) = metadata_source(
        &engine.cfg.sso,
        engine.cfg.cloud,
        engine.cfg.tenant_id.as_deref(),
    )?;
    let metadata = graph(engine, facts)
        .settling()
        .federation_metadata(&login, &tenant, app_id)
        .await?;
    let saved = save_metadata(engine, facts, &metadata);
    let SecretSource::AdminApi { admin, .. } = &engine.cfg.secret_source else {
        return Err(EngineError::SsoReplyUrlNeeded { metadata: saved });
    };
    let certs = metadata_signing_certificates(&metadata);
    if let Some(idp) = idp_holding(admin.as_ref(), &certs, None).await? {
        return use_idp(admin.as_ref(), facts, &idp).await;
    }
    let new = NewSamlIdp {
        name: SUGGESTED_IDP_NAME.into(),
        metadata_xml: metadata,
        attributes: SamlAttributeNames::entra_default_claims(),
        email_domains: Vec::new(),
    };
    let created = match admin.create_saml_idp(&new).await {
        Ok(idp) => idp,
        // The create may have landed: look it up (by the certificate, or
        // by the name it was given) before anything is sent again.
        Err(e) if answer_may_be_lost(&e) => {
            match idp_holding(admin.as_ref(), &certs, Some(SUGGESTED_IDP_NAME)).await? {
                Some(idp) => idp,
                None => return Err(lost_idp(&e)),
            }
        }
        Err(e) => return Err(e.into()),
    };
    facts.changes.push(format!(
        "Orchidea: created IDP \"{}\" ({}) from Entra's federation metadata.",
        created.name, created.id
    ));
    record(engine, facts, sp, |r| {
        r.idp_id = Some(created.id.clone());
        r.idp_name = Some(created.name.clone());
    });
    use_idp(admin.as_ref(), facts, &created).await
}

/// Step 0 already done: the Orchidea IDP whose reply URL the app holds is
/// the one step 1b gives new users (admin API; best effort: nothing is
/// chosen when Orchidea cannot be read, and step 1 reports that itself).
pub(super) async fn idp_of_app(engine: &Engine, facts: &mut Facts, reply_urls: &[String]) {
    let SecretSource::AdminApi { admin, .. } = &engine.cfg.secret_source else {
        return;
    };
    if let Ok(idps) = admin.list_idps().await {
        facts.idp = idps.into_iter().find(|i| {
            i.kind == "saml" && i.reply_url.as_ref().is_some_and(|r| reply_urls.contains(r))
        });
    }
}

/// Where Entra's federation metadata is read: the sign-in endpoint given
/// (the sandbox's, or where the admin signed in), else the cloud's; for the
/// tenant given, else the signed-in one.
fn metadata_source(
    sso: &SsoConfig,
    cloud: Cloud,
    signed_in_tenant: Option<&str>,
) -> Result<(url::Url, String), EngineError> {
    let login = sso.login_url.clone().unwrap_or_else(|| cloud.login_url());
    let tenant = sso
        .tenant
        .clone()
        .or_else(|| signed_in_tenant.map(str::to_string))
        .ok_or_else(|| {
            EngineError::Input(
                "The tenant's id is not known, and Entra's federation metadata is read for it: sign in to Entra (the sign-in tells the tenant) and run again.".into(),
            )
        })?;
    Ok((login, tenant))
}

/// Writes the metadata (public, but kept private like every file the
/// wizard writes) beside the run's other files; the path, when saved.
fn save_metadata(engine: &Engine, facts: &mut Facts, metadata: &str) -> Option<std::path::PathBuf> {
    let dir = engine.cfg.sso.metadata_dir.as_ref()?;
    let path = dir.join(METADATA_FILE);
    if let Err(e) = crate::platform::paths::write_private(&path, metadata.as_bytes()) {
        facts.warnings.push(format!(
            "{METADATA_NOTE} could not be saved in {}: {e}.",
            path.display()
        ));
        return None;
    }
    facts.warnings.retain(|w| !w.starts_with(METADATA_NOTE));
    facts.warnings.push(format!(
        "{METADATA_NOTE} is saved in {} (to upload in Orchidea's \"+ Add new IDP\").",
        path.display()
    ));
    Some(path)
}

/// A SAML IDP holding one of `certs` (Entra's signing certificates), else,
/// with `name`, one of that name.
async fn idp_holding(
    admin: &dyn OrchideaAdmin,
    certs: &[String],
    name: Option<&str>,
) -> Result<Option<SamlIdp>, EngineError> {
    let mut named = None;
    for idp in admin.list_idps().await?.iter().filter(|i| i.kind == "saml") {
        let full = admin.get_saml_idp(&idp.id).await?;
        if full.signing_certificates.iter().any(|c| certs.contains(c)) {
            return Ok(Some(full));
        }
        if named.is_none() && name == Some(full.name.as_str()) {
            named = Some(full);
        }
    }
    Ok(named)
}

/// Step 1b uses this IDP for SCIM-created users; its reply URL.
async fn use_idp(
    admin: &dyn OrchideaAdmin,
    facts: &mut Facts,
    idp: &SamlIdp,
) -> Result<String, EngineError> {
    facts.idp = admin
        .list_idps()
        .await?
        .into_iter()
        .find(|i| i.id == idp.id);
    Ok(idp.reply_url.to_string())
}

fn lost_idp(err: &OrchideaError) -> EngineError {
    EngineError::Input(format!(
        "Orchidea did not answer when the wizard added the IDP \"{SUGGESTED_IDP_NAME}\" ({err}), and its list does not show it. So that there is never a second IDP, the wizard does not add it again now: look under workspace settings → Authentication in Orchidea, then run again (the wizard uses the IDP if it is there, and adds it otherwise)."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_is_read_at_the_clouds_sign_in_for_the_signed_in_tenant_unless_told() {
        let mut sso = SsoConfig::default();
        assert!(
            metadata_source(&sso, Cloud::Global, None).is_err(),
            "no tenant known"
        );
        let (login, tenant) = metadata_source(&sso, Cloud::UsGov, Some("tid-1")).unwrap();
        assert_eq!(login, Cloud::UsGov.login_url());
        assert_eq!(tenant, "tid-1");
        let sandbox = url::Url::parse("http://127.0.0.1:9/").unwrap();
        sso.login_url = Some(sandbox.clone());
        sso.tenant = Some("tid-2".into());
        assert_eq!(
            metadata_source(&sso, Cloud::UsGov, Some("tid-1")).unwrap(),
            (sandbox, "tid-2".into())
        );
    }
}
