//! SCIM pre-flight: the requests Entra's Test Connection makes, with each failure named, explained and fixable.
//!
//! Entra's Test Connection "makes requests to fetch a random user and group"
//! (Entra docs `use-scim-to-provision-users-and-groups.md`, "General"): `GET
//! {Tenant URL}/Users?filter=userName eq "<random GUID>"` and `GET
//! /Groups?excludedAttributes=members&filter=displayName eq "<random GUID>"`
//! (the doc's "Get Group by displayName" request), with the secret as bearer,
//! expecting `200` with an empty `ListResponse`. Running the same requests
//! from this computer first turns Entra's terse failure into a cause and a fix.
//! `/ResourceTypes` (RFC 7644 §4) then tells whether Orchidea serves groups at
//! all ([`ProbeReport::groups`]), which decides the group mapping (step 9).
//!
//! Checks run in order and stop at the first failure: the later ones would
//! fail for the same reason and only add noise.

use std::error::Error as _;
use std::time::{Duration, Instant};

use url::Url;

use crate::platform::secret::Secret;

/// Tuning for [`probe`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    /// An answer slower than this fails the check: Entra gives up on slow
    /// SCIM endpoints. Default 10 s.
    pub slow_after: Duration,
    /// Each request is abandoned after this long. Default 30 s.
    pub timeout: Duration,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            slow_after: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Why a check failed. [`cause`](Self::cause) and [`fix`](Self::fix) are
/// sentences for the admin; neither ever contains the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeFailure {
    /// The host name does not resolve.
    Dns { host: String },
    /// The TLS handshake failed (certificate, or the port does not speak TLS).
    Tls { detail: String },
    /// Nothing listens at the host and port.
    ConnectionRefused { address: String },
    /// No answer within [`ProbeOptions::timeout`].
    Timeout { after_ms: u64 },
    /// Any other connection failure (reset, proxy refused, …).
    Network { detail: String },
    /// 401: the secret is wrong or revoked.
    Unauthorized,
    /// 403: the secret is known but not allowed.
    Forbidden,
    /// 404: the URL is not the SCIM base.
    WrongBasePath { url: String },
    /// An answer, but not SCIM: HTML, not JSON, or not a `ListResponse`.
    NotScim { detail: String },
    /// 400 `invalidFilter`, 501, or results for a value that cannot exist.
    FilterUnsupported { detail: String },
    /// 5xx.
    ServerError { status: u16 },
    /// Answered, but slower than [`ProbeOptions::slow_after`].
    Slow { elapsed_ms: u64, limit_ms: u64 },
    /// 3xx: Entra does not follow redirects.
    Redirect {
        status: u16,
        location: Option<String>,
    },
}

impl ProbeFailure {
    /// What went wrong, in one or two plain sentences.
    pub fn cause(&self) -> String {
        match self {
            Self::Dns { host } => {
                format!("The name \"{host}\" does not resolve: the DNS lookup failed.")
            }
            Self::Tls { detail } => format!(
                "The secure connection (TLS) to the SCIM endpoint failed: {detail}."
            ),
            Self::ConnectionRefused { address } => format!(
                "{address} refused the connection: nothing accepts connections on that host and port."
            ),
            Self::Timeout { after_ms } => format!(
                "The SCIM endpoint did not answer within {} s.",
                seconds(*after_ms)
            ),
            Self::Network { detail } => {
                format!("The connection to the SCIM endpoint failed: {detail}.")
            }
            Self::Unauthorized => "The SCIM endpoint answered 401 Unauthorized: it does not accept this secret (it is wrong, incomplete or revoked).".into(),
            Self::Forbidden => "The SCIM endpoint answered 403 Forbidden: it knows the secret but does not let it read users.".into(),
            Self::WrongBasePath { url } => format!(
                "There is no SCIM Users endpoint under {url} (404 Not Found)."
            ),
            Self::NotScim { detail } => {
                format!("The address answers, but not as a SCIM service: {detail}.")
            }
            Self::FilterUnsupported { detail } => format!(
                "The SCIM endpoint does not handle the user query Entra sends: {detail}."
            ),
            Self::ServerError { status } => format!(
                "The SCIM endpoint failed with HTTP {status}, an error on the server's side."
            ),
            Self::Slow {
                elapsed_ms,
                limit_ms,
            } => format!(
                "The SCIM endpoint took {elapsed_ms} ms to answer, more than the {limit_ms} ms Entra can be relied on to wait."
            ),
            Self::Redirect { status, location } => format!(
                "The SCIM endpoint answered {status} and redirects to {}; Entra does not follow redirects.",
                location.as_deref().unwrap_or("another address")
            ),
        }
    }

