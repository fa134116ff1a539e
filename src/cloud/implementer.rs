//! Claude as an implementer: the `Backend` that `implement` uses for tasks routed to the cloud.
//! Its output is cloud output — reviewed by the same model family that wrote it is no gain, and
//! the gate only guards local output — so `implement` records no fingerprints for it.

use super::client::{self, Message, Request, Session, TextBlock};
use super::cost::{self, Prices};
use crate::backend::{Backend, ChatMessage, Error, Generated};

const MAX_OUTPUT_TOKENS: u32 = 16_384;

pub struct Claude {
    session: Session,
    model: String,
    prices: Prices,
}

impl Claude {
    pub fn new(model: &str) -> Result<Claude, client::Error> {
        Ok(Claude {
            session: Session::from_env()?,
            model: model.to_string(),
            prices: Prices::load(),
        })
    }
}

impl Backend for Claude {
    fn provider(&self) -> crate::store::Provider {
        crate::store::Provider::Anthropic
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn is_local(&self) -> bool {
        false
    }

    fn cost_usd(&self, generated: &Generated) -> Option<f64> {
        let usage = client::Usage {
            input_tokens: generated.tokens_in,
            output_tokens: generated.tokens_out,
            ..client::Usage::default()
        };
        self.prices.cost(&self.model, &cost::today(), &usage, false)
    }

    fn generate(
        &mut self,
        messages: &[ChatMessage],
        progress: &mut dyn FnMut(u64) -> crate::backend::Flow,
    ) -> Result<Generated, Error> {
        let system = messages
            .iter()
            .filter(|m| m.role == "system")
            .map(|m| TextBlock::new(m.content.clone()).cached())
            .collect();
        let request = Request {
            model: self.model.clone(),
            max_tokens: MAX_OUTPUT_TOKENS,
            system,
            messages: messages
                .iter()
                .filter(|m| m.role != "system")
                .map(|m| Message {
                    role: m.role,
                    content: vec![TextBlock::new(m.content.clone())],
                })
                .collect(),
            output_config: None,
            stream: true,
        };
        // The API client cannot be stopped mid-answer: a cancel takes effect when the answer is
        // in, and the answer is not used.
        let mut cancelled = false;
        let call = self
            .session
            .send(&request, |p| {
                // The local engines' progress counts output; a retry shows as no progress.
                if let client::Progress::Received(chars) = p {
                    cancelled |= progress(chars as u64).is_break();
                }
            })
            .map_err(|e| match e {
                client::Error::Connect(_) | client::Error::Timeout(_) => {
                    Error::Unreachable(e.to_string())
                }
                client::Error::Protocol(_) => Error::Broken(e.to_string()),
                _ => Error::Refused(e.to_string()),
            })?;
        if cancelled {
            return Err(Error::Cancelled);
        }
        let r = &call.response;
        if r.stop_reason.as_deref() == Some("refusal") {
            return Err(Error::Refused(format!("{} refused the task", self.model)));
        }
        Ok(Generated {
            text: r.text(),
            tokens_in: r.usage.input_tokens
                + r.usage.cache_read_input_tokens
                + r.usage.cache_creation_input_tokens,
            tokens_out: r.usage.output_tokens,
            estimated: false,
            truncated: r.stop_reason.as_deref() == Some("max_tokens"),
            looped: None,
            grammar: false,
            wall: call.wall,
            first_token: call.wall,
        })
    }
}
