//! The Notary-signed example images (`policies/notary-signature`): DEMO
//! certificate chains and Notation-style signatures made with
//! `imgverify-testkit`, attached as OCI 1.1 referrers listed in each image's
//! `sha256-<hex>` tag-schema index. The keys derive from public labels:
//! examples only, never trust them.

use imgverify_testkit::{
    CertBuilder, Descriptor, Format, Key, KeyKind, Pki, SignRequest, sign_cose, sign_jws,
    signature_manifest, unix,
};
use serde_json::{Value, json};

use super::{INDEX, Layout, MANIFEST, REGISTRY};

/// The artifact type the example's SBOM attestations are stored under.
pub const SBOM_TYPE: &str = "application/vnd.cyclonedx+json";

/// A signature to attach: the envelope format, whether the manifest uses
/// the legacy (pre-OCI 1.1) form, and the envelope.
struct Signature {
    format: Format,
    legacy: bool,
    envelope: Vec<u8>,
}

impl Layout {
    /// The descriptor of a manifest already in the layout.
    fn descriptor(&self, digest: &str) -> Descriptor {
        let bytes = self.blobs.get(digest).expect("manifest in the layout");
        Descriptor::for_content(MANIFEST, bytes)
    }

    /// Lists `referrers` (manifest bytes with their artifact types) in the
    /// tag-schema index of `subject`.
    fn list_referrers(&mut self, repo: &str, subject: &str, referrers: &[(Vec<u8>, &str)]) {
        let listed: Vec<Value> = referrers
            .iter()
            .map(|(manifest, artifact_type)| {
                let (d, n) = self.add_blob(manifest.clone());
                json!({"mediaType": MANIFEST, "digest": d, "size": n, "artifactType": artifact_type})
            })
            .collect();
        let index = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": listed});
        let tag = subject.replace(':', "-");
        self.add_tagged(&format!("{REGISTRY}/{repo}:{tag}"), &index, INDEX);
    }

    /// A signature manifest for `subject` carrying `sig`, its blobs stored.
    fn signature_referrer(&mut self, sig: &Signature, subject: &str) -> Vec<u8> {
        let (manifest, envelope) = signature_manifest(
            &sig.envelope,
            sig.format,
            &self.descriptor(subject),
            sig.legacy,
        );
        self.add_blob(envelope);
        self.add_blob(b"{}".to_vec());
        manifest
    }
}

/// The signer of the examples: a DEMO root, intermediate and P-256 leaf,
/// and an RSA-3072 leaf issued by the same intermediate.
pub struct Signers {
    pki: Pki,
    rsa_key: Key,
    rsa_leaf: Vec<u8>,
    other: Pki,
}

impl Signers {
    /// The DEMO chains.
    pub fn new() -> Self {
        let pki = Pki::code_signing(KeyKind::P256, "imgverify DEMO notary");
        let rsa_key = Key::derive(KeyKind::Rsa3072, "imgverify DEMO notary/rsa signer");
        let rsa_leaf = CertBuilder::code_signing(
            &Pki::subject("imgverify DEMO notary RSA Signer"),
            imgverify_testkit::NOT_BEFORE,
            imgverify_testkit::NOT_AFTER,
        )
        .issued_by(&rsa_key, &pki.intermediate, &pki.intermediate_key);
        let other = Pki::code_signing(KeyKind::P256, "imgverify DEMO notary other");
        Signers {
            pki,
            rsa_key,
            rsa_leaf,
            other,
        }
    }

    /// The DEMO root certificate, PEM (what the example policy trusts).
    pub fn root_pem(&self) -> String {
        imgverify_testkit::cert_pem(&self.pki.root)
    }
}

/// 2026-01-01T00:00:00Z, when the examples were signed.
fn signed_at() -> i64 {
    unix(2026, 1, 1, 0, 0, 0)
}

/// A JWS by the P-256 leaf over `target`.
fn jws(s: &Signers, target: Descriptor, expiry: Option<i64>) -> Signature {
    let mut req = SignRequest::new(target, signed_at());
    if let Some(e) = expiry {
        req = req.expiry(e);
    }
    Signature {
        format: Format::Jws,
        legacy: false,
        envelope: sign_jws(&req, &s.pki.leaf_key, &s.pki.chain()),
    }
}

/// A CycloneDX SBOM naming `components`.
fn sbom(components: &[(&str, &str)]) -> Vec<u8> {
    let components: Vec<Value> = components
        .iter()
        .map(|(name, version)| json!({"type": "library", "name": name, "version": version}))
        .collect();
    serde_json::to_vec(
        &json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": components}),
    )
    .expect("json")
}

