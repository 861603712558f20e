//! [`Policy`]: what extraction does with a value that breaks a rule.

use serde::{Deserialize, Serialize};

/// What extraction does with values that are too long or hold control
/// characters. Either way nothing is silent: a rejected value is reported in
/// [`Extraction::problems`](crate::Extraction::problems), a changed one is
/// flagged on its [`Field`](crate::Field).
///
/// The default is [`Policy::STRICT`]. Deserializes from configuration such
/// as `{ limits = "truncate", control_characters = "strip" }`, missing
/// entries taking the default.
///
/// ```
/// use wharf_annotations::{ControlPolicy, LimitPolicy, Policy};
///
/// let policy = Policy::default().with_limits(LimitPolicy::Truncate);
/// assert_eq!(policy.control_characters, ControlPolicy::Reject);
/// assert_eq!(Policy::LENIENT.limits, LimitPolicy::Truncate);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Policy {
    /// For a description over 512 characters or licenses over 256.
    pub limits: LimitPolicy,
    /// For control characters in text values.
    pub control_characters: ControlPolicy,
}

impl Policy {
    /// Reject what breaks a rule: the value is left out and reported.
    pub const STRICT: Policy = Policy {
        limits: LimitPolicy::Reject,
        control_characters: ControlPolicy::Reject,
    };

    /// Repair what can be repaired: truncate long values, strip control
    /// characters, and flag the [`Field`](crate::Field).
    pub const LENIENT: Policy = Policy {
        limits: LimitPolicy::Truncate,
        control_characters: ControlPolicy::Strip,
    };

    /// This policy with `limits` for over-long values.
    #[must_use]
    pub const fn with_limits(mut self, limits: LimitPolicy) -> Self {
        self.limits = limits;
        self
    }

    /// This policy with `control_characters` for control characters.
    #[must_use]
    pub const fn with_control_characters(mut self, control_characters: ControlPolicy) -> Self {
        self.control_characters = control_characters;
        self
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::STRICT
    }
}

/// What to do with a value over its key's
/// [limit](crate::Key::max_chars).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitPolicy {
    /// Leave the value out and report [`Error::TooLong`](crate::Error::TooLong).
    #[default]
    Reject,
    /// Keep the first characters up to the limit (cut at a character
    /// boundary, no ellipsis added) and set
    /// [`Field::truncated`](crate::Field::truncated).
    Truncate,
}

/// What to do with a control character (Unicode category Cc) in a text
/// value. Tab, line feed and a carriage return that starts a CR LF line
/// break are text, not control characters, and are always kept.
///
/// Unicode format characters (bidirectional marks, zero-width joiners) are
/// kept: right-to-left and emoji text needs them. Render values as
/// isolated plain text (`<bdi>`, escaped) all the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlPolicy {
    /// Leave the value out and report
    /// [`Error::ControlCharacter`](crate::Error::ControlCharacter) for
    /// the first one.
    #[default]
    Reject,
    /// Remove them and count them in
    /// [`Field::stripped`](crate::Field::stripped).
    Strip,
}
