//! Reading the CSV files out of an uploaded zip (Plausible's export) or gzip, with a limit on the
//! unpacked bytes so a small crafted archive (a "zip bomb") cannot exhaust memory: inflating
//! stops at the limit and never holds more than it.

use std::io::Read;

use crate::domain::imports::ImportError;

/// Inflated in steps of this much.
const CHUNK: usize = 64 * 1024;

/// How many bytes `input` inflates to, read and thrown away in small steps: `Unpacked` as soon as
/// it passes `budget` (bytes still allowed of `limit`), so a bomb never occupies memory.
fn inflated_len(
    mut input: impl Read,
    budget: u64,
    limit: u64,
    bad: &impl Fn(std::io::Error) -> ImportError,
) -> Result<u64, ImportError> {
    let mut chunk = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        match input.read(&mut chunk) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(bad(e)),
        }
        if total > budget {
            return Err(ImportError::Unpacked { limit });
        }
    }
}

/// Inflates `input`, known to be `len` bytes, into one allocation of exactly that size: no
/// growth by doubling, whose copies would hold twice the content at once.
fn read_len(input: impl Read, len: u64, bad: &impl Fn(std::io::Error) -> ImportError) -> Result<Vec<u8>, ImportError> {
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    input.take(len).read_to_end(&mut out).map_err(bad)?;
    Ok(out)
}

/// The `.csv` entries of a zip as (name, bytes), at most `max_unpacked` bytes in all.
pub fn csv_entries(bytes: &[u8], max_unpacked: u64) -> Result<Vec<(String, Vec<u8>)>, ImportError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ImportError::BadFile(format!("not a readable zip file: {e}")))?;
    let mut out = Vec::new();
    let mut budget = max_unpacked;
    let unreadable =
        |i: usize| move |e: zip::result::ZipError| ImportError::BadFile(format!("zip entry {i} is unreadable: {e}"));
    for i in 0..archive.len() {
        let name = {
            let entry = archive.by_index(i).map_err(unreadable(i))?;
            let name = entry
                .name()
                .map(|n| n.to_string())
                .map_err(|e| ImportError::BadFile(format!("zip entry {i} has a bad name: {e}")))?;
            if entry.is_dir() || !name.to_ascii_lowercase().ends_with(".csv") {
                continue;
            }
            name
        };
        let bad = |e: std::io::Error| ImportError::BadFile(format!("{name} in the zip is unreadable: {e}"));
        // Twice through the entry: first its size (refusing a bomb), then into memory at once.
        let len = inflated_len(archive.by_index(i).map_err(unreadable(i))?, budget, max_unpacked, &bad)?;
        let buf = read_len(archive.by_index(i).map_err(unreadable(i))?, len, &bad)?;
        budget -= len;
        out.push((name, buf));
    }
    if out.is_empty() {
        return Err(ImportError::BadFile("the zip holds no CSV files".into()));
    }
    Ok(out)
}

/// The files of an upload: a zip's CSV entries, a gzip's content, or the bytes as one file. A
/// zip or gzip may unpack to at most `max_unpacked` bytes.
pub fn unpack(bytes: &[u8], name: &str, max_unpacked: u64) -> Result<Vec<(String, Vec<u8>)>, ImportError> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return csv_entries(bytes, max_unpacked);
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let bad = |e: std::io::Error| ImportError::BadFile(format!("not a readable gzip file: {e}"));
        let len = inflated_len(flate2::read::GzDecoder::new(bytes), max_unpacked, max_unpacked, &bad)?;
        let out = read_len(flate2::read::GzDecoder::new(bytes), len, &bad)?;
        return Ok(vec![(name.trim_end_matches(".gz").to_string(), out)]);
    }
    Ok(vec![(name.to_string(), bytes.to_vec())])
}

/// The zip/gzip unpacker behind the imports port.
pub struct ZipUnpacker;

impl crate::ports::imports::Unpacker for ZipUnpacker {
    fn unpack(&self, bytes: &[u8], name: &str, max_unpacked: u64) -> Result<Vec<(String, Vec<u8>)>, ImportError> {
        unpack(bytes, name, max_unpacked)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(content: &[u8], times: usize) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for _ in 0..times {
            enc.write_all(content).unwrap();
        }
        enc.finish().unwrap()
    }

    #[test]
    fn passes_the_unpacker_conformance_suite() {
        crate::ports::conformance::unpacker(&ZipUnpacker);
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_limit() {
        let bomb = gzip(&[b'0'; 1 << 20], 64);
        assert!(bomb.len() < 1 << 20, "64 MiB compress to {} bytes", bomb.len());
        assert_eq!(unpack(&bomb, "x.csv.gz", 1 << 20).unwrap_err(), ImportError::Unpacked { limit: 1 << 20 });
        let files = unpack(&gzip(b"a,b\n1,2\n", 1), "x.csv.gz", 8).unwrap();
        assert_eq!(files, vec![("x.csv".to_string(), b"a,b\n1,2\n".to_vec())], "exactly the limit is fine");
        assert!(matches!(unpack(&gzip(b"a,b\n1,2\n", 1), "x.csv.gz", 7), Err(ImportError::Unpacked { limit: 7 })));
    }

    #[test]
    fn the_limit_counts_all_entries_of_a_zip() {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        for name in ["a.csv", "b.csv"] {
            zip.start_file(name, opts).unwrap();
            zip.write_all(&[b'1'; 1000]).unwrap();
        }
        let bytes = zip.finish().unwrap().into_inner();
        assert_eq!(unpack(&bytes, "u.zip", 2000).unwrap().len(), 2);
        assert_eq!(unpack(&bytes, "u.zip", 1999).unwrap_err(), ImportError::Unpacked { limit: 1999 });
    }
}
