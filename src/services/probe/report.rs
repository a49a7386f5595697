//! What the pre-flight reports: each check's outcome, and each failure
//! with its cause and fix ([`ProbeFailure`]).

use std::time::Duration;

use super::fetch::seconds;

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
    /// 401: the secret is wrong, revoked or expired.
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
            Self::Unauthorized => "The SCIM endpoint answered 401 Unauthorized: it does not accept this secret (it is wrong, incomplete, revoked or expired).".into(),
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

#[cfg(test)]
mod tests {
    use super::*;

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
