//! [`GraphError`]: what went wrong talking to Graph, as the sentence an
//! admin can act on, and how an HTTP answer is classified into one.

use reqwest::StatusCode;
use serde_json::Value;

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
        /// page's table ([`super::permissions`]), with the call.
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

/// A few words on why a request failed, for the retry note.
pub(super) fn short_reason(e: &GraphError) -> String {
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

pub(super) fn encode_error(e: &serde_json::Error) -> GraphError {
    GraphError::UnexpectedBody {
        what: "the request".into(),
        detail: e.to_string(),
    }
}

/// reqwest's own message plus the innermost cause (DNS, TLS, refused…).
pub(super) fn transport_detail(e: &reqwest::Error) -> String {
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

/// The start of a body that is not Graph's JSON error, for a message.
pub(super) fn excerpt(text: &str) -> String {
    text.chars()
        .take(200)
        .collect::<String>()
        .trim()
        .to_string()
}

/// `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
#[derive(Debug, Default)]
pub(super) struct ErrorBody {
    pub(super) code: String,
    pub(super) message: String,
    pub(super) request_id: Option<String>,
}

impl ErrorBody {
    pub(super) fn parse(bytes: &[u8]) -> Self {
        let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
            return Self {
                message: excerpt(&String::from_utf8_lossy(bytes)),
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

pub(super) fn classify(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
