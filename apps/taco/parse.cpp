// taco parse: reads one raw model response on stdin, prints the parsed step or the error.
#include <iostream>
#include <iterator>

#include "commands.h"
#include "cota/parse.h"

namespace taco::cli {

void add_parse_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("parse", "parse one raw model response from stdin; print the step as JSON or the error");
  cmd->footer("Example:\n  echo '{\"thought\": \"read it\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}' | taco parse\n");
  cmd->callback([] {
    std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    ParseResult r = parse_response(input);
    if (r.ok()) {
      // A reply may hold bytes that are not UTF-8; they print as U+FFFD, as in traces.
      std::cout << r.step->to_json().dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
      return;
    }
    std::cout << Json{{"error", to_string(r.error_kind)}, {"message", r.error}}.dump(-1, ' ', false, Json::error_handler_t::replace)
              << "\n";
    exit_status() = kExitFailure;
  });
}

}  // namespace taco::cli
