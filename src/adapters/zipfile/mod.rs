//! Reading the CSV files out of an uploaded zip (Plausible's export), with limits so a
//! crafted archive cannot exhaust memory.

use std::io::Read;

use crate::domain::imports::ImportError;

/// Largest total of uncompressed CSV bytes accepted from one zip.
pub const MAX_UNPACKED: u64 = 512 * 1024 * 1024;

/// The `.csv` entries of a zip as (name, bytes).
pub fn csv_entries(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, ImportError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ImportError::BadFile(format!("not a readable zip file: {e}")))?;
    let mut out = Vec::new();
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry =
            archive.by_index(i).map_err(|e| ImportError::BadFile(format!("zip entry {i} is unreadable: {e}")))?;
        let name = entry
            .name()
            .map(|n| n.to_string())
            .map_err(|e| ImportError::BadFile(format!("zip entry {i} has a bad name: {e}")))?;
        if entry.is_dir() || !name.to_ascii_lowercase().ends_with(".csv") {
            continue;
        }
        let mut buf = Vec::new();
        let limit = MAX_UNPACKED - total;
        (&mut entry)
            .take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(|e| ImportError::BadFile(format!("{name} in the zip is unreadable: {e}")))?;
        total += buf.len() as u64;
        if total > MAX_UNPACKED {
            return Err(ImportError::BadFile(format!("the zip unpacks to more than {MAX_UNPACKED} bytes")));
        }
        out.push((name, buf));
    }
    if out.is_empty() {
        return Err(ImportError::BadFile("the zip holds no CSV files".into()));
    }
    Ok(out)
}

/// The files of an upload: a zip's CSV entries, a gzip's content, or the bytes as one file.
pub fn unpack(bytes: &[u8], name: &str) -> Result<Vec<(String, Vec<u8>)>, ImportError> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return csv_entries(bytes);
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_UNPACKED + 1)
            .read_to_end(&mut out)
            .map_err(|e| ImportError::BadFile(format!("not a readable gzip file: {e}")))?;
        if out.len() as u64 > MAX_UNPACKED {
            return Err(ImportError::BadFile(format!("the file unpacks to more than {MAX_UNPACKED} bytes")));
        }
        return Ok(vec![(name.trim_end_matches(".gz").to_string(), out)]);
    }
    Ok(vec![(name.to_string(), bytes.to_vec())])
}
