//! Whether an app's SAML settings are the ones Orchidea's article "Azure
//! Active Directory single sign-on (SSO) integration with Orchidea" asks
//! for: SAML mode; Identifier (Entity ID) `https://orchidea.dev`; the
//! Reply URL Orchidea gave (before it gave one, the article's placeholder
//! `https://app.orchidea.dev/api/saml/login/`); Sign on URL the
//! workspace's home `https://app.orchidea.dev/<workspace>`; a signing
//! certificate that has not expired. Pure: the caller reads the app.

use std::fmt;
use std::time::SystemTime;

use url::Url;

use super::sso::{SamlApplication, SamlServicePrincipal};

// Orchidea's values are stated once, with Orchidea's side: the Identifier,
// the placeholder Reply URL's path, and the claim names for its IDP form
// (`SamlAttributeNames::entra_default_claims`).
use crate::services::orchidea::sso::{
    ENTITY_ID as ORCHIDEA_IDENTIFIER, REPLY_PATH_PREFIX as REPLY_PATH,
};

/// Orchidea's app origin; the sandbox's workspace stands in for it in tests.
pub const ORCHIDEA_APP_ORIGIN: &str = "https://app.orchidea.dev";

/// What Orchidea asks for, for one workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrchideaSaml {
    origin: String,
    workspace: String,
    reply_url: Option<String>,
}

impl OrchideaSaml {
    /// Orchidea's own origin (`https://app.orchidea.dev`).
    pub fn new(workspace: &str) -> OrchideaSaml {
        OrchideaSaml {
            origin: ORCHIDEA_APP_ORIGIN.into(),
            workspace: workspace.trim_matches('/').to_string(),
            reply_url: None,
        }
    }

    /// Another origin (the sandbox's workspace server).
    #[must_use]
    pub fn with_origin(mut self, origin: &Url) -> OrchideaSaml {
        self.origin = origin.as_str().trim_end_matches('/').to_string();
        self
    }

    /// The Reply URL Orchidea gave ("Copy reply URL"); without one, the
    /// placeholder or any reply URL of Orchidea's form is accepted.
    #[must_use]
    pub fn with_reply_url(mut self, reply_url: &str) -> OrchideaSaml {
        self.reply_url = Some(reply_url.trim().to_string());
        self
    }

    /// `https://app.orchidea.dev/<workspace>`.
    pub fn sign_on_url(&self) -> String {
        format!("{}/{}", self.origin, self.workspace)
    }

    /// `https://app.orchidea.dev/api/saml/login/`.
    pub fn placeholder_reply_url(&self) -> String {
        format!("{}{REPLY_PATH}", self.origin)
    }

    fn orchidea_form(&self, url: &str) -> bool {
        url.starts_with(&self.placeholder_reply_url())
    }
}

/// One way the app differs from what Orchidea asks; `Display` says what
/// is wrong and what it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SamlIssue {
    NotSaml {
        mode: Option<String>,
    },
    NoIdentifier {
        found: Vec<String>,
    },
    NoReplyUrl {
        expected: String,
        found: Vec<String>,
    },
    PlaceholderReplyUrl {
        placeholder: String,
    },
    SignOnUrl {
        expected: String,
        found: Option<String>,
    },
    NoSigningCertificate,
    /// `preferredTokenSigningKeyThumbprint` names no certificate of the app.
    PreferredCertificateMissing {
        thumbprint: String,
    },
    CertificateExpired {
        thumbprint: String,
        end: String,
    },
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

impl fmt::Display for SamlIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SamlIssue::NotSaml { mode } => write!(
                f,
                "Single sign-on is not SAML (it is {}): choose SAML.",
                mode.as_deref().unwrap_or("not set")
            ),
            SamlIssue::NoIdentifier { found } => write!(
                f,
                "The Identifier (Entity ID) is not {ORCHIDEA_IDENTIFIER} (it has {}).",
                list(found)
            ),
            SamlIssue::NoReplyUrl { expected, found } => write!(
                f,
                "The Reply URL is not {expected} (it has {}).",
                list(found)
            ),
            SamlIssue::PlaceholderReplyUrl { placeholder } => write!(
                f,
                "The placeholder Reply URL {placeholder} is still there: Orchidea's reply URL replaces it."
            ),
            SamlIssue::SignOnUrl { expected, found } => write!(
                f,
                "The Sign on URL is not {expected} (it is {}).",
                found.as_deref().unwrap_or("not set")
            ),
            SamlIssue::NoSigningCertificate => {
                write!(f, "The app has no SAML signing certificate.")
            }
            SamlIssue::PreferredCertificateMissing { thumbprint } => write!(
                f,
                "The active signing certificate {thumbprint} is not among the app's certificates."
            ),
            SamlIssue::CertificateExpired { thumbprint, end } => write!(
                f,
                "The signing certificate {thumbprint} expired on {}.",
                crate::platform::timefmt::readable(end)
            ),
        }
    }
}

