//! The `Counter` port on the `BudgetCounter` Durable Object (`SF_BUDGET_COUNTER`).

use sf_core::ports::{Counter, PortError, Reserve};
use wasm_bindgen::JsValue;
use worker::ObjectNamespace;

use crate::counter_state::{CounterReply, CounterRequest, LaneReserve};

/// Budget counters: one `BudgetCounter` object per key (see `durable.rs`).
pub struct DoCounter(pub(crate) Result<ObjectNamespace, String>);

fn counter_err(e: impl std::fmt::Display) -> PortError {
    PortError::new("counter", e.to_string())
}

impl DoCounter {
    async fn call(&self, key: &str, req: &CounterRequest) -> Result<CounterReply, PortError> {
        let ns = self
            .0
            .as_ref()
            .map_err(|e| PortError::new("counter", e.clone()))?;
        let stub = ns
            .id_from_name(key)
            .and_then(|id| id.get_stub())
            .map_err(counter_err)?;
        let body = serde_json::to_string(req).map_err(counter_err)?;
        let mut init = worker::RequestInit::new();
        init.with_method(worker::Method::Post)
            .with_body(Some(JsValue::from_str(&body)));
        // The host part is never resolved: a stub's fetch goes straight to the object.
        let request = worker::Request::new_with_init("https://budget-counter/rpc", &init)
            .map_err(counter_err)?;
        let mut resp = stub
            .fetch_with_request(request)
            .await
            .map_err(counter_err)?;
        let text = resp.text().await.map_err(counter_err)?;
        if resp.status_code() != 200 {
            return Err(counter_err(format!(
                "budget counter answered {}: {text}",
                resp.status_code()
            )));
        }
        serde_json::from_str(&text)
            .map_err(|e| counter_err(format!("unreadable reply {text:?}: {e}")))
    }
}

impl Counter for DoCounter {
    async fn reserve(
        &self,
        key: &str,
        lanes: &[Reserve<'_>],
        expires_at_ms: u64,
    ) -> Result<bool, PortError> {
        let req = CounterRequest::Reserve {
            lanes: lanes
                .iter()
                .map(|l| LaneReserve {
                    lane: l.lane.to_owned(),
                    amount: l.amount,
                    ceiling: l.ceiling,
                })
                .collect(),
            expires_at_ms,
        };
        let reply = self.call(key, &req).await?;
        reply
            .granted
            .ok_or_else(|| counter_err("reply to reserve lacks `granted`"))
    }

    async fn adjust(&self, key: &str, lane: &str, delta: i64) -> Result<(), PortError> {
        let req = CounterRequest::Adjust {
            lane: lane.to_owned(),
            delta,
        };
        self.call(key, &req).await.map(|_| ())
    }

    async fn read(&self, key: &str, lane: &str) -> Result<i64, PortError> {
        let req = CounterRequest::Read {
            lane: lane.to_owned(),
        };
        let reply = self.call(key, &req).await?;
        reply
            .value
            .ok_or_else(|| counter_err("reply to read lacks `value`"))
    }
}
