//! The browser's `localStorage`, for what one person keeps on one machine
//! (the ComOps loop's hand-moved node positions). Reached through
//! `js_sys::Reflect` rather than web-sys's `Storage` binding, which would
//! rebuild web-sys and every crate above it for three calls. Every call is
//! a no-op (or `None`) on the server, in a browser without storage, or
//! when storage refuses (private mode, quota).

/// The text stored under `key`.
pub fn get(key: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        call("getItem", &[key]).and_then(|v| v.as_string())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = key;
        None
    }
}

/// Stores `value` under `key`.
pub fn set(key: &str, value: &str) {
    #[cfg(feature = "hydrate")]
    let _ = call("setItem", &[key, value]);
    #[cfg(not(feature = "hydrate"))]
    let _ = (key, value);
}

/// Forgets `key`.
pub fn remove(key: &str) {
    #[cfg(feature = "hydrate")]
    let _ = call("removeItem", &[key]);
    #[cfg(not(feature = "hydrate"))]
    let _ = key;
}

/// `localStorage[method](...args)`.
#[cfg(feature = "hydrate")]
fn call(method: &str, args: &[&str]) -> Option<leptos::wasm_bindgen::JsValue> {
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use leptos::web_sys::js_sys::{Array, Function, Reflect};
    let window = leptos::web_sys::window()?;
    let storage = Reflect::get(&window, &JsValue::from_str("localStorage")).ok().filter(|s| s.is_object())?;
    let function: Function = Reflect::get(&storage, &JsValue::from_str(method)).ok()?.dyn_into().ok()?;
    let args: Array = args.iter().map(|a| JsValue::from_str(a)).collect();
    function.apply(&storage, &args).ok()
}