/// Everything that differs from what Orchidea asks; empty when the app is
/// set up as the article says. `now` decides expiry.
pub fn check_saml(
    app: &SamlApplication,
    sp: &SamlServicePrincipal,
    want: &OrchideaSaml,
    now: SystemTime,
) -> Vec<SamlIssue> {
    let mut issues = Vec::new();
    if !sp.is_saml() {
        issues.push(SamlIssue::NotSaml {
            mode: sp.preferred_single_sign_on_mode.clone(),
        });
    }
    if !app.identifier_uris.iter().any(|u| u == ORCHIDEA_IDENTIFIER) {
        issues.push(SamlIssue::NoIdentifier {
            found: app.identifier_uris.clone(),
        });
    }
    let replies = &app.web.redirect_uris;
    match &want.reply_url {
        Some(expected) => {
            if !replies.iter().any(|r| r == expected) {
                issues.push(SamlIssue::NoReplyUrl {
                    expected: expected.clone(),
                    found: replies.clone(),
                });
            }
            let placeholder = want.placeholder_reply_url();
            if *expected != placeholder && replies.contains(&placeholder) {
                issues.push(SamlIssue::PlaceholderReplyUrl { placeholder });
            }
        }
        None if !replies.iter().any(|r| want.orchidea_form(r)) => {
            issues.push(SamlIssue::NoReplyUrl {
                expected: want.placeholder_reply_url(),
                found: replies.clone(),
            });
        }
        None => {}
    }
    let sign_on = want.sign_on_url();
    let found = sp.login_url.as_deref().map(|u| u.trim_end_matches('/'));
    if found != Some(sign_on.trim_end_matches('/')) {
        issues.push(SamlIssue::SignOnUrl {
            expected: sign_on,
            found: sp.login_url.clone(),
        });
    }
    issues.extend(certificate_issue(sp, now));
    issues
}

