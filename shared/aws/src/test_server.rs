//! A throwaway HTTP server for the unit tests of the HTTP clients (the SDK's and the webhook
//! sender's): canned replies, and the raw requests it got.

use std::io::{Read, Write};
use std::time::Duration;

/// A server on 127.0.0.1 answering each of `replies` on its own connection after `delay`;
/// its port and a handle yielding the requests it got.
pub(crate) fn server(replies: Vec<&'static str>, delay: Duration) -> (u16, std::thread::JoinHandle<Vec<String>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for reply in replies {
            let (mut stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
            let mut buf = vec![0; 8192];
            let n = stream.read(&mut buf).unwrap_or(0);
            std::thread::sleep(delay);
            let _ = stream.write_all(reply.as_bytes());
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        seen
    });
    (port, handle)
}
