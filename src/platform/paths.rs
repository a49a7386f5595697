//! Where the wizard keeps its own files (logs, resume state, schema backups),
//! and how it writes them: private to the user, replaced atomically.
//!
//! The directory is the platform's local data directory for
//! `com.Orchidea.ScimWizard` (Linux `~/.local/share/scimwizard`, macOS
//! `~/Library/Application Support/com.Orchidea.ScimWizard`, Windows
//! `%LOCALAPPDATA%\Orchidea\ScimWizard\data`), or [`DATA_DIR_ENV`] when set.
//! Nothing is created until something is written: [`ensure_private_dir`] and
//! [`write_private`] create missing directories with mode 0700 on Unix.
//!
//! On Unix a data folder that already exists must be ours and private (owned
//! by the effective user, not writable by group or others): the `/tmp`
//! fallback can be planted by another user, and a folder others can write
//! lets them swap files under us. Files are opened with `O_NOFOLLOW`, so a
//! symlink planted where a log or temp file goes is refused, not followed.
//! Windows keeps its defaults (per-user profile folders and their ACLs).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Overrides [`data_dir`] (tests, CI, portable installs).
pub const DATA_DIR_ENV: &str = "ORCHIDEA_WIZARD_DATA_DIR";

/// The wizard's data directory (not created here).
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dirs) = directories::ProjectDirs::from("com", "Orchidea", "ScimWizard") {
        dirs.data_local_dir().to_path_buf()
    } else {
        // No home directory (service accounts, odd containers): a per-user
        // folder under the temp dir, still created 0700.
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_default();
        let name = if user.is_empty() {
            "orchidea-scim-wizard".to_string()
        } else {
            format!("orchidea-scim-wizard-{user}")
        };
        std::env::temp_dir().join(name)
    }
}

/// `data_dir()/logs` (not created here).
pub fn log_dir() -> PathBuf {
    data_dir().join("logs")
}

/// Creates `dir` and its missing parents, each new one with mode 0700 on
/// Unix, then checks (Unix) that `dir` is owned by us and not writable by
/// group or others; an existing folder is never changed, only refused.
/// Inside the data folder, every folder from [`data_dir`] down to `dir` is
/// checked: a private `logs` in a folder others can write is not private.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    ensure_private_dir_under(dir, &data_dir())
}

fn ensure_private_dir_under(dir: &Path, root: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let folders: Vec<&Path> = if dir.starts_with(root) {
            dir.ancestors()
                .take_while(|a| a.starts_with(root))
                .collect()
        } else {
            vec![dir]
        };
        // Refuse before creating anything inside a folder that is not ours.
        for folder in folders.iter().rev().filter(|f| f.exists()) {
            check_private_dir(folder)?;
        }
        create_private_dir(dir)?;
        for folder in folders {
            check_private_dir(folder)?;
        }
    }
    #[cfg(not(unix))]
    {
        let _ = root;
        create_private_dir(dir)?;
    }
    Ok(())
}

/// Creates `dir` and its missing parents (0700 on Unix); existing ones are
/// left as they are (a report may go to a shared documents folder).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Why `dir` is not a private folder of ours, or `None` when it is: the
/// owner must be the effective user and group/other must not write to it.
#[cfg(unix)]
fn dir_problem(dir: &Path, meta: &std::fs::Metadata, me: u32) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let shown = dir.display();
    if !meta.is_dir() {
        return Some(format!("{shown} is not a folder"));
    }
    if meta.uid() != me {
        return Some(format!(
            "the folder {shown} belongs to user id {}, not to you (user id {me}); \
             the wizard keeps its files only in a folder of yours",
            meta.uid()
        ));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o022 != 0 {
        return Some(format!(
            "the folder {shown} has mode {mode:04o}: other users can write to it; \
             make it private (chmod 700) or set {DATA_DIR_ENV} to a private folder"
        ));
    }
    None
}

#[cfg(unix)]
fn check_private_dir(dir: &Path) -> std::io::Result<()> {
    let meta = std::fs::metadata(dir)?;
    let me = rustix::process::geteuid().as_raw();
    match dir_problem(dir, &meta, me) {
        None => Ok(()),
        Some(why) => Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            why,
        )),
    }
}

