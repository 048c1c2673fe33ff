//! libpq links OpenSSL, which by default frees its state in an exit handler. If the process
//! exits while another thread still holds a connection (a pool's reaper, a blocking task), that
//! thread then uses freed memory and the process aborts ("free(): invalid size"). Initialising
//! OpenSSL ourselves first, the way the `openssl-sys` crate does (`OPENSSL_INIT_NO_ATEXIT`),
//! means no such handler is ever registered. Call before the first connection; repeats are free.
pub fn prepare() {
    openssl_sys::init();
}
