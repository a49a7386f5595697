//! The window without a mouse: Tab and Shift+Tab move a visible focus ring
//! over every button and checklist row, Enter or Space on the focused one
//! does what a click does, and the sandbox run goes from the first screen to
//! a started job with keys alone.
//!
//! Unlike the click tests, the widget tree's state (where focus is) is kept
//! from one frame to the next, as the running window keeps it: the
//! interface is rebuilt from the app's view with the previous frame's cache.

use crate::support::{Harness, SIZE};
use iced::advanced::widget::Operation;
use iced::advanced::widget::operation::{self, Focusable, Outcome};
use iced::keyboard::{self, Key, Modifiers, key::Named};
use iced::{Event, Rectangle, Theme, mouse};
use iced_test::core::renderer::Headless;
use iced_test::runtime::{UserInterface, user_interface};
use orchidea_wizard::StepId;
use orchidea_wizard::ui::theme;
use orchidea_wizard::ui::{App, Effect, Message, ScreenId};

type Ui<'a> = UserInterface<'a, Message, Theme, iced::Renderer>;

/// What one pass over the widget tree saw: the focus stops in order, the
/// focused one, and every text with its bounds.
#[derive(Default)]
struct Seen {
    stops: Vec<Rectangle>,
    focused: Option<Rectangle>,
    texts: Vec<(String, Rectangle)>,
}

impl Operation for Seen {
    fn traverse(&mut self, operate: &mut dyn FnMut(&mut dyn Operation)) {
        operate(self);
    }

    fn focusable(
        &mut self,
        _id: Option<&iced::advanced::widget::Id>,
        bounds: Rectangle,
        state: &mut dyn Focusable,
    ) {
        self.stops.push(bounds);
        if state.is_focused() {
            self.focused = Some(bounds);
        }
    }

    fn text(&mut self, _id: Option<&iced::advanced::widget::Id>, bounds: Rectangle, text: &str) {
        self.texts.push((text.to_string(), bounds));
    }
}

impl Seen {
    /// The texts drawn inside the focused widget.
    fn focused_texts(&self) -> Vec<String> {
        let Some(focus) = self.focused else {
            return Vec::new();
        };
        self.texts
            .iter()
            .filter(|(_, b)| focus.contains(b.center()))
            .map(|(t, _)| t.clone())
            .collect()
    }
}

/// The keyboard, and the frames it types into.
struct Keys {
    renderer: iced::Renderer,
    cache: Option<user_interface::Cache>,
}

fn press(named: Named, modifiers: Modifiers) -> Event {
    Event::Keyboard(keyboard::Event::KeyPressed {
        key: Key::Named(named),
        modified_key: Key::Named(named),
        physical_key: keyboard::key::Physical::Unidentified(
            keyboard::key::NativeCode::Unidentified,
        ),
        location: keyboard::Location::Standard,
        modifiers,
        text: (named == Named::Space).then(|| " ".into()),
        repeat: false,
    })
}

fn release(named: Named, modifiers: Modifiers) -> Event {
    Event::Keyboard(keyboard::Event::KeyReleased {
        key: Key::Named(named),
        modified_key: Key::Named(named),
        physical_key: keyboard::key::Physical::Unidentified(
            keyboard::key::NativeCode::Unidentified,
        ),
        location: keyboard::Location::Standard,
        modifiers,
    })
}

impl Keys {
    fn new() -> Self {
        let renderer = futures::executor::block_on(<iced::Renderer as Headless>::new(
            iced::Font::with_name("Fira Sans"),
            iced::Pixels(16.0),
            None,
        ))
        .expect("a headless renderer");
        Self {
            renderer,
            cache: None,
        }
    }

