//! Record ids: numbers the store assigns, wrapped so that a version id is
//! never passed where a package id is expected.

use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$doc:meta])* $ty:ident) => {
        $(#[$doc])*
        ///
        /// Displays and parses as the bare number (as REST paths carry it);
        /// serializes as a JSON number.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $ty(i64);

        impl $ty {
            /// The id with this number. Ids come from the store; making one
            /// up only finds something if the store handed it out.
            pub const fn new(id: i64) -> Self {
                $ty(id)
            }

            /// The number.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $ty {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($ty)
            }
        }
    };
}

id_type!(
    /// The id of an account (a user or an organization).
    AccountId
);
id_type!(
    /// The id of a personal access token or a workflow token.
    TokenId
);
id_type!(
    /// The id of a package. A package deleted and then published again
    /// under the same name gets a new id.
    PackageId
);
id_type!(
    /// The id of a package version (what GitHub's REST API puts in
    /// `/versions/{package_version_id}`).
    VersionId
);
