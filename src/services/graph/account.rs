//! The signed-in account (no step of its own): `GET /me` for the
//! notification e-mail default, and the directory roles the sign-in checks.

use reqwest::Method;

use super::client::{Body, GraphClient};
use super::client::{USER_SELECT, encode_query_value};
use super::errors::GraphError;
use super::types::DirectoryUser;

/// A directory role the signed-in user holds (`resources/directoryrole.md`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRole {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub role_template_id: Option<String>,
}

impl GraphClient {
    /// The signed-in admin (`GET /me`), for the notification e-mail default.
    pub async fn me(&self) -> Result<DirectoryUser, GraphError> {
        let mut url = self.url(&["me"]);
        url.set_query(Some(&format!(
            "$select={}",
            encode_query_value(USER_SELECT)
        )));
        self.json(Method::GET, url, Body::None, "the signed-in user")
            .await
    }

    /// The signed-in user's directory roles, direct or through
    /// role-assignable groups (`user-list-transitivememberof.md`; reading
    /// directoryRole objects needs `RoleManagement.Read.Directory`,
    /// otherwise Graph returns them without properties).
    pub async fn my_directory_roles(&self) -> Result<Vec<DirectoryRole>, GraphError> {
        let mut url = self.url(&["me", "transitiveMemberOf", "microsoft.graph.directoryRole"]);
        // The OData cast is an advanced query: `$count=true` and
        // `ConsistencyLevel: eventual` (user-list-transitivememberof.md;
        // [`advanced_query`] adds the header).
        url.set_query(Some(&format!(
            "$count=true&$select={}",
            encode_query_value("id,displayName,roleTemplateId")
        )));
        self.get_all(url, "the signed-in user's directory roles")
            .await
    }
}
