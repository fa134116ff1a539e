//! A local stand-in for the Anthropic Messages API, for tests: the real protocol (status codes,
//! error bodies, `request-id`, retry headers, SSE events with `thinking` and `text` blocks, usage
//! with cache fields) and the real API's refusals of malformed requests: unknown fields, bad
//! messages, a forced tool call on an always-thinking model, sampling parameters on 5.x models
//! (400), an unknown model (404), a missing or wrong key (401). The Message Batches endpoints
//! too: create (each request's params checked as above, no streaming, custom ids of the API's
//! form and unique), retrieve (in progress for a set number of looks, then ended), and results as
//! JSON lines in an order other than the requests'. For clients that drive an agent (Claude
//! Code): `?beta=true`, `system` entries among the turns, tool_use / tool_result / thinking /
//! tool_reference blocks checked field by field, answers without `stream` as one JSON message,
//! and `FakeAnthropic::agent`, which answers with scripted `tool_use` calls.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

pub const KEY: &str = "sk-ant-test-0123456789abcdefghijklmnop";

const MODELS: &[&str] = &[
    "claude-opus-5-5",
    "claude-sonnet-5-5",
    "claude-haiku-5-5",
    "claude-fable-5-1",
    "claude-opus-5",
    "claude-opus-4-5",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
];
const ALWAYS_THINKING: &[&str] = &["claude-opus-5-5", "claude-fable-5-1"];
const TOP_LEVEL: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "system",
    "metadata",
    "stop_sequences",
    "stream",
    "temperature",
    "top_k",
    "top_p",
    "tools",
    "tool_choice",
    "thinking",
    "output_config",
    "service_tier",
    "container",
    "context_management",
    "mcp_servers",
];

/// What the server answers to the next valid request.
#[derive(Clone, Debug)]
pub enum Reply {
    Approve,
    RequestChanges,
    /// An HTTP error with the API's error body and extra headers.
    Error {
        status: u16,
        kind: &'static str,
        message: &'static str,
        headers: Vec<(&'static str, &'static str)>,
    },
    /// `request_changes` with these findings (JSON array of the schema's findings).
    Findings(&'static str),
    /// Text that is not the verdict's JSON.
    Prose,
    /// Any text, ending normally (a spec, say).
    Text(&'static str),
    Refusal,
    MaxTokens,
    /// JSON off the schema.
    OffSchema,
    /// Says nothing for this long, then approves.
    Hang(Duration),
    /// In a batch: the request expired before it ran.
    Expired,
}

impl Reply {
    pub fn overloaded() -> Reply {
        Reply::Error {
            status: 529,
            kind: "overloaded_error",
            message: "Overloaded",
            headers: vec![("retry-after-ms", "20")],
        }
    }
}

#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    pub url: String,
    pub status: u16,
    pub body: String,
    /// Why the request was rejected as malformed, when it was.
    pub rejected: Option<String>,
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    log: Vec<Logged>,
    cached: HashSet<String>,
    counter: u64,
    batches: HashMap<String, FakeBatch>,
    /// How many looks at a new batch find it still in progress.
    batch_looks: u32,
    /// An agent's turns (`FakeAnthropic::agent`): tool calls to make, in order.
    agent: Option<Vec<(String, Value)>>,
}

struct FakeBatch {
    id: String,
    /// (custom_id, model, system, params' size)
    requests: Vec<(String, String, String, usize)>,
    looks_left: u32,
    /// JSON lines, once ended.
    results: Option<Vec<String>>,
}

pub struct FakeAnthropic {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeAnthropic {
    /// Starts a server that answers with `script` in order, then approves.
    pub fn start(script: Vec<Reply>) -> FakeAnthropic {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("fake API binds");
        let url = format!("http://{}", server.server_addr());
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            batch_looks: 1,
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || handle(request, &state));
            }
        });
        FakeAnthropic { url, state }
    }

    /// A server that plays an agent, as a client like Claude Code drives one: a request that
    /// offers tools gets the next of `calls` (tool name, input) as a `tool_use` block — the next
    /// after as many as the conversation already answered with `tool_result`s — then, once they
    /// are all answered, a closing text that quotes the last result. A request without tools (a
    /// client's side request: a title, a summary) gets a short text.
    pub fn agent(calls: Vec<(&str, Value)>) -> FakeAnthropic {
        let fake = FakeAnthropic::start(Vec::new());
        fake.state.lock().unwrap().agent = Some(
            calls
                .into_iter()
                .map(|(name, input)| (name.to_string(), input))
                .collect(),
        );
        fake
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    /// Messages requests that reached the reviewer (not rejected, not failed by the script).
    pub fn answered(&self) -> Vec<Logged> {
        self.log()
            .into_iter()
            .filter(|l| l.status == 200 && l.url.split('?').next() == Some("/v1/messages"))
            .collect()
    }

    /// How many looks at a new batch find it still in progress (1 unless set).
    pub fn set_batch_looks(&self, looks: u32) {
        self.state.lock().unwrap().batch_looks = looks;
    }

    /// Batches created, as their bodies.
    pub fn batches_created(&self) -> Vec<Value> {
        self.log()
            .into_iter()
            .filter(|l| l.status == 200 && l.url == "/v1/messages/batches" && l.method == "POST")
            .map(|l| serde_json::from_str(&l.body).unwrap())
            .collect()
    }
}

