//! Messages and their binary encoding.
//!
//! A frame is a 4-byte big-endian payload length, then the payload: the
//! protocol version byte ([`VERSION`]), a message tag byte, then the
//! message's fields in order. Text and byte fields are a 2-byte big-endian
//! length and the bytes; a user id is 8 bytes big-endian (two's complement)
//! and a reuse time 4 bytes big-endian;
//! a group list is a 2-byte count, then each name as a text field. A frame
//! longer than [`MAX_FRAME`] is refused before it is read, and decoding
//! never panics: any byte string gives a message or a [`WireError`].

use std::fmt;

use zeroize::Zeroizing;

/// The protocol version both sides must speak.
pub const VERSION: u8 = 2;
/// Largest payload accepted (and sent): 64 KiB.
pub const MAX_FRAME: usize = 64 * 1024;
/// Bytes of the length prefix.
pub const HEADER_LEN: usize = 4;

const TAG_AUTHENTICATE: u8 = 0x01;
const TAG_AUTHORIZE: u8 = 0x02;
const TAG_PING: u8 = 0x03;
const TAG_GRANTED: u8 = 0x81;
const TAG_NOT_FOUND: u8 = 0x82;
const TAG_DENIED: u8 = 0x83;
const TAG_ERROR: u8 = 0x84;
const TAG_PONG: u8 = 0x85;

/// A question from the web server.
#[derive(Clone, PartialEq, Eq)]
pub enum Request {
    /// Check a password, then the requirement.
    Authenticate {
        /// The site's name in the daemon's configuration; empty = the only site.
        site: String,
        /// The username exactly as the client sent it.
        user: Vec<u8>,
        /// The password exactly as the client sent it; wiped when dropped.
        password: Zeroizing<Vec<u8>>,
        /// A requirement in djauth's vocabulary, e.g. `valid-user`.
        requirement: String,
    },
    /// Check the requirement for an already authenticated user.
    Authorize {
        /// The site's name; empty = the only site.
        site: String,
        /// The authenticated username.
        user: Vec<u8>,
        /// A requirement in djauth's vocabulary.
        requirement: String,
    },
    /// Is the daemon there?
    Ping,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Authenticate {
                site,
                user,
                requirement,
                ..
            } => f
                .debug_struct("Authenticate")
                .field("site", site)
                .field("user", &String::from_utf8_lossy(user))
                .field("password", &"<hidden>")
                .field("requirement", requirement)
                .finish(),
            Request::Authorize {
                site,
                user,
                requirement,
            } => f
                .debug_struct("Authorize")
                .field("site", site)
                .field("user", &String::from_utf8_lossy(user))
                .field("requirement", requirement)
                .finish(),
            Request::Ping => f.write_str("Ping"),
        }
    }
}

/// The daemon's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Let the request through, as this stored user.
    Granted {
        /// The username as stored in Django's database.
        username: String,
        /// The user's primary key.
        user_id: i64,
        /// The user's group names.
        groups: Vec<String>,
        /// For how many milliseconds the client may give the same answer to
        /// the same question without asking (0: ask every time).
        reuse_ms: u32,
    },
    /// No such user: the web server may try its next provider.
    NotFound,
    /// Refused (wrong password, inactive user, requirement not met, ...).
    Denied {
        /// A short word for logs, e.g. `wrong-password`.
        reason: String,
    },
    /// The daemon could not decide (database down, bad site name, ...).
    Error {
        /// What went wrong, for the web server's error log.
        message: String,
    },
    /// The answer to [`Request::Ping`].
    Pong,
}

/// Bytes that are not a valid message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The frame announces more than [`MAX_FRAME`] bytes.
    TooLarge(usize),
    /// The payload speaks another protocol version.
    Version(u8),
    /// The message tag is unknown (or a reply where a request was expected).
    Tag(u8),
    /// The payload ended inside a field.
    Truncated,
    /// Bytes are left after the message.
    Trailing,
    /// A text field is not UTF-8.
    NotUtf8,
    /// A field is longer than its length prefix can say.
    FieldTooLong,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::TooLarge(n) => write!(f, "frame of {n} bytes exceeds {MAX_FRAME}"),
            WireError::Version(v) => {
                write!(
                    f,
                    "protocol version {v}, expected {VERSION} (upgrade both sides together)"
                )
            }
            WireError::Tag(t) => write!(f, "unknown message tag 0x{t:02x}"),
            WireError::Truncated => f.write_str("message truncated"),
            WireError::Trailing => f.write_str("trailing bytes after the message"),
            WireError::NotUtf8 => f.write_str("text field is not UTF-8"),
            WireError::FieldTooLong => f.write_str("field longer than 65535 bytes"),
        }
    }
}

impl std::error::Error for WireError {}

/// The payload length announced by a frame header, checked against [`MAX_FRAME`].
pub fn frame_len(header: [u8; HEADER_LEN]) -> Result<usize, WireError> {
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_FRAME {
        Err(WireError::TooLarge(len))
    } else {
        Ok(len)
    }
}

/// Builds one frame; the buffer is wiped when dropped (it may hold a password).
struct Writer(Zeroizing<Vec<u8>>);

