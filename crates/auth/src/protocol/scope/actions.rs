//! [`ScopeActions`]: the actions of a scope, `pull`, `push`, `delete` or
//! `*`.

use std::fmt;
use std::ops::{BitAnd, BitOr};
use std::str::FromStr;

use crate::error::{excerpt, Error};

/// A set of registry token actions: `pull`, `push`, `delete`, or `*` (all
/// of them).
///
/// `*` is the full set, so intersecting `*` with `pull,push` gives
/// `pull,push`, and `pull,push,delete` is a subset of `*` but not equal to
/// it (it does not carry the wildcard).
///
/// ```
/// use wharf_auth::ScopeActions;
///
/// let asked: ScopeActions = "pull,push".parse()?;
/// assert_eq!(asked & ScopeActions::PULL, ScopeActions::PULL);
/// assert_eq!(asked & ScopeActions::ALL, asked);
/// assert!(ScopeActions::ALL.contains(asked));
/// assert_eq!(ScopeActions::ALL.to_string(), "*");
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeActions(u8);

const PULL_BIT: u8 = 1;
const PUSH_BIT: u8 = 2;
const DELETE_BIT: u8 = 4;
const WILDCARD_BIT: u8 = 8;

impl ScopeActions {
    /// No action.
    pub const NONE: ScopeActions = ScopeActions(0);
    /// `pull`: read manifests and blobs.
    pub const PULL: ScopeActions = ScopeActions(PULL_BIT);
    /// `push`: write manifests and blobs.
    pub const PUSH: ScopeActions = ScopeActions(PUSH_BIT);
    /// `delete`: delete manifests, tags and blobs.
    pub const DELETE: ScopeActions = ScopeActions(DELETE_BIT);
    /// `*`: every action.
    pub const ALL: ScopeActions = ScopeActions(PULL_BIT | PUSH_BIT | DELETE_BIT | WILDCARD_BIT);

    /// Both sets together.
    #[must_use]
    pub const fn union(self, other: ScopeActions) -> ScopeActions {
        ScopeActions(self.0 | other.0)
    }

    /// The actions in both sets.
    #[must_use]
    pub const fn intersection(self, other: ScopeActions) -> ScopeActions {
        ScopeActions(self.0 & other.0)
    }

    /// Whether every action of `other` is in this set.
    pub const fn contains(self, other: ScopeActions) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The action names, as they are written in a scope: `["*"]` for the
    /// full set, otherwise a subset of `pull`, `push`, `delete` in that
    /// order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        let names: &'static [(u8, &'static str)] = if self.0 & WILDCARD_BIT != 0 {
            &[(WILDCARD_BIT, "*")]
        } else {
            &[
                (PULL_BIT, "pull"),
                (PUSH_BIT, "push"),
                (DELETE_BIT, "delete"),
            ]
        };
        names
            .iter()
            .filter(move |(bit, _)| self.0 & bit != 0)
            .map(|(_, name)| *name)
    }

    /// One `action` of the grammar; `context` is what the error quotes.
    pub(super) fn action(name: &str, context: &str) -> Result<ScopeActions, Error> {
        match name {
            "" => Ok(ScopeActions::NONE),
            "pull" => Ok(ScopeActions::PULL),
            "push" => Ok(ScopeActions::PUSH),
            "delete" => Ok(ScopeActions::DELETE),
            "*" => Ok(ScopeActions::ALL),
            other => Err(Error::UnknownAction {
                input: excerpt(context),
                action: excerpt(other),
            }),
        }
    }

    /// `action [ ',' action ]*`; empty actions (which the grammar allows)
    /// add nothing.
    pub(super) fn action_list(s: &str, context: &str) -> Result<ScopeActions, Error> {
        s.split(',').try_fold(ScopeActions::NONE, |acc, name| {
            Ok(acc | ScopeActions::action(name, context)?)
        })
    }
}

impl BitOr for ScopeActions {
    type Output = ScopeActions;
    fn bitor(self, rhs: ScopeActions) -> ScopeActions {
        self.union(rhs)
    }
}

impl BitAnd for ScopeActions {
    type Output = ScopeActions;
    fn bitand(self, rhs: ScopeActions) -> ScopeActions {
        self.intersection(rhs)
    }
}

impl fmt::Display for ScopeActions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

wharf_reference::debug_as_display!(ScopeActions);

impl FromStr for ScopeActions {
    type Err = Error;
    /// Parses a comma-separated action list (`pull,push`).
    fn from_str(s: &str) -> Result<Self, Error> {
        ScopeActions::action_list(s, s)
    }
}

// The JWT `access` form: a list of action names (`["pull", "push"]`).
crate::serde_list::serde_as_list!(
    ScopeActions,
    elements: ScopeActions::names,
    expecting: "a list of actions such as [\"pull\", \"push\"]",
    add: |actions, name: String| {
        *actions = *actions | ScopeActions::action(&name, &name)?;
        Ok(())
    },
);
