//! Readable, shorter function names for the engine module.
//!
//! The linker names every function of the module in its `name` section
//! (wasmtime's trap backtraces and `IMGVERIFY_WASM_PERFMAP` read it) with
//! the Rust symbol as mangled, hash included:
//! `_ZN9imgverify6notary4cose5parse17h0a1b2c3d4e5f6789E`. That was a quarter
//! of the module's bytes. [`demangle_function_names`] writes each one as
//! wasmtime would show it, without the hash (`imgverify::notary::cose::parse`),
//! and keeps every other byte of the module. Shared by `build.rs`, which
//! embeds the module, and `cargo xtask wasm`, which builds the artifacts.

/// The custom section that names functions (and locals, globals, ...).
const NAME_SECTION: &[u8] = b"name";
/// The `name` subsection holding the function names.
const FUNCTION_NAMES: u8 = 1;

/// `wasm` with the function names of its `name` section demangled (Rust
/// symbols, legacy or v0, without their hash; other names as they are).
/// A module without a `name` section is returned unchanged.
pub fn demangle_function_names(wasm: &[u8]) -> Result<Vec<u8>, String> {
    map_name_section(wasm, |section, subsections| {
        rewrite_name_section(section, subsections).map(Some)
    })
}

/// `wasm` without its `name` section: the module as shipped (`cargo xtask
/// wasm`'s artifacts). Names only serve backtraces and profiles; the host
/// embeds the named module for those, and `named/` keeps a copy.
#[allow(dead_code)] // build.rs shares this file and keeps its names
pub fn without_name_section(wasm: &[u8]) -> Result<Vec<u8>, String> {
    map_name_section(wasm, |_, _| Ok(None))
}

/// Copies `wasm` section by section, passing the `name` section (its whole
/// body, then what follows its name) to `rewrite`: `Some` replaces the body,
/// `None` drops the section.
fn map_name_section(
    wasm: &[u8],
    mut rewrite: impl FnMut(&[u8], &[u8]) -> Result<Option<Vec<u8>>, String>,
) -> Result<Vec<u8>, String> {
    if wasm.get(..8) != Some(b"\0asm\x01\0\0\0") {
        return Err("not a wasm module".into());
    }
    let mut out = wasm[..8].to_vec();
    let mut rest = &wasm[8..];
    while let Some((&id, after_id)) = rest.split_first() {
        let mut r = after_id;
        let size = leb(&mut r)?;
        let body = r.get(..size).ok_or("section runs past the end")?;
        rest = &r[size..];
        let mut rewritten = None;
        if id == 0 {
            let mut b = body;
            let name_len = leb(&mut b)?;
            match b.get(..name_len) {
                Some(NAME_SECTION) => match rewrite(body, &b[name_len..])? {
                    Some(new_body) => rewritten = Some(new_body),
                    None => continue,
                },
                Some(_) => {}
                None => return Err("custom section name runs past the end".into()),
            }
        }
        let body = rewritten.as_deref().unwrap_or(body);
        out.push(id);
        push_leb(&mut out, body.len());
        out.extend_from_slice(body);
    }
    Ok(out)
}

/// The `name` section's body (`section` is all of it, `subsections` what
/// follows its name) with the function names demangled.
fn rewrite_name_section(section: &[u8], mut subsections: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = section[..section.len() - subsections.len()].to_vec();
    while let Some((&id, after_id)) = subsections.split_first() {
        let mut r = after_id;
        let size = leb(&mut r)?;
        let body = r.get(..size).ok_or("name subsection runs past the end")?;
        subsections = &r[size..];
        let body = if id == FUNCTION_NAMES {
            demangle_name_map(body)?
        } else {
            body.to_vec()
        };
        out.push(id);
        push_leb(&mut out, body.len());
        out.extend_from_slice(&body);
    }
    Ok(out)
}

