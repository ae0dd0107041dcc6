//! The `Random` port on `crypto.getRandomValues`.

use sf_core::ports::Random;
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

pub struct CfRandom;

impl Random for CfRandom {
    fn fill(&self, buf: &mut [u8]) {
        // getRandomValues refuses more than 65536 bytes per call.
        for chunk in buf.chunks_mut(65_536) {
            get_random_values(chunk);
        }
    }
}
