//! Thin typed Microsoft Graph client for the synchronization (provisioning) API.
//!
//! Every call goes through [`GraphClient::send`], which adds the bearer token
//! and a fresh `client-request-id`, and turns Graph's error body into a
//! [`GraphError`] an admin can act on. Schemas stay raw JSON: they are
//! round-tripped, and re-typing them loses fields and enum casing.

pub mod paging;
pub mod permissions;
pub mod provisioning;
pub mod types;

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::platform::secret::Secret;

pub use provisioning::{OnDemandResult, OnDemandStep, Outcome, ProvisioningEvent};
pub use types::*;

/// `applicationTemplates/{id}` of the non-gallery ("custom") application.
pub const NON_GALLERY_TEMPLATE_ID: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";

/// The app role id of "Default Access" (`serviceprincipal-post-approleassignedto.md`).
pub const DEFAULT_ACCESS_ROLE: &str = "00000000-0000-0000-0000-000000000000";

/// The largest page Graph serves for directory lists (`$top` 1–999): ten
/// times fewer round trips than the default 100 in big tenants.
const PAGE: usize = 999;

/// Properties asked for when listing service principals.
const USER_SELECT: &str = "id,displayName,mail,userPrincipalName,accountEnabled";
const SP_SELECT: &str = "id,appId,displayName,tags,preferredSingleSignOnMode,servicePrincipalType";

/// Gives a bearer token for Graph; refreshes are the implementation's business.
pub trait TokenSource: Send + Sync {
    fn token(&self) -> BoxFuture<'_, Result<Secret, GraphError>>;

    /// Graph answered 401 to `rejected`: a new token to retry with once, or
    /// `None` when this source cannot get one (the 401 then stands).
    /// Passing the rejected token lets concurrent callers share one refresh.
    fn refresh_after_unauthorized<'a>(
        &'a self,
        rejected: &'a Secret,
    ) -> BoxFuture<'a, Result<Option<Secret>, GraphError>> {
        let _ = rejected;
        Box::pin(async { Ok(None) })
    }
}

/// A token obtained elsewhere (the sandbox, tests, a token pasted by the admin).
pub struct StaticToken(pub Secret);

impl TokenSource for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<Secret, GraphError>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }
}

/// What went wrong talking to Graph; `Display` is the sentence for the admin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error(
        "Microsoft Graph did not accept the sign-in: the token has expired or is not valid. Sign in again."
    )]
    Unauthorized { request_id: Option<String> },
    #[error("{}", forbidden_text(code, needs.as_deref(), consent_url.as_deref()))]
    Forbidden {
        code: String,
        message: String,
        request_id: Option<String>,
        /// The delegated permission(s) the refused call needs, from its
        /// page's table ([`permissions`]), with the call.
        needs: Option<String>,
        /// Where an administrator grants the wizard's permissions.
        consent_url: Option<String>,
    },
    #[error(
        "Microsoft Graph could not find {what}. It may have been deleted, or it was created moments ago and is not visible yet: wait a minute and retry."
    )]
    NotFound {
        what: String,
        request_id: Option<String>,
    },
    #[error("Microsoft Graph is busy and asked the wizard to slow down. {}", wait_hint(*.retry_after))]
    Throttled {
        /// 429, 503 or 504: only a 429 says the request was not carried out.
        status: u16,
        retry_after: Option<u64>,
        request_id: Option<String>,
    },
    #[error(
        "Entra could not reach the SCIM endpoint or it refused the secret: {message} ({code}). Check the Tenant URL and the Secret Token, and that the SCIM endpoint is reachable from the internet."
    )]
    CredentialValidation {
        code: String,
        message: String,
        request_id: Option<String>,
    },
    #[error(
        "Microsoft Graph answered HTTP {status} ({code}): {message} Retry; if it keeps failing, give Microsoft support the request id {}.",
        request_id.as_deref().unwrap_or("(none)")
    )]
    Api {
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    #[error(
        "Could not reach Microsoft Graph: {0}. Check the network connection and proxy settings, then retry."
    )]
    Transport(String),
    #[error(
        "Microsoft Graph answered {what} with something the wizard does not understand ({detail}). Retry; if it keeps happening, report this message."
    )]
    UnexpectedBody { what: String, detail: String },
    #[error(
        "The saved value of \"{key}\" cannot be read back from Entra, so it cannot be saved again unchanged. Enter it again and retry."
    )]
    MaskedSecret { key: String },
}

fn forbidden_text(code: &str, needs: Option<&str>, consent_url: Option<&str>) -> String {
    let lacks = match needs {
        Some(n) => format!(
            "the sign-in's token lacks the delegated permission {n}, or the signed-in account lacks a role"
        ),
        None => "the signed-in account lacks a permission or role".into(),
    };
    let consent = match consent_url {
        Some(url) => format!("grant admin consent for the wizard's permissions at {url}"),
        None => "grant admin consent for the wizard's permissions (Entra admin center, Enterprise applications, the sign-in application, Permissions)".into(),
    };
    format!(
        "Microsoft Graph refused the request ({code}): {lacks}. An administrator must {consent}, then sign in again; the account must be an Application Administrator, Cloud Application Administrator or Global Administrator."
    )
}

