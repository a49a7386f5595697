//! Backups taken before every write that replaces something in Entra: the
//! job's schema exactly as Graph returned it, and the provisioning settings
//! without the secret. Each is one JSON file (mode 0600) in the data dir;
//! `orchidea-wizard-cli restore` and the window list them and put one back.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::graph::{SecretEntry, SecretValue};

/// Kept per folder; the oldest go first.
const KEEP: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Why it was taken ("before step 9", …).
    pub reason: String,
    /// [`Kind::Schema`]: the schema as Graph returned it.
    #[serde(default)]
    pub schema: Option<Value>,
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
        let taken_at = crate::timefmt::now_rfc3339();
        // Sortable within a second (nanoseconds), unique with a random tail.
        let nanos = std::time::SystemTime::now()
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
                crate::timefmt::now_compact()
            ),
            taken_at,
            kind,
            graph_url: graph_url.to_string(),
            service_principal_id: sp.to_string(),
            job_id: job.to_string(),
            reason: reason.to_string(),
            schema,
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
                    .and_then(|s| crate::mapping::user_mapping_lines(s).ok())
                    .map_or(0, |l| l.len());
                format!("schema ({n} user attribute mappings)")
            }
            Kind::Settings => {
                let keys: Vec<&str> = self.settings.iter().map(|(k, _)| k.as_str()).collect();
                format!("settings ({})", keys.join(", "))
            }
        };
        format!(
            "{}  {}  {what}, {} — job {}",
            self.id,
            crate::timefmt::readable(&self.taken_at),
            self.reason,
            self.job_id
        )
    }
}

/// Whether a backup taken against `taken` belongs to the Graph at `here`.
/// The sandbox gets a new port each start, so any loopback Graph is the
/// sandbox's (its backups live in their own folder).
pub fn same_graph(taken: &str, here: &str) -> bool {
    let loopback = |u: &str| url::Url::parse(u).is_ok_and(|u| crate::http::is_loopback(&u));
    taken.trim_end_matches('/') == here.trim_end_matches('/') || (loopback(taken) && loopback(here))
}

/// Writes `backup` into `dir` and drops the oldest beyond [`KEEP`].
pub fn save(dir: &Path, backup: &Backup) -> std::io::Result<PathBuf> {
    crate::paths::ensure_private_dir(dir)?;
    let path = dir.join(format!("{}.json", backup.id));
    let bytes = serde_json::to_vec_pretty(backup).map_err(std::io::Error::other)?;
    crate::paths::write_private(&path, &bytes)?;
    // Ids start with the time, so names sort by age: no file is parsed.
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort_by(|a, b| b.cmp(a));
    for old in names.iter().skip(KEEP) {
        let _ = std::fs::remove_file(old);
    }
    Ok(path)
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
pub fn find(dir: &Path, id: &str) -> Result<Backup, String> {
    let matches: Vec<Backup> = list(dir)
        .into_iter()
        .map(|(_, b)| b)
        .filter(|b| b.id.starts_with(id.trim()))
        .collect();
    match matches.len() {
        1 => Ok(matches.into_iter().next().unwrap_or_else(|| unreachable!())),
        0 => Err(format!(
            "No backup \"{id}\" in {}. List them with `orchidea-wizard-cli restore`.",
            dir.display()
        )),
        n => Err(format!(
            "\"{id}\" matches {n} backups; give more of the id."
        )),
    }
}

/// Lines that differ between two schemas' user mappings: `- ` only in
/// `current`, `+ ` only in `backup` (what a restore brings back).
pub fn schema_diff(current: &Value, backup: &Value) -> Vec<String> {
    let now = crate::mapping::user_mapping_lines(current).unwrap_or_default();
    let then = crate::mapping::user_mapping_lines(backup).unwrap_or_default();
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

    const DEFAULT: &str = include_str!("../tests/fixtures/graph/schema-scim-default.json");
    const CONFIGURED: &str =
        include_str!("../tests/fixtures/graph/schema-orchidea-configured.json");

    #[test]
    fn saved_listed_found_and_never_holding_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let schema: Value = serde_json::from_str(DEFAULT).unwrap();
        let a = Backup::schema("https://g/v1.0", "sp", "job", &schema, "before step 9");
        save(dir.path(), &a).unwrap();
        let entries = vec![
            SecretEntry::plain("BaseAddress", "https://x/scim"),
            SecretEntry::sensitive("SecretToken", crate::Secret::new("tok-very-secret")),
            SecretEntry::plain("SyncAll", "false"),
        ];
        let b = Backup::settings("https://g/v1.0", "sp", "job", &entries, "before step 15");
        let path = save(dir.path(), &b).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("tok-very-secret") && !text.contains("SecretToken"));
        let all = list(dir.path());
        assert_eq!(all.len(), 2);
        assert_eq!(find(dir.path(), &a.id).unwrap(), a);
        assert!(
            find(dir.path(), "nope")
                .unwrap_err()
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
    fn only_the_newest_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut last = None;
        for i in 0..KEEP + 2 {
            let b = Backup::settings("https://g/v1.0", "sp", "job", &[], &format!("n{i}"));
            save(dir.path(), &b).unwrap();
            last = Some(b);
        }
        let all = list(dir.path());
        assert_eq!(all.len(), KEEP);
        assert_eq!(all[0].1, last.unwrap(), "the newest stays");
        assert!(
            all.iter()
                .all(|(_, b)| b.reason != "n0" && b.reason != "n1")
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
