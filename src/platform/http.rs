//! One place that builds HTTP clients, so TLS, proxies and timeouts agree.

use std::fmt;
use std::net::IpAddr;
use std::sync::Once;
use std::time::Duration;

use url::Url;

static PROVIDER: Once = Once::new();

/// reqwest is built with `rustls-no-provider`: install ring once before the
/// first client, or reqwest panics.
pub fn install_crypto_provider() {
    PROVIDER.call_once(|| {
        // Err only means another provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The most a Graph answer may hold: a page of 999 directory objects or a
/// synchronization schema (~100 KB) is far below it.
pub const GRAPH_BODY_CAP: usize = 16 << 20;
/// The most a token endpoint answer may hold (tokens are a few KB).
pub const TOKEN_BODY_CAP: usize = 1 << 20;
/// The most an answer of Orchidea's admin API may hold (a few small objects).
pub const ORCHIDEA_BODY_CAP: usize = 1 << 20;
/// The most a SCIM answer to the probe may hold (a list of at most one user).
pub const SCIM_BODY_CAP: usize = 4 << 20;

/// No HTTP client could be made: nothing was sent. There is no fallback to
/// a default client, which would follow redirects (and send the bearer on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "The wizard could not set up its HTTP client ({0}), so nothing was sent. Check the proxy variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) and the system's TLS set-up, then start the wizard again."
)]
pub struct ClientError(String);

/// A response body could not be read within its cap.
#[derive(Debug)]
pub enum BodyError {
    /// Longer than the cap (announced or as received): reading stopped there.
    TooLarge { cap: usize },
    /// The connection failed while reading.
    Transport(reqwest::Error),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { cap } => write!(
                f,
                "the answer is larger than {}, far more than this request ever returns; the wizard stopped reading it",
                size_text(*cap)
            ),
            Self::Transport(e) => write!(f, "{e}"),
        }
    }
}

/// `16 MiB`, `512 KiB`, `12 bytes`.
fn size_text(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// The body of `response`, refused past `cap` bytes: an announced
/// `Content-Length` over the cap is refused before reading, a body that
/// grows past it is dropped at the first chunk that crosses it.
pub async fn read_body(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLarge { cap });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge { cap });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A client for Graph, login and Orchidea. System proxy settings and
/// `HTTPS_PROXY`/`NO_PROXY` are honoured, loopback is never proxied;
/// redirects are not followed (an API that redirects is misconfigured, and
/// following leaks the bearer).
pub fn try_client() -> Result<reqwest::Client, ClientError> {
    try_client_with(&ProxyConfig::from_env())
}

/// [`try_client`]; panics if no client can be made (tests and the sandbox).
///
/// # Panics
///
/// If no client can be made (no TLS roots, a bad proxy setting).
pub fn client() -> reqwest::Client {
    try_client().unwrap_or_else(|e| panic!("{e}"))
}

/// [`try_client_with`]; panics if no client can be made (tests).
///
/// # Panics
///
/// If no client can be made (no TLS roots, a bad proxy setting).
pub fn client_with(proxy: &ProxyConfig) -> reqwest::Client {
    try_client_with(proxy).unwrap_or_else(|e| panic!("{e}"))
}