impl GraphError {
    /// The request may have been carried out though no success came back:
    /// the connection failed, or Graph answered 5xx (a 504 from a gateway
    /// that lost the answer included). A caller of a create looks first.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            GraphError::Transport(_)
                | GraphError::Api { status: 500.., .. }
                | GraphError::Throttled {
                    status: 503 | 504,
                    ..
                }
        )
    }
}

impl GraphError {
    /// What came back instead of an answer, in a few words, for an error
    /// that says the outcome is unknown (not the "retry" advice of the
    /// error's own message).
    pub fn lost_answer_cause(&self) -> String {
        match self {
            GraphError::Transport(detail) => detail.clone(),
            GraphError::Throttled { status, .. } | GraphError::Api { status, .. } => {
                format!("HTTP {status}")
            }
            other => short_reason(other),
        }
    }
}

fn wait_hint(retry_after: Option<u64>) -> String {
    match retry_after {
        Some(s) => format!("Wait {s} seconds and retry."),
        None => "Wait a minute and retry.".into(),
    }
}

impl GraphError {
    /// Graph's `request-id`, which Microsoft support asks for.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            GraphError::Unauthorized { request_id }
            | GraphError::Forbidden { request_id, .. }
            | GraphError::NotFound { request_id, .. }
            | GraphError::Throttled { request_id, .. }
            | GraphError::CredentialValidation { request_id, .. }
            | GraphError::Api { request_id, .. } => request_id.as_deref(),
            GraphError::Transport(_)
            | GraphError::UnexpectedBody { .. }
            | GraphError::MaskedSecret { .. } => None,
        }
    }
}

/// What a restart asks Entra to reset
/// (`synchronization-synchronizationjobrestartcriteria.md`). `Full` and
/// `ConnectorDataStore` are never sent: `Full` includes `ForceDeletes`
/// and `ConnectorDataStore` ("DO NOT USE").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartScope {
    /// The portal's "Restart provisioning": `resetScope` left empty
    /// (quarantine, escrows and watermark; held deletions stay held).
    Ordinary,
    /// The portal's "Allow deletes": the deletions the accidental-deletions
    /// threshold held back go through, and the quarantine is lifted.
    ForceDeletes,
}

impl RestartScope {
    /// The request body.
    pub fn body(self) -> Value {
        match self {
            RestartScope::Ordinary => serde_json::json!({ "criteria": {} }),
            RestartScope::ForceDeletes => {
                serde_json::json!({ "criteria": { "resetScope": "ForceDeletes, QuarantineState" } })
            }
        }
    }
}

/// A Graph client; cheap to clone.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
    /// Also retry 404/403/409: the object was created moments ago and
    /// Graph's replicas may not show it yet (see [`GraphClient::settling`]).
    settling: bool,
    /// Named in a 403's message ([`GraphClient::with_admin_consent_url`]).
    consent_url: Option<Arc<str>>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    token: Arc<dyn TokenSource>,
    retry: RetryPolicy,
    /// What was retried since the engine last asked, as sentences.
    notes: std::sync::Mutex<Vec<String>>,
}

/// When and how often a request is sent again (Graph's throttling and
/// error-handling guidance): 429 always (Graph did not carry it out), after
/// `Retry-After` or a jittered exponential backoff; 500/502/503/504 and
/// dropped connections only for requests that are safe to repeat. A create
/// whose answer was lost is left to its caller, which looks for the object
/// before creating it again ([`GraphError::outcome_unknown`]).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub attempts: u32,
    /// The first backoff without `Retry-After`; it doubles each time.
    pub base_delay: std::time::Duration,
    pub max_delay: std::time::Duration,
    /// A longer `Retry-After` is not waited out: the step stops and says so.
    pub max_retry_after: std::time::Duration,
    /// How long an object created moments ago that Graph cannot see yet
    /// is waited for, in all: Graph's replicas can lag for minutes (support
    /// article `404-not-found-error-manage-objects-microsoft-graph.md`: wait,
    /// retry, double the wait); past this the step stops and says so.
    pub settle_within: std::time::Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base_delay: std::time::Duration::from_millis(500),
            max_delay: std::time::Duration::from_secs(30),
            max_retry_after: std::time::Duration::from_secs(120),
            settle_within: std::time::Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries (tests of single answers).
    pub fn none() -> Self {
        Self {
            attempts: 1,
            settle_within: std::time::Duration::ZERO,
            ..Self::default()
        }
    }

    /// Full jitter: anywhere up to the exponential bound, so clients that
    /// failed together do not retry together.
    fn backoff(&self, retry: u32) -> std::time::Duration {
        let bound = self
            .base_delay
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_delay);
        let random = (uuid::Uuid::new_v4().as_u128() % 1000) as u32;
        bound.mul_f64(f64::from(random.max(100)) / 1000.0)
    }
}

/// POST actions that change nothing when repeated.
const SAFE_POSTS: [&str; 5] = [
    "validateCredentials",
    "start",
    "pause",
    "restart",
    "parseExpression",
];

