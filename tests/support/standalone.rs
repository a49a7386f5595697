//! `orchidea-wizard-cli sandbox` as its own process, and the CLI pointed at
//! it through the real sign-in code (`--login-url`, `--graph-url`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const CLI: &str = env!("CARGO_BIN_EXE_orchidea-wizard-cli");

/// `orchidea-wizard-cli sandbox` in its own process, keeping its state in a file.
pub struct Standalone {
    child: Child,
    pub endpoints: Value,
    state: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Standalone {
    /// With `sign_in` as the tenant file's `signIn` section.
    pub fn start(sign_in: Option<Value>) -> Self {
        match sign_in {
            Some(sign_in) => Self::with_tenant(|tenant, _| tenant["signIn"] = sign_in),
            None => Self::start_edited(None::<fn(&mut Value, &std::path::Path)>),
        }
    }

    /// With the built-in tenant as a tenant file, changed by `edit` (which
    /// may write files beside it, in the directory it is given).
    pub fn with_tenant(edit: impl FnOnce(&mut Value, &std::path::Path)) -> Self {
        Self::start_edited(Some(edit))
    }

    fn start_edited(edit: Option<impl FnOnce(&mut Value, &std::path::Path)>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let mut cmd = Command::new(CLI);
        cmd.args(["sandbox", "--sandbox-state", state.to_str().unwrap()]);
        if let Some(edit) = edit {
            let mut tenant = crate::common::default_tenant();
            edit(&mut tenant, dir.path());
            let file = dir.path().join("tenant.json");
            std::fs::write(&file, tenant.to_string()).unwrap();
            cmd.args(["--sandbox-tenant", file.to_str().unwrap()]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let endpoints = serde_json::from_str(&line).expect("the endpoints line");
        Self {
            child,
            endpoints,
            state,
            dir,
        }
    }

    pub fn url(&self, key: &str) -> &str {
        self.endpoints[key].as_str().unwrap()
    }

    pub fn dump(&self) -> Value {
        serde_json::from_slice(&std::fs::read(&self.state).unwrap()).unwrap()
    }

    /// The state once the first cycle is recorded: the CLI returns when
    /// Graph reports the cycle, and the state file is written just after
    /// (a bounded wait, not a timing assertion).
    pub fn dump_after_first_cycle(&self) -> Value {
        for _ in 0..300 {
            let dump = self.dump();
            let jobs = crate::common::jobs(&dump);
            if jobs
                .first()
                .is_some_and(|j| !j["job"]["status"]["lastExecution"].is_null())
            {
                return dump;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the first cycle was never saved: {}", self.dump());
    }

    /// The CLI pointed at this sandbox, with its own config and data dirs
    /// and no credential store (a bus that does not exist).
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        self.cli_with(
            args,
            &[(
                "DBUS_SESSION_BUS_ADDRESS".into(),
                "unix:path=/nonexistent/bus".into(),
            )],
        )
    }

    /// As [`Standalone::cli`] with `env` added (e.g. a private keyring's);
    /// a variable given as empty is removed instead.
    pub fn cli_with(&self, args: &[&str], env: &[(String, String)]) -> (bool, String, String) {
        let mut cmd = Command::new(CLI);
        cmd.args(args)
            .args(["--login-url", self.url("login_url")])
            .args(["--graph-url", self.url("graph_url")])
            .env_remove("GRAPH_ACCESS_TOKEN")
            .env_remove("ORCHIDEA_SCIM_SECRET")
            .env("ORCHIDEA_ADMIN_TOKEN", self.url("orchidea_admin_token"))
            .env("ORCHIDEA_WIZARD_DATA_DIR", self.dir.path().join("data"))
            .env("ORCHIDEA_WIZARD_CONFIG_DIR", self.dir.path().join("config"))
            .envs(
                env.iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k, v)),
            )
            .stdin(Stdio::null());
        for (k, _) in env.iter().filter(|(_, v)| v.is_empty()) {
            cmd.env_remove(k);
        }
        let out = cmd.output().expect("the CLI runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a run's final states show all 19 steps, with every step of the
/// SCIM article (1a–16) done by the run. Step 0 (single sign-on) is the
/// caller's to check: it depends on the tenant.
pub fn scim_steps_done(states: &[(String, String)]) -> bool {
    states.len() == 19
        && states
            .iter()
            .filter(|(n, _)| n != "0")
            .all(|(_, s)| s == "done")
}

/// The final state a run printed for step `number`.
pub fn state_of<'a>(states: &'a [(String, String)], number: &str) -> &'a str {
    states
        .iter()
        .find(|(n, _)| n == number)
        .map_or("", |(_, s)| s.as_str())
}

/// The last state printed for each step (`[9] done …`).
pub fn final_states(stdout: &str) -> Vec<(String, String)> {
    let mut states: Vec<(String, String)> = Vec::new();
    for line in stdout.lines().filter(|l| l.starts_with('[')) {
        let Some((num, rest)) = line[1..].split_once(']') else {
            continue;
        };
        let state = if rest.trim_start().starts_with("already done") {
            "already done".to_string()
        } else {
            rest.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        };
        match states.iter_mut().find(|(n, _)| *n == num.trim()) {
            Some(entry) => entry.1 = state,
            None => states.push((num.trim().to_string(), state)),
        }
    }
    states
}
