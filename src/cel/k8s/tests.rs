//! Kubernetes' own cases (k8s.io/apiserver v0.36.3 `pkg/cel/library/*_test.go`
//! and the libraries' documented examples), then cases read off the Go
//! sources they rest on (net/url, net/netip, resource.Quantity,
//! blang/semver, apimachinery validation).

use super::super::{Env, NoHost, Value, eval};
use super::format::NamedFormat;
use std::collections::BTreeMap;

fn run(src: &str) -> Result<Value, String> {
    let env = Env::new(&[]);
    let p = env.compile(src).map_err(|e| format!("compile: {e}"))?;
    p.eval(
        &env,
        &BTreeMap::new(),
        &mut NoHost,
        eval::DEFAULT_COST_LIMIT,
    )
    .map_err(|e| e.to_string())
}

fn yes(src: &str) {
    match run(src) {
        Ok(Value::Bool(true)) => {}
        other => panic!("{src} → {other:?}, expected true"),
    }
}

fn no(src: &str) {
    match run(src) {
        Ok(Value::Bool(false)) => {}
        other => panic!("{src} → {other:?}, expected false"),
    }
}

fn int(src: &str) -> i64 {
    match run(src) {
        Ok(Value::Int(i)) => i,
        other => panic!("{src} → {other:?}, expected an int"),
    }
}

fn string(src: &str) -> String {
    match run(src) {
        Ok(Value::String(s)) => s.to_string(),
        other => panic!("{src} → {other:?}, expected a string"),
    }
}

fn json(src: &str) -> serde_json::Value {
    match run(src) {
        Ok(v) => v.to_json().unwrap_or_else(|| panic!("{src}: no JSON form")),
        Err(e) => panic!("{src}: {e}"),
    }
}

/// Fails at run time with exactly `message`.
fn fails(src: &str, message: &str) {
    match run(src) {
        Err(e) => assert_eq!(e, message, "{src}"),
        Ok(v) => panic!("{src} gave {v:?}, expected error {message:?}"),
    }
}

/// Fails to compile with an error containing `message`.
fn rejected(src: &str, message: &str) {
    match run(src) {
        Err(e) => assert!(
            e.starts_with("compile: ") && e.contains(message),
            "{src}: {e:?} lacks {message:?}"
        ),
        Ok(v) => panic!("{src} gave {v:?}, expected a compile error"),
    }
}

// ---- quantity ------------------------------------------------------------

