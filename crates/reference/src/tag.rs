use crate::grammar;

crate::serde_str::checked_string! {
    /// A tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    ///
    /// Ordered lexically by its bytes, which is the order `tags/list` uses.
    ///
    /// ```
    /// use wharf_reference::Tag;
    ///
    /// let t: Tag = "v1.14.1".parse().unwrap();
    /// assert_eq!(t.as_str(), "v1.14.1");
    /// assert!(".hidden".parse::<Tag>().is_err());
    /// assert!("a".repeat(129).parse::<Tag>().is_err());
    /// ```
    pub struct Tag checked by grammar::tag,
    "a tag string";
    Debug,
    Borrow
}

impl std::ops::Deref for Tag {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}