fn error_body(kind: &str, message: &str, id: &str) -> String {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": id})
        .to_string()
}

fn respond_json(request: tiny_http::Request, status: u16, id: &str, body: String) {
    let response = tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(tiny_http::Header::from_bytes("request-id", id.as_bytes()).unwrap())
        .with_header(tiny_http::Header::from_bytes("content-type", "application/json").unwrap());
    let _ = request.respond(response);
}

fn handle(mut request: tiny_http::Request, state: &Mutex<State>) {
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let id = {
        let mut s = state.lock().unwrap();
        s.counter += 1;
        format!("req_fake_{:06}", s.counter)
    };
    let method = request.method().to_string();
    let url = request.url().to_string();
    let log = |status: u16, rejected: Option<String>| {
        state.lock().unwrap().log.push(Logged {
            method: method.clone(),
            url: url.clone(),
            status,
            body: body.clone(),
            rejected,
        });
    };
    if url.starts_with("/v1/messages/batches") {
        let header = |name: &str| header_of(&request, name);
        let answer = batches(&method, &url, &body, &header, state);
        let (status, text) = match answer {
            Ok(text) => (200, text),
            Err((status, kind, message)) => (status, error_body(&kind, &message, &id)),
        };
        log(status, (status != 200).then(|| text.clone()));
        respond_json(request, status, &id, text);
        return;
    }
    let header = |name: &str| header_of(&request, name);
    let verdict = validate(&method, &url, &body, &header);
    let (status, kind, message, extra, reply) = match verdict {
        Err((status, kind, message)) => (status, kind, message, vec![], None),
        Ok(model_and_system) => match next_reply(state) {
            Reply::Error {
                status,
                kind,
                message,
                headers,
            } => (status, kind.to_string(), message.to_string(), headers, None),
            other => (
                200,
                String::new(),
                String::new(),
                vec![],
                Some((other, model_and_system)),
            ),
        },
    };
    let rejected = (status == 400 || status == 404 || status == 401).then(|| message.clone());
    log(status, rejected);
    let id_header = tiny_http::Header::from_bytes("request-id", id.as_bytes()).unwrap();
    let Some((reply, (model, system))) = reply else {
        let mut response = tiny_http::Response::from_string(error_body(&kind, &message, &id))
            .with_status_code(status)
            .with_header(id_header)
            .with_header(
                tiny_http::Header::from_bytes("content-type", "application/json").unwrap(),
            );
        for (k, v) in extra {
            response = response.with_header(tiny_http::Header::from_bytes(k, v).unwrap());
        }
        let _ = request.respond(response);
        return;
    };
    if let Reply::Hang(d) = reply {
        std::thread::sleep(d);
    }
    let usage = usage_for(state, body.len(), &system);
    let agent = state.lock().unwrap().agent.clone();
    let call = agent.as_ref().and_then(|calls| agent_turn(calls, &body));
    let (stop, text) = match (&agent, &call) {
        (Some(_), Some(_)) => ("tool_use", String::new()),
        (Some(_), None) => ("end_turn", agent_closing(&body)),
        (None, _) => answer_of(reply),
    };
    let output = (text.len() / 4 + 5) as u64;
    let streamed = serde_json::from_str::<Value>(&body).is_ok_and(|v| v["stream"] == json!(true));
    if !streamed {
        // The whole message in one JSON body, as the API answers a request without `stream`.
        let mut content = vec![json!({"type": "thinking", "thinking": "", "signature": "c2ln"})];
        match &call {
            Some((name, input)) => content.push(
                json!({"type": "tool_use", "id": format!("toolu_{id}"), "name": name, "input": input}),
            ),
            None if stop != "refusal" => content.push(json!({"type": "text", "text": text})),
            None => {}
        }
        let mut usage = usage.clone();
        usage["output_tokens"] = json!(output);
        let message = json!({
            "id": format!("msg_{id}"), "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop, "stop_sequence": null, "usage": usage
        });
        respond_json(request, 200, &id, message.to_string());
        return;
    }
    let mut events = Vec::new();
    let mut event =
        |name: &str, data: Value| events.push(format!("event: {name}\ndata: {data}\n\n"));
    let mut start_usage = usage.clone();
    start_usage["output_tokens"] = json!(1);
    event(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": format!("msg_{id}"), "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": start_usage
        }}),
    );
    event(
        "content_block_start",
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
    );
    event(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "c2ln"}}),
    );
    event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    );
    event("ping", json!({"type": "ping"}));
    if let Some((name, input)) = &call {
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 1, "content_block": {
                "type": "tool_use", "id": format!("toolu_{id}"), "name": name, "input": {}}}),
        );
        let json = input.to_string();
        let chars: Vec<char> = json.chars().collect();
        for piece in chars.chunks(23) {
            let piece: String = piece.iter().collect();
            event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": piece}}),
            );
        }
        event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 1}),
        );
    } else if stop != "refusal" {
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
        );
        let chars: Vec<char> = text.chars().collect();
        for piece in chars.chunks(17) {
            let piece: String = piece.iter().collect();
            event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": piece}}),
            );
        }
        event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 1}),
        );
    }
    event(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": output}}),
    );
    event("message_stop", json!({"type": "message_stop"}));
    let response = tiny_http::Response::from_string(events.concat())
        .with_header(id_header)
        .with_header(tiny_http::Header::from_bytes("content-type", "text/event-stream").unwrap());
    let _ = request.respond(response);
}

