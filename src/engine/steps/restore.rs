//! Putting a backup back (`Engine::restore`); what is there is backed up first.

use super::credentials::renew_secret;
use super::discover::discover;
use super::graph;
use super::saved::{backup_settings, put_secrets, take_backup};
use crate::engine::error::EngineError;
use crate::engine::facts::Facts;
use crate::engine::handle::Engine;
use crate::engine::own_secrets;
use crate::services::graph::SecretEntry;
use crate::services::graph::secret_keys::SECRET_TOKEN;

/// Puts `backup` back and returns what changed (for a schema, the mapping
/// lines). What is there now is backed up first, so a restore can be undone.
pub(in crate::engine) async fn restore(
    engine: &Engine,
    facts: &mut Facts,
    backup: &crate::engine::backup::Backup,
    dry_run: bool,
) -> Result<Vec<String>, EngineError> {
    use crate::engine::backup::Kind;
    let here = engine.cfg.graph.base().as_str().trim_end_matches('/');
    if !crate::engine::backup::same_graph(&backup.graph_url, here) {
        return Err(EngineError::Input(format!(
            "Backup {} was taken against {}, not {here}: it belongs to another tenant or cloud.",
            backup.id, backup.graph_url
        )));
    }
    let tenant = engine.cfg.tenant_id.as_deref();
    if !backup.belongs(tenant, None, None) {
        return Err(EngineError::Input(format!(
            "This backup belongs to another tenant: {} was taken in tenant {}, and you are signed in to {}. Nothing was restored; the list of backups shows this tenant's.",
            backup.id,
            backup.tenant_id.as_deref().unwrap_or("?"),
            tenant.unwrap_or("an unknown tenant (sign in again)")
        )));
    }
    if let Some(known) = &facts.job
        && known.id != backup.job_id
    {
        return Err(EngineError::Input(format!(
            "This backup is of another provisioning job: {} was taken of job {}, and this app's job is {}. Nothing was restored.",
            backup.id, backup.job_id, known.id
        )));
    }
    let (app, job) = (&backup.service_principal_id, &backup.job_id);
    let g = graph(engine, facts);
    match backup.kind {
        Kind::Schema => {
            let saved = backup.schema.as_ref().ok_or_else(|| {
                EngineError::Input(format!("Backup {} holds no schema.", backup.id))
            })?;
            let raw = g.get_schema_raw(app, job).await?;
            let undo = crate::engine::backup::Backup::schema_raw(
                here,
                app,
                job,
                &raw,
                &format!("before restoring {}", backup.id),
            )
            .map_err(|e| EngineError::Input(e.to_string()))?;
            let current = undo.schema.clone().unwrap_or_default();
            let diff = crate::engine::backup::schema_diff(&current, saved);
            if current == *saved || dry_run {
                return Ok(diff);
            }
            let body = backup.put_body().ok_or_else(|| {
                EngineError::Input(format!("Backup {} holds no schema.", backup.id))
            })?;
            take_backup(engine, facts, undo)?;
            g.put_schema_raw(app, job, body).await?;
            let now = g.get_schema(app, job).await?;
            if now != *saved {
                return Err(EngineError::NotPersisted(format!(
                    "after restoring {}, Graph returns another schema",
                    backup.id
                )));
            }
            facts.mapping = None;
            facts.changes.push(format!(
                "Entra: restored the schema from backup {}.",
                backup.id
            ));
            Ok(diff)
        }
        Kind::Settings => {
            let current = g.get_secrets(app).await?;
            let now: Vec<(String, String)> = current
                .iter()
                .filter_map(|e| e.plain_value().map(|v| (e.key.clone(), v.to_string())))
                .collect();
            let mut diff: Vec<String> = now
                .iter()
                .filter(|kv| !backup.settings.contains(kv))
                .map(|(k, v)| format!("- {k} = {v}"))
                .collect();
            diff.extend(
                backup
                    .settings
                    .iter()
                    .filter(|kv| !now.contains(kv))
                    .map(|(k, v)| format!("+ {k} = {v}")),
            );
            if diff.is_empty() || dry_run {
                return Ok(diff);
            }
            if facts.job.as_ref().is_none_or(|j| &j.id != job) {
                discover(engine, facts).await?;
            }
            let held = facts.scim.as_ref().and_then(|s| s.secret.clone());
            let renewed = held.is_none();
            let secret = match held {
                Some(secret) => secret,
                None => renew_secret(engine, facts).await?,
            };
            let mut entries: Vec<SecretEntry> = backup
                .settings
                .iter()
                .map(|(k, v)| SecretEntry::plain(k.clone(), v.clone()))
                .collect();
            entries.push(SecretEntry::sensitive(SECRET_TOKEN, secret));
            backup_settings(
                engine,
                facts,
                &current,
                &format!("before restoring {}", backup.id),
            )?;
            if renewed {
                own_secrets::sending(engine, facts);
            }
            put_secrets(engine, facts, app, entries).await?;
            facts.changes.push(format!(
                "Entra: restored the settings from backup {}.",
                backup.id
            ));
            // Revocations go to the report's changes, failures to its warnings.
            if renewed && let Some(target) = facts.scim.clone() {
                own_secrets::after_save(engine, facts, target.url.as_str(), false).await;
            }
            Ok(diff)
        }
    }
}
