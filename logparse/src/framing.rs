//! Syslog over TCP: splitting a byte stream into messages (RFC 6587).
//!
//! Senders frame messages in one of two ways, and may mix them on one connection: octet
//! counting (`<length> <message>`, rsyslog's `TCP_Framing="octet-counted"`) when a frame starts
//! with a digit, and a trailing LF otherwise. The decision is made per frame, as rsyslog does.
//!
//! What the framer refuses, and why:
//! - an octet count above the limit, or one with a leading zero or no digits before the space,
//!   is a framing error: the stream cannot be trusted past it, so the connection is closed
//!   without allocating the announced size;
//! - an LF-terminated line above the limit is cut at the limit and marked truncated; the rest
//!   up to the next LF is skipped, so the next line is read intact;
//! - bytes left when the connection closes (a short frame) are counted as discarded.

/// One message, without its framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub bytes: Vec<u8>,
    /// The line was longer than the limit and was cut.
    pub truncated: bool,
}

/// Why the stream cannot be read on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramingError {
    /// An octet count larger than the limit.
    TooLong { announced: u64 },
    /// Digits that do not form a valid octet count (a leading zero, or too many digits).
    BadCount,
}

/// An incremental framer for one connection.
#[derive(Debug)]
pub struct Framer {
    buffer: Vec<u8>,
    /// Where the unread part of `buffer` begins. Frames are taken by moving it forward and
    /// the buffer is compacted once per read, not once per frame.
    start: usize,
    max_len: usize,
    /// Inside an overlong LF line: skip up to the next LF.
    skipping: bool,
}

/// Digits of the largest octet count read; beyond that a count is refused unread.
const MAX_COUNT_DIGITS: usize = 10;

impl Framer {
    pub fn new(max_len: usize) -> Self {
        Self {
            buffer: Vec::new(),
            start: 0,
            max_len,
            skipping: false,
        }
    }

