//! Entra's sign-in errors in an IT admin's words (`reference-error-codes.md`).
//!
//! Entra puts the AADSTS code first in `error_description` and appends
//! `Trace ID: … Correlation ID: … Timestamp: …`; oauth2's standard error
//! type drops the separate `error_codes`/`trace_id` fields, so everything
//! here is read from `error` and `error_description` alone.

// AADSTS codes are identifiers, written as Microsoft prints them.
#![allow(clippy::unreadable_literal)]

use std::fmt;

use super::SignInConfig;

/// What Microsoft support asks for: the AADSTS code and Entra's ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Support {
    pub aadsts: Option<u32>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
}

impl Support {
    /// Reads `AADSTS65001: … Trace ID: x Correlation ID: y …`.
    pub fn parse(description: &str) -> Support {
        let aadsts = description
            .trim_start()
            .strip_prefix("AADSTS")
            .map(|rest| {
                rest.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
            .and_then(|digits| digits.parse().ok());
        let after = |label: &str| {
            let start = description.find(label)? + label.len();
            let id: String = description[start..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
                .collect();
            (!id.is_empty()).then_some(id)
        };
        Support {
            aadsts,
            trace_id: after("Trace ID:"),
            correlation_id: after("Correlation ID:"),
        }
    }
}

impl fmt::Display for Support {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(code) = self.aadsts {
            parts.push(format!("AADSTS{code}"));
        }
        if let Some(t) = &self.trace_id {
            parts.push(format!("trace ID {t}"));
        }
        if let Some(c) = &self.correlation_id {
            parts.push(format!("correlation ID {c}"));
        }
        if parts.is_empty() {
            Ok(())
        } else {
            write!(f, " [{}]", parts.join(", "))
        }
    }
}

/// Sign-in failures; `Display` is one sentence for the admin, followed by
/// the AADSTS code and Entra's ids for support. No variant holds a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInError {
    /// Nobody granted the wizard's permissions and this user may not
    /// (AADSTS65001, 90094, 90008, 90099).
    ConsentRequired {
        /// `{login}{tenant}/v2.0/adminconsent?client_id=…&scope=…`.
        admin_consent_url: Option<String>,
        support: Support,
    },
    /// The user declined on the consent page (AADSTS65004) or on the
    /// device-code page (`authorization_declined`, AADSTS70000 there).
    Declined {
        support: Support,
    },
    /// Conditional Access blocks this sign-in (AADSTS53003 and kin).
    DeviceCodeBlocked {
        support: Support,
    },
    /// Tenant not found (90002), user from another tenant (50020), app not
    /// in that directory (700016).
    WrongTenant {
        tenant: String,
        client_id: String,
        support: Support,
    },
    /// The code, refresh token or session expired or was revoked.
    ExpiredSignIn {
        support: Support,
    },
    /// The device code is unknown to Entra (`bad_verification_code`).
    DeviceCodeInvalid {
        support: Support,
    },
    /// AADSTS501481: the PKCE verifier did not match the challenge.
    PkceMismatch {
        support: Support,
    },
    /// The browser brought back a `state` that is not this sign-in's.
    StateMismatch,
    Cancelled,
    /// Not finished in time (the 5-minute browser wait, or an expired device code).
    TimedOut,
    /// The loopback listener for the browser's answer could not start.
    Listener(String),
    Network(String),
    Other {
        code: String,
        description: String,
    },
}

impl fmt::Display for SignInError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignInError::ConsentRequired {
                admin_consent_url,
                support,
            } => {
                let how = match admin_consent_url {
                    Some(url) => format!("by opening {url}"),
                    None => "in the Entra admin center (Enterprise applications, Permissions)".into(),
                };
                write!(
                    f,
                    "The wizard's permissions have not been granted in this tenant and this account may not grant them: an administrator (Global Administrator, or Cloud Application Administrator) must grant admin consent {how}, then sign in again.{support}"
                )
            }
            SignInError::Declined { support } => write!(
                f,
                "The sign-in was declined, so the wizard has no permission to configure provisioning: sign in again and accept, or ask an administrator to grant admin consent.{support}"
            ),
            SignInError::DeviceCodeBlocked { support } => write!(
                f,
                "Your organization's Conditional Access policy blocks this sign-in (device code sign-in is often blocked): use the browser sign-in instead, or ask the administrator which sign-in is allowed.{support}"
            ),
            SignInError::WrongTenant {
                tenant,
                client_id,
                support,
            } => match support.aadsts {
                Some(50020) => write!(
                    f,
                    "This account belongs to another organization than the tenant \"{tenant}\": sign in with an account of that tenant, or enter the tenant the account belongs to.{support}"
                ),
                Some(700016) => write!(
                    f,
                    "The application {client_id} was not found in the tenant \"{tenant}\": check the client ID, and that the app registration exists in (or is consented in) that tenant.{support}"
                ),
                _ => write!(
                    f,
                    "The tenant \"{tenant}\" was not found: check the tenant ID or domain, and that the chosen Microsoft cloud is the tenant's.{support}"
                ),
            },
            SignInError::ExpiredSignIn { support } => write!(
                f,
                "The sign-in has expired or was revoked: sign in again.{support}"
            ),
            SignInError::DeviceCodeInvalid { support } => write!(
                f,
                "Microsoft did not recognise the device code: start the sign-in again to get a new code.{support}"
            ),
            SignInError::PkceMismatch { support } => write!(
                f,
                "The sign-in failed a security check (the proof key did not match the sign-in request): start the sign-in again.{support}"
            ),
            SignInError::StateMismatch => f.write_str(
                "The browser returned an answer that does not belong to this sign-in, so it was ignored for safety: start the sign-in again.",
            ),
            SignInError::Cancelled => f.write_str("The sign-in was cancelled."),
            SignInError::TimedOut => {
                f.write_str("The sign-in was not finished in time: start it again.")
            }
            SignInError::Listener(detail) => write!(
                f,
                "The wizard could not wait for the browser's answer on this computer ({detail}): use the device code sign-in instead."
            ),
            SignInError::Network(detail) => write!(
                f,
                "Could not reach Microsoft's sign-in service ({detail}): check the network connection and proxy settings, then retry."
            ),
            // Not Entra's refusal: something between us and it answered.
            SignInError::Other { code, description }
                if code == "unreadable_response" || code == "unexpected_response" =>
            {
                write!(f, "No answer from Microsoft Entra: {description}")
            }
            SignInError::Other { code, description } => write!(
                f,
                "Microsoft Entra refused the sign-in ({code}): {description}"
            ),
        }
    }
}

