//! What `--version` and the About text show.

/// `0.1.0`
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `0.1.0 (x86_64-unknown-linux-gnu, release)`
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("ORCHIDEA_BUILD_TARGET"),
    ", ",
    env!("ORCHIDEA_BUILD_PROFILE"),
    ")"
);

#[cfg(test)]
mod tests {
    #[test]
    fn long_version_names_version_target_and_profile() {
        assert!(super::LONG_VERSION.starts_with(super::VERSION));
        let inner = super::LONG_VERSION
            .split_once(" (")
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .unwrap();
        let (target, profile) = inner.split_once(", ").unwrap();
        assert!(target.contains('-'), "a target triple: {target}");
        assert!(["debug", "release"].contains(&profile), "{profile}");
    }
}
