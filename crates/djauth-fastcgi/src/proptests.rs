//! Property tests: no input panics the decoder, its memory stays bounded,
//! and any valid exchange decodes to the same request however it is cut up.

use proptest::collection::vec;
use proptest::prelude::*;

use crate::record::{BEGIN_REQUEST, GET_VALUES, PARAMS, STDIN};
use crate::tests::{begin, nv_forced, record_padded};
use crate::*;

/// Feeds `wire` in chunks whose sizes cycle through `chunks`, checking the
/// memory bound after every call; stops at the first error.
fn drive(limits: Limits, wire: &[u8], chunks: &[usize]) -> (Vec<Event>, Result<(), ProtocolError>) {
    let bound = MAX_RECORD_BUFFER + limits.max_params_bytes;
    let mut conn = Connection::new(limits);
    let mut events = Vec::new();
    let mut rest = wire;
    let mut sizes = chunks.iter().copied().cycle();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(1).clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        let result = conn.feed(chunk);
        assert!(
            conn.buffered_bytes() <= bound,
            "{} > {bound}",
            conn.buffered_bytes()
        );
        match result {
            Ok(new) => events.extend(new),
            Err(error) => {
                assert_eq!(conn.finish(), Err(error.clone()));
                assert_eq!(conn.feed(b"more"), Err(error.clone()));
                return (events, Err(error));
            }
        }
    }
    for event in &events {
        if let Event::Request(r) = event {
            assert!(r.params.len() <= limits.max_pairs);
            assert_eq!(r.role, Role::Authorizer);
        }
    }
    let end = conn.finish();
    (events, end)
}

type Pair = (Vec<u8>, Vec<u8>, (bool, bool));

#[derive(Debug, Clone)]
struct Exchange {
    id: u16,
    keep_conn: bool,
    pairs: Vec<Pair>,
    /// PARAMS record sizes, cycled.
    cuts: Vec<usize>,
    /// Padding lengths, cycled over the records.
    paddings: Vec<u8>,
    /// Put a GET_VALUES and some STDIN records around the request.
    extras: bool,
}

impl Exchange {
    fn wire(&self) -> Vec<u8> {
        let stream: Vec<u8> = self
            .pairs
            .iter()
            .flat_map(|(n, v, long)| nv_forced(n, v, *long))
            .collect();
        let mut pads = self.paddings.iter().copied().cycle();
        let mut pad = || pads.next().unwrap_or(0);
        let mut out = Vec::new();
        if self.extras {
            out.extend(record_padded(
                GET_VALUES,
                0,
                &nv_forced(b"FCGI_MPXS_CONNS", b"", (false, false)),
                pad(),
            ));
        }
        let flags = u8::from(self.keep_conn);
        let [hi, lo] = 2u16.to_be_bytes();
        out.extend(record_padded(
            BEGIN_REQUEST,
            self.id,
            &[hi, lo, flags, 0, 0, 0, 0, 0],
            pad(),
        ));
        let mut rest = &stream[..];
        let mut cuts = self.cuts.iter().copied().cycle();
        while !rest.is_empty() {
            let n = cuts.next().unwrap_or(1).clamp(1, rest.len().min(65535));
            let (piece, tail) = rest.split_at(n);
            out.extend(record_padded(PARAMS, self.id, piece, pad()));
            if self.extras {
                out.extend(record_padded(STDIN, self.id, b"ignored", pad()));
            }
            rest = tail;
        }
        out.extend(record_padded(PARAMS, self.id, &[], pad()));
        if self.extras {
            out.extend(record_padded(STDIN, self.id, &[], pad()));
        }
        out
    }

    fn expected_params(&self) -> Params {
        Params::from_pairs(self.pairs.iter().map(|(n, v, _)| (n, v)))
    }
}

fn exchange() -> impl Strategy<Value = Exchange> {
    (
        1u16..=u16::MAX,
        any::<bool>(),
        vec(
            (
                vec(any::<u8>(), 0..40),
                vec(any::<u8>(), 0..300),
                any::<(bool, bool)>(),
            ),
            0..12,
        ),
        vec(1usize..400, 1..6),
        vec(0u8..=255, 1..4),
        any::<bool>(),
    )
        .prop_map(|(id, keep_conn, pairs, cuts, paddings, extras)| Exchange {
            id,
            keep_conn,
            pairs,
            cuts,
            paddings,
            extras,
        })
}

fn chunks() -> impl Strategy<Value = Vec<usize>> {
    vec(1usize..300, 1..8)
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        Just(Limits::default()),
        (0usize..2048, 0usize..16).prop_map(|(max_params_bytes, max_pairs)| Limits {
            max_params_bytes,
            max_pairs
        }),
    ]
}

/// Edits to apply to a valid exchange: (position, byte, kind).
fn mutations() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    vec((any::<usize>(), any::<u8>(), 0u8..4), 1..8)
}

fn mutate(mut wire: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(pos, byte, kind) in edits {
        if wire.is_empty() {
            wire.push(byte);
            continue;
        }
        let at = pos % wire.len();
        match kind {
            0 => wire[at] = byte,
            1 => wire.insert(at, byte),
            2 => {
                wire.remove(at);
            }
            _ => wire.truncate(at),
        }
    }
    wire
}