impl std::error::Error for SignInError {}

/// Conditional Access refusals (`reference-error-codes.md`): blocked by
/// policy, device not compliant / not joined, location, app protection.
const CONDITIONAL_ACCESS: &[u32] = &[53000, 53001, 53002, 53003, 53004, 530032, 530034];
const CONSENT: &[u32] = &[65001, 90094, 90008, 90099, 650052, 650057];
const EXPIRED: &[u32] = &[70008, 700082, 700084, 50173, 50133, 50089, 700081, 70043];

/// Maps an OAuth `error` and Entra's `error_description` to a
/// [`SignInError`]. Pure; [`SignInError::in_context`] adds the tenant,
/// client and admin-consent URL.
pub fn classify(error: &str, description: Option<&str>) -> SignInError {
    let description = description.unwrap_or_default();
    let support = Support::parse(description);
    let code = support.aadsts;
    let is = |set: &[u32]| code.is_some_and(|c| set.contains(&c));
    match (error, code) {
        (_, Some(501481)) => SignInError::PkceMismatch { support },
        (_, Some(65004)) | ("authorization_declined", _) => SignInError::Declined { support },
        (_, Some(90002 | 50020 | 700016 | 90072)) | ("invalid_tenant", _) => {
            SignInError::WrongTenant {
                tenant: String::new(),
                client_id: String::new(),
                support,
            }
        }
        _ if is(CONSENT) || error == "consent_required" => SignInError::ConsentRequired {
            admin_consent_url: None,
            support,
        },
        _ if is(CONDITIONAL_ACCESS) => SignInError::DeviceCodeBlocked { support },
        ("bad_verification_code", _) => SignInError::DeviceCodeInvalid { support },
        ("expired_token", _) => SignInError::TimedOut,
        _ if is(EXPIRED) || error == "invalid_grant" && code.is_none() => {
            SignInError::ExpiredSignIn { support }
        }
        ("access_denied", None) => SignInError::Declined { support },
        _ => SignInError::Other {
            code: match code {
                Some(c) => format!("{error}, AADSTS{c}"),
                None => error.to_string(),
            },
            description: description.to_string(),
        },
    }
}

impl SignInError {
    /// Adds what only the caller knows: the tenant and client used, and
    /// the admin-consent link for the scopes asked.
    #[must_use]
    pub fn in_context(self, cfg: &SignInConfig) -> SignInError {
        match self {
            SignInError::WrongTenant { support, .. } => SignInError::WrongTenant {
                tenant: cfg.tenant.clone(),
                client_id: cfg.client_id.clone(),
                support,
            },
            SignInError::ConsentRequired { support, .. } => SignInError::ConsentRequired {
                admin_consent_url: Some(cfg.admin_consent_url().to_string()),
                support,
            },
            other => other,
        }
    }

