//! The incremental decoder for one transport connection.

use crate::error::ProtocolError;
use crate::params::{ParamsBuilder, push_short_pair, read_pair};
use crate::record::{
    ABORT_REQUEST, BEGIN_REQUEST, DATA, FLAG_KEEP_CONN, GET_VALUES, GET_VALUES_RESULT, HEADER_LEN,
    Header, MAX_CONTENT_LEN, PARAMS, STDIN, UNKNOWN_TYPE, VERSION_1, push_records,
};
use crate::response::{ProtocolStatus, encode_end_request};
use crate::{Event, Limits, Request, Role};

/// Upper bound on the bytes a [`Connection`] holds for record framing: one
/// header plus one record body (GET_VALUES bodies are parsed whole). The
/// PARAMS of the request being received come on top, bounded by
/// [`Limits::max_params_bytes`]; see [`Connection::buffered_bytes`].
pub const MAX_RECORD_BUFFER: usize = HEADER_LEN + MAX_CONTENT_LEN;

/// Value answered for `FCGI_MAX_CONNS` in GET_VALUES_RESULT. The daemon
/// bounds its connections itself; this only informs a web server that asks.
pub const VALUE_MAX_CONNS: &str = "1024";
/// Value answered for `FCGI_MAX_REQS` in GET_VALUES_RESULT (one request per
/// connection, so the same as [`VALUE_MAX_CONNS`]).
pub const VALUE_MAX_REQS: &str = "1024";
/// `FCGI_MPXS_CONNS`: this codec does not multiplex.
const VALUE_MPXS_CONNS: &str = "0";

/// How many recently finished or refused request ids are remembered, so
/// that records the web server sent for them before it saw our reply are
/// skipped instead of treated as errors.
const RETIRED_SLOTS: usize = 8;

/// Incremental decoder for one connection (sans-IO): feed bytes as they
/// arrive, get events.
///
/// One request is received at a time. A BEGIN_REQUEST for another id while a
/// request's PARAMS are still arriving is answered with END_REQUEST
/// CANT_MPX_CONN; a BEGIN_REQUEST with a role other than AUTHORIZER with
/// END_REQUEST UNKNOWN_ROLE. Once a request is delivered as
/// [`Event::Request`], the decoder accepts the next BEGIN_REQUEST (keep-conn);
/// the caller answers events in the order they come. STDIN and DATA contents
/// are discarded. Management records (request id 0) are answered: GET_VALUES
/// with the variables asked for among `FCGI_MAX_CONNS`, `FCGI_MAX_REQS` and
/// `FCGI_MPXS_CONNS`, any other type with UNKNOWN_TYPE.
pub struct Connection {
    limits: Limits,
    header: [u8; HEADER_LEN],
    header_filled: usize,
    phase: Phase,
    /// Body of the current BEGIN_REQUEST or GET_VALUES record.
    scratch: Vec<u8>,
    /// The request whose PARAMS are being received.
    receiving: Option<Receiving>,
    /// Ring of recently delivered, aborted or refused request ids (0 = empty slot).
    retired: [u16; RETIRED_SLOTS],
    retired_next: usize,
    /// Set by the first error; every later call returns it.
    failed: Option<ProtocolError>,
}

enum Phase {
    Header,
    Content {
        kind: Kind,
        request_id: u16,
        remaining: usize,
        padding: usize,
    },
    Padding {
        remaining: usize,
    },
}

/// What to do with the content of the current record, decided from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Begin,
    Abort,
    Params,
    ParamsEnd,
    GetValues,
    UnknownManagement(u8),
    Discard,
}

struct Receiving {
    id: u16,
    keep_conn: bool,
    params: ParamsBuilder,
}

impl Connection {
    /// A decoder for a fresh connection.
    pub fn new(limits: Limits) -> Self {
        Connection {
            limits,
            header: [0; HEADER_LEN],
            header_filled: 0,
            phase: Phase::Header,
            scratch: Vec::new(),
            receiving: None,
            retired: [0; RETIRED_SLOTS],
            retired_next: 0,
            failed: None,
        }
    }

