//! A TCP proxy between the app and PostgreSQL that a test can cut and restore, to show how the
//! service behaves while its database is unreachable, without stopping the shared server. It
//! also reads what the app sends (the frontend side of the wire protocol) and counts the SQL
//! statements, so a test can show how many a request costs.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct DbProxy {
    port: u16,
    up: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
    statements: Arc<StatementCounter>,
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
        let statements = Arc::new(StatementCounter::default());
        let (up_flag, cut_signal, counter) = (up.clone(), cuts.clone(), statements.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(serve(listener, target, up_flag, cut_signal, counter));
        });
        Self {
            port,
            up,
            cuts,
            statements,
        }
    }

    /// The statements the app has sent through the proxy so far (see [`StatementCounter`]).
    /// A statement is counted before it is forwarded, so once a request's answer has arrived,
    /// every statement it ran is in the count.
    pub fn statements(&self) -> u64 {
        self.statements.get()
    }

    pub fn reset_statements(&self) {
        self.statements.reset();
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
    statements: Arc<StatementCounter>,
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
        let statements = statements.clone();
        tokio::spawn(async move {
            let Ok(outbound) = TcpStream::connect(&target).await else {
                return;
            };
            let (mut from_app, mut to_app) = inbound.into_split();
            let (mut from_db, mut to_db) = outbound.into_split();
            let app_to_db = async {
                let mut reader = FrontendReader::default();
                let mut buffer = vec![0u8; 16 * 1024];
                loop {
                    let n = match from_app.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    statements.add(reader.feed(&buffer[..n]));
                    if reader.is_opaque() {
                        statements.blind.store(true, Ordering::SeqCst);
                    }
                    if to_db.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
                let _ = to_db.shutdown().await;
            };
            let db_to_app = async {
                let _ = tokio::io::copy(&mut from_db, &mut to_app).await;
                let _ = to_app.shutdown().await;
            };
            tokio::select! {
                _ = async { tokio::join!(app_to_db, db_to_app) } => {}
                _ = cut.changed() => {}
            }
        });
    }
}

/// Statements sent by the app over every proxied connection: simple-protocol queries (`Q`,
/// which may hold several statements in one batch, counted once) and extended-protocol
/// executions (`E`, one per run of a prepared or unnamed statement).
#[derive(Default)]
pub struct StatementCounter {
    count: AtomicU64,
    /// A connection was encrypted, so its statements went uncounted.
    blind: AtomicBool,
}

impl StatementCounter {
    pub fn get(&self) -> u64 {
        assert!(
            !self.blind.load(Ordering::SeqCst),
            "the app's database connection is encrypted, so its statements cannot be counted; \
             connect with sslmode=disable"
        );
        self.count.load(Ordering::SeqCst)
    }

    pub fn reset(&self) {
        self.count.store(0, Ordering::SeqCst);
    }

    fn add(&self, n: u64) {
        self.count.fetch_add(n, Ordering::SeqCst);
    }
}

/// Reads the frontend (client → server) side of the PostgreSQL wire protocol, version 3, from
/// chunks as they arrive. First come untyped packets (4-byte big-endian length including
/// itself, then a 4-byte code): an SSL or GSS encryption request, which the tests' `sslmode=disable`
/// never sends, then the startup packet. After that every message is typed: one type byte and a
/// 4-byte big-endian length that includes itself but not the type byte.
#[derive(Default)]
pub struct FrontendReader {
    buffer: Vec<u8>,
    started: bool,
    /// The connection was encrypted after all: its messages cannot be read.
    opaque: bool,
}

const SSL_REQUEST: u32 = 80877103;
const GSSENC_REQUEST: u32 = 80877104;

impl FrontendReader {
    /// Takes the next bytes the app sent; returns how many statements they completed.
    pub fn feed(&mut self, bytes: &[u8]) -> u64 {
        if self.opaque {
            return 0;
        }
        self.buffer.extend_from_slice(bytes);
        let mut at = 0;
        let mut statements = 0;
        loop {
            let rest = &self.buffer[at..];
            if !self.started {
                if rest.len() < 8 {
                    break;
                }
                let length = u32::from_be_bytes(rest[0..4].try_into().unwrap()) as usize;
                let code = u32::from_be_bytes(rest[4..8].try_into().unwrap());
                if rest.len() < length {
                    break;
                }
                at += length;
                if code == SSL_REQUEST || code == GSSENC_REQUEST {
                    // A 0x16 next is a TLS handshake: the server said yes and we are blind.
                    if self.buffer.get(at) == Some(&0x16) {
                        self.opaque = true;
                        self.buffer.clear();
                        return statements;
                    }
                } else {
                    self.started = true;
                }
                continue;
            }
            if rest.len() < 5 {
                break;
            }
            let length = u32::from_be_bytes(rest[1..5].try_into().unwrap()) as usize;
            if rest.len() < 1 + length {
                break;
            }
            if matches!(rest[0], b'Q' | b'E') {
                statements += 1;
            }
            at += 1 + length;
        }
        self.buffer.drain(..at);
        statements
    }

    pub fn is_opaque(&self) -> bool {
        self.opaque
    }
}