    /// The AADSTS code, when Entra gave one.
    pub fn aadsts(&self) -> Option<u32> {
        match self {
            SignInError::ConsentRequired { support, .. }
            | SignInError::Declined { support }
            | SignInError::DeviceCodeBlocked { support }
            | SignInError::WrongTenant { support, .. }
            | SignInError::ExpiredSignIn { support }
            | SignInError::DeviceCodeInvalid { support }
            | SignInError::PkceMismatch { support } => support.aadsts,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(code: u32) -> String {
        format!(
            "AADSTS{code}: Something. Trace ID: 0b1c2d3e-aaaa-4bbb-8ccc-123456789abc Correlation ID: 11111111-2222-3333-4444-555555555555 Timestamp: 2026-01-01 10:00:00Z"
        )
    }

    #[test]
    fn support_ids_are_read_from_the_description() {
        let s = Support::parse(&desc(65001));
        assert_eq!(s.aadsts, Some(65001));
        assert_eq!(
            s.trace_id.as_deref(),
            Some("0b1c2d3e-aaaa-4bbb-8ccc-123456789abc")
        );
        assert_eq!(
            s.correlation_id.as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
        assert_eq!(Support::parse("no code"), Support::default());
    }

    #[test]
    fn every_mapped_code_lands_in_its_variant() {
        use SignInError as E;
        type Check = fn(&SignInError) -> bool;
        let cases: &[(&str, u32, Check)] = &[
            ("invalid_grant", 65001, |e| {
                matches!(e, E::ConsentRequired { .. })
            }),
            ("invalid_client", 90094, |e| {
                matches!(e, E::ConsentRequired { .. })
            }),
            ("invalid_grant", 90008, |e| {
                matches!(e, E::ConsentRequired { .. })
            }),
            ("access_denied", 65004, |e| matches!(e, E::Declined { .. })),
            ("authorization_declined", 70000, |e| {
                matches!(e, E::Declined { .. })
            }),
            ("invalid_grant", 53003, |e| {
                matches!(e, E::DeviceCodeBlocked { .. })
            }),
            ("invalid_grant", 53000, |e| {
                matches!(e, E::DeviceCodeBlocked { .. })
            }),
            ("invalid_tenant", 90002, |e| {
                matches!(e, E::WrongTenant { .. })
            }),
            ("invalid_request", 50020, |e| {
                matches!(e, E::WrongTenant { .. })
            }),
            ("unauthorized_client", 700016, |e| {
                matches!(e, E::WrongTenant { .. })
            }),
            ("invalid_grant", 70008, |e| {
                matches!(e, E::ExpiredSignIn { .. })
            }),
            ("invalid_grant", 700082, |e| {
                matches!(e, E::ExpiredSignIn { .. })
            }),
            ("invalid_grant", 700084, |e| {
                matches!(e, E::ExpiredSignIn { .. })
            }),
            ("invalid_grant", 50173, |e| {
                matches!(e, E::ExpiredSignIn { .. })
            }),
            ("invalid_grant", 501481, |e| {
                matches!(e, E::PkceMismatch { .. })
            }),
            ("bad_verification_code", 70019, |e| {
                matches!(e, E::DeviceCodeInvalid { .. })
            }),
            ("expired_token", 70020, |e| matches!(e, E::TimedOut)),
            ("invalid_request", 900144, |e| matches!(e, E::Other { .. })),
        ];
        for (error, code, check) in cases {
            let e = classify(error, Some(&desc(*code)));
            assert!(check(&e), "{error} AADSTS{code} -> {e:?}");
            if !matches!(e, E::TimedOut) {
                assert!(e.to_string().contains(&format!("AADSTS{code}")), "{e}");
            }
        }
        // Without a code: the OAuth error alone decides.
        assert!(matches!(
            classify("invalid_grant", None),
            E::ExpiredSignIn { .. }
        ));
        assert!(matches!(
            classify("authorization_declined", None),
            E::Declined { .. }
        ));
    }

    #[test]
    fn messages_are_plain_and_keep_support_ids() {
        let e = classify("invalid_grant", Some(&desc(53003)));
        let text = e.to_string();
        assert!(text.contains("browser sign-in"), "{text}");
        assert!(text.contains("trace ID 0b1c2d3e"), "{text}");
        assert!(text.contains("correlation ID 11111111"), "{text}");
        let pkce = classify("invalid_grant", Some(&desc(501481))).to_string();
        assert!(pkce.contains("proof key"), "{pkce}");
        let other = classify("invalid_request", Some(&desc(900144))).to_string();
        assert!(other.contains("invalid_request, AADSTS900144"), "{other}");
    }

    #[test]
    fn context_names_the_tenant_and_the_consent_link() {
        let mut cfg = SignInConfig::for_cloud(crate::platform::cloud::Cloud::Global);
        cfg.tenant = "contoso.onmicrosoft.com".into();
        let wrong = classify("invalid_tenant", Some(&desc(90002))).in_context(&cfg);
        let text = wrong.to_string();
        assert!(
            text.contains("\"contoso.onmicrosoft.com\" was not found"),
            "{text}"
        );
        let other_org = classify("invalid_request", Some(&desc(50020))).in_context(&cfg);
        assert!(other_org.to_string().contains("another organization"));
        let app = classify("unauthorized_client", Some(&desc(700016))).in_context(&cfg);
        assert!(app.to_string().contains(super::super::DEFAULT_CLIENT_ID));
        let consent = classify("invalid_grant", Some(&desc(65001))).in_context(&cfg);
        let text = consent.to_string();
        assert!(
            text.contains("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/adminconsent?client_id=14d82eec-204b-4c2f-b7e8-296a70dab67e&scope="),
            "{text}"
        );
        assert_eq!(consent.aadsts(), Some(65001));
    }
}
