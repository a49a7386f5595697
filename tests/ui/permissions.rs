//! The window against a sandbox whose token lacks
//! AppRoleAssignment.ReadWrite.All: assigning a group on the scope screen
//! is refused by Graph (403), and the window names the permission and the
//! admin-consent link.

use crate::support::Harness;
use orchidea_wizard::ui::screen::scope;
use orchidea_wizard::ui::{Message, ScreenId};
use serde_json::{Value, json};

#[test]
fn assigning_a_group_without_the_permission_names_it() {
    // The built-in tenant, nobody assigned, and a token without the pair.
    let mut tenant: Value = crate::common::default_tenant();
    for sp in tenant["servicePrincipals"].as_array_mut().unwrap() {
        if sp["displayName"] == "Orchidea" {
            sp["assignments"] = json!({ "users": [], "groups": [] });
        }
    }
    let scopes: Vec<&str> = orchidea_wizard::services::signin::GRAPH_PERMISSIONS
        .into_iter()
        .filter(|p| *p != "AppRoleAssignment.ReadWrite.All")
        .collect();
    tenant["signIn"] = json!({ "graphTokenScopes": scopes });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    std::fs::write(&file, tenant.to_string()).unwrap();

    let mut h = Harness::build(true, |o, _| o.sandbox_tenant = Some(file.clone()));
    h.click("Run the remaining steps");
    h.click("Continue");
    // Paused at step 14 (users without mail), on the scope screen, whose
    // choices work at the pause.
    assert_eq!(h.app.screen(), ScreenId::Scope);
    h.click("Show groups to assign");
    h.send(Message::Scope(scope::Message::Assign(0)));
    let error = h.app.error().expect("the assignment was refused");
    assert!(
        error.contains("AppRoleAssignment.ReadWrite.All and Application.Read.All"),
        "{error}"
    );
    assert!(error.contains("/v2.0/adminconsent?client_id="), "{error}");
    h.assert_sees_part("AppRoleAssignment.ReadWrite.All");
}
