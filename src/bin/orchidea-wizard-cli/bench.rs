//! `orchidea-wizard-cli bench`: every figure of the performance budget in
//! one run, each next to its target.

use std::path::PathBuf;
use std::process::Command;

use orchidea_wizard::bench::{self, CriticalPath, Throughput, window};
use serde_json::{Value, json};

use crate::error::CliError;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Users in the provisioning-cycle and window runs.
    #[arg(long, default_value_t = 5000)]
    users: usize,
    /// Latency added to every request for the critical path (ms). Repeatable.
    #[arg(long = "latency", value_name = "MS", default_values_t = [50u32, 200])]
    latencies: Vec<u32>,
    /// How many times the window is started for its first-frame figure.
    #[arg(long, default_value_t = 5)]
    first_frame_runs: usize,
    /// Skip the window's figures (no display, no Xvfb).
    #[arg(long)]
    no_window: bool,
    /// Print every request of the critical-path runs (the profile behind the ratio).
    #[arg(long)]
    trace: bool,
    /// Also write every figure as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// One printed line: what, the measurement, the target, whether it is met.
struct Row {
    figure: String,
    measured: String,
    target: String,
    ok: Option<bool>,
}

impl Row {
    fn new(
        figure: impl Into<String>,
        measured: impl Into<String>,
        target: &str,
        ok: Option<bool>,
    ) -> Self {
        Row {
            figure: figure.into(),
            measured: measured.into(),
            target: target.into(),
            ok,
        }
    }
}

pub async fn run(args: BenchArgs) -> Result<bool, CliError> {
    let cli = std::env::current_exe()?;
    let profile = profile_of(&cli);
    println!(
        "orchidea-wizard bench — {} build, {} CPUs, {}",
        profile,
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        orchidea_wizard::platform::timefmt::now_rfc3339()
    );
    if cfg!(debug_assertions) {
        println!(
            "note: a debug build; the figures that count come from `cargo build --profile dist`."
        );
    }
    let mut rows = Vec::new();
    let mut all = json!({});

    for &latency in &args.latencies {
        let cp = bench::critical_path(latency).await.map_err(CliError::lib)?;
        rows.push(critical_row(&cp));
        if args.trace {
            println!("requests at L={latency} ms:");
            for line in &cp.trace {
                println!("  {line}");
            }
        }
        if !cp.repeated.is_empty() {
            println!(
                "repeated reads at L={latency} ms: {}",
                cp.repeated.join("; ")
            );
        }
        all[format!("critical_path_{latency}ms")] = serde_json::to_value(&cp).unwrap_or_default();
    }

    // In its own process, so its peak memory is the cycle's alone.
    let tp = provision_child(&cli, args.users)?;
    rows.push(Row::new(
        format!("provisioning cycle, {} users", tp.users),
        format!(
            "{:.2} s ({} provisioned; steps 1a–15 took {:.2} s)",
            tp.cycle_ms / 1000.0,
            tp.provisioned,
            tp.setup_ms / 1000.0
        ),
        "< 10 s",
        Some(tp.cycle_ms < 10_000.0 && tp.provisioned == tp.users),
    ));
    rows.push(Row::new(
        format!("peak RSS, CLI + sandbox, {} users", tp.users),
        mib(tp.peak_rss_kib),
        "≤ 120 MB",
        tp.peak_rss_kib.map(|k| size_f64(k) / 1024.0 <= 120.0),
    ));
    all["provisioning"] = serde_json::to_value(&tp).unwrap_or_default();

    if args.no_window {
        println!("window figures skipped (--no-window)");
    } else {
        match window::gui_binary(&cli) {
            Some(gui) => window_rows(&gui, &args, &mut rows, &mut all)?,
            None => println!(
                "window figures skipped: no orchidea-wizard beside {} (build it with the same profile)",
                cli.display()
            ),
        }
    }

    for (name, path) in [
        ("orchidea-wizard", window::gui_binary(&cli)),
        ("orchidea-wizard-cli", Some(cli.clone())),
    ] {
        let Some(path) = path else { continue };
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        let mb = size_f64(bytes) / 1_000_000.0;
        rows.push(Row::new(
            format!(
                "binary size, {name} ({profile}{})",
                if profile == "dist" { ", stripped" } else { "" }
            ),
            format!("{mb:.1} MB"),
            "≤ 25 MB",
            // The size target is the packages': only the dist profile strips and links fat.
            (profile == "dist").then_some(mb <= 25.0),
        ));
        all[format!("size_{name}")] = json!(bytes);
    }

    print_rows(&rows);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&all).unwrap_or_default()).map_err(
            |source| CliError::Write {
                path: path.clone(),
                source,
            },
        )?;
    }
    Ok(rows.iter().all(|r| r.ok != Some(false)))
}

fn critical_row(cp: &CriticalPath) -> Row {
    Row::new(
        format!("critical path 1a–16, L = {} ms", cp.latency_ms),
        format!(
            "{:.2} s, {} requests, chain {}, ratio {:.3}{}",
            cp.wall_ms / 1000.0,
            cp.requests,
            cp.chain,
            cp.ratio,
            if cp.repeated.is_empty() {
                ", nothing fetched twice".to_string()
            } else {
                format!(", {} repeated reads", cp.repeated.len())
            }
        ),
        "ratio ≤ 1.15",
        Some(cp.ratio <= 1.15 && cp.steps_complete == orchidea_wizard::StepId::ALL.len()),
    )
}