/// A name map (`vec(index, name)`) with each name demangled.
fn demangle_name_map(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let count = leb(&mut body)?;
    let mut out = Vec::with_capacity(body.len());
    push_leb(&mut out, count);
    for _ in 0..count {
        let index = leb(&mut body)?;
        let len = leb(&mut body)?;
        let raw = body.get(..len).ok_or("function name runs past the end")?;
        body = &body[len..];
        let name = std::str::from_utf8(raw).map_err(|e| format!("function name: {e}"))?;
        let name = match rustc_demangle::try_demangle(name) {
            Ok(symbol) => format!("{symbol:#}"),
            Err(_) => name.to_string(),
        };
        push_leb(&mut out, index);
        push_leb(&mut out, name.len());
        out.extend_from_slice(name.as_bytes());
    }
    if !body.is_empty() {
        return Err("bytes after the function names".into());
    }
    Ok(out)
}

/// Reads an unsigned LEB128 `u32` (as a `usize`).
fn leb(bytes: &mut &[u8]) -> Result<usize, String> {
    let mut value = 0usize;
    for shift in (0..35).step_by(7) {
        let (&b, rest) = bytes.split_first().ok_or("LEB128 runs past the end")?;
        *bytes = rest;
        value |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("LEB128 longer than a u32".into())
}

/// Appends `value` as unsigned LEB128.
fn push_leb(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let b = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(id: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![id];
        push_leb(&mut out, body.len());
        out.extend_from_slice(body);
        out
    }

    fn string(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        push_leb(&mut out, s.len());
        out.extend_from_slice(s.as_bytes());
        out
    }

    fn module(names: &[(usize, &str)]) -> Vec<u8> {
        let mut map = Vec::new();
        push_leb(&mut map, names.len());
        for (i, n) in names {
            push_leb(&mut map, *i);
            map.extend(string(n));
        }
        let mut name_section = string("name");
        name_section.extend(section(0, &string("m")));
        name_section.extend(section(FUNCTION_NAMES, &map));
        name_section.extend(section(7, &[0]));
        [
            b"\0asm\x01\0\0\0".to_vec(),
            section(1, &[0]),
            section(0, &[&string("producers")[..], b"xyz"].concat()),
            section(0, &name_section),
        ]
        .concat()
    }

    #[test]
    fn rust_symbols_are_demangled_without_their_hash() {
        let long = "x".repeat(200);
        let wasm = module(&[
            (0, "_ZN9imgverify6notary4cose5parse17h0a1b2c3d4e5f6789E"),
            (1, "_RNvMNtCs5cOc02OMXlo_5alloc6stringNtB2_6String4push"),
            (130, "memcpy"),
            (131, &long),
        ]);
        let out = demangle_function_names(&wasm).unwrap();
        let expected = module(&[
            (0, "imgverify::notary::cose::parse"),
            (1, "<alloc::string::String>::push"),
            (130, "memcpy"),
            (131, &long),
        ]);
        assert_eq!(out, expected);
        // Idempotent: demangled names are not symbols.
        assert_eq!(demangle_function_names(&out).unwrap(), expected);
    }

    #[test]
    fn modules_without_names_are_unchanged_and_garbage_is_refused() {
        let bare = [b"\0asm\x01\0\0\0".to_vec(), section(1, &[0])].concat();
        assert_eq!(demangle_function_names(&bare).unwrap(), bare);
        assert!(demangle_function_names(b"\0asm").is_err());
        let mut cut = module(&[(0, "_ZN1a1b17h0a1b2c3d4e5f6789E")]);
        cut.truncate(cut.len() - 3);
        assert!(demangle_function_names(&cut).is_err());
        assert!(without_name_section(&cut).is_err());
    }

    #[test]
    fn the_shipped_module_drops_only_the_name_section() {
        let wasm = module(&[(0, "_ZN1a1b17h0a1b2c3d4e5f6789E")]);
        let expected = [
            b"\0asm\x01\0\0\0".to_vec(),
            section(1, &[0]),
            section(0, &[&string("producers")[..], b"xyz"].concat()),
        ]
        .concat();
        assert_eq!(without_name_section(&wasm).unwrap(), expected);
        assert_eq!(without_name_section(&expected).unwrap(), expected);
    }
}
