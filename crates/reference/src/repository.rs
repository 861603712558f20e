use crate::grammar;

crate::serde_str::checked_string! {
    /// A registry-side repository name, the `<name>` of `/v2/<name>/...`:
    /// lower-case path components separated by `/`, at most 255 bytes, with no
    /// registry host.
    ///
    /// The first component is the namespace (the owning user or organization);
    /// the rest is the package name, which is how permissions are keyed.
    ///
    /// ```
    /// use wharf_reference::RepositoryName;
    ///
    /// let name: RepositoryName = "octocat/my-repo/release".parse().unwrap();
    /// assert_eq!(name.namespace(), "octocat");
    /// assert_eq!(name.package(), Some("my-repo/release"));
    /// assert_eq!(name.components().count(), 3);
    ///
    /// assert!("Octocat/app".parse::<RepositoryName>().is_err());
    /// assert!("a//b".parse::<RepositoryName>().is_err());
    /// ```
    pub struct RepositoryName checked by grammar::path,
    "a repository name such as `owner/image`";
    Debug,
    Borrow
}

impl RepositoryName {
    /// The first path component: the owner (user or organization).
    pub fn namespace(&self) -> &str {
        self.0.split('/').next().unwrap_or(&self.0)
    }

    /// Everything after the namespace (`IMAGE_NAME` or `IMAGE_NAME/release`),
    /// or `None` for a single-component name.
    pub fn package(&self) -> Option<&str> {
        self.0.split_once('/').map(|(_, rest)| rest)
    }

    /// The `/`-separated components, in order.
    pub fn components(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.split('/')
    }
}
