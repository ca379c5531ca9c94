//! Django's `identify_hasher`: which hasher a stored password belongs to.

use crate::algorithm::Algorithm;
use crate::util::char_len;

/// Prefix Django gives unusable passwords (`make_password(None)`,
/// `set_unusable_password()`); such a value never verifies.
pub const UNUSABLE_PASSWORD_PREFIX: &str = "!";

/// The result of [`identify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identified<'a> {
    /// The algorithm name belongs to one of the hashers Django has shipped.
    Known(Algorithm),
    /// Any other algorithm name (the text before the first `$`, or the whole
    /// value when it has no `$`); Django answers `False` for it.
    Unknown(&'a str),
}

/// Django's `identify_hasher`, checked in Django's order (lengths in
/// characters, not bytes):
///
/// 1. 32 characters without any `$` → `unsalted_md5` (whatever the characters);
/// 2. 37 characters starting with `md5$$` → `unsalted_md5`;
/// 3. 46 characters starting with `sha1$$` → `unsalted_sha1`;
/// 4. otherwise the text before the first `$` (the whole value if none),
///    matched exactly and case-sensitively against the algorithm names.
///
/// Unusable (`!`-prefixed) values are not special here, just as in Django;
/// [`crate::Hashers::check`] tests for them first.
pub fn identify(encoded: &str) -> Identified<'_> {
    let len = char_len(encoded);
    if (len == 32 && !encoded.contains('$')) || (len == 37 && encoded.starts_with("md5$$")) {
        return Identified::Known(Algorithm::UnsaltedMd5);
    }
    if len == 46 && encoded.starts_with("sha1$$") {
        return Identified::Known(Algorithm::UnsaltedSha1);
    }
    let name = encoded.split('$').next().unwrap_or(encoded);
    match Algorithm::from_name(name) {
        Some(algorithm) => Identified::Known(algorithm),
        None => Identified::Unknown(name),
    }
}
