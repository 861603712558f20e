//! [`PackageAction`]: what a principal wants to do to a package.

use crate::protocol::ScopeActions;

use super::super::keyword::keywords;
use super::super::package::Role;

/// Something a principal wants to do to a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PackageAction {
    /// Pull manifests and blobs, read metadata.
    Pull,
    /// Push manifests and blobs (creating the package on first publish).
    Push,
    /// Delete the package, a version, a tag or a manifest.
    Delete,
    /// Restore a deleted package or version.
    Restore,
    /// Change visibility, grants, the linked repository or access
    /// inheritance.
    ChangeSettings,
}

impl PackageAction {
    /// Every action.
    pub const ALL: [PackageAction; 5] = [
        PackageAction::Pull,
        PackageAction::Push,
        PackageAction::Delete,
        PackageAction::Restore,
        PackageAction::ChangeSettings,
    ];

    /// The package role the action needs (public and internal packages
    /// are also readable without a role).
    pub const fn required_role(self) -> Role {
        match self {
            PackageAction::Pull => Role::Read,
            PackageAction::Push => Role::Write,
            PackageAction::Delete | PackageAction::Restore | PackageAction::ChangeSettings => {
                Role::Admin
            }
        }
    }

    /// The registry token action that stands for this action: `pull`,
    /// `push` or `delete`; none for the package-API-only actions.
    pub const fn scope_actions(self) -> ScopeActions {
        match self {
            PackageAction::Pull => ScopeActions::PULL,
            PackageAction::Push => ScopeActions::PUSH,
            PackageAction::Delete => ScopeActions::DELETE,
            PackageAction::Restore | PackageAction::ChangeSettings => ScopeActions::NONE,
        }
    }

    /// The phrase for messages: "pull", "push to", "delete", "restore",
    /// "change the settings of".
    pub(super) const fn verb(self) -> &'static str {
        match self {
            PackageAction::Pull => "pull",
            PackageAction::Push => "push to",
            PackageAction::Delete => "delete",
            PackageAction::Restore => "restore",
            PackageAction::ChangeSettings => "change the settings of",
        }
    }
}

keywords!(
    PackageAction,
    "action",
    expected "pull, push, delete, restore or change-settings",
    {
        Pull => "pull",
        Push => "push",
        Delete => "delete",
        Restore => "restore",
        ChangeSettings => "change-settings",
    }
);
