/// Which page of a lexically ordered listing to return: at most `n` items
/// that sort strictly after `last`, as `GET /v2/<name>/tags/list?n=&last=`
/// and `GET /v2/_catalog?n=&last=` ask for.
///
/// ```
/// use wharf_storage::{Page, PageRequest};
///
/// let names = ["a", "b", "c", "d"];
/// let page = Page::from_sorted(names, &PageRequest::first(2));
/// assert_eq!(page.items, ["a", "b"]);
/// assert_eq!(page.next_last, Some("b"));
///
/// let rest = Page::from_sorted(names, &PageRequest::after("b", Some(10)));
/// assert_eq!(rest.items, ["c", "d"]);
/// assert_eq!(rest.next_last, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// The most items to return; `None` means all of them. `Some(0)` returns
    /// an empty page.
    pub n: Option<usize>,
    /// Return only items that sort strictly after this one. It need not be an
    /// existing item (nor even a valid one): comparison is by bytes.
    pub last: Option<String>,
}

impl PageRequest {
    /// Everything, in one page.
    pub fn all() -> Self {
        PageRequest::default()
    }

    /// The first `n` items.
    pub fn first(n: usize) -> Self {
        PageRequest {
            n: Some(n),
            last: None,
        }
    }

    /// At most `n` (or all) items after `last`.
    pub fn after(last: impl Into<String>, n: Option<usize>) -> Self {
        PageRequest {
            n,
            last: Some(last.into()),
        }
    }
}

/// One page of a lexically ordered listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in lexical (byte) order.
    pub items: Vec<T>,
    /// `Some(last item)` when more items follow this page: ask for them with
    /// [`PageRequest::after`] (this is what a `Link: <...?last=...>; rel="next"`
    /// header carries). `None` on the final page, and for `n = 0`.
    pub next_last: Option<T>,
}

impl<T> Page<T> {
    /// An empty final page.
    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            next_last: None,
        }
    }

    /// Cuts the page `request` asks for out of `sorted`, which must already
    /// be in ascending byte order. Backends that can list everything cheaply
    /// use this; others apply the same rules in their query.
    pub fn from_sorted<I>(sorted: I, request: &PageRequest) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str> + Clone,
    {
        Self::from_sorted_by(sorted, request, |item| item.as_ref())
    }

    /// [`from_sorted`](Page::from_sorted) for items ordered by a string key
    /// (a referrer by its digest): `sorted` must be in ascending byte order
    /// of `key`, and `request.last` is compared with the keys.
    ///
    /// `sorted` is consumed lazily: at most `n + 1` items after `last` are
    /// taken from it, so a backend can feed it a walk that stops early.
    pub fn from_sorted_by<I, K>(sorted: I, request: &PageRequest, key: K) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Clone,
        K: Fn(&T) -> &str,
    {
        let last = request.last.as_deref();
        let mut rest = sorted
            .into_iter()
            .filter(|item| last.is_none_or(|last| key(item) > last))
            .peekable();
        let Some(n) = request.n else {
            return Page {
                items: rest.collect(),
                next_last: None,
            };
        };
        let items: Vec<T> = rest.by_ref().take(n).collect();
        let next_last = match (items.last(), rest.peek()) {
            (Some(last), Some(_)) => Some(last.clone()),
            _ => None,
        };
        Page { items, next_last }
    }

    /// The request for the page after this one (same size), or `None` when
    /// this is the final page.
    pub fn next_request(
        &self,
        request: &PageRequest,
        key: impl Fn(&T) -> &str,
    ) -> Option<PageRequest> {
        self.next_last
            .as_ref()
            .map(|last| PageRequest::after(key(last), request.n))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sorted_unique(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v.dedup();
        v
    }

    proptest! {
        /// A page is exactly "the first n items after `last`", and says
        /// whether more follow.
        #[test]
        fn page_matches_the_definition(
            items in proptest::collection::vec("[a-c]{0,3}", 0..12).prop_map(sorted_unique),
            n in proptest::option::of(0usize..6),
            last in proptest::option::of("[a-c]{0,3}"),
        ) {
            let request = PageRequest { n, last: last.clone() };
            let page = Page::from_sorted(items.clone(), &request);
            let after: Vec<String> = items
                .iter()
                .filter(|i| last.as_ref().is_none_or(|l| *i > l))
                .cloned()
                .collect();
            let want: Vec<String> = after.iter().take(n.unwrap_or(usize::MAX)).cloned().collect();
            prop_assert_eq!(&page.items, &want);
            let more = want.len() < after.len() && !want.is_empty();
            prop_assert_eq!(page.next_last, if more { want.last().cloned() } else { None });
        }

        /// Following `next_last` from the first page visits every item once,
        /// in order.
        #[test]
        fn following_pages_visits_everything_once(
            items in proptest::collection::vec("[a-d]{1,3}", 0..20).prop_map(sorted_unique),
            n in 1usize..5,
        ) {
            let mut seen = Vec::new();
            let mut request = PageRequest::first(n);
            loop {
                let page = Page::from_sorted(items.clone(), &request);
                seen.extend(page.items);
                match page.next_last {
                    Some(last) => request = PageRequest::after(last, Some(n)),
                    None => break,
                }
            }
            prop_assert_eq!(seen, items);
        }
    }
}
