//! `--test-case-selector` (`-t`): `policy=P,rule=R,resource=X` with Kyverno's
//! wildcards, filtering which expectations run. An expectation without a
//! rule or resources passes the rule or resource filter, as in Kyverno; a
//! resource filter other than `*` also replaces the expectation's resources.

use super::schema::Expectation;
use imgverify::wildcard;

/// A parsed selector.
#[derive(Debug, Default, Clone)]
pub struct Selector {
    policy: Vec<String>,
    rule: Vec<String>,
    resource: Vec<String>,
}

/// Kyverno's default selector.
pub const DEFAULT: &str = "policy=*,rule=*,resource=*";

impl Selector {
    /// Parses `key=value` pairs separated by commas. Errors name each bad pair
    /// with Kyverno's messages; the valid pairs still apply.
    pub fn parse(input: &str) -> (Selector, Vec<String>) {
        let mut s = Selector::default();
        let mut errors = Vec::new();
        if input.is_empty() {
            return (s, errors);
        }
        for pair in input.split(',') {
            let parts: Vec<&str> = pair.split('=').collect();
            if parts.len() != 2 {
                errors.push(format!("Invalid test-case-selector argument ({pair}). Parameter must be in the form `<key>=<value>`."));
                continue;
            }
            let value = parts[1].trim().to_string();
            match parts[0].trim() {
                "policy" => s.policy.push(value),
                "rule" => s.rule.push(value),
                "resource" => s.resource.push(value),
                _ => errors.push(format!(
                    "Invalid test-case-selector ({pair}). Parameter can only be policy, rule or resource."
                )),
            }
        }
        (s, errors)
    }

    /// Whether the expectation is selected.
    pub fn selects(&self, e: &Expectation) -> bool {
        let policy =
            e.policy.is_empty() || self.policy.iter().all(|p| wildcard::matches(p, &e.policy));
        let rule = e.rule.is_empty() || self.rule.iter().all(|p| wildcard::matches(p, &e.rule));
        let resource = e.resources.is_empty()
            || self
                .resource
                .iter()
                .all(|p| e.resources.iter().any(|r| wildcard::matches(p, r)));
        policy && rule && resource
    }

    /// The resources the selector names (up to the first `*`), which replace
    /// a selected expectation's resources.
    pub fn resources(&self) -> Vec<String> {
        self.resource
            .iter()
            .take_while(|r| r.as_str() != "*")
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(policy: &str, rule: &str, resources: &[&str]) -> Expectation {
        Expectation {
            policy: policy.into(),
            rule: rule.into(),
            resources: resources.iter().map(|s| s.to_string()).collect(),
            result: "pass".into(),
            ..Default::default()
        }
    }

    #[test]
    fn selects_as_kyverno() {
        let (s, errors) = Selector::parse(DEFAULT);
        assert!(errors.is_empty());
        assert!(s.selects(&exp("a", "b", &["c"])));
        assert!(s.resources().is_empty());
        let (s, _) = Selector::parse("policy=check-*,resource=signed");
        assert!(s.selects(&exp("check-image", "r", &["signed", "unsigned"])));
        assert!(!s.selects(&exp("check-image", "r", &["unsigned"])));
        assert!(!s.selects(&exp("other", "r", &["signed"])));
        assert!(s.selects(&exp("check-image", "", &[])));
        assert_eq!(s.resources(), vec!["signed".to_string()]);
        let (_, errors) = Selector::parse("policy,colour=red");
        assert_eq!(errors.len(), 2);
        assert!(errors[0].contains("must be in the form"), "{errors:?}");
        assert!(errors[1].contains("can only be policy, rule or resource"));
    }
}
