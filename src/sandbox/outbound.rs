//! The SCIM requests the simulated Entra makes to a saved Tenant URL (`BaseAddress`), for Test Connection and provisioning.
//!
//! As Entra does (Entra docs `use-scim-to-provision-users-and-groups.md`,
//! "SCIM protocol requests and responses"): `GET {base}/Users?filter=<attr> eq
//! "<value>"` with spaces as `%20`, `POST {base}/Users`, `PATCH
//! {base}/Users/{id}`, `GET {base}/Groups?excludedAttributes=members&filter=
//! displayName eq "<value>"`, `POST {base}/Groups`, `PATCH {base}/Groups/{id}`,
//! each with `Authorization: Bearer <SecretToken>`. Redirects are not followed.

use std::fmt;
use std::fmt::Write as _;

use serde_json::Value;
use url::Url;

use crate::platform::secret::Secret;

/// The Tenant URL flag that makes PATCH requests SCIM-compliant
/// (`application-provisioning-config-problem-scim-compatibility.md`).
pub const COMPLIANT_FLAG: &str = "aadOptscim062020";
/// The flag that asks for the old behaviour (the default today anyway).
const LEGACY_FLAG: &str = "AzureAdScimPatch2017";

/// A SCIM endpoint with its credential.
pub struct ScimTarget {
    base: Url,
    token: Secret,
    /// `aadOptscim062020` was in the Tenant URL.
    pub compliant: bool,
    client: reqwest::Client,
}

impl fmt::Debug for ScimTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimTarget")
            .field("base", &self.base.as_str())
            .field("compliant", &self.compliant)
            .finish_non_exhaustive()
    }
}

/// What went wrong talking to the SCIM endpoint. Never holds the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScimFailure {
    /// No HTTP answer (DNS, refused connection, TLS, timeout).
    Transport(String),
    /// An HTTP answer other than the expected one.
    Status {
        status: u16,
        reason: String,
        detail: String,
    },
    /// A 2xx whose body is not what SCIM says it is.
    Body(String),
}

impl ScimFailure {
    /// 401/403: the credential is wrong. Entra quarantines on these.
    pub fn is_credential(&self) -> bool {
        matches!(
            self,
            ScimFailure::Status {
                status: 401 | 403,
                ..
            }
        )
    }
}

impl fmt::Display for ScimFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScimFailure::Transport(e) => write!(f, "the SCIM endpoint could not be reached ({e})"),
            ScimFailure::Status {
                status,
                reason,
                detail,
            } => {
                write!(f, "the SCIM endpoint answered {status} {reason}")?;
                if !detail.is_empty() {
                    write!(f, " ({detail})")?;
                }
                Ok(())
            }
            ScimFailure::Body(e) => write!(f, "the SCIM endpoint's answer is not SCIM ({e})"),
        }
    }
}

/// Which of Test Connection's two requests failed, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestFailure {
    Users(ScimFailure),
    Groups(ScimFailure),
}

impl TestFailure {
    /// The request as Entra sends it (with a placeholder for the GUID).
    pub fn request(&self) -> &'static str {
        match self {
            TestFailure::Users(_) => "GET /Users?filter=userName eq \"<random GUID>\"",
            TestFailure::Groups(_) => {
                "GET /Groups?excludedAttributes=members&filter=displayName eq \"<random GUID>\""
            }
        }
    }

    pub fn failure(&self) -> &ScimFailure {
        match self {
            TestFailure::Users(e) | TestFailure::Groups(e) => e,
        }
    }
}

