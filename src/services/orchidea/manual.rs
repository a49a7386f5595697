//! The guided manual path and the checks on pasted values: the SCIM URL
//! (and hosts Entra cannot reach), the SCIM secret, and the IDP to use.

use url::Url;

use super::{Idp, OrchideaError};
use crate::platform::secret::Secret;

/// The guided manual path: what the admin pasted from Orchidea's web UI.
#[derive(Debug, Clone)]
pub struct ManualScim {
    pub scim_url: Url,
    pub secret: Secret,
}

impl ManualScim {
    /// Validates both pasted values with the messages of [`parse_scim_url`] and [`parse_secret`].
    pub fn parse(scim_url: &str, secret: &str) -> Result<Self, OrchideaError> {
        Ok(Self {
            scim_url: parse_scim_url(scim_url)?,
            secret: parse_secret(secret)?,
        })
    }
}

/// Validates a pasted SCIM URL.
///
/// Surrounding whitespace is trimmed silently (copying from a web page often
/// adds a space or newline) and trailing slashes are removed from the path,
/// since Entra appends `/Users` itself. Rejected: empty input, text that is
/// not an absolute URL, schemes other than https (http only for loopback
/// hosts, i.e. the sandbox), user info, and any query or fragment.
pub fn parse_scim_url(input: &str) -> Result<Url, OrchideaError> {
    parse_scim_url_for(input, true)
}

/// [`parse_scim_url`] for a run against `Graph`: a loopback SCIM URL is
/// only reachable when Entra is the sandbox on this computer
/// (`sandbox`); Microsoft's cloud can never call 127.0.0.1.
pub fn parse_scim_url_for(input: &str, sandbox: bool) -> Result<Url, OrchideaError> {
    let url = parse_scim_url_inner(input)?;
    if !sandbox && crate::platform::http::is_loopback(&url) {
        return Err(OrchideaError::LoopbackForRealTenant);
    }
    Ok(url)
}

fn parse_scim_url_inner(input: &str) -> Result<Url, OrchideaError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(OrchideaError::EmptyScimUrl);
    }
    let mut url = Url::parse(input).map_err(|_| OrchideaError::NotAUrl {
        input: shorten(input, 80),
    })?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(OrchideaError::NotAUrl {
            input: shorten(input, 80),
        });
    }
    match url.scheme() {
        "https" => {}
        "http" if crate::platform::http::is_loopback(&url) => {}
        _ => return Err(OrchideaError::NotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(OrchideaError::CredentialsInUrl);
    }
    // `Url` drops an empty "?" or "#", so look at the text as well.
    if url.query().is_some() || url.fragment().is_some() || input.contains(['?', '#']) {
        return Err(OrchideaError::QueryOrFragment);
    }
    let trimmed = url.path().trim_end_matches('/').to_string();
    if trimmed.len() < url.path().len() {
        url.set_path(if trimmed.is_empty() { "/" } else { &trimmed });
    }
    Ok(url)
}

/// A SCIM URL returned by the admin API, held to the rules of a pasted one
/// ([`parse_scim_url`]): `Err` is [`OrchideaError::ApiScimUrl`].
pub(super) fn check_api_scim_url(url: &Url) -> Result<Url, OrchideaError> {
    parse_scim_url(url.as_str()).map_err(|e| {
        let problem = match e {
            OrchideaError::NotHttps => "it does not use https://",
            OrchideaError::CredentialsInUrl => "it contains a user name or password",
            OrchideaError::QueryOrFragment => "it has a query (?…) or fragment (#…)",
            _ => "it is not a URL with a host",
        };
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        OrchideaError::ApiScimUrl {
            url: shorten(shown.as_str(), 80),
            problem: problem.into(),
            revoked: String::new(),
        }
    })
}

