//! ARC-format block traces (Megiddo & Modha, FAST 2003): each line
//! `start count …` is `count` consecutive block accesses `start`,
//! `start + 1`, …. Plain text, or zstd-compressed when the file name ends in
//! `.zst`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// Every block access of the trace at `path`, in order.
pub fn read(path: &Path) -> io::Result<Vec<u64>> {
    let file = File::open(path)?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "zst") {
        Box::new(zstd::Decoder::new(file)?)
    } else {
        Box::new(file)
    };
    parse(BufReader::new(reader))
}

/// Every block access of an ARC-format trace. A line that does not start
/// with two unsigned integers is an error naming its line number; blank
/// lines are skipped.
pub fn parse(reader: impl BufRead) -> io::Result<Vec<u64>> {
    let mut accesses = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        let mut fields = line.split_ascii_whitespace();
        let Some(first) = fields.next() else {
            continue;
        };
        let bad = |what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("trace line {}: {what}: {line:?}", n + 1),
            )
        };
        let start: u64 = first.parse().map_err(|_| bad("bad start block"))?;
        let count: u64 = fields
            .next()
            .ok_or_else(|| bad("missing block count"))?
            .parse()
            .map_err(|_| bad("bad block count"))?;
        let end = start
            .checked_add(count)
            .ok_or_else(|| bad("block range overflows"))?;
        accesses.extend(start..end);
    }
    Ok(accesses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_expand_to_consecutive_blocks() {
        let trace = "5 3 0 0\n\n100 1 7 1\n7 0 0 0\n";
        assert_eq!(parse(trace.as_bytes()).unwrap(), [5, 6, 7, 100]);
    }

    #[test]
    fn bad_lines_are_errors_naming_the_line() {
        let err = parse("1 1 0 0\nx 1\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = parse("1\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("missing block count"), "{err}");
    }

    #[test]
    fn zst_files_are_decompressed_by_extension() {
        let dir = std::env::temp_dir().join(format!("perfect21-trace-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = "1 2 0 0\n10 1 0 0\n";
        let plain = dir.join("t.lis");
        std::fs::write(&plain, text).unwrap();
        let packed = dir.join("t.lis.zst");
        std::fs::write(&packed, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
        assert_eq!(read(&plain).unwrap(), [1, 2, 10]);
        assert_eq!(read(&packed).unwrap(), [1, 2, 10]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
