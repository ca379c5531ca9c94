//! The `[[http]]` listeners of the configuration file.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::Deserialize;

use crate::config::{ConfigError, UnixConfig, UnixSettings};

/// The realm of the 401 challenge when a listener names none.
pub const DEFAULT_REALM: &str = "Django";
/// Longest realm accepted.
const MAX_REALM: usize = 200;

/// One `[[http]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// `host:port`, or `unix:/absolute/path` for a Unix socket.
    pub listen: String,
    /// The realm of the `WWW-Authenticate: Basic` challenge (default `Django`).
    pub realm: Option<String>,
    /// Peers whose `X-Forwarded-For` names the client in logs: IP addresses,
    /// networks (`10.0.0.0/8`), or `unix` for every peer of a Unix socket.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The Unix socket's permission bits in octal (default `"0660"`).
    pub mode: Option<String>,
    /// The Unix socket's group (default: the daemon's).
    pub group: Option<String>,
}

/// Where a listener listens.
#[derive(Debug, Clone)]
pub enum HttpListen {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A Unix socket.
    Unix(UnixSettings),
}

impl std::fmt::Display for HttpListen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpListen::Tcp(address) => write!(f, "{address}"),
            HttpListen::Unix(unix) => write!(f, "unix:{}", unix.path.display()),
        }
    }
}

/// A validated `[[http]]` listener.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Where it listens.
    pub listen: HttpListen,
    /// The challenge's realm, safe inside a quoted string.
    pub realm: String,
    /// Whose forwarded client address is believed.
    pub trusted: TrustedProxies,
}

/// The proxies whose `X-Forwarded-For` header is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    networks: Vec<(IpAddr, u8)>,
    unix: bool,
}

impl TrustedProxies {
    /// Whether a TCP peer at `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.networks
            .iter()
            .any(|(network, bits)| in_network(ip, *network, *bits))
    }

    /// Whether peers of a Unix socket are trusted proxies.
    pub fn trusts_unix(&self) -> bool {
        self.unix
    }

    pub(super) fn parse(entries: &[String]) -> Result<TrustedProxies, String> {
        let mut trusted = TrustedProxies::default();
        for entry in entries {
            if entry == "unix" {
                trusted.unix = true;
                continue;
            }
            let bad = || {
                format!(
                    "trusted_proxies: {entry:?} is not an IP address, a network such as \"10.0.0.0/8\", or \"unix\""
                )
            };
            let (address, bits) = match entry.split_once('/') {
                Some((address, bits)) => (address, Some(bits)),
                None => (entry.as_str(), None),
            };
            let address: IpAddr = address.parse().map_err(|_| bad())?;
            let address = canonical(address);
            let max = if address.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(bits) => bits
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(bad)?,
                None => max,
            };
            trusted.networks.push((address, bits));
        }
        Ok(trusted)
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_network(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    let prefix = |value: u128, width: u32| {
        let shift = width - u32::from(bits);
        if shift >= 128 { 0 } else { value >> shift }
    };
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            prefix(u32::from(ip).into(), 32) == prefix(u32::from(net).into(), 32)
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => prefix(ip.into(), 128) == prefix(net.into(), 128),
        _ => false,
    }
}

impl HttpConfig {
    /// A listener on `listen` with every other key at its default.
    pub fn at(listen: String) -> HttpConfig {
        HttpConfig {
            listen,
            realm: None,
            trusted_proxies: Vec::new(),
            mode: None,
            group: None,
        }
    }

