//! Serde for the set types written as JSON lists (`TokenScopes`,
//! `ScopeActions`): [`serde_as_list!`] over [`deserialize_list`].

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

/// Implements `Serialize` for the set type `$ty` as the list that
/// `elements` gives (a function of the value), and `Deserialize` from such
/// a list with [`deserialize_list`] and `add`.
macro_rules! serde_as_list {
    ($ty:ty, elements: $elements:expr, expecting: $expecting:expr, add: $add:expr $(,)?) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(($elements)(*self))
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::serde_list::deserialize_list(d, $expecting, $add)
            }
        }
    };
}

pub(crate) use serde_as_list;
