//! A TCP proxy between the app and PostgreSQL that a test can cut and restore, to show how the
//! service behaves while its database is unreachable, without stopping the shared server.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct DbProxy {
    port: u16,
    up: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
}

impl DbProxy {
    /// Starts forwarding to the test PostgreSQL server on a thread of its own.
    pub fn start() -> Self {
        let server = url::Url::parse(&super::database::server_url()).expect("database URL");
        let target = format!(
            "{}:{}",
            server.host_str().unwrap_or("127.0.0.1"),
            server.port().unwrap_or(5432)
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let (cuts, _) = watch::channel(0u64);
        let (up_flag, cut_signal) = (up.clone(), cuts.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(serve(listener, target, up_flag, cut_signal));
        });
        Self { port, up, cuts }
    }

    /// A URL like the server's, but through the proxy.
    pub fn url(&self) -> String {
        let mut url = url::Url::parse(&super::database::server_url()).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.to_string()
    }

    /// The database becomes unreachable: open connections break, new ones are refused.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

async fn serve(
    listener: std::net::TcpListener,
    target: String,
    up: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
) {
    let listener = TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let Ok((inbound, _)): Result<(TcpStream, SocketAddr), _> = listener.accept().await else {
            continue;
        };
        if !up.load(Ordering::SeqCst) {
            drop(inbound);
            continue;
        }
        let mut cut = cuts.subscribe();
        let target = target.clone();
        tokio::spawn(async move {
            let mut inbound = inbound;
            let Ok(mut outbound) = TcpStream::connect(&target).await else {
                return;
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                _ = cut.changed() => {}
            }
        });
    }
}
