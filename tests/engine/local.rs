//! Helpers only the engine tests use: an Orchidea admin client for the
//! sandbox and the users a standalone SCIM server holds.

use std::collections::BTreeSet;

use orchidea_wizard::sandbox::Sandbox;
use orchidea_wizard::services::orchidea::HttpOrchideaAdmin;

use crate::common::{Expected, expected_from_scim};

pub fn admin_client(sandbox: &Sandbox) -> HttpOrchideaAdmin {
    HttpOrchideaAdmin::new(
        orchidea_wizard::platform::http::loopback_client(),
        sandbox.orchidea_url.clone(),
        sandbox.admin_token.clone(),
    )
}

/// The users a standalone SCIM server holds.
pub async fn standalone_users(
    server: &orchidea_wizard::sandbox::scim::StandaloneScim,
) -> BTreeSet<Expected> {
    expected_from_scim(&server.users().await)
}
