//! The runtime side of the root: effects become iced tasks, and the
//! subscriptions (monitor, frames, keys, close requests, theme, ticks).

use std::time::Duration;

use iced::keyboard::{self, key::Named};
use iced::widget::operation;
use iced::{Element, Subscription, Task, Theme, window};

use super::{App, Effect, Message};
use crate::ui::screen::ScreenId;
use crate::ui::work::{self, Observation, Target};
use crate::ui::{theme, view};

impl App {
    pub fn view(&self) -> Element<'_, Message> {
        if !self.timing.on() {
            return view::view(self);
        }
        let began = std::time::Instant::now();
        let element = view::view(self);
        self.timing.record_view(began.elapsed());
        element
    }

    pub(super) fn report(&self, line: &str) {
        if let Some(report) = &self.bench_report {
            report(line);
        }
    }

    /// The run bench ends when the first cycle is done: reports, then exits.
    pub(super) fn bench_run_done(&mut self) -> Option<Vec<Effect>> {
        let view = self.session.job_view.as_ref()?;
        if self.timing.mode != crate::ui::bench::BenchMode::Run
            || self.timing.done
            || !view.initial_cycle_done
        {
            return None;
        }
        self.timing.done = true;
        let provisioned = view.counts.iter().map(|(_, n)| n).sum();
        self.report(&self.timing.run_line(provisioned));
        Some(vec![Effect::Exit])
    }

    pub fn title(&self) -> String {
        let place = match self.session.target {
            Some(Target::Sandbox(_)) => " (sandbox)",
            _ => "",
        };
        format!("Orchidea SCIM Setup — {}{place}", self.current.title())
    }

    pub fn theme(&self) -> Option<Theme> {
        theme::for_mode(self.mode)
    }

    pub(super) fn observed(&mut self, o: Observation) -> Vec<Effect> {
        match o.job {
            Ok(view) => {
                self.session.job_view = Some(view);
                self.session.monitor_error = None;
            }
            Err(e) => self.session.monitor_error = Some(e),
        }
        if let Some(events) = o.events {
            self.session.events = events;
        }
        self.bench_run_done().unwrap_or_default()
    }

    pub(super) fn tasks(&mut self, effects: Vec<Effect>) -> Task<Message> {
        Task::batch(effects.into_iter().map(|effect| {
            match effect {
                Effect::Work(work) => {
                    let (task, handle) = Task::run(work.stream, |m| m).abortable();
                    if let Some(running) = self.session.running.as_mut().filter(|r| r.id == work.id)
                    {
                        running.handle = Some(handle.abort_on_drop());
                    }
                    task
                }
                Effect::After(wait, message) => {
                    Task::perform(tokio::time::sleep(wait), move |()| message)
                }
                Effect::FocusNext => operation::focus_next(),
                Effect::FocusPrevious => operation::focus_previous(),
                Effect::Open(url) => {
                    let opener = std::sync::Arc::clone(&self.sign_in_env.opener);
                    Task::future(async move {
                        if let Err(e) = opener.open(&url).await {
                            tracing::warn!("could not open the browser: {e}");
                        }
                    })
                    .discard()
                }
                Effect::SaveSettings(settings) => match self.sign_in_env.settings_path.clone() {
                    Some(path) => Task::future(async move {
                        let saved = tokio::task::spawn_blocking(move || {
                            crate::platform::settings::save_to(&path, &settings)
                        })
                        .await;
                        if let Ok(Err(e)) = saved {
                            tracing::warn!("could not save the settings: {e}");
                        }
                    })
                    .discard(),
                    None => Task::none(),
                },
                Effect::Exit => iced::exit(),
            }
        }))
    }

    pub fn subscription(&self) -> Subscription<Message> {
        let ticking =
            self.session.is_busy() || self.session.copier.seconds_left(self.session.now).is_some();
        let watching =
            self.session.started() && matches!(self.current, ScreenId::Start | ScreenId::Summary);
        let monitor = match (&self.session.engine, watching) {
            (Some(engine), true) => Subscription::run_with(
                Watch {
                    epoch: self.session.monitor_epoch,
                    engine: engine.clone(),
                },
                |w| work::monitor(w.engine.clone()),
            ),
            _ => Subscription::none(),
        };
        let frames = if self.timing.mode == crate::ui::bench::BenchMode::FirstFrame
            && self.timing.first_frame.is_none()
        {
            window::frames().map(Message::Frame)
        } else {
            Subscription::none()
        };
        Subscription::batch([
            monitor,
            frames,
            keyboard::listen().filter_map(key_message),
            window::close_requests().map(|id| Message::CloseRequested(Some(id))),
            iced::system::theme_changes().map(Message::ThemeChanged),
            if ticking {
                iced::time::every(Duration::from_millis(150)).map(Message::Tick)
            } else {
                Subscription::none()
            },
        ])
    }
}

/// The monitor's identity: a new epoch (new engine, restart) starts a
/// fresh poll with a short first delay.
struct Watch {
    epoch: u64,
    engine: crate::engine::Engine,
}

impl std::hash::Hash for Watch {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.epoch.hash(state);
    }
}

/// The keyboard path: Tab/Shift-Tab move focus, Enter is the primary button,
/// Esc is Back, Up/Down change the selected choice.
pub fn key_message(event: keyboard::Event) -> Option<Message> {
    let keyboard::Event::KeyPressed { key, modifiers, .. } = event else {
        return None;
    };
    match key.as_ref() {
        keyboard::Key::Named(Named::Tab) if modifiers.shift() => Some(Message::FocusPrevious),
        keyboard::Key::Named(Named::Tab) => Some(Message::FocusNext),
        keyboard::Key::Named(Named::Enter) => Some(Message::Primary),
        keyboard::Key::Named(Named::Escape) => Some(Message::Escape),
        keyboard::Key::Named(Named::ArrowUp | Named::ArrowDown) => Some(Message::Arrow),
        _ => None,
    }
}
