//! Kyverno image normalisation and wildcard vectors.
mod common;

use imgverify::reference::{ImageInfo, NormalizeOptions, add_default_registry};
use imgverify::wildcard;

#[test]
fn image_normalisation() {
    let v = common::json("kyverno/image-normalisation.json");
    let cases = v["get_image_info"].as_array().expect("cases");
    assert_eq!(cases.len(), 8);
    for c in cases {
        let opts = NormalizeOptions {
            default_registry: c["defaultRegistry"].as_str().unwrap().into(),
            enable_default_registry_mutation: c["enableDefaultRegistryMutation"].as_bool().unwrap(),
        };
        let input = c["input"].as_str().unwrap();
        let info = ImageInfo::parse(input, &opts).unwrap_or_else(|e| panic!("{input}: {e}"));
        let e = &c["expected"];
        assert_eq!(
            info.registry,
            e["registry"].as_str().unwrap(),
            "{input} registry"
        );
        assert_eq!(info.path, e["path"].as_str().unwrap(), "{input} path");
        assert_eq!(info.name, e["name"].as_str().unwrap(), "{input} name");
        assert_eq!(info.tag, e["tag"].as_str().unwrap(), "{input} tag");
        assert_eq!(info.digest, e["digest"].as_str().unwrap(), "{input} digest");
        assert_eq!(
            info.to_string(),
            e["string"].as_str().unwrap(),
            "{input} string"
        );
    }
    let r = &v["reference_and_reference_with_tag"];
    let opts = NormalizeOptions::default();
    for c in r["cases"].as_array().unwrap() {
        let input = c["input"].as_str().unwrap();
        let info = ImageInfo::parse(input, &opts).unwrap();
        assert_eq!(
            info.to_string(),
            c["reference"].as_str().unwrap(),
            "{input}"
        );
        assert_eq!(
            info.reference_with_tag(),
            c["referenceWithTag"].as_str().unwrap(),
            "{input}"
        );
    }
    for input in v["parse_errors"]["inputs"].as_array().unwrap() {
        let input = input.as_str().unwrap();
        assert!(
            ImageInfo::parse(input, &opts).is_err(),
            "{input} must not parse"
        );
    }
    for c in v["add_default_registry"]["cases"].as_array().unwrap() {
        let got = add_default_registry(
            c["input"].as_str().unwrap(),
            c["defaultRegistry"].as_str().unwrap(),
        );
        assert_eq!(got, c["want"].as_str().unwrap());
    }
}

#[test]
fn wildcard_vectors() {
    let v = common::json("kyverno/wildcard.json");
    let cases = v["match"].as_array().unwrap();
    assert_eq!(cases.len(), 52);
    for c in cases {
        let (p, i) = (c["pattern"].as_str().unwrap(), c["input"].as_str().unwrap());
        assert_eq!(
            wildcard::matches(p, i),
            c["expected"].as_bool().unwrap(),
            "{}: {p:?} vs {i:?}",
            c["name"]
        );
    }
    for c in v["contains_wildcard"].as_array().unwrap() {
        assert_eq!(
            wildcard::contains_wildcard(c["input"].as_str().unwrap()),
            c["expected"].as_bool().unwrap()
        );
    }
    for c in v["check_patterns"].as_array().unwrap() {
        let pats: Vec<String> = serde_json::from_value(c["patterns"].clone()).unwrap();
        assert_eq!(
            wildcard::matches_any(&pats, c["input"].as_str().unwrap()),
            c["expected"].as_bool().unwrap()
        );
    }
    for c in v["match_patterns"]["cases"].as_array().unwrap() {
        let pats: Vec<String> = serde_json::from_value(c["patterns"].clone()).unwrap_or_default();
        let names: Vec<String> = serde_json::from_value(c["names"].clone()).unwrap_or_default();
        let got = wildcard::first_match(&pats, &names);
        let e = c["expected"].as_array().unwrap();
        match got {
            Some((p, n)) => {
                assert!(e[2].as_bool().unwrap());
                assert_eq!((p, n), (e[0].as_str().unwrap(), e[1].as_str().unwrap()));
            }
            None => assert!(!e[2].as_bool().unwrap()),
        }
    }
}