fn repeatable(method: &Method, url: &Url) -> bool {
    match *method {
        Method::GET | Method::PUT | Method::DELETE | Method::HEAD => true,
        Method::POST => url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .is_some_and(|last| SAFE_POSTS.contains(&last)),
        _ => false,
    }
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

/// A request body: JSON to serialize, raw bytes already serialized, or none.
enum Body<'a> {
    None,
    Json(&'a Value),
    Bytes(Vec<u8>),
}

impl GraphClient {
    /// `base` is the versioned root, e.g. `https://graph.microsoft.com/v1.0`.
    pub fn new(http: reqwest::Client, base: Url, token: Arc<dyn TokenSource>) -> Self {
        Self::with_retry(http, base, token, RetryPolicy::default())
    }

    pub fn with_retry(
        http: reqwest::Client,
        base: Url,
        token: Arc<dyn TokenSource>,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                base,
                token,
                retry,
                notes: std::sync::Mutex::new(Vec::new()),
            }),
            settling: false,
            consent_url: None,
        }
    }

    /// The same client; a 403 names `url` as where admin consent is given
    /// (`SignInConfig::admin_consent_url`).
    pub fn with_admin_consent_url(mut self, url: &Url) -> GraphClient {
        self.consent_url = Some(Arc::from(url.as_str()));
        self
    }

    /// The same client, for calls about an object created moments ago: a
    /// 404, 403 or 409 is retried with backoff (Graph's replication delay).
    pub fn settling(&self) -> GraphClient {
        GraphClient {
            inner: self.inner.clone(),
            settling: true,
            consent_url: self.consent_url.clone(),
        }
    }

    /// The same client waiting up to `within` for new objects to appear
    /// ([`RetryPolicy::settle_within`]).
    pub fn with_settle_within(&self, within: std::time::Duration) -> GraphClient {
        let mut retry = self.inner.retry.clone();
        retry.settle_within = within;
        GraphClient {
            inner: Arc::new(Inner {
                http: self.inner.http.clone(),
                base: self.inner.base.clone(),
                token: self.inner.token.clone(),
                retry,
                notes: std::sync::Mutex::new(Vec::new()),
            }),
            settling: self.settling,
            consent_url: self.consent_url.clone(),
        }
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The retries since the last call, as sentences for the step's detail.
    pub fn take_retry_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.inner.notes.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Where the retry notes stand now, for [`GraphClient::summarise_retries_since`].
    pub fn retry_notes_mark(&self) -> usize {
        self.inner
            .notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Replaces the retries noted since `mark` by one sentence made from
    /// their number (a long wait reads as one line, not one per retry).
    pub fn summarise_retries_since(&self, mark: usize, summary: impl FnOnce(usize) -> String) {
        let mut notes = self.inner.notes.lock().unwrap_or_else(|p| p.into_inner());
        let mark = mark.min(notes.len());
        let count = notes.drain(mark..).count();
        if count > 0 {
            notes.push(summary(count));
        }
    }

    fn note(&self, text: String) {
        tracing::info!("{text}");
        self.inner
            .notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(text);
    }

    pub fn base(&self) -> &Url {
        &self.inner.base
    }

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

    pub async fn list_templates(
        &self,
        sp_id: &str,
    ) -> Result<Vec<SynchronizationTemplate>, GraphError> {
        let url = self.url(&["servicePrincipals", sp_id, "synchronization", "templates"]);
        let what = format!("the provisioning templates of application {sp_id}");
        self.get_all(url, &what).await
    }

    pub async fn list_jobs(&self, sp_id: &str) -> Result<Vec<SynchronizationJob>, GraphError> {
        let url = self.url(&["servicePrincipals", sp_id, "synchronization", "jobs"]);
        let what = format!("the provisioning jobs of application {sp_id}");
        self.get_all(url, &what).await
    }

    pub async fn create_job(
        &self,
        sp_id: &str,
        template_id: &str,
    ) -> Result<SynchronizationJob, GraphError> {
        let url = self.url(&["servicePrincipals", sp_id, "synchronization", "jobs"]);
        let body = serde_json::json!({ "templateId": template_id });
        let what = format!("application {sp_id} (creating its provisioning job)");
        self.json(Method::POST, url, Body::Json(&body), &what).await
    }

    pub async fn get_job(
        &self,
        sp_id: &str,
        job_id: &str,
    ) -> Result<SynchronizationJob, GraphError> {
        let url = self.job_url(sp_id, job_id, &[]);
        self.json(Method::GET, url, Body::None, &job_what(job_id))
            .await
    }

    /// Entra's Test Connection. `None` validates the saved credentials.
    pub async fn validate_credentials(
        &self,
        sp_id: &str,
        job_id: &str,
        creds: Option<(&str, &Secret)>,
    ) -> Result<(), GraphError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Request<'a> {
            use_saved_credentials: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            credentials: Option<[Pair<'a>; 2]>,
        }
        let body = Request {
            use_saved_credentials: creds.is_none(),
            credentials: creds.map(|(url, secret)| {
                [
                    Pair {
                        key: secret_keys::BASE_ADDRESS,
                        value: url,
                    },
                    Pair {
                        key: secret_keys::SECRET_TOKEN,
                        value: secret.expose(),
                    },
                ]
            }),
        };
        let url = self.job_url(sp_id, job_id, &["validateCredentials"]);
        match self
            .send(Method::POST, url, to_bytes(&body)?, &job_what(job_id))
            .await
        {
            Ok(_) => Ok(()),
            // A 400 here is the SCIM endpoint's answer, not a malformed request.
            Err(GraphError::Api {
                status: 400,
                code,
                message,
                request_id,
            }) => Err(GraphError::CredentialValidation {
                code,
                message,
                request_id,
            }),
            Err(e) => Err(e),
        }
    }

    /// The saved provisioning credentials and settings. Not on the v1.0 API
    /// pages; the Entra docs (skip-out-of-scope-deletions.md, the scoping
    /// preview) read them with this GET, answered as `{"value":[{key,value}]}`.
    /// Credentials come back as `"*"` ([`SecretValue::Masked`]).
    pub async fn get_secrets(&self, sp_id: &str) -> Result<Vec<SecretEntry>, GraphError> {
        #[derive(serde::Deserialize)]
        struct Wire {
            key: String,
            #[serde(default)]
            value: Option<String>,
        }
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Answer {
            Wrapped { value: Vec<Wire> },
            Bare(Vec<Wire>),
        }
        let url = self.secrets_url(sp_id);
        let what = format!("the provisioning credentials of application {sp_id}");
        let answer: Answer = self.json(Method::GET, url, Body::None, &what).await?;
        let (Answer::Wrapped { value } | Answer::Bare(value)) = answer;
        Ok(value
            .into_iter()
            .map(|w| SecretEntry::from_wire(w.key, w.value))
            .collect())
    }

    /// Replaces the whole credential set: send every key that must stay.
    pub async fn put_secrets(
        &self,
        sp_id: &str,
        entries: &[SecretEntry],
    ) -> Result<(), GraphError> {
        #[derive(Serialize)]
        struct Request<'a> {
            value: Vec<Pair<'a>>,
        }
        let value = entries
            .iter()
            .map(|e| {
                let value = match &e.value {
                    SecretValue::Plain(v) => v.as_str(),
                    SecretValue::Sensitive(s) => s.expose(),
                    // Writing "*" back would replace the saved secret with "*".
                    SecretValue::Masked => {
                        return Err(GraphError::MaskedSecret { key: e.key.clone() });
                    }
                };
                Ok(Pair { key: &e.key, value })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let what = format!("the provisioning credentials of application {sp_id}");
        self.send(
            Method::PUT,
            self.secrets_url(sp_id),
            to_bytes(&Request { value })?,
            &what,
        )
        .await
        .map(drop)
    }

    /// The job's `synchronizationSchema`, untouched.
    pub async fn get_schema(&self, sp_id: &str, job_id: &str) -> Result<Value, GraphError> {
        let url = self.job_url(sp_id, job_id, &["schema"]);
        let what = format!("the attribute mappings of {}", job_what(job_id));
        self.json(Method::GET, url, Body::None, &what).await
    }

    /// The job's `synchronizationSchema`: the bytes of Graph's answer, for
    /// backups that keep exactly what Graph returned.
    pub async fn get_schema_raw(&self, sp_id: &str, job_id: &str) -> Result<Vec<u8>, GraphError> {
        let url = self.job_url(sp_id, job_id, &["schema"]);
        let what = format!("the attribute mappings of {}", job_what(job_id));
        self.send(Method::GET, url, Body::None, &what).await
    }

    /// Writes `body` as the whole schema, byte for byte (a restore).
    pub async fn put_schema_raw(
        &self,
        sp_id: &str,
        job_id: &str,
        body: Vec<u8>,
    ) -> Result<(), GraphError> {
        let url = self.job_url(sp_id, job_id, &["schema"]);
        let what = format!("the attribute mappings of {}", job_what(job_id));
        self.send(Method::PUT, url, Body::Bytes(body), &what)
            .await
            .map(drop)
    }

    /// Writes the whole schema (Graph accepts PUT only), exactly as given.
    pub async fn put_schema(
        &self,
        sp_id: &str,
        job_id: &str,
        schema: &Value,
    ) -> Result<(), GraphError> {
        let url = self.job_url(sp_id, job_id, &["schema"]);
        let what = format!("the attribute mappings of {}", job_what(job_id));
        self.send(Method::PUT, url, Body::Json(schema), &what)
            .await
            .map(drop)
    }

    pub async fn start_job(&self, sp_id: &str, job_id: &str) -> Result<(), GraphError> {
        self.job_action(sp_id, job_id, "start", Body::None).await
    }

    pub async fn pause_job(&self, sp_id: &str, job_id: &str) -> Result<(), GraphError> {
        self.job_action(sp_id, job_id, "pause", Body::None).await
    }

    /// `POST …/restart` (`synchronization-synchronizationjob-restart.md`):
    /// an ordinary restart leaves `resetScope` empty, which "emulates the
    /// Restart provisioning option" of the portal
    /// (`synchronization-synchronizationjobrestartcriteria.md`).
    pub async fn restart_job(
        &self,
        sp_id: &str,
        job_id: &str,
        scope: RestartScope,
    ) -> Result<(), GraphError> {
        let body = scope.body();
        self.job_action(sp_id, job_id, "restart", Body::Json(&body))
            .await
    }

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

    /// Provisions one user now, through the rule `rule_id` of the job's schema.
    pub async fn provision_on_demand(
        &self,
        sp_id: &str,
        job_id: &str,
        rule_id: &str,
        user_id: &str,
    ) -> Result<OnDemandResult, GraphError> {
        let url = self.job_url(sp_id, job_id, &["provisionOnDemand"]);
        let body = serde_json::json!({
            "parameters": [{
                "ruleId": rule_id,
                "subjects": [{ "objectId": user_id, "objectTypeName": "User" }],
            }]
        });
        let what = format!("on-demand provisioning of user {user_id}");
        let raw: Value = self
            .json(Method::POST, url, Body::Json(&body), &what)
            .await?;
        OnDemandResult::from_response(&raw)
            .map_err(|detail| GraphError::UnexpectedBody { what, detail })
    }

    /// The job's events with `provisioningAction` `action` (e.g.
    /// `stagedDelete`: deletions held back by the threshold), newest first,
    /// `top` per page: every page of the newest cycle that logged one, so
    /// none of its events is missed, and no more once a page reaches an
    /// older cycle.
    pub async fn newest_cycle_events_by_action(
        &self,
        job_id: &str,
        action: &str,
        top: usize,
    ) -> Result<Vec<ProvisioningEvent>, GraphError> {
        let what = "the provisioning logs";
        let mut url = self.url(&["auditLogs", "provisioning"]);
        let filter = format!(
            "jobId eq {} and provisioningAction eq {}",
            odata_string(job_id),
            odata_string(action)
        );
        url.set_query(Some(&format!(
            "$filter={}&$top={top}",
            encode_query_value(&filter)
        )));
        let mut out: Vec<ProvisioningEvent> = Vec::new();
        let mut pager = paging::Pager::new(&self.inner.base, &url);
        let mut next = Some(url);
        while let Some(url) = next.take() {
            let page: Page<ProvisioningEvent> =
                self.json(Method::GET, url, Body::None, what).await?;
            let cycle = out
                .first()
                .or(page.value.first())
                .and_then(|e| e.cycle_id.clone());
            let older = page.value.iter().any(|e| e.cycle_id != cycle);
            out.extend(page.value);
            if let Some(link) = page.next_link.filter(|_| !older) {
                next = Some(self.next_page(&mut pager, &link, what)?);
            }
        }
        Ok(out)
    }

    /// The newest `top` provisioning events of the job, newest first (one
    /// page: the log can hold millions of lines).
    pub async fn provisioning_events(
        &self,
        job_id: &str,
        top: usize,
    ) -> Result<Vec<ProvisioningEvent>, GraphError> {
        let mut url = self.url(&["auditLogs", "provisioning"]);
        let filter = format!("jobId eq {}", odata_string(job_id));
        url.set_query(Some(&format!(
            "$filter={}&$top={top}",
            encode_query_value(&filter)
        )));
        self.first_page(url, "the provisioning logs").await
    }

    async fn job_action(
        &self,
        sp_id: &str,
        job_id: &str,
        action: &str,
        body: Body<'_>,
    ) -> Result<(), GraphError> {
        let url = self.job_url(sp_id, job_id, &[action]);
        self.send(Method::POST, url, body, &job_what(job_id))
            .await
            .map(drop)
    }

    /// `base` + path segments, each percent-encoded as a segment.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        url.set_query(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn job_url(&self, sp_id: &str, job_id: &str, rest: &[&str]) -> Url {
        let mut segments = vec![
            "servicePrincipals",
            sp_id,
            "synchronization",
            "jobs",
            job_id,
        ];
        segments.extend_from_slice(rest);
        self.url(&segments)
    }

    fn secrets_url(&self, sp_id: &str) -> Url {
        self.url(&["servicePrincipals", sp_id, "synchronization", "secrets"])
    }

    /// Reads a collection, following `@odata.nextLink` until it is absent
    /// (within [`paging::Pager`]'s bounds).
    async fn get_all<T: DeserializeOwned>(
        &self,
        first: Url,
        what: &str,
    ) -> Result<Vec<T>, GraphError> {
        let mut out = Vec::new();
        let mut pager = paging::Pager::new(&self.inner.base, &first);
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let page: Page<T> = self.json(Method::GET, url, Body::None, what).await?;
            out.extend(page.value);
            if let Some(link) = page.next_link {
                next = Some(self.next_page(&mut pager, &link, what)?);
            }
        }
        Ok(out)
    }

    /// The first page of a collection only.
    async fn first_page<T: DeserializeOwned>(
        &self,
        url: Url,
        what: &str,
    ) -> Result<Vec<T>, GraphError> {
        let page: Page<T> = self.json(Method::GET, url, Body::None, what).await?;
        Ok(page.value)
    }

    /// The next page `pager` allows, or the error that says why not.
    fn next_page(
        &self,
        pager: &mut paging::Pager,
        link: &str,
        what: &str,
    ) -> Result<Url, GraphError> {
        pager
            .next(link)
            .map_err(|detail| GraphError::UnexpectedBody {
                what: what.into(),
                detail,
            })
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Body<'_>,
        what: &str,
    ) -> Result<T, GraphError> {
        let bytes = self.send(method, url, body, what).await?;
        serde_json::from_slice(&bytes).map_err(|e| GraphError::UnexpectedBody {
            what: what.into(),
            detail: e.to_string(),
        })
    }

    /// The one place every request goes through: retries per [`RetryPolicy`].
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Body<'_>,
        what: &str,
    ) -> Result<Vec<u8>, GraphError> {
        let body: Option<Vec<u8>> = match body {
            Body::None => None,
            Body::Json(v) => Some(serde_json::to_vec(v).map_err(encode_error)?),
            Body::Bytes(b) => Some(b),
        };
        let policy = &self.inner.retry;
        let safe = repeatable(&method, &url);
        let started = std::time::Instant::now();
        let mut attempt = 1;
        loop {
            let error = match self.send_once(&method, &url, body.clone(), what).await {
                Ok(bytes) => return Ok(bytes),
                Err(e) => e,
            };
            let not_seen_yet = matches!(
                error,
                GraphError::NotFound { .. }
                    | GraphError::Forbidden { .. }
                    | GraphError::Api { status: 409, .. }
            );
            let wait = match &error {
                // Bounded by time, not attempts (see `settle_within`).
                _ if self.settling && not_seen_yet => {
                    let wait = policy.backoff(attempt - 1);
                    (started.elapsed() + wait <= policy.settle_within).then_some(wait)
                }
                _ if attempt >= policy.attempts => None,
                // A 429 was not carried out (`concepts/throttling.md`: the
                // request fails), so even a create may be sent again; a
                // 503/504 may have landed, so only a repeatable one is.
                GraphError::Throttled {
                    status,
                    retry_after,
                    ..
                } if *status == 429 || safe => match retry_after {
                    Some(s) if std::time::Duration::from_secs(*s) > policy.max_retry_after => None,
                    Some(s) => Some(std::time::Duration::from_secs(*s)),
                    None => Some(policy.backoff(attempt - 1)),
                },
                GraphError::Transport(_)
                | GraphError::Api {
                    status: 500 | 502, ..
                } if safe => Some(policy.backoff(attempt - 1)),
                _ => None,
            };
            let Some(wait) = wait else {
                return Err(error);
            };
            self.note(format!(
                "Graph: {what}: attempt {attempt} failed ({}); retried after {:.1} s.",
                short_reason(&error),
                wait.as_secs_f64()
            ));
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One request; a 401 is retried once with a refreshed token, when
    /// the token source can get one (an access token expired or revoked
    /// before its announced expiry).
    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        body: Option<Vec<u8>>,
        what: &str,
    ) -> Result<Vec<u8>, GraphError> {
        let token = self.inner.token.token().await?;
        match self
            .send_with(method, url, body.clone(), what, &token)
            .await
        {
            Err(GraphError::Unauthorized { request_id }) => {
                match self.inner.token.refresh_after_unauthorized(&token).await? {
                    Some(fresh) => self.send_with(method, url, body, what, &fresh).await,
                    None => Err(GraphError::Unauthorized { request_id }),
                }
            }
            other => other,
        }
    }

    async fn send_with(
        &self,
        method: &Method,
        url: &Url,
        body: Option<Vec<u8>>,
        what: &str,
        token: &Secret,
    ) -> Result<Vec<u8>, GraphError> {
        let method = method.clone();
        let called = url.clone();
        let url = url.clone();
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let mut request = self
            .inner
            .http
            .request(method.clone(), url)
            .bearer_auth(token.expose())
            .header("client-request-id", &client_request_id)
            .header(reqwest::header::ACCEPT, "application/json");
        if advanced_query(&called) {
            request = request.header("ConsistencyLevel", "eventual");
        }
        request = match body {
            // An explicit empty body: Graph answers 411 to a POST without a length.
            None if method == Method::POST => request
                .header(reqwest::header::CONTENT_LENGTH, "0")
                .body(Vec::new()),
            None => request,
            Some(b) => json_body(request, b),
        };
        let response = request
            .send()
            .await
            .map_err(|e| GraphError::Transport(transport_detail(&e)))?;
        let status = response.status();
        let header_request_id = header(&response, "request-id");
        let retry_after = header(&response, "retry-after").and_then(|v| v.trim().parse().ok());
        let bytes =
            match crate::platform::http::read_body(response, crate::platform::http::GRAPH_BODY_CAP)
                .await
            {
                Ok(bytes) => bytes,
                Err(crate::platform::http::BodyError::Transport(e)) => {
                    return Err(GraphError::Transport(transport_detail(&e)));
                }
                Err(e @ crate::platform::http::BodyError::TooLarge { .. }) => {
                    return Err(GraphError::UnexpectedBody {
                        what: what.into(),
                        detail: format!("HTTP {}: {e}", status.as_u16()),
                    });
                }
            };
        if status.is_success() {
            return Ok(bytes);
        }
        let error = ErrorBody::parse(&bytes);
        let request_id = error.request_id.clone().or(header_request_id);
        tracing::warn!(
            %status,
            code = %error.code,
            request_id = request_id.as_deref().unwrap_or("-"),
            %client_request_id,
            "Graph request for {what} failed"
        );
        Err(
            match classify(status, error, request_id, retry_after, what) {
                GraphError::Forbidden {
                    code,
                    message,
                    request_id,
                    ..
                } => GraphError::Forbidden {
                    code,
                    message,
                    request_id,
                    needs: self.needed_for(&method, &called),
                    consent_url: self.consent_url.as_deref().map(str::to_string),
                },
                other => other,
            },
        )
    }

    /// "Permission (for METHOD /path)" from the permissions table.
    fn needed_for(&self, method: &Method, url: &Url) -> Option<String> {
        let base = self.inner.base.path().trim_end_matches('/');
        let rest = url.path().strip_prefix(base)?;
        let rule = permissions::rule_for(method.as_str(), rest)?;
        Some(format!(
            "{} (for {} {})",
            rule.least(),
            rule.method,
            rule.path.replace("{}", "{id}")
        ))
    }
}

