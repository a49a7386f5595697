//! Backups taken before every write that replaces something in Entra: the
//! job's schema exactly as Graph returned it, and the provisioning settings
//! without the secret. Each is one JSON file (mode 0600) in the data dir;
//! The CLI's `restore` and the window list them and put one back.
//!
//! Each names its tenant, app and job, and only that tenant's job sees it.
//! The first backup of a job (what was there before the wizard changed
//! it) is marked `original` and retention never removes it. A schema
//! backup keeps the bytes of Graph's answer (`raw`); a restore sends them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::services::graph::{SecretEntry, SecretValue};

/// Why a backup could not be taken from Graph's answer, or found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    #[error("Graph's schema is not UTF-8 text ({0}); nothing was written.")]
    NotUtf8(String),
    #[error("Graph's schema is not JSON ({0}); nothing was written.")]
    NotJson(String),
    #[error("No backup \"{id}\" in {}; the list of backups shows the ids.", dir.display())]
    NotFound { id: String, dir: PathBuf },
    #[error("\"{id}\" matches {n} backups; give more of the id.")]
    Ambiguous { id: String, n: usize },
}

/// Kept per folder besides the originals; the oldest go first.
const KEEP: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The whole synchronization schema (mappings), before a schema PUT.
    Schema,
    /// The saved settings without the Secret Token, before a secrets PUT.
    Settings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backup {
    /// The file name without `.json`; what `restore ID` takes.
    pub id: String,
    pub taken_at: String,
    pub kind: Kind,
    pub graph_url: String,
    pub service_principal_id: String,
    pub job_id: String,
    /// The signed-in tenant (`tid`); `None` in backups taken before it was
    /// kept (or with no sign-in), matched by app and job alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The first backup of this job and kind in the folder: what Entra
    /// held before the wizard wrote to it. Never removed by retention.
    #[serde(default)]
    pub original: bool,
    /// Why it was taken ("before step 9", …).
    pub reason: String,
    /// [`Kind::Schema`]: the schema as Graph returned it.
    #[serde(default)]
    pub schema: Option<Value>,
    /// [`Kind::Schema`]: the body of Graph's answer, byte for byte (JSON
    /// is UTF-8). `None` in backups taken before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// [`Kind::Settings`]: every saved key but the sensitive ones.
    #[serde(default)]
    pub settings: Vec<(String, String)>,
}

impl Backup {
    pub fn schema(graph_url: &str, sp: &str, job: &str, schema: &Value, reason: &str) -> Backup {
        Self::new(
            Kind::Schema,
            graph_url,
            sp,
            job,
            reason,
            Some(schema.clone()),
            Vec::new(),
        )
    }

    /// A schema backup of the body Graph answered, kept as it came.
    pub fn schema_raw(
        graph_url: &str,
        sp: &str,
        job: &str,
        raw: &[u8],
        reason: &str,
    ) -> Result<Backup, BackupError> {
        let text = std::str::from_utf8(raw).map_err(|e| BackupError::NotUtf8(e.to_string()))?;
        let schema: Value =
            serde_json::from_str(text).map_err(|e| BackupError::NotJson(e.to_string()))?;
        let mut b = Self::schema(graph_url, sp, job, &schema, reason);
        b.raw = Some(text.to_string());
        Ok(b)
    }

    /// What a restore PUTs: the stored bytes unchanged, `@odata.context`
    /// included (`OData` lets a request carry its context URL, and the step-9
    /// PUT has always sent the schema as read). Backups taken before `raw`
    /// was kept send the parsed schema (same keys, order and values).
    pub fn put_body(&self) -> Option<Vec<u8>> {
        match &self.raw {
            Some(raw) => Some(raw.as_bytes().to_vec()),
            None => self
                .schema
                .as_ref()
                .and_then(|s| serde_json::to_vec(s).ok()),
        }
    }

