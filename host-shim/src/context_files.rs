//! The admission context the CLI takes from files, as the Kyverno CLI does:
//! a values file and a user-info file (`--userinfo`), parsed by
//! [`imgverify::apply::values`].

pub use imgverify::apply::values::{AuthUser, NamespaceLabels, UserInfoFile, Values};

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

/// Reads a values file.
pub fn load_values(path: &str) -> Result<Values, String> {
    imgverify::apply::values::parse_values(path, &read(path)?)
}

/// Reads a user-info file into the engine's user shape.
pub fn load_user_info(path: &str) -> Result<serde_json::Value, String> {
    imgverify::apply::values::parse_user_info(path, &read(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use imgverify::apply::AdmissionContext;

    #[test]
    fn strict_and_ordered() {
        let dir = std::env::temp_dir().join(format!("imgverify-ctx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let values = dir.join("values.yaml");
        std::fs::write(&values, "apiVersion: cli.kyverno.io/v1alpha1\nkind: Values\nnamespaceSelector:\n- name: prod\n  labels: {env: sel}\nnamespaces:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: prod, labels: {env: prod}}\nglobalValues:\n  request.operation: UPDATE\n").unwrap();
        let mut ctx = AdmissionContext::default();
        load_values(values.to_str().unwrap())
            .unwrap()
            .apply_to(&mut ctx)
            .unwrap();
        assert_eq!(ctx.namespace_labels["prod"]["env"], "prod");
        assert_eq!(ctx.operation.as_deref(), Some("UPDATE"));
        std::fs::write(
            &values,
            "apiVersion: cli.kyverno.io/v1alpha1\nkind: Values\nnamespaceSelectors: []\n",
        )
        .unwrap();
        let e = load_values(values.to_str().unwrap()).unwrap_err();
        assert!(e.contains("unknown field `namespaceSelectors`"), "{e}");
        let user = dir.join("user.yaml");
        std::fs::write(&user, "apiVersion: cli.kyverno.io/v1alpha1\nkind: UserInfo\nclusterRoles: [cluster-admin]\nuserInfo:\n  username: molybdenum@somecorp.com\n").unwrap();
        let u = load_user_info(user.to_str().unwrap()).unwrap();
        assert_eq!(u["clusterRoles"][0], "cluster-admin");
        assert_eq!(u["username"], "molybdenum@somecorp.com");
        std::fs::write(&user, "kind: UserInfo\nuserInfo: {username: a}\n").unwrap();
        assert!(
            load_user_info(user.to_str().unwrap())
                .unwrap_err()
                .contains("cli.kyverno.io/v1alpha1")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
