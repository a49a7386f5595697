//! Users as a SCIM store holds them, for comparing with what Entra should
//! have provisioned.

use std::collections::BTreeSet;

use serde_json::Value;

/// One provisioned user as Orchidea should store it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expected {
    pub user_name: String,
    pub external_id: String,
    pub given: String,
    pub family: String,
}

/// SCIM users as a SCIM store holds them.
pub fn expected_from_scim(users: &[Value]) -> BTreeSet<Expected> {
    users
        .iter()
        .map(|u| Expected {
            user_name: u["userName"].as_str().unwrap_or_default().to_string(),
            external_id: u["externalId"].as_str().unwrap_or_default().to_string(),
            given: u["name"]["givenName"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            family: u["name"]["familyName"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        })
        .collect()
}

/// The users in the sandbox's Orchidea SCIM store.
pub fn scim_users(dump: &Value) -> BTreeSet<Expected> {
    expected_from_scim(
        dump["orchidea"]["users"]
            .as_array()
            .map_or(&[], Vec::as_slice),
    )
}
