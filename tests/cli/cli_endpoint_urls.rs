//! The CLI holds every URL a token goes to (`--orchidea-url`,
//! `--login-url`, `--graph-url`, and `loginUrl`/`graphUrl` in the settings
//! file) to the window's rule: https, or plain http only to this computer.
//! A refused URL is named and nothing is sent anywhere: every test routes
//! plain http through a recording proxy on 127.0.0.1 (loopback goes direct),
//! so a request to the refused host would be seen there.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use common::standalone::{CLI, Standalone};

/// A proxy that records the first line and headers of each request and
/// answers 502; whatever reaches it left this computer's loopback.
struct Recorder {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { break };
                let mut head = String::new();
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    head.push_str(&line);
                    line.clear();
                }
                log.lock().unwrap().push(head);
                let _ = conn.write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Self { url, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// The CLI with `config` as its config dir, plain http through `proxy`,
/// and no credential store; returns the exit code, stdout and stderr.
fn cli(
    args: &[&str],
    config: &Path,
    proxy: &Recorder,
    env: &[(&str, &str)],
) -> (Option<i32>, String, String) {
    let out = Command::new(CLI)
        .args(args)
        .env_remove("GRAPH_ACCESS_TOKEN")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env("HTTP_PROXY", &proxy.url)
        .env("http_proxy", &proxy.url)
        .env("ORCHIDEA_WIZARD_CONFIG_DIR", config)
        .env("ORCHIDEA_WIZARD_DATA_DIR", config.join("data"))
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("the CLI runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_settings(config: &Path, json: &serde_json::Value) {
    std::fs::create_dir_all(config).unwrap();
    std::fs::write(config.join("settings.json"), json.to_string()).unwrap();
}

#[test]
fn a_plain_http_orchidea_url_is_refused_before_sign_in_and_gets_no_token() {
    let sandbox = Standalone::start(None);
    let proxy = Recorder::start();
    let config = sandbox.dir.path().join("config");
    let token = sandbox.url("orchidea_admin_token").to_string();
    for command in ["run", "signin"] {
        let (code, stdout, stderr) = cli(
            &[
                command,
                "--login-url",
                sandbox.url("login_url"),
                "--graph-url",
                sandbox.url("graph_url"),
                "--orchidea-url",
                "http://orchidea.example.test",
            ],
            &config,
            &proxy,
            &[("ORCHIDEA_ADMIN_TOKEN", &token)],
        );
        assert_eq!(code, Some(2), "{command}: {stdout}\n{stderr}");
        assert!(
            stderr.contains("--orchidea-url")
                && stderr.contains("The Orchidea workspace URL must start with https://"),
            "{command}: names the flag and the rule: {stderr}"
        );
        assert!(
            !stdout.contains("Signed in") && !stdout.contains("enter the code"),
            "{command}: refused before signing in: {stdout}"
        );
        assert_eq!(
            proxy.seen(),
            Vec::<String>::new(),
            "{command}: nothing sent"
        );
    }
}

#[test]
fn plain_http_endpoints_in_the_settings_file_are_refused_by_key() {
    let proxy = Recorder::start();
    let dir = tempfile::tempdir().unwrap();
    let graph_token = "graph-token-that-must-stay-here";
    for (key, url, what) in [
        ("loginUrl", "http://login.example.test/", "sign-in URL"),
        (
            "graphUrl",
            "http://graph.example.test/v1.0",
            "Microsoft Graph URL",
        ),
    ] {
        let config = dir.path().join(key);
        write_settings(&config, &serde_json::json!({ key: url }));
        // With a Graph token at hand, which a Graph URL would receive.
        for env in [vec![], vec![("GRAPH_ACCESS_TOKEN", graph_token)]] {
            let (code, stdout, stderr) = cli(&["signin"], &config, &proxy, &env);
            assert_eq!(code, Some(2), "{key}: {stdout}\n{stderr}");
            assert!(
                stderr.contains(&format!(
                    "The {what} saved in the settings file ({key}) must start with https://"
                )) && stderr.contains(url.trim_end_matches('/')),
                "{key}: names the key and the URL: {stderr}"
            );
            assert_eq!(proxy.seen(), Vec::<String>::new(), "{key}: nothing sent");
        }
    }
    // A flag replaces the saved value: the refused one is then not used,
    // and the flag is held to the same rule.
    let config = dir.path().join("loginUrl");
    let (code, _, stderr) = cli(
        &["signin", "--login-url", "http://login2.example.test/"],
        &config,
        &proxy,
        &[],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--login-url") && !stderr.contains("(loginUrl)"),
        "{stderr}"
    );
    assert_eq!(proxy.seen(), Vec::<String>::new());
}

#[test]
fn loopback_http_endpoints_in_the_settings_file_still_sign_in() {
    let sandbox = Standalone::start(None);
    let proxy = Recorder::start();
    let config = sandbox.dir.path().join("saved");
    write_settings(
        &config,
        &serde_json::json!({
            "loginUrl": sandbox.url("login_url"),
            "graphUrl": sandbox.url("graph_url"),
        }),
    );
    let (code, stdout, stderr) = cli(&["signin"], &config, &proxy, &[]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Signed in as"), "{stdout}");
    assert_eq!(proxy.seen(), Vec::<String>::new(), "loopback goes direct");
}
