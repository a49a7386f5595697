//! Orchidea's half of SAML SSO (#17): the values Orchidea's SSO article
//! fixes, the reply URL's shape, and the checks on a pasted reply URL.

use std::path::Path;

use url::Url;

use super::manual::shorten;
use super::{OrchideaError, SamlAttributeNames};

/// Identifier (Entity ID) Entra's Basic SAML Configuration holds for Orchidea (article).
pub const ENTITY_ID: &str = "https://orchidea.dev";
/// The Reply URL (ACS) the article has the admin type first, before the IDP exists.
pub const REPLY_URL_PLACEHOLDER: &str = "https://app.orchidea.dev/api/saml/login/";
/// Where every reply URL's path starts (the placeholder's path).
pub const REPLY_PATH_PREFIX: &str = "/api/saml/login/";
/// Orchidea's own domain: its hosts are this and its subdomains.
const ORCHIDEA_DOMAIN: &str = "orchidea.dev";

/// The reply URL of IDP `idp_id` for a workspace served at `workspace_url`:
/// `{origin}/api/saml/login/{idp_id}` (assumed shape: the article gives only
/// the placeholder's origin and path; the IDP's id completes it).
pub fn reply_url_for(workspace_url: &Url, idp_id: &str) -> Url {
    let mut url = workspace_url.clone();
    url.set_query(None);
    url.set_fragment(None);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_path(REPLY_PATH_PREFIX);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().push(idp_id);
    }
    url
}

/// A name for the IDP the guide suggests (any name the workspace lacks works).
pub const SUGGESTED_IDP_NAME: &str = "Microsoft Entra ID (SAML)";

/// The manual path's "+ Add new IDP", one line per field of Orchidea's form
/// (the SSO article's order), ending with what to paste back.
pub fn add_idp_steps(
    metadata_file: &Path,
    attributes: &SamlAttributeNames,
    email_domains: &[String],
) -> Vec<String> {
    let domains = if email_domains.is_empty() {
        "leave empty, or list the domains whose users Orchidea may create on first sign-in".into()
    } else {
        email_domains.join(", ")
    };
    let mut steps = vec![
        "In Orchidea open workspace settings → Authentication and click \"+ Add new IDP\".".into(),
        format!("Name: {SUGGESTED_IDP_NAME} (or any name the workspace does not use yet)."),
        format!("Metadata file: upload {}.", metadata_file.display()),
    ];
    steps.extend(
        attributes
            .labelled()
            .iter()
            .map(|(field, name)| format!("{field} attribute: {name}")),
    );
    steps.push(format!(
        "Email domains for automatic user creation: {domains}."
    ));
    steps.push("Save, click \"Copy reply URL\" on the new IDP and paste it here.".into());
    steps
}

/// What a reply URL may point at besides Orchidea's own hosts.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplyUrlRules<'a> {
    /// The workspace the admin works in: its host is accepted too (a
    /// deployment on its own domain).
    pub workspace_url: Option<&'a Url>,
    /// The run is against the sandbox, whose Orchidea is on loopback.
    pub sandbox: bool,
}

