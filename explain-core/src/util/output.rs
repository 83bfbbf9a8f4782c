//! Writing artifacts safely: a file appears complete or not at all, never over an input of
//! the run, never through a symbolic link or over a device, and an interrupted run leaves
//! nothing behind.
//!
//! * [`check_output`] refuses, before any work is done, a target that is a directory, a
//!   symbolic link, not a regular file (a device, a FIFO), or one of the run's inputs.
//! * [`write_atomic`] writes through a temporary file in the same directory and renames it
//!   into place. [`Staged`] does the same in two steps, so that several outputs of one command
//!   are all written before any is put in place.
//! * Temporary files and directories are registered ([`Scratch`]): on SIGINT, SIGTERM or SIGHUP
//!   they are removed before the process exits (status 130, once the program has called
//!   [`remove_scratch_on_interrupt`]), and ones left by a process that was killed outright
//!   (`kill -9`) are found and removed by the next run that writes beside them
//!   ([`remove_stale`]).

use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

/// The directory a path is written in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Fails early, before any work is done, when `path` could not or should not be written: its
/// directory is missing, or it is a directory, a symbolic link or not a regular file (writing
/// would replace a device node or a FIFO, or write through the link to what it points at).
pub fn check_writable(path: &Path) -> Result<()> {
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(Error::Input(format!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    if let Ok(meta) = path.symlink_metadata() {
        let kind = meta.file_type();
        if kind.is_symlink() {
            return Err(Error::Input(format!(
                "refusing to write {}: it is a symbolic link; name the file itself",
                path.display()
            )));
        }
        if kind.is_dir() {
            return Err(Error::Input(format!(
                "cannot write {}: it is a directory",
                path.display()
            )));
        }
        if !kind.is_file() {
            return Err(Error::Input(format!(
                "refusing to write {}: it is not a regular file (a device, FIFO or socket)",
                path.display()
            )));
        }
    }
    Ok(())
}

/// [`check_writable`], and `path` is none of `inputs` (the run's model, data, config and
/// other files it reads): writing there would destroy what the run was made from.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let model = dir.path().join("m.onnx");
/// std::fs::write(&model, b"x").unwrap();
/// let e = explain_core::util::output::check_output(&model, &[model.clone()]).unwrap_err();
/// assert!(e.to_string().contains("an input of this run"), "{e}");
/// assert!(explain_core::util::output::check_output(&dir.path().join("out.json"), &[model]).is_ok());
/// ```
pub fn check_output(path: &Path, inputs: &[PathBuf]) -> Result<()> {
    check_writable(path)?;
    if let Some(input) = inputs.iter().find(|i| same_file(path, i)) {
        return Err(Error::Input(format!(
            "refusing to write {}: it is {}, an input of this run",
            path.display(),
            input.display()
        )));
    }
    Ok(())
}

/// Whether two paths name the same existing file (or the same path).
pub fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Whether `path` lies in `dir` or below it (both existing, compared canonically).
pub fn is_within(path: &Path, dir: &Path) -> bool {
    match (path.canonicalize(), dir.canonicalize()) {
        (Ok(p), Ok(d)) => p.starts_with(d),
        _ => false,
    }
}

/// A file written to a temporary name beside its target, put in place by [`Staged::commit`]
/// and removed if dropped uncommitted.
pub struct Staged {
    target: PathBuf,
    tmp: Option<tempfile::NamedTempFile>,
}

impl Staged {
    /// Writes `bytes` to a temporary file beside `path` (checked with [`check_writable`]).
    pub fn new(path: &Path, bytes: &[u8]) -> Result<Staged> {
        check_writable(path)?;
        let dir = parent_dir(path);
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        remove_stale(dir, &format!(".{file_name}."), ".tmp");
        let fail =
            |e: std::io::Error| Error::Input(format!("cannot write {}: {e}", path.display()));
        // `.NAME.PID.RANDOM.tmp`: the pid lets a later run remove what a killed one left.
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{file_name}.{}.", std::process::id()))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(fail)?;
        Scratch::register(tmp.path());
        let written = tmp.write_all(bytes).and_then(|_| tmp.as_file().sync_all());
        if let Err(e) = written {
            Scratch::unregister(tmp.path());
            return Err(fail(e));
        }
        Ok(Staged {
            target: path.to_path_buf(),
            tmp: Some(tmp),
        })
    }

    /// Renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        let tmp = self.tmp.take().expect("staged once");
        let path = tmp.path().to_path_buf();
        // Checked again: the target may have become a link or a device meanwhile; a file not
        // persisted is removed when dropped.
        let placed = check_writable(&self.target).and_then(|_| {
            tmp.persist(&self.target).map(drop).map_err(|e| {
                Error::Input(format!(
                    "cannot write {}: {}",
                    self.target.display(),
                    e.error
                ))
            })
        });
        Scratch::unregister(&path);
        placed
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            Scratch::unregister(tmp.path());
            // NamedTempFile removes the file.
        }
    }
}

/// A directory built under a temporary name beside its target (`.NAME.tmp-PID…`), put in
/// place by [`StagedDir::commit`] and removed if dropped uncommitted: a report directory
/// appears complete or not at all. Interrupts remove it too ([`Scratch`]).
pub struct StagedDir {
    target: PathBuf,
    dir: Option<tempfile::TempDir>,
}

