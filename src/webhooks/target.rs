//! Where a webhook may be sent. In production only `https` to public addresses: a webhook
//! must never become a way to reach the municipality's own network (or this machine) from a
//! partner's registration. The check is made twice: on the URL when it is registered, and on
//! every address the name resolves to when it is sent (a name can point elsewhere later), by
//! the client's own resolver, so the address checked is the address connected to.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// The longest target URL.
pub const MAX_URL_CHARS: usize = 2000;

/// Why a URL cannot be a target, in the words of the problem's detail.
pub fn check(raw: &str, private_targets: bool) -> Result<Url, &'static str> {
    if raw.chars().count() > MAX_URL_CHARS {
        return Err("is longer than 2000 characters");
    }
    let url = Url::parse(raw).map_err(|_| "is not an absolute URL")?;
    match url.scheme() {
        "https" => {}
        "http" if private_targets => {}
        _ => return Err("must be an https:// URL"),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not hold a user name or password");
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment");
    }
    let Some(host) = url.host_str() else {
        return Err("must name a host");
    };
    if !private_targets {
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        match literal.parse::<IpAddr>() {
            Ok(ip) if !is_public(ip) => return Err("must not point at a private address"),
            Err(_) if host == "localhost" || host.ends_with(".localhost") => {
                return Err("must not point at a private address")
            }
            _ => {}
        }
    }
    Ok(url)
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared
/// (carrier-grade NAT), documentation, multicast, unspecified or an IPv4 address in IPv6 dress.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
                || first == 0x2001 && v6.segments()[1] == 0x0db8 // documentation
                || first == 0x0064 && v6.segments()[1] == 0xff9b) // NAT64
        }
    }
}

/// The resolver of the delivering client: the system's, with every non-public address
/// dropped (unless private targets are allowed), and an error when none is left.
pub struct Resolver {
    pub private_targets: bool,
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let private_targets = self.private_targets;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::task::spawn_blocking(move || (host.as_str(), 0).to_socket_addrs())
                    .await??
                    .filter(|addr| private_targets || is_public(addr.ip()))
                    .collect();
            if found.is_empty() {
                return Err("the name has no public address".into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_takes_only_https_to_public_hosts() {
        assert!(check("https://partner.example.se/hooks/trygg", false).is_ok());
        assert!(check("https://203.0.114.9:8443/in", false).is_ok());
        for refused in [
            "http://partner.example.se/hooks",
            "ftp://partner.example.se/",
            "https://user:pw@partner.example.se/",
            "https://partner.example.se/#x",
            "https://localhost/in",
            "https://api.localhost/in",
            "https://127.0.0.1/in",
            "https://10.1.2.3/in",
            "https://192.168.0.5/in",
            "https://172.16.0.1/in",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/in",
            "https://0.0.0.0/in",
            "https://[::1]/in",
            "https://[fd00::1]/in",
            "https://[fe80::1]/in",
            "https://[::ffff:10.0.0.1]/in",
            "not a url",
            "/relative",
        ] {
            assert!(check(refused, false).is_err(), "{refused}");
        }
        assert!(check(&format!("https://a.se/{}", "x".repeat(2000)), false).is_err());
    }

    #[test]
    fn development_may_send_to_its_own_machine() {
        assert!(check("http://127.0.0.1:9000/in", true).is_ok());
        assert!(check("http://localhost:9000/in", true).is_ok());
        assert!(check("ftp://127.0.0.1/in", true).is_err());
    }

    #[test]
    fn public_addresses_are_public() {
        for ip in ["203.0.114.9", "8.8.8.8", "2a00:1450:4001::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.53",
            "10.0.0.1",
            "::1",
            "fc00::1",
            "2001:db8::1",
            "224.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