/// [`client`] with an explicit proxy configuration.
///
/// - Proxy variables set: a [`reqwest::Proxy::custom`] that asks
///   [`ProxyConfig::proxy_for`], so loopback and `NO_PROXY` go direct.
/// - None set, on Windows and macOS: reqwest's own system proxy detection
///   (registry / `SystemConfiguration`). reqwest offers no way to put a
///   loopback exception in front of it, so there loopback is kept direct by
///   [`client_for`] / [`loopback_client`] (and by the OS bypass list).
/// - None set elsewhere: no proxy (the variables are the system settings).
pub fn try_client_with(proxy: &ProxyConfig) -> Result<reqwest::Client, ClientError> {
    install_crypto_provider();
    let builder = reqwest::Client::builder()
        .user_agent(concat!("orchidea-wizard/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60));
    let builder = if !proxy.uses_system() {
        let proxy = proxy.clone();
        builder.proxy(reqwest::Proxy::custom(move |url| {
            proxy.proxy_for(url).cloned()
        }))
    } else if cfg!(any(windows, target_os = "macos")) {
        builder
    } else {
        builder.no_proxy()
    };
    finish(builder)
}

/// The built client, or why not: never a default client in its place.
fn finish(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, ClientError> {
    builder.build().map_err(|e| {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        ClientError(text)
    })
}

/// [`try_loopback_client`] for loopback URLs, else [`try_client`]: loopback
/// stays direct whatever the OS proxy settings say.
pub fn try_client_for(url: &url::Url) -> Result<reqwest::Client, ClientError> {
    if is_loopback(url) {
        try_loopback_client()
    } else {
        try_client()
    }
}

/// [`try_client_for`]; panics if no client can be made (tests).
///
/// # Panics
///
/// If no client can be made (no TLS roots, a bad proxy setting).
pub fn client_for(url: &url::Url) -> reqwest::Client {
    try_client_for(url).unwrap_or_else(|e| panic!("{e}"))
}

/// A client for loopback services (the sandbox): never proxied.
pub fn try_loopback_client() -> Result<reqwest::Client, ClientError> {
    install_crypto_provider();
    finish(
        reqwest::Client::builder()
            .user_agent(concat!("orchidea-wizard/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30)),
    )
}

/// [`try_loopback_client`]; panics if no client can be made (tests and the
/// sandbox).
///
/// # Panics
///
/// If no client can be made (no TLS roots, a bad proxy setting).
pub fn loopback_client() -> reqwest::Client {
    try_loopback_client().unwrap_or_else(|e| panic!("{e}"))
}

/// The proxy [`client`] uses, for diagnostics and reports (no credentials).
pub fn proxy_description() -> String {
    ProxyConfig::from_env().to_string()
}

/// True for 127.0.0.0/8, `::1` and `localhost`.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The proxy settings from `HTTPS_PROXY`/`https_proxy`,
/// `HTTP_PROXY`/`http_proxy`, `ALL_PROXY`/`all_proxy` and
/// `NO_PROXY`/`no_proxy`, read the way reqwest (hyper-util) reads them: the
/// upper-case name wins when both are set (even if empty), `ALL_PROXY`
/// fills in for a missing `HTTP(S)_PROXY`, a value without a scheme is
/// `http://`. Loopback is never proxied, whatever `NO_PROXY` says.
///
/// `Debug` and `Display` never show proxy credentials.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ProxyConfig {
    http: Option<Url>,
    https: Option<Url>,
    no_proxy: Vec<NoProxyRule>,
    /// Whether any proxy variable was present (set, even if unusable).
    any_set: bool,
    /// Variables whose value is not a usable proxy URL.
    ignored: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum NoProxyRule {
    /// `*`
    All,
    /// `example.test` / `.example.test`: the domain and its subdomains.
    Domain(String),
    /// An address or a CIDR network.
    Net(IpAddr, u8),
}

impl ProxyConfig {
    /// The process environment (values that are not UTF-8 are skipped).
    pub fn from_env() -> Self {
        Self::from_vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// From name/value pairs (other names are ignored).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let vars: std::collections::HashMap<String, String> = vars.into_iter().collect();
        let first = |names: [&'static str; 2]| {
            names
                .into_iter()
                .find_map(|n| vars.get(n).map(|v| (n, v.trim())))
        };
        let mut cfg = ProxyConfig::default();
        let mut parse = |found: Option<(&'static str, &str)>| -> Option<Url> {
            let (name, value) = found?;
            cfg.any_set = true;
            if value.is_empty() {
                return None;
            }
            let url = parse_proxy_url(value);
            if url.is_none() {
                cfg.ignored.push(name.to_string());
            }
            url
        };
        let all = parse(first(["ALL_PROXY", "all_proxy"]));
        let http = parse(first(["HTTP_PROXY", "http_proxy"]));
        let https = parse(first(["HTTPS_PROXY", "https_proxy"]));
        cfg.http = http.or_else(|| all.clone());
        cfg.https = https.or(all);
        if let Some((_, list)) = first(["NO_PROXY", "no_proxy"]) {
            cfg.no_proxy = list.split(',').filter_map(parse_no_proxy).collect();
        }
        for url in [&cfg.http, &cfg.https].into_iter().flatten() {
            if let Some(password) = url.password() {
                crate::platform::logging::redact::register(password);
            }
        }
        cfg
    }

    /// No proxy variable is set: the OS settings apply (see [`client_with`]).
    pub fn uses_system(&self) -> bool {
        !self.any_set
    }

    /// The proxy for `url`, or `None` to connect directly: loopback,
    /// `NO_PROXY` matches, schemes other than http/https, no proxy set.
    pub fn proxy_for(&self, url: &Url) -> Option<&Url> {
        if is_loopback(url) || self.bypasses(url) {
            return None;
        }
        match url.scheme() {
            "http" => self.http.as_ref(),
            "https" => self.https.as_ref(),
            _ => None,
        }
    }

    /// Whether `NO_PROXY` sends `url` direct.
    fn bypasses(&self, url: &Url) -> bool {
        let Some(host) = url.host() else {
            return false;
        };
        self.no_proxy.iter().any(|rule| match (rule, &host) {
            (NoProxyRule::All, _) => true,
            (NoProxyRule::Domain(d), url::Host::Domain(h)) => {
                let h = h.trim_end_matches('.').to_ascii_lowercase();
                h == *d || h.ends_with(&format!(".{d}"))
            }
            (NoProxyRule::Net(net, bits), url::Host::Ipv4(ip)) => {
                in_network(IpAddr::V4(*ip), *net, *bits)
            }
            (NoProxyRule::Net(net, bits), url::Host::Ipv6(ip)) => {
                in_network(IpAddr::V6(*ip), *net, *bits)
            }
            _ => false,
        })
    }
}

/// `http://host:port`, `https://…`, or `host:port` (taken as http).
fn parse_proxy_url(value: &str) -> Option<Url> {
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let url = Url::parse(&with_scheme).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host().is_some()).then_some(url)
}

fn parse_no_proxy(entry: &str) -> Option<NoProxyRule> {
    let entry = entry.trim();
    if entry.is_empty() {
        return None;
    }
    if entry == "*" {
        return Some(NoProxyRule::All);
    }
    let bare = entry.replace(['[', ']'], "");
    if let Some((addr, bits)) = bare.split_once('/')
        && let (Ok(ip), Ok(bits)) = (addr.parse::<IpAddr>(), bits.parse::<u8>())
    {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        return (bits <= max).then_some(NoProxyRule::Net(ip, bits));
    }
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Some(NoProxyRule::Net(ip, if ip.is_ipv4() { 32 } else { 128 }));
    }
    let domain = entry.trim_start_matches("*.").trim_start_matches('.');
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    (!domain.is_empty()).then_some(NoProxyRule::Domain(domain))
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// The proxy URL as it may be shown: no user name, no password.
fn without_credentials(url: &Url) -> String {
    let mut shown = url.clone();
    let had = !url.username().is_empty() || url.password().is_some();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    let mut s = shown.as_str().trim_end_matches('/').to_string();
    if had {
        s.push_str(" (with credentials)");
    }
    s
}

impl fmt::Display for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.uses_system() {
            return f.write_str(if cfg!(any(windows, target_os = "macos")) {
                "the system proxy settings; loopback direct"
            } else {
                "direct (no proxy variables set)"
            });
        }
        match (&self.https, &self.http) {
            (None, None) => f.write_str("direct")?,
            (Some(a), Some(b)) if a == b => write!(f, "via {}", without_credentials(a))?,
            (https, http) => {
                let mut sep = "";
                if let Some(u) = https {
                    write!(f, "https via {}", without_credentials(u))?;
                    sep = ", ";
                }
                if let Some(u) = http {
                    write!(f, "{sep}http via {}", without_credentials(u))?;
                }
            }
        }
        let except: Vec<String> = self
            .no_proxy
            .iter()
            .map(|r| match r {
                NoProxyRule::All => "*".to_string(),
                NoProxyRule::Domain(d) => d.clone(),
                NoProxyRule::Net(ip, bits) => format!("{ip}/{bits}"),
            })
            .collect();
        if except.is_empty() {
            f.write_str("; loopback direct")?;
        } else {
            write!(f, "; loopback and {} direct", except.join(", "))?;
        }
        if !self.ignored.is_empty() {
            write!(
                f,
                "; ignored (not a proxy URL): {}",
                self.ignored.join(", ")
            )?;
        }
        Ok(())
    }
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyConfig")
            .field("http", &self.http.as_ref().map(without_credentials))
            .field("https", &self.https.as_ref().map(without_credentials))
            .field("no_proxy", &self.no_proxy)
            .field("uses_system", &self.uses_system())
            .field("ignored", &self.ignored)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> ProxyConfig {
        ProxyConfig::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    fn via(c: &ProxyConfig, url: &str) -> Option<String> {
        c.proxy_for(&url.parse().unwrap())
            .map(std::string::ToString::to_string)
    }

    #[test]
    fn precedence_follows_reqwest() {
        let c = cfg(&[
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:1"),
            ("ALL_PROXY", "http://all:1"),
        ]);
        assert_eq!(
            via(&c, "https://graph.microsoft.com/").unwrap(),
            "http://upper:1/"
        );
        assert_eq!(
            via(&c, "http://x.test/").unwrap(),
            "http://all:1/",
            "ALL fills in"
        );
        // An empty upper-case variable still shadows the lower-case one.
        let c = cfg(&[("HTTPS_PROXY", ""), ("https_proxy", "http://lower:1")]);
        assert_eq!(via(&c, "https://x.test/"), None);
        assert!(!c.uses_system());
        // Lower case alone is honoured; no scheme means http.
        let c = cfg(&[("http_proxy", "proxy.corp:3128")]);
        assert_eq!(
            via(&c, "http://x.test/").unwrap(),
            "http://proxy.corp:3128/"
        );
        assert_eq!(
            via(&c, "https://x.test/"),
            None,
            "http_proxy is not for https"
        );
    }

    #[test]
    fn no_variables_means_the_system_settings() {
        let c = cfg(&[("PATH", "/usr/bin"), ("NO_PROXY", "x.test")]);
        assert!(c.uses_system());
        assert_eq!(via(&c, "https://graph.microsoft.com/"), None);
    }

    #[test]
    fn loopback_is_never_proxied() {
        let c = cfg(&[("ALL_PROXY", "http://proxy:8080"), ("NO_PROXY", "")]);
        for u in [
            "http://127.0.0.1:9/",
            "http://127.8.9.1/",
            "https://[::1]:4/",
            "http://LocalHost/",
        ] {
            assert_eq!(via(&c, u), None, "{u}");
        }
        assert!(via(&c, "http://10.0.0.1/").is_some());
    }

    #[test]
    fn no_proxy_matching() {
        let c = cfg(&[
            ("HTTPS_PROXY", "http://proxy:8080"),
            (
                "NO_PROXY",
                " .corp.example, example.test ,10.0.0.0/8, 192.168.1.7, [fd00::]/8, *.wild.test",
            ),
        ]);
        for direct in [
            "https://example.test/",
            "https://a.b.example.test/",
            "https://EXAMPLE.TEST./",
            "https://corp.example/",
            "https://x.corp.example/",
            "https://10.20.30.40/",
            "https://192.168.1.7/",
            "https://[fd12::1]/",
            "https://a.wild.test/",
        ] {
            assert_eq!(via(&c, direct), None, "{direct}");
        }
        for proxied in [
            "https://notexample.test/",
            "https://example.test.evil/",
            "https://11.0.0.1/",
            "https://192.168.1.8/",
            "https://[fe80::1]/",
            "https://graph.microsoft.com/",
        ] {
            assert!(via(&c, proxied).is_some(), "{proxied}");
        }
        let c = cfg(&[("HTTPS_PROXY", "http://proxy:8080"), ("no_proxy", "*")]);
        assert_eq!(via(&c, "https://graph.microsoft.com/"), None);
    }

    #[test]
    fn unusable_values_are_ignored_and_named() {
        let c = cfg(&[("HTTPS_PROXY", "socks5://p:1"), ("HTTP_PROXY", "http://")]);
        assert_eq!(via(&c, "https://x.test/"), None);
        let shown = c.to_string();
        assert!(
            shown.contains("HTTPS_PROXY") && shown.contains("HTTP_PROXY"),
            "{shown}"
        );
    }

    #[test]
    fn credentials_are_never_shown() {
        let c = cfg(&[
            ("HTTPS_PROXY", "http://alice:pr0xy-pa55@proxy.corp:3128"),
            ("HTTP_PROXY", "http://bob:0ther-pa55@proxy2.corp:80"),
        ]);
        // The client still gets them.
        assert_eq!(
            via(&c, "https://x.test/").unwrap(),
            "http://alice:pr0xy-pa55@proxy.corp:3128/"
        );
        for shown in [c.to_string(), format!("{c:?}")] {
            for leak in ["alice", "bob", "pa55"] {
                assert!(!shown.contains(leak), "{leak} in {shown}");
            }
            assert!(
                shown.contains("proxy.corp:3128 (with credentials)"),
                "{shown}"
            );
        }
        assert_eq!(
            crate::platform::logging::redact::redact("x pr0xy-pa55 y"),
            "x •••• y",
            "the password is registered with the log redactor"
        );
    }

    #[test]
    fn cidr_edges() {
        assert!(in_network(
            "10.1.2.3".parse().unwrap(),
            "10.0.0.0".parse().unwrap(),
            8
        ));
        assert!(!in_network(
            "11.1.2.3".parse().unwrap(),
            "10.0.0.0".parse().unwrap(),
            8
        ));
        assert!(in_network(
            "1.2.3.4".parse().unwrap(),
            "0.0.0.0".parse().unwrap(),
            0
        ));
        assert!(!in_network(
            "::1".parse().unwrap(),
            "0.0.0.0".parse().unwrap(),
            0
        ));
        assert_eq!(parse_no_proxy("10.0.0.0/33"), None);
    }

    #[test]
    fn a_client_that_cannot_be_built_is_an_error_not_a_default_client() {
        install_crypto_provider();
        let impossible = reqwest::Client::builder()
            .min_tls_version(reqwest::tls::Version::TLS_1_3)
            .max_tls_version(reqwest::tls::Version::TLS_1_2);
        let e = finish(impossible).expect_err("no client, and no silent default");
        assert!(e.to_string().contains("nothing was sent"), "{e}");
        assert!(try_client().is_ok() && try_loopback_client().is_ok());
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size_text(GRAPH_BODY_CAP), "16 MiB");
        assert_eq!(size_text(512 << 10), "512 KiB");
        assert_eq!(size_text(1000), "1000 bytes");
    }

    #[test]
    fn loopback_detection() {
        for u in [
            "http://127.0.0.1:8080/x",
            "http://[::1]/",
            "http://LOCALHOST:1",
        ] {
            assert!(is_loopback(&u.parse().unwrap()), "{u}");
        }
        for u in ["https://graph.microsoft.com/", "http://10.0.0.1/"] {
            assert!(!is_loopback(&u.parse().unwrap()), "{u}");
        }
    }
}