    /// Decodes `data`, the next bytes read from the connection, and returns
    /// what they completed, in order.
    ///
    /// After an `Err`, the caller closes the connection: the error is sticky
    /// (later calls return it again), and events completed earlier in the
    /// same call are dropped.
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<Event>, ProtocolError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let mut events = Vec::new();
        match self.decode(data, &mut events) {
            Ok(()) => Ok(events),
            Err(error) => {
                self.failed = Some(error.clone());
                self.receiving = None;
                self.scratch = Vec::new();
                Err(error)
            }
        }
    }

    /// To be called at end of file: an error if a record or a request was
    /// only partly received (or if an earlier call failed).
    pub fn finish(&self) -> Result<(), ProtocolError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        if self.header_filled > 0 || !matches!(self.phase, Phase::Header) {
            return Err(ProtocolError::TruncatedRecord);
        }
        if let Some(request) = &self.receiving {
            return Err(ProtocolError::TruncatedRequest {
                request_id: request.id,
            });
        }
        Ok(())
    }

    /// Bytes of memory the decoder currently holds for buffering. Never more
    /// than [`MAX_RECORD_BUFFER`] + [`Limits::max_params_bytes`].
    pub fn buffered_bytes(&self) -> usize {
        HEADER_LEN
            + self.scratch.capacity()
            + self
                .receiving
                .as_ref()
                .map_or(0, |request| request.params.capacity())
    }

    fn decode(&mut self, mut input: &[u8], events: &mut Vec<Event>) -> Result<(), ProtocolError> {
        while !input.is_empty() {
            match self.phase {
                Phase::Header => {
                    let want = HEADER_LEN.saturating_sub(self.header_filled);
                    let (taken, rest) = split(input, want);
                    let end = self.header_filled.saturating_add(taken.len());
                    if let Some(slot) = self.header.get_mut(self.header_filled..end) {
                        slot.copy_from_slice(taken);
                    }
                    self.header_filled = end;
                    input = rest;
                    if self.header_filled >= HEADER_LEN {
                        self.header_filled = 0;
                        self.start_record(Header::parse(self.header), events)?;
                    }
                }
                Phase::Content {
                    kind,
                    request_id,
                    remaining,
                    padding,
                } => {
                    let (chunk, rest) = split(input, remaining);
                    input = rest;
                    self.take_content(kind, chunk);
                    let remaining = remaining.saturating_sub(chunk.len());
                    if remaining == 0 {
                        self.phase = after_content(padding);
                        self.end_record(kind, request_id, events)?;
                    } else {
                        self.phase = Phase::Content {
                            kind,
                            request_id,
                            remaining,
                            padding,
                        };
                    }
                }
                Phase::Padding { remaining } => {
                    let (skipped, rest) = split(input, remaining);
                    input = rest;
                    self.phase = after_content(remaining.saturating_sub(skipped.len()));
                }
            }
        }
        Ok(())
    }

    /// Acts on a complete header: checks it, decides what its content is
    /// for, and finishes the record at once if it has no content.
    fn start_record(
        &mut self,
        header: Header,
        events: &mut Vec<Event>,
    ) -> Result<(), ProtocolError> {
        if header.version != VERSION_1 {
            return Err(ProtocolError::BadVersion {
                version: header.version,
            });
        }
        let kind = self.classify(&header)?;
        let len = usize::from(header.content_length);
        match kind {
            Kind::Begin | Kind::GetValues => self.scratch = Vec::with_capacity(len),
            Kind::Params => {
                if let Some(request) = &mut self.receiving {
                    request.params.reserve(request.id, len)?;
                }
            }
            _ => {}
        }
        let padding = usize::from(header.padding_length);
        if len == 0 {
            self.phase = after_content(padding);
            self.end_record(kind, header.request_id, events)
        } else {
            self.phase = Phase::Content {
                kind,
                request_id: header.request_id,
                remaining: len,
                padding,
            };
            Ok(())
        }
    }

    fn classify(&self, header: &Header) -> Result<Kind, ProtocolError> {
        let id = header.request_id;
        if id == 0 {
            return Ok(match header.record_type {
                GET_VALUES => Kind::GetValues,
                other => Kind::UnknownManagement(other),
            });
        }
        let active = self.receiving.as_ref().is_some_and(|r| r.id == id);
        let retired = self.retired.contains(&id);
        let unknown = ProtocolError::UnknownRequestId {
            record_type: header.record_type,
            request_id: id,
        };
        match header.record_type {
            BEGIN_REQUEST if header.content_length == 8 => Ok(Kind::Begin),
            BEGIN_REQUEST => Err(ProtocolError::BeginRequestLength {
                len: header.content_length,
            }),
            ABORT_REQUEST if active => Ok(Kind::Abort),
            PARAMS if active && header.content_length == 0 => Ok(Kind::ParamsEnd),
            PARAMS if active => Ok(Kind::Params),
            ABORT_REQUEST | PARAMS | STDIN | DATA if retired => Ok(Kind::Discard),
            STDIN | DATA if active => Ok(Kind::Discard),
            ABORT_REQUEST | PARAMS | STDIN | DATA => Err(unknown),
            other => Err(ProtocolError::UnexpectedRecordType {
                record_type: other,
                request_id: id,
            }),
        }
    }

    fn take_content(&mut self, kind: Kind, chunk: &[u8]) {
        match kind {
            // Room was made in `start_record`: these never reallocate.
            Kind::Begin | Kind::GetValues => self.scratch.extend_from_slice(chunk),
            Kind::Params => {
                if let Some(request) = &mut self.receiving {
                    request.params.append(chunk);
                }
            }
            Kind::Abort | Kind::ParamsEnd | Kind::UnknownManagement(_) | Kind::Discard => {}
        }
    }

    /// Acts on a record whose content has been received.
    fn end_record(
        &mut self,
        kind: Kind,
        request_id: u16,
        events: &mut Vec<Event>,
    ) -> Result<(), ProtocolError> {
        match kind {
            Kind::Begin => {
                let body = std::mem::take(&mut self.scratch);
                self.begin_request(request_id, &body, events)?;
            }
            Kind::Abort => {
                // Dropping the builder zeroizes what was received.
                self.receiving = None;
                self.retire(request_id);
                events.push(Event::Abort(request_id));
            }
            Kind::ParamsEnd => {
                if let Some(request) = self.receiving.take() {
                    let params = request.params.finish(request.id, self.limits.max_pairs)?;
                    self.retire(request.id);
                    events.push(Event::Request(Request {
                        id: request.id,
                        role: Role::Authorizer,
                        keep_conn: request.keep_conn,
                        params,
                    }));
                }
            }
            Kind::GetValues => {
                let body = std::mem::take(&mut self.scratch);
                events.push(Event::Send(get_values_result(&body)?));
            }
            Kind::UnknownManagement(record_type) => {
                let mut out = Vec::with_capacity(HEADER_LEN + 8);
                push_records(
                    &mut out,
                    UNKNOWN_TYPE,
                    0,
                    &[record_type, 0, 0, 0, 0, 0, 0, 0],
                );
                events.push(Event::Send(out));
            }
            Kind::Params | Kind::Discard => {}
        }
        Ok(())
    }

    fn begin_request(
        &mut self,
        id: u16,
        body: &[u8],
        events: &mut Vec<Event>,
    ) -> Result<(), ProtocolError> {
        let Some(&[role_hi, role_lo, flags, ..]) = body.first_chunk::<8>() else {
            return Err(ProtocolError::BeginRequestLength {
                len: u16::try_from(body.len()).unwrap_or(u16::MAX),
            });
        };
        if let Some(active) = &self.receiving {
            if active.id == id {
                return Err(ProtocolError::DuplicateBeginRequest { request_id: id });
            }
            events.push(Event::Send(encode_end_request(
                id,
                0,
                ProtocolStatus::CantMpxConn,
            )));
            self.retire(id);
            return Ok(());
        }
        let role = Role::from_code(u16::from_be_bytes([role_hi, role_lo]));
        if role != Role::Authorizer {
            events.push(Event::Send(encode_end_request(
                id,
                0,
                ProtocolStatus::UnknownRole,
            )));
            self.retire(id);
            return Ok(());
        }
        // The web server may reuse an id once it has seen our END_REQUEST.
        for slot in &mut self.retired {
            if *slot == id {
                *slot = 0;
            }
        }
        self.receiving = Some(Receiving {
            id,
            keep_conn: flags & FLAG_KEEP_CONN != 0,
            params: ParamsBuilder::new(self.limits.max_params_bytes),
        });
        Ok(())
    }

    fn retire(&mut self, id: u16) {
        if self.retired.contains(&id) {
            return;
        }
        if let Some(slot) = self.retired.get_mut(self.retired_next) {
            *slot = id;
        }
        self.retired_next = (self.retired_next + 1) % RETIRED_SLOTS;
    }
}