    /// Checks the address, the realm and the trusted proxies.
    pub fn validate(self) -> Result<HttpSettings, ConfigError> {
        let context = |e: String| ConfigError(format!("http listener {:?}: {e}", self.listen));
        let listen = match self.listen.strip_prefix("unix:") {
            Some(path) => HttpListen::Unix(
                UnixConfig {
                    path: PathBuf::from(path),
                    mode: self.mode.clone(),
                    group: self.group.clone(),
                    // The HTTP door has its own keep-alive limits.
                    idle_timeout: None,
                }
                .validate()
                .map_err(|e| context(e.0))?,
            ),
            None => {
                if self.mode.is_some() || self.group.is_some() {
                    return Err(context(
                        "mode and group are only for a Unix socket (listen = \"unix:/path\")"
                            .into(),
                    ));
                }
                HttpListen::Tcp(self.listen.parse().map_err(|_| {
                    context("listen is neither host:port (such as \"127.0.0.1:9100\") nor unix:/absolute/path".into())
                })?)
            }
        };
        let realm = self.realm.clone().unwrap_or_else(|| DEFAULT_REALM.into());
        if realm.is_empty()
            || realm.len() > MAX_REALM
            || !realm.chars().all(|c| c == ' ' || c.is_ascii_graphic())
            || realm.contains(['"', '\\'])
        {
            return Err(context(format!(
                "realm {realm:?} must be 1 to {MAX_REALM} printable ASCII characters without '\"' or '\\\\'"
            )));
        }
        let trusted = TrustedProxies::parse(&self.trusted_proxies).map_err(context)?;
        if trusted.unix && matches!(listen, HttpListen::Tcp(_)) {
            return Err(context(
                "trusted_proxies: \"unix\" only applies to a Unix socket listener".into(),
            ));
        }
        Ok(HttpSettings {
            listen,
            realm,
            trusted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(listen: &str, extra: impl FnOnce(&mut HttpConfig)) -> Result<HttpSettings, String> {
        let mut config = HttpConfig::at(listen.into());
        extra(&mut config);
        config.validate().map_err(|e| e.0)
    }

    #[test]
    fn tcp_and_unix_listeners() {
        let tcp = validate("127.0.0.1:9100", |_| {}).unwrap();
        assert!(matches!(tcp.listen, HttpListen::Tcp(a) if a.port() == 9100));
        assert_eq!(tcp.realm, "Django");
        let unix = validate("unix:/run/djauth/http.sock", |c| {
            c.mode = Some("0666".into());
            c.trusted_proxies = vec!["unix".into()];
        })
        .unwrap();
        assert!(matches!(&unix.listen, HttpListen::Unix(u) if u.mode == 0o666));
        assert!(unix.trusted.trusts_unix());
    }

    #[test]
    fn bad_values_are_explained() {
        for (listen, change, needle) in [
            ("localhost", None, "neither host:port"),
            ("unix:run/http.sock", None, "not absolute"),
            (
                "127.0.0.1:1",
                Some(("mode", "0660")),
                "only for a Unix socket",
            ),
            ("127.0.0.1:1", Some(("realm", "a\"b")), "realm"),
            ("127.0.0.1:1", Some(("realm", "")), "realm"),
            ("127.0.0.1:1", Some(("realm", "Zoé")), "realm"),
            (
                "127.0.0.1:1",
                Some(("trusted", "10.0.0.0/33")),
                "trusted_proxies",
            ),
            (
                "127.0.0.1:1",
                Some(("trusted", "proxy.local")),
                "trusted_proxies",
            ),
            (
                "127.0.0.1:1",
                Some(("trusted", "unix")),
                "Unix socket listener",
            ),
        ] {
            let err = validate(listen, |c| match change {
                Some(("mode", v)) => c.mode = Some(v.into()),
                Some(("realm", v)) => c.realm = Some(v.into()),
                Some((_, v)) => c.trusted_proxies = vec![v.into()],
                None => {}
            })
            .unwrap_err();
            assert!(err.contains(needle), "{listen} {change:?}: {err}");
        }
    }

    #[test]
    fn trusted_networks() {
        let trusted =
            TrustedProxies::parse(&["127.0.0.1".into(), "10.1.0.0/16".into(), "fd00::/8".into()])
                .unwrap();
        for (ip, expected) in [
            ("127.0.0.1", true),
            ("127.0.0.2", false),
            ("10.1.255.3", true),
            ("10.2.0.1", false),
            ("::ffff:127.0.0.1", true),
            ("fd12::1", true),
            ("fe80::1", false),
        ] {
            assert_eq!(trusted.trusts(ip.parse().unwrap()), expected, "{ip}");
        }
        let everyone = TrustedProxies::parse(&["0.0.0.0/0".into()]).unwrap();
        assert!(everyone.trusts("203.0.113.9".parse().unwrap()));
    }
}
