//! How the names that identify a device or a Graph object compare.
//!
//! Entra (Azure AD) device ids and Graph object ids are GUIDs, and GUIDs compare ignoring case and
//! braces: PowerShell writes `F18DD1EE-…`, Graph returns `f18dd1ee-…`, the registry `{f18dd1ee-…}`,
//! and all three are one device. Inventory names that are not GUIDs are Windows host names, which
//! compare ignoring case too. Every name is brought to its key once, where it is read (an
//! inventory row, a `[graph_ids]` entry) or looked up (an audience entry, a Graph body's id), so
//! the simulation itself never compares names.

use std::borrow::Cow;

/// The canonical form of a GUID, 8-4-4-4-12 hexadecimal digits, optionally in braces: lower
/// case, without braces. None when `s` is not written as a GUID.
pub(crate) fn guid(s: &str) -> Option<String> {
    let inner = match s.strip_prefix('{') {
        Some(rest) => rest.strip_suffix('}')?,
        None => s,
    };
    let b = inner.as_bytes();
    let shaped = b.len() == 36
        && b.iter().enumerate().all(|(i, &x)| match i {
            8 | 13 | 18 | 23 => x == b'-',
            _ => x.is_ascii_hexdigit(),
        });
    shaped.then(|| inner.to_ascii_lowercase())
}

/// The key an inventory device is found by: a GUID in its canonical form, any other name (a
/// host name) in lower case.
pub(crate) fn device_key(s: &str) -> Cow<'_, str> {
    match guid(s) {
        Some(g) if g == s => Cow::Borrowed(s),
        Some(g) => Cow::Owned(g),
        None if s.chars().any(char::is_uppercase) => Cow::Owned(s.to_lowercase()),
        None => Cow::Borrowed(s),
    }
}

/// The key a Graph id, a group or a segment is found by: a GUID in its canonical form, any other
/// text as written (these are the scenario's own names, which are case-sensitive).
pub(crate) fn id_key(s: &str) -> Cow<'_, str> {
    match guid(s) {
        Some(g) if g != s => Cow::Owned(g),
        _ => Cow::Borrowed(s),
    }
}

/// What a message says about how names compare, after a name that matched nothing.
pub(crate) const HOW_NAMES_COMPARE: &str =
    "device names compare ignoring case, and a GUID also with or without braces";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guid_in_any_case_or_in_braces_has_one_canonical_form() {
        let lower = "f18dd1ee-d77c-96c0-084f-3dd6415af341";
        for s in [
            lower,
            "F18DD1EE-D77C-96C0-084F-3DD6415AF341",
            "{F18DD1EE-D77C-96C0-084F-3dd6415af341}",
            "{f18dd1ee-d77c-96c0-084f-3dd6415af341}",
        ] {
            assert_eq!(guid(s).as_deref(), Some(lower), "{s}");
            assert_eq!(device_key(s), lower, "{s}");
            assert_eq!(id_key(s), lower, "{s}");
        }
    }

    #[test]
    fn text_that_is_not_shaped_as_a_guid_is_no_guid() {
        for s in [
            "",
            "String (identifier)",
            "f18dd1ee-d77c-96c0-084f-3dd6415af34",
            "f18dd1ee-d77c-96c0-084f-3dd6415af3411",
            "f18dd1eed77c-96c0-084f-3dd6415af3411",
            "g18dd1ee-d77c-96c0-084f-3dd6415af341",
            "{f18dd1ee-d77c-96c0-084f-3dd6415af341",
            "f18dd1ee-d77c-96c0-084f-3dd6415af341}",
            "{{f18dd1ee-d77c-96c0-084f-3dd6415af341}}",
        ] {
            assert_eq!(guid(s), None, "{s}");
        }
    }

    #[test]
    fn host_names_compare_ignoring_case_but_graph_ids_and_scenario_names_do_not() {
        assert_eq!(device_key("DESKTOP-7Q2"), "desktop-7q2");
        assert!(matches!(device_key("pc-1"), Cow::Borrowed(_)));
        assert_eq!(id_key("Pilot"), "Pilot");
        assert_eq!(id_key("String (identifier)"), "String (identifier)");
    }
}
