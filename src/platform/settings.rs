//! The wizard's settings: where to sign in and what was chosen last time.
//! No secrets, ever (tokens live in [`crate::platform::credstore`]). A JSON file in
//! the platform config dir, `ORCHIDEA_WIZARD_CONFIG_DIR` overrides it;
//! written atomically.
//!
//! The file (`settings.json`, camelCase keys, every key optional):
//! `cloud`, `tenant`, `clientId`, `loginUrl`, `graphUrl`, `orchideaUrl`,
//! `redirect127`, `rememberMe`, `last` (`appName`, `scope`, `userName`).
//! Unknown keys are ignored, so an older wizard reads a newer file.
//!
//! A file that cannot be read is never lost: [`load`] returns the defaults
//! and a warning, and the next save first renames the unreadable file to
//! `settings.json.bad` (replacing an older `.bad`), so the admin can still
//! look at or fix it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::platform::cloud::Cloud;

/// Environment override of the config dir (tests, portable installs).
pub const CONFIG_DIR_ENV: &str = "ORCHIDEA_WIZARD_CONFIG_DIR";

/// The file name inside the config dir.
pub const FILE_NAME: &str = "settings.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub cloud: Cloud,
    /// Tenant id or domain; `None`: `organizations`.
    pub tenant: Option<String>,
    /// The admin's own app registration; `None`: the default public client.
    pub client_id: Option<String>,
    /// Endpoint overrides (a standalone sandbox, a proxy-fronted test tenant).
    pub login_url: Option<Url>,
    pub graph_url: Option<Url>,
    pub orchidea_url: Option<Url>,
    /// Redirect to `http://127.0.0.1` instead of `http://localhost`.
    pub redirect_127: bool,
    /// Keep the refresh token in the OS credential store.
    pub remember_me: bool,
    pub last: LastChoices,
}

/// What the admin chose last time, offered again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LastChoices {
    pub app_name: Option<String>,
    /// "assigned" or "all".
    pub scope: Option<String>,
    /// "mail" or "coalesce".
    pub user_name: Option<String>,
}

/// The config dir: [`CONFIG_DIR_ENV`] when set, else the platform's config
/// dir for `com.Orchidea.ScimWizard` (Linux `~/.config/scimwizard`, macOS
/// `~/Library/Application Support/com.Orchidea.ScimWizard`, Windows
/// `%APPDATA%\Orchidea\ScimWizard\config`), else (no home directory)
/// `config` under [`crate::platform::paths::data_dir`].
pub fn dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    match directories::ProjectDirs::from("com", "Orchidea", "ScimWizard") {
        Some(dirs) => dirs.config_dir().to_path_buf(),
        None => crate::platform::paths::data_dir().join("config"),
    }
}

/// `settings.json` in the config dir.
pub fn path() -> PathBuf {
    dir().join(FILE_NAME)
}

/// Where [`save_to`] keeps an unreadable file before replacing it.
pub fn bad_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".bad");
    path.with_file_name(name)
}

/// The settings at `path`; a missing file is the defaults, an unreadable
/// one is an error that says which file and what is wrong.
pub fn load_from(path: &Path) -> Result<Settings, SettingsError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(e) => {
            return Err(SettingsError::Unreadable {
                path: path.display().to_string(),
                detail: e.to_string(),
            });
        }
    };
    serde_json::from_slice(&bytes).map_err(|e| SettingsError::Invalid {
        path: path.display().to_string(),
        detail: e.to_string(),
        kept_as: bad_path(path).display().to_string(),
    })
}

/// Why the settings file was not used; `Display` is the warning the admin reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("The settings file {path} could not be read ({detail}).")]
    Unreadable { path: String, detail: String },
    #[error(
        "The settings file {path} is not valid ({detail}). Fix or delete it; until then the wizard uses its defaults, and saving keeps the old file as {kept_as}."
    )]
    Invalid {
        path: String,
        detail: String,
        kept_as: String,
    },
}

/// The settings at [`path`], or the defaults and a warning for the admin
/// when the file cannot be read (it is kept; see the module docs).
pub fn load() -> (Settings, Option<String>) {
    let path = path();
    match load_from(&path) {
        Ok(s) => (s, None),
        Err(warning) => {
            tracing::warn!(path = %path.display(), "settings file unreadable; using defaults");
            (Settings::default(), Some(warning.to_string()))
        }
    }
}