    /// Whether this backup may be listed and restored for `tenant`'s job
    /// `job` of app `sp`. A backup naming another tenant never is; one
    /// naming no tenant (older) is matched by app and job.
    pub fn belongs(&self, tenant: Option<&str>, sp: Option<&str>, job: Option<&str>) -> bool {
        let tenant_ok = match (self.tenant_id.as_deref(), tenant) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (Some(_), None) => false,
            (None, _) => true,
        };
        tenant_ok
            && sp.is_none_or(|s| s == self.service_principal_id)
            && job.is_none_or(|j| j == self.job_id)
    }

    /// Only plain values are kept: the token never reaches the file.
    pub fn settings(
        graph_url: &str,
        sp: &str,
        job: &str,
        entries: &[SecretEntry],
        reason: &str,
    ) -> Backup {
        let settings = entries
            .iter()
            .filter_map(|e| match &e.value {
                SecretValue::Plain(v) => Some((e.key.clone(), v.clone())),
                _ => None,
            })
            .collect();
        Self::new(Kind::Settings, graph_url, sp, job, reason, None, settings)
    }

    fn new(
        kind: Kind,
        graph_url: &str,
        sp: &str,
        job: &str,
        reason: &str,
        schema: Option<Value>,
        settings: Vec<(String, String)>,
    ) -> Backup {
        // One reading of the clock: seconds and nanoseconds from two could
        // straddle a second and sort a backup before an older one.
        let now = std::time::SystemTime::now();
        let taken_at = humantime::format_rfc3339_seconds(now).to_string();
        // Sortable within a second (nanoseconds), unique with a random tail.
        let nanos = now
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tail = &uuid::Uuid::new_v4().simple().to_string()[..6];
        let kind_name = match kind {
            Kind::Schema => "schema",
            Kind::Settings => "settings",
        };
        Backup {
            id: format!(
                "{}-{nanos:09}-{kind_name}-{tail}",
                taken_at.replace(['-', ':'], "")
            ),
            taken_at,
            kind,
            graph_url: graph_url.to_string(),
            service_principal_id: sp.to_string(),
            job_id: job.to_string(),
            tenant_id: None,
            original: false,
            reason: reason.to_string(),
            schema,
            raw: None,
            settings,
        }
    }

    /// One line for lists.
    pub fn line(&self) -> String {
        let what = match self.kind {
            Kind::Schema => {
                let n = self
                    .schema
                    .as_ref()
                    .and_then(|s| crate::procedure::mapping::user_mapping_lines(s).ok())
                    .map_or(0, |l| l.len());
                format!("schema ({n} user attribute mappings)")
            }
            Kind::Settings => {
                let keys: Vec<&str> = self.settings.iter().map(|(k, _)| k.as_str()).collect();
                format!("settings ({})", keys.join(", "))
            }
        };
        let original = if self.original {
            " (original, kept)"
        } else {
            ""
        };
        format!(
            "{}  {}  {what}, {}{original} — job {}",
            self.id,
            crate::platform::timefmt::readable(&self.taken_at),
            self.reason,
            self.job_id
        )
    }
}

/// Whether a backup taken against `taken` belongs to the Graph at `here`.
/// The sandbox gets a new port each start, so any loopback Graph is the
/// sandbox's (its backups live in their own folder).
pub fn same_graph(taken: &str, here: &str) -> bool {
    let loopback =
        |u: &str| url::Url::parse(u).is_ok_and(|u| crate::platform::http::is_loopback(&u));
    taken.trim_end_matches('/') == here.trim_end_matches('/') || (loopback(taken) && loopback(here))
}

/// Writes `backup` into `dir`, marked `original` when it is the first of
/// its tenant, job and kind there, and drops the oldest beyond [`KEEP`]
/// that are not originals.
pub fn save(dir: &Path, backup: &mut Backup) -> std::io::Result<PathBuf> {
    crate::platform::paths::ensure_private_dir(dir)?;
    let before = list(dir);
    // An older backup without a tenant (taken before it was recorded) of
    // the same app and job counts as this tenant's.
    backup.original = !before.iter().any(|(_, b)| {
        b.kind == backup.kind
            && b.job_id == backup.job_id
            && b.service_principal_id == backup.service_principal_id
            && (b.tenant_id.is_none() || b.tenant_id == backup.tenant_id)
    });
    let path = dir.join(format!("{}.json", backup.id));
    let bytes = serde_json::to_vec_pretty(backup).map_err(std::io::Error::other)?;
    crate::platform::paths::write_private(&path, &bytes)?;
    // `list` is newest first; kept ones never count against the limit.
    // Files that do not parse are left alone (never ours to judge).
    let kept = kept_forever(&before);
    for (old, _) in before
        .iter()
        .filter(|(p, _)| !kept.contains(p))
        .skip(if backup.original { KEEP } else { KEEP - 1 })
    {
        let _ = std::fs::remove_file(old);
    }
    Ok(path)
}

