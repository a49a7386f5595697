//! The provisioning settings Entra keeps (`synchronization/secrets`):
//! reading them, the whole set a step writes back, and the backup taken
//! before any write.

use std::time::Instant;

use super::{graph, job_ids};
use crate::engine::error::EngineError;
use crate::engine::facts::{Facts, Reads};
use crate::engine::handle::Engine;
use crate::engine::remembered::HeldSecret;
use crate::services::graph::secret_keys::{BASE_ADDRESS, SECRET_TOKEN};
use crate::services::graph::{SecretEntry, SecretValue};

/// The saved secrets: what was read or written within [`crate::engine::FRESH`],
/// else read now.
pub(super) async fn current_secrets(
    engine: &Engine,
    facts: &mut Facts,
    app: &str,
) -> Result<Vec<SecretEntry>, EngineError> {
    if let Some((at, entries)) = &facts.reads.secrets
        && Reads::fresh(Some(*at))
    {
        return Ok(entries.clone());
    }
    let read = graph(engine, facts).get_secrets(app).await;
    let entries = saved_or_unknown(facts, read)?;
    facts.reads.secrets = Some((Instant::now(), entries.clone()));
    Ok(entries)
}

/// `GET …/synchronization/secrets` is not in the Graph v1.0 reference (the
/// beta one and the Entra docs use it): when it fails, the saved settings
/// are unknown (read as none) rather than the run failing. A 401 or a lost
/// connection still stops: nothing else would work either.
pub(super) fn saved_or_unknown(
    facts: &mut Facts,
    read: Result<Vec<SecretEntry>, crate::services::graph::GraphError>,
) -> Result<Vec<SecretEntry>, EngineError> {
    use crate::services::graph::GraphError as G;
    match read {
        Ok(entries) => {
            facts.secrets_unread = None;
            Ok(entries)
        }
        Err(e @ (G::Unauthorized { .. } | G::Transport(_))) => Err(e.into()),
        Err(e) => {
            let reason = unread_reason(&e);
            let warning = format!(
                "Could not read the saved provisioning settings ({reason}; GET …/synchronization/secrets is not in the Graph v1.0 reference): the wizard treats them as unknown and writes its own."
            );
            if !facts.warnings.contains(&warning) {
                facts.warnings.push(warning);
            }
            facts.secrets_unread = Some(reason);
            Ok(Vec::new())
        }
    }
}

fn unread_reason(e: &crate::services::graph::GraphError) -> String {
    use crate::services::graph::GraphError as G;
    match e {
        G::Forbidden { code, .. } => format!("Graph answered 403 {code}"),
        G::NotFound { .. } => "Graph answered 404".into(),
        G::Api { status, code, .. } => format!("Graph answered {status} {code}"),
        G::Throttled { .. } => "Graph kept answering 429/503".into(),
        other => other.to_string(),
    }
}

/// The sentence a step adds when it wrote settings it could not read first.
pub(super) fn unread_note(facts: &Facts) -> String {
    match &facts.secrets_unread {
        Some(reason) => format!(
            " The saved settings could not be read first ({reason}), and Entra replaces the whole set: settings the wizard does not manage (such as SkipOutOfScopeDeletions) were not carried over; check them in the Entra admin center (Provisioning, Settings)."
        ),
        None => String::new(),
    }
}

/// Writes the whole secret set and remembers it as the current state.
pub(super) async fn put_secrets(
    engine: &Engine,
    facts: &mut Facts,
    app: &str,
    entries: Vec<SecretEntry>,
) -> Result<(), EngineError> {
    graph(engine, facts).put_secrets(app, &entries).await?;
    record_held(engine, facts, app, &entries);
    facts.reads.secrets = Some((Instant::now(), entries));
    // What is saved now is what was just sent.
    facts.secrets_unread = None;
    Ok(())
}

/// Remembers which secret Entra now holds (last four, and Orchidea's id and
/// times when this wizard created it), for rotation and the expiry warning.
fn record_held(engine: &Engine, facts: &mut Facts, app: &str, entries: &[SecretEntry]) {
    let token = entries.iter().find_map(|e| match (&*e.key, &e.value) {
        (SECRET_TOKEN, SecretValue::Sensitive(s)) => Some(s),
        _ => None,
    });
    let (Some(token), Some(url)) = (token, saved_plain(entries, BASE_ADDRESS)) else {
        return;
    };
    let last4 = token.last4();
    let graph_url = engine.cfg.graph.base().as_str().to_string();
    let ours = facts.created_secrets.iter().find(|r| {
        r.id.is_some()
            && r.last4.as_deref() == Some(last4.as_str())
            && same_url(&r.scim_url, &url)
            && facts
                .new_secret
                .as_ref()
                .is_none_or(|(id, _)| r.id.as_ref() == Some(id))
    });
    facts.held_secret = Some(HeldSecret {
        service_principal_id: app.to_string(),
        graph_url,
        scim_url: url,
        last4,
        id: ours.and_then(|r| r.id.clone()),
        created_at: ours.map(|r| r.created_at.clone()),
        expires_at: ours.and_then(|r| r.expires_at.clone()),
        saved_at: crate::platform::timefmt::now_rfc3339(),
    });
    engine.save_run_state(facts);
}

