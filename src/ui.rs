//! The iced window: a screen per step group around a live checklist.
//!
//! [`application`] builds the program once for `main` and for the tests.

pub mod app;
pub mod bench;
pub mod panel;
pub mod screen;
pub mod session;
pub mod theme;
mod view;
pub mod widget;
pub mod work;

use iced::window;
use iced::{Size, Theme};

pub use app::{App, Effect, Message, Work};
pub use screen::{Screen, ScreenId};

use crate::platform::clipboard::MemoryClipboard;

/// The id desktop environments match windows and `.desktop` files by.
pub const APP_ID: &str = "com.orchidea.ScimWizard";

/// How the window starts.
#[derive(Clone, Default)]
pub struct Options {
    /// Start the built-in sandbox right away (`--sandbox`).
    pub sandbox: bool,
    /// Use this clipboard instead of the system one (tests).
    pub clipboard: Option<MemoryClipboard>,
    /// Where "Export report" writes; the documents folder when `None`.
    pub report_dir: Option<std::path::PathBuf>,
    /// The sandbox simulates this tenant file instead of the built-in one.
    pub sandbox_tenant: Option<std::path::PathBuf>,
    /// The sandbox keeps its tenant in this file between starts (`--sandbox-state`).
    pub sandbox_state: Option<std::path::PathBuf>,
    /// Measure for `orchidea-wizard-cli bench`, print, exit.
    pub bench: bench::BenchMode,
    /// Receives the bench's line (`main` prints it); `None`: dropped.
    pub bench_report: Option<bench::Report>,
    /// Where the last unfinished run on a real tenant stopped (`crate::engine::resume`).
    pub last_run: Option<String>,
    /// The saved settings the first screen starts from.
    pub settings: crate::platform::settings::Settings,
    /// Credential store, browser and settings file for sign-in; `None`:
    /// the OS store, the system browser and the config dir.
    pub sign_in_env: Option<work::SignInEnv>,
}

/// The documents folder (else the home folder, else the current one).
pub fn default_report_dir() -> std::path::PathBuf {
    directories::UserDirs::new()
        .and_then(|d| {
            d.document_dir()
                .map(std::path::Path::to_path_buf)
                .or_else(|| Some(d.home_dir().to_path_buf()))
        })
        .unwrap_or_else(|| std::path::PathBuf::from("."))
}

/// The program, configured: title, theme, window, subscriptions.
pub fn application(
    options: Options,
) -> iced::Application<impl iced::Program<State = App, Message = Message, Theme = Theme>> {
    iced::application(move || App::boot(&options), App::update, App::view)
        .title(App::title)
        .theme(App::theme)
        .subscription(App::subscription)
        .settings(iced::Settings {
            id: Some(APP_ID.into()),
            // The bundled font, so every machine (and the test renders) looks alike.
            default_font: iced::Font::with_name("Fira Sans"),
            ..iced::Settings::default()
        })
        .window(window_settings())
}

fn window_settings() -> window::Settings {
    window::Settings {
        size: Size::new(1120.0, 780.0),
        min_size: Some(Size::new(920.0, 620.0)),
        icon: icon(),
        // Closing while a step writes asks first (see `Message::CloseRequested`).
        exit_on_close_request: false,
        #[cfg(target_os = "linux")]
        platform_specific: window::settings::PlatformSpecific {
            application_id: APP_ID.into(),
            ..window::settings::PlatformSpecific::default()
        },
        ..window::Settings::default()
    }
}

/// assets/icon.svg rendered at 64×64 as raw RGBA, so no image decoder is needed.
fn icon() -> Option<window::Icon> {
    const RGBA: &[u8] = include_bytes!("../assets/icon-64.rgba");
    window::icon::from_rgba(RGBA.to_vec(), 64, 64).ok()
}

/// Runs the window until it is closed.
pub fn run(options: Options) -> iced::Result {
    application(options).run()
}
