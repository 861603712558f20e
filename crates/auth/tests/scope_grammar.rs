//! The scope grammars as properties: parse∘format round trips, arbitrary
//! input never panics, intersection is commutative and a subset of both.

use proptest::prelude::*;
use wharf_auth::{Resource, ResourceClass, Scope, ScopeActions, ScopeSet, TokenScope, TokenScopes};
use wharf_reference::RepositoryName;

/// A path component of the repository grammar.
const COMPONENT: &str = "[a-z0-9]{1,6}([._-][a-z0-9]{1,4}){0,2}";

fn repository_name() -> impl Strategy<Value = RepositoryName> {
    prop::collection::vec(COMPONENT, 1..4).prop_filter_map("valid repository name", |parts| {
        RepositoryName::parse(&parts.join("/")).ok()
    })
}

fn actions() -> impl Strategy<Value = ScopeActions> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(pull, push, delete, all)| {
            let pick = |yes: bool, a: ScopeActions| if yes { a } else { ScopeActions::NONE };
            pick(pull, ScopeActions::PULL)
                | pick(push, ScopeActions::PUSH)
                | pick(delete, ScopeActions::DELETE)
                | pick(all, ScopeActions::ALL)
        },
    )
}

fn resource() -> impl Strategy<Value = Resource> {
    prop_oneof![
        1 => Just(Resource::Catalog),
        6 => (repository_name(), prop::option::of("[a-z0-9]{1,6}")).prop_map(|(name, class)| {
            Resource::Repository {
                name,
                class: class.and_then(|c| ResourceClass::parse(&c).ok()),
            }
        }),
    ]
}

fn scope() -> impl Strategy<Value = Scope> {
    (resource(), actions()).prop_map(|(resource, actions)| Scope::new(resource, actions))
}

/// Two scopes likely to be about the same resource.
fn scope_pair() -> impl Strategy<Value = (Scope, Scope)> {
    prop_oneof![
        (scope(), scope()),
        (scope(), actions(), prop::option::of("[a-z]{1,3}")).prop_map(|(a, actions, class)| {
            let resource = match a.resource() {
                Resource::Repository { name, .. } => Resource::Repository {
                    name: name.clone(),
                    class: class.and_then(|c| ResourceClass::parse(&c).ok()),
                },
                Resource::Catalog => Resource::Catalog,
            };
            (a, Scope::new(resource, actions))
        }),
    ]
}

/// Strings close to the grammar, to reach deep into the parser.
const NEAR_SCOPE: &str = "[a-z(): /,*._A-Z0-9-]{0,40}";