/// The agent's next tool call for this request: `None` when the request offers no tools, or
/// when every call was answered already.
fn agent_turn(calls: &[(String, Value)], body: &str) -> Option<(String, Value)> {
    let v: Value = serde_json::from_str(body).ok()?;
    if v["tools"].as_array().is_none_or(|t| t.is_empty()) {
        return None;
    }
    calls.get(tool_results(&v).len()).cloned()
}

/// The `tool_result` blocks of a request's conversation, in order.
fn tool_results(v: &Value) -> Vec<Value> {
    v["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_array())
        .flatten()
        .filter(|b| b["type"] == "tool_result")
        .cloned()
        .collect()
}

/// The agent's last words: the last tool result's text, or a short answer to a side request.
fn agent_closing(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_default();
    let Some(last) = tool_results(&v).pop() else {
        return "Done.".to_string();
    };
    let text = match &last["content"] {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    };
    format!("The last tool answered: {text}")
}

/// The script's next reply; an approval once it is spent.
fn next_reply(state: &Mutex<State>) -> Reply {
    state
        .lock()
        .unwrap()
        .script
        .pop_front()
        .unwrap_or(Reply::Approve)
}

fn header_of(request: &tiny_http::Request, name: &str) -> Option<String> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().to_string())
}

/// Usage the way the API reports it: the cached system prompt is written once, then read.
fn usage_for(state: &Mutex<State>, body_len: usize, system: &str) -> Value {
    let total = (body_len / 4) as u64;
    let system_tokens = (system.len() / 4) as u64;
    let first = state.lock().unwrap().cached.insert(system.to_string());
    let (write, read) = if first {
        (system_tokens, 0)
    } else {
        (0, system_tokens)
    };
    json!({"input_tokens": total.saturating_sub(system_tokens), "cache_creation_input_tokens": write, "cache_read_input_tokens": read})
}

/// The stop reason and text a scripted reply answers with.
fn answer_of(reply: Reply) -> (&'static str, String) {
    match reply {
        Reply::Approve | Reply::Hang(_) => ("end_turn", json!({"decision": "approve", "summary": "Correct and safe.", "findings": []}).to_string()),
        Reply::RequestChanges => ("end_turn", json!({"decision": "request_changes", "summary": "Input is not validated.", "findings": [
            {"path": "src/port.rs", "line": 6, "severity": "high", "category": "edge_cases", "message": "Port 0 is accepted.", "suggestion": "Reject 0."}
        ]}).to_string()),
        Reply::Findings(findings) => ("end_turn", json!({"decision": "request_changes", "summary": "Changes needed.",
            "findings": serde_json::from_str::<Value>(findings).unwrap()}).to_string()),
        Reply::Prose => ("end_turn", "This change looks good to me. I approve.".to_string()),
        Reply::Text(text) => ("end_turn", text.to_string()),
        Reply::Refusal => ("refusal", String::new()),
        Reply::MaxTokens => ("max_tokens", "{\"decision\": \"approve\", \"summ".to_string()),
        Reply::OffSchema => ("end_turn", json!({"decision": "lgtm", "summary": "ok", "findings": []}).to_string()),
        Reply::Error { .. } | Reply::Expired => unreachable!("not an answer"),
    }
}

