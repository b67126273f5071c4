//! The `vnplan` command line: parses arguments, calls the library, prints.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "vnplan", version, about = "Vietnamese plan documents into searchable text and structured data")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {}

fn main() {
    let cli = Cli::parse();
    match cli.command {}
}