/// `$count` and `$search` are advanced queries: Graph wants
/// `ConsistencyLevel: eventual` with them (`aad-advanced-queries.md`), on
/// every page (next links keep the query).
fn advanced_query(url: &Url) -> bool {
    url.query_pairs()
        .any(|(k, v)| (k == "$count" && v.eq_ignore_ascii_case("true")) || k == "$search")
}

/// A few words on why a request failed, for the retry note.
fn short_reason(e: &GraphError) -> String {
    match e {
        GraphError::Throttled {
            retry_after: Some(s),
            ..
        } => format!("throttled, Retry-After {s} s"),
        GraphError::Throttled { .. } => "throttled or unavailable".into(),
        GraphError::Transport(detail) => format!("connection: {detail}"),
        GraphError::Api { status, code, .. } => format!("HTTP {status} {code}"),
        GraphError::NotFound { .. } => "not visible yet (404)".into(),
        GraphError::Forbidden { code, .. } => format!("403 {code}, not replicated yet"),
        other => other.to_string(),
    }
}

fn json_body(request: reqwest::RequestBuilder, bytes: Vec<u8>) -> reqwest::RequestBuilder {
    request
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(bytes)
}

#[derive(Serialize)]
struct Pair<'a> {
    key: &'a str,
    value: &'a str,
}