fn window_rows(
    gui: &std::path::Path,
    args: &BenchArgs,
    rows: &mut Vec<Row>,
    all: &mut Value,
) -> Result<(), CliError> {
    let display = window::Display::get().map_err(CliError::lib)?;
    let mut frames = Vec::new();
    let mut idle = Vec::new();
    for _ in 0..args.first_frame_runs.max(1) {
        let line = window::run_window(gui, &display, &["--exit-after-first-frame"])
            .map_err(CliError::lib)?;
        frames.push(line["first_frame_ms"].as_f64().unwrap_or(f64::NAN));
        idle.push(line["idle_rss_kib"].as_f64().unwrap_or(f64::NAN));
    }
    let first = window::median(&mut frames);
    let idle_kib = window::median(&mut idle);
    rows.push(Row::new(
        format!("first frame (median of {})", frames.len()),
        format!("{first:.0} ms"),
        "≤ 300 ms",
        Some(first <= 300.0),
    ));
    rows.push(Row::new(
        "idle RSS, window after first frame",
        format!("{:.1} MB", idle_kib / 1024.0),
        "≤ 60 MB",
        Some(idle_kib / 1024.0 <= 60.0),
    ));
    all["first_frame_ms"] = json!(frames);
    all["idle_rss_kib"] = json!(idle);

    let tenant =
        std::env::temp_dir().join(format!("orchidea-bench-window-{}.json", std::process::id()));
    std::fs::write(&tenant, bench::synthetic_tenant(args.users).to_string())?;
    let run = window::run_window(
        gui,
        &display,
        &[
            "--sandbox",
            "--bench-run",
            "--sandbox-tenant",
            &tenant.to_string_lossy(),
        ],
    );
    let _ = std::fs::remove_file(&tenant);
    let run = run.map_err(CliError::lib)?;
    let max_update = run["max_update_ms"].as_f64().unwrap_or(f64::NAN);
    let max_view = run["max_view_ms"].as_f64().unwrap_or(f64::NAN);
    rows.push(Row::new(
        format!(
            "longest update, window run of {} users ({} updates)",
            args.users, run["updates"]
        ),
        format!("{max_update:.2} ms"),
        "≤ 16 ms",
        Some(max_update <= 16.0),
    ));
    rows.push(Row::new(
        format!("longest view ({} views)", run["views"]),
        format!("{max_view:.2} ms"),
        "≤ 16 ms",
        Some(max_view <= 16.0),
    ));
    let peak = run["peak_rss_kib"].as_u64();
    rows.push(Row::new(
        format!(
            "peak RSS, window + sandbox, {} users ({} provisioned)",
            args.users, run["provisioned"]
        ),
        mib(peak),
        "≤ 120 MB",
        peak.map(|k| size_f64(k) / 1024.0 <= 120.0),
    ));
    all["window_run"] = run;
    Ok(())
}

/// The Cargo profile this binary was built with, from its folder
/// (`target/<profile>/`): the figures that count come from `dist`.
fn profile_of(cli: &std::path::Path) -> &'static str {
    if cfg!(debug_assertions) {
        return "debug";
    }
    let folder = cli.parent().and_then(|p| p.file_name());
    if folder.is_some_and(|f| f == "dist") {
        "dist"
    } else {
        "release"
    }
}

/// Runs `bench-provision` in a child process and reads its JSON line.
fn provision_child(cli: &std::path::Path, users: usize) -> Result<Throughput, CliError> {
    let out = Command::new(cli)
        .args(["bench-provision", "--users", &users.to_string()])
        .env("RUST_LOG", "error")
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| CliError::NoFigures(String::from_utf8_lossy(&out.stderr).into_owned()))?;
    Ok(Throughput {
        users: count(&line["users"]),
        provisioned: count(&line["provisioned"]),
        cycle_ms: line["cycle_ms"].as_f64().unwrap_or(f64::NAN),
        setup_ms: line["setup_ms"].as_f64().unwrap_or(f64::NAN),
        peak_rss_kib: line["peak_rss_kib"].as_u64(),
    })
}

/// The hidden `bench-provision` subcommand: one cycle, one JSON line.
pub async fn provision(users: usize) -> Result<bool, CliError> {
    let tp = bench::provision_many(users).await.map_err(CliError::lib)?;
    println!("{}", serde_json::to_string(&tp)?);
    Ok(true)
}

/// A measured size as a float for printing and comparing with a target.
#[allow(clippy::cast_precision_loss)] // sizes far below 2^52: exact
fn size_f64(n: u64) -> f64 {
    n as f64
}

/// A count from the child's JSON line (0 when absent).
fn count(v: &Value) -> usize {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("not measured".into(), |k| {
        format!("{:.1} MB", size_f64(k) / 1024.0)
    })
}

fn print_rows(rows: &[Row]) {
    let w1 = rows
        .iter()
        .map(|r| r.figure.chars().count())
        .max()
        .unwrap_or(0);
    let w2 = rows
        .iter()
        .map(|r| r.measured.chars().count())
        .max()
        .unwrap_or(0);
    let w3 = rows
        .iter()
        .map(|r| r.target.chars().count())
        .max()
        .unwrap_or(0);
    println!();
    for r in rows {
        let verdict = match r.ok {
            Some(true) => "ok",
            Some(false) => "MISSED",
            None => "—",
        };
        println!(
            "{:<w1$}  {:<w2$}  {:<w3$}  {verdict}",
            r.figure, r.measured, r.target
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_is_read_from_the_binarys_folder() {
        let expected = |optimised: &'static str| {
            if cfg!(debug_assertions) {
                "debug"
            } else {
                optimised
            }
        };
        assert_eq!(
            profile_of(std::path::Path::new("target/dist/orchidea-wizard-cli")),
            expected("dist")
        );
        assert_eq!(
            profile_of(std::path::Path::new("target/release/orchidea-wizard-cli")),
            expected("release")
        );
    }
}
