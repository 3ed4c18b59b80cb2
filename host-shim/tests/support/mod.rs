//! Test harness: a real `docker-registry` (Debian's distribution 2.8) on a
//! loopback port, and pushing the example OCI layout into it over the HTTP API.
#![allow(dead_code)]

pub mod fake;
pub mod forge;
pub mod kubeapi;
pub mod mint;
pub mod proxy;
pub mod token;
pub mod webhook;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// How the registry authenticates.
pub enum Auth {
    None,
    /// htpasswd with one user.
    Basic {
        user: String,
        password: String,
    },
    /// Token auth: realm URL, service, issuer, root certificate bundle path.
    Token {
        realm: String,
        service: String,
        issuer: String,
        root_cert: PathBuf,
    },
}

/// A running registry; killed on drop.
pub struct TestRegistry {
    pub port: u16,
    pub dir: tempdir::Dir,
    child: Child,
    pub basic: Option<(String, String)>,
    /// A ready `Authorization` header for pushes (token auth).
    pub push_auth: Option<String>,
    /// The CA to trust when the registry serves TLS.
    pub ca_pem: Option<String>,
}

pub mod tempdir {
    use std::path::PathBuf;
    /// A directory removed on drop.
    pub struct Dir(pub PathBuf);
    impl Dir {
        pub fn new(tag: &str) -> Self {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let p =
                std::env::temp_dir().join(format!("imgverify-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl TestRegistry {
    pub fn start(auth: Auth) -> Self {
        Self::start_with(auth, None)
    }

    /// Starts with TLS: `(certificate PEM, key PEM)` files.
    pub fn start_with(auth: Auth, tls: Option<(PathBuf, PathBuf)>) -> Self {
        let bin = "/usr/bin/docker-registry";
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: run `cargo xtask setup` (installs Debian's docker-registry package)"
        );
        let dir = tempdir::Dir::new("registry");
        let port = free_port();
        let mut basic = None;
        let auth_yaml = match auth {
            Auth::None => String::new(),
            Auth::Basic { user, password } => {
                let hash = bcrypt::hash(&password, 5).unwrap();
                let path = dir.0.join("htpasswd");
                std::fs::write(&path, format!("{user}:{hash}\n")).unwrap();
                basic = Some((user, password));
                format!(
                    "auth:\n  htpasswd:\n    realm: imgverify-test\n    path: {}\n",
                    path.display()
                )
            }
            Auth::Token {
                realm,
                service,
                issuer,
                root_cert,
            } => format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
                root_cert.display()
            ),
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{}{auth_yaml}",
            dir.0.join("data").display(),
            match &tls {
                Some((c, k)) => format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    c.display(),
                    k.display()
                ),
                None => String::new(),
            }
        );
        let config_path = dir.0.join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.0.join("access.log")).unwrap();
        let child = Command::new(bin)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let reg = TestRegistry {
            port,
            dir,
            child,
            basic,
            push_auth: None,
            ca_pem: tls
                .as_ref()
                .map(|(c, _)| std::fs::read_to_string(c).unwrap()),
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "registry did not start: {}",
                reg.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        reg
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// A client for pushing (trusting the test CA when TLS is on).
    pub fn client(&self) -> reqwest::Client {
        let mut b = reqwest::Client::builder().use_rustls_tls();
        if let Some(pem) = &self.ca_pem {
            b = b.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
        }
        b.build().unwrap()
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("access.log")).unwrap_or_default()
    }

    /// Access-log lines of GET requests for `/v2/...` paths, by path.
    pub fn get_counts(&self) -> std::collections::BTreeMap<String, usize> {
        let mut m = std::collections::BTreeMap::new();
        for line in self.log().lines() {
            if let Some(i) = line.find("\"GET /v2/") {
                let rest = &line[i + 5..];
                let path = rest.split(' ').next().unwrap_or("").to_string();
                if path != "/v2/" {
                    *m.entry(path).or_default() += 1;
                }
            }
        }
        m
    }

    fn auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some(h) = &self.push_auth {
            return req.header("authorization", h);
        }
        match &self.basic {
            Some((u, p)) => req.basic_auth(u, Some(p)),
            None => req,
        }
    }

    pub async fn push_blob(&self, client: &reqwest::Client, repo: &str, bytes: &[u8]) -> String {
        let digest = imgverify::digest::Digest::sha256_of(bytes).to_string();
        let url = format!(
            "{}://{}/v2/{repo}/blobs/uploads/",
            self.scheme(),
            self.host()
        );
        let r = self.auth(client.post(&url)).send().await.unwrap();
        assert_eq!(
            r.status().as_u16(),
            202,
            "start upload: {}",
            r.text().await.unwrap_or_default()
        );
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let loc = if loc.starts_with("http") {
            loc
        } else {
            format!("{}://{}{loc}", self.scheme(), self.host())
        };
        let sep = if loc.contains('?') { '&' } else { '?' };
        let r = self
            .auth(client.put(format!("{loc}{sep}digest={digest}")))
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            201,
            "finish upload: {}",
            r.text().await.unwrap_or_default()
        );
        digest
    }

