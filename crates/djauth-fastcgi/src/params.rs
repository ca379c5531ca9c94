//! Name-value pairs: the PARAMS stream and the bodies of GET_VALUES records.

use std::fmt;
use std::ops::Range;

use zeroize::Zeroizing;

use crate::error::ProtocolError;

/// Parameters of one request; values are raw bytes; the backing buffer is
/// zeroized on drop (it holds REMOTE_PASSWD).
///
/// Names and values are kept as received, without decoding. Names are
/// compared byte for byte. If a name occurs more than once, [`Params::get`]
/// returns the first occurrence and [`Params::iter`] yields all of them.
/// `Debug` shows names and value lengths, never values.
pub struct Params {
    /// The raw bytes the ranges in `entries` point into.
    buf: Zeroizing<Vec<u8>>,
    entries: Vec<Entry>,
}

struct Entry {
    name: Range<usize>,
    value: Range<usize>,
}

impl Params {
    /// The value of the first parameter called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| *n == name.as_bytes())
            .map(|(_, v)| v)
    }

    /// Number of name-value pairs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All pairs, in the order received.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries
            .iter()
            .map(|e| (self.slice(e.name.clone()), self.slice(e.value.clone())))
    }

    /// Builds parameters from pairs, e.g. to test code that consumes
    /// [`Params`] without going through the wire format.
    pub fn from_pairs<I, N, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        let mut buf = Zeroizing::new(Vec::new());
        let mut entries = Vec::new();
        for (name, value) in pairs {
            let name_start = buf.len();
            grow_zeroizing(&mut buf, name.as_ref());
            let value_start = buf.len();
            grow_zeroizing(&mut buf, value.as_ref());
            entries.push(Entry {
                name: name_start..value_start,
                value: value_start..buf.len(),
            });
        }
        Params { buf, entries }
    }

    fn slice(&self, range: Range<usize>) -> &[u8] {
        // Ranges are checked against the buffer when they are made.
        self.buf.get(range).unwrap_or_default()
    }
}

/// Appends `data` to a zeroizing buffer so that no copy of the old contents
/// is left behind in freed memory when the buffer has to move.
fn grow_zeroizing(buf: &mut Zeroizing<Vec<u8>>, data: &[u8]) {
    let needed = buf.len().saturating_add(data.len());
    if needed > buf.capacity() {
        let mut grown = Vec::with_capacity(needed.max(buf.capacity().saturating_mul(2)));
        grown.extend_from_slice(buf);
        // The old buffer is zeroized when the replaced value is dropped.
        *buf = Zeroizing::new(grown);
    }
    buf.extend_from_slice(data);
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Redacted(usize);
        impl fmt::Debug for Redacted {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "<{} bytes>", self.0)
            }
        }
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(n, v)| (String::from_utf8_lossy(n), Redacted(v.len()))),
            )
            .finish()
    }
}

impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Params {}

/// Accumulates one request's PARAMS stream, within a byte limit, in a buffer
/// that is zeroized on drop and whenever it is reallocated.
pub(crate) struct ParamsBuilder {
    buf: Zeroizing<Vec<u8>>,
    limit: usize,
}

impl ParamsBuilder {
    pub(crate) fn new(limit: usize) -> Self {
        ParamsBuilder {
            buf: Zeroizing::new(Vec::new()),
            limit,
        }
    }

    /// Makes room for `additional` more bytes, or fails if that would pass
    /// the limit. Never allocates more than the limit.
    pub(crate) fn reserve(
        &mut self,
        request_id: u16,
        additional: usize,
    ) -> Result<(), ProtocolError> {
        let needed = self
            .buf
            .len()
            .checked_add(additional)
            .filter(|&n| n <= self.limit)
            .ok_or(ProtocolError::ParamsTooLarge {
                request_id,
                limit: self.limit,
            })?;
        if needed > self.buf.capacity() {
            let new_capacity = self
                .buf
                .capacity()
                .saturating_mul(2)
                .min(self.limit)
                .max(needed);
            let mut grown = Vec::with_capacity(new_capacity);
            grown.extend_from_slice(&self.buf);
            // The old buffer is zeroized when the replaced value is dropped.
            self.buf = Zeroizing::new(grown);
        }
        Ok(())
    }

