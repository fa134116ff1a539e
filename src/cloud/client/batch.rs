//! The Message Batches API's objects: a batch, its request counts, and one line of its results.

use serde::Deserialize;
use serde_json::Value;

use super::{Error, Response};

/// A Message Batch as the API describes it.
#[derive(Clone, Debug, Deserialize)]
pub struct Batch {
    pub id: String,
    /// `in_progress`, `canceling` or `ended`.
    pub processing_status: String,
    #[serde(default)]
    pub request_counts: RequestCounts,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub ended_at: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub results_url: Option<String>,
}

impl Batch {
    pub(super) fn parse(text: &str) -> Result<Batch, Error> {
        serde_json::from_str(text).map_err(|e| Error::Protocol(format!("a batch: {e}")))
    }

    pub fn ended(&self) -> bool {
        self.processing_status == "ended"
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct RequestCounts {
    #[serde(default)]
    pub processing: u64,
    #[serde(default)]
    pub succeeded: u64,
    #[serde(default)]
    pub errored: u64,
    #[serde(default)]
    pub canceled: u64,
    #[serde(default)]
    pub expired: u64,
}

/// One line of a batch's results.
#[derive(Clone, Debug, Deserialize)]
pub struct BatchResult {
    pub custom_id: String,
    pub result: Value,
}

impl BatchResult {
    /// The answer, or why there is none: the request errored, or the batch never ran it.
    pub fn into_response(self) -> Result<Response, Error> {
        match self.result["type"].as_str().unwrap_or_default() {
            "succeeded" => {
                let message = &self.result["message"];
                let id = message["id"].as_str().map(str::to_string);
                Ok(Response::from_message(message, id))
            }
            "errored" => {
                let e = &self.result["error"]["error"];
                Err(Error::Api {
                    status: 200,
                    kind: e["type"].as_str().unwrap_or("error").to_string(),
                    message: e["message"].as_str().unwrap_or_default().to_string(),
                    request_id: None,
                })
            }
            other => Err(Error::NotRun(if other.is_empty() {
                "no result".to_string()
            } else {
                other.to_string()
            })),
        }
    }
}
