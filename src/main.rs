//! The desktop wizard: `orchidea-wizard [--sandbox]`.
//!
//! With nothing configured it opens on the welcome screen, from which the
//! sandbox or the real tenant can be chosen; `--sandbox` starts straight in
//! the sandbox. Rendering is tiny-skia (software), so it runs on any VM, RDP
//! session or CI box without a GPU.

// No console window behind the GUI on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use clap::Parser;

/// Connects Orchidea to Microsoft Entra ID for SCIM user provisioning.
#[derive(Parser)]
#[command(version = orchidea_wizard::platform::build_info::LONG_VERSION, about)]
struct Args {
    /// Start in the built-in sandbox (a simulated tenant on 127.0.0.1).
    #[arg(long)]
    sandbox: bool,
    /// Where "Export report" writes (default: your documents folder).
    #[arg(long, value_name = "DIR")]
    report_dir: Option<std::path::PathBuf>,
    /// Simulate this tenant in the sandbox (format: docs/sandbox-tenant.md).
    #[arg(long, value_name = "FILE")]
    sandbox_tenant: Option<std::path::PathBuf>,
    /// Keep the sandbox's tenant in this file, so the next start finds the setup again.
    #[arg(long, value_name = "FILE")]
    sandbox_state: Option<std::path::PathBuf>,
    /// Benchmark: print the time to the first frame and the idle memory, then exit.
    #[arg(long)]
    exit_after_first_frame: bool,
    /// Benchmark: run every step in the sandbox, print the longest update and
    /// view and the peak memory once the first cycle is done, then exit.
    #[arg(long, requires = "sandbox")]
    bench_run: bool,
}

use orchidea_wizard::ui::bench::BenchMode;

fn main() -> iced::Result {
    // SAFETY: the first thing the process does: no other thread runs yet.
    // The window reads none of them, but the browser it opens for sign-in
    // would inherit them.
    #[allow(unsafe_code)]
    unsafe {
        orchidea_wizard::platform::secret_env::take_from_env();
    }
    let args = Args::parse();
    orchidea_wizard::platform::logging::init();
    orchidea_wizard::platform::http::install_crypto_provider();
    orchidea_wizard::ui::run(orchidea_wizard::ui::Options {
        sandbox: args.sandbox,
        clipboard: None,
        report_dir: args.report_dir,
        sandbox_tenant: args.sandbox_tenant,
        sandbox_state: args.sandbox_state,
        last_run: orchidea_wizard::engine::resume::load(
            &orchidea_wizard::engine::resume::default_path(),
        )
        .filter(|r| !r.complete())
        .map(|r| r.summary()),
        settings: load_settings(),
        sign_in_env: None,
        // The bench's one JSON line, on stdout for `orchidea-wizard-cli bench`.
        bench_report: Some(std::sync::Arc::new(|line: &str| println!("{line}"))),
        bench: if args.bench_run {
            BenchMode::Run
        } else if args.exit_after_first_frame {
            BenchMode::FirstFrame
        } else {
            BenchMode::Off
        },
    })
}

/// The saved settings; a broken file is reported and the defaults used
/// (the file is left as it is for the admin to look at).
fn load_settings() -> orchidea_wizard::platform::settings::Settings {
    let path = orchidea_wizard::platform::settings::path();
    orchidea_wizard::platform::settings::load_from(&path).unwrap_or_else(|e| {
        tracing::warn!("{e}");
        orchidea_wizard::platform::settings::Settings::default()
    })
}
