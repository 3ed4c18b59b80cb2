//! The module ABI's framing: engine input, request, put headers and bodies,
//! and the document parser, as a host (or a bug in one) might send them.
#![no_main]
use arbitrary::Arbitrary;
use imgverify::abi::protocol::{self, PutHeader};
use imgverify::engine::{Request, Session};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    engine_input: &'a [u8],
    request: &'a [u8],
    puts: Vec<(&'a [u8], &'a [u8])>,
    documents: &'a [u8],
}

fuzz_target!(|i: Input| {
    let _ = protocol::engine_from_json(i.engine_input);
    let _ = protocol::parse_documents_json(i.documents);
    let Ok(request) = Request::from_json(i.request) else {
        return;
    };
    let engine = Arc::new(
        imgverify::Engine::compile("p.yaml", "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - name: r\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    verifyImages:\n    - imageReferences: ['*']\n      attestors: [{entries: [{keys: {publicKeys: \"-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOwGDdP5LqMp1seJ7jDeIcRTR8W8c\\niT6zGQCXvyVc5AF9D6/S9BMmqzZbEkKmkbF27nhvCw61Bu0LHyLwdHO+Qw==\\n-----END PUBLIC KEY-----\", rekor: {ignoreTlog: true}}}]}]\n").expect("policy"),
    );
    let mut session = Session::new(engine, request);
    for (header, body) in i.puts.iter().take(64) {
        if let Ok(h) = serde_json::from_slice::<PutHeader>(header) {
            let _ = protocol::put(&mut session, &h, body);
        }
        let _ = session.evaluate();
    }
});
