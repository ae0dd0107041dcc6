//! The `Queue` port on the `SF_EVENTS` producer.

use sf_core::ports::{PortError, Queue};

use crate::js::json_to_js;

pub struct CfQueue(pub(crate) worker::Queue);

impl Queue for CfQueue {
    async fn send(&self, body: &serde_json::Value) -> Result<(), PortError> {
        let js = json_to_js(body).map_err(|e| PortError::new("queue", e))?;
        self.0
            .send_raw(
                // JSON content type: the consumer gets exactly what JSON.parse gives.
                worker::RawMessageBuilder::new(js)
                    .build_with_content_type(worker::QueueContentType::Json),
            )
            .await
            .map_err(|e| PortError::new("queue", e.to_string()))
    }
}
