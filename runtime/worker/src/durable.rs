//! `BudgetCounter`: the Durable Object behind the `Counter` port.
//!
//! One object per counter key (`id_from_name(key)`), SQLite-backed (declared
//! with `new_sqlite_classes` in wrangler.toml). Atomicity: every request loads,
//! changes and stores the state through the synchronous SQL API with no `await`
//! in between, so no other request to the same object can interleave, whatever
//! the runtime's input gates do. The arithmetic lives in `counter_state.rs`.

use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::counter_state::{CounterRequest, CounterState};

const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)";

#[derive(Deserialize)]
struct Row {
    state: String,
}

#[durable_object(alarm)]
pub struct BudgetCounter {
    state: State,
}

impl BudgetCounter {
    fn load(&self) -> Result<CounterState> {
        let sql = self.state.storage().sql();
        sql.exec(SCHEMA, None)?;
        let rows: Vec<Row> = sql
            .exec("SELECT state FROM counter WHERE id = 1", None)?
            .to_array()?;
        match rows.first() {
            None => Ok(CounterState::default()),
            Some(row) => serde_json::from_str(&row.state).map_err(|e| {
                worker::Error::RustError(format!("budget counter: stored state is unreadable: {e}"))
            }),
        }
    }

    fn store(&self, st: &CounterState) -> Result<()> {
        let sql = self.state.storage().sql();
        if st.lanes.is_empty() && st.expires_at_ms == 0 {
            sql.exec("DELETE FROM counter", None)?;
            return Ok(());
        }
        let text = serde_json::to_string(st)
            .map_err(|e| worker::Error::RustError(format!("budget counter: {e}")))?;
        sql.exec(
            "INSERT OR REPLACE INTO counter (id, state) VALUES (1, ?)",
            vec![text.into()],
        )?;
        Ok(())
    }

    /// Clears storage once the key expires, so dead grant keys cost nothing.
    async fn schedule_cleanup(&self, at_ms: u64) {
        let when = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at_ms as f64));
        if let Err(e) = self
            .state
            .storage()
            .set_alarm(worker::ScheduledTime::new(when))
            .await
        {
            worker::console_warn!("budget counter: could not set the cleanup alarm: {e}");
        }
    }
}

impl DurableObject for BudgetCounter {
    fn new(state: State, _env: Env) -> Self {
        BudgetCounter { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let text = req.text().await?;
        let rpc: CounterRequest = match serde_json::from_str(&text) {
            Ok(r) => r,
            Err(e) => return Response::error(format!("budget counter: bad request: {e}"), 400),
        };
        // --- synchronous section: load, apply, store ---
        let now = js_sys::Date::now() as u64;
        let mut st = self.load()?;
        let expiry_before = st.expires_at_ms;
        let (reply, changed) = st.apply(&rpc, now);
        if changed {
            self.store(&st)?;
        }
        // --- end of synchronous section ---
        if changed && st.expires_at_ms != expiry_before && !st.is_expired(now) {
            self.schedule_cleanup(st.expires_at_ms).await;
        }
        Response::from_json(&reply)
    }

    async fn alarm(&self) -> Result<Response> {
        let now = js_sys::Date::now() as u64;
        let st = self.load()?;
        if st.is_expired(now) {
            self.store(&CounterState::default())?;
        } else {
            self.schedule_cleanup(st.expires_at_ms).await;
        }
        Response::empty()
    }
}
