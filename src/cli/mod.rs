//! The command implementations behind `main.rs`: each turns parsed arguments into library calls and
//! prints the results. Nothing below `src/cli` prints.

pub mod eval;
pub mod legacy;
pub mod restore;
pub mod store;
pub mod text;

use std::process::ExitCode;

/// Print an error the user can act on and turn it into exit code 1.
pub fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vnplan: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
