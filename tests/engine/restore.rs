//! Backups before every write, and restores that put back exactly what was
//! there: the schema Graph returns afterwards is byte-for-byte the one it
//! returned before the edit.

use crate::common;

use std::process::{Command, Stdio};

use common::*;
use orchidea_wizard::StepId;
use orchidea_wizard::engine::backup::{self, Kind};
use orchidea_wizard::engine::{Engine, Scope};
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::setup::{self, Choices};

/// The schema exactly as Graph sends it: the bytes of the answer.
async fn raw_schema(sandbox: &Sandbox, sp: &str, job: &str) -> Vec<u8> {
    let url = format!(
        "{}/servicePrincipals/{sp}/synchronization/jobs/{job}/schema",
        sandbox.graph_url
    );
    orchidea_wizard::platform::http::loopback_client()
        .get(url)
        .bearer_auth(sandbox.graph_token.expose())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

fn engine(sandbox: &Sandbox, dir: &std::path::Path, scope: Scope) -> Engine {
    Scenario::new().scope(scope).backups_in(dir).engine(sandbox)
}

/// A sandbox whose job exists (steps 1a–4 run) with its backup folder, the
/// engine, the app and job ids, and the schema bytes Graph holds before step 9.
async fn job_before_step_9() -> (Sandbox, tempfile::TempDir, Engine, String, String, Vec<u8>) {
    let Started {
        sandbox,
        engine,
        dir,
    } = Scenario::new()
        .scope(Scope::Assigned)
        .backups()
        .through(StepId::AutomaticMode)
        .await;
    let facts = engine.facts().await;
    let (sp, job) = (facts.app.unwrap().id, facts.job.unwrap().id);
    let original = raw_schema(&sandbox, &sp, &job).await;
    (sandbox, dir, engine, sp, job, original)
}

#[tokio::test]
async fn a_restored_schema_is_byte_for_byte_the_original() {
    let (sandbox, _dir, engine, sp, job, original) = Box::pin(job_before_step_9()).await;

    run_through(&engine, StepId::ExternalIdFromObjectId).await;
    let edited = raw_schema(&sandbox, &sp, &job).await;
    assert_ne!(edited, original, "steps 9–13 changed the schema");
    let backups = engine.backups().await;
    let taken = backups
        .iter()
        .find(|b| b.kind == Kind::Schema)
        .expect("a schema backup before step 9");
    assert_eq!(taken.reason, "before step 9 (mappings)");
    let facts = engine.facts().await;
    assert!(
        facts.backups.iter().any(|l| l.starts_with(&taken.id)),
        "the report lists it"
    );

    let preview = engine.restore_preview(taken).await.unwrap();
    assert!(
        preview.contains(&"+ userName ← userPrincipalName (matching 1)".to_string()),
        "{preview:?}"
    );
    assert_eq!(
        raw_schema(&sandbox, &sp, &job).await,
        edited,
        "a preview writes nothing"
    );

    let diff = engine.restore(taken).await.unwrap();
    assert_eq!(diff, preview);
    assert_eq!(raw_schema(&sandbox, &sp, &job).await, original);
    // What was there before the restore was backed up in turn: undo works.
    let undo = engine
        .backups()
        .await
        .into_iter()
        .find(|b| b.reason == format!("before restoring {}", taken.id))
        .expect("an undo backup");
    engine.restore(&undo).await.unwrap();
    assert_eq!(raw_schema(&sandbox, &sp, &job).await, edited);
}

#[tokio::test]
async fn settings_are_restored_without_the_secret_ever_reaching_the_file() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&sandbox, dir.path(), Scope::Assigned);
    run_through(&engine, StepId::SaveSettings).await;
    assert_eq!(
        secret_value(&sandbox.dump().await, "SyncAll").as_deref(),
        Some("false")
    );
    engine.set_scope(Scope::All).await;
    engine.run_step(StepId::ChooseScope).await.unwrap();
    engine.run_step(StepId::SaveSettings).await.unwrap();
    assert_eq!(
        secret_value(&sandbox.dump().await, "SyncAll").as_deref(),
        Some("true")
    );

    let before_all = engine
        .backups()
        .await
        .into_iter()
        .find(|b| {
            b.kind == Kind::Settings && b.settings.contains(&("SyncAll".into(), "false".into()))
        })
        .expect("the settings before the scope changed");
    let diff = engine.restore(&before_all).await.unwrap();
    assert!(diff.contains(&"+ SyncAll = false".to_string()), "{diff:?}");
    let dump = sandbox.dump().await;
    assert_eq!(secret_value(&dump, "SyncAll").as_deref(), Some("false"));
    assert_eq!(
        secret_value(&dump, "SecretToken").as_deref(),
        Some("*"),
        "a token is saved"
    );
    let secret = engine.facts().await.scim.unwrap().secret.unwrap();
    for (path, _) in backup::list(dir.path()) {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(!text.contains(secret.expose()));
    }
}

