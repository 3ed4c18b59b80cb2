//! Registry credentials (static, docker `config.json`, credential helpers,
//! Kubernetes pull secrets) and the `WWW-Authenticate` challenge.

use super::config::{Credential, RegistryConfig};
use base64::Engine as _;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

/// Where credentials come from, looked up by registry host.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    explicit: BTreeMap<String, Credential>,
    /// Pull secrets by `name` and `namespace/name`, each a host → credential map.
    named: BTreeMap<String, BTreeMap<String, Credential>>,
    auths: BTreeMap<String, Credential>,
    helpers: BTreeMap<String, String>,
    store: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, DockerAuth>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct DockerAuth {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// Normalises a docker config key (`https://index.docker.io/v1/`, `host:port`).
pub fn config_host(key: &str) -> String {
    let k = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = k.split('/').next().unwrap_or(k);
    match host {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        h => h.to_string(),
    }
}

fn decode_auth(a: &DockerAuth) -> Option<Credential> {
    if let Some(token) = &a.identitytoken {
        return Some(Credential {
            username: "<token>".into(),
            password: token.clone(),
        });
    }
    if let (Some(u), Some(p)) = (&a.username, &a.password) {
        return Some(Credential {
            username: u.clone(),
            password: p.clone(),
        });
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(a.auth.as_deref()?.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some(Credential {
        username: u.into(),
        password: p.into(),
    })
}

impl Credentials {
    /// Loads every configured source. Files that cannot be read are errors.
    pub fn load(config: &RegistryConfig) -> Result<Self, String> {
        let mut c = Credentials {
            explicit: config
                .credentials
                .iter()
                .map(|(k, v)| (config_host(k), v.clone()))
                .collect(),
            ..Default::default()
        };
        if let Some(path) = &config.docker_config {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            c.add_docker_config(&text)
                .map_err(|e| format!("{path}: {e}"))?;
        }
        for path in &config.pull_secrets {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            c.add_pull_secret(&text)
                .map_err(|e| format!("{path}: {e}"))?;
        }
        Ok(c)
    }

    /// Adds a docker `config.json`.
    pub fn add_docker_config(&mut self, json: &str) -> Result<(), String> {
        let cfg: DockerConfig = serde_json::from_str(json).map_err(|e| e.to_string())?;
        for (k, a) in &cfg.auths {
            if let Some(cred) = decode_auth(a) {
                self.auths.insert(config_host(k), cred);
            }
        }
        for (k, h) in cfg.cred_helpers {
            self.helpers.insert(config_host(&k), h);
        }
        if cfg.creds_store.is_some() {
            self.store = cfg.creds_store;
        }
        Ok(())
    }

    /// Adds a `kubernetes.io/dockerconfigjson` Secret (YAML or JSON), or a
    /// bare `.dockerconfigjson` document.
    pub fn add_pull_secret(&mut self, text: &str) -> Result<(), String> {
        let v: serde_json::Value = imgverify::yaml::from_str(text)?;
        // Also keep the secret's own credentials under its name, for policies'
        // imageRegistryCredentials.secrets.
        if let Some(name) = v.pointer("/metadata/name").and_then(|n| n.as_str()) {
            let mut own = Credentials::default();
            own.add_pull_secret_data(&v)?;
            let ns = v.pointer("/metadata/namespace").and_then(|n| n.as_str());
            if let Some(ns) = ns {
                self.named.insert(format!("{ns}/{name}"), own.auths.clone());
            }
            self.named.insert(name.to_string(), own.auths);
        }
        self.add_pull_secret_data(&v)
    }

    fn add_pull_secret_data(&mut self, v: &serde_json::Value) -> Result<(), String> {
        if let Some(data) = v
            .pointer("/data/.dockerconfigjson")
            .and_then(|d| d.as_str())
        {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|e| e.to_string())?;
            return self.add_docker_config(&String::from_utf8_lossy(&raw));
        }
        if let Some(data) = v
            .pointer("/stringData/.dockerconfigjson")
            .and_then(|d| d.as_str())
        {
            return self.add_docker_config(data);
        }
        if v.get("auths").is_some() {
            return self.add_docker_config(&v.to_string());
        }
        Err("not a dockerconfigjson Secret (no data/.dockerconfigjson)".into())
    }

    /// The credential the pull secret named `secret` (from a file) holds
    /// for registry host `host` (as [`config_host`] gives it).
    pub fn named_credential(&self, secret: &str, host: &str) -> Option<Credential> {
        self.named.get(secret).and_then(|m| m.get(host)).cloned()
    }

    /// Whether credentials may exist for `registry` (a helper or store that
    /// could answer counts), found without running a helper.
    pub fn may_have(&self, registry: &str, secrets: &[String]) -> bool {
        let host = config_host(registry);
        secrets
            .iter()
            .any(|s| self.named.get(s).is_some_and(|m| m.contains_key(&host)))
            || self.explicit.contains_key(&host)
            || self.auths.contains_key(&host)
            || self.helpers.contains_key(&host)
            || self.store.is_some()
    }

    /// Credentials for `registry`: explicit, then `auths`, then a credential helper.
    pub fn lookup(&self, registry: &str) -> Option<Credential> {
        let host = config_host(registry);
        if let Some(c) = self.explicit.get(&host).or_else(|| self.auths.get(&host)) {
            return Some(c.clone());
        }
        let helper = self.helpers.get(&host).or(self.store.as_ref())?;
        run_helper(helper, &host)
    }
}

/// The credentials of a `kubernetes.io/dockerconfigjson` Secret (as the
/// API server returns it), by registry host.
pub fn secret_credentials(
    secret: &serde_json::Value,
) -> Result<BTreeMap<String, Credential>, String> {
    let mut c = Credentials::default();
    c.add_pull_secret_data(secret)?;
    Ok(c.auths)
}

/// Pull secrets and service accounts the cluster holds.
pub trait ClusterPullSecrets: Send + Sync {
    /// The namespace a bare secret name (a policy's
    /// `imageRegistryCredentials.secrets`) is read in.
    fn home_namespace(&self) -> &str;
    /// The credentials of Secret `namespace/name` by registry host; empty
    /// when it does not exist or cannot be read (which is logged).
    fn secret<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> futures::future::BoxFuture<'a, std::sync::Arc<BTreeMap<String, Credential>>>;
    /// The `imagePullSecrets` names of service account `namespace/name`.
    fn service_account<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> futures::future::BoxFuture<'a, std::sync::Arc<Vec<String>>>;
}

/// Runs `docker-credential-<helper> get`, when that executable exists.
fn run_helper(helper: &str, host: &str) -> Option<Credential> {
    #[derive(Deserialize)]
    struct Out {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(host.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    let o: Out = serde_json::from_slice(&out.stdout).ok()?;
    Some(Credential {
        username: o.username,
        password: o.secret,
    })
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `bearer` or `basic` (lowercase).
    pub scheme: String,
    /// Parameters (`realm`, `service`, `scope`).
    pub params: BTreeMap<String, String>,
}

/// Parses `Scheme k="v", k2=v2` (quoted values may contain commas).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut escaped = false;
            for c in chars.by_ref() {
                match (escaped, c) {
                    (false, '\\') => escaped = true,
                    (false, '"') => break,
                    _ => {
                        value.push(c);
                        escaped = false;
                    }
                }
            }
        } else {
            value = chars
                .by_ref()
                .take_while(|c| *c != ',')
                .collect::<String>()
                .trim()
                .to_string();
        }
        params.insert(key, value);
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parsing() {
        let c = parse_challenge(r#"Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push""#).unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.example/token");
        assert_eq!(c.params["scope"], "repository:a/b:pull,push");
        let b = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(b.scheme, "basic");
    }

    #[test]
    fn docker_config_and_pull_secret() {
        let mut c = Credentials::default();
        c.add_docker_config(r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"},"r.example:5000":{"username":"a","password":"b"}}}"#).unwrap();
        assert_eq!(
            c.lookup("docker.io").unwrap(),
            Credential {
                username: "u".into(),
                password: "p".into()
            }
        );
        assert_eq!(c.lookup("r.example:5000").unwrap().username, "a");
        let secret = "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: eyJhdXRocyI6eyJnaGNyLmlvIjp7ImF1dGgiOiJlRHA1In19fQ==\n";
        c.add_pull_secret(secret).unwrap();
        assert_eq!(
            c.lookup("ghcr.io").unwrap(),
            Credential {
                username: "x".into(),
                password: "y".into()
            }
        );
        assert!(c.lookup("quay.io").is_none());
        // Named secrets are found by `namespace/name` and by name (the
        // registry client tries them before the credentials above).
        let named = "apiVersion: v1\nkind: Secret\nmetadata: {name: team-a, namespace: apps}\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{\"auths\":{\"ghcr.io\":{\"username\":\"team\",\"password\":\"a\"}}}'\n";
        c.add_pull_secret(named).unwrap();
        assert_eq!(
            c.named_credential("apps/team-a", "ghcr.io")
                .unwrap()
                .username,
            "team"
        );
        assert_eq!(
            c.named_credential("team-a", "ghcr.io").unwrap().username,
            "team"
        );
    }
}
