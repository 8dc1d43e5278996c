// Error is what taco throws for problems a user can cause or fix: a missing file, a malformed
// record, an unreachable server. Its message is one line meant for the user; the command line
// prints it as "taco: <message>" and exits non-zero. Programming errors are not Errors.
#pragma once

#include <stdexcept>
#include <string>

namespace taco {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace taco
