//! No byte the CLI writes contains a secret it handled: a whole run on the
//! guided manual path with a known SCIM secret, then `status` and
//! `provision-user`, all with debug logging, against a sandbox started here.
//! Every output is searched: stdout, stderr, the reports (.json and .md) and
//! every file under the data directory (logs, and whatever else lands there).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use common::*;
use orchidea_wizard::Secret;
use orchidea_wizard::engine::Scope;
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::services::orchidea::{self, OrchideaAdmin};

const CLI: &str = env!("CARGO_BIN_EXE_orchidea-wizard-cli");

/// What one CLI run printed.
struct Output {
    what: String,
    ok: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs the CLI against the sandbox's Graph with debug logging into `data`.
fn cli(args: &[&str], sandbox: &Sandbox, scim_secret: &Secret, data: &Path) -> Output {
    let out = Command::new(CLI)
        .args(args)
        .args(["--graph-url", sandbox.graph_url.as_str()])
        .env("GRAPH_ACCESS_TOKEN", sandbox.graph_token.expose())
        .env("ORCHIDEA_SCIM_SECRET", scim_secret.expose())
        .env_remove("ORCHIDEA_ADMIN_TOKEN")
        .env("ORCHIDEA_WIZARD_DATA_DIR", data)
        .env("RUST_LOG", "debug")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the CLI runs");
    Output {
        what: args.first().copied().unwrap_or_default().to_string(),
        ok: out.status.success(),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

impl Output {
    fn text(&self) -> String {
        format!(
            "{} (ok: {})\n--- stdout\n{}\n--- stderr (last 40 lines)\n{}",
            self.what,
            self.ok,
            String::from_utf8_lossy(&self.stdout),
            String::from_utf8_lossy(&self.stderr)
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        )
    }
}

/// The forms of a secret that must not appear anywhere, each with a label.
fn forbidden_forms(name: &str, secret: &Secret) -> Vec<(String, Vec<u8>)> {
    let value = secret.expose();
    let bytes = value.as_bytes();
    let percent = |upper: bool| -> String {
        bytes
            .iter()
            .map(|&b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    (b as char).to_string()
                } else if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect()
    };
    vec![
        (format!("{name} (plain)"), bytes.to_vec()),
        (
            format!("{name} (base64)"),
            STANDARD.encode(bytes).into_bytes(),
        ),
        (
            format!("{name} (base64, no padding)"),
            STANDARD_NO_PAD.encode(bytes).into_bytes(),
        ),
        (
            format!("{name} (base64url)"),
            URL_SAFE.encode(bytes).into_bytes(),
        ),
        (
            format!("{name} (base64url, no padding)"),
            URL_SAFE_NO_PAD.encode(bytes).into_bytes(),
        ),
        (
            format!("{name} (percent-encoded)"),
            percent(true).into_bytes(),
        ),
        (
            format!("{name} (percent-encoded, lower case)"),
            percent(false).into_bytes(),
        ),
    ]
}

/// Every offset of `needle` in `hay`.
fn offsets(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return Vec::new();
    }
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_output_of_a_whole_run_contains_a_secret_in_any_form() {
    assert_eq!(offsets(b"xxabcxabc", b"abc"), [2, 6], "the scanner finds");
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    // The admin creates the SCIM secret in Orchidea's web UI (here: its
    // admin API) and pastes it into the wizard: the value is known up front.
    let admin = admin_client(&sandbox);
    let idps = admin.list_idps().await.unwrap();
    let idp = orchidea::pick_idp(&idps, None).unwrap().id.clone();
    let created = admin.create_scim_secret(&idp).await.unwrap();
    let scim_secret = created.secret;
    assert!(scim_secret.expose().len() >= 20);

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let reports = tmp.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let report = |name: &str| reports.join(name).to_string_lossy().into_owned();
    let scim_url = sandbox.scim_url.to_string();

    // The CLI blocks; the sandbox keeps serving on the runtime's workers.
    let run_all = {
        let (scim_url, run_report) = (scim_url.clone(), report("run.json"));
        let (secret, data) = (scim_secret.clone(), data.clone());
        let sandbox = &sandbox;
        tokio::task::block_in_place(move || {
            let run = cli(
                &[
                    "run",
                    "--yes",
                    "--scim-url",
                    &scim_url,
                    "--report",
                    &run_report,
                ],
                sandbox,
                &secret,
                &data,
            );
            assert!(run.ok, "the run succeeds\n{}", run.text());
            let status = cli(
                &["status", "--report", &report("status.json")],
                sandbox,
                &secret,
                &data,
            );
            vec![run, status]
        })
    };
    let mut outputs = run_all;
    assert!(
        outputs[1].ok || String::from_utf8_lossy(&outputs[1].stdout).contains("Job"),
        "status ran\n{}",
        outputs[1].text()
    );

    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    let user = expected_users(&dump, Scope::Assigned)
        .into_iter()
        .next()
        .expect("an assigned user with mail")
        .user_name;
    let provision = {
        let (secret, data, pu_report) = (scim_secret.clone(), data.clone(), report("user.json"));
        let sandbox = &sandbox;
        tokio::task::block_in_place(move || {
            cli(
                &["provision-user", &user, "--report", &pu_report],
                sandbox,
                &secret,
                &data,
            )
        })
    };
    assert!(
        String::from_utf8_lossy(&provision.stdout).contains("Read from Entra"),
        "provision-user ran\n{}",
        provision.text()
    );
    outputs.push(provision);

    // Something to scan: the log file exists and has debug lines in it.
    let log = data.join("logs").join("orchidea-wizard.log");
    let log_text = std::fs::read_to_string(&log)
        .unwrap_or_else(|e| panic!("no log file at {}: {e}", log.display()));
    assert!(
        log_text.lines().count() > 10,
        "the log file has the run's lines:\n{log_text}"
    );
    assert!(
        log_text.contains("DEBUG"),
        "RUST_LOG=debug reaches the file"
    );
    for name in ["run", "status", "user"] {
        for ext in ["json", "md"] {
            let p = reports.join(format!("{name}.{ext}"));
            assert!(p.is_file(), "{} was written", p.display());
        }
    }

    // Every byte the app wrote.
    let mut written: Vec<(String, Vec<u8>)> = Vec::new();
    for o in &outputs {
        written.push((format!("{} stdout", o.what), o.stdout.clone()));
        written.push((format!("{} stderr", o.what), o.stderr.clone()));
    }
    for file in files_under(tmp.path()) {
        let bytes = std::fs::read(&file).unwrap();
        written.push((file.display().to_string(), bytes));
    }
    let mut forms = forbidden_forms("SCIM secret", &scim_secret);
    forms.extend(forbidden_forms("Graph token", &sandbox.graph_token));

    let mut hits = Vec::new();
    for (source, bytes) in &written {
        for (label, needle) in &forms {
            for at in offsets(bytes, needle) {
                hits.push(format!("{source} @ byte {at}: {label}"));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "secret {} / token {} found:\n{}",
        scim_secret.masked(),
        sandbox.graph_token.masked(),
        hits.join("\n")
    );
    let scanned: usize = written.iter().map(|(_, b)| b.len()).sum();
    assert!(
        scanned > log_text.len(),
        "scanned {scanned} bytes in {} outputs",
        written.len()
    );
    sandbox.shutdown().await;
}

/// The sign-in path: device code against the sandbox's login (in this
/// process, so every token it issued is known), with `--remember` on a
/// machine without a credential store, trace logging, and the Orchidea
/// admin token from the environment. No output holds any of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_run_leaks_no_access_refresh_or_admin_token() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let report = tmp.path().join("run.json");
    let run = |args: &[&str]| {
        let out = Command::new(CLI)
            .args(args)
            .args(["--login-url", sandbox.login_url.as_str()])
            .args(["--graph-url", sandbox.graph_url.as_str()])
            .env_remove("GRAPH_ACCESS_TOKEN")
            .env("ORCHIDEA_ADMIN_TOKEN", sandbox.admin_token.expose())
            .env("ORCHIDEA_WIZARD_DATA_DIR", &data)
            .env("ORCHIDEA_WIZARD_CONFIG_DIR", tmp.path().join("config"))
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .env("RUST_LOG", "trace")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("the CLI runs");
        Output {
            what: args[0].to_string(),
            ok: out.status.success(),
            stdout: out.stdout,
            stderr: out.stderr,
        }
    };
    let orchidea = sandbox.orchidea_url.to_string();
    let outputs = tokio::task::block_in_place(|| {
        let first = run(&[
            "run",
            "--yes",
            "--remember",
            "--orchidea-url",
            &orchidea,
            "--report",
            report.to_str().unwrap(),
        ]);
        assert!(first.ok, "the run succeeds\n{}", first.text());
        let status = run(&["status"]);
        vec![first, status]
    });
    let issued = sandbox.issued_tokens();
    assert!(
        issued.len() >= 4,
        "two sign-ins, each an access and a refresh token: {}",
        issued.len()
    );
    assert!(
        std::fs::read_to_string(data.join("logs").join("orchidea-wizard.log"))
            .unwrap()
            .contains("TRACE"),
        "trace logging reached the file"
    );

    let mut written: Vec<(String, Vec<u8>)> = Vec::new();
    for o in &outputs {
        written.push((format!("{} stdout", o.what), o.stdout.clone()));
        written.push((format!("{} stderr", o.what), o.stderr.clone()));
    }
    for file in files_under(tmp.path()) {
        written.push((file.display().to_string(), std::fs::read(&file).unwrap()));
    }
    let mut forms = forbidden_forms("Orchidea admin token", &sandbox.admin_token);
    for (i, token) in issued.iter().enumerate() {
        forms.extend(forbidden_forms(&format!("issued token #{i}"), token));
    }
    let hits: Vec<String> = written
        .iter()
        .flat_map(|(source, bytes)| {
            forms.iter().flat_map(move |(label, needle)| {
                offsets(bytes, needle)
                    .into_iter()
                    .map(move |at| format!("{source} @ byte {at}: {label}"))
            })
        })
        .collect();
    assert!(hits.is_empty(), "tokens found:\n{}", hits.join("\n"));
    sandbox.shutdown().await;
}

/// The README's sandbox trial (`--login-url` at a sandbox, default tenant
/// and client) on a machine where the admin's real Entra sign-in is
/// remembered, under today's key and the older one without the endpoint.
/// The sign-in endpoint sits behind a recording proxy: no request it
/// receives holds the real refresh token in any form, and the token is
/// still in the store after the run and after `signout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_trial_never_sends_or_deletes_the_real_remembered_token() {
    use orchidea_wizard::platform::cloud::Cloud;
    use orchidea_wizard::platform::credstore::SERVICE;
    use orchidea_wizard::services::connect;
    use orchidea_wizard::services::signin::SignInConfig;

    const REAL: &str = "1.AQ4A-the-admins-real-entra-refresh-token-Zx9";
    let keyring = common::keyring::PrivateKeyring::start();
    let entra = SignInConfig::for_cloud(Cloud::Global);
    let real_keys = [
        connect::refresh_key(&entra),
        connect::legacy_refresh_key(&entra).unwrap(),
    ];
    let stored = format!("OW1:001;{REAL}");
    for key in &real_keys {
        keyring.store_raw(SERVICE, key, stored.as_bytes());
    }

    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let proxy = RecordingProxy::start(sandbox.login_url.clone()).await;
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(CLI)
            .args(args)
            .args(["--login-url", proxy.url.as_str()])
            .args(["--graph-url", sandbox.graph_url.as_str()])
            .env_remove("GRAPH_ACCESS_TOKEN")
            .env("ORCHIDEA_ADMIN_TOKEN", sandbox.admin_token.expose())
            .env("ORCHIDEA_WIZARD_DATA_DIR", tmp.path().join("data"))
            .env("ORCHIDEA_WIZARD_CONFIG_DIR", tmp.path().join("config"))
            .envs(keyring.env())
            .env("RUST_LOG", "debug")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("the CLI runs");
        Output {
            what: args[0].to_string(),
            ok: out.status.success(),
            stdout: out.stdout,
            stderr: out.stderr,
        }
    };
    let orchidea = sandbox.orchidea_url.to_string();
    let outputs = tokio::task::block_in_place(|| {
        let first = run(&["run", "--remember", "--orchidea-url", &orchidea, "--yes"]);
        assert!(first.ok, "the trial run succeeds\n{}", first.text());
        // The trial's own sign-in is remembered under the sandbox's key.
        let again = run(&["status"]);
        assert!(again.ok, "{}", again.text());
        let signout = run(&["signout", "--orchidea-url", &orchidea]);
        assert!(signout.ok, "{}", signout.text());
        vec![first, again, signout]
    });
    assert!(
        String::from_utf8_lossy(&outputs[1].stdout).contains("remembered sign-in"),
        "the second command used the trial's own remembered sign-in\n{}",
        outputs[1].text()
    );

    let seen = proxy.seen();
    assert!(
        seen.iter()
            .any(|r| r.starts_with(b"POST /organizations/oauth2/v2.0/token")),
        "the sign-in went through the proxy: {} requests",
        seen.len()
    );
    let forms = forbidden_forms("the real refresh token", &Secret::new(REAL));
    let mut hits = Vec::new();
    for (i, request) in seen.iter().enumerate() {
        for (label, needle) in &forms {
            if !offsets(request, needle).is_empty() {
                hits.push(format!("request #{i}: {label}"));
            }
        }
    }
    for o in &outputs {
        for (label, needle) in &forms {
            if !offsets(&o.stdout, needle).is_empty() || !offsets(&o.stderr, needle).is_empty() {
                hits.push(format!("{} output: {label}", o.what));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "the real token left the store:\n{}",
        hits.join("\n")
    );
    for key in &real_keys {
        assert_eq!(
            lookup_raw(&keyring, SERVICE, key).as_deref(),
            Some(stored.as_bytes()),
            "{key} is still remembered, unchanged"
        );
    }
    let items = keyring.items(SERVICE);
    assert_eq!(
        items.len(),
        2,
        "signout removed the trial's own entries: {items:?}"
    );
    sandbox.shutdown().await;
}

/// An HTTP proxy on 127.0.0.1 in front of `upstream`'s origin that keeps
/// every request it receives (request line, headers, body) as bytes.
struct RecordingProxy {
    url: url::Url,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
}

impl RecordingProxy {
    async fn start(upstream: url::Url) -> RecordingProxy {
        use axum::body::Bytes;
        use axum::http::{HeaderMap, Method, StatusCode, Uri};
        use axum::response::IntoResponse;

        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        let base = upstream.as_str().trim_end_matches('/').to_string();
        let http = orchidea_wizard::platform::http::client();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (record, base, http) = (record.clone(), base.clone(), http.clone());
                async move {
                    let target = uri
                        .path_and_query()
                        .map_or("/", axum::http::uri::PathAndQuery::as_str);
                    let mut bytes = format!("{method} {target}\n").into_bytes();
                    for (name, value) in &headers {
                        bytes.extend_from_slice(format!("{name}: ").as_bytes());
                        bytes.extend_from_slice(value.as_bytes());
                        bytes.push(b'\n');
                    }
                    bytes.extend_from_slice(&body);
                    record.lock().unwrap().push(bytes);
                    let mut request = http.request(method, format!("{base}{target}"));
                    for (name, value) in &headers {
                        if name != "host" && name != "content-length" {
                            request = request.header(name, value);
                        }
                    }
                    let answer = request
                        .body(body)
                        .send()
                        .await
                        .expect("the sandbox answers");
                    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
                    let mut out = HeaderMap::new();
                    for (name, value) in answer.headers() {
                        if name == "content-type" || name == "location" {
                            out.insert(name, value.clone());
                        }
                    }
                    (status, out, answer.bytes().await.unwrap()).into_response()
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        RecordingProxy { url, seen }
    }

    fn seen(&self) -> Vec<Vec<u8>> {
        self.seen.lock().unwrap().clone()
    }
}

/// The secret of `service`/`user` as `secret-tool` reads it, if any.
fn lookup_raw(
    keyring: &common::keyring::PrivateKeyring,
    service: &str,
    user: &str,
) -> Option<Vec<u8>> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", service, "username", user])
        .envs(keyring.env())
        .stdin(Stdio::null())
        .output()
        .expect("run secret-tool");
    out.status.success().then_some(out.stdout)
}