/// Validates a reply URL pasted from Orchidea's "Copy reply URL".
///
/// Surrounding whitespace is trimmed; nothing else is changed, because Entra
/// compares the reply URL with the one in Orchidea's requests exactly.
/// Refused, each with its own message: empty input, a line break, inner
/// spaces, text that is not an absolute URL, schemes other than https (http
/// only on loopback), user info, a query or fragment, loopback for a real
/// tenant, a host that is neither Orchidea's nor the workspace's, a path
/// outside `/api/saml/login/`, and the placeholder itself.
pub fn parse_reply_url(input: &str, rules: ReplyUrlRules<'_>) -> Result<Url, OrchideaError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(OrchideaError::EmptyReplyUrl);
    }
    if text.contains(['\r', '\n']) {
        return Err(OrchideaError::ReplyUrlLineBreak);
    }
    if text.chars().any(char::is_whitespace) {
        return Err(OrchideaError::ReplyUrlInnerSpace);
    }
    let not_a_url = || OrchideaError::ReplyUrlNotAUrl {
        input: shorten(text, 80),
    };
    let url = Url::parse(text).map_err(|_| not_a_url())?;
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(not_a_url());
    };
    let loopback = crate::platform::http::is_loopback(&url);
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(OrchideaError::ReplyUrlNotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(OrchideaError::ReplyUrlCredentials);
    }
    // `Url` drops an empty "?" or "#", so look at the text as well.
    if url.query().is_some() || url.fragment().is_some() || text.contains(['?', '#']) {
        return Err(OrchideaError::ReplyUrlQueryOrFragment);
    }
    if loopback && !rules.sandbox {
        return Err(OrchideaError::ReplyUrlLoopbackForRealTenant);
    }
    let workspace_host = rules.workspace_url.and_then(Url::host_str);
    if !loopback && !is_orchidea_host(host) && !workspace_host.is_some_and(|w| same_host(w, host)) {
        let expected = match workspace_host {
            Some(w) if !is_orchidea_host(w) => format!("app.{ORCHIDEA_DOMAIN} or {w}"),
            _ => format!("app.{ORCHIDEA_DOMAIN}"),
        };
        return Err(OrchideaError::ReplyUrlHost {
            host: host.to_string(),
            expected,
        });
    }
    match url.path().strip_prefix(REPLY_PATH_PREFIX) {
        None => Err(OrchideaError::ReplyUrlPath {
            path: shorten(url.path(), 60),
        }),
        Some(rest) if rest.trim_matches('/').is_empty() => Err(OrchideaError::ReplyUrlPlaceholder),
        Some(_) => Ok(url),
    }
}

/// A reply URL the admin API returned, held to the paste rules with the
/// workspace's own host and loopback allowed: `Err` is
/// [`OrchideaError::ApiReplyUrl`].
pub(super) fn check_api_reply_url(url: &Url, workspace_url: &Url) -> Result<Url, OrchideaError> {
    let rules = ReplyUrlRules {
        workspace_url: Some(workspace_url),
        sandbox: true,
    };
    parse_reply_url(url.as_str(), rules).map_err(|e| {
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        OrchideaError::ApiReplyUrl {
            url: shorten(shown.as_str(), 80),
            problem: e.to_string(),
        }
    })
}

fn is_orchidea_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == ORCHIDEA_DOMAIN || host.ends_with(&format!(".{ORCHIDEA_DOMAIN}"))
}

