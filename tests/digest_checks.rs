//! `verifyDigest` and `required` without attestors read no registry, as in
//! Kyverno: a tag is a missing digest, an unverified image is unverified,
//! and an unreachable registry cannot turn either into an error (or let it
//! pass). Only `mutateDigest` resolves a tag.

mod common;

use imgverify::engine::{Answer, FailureStatus, Fetch};

fn policy(entry: &str) -> imgverify::Engine {
    let text = format!(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: digests}}\nspec:\n  rules:\n    - name: check-digest\n      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n      verifyImages:\n        - imageReferences: ['*']\n          failureAction: Enforce\n{entry}"
    );
    imgverify::Engine::compile("digests.yaml", &text).unwrap()
}

fn no_fetch(f: &Fetch) -> Answer {
    panic!("no registry read was needed, but the engine asked for {f:?}")
}

const PINNED: &str =
    "nginx:1.27@sha256:859ab6768a6f26a79bc42b231664111317d095a4f04e4b6fe79ce37b3d199097";

#[test]
fn verify_digest_and_required_read_no_registry() {
    let verify_digest =
        "          mutateDigest: false\n          verifyDigest: true\n          required: false\n";
    let (allowed, message) =
        common::admit_pod(policy(verify_digest), "nginx:latest", None, no_fetch);
    assert!(!allowed);
    assert!(
        message.contains("missing digest for docker.io/nginx:latest"),
        "{message}"
    );
    let (allowed, message) = common::admit_pod(policy(verify_digest), PINNED, None, no_fetch);
    assert!(allowed, "{message}");

    let required =
        "          mutateDigest: false\n          verifyDigest: false\n          required: true\n";
    let (allowed, message) = common::admit_pod(policy(required), "nginx:latest", None, no_fetch);
    assert!(!allowed);
    assert!(
        message.contains("unverified image docker.io/nginx:latest"),
        "{message}"
    );
}

#[test]
fn mutate_digest_still_resolves_the_tag() {
    let mutate =
        "          mutateDigest: true\n          verifyDigest: true\n          required: false\n";
    let asked = std::cell::Cell::new(0);
    let (allowed, message) = common::admit_pod(policy(mutate), "nginx:latest", None, |_f| {
        asked.set(asked.get() + 1);
        Answer::Failure(FailureStatus::Error, "registry unreachable".into())
    });
    assert!(asked.get() > 0, "the tag was resolved");
    assert!(!allowed);
    assert!(message.contains("failed to update digest"), "{message}");
}