impl StagedDir {
    /// Creates the temporary directory beside `target`.
    ///
    /// ```
    /// let root = tempfile::tempdir().unwrap();
    /// let out = root.path().join("report");
    /// let staged = explain_core::util::output::StagedDir::new(&out).unwrap();
    /// std::fs::write(staged.path().join("a.txt"), "a").unwrap();
    /// assert!(!out.exists());
    /// staged.commit().unwrap();
    /// assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "a");
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when the directory cannot be created.
    pub fn new(target: &Path) -> Result<StagedDir> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{name}.tmp-{}", std::process::id()))
            .tempdir_in(parent_dir(target))
            .map_err(|e| {
                Error::Input(format!(
                    "cannot create a directory beside {}: {e}",
                    target.display()
                ))
            })?;
        Scratch::register(dir.path());
        Ok(StagedDir {
            target: target.to_path_buf(),
            dir: Some(dir),
        })
    }

    /// Where to build the directory's contents.
    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("not committed").path()
    }

    /// Puts the directory in place of the target: what was there is moved aside
    /// (`.NAME.old-PID`) and removed once the new one is in place, or put back if it cannot be.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when the target cannot be replaced.
    pub fn commit(mut self) -> Result<()> {
        let dir = self.dir.take().expect("committed once");
        let tmp = dir.keep();
        Scratch::unregister(&tmp);
        let target = &self.target;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let old = parent_dir(target).join(format!(".{name}.old-{}", std::process::id()));
        Scratch::register(&old);
        let placed = (|| {
            if target.exists() {
                std::fs::rename(target, &old).map_err(|e| {
                    Error::Input(format!("cannot replace {}: {e}", target.display()))
                })?;
            }
            if let Err(e) = std::fs::rename(&tmp, target) {
                let _ = std::fs::rename(&old, target);
                return Err(Error::Input(format!(
                    "cannot write {}: {e}",
                    target.display()
                )));
            }
            let _ = std::fs::remove_dir_all(&old);
            Ok(())
        })();
        Scratch::unregister(&old);
        if placed.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        placed
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            Scratch::unregister(dir.path());
            // TempDir removes the directory.
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory, then renames it
/// into place, so that a crash or an error never leaves a partial file behind.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.json");
/// explain_core::util::output::write_atomic(&path, b"{}").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"{}");
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Staged::new(path, bytes)?.commit()
}

/// Pretty JSON with a final newline.
pub fn json_bytes<T: serde::Serialize>(path: &Path, value: &T) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Input(format!("cannot serialise {}: {e}", path.display())))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Serialises `value` as pretty JSON (with a final newline) and writes it atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    write_atomic(path, &json_bytes(path, value)?)
}

/// Temporary files and directories of this process, removed if it is interrupted.
pub struct Scratch;

static SCRATCH: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();

/// Makes SIGINT, SIGTERM and SIGHUP remove this process's temporary files and directories
/// and exit with status 130. For programs (the `explain` binary calls it first); a library
/// caller that handles signals itself leaves it out.
pub fn remove_scratch_on_interrupt() {
    HANDLER.call_once(|| {
        // Without a handler an interrupt still ends the process; only the cleanup is lost.
        let _ = ctrlc::set_handler(|| {
            Scratch::remove_all();
            std::process::exit(130);
        });
    });
}

impl Scratch {
    /// Registers a temporary path.
    pub fn register(path: &Path) {
        SCRATCH
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.to_path_buf());
    }

    /// Forgets a path (it was renamed into place or removed).
    pub fn unregister(path: &Path) {
        SCRATCH
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p| p != path);
    }

    /// Removes every registered path. Worker threads may still be writing into a directory
    /// while it goes, so each removal is tried a few times.
    fn remove_all() {
        let paths = std::mem::take(&mut *SCRATCH.lock().unwrap_or_else(|e| e.into_inner()));
        for p in paths {
            for _ in 0..20 {
                let gone = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
                if gone.is_ok() || !p.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
        }
    }
}

/// Removes entries of `dir` named `{prefix}{pid}{suffix}` (with anything after the pid and
/// before the suffix) whose process no longer runs: what a run killed outright left behind.
/// Returns what it removed. Only where a process can be looked up (Linux `/proc`); elsewhere
/// nothing is removed.
pub fn remove_stale(dir: &Path, prefix: &str, suffix: &str) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    if !Path::new("/proc/self").exists() {
        return removed;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let Some(rest) = rest.strip_suffix(suffix) else {
            continue;
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let Ok(pid) = digits.parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let path = entry.path();
        let gone = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if gone.is_ok() {
            removed.push(path);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_devices_and_directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.json");
        std::fs::write(&target, b"keep").unwrap();
        #[cfg(unix)]
        {
            let link = dir.path().join("link.json");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            let e = write_atomic(&link, b"{}").unwrap_err().to_string();
            assert!(e.contains("symbolic link"), "{e}");
            assert_eq!(std::fs::read(&target).unwrap(), b"keep");
            if Path::new("/dev/null").exists() {
                let e = check_writable(Path::new("/dev/null"))
                    .unwrap_err()
                    .to_string();
                assert!(e.contains("not a regular file"), "{e}");
            }
        }
        let e = check_writable(dir.path()).unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
        assert!(check_writable(&dir.path().join("missing/x.json")).is_err());
    }

    #[test]
    fn staged_files_appear_on_commit_only_and_vanish_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        let staged = Staged::new(&a, b"1").unwrap();
        assert!(!a.exists());
        staged.commit().unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"1");
        drop(Staged::new(&dir.path().join("b.json"), b"2").unwrap());
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn leftovers_of_dead_processes_are_removed() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        // PID 4194305 is above Linux's maximum: no such process.
        let stale = dir.path().join(".out.json.4194305.tmp");
        let live = dir
            .path()
            .join(format!(".out.json.{}.tmp", std::process::id()));
        std::fs::write(&stale, b"").unwrap();
        std::fs::write(&live, b"").unwrap();
        let removed = remove_stale(dir.path(), ".out.json.", ".tmp");
        assert_eq!(removed, vec![stale.clone()]);
        assert!(!stale.exists() && live.exists());
    }
}
