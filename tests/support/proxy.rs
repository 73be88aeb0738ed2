//! A PostgreSQL wire-protocol proxy that rewrites the SQL a client sends: a stand-in for a
//! misbehaving middlebox (a pooler, a "helpful" proxy) between driftgate and the server.
//!
//! It answers SSL and GSS encryption requests with `N` itself, forwards the startup packet
//! untouched, then rewrites the text of every simple query (`Q`) and every prepared
//! statement (`P`) with the given function, fixing up the message length. What the server
//! answers is relayed byte for byte.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;

const SSL_REQUEST: u32 = 80877103;
const GSSENC_REQUEST: u32 = 80877104;

type Rewrite = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// A running proxy; connections are served on threads until the test binary exits.
pub struct RewritingProxy {
    pub port: u16,
}

impl RewritingProxy {
    pub fn start(
        server_port: u16,
        rewrite: impl Fn(&str) -> String + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
        let port = listener.local_addr().unwrap().port();
        let rewrite: Rewrite = Arc::new(rewrite);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let rewrite = rewrite.clone();
                std::thread::spawn(move || {
                    let _ = serve(client, server_port, rewrite);
                });
            }
        });
        RewritingProxy { port }
    }
}

fn read_exact_vec(s: &mut TcpStream, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

fn serve(mut client: TcpStream, server_port: u16, rewrite: Rewrite) -> std::io::Result<()> {
    // Untyped startup-phase messages: encryption requests (answered here), then the startup
    // packet (forwarded).
    let startup = loop {
        let len = u32::from_be_bytes(read_exact_vec(&mut client, 4)?.try_into().unwrap());
        let body = read_exact_vec(&mut client, len as usize - 4)?;
        let code = u32::from_be_bytes(body[..4].try_into().unwrap());
        if code == SSL_REQUEST || code == GSSENC_REQUEST {
            client.write_all(b"N")?;
            continue;
        }
        let mut msg = len.to_be_bytes().to_vec();
        msg.extend_from_slice(&body);
        break msg;
    };
    let mut server = TcpStream::connect(("127.0.0.1", server_port))?;
    server.write_all(&startup)?;

    let mut from_server = server.try_clone()?;
    let mut to_client = client.try_clone()?;
    let relay = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Both);
    });
    loop {
        let mut tag = [0u8; 1];
        if client.read_exact(&mut tag).is_err() {
            break;
        }
        let len = u32::from_be_bytes(read_exact_vec(&mut client, 4)?.try_into().unwrap());
        let body = read_exact_vec(&mut client, len as usize - 4)?;
        let body = match tag[0] {
            b'Q' => {
                let sql = String::from_utf8_lossy(&body[..body.len() - 1]);
                let mut out = rewrite(&sql).into_bytes();
                out.push(0);
                out
            }
            b'P' => {
                // Parse: statement name \0, query \0, then parameter types.
                let name_end = body.iter().position(|&b| b == 0).unwrap();
                let q_end =
                    name_end + 1 + body[name_end + 1..].iter().position(|&b| b == 0).unwrap();
                let sql = String::from_utf8_lossy(&body[name_end + 1..q_end]);
                let mut out = body[..=name_end].to_vec();
                out.extend_from_slice(rewrite(&sql).as_bytes());
                out.extend_from_slice(&body[q_end..]);
                out
            }
            _ => body,
        };
        server.write_all(&tag)?;
        server.write_all(&((body.len() + 4) as u32).to_be_bytes())?;
        server.write_all(&body)?;
    }
    let _ = server.shutdown(Shutdown::Both);
    let _ = relay.join();
    Ok(())
}