#[test]
fn the_cli_lists_backups_and_restores_one() {
    const CLI: &str = env!("CARGO_BIN_EXE_orchidea-wizard-cli");
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let dump = dir.path().join("dump.json");
    let cli = |args: &[&str]| {
        let out = Command::new(CLI)
            .args(args)
            .env("ORCHIDEA_WIZARD_DATA_DIR", dir.path().join("data"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let state_s = state.to_str().unwrap();
    // Every call works on the same kept sandbox.
    let on_sandbox = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--sandbox", "--sandbox-state", state_s]);
        cli(&all)
    };
    let (ok, out, err) = on_sandbox(&["run", "--yes"]);
    assert!(ok, "{out}{err}");
    let (ok, list, err) = on_sandbox(&["restore"]);
    assert!(ok, "{list}{err}");
    let schema_line = list
        .lines()
        .find(|l| l.contains("schema (22 user attribute mappings), before step 9"))
        .unwrap_or_else(|| panic!("the step-9 backup is listed:\n{list}"));
    let id = schema_line.split_whitespace().next().unwrap();
    let (ok, out, err) = on_sandbox(&["restore", id]);
    assert!(
        !ok,
        "without --yes or a terminal it does not restore:\n{out}{err}"
    );
    assert!(
        out.contains("+ userName ← userPrincipalName (matching 1)"),
        "{out}"
    );
    assert!(out.contains("Not restored."), "{out}");
    let (ok, out, err) = on_sandbox(&[
        "restore",
        id,
        "--yes",
        "--sandbox-dump",
        dump.to_str().unwrap(),
    ]);
    // `restore` has no --sandbox-dump: a clear clap error, nothing restored.
    assert!(!ok && err.contains("--sandbox-dump"), "{out}{err}");
    let (ok, out, err) = on_sandbox(&["restore", id, "--yes"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains(&format!("Restored {id}.")), "{out}");
    let (ok, out, _) = on_sandbox(&["restore", id, "--yes"]);
    assert!(ok && out.contains("Nothing to restore"), "{out}");
}

/// The backup files in `dir`, as JSON (read like any file, not through
/// the crate's types).
fn backup_files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, serde_json::Value)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let v = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            (p, v)
        })
        .collect()
}

#[tokio::test]
async fn the_backup_keeps_the_bytes_graph_sent_and_a_restore_puts_them_back() {
    let (sandbox, dir, engine, sp, job, original) = Box::pin(job_before_step_9()).await;
    let original = String::from_utf8(original).unwrap();
    run_through(&engine, StepId::ExternalIdFromObjectId).await;

    let files = backup_files(dir.path());
    let (_, file) = files
        .iter()
        .find(|(_, v)| v["reason"] == "before step 9 (mappings)")
        .expect("the step-9 backup file");
    assert!(
        file["raw"].as_str() == Some(original.as_str()),
        "the file keeps the body Graph answered, byte for byte"
    );
    let taken = engine
        .backups()
        .await
        .into_iter()
        .find(|b| b.reason == "before step 9 (mappings)")
        .unwrap();
    engine.restore(&taken).await.unwrap();
    assert_eq!(
        String::from_utf8(raw_schema(&sandbox, &sp, &job).await).unwrap(),
        original,
        "Graph's schema after the restore is the stored bytes"
    );
}