    /// Builds this frame from the app's view on the last frame's state.
    fn frame<R>(&mut self, app: &App, f: impl FnOnce(&mut Ui<'_>, &mut iced::Renderer) -> R) -> R {
        let cache = self.cache.take().unwrap_or_default();
        let mut ui = UserInterface::build(app.view(), SIZE, cache, &mut self.renderer);
        let out = f(&mut ui, &mut self.renderer);
        self.cache = Some(ui.into_cache());
        out
    }

    fn seen(&mut self, app: &App) -> Seen {
        self.frame(app, |ui, renderer| {
            let mut seen = Seen::default();
            ui.operate(renderer, &mut seen);
            seen
        })
    }

    /// One key, as the running window handles it: the widgets first; a key
    /// they leave alone goes to the app's keyboard subscription, and the
    /// focus moves the app asks for run on the widget tree.
    fn key(&mut self, h: &mut Harness, named: Named, modifiers: Modifiers) {
        let down = press(named, modifiers);
        let (statuses, messages) = self.frame(&h.app, |ui, renderer| {
            let mut messages = Vec::new();
            let (_, statuses) = ui.update(
                &[down.clone(), release(named, modifiers)],
                mouse::Cursor::Unavailable,
                renderer,
                &mut iced::advanced::clipboard::Null,
                &mut messages,
            );
            (statuses, messages)
        });
        for message in messages {
            h.send(message);
        }
        if statuses[0] == iced::event::Status::Captured {
            return;
        }
        let Event::Keyboard(event) = down else {
            unreachable!()
        };
        let Some(message) = orchidea_wizard::ui::app::key_message(event) else {
            return;
        };
        if !matches!(message, Message::FocusNext | Message::FocusPrevious) {
            h.send(message);
            return;
        }
        for effect in h.app.handle(message) {
            match effect {
                Effect::FocusNext => self.operate(&h.app, operation::focusable::focus_next()),
                Effect::FocusPrevious => {
                    self.operate(&h.app, operation::focusable::focus_previous());
                }
                _ => panic!("a focus move asked for other work"),
            }
        }
    }

    /// Runs a focus operation to its end, as the runtime does.
    fn operate(&mut self, app: &App, op: impl Operation + 'static) {
        let mut current: Option<Box<dyn Operation>> = Some(Box::new(op));
        while let Some(mut op) = current.take() {
            self.frame(app, |ui, renderer| ui.operate(renderer, op.as_mut()));
            if let Outcome::Chain(next) = op.finish() {
                current = Some(next);
            }
        }
    }

    fn tab(&mut self, h: &mut Harness) {
        self.key(h, Named::Tab, Modifiers::empty());
    }

    /// Tabs until the focused widget shows `label`, and returns how many
    /// Tabs that took.
    #[track_caller]
    fn tab_to(&mut self, h: &mut Harness, label: &str) -> usize {
        for tabs in 0..120 {
            if self.seen(&h.app).focused_texts().iter().any(|t| t == label) {
                return tabs;
            }
            self.tab(h);
        }
        panic!(
            "Tab never reached {label:?} on {:?} (error banner: {:?})",
            h.app.screen(),
            h.app.error()
        );
    }

    /// Tabs to `label` and presses Enter on it.
    #[track_caller]
    fn enter(&mut self, h: &mut Harness, label: &str) {
        self.tab_to(h, label);
        self.key(h, Named::Enter, Modifiers::empty());
    }

    /// Renders the frame in `theme` (2 pixels per point, RGBA).
    fn render(&mut self, app: &App, theme: &Theme) -> Vec<u8> {
        self.frame(app, |ui, renderer| {
            let base = iced::theme::Base::base(theme);
            ui.draw(
                renderer,
                theme,
                &iced::advanced::renderer::Style {
                    text_color: base.text_color,
                },
                mouse::Cursor::Unavailable,
            );
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let physical = iced::Size::new((SIZE.width * 2.0) as u32, (SIZE.height * 2.0) as u32);
            renderer.screenshot(physical, 2.0, base.background_color)
        })
    }
}

/// The pixel at a point (in logical units) of a 2x render.
fn pixel(rgba: &[u8], x: f32, y: f32) -> [u8; 3] {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (px, py, width) = (
        (x * 2.0) as usize,
        (y * 2.0) as usize,
        (SIZE.width * 2.0) as usize,
    );
    let at = (py * width + px) * 4;
    [rgba[at], rgba[at + 1], rgba[at + 2]]
}

fn rgb(c: iced::Color) -> [u8; 3] {
    let [r, g, b, _] = c.into_rgba8();
    [r, g, b]
}

fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 24)
}

#[track_caller]
fn assert_screen(h: &Harness, screen: ScreenId) {
    assert_eq!(h.app.screen(), screen, "error banner: {:?}", h.app.error());
}

#[track_caller]
fn assert_complete(h: &Harness, steps: &[StepId]) {
    for step in steps {
        let status = h.app.session().checklist.status(*step);
        assert!(
            status.is_complete(),
            "{step}: {status:?} ({:?})",
            h.app.error()
        );
    }
}

