//! What a forward-auth request asks: the site and requirement from the URL
//! the proxy calls, the Basic credentials, and who the client is.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use djauth_policy::{RequirementSet, Site};
use hyper::header::{AUTHORIZATION, HeaderMap};
use zeroize::Zeroizing;

use super::settings::{TrustedProxies, canonical};
use crate::door::find_site;

/// The path prefix of authentication checks.
pub const AUTH_PATH: &str = "/auth";

/// The site and the requirement named by `/auth[/SITE][?site=SITE&require=…]`.
pub fn target<'a>(
    sites: &'a [Site],
    path: &str,
    query: Option<&str>,
) -> Result<(&'a Site, RequirementSet), String> {
    let in_path = match path.strip_prefix(AUTH_PATH) {
        Some("" | "/") => None,
        Some(rest) => match rest.strip_prefix('/') {
            Some(name) if !name.contains('/') => Some(percent_decode(name)?),
            _ => return Err(format!("no such path {path:?}: use /auth or /auth/SITE")),
        },
        None => return Err(format!("no such path {path:?}: use /auth or /auth/SITE")),
    };
    let mut in_query = None;
    let mut require = None;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match key {
            "site" => &mut in_query,
            "require" => &mut require,
            other => {
                return Err(format!(
                    "unknown query parameter {other:?}: only site and require are understood \
                     (a proxy that passes the client's query string on, as Caddy's forward_auth \
                     does when its uri has no query, must be given one: see examples/caddy)"
                ));
            }
        };
        if slot.replace(percent_decode(value)?).is_some() {
            return Err(format!("query parameter {key:?} is given twice"));
        }
    }
    let name = match (in_path, in_query) {
        (Some(_), Some(_)) => {
            return Err("the site is named both in the path and in ?site=".into());
        }
        (one, other) => one.or(other),
    };
    let how = "name one in the URL, as /auth/SITE";
    let site = find_site(sites, name.as_deref(), how)?;
    let requirement = match require {
        Some(text) => text.parse().map_err(|e| format!("require: {e}"))?,
        None => RequirementSet::valid_user(),
    };
    Ok((site, requirement))
}

/// `%XX` escapes decoded; the result must be UTF-8. `+` stays a plus sign
/// (group names may hold one): write a space as `%20`.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape in {text:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} is not UTF-8 once decoded"))
}

/// Basic credentials: the username and the password, as raw bytes.
pub struct Credentials {
    /// The username as the client sent it.
    pub user: Vec<u8>,
    /// The password, wiped when dropped.
    pub password: Zeroizing<Vec<u8>>,
}

/// The request's Basic credentials. No `Authorization` header, several of
/// them, another scheme, bad base64 or no colon all mean "none": the
/// client is challenged again.
pub fn credentials(headers: &HeaderMap) -> Option<Credentials> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let value = value.as_bytes();
    let (scheme, encoded) = value.split_at(value.iter().position(|b| *b == b' ')?);
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return None;
    }
    let decoded = Zeroizing::new(STANDARD.decode(encoded.trim_ascii()).ok()?);
    let colon = decoded.iter().position(|b| *b == b':')?;
    Some(Credentials {
        user: decoded[..colon].to_vec(),
        password: Zeroizing::new(decoded[colon + 1..].to_vec()),
    })
}

/// Who connected to the door.
#[derive(Debug, Clone, Copy)]
pub enum Peer {
    /// A TCP peer.
    Ip(IpAddr),
    /// A peer of a Unix socket.
    Unix,
}

/// The client address for logs: the peer itself, or, when the peer is a
/// trusted proxy, the nearest address in `X-Forwarded-For` that is not
/// itself a trusted proxy, reading from the right (the entries trusted
/// proxies appended) and ignoring whatever the client wrote further left.
/// An entry that is not an address before an untrusted one is found leaves
/// the peer's address.
pub fn client_address(headers: &HeaderMap, peer: Peer, trusted: &TrustedProxies) -> String {
    let (own, believed) = match peer {
        Peer::Ip(ip) => (canonical(ip).to_string(), trusted.trusts(ip)),
        Peer::Unix => ("unix".to_string(), trusted.trusts_unix()),
    };
    if !believed {
        return own;
    }
    let mut leftmost = None;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        for hop in value.as_bytes().rsplit(|&b| b == b',') {
            let Some(ip) = std::str::from_utf8(hop)
                .ok()
                .and_then(|h| hop_address(h.trim()))
            else {
                return own;
            };
            if !trusted.trusts(ip) {
                return ip.to_string();
            }
            leftmost = Some(ip);
        }
    }
    // Every hop is a trusted proxy: the first of them asked.
    leftmost.map_or(own, |ip| ip.to_string())
}

