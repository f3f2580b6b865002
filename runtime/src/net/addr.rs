//! [`ToSocketAddrs`] and [`lookup_host`]: addresses in every form tokio
//! accepts. Literal addresses resolve at once; a host name is looked up
//! with the system resolver (`getaddrinfo`, which blocks) on the runtime's
//! blocking pool, never on a worker.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::io::Error;

/// What can name one or more socket addresses: a [`SocketAddr`], an
/// `(ip, port)` pair, `"host:port"`, `("host", port)`, or a slice of
/// addresses. Sealed: its one method is keen's own.
///
/// ```
/// keen::block_on(async {
///     let addrs: Vec<_> = keen::net::lookup_host(("127.0.0.1", 80)).await.unwrap().collect();
///     assert_eq!(addrs, ["127.0.0.1:80".parse().unwrap()]);
/// });
/// ```
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use super::*;

    /// How an address resolves: at once, or through a name lookup.
    #[doc(hidden)]
    #[derive(Debug)]
    pub enum Resolution {
        /// Already addresses.
        Ready(io::Result<Vec<SocketAddr>>),
        /// `host:port` to look up.
        Lookup(String),
        /// A host and port to look up.
        LookupPair(String, u16),
    }

    /// The sealed half of [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait ToSocketAddrsPriv {
        #[doc(hidden)]
        fn resolution(&self) -> Resolution;
    }
}

use sealed::{Resolution, ToSocketAddrsPriv};

macro_rules! literal {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl ToSocketAddrsPriv for $ty {
            fn resolution(&self) -> Resolution {
                Resolution::Ready(Ok(vec![SocketAddr::from(*self)]))
            }
        }
    )*};
}

literal!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
    ([u8; 4], u16),
    ([u8; 16], u16)
);

impl ToSocketAddrs for &[SocketAddr] {}
impl ToSocketAddrsPriv for &[SocketAddr] {
    fn resolution(&self) -> Resolution {
        Resolution::Ready(Ok(self.to_vec()))
    }
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn resolution(&self) -> Resolution {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Resolution::Ready(Ok(vec![addr])),
            Err(_) => Resolution::Lookup(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn resolution(&self) -> Resolution {
        self.as_str().resolution()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn resolution(&self) -> Resolution {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Resolution::Ready(Ok(vec![SocketAddr::new(ip, port)])),
            Err(_) => Resolution::LookupPair(host.to_owned(), port),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn resolution(&self) -> Resolution {
        (self.0.as_str(), self.1).resolution()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn resolution(&self) -> Resolution {
        (**self).resolution()
    }
}

/// Every address `addr` names, looking host names up on the blocking pool.
pub(crate) async fn resolve<A: ToSocketAddrs>(addr: A) -> io::Result<Vec<SocketAddr>> {
    let lookup: Box<dyn FnOnce() -> io::Result<Vec<SocketAddr>> + Send> = match addr.resolution() {
        Resolution::Ready(addrs) => return addrs,
        Resolution::Lookup(host) => {
            Box::new(move || std::net::ToSocketAddrs::to_socket_addrs(&host).map(Iterator::collect))
        }
        Resolution::LookupPair(host, port) => Box::new(move || {
            std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port)).map(Iterator::collect)
        }),
    };
    let handle = crate::Handle::try_current().map_err(|_| crate::io::error::no_runtime())?;
    handle
        .spawn_blocking(lookup)
        .await
        .map_err(|err| Error::other(format!("keen: the name lookup task failed: {err}")))?
}

/// Runs `op` on each address `addr` names in turn; the first success, or
/// the last error.
pub(crate) async fn each_addr<A, T, F, Fut>(addr: A, mut op: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in resolve(addr).await? {
        match op(addr).await {
            Ok(done) => return Ok(done),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| {
        Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}

/// The addresses `host` names (`"example.com:80"`, `("example.com", 80)`,
/// or a literal), looked up with the system resolver on the blocking pool.
///
/// # Errors
/// The resolver's error; an error naming the fix outside any runtime.
pub async fn lookup_host<T: ToSocketAddrs>(
    host: T,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve(host).await?.into_iter())
}
