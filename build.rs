//! Build script: records the target and profile for `--version`, and puts the
//! app icon and version info into the Windows executables.

fn main() {
    // Without this, Cargo reruns the script (and rebuilds the crate) whenever any file changes.
    println!("cargo:rerun-if-changed=build.rs");
    // Build info for `--version` and the About text.
    for (key, var) in [
        ("ORCHIDEA_BUILD_TARGET", "TARGET"),
        ("ORCHIDEA_BUILD_PROFILE", "PROFILE"),
    ] {
        let value = std::env::var(var).unwrap_or_else(|_| "unknown".into());
        println!("cargo:rustc-env={key}={value}");
    }
    #[cfg(windows)]
    windows::embed_resources();
}

#[cfg(windows)]
mod windows {
    const ICON: &str = "assets/icons/orchidea-wizard.ico";

    /// The icon Explorer, the taskbar and Alt-Tab show, and the names in
    /// Properties → Details and Task Manager.
    pub fn embed_resources() {
        println!("cargo:rerun-if-changed={ICON}");
        if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
            return;
        }
        let mut res = winresource::WindowsResource::new();
        res.set_icon(ICON)
            .set("ProductName", "Orchidea SCIM Setup")
            .set("FileDescription", "Orchidea SCIM Setup")
            .set("CompanyName", "Orchidea");
        if let Err(err) = res.compile() {
            panic!(
                "could not embed the Windows icon ({err}); install the Windows SDK (rc.exe) or MinGW (windres)"
            );
        }
    }
}
