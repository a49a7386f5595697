//! A private, real Secret Service for tests: its own D-Bus session bus and
//! `gnome-keyring-daemon` (login keyring created and unlocked), under a
//! temporary HOME/XDG tree, all stopped on drop. The desktop's own keyring
//! is never touched.
//!
//! The code under test must run in a child process: the bus is found
//! through environment variables, and a test may not set those in its own
//! (multi-threaded) process. Pass [`PrivateKeyring::env`] to the child and
//! read what was stored with [`PrivateKeyring::items`], which asks
//! `secret-tool`, independently of the wizard's code:
//!
//! ```ignore
//! let keyring = common::keyring::PrivateKeyring::start();
//! let out = std::process::Command::new(env!("CARGO_BIN_EXE_orchidea-wizard-cli"))
//!     .args(["…", "--remember-me"]).envs(keyring.env()).output().unwrap();
//! assert!(out.status.success());
//! assert_eq!(keyring.items(orchidea_wizard::platform::credstore::SERVICE).len(), 1);
//! ```
//!
//! [`PrivateKeyring::bus_only`] gives a session bus with no Secret Service
//! on it (nothing is D-Bus-activated), for the "store not available" path.
//!
//! Needs `dbus-daemon`, `dbus-send`, `gnome-keyring-daemon` and
//! `secret-tool`: a missing one fails the test and says to run
//! `tests/run.sh`.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOOLS: [&str; 4] = [
    "dbus-daemon",
    "dbus-send",
    "gnome-keyring-daemon",
    "secret-tool",
];

pub struct PrivateKeyring {
    root: tempfile::TempDir,
    address: String,
    bus: Child,
    daemon: Option<Child>,
}

impl PrivateKeyring {
    /// A bus with an unlocked login keyring serving `org.freedesktop.secrets`.
    pub fn start() -> Self {
        let mut keyring = Self::bus_only();
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .envs(keyring.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gnome-keyring-daemon");
        // The login keyring's password, read until EOF.
        let mut stdin = daemon.stdin.take().unwrap();
        stdin.write_all(b"test-keyring-password").unwrap();
        drop(stdin);
        keyring.daemon = Some(daemon);
        keyring.wait_for_secrets();
        keyring
    }

    /// A session bus only: nothing owns `org.freedesktop.secrets`.
    pub fn bus_only() -> Self {
        require_tools();
        let root = tempfile::tempdir().unwrap();
        for dir in ["home", "run", "data", "config", "cache"] {
            std::fs::create_dir(root.path().join(dir)).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let run = root.path().join("run");
            std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let socket = root.path().join("run/bus");
        // No service dirs: nothing is D-Bus-activated behind the test's back.
        let config = root.path().join("session.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .unwrap();
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nosyslog", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        assert!(
            address.starts_with("unix:"),
            "dbus-daemon printed no address: {line:?}"
        );
        Self {
            root,
            address,
            bus,
            daemon: None,
        }
    }

    /// What a child process needs to use this keyring (and nothing of the
    /// real user's): the bus address and a private HOME/XDG tree.
    pub fn env(&self) -> Vec<(String, String)> {
        let dir = |d: &str| self.root.path().join(d).display().to_string();
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone()),
            ("HOME".into(), dir("home")),
            ("XDG_RUNTIME_DIR".into(), dir("run")),
            ("XDG_DATA_HOME".into(), dir("data")),
            ("XDG_CONFIG_HOME".into(), dir("config")),
            ("XDG_CACHE_HOME".into(), dir("cache")),
        ]
    }

    /// The temporary root (HOME is `root()/home`).
    /// The user names (entry keys) of the items stored under `service`,
    /// sorted, as `secret-tool` lists them. Secrets are not returned.
    pub fn items(&self, service: &str) -> Vec<String> {
        let out = Command::new("secret-tool")
            .args(["search", "--all", "service", service])
            .envs(self.env())
            .stdin(Stdio::null())
            .output()
            .expect("run secret-tool");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // secret-tool prints the attributes on stderr, the rest on stdout;
        // nothing found is exit 1 with no output.
        let (attributes, errors): (Vec<&str>, Vec<&str>) = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .partition(|l| l.starts_with("attribute."));
        assert!(
            out.status.success() || errors.is_empty(),
            "secret-tool search failed: {}",
            errors.join("\n")
        );
        let mut users: Vec<String> = stdout
            .lines()
            .chain(attributes)
            .filter_map(|l| l.strip_prefix("attribute.username = "))
            .map(str::to_string)
            .collect();
        users.sort();
        users
    }

    /// Stores `bytes` as the item `service`/`user` with `secret-tool`, as
    /// another program (or an older wizard) would.
    pub fn store_raw(&self, service: &str, user: &str, bytes: &[u8]) {
        let mut child = Command::new("secret-tool")
            .args([
                "store", "--label", user, "service", service, "username", user,
            ])
            .envs(self.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run secret-tool");
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "secret-tool store failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn wait_for_secrets(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .envs(self.env())
                .output()
                .expect("run dbus-send");
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                return;
            }
            if let Some(status) = self.daemon.as_mut().and_then(|d| d.try_wait().unwrap()) {
                panic!("gnome-keyring-daemon exited before serving secrets: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "gnome-keyring-daemon did not serve org.freedesktop.secrets within 15 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        for child in self.daemon.iter_mut().chain(std::iter::once(&mut self.bus)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn require_tools() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let missing: Vec<&str> = TOOLS
        .into_iter()
        .filter(|tool| !std::env::split_paths(&path).any(|dir: PathBuf| dir.join(tool).is_file()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} not found: run sh tests/run.sh (it installs dbus, gnome-keyring and libsecret-tools)",
        missing.join(", ")
    );
}
