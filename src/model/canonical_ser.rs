//! Canonical JSON written straight from `Serialize`, without building a `serde_json::Value`.
//!
//! The canonical form is defined as `serde_json::to_value` followed by `serde_json::to_vec`
//! (object keys sorted by bytes, the last of duplicate keys kept, no whitespace). Building the
//! `Value` tree allocated a string and a map node for every field of every catalog object and
//! was a sixth of a 10,000-table snapshot's client time. This serializer writes the same bytes
//! directly: scalars through serde_json's own formatter, each object's entries buffered and
//! sorted by key before they are written. The tests compare it with the `Value` path on every
//! shape the model uses, so the hashes of stored snapshots cannot move.

use serde::ser::{self, Serialize};
use std::fmt::Display;

/// Why a value has no canonical JSON (the `Value` path refuses the same things).
#[derive(Debug)]
pub struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// Append the canonical JSON of `value` to `out`.
pub fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(Canon { out })
}

/// A scalar written by serde_json itself, so numbers and string escapes are its own.
fn scalar<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> Result<(), Error> {
    serde_json::to_writer(out, v).map_err(|e| Error(e.to_string()))
}

struct Canon<'a> {
    out: &'a mut Vec<u8>,
}

/// An array: elements are written in order as they come.
struct Seq<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    /// `Some(name)` for a tuple variant: `{"name":[…]}`.
    variant: Option<&'static str>,
}

/// An object: entries are buffered, then written sorted by key.
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    /// (key, start, end) of each value in `buf`.
    entries: Vec<(Key, usize, usize)>,
    buf: Vec<u8>,
    pending_key: Option<Key>,
    /// `Some(name)` for a struct variant: `{"name":{…}}`.
    variant: Option<&'static str>,
}

