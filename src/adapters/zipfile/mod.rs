//! Reading the CSV files out of an uploaded zip (Plausible's export) or gzip, with a limit on the
//! unpacked bytes so a small crafted archive (a "zip bomb") cannot exhaust memory: inflating
//! stops at the limit and never holds more than it.

use std::io::Read;

use crate::domain::imports::ImportError;

/// Inflated in steps of this much.
const CHUNK: usize = 64 * 1024;

/// Reads `input` to its end into memory while `budget` (bytes still allowed of `limit`) lasts;
/// `bad` names an unreadable input. Allocation grows with what was read, capped by the budget.
fn read_bounded(
    mut input: impl Read,
    budget: &mut u64,
    limit: u64,
    bad: impl Fn(std::io::Error) -> ImportError,
) -> Result<Vec<u8>, ImportError> {
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(bad(e)),
        };
        if n as u64 > *budget {
            return Err(ImportError::Unpacked { limit });
        }
        if out.capacity() - out.len() < n {
            // Double, but never reserve past what the budget still allows.
            let grow = (out.capacity().max(CHUNK) as u64).min(*budget).max(n as u64);
            out.reserve_exact(usize::try_from(grow).unwrap_or(n));
        }
        *budget -= n as u64;
        out.extend_from_slice(&chunk[..n]);
    }
}

/// The `.csv` entries of a zip as (name, bytes), at most `max_unpacked` bytes in all.
pub fn csv_entries(bytes: &[u8], max_unpacked: u64) -> Result<Vec<(String, Vec<u8>)>, ImportError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ImportError::BadFile(format!("not a readable zip file: {e}")))?;
    let mut out = Vec::new();
    let mut budget = max_unpacked;
    for i in 0..archive.len() {
        let entry =
            archive.by_index(i).map_err(|e| ImportError::BadFile(format!("zip entry {i} is unreadable: {e}")))?;
        let name = entry
            .name()
            .map(|n| n.to_string())
            .map_err(|e| ImportError::BadFile(format!("zip entry {i} has a bad name: {e}")))?;
        if entry.is_dir() || !name.to_ascii_lowercase().ends_with(".csv") {
            continue;
        }
        let buf = read_bounded(entry, &mut budget, max_unpacked, |e| {
            ImportError::BadFile(format!("{name} in the zip is unreadable: {e}"))
        })?;
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
        let mut budget = max_unpacked;
        let out = read_bounded(flate2::read::GzDecoder::new(bytes), &mut budget, max_unpacked, |e| {
            ImportError::BadFile(format!("not a readable gzip file: {e}"))
        })?;
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