/// What retention never removes: each backup marked `original`, and the
/// oldest of each tenant, app, job and kind (the original of a folder
/// written before the mark existed, when it is still there).
fn kept_forever(newest_first: &[(PathBuf, Backup)]) -> std::collections::HashSet<PathBuf> {
    let mut seen = std::collections::HashSet::new();
    let mut kept = std::collections::HashSet::new();
    for (path, b) in newest_first.iter().rev() {
        let key = (
            b.tenant_id.clone(),
            b.service_principal_id.clone(),
            b.job_id.clone(),
            b.kind,
        );
        let oldest = seen.insert(key);
        if b.original || oldest {
            kept.insert(path.clone());
        }
    }
    kept
}

/// Every backup in `dir`, newest first; unreadable files are skipped.
pub fn list(dir: &Path) -> Vec<(PathBuf, Backup)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Backup)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| {
            let b = serde_json::from_slice::<Backup>(&std::fs::read(&p).ok()?).ok()?;
            Some((p, b))
        })
        .collect();
    out.sort_by(|a, b| b.1.id.cmp(&a.1.id));
    out
}

/// The backup `id` in `dir` (the full id, or a unique prefix).
pub fn find(dir: &Path, id: &str) -> Result<Backup, BackupError> {
    let mut matches: Vec<Backup> = list(dir)
        .into_iter()
        .map(|(_, b)| b)
        .filter(|b| b.id.starts_with(id.trim()))
        .collect();
    match (matches.pop(), matches.len()) {
        (Some(one), 0) => Ok(one),
        (None, _) => Err(BackupError::NotFound {
            id: id.to_string(),
            dir: dir.to_path_buf(),
        }),
        (Some(_), others) => Err(BackupError::Ambiguous {
            id: id.to_string(),
            n: others + 1,
        }),
    }
}

