//! `--format` on the command line: one [`Format`] enum for every command, each offering
//! only the formats its report has ([`Report::FORMATS`]). `--help` lists those, and any
//! other value is a usage error (exit 2) naming the command and its formats.

use crate::render::format::{not_a_format_of, Format, Report};
use clap::builder::{PossibleValue, TypedValueParser};
use clap::ValueEnum;
use std::ffi::OsStr;

/// The `value_parser` of one command's `--format`.
#[derive(Clone, Debug)]
pub struct FormatArg {
    command: &'static str,
    formats: &'static [Format],
    /// Other spellings of a format, accepted but not listed (`graph --format text`).
    aliases: &'static [(&'static str, Format)],
    /// List each format with its description in `--help` (only where one format is not
    /// self-explanatory).
    described: bool,
}

impl FormatArg {
    /// The formats of report `R`.
    pub fn of<R: Report>() -> FormatArg {
        FormatArg {
            command: R::COMMAND,
            formats: R::FORMATS,
            aliases: &[],
            described: false,
        }
    }

    pub fn with_aliases(mut self, aliases: &'static [(&'static str, Format)]) -> FormatArg {
        self.aliases = aliases;
        self
    }

    pub fn described(mut self) -> FormatArg {
        self.described = true;
        self
    }
}

impl TypedValueParser for FormatArg {
    type Value = Format;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Format, clap::Error> {
        let given = value.to_string_lossy();
        let alias = self
            .aliases
            .iter()
            .find(|(name, _)| *name == given)
            .map(|(_, f)| *f);
        let named = self.formats.iter().copied().find(|f| f.name() == given);
        alias.or(named).ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("{}\n", not_a_format_of(self.command, &given, self.formats)),
            )
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.formats.iter().map(|f| {
            let described = f.to_possible_value().expect("no format is skipped");
            let mut value = PossibleValue::new(f.name());
            if self.described {
                if let Some(help) = described.get_help() {
                    value = value.help(help.clone());
                }
            }
            for (alias, _) in self.aliases.iter().filter(|(_, to)| to == f) {
                value = value.alias(*alias);
            }
            value
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, Command};

    fn command() -> Command {
        Command::new("gate").arg(Arg::new("format").long("format").value_parser(
            FormatArg::of::<crate::gate::GateReport>().with_aliases(&[("text", Format::Table)]),
        ))
    }

    #[test]
    fn a_format_of_the_command_and_its_alias_parse() {
        let m = command()
            .try_get_matches_from(["gate", "--format", "json"])
            .unwrap();
        assert_eq!(m.get_one::<Format>("format"), Some(&Format::Json));
        let m = command()
            .try_get_matches_from(["gate", "--format", "text"])
            .unwrap();
        assert_eq!(m.get_one::<Format>("format"), Some(&Format::Table));
    }

    #[test]
    fn another_format_is_a_usage_error_naming_the_command_and_its_formats() {
        let e = command()
            .try_get_matches_from(["gate", "--format", "dot"])
            .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.render().to_string(),
            "error: `driftgate gate` has no --format dot; its formats: table, json, junit, sarif\n"
        );
    }

    #[test]
    fn help_lists_only_the_commands_formats() {
        let help = command().render_long_help().to_string();
        assert!(
            help.contains("[possible values: table, json, junit, sarif]"),
            "{help}"
        );
    }
}