/// Why Entra's provisioning service, which runs in Microsoft's cloud, may
/// not reach `url`'s host, or `None`. Entra reaches an app inside a private
/// network only through the provisioning agent of on-premises provisioning
/// (Entra docs `on-premises-scim-provisioning.md`,
/// `on-premises-application-provisioning-architecture.md`), which a
/// non-gallery app as the wizard sets up does not use. Loopback is not
/// named here: it is refused for a real tenant and is the sandbox's own.
pub fn scim_host_warning(url: &Url) -> Option<String> {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let v4 = |ip: Ipv4Addr| {
        let [a, b, ..] = ip.octets();
        if ip.is_private() {
            Some("a private address (RFC 1918)")
        } else if ip.is_link_local() {
            Some("a link-local address (169.254.0.0/16)")
        } else if a == 100 && (64..128).contains(&b) {
            Some("a carrier-grade NAT address (100.64.0.0/10)")
        } else {
            None
        }
    };
    let v6 = |ip: Ipv6Addr| {
        let first = ip.segments()[0];
        if let Some(mapped) = ip.to_ipv4_mapped() {
            v4(mapped)
        } else if first & 0xfe00 == 0xfc00 {
            Some("a unique local IPv6 address (fc00::/7)")
        } else if first & 0xffc0 == 0xfe80 {
            Some("a link-local IPv6 address (fe80::/10)")
        } else {
            None
        }
    };
    let what = match url.host()? {
        url::Host::Ipv4(ip) => v4(ip),
        url::Host::Ipv6(ip) => v6(ip),
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" {
                None
            } else if d.rsplit('.').next() == Some("local") {
                Some("a .local name (multicast DNS, this network only)")
            } else if !d.contains('.') {
                Some("a single-label name (resolved on this network only)")
            } else {
                None
            }
        }
    }?;
    Some(format!(
        "The SCIM URL's host {} is {what}. Entra's provisioning service runs in Microsoft's cloud and cannot reach it, even if this computer can: use the workspace's public https:// SCIM URL.",
        url.host_str().unwrap_or_default()
    ))
}

/// Validates a pasted SCIM secret; surrounding whitespace is trimmed.
pub fn parse_secret(input: &str) -> Result<Secret, OrchideaError> {
    if input.is_empty() {
        return Err(OrchideaError::EmptySecret);
    }
    let value = input.trim();
    if value.is_empty() {
        return Err(OrchideaError::BlankSecret);
    }
    if value.contains(['\r', '\n']) {
        return Err(OrchideaError::SecretLineBreak);
    }
    let lower = value.to_ascii_lowercase();
    if lower.starts_with("bearer ") || lower.starts_with("bearer\t") {
        return Err(OrchideaError::SecretHasBearerPrefix);
    }
    if value.chars().any(char::is_whitespace) {
        return Err(OrchideaError::SecretInnerSpace);
    }
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return Err(OrchideaError::SecretLooksLikeUrl);
    }
    Ok(Secret::new(value))
}

