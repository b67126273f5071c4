//! The `vnplan` command line: parses arguments, calls the library, prints.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use vnplan::vietnamese::legacy::{self, LegacyEncoding};

#[derive(Parser)]
#[command(
    name = "vnplan",
    version,
    about = "Vietnamese plan documents into searchable text and structured data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // --- legacy encodings (src/vietnamese/legacy.rs) ---
    /// Decode a text file in a legacy 8-bit Vietnamese encoding (TCVN3/ABC, VNI) to UTF-8 (NFC).
    LegacyDecode {
        /// The 8-bit text file.
        input: PathBuf,
        /// tcvn3, tcvn3h or vni; detected from the text when left out.
        #[arg(long)]
        encoding: Option<LegacyEncoding>,
        /// Where to write the UTF-8 text (standard output when left out).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Encode a UTF-8 text file in a legacy 8-bit Vietnamese encoding (for test inputs).
    LegacyEncode {
        /// The UTF-8 text file.
        input: PathBuf,
        /// tcvn3, tcvn3h or vni.
        #[arg(long)]
        encoding: LegacyEncoding,
        /// Where to write the 8-bit bytes.
        #[arg(long, short)]
        output: PathBuf,
    },
    // --- end legacy encodings ---
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::LegacyDecode {
            input,
            encoding,
            output,
        } => {
            let bytes =
                std::fs::read(&input).with_context(|| format!("reading {}", input.display()))?;
            let enc = match encoding.or_else(|| legacy::detect_bytes(&bytes)) {
                Some(enc) => enc,
                None => bail!(
                    "{}: not recognised as TCVN3 or VNI text (UTF-8, ASCII or another encoding); \
                     give --encoding to force one",
                    input.display()
                ),
            };
            let text = legacy::decode_bytes(&bytes, enc);
            match output {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{text}"),
            }
            eprintln!("{}: decoded as {enc}", input.display());
        }
        Command::LegacyEncode {
            input,
            encoding,
            output,
        } => {
            let text = std::fs::read_to_string(&input)
                .with_context(|| format!("reading {} as UTF-8", input.display()))?;
            let bytes = legacy::encode_str(&text, encoding)
                .with_context(|| format!("encoding {}", input.display()))?;
            std::fs::write(&output, bytes)
                .with_context(|| format!("writing {}", output.display()))?;
        }
    }
    Ok(())
}
