//! The RFC 6587 framer against arbitrary streams, read in arbitrary pieces.
//!
//! The first input byte is the frame limit (0 to 255, small enough that cutting is common),
//! the second seeds the sizes of the reads (0 to 16 bytes each), and the rest is the stream.
//! Checked:
//! - the frames, the error that ends them and the bytes left at close are the same whether
//!   the stream arrives in one read or in pieces;
//! - no frame is longer than the limit, and a truncated one is exactly the limit;
//! - every frame is a contiguous piece of the stream, and frames come in stream order;
//! - once the framer reports an error, asking again without new input gives no frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opsportal_logparse::framing::{Frame, Framer, FramingError};

/// What a connection yields: its frames, the error that closed it, and the bytes discarded
/// at its end when no error did.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    frames: Vec<Frame>,
    error: Option<FramingError>,
    discarded: Option<usize>,
}

/// Feeds the stream in the given pieces, draining frames after each read, and stops at the
/// first error as a server closing the connection would.
fn read(max_len: usize, pieces: &[&[u8]]) -> Outcome {
    let mut framer = Framer::new(max_len);
    let mut frames = Vec::new();
    for piece in pieces {
        framer.push(piece);
        while let Some(next) = framer.next_frame() {
            match next {
                Ok(frame) => frames.push(frame),
                Err(error) => {
                    for _ in 0..3 {
                        assert!(
                            !matches!(framer.next_frame(), Some(Ok(_))),
                            "a frame after {error:?} without new input"
                        );
                    }
                    return Outcome {
                        frames,
                        error: Some(error),
                        discarded: None,
                    };
                }
            }
        }
    }
    Outcome {
        frames,
        error: None,
        discarded: Some(framer.finish()),
    }
}

/// Cuts the stream into reads of 0 to 16 bytes, sized by a xorshift sequence from `seed`.
fn pieces(stream: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut state = u32::from(seed) | 0x9e37_7900;
    let mut rest = stream;
    let mut out = Vec::new();
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let size = ((state % 17) as usize).min(rest.len());
        let (piece, tail) = rest.split_at(size);
        out.push(piece);
        rest = tail;
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fuzz_target!(|data: &[u8]| {
    let [limit, seed, stream @ ..] = data else {
        return;
    };
    let max_len = usize::from(*limit);

    let whole = read(max_len, &[stream]);
    let split = read(max_len, &pieces(stream, *seed));
    assert_eq!(whole, split, "one read and many reads disagree");

    let mut cursor = 0;
    for frame in &whole.frames {
        assert!(frame.bytes.len() <= max_len, "{frame:?} over {max_len}");
        if frame.truncated {
            assert_eq!(frame.bytes.len(), max_len, "{frame:?} cut short");
        }
        let at = find(&stream[cursor..], &frame.bytes).unwrap_or_else(|| {
            panic!("{frame:?} is not in the stream after byte {cursor}");
        });
        cursor += at + frame.bytes.len();
    }
    if let Some(discarded) = whole.discarded {
        assert!(discarded <= stream.len() - cursor.min(stream.len()));
    }
});
