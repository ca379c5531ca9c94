//! PBKDF2-HMAC-SHA256 on x86-64 CPUs with the SHA extensions (SHA-NI).
//!
//! Django's `pbkdf2_sha256` derives one 32-byte block: a single chain of
//! 2 × iterations SHA-256 compressions, each waiting for the one before, so
//! its time is the latency of that chain. This kernel keeps the chain in SSE
//! registers: the inner and outer HMAC key states are computed once; every
//! later HMAC is one block holding the previous 32-byte result and HMAC's
//! fixed padding; the state goes straight from one compression's output to
//! the next one's message words, never through bytes; and the message
//! schedule adds the one word that comes from the group just before after
//! `sha256msg2`, so its serial part is one `sha256msg2` and one add per four
//! words. CPUs without SHA-NI (and other architectures) use RustCrypto's
//! `pbkdf2`, which the tests below take as the reference on fixed and random
//! inputs; docs/benchmarks.md has the times of both.

use core::arch::x86_64::{
    __m128i, _mm_add_epi32, _mm_alignr_epi8, _mm_blend_epi16, _mm_extract_epi32, _mm_set_epi32,
    _mm_sha256msg1_epu32, _mm_sha256msg2_epu32, _mm_sha256rnds2_epu32, _mm_shuffle_epi32,
    _mm_slli_si128, _mm_srli_si128, _mm_unpackhi_epi64, _mm_unpacklo_epi64, _mm_xor_si128,
};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// SHA-256 round constants.
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// SHA-256's initial state.
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Message words 8..16 of a block that holds a 32-byte message after a
/// 64-byte key block: the `0x80` byte, zeros, and the length, 768 bits.
const PADDING: [u32; 8] = [0x8000_0000, 0, 0, 0, 0, 0, 0, 768];

/// Writes PBKDF2-HMAC-SHA256(password, salt, iterations) with a 32-byte
/// output into `out` and returns true, or returns false (and writes
/// nothing) when this CPU lacks the instructions the kernel needs (SHA,
/// SSSE3, SSE4.1; SSE2 is part of x86-64).
/// `iterations` 0 gives what 1 gives, as in RustCrypto's `pbkdf2`.
pub(crate) fn derive(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8; 32]) -> bool {
    if !(std::arch::is_x86_feature_detected!("sha")
        && std::arch::is_x86_feature_detected!("ssse3")
        && std::arch::is_x86_feature_detected!("sse4.1"))
    {
        return false;
    }
    let (inner, outer) = key_states(password);
    let first = first_block(password, salt);
    // SAFETY: `chain` only needs the CPU features checked just above.
    #[allow(unsafe_code)]
    let words = Zeroizing::new(unsafe { chain(&inner, &outer, &first, iterations) });
    for (bytes, word) in out.chunks_exact_mut(4).zip(words.iter()) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    true
}

/// The SHA-256 states after HMAC's inner (`0x36`) and outer (`0x5c`) key
/// blocks.
fn key_states(password: &[u8]) -> (Zeroizing<[u32; 8]>, Zeroizing<[u32; 8]>) {
    let mut key = Zeroizing::new([0u8; 64]);
    if password.len() > key.len() {
        key[..32].copy_from_slice(&Sha256::digest(password));
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    let state = |pad: u8| {
        let block = Zeroizing::new(key.map(|b| b ^ pad));
        let mut state = Zeroizing::new(IV);
        sha2::block_api::compress256(&mut state, &[*block]);
        state
    };
    (state(0x36), state(0x5c))
}

/// U1 = HMAC(password, salt ‖ 1) as eight big-endian words.
fn first_block(password: &[u8], salt: &[u8]) -> Zeroizing<[u32; 8]> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(password)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let bytes = Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
    let mut words = Zeroizing::new([0u32; 8]);
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
        *word = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    words
}

/// Four words in lanes 0..3.
#[target_feature(enable = "sse2")]
fn lanes(w: &[u32]) -> __m128i {
    _mm_set_epi32(w[3] as i32, w[2] as i32, w[1] as i32, w[0] as i32)
}

/// A state `[a..h]` in the register layout of `sha256rnds2`: (ABEF, CDGH).
#[target_feature(enable = "sse2,ssse3,sse4.1")]
fn state_registers(s: &[u32; 8]) -> (__m128i, __m128i) {
    let cdab = _mm_shuffle_epi32(lanes(&s[0..4]), 0xB1);
    let hgfe = _mm_shuffle_epi32(lanes(&s[4..8]), 0x1B);
    (
        _mm_alignr_epi8(cdab, hgfe, 8),
        _mm_blend_epi16(hgfe, cdab, 0xF0),
    )
}

/// The digest words `[a, b, c, d]`, `[e, f, g, h]` of a state in
/// (ABEF, CDGH) layout: the message words of the next block.
#[target_feature(enable = "sse2")]
fn digest_words(abef: __m128i, cdgh: __m128i) -> (__m128i, __m128i) {
    (
        _mm_shuffle_epi32(_mm_unpackhi_epi64(cdgh, abef), 0x1B),
        _mm_shuffle_epi32(_mm_unpacklo_epi64(cdgh, abef), 0x1B),
    )
}