fn batch_json(b: &FakeBatch, base: &str) -> Value {
    let ended = b.results.is_some();
    let n = b.requests.len();
    let count = |kind: &str| {
        b.results.as_ref().map_or(0, |r| {
            r.iter()
                .filter(|l| l.contains(&format!("\"type\":\"{kind}\"")))
                .count()
        })
    };
    json!({
        "id": b.id, "type": "message_batch",
        "processing_status": if ended { "ended" } else { "in_progress" },
        "request_counts": {
            "processing": if ended { 0 } else { n },
            "succeeded": count("succeeded"), "errored": count("errored"),
            "canceled": 0, "expired": count("expired"),
        },
        "created_at": "2026-11-25T10:00:00.000000Z",
        "ended_at": if ended { json!("2026-11-25T10:20:00.000000Z") } else { Value::Null },
        "expires_at": "2026-11-26T10:00:00.000000Z",
        "archived_at": null, "cancel_initiated_at": null,
        "results_url": if ended { json!(format!("{base}/v1/messages/batches/{}/results", b.id)) } else { Value::Null },
    })
}

/// The Message Batches endpoints.
fn batches(
    method: &str,
    url: &str,
    body: &str,
    header: &dyn Fn(&str) -> Option<String>,
    state: &Mutex<State>,
) -> Result<String, Rejection> {
    check_headers(header)?;
    let base = format!("http://{}", header("host").unwrap_or_default());
    let rest = url.trim_start_matches("/v1/messages/batches");
    match (method, rest) {
        ("POST", "") => {
            let v: Value =
                serde_json::from_str(body).map_err(|e| bad(format!("invalid JSON: {e}")))?;
            if let Some(k) = v
                .as_object()
                .and_then(|o| o.keys().find(|k| *k != "requests"))
            {
                return Err(bad(format!("{k}: Extra inputs are not permitted")));
            }
            let items = v["requests"]
                .as_array()
                .filter(|a| !a.is_empty() && a.len() <= 100_000)
                .ok_or_else(|| bad("requests: must hold 1 to 100000 items"))?;
            let mut seen = HashSet::new();
            let mut requests = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let keys: Vec<&String> = item
                    .as_object()
                    .map(|o| o.keys().collect())
                    .unwrap_or_default();
                if let Some(k) = keys
                    .iter()
                    .find(|k| !["custom_id", "params"].contains(&k.as_str()))
                {
                    return Err(bad(format!(
                        "requests.{i}.{k}: Extra inputs are not permitted"
                    )));
                }
                let custom = item["custom_id"].as_str().unwrap_or_default();
                let valid = !custom.is_empty()
                    && custom.len() <= 64
                    && custom
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !valid {
                    return Err(bad(format!(
                        "requests.{i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
                    )));
                }
                if !seen.insert(custom.to_string()) {
                    return Err(bad(format!(
                        "requests.{i}.custom_id: duplicate custom_id {custom}"
                    )));
                }
                let params = &item["params"];
                if params.get("stream").is_some_and(|s| s != &json!(false)) {
                    return Err(bad(format!(
                        "requests.{i}.params.stream: streaming is not supported in batches"
                    )));
                }
                let (model, system) = check_params(params)
                    .map_err(|(s, k, m)| (s, k, format!("requests.{i}.params.{m}")))?;
                requests.push((custom.to_string(), model, system, params.to_string().len()));
            }
            // Batch ids are unique across servers, as the real API's are.
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut s = state.lock().unwrap();
            let b = FakeBatch {
                id: format!("msgbatch_fake_{n:06}"),
                requests,
                looks_left: s.batch_looks,
                results: None,
            };
            let answer = batch_json(&b, &base).to_string();
            s.batches.insert(b.id.clone(), b);
            Ok(answer)
        }
        ("GET", rest) => {
            let (id, results) = match rest.strip_suffix("/results") {
                Some(id) => (id.trim_start_matches('/'), true),
                None => (rest.trim_start_matches('/'), false),
            };
            let not_found = || {
                (
                    404,
                    "not_found_error".to_string(),
                    format!("batch {id} not found"),
                )
            };
            let looked = {
                let mut s = state.lock().unwrap();
                let b = s.batches.get_mut(id).ok_or_else(not_found)?;
                if !results && b.results.is_none() {
                    if b.looks_left == 0 {
                        Some(b.requests.clone())
                    } else {
                        b.looks_left -= 1;
                        None
                    }
                } else {
                    None
                }
            };
            if let Some(requests) = looked {
                // The batch ends now: each request answered by the script, results in reverse.
                let mut lines = Vec::new();
                for (custom, model, system, size) in requests.into_iter().rev() {
                    let result = match next_reply(state) {
                        Reply::Error { kind, message, .. } => {
                            json!({"type": "errored", "error": {"type": "error", "error": {"type": kind, "message": message}}})
                        }
                        Reply::Expired => json!({"type": "expired"}),
                        reply => {
                            let mut usage = usage_for(state, size, &system);
                            let (stop, text) = answer_of(reply);
                            usage["output_tokens"] = json!((text.len() / 4 + 5) as u64);
                            let mut content = vec![
                                json!({"type": "thinking", "thinking": "", "signature": "c2ln"}),
                            ];
                            if stop != "refusal" {
                                content.push(json!({"type": "text", "text": text}));
                            }
                            json!({"type": "succeeded", "message": {
                                "id": format!("msg_{custom}_{id}"), "type": "message", "role": "assistant",
                                "model": model, "content": content, "stop_reason": stop,
                                "stop_sequence": null, "usage": usage,
                            }})
                        }
                    };
                    lines.push(json!({"custom_id": custom, "result": result}).to_string());
                }
                state.lock().unwrap().batches.get_mut(id).unwrap().results = Some(lines);
            }
            let s = state.lock().unwrap();
            let b = s.batches.get(id).ok_or_else(not_found)?;
            if results {
                let lines = b.results.as_ref().ok_or_else(|| {
                    bad(format!(
                        "batch {id} is still in progress; its results are not ready"
                    ))
                })?;
                Ok(lines.join("\n") + "\n")
            } else {
                Ok(batch_json(b, &base).to_string())
            }
        }
        _ => Err((404, "not_found_error".into(), format!("Not found: {url}"))),
    }
}

