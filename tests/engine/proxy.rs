//! Proxies for Graph, login and Orchidea: a recording proxy on 127.0.0.1
//! shows which requests went through it and which went direct.

use std::sync::{Arc, Mutex};

use orchidea_wizard::platform::http::{ProxyConfig, client_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const MARKER: &str = "via-recording-proxy";

/// A proxy that records each request head and answers it itself: 200 with
/// [`MARKER`] for plain requests, 403 for CONNECT (no tunnel).
struct RecordingProxy {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    async fn start() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let head = read_head(&mut conn).await;
                    let reply = if head.starts_with("CONNECT ") {
                        "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n".to_string()
                    } else {
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{MARKER}",
                            MARKER.len()
                        )
                    };
                    log.lock().unwrap().push(head);
                    let _ = conn.write_all(reply.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        Self { url, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    fn request_lines(&self) -> Vec<String> {
        self.seen()
            .iter()
            .map(|h| h.lines().next().unwrap_or_default().to_string())
            .collect()
    }
}

async fn read_head(conn: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// A plain server on 127.0.0.1 that answers "direct".
async fn direct_server() -> String {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                read_head(&mut conn).await;
                let _ = conn
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\ndirect",
                    )
                    .await;
                let _ = conn.shutdown().await;
            });
        }
    });
    url
}

/// GETs `url` and reads the body (the proxy's marker, or the direct server's).
async fn text(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    client
        .get(url)
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .unwrap()
}

fn config(vars: &[(&str, &str)]) -> ProxyConfig {
    ProxyConfig::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

#[tokio::test]
async fn requests_to_remote_hosts_go_through_the_proxy() {
    let proxy = RecordingProxy::start().await;
    let client = client_with(&config(&[("HTTP_PROXY", &proxy.url)]));
    let body = text(&client, "http://graph.example.test/v1.0/x").await;
    assert_eq!(body, MARKER);
    assert_eq!(
        proxy.request_lines(),
        ["GET http://graph.example.test/v1.0/x HTTP/1.1"]
    );
}

#[tokio::test]
async fn https_requests_tunnel_through_https_proxy() {
    // Graph and login are https: the client must ask the proxy for a tunnel.
    let proxy = RecordingProxy::start().await;
    let client = client_with(&config(&[("https_proxy", &proxy.url)]));
    let result = client
        .get("https://graph.example.test/v1.0/me")
        .send()
        .await;
    assert!(result.is_err(), "the proxy refused the tunnel");
    let lines = proxy.request_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("CONNECT graph.example.test:443 "),
        "{lines:?}"
    );
}

#[tokio::test]
async fn loopback_goes_direct_even_with_an_empty_no_proxy() {
    let proxy = RecordingProxy::start().await;
    let direct = direct_server().await;
    let client = client_with(&config(&[
        ("HTTP_PROXY", &proxy.url),
        ("ALL_PROXY", &proxy.url),
        ("NO_PROXY", ""),
    ]));
    let body = text(&client, format!("{direct}/token")).await;
    assert_eq!(body, "direct");
    let localhost = direct.replace("127.0.0.1", "localhost");
    let body = text(&client, format!("{localhost}/token")).await;
    assert_eq!(body, "direct");
    assert!(proxy.seen().is_empty(), "{:?}", proxy.request_lines());
}

#[tokio::test]
async fn no_proxy_domains_go_direct() {
    let proxy = RecordingProxy::start().await;
    let client = client_with(&config(&[
        ("HTTP_PROXY", &proxy.url),
        ("NO_PROXY", "example.test"),
    ]));
    // `.test` never resolves: going direct fails, reaching the proxy would not.
    let result = client.get("http://graph.example.test/v1.0/x").send().await;
    assert!(result.is_err(), "went direct and could not resolve");
    assert!(proxy.seen().is_empty(), "{:?}", proxy.request_lines());
    // A host outside the list still uses the proxy.
    let body = text(&client, "http://login.other.test/x").await;
    assert_eq!(body, MARKER);
}

#[tokio::test]
async fn proxy_credentials_are_sent_but_never_shown() {
    let proxy = RecordingProxy::start().await;
    let with_auth = proxy
        .url
        .replace("http://", "http://proxyuser:pr0xy-s3cret@");
    let cfg = config(&[("HTTP_PROXY", &with_auth)]);
    let client = client_with(&cfg);
    client
        .get("http://graph.example.test/v1.0/x")
        .send()
        .await
        .unwrap();
    use base64::Engine as _;
    let expected = format!(
        ": Basic {}",
        base64::engine::general_purpose::STANDARD.encode("proxyuser:pr0xy-s3cret")
    );
    let head = proxy.seen().join("\n");
    assert!(
        head.lines().any(
            |l| l.to_ascii_lowercase().starts_with("proxy-authorization:")
                && l.ends_with(&expected)
        ),
        "{head}"
    );
    for shown in [cfg.to_string(), format!("{cfg:?}")] {
        assert!(!shown.contains("pr0xy-s3cret"), "{shown}");
        assert!(!shown.contains("proxyuser"), "{shown}");
        assert!(
            shown.contains(&proxy.url.replace("http://", "")),
            "the proxy itself is named: {shown}"
        );
    }
}