/// One compression of the block `message ‖ PADDING` from the state
/// (`abef`, `cdgh`), feed-forward included.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn compress(abef: __m128i, cdgh: __m128i, message: (__m128i, __m128i)) -> (__m128i, __m128i) {
    let mut w = [message.0; 16];
    w[1] = message.1;
    w[2] = lanes(&PADDING[0..4]);
    w[3] = lanes(&PADDING[4..8]);
    for j in 0..12 {
        // W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16]. Lane 3's
        // W[t-7] is lane 0 of the group just before; sha256msg2 only adds
        // its input's lane 3, so that word is added afterwards and the
        // serial dependency from group to group is sha256msg2 and one add.
        let early = _mm_add_epi32(
            _mm_sha256msg1_epu32(w[j], w[j + 1]),
            _mm_srli_si128(w[j + 2], 4),
        );
        let late = _mm_slli_si128(w[j + 3], 12);
        w[j + 4] = _mm_add_epi32(_mm_sha256msg2_epu32(early, w[j + 3]), late);
    }
    let (mut a, mut b) = (abef, cdgh);
    for (j, words) in w.iter().enumerate() {
        let msg = _mm_add_epi32(*words, lanes(&K[4 * j..4 * j + 4]));
        b = _mm_sha256rnds2_epu32(b, a, msg);
        a = _mm_sha256rnds2_epu32(a, b, _mm_shuffle_epi32(msg, 0x0E));
    }
    (_mm_add_epi32(a, abef), _mm_add_epi32(b, cdgh))
}

/// U1 ⊕ U2 ⊕ … ⊕ U_iterations, where U_i = HMAC(U_{i-1}) from the key
/// states `inner` and `outer`.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn chain(inner: &[u32; 8], outer: &[u32; 8], first: &[u32; 8], iterations: u32) -> [u32; 8] {
    let (inner_abef, inner_cdgh) = state_registers(inner);
    let (outer_abef, outer_cdgh) = state_registers(outer);
    let mut u = (lanes(&first[0..4]), lanes(&first[4..8]));
    let mut sum = u;
    for _ in 1..iterations {
        let (a, b) = compress(inner_abef, inner_cdgh, u);
        let (a, b) = compress(outer_abef, outer_cdgh, digest_words(a, b));
        u = digest_words(a, b);
        sum = (_mm_xor_si128(sum.0, u.0), _mm_xor_si128(sum.1, u.1));
    }
    [
        _mm_extract_epi32(sum.0, 0) as u32,
        _mm_extract_epi32(sum.0, 1) as u32,
        _mm_extract_epi32(sum.0, 2) as u32,
        _mm_extract_epi32(sum.0, 3) as u32,
        _mm_extract_epi32(sum.1, 0) as u32,
        _mm_extract_epi32(sum.1, 1) as u32,
        _mm_extract_epi32(sum.1, 2) as u32,
        _mm_extract_epi32(sum.1, 3) as u32,
    ]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// RustCrypto's PBKDF2, the reference.
    fn reference(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
        let mut out = [0u8; 32];
        ::pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out);
        out
    }

    fn kernel(password: &[u8], salt: &[u8], iterations: u32) -> Option<[u8; 32]> {
        let mut out = [0u8; 32];
        super::derive(password, salt, iterations, &mut out).then_some(out)
    }

    /// The machines this project builds and tests on have SHA-NI; a test
    /// run on one without it must say so rather than pass without looking.
    #[test]
    fn this_machine_runs_the_kernel() {
        assert!(
            kernel(b"p", b"s", 1).is_some(),
            "no SHA-NI/SSE4.1 on this CPU: the kernel is never used here"
        );
    }

    /// RFC 7914 §11's PBKDF2-HMAC-SHA256 vectors (64-byte output; the first
    /// 32 bytes are the single block this kernel derives).
    #[test]
    fn rfc7914_vectors() {
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let one = kernel(b"passwd", b"salt", 1).unwrap();
        assert_eq!(
            one.to_vec(),
            hex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
        );
        let many = kernel(b"Password", b"NaCl", 80000).unwrap();
        assert_eq!(
            many.to_vec(),
            hex("4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56")
        );
    }

    /// Edge lengths: empty, one block, just over (hashed key), long salt,
    /// and 0, 1, 2 iterations.
    #[test]
    fn matches_reference_at_the_edges() {
        let long = [0xa5u8; 200];
        for password in [&b""[..], &long[..63], &long[..64], &long[..65], &long[..]] {
            for salt in [&b""[..], &b"s"[..], &long[..55], &long[..56], &long[..]] {
                for iterations in [0, 1, 2, 3, 1000] {
                    assert_eq!(
                        kernel(password, salt, iterations),
                        Some(reference(password, salt, iterations)),
                        "password {} bytes, salt {} bytes, {iterations} iterations",
                        password.len(),
                        salt.len()
                    );
                }
            }
        }
    }

    proptest! {
        #[test]
        fn matches_reference(
            password in proptest::collection::vec(any::<u8>(), 0..150),
            salt in proptest::collection::vec(any::<u8>(), 0..100),
            iterations in 0u32..600,
        ) {
            prop_assert_eq!(
                kernel(&password, &salt, iterations),
                Some(reference(&password, &salt, iterations))
            );
        }
    }
}