    /// What the admin can do about it.
    pub fn fix(&self) -> String {
        match self {
            Self::Dns { .. } => "Check the SCIM URL for typos: it must be the address Orchidea shows under workspace admin → User management → SCIM. If it is right, check this computer's DNS or proxy settings.".into(),
            Self::Tls { .. } => "Make sure the URL starts with https:// and points at Orchidea's SCIM endpoint. Behind a TLS-inspecting proxy, install its root certificate on this computer; Entra itself needs the endpoint's public certificate to be valid.".into(),
            Self::ConnectionRefused { .. } => "Check the host and port in the SCIM URL (Orchidea's SCIM URL normally has no port), and that nothing blocks the connection.".into(),
            Self::Timeout { .. } => "Check the URL and any firewall or proxy between this computer and Orchidea, then retry; Entra's Test Connection would time out the same way.".into(),
            Self::Network { .. } => "Check the SCIM URL and your network or proxy settings, then retry.".into(),
            Self::Unauthorized => "Create a new SCIM secret in Orchidea (workspace admin → User management → SCIM → Create new SCIM secret) and use it; when pasting, copy the whole secret.".into(),
            Self::Forbidden => "Check that SCIM provisioning is enabled for the workspace (it is a paid add-on), then create a new SCIM secret; contact Orchidea support if it persists.".into(),
            Self::WrongBasePath { .. } => "The SCIM URL must end in the SCIM base path, e.g. https://yourcompany.orchidea.com/scim/v2, without /Users. Paste it exactly as Orchidea shows it.".into(),
            Self::NotScim { .. } => "Check the SCIM URL: it must be Orchidea's SCIM base URL (…/scim/v2), not the workspace's web address or a sign-in page.".into(),
            Self::FilterUnsupported { .. } => "Entra finds users with filters such as userName eq \"…\" and externalId eq \"…\". Check the URL is Orchidea's SCIM endpoint; if it is, contact Orchidea support with this message.".into(),
            Self::ServerError { .. } => "Retry in a few minutes; if it persists, contact Orchidea support.".into(),
            Self::Slow { .. } => "Retry; if it stays slow, contact Orchidea support, because Entra's Test Connection and provisioning will time out.".into(),
            Self::Redirect { .. } => "Use the address it redirects to as the SCIM URL (typically https:// instead of http://, or another host name).".into(),
        }
    }
}

impl std::fmt::Display for ProbeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.cause(), self.fix())
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    Pass {
        detail: String,
    },
    /// Works with Entra, but worth knowing.
    Warn {
        detail: String,
        fix: String,
    },
    Fail(ProbeFailure),
}

/// One request of the pre-flight and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub outcome: CheckOutcome,
    pub elapsed_ms: u64,
}

impl Check {
    pub fn is_failure(&self) -> bool {
        matches!(self.outcome, CheckOutcome::Fail(_))
    }

    /// What happened: the pass detail, the warning, or the failure's cause.
    pub fn cause(&self) -> String {
        match &self.outcome {
            CheckOutcome::Pass { detail } | CheckOutcome::Warn { detail, .. } => detail.clone(),
            CheckOutcome::Fail(f) => f.cause(),
        }
    }

    /// What to do; empty for a pass.
    pub fn fix(&self) -> String {
        match &self.outcome {
            CheckOutcome::Pass { .. } => String::new(),
            CheckOutcome::Warn { fix, .. } => fix.clone(),
            CheckOutcome::Fail(f) => f.fix(),
        }
    }

