//! The two thin ABIs over [`crate::engine`]: a zero-import C ABI for wasmtime
//! hosts and a wasm-bindgen JS API. Both use [`protocol`] and hold no logic.

pub mod protocol;

#[cfg(all(target_arch = "wasm32", not(feature = "js")))]
pub mod c;

#[cfg(feature = "js")]
pub mod js;
