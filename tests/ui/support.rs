//! Drives the window headlessly. Clicks and typing go through `iced_test`'s
//! `Simulator`; the work they start is the app's own message streams, run
//! here on a tokio runtime against the sandbox on 127.0.0.1.

use std::path::Path;

use futures::StreamExt;
use iced::{Element, Event, Point, Settings, Size, Theme, mouse};
use iced_test::Simulator;
use orchidea_wizard::platform::clipboard::MemoryClipboard;
use orchidea_wizard::platform::credstore::SessionStore;
use orchidea_wizard::services::signin::UrlOpener;
use orchidea_wizard::ui::work::SignInEnv;
use orchidea_wizard::ui::{App, Effect, Message, Options, ScreenId, Work};
use std::sync::Arc;

/// The window's default size, so tests see what a user sees.
pub const SIZE: Size = Size::new(1120.0, 780.0);

pub struct Harness {
    pub app: App,
    pub clipboard: MemoryClipboard,
    /// Where "Export report" writes.
    pub reports: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    work: Vec<Work>,
    /// Every settings file the app asked to write, in order.
    pub saved_settings: Vec<orchidea_wizard::platform::settings::Settings>,
}

pub fn simulator(view: Element<'_, Message>) -> Simulator<'_, Message> {
    Simulator::with_size(Settings::default(), SIZE, view)
}

impl Harness {
    /// The app as `cargo run` starts it; `sandbox` is the `--sandbox` flag.
    pub fn new(sandbox: bool) -> Self {
        Self::build(sandbox, |_, _| {})
    }

    /// As [`Harness::new`], with `edit` adjusting the options first (it gets
    /// the runtime, e.g. to start a sandbox the window signs in to).
    pub fn build(sandbox: bool, edit: impl FnOnce(&mut Options, &tokio::runtime::Runtime)) -> Self {
        let clipboard = MemoryClipboard::default();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let reports = tempfile::tempdir().unwrap();
        let mut options = Options {
            sandbox,
            clipboard: Some(clipboard.clone()),
            report_dir: Some(reports.path().to_path_buf()),
            // Never the real keyring, browser or settings file.
            sign_in_env: Some(SignInEnv {
                store: Some(Arc::new(SessionStore::default())),
                opener: Arc::new(HttpOpener),
                settings_path: None,
            }),
            ..Options::default()
        };
        edit(&mut options, &rt);
        // The sandbox spawns its servers on the runtime it starts from.
        let guard = rt.enter();
        let (app, effects) = App::new(&options);
        drop(guard);
        let mut harness = Self {
            app,
            clipboard,
            reports,
            rt,
            work: Vec::new(),
            saved_settings: Vec::new(),
        };
        harness.absorb(effects);
        harness.settle();
        harness
    }

    /// Feeds one message to the app and runs the work it starts.
    pub fn send(&mut self, message: Message) {
        let effects = self.app.handle(message);
        self.absorb(effects);
        self.settle();
    }

    fn absorb(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Work(work) => self.work.push(work),
                Effect::SaveSettings(s) => self.saved_settings.push(s),
                _ => {}
            }
        }
    }

    /// Runs work until all of it finished or waits for the admin.
    pub fn settle(&mut self) {
        loop {
            let app = &self.app;
            self.work.retain(|w| app.is_current(w.id));
            let Some(at) = self.work.iter().position(|w| !self.app.is_paused(w.id)) else {
                return;
            };
            let mut work = self.work.remove(at);
            while let Some(message) = self.rt.block_on(work.stream.next()) {
                let effects = {
                    let _guard = self.rt.enter();
                    self.app.handle(message)
                };
                self.absorb(effects);
                if self.app.is_paused(work.id) {
                    self.work.push(work);
                    break;
                }
                if !self.app.is_current(work.id) {
                    break;
                }
            }
        }
    }

    /// Clicks the widget showing `label` (a text, or a field's placeholder),
    /// scrolling to it first like a user would.
    pub fn click(&mut self, label: &str) {
        let messages: Vec<Message> = {
            let mut ui = simulator(self.app.view());
            reach(&mut ui, label, self.app.screen());
            ui.into_messages().collect()
        };
        for message in messages {
            self.send(message);
        }
    }

    /// Clicks the field showing `placeholder` and types `text` into it.
    pub fn type_into(&mut self, placeholder: &str, text: &str) {
        let messages: Vec<Message> = {
            let mut ui = simulator(self.app.view());
            reach(&mut ui, placeholder, self.app.screen());
            let _ = ui.typewrite(text);
            ui.into_messages().collect()
        };
        for message in messages {
            self.send(message);
        }
    }

    /// Runs `stream` until it yields one message, and feeds that to the app
    /// (the monitor's subscription, polled once).
    pub fn poll_once(&mut self, mut stream: futures::stream::BoxStream<'static, Message>) {
        let message = {
            let _guard = self.rt.enter();
            self.rt.block_on(stream.next())
        };
        if let Some(message) = message {
            self.send(message);
        }
    }

    /// Runs `f` inside the harness's runtime (sandbox calls in tests).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Whether `text` is on screen (a text widget, or a field's value).
    pub fn sees(&self, text: &str) -> bool {
        simulator(self.app.view()).find(text).is_ok()
    }

    /// Whether some text on screen contains `fragment` (long messages).
    pub fn sees_part(&self, fragment: &str) -> bool {
        let selector = |c: iced_test::selector::Candidate<'_>| match c {
            iced_test::selector::Candidate::Text { content, .. } if content.contains(fragment) => {
                Some(())
            }
            _ => None,
        };
        simulator(self.app.view()).find(selector).is_ok()
    }

    #[track_caller]
    pub fn assert_sees_part(&self, fragment: &str) {
        assert!(
            self.sees_part(fragment),
            "no text containing {fragment:?} on {:?} (error banner: {:?})",
            self.app.screen(),
            self.app.error()
        );
    }

    #[track_caller]
    pub fn assert_sees(&self, text: &str) {
        assert!(
            self.sees(text),
            "{text:?} is not shown on {:?} (error banner: {:?})",
            self.app.screen(),
            self.app.error()
        );
    }
}