    /// One line for logs and reports: `PASS Reach the SCIM endpoint: … (12 ms)`.
    pub fn line(&self) -> String {
        let (label, fix) = match &self.outcome {
            CheckOutcome::Pass { .. } => ("PASS", String::new()),
            CheckOutcome::Warn { fix, .. } => ("WARN", format!(" {fix}")),
            CheckOutcome::Fail(f) => ("FAIL", format!(" {}", f.fix())),
        };
        format!(
            "{label} {}: {}{fix} ({} ms)",
            self.name,
            self.cause(),
            self.elapsed_ms
        )
    }
}

/// Everything [`probe`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    pub checks: Vec<Check>,
    pub elapsed: Duration,
    /// Whether the SCIM service serves groups: from `/ResourceTypes`, else
    /// from the answer to the group request; `None` when neither tells.
    pub groups: Option<bool>,
}

impl ProbeReport {
    /// True when at least one check ran and none failed (warnings pass).
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.first_failure().is_none()
    }

    pub fn first_failure(&self) -> Option<&ProbeFailure> {
        self.checks.iter().find_map(|c| match &c.outcome {
            CheckOutcome::Fail(f) => Some(f),
            _ => None,
        })
    }

    /// One line per check, for the CLI and the JSON report.
    pub fn lines(&self) -> Vec<String> {
        self.checks.iter().map(Check::line).collect()
    }
}

pub const CHECK_REACH: &str = "Reach the SCIM endpoint";
pub const CHECK_USERNAME: &str = "Find a user by userName (Entra's Test Connection)";
pub const CHECK_EXTERNAL_ID: &str = "Find a user by externalId (Orchidea matches on it)";
pub const CHECK_CONFIG: &str = "ServiceProviderConfig";
pub const CHECK_GROUP: &str = "Find a group by displayName (Entra's Test Connection)";
pub const CHECK_RESOURCE_TYPES: &str = "Resource types (does it serve groups?)";
/// Only present, as a warning, for a host Entra cannot reach.
pub const CHECK_PUBLIC: &str = "A public address Entra can reach";

/// Runs the pre-flight against `scim_url` (the SCIM base, e.g. `…/scim/v2`).
pub async fn probe(
    http: &reqwest::Client,
    scim_url: &Url,
    secret: &Secret,
    opts: &ProbeOptions,
) -> ProbeReport {
    let started = Instant::now();
    let base = base_url(scim_url);
    let mut checks = Vec::new();
    let prober = Prober { http, secret, opts };

    // 0. A private host may answer here yet never answer Entra.
    if let Some(detail) = crate::services::orchidea::scim_host_warning(&base) {
        tracing::warn!("{detail}");
        checks.push(Check {
            name: CHECK_PUBLIC.into(),
            outcome: CheckOutcome::Warn {
                detail,
                fix: "If Orchidea runs inside your network, publish its SCIM endpoint on a public https:// address first.".into(),
            },
            elapsed_ms: 0,
        });
    }

    // 1. Reach: no bearer; any HTTP answer means DNS, TCP and TLS work.
    let reach = prober.fetch(&base, false).await;
    checks.push(match reach {
        Ok(f) => Check {
            name: CHECK_REACH.into(),
            outcome: CheckOutcome::Pass {
                detail: format!(
                    "{} answered over {} (HTTP {})",
                    host_port(&base),
                    base.scheme().to_uppercase(),
                    f.status
                ),
            },
            elapsed_ms: f.elapsed_ms,
        },
        Err((failure, elapsed_ms)) => Check {
            name: CHECK_REACH.into(),
            outcome: CheckOutcome::Fail(failure),
            elapsed_ms,
        },
    });

    // 2–6 do not depend on each other: asked together (one round trip
    // instead of five), reported in order up to the first failure.
    let mut groups = None;
    if !checks.iter().any(Check::is_failure) {
        let (user_name, (group, served), external_id, (types, listed), config) = futures::join!(
            prober.filter_check(CHECK_USERNAME, &base, "userName"),
            prober.group_check(&base),
            prober.filter_check(CHECK_EXTERNAL_ID, &base, "externalId"),
            prober.resource_types_check(&base),
            prober.config_check(&base),
        );
        for check in [user_name, group, external_id, types, config] {
            if checks.iter().any(Check::is_failure) {
                break;
            }
            checks.push(check);
        }
        if !checks.iter().any(Check::is_failure) {
            groups = listed.or(served);
        }
    }

    ProbeReport {
        checks,
        elapsed: started.elapsed(),
        groups,
    }
}

