//! Steps 14–15: who is provisioned, and the settings saved with it.

use super::credentials::renew_secret;
use super::saved::{
    backup_settings, current_secrets, merged_secrets, put_secrets, saved_plain, unread_note,
};
use super::{StepResult, app_id, graph, job_ids, require, with_lines};
use crate::engine::error::EngineError;
use crate::engine::facts::Facts;
use crate::engine::handle::Engine;
use crate::engine::notify::{NO_MAIL_FOR_NOTIFICATIONS, Notifications};
use crate::engine::{audience, own_secrets};
use crate::procedure::checklist::Status;
use crate::procedure::step::StepId;
use crate::services::graph::secret_keys::{
    BASE_ADDRESS, SYNC_ALL, SYNC_NOTIFICATION_SETTINGS as NOTIFICATIONS,
};

pub(super) async fn choose_scope(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::ChooseScope, StepId::SaveCredentials)?;
    let wanted = facts.scope.unwrap_or(engine.cfg.scope);
    let app = app_id(facts)?;
    let saved_notes = facts
        .saved_notifications
        .as_deref()
        .and_then(Notifications::from_secret_value);
    // The admin's mail is only needed for the default; asked beside the count.
    let need_me = facts.notifications.is_none() && saved_notes.is_none();
    let graph = &engine.cfg.graph;
    let (audience, me) = futures::join!(audience::count(graph, &app, wanted), async {
        if need_me {
            Some(graph.me().await)
        } else {
            None
        }
    });
    let audience = audience?;
    let counts = audience.summary();
    facts.audience = Some(audience);
    let notifications = match (&facts.notifications, saved_notes, me) {
        (Some(n), _, _) => n.clone(),
        (None, Some(saved), _) => saved,
        (None, None, Some(Ok(me))) => Notifications::default_for(me.mail),
        (None, None, Some(Err(e))) => {
            facts.warnings.push(format!(
                "{NO_MAIL_FOR_NOTIFICATIONS} ({e}). Type one with the notification settings (step 15)."
            ));
            Notifications::default_for(None)
        }
        (None, None, None) => Notifications::default_for(None),
    };
    let notes = notifications.summary();
    facts.notifications = Some(notifications);
    let current = facts.saved_sync_all.as_deref();
    Ok(if current == Some(wanted.sync_all()) {
        Status::AlreadyDone(format!(
            "{} (already set): {counts}; {notes}.",
            wanted.label()
        ))
    } else {
        Status::Done(format!(
            "{}: {counts}; {notes} (saved in step 15).",
            wanted.label()
        ))
    })
}

pub(super) async fn save_settings(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::SaveSettings, StepId::ChooseScope)?;
    let wanted = facts.scope.unwrap_or(engine.cfg.scope);
    let notifications = facts
        .notifications
        .clone()
        .unwrap_or_else(|| Notifications::default_for(None));
    let (app, job_id) = job_ids(facts)?;
    let current = current_secrets(engine, facts, &app).await?;
    let saved_scope = saved_plain(&current, SYNC_ALL);
    let saved_notes = saved_plain(&current, NOTIFICATIONS);
    let notes_match = saved_notes
        .as_deref()
        .and_then(Notifications::from_secret_value)
        .as_ref()
        == Some(&notifications);
    if saved_scope.as_deref() == Some(wanted.sync_all()) && notes_match {
        facts.saved_sync_all = saved_scope;
        facts.saved_notifications = saved_notes;
        return Ok(Status::AlreadyDone(format!(
            "{} is saved; {}.",
            wanted.label(),
            notifications.summary()
        )));
    }
    let target = facts.scim.clone().ok_or(EngineError::SecretNeeded)?;
    let renewed = target.secret.is_none();
    let secret = match target.secret {
        Some(secret) => secret,
        None => renew_secret(engine, facts).await?,
    };
    let url = saved_plain(&current, BASE_ADDRESS).unwrap_or_else(|| target.url.to_string());
    let notes_value = notifications.to_secret_value();
    let plain = [
        (SYNC_ALL, wanted.sync_all().to_string()),
        (NOTIFICATIONS, notes_value.clone()),
    ];
    let entries = merged_secrets(&current, &url, &secret, &plain);
    backup_settings(engine, facts, &current, "before step 15 (save settings)")?;
    let unread = unread_note(facts);
    if renewed {
        own_secrets::sending(engine, facts);
    }
    put_secrets(engine, facts, &app, entries).await?;
    let revoked = if renewed {
        own_secrets::after_save(engine, facts, target.url.as_str(), false).await
    } else {
        Vec::new()
    };
    facts.saved_sync_all = Some(wanted.sync_all().to_string());
    facts.saved_notifications = Some(notes_value);
    facts.changes.push(format!(
        "Entra: saved scope \"{}\" (SyncAll={}) and notifications: {}.",
        wanted.label(),
        wanted.sync_all(),
        notifications.summary()
    ));
    // Read the threshold back: the job shows the one in force.
    let confirm = match graph(engine, facts).get_job(&app, &job_id).await {
        Ok(job) => {
            let (text, warn) = crate::engine::notify::confirm_threshold(
                notifications.delete_threshold,
                &job.synchronization_job_settings,
            );
            if warn && !facts.warnings.contains(&text) {
                facts.warnings.push(text.clone());
            }
            text
        }
        Err(e) => {
            format!("The job could not be read back to confirm the deletion threshold ({e}).")
        }
    };
    let status = Status::Done(format!(
        "Saved: {}; {}. {confirm}{unread}",
        wanted.label(),
        notifications.summary()
    ));
    Ok(with_lines(status, &revoked))
}