/// Writes atomically (temp file in the same dir, then rename), private.
/// An existing file that [`load_from`] cannot read is first renamed to
/// [`bad_path`], not overwritten.
pub fn save_to(path: &Path, settings: &Settings) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    crate::platform::paths::ensure_private_dir(&dir)?;
    let json = serde_json::to_vec_pretty(settings).map_err(std::io::Error::other)?;
    // tempfile creates the file 0600 on Unix, in the same dir so that the
    // rename below cannot cross file systems.
    let mut tmp = tempfile::Builder::new()
        .prefix(".settings.")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    tmp.write_all(&json)?;
    tmp.write_all(b"\n")?;
    tmp.as_file().sync_all()?;
    if path.is_file() && load_from(path).is_err() {
        let bad = bad_path(path);
        std::fs::rename(path, &bad)?;
        tracing::warn!(kept = %bad.display(), "unreadable settings file kept aside");
    }
    // On failure the temp file is dropped, which deletes it.
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// [`save_to`] at [`path`].
pub fn save(settings: &Settings) -> std::io::Result<()> {
    save_to(&path(), settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Settings {
        Settings {
            cloud: Cloud::UsGov,
            tenant: Some("contoso.onmicrosoft.com".into()),
            client_id: Some("11111111-2222-3333-4444-555555555555".into()),
            login_url: Some("http://127.0.0.1:1/login".parse().unwrap()),
            graph_url: Some("http://127.0.0.1:2/graph".parse().unwrap()),
            orchidea_url: Some("https://acme.orchidea.dev/".parse().unwrap()),
            redirect_127: true,
            remember_me: true,
            last: LastChoices {
                app_name: Some("Orchidea".into()),
                scope: Some("all".into()),
                user_name: Some("coalesce".into()),
            },
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn round_trip() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path().join("nested/dir/settings.json");
        save_to(&p, &full()).unwrap();
        assert_eq!(load_from(&p).unwrap(), full());
        save_to(&p, &Settings::default()).unwrap();
        assert_eq!(load_from(&p).unwrap(), Settings::default());
    }

    #[test]
    fn a_missing_file_is_the_defaults() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path().join("settings.json");
        assert_eq!(load_from(&p).unwrap(), Settings::default());
        assert!(!p.exists(), "loading creates nothing");
    }

    #[test]
    fn garbage_is_an_error_naming_the_file_and_the_problem() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path().join("settings.json");
        std::fs::write(&p, "{ \"cloud\": ").unwrap();
        let e = load_from(&p).unwrap_err().to_string();
        assert!(e.contains(&p.display().to_string()), "{e}");
        assert!(e.contains("line 1"), "{e}");

        std::fs::write(&p, r#"{"cloud":"mars"}"#).unwrap();
        let e = load_from(&p).unwrap_err().to_string();
        assert!(e.contains("unknown variant `mars`"), "{e}");
        assert!(e.contains("settings.json.bad"), "{e}");
    }

    #[test]
    fn unknown_and_missing_keys_are_fine() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path().join("settings.json");
        std::fs::write(
            &p,
            r#"{"cloud":"china","rememberMe":true,"addedInVersion9":{"x":1},"last":{"scope":"all","later":2}}"#,
        )
        .unwrap();
        let s = load_from(&p).unwrap();
        assert_eq!(s.cloud, Cloud::China);
        assert!(s.remember_me);
        assert_eq!(s.last.scope.as_deref(), Some("all"));
        assert_eq!(s.tenant, None);
    }

    #[test]
    fn saving_over_an_unreadable_file_keeps_it_as_bad() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path().join("settings.json");
        std::fs::write(&p, "not json").unwrap();
        save_to(&p, &full()).unwrap();
        assert_eq!(
            std::fs::read_to_string(bad_path(&p)).unwrap(),
            "not json",
            "the bad file is kept"
        );
        assert_eq!(load_from(&p).unwrap(), full());
        // A good file is simply replaced; the .bad copy stays as it was.
        save_to(&p, &Settings::default()).unwrap();
        assert_eq!(std::fs::read_to_string(bad_path(&p)).unwrap(), "not json");
        assert_eq!(names(root.path()), ["settings.json", "settings.json.bad"]);
    }

    #[test]
    fn a_failed_save_leaves_no_partial_or_temp_file() {
        let root = tempfile::tempdir().unwrap();
        // The target is a directory: the final rename fails.
        let p = root.path().join("settings.json");
        std::fs::create_dir(&p).unwrap();
        assert!(save_to(&p, &full()).is_err());
        assert_eq!(names(root.path()), ["settings.json"]);
        assert!(p.is_dir());
    }

    #[test]
    fn the_old_file_is_whole_until_the_rename() {
        // The new content goes to a temp file in the same dir; nothing
        // writes into settings.json itself, so a crash leaves old or new.
        let root = tempfile::tempdir().unwrap();
        let p = root.path().join("settings.json");
        save_to(&p, &full()).unwrap();
        let inode_before = std::fs::metadata(&p).unwrap();
        save_to(&p, &Settings::default()).unwrap();
        let inode_after = std::fs::metadata(&p).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            assert_ne!(
                inode_before.ino(),
                inode_after.ino(),
                "replaced, not rewritten"
            );
        }
        let _ = (inode_before, inode_after);
        assert_eq!(names(root.path()), ["settings.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn files_and_new_dirs_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cfg");
        let p = dir.join("settings.json");
        save_to(&p, &full()).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p), 0o600);
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn the_file_holds_exactly_the_documented_keys_and_no_secret() {
        let v = serde_json::to_value(full()).unwrap();
        let keys = |v: &serde_json::Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(
            keys(&v),
            [
                "clientId",
                "cloud",
                "graphUrl",
                "last",
                "loginUrl",
                "orchideaUrl",
                "redirect127",
                "rememberMe",
                "tenant"
            ]
        );
        assert_eq!(keys(&v["last"]), ["appName", "scope", "userName"]);
        let text = v.to_string().to_ascii_lowercase();
        for word in ["token", "secret", "password", "refresh"] {
            assert!(!text.contains(word), "{word} in {text}");
        }
    }

    #[test]
    fn bad_path_sits_next_to_the_file() {
        assert_eq!(
            bad_path(Path::new("/x/settings.json")),
            Path::new("/x/settings.json.bad")
        );
    }
}
