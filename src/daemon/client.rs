//! The client side: connect, agree on the protocol, send one request, read replies.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

use super::protocol::{PROTOCOL, Reply, Request};
use super::{Error, socket_path};

pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    pub daemon_pid: u32,
}

impl Client {
    /// Connects and says hello; `NotRunning` when no daemon answers.
    pub fn connect() -> Result<Client, Error> {
        Client::connect_as(PROTOCOL)
    }

    /// Connects announcing `protocol` (tests use another number to see the refusal).
    pub fn connect_as(protocol: u32) -> Result<Client, Error> {
        let path = socket_path();
        let stream = UnixStream::connect(&path).map_err(|_| Error::NotRunning)?;
        let writer = stream.try_clone().map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let mut client = Client {
            reader: BufReader::new(stream),
            writer,
            daemon_pid: 0,
        };
        client.send(&Request::Hello {
            protocol,
            version: env!("CARGO_PKG_VERSION").to_string(),
        })?;
        match client.receive()? {
            Reply::Hello {
                protocol: theirs,
                pid,
                ..
            } if theirs == PROTOCOL => {
                client.daemon_pid = pid;
                Ok(client)
            }
            Reply::Hello {
                protocol: theirs, ..
            } => Err(Error::Protocol {
                ours: PROTOCOL,
                theirs,
            }),
            Reply::Refused { message } => Err(Error::Garbled(message)),
            other => Err(Error::Garbled(format!("{other:?}"))),
        }
    }

    pub fn send(&mut self, request: &Request) -> Result<(), Error> {
        let mut line = serde_json::to_string(request).map_err(|e| Error::Garbled(e.to_string()))?;
        line.push('\n');
        self.writer
            .write_all(line.as_bytes())
            .map_err(|source| Error::Io {
                path: socket_path(),
                source,
            })
    }

    /// The next reply; `Lost` when the daemon went away.
    pub fn receive(&mut self) -> Result<Reply, Error> {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).map_err(|_| Error::Lost)?;
        if n == 0 {
            return Err(Error::Lost);
        }
        serde_json::from_str(&line).map_err(|e| Error::Garbled(format!("{e}: {line}")))
    }
}