fn certificate_issue(sp: &SamlServicePrincipal, now: SystemTime) -> Option<SamlIssue> {
    let Some(cert) = sp.active_signing_certificate() else {
        return Some(match &sp.preferred_token_signing_key_thumbprint {
            Some(t)
                if sp
                    .key_credentials
                    .iter()
                    .any(super::sso::KeyCredential::is_signing_certificate) =>
            {
                SamlIssue::PreferredCertificateMissing {
                    thumbprint: t.clone(),
                }
            }
            _ => SamlIssue::NoSigningCertificate,
        });
    };
    let end = cert.end_date_time.clone().unwrap_or_default();
    let ended =
        humantime::parse_rfc3339_weak(end.trim().trim_end_matches('Z')).is_ok_and(|at| at <= now);
    ended.then(|| SamlIssue::CertificateExpired {
        thumbprint: cert.thumbprint().unwrap_or_default(),
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::super::sso::{KeyCredential, WebApplication};
    use super::*;

    fn cert(thumb_id: &str, end: &str) -> KeyCredential {
        KeyCredential {
            kind: Some("AsymmetricX509Cert".into()),
            usage: Some("Verify".into()),
            start_date_time: Some("2026-01-01T00:00:00Z".into()),
            end_date_time: Some(end.into()),
            custom_key_identifier: Some(thumb_id.into()),
            ..KeyCredential::default()
        }
    }

    const THUMB_ID: &str = "2iD8ppbE+D6Kmu1ZvjM2jtQh88E=";
    const THUMB: &str = "DA20FCA696C4F83E8A9AED59BE33368ED421F3C1";

    fn good(reply: &str) -> (SamlApplication, SamlServicePrincipal) {
        let app = SamlApplication {
            id: "a".into(),
            identifier_uris: vec![ORCHIDEA_IDENTIFIER.into()],
            web: WebApplication {
                redirect_uris: vec![reply.into()],
                ..WebApplication::default()
            },
            ..SamlApplication::default()
        };
        let sp = SamlServicePrincipal {
            id: "s".into(),
            preferred_single_sign_on_mode: Some("saml".into()),
            login_url: Some("https://app.orchidea.dev/acme".into()),
            key_credentials: vec![cert(THUMB_ID, "2029-01-01T00:00:00Z")],
            ..SamlServicePrincipal::default()
        };
        (app, sp)
    }

    fn now() -> SystemTime {
        humantime::parse_rfc3339("2027-06-01T00:00:00Z").unwrap()
    }

    #[test]
    fn the_articles_settings_pass_with_the_placeholder_or_the_given_reply_url() {
        let want = OrchideaSaml::new("acme");
        assert_eq!(want.sign_on_url(), "https://app.orchidea.dev/acme");
        let (app, sp) = good("https://app.orchidea.dev/api/saml/login/");
        assert_eq!(check_saml(&app, &sp, &want, now()), vec![]);
        let given = "https://app.orchidea.dev/api/saml/login/idp-7";
        let (app, sp) = good(given);
        assert_eq!(check_saml(&app, &sp, &want, now()), vec![]);
        let want = want.with_reply_url(given);
        assert_eq!(check_saml(&app, &sp, &want, now()), vec![]);
    }

    #[test]
    fn each_difference_is_named() {
        let want = OrchideaSaml::new("acme")
            .with_reply_url("https://app.orchidea.dev/api/saml/login/idp-7");
        let (mut app, mut sp) = good("https://app.orchidea.dev/api/saml/login/");
        app.identifier_uris = vec!["https://orchidea.dev/".into()];
        sp.preferred_single_sign_on_mode = None;
        sp.login_url = Some("https://app.orchidea.dev/other".into());
        sp.key_credentials = vec![cert(THUMB_ID, "2027-01-01T00:00:00Z")];
        let issues = check_saml(&app, &sp, &want, now());
        assert_eq!(
            issues,
            vec![
                SamlIssue::NotSaml { mode: None },
                SamlIssue::NoIdentifier {
                    found: vec!["https://orchidea.dev/".into()]
                },
                SamlIssue::NoReplyUrl {
                    expected: "https://app.orchidea.dev/api/saml/login/idp-7".into(),
                    found: vec!["https://app.orchidea.dev/api/saml/login/".into()]
                },
                SamlIssue::PlaceholderReplyUrl {
                    placeholder: "https://app.orchidea.dev/api/saml/login/".into()
                },
                SamlIssue::SignOnUrl {
                    expected: "https://app.orchidea.dev/acme".into(),
                    found: Some("https://app.orchidea.dev/other".into())
                },
                SamlIssue::CertificateExpired {
                    thumbprint: THUMB.into(),
                    end: "2027-01-01T00:00:00Z".into()
                },
            ]
        );
        assert!(issues[5].to_string().contains("2027-01-01 00:00:00 UTC"));
        assert!(issues[0].to_string().contains("not set"));
    }

    #[test]
    fn certificates_missing_or_not_the_preferred_one() {
        let want = OrchideaSaml::new("acme");
        let (app, mut sp) = good("https://app.orchidea.dev/api/saml/login/");
        sp.preferred_token_signing_key_thumbprint = Some("00".repeat(20));
        assert_eq!(
            check_saml(&app, &sp, &want, now()),
            vec![SamlIssue::PreferredCertificateMissing {
                thumbprint: "00".repeat(20)
            }]
        );
        sp.preferred_token_signing_key_thumbprint = Some(THUMB.to_lowercase());
        assert_eq!(check_saml(&app, &sp, &want, now()), vec![]);
        sp.key_credentials[0].usage = Some("Sign".into());
        assert_eq!(
            check_saml(&app, &sp, &want, now()),
            vec![SamlIssue::NoSigningCertificate]
        );
    }

    #[test]
    fn another_origin_stands_in_for_orchideas() {
        let origin: Url = "http://127.0.0.1:7000/".parse().unwrap();
        let want = OrchideaSaml::new("/acme/").with_origin(&origin);
        assert_eq!(want.sign_on_url(), "http://127.0.0.1:7000/acme");
        assert_eq!(
            want.placeholder_reply_url(),
            "http://127.0.0.1:7000/api/saml/login/"
        );
        let (app, _) = good("https://app.orchidea.dev/api/saml/login/");
        let sp = SamlServicePrincipal::default();
        let issues = check_saml(&app, &sp, &want, now());
        assert!(issues.contains(&SamlIssue::NoReplyUrl {
            expected: "http://127.0.0.1:7000/api/saml/login/".into(),
            found: vec!["https://app.orchidea.dev/api/saml/login/".into()],
        }));
        assert!(issues.contains(&SamlIssue::NoSigningCertificate));
    }
}