/// Clicks `label`, scrolling the area under it down until it is visible.
fn reach(ui: &mut Simulator<'_, Message>, label: &str, screen: ScreenId) {
    for _ in 0..30 {
        match ui.click(label) {
            Ok(_) => return,
            Err(iced_test::Error::TargetNotVisible { .. }) => {
                let bounds = ui.find(label).unwrap().bounds();
                ui.point_at(Point::new(bounds.center_x(), SIZE.height / 2.0));
                let _ = ui.simulate([Event::Mouse(mouse::Event::WheelScrolled {
                    delta: mouse::ScrollDelta::Lines { x: 0.0, y: -3.0 },
                })]);
            }
            Err(e) => panic!("cannot click {label:?} on {screen:?}: {e:?}"),
        }
    }
    panic!("{label:?} never scrolled into view on {screen:?}");
}

/// Compares a render with its committed hash. `iced_test` writes a missing
/// baseline and passes, so on CI a missing file is a failure instead.
pub fn assert_snapshot(view: Element<'_, Message>, theme: &Theme, name: &str) {
    let base = format!("tests/snapshots/{name}");
    let file = format!("{base}-tiny-skia.sha256");
    if std::env::var_os("CI").is_some() {
        assert!(
            Path::new(&file).exists(),
            "missing snapshot baseline {file}: run the UI tests locally and commit it"
        );
    }
    let snapshot = simulator(view).snapshot(theme).unwrap();
    assert!(
        snapshot.matches_hash(&base).unwrap(),
        "{name} no longer renders as its baseline {file}"
    );
}

/// The browser, as a test: requests the sign-in page (the sandbox approves
/// at once and redirects) and follows the redirect to the wizard's loopback
/// listener, as a browser would.
pub struct HttpOpener;

impl UrlOpener for HttpOpener {
    fn open(&self, url: &url::Url) -> futures::future::BoxFuture<'_, Result<(), String>> {
        let url = url.clone();
        Box::pin(async move {
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .map_err(|e| e.to_string())?;
            let page = http.get(url).send().await.map_err(|e| e.to_string())?;
            let location = page
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    format!(
                        "the sign-in page answered {} without a redirect",
                        page.status()
                    )
                })?
                .to_string();
            http.get(location).send().await.map_err(|e| e.to_string())?;
            Ok(())
        })
    }
}