type Rejection = (u16, String, String);

fn bad(message: impl Into<String>) -> Rejection {
    (400, "invalid_request_error".into(), message.into())
}

/// The real API's checks, as far as this product can trip them. Ok: (model, system text).
fn validate(
    method: &str,
    url: &str,
    body: &str,
    header: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, String), Rejection> {
    // Clients of the beta API (Claude Code) add `?beta=true`.
    let path = url.split('?').next().unwrap_or_default();
    if method != "POST" || path != "/v1/messages" {
        return Err((404, "not_found_error".into(), format!("Not found: {url}")));
    }
    check_headers(header)?;
    let v: Value = serde_json::from_str(body).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    check_params(&v)
}

fn check_headers(header: &dyn Fn(&str) -> Option<String>) -> Result<(), Rejection> {
    match header("x-api-key") {
        None => {
            return Err((
                401,
                "authentication_error".into(),
                "x-api-key header is required".into(),
            ));
        }
        Some(k) if k != KEY => {
            return Err((
                401,
                "authentication_error".into(),
                "invalid x-api-key".into(),
            ));
        }
        Some(_) => {}
    }
    if header("anthropic-version").as_deref() != Some("2023-06-01") {
        return Err(bad("anthropic-version: header is required"));
    }
    Ok(())
}

