//! Build script: puts the app icon and version info into the Windows executables; nothing elsewhere.

fn main() {
    // Without this, Cargo reruns the script (and rebuilds the crate) whenever any file changes.
    println!("cargo:rerun-if-changed=build.rs");
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