impl Writer {
    /// A frame with room for small fields.
    fn new(tag: u8) -> Writer {
        Writer::for_fields(tag, &[])
    }
    /// A frame sized for `fields` (and a little more), so that writing them
    /// never moves the buffer and leaves an unwiped copy of a password behind.
    fn for_fields(tag: u8, fields: &[&[u8]]) -> Writer {
        let room = fields.iter().map(|f| 2 + f.len()).sum::<usize>();
        let mut buf = Zeroizing::new(Vec::with_capacity(HEADER_LEN + 2 + room + 64));
        buf.extend_from_slice(&[0, 0, 0, 0, VERSION, tag]);
        Writer(buf)
    }
    fn bytes(&mut self, value: &[u8]) -> Result<(), WireError> {
        let len = u16::try_from(value.len()).map_err(|_| WireError::FieldTooLong)?;
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(value);
        Ok(())
    }
    fn finish(mut self) -> Result<Zeroizing<Vec<u8>>, WireError> {
        let payload = self.0.len() - HEADER_LEN;
        if payload > MAX_FRAME {
            return Err(WireError::TooLarge(payload));
        }
        let len = u32::try_from(payload).map_err(|_| WireError::TooLarge(payload))?;
        self.0[..HEADER_LEN].copy_from_slice(&len.to_be_bytes());
        Ok(self.0)
    }
}

/// Reads fields off a payload.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.0.len() < n {
            return Err(WireError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn byte(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.u16()? as usize;
        self.take(len)
    }
    fn text(&mut self) -> Result<String, WireError> {
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| WireError::NotUtf8)
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> Result<i64, WireError> {
        let b = self.take(8)?;
        let mut array = [0u8; 8];
        array.copy_from_slice(b);
        Ok(i64::from_be_bytes(array))
    }
    /// The version byte and the tag.
    fn start(&mut self) -> Result<u8, WireError> {
        let version = self.byte()?;
        if version != VERSION {
            return Err(WireError::Version(version));
        }
        self.byte()
    }
    fn end(&self) -> Result<(), WireError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(WireError::Trailing)
        }
    }
}

impl Request {
    /// The whole frame, length prefix included; wiped when dropped.
    pub fn encode(&self) -> Result<Zeroizing<Vec<u8>>, WireError> {
        match self {
            Request::Authenticate {
                site,
                user,
                password,
                requirement,
            } => {
                let fields = [site.as_bytes(), user, password, requirement.as_bytes()];
                let mut w = Writer::for_fields(TAG_AUTHENTICATE, &fields);
                for field in fields {
                    w.bytes(field)?;
                }
                w.finish()
            }
            Request::Authorize {
                site,
                user,
                requirement,
            } => {
                let mut w = Writer::new(TAG_AUTHORIZE);
                w.bytes(site.as_bytes())?;
                w.bytes(user)?;
                w.bytes(requirement.as_bytes())?;
                w.finish()
            }
            Request::Ping => Writer::new(TAG_PING).finish(),
        }
    }

    /// Parses a payload (the bytes after the length prefix).
    pub fn decode(payload: &[u8]) -> Result<Request, WireError> {
        let mut r = Reader(payload);
        let request = match r.start()? {
            TAG_AUTHENTICATE => Request::Authenticate {
                site: r.text()?,
                user: r.bytes()?.to_vec(),
                password: Zeroizing::new(r.bytes()?.to_vec()),
                requirement: r.text()?,
            },
            TAG_AUTHORIZE => Request::Authorize {
                site: r.text()?,
                user: r.bytes()?.to_vec(),
                requirement: r.text()?,
            },
            TAG_PING => Request::Ping,
            tag => return Err(WireError::Tag(tag)),
        };
        r.end()?;
        Ok(request)
    }
}

impl Reply {
    /// The whole frame, length prefix included.
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let frame = match self {
            Reply::Granted {
                username,
                user_id,
                groups,
                reuse_ms,
            } => {
                let mut w = Writer::new(TAG_GRANTED);
                w.bytes(username.as_bytes())?;
                w.0.extend_from_slice(&user_id.to_be_bytes());
                let count = u16::try_from(groups.len()).map_err(|_| WireError::FieldTooLong)?;
                w.0.extend_from_slice(&count.to_be_bytes());
                for group in groups {
                    w.bytes(group.as_bytes())?;
                }
                w.0.extend_from_slice(&reuse_ms.to_be_bytes());
                w.finish()?
            }
            Reply::NotFound => Writer::new(TAG_NOT_FOUND).finish()?,
            Reply::Denied { reason } => {
                let mut w = Writer::new(TAG_DENIED);
                w.bytes(reason.as_bytes())?;
                w.finish()?
            }
            Reply::Error { message } => {
                let mut w = Writer::new(TAG_ERROR);
                w.bytes(message.as_bytes())?;
                w.finish()?
            }
            Reply::Pong => Writer::new(TAG_PONG).finish()?,
        };
        Ok(frame.to_vec())
    }

    /// Parses a payload (the bytes after the length prefix).
    pub fn decode(payload: &[u8]) -> Result<Reply, WireError> {
        let mut r = Reader(payload);
        let reply = match r.start()? {
            TAG_GRANTED => {
                let username = r.text()?;
                let user_id = r.i64()?;
                let count = r.u16()?;
                let mut groups = Vec::new();
                for _ in 0..count {
                    groups.push(r.text()?);
                }
                Reply::Granted {
                    username,
                    user_id,
                    groups,
                    reuse_ms: r.u32()?,
                }
            }
            TAG_NOT_FOUND => Reply::NotFound,
            TAG_DENIED => Reply::Denied { reason: r.text()? },
            TAG_ERROR => Reply::Error { message: r.text()? },
            TAG_PONG => Reply::Pong,
            tag => return Err(WireError::Tag(tag)),
        };
        r.end()?;
        Ok(reply)
    }
}

/// Group names joined with commas; `%`, `,` and control characters in a
/// name are percent-encoded so the list can always be split again. This is
/// the `DJANGO_GROUPS` value every front door hands to the web server.
pub fn encode_groups(groups: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, group) in groups.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        for &byte in group.as_bytes() {
            if byte == b'%' || byte == b',' || byte < 0x20 || byte == 0x7f {
                out.extend_from_slice(format!("%{byte:02X}").as_bytes());
            } else {
                out.push(byte);
            }
        }
    }
    out
}
