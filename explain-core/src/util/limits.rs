//! Bounds on memory and work, checked before anything is spent.
//!
//! Sizes that come from input (an `.npy` header, a model's declared shape, a WAV header, an
//! image's dimensions) and budgets (`--samples`, `--quality-seeds`, the number of features)
//! are turned into the memory they imply and refused, with that size and how to lower it,
//! when it exceeds [`max_memory`]: half of the machine's memory by default, `--max-memory`
//! (or [`set_max_memory`]) otherwise. Sizes are computed with checked arithmetic, so no input
//! can make a multiplication wrap, and no allocation an input can size is attempted beyond the
//! bound: the process reports the problem instead of aborting.

use crate::{Error, Result, bad_input};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The most extra seeds `--quality-seeds` may ask for (each re-runs the explanation).
pub const MAX_QUALITY_SEEDS: usize = 100;

/// The most bootstrap resamples a validation run may ask for.
pub const MAX_BOOTSTRAP: usize = 1_000_000;

/// Worker threads beyond this multiple of the cores are not used (they only add overhead).
pub const THREADS_PER_CORE: usize = 4;

static MAX_MEMORY: AtomicU64 = AtomicU64::new(0);

/// The memory bound in bytes: what [`set_max_memory`] set, else half of the machine's memory
/// (`MemTotal` in `/proc/meminfo`; 8 GiB where it cannot be read), at least 256 MiB.
pub fn max_memory() -> u64 {
    match MAX_MEMORY.load(Ordering::Relaxed) {
        0 => (machine_memory().unwrap_or(16 << 30) / 2).max(256 << 20),
        m => m,
    }
}

/// Sets the memory bound for this process (`--max-memory`).
pub fn set_max_memory(bytes: u64) {
    MAX_MEMORY.store(bytes.max(1), Ordering::Relaxed);
}

fn machine_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// Parses a size such as `8G`, `512M`, `2.5G`, `1000000` (bytes; K, M, G, T are powers of
/// 1024).
///
/// ```
/// use explain_core::util::limits::parse_size;
/// assert_eq!(parse_size("8G").unwrap(), 8 << 30);
/// assert_eq!(parse_size("512m").unwrap(), 512 << 20);
/// assert_eq!(parse_size("1.5K").unwrap(), 1536);
/// assert!(parse_size("lots").is_err() && parse_size("0").is_err());
/// ```
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&t[..i], t[i..].trim_end_matches(['b', 'B'])),
        None => (t, ""),
    };
    let scale: u64 = match unit.to_ascii_uppercase().as_str() {
        "" => 1,
        "K" | "KI" => 1 << 10,
        "M" | "MI" => 1 << 20,
        "G" | "GI" => 1 << 30,
        "T" | "TI" => 1 << 40,
        _ => {
            return Err(Error::Input(format!(
                "--max-memory '{s}': unknown unit '{unit}' (use K, M, G or T)"
            )));
        }
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v * scale as f64 >= 1.0 && v * (scale as f64) < 1.8e19 => {
            Ok((v * scale as f64) as u64)
        }
        _ => Err(Error::Input(format!(
            "--max-memory '{s}': expected a positive size such as 8G or 512M"
        ))),
    }
}