fn same_host(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real(input: &str) -> Result<Url, OrchideaError> {
        parse_reply_url(input, ReplyUrlRules::default())
    }

    #[test]
    fn reply_url_shape_is_origin_prefix_and_id() {
        for ws in [
            "https://app.orchidea.dev/acme",
            "https://app.orchidea.dev/",
            "https://u:p@app.orchidea.dev/acme?x#y",
        ] {
            let url = reply_url_for(&ws.parse().unwrap(), "idp_1 2");
            assert_eq!(
                url.as_str(),
                "https://app.orchidea.dev/api/saml/login/idp_1%202"
            );
        }
        let sandbox = reply_url_for(&"http://127.0.0.1:4100".parse().unwrap(), "idp_x");
        assert_eq!(
            sandbox.as_str(),
            "http://127.0.0.1:4100/api/saml/login/idp_x"
        );
        assert!(REPLY_URL_PLACEHOLDER.ends_with(REPLY_PATH_PREFIX));
    }

    #[test]
    fn the_add_idp_guide_names_the_file_and_every_attribute() {
        let attributes = SamlAttributeNames::entra_default_claims();
        let file = Path::new("Orchidea SAML metadata.xml");
        let steps = add_idp_steps(file, &attributes, &[]);
        let text = steps.join("\n");
        assert!(
            text.contains("upload Orchidea SAML metadata.xml."),
            "{text}"
        );
        for (_, name) in attributes.labelled() {
            assert!(text.contains(name), "{name}: {text}");
        }
        assert!(attributes.first_name.ends_with("/claims/givenname"));
        assert!(steps.last().unwrap().contains("Copy reply URL"));
        assert!(text.contains("leave empty"), "{text}");
        let with = add_idp_steps(
            file,
            &attributes,
            &["contoso.com".into(), "fabrikam.com".into()],
        );
        assert!(with.join("\n").contains(": contoso.com, fabrikam.com."));
    }

    #[test]
    fn accepts_orchidea_reply_urls_unchanged_but_trimmed() {
        let url = real("  https://app.orchidea.dev/api/saml/login/idp_7f3a \n").unwrap();
        assert_eq!(
            url.as_str(),
            "https://app.orchidea.dev/api/saml/login/idp_7f3a"
        );
        assert!(real("https://orchidea.dev/api/saml/login/a").is_ok());
        assert!(real("https://EU.Orchidea.dev./api/saml/login/a").is_ok());
        let ws: Url = "https://sso.acme.example/acme".parse().unwrap();
        let own = ReplyUrlRules {
            workspace_url: Some(&ws),
            sandbox: false,
        };
        assert!(parse_reply_url("https://sso.acme.example/api/saml/login/a", own).is_ok());
        let sandbox = ReplyUrlRules {
            workspace_url: None,
            sandbox: true,
        };
        assert!(parse_reply_url("http://127.0.0.1:4100/api/saml/login/a", sandbox).is_ok());
    }

    #[test]
    fn each_mistake_has_its_own_message() {
        use OrchideaError as E;
        assert_eq!(real(""), Err(E::EmptyReplyUrl));
        assert_eq!(real(" \n "), Err(E::EmptyReplyUrl));
        assert_eq!(
            real("https://app.orchidea.dev/api/saml/\nlogin/a"),
            Err(E::ReplyUrlLineBreak)
        );
        assert_eq!(
            real("Reply URL: https://app.orchidea.dev/api/saml/login/a"),
            Err(E::ReplyUrlInnerSpace)
        );
        assert!(matches!(
            real("app.orchidea.dev/api/saml/login/a"),
            Err(E::ReplyUrlNotAUrl { .. })
        ));
        assert_eq!(
            real("http://app.orchidea.dev/api/saml/login/a"),
            Err(E::ReplyUrlNotHttps)
        );
        assert_eq!(
            real("https://me:pw@app.orchidea.dev/api/saml/login/a"),
            Err(E::ReplyUrlCredentials)
        );
        for q in ["?x=1", "#top", "?"] {
            assert_eq!(
                real(&format!("https://app.orchidea.dev/api/saml/login/a{q}")),
                Err(E::ReplyUrlQueryOrFragment),
                "{q}"
            );
        }
        assert_eq!(
            real("http://127.0.0.1:4100/api/saml/login/a"),
            Err(E::ReplyUrlLoopbackForRealTenant)
        );
        assert_eq!(
            real("https://login.microsoftonline.com/api/saml/login/a"),
            Err(E::ReplyUrlHost {
                host: "login.microsoftonline.com".into(),
                expected: "app.orchidea.dev".into()
            })
        );
        assert_eq!(
            real("https://evilorchidea.dev/api/saml/login/a"),
            Err(E::ReplyUrlHost {
                host: "evilorchidea.dev".into(),
                expected: "app.orchidea.dev".into()
            })
        );
        let ws: Url = "https://sso.acme.example".parse().unwrap();
        let msg = parse_reply_url(
            "https://other.example/api/saml/login/a",
            ReplyUrlRules {
                workspace_url: Some(&ws),
                sandbox: false,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("app.orchidea.dev or sso.acme.example"),
            "{msg}"
        );
        assert_eq!(
            real("https://app.orchidea.dev/acme"),
            Err(E::ReplyUrlPath {
                path: "/acme".into()
            })
        );
        assert_eq!(
            real("https://app.orchidea.dev/api/saml/login"),
            Err(E::ReplyUrlPath {
                path: "/api/saml/login".into()
            })
        );
        assert_eq!(real(REPLY_URL_PLACEHOLDER), Err(E::ReplyUrlPlaceholder));
        assert_eq!(
            real("https://app.orchidea.dev/api/saml/login//"),
            Err(E::ReplyUrlPlaceholder)
        );
    }

    #[test]
    fn api_reply_urls_follow_the_paste_rules() {
        let ws: Url = "https://acme.example/acme".parse().unwrap();
        let ok = check_api_reply_url(
            &"https://acme.example/api/saml/login/i".parse().unwrap(),
            &ws,
        );
        assert!(ok.is_ok(), "{ok:?}");
        let e = check_api_reply_url(
            &"https://u:pw@acme.example/api/saml/login/i"
                .parse()
                .unwrap(),
            &ws,
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, OrchideaError::ApiReplyUrl { .. }), "{e:?}");
        assert!(!text.contains("pw@"), "{text}");
        assert!(text.contains("user name or password"), "{text}");
    }
}
