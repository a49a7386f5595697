//! Log set-up shared by both binaries.
//!
//! - **stderr**: warnings and errors, more with `RUST_LOG` (unchanged).
//! - **file**: `paths::log_dir()/orchidea-wizard.log`, `info` for the
//!   wizard's own modules and `warn` for libraries, or `RUST_LOG` when set.
//!   The file is rolled daily (UTC): yesterday's becomes
//!   `orchidea-wizard.log.YYYY-MM-DD`, and only the newest [`KEEP_DAYS`]
//!   rolled files are kept. Files are 0600 and the directory 0700 on Unix.
//!   When the directory cannot be created, logging goes on to stderr only.
//!
//! Log lines carry step numbers and states, never secrets (they are
//! `Secret`, whose `Display` redacts). As a second line of defence every
//! line, to stderr and to the file, passes through [`redact::redact`].

pub mod redact;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};
use zeroize::Zeroizing;

/// The log file's name in [`crate::platform::paths::log_dir`].
pub const LOG_FILE: &str = "orchidea-wizard.log";
/// How many rolled (previous days') log files are kept besides today's.
pub const KEEP_DAYS: usize = 7;
/// The file's level when `RUST_LOG` is not set.
const FILE_DEFAULT: &str = "warn,orchidea_wizard=info,orchidea_wizard_cli=info";

/// Today's log file.
pub fn log_file() -> PathBuf {
    crate::platform::paths::log_dir().join(LOG_FILE)
}

pub fn init() {
    let stderr_filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(Redacting(std::io::stderr))
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(stderr_filter);
    let opened = RollingFile::open(&crate::platform::paths::log_dir(), LOG_FILE, KEEP_DAYS);
    // A refused folder or link is said once on stderr (below), not hidden.
    let refused = opened.as_ref().err().map(ToString::to_string);
    let file = opened.ok().map(|file| {
        let filter =
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(FILE_DEFAULT));
        tracing_subscriber::fmt::layer()
            .with_writer(Redacting(file))
            .with_ansi(false)
            .with_filter(filter)
    });
    // Err only when a subscriber is already set (tests): keep that one.
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
    if let Some(why) = refused {
        tracing::warn!("no log file: {why}");
    }
}

/// A [`MakeWriter`] whose writers pass each event through
/// [`redact::redact`] before it reaches `M`'s writer.
pub struct Redacting<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            inner: self.0.make_writer(),
            buf: Zeroizing::new(Vec::new()),
        }
    }
}

/// Collects one event, then writes it redacted (on flush or drop). The
/// unredacted bytes are zeroed.
pub struct RedactingWriter<W: Write> {
    inner: W,
    buf: Zeroizing<Vec<u8>>,
}

impl<W: Write> RedactingWriter<W> {
    fn emit(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let text = Zeroizing::new(String::from_utf8_lossy(&self.buf).into_owned());
        self.buf.clear();
        let redacted = redact::redact(&text);
        self.inner.write_all(redacted.as_bytes())?;
        self.inner.flush()
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.emit()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = self.emit();
    }
}

/// An append-only log file rolled at UTC midnight, shared by the threads of
/// one process (and tolerant of other processes appending to it).
pub struct RollingFile {
    dir: PathBuf,
    name: String,
    keep: usize,
    /// The open file and the UTC day it was opened for.
    current: Mutex<Option<(u64, std::fs::File)>>,
}

impl RollingFile {
    /// Creates `dir` (0700) and opens `dir/name`, rolling it first if it is
    /// from an earlier day.
    pub fn open(dir: &Path, name: &str, keep: usize) -> std::io::Result<Self> {
        crate::platform::paths::ensure_private_dir(dir)?;
        let file = Self {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            keep,
            current: Mutex::new(None),
        };
        let today = utc_day(SystemTime::now());
        let opened = file.reopen(today)?;
        *file.lock() = Some((today, opened));
        Ok(file)
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(u64, std::fs::File)>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `bytes` to the file for `now`'s day.
    fn append(&self, bytes: &[u8], now: SystemTime) -> std::io::Result<()> {
        let today = utc_day(now);
        let mut current = self.lock();
        if current.as_ref().is_none_or(|(day, _)| *day != today) {
            *current = None;
            *current = Some((today, self.reopen(today)?));
        }
        match current.as_mut() {
            Some((_, f)) => f.write_all(bytes),
            None => Ok(()),
        }
    }

    /// Rolls the file if its last write was before `today`, prunes old
    /// rolled files, and opens the current one.
    fn reopen(&self, today: u64) -> std::io::Result<std::fs::File> {
        let path = self.path();
        // symlink_metadata: a planted link is not rolled by its target's
        // date; opening it below is refused (O_NOFOLLOW).
        if let Ok(meta) = std::fs::symlink_metadata(&path)
            && meta.is_file()
            && meta.len() > 0
            && let Ok(modified) = meta.modified()
        {
            let day = utc_day(modified);
            if day < today {
                let rolled = self.dir.join(format!("{}.{}", self.name, date(day)));
                // Another process may have rolled it already.
                if !rolled.exists() {
                    let _ = std::fs::rename(&path, &rolled);
                }
            }
        }
        self.prune();
        crate::platform::paths::open_private_append(&path)
    }

    /// Removes rolled files beyond the newest `keep`.
    fn prune(&self) {
        let prefix = format!("{}.", self.name);
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut rolled: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.strip_prefix(&prefix).is_some_and(is_date))
            .collect();
        // YYYY-MM-DD sorts by date.
        rolled.sort_unstable_by(|a, b| b.cmp(a));
        for old in rolled.into_iter().skip(self.keep) {
            let _ = std::fs::remove_file(self.dir.join(old));
        }
    }
}