#[test]
fn tab_visits_the_primary_button_and_every_checklist_row_and_shift_tab_goes_back() {
    let mut h = Harness::new(false);
    let mut keys = Keys::new();
    assert!(
        keys.seen(&h.app).focused.is_none(),
        "nothing is focused at first"
    );

    // One full round: the stops in Tab order, by what they show.
    let stops = keys.seen(&h.app).stops.len();
    assert!(stops > StepId::ALL.len(), "only {stops} focus stops");
    let mut order = Vec::new();
    for _ in 0..stops {
        keys.tab(&mut h);
        let seen = keys.seen(&h.app);
        assert!(seen.focused.is_some(), "a Tab left nothing focused");
        order.push(seen.focused_texts().join(" "));
    }
    assert!(
        order.iter().any(|s| s.contains("Start the sandbox")),
        "the primary button is not in the Tab order: {order:?}"
    );
    for step in StepId::ALL {
        assert!(
            order.iter().any(|s| s.contains(step.title())),
            "checklist row {step} is not in the Tab order: {order:?}"
        );
    }

    // Shift+Tab walks the same stops backwards.
    for expected in order.iter().rev().skip(1) {
        keys.key(&mut h, Named::Tab, Modifiers::SHIFT);
        assert_eq!(&keys.seen(&h.app).focused_texts().join(" "), expected);
    }
    // Tab only moved focus: still the first screen.
    assert_screen(&h, ScreenId::Welcome);
}

#[test]
fn the_focused_button_and_row_draw_a_ring_in_both_themes() {
    let mut h = Harness::new(true);
    let mut keys = Keys::new();
    // A finished checklist row (inset ring) and the primary (ring outside).
    keys.enter(&mut h, "Create SCIM secret");
    assert_complete(&h, ScreenId::OrchideaSecret.steps());
    for theme in [theme::light(), theme::dark()] {
        let ring = rgb(theme::focus_ring(&theme));

        keys.tab_to(&mut h, "Next");
        let button = keys.seen(&h.app).focused.unwrap();
        let (x, y) = (button.x - 3.0, button.center_y());
        let focused = keys.render(&h.app, &theme);
        // Kept to look at when this fails (raw RGBA, 2240x1560).
        let _ = std::fs::write(
            std::env::temp_dir().join(format!("orchidea-focus-ring-{theme}.rgba")),
            &focused,
        );
        assert!(
            close(pixel(&focused, x, y), ring),
            "{theme}: no ring left of the focused button: {:?} is not {ring:?}",
            pixel(&focused, x, y)
        );

        keys.tab_to(&mut h, StepId::CreateSecret.title());
        let row = keys.seen(&h.app).focused.unwrap();
        let (rx, ry) = (row.x + 1.0, row.center_y());
        let on_row = keys.render(&h.app, &theme);
        assert!(
            close(pixel(&on_row, rx, ry), ring),
            "{theme}: no ring inside the focused checklist row"
        );
        // Focus left the button: its ring is gone.
        assert!(
            !close(pixel(&on_row, x, y), ring),
            "{theme}: the unfocused button still has a ring"
        );
    }
}

#[test]
fn the_screens_own_buttons_are_reachable_too() {
    // Not from the widget helpers: the root's run-all and the pause's
    // buttons. Enter on "Stop here" stops; the window-wide Enter would have
    // continued and written step 9.
    let mut h = Harness::new(true);
    let mut keys = Keys::new();
    keys.enter(&mut h, "Run the remaining steps");
    assert_screen(&h, ScreenId::Mappings);
    h.assert_sees_part("Paused before step 9");
    keys.enter(&mut h, "Stop here");
    let status = h.app.session().checklist.status(StepId::KeepFiveAttributes);
    assert!(
        matches!(status, orchidea_wizard::Status::Failed(r) if r.starts_with("Not confirmed")),
        "Enter on Stop here did not stop: {status:?}"
    );
}