impl ScimTarget {
    /// Checks a saved `BaseAddress`. `http` is accepted only for loopback hosts
    /// (the sandbox and tests), as Entra accepts only `https`.
    pub fn new(base_address: &str, token: Secret) -> Result<ScimTarget, String> {
        let mut base = Url::parse(base_address.trim()).map_err(|e| {
            format!(
                "the Tenant URL \"{}\" is not a URL ({e})",
                base_address.trim()
            )
        })?;
        let loopback = crate::platform::http::is_loopback(&base);
        match base.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(format!(
                    "the Tenant URL must use https (got \"{}\")",
                    base.scheme()
                ));
            }
        }
        let mut compliant = false;
        let kept: Vec<(String, String)> = base
            .query_pairs()
            .filter(|(k, _)| {
                if k.eq_ignore_ascii_case(COMPLIANT_FLAG) {
                    compliant = true;
                    false
                } else {
                    !k.eq_ignore_ascii_case(LEGACY_FLAG)
                }
            })
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        base.set_query(None);
        if !kept.is_empty() {
            base.query_pairs_mut().extend_pairs(kept);
        }
        base.set_fragment(None);
        let client = if loopback {
            crate::platform::http::loopback_client()
        } else {
            crate::platform::http::client()
        };
        Ok(ScimTarget {
            base,
            token,
            compliant,
            client,
        })
    }

    /// `{base}/Users[/id]`, keeping any query the Tenant URL had.
    fn users_url(&self, id: Option<&str>) -> Url {
        self.resource_url("Users", id)
    }

    /// `{base}/{endpoint}[/id]`, keeping any query the Tenant URL had.
    fn resource_url(&self, endpoint: &str, id: Option<&str>) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push(endpoint);
            if let Some(id) = id {
                path.push(id);
            }
        }
        url
    }

    /// `GET {base}/Users?filter=<attr> eq "<value>"`: the matching resources.
    pub async fn find_users(
        &self,
        attribute: &str,
        value: &str,
    ) -> Result<Vec<Value>, ScimFailure> {
        self.find("Users", None, attribute, value).await
    }

    /// `GET {base}/Groups?excludedAttributes=members&filter=<attr> eq
    /// "<value>"` ("Get Group by displayName"): members are never read back.
    pub async fn find_groups(
        &self,
        attribute: &str,
        value: &str,
    ) -> Result<Vec<Value>, ScimFailure> {
        self.find(
            "Groups",
            Some("excludedAttributes=members"),
            attribute,
            value,
        )
        .await
    }

    async fn find(
        &self,
        endpoint: &str,
        first: Option<&str>,
        attribute: &str,
        value: &str,
    ) -> Result<Vec<Value>, ScimFailure> {
        let mut url = self.resource_url(endpoint, None);
        let filter = format!(
            "{attribute} eq \"{}\"",
            value.replace('\\', "\\\\").replace('"', "\\\"")
        );
        let mut query: Vec<String> = url
            .query()
            .filter(|q| !q.is_empty())
            .map(str::to_string)
            .into_iter()
            .collect();
        query.extend(first.map(str::to_string));
        query.push(format!("filter={}", encode(&filter)));
        url.set_query(Some(&query.join("&")));
        let body = self.send(self.client.get(url), 200).await?;
        if body["totalResults"].as_u64().is_none() {
            return Err(ScimFailure::Body(
                "a ListResponse needs totalResults".into(),
            ));
        }
        Ok(body["Resources"].as_array().cloned().unwrap_or_default())
    }

    /// `GET {base}/Users/{id}` ("Get User"): a user the job created or
    /// matched before, by the id it cached. `None` on 404.
    pub async fn get_user(&self, id: &str) -> Result<Option<Value>, ScimFailure> {
        self.get_known(self.users_url(Some(id))).await
    }

    /// `GET {base}/Groups/{id}?excludedAttributes=members` ("Get Group").
    pub async fn get_group(&self, id: &str) -> Result<Option<Value>, ScimFailure> {
        let mut url = self.resource_url("Groups", Some(id));
        let query = match url.query() {
            Some(q) if !q.is_empty() => format!("{q}&excludedAttributes=members"),
            _ => "excludedAttributes=members".to_string(),
        };
        url.set_query(Some(&query));
        self.get_known(url).await
    }

    async fn get_known(&self, url: Url) -> Result<Option<Value>, ScimFailure> {
        match self.send(self.client.get(url), 200).await {
            Ok(resource) => Ok(Some(resource)),
            Err(ScimFailure::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Test Connection: Entra "makes requests to fetch a random user and
    /// group to ensure that the endpoint and the credentials are valid"
    /// (the Entra doc's "General" guidelines). Each filter on a random GUID
    /// must find nothing. Groups are optional for a SCIM app ("You are not
    /// required to support both users and groups"), so only a credential or
    /// availability failure of the group request fails the test (assumed:
    /// the doc does not say which answers fail it).
    pub async fn test_connection(&self) -> Result<(), TestFailure> {
        let users = self
            .find_users("userName", &uuid::Uuid::new_v4().to_string())
            .await
            .map_err(TestFailure::Users)?;
        if !users.is_empty() {
            return Err(TestFailure::Users(ScimFailure::Body(
                "a filter on a random userName returned users".into(),
            )));
        }
        match self
            .find_groups("displayName", &uuid::Uuid::new_v4().to_string())
            .await
        {
            Err(e)
                if matches!(
                    e,
                    ScimFailure::Transport(_) | ScimFailure::Status { status: 500.., .. }
                ) || e.is_credential() =>
            {
                Err(TestFailure::Groups(e))
            }
            Ok(_) | Err(_) => Ok(()),
        }
    }

    pub async fn create_user(&self, body: &Value) -> Result<Value, ScimFailure> {
        let request = self
            .client
            .post(self.users_url(None))
            .body(body.to_string());
        self.send(request, 201).await
    }

    pub async fn patch_user(&self, id: &str, body: &Value) -> Result<(), ScimFailure> {
        let request = self
            .client
            .patch(self.users_url(Some(id)))
            .body(body.to_string());
        // 200 with the resource or 204: both are success in RFC 7644.
        match self.send(request, 200).await {
            Ok(_) | Err(ScimFailure::Status { status: 204, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `DELETE {base}/Users/{id}` ("Delete User": 204). A 404 means the
    /// user is gone already, which is what was asked.
    pub async fn delete_user(&self, id: &str) -> Result<(), ScimFailure> {
        let request = self.client.delete(self.users_url(Some(id)));
        match self.send(request, 204).await {
            Ok(_) | Err(ScimFailure::Status { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `POST {base}/Groups` ("Create Group").
    pub async fn create_group(&self, body: &Value) -> Result<Value, ScimFailure> {
        let request = self
            .client
            .post(self.resource_url("Groups", None))
            .body(body.to_string());
        self.send(request, 201).await
    }

    /// `PATCH {base}/Groups/{id}`: the doc expects 204; 200 is also success.
    pub async fn patch_group(&self, id: &str, body: &Value) -> Result<(), ScimFailure> {
        let request = self
            .client
            .patch(self.resource_url("Groups", Some(id)))
            .body(body.to_string());
        match self.send(request, 204).await {
            Ok(_) | Err(ScimFailure::Status { status: 200, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        expected: u16,
    ) -> Result<Value, ScimFailure> {
        let response = request
            .bearer_auth(self.token.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/scim+json")
            .header(reqwest::header::ACCEPT, "application/scim+json")
            .header(super::traffic::INTERNAL_HEADER, "internal")
            .send()
            .await
            .map_err(|e| ScimFailure::Transport(transport_detail(&e)))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ScimFailure::Transport(transport_detail(&e)))?;
        if status.as_u16() != expected {
            let detail = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["detail"].as_str().map(str::to_string))
                .unwrap_or_default();
            return Err(ScimFailure::Status {
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or("").to_string(),
                detail: detail.chars().take(300).collect(),
            });
        }
        if bytes.is_empty() && expected == 204 {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| ScimFailure::Body(e.to_string()))
    }

    /// The Tenant URL without flags, for messages.
    pub fn base(&self) -> &Url {
        &self.base
    }
}

/// reqwest's error text without the URL (it may carry a query someone
/// considers private) but with the underlying cause.
fn transport_detail(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

/// Percent-encodes a query value with spaces as `%20`, as Entra sends them.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 2);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char);
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_read_and_stripped() {
        let t = ScimTarget::new(
            "http://127.0.0.1:9/scim/v2?aadOptscim062020",
            Secret::new("x"),
        )
        .unwrap();
        assert!(t.compliant);
        assert_eq!(
            t.users_url(None).as_str(),
            "http://127.0.0.1:9/scim/v2/Users"
        );
        let t = ScimTarget::new("http://localhost:9/scim/?tenant=a", Secret::new("x")).unwrap();
        assert!(!t.compliant);
        assert_eq!(
            t.users_url(Some("u 1")).as_str(),
            "http://localhost:9/scim/Users/u%201?tenant=a"
        );
    }

    #[test]
    fn only_https_or_loopback_http() {
        assert!(ScimTarget::new("https://acme.orchidea.com/scim/v2", Secret::new("x")).is_ok());
        let err =
            ScimTarget::new("http://acme.orchidea.com/scim/v2", Secret::new("x")).unwrap_err();
        assert!(err.contains("https"), "{err}");
        assert!(ScimTarget::new("user@domain.com", Secret::new("x")).is_err());
    }

    #[test]
    fn filters_use_percent_twenty() {
        assert_eq!(encode("userName eq \"a b\""), "userName%20eq%20%22a%20b%22");
    }
}