/// Opens `path` for appending, creating it with mode 0600 on Unix; a
/// symlink at `path` is refused (`O_NOFOLLOW`), never followed.
pub fn open_private_append(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory (mode 0600 on Unix), flushed to disk, then renamed over `path`.
/// Readers see the old content or the new, never a mix; the parent directory
/// is created (0700) when missing.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a file path", path.display()),
            )
        })?
        .to_string_lossy()
        .into_owned();
    let (tmp, mut file) = create_temp(&dir, &name)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            std::fs::rename(&tmp, path)
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename itself reaches the disk when the directory is synced
    // (best effort: not every platform can open a directory).
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A new file `.<name>.<random>.tmp` in `dir`, created exclusively
/// (`O_EXCL`, and `O_NOFOLLOW` on Unix: a planted link is never written through).
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    use rand::Rng;
    let mut last = None;
    for _ in 0..16 {
        let suffix: u64 = rand::rng().random();
        let tmp = dir.join(format!(".{name}.{suffix:016x}.tmp"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        match options.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary file name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn log_dir_is_under_the_data_dir() {
        assert_eq!(log_dir(), data_dir().join("logs"));
        assert!(data_dir().is_absolute() || std::env::var_os(DATA_DIR_ENV).is_some());
    }

    #[test]
    fn new_directories_are_private_and_existing_ones_untouched() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a").join("b");
        ensure_private_dir(&deep).unwrap();
        assert!(deep.is_dir());
        ensure_private_dir(&deep).unwrap();
        #[cfg(unix)]
        {
            assert_eq!(mode(&deep), 0o700);
            assert_eq!(mode(&root.path().join("a")), 0o700);
        }
    }

    #[test]
    fn write_private_creates_replaces_and_leaves_no_temp_file() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("state").join("resume.json");
        write_private(&path, b"{\"a\":1}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}");
        write_private(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["resume.json"], "no temporary file left");
        #[cfg(unix)]
        {
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
        }
    }

    #[cfg(unix)]
    #[test]
    fn write_private_makes_a_previously_readable_file_private() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("backup.json");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"new").unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn write_private_fails_cleanly_on_a_directory_target() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("dir");
        std::fs::create_dir(&target).unwrap();
        assert!(write_private(&target, b"x").is_err());
        let leftovers = std::fs::read_dir(root.path()).unwrap().count();
        assert_eq!(leftovers, 1, "the temporary file was removed");
    }

    #[cfg(unix)]
    #[test]
    fn an_appended_file_that_is_a_symlink_is_refused_and_its_target_untouched() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("elsewhere");
        std::fs::write(&target, b"precious").unwrap();
        let link = root.path().join("x.log");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(open_private_append(&link).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_others_can_write_is_refused_with_its_name_and_mode() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = ensure_private_dir(&dir).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
        let text = e.to_string();
        assert!(text.contains(&dir.display().to_string()), "{text}");
        assert!(text.contains("mode 0777"), "{text}");
        // Not repaired behind the admin's back.
        assert_eq!(mode(&dir), 0o777);
        // A private subfolder of the data folder does not make it private.
        let logs = dir.join("logs");
        std::fs::create_dir(&logs).unwrap();
        std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o700)).unwrap();
        let e = ensure_private_dir_under(&logs, &dir).unwrap_err();
        assert!(e.to_string().contains("mode 0777"), "{e}");
        // Nothing is created in it either.
        let backups = dir.join("backups");
        assert!(ensure_private_dir_under(&backups, &dir).is_err());
        assert!(!backups.exists());
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_owned_by_another_user_is_refused() {
        use std::os::unix::fs::MetadataExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        let meta = std::fs::metadata(&dir).unwrap();
        // Pure check with another "me", so this runs as any user …
        let me = meta.uid() + 1;
        let why = dir_problem(&dir, &meta, me).unwrap();
        assert!(why.contains(&dir.display().to_string()), "{why}");
        assert!(
            why.contains(&format!("belongs to user id {}", meta.uid())),
            "{why}"
        );
        assert_eq!(dir_problem(&dir, &meta, meta.uid()), None);
        // … and for real when we may hand the folder to `nobody`.
        if std::os::unix::fs::chown(&dir, Some(65534), None).is_ok() {
            let e = ensure_private_dir(&dir).unwrap_err();
            assert!(e.to_string().contains("belongs to user id 65534"), "{e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn appended_files_are_private() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("x.log");
        let mut f = open_private_append(&path).unwrap();
        f.write_all(b"line\n").unwrap();
        assert_eq!(mode(&path), 0o600);
    }
}