#[test]
fn enter_and_space_on_a_focused_button_do_what_a_click_does() {
    // A click on the primary...
    let mut clicked = Harness::new(false);
    clicked.click("Start the sandbox");
    assert_screen(&clicked, ScreenId::OrchideaSecret);

    // ...and Enter on it when focused.
    let mut h = Harness::new(false);
    let mut keys = Keys::new();
    keys.enter(&mut h, "Start the sandbox");
    assert_screen(&h, ScreenId::OrchideaSecret);

    // Enter goes to the focused button, not to the primary: on Back it goes
    // back (to step 0's screen), where the window-wide Enter would have run
    // step 1.
    keys.tab_to(&mut h, "Back");
    keys.key(&mut h, Named::Enter, Modifiers::empty());
    assert_screen(&h, ScreenId::Sso);
    assert!(
        !h.app
            .session()
            .checklist
            .status(StepId::CreateSecret)
            .is_complete(),
        "Enter on Back ran the primary action"
    );

    // Space works the same (the sandbox runs now, so the primary is Next).
    keys.tab_to(&mut h, "Next");
    keys.key(&mut h, Named::Space, Modifiers::empty());
    assert_screen(&h, ScreenId::OrchideaSecret);

    // A checklist row: pending, Enter shows nothing (a click does nothing
    // either); finished, Enter opens what it did, and Close closes it.
    keys.tab_to(&mut h, StepId::CreateSecret.title());
    keys.key(&mut h, Named::Enter, Modifiers::empty());
    assert!(!h.sees("Step 1a: Create a SCIM secret"));
    keys.enter(&mut h, "Create SCIM secret");
    assert_complete(&h, ScreenId::OrchideaSecret.steps());
    keys.enter(&mut h, StepId::CreateSecret.title());
    h.assert_sees("Step 1a: Create a SCIM secret");
    keys.enter(&mut h, "Close");
    assert!(!h.sees("Step 1a: Create a SCIM secret"));
}

#[test]
fn the_sandbox_run_reaches_a_started_job_with_the_keyboard_alone() {
    let mut h = Harness::new(false);
    let mut keys = Keys::new();
    assert_screen(&h, ScreenId::Welcome);

    keys.enter(&mut h, "Start the sandbox");
    assert_screen(&h, ScreenId::OrchideaSecret);
    keys.enter(&mut h, "Create SCIM secret");
    assert_complete(&h, ScreenId::OrchideaSecret.steps());
    // The secret's buttons are reachable too.
    keys.enter(&mut h, "Copy secret");
    let secret = h.app.session().scim().unwrap().secret.clone().unwrap();
    assert_eq!(h.clipboard.contents().unwrap(), secret);

    keys.enter(&mut h, "Next");
    assert_screen(&h, ScreenId::ChooseApp);
    let facts = h.app.session().facts().unwrap();
    let app = facts
        .candidates
        .iter()
        .find(|c| {
            matches!(
                c.capability,
                orchidea_wizard::engine::Capability::Scim { .. }
            )
        })
        .map(|c| c.name().to_string())
        .unwrap();
    keys.tab_to(&mut h, &app);
    keys.key(&mut h, Named::Space, Modifiers::empty());
    keys.enter(&mut h, "Use this app");
    assert_complete(&h, &[StepId::OpenEnterpriseApp]);

    keys.enter(&mut h, "Next");
    assert_screen(&h, ScreenId::Credentials);
    keys.enter(&mut h, "Test connection");
    assert_complete(&h, ScreenId::Credentials.steps());

    keys.enter(&mut h, "Next");
    keys.enter(&mut h, "Save credentials");
    assert_complete(&h, &[StepId::SaveCredentials]);

    keys.enter(&mut h, "Next");
    assert_screen(&h, ScreenId::Mappings);
    keys.enter(&mut h, "Apply");
    assert_complete(&h, ScreenId::Mappings.steps());

    keys.enter(&mut h, "Next");
    assert_screen(&h, ScreenId::Scope);
    keys.enter(&mut h, "Save scope");
    assert_complete(&h, ScreenId::Scope.steps());

    keys.enter(&mut h, "Next");
    assert_screen(&h, ScreenId::Start);
    keys.enter(&mut h, "Start provisioning now");
    assert_complete(&h, &[StepId::StartProvisioning]);
    keys.enter(&mut h, "Finish");
    assert_screen(&h, ScreenId::Summary);
    assert!(h.app.session().checklist.all_complete());
}

#[test]
fn undo_this_setup_is_reachable_and_confirmed_with_the_keyboard() {
    let mut h = Harness::new(true);
    h.click("Run the remaining steps");
    // The three pauses: step 9, step 14 (users without mail), step 16.
    h.click("Continue");
    h.click("Continue");
    h.click("Continue");
    assert_screen(&h, ScreenId::Summary);
    let mut keys = Keys::new();
    keys.enter(&mut h, "Show the undo plan");
    h.assert_sees_part("Undo will:");
    // Cancel drops the plan; nothing is changed.
    keys.enter(&mut h, "Cancel");
    assert!(!h.sees("Undo now"));
    keys.enter(&mut h, "Show the undo plan");
    keys.enter(&mut h, "Undo now");
    assert!(h.app.error().is_none(), "{:?}", h.app.error());
    h.assert_sees("Undone:");
    h.assert_sees_part("Deleted provisioning job");
}