struct Prober<'a> {
    http: &'a reqwest::Client,
    secret: &'a Secret,
    opts: &'a ProbeOptions,
}

struct Fetched {
    status: u16,
    content_type: String,
    location: Option<String>,
    body: Vec<u8>,
    elapsed_ms: u64,
}

impl Prober<'_> {
    async fn fetch(&self, url: &Url, with_secret: bool) -> Result<Fetched, (ProbeFailure, u64)> {
        let started = Instant::now();
        let mut request = self
            .http
            .get(url.clone())
            .timeout(self.opts.timeout)
            .header(
                reqwest::header::ACCEPT,
                "application/scim+json, application/json",
            );
        if with_secret {
            request = request.bearer_auth(self.secret.expose());
        }
        let ms = |s: Instant| u64::try_from(s.elapsed().as_millis()).unwrap_or(u64::MAX);
        let fail = |e: reqwest::Error| (self.classify(&e, url), ms(started));
        let response = request.send().await.map_err(fail)?;
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(|v| self.scrub(v))
        };
        let status = response.status().as_u16();
        let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
        let location = header(reqwest::header::LOCATION);
        let body =
            match crate::platform::http::read_body(response, crate::platform::http::SCIM_BODY_CAP)
                .await
            {
                Ok(body) => body,
                Err(crate::platform::http::BodyError::Transport(e)) => return Err(fail(e)),
                Err(too_large) => {
                    let detail = too_large.to_string();
                    return Err((ProbeFailure::NotScim { detail }, ms(started)));
                }
            };
        Ok(Fetched {
            status,
            content_type,
            location,
            body,
            elapsed_ms: ms(started),
        })
    }

    /// Names a transport failure by walking the error's sources: reqwest's
    /// own message only says "error sending request".
    fn classify(&self, err: &reqwest::Error, url: &Url) -> ProbeFailure {
        if err.is_timeout() {
            return ProbeFailure::Timeout {
                after_ms: u64::try_from(self.opts.timeout.as_millis()).unwrap_or(u64::MAX),
            };
        }
        let mut chain = Vec::new();
        if let Some(source) = err.source() {
            flatten(source, &mut chain);
        }
        let timeout_ms = u64::try_from(self.opts.timeout.as_millis()).unwrap_or(u64::MAX);
        let mut innermost = err.to_string();
        for e in chain {
            if let Some(tls) = e.downcast_ref::<rustls::Error>() {
                return ProbeFailure::Tls {
                    detail: tls_detail(tls),
                };
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => {
                        return ProbeFailure::ConnectionRefused {
                            address: host_port(url),
                        };
                    }
                    std::io::ErrorKind::TimedOut => {
                        return ProbeFailure::Timeout {
                            after_ms: timeout_ms,
                        };
                    }
                    _ => {}
                }
            }
            let text = e.to_string();
            let lower = text.to_lowercase();
            // hyper-util's resolver errors carry no type of their own.
            if [
                "dns error",
                "failed to lookup address",
                "name or service not known",
                "no such host",
                "nodename nor servname",
                "temporary failure in name resolution",
            ]
            .iter()
            .any(|m| lower.contains(m))
            {
                return ProbeFailure::Dns {
                    host: url.host_str().unwrap_or_default().to_string(),
                };
            }
            if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
            {
                return ProbeFailure::Tls {
                    detail: self.scrub(&text),
                };
            }
            innermost = text;
        }
        ProbeFailure::Network {
            detail: self.scrub(&innermost),
        }
    }

    async fn filter_check(&self, name: &str, base: &Url, attribute: &str) -> Check {
        let value = uuid::Uuid::new_v4().to_string();
        let url = users_query(base, &format!("{attribute} eq \"{value}\""));
        let (outcome, elapsed_ms) = match self.fetch(&url, true).await {
            Ok(f) => {
                let outcome = self.judge_list(&f, base, attribute);
                let slow = u64::try_from(self.opts.slow_after.as_millis()).unwrap_or(u64::MAX);
                // A failure explains more than slowness; a slow pass is a failure.
                if f.elapsed_ms > slow && !matches!(outcome, CheckOutcome::Fail(_)) {
                    (
                        CheckOutcome::Fail(ProbeFailure::Slow {
                            elapsed_ms: f.elapsed_ms,
                            limit_ms: slow,
                        }),
                        f.elapsed_ms,
                    )
                } else {
                    (outcome, f.elapsed_ms)
                }
            }
            Err((failure, ms)) => (CheckOutcome::Fail(failure), ms),
        };
        Check {
            name: name.into(),
            outcome,
            elapsed_ms,
        }
    }

    /// Judges the answer to `GET /Users?filter=<attribute> eq "<random GUID>"`.
    fn judge_list(&self, f: &Fetched, base: &Url, attribute: &str) -> CheckOutcome {
        let fail = CheckOutcome::Fail;
        match f.status {
            200 => {}
            300..=399 => {
                return fail(ProbeFailure::Redirect {
                    status: f.status,
                    location: f.location.clone(),
                });
            }
            401 => return fail(ProbeFailure::Unauthorized),
            403 => return fail(ProbeFailure::Forbidden),
            404 => {
                return fail(ProbeFailure::WrongBasePath {
                    url: base.to_string(),
                });
            }
            400 => {
                let detail = self.scim_error_detail(&f.body);
                return fail(ProbeFailure::FilterUnsupported {
                    detail: match detail {
                        Some(d) => {
                            format!("it answered 400 Bad Request to {attribute} eq \"…\" ({d})")
                        }
                        None => format!("it answered 400 Bad Request to {attribute} eq \"…\""),
                    },
                });
            }
            501 => {
                return fail(ProbeFailure::FilterUnsupported {
                    detail: "it answered 501 Not Implemented to a filtered query".into(),
                });
            }
            500..=599 => return fail(ProbeFailure::ServerError { status: f.status }),
            other => {
                return fail(ProbeFailure::NotScim {
                    detail: format!("it answered HTTP {other} to GET /Users"),
                });
            }
        }
        let mime = f
            .content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let mut warnings = Vec::new();
        match mime.as_str() {
            "application/scim+json" => {}
            "application/json" => warnings.push(
                "it answers with Content-Type application/json instead of application/scim+json",
            ),
            "" => {
                return fail(ProbeFailure::NotScim {
                    detail: "its answer has no content type".into(),
                });
            }
            other => {
                let what = if other.contains("html") {
                    format!("it answered with a web page ({other}), not SCIM JSON")
                } else {
                    format!("it answered with {other}, not SCIM JSON")
                };
                return fail(ProbeFailure::NotScim { detail: what });
            }
        }
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&f.body) else {
            return fail(ProbeFailure::NotScim {
                detail: "its answer is not valid JSON".into(),
            });
        };
        let Some(total) = json.get("totalResults").and_then(serde_json::Value::as_u64) else {
            return fail(ProbeFailure::NotScim {
                detail: "its answer is JSON but not a SCIM ListResponse (no totalResults)".into(),
            });
        };
        let listed = json
            .get("Resources")
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len);
        if total > 0 || listed > 0 {
            return fail(ProbeFailure::FilterUnsupported {
                detail: format!(
                    "asked for a {attribute} that cannot exist, it returned {} user(s), so it ignores the filter",
                    total.max(listed as u64)
                ),
            });
        }
        let is_list = json
            .get("schemas")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|s| s.iter().any(|v| v == LIST_RESPONSE));
        if !is_list {
            warnings.push("its ListResponse does not name the ListResponse schema");
        }
        if warnings.is_empty() {
            CheckOutcome::Pass {
                detail: format!("200 with an empty ListResponse for a random {attribute}"),
            }
        } else {
            CheckOutcome::Warn {
                detail: format!("Works, but {}", warnings.join("; and ")),
                fix: "Entra accepts this; nothing to do.".into(),
            }
        }
    }

    /// Test Connection's second request. Groups are optional for a SCIM app
    /// (the Entra doc: "You are not required to support both users and
    /// groups"), so a 404 passes and only says there are none; the answers
    /// that fail the user request fail this one too. Also returns whether
    /// the answer shows groups are served.
    async fn group_check(&self, base: &Url) -> (Check, Option<bool>) {
        let value = uuid::Uuid::new_v4().to_string();
        let url = groups_query(base, &format!("displayName eq \"{value}\""));
        let (outcome, served, elapsed_ms) = match self.fetch(&url, true).await {
            Err((failure, ms)) => (CheckOutcome::Fail(failure), None, ms),
            Ok(f) if f.status == 404 => (
                CheckOutcome::Pass {
                    detail: "404: no /Groups endpoint, so Orchidea receives no groups".into(),
                },
                Some(false),
                f.elapsed_ms,
            ),
            Ok(f) => {
                let outcome = match self.judge_list(&f, base, "displayName") {
                    CheckOutcome::Pass { .. } => CheckOutcome::Pass {
                        detail: "200 with an empty ListResponse for a random group displayName"
                            .into(),
                    },
                    CheckOutcome::Fail(
                        failure @ (ProbeFailure::Unauthorized
                        | ProbeFailure::Forbidden
                        | ProbeFailure::ServerError { .. }
                        | ProbeFailure::Redirect { .. }),
                    ) => CheckOutcome::Fail(failure),
                    CheckOutcome::Fail(other) => CheckOutcome::Warn {
                        detail: format!("The group request did not work: {}", other.cause()),
                        fix: "Orchidea provisions users only; if groups should reach it, contact Orchidea support.".into(),
                    },
                    warn => warn,
                };
                let served = (f.status == 200).then_some(true);
                (outcome, served, f.elapsed_ms)
            }
        };
        let check = Check {
            name: CHECK_GROUP.into(),
            outcome,
            elapsed_ms,
        };
        (check, served)
    }

    /// Informational: reads `/ResourceTypes` (RFC 7644 §4) and says whether
    /// a `Group` resource type is listed (`None` when it cannot be read).
    async fn resource_types_check(&self, base: &Url) -> (Check, Option<bool>) {
        let mut url = base.clone();
        push_segment(&mut url, "ResourceTypes");
        let (outcome, listed, elapsed_ms) = match self.fetch(&url, true).await {
            Err((failure, ms)) => (
                CheckOutcome::Warn {
                    detail: failure.cause(),
                    fix: UNKNOWN_GROUPS.into(),
                },
                None,
                ms,
            ),
            Ok(f) => {
                let json = serde_json::from_slice::<serde_json::Value>(&f.body).ok();
                let listed = match (f.status, &json) {
                    (200, Some(json)) => json["Resources"].as_array().map(|types| {
                        types.iter().any(|t| {
                            t["name"] == "Group"
                                || t["id"] == "Group"
                                || t["schema"] == GROUP_SCHEMA
                        })
                    }),
                    _ => None,
                };
                let outcome = match listed {
                    Some(true) => CheckOutcome::Pass {
                        detail: "It serves users and groups: the group mapping stays enabled".into(),
                    },
                    Some(false) => CheckOutcome::Pass {
                        detail: "It lists no Group resource type: step 9 disables the group mapping, so Entra does not push groups it cannot take".into(),
                    },
                    None => CheckOutcome::Warn {
                        detail: format!("/ResourceTypes could not be read (HTTP {})", f.status),
                        fix: UNKNOWN_GROUPS.into(),
                    },
                };
                (outcome, listed, f.elapsed_ms)
            }
        };
        let check = Check {
            name: CHECK_RESOURCE_TYPES.into(),
            outcome,
            elapsed_ms,
        };
        (check, listed)
    }

    /// Informational only: a missing or odd ServiceProviderConfig warns.
    async fn config_check(&self, base: &Url) -> Check {
        let mut url = base.clone();
        push_segment(&mut url, "ServiceProviderConfig");
        let warn = |detail: String, fix: &str| CheckOutcome::Warn {
            detail,
            fix: fix.into(),
        };
        let nothing = "Entra's Test Connection does not need it; nothing to do.";
        let (outcome, elapsed_ms) = match self.fetch(&url, true).await {
            Err((failure, ms)) => (warn(failure.cause(), nothing), ms),
            Ok(f) => {
                let json = serde_json::from_slice::<serde_json::Value>(&f.body).ok();
                let outcome = match (f.status, json) {
                    (200, Some(json)) if json.is_object() => {
                        let supported = |k: &str| json[k]["supported"].as_bool().unwrap_or(false);
                        let max = json["filter"]["maxResults"].as_u64();
                        let detail = format!(
                            "PATCH {}, filter {}{}",
                            if supported("patch") {
                                "supported"
                            } else {
                                "not supported"
                            },
                            if supported("filter") {
                                "supported"
                            } else {
                                "not supported"
                            },
                            max.map(|m| format!(" (up to {m} results)"))
                                .unwrap_or_default()
                        );
                        if supported("patch") {
                            CheckOutcome::Pass { detail }
                        } else {
                            warn(
                                detail,
                                "Entra updates and disables users with PATCH; ask Orchidea support whether PATCH works.",
                            )
                        }
                    }
                    (200, _) => warn("It answered, but not with JSON".into(), nothing),
                    (status, _) => warn(format!("Not available (HTTP {status})"), nothing),
                };
                (outcome, f.elapsed_ms)
            }
        };
        Check {
            name: CHECK_CONFIG.into(),
            outcome,
            elapsed_ms,
        }
    }

    /// The `detail` (and `scimType`) of a SCIM error body, if it is one.
    fn scim_error_detail(&self, body: &[u8]) -> Option<String> {
        let json: serde_json::Value = serde_json::from_slice(body).ok()?;
        let detail = json["detail"].as_str().map(str::to_string);
        let kind = json["scimType"].as_str().map(str::to_string);
        let text = match (kind, detail) {
            (Some(k), Some(d)) => format!("{k}: {d}"),
            (Some(k), None) => k,
            (None, Some(d)) => d,
            (None, None) => return None,
        };
        Some(self.scrub(&text))
    }

    /// Server text shown to the admin: never the secret, never a novel.
    fn scrub(&self, text: &str) -> String {
        let secret = self.secret.expose();
        let clean = if secret.is_empty() {
            text.to_string()
        } else {
            text.replace(secret, "<redacted>")
        };
        if clean.chars().count() > 200 {
            format!("{}…", clean.chars().take(200).collect::<String>())
        } else {
            clean
        }
    }
}