/// One `X-Forwarded-For` entry as an address: `203.0.113.9`, `2001:db8::1`,
/// or with a port, `203.0.113.9:4711` or `[2001:db8::1]:4711`.
fn hop_address(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
        .map(canonical)
}

/// The original request as the proxy reports it (nginx: `X-Original-*`;
/// Traefik and Caddy: `X-Forwarded-*`), for log lines only: method, URI
/// and host, each quoted and escaped, or `-`.
pub fn original(headers: &HeaderMap) -> (String, String, String) {
    let first = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|name| headers.get(*name))
            .map_or_else(
                || "-".to_string(),
                |v| crate::header_value::LoggedName(v.as_bytes()).to_string(),
            )
    };
    (
        first(["x-original-method", "x-forwarded-method"]),
        first(["x-original-uri", "x-forwarded-uri"]),
        first(["x-original-host", "x-forwarded-host"]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    #[test]
    fn basic_credentials() {
        let ok = credentials(&headers(&[("authorization", b"Basic YWxpY2U6YTpiIGM=")])).unwrap();
        assert_eq!(ok.user, b"alice");
        assert_eq!(&ok.password[..], b"a:b c");
        let lower = credentials(&headers(&[("authorization", b"basic  YTo= ")])).unwrap();
        assert_eq!(
            (lower.user.as_slice(), &lower.password[..]),
            (&b"a"[..], &b""[..])
        );
        for bad in [
            &b"Bearer YWxpY2U6eA=="[..],
            b"Basic",
            b"Basic !!!",
            b"Basic YWxpY2U=",
            b"",
        ] {
            assert!(
                credentials(&headers(&[("authorization", bad)])).is_none(),
                "{bad:?}"
            );
        }
        let twice = headers(&[
            ("authorization", b"Basic YTpi"),
            ("authorization", b"Basic YTpi"),
        ]);
        assert!(credentials(&twice).is_none());
        assert!(credentials(&HeaderMap::new()).is_none());
    }

    #[test]
    fn forwarded_addresses_only_from_trusted_peers() {
        let trusted = TrustedProxies::default();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let spoofed = headers(&[("x-forwarded-for", b"203.0.113.9")]);
        assert_eq!(
            client_address(&spoofed, Peer::Ip(local), &trusted),
            "127.0.0.1"
        );
        assert_eq!(client_address(&spoofed, Peer::Unix, &trusted), "unix");
        let trusted = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        assert_eq!(
            client_address(&spoofed, Peer::Ip(local), &trusted),
            "203.0.113.9"
        );
        // The client may prepend anything; the nearest untrusted hop counts.
        let chain = headers(&[
            ("x-forwarded-for", b"192.0.2.66, 198.51.100.7"),
            ("x-forwarded-for", b"10.1.2.3"),
        ]);
        assert_eq!(
            client_address(&chain, Peer::Ip(local), &trusted),
            "198.51.100.7"
        );
        // What the client wrote to the left of the nearest untrusted hop
        // cannot hide it (case C21: fail2ban must see the real address).
        for junk in [
            b"evil, 203.0.113.9".as_slice(),
            b"1.2.3.4:99999, 203.0.113.9",
            b"\xff, 203.0.113.9",
            b"unknown, 198.51.100.1, 203.0.113.9, 10.0.0.5",
        ] {
            let chain = headers(&[("x-forwarded-for", junk)]);
            assert_eq!(
                client_address(&chain, Peer::Ip(local), &trusted),
                "203.0.113.9",
                "{junk:?}"
            );
        }
        // Ports and brackets are read; junk where a proxy should have
        // written the address leaves the peer.
        for (value, want) in [
            (b"203.0.113.9:4711".as_slice(), "203.0.113.9"),
            (b"[2001:db8::1]:4711", "2001:db8::1"),
            (b"[2001:db8::1]", "2001:db8::1"),
            (b"198.51.100.7, evil", "127.0.0.1"),
            (b"10.0.0.1, 10.0.0.2", "10.0.0.1"),
        ] {
            let chain = headers(&[("x-forwarded-for", value)]);
            assert_eq!(
                client_address(&chain, Peer::Ip(local), &trusted),
                want,
                "{value:?}"
            );
        }
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(
            client_address(&HeaderMap::new(), Peer::Ip(mapped), &trusted),
            "127.0.0.1"
        );
    }

    #[test]
    fn percent_escapes() {
        assert_eq!(
            percent_decode("group:%22secret%20agents%22").unwrap(),
            "group:\"secret agents\""
        );
        assert_eq!(percent_decode("a+b").unwrap(), "a+b");
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%4").is_err());
        assert!(percent_decode("%ff").is_err());
    }
}