/// Splits off at most `n` bytes from the front of `input`.
fn split(input: &[u8], n: usize) -> (&[u8], &[u8]) {
    input.split_at_checked(n).unwrap_or((input, &[]))
}

fn after_content(padding: usize) -> Phase {
    if padding == 0 {
        Phase::Header
    } else {
        Phase::Padding { remaining: padding }
    }
}

/// Answers a GET_VALUES body: each known variable asked for, once, in the
/// order asked; unknown names are left out, as the specification says.
fn get_values_result(body: &[u8]) -> Result<Vec<u8>, ProtocolError> {
    const KNOWN: [(&str, &str); 3] = [
        ("FCGI_MAX_CONNS", VALUE_MAX_CONNS),
        ("FCGI_MAX_REQS", VALUE_MAX_REQS),
        ("FCGI_MPXS_CONNS", VALUE_MPXS_CONNS),
    ];
    let mut answered = [false; KNOWN.len()];
    let mut content = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let (name, value) = read_pair(body, pos, "GET_VALUES")?;
        pos = value.end;
        let name = body.get(name).unwrap_or_default();
        for ((known, value), done) in KNOWN.iter().zip(answered.iter_mut()) {
            if !*done && known.as_bytes() == name {
                *done = true;
                push_short_pair(&mut content, known, value);
            }
        }
    }
    let mut out = Vec::with_capacity(HEADER_LEN + content.len());
    push_records(&mut out, GET_VALUES_RESULT, 0, &content);
    Ok(out)
}