/// Records with a valid version, weighted towards what the decoder acts
/// on: well-formed BEGIN_REQUESTs of any role, PARAMS with well-formed or
/// random bodies, stream ends, aborts, management records, and anything else.
fn record_soup() -> impl Strategy<Value = Vec<u8>> {
    use crate::record::{ABORT_REQUEST, DATA, STDOUT};
    let id = prop_oneof![1 => Just(0u16), 12 => Just(1u16), 2 => Just(2u16), 1 => any::<u16>()];
    let pad = prop_oneof![3 => Just(0u8), 1 => any::<u8>()];
    let body = vec(any::<u8>(), 0..64);
    let one = (id, pad, body, 0u16..4, any::<bool>(), 0u8..20).prop_map(
        |(id, pad, body, role, keep, choice)| {
            let half = body.len() / 2;
            let (record_type, content) = match choice {
                // Choices 0 to 2 begin an authorizer request, 3 and 4 any role.
                0..=4 => {
                    let role = if choice <= 2 { 2 } else { role };
                    let [hi, lo] = role.to_be_bytes();
                    (BEGIN_REQUEST, vec![hi, lo, u8::from(keep), 0, 0, 0, 0, 0])
                }
                5..=7 => (PARAMS, Vec::new()),
                8..=10 => (
                    PARAMS,
                    nv_forced(&body[..half], &body[half..], (keep, false)),
                ),
                11 => (PARAMS, body),
                12 => (STDIN, body),
                13 => (DATA, body),
                14 => (ABORT_REQUEST, Vec::new()),
                15 | 16 => (
                    GET_VALUES,
                    nv_forced(b"FCGI_MAX_CONNS", &body, (false, keep)),
                ),
                17 => (GET_VALUES, body),
                18 => (STDOUT, body),
                _ => (body.first().copied().unwrap_or(0), body),
            };
            record_padded(record_type, id, &content, pad)
        },
    );
    // Half the soups start a request first, so that later records find it.
    (any::<bool>(), vec(one, 0..16)).prop_map(|(started, records)| {
        let start = if started { begin(1, 2, 0) } else { Vec::new() };
        [start, records.concat()].concat()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_bytes_never_panic(wire in vec(any::<u8>(), 0..4096), sizes in chunks(), limits in limits()) {
        let _ = drive(limits, &wire, &sizes);
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_prefix(ex in exchange(), tail in vec(any::<u8>(), 0..512), sizes in chunks()) {
        let mut wire = ex.wire();
        wire.extend(tail);
        let _ = drive(Limits::default(), &wire, &sizes);
    }

    #[test]
    fn record_soup_never_panics(wire in record_soup(), sizes in chunks(), limits in limits()) {
        let _ = drive(limits, &wire, &sizes);
    }

    #[test]
    fn valid_exchange_decodes_the_same_in_any_chunking(ex in exchange(), sizes in chunks()) {
        let wire = ex.wire();
        let (events, end) = drive(Limits::default(), &wire, &sizes);
        prop_assert_eq!(end, Ok(()));
        let requests: Vec<&Request> = events
            .iter()
            .filter_map(|e| match e { Event::Request(r) => Some(r), _ => None })
            .collect();
        prop_assert_eq!(requests.len(), 1);
        let r = requests[0];
        prop_assert_eq!(r.id, ex.id);
        prop_assert_eq!(r.keep_conn, ex.keep_conn);
        prop_assert_eq!(&r.params, &ex.expected_params());
        prop_assert_eq!(events.len(), 1 + usize::from(ex.extras));
    }

    #[test]
    fn mutated_exchange_never_panics(ex in exchange(), edits in mutations(), sizes in chunks(), limits in limits()) {
        let wire = mutate(ex.wire(), &edits);
        let _ = drive(limits, &wire, &sizes);
    }

    #[test]
    fn params_limit_is_enforced(ex in exchange(), max_params_bytes in 0usize..1500) {
        let limits = Limits { max_params_bytes, max_pairs: 1024 };
        let stream_len: usize = ex.pairs.iter().map(|(n, v, l)| nv_forced(n, v, *l).len()).sum();
        let (events, end) = drive(limits, &ex.wire(), &[usize::MAX]);
        if stream_len <= max_params_bytes {
            prop_assert_eq!(end, Ok(()));
            prop_assert!(events.iter().any(|e| matches!(e, Event::Request(_))));
        } else {
            prop_assert!(
                matches!(end, Err(ProtocolError::ParamsTooLarge { .. })),
                "{:?}",
                end
            );
        }
    }
}

#[test]
fn record_soup_reaches_the_interesting_paths() {
    // The soup is only worth running if it gets past the header checks:
    // count what a fixed sample of it produces.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut requests, mut sends, mut aborts, mut errors) = (0, 0, 0, 0);
    for _ in 0..2000 {
        let wire = record_soup().new_tree(&mut runner).unwrap().current();
        let (events, end) = drive(Limits::default(), &wire, &[7]);
        for event in events {
            match event {
                Event::Request(_) => requests += 1,
                Event::Send(_) => sends += 1,
                Event::Abort(_) => aborts += 1,
            }
        }
        errors += usize::from(end.is_err());
    }
    assert!(
        requests > 0 && sends > 0 && aborts > 0 && errors > 0,
        "requests {requests}, sends {sends}, aborts {aborts}, errors {errors}"
    );
}
