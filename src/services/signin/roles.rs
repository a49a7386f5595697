//! The role check before any step: the signed-in user's active directory
//! roles, direct or through role-assignable groups, by role template id
//! (display names are localised and can be renamed; template ids cannot).

use super::{ADMIN_ROLES, RoleCheck};
use crate::services::graph::{GraphClient, GraphError};

/// `roleTemplateId` of each of [`ADMIN_ROLES`] (Entra built-in roles reference).
pub(super) const ADMIN_ROLE_TEMPLATES: [(&str, &str); 3] = [
    ("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", ADMIN_ROLES[0]),
    ("158c047a-c907-4556-b7ef-446551a6b5f7", ADMIN_ROLES[1]),
    ("62e90394-69f5-4237-9190-012177145e10", ADMIN_ROLES[2]),
];

pub(super) async fn check(graph: &GraphClient) -> Result<RoleCheck, GraphError> {
    let roles = graph.my_directory_roles().await?;
    Ok(decide(
        roles
            .into_iter()
            .map(|r| {
                (
                    r.role_template_id.unwrap_or_default(),
                    r.display_name.unwrap_or_default(),
                )
            })
            .collect(),
    ))
}

/// `(roleTemplateId, displayName)` pairs → the verdict.
pub(super) fn decide(roles: Vec<(String, String)>) -> RoleCheck {
    let mut admin = Vec::new();
    let mut held = Vec::new();
    for (template, name) in roles {
        match ADMIN_ROLE_TEMPLATES
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(&template))
        {
            Some((_, known)) => admin.push((*known).to_string()),
            None if !name.is_empty() => held.push(name),
            None => held.push(template),
        }
    }
    admin.sort();
    admin.dedup();
    held.sort();
    held.dedup();
    if admin.is_empty() {
        RoleCheck::Insufficient(held)
    } else {
        RoleCheck::Sufficient(admin)
    }
}

pub(super) fn message(check: &RoleCheck) -> String {
    match check {
        RoleCheck::Sufficient(roles) => format!(
            "The signed-in account is {}, which may configure provisioning.",
            roles.join(" and ")
        ),
        RoleCheck::Insufficient(roles) => {
            let held = if roles.is_empty() {
                "holds no active directory role".to_string()
            } else {
                format!("holds only {}", roles.join(", "))
            };
            format!(
                "The signed-in account {held}, and configuring provisioning needs Application Administrator, Cloud Application Administrator or Global Administrator: ask for one of these roles, or sign in with another account. A role that is only eligible in Privileged Identity Management (PIM) counts only once it is activated."
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_roles_are_matched_by_template_id() {
        let check = decide(vec![
            (
                "9B895D92-2CD3-44C7-9D02-A6AC2D5EA5C3".into(),
                "Anwendungsadministrator".into(),
            ),
            (
                "fe930be7-5e62-47db-91af-98c3a49a38b1".into(),
                "User Administrator".into(),
            ),
        ]);
        assert_eq!(
            check,
            RoleCheck::Sufficient(vec!["Application Administrator".into()])
        );
        assert!(check.message().contains("Application Administrator"));
    }

    #[test]
    fn other_roles_or_none_are_insufficient_and_say_so() {
        let check = decide(vec![(
            "fe930be7-5e62-47db-91af-98c3a49a38b1".into(),
            "User Administrator".into(),
        )]);
        assert_eq!(
            check,
            RoleCheck::Insufficient(vec!["User Administrator".into()])
        );
        let text = check.message();
        assert!(text.contains("holds only User Administrator"), "{text}");
        assert!(text.contains("PIM"), "{text}");
        let none = decide(Vec::new()).message();
        assert!(none.contains("no active directory role"), "{none}");
    }
}