impl<'a> MakeWriter<'a> for RollingFile {
    type Writer = RollingWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        RollingWriter(self)
    }
}

/// Writes to a [`RollingFile`]; each `write` is one append.
pub struct RollingWriter<'a>(&'a RollingFile);

impl Write for RollingWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.append(bytes, SystemTime::now())?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn utc_day(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400)
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// `YYYY-MM-DD` for a day count since 1970-01-01 (proleptic Gregorian).
fn date(days: u64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = days.cast_signed() + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn dates_from_day_numbers() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(59), "1970-03-01");
        assert_eq!(date(11_016), "2000-02-29");
        assert_eq!(date(19_723), "2024-01-01");
        assert_eq!(date(20_513), "2026-03-01");
        assert!(is_date("2026-03-01"));
        assert!(!is_date("2026-03-01.gz"));
        assert!(!is_date("20260301"));
    }

    #[test]
    fn events_are_redacted_before_they_are_written() {
        redact::register("writer-s3cr3t-value");
        let sink = SharedSink::default();
        let make = Redacting(sink.clone());
        {
            let mut w = make.make_writer();
            w.write_all(b"token writer-s3cr3t-value ").unwrap();
            w.write_all(b"and access_token=abc.def\n").unwrap();
            assert!(sink.text().is_empty(), "nothing before the event ends");
        }
        assert_eq!(
            sink.text(),
            format!("token {} and access_token={}\n", redact::MASK, redact::MASK)
        );
    }

    #[test]
    fn a_subscriber_with_the_layers_writes_redacted_lines() {
        redact::register("layer-s3cr3t-value");
        let sink = SharedSink::default();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(Redacting(sink.clone()))
                .with_ansi(false),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(token = "layer-s3cr3t-value", "sent");
            tracing::info!("header Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi.x");
        });
        let text = sink.text();
        assert!(text.contains("sent"), "{text}");
        assert!(!text.contains("layer-s3cr3t-value"), "{text}");
        assert!(!text.contains("eyJ0eXAi"), "{text}");
    }

    #[test]
    fn the_file_is_private_and_rolled_daily_keeping_a_few() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("logs");
        // Rolled files from ten earlier days.
        std::fs::create_dir(&dir).unwrap();
        let today = utc_day(SystemTime::now());
        for back in 2..12 {
            std::fs::write(dir.join(format!("x.log.{}", date(today - back))), b"old\n").unwrap();
        }
        std::fs::write(dir.join("x.log.notes"), b"not ours").unwrap();
        // Yesterday's current file.
        let yesterday = SystemTime::now() - DAY;
        std::fs::write(dir.join("x.log"), b"yesterday\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(dir.join("x.log"))
            .unwrap()
            .set_modified(yesterday)
            .unwrap();

        let file = RollingFile::open(&dir, "x.log", 3).unwrap();
        file.make_writer().write_all(b"today\n").unwrap();
        assert_eq!(std::fs::read_to_string(file.path()).unwrap(), "today\n");
        assert_eq!(
            std::fs::read_to_string(dir.join(format!("x.log.{}", date(today - 1)))).unwrap(),
            "yesterday\n"
        );
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let mut want = vec![
            "x.log".to_string(),
            format!("x.log.{}", date(today - 3)),
            format!("x.log.{}", date(today - 2)),
            format!("x.log.{}", date(today - 1)),
            "x.log.notes".to_string(),
        ];
        want.sort();
        assert_eq!(names, want);

        // The next day, the next write goes to a fresh file.
        file.append(b"tomorrow\n", SystemTime::now() + DAY).unwrap();
        assert_eq!(std::fs::read_to_string(file.path()).unwrap(), "tomorrow\n");
        assert_eq!(
            std::fs::read_to_string(dir.join(format!("x.log.{}", date(today)))).unwrap(),
            "today\n"
        );

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&file.path()), 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_log_file_is_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("logs");
        std::fs::create_dir(&dir).unwrap();
        let target = root.path().join("victim");
        std::fs::write(&target, b"untouched").unwrap();
        std::os::unix::fs::symlink(&target, dir.join("x.log")).unwrap();
        assert!(RollingFile::open(&dir, "x.log", 3).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"untouched");
    }

    #[cfg(unix)]
    #[test]
    fn a_log_folder_others_can_write_is_refused_and_a_new_one_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let open = root.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = RollingFile::open(&open, "x.log", 3).err().unwrap();
        assert!(e.to_string().contains("mode 0777"), "{e}");
        assert!(!open.join("x.log").exists());

        let fresh = root.path().join("data").join("logs");
        RollingFile::open(&fresh, "x.log", 3).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&fresh), 0o700);
        assert_eq!(mode(fresh.parent().unwrap()), 0o700);
    }

    #[test]
    fn a_directory_that_cannot_be_created_is_an_error_not_a_panic() {
        let root = tempfile::tempdir().unwrap();
        let blocker = root.path().join("file");
        std::fs::write(&blocker, b"").unwrap();
        assert!(RollingFile::open(&blocker.join("logs"), "x.log", 3).is_err());
    }

    #[derive(Clone, Default)]
    struct SharedSink(std::sync::Arc<Mutex<Vec<u8>>>);

    impl SharedSink {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    impl Write for SharedSink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for SharedSink {
        type Writer = SharedSink;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }
}