fn to_bytes<T: Serialize>(body: &T) -> Result<Body<'static>, GraphError> {
    serde_json::to_vec(body)
        .map(Body::Bytes)
        .map_err(encode_error)
}

fn encode_error(e: serde_json::Error) -> GraphError {
    GraphError::UnexpectedBody {
        what: "the request".into(),
        detail: e.to_string(),
    }
}

fn job_what(job_id: &str) -> String {
    format!("the provisioning job {job_id}")
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// reqwest's own message plus the innermost cause (DNS, TLS, refused…).
fn transport_detail(e: &reqwest::Error) -> String {
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(cause) = last.filter(|c| !detail.contains(c.as_str())) {
        detail = format!("{detail} ({cause})");
    }
    detail
}

/// `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
#[derive(Debug, Default)]
struct ErrorBody {
    code: String,
    message: String,
    request_id: Option<String>,
}

impl ErrorBody {
    fn parse(bytes: &[u8]) -> Self {
        let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
            let text = String::from_utf8_lossy(bytes);
            return Self {
                message: text
                    .chars()
                    .take(200)
                    .collect::<String>()
                    .trim()
                    .to_string(),
                ..Self::default()
            };
        };
        let e = &v["error"];
        let s = |v: &Value| v.as_str().map(str::to_string);
        let inner = if e["innerError"].is_object() {
            &e["innerError"]
        } else {
            &e["innererror"]
        };
        Self {
            code: s(&e["code"]).unwrap_or_default(),
            message: s(&e["message"]).unwrap_or_default(),
            request_id: s(&inner["request-id"]),
        }
    }
}