/// Lines that differ between two schemas' user mappings: `- ` only in
/// `current`, `+ ` only in `backup` (what a restore brings back).
pub fn schema_diff(current: &Value, backup: &Value) -> Vec<String> {
    let now = crate::procedure::mapping::user_mapping_lines(current).unwrap_or_default();
    let then = crate::procedure::mapping::user_mapping_lines(backup).unwrap_or_default();
    let mut out: Vec<String> = now
        .iter()
        .filter(|l| !then.contains(l))
        .map(|l| format!("- {l}"))
        .collect();
    out.extend(
        then.iter()
            .filter(|l| !now.contains(l))
            .map(|l| format!("+ {l}")),
    );
    if out.is_empty() && current != backup {
        out.push("~ the user mappings are the same; other parts of the schema differ".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = include_str!("../../tests/fixtures/graph/schema-scim-default.json");
    const CONFIGURED: &str =
        include_str!("../../tests/fixtures/graph/schema-orchidea-configured.json");

    #[test]
    fn saved_listed_found_and_never_holding_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let schema: Value = serde_json::from_str(DEFAULT).unwrap();
        let mut a = Backup::schema("https://g/v1.0", "sp", "job", &schema, "before step 9");
        save(dir.path(), &mut a).unwrap();
        let entries = vec![
            SecretEntry::plain("BaseAddress", "https://x/scim"),
            SecretEntry::sensitive("SecretToken", crate::Secret::new("tok-very-secret")),
            SecretEntry::plain("SyncAll", "false"),
        ];
        let mut b = Backup::settings("https://g/v1.0", "sp", "job", &entries, "before step 15");
        let path = save(dir.path(), &mut b).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("tok-very-secret") && !text.contains("SecretToken"));
        let all = list(dir.path());
        assert_eq!(all.len(), 2);
        assert_eq!(find(dir.path(), &a.id).unwrap(), a);
        assert!(
            find(dir.path(), "nope")
                .unwrap_err()
                .to_string()
                .starts_with("No backup \"nope\"")
        );
        assert!(b.line().contains("settings (BaseAddress, SyncAll)"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn only_the_newest_are_kept_besides_the_original() {
        let dir = tempfile::tempdir().unwrap();
        let mut last = None;
        for i in 0..KEEP + 3 {
            let mut b = Backup::settings("https://g/v1.0", "sp", "job", &[], &format!("n{i}"));
            save(dir.path(), &mut b).unwrap();
            last = Some(b);
        }
        let all = list(dir.path());
        assert_eq!(all.len(), KEEP + 1, "KEEP others and the original");
        assert_eq!(all[0].1, last.unwrap(), "the newest stays");
        let original: Vec<&Backup> = all.iter().map(|(_, b)| b).filter(|b| b.original).collect();
        assert_eq!(original.len(), 1);
        assert_eq!(original[0].reason, "n0", "the first one is the original");
        assert!(
            all.iter()
                .all(|(_, b)| b.reason != "n1" && b.reason != "n2"),
            "the oldest others go first"
        );
        // Another job's first backup is its own original.
        let mut other = Backup::settings("https://g/v1.0", "sp", "job2", &[], "j2");
        save(dir.path(), &mut other).unwrap();
        assert!(other.original && other.line().contains("(original, kept)"));
    }

    #[test]
    fn a_folder_from_before_tenants_and_originals_still_works() {
        let dir = tempfile::tempdir().unwrap();
        let schema: Value = serde_json::from_str(DEFAULT).unwrap();
        // The file an older version wrote: no tenantId, original or raw.
        let mut legacy = serde_json::to_value(Backup::schema(
            "https://g/v1.0",
            "sp",
            "job",
            &schema,
            "before step 9 (mappings)",
        ))
        .unwrap();
        for key in ["tenantId", "original", "raw"] {
            legacy.as_object_mut().unwrap().remove(key);
        }
        legacy["id"] = "20200101T000000Z-000000000-schema-legacy".into();
        std::fs::write(
            dir.path()
                .join("20200101T000000Z-000000000-schema-legacy.json"),
            serde_json::to_vec(&legacy).unwrap(),
        )
        .unwrap();
        let old = find(dir.path(), "20200101T000000Z").unwrap();
        assert!(old.belongs(Some("t1"), Some("sp"), Some("job")));
        assert_eq!(
            old.put_body().unwrap(),
            serde_json::to_vec(&schema).unwrap()
        );
        // Later backups of that job are not originals, and the legacy one,
        // the oldest of its job, outlives retention.
        for i in 0..=KEEP {
            let mut b = Backup::schema("https://g/v1.0", "sp", "job", &schema, &format!("n{i}"));
            b.tenant_id = Some("t1".into());
            save(dir.path(), &mut b).unwrap();
            assert!(!b.original);
        }
        assert!(find(dir.path(), "20200101T000000Z").is_ok());
    }

    #[test]
    fn backups_belong_to_one_tenant_and_job() {
        let mut b = Backup::settings("https://g/v1.0", "sp", "job", &[], "r");
        assert!(
            b.belongs(Some("t1"), Some("sp"), Some("job")),
            "older, no tenant"
        );
        b.tenant_id = Some("T1".into());
        assert!(b.belongs(Some("t1"), Some("sp"), Some("job")));
        assert!(b.belongs(Some("t1"), None, None));
        assert!(!b.belongs(Some("t2"), None, None));
        assert!(!b.belongs(None, None, None), "unknown tenant: not offered");
        assert!(!b.belongs(Some("t1"), Some("sp"), Some("job2")));
        assert!(!b.belongs(Some("t1"), Some("sp2"), None));
    }

    #[test]
    fn a_restore_sends_the_stored_bytes() {
        // Spacing, escapes and order as Graph sent them.
        let raw = "{ \"id\":\"s\",\"name\":\"caf\\u00e9\", \"directories\":[],\"synchronizationRules\":[] }";
        let b = Backup::schema_raw("https://g/v1.0", "sp", "job", raw.as_bytes(), "r").unwrap();
        assert_eq!(b.put_body().unwrap(), raw.as_bytes());
        assert_eq!(b.schema.as_ref().unwrap()["name"], "café");
        // Older backups without the bytes send the schema they hold.
        let mut old = b.clone();
        old.raw = None;
        assert_eq!(
            old.put_body().unwrap(),
            serde_json::to_vec(old.schema.as_ref().unwrap()).unwrap()
        );
        assert!(
            Backup::schema_raw("https://g/v1.0", "sp", "job", b"<html>", "r")
                .unwrap_err()
                .to_string()
                .starts_with("Graph's schema is not JSON")
        );
    }

    #[test]
    fn the_diff_names_what_a_restore_brings_back() {
        let now: Value = serde_json::from_str(CONFIGURED).unwrap();
        let then: Value = serde_json::from_str(DEFAULT).unwrap();
        let diff = schema_diff(&now, &then);
        assert!(
            diff.contains(&"- userName ← mail (matching 1)".to_string()),
            "{diff:?}"
        );
        assert!(diff.contains(&"+ userName ← userPrincipalName (matching 1)".to_string()));
        assert!(schema_diff(&now, &now).is_empty());
    }
}
