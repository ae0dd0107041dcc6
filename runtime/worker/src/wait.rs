//! `waitUntil` for [`sf_core::ports::Host::defer`].
//!
//! The gateway is built once per isolate, but `waitUntil` belongs to one event
//! (request, queue batch, cron tick), and an isolate interleaves many events.
//! [`Scoped`] makes the event's anchor "current" only while that event's own
//! future is being polled; wasm is single-threaded and polling is synchronous,
//! so a `defer` call always finds the anchor of the event that made it.

use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use js_sys::futures::{future_to_promise, spawn_local, JsFuture};
use js_sys::{Function, Promise, Reflect};
use sf_core::ports::BackgroundTask;
use wasm_bindgen::{JsCast, JsValue};

/// Where deferred work is registered for one event.
#[derive(Clone)]
pub enum Anchor {
    /// A JS execution context with a `waitUntil` method (fetch and queue events).
    Ctx(JsValue),
    /// Promises the event handler itself awaits before returning (cron events:
    /// workers-rs does not expose their raw context).
    Collect(Rc<RefCell<Vec<Promise>>>),
}

impl Anchor {
    pub fn collector() -> Self {
        Anchor::Collect(Rc::new(RefCell::new(Vec::new())))
    }

    /// For [`Anchor::Collect`]: waits until every deferred task (including tasks
    /// deferred by deferred tasks) has finished. No-op for [`Anchor::Ctx`].
    pub async fn drain(&self) {
        let Anchor::Collect(list) = self else {
            return;
        };
        loop {
            let batch: Vec<Promise> = list.borrow_mut().drain(..).collect();
            if batch.is_empty() {
                return;
            }
            // They run concurrently already; awaiting them in turn only waits.
            for p in batch {
                let _ = JsFuture::from(p).await;
            }
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Anchor>> = const { RefCell::new(None) };
}

/// Polls `inner` with `anchor` as the current anchor.
pub struct Scoped<F> {
    anchor: Anchor,
    inner: Pin<Box<F>>,
}

impl<F: Future> Scoped<F> {
    pub fn new(anchor: Anchor, inner: F) -> Self {
        Scoped {
            anchor,
            inner: Box::pin(inner),
        }
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let previous = CURRENT.with(|c| c.replace(Some(self.anchor.clone())));
        let out = self.inner.as_mut().poll(cx);
        CURRENT.with(|c| *c.borrow_mut() = previous);
        out
    }
}

fn wait_until(ctx: &JsValue, promise: &Promise) -> Result<(), JsValue> {
    let f: Function = Reflect::get(ctx, &JsValue::from_str("waitUntil"))?.dyn_into()?;
    f.call1(ctx, promise).map(|_| ())
}

/// Runs `task` after the response, registered with the current event so the
/// runtime keeps the isolate alive for it. Tasks deferred from inside a
/// deferred task stay bound to the same event.
pub fn defer(task: BackgroundTask) {
    let Some(anchor) = CURRENT.with(|c| c.borrow().clone()) else {
        // Outside any event (should not happen): best effort.
        spawn_local(task);
        return;
    };
    let scoped = Scoped::new(anchor.clone(), task);
    let promise = future_to_promise(AssertUnwindSafe(async move {
        scoped.await;
        Ok(JsValue::UNDEFINED)
    }));
    match anchor {
        Anchor::Ctx(ctx) => {
            // The promise is already running; if waitUntil refuses it (the event
            // ended), the task still runs for as long as the isolate lives.
            if let Err(e) = wait_until(&ctx, &promise) {
                worker::console_warn!(
                    "defer: waitUntil refused ({}); task runs unanchored",
                    crate::js::js_message(&e)
                );
            }
        }
        Anchor::Collect(list) => list.borrow_mut().push(promise),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn current_is(anchor: &Anchor) -> bool {
        CURRENT.with(|c| match (&*c.borrow(), anchor) {
            (Some(Anchor::Collect(a)), Anchor::Collect(b)) => Rc::ptr_eq(a, b),
            _ => false,
        })
    }

    #[test]
    fn scoped_sets_the_anchor_only_while_polling_and_restores_the_outer_one() {
        let outer = Anchor::collector();
        let inner = Anchor::collector();
        let (o, i) = (outer.clone(), inner.clone());
        let seen = Scoped::new(outer.clone(), async move {
            let before = current_is(&o);
            let nested = Scoped::new(i.clone(), async move { current_is(&i) }).await;
            let after = current_is(&o);
            (before, nested, after)
        })
        .now_or_never();
        assert_eq!(seen, Some((true, true, true)));
        assert!(
            CURRENT.with(|c| c.borrow().is_none()),
            "anchor leaked past the poll"
        );
    }
}