    pub async fn push_manifest(
        &self,
        client: &reqwest::Client,
        repo: &str,
        reference: &str,
        bytes: &[u8],
    ) {
        let v: Value = serde_json::from_slice(bytes).unwrap();
        let mt = v["mediaType"]
            .as_str()
            .unwrap_or("application/vnd.oci.image.manifest.v1+json")
            .to_string();
        let url = format!(
            "{}://{}/v2/{repo}/manifests/{reference}",
            self.scheme(),
            self.host()
        );
        let r = self
            .auth(client.put(url))
            .header("content-type", mt)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            201,
            "push manifest {repo}:{reference}: {}",
            r.text().await.unwrap_or_default()
        );
    }

    /// Repositories of the example layout.
    pub fn example_repos() -> Vec<String> {
        let index: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("policies/images/index.json")).unwrap(),
        )
        .unwrap();
        let mut repos: Vec<String> = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let n = m["annotations"]["org.opencontainers.image.ref.name"]
                    .as_str()
                    .unwrap();
                n.trim_start_matches("registry.example.com/")
                    .rsplit_once(':')
                    .unwrap()
                    .0
                    .to_string()
            })
            .collect();
        repos.sort();
        repos.dedup();
        repos
    }

    /// Pushes every tagged manifest of the example layout (with its blobs,
    /// and for an index the manifests it lists), dropping the
    /// `registry.example.com/` prefix of the ref names.
    pub async fn push_examples(&self) {
        let client = self.client();
        let layout = root().join("policies/images");
        let index: Value =
            serde_json::from_str(&std::fs::read_to_string(layout.join("index.json")).unwrap())
                .unwrap();
        for m in index["manifests"].as_array().unwrap() {
            let name = m["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .unwrap();
            let name = name.trim_start_matches("registry.example.com/");
            let (repo, tag) = name.rsplit_once(':').unwrap();
            self.push_layout_manifest(&client, &layout, repo, m["digest"].as_str().unwrap(), tag)
                .await;
        }
    }

    /// Pushes one manifest of a layout under `reference`, after what it
    /// refers to: its config and layers, or an index's manifests.
    async fn push_layout_manifest(
        &self,
        client: &reqwest::Client,
        layout: &std::path::Path,
        repo: &str,
        digest: &str,
        reference: &str,
    ) {
        let blob = |d: &str| {
            std::fs::read(
                layout
                    .join("blobs/sha256")
                    .join(d.trim_start_matches("sha256:")),
            )
            .unwrap()
        };
        let manifest = blob(digest);
        let mv: Value = serde_json::from_slice(&manifest).unwrap();
        if let Some(children) = mv["manifests"].as_array() {
            for c in children {
                let d = c["digest"].as_str().unwrap();
                Box::pin(self.push_layout_manifest(client, layout, repo, d, d)).await;
            }
        } else {
            let mut digests = vec![mv["config"]["digest"].as_str().unwrap().to_string()];
            digests.extend(
                mv["layers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l["digest"].as_str().unwrap().to_string()),
            );
            for d in digests {
                self.push_blob(client, repo, &blob(&d)).await;
            }
        }
        self.push_manifest(client, repo, reference, &manifest).await;
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The keyed-signature policy with its images moved to `host`.
pub fn keyed_policy() -> String {
    std::fs::read_to_string(root().join("policies/keyed-signature/policy.yaml"))
        .unwrap()
        .replace("\"registry.example.com/*\"", "\"127.0.0.1:*\"")
}

/// The sigstore-bundle policy (`type: SigstoreBundle`) with its images
/// moved to a loopback registry.
pub fn bundle_policy() -> String {
    std::fs::read_to_string(root().join("policies/sigstore-bundle/policy.yaml"))
        .unwrap()
        .replace("\"registry.example.com/demo/bundle-*\"", "\"127.0.0.1:*\"")
        .replace("\"registry.example.com/demo/unsigned*\"", "\"localhost:*\"")
}

/// The notary-signature policy (`type: Notary`) with its images moved to a
/// loopback registry.
pub fn notary_policy() -> String {
    std::fs::read_to_string(root().join("policies/notary-signature/policy.yaml"))
        .unwrap()
        .replace("\"registry.example.com/demo/notary-*\"", "\"127.0.0.1:*\"")
        .replace(
            "\"registry.example.com/demo/notary-signed*\"",
            "\"127.0.0.1:*/demo/notary-signed*\"",
        )
        .replace(
            "\"registry.example.com/demo/notary-vulnerable*\"",
            "\"127.0.0.1:*/demo/notary-vulnerable*\"",
        )
}

/// A trusted root whose only transparency log is the example's DEMO Rekor.
pub fn demo_trusted_root() -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let pem = std::fs::read_to_string(root().join("policies/keys/demo-rekor.pub")).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(&body)
        .unwrap();
    let log_id = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&der));
    serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{"baseUrl": "https://rekor.example.com", "hashAlgorithm": "SHA2_256",
            "publicKey": {"rawBytes": body, "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": "2020-01-01T00:00:00Z"}},
            "logId": {"keyId": log_id}}],
        "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": [],
    })
    .to_string()
}

/// Writes the sigstore-bundle example's policy without its own
/// `rekor.pubkey` into `dir` (its transparency log then comes from the
/// trusted root); returns the file.
pub fn bundle_policy_trusting_the_root(dir: &std::path::Path) -> PathBuf {
    let text =
        std::fs::read_to_string(root().join("policies/sigstore-bundle/policy.yaml")).unwrap();
    let cut = text.find("                    rekor:").unwrap();
    let path = dir.join("policy.yaml");
    std::fs::write(&path, &text[..cut]).unwrap();
    path
}

/// A Pod request for `image`.
pub fn pod_request(name: &str, image: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"object": {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": image}]}}}))
    .unwrap()
}