#[test]
fn quantity_parses_as_kubernetes() {
    yes(r#"quantity("12Mi") == quantity("12582912")"#);
    fails(
        r#"quantity("10Mo")"#,
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
    fails(r#"quantity("10Mm")"#, "unable to parse quantity's suffix");
    yes(r#"isQuantity("20")"#);
    yes(r#"isQuantity("20M")"#);
    yes(r#"isQuantity("20Mi")"#);
    yes(r#"isQuantity("1.3G") && isQuantity("10000k")"#);
    no(r#"isQuantity("20Mo")"#);
    no(r#"isQuantity("10Mm")"#);
    no(r#"isQuantity("1,3G") || isQuantity("200K") || isQuantity("Three")"#);
    rejected(
        "isQuantity([1, 2, 3])",
        "found no matching overload for 'isQuantity' applied to '(list(int))'",
    );
    // Kubernetes documents `quantity('Mi')` as an error, but its parser
    // reads a missing number as 0.
    yes(r#"isQuantity("Mi") && quantity("Mi") == quantity("0")"#);
}

#[test]
fn quantity_equality_and_comparison() {
    yes(r#"quantity("200M") == quantity("200M")"#);
    yes(r#"quantity("200M") == quantity("0.2G") && quantity("0.2G") == quantity("200M")"#);
    yes(
        r#"quantity("2M") == quantity("0.002G") && quantity("2000k") == quantity("2M") && quantity("0.002G") == quantity("2000k")"#,
    );
    no(r#"quantity("200M") == quantity("0.3G")"#);
    yes(r#"quantity("50M").isLessThan(quantity("50Mi"))"#);
    yes(r#"quantity("50M").isLessThan(quantity("100M"))"#);
    no(r#"quantity("100M").isLessThan(quantity("50M"))"#);
    yes(r#"quantity("50Mi").isGreaterThan(quantity("50M"))"#);
    yes(r#"quantity("150Mi").isGreaterThan(quantity("100Mi"))"#);
    no(r#"quantity("50M").isGreaterThan(quantity("100M"))"#);
    assert_eq!(int(r#"quantity("200M").compareTo(quantity("0.2G"))"#), 0);
    assert_eq!(int(r#"quantity("50M").compareTo(quantity("50Mi"))"#), -1);
    assert_eq!(int(r#"quantity("50Mi").compareTo(quantity("50M"))"#), 1);
    // Across forms and far-apart scales.
    assert_eq!(int(r#"quantity("1.5Gi").compareTo(quantity("1536Mi"))"#), 0);
    assert_eq!(int(r#"quantity("1n").compareTo(quantity("1E"))"#), -1);
    assert_eq!(int(r#"quantity("-1E").compareTo(quantity("-1n"))"#), -1);
    assert_eq!(int(r#"quantity("-1").compareTo(quantity("0"))"#), -1);
    assert_eq!(int(r#"quantity("1e300").compareTo(quantity("1e-300"))"#), 1);
    yes(r#"quantity("100m") == quantity("0.1")"#);
}

#[test]
fn quantity_arithmetic() {
    yes(r#"quantity("50k").add(quantity("20")) == quantity("50.02k")"#);
    no(r#"quantity("50k").add(20).isLessThan(quantity("50020"))"#);
    yes(r#"quantity("50k").sub(quantity("20")) == quantity("49.98k")"#);
    yes(r#"quantity("50k").sub(20) == quantity("49980")"#);
    assert_eq!(
        int(r#"quantity("50k").add(20).sub(quantity("100k")).asInteger()"#),
        -49980
    );
    assert_eq!(
        int(r#"quantity("50k").add(20).sub(quantity("100k")).sub(-50000).asInteger()"#),
        20
    );
    yes(r#"quantity("50k").add("20k".size()) == quantity("50003")"#);
    yes(r#"quantity("50k").sub(20000) == quantity("30k")"#);
    // int64 overflow moves to the decimal form, exactly.
    yes(r#"quantity("9223372036854775807").add(1) == quantity("9223372036854775808")"#);
    no(r#"quantity("9223372036854775807").add(1).isInteger()"#);
    // Go negates the most negative int64 to itself, so subtracting it adds it.
    assert_eq!(
        int(r#"quantity("1").sub(-9223372036854775807 - 1).asInteger()"#),
        -9223372036854775807
    );
}

#[test]
fn quantity_conversions() {
    assert_eq!(int(r#"quantity("50k").asInteger()"#), 50000);
    yes(r#"quantity("50").isInteger()"#);
    yes(r#"quantity("50000000G").isInteger() && quantity("50k").isInteger()"#);
    // AsInt64 refuses inf.Dec values and negative scales, integral or not.
    no(r#"quantity("1.5Gi").isInteger()"#);
    no(r#"quantity("1.000").isInteger()"#);
    no(r#"quantity("99999999999999999999").isInteger()"#);
    fails(
        r#"quantity("99999999999999999999").asInteger()"#,
        "cannot convert value to integer",
    );
    fails(
        r#"quantity("9300000000000000000").asInteger()"#,
        "cannot convert value to integer",
    );
    match run(r#"quantity("50.703k").asApproximateFloat()"#) {
        Ok(Value::Double(d)) => assert_eq!(d, 50703.0),
        other => panic!("{other:?}"),
    }
    yes(r#"quantity("50k").sub(20000).asApproximateFloat() == 30000.0"#);
    yes(r#"quantity("1Mi").asApproximateFloat() == 1048576.0"#);
    assert_eq!(json(r#"quantity("1.5Gi")"#), serde_json::json!("1536Mi"));
    // Huge scales answer at once.
    assert_eq!(int(r#"quantity("0e999999999").asInteger()"#), 0);
    yes(r#"quantity("0e999999999") == quantity("0")"#);
    fails(
        r#"quantity("1e999999999").asInteger()"#,
        "cannot convert value to integer",
    );
    assert_eq!(
        int(r#"quantity("1e18").asInteger()"#),
        1_000_000_000_000_000_000
    );
    assert_eq!(
        int(r#"quantity("1e999999999").compareTo(quantity("1e-999999999"))"#),
        1
    );
}

#[test]
fn quantity_sign_is_global() {
    assert_eq!(int(r#"sign(quantity("-5Mi"))"#), -1);
    assert_eq!(int(r#"sign(quantity("0"))"#), 0);
    assert_eq!(int(r#"sign(quantity("1n"))"#), 1);
    rejected(
        r#"quantity("1").sign()"#,
        "found no matching overload for 'sign' applied to 'kubernetes.Quantity.()'",
    );
    rejected(
        r#"quantity("1").isLessThan(1)"#,
        "found no matching overload for 'isLessThan' applied to 'kubernetes.Quantity.(int)'",
    );
    rejected(
        r#"quantity("1") == "1""#,
        "found no matching overload for '_==_' applied to '(kubernetes.Quantity, string)'",
    );
    assert_eq!(
        run(r#"type(quantity("1"))"#).map(|v| format!("{v:?}")),
        Ok("Type(Opaque(\"kubernetes.Quantity\"))".to_string())
    );
}

/// Past 38 digits at nano scale the core's 128 bits give out where
/// `inf.Dec` does not: Kubernetes' `9999999999999999999999999999999999999G`
/// case parses there and is an error here.
#[test]
fn quantity_range_is_bounded() {
    fails(
        r#"quantity("9999999999999999999999999999999999999G").isInteger()"#,
        "quantity out of the supported range (38 digits)",
    );
    no(r#"isQuantity("9999999999999999999999999999999999999G")"#);
    yes(r#"isQuantity("99999999999999999999G")"#);
}

// ---- URLs ----------------------------------------------------------------

#[test]
fn urls_parse_as_go() {
    let u = "url('https://user:pass@example.com:80/path?query=val#fragment')";
    assert_eq!(string(&format!("{u}.getScheme()")), "https");
    assert_eq!(string(&format!("{u}.getHost()")), "example.com:80");
    assert_eq!(string(&format!("{u}.getHostname()")), "example.com");
    assert_eq!(string(&format!("{u}.getPort()")), "80");
    assert_eq!(string(&format!("{u}.getEscapedPath()")), "/path");
    assert_eq!(
        json(&format!("{u}.getQuery()")),
        serde_json::json!({"query": ["val"]})
    );
    yes("isURL('https://user:pass@example.com:80/path?query=val#fragment')");
    yes("isURL('/absolute-path')");
    no("isURL('https://a:b:c/')");
    no("isURL('../relative-path')");
    fails(
        "url('https://a:b:c/')",
        r#"URL parse error during conversion from string: parse "https://a:b:c/": invalid port ":b:c" after host"#,
    );
    fails(
        "url('../relative-path')",
        r#"URL parse error during conversion from string: parse "../relative-path": invalid URI for request"#,
    );
    fails(
        "url('')",
        r#"URL parse error during conversion from string: parse "": empty url"#,
    );
}

#[test]
fn url_parts_as_documented() {
    assert_eq!(string("url('/path').getScheme()"), "");
    assert_eq!(string("url('https://example.com/').getScheme()"), "https");
    assert_eq!(string("url('HTTPS://example.com/').getScheme()"), "https");
    assert_eq!(
        string("url('https://example.com:80/').getHost()"),
        "example.com:80"
    );
    assert_eq!(
        string("url('https://example.com/').getHost()"),
        "example.com"
    );
    assert_eq!(string("url('https://[::1]:80/').getHost()"), "[::1]:80");
    assert_eq!(string("url('https://[::1]/').getHost()"), "[::1]");
    assert_eq!(string("url('/path').getHost()"), "");
    assert_eq!(
        string("url('https://example.com:80/').getHostname()"),
        "example.com"
    );
    assert_eq!(
        string("url('https://127.0.0.1:80/').getHostname()"),
        "127.0.0.1"
    );
    assert_eq!(string("url('https://[::1]:80/').getHostname()"), "::1");
    assert_eq!(string("url('/path').getHostname()"), "");
    assert_eq!(string("url('https://example.com:80/').getPort()"), "80");
    assert_eq!(string("url('https://example.com/').getPort()"), "");
    assert_eq!(string("url('/path').getPort()"), "");
    assert_eq!(
        string("url('https://example.com/path').getEscapedPath()"),
        "/path"
    );
    assert_eq!(
        string("url('https://example.com/path with spaces/').getEscapedPath()"),
        "/path%20with%20spaces/"
    );
    assert_eq!(string("url('https://example.com').getEscapedPath()"), "");
    assert_eq!(
        json("url('https://example.com/path?k1=a&k2=b&k2=c').getQuery()"),
        serde_json::json!({"k1": ["a"], "k2": ["b", "c"]})
    );
    assert_eq!(
        json("url('https://example.com/path?key with spaces=value with spaces').getQuery()"),
        serde_json::json!({"key with spaces": ["value with spaces"]})
    );
    assert_eq!(
        json("url('https://example.com/path?').getQuery()"),
        serde_json::json!({})
    );
    assert_eq!(
        json("url('https://example.com/path').getQuery()"),
        serde_json::json!({})
    );
}

#[test]
fn urls_follow_go_1_26() {
    // Escapes: the raw path is kept when it decodes to the path.
    assert_eq!(string("url('/a%2Fb').getEscapedPath()"), "/a%2Fb");
    // A raw path is kept whenever it is a valid encoding of the path.
    assert_eq!(string("url('/a%41').getEscapedPath()"), "/a%41");
    assert_eq!(string("url('/a b?c').getEscapedPath()"), "/a%20b");
    fails(
        "url('/a%zz')",
        r#"URL parse error during conversion from string: parse "/a%zz": invalid URL escape "%zz""#,
    );
    fails(
        "url('http://a b/')",
        r#"URL parse error during conversion from string: parse "http://a b/": invalid character " " in host name"#,
    );
    fails(
        r"url('http://a/\tb')",
        r#"URL parse error during conversion from string: parse "http://a/\tb": net/url: invalid control character in URL"#,
    );
    fails(
        "url('http://%41/')",
        r#"URL parse error during conversion from string: parse "http://%41/": invalid URL escape "%41""#,
    );
    fails(
        "url(':foo')",
        r#"URL parse error during conversion from string: parse ":foo": missing protocol scheme"#,
    );
    fails(
        "url('http://u@s@h:x/')",
        r#"URL parse error during conversion from string: parse "http://u@s@h:x/": invalid port ":x" after host"#,
    );
    fails(
        "url('http://u^x@h/')",
        r#"URL parse error during conversion from string: parse "http://u^x@h/": net/url: invalid userinfo"#,
    );
    // Only IPv6 addresses go in brackets; strict colons for http(s) only.
    fails(
        "url('http://[1.2.3.4]/')",
        r#"URL parse error during conversion from string: parse "http://[1.2.3.4]/": invalid IP-literal"#,
    );
    fails(
        "url('http://x[::1]/')",
        r#"URL parse error during conversion from string: parse "http://x[::1]/": invalid IP-literal"#,
    );
    fails(
        "url('http://[::1/')",
        r#"URL parse error during conversion from string: parse "http://[::1/": missing ']' in host"#,
    );
    fails(
        "url('http://[zz]/')",
        r#"URL parse error during conversion from string: parse "http://[zz]/": invalid host: ParseAddr("zz"): unable to parse IP"#,
    );
    fails(
        "url('http://::1/')",
        r#"URL parse error during conversion from string: parse "http://::1/": invalid port "::1" after host"#,
    );
    assert_eq!(
        string("url('http://[fe80::1%25en0]:8080/').getHostname()"),
        "fe80::1%en0"
    );
    assert_eq!(
        string("url('postgres://h1:5432,h2:5433/db').getHost()"),
        "h1:5432,h2:5433"
    );
    assert_eq!(
        string("url('postgres://h1:5432,h2:5433/db').getPort()"),
        "5433"
    );
    // Opaque URLs and the request target `*`.
    yes("isURL('mailto:someone@example.com') && isURL('*') && isURL('http:')");
    assert_eq!(string("url('mailto:a@b').getEscapedPath()"), "");
    // Queries: `+` is a space, `;` drops a pair, a bad escape drops a pair.
    assert_eq!(
        json("url('/p?a=1+2&b=%zz&c;d=3&a=&e').getQuery()"),
        serde_json::json!({"a": ["1 2", ""], "e": [""]})
    );
    // Equality compares `String()`.
    yes("url('HTTPS://example.com/a?b#c') == url('https://example.com/a?b#c')");
    no("url('https://example.com/a#c') == url('https://example.com/a#d')");
    no("url('https://EXAMPLE.com/') == url('https://example.com/')");
    no("url('/a%41') == url('/aA')");
    yes("url('/a%41') == url('/a%41')");
    assert_eq!(
        json("url('https://u:p@h/%7e?q#f%20g')"),
        serde_json::json!("https://u:p@h/%7e?q#f%20g")
    );
}

// ---- IP ------------------------------------------------------------------

#[test]
fn ips_as_kubernetes_tests_them() {
    yes(r#"ip("192.168.0.1") == ip("192.168.0.1")"#);
    fails(
        r#"ip("192.168.0.1.0")"#,
        r#"IP Address "192.168.0.1.0" parse error during conversion from string: ParseAddr("192.168.0.1.0"): IPv4 address too long"#,
    );
    yes(r#"isIP("192.168.0.1")"#);
    no(r#"isIP("192.168.0.1.0")"#);
    yes(r#"ip.isCanonical("127.0.0.1")"#);
    fails(
        r#"ip.isCanonical("127.0.0.1.0")"#,
        r#"IP Address "127.0.0.1.0" parse error during conversion from string: ParseAddr("127.0.0.1.0"): IPv4 address too long"#,
    );
    assert_eq!(int(r#"ip("192.168.0.1").family()"#), 4);
    yes(r#"ip("0.0.0.0").isUnspecified()"#);
    no(r#"ip("127.0.0.1").isUnspecified()"#);
    yes(r#"ip("127.0.0.1").isLoopback()"#);
    no(r#"ip("1.2.3.4").isLoopback()"#);
    yes(r#"ip("224.0.0.1").isLinkLocalMulticast()"#);
    no(r#"ip("224.0.1.1").isLinkLocalMulticast()"#);
    yes(r#"ip("169.254.169.254").isLinkLocalUnicast()"#);
    no(r#"ip("192.168.0.1").isLinkLocalUnicast()"#);
    yes(r#"ip("192.168.0.1").isGlobalUnicast()"#);
    no(r#"ip("255.255.255.255").isGlobalUnicast()"#);
    yes(r#"ip("2001:db8::68") == ip("2001:db8::68")"#);
    fails(
        r#"ip("2001:db8:::68")"#,
        r#"IP Address "2001:db8:::68" parse error during conversion from string: ParseAddr("2001:db8:::68"): each colon-separated field must have at least one digit (at ":68")"#,
    );
    yes(r#"isIP("2001:db8::68")"#);
    no(r#"isIP("2001:db8:::68")"#);
    yes(r#"ip.isCanonical("2001:db8::68")"#);
    no(r#"ip.isCanonical("2001:DB8::68")"#);
    fails(
        r#"ip.isCanonical("2001:db8:::68")"#,
        r#"IP Address "2001:db8:::68" parse error during conversion from string: ParseAddr("2001:db8:::68"): each colon-separated field must have at least one digit (at ":68")"#,
    );
    assert_eq!(int(r#"ip("2001:db8::68").family()"#), 6);
    yes(r#"ip("::").isUnspecified()"#);
    no(r#"ip("::1").isUnspecified()"#);
    yes(r#"ip("::1").isLoopback()"#);
    no(r#"ip("2001:db8::abcd").isLoopback()"#);
    yes(r#"ip("ff02::1").isLinkLocalMulticast()"#);
    no(r#"ip("fd00::1").isLinkLocalMulticast()"#);
    yes(r#"ip("fe80::1").isLinkLocalUnicast()"#);
    no(r#"ip("fd80::1").isLinkLocalUnicast()"#);
    yes(r#"ip("2001:db8::abcd").isGlobalUnicast()"#);
    no(r#"ip("ff00::1").isGlobalUnicast()"#);
    rejected(
        r#"isIP(cidr("192.168.0.0/24"))"#,
        "found no matching overload for 'isIP' applied to '(net.CIDR)'",
    );
    assert_eq!(string(r#"string(ip("192.168.0.1"))"#), "192.168.0.1");
}

#[test]
fn ips_follow_netip() {
    fails(
        r#"ip("127.0.0.01")"#,
        r#"IP Address "127.0.0.01" parse error during conversion from string: ParseAddr("127.0.0.01"): IPv4 field has octet with leading zero"#,
    );
    fails(
        r#"ip("fe80::1%eth0")"#,
        r#"IP address "fe80::1%eth0" with zone value is not allowed"#,
    );
    fails(
        r#"ip("::ffff:1.2.3.4")"#,
        r#"IPv4-mapped IPv6 address "::ffff:1.2.3.4" is not allowed"#,
    );
    fails(
        r#"ip("")"#,
        r#"IP Address "" parse error during conversion from string: ParseAddr(""): unable to parse IP"#,
    );
    fails(
        r#"ip("12345::1")"#,
        r#"IP Address "12345::1" parse error during conversion from string: ParseAddr("12345::1"): each group must have 4 or less digits (at "12345::1")"#,
    );
    fails(
        r#"ip("1.2.3.256")"#,
        r#"IP Address "1.2.3.256" parse error during conversion from string: ParseAddr("1.2.3.256"): IPv4 field has value >255"#,
    );
    fails(
        r#"ip("1.2..3")"#,
        r#"IP Address "1.2..3" parse error during conversion from string: ParseAddr("1.2..3"): IPv4 field must have at least one digit (at ".3")"#,
    );
    fails(
        r#"ip("1.2.3.4:80")"#,
        r#"IP Address "1.2.3.4:80" parse error during conversion from string: ParseAddr("1.2.3.4:80"): unexpected character (at ":80")"#,
    );
    fails(
        r#"ip("%eth0")"#,
        r#"IP Address "%eth0" parse error during conversion from string: ParseAddr("%eth0"): missing IPv6 address"#,
    );
    fails(
        r#"ip("1::2::3")"#,
        r#"IP Address "1::2::3" parse error during conversion from string: ParseAddr("1::2::3"): multiple :: in address (at ":3")"#,
    );
    fails(
        r#"ip("1:2:3:4:5:6:7")"#,
        r#"IP Address "1:2:3:4:5:6:7" parse error during conversion from string: ParseAddr("1:2:3:4:5:6:7"): address string too short"#,
    );
    fails(
        r#"ip("1:2:3:4:5:6:7::8")"#,
        r#"IP Address "1:2:3:4:5:6:7::8" parse error during conversion from string: ParseAddr("1:2:3:4:5:6:7::8"): the :: must expand to at least one field of zeros"#,
    );
    fails(
        r#"ip("::1.2.3.04")"#,
        r#"IP Address "::1.2.3.04" parse error during conversion from string: ParseAddr("::1.2.3.04"): IPv4 field has octet with leading zero"#,
    );
    fails(
        r#"ip("1:2::3:1.2.3.4x")"#,
        r#"IP Address "1:2::3:1.2.3.4x" parse error during conversion from string: ParseAddr("1:2::3:1.2.3.4x"): unexpected character (at "x")"#,
    );
    fails(
        r#"ip("fe80::%")"#,
        r#"IP Address "fe80::%" parse error during conversion from string: ParseAddr("fe80::%"): zone must be a non-empty string"#,
    );
    fails(
        r#"ip("1.2.3.é")"#,
        r#"IP Address "1.2.3.é" parse error during conversion from string: ParseAddr("1.2.3.é"): unexpected character (at "é")"#,
    );
    // RFC 5952 printing.
    assert_eq!(
        string(r#"string(ip("2001:db8:0:0:0:0:2:1"))"#),
        "2001:db8::2:1"
    );
    assert_eq!(
        string(r#"string(ip("2001:db8:0:1:1:1:1:1"))"#),
        "2001:db8:0:1:1:1:1:1"
    );
    assert_eq!(
        string(r#"string(ip("2001:0:0:1:0:0:0:1"))"#),
        "2001:0:0:1::1"
    );
    assert_eq!(string(r#"string(ip("1:0:0:2:0:0:3:4"))"#), "1::2:0:0:3:4");
    assert_eq!(string(r#"string(ip("::"))"#), "::");
    assert_eq!(string(r#"string(ip("1::"))"#), "1::");
    assert_eq!(
        string(r#"string(ip("1:2:3:4:5:6:1.2.3.4"))"#),
        "1:2:3:4:5:6:102:304"
    );
    assert_eq!(string(r#"string(ip("ABCD::EF"))"#), "abcd::ef");
    no(r#"ip.isCanonical("2001:db8::0:0:0:abcd")"#);
    yes(r#"ip("::1") == ip("0:0:0:0:0:0:0:1")"#);
    no(r#"ip("::1") == ip("::2")"#);
    yes(r#"ip("10.0.0.1").isGlobalUnicast() && ip("fd00::1").isGlobalUnicast()"#);
    no(r#"ip("0.0.0.0").isGlobalUnicast() || ip("::").isGlobalUnicast()"#);
    no(r#"ip("239.1.1.1").isGlobalUnicast()"#);
    assert_eq!(json(r#"ip("::2")"#), serde_json::json!("::2"));
}

// ---- CIDR ----------------------------------------------------------------

#[test]
fn cidrs_as_kubernetes_tests_them() {
    yes(r#"cidr("192.168.0.0/24") == cidr("192.168.0.0/24")"#);
    fails(
        r#"cidr("192.168.0.0/")"#,
        r#"network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("192.168.0.0/"): bad bits after slash: """#,
    );
    yes(r#"cidr("192.168.0.0/24").containsIP(ip("192.168.0.1"))"#);
    no(r#"cidr("192.168.0.0/24").containsIP(ip("192.168.1.1"))"#);
    yes(r#"cidr("192.168.0.0/24").containsIP("192.168.0.1")"#);
    no(r#"cidr("192.168.0.0/24").containsIP("192.168.1.1")"#);
    yes(r#"cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.0/25"))"#);
    yes(r#"cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.1/32"))"#);
    no(r#"cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.0/23"))"#);
    no(r#"cidr("192.168.0.0/24").containsCIDR(cidr("192.169.0.1/32"))"#);
    yes(r#"cidr("192.168.0.0/24").containsCIDR("192.168.0.0/25")"#);
    no(r#"cidr("192.168.0.0/24").containsCIDR("192.168.0.0/23")"#);
    yes(r#"cidr("192.168.0.0/24").ip() == ip("192.168.0.0")"#);
    yes(r#"cidr("192.168.0.0/24").masked() == cidr("192.168.0.0/24")"#);
    yes(r#"cidr("192.168.0.1/24").masked() == cidr("192.168.0.0/24")"#);
    assert_eq!(int(r#"cidr("192.168.0.0/24").prefixLength()"#), 24);
    yes(r#"cidr("2001:db8::/32") == cidr("2001:db8::/32")"#);
    fails(
        r#"cidr("2001:db8::/")"#,
        r#"network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("2001:db8::/"): bad bits after slash: """#,
    );
    yes(r#"cidr("2001:db8::/32").containsIP(ip("2001:db8::1"))"#);
    no(r#"cidr("2001:db8::/32").containsIP(ip("2001:dc8::1"))"#);
    yes(r#"cidr("2001:db8::/32").containsIP("2001:db8::1")"#);
    no(r#"cidr("2001:db8::/32").containsIP("2001:dc8::1")"#);
    yes(r#"cidr("2001:db8::/32").containsCIDR(cidr("2001:db8::/33"))"#);
    no(r#"cidr("2001:db8::/32").containsCIDR(cidr("2001:db8::/31"))"#);
    yes(r#"cidr("2001:db8::/32").containsCIDR("2001:db8::/33")"#);
    no(r#"cidr("2001:db8::/32").containsCIDR("2001:db8::/31")"#);
    yes(r#"cidr("2001:db8::/32").ip() == ip("2001:db8::")"#);
    yes(r#"cidr("2001:db8::/32").masked() == cidr("2001:db8::/32")"#);
    yes(r#"cidr("2001:db8:1::/32").masked() == cidr("2001:db8::/32")"#);
    assert_eq!(int(r#"cidr("2001:db8::/32").prefixLength()"#), 32);
    assert_eq!(
        string(r#"string(cidr("192.168.0.0/24"))"#),
        "192.168.0.0/24"
    );
}

#[test]
fn cidrs_follow_netip() {
    fails(
        r#"cidr("192.168.0.0/33")"#,
        r#"network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("192.168.0.0/33"): prefix length out of range"#,
    );
    fails(
        r#"cidr("10.0.0.0/08")"#,
        r#"network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("10.0.0.0/08"): bad bits after slash: "08""#,
    );
    fails(
        r#"cidr("10.0.0.0")"#,
        r#"network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("10.0.0.0"): no '/'"#,
    );
    fails(
        r#"cidr("10.0.0/8")"#,
        r#"network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("10.0.0/8"): ParseAddr("10.0.0"): IPv4 address too short"#,
    );
    fails(
        r#"cidr("fe80::1%eth0/64")"#,
        r#"network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("fe80::1%eth0/64"): IPv6 zones cannot be present in a prefix"#,
    );
    fails(
        r#"cidr("::ffff:1.2.3.0/120")"#,
        r#"network address parse error during conversion from string: IPv4-mapped IPv6 address "::ffff:1.2.3.0/120" is not allowed"#,
    );
    fails(
        r#"cidr("::1/99999999999999999999")"#,
        r#"network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("::1/99999999999999999999"): bad bits after slash: "99999999999999999999""#,
    );
    yes(r#"isCIDR("192.168.0.0/16") && isCIDR("::1/128") && isCIDR("192.168.0.1/16")"#);
    no(r#"isCIDR("192.168.0.0/33") || isCIDR("::1/129") || isCIDR("::ffff:1.2.3.0/120")"#);
    // A bad string argument: containsIP reports no overload, containsCIDR
    // cidr()'s error.
    fails(
        r#"cidr("10.0.0.0/8").containsIP("10.0.0.01")"#,
        "no such overload",
    );
    fails(
        r#"cidr("10.0.0.0/8").containsCIDR("10.0.0.0/40")"#,
        r#"network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("10.0.0.0/40"): prefix length out of range"#,
    );
    no(r#"cidr("192.168.0.1/24") == cidr("192.168.0.1/24").masked()"#);
    yes(r#"cidr("192.168.0.1/24").ip() == ip("192.168.0.1")"#);
    assert_eq!(int(r#"cidr("::1/128").ip().family()"#), 6);
    assert_eq!(
        string(r#"string(cidr("192.168.0.1/24").masked())"#),
        "192.168.0.0/24"
    );
    assert_eq!(
        string(r#"string(cidr("2001:DB8:0:0::1/48"))"#),
        "2001:db8::1/48"
    );
    yes(
        r#"cidr("0.0.0.0/0").containsCIDR("10.0.0.0/8") && cidr("0.0.0.0/0").containsIP("8.8.8.8")"#,
    );
    no(r#"cidr("0.0.0.0/0").containsIP("::1") || cidr("::/0").containsIP("1.2.3.4")"#);
    no(r#"cidr("10.0.0.0/8").containsCIDR("0.0.0.0/0")"#);
    no(r#"cidr("10.0.0.0/8").containsCIDR("::/0")"#);
    yes(r#"cidr("10.1.2.3/8").containsCIDR("10.200.0.0/16")"#);
    assert_eq!(
        json(r#"cidr("10.0.0.0/8")"#),
        serde_json::json!("10.0.0.0/8")
    );
}

// ---- semver --------------------------------------------------------------

#[test]
fn semvers_as_kubernetes_tests_them() {
    yes(r#"semver("1.2.3") == semver("1.2.3")"#);
    fails(r#"semver("v1.0")"#, "No Major.Minor.Patch elements found");
    yes(r#"isSemver("1.2.3-beta.1+build.1")"#);
    no(r#"isSemver("")"#);
    no(r#"isSemver("v1.0.0")"#);
    no(r#"isSemver(" 1.0.0")"#);
    no(r#"isSemver("1. 0.0")"#);
    no(r#"isSemver("1.0.0 ")"#);
    no(r#"isSemver("01.01.01")"#);
    no(r#"isSemver("1")"#);
    no(r#"isSemver("1.1")"#);
    no(r#"isSemver("", true)"#);
    no(r#"isSemver(" 1.0.0", true)"#);
    no(r#"isSemver("1. 0.0", true)"#);
    no(r#"isSemver("1.0.0 ", true)"#);
    yes(r#"isSemver("v1.0.0", true)"#);
    yes(r#"isSemver("01.01.01", true)"#);
    yes(r#"isSemver("1", true)"#);
    yes(r#"isSemver("1.1", true)"#);
    rejected(
        "isSemver([1, 2, 3])",
        "found no matching overload for 'isSemver' applied to '(list(int))'",
    );
    yes(r#"semver("v01.01", true) == semver("1.1.0")"#);
    no(r#"semver("1.2.3") == semver("1.0.0")"#);
    yes(r#"semver("1.0.0").isLessThan(semver("1.2.3"))"#);
    no(r#"semver("1.0.0").isLessThan(semver("1.0.0"))"#);
    yes(r#"semver("1.2.3").isGreaterThan(semver("1.0.0"))"#);
    no(r#"semver("1.0.0").isGreaterThan(semver("1.0.0"))"#);
    assert_eq!(int(r#"semver("1.2.3").compareTo(semver("1.2.3"))"#), 0);
    assert_eq!(int(r#"semver("1.0.0").compareTo(semver("1.2.3"))"#), -1);
    assert_eq!(int(r#"semver("1.2.3").compareTo(semver("1.0.0"))"#), 1);
    assert_eq!(int(r#"semver("1.2.3").major()"#), 1);
    assert_eq!(int(r#"semver("1.2.3").minor()"#), 2);
    assert_eq!(int(r#"semver("1.2.3").patch()"#), 3);
}

#[test]
fn semvers_follow_blang() {
    fails(r#"semver("")"#, "Version string empty");
    fails(
        r#"semver("1.01.0")"#,
        r#"Minor number must not contain leading zeroes "01""#,
    );
    fails(
        r#"semver("a.0.0")"#,
        r#"Invalid character(s) found in major number "a""#,
    );
    fails(
        r#"semver("1.0.x")"#,
        r#"Invalid character(s) found in patch number "x""#,
    );
    fails(
        r#"semver("1.0.0-01")"#,
        r#"Numeric PreRelease version must not contain leading zeroes "01""#,
    );
    fails(r#"semver("1.0.0-")"#, "Prerelease is empty");
    fails(
        r#"semver("1.0.0-a_b")"#,
        r#"Invalid character(s) found in prerelease "a_b""#,
    );
    fails(r#"semver("1.0.0+")"#, "Build meta data is empty");
    fails(
        r#"semver("1.0.0+a+b")"#,
        r#"Invalid character(s) found in build meta data "a+b""#,
    );
    fails(
        r#"semver("99999999999999999999.0.0")"#,
        r#"strconv.ParseUint: parsing "99999999999999999999": value out of range"#,
    );
    fails(
        r#"semver(".0.0")"#,
        r#"strconv.ParseUint: parsing "": invalid syntax"#,
    );
    fails(
        r#"semver("1.0-beta", true)"#,
        "short version cannot contain PreRelease/Build meta data",
    );
    yes(r#"semver("v1.02.003-rc.1+b", true) == semver("1.2.3-rc.1")"#);
    yes(r#"semver("1.0.0-alpha", false) == semver("1.0.0-alpha")"#);
    // Precedence, semver.org's example order.
    let order = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.1.0",
        "2.0.0",
    ];
    for w in order.windows(2) {
        yes(&format!(
            r#"semver("{}").isLessThan(semver("{}"))"#,
            w[0], w[1]
        ));
    }
    yes(r#"semver("1.0.0+a") == semver("1.0.0+b")"#);
    assert_eq!(
        int(r#"semver("18446744073709551615.0.0").major()"#),
        -1,
        "uint64 converts to int64 by wrapping"
    );
    assert_eq!(
        json(r#"semver("1.2.3-rc.1+build.5")"#),
        serde_json::json!("1.2.3-rc.1+build.5")
    );
}

// ---- format --------------------------------------------------------------

const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_ERR: &str = r"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART_ERR: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/// `validate`'s result: `None` for `optional.none()`.
fn validate(src: &str) -> Option<Vec<String>> {
    match run(src) {
        Ok(Value::Optional(None)) => None,
        Ok(Value::Optional(Some(v))) => match &*v {
            Value::List(l) => Some(
                l.iter()
                    .map(|s| match s {
                        Value::String(s) => s.to_string(),
                        other => panic!("{src}: {other:?}"),
                    })
                    .collect(),
            ),
            other => panic!("{src}: {other:?}"),
        },
        other => panic!("{src} → {other:?}"),
    }
}

fn invalid(src: &str, messages: &[&str]) {
    assert_eq!(
        validate(src),
        Some(messages.iter().map(|m| m.to_string()).collect()),
        "{src}"
    );
}

#[test]
fn formats_as_kubernetes_tests_them() {
    for valid in [
        r#"format.dns1123Label().validate("my-label-name")"#,
        r#"format.dns1123Subdomain().validate("apiextensions.k8s.io")"#,
        r#"format.qualifiedName().validate("apiextensions.k8s.io/v1beta1")"#,
        r#"format.dns1123LabelPrefix().validate("my-label-prefix-")"#,
        r#"format.dns1123SubdomainPrefix().validate("mysubdomain.prefix.-")"#,
        r#"format.dns1035LabelPrefix().validate("my-label-prefix-")"#,
        r#"format.uri().validate("http://example.com")"#,
        r#"format.uuid().validate("123e4567-e89b-12d3-a456-426614174000")"#,
        r#"format.byte().validate("aGVsbG8=")"#,
        r#"format.date().validate("2021-01-01")"#,
        r#"format.datetime().validate("2021-01-01T00:00:00Z")"#,
        r#"format.dns1123Subdomain().validate("example.com")"#,
        r#"format.dns1035Label().validate("my-label-name")"#,
        r#"format.qualifiedName().validate("my.name")"#,
        r#"format.date().validate("2020-01-01")"#,
        r#"format.datetime().validate("2020-01-01T00:00:00Z")"#,
        r#"format.labelValue().validate("my-cool-label-Value")"#,
    ] {
        assert_eq!(validate(valid), None, "{valid}");
    }
    invalid(
        r#"format.dns1123Label().validate("contains a space")"#,
        &[DNS1123_LABEL_ERR],
    );
    invalid(
        r#"format.dns1123Subdomain().validate("contains a space")"#,
        &[DNS1123_SUBDOMAIN_ERR],
    );
    invalid(
        r#"format.dns1035Label().validate("contains a space")"#,
        &[DNS1035_LABEL_ERR],
    );
    invalid(
        r#"format.qualifiedName().validate("contains a space")"#,
        &[NAME_PART_ERR],
    );
    invalid(
        r#"format.dns1123LabelPrefix().validate("contains a space-")"#,
        &[DNS1123_LABEL_ERR],
    );
    invalid(
        r#"format.dns1123SubdomainPrefix().validate("contains a space-")"#,
        &[DNS1123_SUBDOMAIN_ERR],
    );
    invalid(
        r#"format.dns1035LabelPrefix().validate("contains a space-")"#,
        &[DNS1035_LABEL_ERR],
    );
    invalid(r#"format.byte().validate("aGVsbG8")"#, &["invalid base64"]);
    invalid(r#"format.date().validate("2020-01-32")"#, &["invalid date"]);
    invalid(
        r#"format.datetime().validate("2020-01-32T00:00:00Z")"#,
        &["invalid datetime"],
    );
    no(r#"format.named("unknown").hasValue()"#);
    invalid(
        r#"format.labelValue().validate("my-cool-label-Value!!\n\n!!!")"#,
        &[
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ],
    );
    // Every name: found, equal to its constructor, unequal to the others.
    for (name, _) in NamedFormat::ALL {
        yes(&format!(r#"format.named("{name}").hasValue()"#));
        yes(&format!(
            r#"format.named("{name}").value() == format.{name}()"#
        ));
        for (other, _) in NamedFormat::ALL {
            if other != name {
                no(&format!("format.{name}() == format.{other}()"));
            }
        }
    }
}

#[test]
fn formats_follow_apimachinery() {
    invalid(
        r#"format.dns1123Label().validate("a.b")"#,
        &["must not contain dots"],
    );
    let long = "a".repeat(64);
    invalid(
        &format!(r#"format.dns1123Label().validate("{long}")"#),
        &["must be no more than 63 characters"],
    );
    invalid(
        &format!(r#"format.dns1035Label().validate("{long}")"#),
        &["must be no more than 63 characters"],
    );
    invalid(
        &format!(r#"format.labelValue().validate("{long}")"#),
        &["must be no more than 63 bytes"],
    );
    invalid(
        &format!(r#"format.qualifiedName().validate("{long}")"#),
        &["name part must be no more than 63 bytes"],
    );
    let subdomain = format!("{long}.{long}.{long}.{long}");
    invalid(
        &format!(r#"format.dns1123Subdomain().validate("{subdomain}")"#),
        &["must be no more than 253 characters"],
    );
    invalid(
        &format!(r#"format.qualifiedName().validate("{subdomain}/a")"#),
        &["prefix part must be no more than 253 bytes"],
    );
    invalid(
        r#"format.dns1035Label().validate("1abc")"#,
        &[DNS1035_LABEL_ERR],
    );
    invalid(
        r#"format.dns1123Label().validate("")"#,
        &[DNS1123_LABEL_ERR],
    );
    invalid(
        r#"format.qualifiedName().validate("a/b/c")"#,
        &[
            "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        ],
    );
    invalid(
        r#"format.qualifiedName().validate("/b")"#,
        &["prefix part must be non-empty"],
    );
    invalid(
        r#"format.qualifiedName().validate("Example.com/")"#,
        &[
            &format!("prefix part {DNS1123_SUBDOMAIN_ERR}"),
            "name part must be non-empty",
            NAME_PART_ERR,
        ],
    );
    assert_eq!(
        validate(r#"format.qualifiedName().validate("a-b_c.d")"#),
        None
    );
    assert_eq!(validate(r#"format.labelValue().validate("")"#), None);
    // Prefixes: a final dash (with the byte before it) reads as `a`.
    assert_eq!(
        validate(r#"format.dns1123LabelPrefix().validate("a-")"#),
        None
    );
    assert_eq!(
        validate(r#"format.dns1035LabelPrefix().validate("-")"#).map(|v| v.len()),
        Some(1)
    );
    assert_eq!(
        validate(r#"format.dns1123LabelPrefix().validate("A-")"#),
        None
    );
    invalid(
        r#"format.uri().validate("not a uri")"#,
        &[r#"parse "not a uri": invalid URI for request"#],
    );
}

#[test]
fn formats_follow_strfmt() {
    for valid in [
        r#"format.uuid().validate("123E4567E89B12D3A456426614174000")"#,
        r#"format.uuid().validate("123e4567-e89b12d3-a456-426614174000")"#,
        r#"format.byte().validate("YQ==")"#,
        r#"format.byte().validate("YWI=")"#,
        r#"format.byte().validate("a+b/")"#,
        r#"format.date().validate("2020-02-29")"#,
        r#"format.date().validate("0000-01-01")"#,
        r#"format.datetime().validate("2020-01-01T23:59:59.123+05:30")"#,
        r#"format.datetime().validate("2020-01-01t00:00:00z")"#,
        r#"format.datetime().validate("2020-01-01T00:00:00x5Z")"#,
        r#"format.datetime().validate("2020-01-01T00:00:00ZTanything")"#,
    ] {
        assert_eq!(validate(valid), None, "{valid}");
    }
    for (src, message) in [
        (
            r#"format.uuid().validate("123e4567-e89b-12d3-a456-42661417400")"#,
            "does not match the UUID format",
        ),
        (
            r#"format.uuid().validate("123e4567--e89b-12d3-a456-426614174000")"#,
            "does not match the UUID format",
        ),
        (r#"format.byte().validate("")"#, "invalid base64"),
        (r#"format.byte().validate("YQ=")"#, "invalid base64"),
        (r#"format.byte().validate("Y===")"#, "invalid base64"),
        (r#"format.byte().validate("YQ-_")"#, "invalid base64"),
        (r#"format.date().validate("2021-02-29")"#, "invalid date"),
        (r#"format.date().validate("2021-13-01")"#, "invalid date"),
        (r#"format.date().validate("2021-1-01")"#, "invalid date"),
        (r#"format.date().validate("2021-01-01 ")"#, "invalid date"),
        (
            r#"format.datetime().validate("2020-01-01T24:00:00Z")"#,
            "invalid datetime",
        ),
        (
            r#"format.datetime().validate("2020-01-01T00:60:00Z")"#,
            "invalid datetime",
        ),
        (
            r#"format.datetime().validate("2020-01-01T00:00:00")"#,
            "invalid datetime",
        ),
        (
            r#"format.datetime().validate("2020-01-01T00:00:00.Z")"#,
            "invalid datetime",
        ),
        (
            r#"format.datetime().validate("2020-01-01T00:00:00\n1Z")"#,
            "invalid datetime",
        ),
        (
            r#"format.datetime().validate("2020-01-01")"#,
            "invalid datetime",
        ),
    ] {
        invalid(src, &[message]);
    }
    yes(r#"format.named("uri").value().validate("/ok") == optional.none()"#);
    rejected(
        r#"format.named("uri").validate("/ok")"#,
        "found no matching overload for 'validate' applied to 'optional_type(kubernetes.NamedFormat).(string)'",
    );
}

// ---- helpers and robustness ----------------------------------------------

#[test]
fn quoting_follows_strconv() {
    use super::go_quote;
    assert_eq!(go_quote(b"a\"b\\c"), r#""a\"b\\c""#);
    assert_eq!(go_quote(b"\t\n\x01\x7f"), r#""\t\n\x01\x7f""#);
    assert_eq!(go_quote("é😀".as_bytes()), "\"é😀\"");
    assert_eq!(
        go_quote("\u{a0}\u{200b}\u{e000}".as_bytes()),
        r#""\u00a0\u200b\ue000""#
    );
    assert_eq!(go_quote("\u{f0000}".as_bytes()), r#""\U000f0000""#);
    assert_eq!(go_quote(b"\xff\xc3"), r#""\xff\xc3""#);
}

/// Every parser over every short string of awkward characters: errors, not
/// panics, and the printed forms of what parses reparse.
#[test]
fn parsers_never_panic() {
    use super::net::{parse_cidr, parse_ip};
    use super::semver::Version;
    use super::url::GoUrl;
    use crate::conditions::functions::quantity::Quantity;
    let alphabet = [
        "%", "2", "5", "[", "]", ":", "/", "@", "#", "?", ".", "-", "+", "a", "f", "0", "1", "v",
        "t", "é", " ", "\n", "Z", "e", "i",
    ];
    let mut inputs = vec![String::new()];
    for a in alphabet {
        inputs.push(a.to_string());
        for b in alphabet {
            inputs.push(format!("{a}{b}"));
            for c in alphabet {
                inputs.push(format!("{a}{b}{c}"));
            }
        }
    }
    inputs.extend(
        [
            "http://[::1%25]:x/",
            "http://[%25]/",
            "http://[::1%2",
            "http://a%/",
            "::ffff:1.2.3.4/96",
            "1:2:3:4:5:6:7:1.2.3.4",
            "::1.2.3.4.5",
            "1.2.3.4/32/",
            "v1.2.3-+",
            "1.2.3-a..b",
            "2020-01-01T00:00:00.1é",
        ]
        .map(String::from),
    );
    for s in &inputs {
        for prefix in ["", "http://", "https://u:p@", "x:", "/"] {
            let s = format!("{prefix}{s}");
            let _ = GoUrl::parse_request_uri(&s);
            if let Ok(u) = GoUrl::parse(&s) {
                let printed = String::from_utf8_lossy(&u.to_go_string()).into_owned();
                let _ = (u.hostname(), u.port(), u.query(), u.escaped_path());
                if let Ok(again) = GoUrl::parse(&printed) {
                    assert_eq!(again.to_go_string(), u.to_go_string(), "{s:?}");
                }
            }
        }
        if let Ok(ip) = parse_ip(s) {
            assert_eq!(parse_ip(&ip.to_string()), Ok(ip), "{s:?}");
        }
        if let Ok(p) = parse_cidr(s) {
            let _ = (p.masked(), p.contains(&p.addr), p.overlaps(&p.masked()));
            assert_eq!(parse_cidr(&p.to_string()), Ok(p), "{s:?}");
        }
        if let Ok(v) = Version::parse(s) {
            assert_eq!(Version::parse(&v.to_string()), Ok(v), "{s:?}");
        }
        let _ = Version::parse_normalized(s);
        if let Ok(q) = Quantity::parse(s) {
            let _ = (
                q.approx_f64(),
                q.to_string_checked(),
                super::quantity::as_int64(&q),
            );
            let _ = q.add(&q).and_then(|d| d.sub(&q));
        }
        for (_, f) in NamedFormat::ALL {
            let _ = f.validate(s);
        }
    }
}
