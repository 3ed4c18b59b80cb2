//! Hostile OCI layouts (issue item 8): blobs that are symlinks (to a file
//! outside the layout, to /dev/zero), FIFOs, and symlinked blob directories
//! are refused as invalid artifacts; nothing outside the layout is read into
//! a decision or a `fetch` bundle, and nothing hangs or blows up memory.

mod support;

use imgverify::engine::{Fetch, FetchKind};
use imgverify_host::bundle::Recording;
use imgverify_host::source::{ArtifactSource, OciLayouts, SourceAnswer};
use std::path::Path;
use std::time::{Duration, Instant};
use support::tempdir::Dir;

/// A copy of the example layout.
fn copy_layout(dir: &Path) {
    let src = support::root().join("policies/images");
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    for f in ["index.json", "oci-layout"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    for e in std::fs::read_dir(src.join("blobs/sha256")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join("blobs/sha256").join(e.file_name())).unwrap();
    }
}

/// The digest of the signed demo image's signature payload (a blob the engine reads).
fn payload_blob(layout: &Path) -> String {
    let mut l = OciLayouts::default();
    l.add(&layout.display().to_string()).unwrap();
    let digests = std::fs::read_to_string(layout.join("index.json")).unwrap();
    let index: serde_json::Value = serde_json::from_str(&digests).unwrap();
    let sig = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .unwrap()
                .starts_with("registry.example.com/demo/signed:sha256-")
        })
        .unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            layout
                .join("blobs/sha256")
                .join(sig.trim_start_matches("sha256:")),
        )
        .unwrap(),
    )
    .unwrap();
    manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

fn blob_fetch(digest: &str) -> Fetch {
    Fetch::by_digest(
        FetchKind::Blob,
        "registry.example.com",
        "demo/signed",
        &imgverify::digest::Digest::parse(digest).unwrap(),
    )
}

#[test]
fn symlinked_fifo_and_device_blobs_are_refused() {
    let dir = Dir::new("layout-attacks");
    let layout = dir.0.join("layout");
    copy_layout(&layout);
    let digest = payload_blob(&layout);
    let blob = layout
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"));
    let secret = dir.0.join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET host file").unwrap();
    let mut layouts = OciLayouts::default();
    layouts.add(&layout.display().to_string()).unwrap();
    let fetch = blob_fetch(&digest);
    assert!(matches!(layouts.fetch(&fetch), SourceAnswer::Bytes(_)));

    for (what, make) in [
        (
            "symlink outside the layout",
            Box::new(|b: &Path| std::os::unix::fs::symlink(&secret, b).unwrap())
                as Box<dyn Fn(&Path)>,
        ),
        (
            "symlink to /dev/zero",
            Box::new(|b: &Path| std::os::unix::fs::symlink("/dev/zero", b).unwrap()),
        ),
        (
            "FIFO",
            Box::new(|b: &Path| {
                let c = std::ffi::CString::new(b.to_str().unwrap()).unwrap();
                // SAFETY: a valid NUL-terminated path.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            }),
        ),
    ] {
        std::fs::remove_file(&blob).unwrap();
        make(&blob);
        let start = Instant::now();
        let recording = Recording::new(&layouts);
        let answer = recording.fetch(&fetch);
        assert!(start.elapsed() < Duration::from_secs(2), "{what}: hung");
        assert!(
            matches!(&answer, SourceAnswer::Invalid(m) if m.contains("not a regular file")),
            "{what}: {answer:?}"
        );
        let bundle = serde_json::to_string(&recording.bundle()).unwrap();
        assert!(
            !bundle.contains("VE9QLVNFQ1JFVC"),
            "{what}: secret copied into the bundle"
        );
    }

    // A symlinked blob directory is refused too.
    std::fs::remove_file(&blob).unwrap();
    let real = dir.0.join("elsewhere");
    std::fs::rename(layout.join("blobs/sha256"), &real).unwrap();
    std::os::unix::fs::symlink(&real, layout.join("blobs/sha256")).unwrap();
    let answer = layouts.fetch(&fetch);
    assert!(
        matches!(&answer, SourceAnswer::Invalid(m) if m.contains("not a directory inside the layout")),
        "{answer:?}"
    );
}

#[test]
fn a_symlinked_index_is_not_a_layout() {
    let dir = Dir::new("layout-index");
    let layout = dir.0.join("layout");
    copy_layout(&layout);
    std::fs::remove_file(layout.join("index.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", layout.join("index.json")).unwrap();
    let e = OciLayouts::default()
        .add(&layout.display().to_string())
        .unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
}
