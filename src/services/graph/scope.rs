//! Step group "scope" (steps 14–15): who is provisioned — the app's user
//! and group assignments, the directory's users and groups to pick from,
//! and assigning one with default access.

use reqwest::Method;

use super::client::{Body, GraphClient};
use super::client::{PAGE, USER_SELECT, encode_query_value, odata_string};
use super::errors::GraphError;
use super::types::{AppRoleAssignment, DirectoryUser, Group};

/// The app role id of "Default Access" (`serviceprincipal-post-approleassignedto.md`).
pub const DEFAULT_ACCESS_ROLE: &str = "00000000-0000-0000-0000-000000000000";

impl GraphClient {
    /// Users and groups assigned to the app (`appRoleAssignedTo`).
    pub async fn list_app_assignments(
        &self,
        sp_id: &str,
    ) -> Result<Vec<AppRoleAssignment>, GraphError> {
        let url = self.url(&["servicePrincipals", sp_id, "appRoleAssignedTo"]);
        self.get_all(url, "the app's assignments").await
    }

    /// Direct members of a group (users only are of interest here).
    pub async fn list_group_members(
        &self,
        group_id: &str,
    ) -> Result<Vec<DirectoryUser>, GraphError> {
        let mut url = self.url(&["groups", group_id, "members"]);
        url.set_query(Some(&format!(
            "$select={}&$top={PAGE}",
            encode_query_value(USER_SELECT)
        )));
        self.get_all(url, "the group's members").await
    }

    /// Every user in the directory.
    pub async fn list_users(&self) -> Result<Vec<DirectoryUser>, GraphError> {
        let mut url = self.url(&["users"]);
        url.set_query(Some(&format!(
            "$select={}&$top={PAGE}",
            encode_query_value(USER_SELECT)
        )));
        self.get_all(url, "the user list").await
    }

    /// Users whose display name, mail or UPN starts with `prefix`: three
    /// `startswith` filters run concurrently, because `or` across them and
    /// `$search` need advanced queries that not every tenant grants.
    pub async fn search_users(&self, prefix: &str) -> Result<Vec<DirectoryUser>, GraphError> {
        let prefix = prefix.trim();
        let lists = ["displayName", "mail", "userPrincipalName"].map(|prop| {
            let mut url = self.url(&["users"]);
            let filter = format!("startswith({prop},{})", odata_string(prefix));
            url.set_query(Some(&format!(
                "$filter={}&$select={}&$top=25",
                encode_query_value(&filter),
                encode_query_value(USER_SELECT)
            )));
            self.first_page::<DirectoryUser>(url, "the user search")
        });
        let lists = futures::future::try_join_all(lists).await?;
        let mut out: Vec<DirectoryUser> = Vec::new();
        for u in lists.into_iter().flatten() {
            if !out.iter().any(|o| o.id == u.id) {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// Groups whose display name starts with `prefix` (all groups when empty), first page.
    pub async fn list_groups(&self, prefix: &str) -> Result<Vec<Group>, GraphError> {
        let mut url = self.url(&["groups"]);
        let mut query = format!("$select={}&$top=50", encode_query_value("id,displayName"));
        if !prefix.trim().is_empty() {
            let filter = format!("startswith(displayName,{})", odata_string(prefix.trim()));
            query = format!("$filter={}&{query}", encode_query_value(&filter));
        }
        url.set_query(Some(&query));
        self.first_page(url, "the group list").await
    }

    /// Assigns a user or group to the app with default access
    /// (`POST /servicePrincipals/{id}/appRoleAssignedTo`).
    pub async fn assign_to_app(
        &self,
        sp_id: &str,
        principal_id: &str,
    ) -> Result<AppRoleAssignment, GraphError> {
        let url = self.url(&["servicePrincipals", sp_id, "appRoleAssignedTo"]);
        let body = serde_json::json!({
            "principalId": principal_id,
            "resourceId": sp_id,
            "appRoleId": DEFAULT_ACCESS_ROLE,
        });
        let what = format!("the assignment of {principal_id} to application {sp_id}");
        self.json(Method::POST, url, Body::Json(&body), &what).await
    }
}