/// A Messages request's body, checked as the API checks it.
fn check_params(v: &Value) -> Result<(String, String), Rejection> {
    let obj = v.as_object().ok_or_else(|| bad("body must be an object"))?;
    for key in obj.keys() {
        if !TOP_LEVEL.contains(&key.as_str()) {
            return Err(bad(format!("{key}: Extra inputs are not permitted")));
        }
    }
    let model = v["model"]
        .as_str()
        .ok_or_else(|| bad("model: Field required"))?
        .to_string();
    if v["max_tokens"].as_u64().is_none_or(|n| n < 1) {
        return Err(bad("max_tokens: Field required"));
    }
    let messages = v["messages"]
        .as_array()
        .ok_or_else(|| bad("messages: Field required"))?;
    // `system` entries may sit among the turns (Claude Code sends them); the conversation
    // itself starts with the user, and consecutive turns of one role are joined, as the API does.
    let turns: Vec<&Value> = messages.iter().filter(|m| m["role"] != "system").collect();
    if turns.is_empty() || turns[0]["role"] != "user" {
        return Err(bad("messages: first message must use the \"user\" role"));
    }
    for (i, m) in messages.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or_default();
        if !["user", "assistant", "system"].contains(&role) {
            return Err(bad(format!(
                "messages.{i}.role: Input should be 'user', 'assistant' or 'system'"
            )));
        }
        check_content(&m["content"], &format!("messages.{i}.content"))?;
    }
    let system = match &v["system"] {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => {
            check_content(other, "system")?;
            other
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect()
        }
    };
    if let Some(format) = v.get("output_config").map(|c| &c["format"])
        && (format["type"] != "json_schema" || !format["schema"].is_object())
    {
        return Err(bad(
            "output_config.format: expected {type: \"json_schema\", schema: {...}}",
        ));
    }
    if !MODELS.contains(&model.as_str()) {
        return Err((404, "not_found_error".into(), format!("model: {model}")));
    }
    // claude-<family>-<major>[-<minor>]: 5.x models reject sampling parameters.
    let major = model.split('-').nth(2).unwrap_or_default();
    let is_5x = major == "5";
    if is_5x {
        for p in ["temperature", "top_p", "top_k"] {
            if obj.contains_key(p) {
                return Err(bad(format!("{p}: is not supported on {model}; remove it")));
            }
        }
    }
    if ALWAYS_THINKING.contains(&model.as_str())
        && matches!(v["tool_choice"]["type"].as_str(), Some("tool" | "any"))
    {
        return Err(bad(
            "tool_choice: forcing tool use is not compatible with thinking",
        ));
    }
    Ok((model, system))
}

fn check_content(content: &Value, at: &str) -> Result<(), Rejection> {
    match content {
        Value::String(s) if !s.is_empty() => Ok(()),
        Value::Array(blocks) if !blocks.is_empty() => {
            for (i, b) in blocks.iter().enumerate() {
                check_block(b, &format!("{at}.{i}"))?;
            }
            Ok(())
        }
        _ => Err(bad(format!(
            "{at}: must be a non-empty string or list of blocks"
        ))),
    }
}

/// One content block: its type's fields and no others, as the API checks them.
fn check_block(b: &Value, at: &str) -> Result<(), Rejection> {
    let keys: Vec<&String> = b
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    let (allowed, required): (&[&str], &[&str]) = match b["type"].as_str() {
        Some("text") => {
            if !b["text"].is_string() || b["text"] == "" {
                return Err(bad(format!("{at}: text blocks must have non-empty text")));
            }
            (&["type", "text", "cache_control", "citations"], &["text"])
        }
        Some("tool_use") => (
            &["type", "id", "name", "input", "cache_control", "caller"],
            &["id", "name", "input"],
        ),
        Some("tool_result") => {
            if let Some(inner) = b.get("content").filter(|c| c.is_array()) {
                check_content(inner, &format!("{at}.content"))?;
            }
            (
                &[
                    "type",
                    "tool_use_id",
                    "content",
                    "is_error",
                    "cache_control",
                ],
                &["tool_use_id"],
            )
        }
        Some("thinking") => (
            &["type", "thinking", "signature"],
            &["thinking", "signature"],
        ),
        Some("redacted_thinking") => (&["type", "data"], &["data"]),
        // What a tool search answers with (inside a tool_result): a deferred tool, now loaded.
        Some("tool_reference") => (&["type", "tool_name"], &["tool_name"]),
        Some("image" | "document") => (
            &[
                "type",
                "source",
                "cache_control",
                "title",
                "context",
                "citations",
            ],
            &["source"],
        ),
        other => {
            return Err(bad(format!(
                "{at}: Input tag '{}' found using 'type' does not match any of the expected tags",
                other.unwrap_or_default()
            )));
        }
    };
    if let Some(k) = keys.iter().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad(format!("{at}.{k}: Extra inputs are not permitted")));
    }
    if let Some(k) = required.iter().find(|k| b.get(**k).is_none()) {
        return Err(bad(format!("{at}.{k}: Field required")));
    }
    let cache = &b["cache_control"];
    if !cache.is_null()
        && (cache["type"] != "ephemeral"
            || cache
                .as_object()
                .is_some_and(|o| o.keys().any(|k| k != "type" && k != "ttl")))
    {
        return Err(bad(format!("{at}.cache_control: invalid")));
    }
    Ok(())
}
