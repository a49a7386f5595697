//! What the window measures about itself for `orchidea-wizard-cli bench`:
//! time to the first frame, idle memory, and the longest `update` and
//! `view` while the engine works. Off unless a bench flag is given; each
//! mode prints one JSON line on stdout and exits.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// Which measurement the window was started for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BenchMode {
    #[default]
    Off,
    /// Print the time to the first frame and the idle memory, then exit.
    FirstFrame,
    /// Run every step in the sandbox, confirm the pauses, wait for the
    /// first cycle, then print the longest update/view and exit.
    Run,
}

pub use crate::bench::window::SPAWNED_AT_ENV;

/// Where the bench's one JSON line goes: the binary prints it on stdout
/// (the library never prints).
pub type Report = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// How long to stay idle after the first frame before reading memory.
pub const IDLE_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct Timing {
    pub mode: BenchMode,
    pub max_update: Duration,
    pub updates: u64,
    pub max_view: Cell<Duration>,
    pub views: Cell<u64>,
    pub first_frame: Option<Duration>,
    began: Option<Instant>,
    pub done: bool,
}

impl Timing {
    pub fn new(mode: BenchMode) -> Self {
        Self {
            mode,
            began: Some(Instant::now()),
            ..Self::default()
        }
    }

    pub fn on(&self) -> bool {
        self.mode != BenchMode::Off
    }

    pub fn record_update(&mut self, took: Duration) {
        self.updates += 1;
        self.max_update = self.max_update.max(took);
    }

    pub fn record_view(&self, took: Duration) {
        self.views.set(self.views.get() + 1);
        self.max_view.set(self.max_view.get().max(took));
    }

    /// Time since the process started: from the spawn time the bench
    /// passes in [`SPAWNED_AT_ENV`] (microsecond clock), else the kernel's
    /// process start (10 ms ticks), else since the window was created.
    pub fn since_start(&self) -> Duration {
        std::env::var(SPAWNED_AT_ENV)
            .ok()
            .and_then(|v| v.parse::<u128>().ok())
            .and_then(|spawned| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()?
                    .as_micros();
                u64::try_from(now.checked_sub(spawned)?).ok()
            })
            .map(Duration::from_micros)
            .or_else(crate::platform::procinfo::since_process_start)
            .or_else(|| self.began.map(|b| b.elapsed()))
            .unwrap_or_default()
    }

    /// The first-frame line: `{"first_frame_ms":…,"idle_rss_kib":…}`.
    pub fn first_frame_line(&self) -> String {
        let rss = crate::platform::procinfo::memory_kib().map(|(rss, _)| rss);
        serde_json::json!({
            "first_frame_ms": self.first_frame.map(ms),
            "idle_rss_kib": rss,
        })
        .to_string()
    }

    /// The run line, once the first cycle finished.
    pub fn run_line(&self, provisioned: i64) -> String {
        serde_json::json!({
            "max_update_ms": ms(self.max_update),
            "updates": self.updates,
            "max_view_ms": ms(self.max_view.get()),
            "views": self.views.get(),
            "peak_rss_kib": crate::platform::procinfo::memory_kib().map(|(_, peak)| peak),
            "provisioned": provisioned,
            "wall_ms": self.began.map(|b| ms(b.elapsed())),
        })
        .to_string()
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_update_and_view_are_kept() {
        let mut t = Timing::new(BenchMode::Run);
        t.record_update(Duration::from_millis(3));
        t.record_update(Duration::from_millis(9));
        t.record_update(Duration::from_millis(1));
        t.record_view(Duration::from_millis(2));
        t.record_view(Duration::from_millis(7));
        assert_eq!(t.max_update, Duration::from_millis(9));
        assert_eq!(t.max_view.get(), Duration::from_millis(7));
        let line: serde_json::Value = serde_json::from_str(&t.run_line(5)).unwrap();
        assert_eq!(line["updates"], 3);
        assert_eq!(line["views"], 2);
        assert_eq!(line["max_update_ms"], 9.0);
        assert_eq!(line["provisioned"], 5);
        assert!(!Timing::default().on());
    }
}
