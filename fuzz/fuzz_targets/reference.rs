//! Image references: parsing, normalisation, canonical spellings, matching.
#![no_main]
use imgverify::reference::{ImageInfo, NormalizeOptions, ParsedReference, canonical_registry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    let _ = ParsedReference::parse(s);
    if let Ok(info) = ImageInfo::parse(s, &NormalizeOptions::default()) {
        // The canonical form is stable: parsing it again gives the same image.
        let canon = info.to_string();
        let again = ImageInfo::parse(&canon, &NormalizeOptions::default())
            .expect("a canonical reference parses");
        assert_eq!(again.to_string(), canon);
        assert_eq!(canonical_registry(&info.registry), info.registry);
        for name in info.match_names() {
            let _ = imgverify::wildcard::matches(s, &name);
        }
    }
});
