//! The clipboard auto-clear for real, on an X server: arboard serves the
//! secret, `xclip` reads it as another program would, and the countdown
//! clears it, or leaves alone what the admin copied since.
//!
//! Each test runs itself again as a child process with `DISPLAY` set to
//! `$DISPLAY` or an Xvfb started here (the process environment cannot be
//! changed safely from a test). Without an X server or `xclip` the tests fail,
//! unless `ORCHIDEA_SKIP_X11_TESTS=1`; `sh tests/run.sh` installs both.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use orchidea_wizard::Secret;
use orchidea_wizard::bench::window::Display;
use orchidea_wizard::platform::clipboard::{self, Copier, Expiry};

const CHILD_ENV: &str = "ORCHIDEA_X11_TEST_CHILD";
const SKIP_ENV: &str = "ORCHIDEA_SKIP_X11_TESTS";

/// One X clipboard for both tests: one at a time.
static X11: Mutex<()> = Mutex::new(());

/// Runs `body` with an X display: directly in the child process, else by
/// starting the child with `DISPLAY` set.
fn on_x11(test: &str, body: fn(&str)) {
    if std::env::var_os(CHILD_ENV).is_some() {
        let display = std::env::var("DISPLAY").expect("the parent sets DISPLAY");
        body(&display);
        return;
    }
    let _one_at_a_time = X11.lock().unwrap_or_else(PoisonError::into_inner);
    let skip = std::env::var(SKIP_ENV).is_ok_and(|v| v == "1");
    let unavailable = |why: String| {
        if skip {
            eprintln!("{test}: skipped ({SKIP_ENV}=1): {why}");
        } else {
            panic!(
                "{test} needs an X server and xclip: {why}. Install xvfb and xclip \
                 (sh tests/run.sh does) or set {SKIP_ENV}=1 to skip."
            );
        }
    };
    if let Err(e) = Command::new("xclip")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        return unavailable(format!("xclip could not start ({e})"));
    }
    let started_here = !std::env::var("DISPLAY").is_ok_and(|d| !d.is_empty());
    let display = match Display::get() {
        Ok(d) => d,
        Err(e) => return unavailable(e.to_string()),
    };
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            &in_this_binary(test),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env("DISPLAY", &display.name)
        // arboard would pick Wayland over X11 when both are there.
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let name = display.name.clone();
    drop(display);
    if started_here {
        remove_stale_socket(&name);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{test} on DISPLAY={name}:\n{stdout}\n{stderr}"
    );
}

/// The Xvfb started here is killed without a chance to remove its socket
/// and lock file; without this, each run would use up a display number.
fn remove_stale_socket(name: &str) {
    if let Some(n) = name
        .strip_prefix(':')
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
    {
        let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{n}"));
        let _ = std::fs::remove_file(format!("/tmp/.X{n}-lock"));
    }
}

/// What another program reads from the CLIPBOARD selection (None: nothing).
fn xclip_out(display: &str) -> Option<String> {
    let out = Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .env("DISPLAY", display)
        .stdin(Stdio::null())
        .output()
        .expect("xclip runs");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Polls `xclip -o` until it returns `want` (arboard and xclip serve the
/// selection from a background thread or process).
fn wait_for(display: &str, want: &str) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = xclip_out(display);
        if got.as_deref() == Some(want) || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn masked(s: Option<&String>) -> String {
    match s {
        Some(s) => Secret::new(s.as_str()).masked(),
        None => "nothing".into(),
    }
}

/// Another program (the admin) copies `text`; xclip serves it until killed.
fn admin_copies(display: &str, text: &str) -> Child {
    let mut child = Command::new("xclip")
        // -quiet: stay in the foreground, so the test can stop it.
        .args(["-selection", "clipboard", "-quiet"])
        .env("DISPLAY", display)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xclip runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).unwrap();
    drop(stdin);
    child
}

fn secret() -> Secret {
    Secret::new(format!("x11-clipboard-{}", Secret::generate(24).expose()))
}

/// Copies a fresh secret the way the window does and checks, after `wait`,
/// that another program (xclip) reads exactly it.
fn copy_and_read_back(display: &str, wait: Duration) -> (Secret, Copier, Instant) {
    let secret = secret();
    let mut copier = Copier::system();
    let t0 = Instant::now();
    copier
        .copy_secret(&secret, t0)
        .expect("arboard opens the X clipboard");
    std::thread::sleep(wait);
    let read = wait_for(display, secret.expose());
    assert!(
        read.as_deref() == Some(secret.expose()),
        "another program reads the secret: got {}",
        masked(read.as_ref())
    );
    (secret, copier, t0)
}

#[test]
fn a_copied_secret_is_readable_then_cleared_after_the_countdown() {
    on_x11(
        "a_copied_secret_is_readable_then_cleared_after_the_countdown",
        |display| {
            // Still there a second later.
            let (secret, mut copier, t0) = copy_and_read_back(display, Duration::from_secs(1));

            assert_eq!(copier.tick(t0 + Duration::from_secs(59)), Expiry::Waiting);
            assert_eq!(copier.tick(t0 + clipboard::CLEAR_AFTER), Expiry::Cleared);
            std::thread::sleep(Duration::from_millis(300));
            let after = xclip_out(display);
            assert!(
                after
                    .as_deref()
                    .is_none_or(|s| !s.contains(secret.expose())),
                "the secret is gone: got {}",
                masked(after.as_ref())
            );
        },
    );
}

#[test]
fn a_later_copy_by_the_admin_is_left_on_the_clipboard() {
    on_x11(
        "a_later_copy_by_the_admin_is_left_on_the_clipboard",
        |display| {
            let (_secret, mut copier, t0) = copy_and_read_back(display, Duration::ZERO);

            let mut xclip = admin_copies(display, "something else");
            let now = wait_for(display, "something else");
            assert_eq!(now.as_deref(), Some("something else"));

            assert_eq!(copier.tick(t0 + clipboard::CLEAR_AFTER), Expiry::Replaced);
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(
                xclip_out(display).as_deref(),
                Some("something else"),
                "the admin's copy stays"
            );
            let _ = xclip.kill();
            let _ = xclip.wait();
        },
    );
}

/// The harness names a test by its path inside the test binary
/// (`module::test`), which `--exact` needs.
fn in_this_binary(test: &str) -> String {
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    format!("{module}::{test}")
}
