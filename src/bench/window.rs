//! The window's own figures, measured from outside: the bench starts the
//! `orchidea-wizard` binary next to its own (under Xvfb when there is no
//! display), reads the JSON line it prints, and stops it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Why the window's figures could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    #[error("no free X display number between :90 and :139")]
    NoFreeDisplay,
    #[error("no DISPLAY and Xvfb could not start ({0}); install xvfb or set DISPLAY")]
    XvfbStart(std::io::Error),
    #[error("Xvfb did not open its display within 10 s")]
    XvfbSlow,
    #[error(transparent)]
    Clock(#[from] std::time::SystemTimeError),
    #[error("could not start {}: {source}", gui.display())]
    Start {
        gui: PathBuf,
        source: std::io::Error,
    },
    #[error("{} {args} printed no figures (exit {code:?}): {stderr}", gui.display())]
    NoFigures {
        gui: PathBuf,
        args: String,
        code: Option<i32>,
        stderr: String,
    },
}

/// Microseconds since the Unix epoch when the bench spawned the window, so
/// its first-frame time counts from the spawn.
pub const SPAWNED_AT_ENV: &str = "ORCHIDEA_BENCH_SPAWNED_AT_US";

/// The window binary beside `cli` (the running `orchidea-wizard-cli`).
pub fn gui_binary(cli: &Path) -> Option<PathBuf> {
    let gui = cli.with_file_name(format!("orchidea-wizard{}", std::env::consts::EXE_SUFFIX));
    gui.is_file().then_some(gui)
}

/// A display to draw on: `$DISPLAY`, or an Xvfb started for the bench
/// (stopped when dropped).
pub struct Display {
    pub name: String,
    xvfb: Option<Child>,
}

impl Drop for Display {
    fn drop(&mut self) {
        let Some(x) = self.xvfb.as_mut() else {
            return;
        };
        // SIGTERM lets Xvfb remove its socket and lock file; SIGKILL (the
        // fallback) leaves them, and the display number stays taken.
        let terminated = Command::new("kill")
            .args(["-TERM", &x.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !terminated {
            let _ = x.kill();
        }
        let _ = x.wait();
        let n = self.name.trim_start_matches(':');
        for stale in [format!("/tmp/.X11-unix/X{n}"), format!("/tmp/.X{n}-lock")] {
            let _ = std::fs::remove_file(stale);
        }
    }
}

impl Display {
    pub fn get() -> Result<Display, WindowError> {
        if let Ok(name) = std::env::var("DISPLAY")
            && !name.is_empty()
        {
            return Ok(Display { name, xvfb: None });
        }
        // The first display number whose X socket is free.
        let n = (90..140)
            .find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists())
            .ok_or(WindowError::NoFreeDisplay)?;
        let name = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([
                name.as_str(),
                "-screen",
                "0",
                "1120x780x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(WindowError::XvfbStart)?;
        let display = Display {
            name,
            xvfb: Some(child),
        };
        let socket = format!("/tmp/.X11-unix/X{n}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !Path::new(&socket).exists() {
            if Instant::now() > deadline {
                return Err(WindowError::XvfbSlow);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(display)
    }
}

/// Runs the window with `args` and returns the JSON line it printed.
pub fn run_window(gui: &Path, display: &Display, args: &[&str]) -> Result<Value, WindowError> {
    let spawned = SystemTime::now().duration_since(UNIX_EPOCH)?.as_micros();
    let out = Command::new(gui)
        .args(args)
        .env("DISPLAY", &display.name)
        .env("ICED_BACKEND", "tiny-skia")
        .env(SPAWNED_AT_ENV, spawned.to_string())
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .output()
        .map_err(|source| WindowError::Start {
            gui: gui.to_path_buf(),
            source,
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .ok_or_else(|| WindowError::NoFigures {
            gui: gui.to_path_buf(),
            args: args.join(" "),
            code: out.status.code(),
            stderr: String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or_default()
                .to_string(),
        })
}

/// The median of `values` (0 when empty).
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::float_cmp)] // exact: the median is one of the inputs, not computed
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0]), 4.0);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn the_window_is_looked_for_beside_the_cli() {
        let dir = tempfile::tempdir().unwrap();
        let cli = dir.path().join("orchidea-wizard-cli");
        assert_eq!(gui_binary(&cli), None);
        let gui = dir
            .path()
            .join(format!("orchidea-wizard{}", std::env::consts::EXE_SUFFIX));
        std::fs::write(&gui, b"").unwrap();
        assert_eq!(gui_binary(&cli), Some(gui));
    }
}