#[tokio::test]
async fn retention_never_removes_the_original() {
    let (sandbox, dir, engine, sp, job, original) = Box::pin(job_before_step_9()).await;
    run_through(&engine, StepId::ExternalIdFromObjectId).await;
    let (step9_path, step9) = backup_files(dir.path())
        .into_iter()
        .find(|(_, v)| v["reason"] == "before step 9 (mappings)")
        .unwrap();

    // 150 later backups of the same job (as many runs would leave).
    for i in 0..150 {
        let mut later = step9.clone();
        let id = format!("29990101T000000Z-{i:09}-schema-later");
        later["id"] = id.clone().into();
        later["reason"] = format!("later {i}").into();
        later["original"] = false.into();
        std::fs::write(
            dir.path().join(format!("{id}.json")),
            serde_json::to_vec(&later).unwrap(),
        )
        .unwrap();
    }
    // The next write saves a backup, and retention runs.
    engine.set_scope(Scope::All).await;
    engine.run_step(StepId::ChooseScope).await.unwrap();
    engine.run_step(StepId::SaveSettings).await.unwrap();

    let files = backup_files(dir.path());
    assert!(step9_path.exists(), "the pre-wizard schema is kept");
    assert!(
        files.iter().all(|(_, v)| v["reason"] != "later 0"),
        "the oldest others go first"
    );
    let kept_others = files.iter().filter(|(_, v)| v["original"] != true).count();
    assert_eq!(kept_others, 100, "{} files", files.len());
    let taken = engine
        .backups()
        .await
        .into_iter()
        .find(|b| b.reason == "before step 9 (mappings)")
        .expect("listed");
    assert!(
        taken.line().contains("(original, kept)"),
        "{}",
        taken.line()
    );
    engine.restore(&taken).await.unwrap();
    assert_eq!(raw_schema(&sandbox, &sp, &job).await, original);
}

#[tokio::test]
async fn two_tenants_backups_in_one_folder_never_mix() {
    let dir = tempfile::tempdir().unwrap();
    let in_tenant = |sandbox: &Sandbox, tenant: &str| {
        let mut cfg = setup::sandbox_config(sandbox, None, Choices::default());
        cfg.backup_dir = Some(dir.path().to_path_buf());
        cfg.tenant_id = Some(tenant.into());
        Engine::new(cfg)
    };
    let a = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let engine_a = in_tenant(&a, "aaaaaaaa-0000-0000-0000-00000000000a");
    run_through(&engine_a, StepId::ExternalIdFromObjectId).await;
    let theirs = engine_a
        .backups()
        .await
        .into_iter()
        .find(|b| b.kind == Kind::Schema)
        .expect("tenant A's schema backup");

    let b = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let engine_b = in_tenant(&b, "bbbbbbbb-0000-0000-0000-00000000000b");
    assert!(
        engine_b.backups().await.is_empty(),
        "tenant B sees none of A's backups, before it knows its job"
    );
    let err = engine_b.restore(&theirs).await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "This backup belongs to another tenant: {} was taken in tenant aaaaaaaa-0000-0000-0000-00000000000a, and you are signed in to bbbbbbbb-0000-0000-0000-00000000000b.",
            theirs.id
        )),
        "{err}"
    );
    run_through(&engine_b, StepId::ExternalIdFromObjectId).await;
    let mine = engine_b.backups().await;
    assert!(!mine.is_empty());
    assert!(
        mine.iter()
            .all(|x| x.tenant_id.as_deref() == Some("bbbbbbbb-0000-0000-0000-00000000000b"))
    );
    assert!(
        engine_b
            .backup_refusal(&theirs.id)
            .await
            .is_some_and(|m| m.starts_with("That backup belongs to another tenant or job (")),
        "the CLI names why instead of \"no such backup\""
    );
}