    /// Adds bytes read from the connection.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.drain(..self.start);
        self.start = 0;
        self.buffer.extend_from_slice(bytes);
    }

    fn pending(&self) -> &[u8] {
        &self.buffer[self.start..]
    }

    fn consume(&mut self, len: usize) {
        self.start += len;
    }

    /// The next complete message, if the buffer holds one.
    pub fn next_frame(&mut self) -> Option<Result<Frame, FramingError>> {
        loop {
            if self.skipping {
                let lf = self.pending().iter().position(|b| *b == b'\n');
                match lf {
                    Some(at) => {
                        self.consume(at + 1);
                        self.skipping = false;
                    }
                    None => {
                        self.start = self.buffer.len();
                        return None;
                    }
                }
            }
            let first = *self.pending().first()?;
            if first == b'\n' || first == b'\r' {
                // Blank lines between frames carry nothing.
                self.consume(1);
                continue;
            }
            return if first.is_ascii_digit() {
                self.octet_counted()
            } else {
                self.lf_terminated()
            };
        }
    }

    /// Bytes that never became a whole message, when the connection ends.
    pub fn finish(self) -> usize {
        if self.skipping {
            0
        } else {
            self.pending().len()
        }
    }

    fn octet_counted(&mut self) -> Option<Result<Frame, FramingError>> {
        let pending = self.pending();
        let digits = pending.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > MAX_COUNT_DIGITS || (digits > 1 && pending[0] == b'0') {
            return Some(Err(FramingError::BadCount));
        }
        match pending.get(digits) {
            None => return None,
            Some(b' ') => {}
            // `2024-...` or `123abc`: a digit-led line without a count, framed by its LF.
            Some(_) => return self.lf_terminated(),
        }
        let count: u64 = std::str::from_utf8(&pending[..digits]).ok()?.parse().ok()?;
        if count > self.max_len as u64 {
            return Some(Err(FramingError::TooLong { announced: count }));
        }
        let start = digits + 1;
        let end = start + count as usize;
        if pending.len() < end {
            return None;
        }
        let mut bytes: Vec<u8> = pending[start..end].to_vec();
        self.consume(end);
        // rsyslog counts the LF it appends; the message is what comes before it.
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
        }
        Some(Ok(Frame {
            bytes,
            truncated: false,
        }))
    }

    fn lf_terminated(&mut self) -> Option<Result<Frame, FramingError>> {
        let pending = self.pending();
        match pending.iter().position(|b| *b == b'\n') {
            Some(at) if at <= self.max_len => {
                let mut bytes: Vec<u8> = pending[..at].to_vec();
                self.consume(at + 1);
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
                Some(Ok(Frame {
                    bytes,
                    truncated: false,
                }))
            }
            Some(_) => Some(Ok(self.cut())),
            None if pending.len() > self.max_len => Some(Ok(self.cut())),
            None => None,
        }
    }

    /// The first `max_len` bytes of an overlong line; the rest is skipped.
    fn cut(&mut self) -> Frame {
        let bytes: Vec<u8> = self.pending()[..self.max_len].to_vec();
        self.consume(self.max_len);
        self.skipping = true;
        Frame {
            bytes,
            truncated: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut Framer) -> Vec<Result<(String, bool), FramingError>> {
        let mut out = Vec::new();
        while let Some(frame) = framer.next_frame() {
            let stop = frame.is_err();
            out.push(frame.map(|f| (String::from_utf8_lossy(&f.bytes).into_owned(), f.truncated)));
            if stop {
                break;
            }
        }
        out
    }

    fn ok(text: &str) -> Result<(String, bool), FramingError> {
        Ok((text.to_owned(), false))
    }

    #[test]
    fn octet_counting_lf_and_both_mixed_on_one_stream() {
        let mut framer = Framer::new(8192);
        // rsyslog's octet count includes the LF it appends.
        framer.push(b"<38>first line\n16 <38>second line\n<38>third\n");
        assert_eq!(
            frames(&mut framer),
            [ok("<38>first line"), ok("<38>second line"), ok("<38>third")]
        );
        assert_eq!(framer.finish(), 0);
    }

    #[test]
    fn frames_split_across_reads_come_out_whole() {
        let mut framer = Framer::new(8192);
        let stream = b"12 <34>abcdefg\n<34>line two\r\n";
        for byte in stream {
            framer.push(&[*byte]);
        }
        assert_eq!(frames(&mut framer), [ok("<34>abcdefg"), ok("<34>line two")]);
    }

    #[test]
    fn bad_counts_close_the_stream_without_allocating() {
        let mut absurd = Framer::new(8192);
        absurd.push(b"99999999999 <34>x");
        assert_eq!(frames(&mut absurd), [Err(FramingError::BadCount)]);
        let mut big = Framer::new(8192);
        big.push(b"9000 <34>x");
        assert_eq!(
            frames(&mut big),
            [Err(FramingError::TooLong { announced: 9000 })]
        );
        let mut zeros = Framer::new(8192);
        zeros.push(b"000012 <34>abc");
        assert_eq!(frames(&mut zeros), [Err(FramingError::BadCount)]);
    }

    #[test]
    fn a_short_frame_at_close_is_counted_not_stored() {
        let mut framer = Framer::new(8192);
        framer.push(b"12 <34>abc");
        assert_eq!(frames(&mut framer), []);
        assert_eq!(framer.finish(), 10);
    }

    #[test]
    fn an_overlong_line_is_cut_and_the_next_one_read_intact() {
        let mut framer = Framer::new(16);
        framer.push(&[b'x'; 100]);
        framer.push(b"\n<34>next\n");
        let got = frames(&mut framer);
        assert_eq!(got, [Ok(("x".repeat(16), true)), ok("<34>next")]);
    }

    #[test]
    fn a_digit_led_line_without_a_count_is_a_line() {
        let mut framer = Framer::new(8192);
        framer.push(b"2026-12-03T10:00:00Z host sshd: hello\n");
        assert_eq!(
            frames(&mut framer),
            [ok("2026-12-03T10:00:00Z host sshd: hello")]
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut state: u64 = 7;
        for _ in 0..2000 {
            let mut framer = Framer::new(64);
            for _ in 0..20 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let byte =
                    [b'1', b'0', b' ', b'\n', b'x', b'9', b'\r', 0xff][(state >> 61) as usize];
                framer.push(&[byte]);
                while let Some(frame) = framer.next_frame() {
                    match frame {
                        Ok(frame) => assert!(frame.bytes.len() <= 64),
                        Err(_) => break,
                    }
                }
            }
        }
    }
}
