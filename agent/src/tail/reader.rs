//! Reading a followed file into lines: only whole lines (ending in `\n`), at most a batch at a
//! time, each at most a bounded length.
//!
//! A line longer than the limit is cut to it. Its start is sent as soon as the limit is
//! reached, even before its newline is written, and the rest is skipped up to the newline:
//! so a runaway writer costs one read of each byte, never a buffer that grows, and every line
//! of the file keeps exactly one sequence number whatever the limit. Blank lines carry nothing
//! and are passed over.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// How much one read may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub batch_lines: usize,
    /// Bytes of line text in a batch; a single line may exceed it only if it is alone.
    pub batch_bytes: usize,
    pub max_line_bytes: usize,
}

/// One line of the file, without its newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line, invalid UTF-8 replaced, at most `max_line_bytes` long.
    pub text: String,
    /// Bytes of the line that were cut off, as far as they were read when it was taken (a
    /// line taken before its end was written counts only what was there).
    pub cut: u64,
}

/// What one read found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub lines: Vec<Line>,
    /// The offset after the last byte the lines account for (a newline, or a skipped byte).
    pub end: u64,
    /// `end` is inside a cut line, whose rest is still to be skipped.
    pub skipping: bool,
}

/// Reads lines from `offset`. With `finish`, the file gets no more lines (it was rotated
/// away), so a last line without its newline is taken too.
pub fn read(
    file: &File,
    offset: u64,
    skipping: bool,
    limits: Limits,
    finish: bool,
) -> io::Result<Chunk> {
    let mut splitter = Splitter::new(limits, offset, skipping);
    let mut buffer = vec![0; READ_SIZE];
    let mut at = offset;
    // Bounds the work of one call while skipping through an endless line: the rest is
    // read by the next call, from the offset this one reached.
    let scan_limit = offset + (limits.batch_bytes + limits.max_line_bytes + READ_SIZE) as u64;
    loop {
        let read = match file.read_at(&mut buffer, at) {
            Ok(0) => {
                if finish {
                    splitter.finish();
                }
                break;
            }
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        at += read as u64;
        if splitter.feed(&buffer[..read]) || at >= scan_limit {
            break;
        }
    }
    Ok(splitter.into_chunk())
}

const READ_SIZE: usize = 64 * 1024;

/// Splits bytes into lines, remembering where the last whole one ended.
#[derive(Debug)]
pub struct Splitter {
    limits: Limits,
    /// Offset of the next byte fed.
    at: u64,
    skipping: bool,
    /// The current line's first bytes, at most the limit.
    partial: Vec<u8>,
    /// The current line's length so far, beyond what `partial` keeps.
    partial_len: u64,
    lines: Vec<Line>,
    bytes: usize,
    committed: u64,
    committed_skipping: bool,
    full: bool,
}

impl Splitter {
    pub fn new(limits: Limits, offset: u64, skipping: bool) -> Self {
        Self {
            limits,
            at: offset,
            skipping,
            partial: Vec::new(),
            partial_len: 0,
            lines: Vec::new(),
            bytes: 0,
            committed: offset,
            committed_skipping: skipping,
            full: false,
        }
    }

    /// Takes the next bytes of the file; returns true once the batch is full, and then
    /// ignores the rest (it is read again from the end of the chunk).
    pub fn feed(&mut self, mut bytes: &[u8]) -> bool {
        while !bytes.is_empty() && !self.full {
            let newline = bytes.iter().position(|&b| b == b'\n');
            let (part, rest) = match newline {
                Some(i) => (&bytes[..i], &bytes[i + 1..]),
                None => (bytes, &[][..]),
            };
            let consumed = (part.len() + usize::from(newline.is_some())) as u64;
            if self.skipping {
                self.at += consumed;
                self.skipping = newline.is_none();
                self.commit();
            } else {
                self.keep(part);
                if newline.is_some() {
                    if !self.end_line(consumed) {
                        break;
                    }
                } else if self.partial_len > self.limits.max_line_bytes as u64 {
                    // Cut now: the line's end changes nothing of what is sent.
                    if !self.end_line(consumed) {
                        break;
                    }
                    self.skipping = true;
                    self.committed_skipping = true;
                } else {
                    self.at += consumed;
                }
            }
            bytes = rest;
        }
        self.full
    }

    /// The file ends here for good: a last line without a newline is a line.
    pub fn finish(&mut self) {
        if !self.full && !self.skipping && self.partial_len > 0 {
            self.end_line(0);
        }
    }

    pub fn into_chunk(self) -> Chunk {
        Chunk {
            lines: self.lines,
            end: self.committed,
            skipping: self.committed_skipping,
        }
    }

    fn keep(&mut self, part: &[u8]) {
        let room = (self.limits.max_line_bytes + 1).saturating_sub(self.partial.len());
        self.partial
            .extend_from_slice(&part[..part.len().min(room)]);
        self.partial_len += part.len() as u64;
    }

    /// Ends the current line after `consumed` more bytes; false (and nothing taken) when it
    /// does not fit in the batch.
    fn end_line(&mut self, consumed: u64) -> bool {
        let line = self.take_line();
        if let Some(line) = &line
            && !self.lines.is_empty()
            && (self.lines.len() >= self.limits.batch_lines
                || self.bytes + line.text.len() > self.limits.batch_bytes)
        {
            self.full = true;
            return false;
        }
        self.at += consumed;
        self.partial.clear();
        self.partial_len = 0;
        if let Some(line) = line {
            self.bytes += line.text.len();
            self.lines.push(line);
        }
        self.commit();
        if self.lines.len() >= self.limits.batch_lines || self.bytes >= self.limits.batch_bytes {
            self.full = true;
        }
        true
    }

    /// The current line as it is sent; `None` for a blank line.
    fn take_line(&self) -> Option<Line> {
        let max = self.limits.max_line_bytes;
        let mut kept = &self.partial[..self.partial.len().min(max)];
        if self.partial_len <= max as u64 {
            kept = kept.strip_suffix(b"\r").unwrap_or(kept);
        }
        let mut text = String::from_utf8_lossy(kept).into_owned();
        // Replacement characters are longer than the bytes they replace.
        if text.len() > max {
            let mut end = max;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        if text.trim().is_empty() {
            return None;
        }
        Some(Line {
            text,
            cut: self.partial_len.saturating_sub(max as u64),
        })
    }

    fn commit(&mut self) {
        self.committed = self.at;
        self.committed_skipping = self.skipping;
    }
}

/// The offset where following from the end of a file starts: after its last newline, or,
/// when the last line is longer than the limit, inside it with the rest skipped.
pub fn end_of_last_line(file: &File, size: u64, limits: Limits) -> io::Result<(u64, bool)> {
    let back = size.min(limits.max_line_bytes as u64 + 1);
    let mut tail = vec![0; back as usize];
    file.read_exact_at(&mut tail, size - back)?;
    Ok(match tail.iter().rposition(|&b| b == b'\n') {
        Some(i) => (size - back + i as u64 + 1, false),
        None if back == size => (0, false),
        None => (size, true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        batch_lines: 100,
        batch_bytes: 1000,
        max_line_bytes: 10,
    };

    fn split(limits: Limits, feeds: &[&[u8]]) -> Chunk {
        let mut splitter = Splitter::new(limits, 0, false);
        for bytes in feeds {
            if splitter.feed(bytes) {
                break;
            }
        }
        splitter.into_chunk()
    }

    fn texts(chunk: &Chunk) -> Vec<&str> {
        chunk.lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn only_whole_lines_are_taken_and_a_partial_one_waits() {
        let chunk = split(LIMITS, &[b"one\ntw", b"o\nthr"]);
        assert_eq!(texts(&chunk), ["one", "two"]);
        assert_eq!(chunk.end, 8, "the offset stops after the last newline");
        assert!(!chunk.skipping);

        let rest = split(LIMITS, &[b"thr"]);
        assert!(rest.lines.is_empty());
        assert_eq!(rest.end, 0);
    }

    #[test]
    fn crlf_and_blank_lines() {
        let chunk = split(LIMITS, &[b"a\r\n\n  \r\nb\n"]);
        assert_eq!(texts(&chunk), ["a", "b"]);
        assert_eq!(chunk.end, 10, "blank lines are passed over, not waited for");
    }

    #[test]
    fn a_long_line_is_cut_and_its_rest_skipped_once_the_limit_is_passed() {
        let chunk = split(LIMITS, &[b"0123456789abcdef\nnext\n"]);
        assert_eq!(texts(&chunk), ["0123456789", "next"]);
        assert_eq!(chunk.lines[0].cut, 6);
        assert_eq!(chunk.end, 22);
        let in_two = split(LIMITS, &[b"0123456789abc", b"def\nnext\n"]);
        assert_eq!(texts(&in_two), ["0123456789", "next"]);
        assert_eq!((in_two.lines[0].cut, in_two.end), (3, 22));

        // Before its newline, the start is sent and the offset stays inside the line.
        let early = split(LIMITS, &[b"0123456789abc"]);
        assert_eq!(texts(&early), ["0123456789"]);
        assert_eq!((early.end, early.skipping), (13, true));
        let mut later = Splitter::new(LIMITS, early.end, true);
        later.feed(b"def\nnext\n");
        let later = later.into_chunk();
        assert_eq!(texts(&later), ["next"], "the rest is skipped, not a line");
        assert_eq!((later.end, later.skipping), (22, false));
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_whole() {
        let chunk = split(LIMITS, &[b"0123456789\n"]);
        assert_eq!(chunk.lines[0].cut, 0);
        assert_eq!(texts(&chunk), ["0123456789"]);
    }

    #[test]
    fn cutting_never_leaves_a_line_over_the_limit_in_utf8() {
        let chunk = split(LIMITS, &["ééééééé\n".as_bytes(), b"\xff\xfe\xfd\xfc\n"]);
        for line in &chunk.lines {
            assert!(line.text.len() <= 10, "{line:?}");
        }
        assert_eq!(chunk.lines[0].text, "ééééé");
        assert_eq!(chunk.lines[1].text, "\u{fffd}\u{fffd}\u{fffd}");
    }

    #[test]
    fn batches_are_bounded_by_lines_and_bytes() {
        let by_lines = Limits {
            batch_lines: 2,
            ..LIMITS
        };
        let chunk = split(by_lines, &[b"a\nb\nc\n"]);
        assert_eq!((texts(&chunk), chunk.end), (vec!["a", "b"], 4));

        let by_bytes = Limits {
            batch_bytes: 12,
            ..LIMITS
        };
        let chunk = split(by_bytes, &[b"12345\n67890\nabc\n"]);
        assert_eq!(texts(&chunk), ["12345", "67890"]);
        assert_eq!(chunk.end, 12, "the third line waits for the next batch");

        let alone = Limits {
            batch_bytes: 3,
            ..LIMITS
        };
        let chunk = split(alone, &[b"12345\n67\n"]);
        assert_eq!(
            texts(&chunk),
            ["12345"],
            "a line alone may exceed the batch"
        );
    }

    #[test]
    fn a_finished_file_gives_up_its_last_line_without_a_newline() {
        let mut splitter = Splitter::new(LIMITS, 0, false);
        splitter.feed(b"a\nlast");
        splitter.finish();
        let chunk = splitter.into_chunk();
        assert_eq!(texts(&chunk), ["a", "last"]);
        assert_eq!(chunk.end, 6);
    }

    #[test]
    fn reading_a_file_from_an_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "skip\nkeep\nhalf").unwrap();
        let file = File::open(&path).unwrap();
        let chunk = read(&file, 5, false, LIMITS, false).unwrap();
        assert_eq!((texts(&chunk), chunk.end), (vec!["keep"], 10));
        let finished = read(&file, 10, false, LIMITS, true).unwrap();
        assert_eq!((texts(&finished), finished.end), (vec!["half"], 14));
        assert_eq!(
            end_of_last_line(&file, 14, LIMITS).unwrap(),
            (10, false),
            "following from the end waits for the partial line"
        );
    }

    #[test]
    fn an_endless_line_is_read_a_bounded_part_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let size = READ_SIZE as u64;
        std::fs::write(&path, vec![b'x'; 5 * READ_SIZE]).unwrap();
        let file = File::open(&path).unwrap();
        let limits = Limits {
            batch_bytes: 100,
            ..LIMITS
        };
        let first = read(&file, 0, false, limits, false).unwrap();
        assert_eq!(texts(&first), ["xxxxxxxxxx"]);
        assert_eq!((first.end, first.skipping), (2 * size, true));
        let second = read(&file, first.end, true, limits, false).unwrap();
        assert!(second.lines.is_empty());
        assert_eq!((second.end, second.skipping), (4 * size, true));
    }
}
