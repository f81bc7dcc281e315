//! Which file to read, and from where, when following starts or a rotated file is finished.
//!
//! The checkpoint names a file by device, inode and first bytes; the path may name it still,
//! name another file (it was rotated while the agent was stopped), or name the same inode
//! with other content (the old file was deleted and its inode number reused, or it was
//! rewritten in place). A rotated file is looked for beside the path, under a name that
//! starts with the path's (`auth.log.1`, `secure-20261204`), so that its rest is read first,
//! and then the files rotated after it that are still plain text, oldest first. One compressed
//! by logrotate is a new file, and what it held after the checkpoint is lost; that is logged.
//!
//! While following, [`look`] tells whether the path still names the file being read: a file
//! it names anew is opened at once and read once those before it are finished, so that
//! neither a second rotation nor a deletion can take it away first. Should the path have
//! been rotated twice between two looks, the file in between is found as after a stop.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use super::checkpoint::{FileId, Position};
use super::reader::{self, Limits};
use crate::config::TailStart;

/// How the file to read was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// The checkpoint's own file, at its offset.
    Resumed,
    /// No checkpoint: a file followed for the first time.
    Started,
    /// The checkpoint's file, moved away while the agent was stopped; read to its end first.
    RotatedWhileStopped,
    /// The checkpoint's file is gone; the one the path names is read from its start.
    PreviousGone { offset: u64 },
    /// The same inode with other first bytes: read from its start.
    Rewritten,
}

/// The file to read, where it was found and from where.
#[derive(Debug)]
pub struct Found {
    pub file: File,
    pub name: PathBuf,
    pub position: Position,
    pub how: How,
    /// Files rotated after it while the agent was stopped, oldest first, to read next.
    pub later: Vec<Named>,
}

/// An open file and its name.
#[derive(Debug)]
pub struct Named {
    pub file: File,
    pub id: FileId,
    pub name: PathBuf,
}

/// What the path names now.
#[derive(Debug)]
pub enum Look {
    /// Nothing.
    Missing,
    /// One of the files already known.
    Known(FileId),
    /// Another file, opened, and the plain-text files rotated between the newest known one
    /// and it, oldest first.
    New { missed: Vec<Named>, named: Named },
}

/// Finds the file to read for a checkpoint at `position`; `None` while the path names none.
pub fn locate(
    path: &Path,
    position: Option<Position>,
    start: TailStart,
    limits: Limits,
) -> io::Result<Option<Found>> {
    let Some((file, id)) = open(path)? else {
        return Ok(None);
    };
    let found = |file, position, how| Found {
        file,
        name: path.to_path_buf(),
        position,
        how,
        later: Vec::new(),
    };
    let Some(position) = position else {
        let (offset, skipping) = match start {
            TailStart::Beginning => (0, false),
            TailStart::End => reader::end_of_last_line(&file, file.metadata()?.len(), limits)?,
        };
        let position = Position::new(&file, id, offset, skipping)?;
        return Ok(Some(found(file, position, How::Started)));
    };
    if position.id == id {
        if position.same_head(&file)? {
            return Ok(Some(found(file, position, How::Resumed)));
        }
        let fresh = Position::new(&file, id, 0, false)?;
        return Ok(Some(found(file, fresh, How::Rewritten)));
    }
    if let Some(old_name) = find_rotated(path, position.id)? {
        let old = File::open(&old_name)?;
        if position.same_head(&old)? {
            let later = rotated_after(path, &old, &[position.id, id])?;
            return Ok(Some(Found {
                file: old,
                name: old_name,
                position,
                how: How::RotatedWhileStopped,
                later,
            }));
        }
    }
    let offset = position.offset;
    let fresh = Position::new(&file, id, 0, false)?;
    Ok(Some(found(file, fresh, How::PreviousGone { offset })))
}

