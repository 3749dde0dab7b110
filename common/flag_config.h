// Flag values from TOML files: pbrx-cache --config FILE (top-level keys)
// and pbrx's own settings (a [build-images] table and the like).
#ifndef PBRX_COMMON_FLAG_CONFIG_H_
#define PBRX_COMMON_FLAG_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "common/flag_parser.h"

namespace pbrx::common {

// Sets `flags` from the TOML file `file` (FlagParser::SetFromConfig): keys
// named like the flags ("data-dir" or "data_dir"), lists for repeated
// flags. With a `section`, only the keys of that table count (other tables
// are for other commands; a key outside any table is an error).
// INVALID_ARGUMENT "FILE:LINE: ..." naming the key; "--config FILE: cannot
// be read" when the file is missing.
absl::Status ApplyConfigFile(FlagParser& flags, const std::string& file,
                             const std::string& section = "");

}  // namespace pbrx::common

#endif  // PBRX_COMMON_FLAG_CONFIG_H_