    /// Appends bytes previously made room for with [`ParamsBuilder::reserve`].
    pub(crate) fn append(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes of memory held.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Splits the stream into pairs.
    pub(crate) fn finish(self, request_id: u16, max_pairs: usize) -> Result<Params, ProtocolError> {
        let mut entries = Vec::new();
        let mut pos = 0;
        while pos < self.buf.len() {
            if entries.len() >= max_pairs {
                return Err(ProtocolError::TooManyPairs {
                    request_id,
                    limit: max_pairs,
                });
            }
            let (name, value) = read_pair(&self.buf, pos, "PARAMS")?;
            pos = value.end;
            entries.push(Entry { name, value });
        }
        Ok(Params {
            buf: self.buf,
            entries,
        })
    }
}

/// Reads the name-value pair starting at `pos`; returns the ranges of name
/// and value. The value's end is where the next pair starts.
pub(crate) fn read_pair(
    buf: &[u8],
    pos: usize,
    stream: &'static str,
) -> Result<(Range<usize>, Range<usize>), ProtocolError> {
    let malformed = ProtocolError::MalformedNameValue {
        stream,
        offset: pos,
    };
    let (name_len, after) = read_length(buf, pos).ok_or_else(|| malformed.clone())?;
    let (value_len, name_start) = read_length(buf, after).ok_or_else(|| malformed.clone())?;
    let name_end = name_start
        .checked_add(name_len)
        .ok_or_else(|| malformed.clone())?;
    let value_end = name_end
        .checked_add(value_len)
        .filter(|&end| end <= buf.len())
        .ok_or(malformed)?;
    Ok((name_start..name_end, name_end..value_end))
}

/// Reads a 1-byte (high bit clear) or 4-byte (high bit set) length at
/// `pos`; returns it and the position after it.
fn read_length(buf: &[u8], pos: usize) -> Option<(usize, usize)> {
    let first = *buf.get(pos)?;
    if first & 0x80 == 0 {
        return Some((usize::from(first), pos.checked_add(1)?));
    }
    let end = pos.checked_add(4)?;
    let bytes: [u8; 4] = buf.get(pos..end)?.try_into().ok()?;
    let len = u32::from_be_bytes(bytes) & 0x7fff_ffff;
    Some((usize::try_from(len).ok()?, end))
}

/// Appends a pair whose name and value are both shorter than 128 bytes
/// (1-byte lengths). Only used for the constant names and values of
/// GET_VALUES_RESULT.
pub(crate) fn push_short_pair(out: &mut Vec<u8>, name: &str, value: &str) {
    let (Ok(name_len @ 0..=127), Ok(value_len @ 0..=127)) =
        (u8::try_from(name.len()), u8::try_from(value.len()))
    else {
        return;
    };
    out.push(name_len);
    out.push(value_len);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(value.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::nv;

    fn parse(stream: &[u8], max_pairs: usize) -> Result<Params, ProtocolError> {
        let mut b = ParamsBuilder::new(stream.len());
        b.reserve(1, stream.len())?;
        b.append(stream);
        b.finish(1, max_pairs)
    }

    #[test]
    fn short_and_long_lengths() {
        let long = vec![b'v'; 300];
        let mut stream = nv(b"A", b"1");
        stream.extend(nv(b"LONG", &long));
        // A short length in the 4-byte form is legal too.
        stream.extend_from_slice(&[0x80, 0, 0, 2, 0x80, 0, 0, 3]);
        stream.extend_from_slice(b"BBxyz");
        stream.extend(nv(b"EMPTY", b""));
        let p = parse(&stream, 10).unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(p.get("A"), Some(&b"1"[..]));
        assert_eq!(p.get("LONG"), Some(&long[..]));
        assert_eq!(p.get("BB"), Some(&b"xyz"[..]));
        assert_eq!(p.get("EMPTY"), Some(&b""[..]));
        assert_eq!(p.get("missing"), None);
        let names: Vec<&[u8]> = p.iter().map(|(n, _)| n).collect();
        assert_eq!(names, [&b"A"[..], b"LONG", b"BB", b"EMPTY"]);
    }

    #[test]
    fn empty_stream_is_empty_params() {
        let p = parse(&[], 0).unwrap();
        assert!(p.is_empty());
        assert_eq!(p.len(), 0);
    }

    #[test]
    fn first_duplicate_wins() {
        let mut stream = nv(b"X", b"first");
        stream.extend(nv(b"X", b"second"));
        let p = parse(&stream, 10).unwrap();
        assert_eq!(p.get("X"), Some(&b"first"[..]));
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn malformed_lengths() {
        for bad in [
            &[0x80][..],                            // 4-byte name length cut short
            &[1][..],                               // value length missing
            &[1, 0x80, 0, 0][..],                   // 4-byte value length cut short
            &[1, 1, b'a'][..],                      // value missing
            &[5, 0, b'a', b'b'][..],                // name runs past the end
            &[0xff, 0xff, 0xff, 0xff, 0, 1, 2][..], // 2 GiB name
            &[0, 0xff, 0xff, 0xff, 0xff][..],       // 2 GiB value
        ] {
            assert!(
                matches!(
                    parse(bad, 10),
                    Err(ProtocolError::MalformedNameValue {
                        stream: "PARAMS",
                        offset: 0
                    })
                ),
                "{bad:?}"
            );
        }
        let mut stream = nv(b"OK", b"1");
        stream.push(3);
        assert_eq!(
            parse(&stream, 10).unwrap_err(),
            ProtocolError::MalformedNameValue {
                stream: "PARAMS",
                offset: 5
            }
        );
    }

    #[test]
    fn pair_limit() {
        let stream: Vec<u8> = (0..5).flat_map(|_| nv(b"N", b"V")).collect();
        assert_eq!(parse(&stream, 5).unwrap().len(), 5);
        assert_eq!(
            parse(&stream, 4).unwrap_err(),
            ProtocolError::TooManyPairs {
                request_id: 1,
                limit: 4
            }
        );
    }

    #[test]
    fn builder_respects_limit_and_capacity() {
        let mut b = ParamsBuilder::new(100);
        b.reserve(7, 60).unwrap();
        b.append(&[0; 60]);
        b.reserve(7, 40).unwrap();
        b.append(&[0; 40]);
        assert!(b.capacity() <= 100);
        assert_eq!(
            b.reserve(7, 1).unwrap_err(),
            ProtocolError::ParamsTooLarge {
                request_id: 7,
                limit: 100
            }
        );
        let mut b = ParamsBuilder::new(usize::MAX);
        b.append(&[]);
        assert!(b.reserve(1, 1).is_ok());
        b.append(&[0]);
        assert!(b.reserve(1, usize::MAX).is_err());
    }

    #[test]
    fn from_pairs_and_debug_hides_values() {
        let p = Params::from_pairs([("REMOTE_USER", &b"alice"[..]), ("REMOTE_PASSWD", b"s3cret")]);
        assert_eq!(p.get("REMOTE_PASSWD"), Some(&b"s3cret"[..]));
        let shown = format!("{p:?}");
        assert!(shown.contains("REMOTE_PASSWD"), "{shown}");
        assert!(shown.contains("<6 bytes>"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown.contains("alice"), "{shown}");
    }

    #[test]
    fn short_pair_encoding() {
        let mut out = Vec::new();
        push_short_pair(&mut out, "FCGI_MPXS_CONNS", "0");
        assert_eq!(out, nv(b"FCGI_MPXS_CONNS", b"0"));
        let mut out = Vec::new();
        push_short_pair(&mut out, &"x".repeat(128), "0");
        assert!(out.is_empty());
    }
}
