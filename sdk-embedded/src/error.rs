//! The decode error of the crate: a kind a caller can match on, the place in the message at
//! fault (`payloads[0].size`, kept without allocation) and the byte offset.

use core::fmt;

use heapless::Vec;

use crate::ErrorKind;
use crate::json::{JsonError, Reader};

/// One step of a [`Place`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// A key of an object, by its canonical name.
    Key(&'static str),
    /// An item of an array.
    Index(usize),
}

/// The most segments a [`Place`] keeps; deeper places keep their outermost segments.
pub const MAX_PLACE_DEPTH: usize = 4;

/// A place in a message, such as `payloads[0].size`; empty for the whole message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    segments: Vec<Segment, MAX_PLACE_DEPTH>,
}

impl Place {
    /// The segments from the outside in.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Key(name) if i == 0 => f.write_str(name)?,
                Segment::Key(name) => write!(f, ".{name}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Where, with canonical key names.
    pub at: Place,
    /// Byte offset in the message where the decoder stopped.
    pub offset: usize,
    /// A few words for people: what was expected, or the capacity that was exceeded.
    pub detail: &'static str,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.at.segments.is_empty() {
            write!(f, "{}: ", self.at)?;
        }
        write!(
            f,
            "{} ({}, at byte {})",
            self.detail,
            self.kind.as_str(),
            self.offset
        )
    }
}

impl core::error::Error for DecodeError {}

impl DecodeError {
    /// The error to report for `body`: a message that is not well-formed JSON is `not_json`
    /// whatever else is wrong with it, as in every SDK. The decoder streams and may meet
    /// another fault first, so on that (rare) path the whole body is checked once more.
    pub fn or_not_json(self, body: &[u8]) -> DecodeError {
        if self.kind == ErrorKind::NotJson {
            return self;
        }
        let mut reader = Reader::new(body);
        match reader.skip_value().and_then(|()| reader.end()) {
            Err(error @ JsonError::Syntax { .. }) => At::Root.json_error(error),
            _ => self,
        }
    }
}

/// A place in a message while decoding: a chain on the stack, turned into a [`Place`] only
/// when an error is reported. The generated decoders build it.
#[derive(Clone, Copy)]
pub enum At<'a> {
    /// The whole message.
    Root,
    /// A key of an object.
    Key(&'a At<'a>, &'static str),
    /// An item of an array.
    Index(&'a At<'a>, usize),
}

impl<'a> At<'a> {
    /// The key `name` of the object at `self`.
    pub fn key(&'a self, name: &'static str) -> At<'a> {
        At::Key(self, name)
    }

    /// The item `index` of the array at `self`.
    pub fn index(&'a self, index: usize) -> At<'a> {
        At::Index(self, index)
    }

    fn place(&self) -> Place {
        // The chain runs from the innermost segment out: keep the outermost
        // MAX_PLACE_DEPTH segments (skip the innermost ones beyond), then put them outside in.
        let mut depth = 0usize;
        let mut at = self;
        while let At::Key(parent, _) | At::Index(parent, _) = at {
            depth += 1;
            at = parent;
        }
        let mut skip = depth.saturating_sub(MAX_PLACE_DEPTH);
        let mut segments: Vec<Segment, MAX_PLACE_DEPTH> = Vec::new();
        let mut at = self;
        loop {
            let (segment, parent) = match at {
                At::Root => break,
                At::Key(parent, name) => (Segment::Key(name), parent),
                At::Index(parent, index) => (Segment::Index(*index), parent),
            };
            if skip > 0 {
                skip -= 1;
            } else {
                // Cannot fail: at most MAX_PLACE_DEPTH segments are left after the skipped ones.
                let _ = segments.push(segment);
            }
            at = parent;
        }
        segments.reverse();
        Place { segments }
    }

    /// An error of `kind` at this place.
    pub fn error(&self, kind: ErrorKind, offset: usize, detail: &'static str) -> DecodeError {
        DecodeError {
            kind,
            at: self.place(),
            offset,
            detail,
        }
    }

    /// The error for a value of this place that the JSON reader refused.
    pub fn json_error(&self, error: JsonError) -> DecodeError {
        match error {
            // A syntax error spoils the whole message, not one key: it is reported at the
            // root, with the offset telling where.
            JsonError::Syntax { offset } => {
                At::Root.error(ErrorKind::NotJson, offset, "not well-formed JSON")
            }
            JsonError::WrongType { expected, offset } => {
                self.error(ErrorKind::WrongType, offset, expected)
            }
            JsonError::TooLong { offset, .. } => self.error(
                ErrorKind::OverCapacity,
                offset,
                "longer than its capacity in this SDK",
            ),
            JsonError::TooDeep { offset } => self.error(
                ErrorKind::OverCapacity,
                offset,
                "nested deeper than this SDK allows",
            ),
        }
    }

    /// Like [`json_error`](Self::json_error), for a value that must be a structure: another
    /// JSON type is `not_object` for the whole message and `wrong_type` inside it.
    pub fn structure_error(&self, error: JsonError) -> DecodeError {
        match (self, error) {
            (At::Root, JsonError::WrongType { offset, .. }) => {
                self.error(ErrorKind::NotObject, offset, "expected an object")
            }
            (_, other) => self.json_error(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_keep_their_outermost_segments() {
        let root = At::Root;
        let a = root.key("a");
        let b = a.index(1);
        let c = b.key("c");
        assert_eq!(
            c.error(ErrorKind::BadValue, 0, "").at.segments(),
            [Segment::Key("a"), Segment::Index(1), Segment::Key("c")]
        );
        let d = c.key("d");
        let e = d.index(5);
        let f = e.key("f");
        assert_eq!(
            f.error(ErrorKind::BadValue, 0, "").at.segments(),
            [
                Segment::Key("a"),
                Segment::Index(1),
                Segment::Key("c"),
                Segment::Key("d")
            ]
        );
        assert!(
            root.error(ErrorKind::BadValue, 0, "")
                .at
                .segments()
                .is_empty()
        );
    }
}
