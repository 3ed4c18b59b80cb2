//! The zero-import C ABI for wasmtime hosts.
//!
//! Buffers are allocated in module memory with `imgverify_alloc` and freed
//! with `imgverify_free`. Results are JSON in module memory, returned as
//! `(ptr << 32) | len`; the host frees them. Engines and sessions are opaque
//! handles (indices into tables), so a bad handle is an error, not UB.

use super::protocol::{self, PutHeader};
use crate::Engine;
use crate::engine::{Request, Session};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

struct Tables {
    next: u32,
    engines: BTreeMap<u32, Arc<Engine>>,
    sessions: BTreeMap<u32, Session>,
}

static TABLES: Mutex<Tables> = Mutex::new(Tables {
    next: 1,
    engines: BTreeMap::new(),
    sessions: BTreeMap::new(),
});

fn with_tables<R>(f: impl FnOnce(&mut Tables) -> R) -> R {
    let mut guard = match TABLES.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    f(&mut guard)
}

fn out(s: String) -> u64 {
    let bytes = s.into_bytes().into_boxed_slice();
    let len = bytes.len() as u64;
    let ptr = Box::into_raw(bytes) as *mut u8 as usize as u64;
    (ptr << 32) | len
}

/// # Safety
/// `ptr`/`len` must describe a live allocation from `imgverify_alloc`.
unsafe fn input<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: the host passes a buffer it obtained from imgverify_alloc(len).
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// Allocates `len` bytes in module memory.
#[unsafe(no_mangle)]
pub extern "C" fn imgverify_alloc(len: usize) -> *mut u8 {
    let b = vec![0u8; len].into_boxed_slice();
    Box::into_raw(b) as *mut u8
}

/// Frees a buffer from `imgverify_alloc` or a returned result.
///
/// # Safety
/// `ptr`/`len` must come from `imgverify_alloc` or a packed result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn imgverify_free(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: reconstructs the boxed slice allocated with this exact length.
    unsafe { drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len))) }
}

/// Compiles an engine from `{"sources":[{"name","text"}],"options":{}}`.
/// Returns `{"ok":true,"engine":H,"lints":[…],"summary":{…}}` or
/// `{"ok":false,"error":…}`.
///
/// # Safety
/// `ptr`/`len` must describe a buffer from `imgverify_alloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn imgverify_engine_new(ptr: *const u8, len: usize) -> u64 {
    let bytes = unsafe { input(ptr, len) };
    out(match protocol::engine_from_json(bytes) {
        Ok(engine) => {
            let lints = serde_json::to_value(engine.lints()).unwrap_or_default();
            let summary = serde_json::to_value(engine.summary()).unwrap_or_default();
            let h = with_tables(|t| {
                let h = t.next;
                t.next = t.next.wrapping_add(1).max(1);
                t.engines.insert(h, Arc::new(engine));
                h
            });
            serde_json::json!({"ok": true, "engine": h, "lints": lints, "summary": summary})
                .to_string()
        }
        Err(e) => protocol::error_json(&e),
    })
}

/// Parses a YAML or JSON document set (resources for the CLI) inside the
/// sandbox: input `{"name","text"}`, output
/// `{"ok":true,"documents":[{"origin","value"}]}` or an error naming the line.
///
/// # Safety
/// `ptr`/`len` must describe a buffer from `imgverify_alloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn imgverify_parse_documents(ptr: *const u8, len: usize) -> u64 {
    let bytes = unsafe { input(ptr, len) };
    out(protocol::parse_documents_json(bytes))
}

/// Verifies a Sigstore bundle inside the sandbox: input
/// [`protocol::VerifyBundleInput`], output `{"ok":true,"signingTimes":[…]}`
/// or `{"ok":false,"error":…}`.
///
/// # Safety
/// `ptr`/`len` must describe a buffer from `imgverify_alloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn imgverify_verify_bundle(ptr: *const u8, len: usize) -> u64 {
    let bytes = unsafe { input(ptr, len) };
    out(protocol::verify_bundle_json(bytes))
}

/// Verifies one signature inside the sandbox: input
/// [`protocol::VerifySignatureInput`], output `{"ok":true,"valid":…}` or
/// `{"ok":false,"error":…}`.
///
/// # Safety
/// `ptr`/`len` must describe a buffer from `imgverify_alloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn imgverify_verify_signature(ptr: *const u8, len: usize) -> u64 {
    let bytes = unsafe { input(ptr, len) };
    out(protocol::verify_signature_json(bytes))
}

/// Drops an engine.
#[unsafe(no_mangle)]
pub extern "C" fn imgverify_engine_free(engine: u32) {
    with_tables(|t| t.engines.remove(&engine));
}

/// Starts a session for a request JSON. Returns `{"ok":true,"session":H}`.
///
/// # Safety
/// `ptr`/`len` must describe a buffer from `imgverify_alloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn imgverify_session_new(engine: u32, ptr: *const u8, len: usize) -> u64 {
    let bytes = unsafe { input(ptr, len) };
    let request = match Request::from_json(bytes) {
        Ok(r) => r,
        Err(e) => return out(protocol::error_json(&e)),
    };
    out(with_tables(|t| match t.engines.get(&engine).cloned() {
        Some(e) => {
            let h = t.next;
            t.next = t.next.wrapping_add(1).max(1);
            t.sessions.insert(h, Session::new(e, request));
            serde_json::json!({"ok": true, "session": h}).to_string()
        }
        None => protocol::error_json(&format!("unknown engine handle {engine}")),
    }))
}

/// Adds an artifact: `header` is `{"kind","key","status"?,"message"?}`,
/// `bytes` the raw artifact. Returns `{"ok":true}` or an error.
///
/// # Safety
/// Both buffers must come from `imgverify_alloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn imgverify_session_put(
    session: u32,
    header_ptr: *const u8,
    header_len: usize,
    bytes_ptr: *const u8,
    bytes_len: usize,
) -> u64 {
    let header_bytes = unsafe { input(header_ptr, header_len) };
    let bytes = unsafe { input(bytes_ptr, bytes_len) };
    let header: PutHeader = match serde_json::from_slice(header_bytes) {
        Ok(h) => h,
        Err(e) => return out(protocol::error_json(&e)),
    };
    out(with_tables(|t| match t.sessions.get_mut(&session) {
        Some(s) => match protocol::put(s, &header, bytes) {
            Ok(()) => r#"{"ok":true}"#.to_string(),
            Err(e) => protocol::error_json(&e),
        },
        None => protocol::error_json(&format!("unknown session handle {session}")),
    }))
}

/// Evaluates; returns the outcome JSON (`need_artifacts` or `decision`).
#[unsafe(no_mangle)]
pub extern "C" fn imgverify_session_evaluate(session: u32) -> u64 {
    out(with_tables(|t| match t.sessions.get(&session) {
        Some(s) => {
            serde_json::to_string(&s.evaluate()).unwrap_or_else(|e| protocol::error_json(&e))
        }
        None => protocol::error_json(&format!("unknown session handle {session}")),
    }))
}

/// Drops a session.
#[unsafe(no_mangle)]
pub extern "C" fn imgverify_session_free(session: u32) {
    with_tables(|t| t.sessions.remove(&session));
}
