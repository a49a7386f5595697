//! Log set-up shared by both binaries: warnings and errors to stderr, more
//! with `RUST_LOG`. Log lines carry step numbers and states, never secrets
//! (they are `Secret`, whose `Display` redacts).

pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Err only when a subscriber is already set (tests): keep that one.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