pub(super) fn saved_plain(saved: &[SecretEntry], key: &str) -> Option<String> {
    saved
        .iter()
        .find(|e| e.key == key)
        .and_then(|e| match &e.value {
            SecretValue::Plain(v) => Some(v.clone()),
            _ => None,
        })
}

pub(super) fn same_url(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}

/// Entra already provisions to `url` with a secret that still works.
pub(super) fn entra_holds(facts: &Facts, url: &str) -> bool {
    facts.saved_credentials_work
        && facts
            .saved_base_address
            .as_deref()
            .is_some_and(|saved| same_url(saved, url))
}

/// The full set to PUT: Graph replaces the whole set, so every key already
/// there is sent back. Masked values other than the token cannot be re-sent
/// (Graph returns them as "*"); none of the documented keys we keep are.
pub(super) fn merged_secrets(
    current: &[SecretEntry],
    url: &str,
    secret: &crate::Secret,
    plain: &[(&str, String)],
) -> Vec<SecretEntry> {
    let ours = |key: &str| {
        key == BASE_ADDRESS || key == SECRET_TOKEN || plain.iter().any(|(k, _)| *k == key)
    };
    let mut out: Vec<SecretEntry> = current
        .iter()
        .filter(|e| !ours(&e.key))
        .filter(|e| matches!(e.value, SecretValue::Plain(_)))
        .cloned()
        .collect();
    out.push(SecretEntry {
        key: BASE_ADDRESS.into(),
        value: SecretValue::Plain(url.to_string()),
    });
    out.push(SecretEntry {
        key: SECRET_TOKEN.into(),
        value: SecretValue::Sensitive(secret.clone()),
    });
    for (key, value) in plain {
        out.push(SecretEntry {
            key: (*key).into(),
            value: SecretValue::Plain(value.clone()),
        });
    }
    out
}

/// Saves `backup` before a write; a backup that cannot be written stops
/// the write (nothing is replaced without a copy of what was there).
pub(super) fn take_backup(
    engine: &Engine,
    facts: &mut Facts,
    mut backup: crate::engine::backup::Backup,
) -> Result<(), EngineError> {
    let Some(dir) = &engine.cfg.backup_dir else {
        return Ok(());
    };
    backup.tenant_id.clone_from(&engine.cfg.tenant_id);
    crate::engine::backup::save(dir, &mut backup).map_err(|e| {
        EngineError::Input(format!(
            "Could not save a backup in {} before writing to Entra ({e}); nothing was written. Free some space or check the folder's permissions.",
            dir.display()
        ))
    })?;
    facts.backups.push(backup.line());
    Ok(())
}

pub(in crate::engine) fn backup_settings(
    engine: &Engine,
    facts: &mut Facts,
    current: &[SecretEntry],
    reason: &str,
) -> Result<(), EngineError> {
    let (app, job) = job_ids(facts)?;
    let b = crate::engine::backup::Backup::settings(
        engine.cfg.graph.base().as_str(),
        &app,
        &job,
        current,
        reason,
    );
    take_backup(engine, facts, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::graph::secret_keys::SYNC_ALL;

    #[test]
    fn urls_compare_without_trailing_slash() {
        assert!(same_url(
            "https://a.example/scim/v2/",
            "https://a.example/scim/v2"
        ));
        assert!(!same_url(
            "https://a.example/scim/v2",
            "https://a.example/scim"
        ));
    }

    #[test]
    fn merged_secrets_keep_other_keys_and_replace_ours() {
        let current = vec![
            SecretEntry {
                key: "SyncNotificationSettings".into(),
                value: SecretValue::Plain("{\"Enabled\":false}".into()),
            },
            SecretEntry {
                key: BASE_ADDRESS.into(),
                value: SecretValue::Plain("https://old/scim".into()),
            },
            SecretEntry {
                key: SECRET_TOKEN.into(),
                value: SecretValue::Masked,
            },
        ];
        let out = merged_secrets(
            &current,
            "https://new/scim",
            &crate::Secret::new("tok"),
            &[(SYNC_ALL, "false".into())],
        );
        let keys: Vec<&str> = out.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "SyncNotificationSettings",
                BASE_ADDRESS,
                SECRET_TOKEN,
                SYNC_ALL
            ]
        );
        assert!(matches!(&out[1].value, SecretValue::Plain(u) if u == "https://new/scim"));
        assert!(matches!(&out[2].value, SecretValue::Sensitive(s) if s.expose() == "tok"));
    }
}