/// A byte count as people read it: `3.2 TB`, `512 MiB`.
pub fn human(bytes: f64) -> String {
    const UNITS: [&str; 6] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} bytes")
    } else if v >= 100.0 {
        format!("{v:.0} {}", UNITS[i])
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// The product of `factors`, or `None` when it overflows.
pub fn product(factors: &[u64]) -> Option<u64> {
    factors.iter().try_fold(1u64, |acc, &f| acc.checked_mul(f))
}

/// Fails when `bytes` (what `what` implies; `None`: beyond counting) exceed the memory
/// bound; `lower` says how to ask for less.
pub fn check_memory(bytes: Option<u64>, what: &str, lower: &str) -> Result<()> {
    let limit = max_memory();
    match bytes {
        Some(b) if b <= limit => Ok(()),
        Some(b) => Err(Error::Input(format!(
            "{what} needs {} of memory, more than the limit of {} (--max-memory): {lower}",
            human(b as f64),
            human(limit as f64)
        ))),
        None => Err(Error::Input(format!(
            "{what} needs more memory than can be counted (the limit is {}, --max-memory): {lower}",
            human(limit as f64)
        ))),
    }
}

/// Reads a whole file that must be a regular file no larger than a quarter of the memory
/// bound (so that the copies made from it fit too): a device such as `/dev/zero` or a file
/// grown without bound is refused instead of read until memory runs out.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let fail = |e: std::io::Error| Error::Input(format!("cannot read {}: {e}", path.display()));
    let meta = std::fs::metadata(path).map_err(fail)?;
    if !meta.is_file() {
        return Err(Error::Input(format!(
            "cannot read {}: not a regular file",
            path.display()
        )));
    }
    check_memory(
        meta.len().checked_mul(4),
        &format!("reading {}", path.display()),
        "give a smaller file",
    )?;
    std::fs::read(path).map_err(fail)
}

/// Worker threads to use for `asked`: at most [`THREADS_PER_CORE`] per core. Returns the
/// count and, when it was lowered, a note saying so.
pub fn threads(asked: usize) -> (usize, Option<String>) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = cores.saturating_mul(THREADS_PER_CORE);
    if asked > cap {
        (
            cap,
            Some(format!(
                "--threads {asked} lowered to {cap} ({THREADS_PER_CORE} per core on this {cores}-core machine; the results do not depend on it)"
            )),
        )
    } else {
        (asked, None)
    }
}

/// Formats a shape as `[a, b, c]`.
pub fn shape_string<T: std::fmt::Display>(dims: &[T]) -> String {
    let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// Opens a `.npy` file after checking that its header's shape fits the data the file holds
/// and the memory bound (a header may claim any shape; nothing is allocated for it).
pub fn open_npy(path: &Path, what: &str) -> Result<std::fs::File> {
    use std::io::{Seek, SeekFrom};
    let fail = |e: std::io::Error| {
        Error::Input(format!("cannot read {what} file {}: {e}", path.display()))
    };
    let mut file = std::fs::File::open(path).map_err(fail)?;
    let size = file.metadata().map_err(fail)?.len();
    let header = ndarray_npy::npy::header::Header::from_reader(&mut file).map_err(|e| {
        Error::Input(format!(
            "{what} file {} is not a .npy array: {e}",
            path.display()
        ))
    })?;
    let data = size.saturating_sub(file.stream_position().map_err(fail)?);
    let values = product(&header.shape.iter().map(|&d| d as u64).collect::<Vec<_>>());
    let shown = shape_string(&header.shape);
    match values.and_then(|v| v.checked_mul(4)) {
        Some(bytes) if bytes <= data => {}
        Some(bytes) => bad_input!(
            "{what} file {} claims shape {shown} ({} of float32 data) but holds {} of data",
            path.display(),
            human(bytes as f64),
            human(data as f64)
        ),
        None => bad_input!(
            "{what} file {} claims shape {shown}, more values than can be counted",
            path.display()
        ),
    }
    crate::util::limits::check_memory(
        values.and_then(|v| v.checked_mul(4)),
        &format!("{what} file {} ({shown})", path.display()),
        "give a smaller array",
    )?;
    file.seek(SeekFrom::Start(0)).map_err(fail)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_products_and_messages() {
        assert_eq!(product(&[2, 3, 4]), Some(24));
        assert_eq!(product(&[u64::MAX, 2]), None);
        assert_eq!(human(3.2e12), "2.9 TiB");
        assert_eq!(human(512.0 * 1024.0 * 1024.0), "512 MiB");
        let e = check_memory(Some(u64::MAX / 2), "an npy file's header", "fix the file")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs 8.0 EiB") || e.contains("PiB"), "{e}");
        assert!(check_memory(Some(1024), "x", "y").is_ok());
        assert!(check_memory(None, "x", "y").is_err());
        let (n, note) = threads(1_000_000);
        assert!(n < 1_000_000 && note.unwrap().contains("lowered"));
        assert_eq!(threads(1), (1, None));
    }
}