const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const UNKNOWN_GROUPS: &str =
    "The group mapping is left as it is; nothing to do unless groups fail to provision.";

/// The error and everything under it. `io::Error::source` skips the error it
/// wraps (tokio-rustls nests a `rustls::Error` two `io::Error`s deep), so
/// descend through `get_ref` as well.
fn flatten<'a>(
    err: &'a (dyn std::error::Error + 'static),
    out: &mut Vec<&'a (dyn std::error::Error + 'static)>,
) {
    out.push(err);
    if let Some(inner) = err
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        flatten(inner, out);
    } else if let Some(source) = err.source() {
        flatten(source, out);
    }
}

/// The SCIM base without a trailing slash, query or fragment.
fn base_url(scim_url: &Url) -> Url {
    let mut base = scim_url.clone();
    base.set_query(None);
    base.set_fragment(None);
    let path = base.path().trim_end_matches('/').to_string();
    base.set_path(if path.is_empty() { "/" } else { &path });
    base
}

fn push_segment(url: &mut Url, segment: &str) {
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(segment);
    }
}

/// `{base}/Users?filter=…`, spaces as `%20` like Entra sends them (some
/// servers do not read `+` as a space).
fn users_query(base: &Url, filter: &str) -> Url {
    let mut url = base.clone();
    push_segment(&mut url, "Users");
    let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    url.set_query(Some(&format!("filter={}", encoded.replace('+', "%20"))));
    url
}

