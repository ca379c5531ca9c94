//! The protocol between the djauth daemon and its thin web-server clients
//! (mod_djauth), over a Unix socket with persistent connections.
//!
//! Pure Rust and free of any web-server API, so both sides share one
//! implementation that is unit-tested here: [`Request`] and [`Reply`] with
//! their bounded, panic-free binary encoding ([`wire`]), and a blocking
//! [`Client`] with timeouts and one reconnect on a broken connection, and
//! [`Reuse`], the grants a client may give again within the daemon's
//! freshness window.

mod client;
mod require;
mod reuse;
pub mod wire;

pub use client::{Client, ClientError, Timeouts};
pub use require::RequireKind;
pub use reuse::Reuse;
pub use wire::{MAX_FRAME, Reply, Request, VERSION, WireError, encode_groups, frame_len};

#[cfg(test)]
mod tests;
