//! A local stand-in for an OpenAI-compatible chat server (Ollama, llama-server, vLLM): streamed
//! `/v1/chat/completions` with usage, answering with scripted texts.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

pub struct FakeOpenAi {
    pub url: String,
    state: Arc<Mutex<(VecDeque<String>, Vec<String>)>>,
}

impl FakeOpenAi {
    /// Answers each request with the next text of `answers` (the last one repeats).
    pub fn start(answers: Vec<String>) -> FakeOpenAi {
        FakeOpenAi::start_as(answers, "organization-owner", None)
    }

    /// Like `start`, listing its model as owned by `owned_by` (how servers tell what they are:
    /// `llamacpp`, `vllm`…), and refusing with HTTP 400 any request that carries the field
    /// `refuses` (as a strict server refuses what it does not know).
    pub fn start_as(answers: Vec<String>, owned_by: &str, refuses: Option<&str>) -> FakeOpenAi {
        let owned_by = owned_by.to_string();
        let refuses = refuses.map(str::to_string);
        let server = tiny_http::Server::http("127.0.0.1:0").expect("fake server binds");
        let url = format!("http://{}/v1", server.server_addr());
        let state = Arc::new(Mutex::new((VecDeque::from(answers), Vec::new())));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for mut request in server.incoming_requests() {
                if request.url() == "/v1/models" {
                    let list = json!({"object": "list", "data": [
                        {"id": "m", "object": "model", "created": 0, "owned_by": owned_by}]});
                    let _ = request.respond(tiny_http::Response::from_string(list.to_string()));
                    continue;
                }
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let answer = {
                    let mut s = shared.lock().unwrap();
                    s.1.push(body.clone());
                    if s.0.len() > 1 {
                        s.0.pop_front()
                    } else {
                        s.0.front().cloned()
                    }
                };
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let ok = request.url() == "/v1/chat/completions"
                    && v["model"].is_string()
                    && v["messages"].as_array().is_some_and(|m| !m.is_empty())
                    && v["stream"] == true;
                if !ok {
                    let _ = request.respond(
                        tiny_http::Response::from_string(
                            json!({"error": {"message": "bad request", "type": "invalid_request_error"}}).to_string(),
                        )
                        .with_status_code(400),
                    );
                    continue;
                }
                if let Some(field) = refuses.as_deref().filter(|f| !v[*f].is_null()) {
                    let _ = request.respond(
                        tiny_http::Response::from_string(
                            json!({"error": {"message": format!("Unrecognized request argument supplied: {field}"), "type": "invalid_request_error"}}).to_string(),
                        )
                        .with_status_code(400),
                    );
                    continue;
                }
                if v["model"] == "missing-model" {
                    let _ = request.respond(
                        tiny_http::Response::from_string(
                            json!({"error": {"message": "model 'missing-model' not found", "type": "not_found"}}).to_string(),
                        )
                        .with_status_code(404),
                    );
                    continue;
                }
                let text = answer.unwrap_or_default();
                let mut events = String::new();
                let chars: Vec<char> = text.chars().collect();
                for piece in chars.chunks(9) {
                    let piece: String = piece.iter().collect();
                    let chunk = json!({"id": "c1", "object": "chat.completion.chunk", "model": v["model"],
                        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]});
                    events.push_str(&format!("data: {chunk}\n\n"));
                }
                let prompt = (body.len() / 4) as u64;
                let usage = json!({"id": "c1", "object": "chat.completion.chunk", "choices": [],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": chars.len().div_ceil(4), "total_tokens": 0}});
                events.push_str(&format!("data: {usage}\n\ndata: [DONE]\n\n"));
                let _ = request.respond(tiny_http::Response::from_string(events).with_header(
                    tiny_http::Header::from_bytes("content-type", "text/event-stream").unwrap(),
                ));
            }
        });
        FakeOpenAi { url, state }
    }

    /// The request bodies received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().1.clone()
    }
}
