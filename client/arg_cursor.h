// ArgCursor walks a subcommand's arguments: options as "--name=value" or
// "--name value", positionals in between. Each command keeps its own
// option table; this only does the walking both forms need.
#ifndef PBRX_CLIENT_ARG_CURSOR_H_
#define PBRX_CLIENT_ARG_CURSOR_H_

#include <string>
#include <vector>

namespace pbrx::client {

class ArgCursor {
 public:
  explicit ArgCursor(const std::vector<std::string>& args) : args_(args) {}

  // Moves to the next argument; false when none is left.
  bool Next() {
    if (++i_ >= args_.size()) return false;
    const std::string& a = args_[i_];
    size_t eq = a.find('=');
    attached_ = a.rfind("--", 0) == 0 && eq != std::string::npos;
    name_ = attached_ ? a.substr(0, eq) : a;
    value_ = attached_ ? a.substr(eq + 1) : std::string();
    return true;
  }

  // The option name ("--tag" for "--tag=v"), or the whole argument.
  const std::string& name() const { return name_; }
  // The argument exactly as given (for positionals).
  const std::string& raw() const { return args_[i_]; }

  // The current option's value: its "=value" part, else the next argument
  // (which is consumed). False if there is none.
  bool Value(std::string* out) {
    if (attached_) {
      *out = value_;
      return true;
    }
    if (i_ + 1 >= args_.size()) return false;
    *out = args_[++i_];
    return true;
  }

 private:
  const std::vector<std::string>& args_;
  size_t i_ = static_cast<size_t>(-1);
  std::string name_, value_;
  bool attached_ = false;
};

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_ARG_CURSOR_H_
