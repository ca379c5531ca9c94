//! djauth's decisions, with Django's semantics and nothing about protocols.
//!
//! A front door turns its wire format into raw credential bytes and a
//! [`RequirementSet`], calls [`Site::authenticate`] or [`Site::authorize`], and
//! encodes the [`Decision`] it gets back. The deviations from Django's
//! mod_wsgi handler are listed in `docs/compatibility.md`.

mod cache;
mod credentials;
mod decision;
mod kdf;
mod recent;
mod requirement;
mod site;
pub mod stats;

pub use cache::CacheConfig;
pub use credentials::{decode_password, decode_username};
pub use decision::{Decision, Denial, Identity, PolicyError};
pub use kdf::KdfPool;
pub use requirement::{Requirement, RequirementError, RequirementSet};
pub use site::Site;
