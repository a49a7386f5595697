//! The admin's earlier choices, kept by a later run: a `run` (or a drift
//! fix) that names no scope or userName source keeps what the last run on
//! the same app saved, instead of putting the defaults back. The run state
//! is one file per data dir, shared by every tenant on a Graph, so it
//! counts only for the app it names.

use super::audience::Scope;
use super::handle::Engine;
use super::resume::RunState;
use crate::procedure::mapping::UserNameSource;

/// The scope and userName source `last` saved, when it is about `app_id`
/// on `graph_url`; `None` for another app or Graph.
pub fn last_choices(
    last: &RunState,
    app_id: &str,
    graph_url: &str,
) -> Option<(Scope, Option<UserNameSource>)> {
    let same = last.app_id.as_deref() == Some(app_id)
        && super::backup::same_graph(&last.graph_url, graph_url);
    same.then(|| {
        let user_name = match last.user_name.as_deref() {
            Some("coalesce") => Some(UserNameSource::CoalesceMailUpn),
            Some("mail") => Some(UserNameSource::Mail),
            _ => None,
        };
        (last.scope, user_name)
    })
}

/// The run state for the app this engine works on, if it is that app's.
pub(super) fn for_app(engine: &Engine, app_id: &str) -> Option<RunState> {
    let last = engine
        .cfg
        .run_state
        .as_deref()
        .and_then(super::resume::load)?;
    last_choices(&last, app_id, engine.cfg.graph.base().as_str()).map(|_| last)
}

impl Engine {
    /// Reads the tenant (nothing written) and, when the last run saved
    /// choices for the app found, takes its scope (and, unless `keep_user_name`
    /// is false, its userName source). Returns what was kept, for people.
    pub async fn keep_last_choices(
        &self,
        keep_scope: bool,
        keep_user_name: bool,
    ) -> Result<Option<String>, super::EngineError> {
        self.discover().await?;
        let Some(app) = self.facts.lock().await.app.clone() else {
            return Ok(None);
        };
        let Some(last) = for_app(self, &app.id) else {
            return Ok(None);
        };
        let Some((scope, user_name)) = last_choices(&last, &app.id, self.cfg.graph.base().as_str())
        else {
            return Ok(None);
        };
        let mut kept = Vec::new();
        if keep_scope {
            self.set_scope(scope).await;
            kept.push(format!("scope \"{}\"", scope.label()));
        }
        if keep_user_name && let Some(source) = user_name {
            self.set_user_name_source(source).await;
            kept.push(format!(
                "userName from {}",
                match source {
                    UserNameSource::Mail => "mail",
                    UserNameSource::CoalesceMailUpn => "Coalesce(mail, userPrincipalName)",
                }
            ));
        }
        Ok((!kept.is_empty()).then(|| {
            format!(
                "Keeping the last run's choices for this app: {}.",
                kept.join(", ")
            )
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(app: Option<&str>, scope: Scope, user_name: Option<&str>) -> RunState {
        let mut s: RunState = serde_json::from_value(serde_json::json!({
            "graphUrl": "https://graph.microsoft.com/v1.0",
            "scope": "assigned",
            "steps": [],
            "updatedAt": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        s.app_id = app.map(str::to_string);
        s.scope = scope;
        s.user_name = user_name.map(str::to_string);
        s
    }

    #[test]
    fn only_the_same_app_on_the_same_graph_keeps_its_choices() {
        let g = "https://graph.microsoft.com/v1.0/";
        let s = state(Some("sp-1"), Scope::All, Some("coalesce"));
        assert_eq!(
            last_choices(&s, "sp-1", g),
            Some((Scope::All, Some(UserNameSource::CoalesceMailUpn)))
        );
        assert_eq!(last_choices(&s, "sp-2", g), None, "another tenant's app");
        assert_eq!(
            last_choices(&s, "sp-1", "https://graph.microsoft.us/v1.0"),
            None
        );
        assert_eq!(
            last_choices(&state(None, Scope::All, None), "sp-1", g),
            None,
            "no app recorded"
        );
        assert_eq!(
            last_choices(&state(Some("sp-1"), Scope::Assigned, None), "sp-1", g),
            Some((Scope::Assigned, None)),
            "an older file without userName"
        );
    }
}