proptest! {
    #[test]
    fn a_scope_parses_back_from_its_display(scope in scope()) {
        let shown = scope.to_string();
        prop_assert_eq!(Scope::parse(&shown), Ok(scope), "{}", shown);
    }

    #[test]
    fn actions_parse_back_from_their_display(actions in actions()) {
        prop_assert_eq!(actions.to_string().parse::<ScopeActions>(), Ok(actions));
    }

    #[test]
    fn arbitrary_input_never_panics_and_what_parses_is_canonical(
        input in prop_oneof![any::<String>(), NEAR_SCOPE.prop_map(String::from)]
    ) {
        if let Ok(scope) = Scope::parse(&input) {
            let shown = scope.to_string();
            prop_assert_eq!(Scope::parse(&shown), Ok(scope));
        }
        if let Ok(set) = ScopeSet::from_request([input.as_str()]) {
            prop_assert_eq!(set.to_string().parse::<ScopeSet>(), Ok(set));
        }
        let _ = input.parse::<TokenScopes>();
    }

    #[test]
    fn intersection_is_commutative((a, b) in scope_pair()) {
        prop_assert_eq!(a.intersect(&b), b.intersect(&a));
    }

    #[test]
    fn intersection_is_a_subset_of_both((a, b) in scope_pair()) {
        if let Some(both) = a.intersect(&b) {
            prop_assert!(both.resource().same_as(a.resource()));
            prop_assert!(a.actions().contains(both.actions()));
            prop_assert!(b.actions().contains(both.actions()));
        } else {
            prop_assert!(!a.resource().same_as(b.resource()));
        }
    }

    #[test]
    fn a_scope_intersected_with_itself_is_itself(a in scope()) {
        prop_assert_eq!(a.intersect(&a), Some(a.clone()));
    }

    #[test]
    fn a_request_merges_to_the_same_set_in_any_order(
        scopes in prop::collection::vec(scope(), 0..8),
        seed in any::<u64>(),
    ) {
        let shown: Vec<String> = scopes.iter().map(ToString::to_string).collect();
        let mut shuffled = shown.clone();
        // A cheap deterministic shuffle.
        let len = shuffled.len();
        for i in 0..len {
            let j = usize::try_from(seed.rotate_left(u32::try_from(i).unwrap_or(0)) % len as u64)
                .unwrap_or(0);
            shuffled.swap(i, j);
        }
        let set = ScopeSet::from_request(shown.iter().map(String::as_str)).expect("valid scopes");
        let again = ScopeSet::from_request([shuffled.join(" ").as_str()]).expect("valid scopes");
        prop_assert_eq!(&set, &again);
        for scope in &scopes {
            prop_assert!(set.allows(scope), "{} does not allow {}", set, scope);
        }
        let mut resources: Vec<(&str, &str)> =
            set.iter().map(|s| (s.resource().resource_type(), s.resource().name())).collect();
        resources.dedup();
        prop_assert_eq!(resources.len(), set.len(), "one entry per resource");
    }

    #[test]
    fn set_intersection_is_commutative_and_a_subset_of_both(
        a in prop::collection::vec(scope(), 0..6),
        b in prop::collection::vec(scope(), 0..6),
    ) {
        let a: ScopeSet = a.into_iter().collect();
        let b: ScopeSet = b.into_iter().collect();
        let both = a.intersect(&b);
        prop_assert_eq!(&both, &b.intersect(&a));
        for scope in &both {
            prop_assert!(a.allows(scope) && b.allows(scope));
        }
    }

    #[test]
    fn token_scopes_parse_back_from_their_display(
        picked in prop::sample::subsequence(TokenScope::ALL.to_vec(), 0..=4)
    ) {
        let scopes: TokenScopes = picked.into_iter().collect();
        prop_assert_eq!(scopes.to_string().parse::<TokenScopes>(), Ok(scopes));
        let json = serde_json::to_string(&scopes).expect("serializes");
        prop_assert_eq!(serde_json::from_str::<TokenScopes>(&json).expect("parses"), scopes);
    }
}

#[test]
fn token_scopes_accept_the_lists_github_shows() {
    let cases: &[(&str, Result<&[TokenScope], &str>)] = &[
        ("", Ok(&[])),
        ("read:packages", Ok(&[TokenScope::ReadPackages])),
        (
            "repo, write:packages",
            Ok(&[TokenScope::WritePackages, TokenScope::Repo]),
        ),
        (
            "write:packages delete:packages",
            Ok(&[TokenScope::WritePackages, TokenScope::DeletePackages]),
        ),
        (
            "read:packages,read:packages",
            Ok(&[TokenScope::ReadPackages]),
        ),
        (" ,read:packages ,\t", Ok(&[TokenScope::ReadPackages])),
        ("admin:org", Err("unknown token scope `admin:org`")),
        ("READ:PACKAGES", Err("unknown token scope")),
        ("read:packages;repo", Err("unknown token scope")),
    ];
    for (input, expected) in cases {
        match (input.parse::<TokenScopes>(), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got.iter().collect::<Vec<_>>(), *want, "{input:?}"),
            (Err(got), Err(want)) => assert!(got.to_string().contains(want), "{input:?}: {got}"),
            (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
#[rustfmt::skip]
fn token_scope_implications() {
    // scopes                            read   write  delete
    let cases = [
        ("",                                false, false, false),
        ("repo",                            false, false, false),
        ("read:packages",                   true,  false, false),
        ("write:packages",                  true,  true,  false),
        ("delete:packages",                 false, false, false),
        ("read:packages, delete:packages",  true,  false, true),
        ("write:packages, delete:packages", true,  true,  true),
    ];
    for (input, read, write, delete) in cases {
        let scopes: TokenScopes = input.parse().expect("valid");
        assert_eq!(
            (scopes.can_read_packages(), scopes.can_write_packages(), scopes.can_delete_packages()),
            (read, write, delete),
            "{input:?}"
        );
    }
}
