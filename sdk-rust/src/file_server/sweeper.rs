//! Removes stored files older than the time to live, and the folders they leave empty.
//! Runs as a task beside the server; a file being downloaded stays readable until closed.

use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::storage::INCOMING_FOLDER;

/// How often the folder is swept for a given time to live: a quarter of it, kept between
/// 100 ms and one minute.
pub fn sweep_interval(ttl: Duration) -> Duration {
    (ttl / 4).clamp(Duration::from_millis(100), Duration::from_secs(60))
}

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Files removed.
    pub files: usize,
    /// Empty folders removed.
    pub folders: usize,
}

/// Removes, below `root`, every file last modified more than `ttl` ago and every empty
/// folder untouched for as long; `.incoming/` (uploads in progress) is left alone. Blocking:
/// run it on a blocking thread.
pub fn sweep(root: &Path, ttl: Duration) -> Swept {
    let mut swept = Swept::default();
    let now = SystemTime::now();
    sweep_folder(root, root, ttl, now, &mut swept);
    swept
}

/// Sweeps `folder`; returns whether it is now empty.
fn sweep_folder(
    root: &Path,
    folder: &Path,
    ttl: Duration,
    now: SystemTime,
    swept: &mut Swept,
) -> bool {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return false;
    };
    let mut empty = true;
    for entry in entries.flatten() {
        let path = entry.path();
        if folder == root && entry.file_name() == INCOMING_FOLDER {
            empty = false;
            continue;
        }
        // symlink_metadata: a link someone placed here is judged itself, never followed.
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if metadata.is_dir() {
            let now_empty = sweep_folder(root, &path, ttl, now, swept);
            // Judge the folder's age after its contents were swept.
            let expired = std::fs::symlink_metadata(&path).is_ok_and(|m| is_expired(&m, ttl, now));
            if now_empty && expired && std::fs::remove_dir(&path).is_ok() {
                swept.folders += 1;
                continue;
            }
        } else if is_expired(&metadata, ttl, now) && removed(std::fs::remove_file(&path)) {
            swept.files += 1;
            continue;
        }
        empty = false;
    }
    empty
}

/// Removes the files in `incoming` (uploads in progress) not written to for `idle`: what a
/// crashed server or a lost disk left behind. Blocking: run it on a blocking thread.
pub fn sweep_abandoned_uploads(incoming: &Path, idle: Duration) -> usize {
    let now = SystemTime::now();
    let Ok(entries) = std::fs::read_dir(incoming) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| {
            std::fs::symlink_metadata(entry.path())
                .is_ok_and(|m| m.is_file() && is_expired(&m, idle, now))
        })
        .filter(|entry| removed(std::fs::remove_file(entry.path())))
        .count()
}

fn is_expired(metadata: &std::fs::Metadata, ttl: Duration, now: SystemTime) -> bool {
    metadata
        .modified()
        .ok()
        .and_then(|modified| now.duration_since(modified).ok())
        .is_some_and(|age| age > ttl)
}

fn removed(result: io::Result<()>) -> bool {
    match result {
        Ok(()) => true,
        Err(e) => e.kind() == io::ErrorKind::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abandoned_uploads_go_active_ones_stay() {
        let incoming = tempfile::tempdir().unwrap();
        std::fs::write(incoming.path().join("a.part"), b"partial").unwrap();
        assert_eq!(
            sweep_abandoned_uploads(incoming.path(), Duration::from_secs(3600)),
            0
        );
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(sweep_abandoned_uploads(incoming.path(), Duration::ZERO), 1);
        assert!(!incoming.path().join("a.part").exists());
    }

    #[test]
    fn interval_is_a_quarter_of_the_ttl_within_bounds() {
        assert_eq!(
            sweep_interval(Duration::from_secs(2)),
            Duration::from_millis(500)
        );
        assert_eq!(
            sweep_interval(Duration::from_millis(10)),
            Duration::from_millis(100)
        );
        assert_eq!(
            sweep_interval(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn old_files_and_their_empty_folders_go_fresh_ones_stay() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join(INCOMING_FOLDER)).unwrap();
        std::fs::write(root.join("a/b/old.bin"), b"old").unwrap();
        std::fs::write(root.join(INCOMING_FOLDER).join("x.part"), b"partial").unwrap();
        // Everything is "old" for a zero TTL once a moment has passed.
        std::thread::sleep(Duration::from_millis(20));
        let swept = sweep(root, Duration::ZERO);
        assert_eq!(
            swept,
            Swept {
                files: 1,
                folders: 2
            }
        );
        assert!(!root.join("a").exists());
        assert!(root.join(INCOMING_FOLDER).join("x.part").exists());

        std::fs::write(root.join("fresh.bin"), b"fresh").unwrap();
        assert_eq!(sweep(root, Duration::from_secs(3600)), Swept::default());
        assert!(root.join("fresh.bin").exists());
    }
}
