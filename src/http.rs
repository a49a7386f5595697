//! One place that builds HTTP clients, so TLS, proxies and timeouts agree.

use std::sync::Once;
use std::time::Duration;

static PROVIDER: Once = Once::new();

/// reqwest is built with `rustls-no-provider`: install ring once before the
/// first client, or reqwest panics.
pub fn install_crypto_provider() {
    PROVIDER.call_once(|| {
        // Err only means another provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client for Graph, login and Orchidea. System proxy settings and
/// `HTTPS_PROXY`/`NO_PROXY` are honoured; redirects are not followed (an
/// API that redirects is misconfigured, and following leaks the bearer).
pub fn client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(concat!("orchidea-wizard/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// A client for loopback services (the sandbox): never proxied.
pub fn loopback_client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(concat!("orchidea-wizard/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