fn classify(
    status: StatusCode,
    error: ErrorBody,
    request_id: Option<String>,
    retry_after: Option<u64>,
    what: &str,
) -> GraphError {
    let code = if error.code.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("error")
            .replace(' ', "")
    } else {
        error.code
    };
    match status.as_u16() {
        401 => GraphError::Unauthorized { request_id },
        403 => GraphError::Forbidden {
            code,
            message: error.message,
            request_id,
            needs: None,
            consent_url: None,
        },
        404 => GraphError::NotFound {
            what: what.into(),
            request_id,
        },
        429 | 503 | 504 => GraphError::Throttled {
            status: status.as_u16(),
            retry_after,
            request_id,
        },
        status => GraphError::Api {
            status,
            code,
            message: error.message,
            request_id,
        },
    }
}

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

/// One page of a Graph collection.
#[derive(serde::Deserialize)]
struct Page<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

/// `text` as an OData string literal: quoted, a quote escaped by doubling it.
fn odata_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Percent-encodes a query value; spaces become `%20` (Graph does not read
/// `+` as a space), parentheses and commas stay readable in logs.
fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'('
            | b')'
            | b',' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded_for_odata() {
        assert_eq!(
            encode_query_value("startswith(displayName,'O''Brien & Co')"),
            "startswith(displayName,%27O%27%27Brien%20%26%20Co%27)"
        );
        assert_eq!(encode_query_value("a+b#é"), "a%2Bb%23%C3%A9");
    }

    #[test]
    fn error_bodies_are_read_with_either_inner_error_casing() {
        let body = br#"{"error":{"code":"X","message":"m","innerError":{"request-id":"r1"}}}"#;
        let e = ErrorBody::parse(body);
        assert_eq!(
            (e.code.as_str(), e.message.as_str(), e.request_id.as_deref()),
            ("X", "m", Some("r1"))
        );
        let e = ErrorBody::parse(br#"{"error":{"code":"Y","innererror":{"request-id":"r2"}}}"#);
        assert_eq!(e.request_id.as_deref(), Some("r2"));
        let e = ErrorBody::parse(b"<html>Bad gateway</html>");
        assert_eq!(e.message, "<html>Bad gateway</html>");
    }

    #[test]
    fn urls_keep_the_base_path_and_encode_segments() {
        let graph = GraphClient::new(
            crate::platform::http::loopback_client(),
            "https://graph.microsoft.com/v1.0".parse().unwrap(),
            Arc::new(StaticToken(Secret::new("t"))),
        );
        let url = graph.job_url("sp/1", "scim.a.b", &["schema"]);
        assert_eq!(
            url.as_str(),
            "https://graph.microsoft.com/v1.0/servicePrincipals/sp%2F1/synchronization/jobs/scim.a.b/schema"
        );
        let mut pager = paging::Pager::new(&graph.inner.base, &url);
        assert!(
            graph
                .next_page(&mut pager, "https://evil.example/v1.0/x", "x")
                .is_err()
        );
        assert!(
            graph
                .next_page(
                    &mut pager,
                    "https://graph.microsoft.com/v1.0/x?$skiptoken=1",
                    "x"
                )
                .is_ok()
        );
    }

    #[test]
    fn error_messages_say_what_to_do() {
        let forbidden = GraphError::Forbidden {
            code: "Authorization_RequestDenied".into(),
            message: "Insufficient privileges".into(),
            request_id: Some("r".into()),
            needs: Some("AppRoleAssignment.ReadWrite.All and Application.Read.All".into()),
            consent_url: Some("https://login.example/t/v2.0/adminconsent?client_id=c".into()),
        };
        let text = forbidden.to_string();
        assert!(text.contains("AppRoleAssignment.ReadWrite.All"), "{text}");
        assert!(
            text.contains("https://login.example/t/v2.0/adminconsent"),
            "{text}"
        );
        assert!(
            forbidden
                .to_string()
                .contains("Cloud Application Administrator")
        );
        assert_eq!(forbidden.request_id(), Some("r"));
        let throttled = GraphError::Throttled {
            status: 429,
            retry_after: Some(7),
            request_id: None,
        };
        assert!(throttled.to_string().contains("Wait 7 seconds"));
    }

    #[test]
    fn only_answers_that_may_follow_a_landed_request_are_outcome_unknown() {
        let throttled = |status| GraphError::Throttled {
            status,
            retry_after: None,
            request_id: None,
        };
        let api = |status| GraphError::Api {
            status,
            code: String::new(),
            message: String::new(),
            request_id: None,
        };
        assert!(throttled(503).outcome_unknown());
        assert!(throttled(504).outcome_unknown());
        assert!(api(500).outcome_unknown());
        assert!(api(502).outcome_unknown());
        assert!(GraphError::Transport("reset".into()).outcome_unknown());
        // Graph did not carry a throttled request out; a 4xx changed nothing.
        assert!(!throttled(429).outcome_unknown());
        assert!(!api(400).outcome_unknown());
        assert!(!api(409).outcome_unknown());
        assert_eq!(throttled(504).lost_answer_cause(), "HTTP 504");
    }

    #[test]
    fn a_create_is_not_repeatable_and_an_action_that_changes_nothing_is() {
        let url = |p: &str| Url::parse(&format!("https://graph.microsoft.com/v1.0/{p}")).unwrap();
        for create in [
            "applicationTemplates/t/instantiate",
            "servicePrincipals/s/synchronization/jobs",
            "servicePrincipals/s/appRoleAssignedTo",
            "servicePrincipals/s/synchronization/jobs/j/provisionOnDemand",
        ] {
            assert!(!repeatable(&Method::POST, &url(create)), "{create}");
        }
        assert!(repeatable(
            &Method::POST,
            &url("servicePrincipals/s/synchronization/jobs/j/start")
        ));
        assert!(repeatable(
            &Method::PUT,
            &url("servicePrincipals/s/synchronization/secrets")
        ));
    }
}
