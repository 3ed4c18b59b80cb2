//! A token issuer for the registry's `token` auth: checks basic credentials
//! and signs ES256 JWTs with a test key whose certificate the registry trusts.
#![allow(dead_code)]

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use p256::pkcs8::DecodePrivateKey;
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const SERVICE: &str = "imgverify-test-registry";
pub const ISSUER: &str = "imgverify-test-issuer";

pub struct Issuer {
    key: SigningKey,
    cert_der: Vec<u8>,
    user: String,
    password: String,
    pub issued: AtomicUsize,
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl Issuer {
    /// A fresh key and self-signed certificate; writes the certificate PEM to `root_cert`.
    pub fn new(root_cert: &Path, user: &str, password: &str) -> Arc<Self> {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params =
            rcgen::CertificateParams::new(vec!["imgverify-token-issuer".to_string()]).unwrap();
        let cert = params.self_signed(&kp).unwrap();
        std::fs::write(root_cert, cert.pem()).unwrap();
        let key = SigningKey::from_pkcs8_der(&kp.serialize_der()).unwrap();
        Arc::new(Issuer {
            key,
            cert_der: cert.der().to_vec(),
            user: user.into(),
            password: password.into(),
            issued: AtomicUsize::new(0),
        })
    }

    /// A JWT granting `actions` on each repository.
    pub fn token(&self, repos: &[(&str, &[&str])]) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = json!({"alg": "ES256", "typ": "JWT", "x5c": [base64::engine::general_purpose::STANDARD.encode(&self.cert_der)]});
        let access: Vec<_> = repos
            .iter()
            .map(|(r, a)| json!({"type": "repository", "name": r, "actions": a}))
            .collect();
        let claims = json!({"iss": ISSUER, "sub": self.user, "aud": SERVICE, "exp": now + 300, "nbf": now - 10, "iat": now,
            "jti": format!("t{}", self.issued.fetch_add(1, Ordering::SeqCst)), "access": access});
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let sig: Signature = self.key.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", b64url(&sig.to_bytes()))
    }
}

async fn token(
    State(i): State<Arc<Issuer>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", i.user, i.password))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(want.as_str()) {
        return (StatusCode::UNAUTHORIZED, "bad credentials").into_response();
    }
    let scope = q.get("scope").cloned().unwrap_or_default();
    let repo = scope
        .strip_prefix("repository:")
        .and_then(|s| s.rsplit_once(':'))
        .map(|(r, _)| r.to_string())
        .unwrap_or_default();
    let jwt = i.token(&[(&repo, &["pull"])]);
    axum::Json(json!({"token": jwt, "expires_in": 300})).into_response()
}

/// Serves `/token` on a loopback port; returns the realm URL.
pub async fn serve(issuer: Arc<Issuer>) -> String {
    let app = Router::new().route("/token", get(token)).with_state(issuer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://127.0.0.1:{port}/token")
}
