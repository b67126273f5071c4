//! `vnplan legacy-decode` and `legacy-encode`: TCVN3/VNI text files to and from UTF-8.

use vnplan::vietnamese::legacy::{self, LegacyEncoding};

pub fn decode(
    input: &std::path::Path,
    encoding: Option<LegacyEncoding>,
    output: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use anyhow::{bail, Context};
    let bytes = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let enc = match encoding.or_else(|| legacy::detect_bytes(&bytes)) {
        Some(enc) => enc,
        None => bail!(
            "{}: not recognised as TCVN3 or VNI text (UTF-8, ASCII or another encoding); give --encoding to force one",
            input.display()
        ),
    };
    let text = legacy::decode_bytes(&bytes, enc);
    match output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    eprintln!("{}: decoded as {enc}", input.display());
    Ok(())
}

pub fn encode(
    input: &std::path::Path,
    encoding: LegacyEncoding,
    output: &std::path::Path,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let text = std::fs::read_to_string(input)
        .with_context(|| format!("reading {} as UTF-8", input.display()))?;
    let bytes = legacy::encode_str(&text, encoding)
        .with_context(|| format!("encoding {}", input.display()))?;
    std::fs::write(output, bytes).with_context(|| format!("writing {}", output.display()))?;
    Ok(())
}