/// `{base}/Groups?excludedAttributes=members&filter=…`, in the order of the
/// Entra doc's "Get Group by displayName" request.
fn groups_query(base: &Url, filter: &str) -> Url {
    let mut url = base.clone();
    push_segment(&mut url, "Groups");
    let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    url.set_query(Some(&format!(
        "excludedAttributes=members&filter={}",
        encoded.replace('+', "%20")
    )));
    url
}

fn host_port(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => url.to_string(),
    }
}

fn tls_detail(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            "the server did not answer with TLS (is it plain http:// on this port?)".into()
        }
        rustls::Error::InvalidCertificate(c) => {
            format!("the server's certificate is not valid ({c:?})")
        }
        other => other.to_string(),
    }
}

fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        (ms / 1000).to_string()
    } else {
        format!("{:.1}", ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_query_encodes_like_entra() {
        let base = base_url(&"https://a.example/scim/v2/".parse().unwrap());
        let url = users_query(&base, "userName eq \"x y\"");
        assert_eq!(
            url.as_str(),
            "https://a.example/scim/v2/Users?filter=userName%20eq%20%22x%20y%22"
        );
        let pairs: Vec<_> = url.query_pairs().collect();
        assert_eq!(pairs[0].1, "userName eq \"x y\"");
        assert_eq!(
            groups_query(&base, "displayName eq \"g 1\"").as_str(),
            "https://a.example/scim/v2/Groups?excludedAttributes=members&filter=displayName%20eq%20%22g%201%22"
        );
    }

    #[test]
    fn every_failure_has_cause_and_fix() {
        let all = [
            ProbeFailure::Dns { host: "h".into() },
            ProbeFailure::Tls { detail: "d".into() },
            ProbeFailure::ConnectionRefused {
                address: "a:1".into(),
            },
            ProbeFailure::Timeout { after_ms: 1500 },
            ProbeFailure::Network { detail: "d".into() },
            ProbeFailure::Unauthorized,
            ProbeFailure::Forbidden,
            ProbeFailure::WrongBasePath { url: "u".into() },
            ProbeFailure::NotScim { detail: "d".into() },
            ProbeFailure::FilterUnsupported { detail: "d".into() },
            ProbeFailure::ServerError { status: 502 },
            ProbeFailure::Slow {
                elapsed_ms: 2,
                limit_ms: 1,
            },
            ProbeFailure::Redirect {
                status: 301,
                location: None,
            },
        ];
        for f in all {
            assert!(f.cause().ends_with('.'), "{f:?}");
            assert!(f.fix().ends_with('.'), "{f:?}");
        }
        assert!(
            ProbeFailure::Timeout { after_ms: 1500 }
                .cause()
                .contains("1.5 s")
        );
    }

    #[test]
    fn report_passes_only_without_failures() {
        let pass = Check {
            name: "a".into(),
            outcome: CheckOutcome::Pass {
                detail: "ok".into(),
            },
            elapsed_ms: 1,
        };
        let fail = Check {
            name: "b".into(),
            outcome: CheckOutcome::Fail(ProbeFailure::Unauthorized),
            elapsed_ms: 1,
        };
        let mut report = ProbeReport {
            checks: vec![],
            elapsed: Duration::ZERO,
            groups: None,
        };
        assert!(!report.passed(), "nothing checked is not a pass");
        report.checks.push(pass);
        assert!(report.passed());
        report.checks.push(fail);
        assert!(!report.passed());
        assert_eq!(report.first_failure(), Some(&ProbeFailure::Unauthorized));
        assert!(
            report.lines()[1].starts_with("FAIL b: "),
            "{:?}",
            report.lines()
        );
    }
}
