//! The lookups Entra makes for every user of a cycle (`userName eq`,
//! `externalId eq`, by id), answered without scanning the SCIM store: a
//! scan per user makes a cycle quadratic (5,000 users: 25 million
//! comparisons per attribute).
//!
//! The index is derived data: never saved, built on first use, kept up to
//! date by creates and edits, and rebuilt after a delete (positions shift).

use std::collections::HashMap;

use serde_json::Value;

/// An attribute the index answers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// `id`, compared exactly.
    Id,
    /// `userName`, compared case-insensitively (RFC 7643 §4.1.1).
    UserName,
    /// `externalId`, compared exactly (caseExact).
    ExternalId,
}

impl Key {
    /// The key for a filter attribute name, if the index covers it.
    pub fn for_attribute(name: &str) -> Option<Key> {
        [
            ("id", Key::Id),
            ("userName", Key::UserName),
            ("externalId", Key::ExternalId),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, k)| k)
    }

    fn normalise(self, value: &str) -> String {
        match self {
            Key::UserName => value.trim().to_lowercase(),
            Key::Id | Key::ExternalId => value.to_string(),
        }
    }

    fn read(self, resource: &Value) -> Option<&str> {
        let map = resource.as_object()?;
        let name = match self {
            Key::Id => "id",
            Key::UserName => "userName",
            Key::ExternalId => "externalId",
        };
        map.get(name)
            .or_else(|| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })?
            .as_str()
    }
}

/// Positions in the user store by attribute value.
#[derive(Debug, Clone, Default)]
pub struct ScimIndex {
    built: bool,
    positions: HashMap<(Key, String), Vec<usize>>,
}

/// Derived data: two workspaces are equal whatever their indexes hold.
impl PartialEq for ScimIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

const KEYS: [Key; 3] = [Key::Id, Key::UserName, Key::ExternalId];

impl ScimIndex {
    /// Positions of the users whose `key` equals `value`, in store order.
    pub fn lookup(&mut self, store: &[Value], key: Key, value: &str) -> Vec<usize> {
        if !self.built {
            self.rebuild(store);
        }
        self.positions
            .get(&(key, key.normalise(value)))
            .cloned()
            .unwrap_or_default()
    }

    /// `resource` was appended at `position`.
    pub fn added(&mut self, position: usize, resource: &Value) {
        if self.built {
            self.insert(position, resource);
        }
    }

    /// The resource at `position` changed from `old` to `new`.
    pub fn changed(&mut self, position: usize, old: &Value, new: &Value) {
        if !self.built {
            return;
        }
        for key in KEYS {
            if let Some(v) = key.read(old)
                && let Some(list) = self.positions.get_mut(&(key, key.normalise(v)))
            {
                list.retain(|p| *p != position);
            }
        }
        self.insert(position, new);
    }

    /// Positions moved (a delete): rebuilt on the next lookup.
    pub fn invalidate(&mut self) {
        self.built = false;
        self.positions.clear();
    }

    fn rebuild(&mut self, store: &[Value]) {
        self.positions.clear();
        for (i, r) in store.iter().enumerate() {
            self.insert(i, r);
        }
        self.built = true;
    }

    fn insert(&mut self, position: usize, resource: &Value) {
        for key in KEYS {
            if let Some(v) = key.read(resource) {
                let list = self.positions.entry((key, key.normalise(v))).or_default();
                if let Err(at) = list.binary_search(&position) {
                    list.insert(at, position);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(id: &str, name: &str, ext: &str) -> Value {
        json!({ "id": id, "userName": name, "externalId": ext })
    }

    #[test]
    fn lookups_follow_creates_edits_and_deletes() {
        let mut store = vec![user("1", "Ann@x.com", "e1"), user("2", "bob@x.com", "e2")];
        let mut index = ScimIndex::default();
        assert_eq!(index.lookup(&store, Key::UserName, "ann@X.com"), [0]);
        assert_eq!(
            index.lookup(&store, Key::ExternalId, "E1"),
            Vec::<usize>::new()
        );
        assert_eq!(index.lookup(&store, Key::Id, "2"), [1]);

        store.push(user("3", "cy@x.com", "e3"));
        index.added(2, &store[2]);
        assert_eq!(index.lookup(&store, Key::UserName, "cy@x.com"), [2]);

        let old = store[0].clone();
        store[0] = user("1", "ann.new@x.com", "e1");
        index.changed(0, &old, &store[0]);
        assert!(index.lookup(&store, Key::UserName, "ann@x.com").is_empty());
        assert_eq!(index.lookup(&store, Key::UserName, "ANN.new@x.com"), [0]);

        store.remove(1);
        index.invalidate();
        assert_eq!(index.lookup(&store, Key::UserName, "cy@x.com"), [1]);
        assert!(index.lookup(&store, Key::Id, "2").is_empty());
        assert_eq!(Key::for_attribute("USERNAME"), Some(Key::UserName));
        assert_eq!(Key::for_attribute("displayName"), None);
    }
}
