//! The requests themselves: one GET with or without the secret, a
//! transport failure named by walking its sources, and the URL helpers
//! that build the queries exactly as Entra does.

use std::error::Error as _;
use std::time::Instant;

use url::Url;

use super::{ProbeFailure, ProbeOptions};
use crate::platform::secret::Secret;

pub(super) struct Prober<'a> {
    pub(super) http: &'a reqwest::Client,
    pub(super) secret: &'a Secret,
    pub(super) opts: &'a ProbeOptions,
}

pub(super) struct Fetched {
    pub(super) status: u16,
    pub(super) content_type: String,
    pub(super) location: Option<String>,
    pub(super) body: Vec<u8>,
    pub(super) elapsed_ms: u64,
}

impl Prober<'_> {
    pub(super) async fn fetch(
        &self,
        url: &Url,
        with_secret: bool,
    ) -> Result<Fetched, (ProbeFailure, u64)> {
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

    /// The `detail` (and `scimType`) of a SCIM error body, if it is one.
    pub(super) fn scim_error_detail(&self, body: &[u8]) -> Option<String> {
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
    pub(super) fn scrub(&self, text: &str) -> String {
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

pub(super) const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub(super) const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub(super) const UNKNOWN_GROUPS: &str =
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
pub(super) fn base_url(scim_url: &Url) -> Url {
    let mut base = scim_url.clone();
    base.set_query(None);
    base.set_fragment(None);
    let path = base.path().trim_end_matches('/').to_string();
    base.set_path(if path.is_empty() { "/" } else { &path });
    base
}

pub(super) fn push_segment(url: &mut Url, segment: &str) {
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(segment);
    }
}

/// `{base}/Users?filter=…`, spaces as `%20` like Entra sends them (some
/// servers do not read `+` as a space).
pub(super) fn users_query(base: &Url, filter: &str) -> Url {
    let mut url = base.clone();
    push_segment(&mut url, "Users");
    let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    url.set_query(Some(&format!("filter={}", encoded.replace('+', "%20"))));
    url
}

/// `{base}/Groups?excludedAttributes=members&filter=…`, in the order of the
/// Entra doc's "Get Group by displayName" request.
pub(super) fn groups_query(base: &Url, filter: &str) -> Url {
    let mut url = base.clone();
    push_segment(&mut url, "Groups");
    let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    url.set_query(Some(&format!(
        "excludedAttributes=members&filter={}",
        encoded.replace('+', "%20")
    )));
    url
}

pub(super) fn host_port(url: &Url) -> String {
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

#[allow(clippy::cast_precision_loss)] // a probe's milliseconds, far below 2^52
pub(super) fn seconds(ms: u64) -> String {
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
}