/// A key: struct field names are static, map keys are made.
enum Key {
    Static(&'static str),
    Owned(String),
}

impl Key {
    fn as_str(&self) -> &str {
        match self {
            Key::Static(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'a> Obj<'a> {
    fn new(out: &'a mut Vec<u8>, variant: Option<&'static str>) -> Self {
        Obj {
            out,
            entries: Vec::new(),
            buf: Vec::new(),
            pending_key: None,
            variant,
        }
    }

    fn value<T: Serialize + ?Sized>(&mut self, key: Key, value: &T) -> Result<(), Error> {
        let start = self.buf.len();
        value.serialize(Canon { out: &mut self.buf })?;
        self.entries.push((key, start, self.buf.len()));
        Ok(())
    }

    fn finish(mut self) -> Result<(), Error> {
        // Stable: among equal keys the last one written is last, and is the one kept (a map
        // insert replaces the earlier value).
        self.entries.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        if let Some(name) = self.variant {
            self.out.push(b'{');
            scalar(self.out, name)?;
            self.out.push(b':');
        }
        self.out.push(b'{');
        let mut first = true;
        for (i, (key, start, end)) in self.entries.iter().enumerate() {
            if self
                .entries
                .get(i + 1)
                .is_some_and(|next| next.0.as_str() == key.as_str())
            {
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            scalar(self.out, key.as_str())?;
            self.out.push(b':');
            self.out.extend_from_slice(&self.buf[*start..*end]);
        }
        self.out.push(b'}');
        if self.variant.is_some() {
            self.out.push(b'}');
        }
        Ok(())
    }
}

impl<'a> Seq<'a> {
    fn new(out: &'a mut Vec<u8>, variant: Option<&'static str>) -> Result<Self, Error> {
        if let Some(name) = variant {
            out.push(b'{');
            scalar(out, name)?;
            out.push(b':');
        }
        out.push(b'[');
        Ok(Seq {
            out,
            first: true,
            variant,
        })
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Canon { out: self.out })
    }

    fn finish(self) -> Result<(), Error> {
        self.out.push(b']');
        if self.variant.is_some() {
            self.out.push(b'}');
        }
        Ok(())
    }
}

impl<'a> ser::Serializer for Canon<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Obj<'a>;
    type SerializeStruct = Obj<'a>;
    type SerializeStructVariant = Obj<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        scalar(self.out, &v)
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        scalar(self.out, &v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        scalar(self.out, &v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        scalar(self.out, &v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        scalar(self.out, &v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        // Through Value, as the canonical definition does (it refuses what JSON numbers
        // cannot hold).
        let v = serde_json::to_value(v).map_err(|e| Error(e.to_string()))?;
        scalar(self.out, &v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        scalar(self.out, &v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        scalar(self.out, &v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        scalar(self.out, &v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        scalar(self.out, &v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        let v = serde_json::to_value(v).map_err(|e| Error(e.to_string()))?;
        scalar(self.out, &v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // Value holds an f32 as the f64 it widens to; NaN and infinities become null.
        let v = serde_json::to_value(v).map_err(|e| Error(e.to_string()))?;
        scalar(self.out, &v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        let v = serde_json::to_value(v).map_err(|e| Error(e.to_string()))?;
        scalar(self.out, &v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        scalar(self.out, &v)
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        scalar(self.out, v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        // Value makes bytes an array of numbers.
        let mut seq = Seq::new(self.out, None)?;
        for b in v {
            ser::SerializeSeq::serialize_element(&mut seq, b)?;
        }
        seq.finish()
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        scalar(self.out, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.out.push(b'{');
        scalar(self.out, variant)?;
        self.out.push(b':');
        value.serialize(Canon { out: self.out })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a>, Error> {
        Seq::new(self.out, None)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Seq<'a>, Error> {
        Seq::new(self.out, None)
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Seq<'a>, Error> {
        Seq::new(self.out, None)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Seq<'a>, Error> {
        Seq::new(self.out, Some(variant))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Obj<'a>, Error> {
        Ok(Obj::new(self.out, None))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Obj<'a>, Error> {
        Ok(Obj::new(self.out, None))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Obj<'a>, Error> {
        Ok(Obj::new(self.out, Some(variant)))
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeMap for Obj<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        // Strings (nearly every key) are taken as they are; anything else is whatever
        // serde_json makes of it as a map key (numbers and booleans as their text, unit
        // variants as their name), and what it refuses is refused here too.
        let text = match key.serialize(KeyText) {
            Ok(text) => text,
            Err(_) => match serde_json::to_value(OneKey(key)).map_err(|e| Error(e.to_string()))? {
                serde_json::Value::Object(m) => m
                    .into_iter()
                    .next()
                    .map(|(k, _)| k)
                    .ok_or_else(|| Error("a map key that is not a string".into()))?,
                _ => return Err(Error("a map key that is not a string".into())),
            },
        };
        self.pending_key = Some(Key::Owned(text));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .pending_key
            .take()
            .ok_or_else(|| Error("a map value without its key".into()))?;
        self.value(key, value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for Obj<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.value(Key::Static(key), value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Obj<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.value(Key::Static(key), value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// A map of one entry, `key` to null: what serde_json makes of `key` as a map key.
struct OneKey<'k, T: ?Sized>(&'k T);

impl<T: Serialize + ?Sized> Serialize for OneKey<'_, T> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.0, &())?;
        m.end()
    }
}

/// A map key that is a string, as its text; any other shape is an error (and the caller
/// asks serde_json what it makes of it).
struct KeyText;

impl ser::Serializer for KeyText {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = ser::Impossible<String, Error>;
    type SerializeTuple = ser::Impossible<String, Error>;
    type SerializeTupleStruct = ser::Impossible<String, Error>;
    type SerializeTupleVariant = ser::Impossible<String, Error>;
    type SerializeMap = ser::Impossible<String, Error>;
    type SerializeStruct = ser::Impossible<String, Error>;
    type SerializeStructVariant = ser::Impossible<String, Error>;

    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_bool(self, _v: bool) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_i8(self, _v: i8) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_i16(self, _v: i16) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_i32(self, _v: i32) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_i64(self, _v: i64) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_u8(self, _v: u8) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_u16(self, _v: u16) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_u32(self, _v: u32) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_u64(self, _v: u64) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_f32(self, _v: f32) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_f64(self, _v: f64) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_char(self, _v: char) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
    ) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, Error> {
        Err(not_str())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_str())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_str())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_str())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_str())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_str())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(not_str())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_str())
    }
}

fn not_str() -> Error {
    Error("not a string key".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    /// The definition of canonical JSON: through `serde_json::Value`.
    fn by_value<T: Serialize>(v: &T) -> Vec<u8> {
        serde_json::to_vec(&serde_json::to_value(v).unwrap()).unwrap()
    }

    fn direct<T: Serialize>(v: &T) -> Vec<u8> {
        let mut out = Vec::new();
        write(&mut out, v).unwrap();
        out
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        New(u8),
        Tuple(u8, String),
        Struct { zeta: bool, alpha: Option<i64> },
    }

    #[derive(Serialize)]
    struct Inner(String);

    #[derive(Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Tagged {
        Table { name: String, b: u8 },
        View(Flat),
    }

    #[derive(Serialize)]
    struct Flat {
        z: u8,
        #[serde(flatten)]
        rest: BTreeMap<String, u32>,
        a: &'static str,
    }

    #[derive(Serialize)]
    struct Everything {
        zz: Vec<Shape>,
        b: (u8, char, ()),
        a_unicode: &'static str,
        nested: BTreeMap<String, BTreeMap<String, Vec<Option<u64>>>>,
        int_keys: BTreeMap<i32, &'static str>,
        bool_keys: BTreeMap<bool, u8>,
        newtype: Inner,
        tagged: Vec<Tagged>,
        value: serde_json::Value,
        bytes: &'static [u8],
        extremes: (i64, u64, i8),
        floats: (f64, f64),
        skip: Option<u8>,
        empty_map: BTreeMap<String, u8>,
        empty_vec: Vec<u8>,
    }

    #[test]
    fn the_same_bytes_as_through_value_for_every_shape() {
        let v = Everything {
            zz: vec![
                Shape::Unit,
                Shape::New(7),
                Shape::Tuple(1, "x\"y".into()),
                Shape::Struct {
                    zeta: true,
                    alpha: None,
                },
            ],
            b: (1, '\u{202e}', ()),
            a_unicode: "ä \u{1}\n\t</script> 😀 \u{7f}",
            nested: BTreeMap::from([
                (
                    "b".into(),
                    BTreeMap::from([("y".into(), vec![Some(1), None])]),
                ),
                ("a".into(), BTreeMap::new()),
                ("".into(), BTreeMap::from([("Z".into(), vec![])])),
            ]),
            int_keys: BTreeMap::from([(10, "ten"), (-2, "minus two"), (9, "nine")]),
            bool_keys: BTreeMap::from([(true, 1), (false, 0)]),
            newtype: Inner("n".into()),
            tagged: vec![
                Tagged::Table {
                    name: "t".into(),
                    b: 2,
                },
                Tagged::View(Flat {
                    z: 1,
                    rest: BTreeMap::from([("m".into(), 3), ("a".into(), 4)]),
                    a: "dup",
                }),
            ],
            value: serde_json::json!({"q": [1, {"b": null, "a": "x"}], "p": -5, "f": 1.5}),
            bytes: b"\x00\xff",
            extremes: (i64::MIN, u64::MAX, -1),
            floats: (0.1, f64::NAN),
            skip: None,
            empty_map: BTreeMap::new(),
            empty_vec: vec![],
        };
        assert_eq!(
            String::from_utf8(direct(&v)).unwrap(),
            String::from_utf8(by_value(&v)).unwrap()
        );
    }

    #[test]
    fn of_duplicate_keys_the_last_is_kept_as_a_map_would() {
        // A flattened map whose key repeats a field: Value keeps the later one.
        let v = Flat {
            z: 1,
            rest: BTreeMap::from([("z".into(), 9), ("a".into(), 8)]),
            a: "last",
        };
        assert_eq!(direct(&v), by_value(&v));
        assert_eq!(direct(&v), br#"{"a":"last","z":9}"#);
    }

    #[test]
    fn what_value_refuses_is_refused() {
        let v = BTreeMap::from([(vec![1u8], 1u8)]);
        assert!(serde_json::to_value(&v).is_err());
        assert!(write(&mut Vec::new(), &v).is_err());
    }
}
