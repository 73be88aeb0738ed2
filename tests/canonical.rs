//! Canonical JSON does not move: every object, tree, record and count map of the committed
//! example store `snapshots/` (written by earlier builds) serialises today to exactly the
//! bytes stored under its hash. A change to how canonical bytes are made (a faster writer, a
//! serde upgrade, a feature that reorders maps) would make every stored snapshot differ from
//! a new one of the same catalog; this says so before a user's baselines do.

use driftgate::model::canonical::{canonical_bytes, ContentHash};
use driftgate::model::fingerprint::{CatalogRoot, SchemaTree};
use driftgate::model::snapshot::SnapshotRecord;
use driftgate::store::Store;
use std::path::Path;

#[test]
fn every_stored_blob_of_the_sample_store_is_its_canonical_json() {
    let store = Store::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots")).unwrap();
    let ids = store.snapshot_ids().unwrap();
    assert!(ids.len() >= 3, "the sample store holds its snapshots");
    let mut objects = 0;
    let check = |hash: &ContentHash, bytes: Vec<u8>, what: &str| {
        assert_eq!(
            ContentHash::of(&bytes),
            *hash,
            "{what}: stored bytes match their hash"
        );
        bytes
    };
    for id in ids {
        let record: SnapshotRecord = store.read_record(&id).unwrap();
        let bytes = check(
            &record.catalog,
            store.get_blob(&record.catalog, "root").unwrap(),
            "root",
        );
        let root: CatalogRoot = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(canonical_bytes(&root), bytes, "catalog root of {id}");
        let counts = check(
            &record.counts,
            store.get_blob(&record.counts, "counts").unwrap(),
            "counts",
        );
        let v: serde_json::Value = serde_json::from_slice(&counts).unwrap();
        assert_eq!(canonical_bytes(&v), counts, "counts of {id}");
        for (name, hash) in &root.schemas {
            let bytes = check(hash, store.get_blob(hash, name).unwrap(), name);
            let tree: SchemaTree = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(canonical_bytes(&tree), bytes, "schema tree {name} of {id}");
            assert_eq!(
                tree.canonical(),
                bytes,
                "schema tree {name} written directly"
            );
            for (key, hash) in &tree.objects {
                let bytes = check(
                    hash,
                    store.get_blob(hash, key.as_str()).unwrap(),
                    key.as_str(),
                );
                let obj = store.load_object(key, hash).unwrap();
                assert_eq!(
                    String::from_utf8(canonical_bytes(&obj)).unwrap(),
                    String::from_utf8(bytes).unwrap(),
                    "object {} of {id}",
                    key.as_str()
                );
                objects += 1;
            }
        }
    }
    assert!(objects > 200, "{objects} objects compared");
}
