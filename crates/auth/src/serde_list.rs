//! Serde for the set types written as JSON lists (`TokenScopes`,
//! `ScopeActions`): [`deserialize_list`].

use std::fmt;

use serde::de::{Deserialize, Deserializer, Error as _, SeqAccess, Visitor};

use crate::error::Error;

/// Deserializes a list into a `T`, starting from `T::default()` and
/// handing each element to `add`; an error of `add` refuses the list.
/// `expecting` names the list for serde's error messages.
pub(crate) fn deserialize_list<'de, D, E, T>(
    d: D,
    expecting: &'static str,
    add: fn(&mut T, E) -> Result<(), Error>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: Deserialize<'de>,
    T: Default,
{
    struct ListVisitor<E, T> {
        expecting: &'static str,
        add: fn(&mut T, E) -> Result<(), Error>,
    }
    impl<'de, E: Deserialize<'de>, T: Default> Visitor<'de> for ListVisitor<E, T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
            let mut value = T::default();
            while let Some(element) = seq.next_element::<E>()? {
                (self.add)(&mut value, element).map_err(A::Error::custom)?;
            }
            Ok(value)
        }
    }
    d.deserialize_seq(ListVisitor { expecting, add })
}
