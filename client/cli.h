// What every pbrx subcommand does with its arguments, in this order of
// precedence (later wins): the defaults; the [COMMAND] table ([build-images],
// [farm-status], ...) of the system
// settings (/etc/pbrx/pbrx.toml), then of the user's
// ($XDG_CONFIG_HOME/pbrx/pbrx.toml, default ~/.config/pbrx/pbrx.toml);
// the PBRX_* environment variables; the command line. `--help` prints the
// command's help; a usage error prints "pbrx COMMAND: message" and a hint,
// for exit code 2.
#ifndef PBRX_CLIENT_CLI_H_
#define PBRX_CLIENT_CLI_H_

#include <functional>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "common/flag_parser.h"

namespace pbrx::client {

using GetEnv = std::function<const char*(const char*)>;

// The settings files, lowest precedence first (absent ones included).
std::vector<std::string> SettingsFiles(const GetEnv& getenv);

// $XDG_CACHE_HOME/pbrx, else $HOME/.cache/pbrx (without HOME: the user's
// home directory from the password database).
std::string DefaultCacheDir(const GetEnv& getenv);

// Applies the settings files, the environment and `args` to `parser` (of
// command `command`, e.g. "build-images"). nullopt: go on; else the exit
// code to return (0 after --help on `out`, 2 after a usage error on `err`).
std::optional<int> ParseCommand(common::FlagParser& parser,
                                const std::string& command,
                                const std::vector<std::string>& args,
                                std::ostream& out, std::ostream& err,
                                const GetEnv& getenv);

// Prints "pbrx COMMAND: message" and "(see 'pbrx COMMAND --help')" on
// `err`; returns 2.
int UsageError(std::ostream& err, const std::string& command,
               const std::string& message);

// The naming settings the user gave by flag or PBRX_* variable ("prefix" for
// --prefix, "tags" for --tag): a project's [tool.pbrx] does not replace
// them (PlanOptions::pinned).
std::set<std::string> PinnedSettings(const common::FlagParser& parser);

// The first of `names` the parser got a value for, as "--NAME"; "" if none.
std::string FirstGiven(const common::FlagParser& parser,
                       const std::vector<std::string>& names);

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_CLI_H_
