//! Keyword enums: one table of variants and their keywords gives `as_str`,
//! `Display` and `FromStr`, so the two directions cannot disagree.

/// Implements `as_str`, `Display` and `FromStr` for a fieldless enum from
/// one table: `Variant => "keyword"`, with extra spellings the parser also
/// accepts after `|`. An unknown keyword is [`Error::UnknownKeyword`]
/// with `$what` and `$expected`.
///
/// [`Error::UnknownKeyword`]: crate::Error::UnknownKeyword
macro_rules! keywords {
    (
        $ty:ident, $what:literal, expected $expected:literal,
        { $($variant:ident => $keyword:literal $(| $alias:literal)*),+ $(,)? }
    ) => {
        impl $ty {
            #[doc = concat!("The keyword: ", $expected, ".")]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $keyword,)+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> Result<Self, $crate::error::Error> {
                match s {
                    $($keyword $(| $alias)* => Ok($ty::$variant),)+
                    _ => Err($crate::error::Error::UnknownKeyword {
                        what: $what,
                        input: $crate::error::excerpt(s),
                        expected: $expected,
                    }),
                }
            }
        }
    };
}

pub(crate) use keywords;
