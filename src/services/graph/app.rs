//! Step group "app" (step 2): finding and creating the enterprise
//! application (instantiating the non-gallery template) and reading its
//! service principal back while Graph replicates it.

use reqwest::Method;

use super::client::{Body, GraphClient};
use super::client::{SP_SELECT, encode_query_value, odata_string};
use super::errors::GraphError;
use super::types::{InstantiatedApp, ServicePrincipal};
use crate::platform::cloud::Cloud;

/// `applicationTemplates/{id}` of the non-gallery ("custom") application.
pub const NON_GALLERY_TEMPLATE_ID: &str = Cloud::Global.non_gallery_template_id();

impl GraphClient {
    /// Service principals whose display name starts with `name_prefix`, all pages.
    pub async fn find_service_principals(
        &self,
        name_prefix: &str,
    ) -> Result<Vec<ServicePrincipal>, GraphError> {
        let mut url = self.url(&["servicePrincipals"]);
        let filter = format!("startswith(displayName,{})", odata_string(name_prefix));
        url.set_query(Some(&format!(
            "$filter={}&$select={}",
            encode_query_value(&filter),
            encode_query_value(SP_SELECT)
        )));
        self.get_all(url, "the service principal list").await
    }

    pub async fn get_service_principal(&self, sp_id: &str) -> Result<ServicePrincipal, GraphError> {
        let mut url = self.url(&["servicePrincipals", sp_id]);
        url.set_query(Some(&format!("$select={}", encode_query_value(SP_SELECT))));
        let what = format!("the enterprise application {sp_id}");
        self.json(Method::GET, url, Body::None, &what).await
    }

    /// Creates a non-gallery enterprise app (application + service
    /// principal) from `template_id`, the cloud's non-gallery template
    /// ([`crate::platform::cloud::Cloud::non_gallery_template_id`]).
    pub async fn instantiate_template(
        &self,
        template_id: &str,
        display_name: &str,
    ) -> Result<InstantiatedApp, GraphError> {
        let url = self.url(&["applicationTemplates", template_id, "instantiate"]);
        let body = serde_json::json!({ "displayName": display_name });
        self.json(
            Method::POST,
            url,
            Body::Json(&body),
            "the non-gallery application template",
        )
        .await
    }
}
