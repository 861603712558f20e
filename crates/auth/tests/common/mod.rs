//! What the test files share.

/// Asserts that `$result` is an `Err` whose error matches `$pattern` (and
/// the guard, if any), showing what it was otherwise.
macro_rules! assert_refused {
    ($result:expr, $pattern:pat $(if $guard:expr)?) => {
        match $result {
            Err($pattern) $(if $guard)? => {}
            other => panic!("expected {}, got {other:?}", stringify!($pattern)),
        }
    };
}