/// Adds the Notary example images to the layout.
pub fn images(l: &mut Layout, s: &Signers) {
    // Signed by the DEMO chain (JWS, OCI 1.1 manifest), with a signed SBOM.
    for (repo, components) in [
        (
            "demo/notary-signed",
            &[("openssl", "3.0.15"), ("zlib", "1.3.1")][..],
        ),
        ("demo/notary-vulnerable", &[("log4j-core", "2.14.1")][..]),
    ] {
        let image = l.image(repo, "v1");
        let sig = jws(s, l.descriptor(&image), None);
        let signature = l.signature_referrer(&sig, &image);
        let attestation = sbom_referrer(l, s, &image, components);
        l.list_referrers(
            repo,
            &image,
            &[
                (signature, "application/vnd.cncf.notary.signature"),
                (attestation, SBOM_TYPE),
            ],
        );
    }
    // COSE by the RSA-3072 leaf, in the legacy manifest form.
    let repo = "demo/notary-cose";
    let image = l.image(repo, "v1");
    let chain = vec![
        s.rsa_leaf.clone(),
        s.pki.intermediate.clone(),
        s.pki.root.clone(),
    ];
    let sig = Signature {
        format: Format::Cose,
        legacy: true,
        envelope: sign_cose(
            &SignRequest::new(l.descriptor(&image), signed_at()),
            &s.rsa_key,
            &chain,
        ),
    };
    let m = l.signature_referrer(&sig, &image);
    l.list_referrers(
        repo,
        &image,
        &[(m, "application/vnd.cncf.notary.signature")],
    );
    // Signed by a chain the policy does not trust.
    let repo = "demo/notary-untrusted";
    let image = l.image(repo, "v1");
    let sig = Signature {
        format: Format::Jws,
        legacy: false,
        envelope: sign_jws(
            &SignRequest::new(l.descriptor(&image), signed_at()),
            &s.other.leaf_key,
            &s.other.chain(),
        ),
    };
    let m = l.signature_referrer(&sig, &image);
    l.list_referrers(
        repo,
        &image,
        &[(m, "application/vnd.cncf.notary.signature")],
    );
    // A signature that expired on 2026-06-01.
    let repo = "demo/notary-expired";
    let image = l.image(repo, "v1");
    let sig = jws(s, l.descriptor(&image), Some(unix(2026, 6, 1, 0, 0, 0)));
    let m = l.signature_referrer(&sig, &image);
    l.list_referrers(
        repo,
        &image,
        &[(m, "application/vnd.cncf.notary.signature")],
    );
    // A valid signature of notary-signed, attached to another image.
    let signed = l
        .refs
        .iter()
        .find(|(r, ..)| r == &format!("{REGISTRY}/demo/notary-signed:v1"))
        .map(|(_, d, ..)| d.clone())
        .expect("notary-signed");
    let repo = "demo/notary-borrowed";
    let image = l.image(repo, "v1");
    let sig = jws(s, l.descriptor(&signed), None);
    let m = l.signature_referrer(&sig, &image);
    l.list_referrers(
        repo,
        &image,
        &[(m, "application/vnd.cncf.notary.signature")],
    );
    // No signature at all.
    l.image("demo/notary-unsigned", "v1");
}

/// An SBOM attestation referrer of `image` (artifact type [`SBOM_TYPE`],
/// its one layer the SBOM), itself signed: its own signature is listed in
/// the attestation manifest's tag-schema index.
fn sbom_referrer(l: &mut Layout, s: &Signers, image: &str, components: &[(&str, &str)]) -> Vec<u8> {
    let sbom = sbom(components);
    let (sd, sn) = l.add_blob(sbom);
    let (ed, en) = l.add_blob(b"{}".to_vec());
    let subject = l.descriptor(image);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": MANIFEST, "artifactType": SBOM_TYPE,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": ed, "size": en},
        "layers": [{"mediaType": SBOM_TYPE, "digest": sd, "size": sn}],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size},
    }))
    .expect("json");
    let (md, _) = l.add_blob(manifest.clone());
    let sig = jws(s, Descriptor::for_content(MANIFEST, &manifest), None);
    let signature = l.signature_referrer(&sig, &md);
    let repo = image_repo(l, image);
    l.list_referrers(
        &repo,
        &md,
        &[(signature, "application/vnd.cncf.notary.signature")],
    );
    manifest
}

/// The repository of a tagged image in the layout.
fn image_repo(l: &Layout, digest: &str) -> String {
    l.refs
        .iter()
        .find(|(_, d, ..)| d == digest)
        .and_then(|(r, ..)| r.strip_prefix(&format!("{REGISTRY}/")))
        .and_then(|r| r.rsplit_once(':'))
        .map(|(repo, _)| repo.to_string())
        .expect("image in the layout")
}
