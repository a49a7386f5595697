//! Who the chosen scope reaches, and who Orchidea's mapping will skip:
//! userName ← mail is the first matching attribute, and Entra skips users
//! whose first matching attribute is empty.

use std::collections::{BTreeMap, BTreeSet};

use crate::services::graph::{DirectoryUser, GraphClient, GraphError};

/// Which users Entra provisions (step 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// "Sync only assigned users and groups" (`SyncAll` = "false").
    Assigned,
    /// "Sync all users and groups" (`SyncAll` = "true").
    All,
}

impl Scope {
    pub fn sync_all(self) -> &'static str {
        match self {
            Scope::Assigned => "false",
            Scope::All => "true",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Scope::Assigned => "Only assigned users and groups",
            Scope::All => "All users and groups",
        }
    }
}

/// Users in scope and those without a mail among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    pub scope: Scope,
    pub in_scope: usize,
    /// Display names (or UPNs) of users in scope without a mail.
    pub without_mail: Vec<String>,
}

impl Audience {
    /// Sentences an admin should read before saving the scope. With
    /// `coalesce` (userName ← Coalesce) users without mail arrive under their
    /// UPN, so they are not warned about.
    pub fn warnings(&self, coalesce: bool) -> Vec<String> {
        let mut out = Vec::new();
        if self.in_scope == 0 && self.scope == Scope::Assigned {
            out.push(
                "Nobody is assigned to the app: with \"Only assigned users and groups\" Entra provisions no one. Assign users or a group in Entra (Users and groups), or choose all users."
                    .to_string(),
            );
        }
        if !self.without_mail.is_empty() && !coalesce {
            out.push(format!(
                "{} of {} users in scope have no mail and will be skipped (userName ← mail): {}. Give them a mail, or use Coalesce([mail],[userPrincipalName]) for userName (a deviation from Orchidea's specification).",
                self.without_mail.len(),
                self.in_scope,
                self.without_mail.join(", ")
            ));
        }
        out
    }

    pub fn summary(&self) -> String {
        format!(
            "{} users in scope, {} without mail",
            self.in_scope,
            self.without_mail.len()
        )
    }
}

/// Counts the users `scope` reaches for the app `sp_id`. Group members are
/// read concurrently; nested groups are not expanded (Entra does not
/// provision nested group members either).
pub async fn count(graph: &GraphClient, sp_id: &str, scope: Scope) -> Result<Audience, GraphError> {
    let users: Vec<DirectoryUser> = match scope {
        Scope::All => graph.list_users().await?,
        Scope::Assigned => {
            let (assignments, all) =
                futures::future::try_join(graph.list_app_assignments(sp_id), graph.list_users())
                    .await?;
            let by_id: BTreeMap<&str, &DirectoryUser> =
                all.iter().map(|u| (u.id.as_str(), u)).collect();
            let groups = assignments
                .iter()
                .filter(|a| a.principal_type.as_deref() == Some("Group"))
                .map(|a| graph.list_group_members(&a.principal_id));
            let members = futures::future::try_join_all(groups).await?;
            let mut ids: BTreeSet<String> = assignments
                .iter()
                .filter(|a| a.principal_type.as_deref() == Some("User"))
                .map(|a| a.principal_id.clone())
                .collect();
            ids.extend(
                members
                    .into_iter()
                    .flatten()
                    .filter(DirectoryUser::is_user)
                    .map(|u| u.id),
            );
            ids.iter()
                .filter_map(|id| by_id.get(id.as_str()).map(|u| (*u).clone()))
                .collect()
        }
    };
    let without_mail = users
        .iter()
        .filter(|u| !u.has_mail())
        .map(|u| {
            u.display_name
                .clone()
                .or_else(|| u.user_principal_name.clone())
                .unwrap_or_else(|| u.id.clone())
        })
        .collect();
    Ok(Audience {
        scope,
        in_scope: users.len(),
        without_mail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_name_the_skipped_users_and_the_empty_scope() {
        let a = Audience {
            scope: Scope::Assigned,
            in_scope: 9,
            without_mail: vec!["Raj Patel".into(), "Miriam Graham".into()],
        };
        let w = a.warnings(false);
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("2 of 9 users"), "{}", w[0]);
        assert!(w[0].contains("Raj Patel") && w[0].contains("Coalesce"));
        let empty = Audience {
            scope: Scope::Assigned,
            in_scope: 0,
            without_mail: vec![],
        };
        assert!(empty.warnings(false)[0].contains("Nobody is assigned"));
        let all = Audience {
            scope: Scope::All,
            in_scope: 0,
            without_mail: vec![],
        };
        assert!(all.warnings(false).is_empty());
    }
}
