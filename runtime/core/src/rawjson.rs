//! Reading JSON without building a tree: fields of an object as borrowed
//! `RawValue`s, strings without copies when they have no escapes, and where a
//! part sits in the whole text. The grant verifier reads untrusted payloads
//! this way (one pass, no allocation per field).

use std::borrow::Cow;
use std::ops::Range;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON string, borrowed from the input when it has no escapes.
pub(crate) struct JsonStr<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for JsonStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JsonStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(JsonStr(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(JsonStr(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(JsonStr(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The values of the named members of a JSON object, as raw JSON slices of
/// `json`. Like `JSON.parse`, a repeated member's last value wins; members
/// not named are validated and skipped. `None` when `json` is not one
/// well-formed JSON object.
pub(crate) fn object_fields<'a, const N: usize>(
    json: &'a str,
    names: &[&str; N],
) -> Option<[Option<&'a RawValue>; N]> {
    struct V<'n, const N: usize>(&'n [&'n str; N]);
    impl<'de, const N: usize> Visitor<'de> for V<'_, N> {
        type Value = [Option<&'de RawValue>; N];
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = [None; N];
            while let Some(key) = map.next_key::<JsonStr<'de>>()? {
                let value: &'de RawValue = map.next_value()?;
                if let Some(i) = self.0.iter().position(|n| *n == key.0) {
                    out[i] = Some(value);
                }
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(json);
    let out = de.deserialize_map(V(names)).ok()?;
    de.end().ok()?;
    Some(out)
}

/// Members of a JSON object in order, a repeated key keeping its first
/// position and last value (`JSON.parse` semantics).
pub(crate) fn object_entries(json: &str) -> Option<Vec<(Cow<'_, str>, &RawValue)>> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(Cow<'de, str>, &'de RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out: Self::Value = Vec::new();
            while let Some(key) = map.next_key::<JsonStr<'de>>()? {
                let value: &'de RawValue = map.next_value()?;
                match out.iter_mut().find(|(k, _)| *k == key.0) {
                    Some(slot) => slot.1 = value,
                    None => out.push((key.0, value)),
                }
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(json);
    let out = de.deserialize_map(V).ok()?;
    de.end().ok()?;
    Some(out)
}

pub(crate) fn is_object(v: &RawValue) -> bool {
    v.get().starts_with('{')
}

/// A JSON number (serde numbers are always finite).
pub(crate) fn raw_number(v: &RawValue) -> Option<f64> {
    let t = v.get();
    if !t.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return None;
    }
    serde_json::from_str::<f64>(t).ok()
}

/// A JSON string's value.
pub(crate) fn v_str(v: Option<&RawValue>) -> Option<Cow<'_, str>> {
    let v = v?;
    if !v.get().starts_with('"') {
        return None;
    }
    serde_json::from_str::<JsonStr<'_>>(v.get())
        .ok()
        .map(|s| s.0)
}

pub(crate) fn non_empty(v: Option<&RawValue>) -> Option<Cow<'_, str>> {
    v_str(v).filter(|s| !s.is_empty())
}

/// Where `part` (a slice of `whole`, as `RawValue`s borrowed from it are)
/// sits in `whole`.
pub(crate) fn range_in(whole: &str, part: &RawValue) -> Range<usize> {
    let start = (part.get().as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
    let end = (start + part.get().len()).min(whole.len());
    start.min(end)..end
}
