//! Server-sent events framing: bytes as they arrive in, whole events out. Both streaming clients
//! (Claude's Messages API and OpenAI-compatible servers) read their answers through this one
//! framer; what an event *means* stays with each client.
//!
//! It never interprets an event's data, and never drops bytes: an event split across network
//! chunks waits in the buffer until its blank line arrives.

/// One event: its `event:` name when it had one, and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: Option<String>,
    pub data: String,
    /// The event's text as received (line endings normalised to `\n`), for raw records.
    pub text: String,
}

/// Splits a byte stream into events. Events end with a blank line; servers use `\n` or `\r\n`.
#[derive(Default)]
pub struct Framer {
    buffer: Vec<u8>,
}

impl Framer {
    /// Takes the next chunk and returns every event it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Event> {
        self.buffer.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some((end, len)) = event_end(&self.buffer) {
            let bytes: Vec<u8> = self.buffer.drain(..end + len).collect();
            let text = String::from_utf8_lossy(&bytes[..end]).replace("\r\n", "\n");
            let field = |name: &str| -> Vec<String> {
                text.lines()
                    .filter_map(|l| l.strip_prefix(name))
                    .map(|v| v.strip_prefix(' ').unwrap_or(v).to_string())
                    .collect()
            };
            let name = field("event:").into_iter().next();
            let data = field("data:").join("\n");
            events.push(Event { name, data, text });
        }
        events
    }

    /// The stream ended: whatever is left is its last event when it holds anything (some
    /// servers close the connection without the final blank line).
    pub fn finish(mut self) -> Option<Event> {
        if !self.buffer.iter().any(|b| !b.is_ascii_whitespace()) {
            return None;
        }
        self.buffer.extend_from_slice(b"\n\n");
        self.push(&[]).into_iter().next()
    }
}

/// Where the first event in `buffer` ends: (index of the blank line, its length).
fn event_end(buffer: &[u8]) -> Option<(usize, usize)> {
    let lf = buffer.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let crlf = buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_and_line_endings() {
        let mut f = Framer::default();
        assert!(f.push(b"event: ping\ndata: {\"a\"").is_empty());
        let events = f.push(b":1}\n\ndata: x\r\ndata: y\r\n\r\n: comment\n\n");
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].name.as_deref(), Some("ping"));
        assert_eq!(events[0].data, "{\"a\":1}");
        assert_eq!(events[1].name, None);
        assert_eq!(events[1].data, "x\ny");
        assert_eq!(events[2].data, "");
        assert!(f.push(b"data: [DONE]\n").is_empty());
        assert_eq!(f.finish().map(|e| e.data).as_deref(), Some("[DONE]"));
    }
}
