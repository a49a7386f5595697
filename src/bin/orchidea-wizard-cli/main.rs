//! Headless front end: the same engine and sandbox as the window.
//!
//! Secrets are read from the environment or a hidden prompt, never argv.

mod args;
mod bench;
mod check;
mod error;
mod hints;
mod mappings;
mod plan;
mod provision;
mod render;
mod restore;
mod rotate;
mod run;
mod signin;
mod status;
mod target;
mod undo;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    // SAFETY: the first thing the process does: no other thread runs yet
    // (the runtime is started below, after the secrets left the environment).
    #[allow(unsafe_code)]
    unsafe {
        orchidea_wizard::platform::secret_env::take_from_env();
    };
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(async_main()),
        Err(e) => {
            eprintln!("error: could not start: {e}");
            ExitCode::from(2)
        }
    }
}

async fn async_main() -> ExitCode {
    orchidea_wizard::platform::logging::init();
    orchidea_wizard::platform::http::install_crypto_provider();
    let cli = Cli::parse();
    let result = match cli.command {
        // Boxed: the run future is large and would otherwise sit on the stack.
        Command::Run(args) => Box::pin(run::run(args)).await,
        Command::Status(args) => status::status(args).await,
        Command::Check(args) => check::check(args).await,
        Command::ProvisionUser(args) => provision::provision_user(args).await,
        Command::Restore(args) => restore::restore(args).await,
        Command::Undo(args) => undo::undo(args).await,
        Command::Rotate(args) => rotate::rotate(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::BenchProvision { users } => bench::provision(users).await,
        Command::Sandbox(args) => target::serve(args).await,
        Command::Mappings(args) => mappings::run(&args).map_err(Into::into),
        Command::Signin(args) => target::sign_in_only(args).await,
        Command::Signout(args) => signin::sign_out(&args.signin, args.orchidea_url.as_ref()).await,
        Command::Steps => {
            render::print_steps();
            Ok(true)
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