/// Chooses the IDP for SCIM-created users.
///
/// `wanted` matches an id exactly or a name case-insensitively. Without it:
/// the Microsoft Entra ID one (users come from Entra, so they sign in with
/// it; the default one among several), else the workspace default, else the
/// only IDP.
pub fn pick_idp<'a>(idps: &'a [Idp], wanted: Option<&str>) -> Result<&'a Idp, OrchideaError> {
    if idps.is_empty() {
        return Err(OrchideaError::NoIdps);
    }
    let available = || {
        idps.iter()
            .map(|i| format!("\"{}\" ({})", i.name, i.id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) {
        return idps
            .iter()
            .find(|i| i.id == wanted)
            .or_else(|| idps.iter().find(|i| i.name.eq_ignore_ascii_case(wanted)))
            .ok_or_else(|| OrchideaError::IdpNotFound {
                wanted: wanted.to_string(),
                available: available(),
            });
    }
    let entra: Vec<&Idp> = idps
        .iter()
        .filter(|i| i.kind.eq_ignore_ascii_case("entra-id"))
        .collect();
    entra
        .iter()
        .find(|i| i.default)
        .or(entra.first())
        .copied()
        .or_else(|| idps.iter().find(|i| i.default))
        .or(if idps.len() == 1 { idps.first() } else { None })
        .ok_or_else(|| OrchideaError::IdpChoiceNeeded {
            available: available(),
        })
}

pub(super) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idp(id: &str, name: &str, kind: &str, default: bool) -> Idp {
        Idp {
            id: id.into(),
            name: name.into(),
            kind: kind.into(),
            default,
            reply_url: None,
        }
    }

    #[test]
    fn scim_url_accepts_https_and_normalises() {
        let url = parse_scim_url("  https://acme.orchidea.com/scim/v2/ \n").unwrap();
        assert_eq!(url.as_str(), "https://acme.orchidea.com/scim/v2");
        let url = parse_scim_url("https://acme.orchidea.com/scim/v2").unwrap();
        assert_eq!(url.path(), "/scim/v2");
    }

    #[test]
    fn scim_url_allows_http_only_on_loopback() {
        assert!(parse_scim_url("http://127.0.0.1:8080/scim/v2").is_ok());
        assert!(parse_scim_url("http://localhost:1/scim/v2").is_ok());
        assert_eq!(
            parse_scim_url("http://acme.orchidea.com/scim/v2"),
            Err(OrchideaError::NotHttps)
        );
        assert_eq!(
            parse_scim_url("ftp://acme.orchidea.com/scim/v2"),
            Err(OrchideaError::NotHttps)
        );
    }

    #[test]
    fn scim_url_rejections_are_specific() {
        assert_eq!(parse_scim_url(""), Err(OrchideaError::EmptyScimUrl));
        assert_eq!(parse_scim_url("  \t"), Err(OrchideaError::EmptyScimUrl));
        assert!(matches!(
            parse_scim_url("acme.orchidea.com/scim/v2"),
            Err(OrchideaError::NotAUrl { .. })
        ));
        assert!(matches!(
            parse_scim_url("https://"),
            Err(OrchideaError::NotAUrl { .. })
        ));
        assert_eq!(
            parse_scim_url("https://acme.orchidea.com/scim/v2?aadOptscim062020"),
            Err(OrchideaError::QueryOrFragment)
        );
        assert_eq!(
            parse_scim_url("https://acme.orchidea.com/scim/v2#x"),
            Err(OrchideaError::QueryOrFragment)
        );
        assert_eq!(
            parse_scim_url("https://acme.orchidea.com/scim/v2?"),
            Err(OrchideaError::QueryOrFragment)
        );
        assert_eq!(
            parse_scim_url("https://me:pw@acme.orchidea.com/scim/v2"),
            Err(OrchideaError::CredentialsInUrl)
        );
        let msg = parse_scim_url("acme").unwrap_err().to_string();
        assert!(msg.contains("https://"), "{msg}");
    }

    #[test]
    fn hosts_entra_cannot_reach_are_named() {
        let warn = |u: &str| scim_host_warning(&u.parse().unwrap());
        for (url, what) in [
            ("https://10.1.2.3/scim/v2", "private"),
            ("https://172.16.0.1/scim/v2", "private"),
            ("https://172.31.255.255/scim/v2", "private"),
            ("https://192.168.1.10:8443/scim/v2", "private"),
            ("https://169.254.169.254/scim/v2", "link-local"),
            ("https://100.64.0.1/scim/v2", "carrier-grade"),
            ("https://[fd12:3456::1]/scim/v2", "unique local"),
            ("https://[fe80::1]/scim/v2", "link-local IPv6"),
            ("https://[::ffff:10.0.0.1]/scim/v2", "private"),
            ("https://orchidea.local/scim/v2", ".local"),
            ("https://Orchidea.LOCAL./scim/v2", ".local"),
            ("https://intranet/scim/v2", "single-label"),
        ] {
            let w = warn(url).unwrap_or_else(|| panic!("{url}: no warning"));
            assert!(w.contains(what), "{url}: {w}");
            assert!(w.contains("cannot reach"), "{w}");
        }
        for url in [
            "https://acme.orchidea.com/scim/v2",
            "https://172.32.0.1/scim/v2",
            "https://8.8.8.8/scim/v2",
            "https://[2001:db8::1]/scim/v2",
            "https://local.example.com/scim/v2",
            "http://127.0.0.1:8080/scim/v2",
            "http://localhost:1/scim/v2",
        ] {
            assert_eq!(warn(url), None, "{url}");
        }
    }

    #[test]
    fn api_scim_urls_follow_the_paste_rules() {
        let ok = check_api_scim_url(&"https://a.example/scim/v2/".parse().unwrap()).unwrap();
        assert_eq!(ok.as_str(), "https://a.example/scim/v2");
        assert!(check_api_scim_url(&"http://127.0.0.1:9/scim/v2".parse().unwrap()).is_ok());
        for (url, problem) in [
            ("http://a.example/scim/v2", "https://"),
            ("https://me:pw@a.example/scim/v2", "user name"),
            ("https://a.example/scim/v2?x=1", "query"),
            ("ftp://a.example/scim/v2", "https://"),
        ] {
            let e = check_api_scim_url(&url.parse().unwrap()).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(problem), "{url}: {text}");
            assert!(!text.contains("pw@"), "{text}");
        }
    }

    #[test]
    fn secret_is_trimmed_and_validated() {
        assert_eq!(
            parse_secret("  abc123-_x \n").unwrap().expose(),
            "abc123-_x"
        );
        assert_eq!(parse_secret(""), Err(OrchideaError::EmptySecret));
        assert_eq!(parse_secret("   \n"), Err(OrchideaError::BlankSecret));
        assert_eq!(
            parse_secret("abc\ndef"),
            Err(OrchideaError::SecretLineBreak)
        );
        assert_eq!(
            parse_secret("abc\r\ndef"),
            Err(OrchideaError::SecretLineBreak)
        );
        assert_eq!(
            parse_secret("abc def"),
            Err(OrchideaError::SecretInnerSpace)
        );
        assert_eq!(
            parse_secret("abc\tdef"),
            Err(OrchideaError::SecretInnerSpace)
        );
        assert_eq!(
            parse_secret("Bearer abcdef"),
            Err(OrchideaError::SecretHasBearerPrefix)
        );
        assert_eq!(
            parse_secret("https://acme.orchidea.com/scim/v2"),
            Err(OrchideaError::SecretLooksLikeUrl)
        );
    }

    #[test]
    fn secret_errors_never_echo_the_input() {
        for input in ["abc defsecretpart", "abcsecretpart\nx", "Bearer secretpart"] {
            let msg = parse_secret(input).unwrap_err().to_string();
            assert!(!msg.contains("secretpart"), "{msg}");
        }
    }

    #[test]
    fn manual_parse_combines_both() {
        let m = ManualScim::parse(" https://a.example/scim/v2 ", " tok ").unwrap();
        assert_eq!(m.scim_url.as_str(), "https://a.example/scim/v2");
        assert_eq!(m.secret.expose(), "tok");
        assert!(!format!("{m:?}").contains("tok\""));
    }

    #[test]
    fn pick_idp_by_id_or_name() {
        let idps = [
            idp("idp_1", "Google Workspace", "google", false),
            idp("idp_2", "Microsoft Entra ID", "entra-id", false),
        ];
        assert_eq!(pick_idp(&idps, Some("idp_1")).unwrap().id, "idp_1");
        assert_eq!(
            pick_idp(&idps, Some(" google workspace ")).unwrap().id,
            "idp_1"
        );
        let err = pick_idp(&idps, Some("Okta")).unwrap_err();
        assert!(matches!(err, OrchideaError::IdpNotFound { .. }));
        assert!(err.to_string().contains("Google Workspace"), "{err}");
    }

    #[test]
    fn pick_idp_defaults() {
        let entra_not_default = [
            idp("g", "Google", "google", true),
            idp("e", "Entra", "entra-id", false),
        ];
        assert_eq!(pick_idp(&entra_not_default, None).unwrap().id, "e");
        let two_entra = [
            idp("e1", "Entra A", "entra-id", false),
            idp("e2", "Entra B", "Entra-ID", true),
        ];
        assert_eq!(pick_idp(&two_entra, None).unwrap().id, "e2");
        let no_entra = [
            idp("g", "Google", "google", false),
            idp("p", "Password", "password", true),
        ];
        assert_eq!(pick_idp(&no_entra, None).unwrap().id, "p");
        assert_eq!(pick_idp(&no_entra, Some("")).unwrap().id, "p");
        let only = [idp("g", "Google", "google", false)];
        assert_eq!(pick_idp(&only, None).unwrap().id, "g");
        let ambiguous = [
            idp("g", "Google", "google", false),
            idp("p", "Password", "password", false),
        ];
        assert!(matches!(
            pick_idp(&ambiguous, None),
            Err(OrchideaError::IdpChoiceNeeded { .. })
        ));
        assert_eq!(pick_idp(&[], None), Err(OrchideaError::NoIdps));
    }
}
