//! The command line: `--config` and a flag for every setting. The flags
//! are parsed without their defaults, so that the matches hold only what
//! was given and update the file's settings (the defaults are shown in
//! `--help` all the same).

use std::path::PathBuf;

use clap::builder::StyledStr;
use clap::{
    value_parser, Arg, ArgAction, ArgMatches, Args, Command, CommandFactory, FromArgMatches,
};

use super::settings::Settings;

/// The flags given: `--config` and the settings named on the command line.
#[derive(Debug, Clone)]
pub struct Cli {
    /// The TOML file given with `--config`.
    pub config: Option<PathBuf>,
    /// The setting flags given, and only those.
    pub(super) flags: ArgMatches,
}

impl Cli {
    /// The flags in `args` (the first is the program name); exits with a
    /// usage message when they are malformed.
    #[cfg(test)]
    pub fn parse_from<I, T>(args: I) -> Cli
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Cli::command().get_matches_from(args);
        Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
    }
}

impl Default for Cli {
    /// No flags.
    fn default() -> Self {
        Cli {
            config: None,
            flags: Cli::command().get_matches_from(["minimal-registry"]),
        }
    }
}

impl CommandFactory for Cli {
    fn command() -> Command {
        Cli::augment_args(Command::new("minimal-registry"))
    }

    fn command_for_update() -> Command {
        Cli::command()
    }
}

impl FromArgMatches for Cli {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Cli {
            config: matches.get_one::<PathBuf>("config").cloned(),
            flags: matches.clone(),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Cli::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for Cli {
    fn augment_args(cmd: Command) -> Command {
        let cmd = cmd.arg(
            Arg::new("config")
                .long("config")
                .value_name("FILE")
                .value_parser(value_parser!(PathBuf))
                .help(
                    "A TOML file with any of the settings below (e.g. `listen = \"0.0.0.0:5000\"`, \
                     `data_dir = \"/var/lib/registry\"`, `[limits] body_idle_timeout = \"30s\"`)",
                ),
        );
        Settings::augment_args(cmd).mut_args(without_default)
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Cli::augment_args(cmd)
    }
}

/// `arg` with its default moved into its help text: absent from the
/// matches when not given, yet still documented.
fn without_default(arg: Arg) -> Arg {
    // An on/off flag: the flag alone sets the value opposite to the
    // default, which clap would otherwise also record when it is absent.
    let arg = match arg.get_action() {
        ArgAction::SetTrue => arg
            .action(ArgAction::Set)
            .num_args(0)
            .default_missing_value("true"),
        ArgAction::SetFalse => arg
            .action(ArgAction::Set)
            .num_args(0)
            .default_missing_value("false"),
        _ => arg,
    };
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|value| value.to_string_lossy().into_owned())
        .collect();
    let takes_value = arg.get_num_args().is_none_or(|n| n.takes_values());
    if defaults.is_empty() {
        return arg;
    }
    let shown = (!arg.is_hide_default_value_set() && takes_value)
        .then(|| format!(" [default: {}]", defaults.join(", ")));
    let with_default = |help: Option<&StyledStr>| -> Option<String> {
        let help = help?;
        Some(format!("{help}{}", shown.as_deref().unwrap_or("")))
    };
    let help = with_default(arg.get_help());
    let long_help = with_default(arg.get_long_help());
    let mut arg = arg.default_value(None);
    if let Some(help) = help {
        arg = arg.help(help);
    }
    if let Some(long_help) = long_help {
        arg = arg.long_help(long_help);
    }
    arg
}