/// What `path` names, opening it when it is none of `known`, of which `newest` is the last.
pub fn look(path: &Path, known: &[FileId], newest: &File) -> io::Result<Look> {
    let id = match fs::metadata(path) {
        Ok(metadata) => FileId::of(&metadata),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Look::Missing),
        Err(e) => return Err(e),
    };
    if known.contains(&id) {
        return Ok(Look::Known(id));
    }
    // Opened, then identified by the open file: the path may have changed in between.
    Ok(match open(path)? {
        None => Look::Missing,
        Some((_, id)) if known.contains(&id) => Look::Known(id),
        Some((file, id)) => {
            let skip: Vec<FileId> = known.iter().copied().chain([id]).collect();
            Look::New {
                missed: rotated_after(path, newest, &skip)?,
                named: Named {
                    file,
                    id,
                    name: path.to_path_buf(),
                },
            }
        }
    })
}

fn open(path: &Path) -> io::Result<Option<(File, FileId)>> {
    match File::open(path) {
        Ok(file) => {
            let id = FileId::of(&file.metadata()?);
            Ok(Some((file, id)))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The file with id `id` in the directory of `path` whose name starts with `path`'s.
fn find_rotated(path: &Path, id: FileId) -> io::Result<Option<PathBuf>> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(None);
    };
    let name = name.to_string_lossy();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with(name.as_ref())
        {
            continue;
        }
        let found = entry.path();
        if let Ok(metadata) = fs::metadata(&found)
            && metadata.is_file()
            && FileId::of(&metadata) == id
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The plain-text files rotated from `path` after `old` (named like `auth.log.2` or
/// `secure-20261204`: a compressed one ends in `.gz` and the like), oldest first by their last
/// write, leaving out the files of `skip`.
fn rotated_after(path: &Path, old: &File, skip: &[FileId]) -> io::Result<Vec<Named>> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(Vec::new());
    };
    let name = name.to_string_lossy();
    let since = old.metadata()?.modified()?;
    let mut later = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        let Some(suffix) = entry_name.strip_prefix(name.as_ref()) else {
            continue;
        };
        let rotation = suffix.len() > 1
            && suffix.starts_with(['.', '-'])
            && suffix[1..].bytes().all(|b| b.is_ascii_digit() || b == b'-');
        if !rotation {
            continue;
        }
        let Some((file, id)) = open(&entry.path())? else {
            continue;
        };
        let metadata = file.metadata()?;
        if metadata.is_file() && !skip.contains(&id) && metadata.modified()? >= since {
            let named = Named {
                file,
                id,
                name: entry.path(),
            };
            later.push((metadata.modified()?, named));
        }
    }
    later.sort_by_key(|(modified, _)| *modified);
    Ok(later.into_iter().map(|(_, named)| named).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        batch_lines: 100,
        batch_bytes: 10_000,
        max_line_bytes: 100,
    };

    /// Where a checkpoint would be after reading all of `path`.
    fn read_to_end(path: &Path) -> Position {
        let found = locate(path, None, TailStart::Beginning, LIMITS)
            .unwrap()
            .unwrap();
        let size = found.file.metadata().unwrap().len();
        let mut position = found.position;
        position.advance(&found.file, size, false).unwrap();
        position
    }

    #[test]
    fn a_new_file_starts_at_its_beginning_or_after_its_last_whole_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("auth.log");
        assert!(
            locate(&log, None, TailStart::End, LIMITS)
                .unwrap()
                .is_none()
        );
        std::fs::write(&log, "one\ntwo\nhal").unwrap();

        let start = locate(&log, None, TailStart::Beginning, LIMITS)
            .unwrap()
            .unwrap();
        assert_eq!((start.how, start.position.offset), (How::Started, 0));
        let end = locate(&log, None, TailStart::End, LIMITS).unwrap().unwrap();
        assert_eq!(end.position.offset, 8, "the half line is sent once whole");
    }

    #[test]
    fn the_checkpoints_file_resumes_and_a_rewritten_one_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("auth.log");
        std::fs::write(&log, "one\ntwo\n").unwrap();
        let position = read_to_end(&log);

        let again = locate(&log, Some(position.clone()), TailStart::End, LIMITS)
            .unwrap()
            .unwrap();
        assert_eq!((again.how, again.position.offset), (How::Resumed, 8));

        // Written over in place: same inode, other first bytes.
        std::fs::write(&log, "uno\ndos\ntres\n").unwrap();
        let rewritten = locate(&log, Some(position), TailStart::End, LIMITS)
            .unwrap()
            .unwrap();
        assert_eq!(
            (rewritten.how, rewritten.position.offset),
            (How::Rewritten, 0)
        );
    }

    #[test]
    fn a_file_rotated_while_stopped_is_found_beside_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("secure");
        std::fs::write(&log, "one\n").unwrap();
        let position = read_to_end(&log);
        std::fs::write(dir.path().join("other"), "x\n").unwrap();
        let rotated = dir.path().join("secure-20261204");
        std::fs::rename(&log, &rotated).unwrap();
        std::fs::write(&log, "new\n").unwrap();

        let found = locate(&log, Some(position.clone()), TailStart::Beginning, LIMITS)
            .unwrap()
            .unwrap();
        assert_eq!(found.how, How::RotatedWhileStopped);
        assert_eq!((found.name, found.position.offset), (rotated.clone(), 4));

        // Compressed (a new file) and the original deleted: what it held after the
        // checkpoint is gone, and the new file is read from its start.
        std::fs::remove_file(&rotated).unwrap();
        let gone = locate(&log, Some(position), TailStart::Beginning, LIMITS)
            .unwrap()
            .unwrap();
        assert_eq!(gone.how, How::PreviousGone { offset: 4 });
        assert_eq!((gone.name, gone.position.offset), (log.clone(), 0));
    }

    #[test]
    fn files_rotated_after_the_checkpoints_one_are_read_next_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("auth.log");
        std::fs::write(&log, "first\n").unwrap();
        let position = read_to_end(&log);
        let rotate = || {
            for n in (1..3).rev() {
                let from = dir.path().join(format!("auth.log.{n}"));
                if from.exists() {
                    std::fs::rename(&from, dir.path().join(format!("auth.log.{}", n + 1))).unwrap();
                }
            }
            std::fs::rename(&log, dir.path().join("auth.log.1")).unwrap();
        };
        rotate();
        std::fs::write(&log, "second\n").unwrap();
        rotate();
        std::fs::write(&log, "third\n").unwrap();
        std::fs::write(dir.path().join("auth.log.4.gz"), "compressed").unwrap();
        std::fs::write(dir.path().join("auth.log.bak"), "a copy").unwrap();

        let found = locate(&log, Some(position), TailStart::Beginning, LIMITS)
            .unwrap()
            .unwrap();
        assert_eq!(found.how, How::RotatedWhileStopped);
        assert_eq!(found.name, dir.path().join("auth.log.2"));
        let later: Vec<&Path> = found.later.iter().map(|n| n.name.as_path()).collect();
        assert_eq!(later, [dir.path().join("auth.log.1")]);
    }

    #[test]
    fn looking_at_the_path_opens_a_file_it_names_anew() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("auth.log");
        std::fs::write(&log, "one\n").unwrap();
        let first = File::open(&log).unwrap();
        let first_id = FileId::of(&first.metadata().unwrap());
        let known = [first_id];
        assert!(matches!(look(&log, &known, &first).unwrap(), Look::Known(id) if id == first_id));

        std::fs::rename(&log, dir.path().join("auth.log.1")).unwrap();
        std::fs::write(&log, "two\n").unwrap();
        let Look::New { missed, named } = look(&log, &known, &first).unwrap() else {
            panic!("the rotated path names a new file")
        };
        assert_ne!(named.id, first_id);
        assert!(missed.is_empty());

        // Rotated twice before the next look: the file in between is not passed over.
        std::fs::rename(dir.path().join("auth.log.1"), dir.path().join("auth.log.2")).unwrap();
        std::fs::rename(&log, dir.path().join("auth.log.1")).unwrap();
        std::fs::write(&log, "three\n").unwrap();
        let Look::New {
            missed,
            named: third,
        } = look(&log, &known, &first).unwrap()
        else {
            panic!("a new file again")
        };
        let missed: Vec<FileId> = missed.iter().map(|m| m.id).collect();
        assert_eq!(missed, [named.id]);
        assert_ne!(third.id, named.id);
        std::fs::remove_file(&log).unwrap();
        assert!(matches!(look(&log, &known, &first).unwrap(), Look::Missing));
    }
}
