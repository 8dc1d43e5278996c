#include "command_line.h"

#include "commands.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "util/error.h"
#include "util/files.h"
#include "util/json.h"
#include "util/strings.h"

namespace taco::cli {
namespace {

using Commands = std::vector<std::pair<std::string, const CLI::App*>>;  // "eval run" -> its App

void collect_commands(const CLI::App& app, const std::string& path, Commands& out) {
  out.emplace_back(path, &app);
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    collect_commands(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
}

const CLI::App* find_subcommand(const CLI::App& app, const std::string& name) {
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    if (sub->check_name(name)) return sub;
  return nullptr;
}

// The option `name` ("--model", "-j") names on `app`. --config, the main command's, goes with
// every command (with_config_file takes it out of the command line).
const CLI::Option* find_flag(const CLI::App* app, const std::string& name) {
  if (name == "--config") {
    while (app->get_parent()) app = app->get_parent();
  }
  for (const CLI::Option* opt : app->get_options()) {
    if (opt->get_positional()) continue;
    if (name.rfind("--", 0) == 0 && opt->check_lname(name.substr(2))) return opt;
    if (name.size() == 2 && name[0] == '-' && opt->check_sname(name.substr(1))) return opt;
  }
  return nullptr;
}

std::vector<std::string> long_flags(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app->get_options())
    for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
  return names;
}

bool is_number(const std::string& s) {
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

// Walks a command line as CLI11 will: `visit(command, word, option)` sees each flag with the
// option it names (nullptr when none does) and returns false to stop; positional words and
// flag values are skipped. Returns the command the words select.
template <typename Visit>
const CLI::App* walk(const CLI::App& app, const std::vector<std::string>& args, std::string* unknown_command, Visit visit) {
  const CLI::App* cmd = &app;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") break;
    if (word.size() > 1 && word[0] == '-' && !is_number(word)) {
      const bool long_form = word.rfind("--", 0) == 0;
      const std::string name = long_form ? word.substr(0, word.find('=')) : word.substr(0, 2);
      const CLI::Option* opt = find_flag(cmd, name);
      if (!visit(cmd, name, opt)) return cmd;
      if (!opt || opt->get_type_size_max() == 0) continue;
      const bool value_attached = long_form ? word.find('=') != std::string::npos : word.size() > 2;
      auto looks_like_flag = [&](const std::string& w) { return w.size() > 1 && w[0] == '-' && !is_number(w); };
      if (!value_attached && i + 1 < args.size() && !looks_like_flag(args[i + 1])) ++i;  // as CLI11 takes values
      if (opt->get_items_expected_max() > 1)  // the rest of a list: the words up to the next flag
        while (i + 1 < args.size() && !looks_like_flag(args[i + 1])) ++i;
      continue;
    }
    if (const CLI::App* sub = find_subcommand(*cmd, word)) {
      cmd = sub;
      continue;
    }
    // A word where a command group expects its subcommand.
    const bool takes_positionals = !cmd->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty();
    if (!takes_positionals && !cmd->get_subcommands([](const CLI::App*) { return true; }).empty() && unknown_command) {
      *unknown_command = word;
      return cmd;
    }
  }
  return cmd;
}

std::string to_upper_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string command_name(const CLI::App* cmd) {
  std::string name;
  for (; cmd; cmd = cmd->get_parent()) name = cmd->get_name() + (name.empty() ? "" : " " + name);
  return name;
}

// ---- the config file: a TOML subset or JSON, read into {key: value, section: {key: value}} ----

[[noreturn]] void config_error(const std::string& path, size_t line, const std::string& what) {
  throw Error(path + ":" + std::to_string(line) + ": " + what);
}

struct TomlLine {
  const std::string& path;
  size_t number;
  const std::string& text;
  size_t pos = 0;

  void skip_space() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  }
  bool at_end_or_comment() {
    skip_space();
    return pos >= text.size() || text[pos] == '#';
  }
  Json value() {
    skip_space();
    if (pos >= text.size()) config_error(path, number, "a value is missing");
    const char c = text[pos];
    if (c == '"') return basic_string();
    if (c == '\'') {
      const size_t end = text.find('\'', pos + 1);
      if (end == std::string::npos) config_error(path, number, "a string is not closed");
      std::string s = text.substr(pos + 1, end - pos - 1);
      pos = end + 1;
      return s;
    }
    if (c == '[') {
      ++pos;
      Json list = Json::array();
      for (;;) {
        skip_space();
        if (pos < text.size() && text[pos] == ']') break;
        list.push_back(value());
        skip_space();
        if (pos < text.size() && text[pos] == ',') ++pos;
        else if (pos >= text.size() || text[pos] != ']') config_error(path, number, "a list must be [a, b, ...] on one line");
      }
      ++pos;
      return list;
    }
    size_t end = pos;
    while (end < text.size() && text[end] != ',' && text[end] != ']' && text[end] != '#' && text[end] != ' ' && text[end] != '\t') ++end;
    const std::string word = text.substr(pos, end - pos);
    pos = end;
    if (word == "true") return true;
    if (word == "false") return false;
    std::string digits = word;
    digits.erase(std::remove(digits.begin(), digits.end(), '_'), digits.end());
    if (is_number(digits)) {
      try {
        return digits.find_first_of(".eE") == std::string::npos ? Json(std::stoll(digits)) : Json(std::stod(digits));
      } catch (const std::out_of_range&) {
        config_error(path, number, "the number " + excerpt(word, 40) + " is out of range");
      }
    }
    config_error(path, number, "cannot read the value " + word + " (strings go in quotes)");
  }
  Json basic_string() {
    std::string s;
    for (++pos; pos < text.size() && text[pos] != '"'; ++pos) {
      if (text[pos] != '\\') {
        s += text[pos];
        continue;
      }
      if (++pos >= text.size()) break;
      switch (text[pos]) {
        case 'n': s += '\n'; break;
        case 't': s += '\t'; break;
        case '"': s += '"'; break;
        case '\\': s += '\\'; break;
        default: config_error(path, number, std::string("unknown escape \\") + text[pos]);
      }
    }
    if (pos >= text.size()) config_error(path, number, "a string is not closed");
    ++pos;
    return s;
  }
};

Json parse_toml(const std::string& path, const std::string& text) {
  Json root = Json::object();
  Json* section = &root;
  size_t number = 0;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    TomlLine in{path, number, line};
    if (in.at_end_or_comment()) continue;
    if (line[in.pos] == '[') {
      const size_t close = line.find(']', in.pos);
      if (close == std::string::npos) config_error(path, number, "a section must be [name]");
      std::string name = line.substr(in.pos + 1, close - in.pos - 1);
      std::replace(name.begin(), name.end(), '.', ' ');
      if (root.contains(name)) config_error(path, number, "the section [" + line.substr(in.pos + 1, close - in.pos - 1) + "] is given twice");
      section = &root[name];
      if (!section->is_object()) *section = Json::object();
      continue;
    }
    const size_t eq = line.find('=', in.pos);
    if (eq == std::string::npos) config_error(path, number, "expected key = value");
    std::string key = line.substr(in.pos, eq - in.pos);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    if (key.size() > 1 && key.front() == '"' && key.back() == '"') key = key.substr(1, key.size() - 2);
    if (key.empty()) config_error(path, number, "a key is missing");
    in.pos = eq + 1;
    if (section->contains(key)) config_error(path, number, "the key " + key + " is given twice");
    (*section)[key] = in.value();
    if (!in.at_end_or_comment()) config_error(path, number, "unexpected text after the value");
  }
  return root;
}

Json read_config(const std::string& path) {
  const std::string text = read_file(path);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    try {
      return parse_json(text, kJsonConfigLimits);
    } catch (const Error& e) {
      throw Error(path + ": " + e.what());
    }
  }
  return parse_toml(path, text);
}

std::string flag_key(std::string key) {
  if (key.rfind("--", 0) == 0) key = key.substr(2);
  std::replace(key.begin(), key.end(), '_', '-');
  return key;
}

// The words a config value becomes after its flag; false for a flag means "leave it out".
std::vector<std::string> value_words(const std::string& path, const std::string& key, const Json& value,
                                     const CLI::Option& opt) {
  auto word = [&](const Json& v) -> std::string {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number()) return v.dump();
    throw Error(path + ": " + key + " must be a string, a number, true/false or a list of them");
  };
  std::vector<std::string> words;
  if (value.is_array()) {
    if (opt.get_items_expected_max() <= 1) throw Error(path + ": " + key + " takes one value, not a list");
    for (const auto& v : value) words.push_back(word(v));
  } else {
    words.push_back(word(value));
  }
  return words;
}

// Flags whose values are paths. In a config file a relative one starts at the file's folder, as
// a tools config's paths do, not wherever taco runs. A value that may instead name something
// (a benchmark in the data folder, a shipped model) starts there only where that path exists.
enum class PathValue { kPath, kPathOrName };
const std::map<std::string, PathValue>& path_flags() {
  static const std::map<std::string, PathValue> flags = {
      {"--out", PathValue::kPath},          {"--out-dir", PathValue::kPath},        {"--errors-out", PathValue::kPath},
      {"--work-dir", PathValue::kPath},     {"--images-dir", PathValue::kPath},     {"--inputs-dir", PathValue::kPath},
      {"--image-folder", PathValue::kPath}, {"--data-dir", PathValue::kPath},       {"--allowed-root", PathValue::kPath},
      {"--tools-config", PathValue::kPath}, {"--prompt-template", PathValue::kPath}, {"--image", PathValue::kPath},
      {"--scores", PathValue::kPath},       {"--compare", PathValue::kPath},        {"--report", PathValue::kPath},
      {"--traces", PathValue::kPath},       {"--val", PathValue::kPath},            {"--recipe", PathValue::kPath},
      {"--db", PathValue::kPath},           {"--judge-cache", PathValue::kPath},    {"--judge-prompt", PathValue::kPath},
      {"--annotations", PathValue::kPath},  {"--data", PathValue::kPathOrName},     {"--dataset", PathValue::kPathOrName},
      {"--exclude", PathValue::kPathOrName}, {"--model", PathValue::kPathOrName},   {"--judge", PathValue::kPathOrName}};
  return flags;
}

std::string in_config_folder(const std::string& value, PathValue kind, const std::string& config_dir) {
  if (value.empty() || value[0] == '/' || value[0] == '~') return value;
  const std::string there = resolve_path(config_dir, value);
  std::error_code ec;
  return kind == PathValue::kPath || std::filesystem::exists(there, ec) ? there : value;
}

std::string from_config_folder(const std::string& flag, const std::string& value, const std::string& config_dir) {
  auto it = path_flags().find(flag);
  if (it == path_flags().end()) return value;
  // A model spec's path follows its kind (embedded:DIR, replay:FILE); a served model's name stays.
  for (const std::string kind : {"embedded:", "replay:"})
    if (value.rfind(kind, 0) == 0) return kind + in_config_folder(value.substr(kind.size()), PathValue::kPathOrName, config_dir);
  if (flag == "--model" || flag == "--judge") return value;
  return in_config_folder(value, it->second, config_dir);
}

// The config file's path, taken out of `args` (--config FILE or --config=FILE), else $TACO_CONFIG.
std::string take_config_path(std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") break;
    if (args[i] == "--config") {
      if (i + 1 == args.size()) throw Error("--config needs a file");
      std::string path = args[i + 1];
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
      return path;
    }
    if (args[i].rfind("--config=", 0) == 0) {
      std::string path = args[i].substr(9);
      args.erase(args.begin() + static_cast<long>(i));
      return path;
    }
  }
  const char* env = std::getenv("TACO_CONFIG");
  return env ? env : "";
}

bool given(const CLI::Option& opt, const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--") break;
    for (const auto& l : opt.get_lnames())
      if (a == "--" + l || a.rfind("--" + l + "=", 0) == 0) return true;
    for (const auto& s : opt.get_snames())
      if (a.rfind("-" + s, 0) == 0 && a.rfind("--", 0) != 0) return true;
  }
  const std::string env = opt.get_envname();
  return !env.empty() && std::getenv(env.c_str());
}

}  // namespace

std::string parse_error_text(const CLI::ParseError& error) {
  const std::string what = error.what();
  std::smatch m;
  static const std::regex missing(R"(^(-[-\w]+): \d+ required .* missing$)");
  static const std::regex range(R"(^(-[-\w]+): Value (.*) not in range (\S+) to (\S+)$)");
  static const std::regex one_of(R"(^(-[-\w]+): (.*) not in \{(.*)\}$)");
  static const std::regex no_file(R"(^(-[-\w]+|\w+): File does not exist: (.*)$)");
  static const std::regex no_dir(R"(^(-[-\w]+|\w+): Directory does not exist: (.*)$)");
  static const std::regex not_expected(R"(^The following arguments? (?:was|were) not expected: (.*)$)");
  static const std::regex conversion(R"(^Could not convert: (-[-\w]+) = (.*)$)");
  if (std::regex_match(what, m, missing)) return m.str(1) + " needs a value";
  if (std::regex_match(what, m, range)) return m.str(1) + ": " + m.str(2) + " is not a number from " + m.str(3) + " to " + m.str(4);
  if (std::regex_match(what, m, one_of)) {
    std::string options = m.str(3);
    for (size_t at = 0; (at = options.find(',', at)) != std::string::npos; at += 2) options.replace(at, 1, ", ");
    return m.str(1) + ": " + m.str(2) + " is not one of " + options;
  }
  if (std::regex_match(what, m, no_file)) return m.str(1) + ": no such file: " + m.str(2);
  if (std::regex_match(what, m, no_dir)) return m.str(1) + ": no such folder: " + m.str(2);
  if (std::regex_match(what, m, not_expected)) return "unexpected words: " + m.str(1) + " (a value goes after its flag)";
  if (std::regex_match(what, m, conversion)) return m.str(1) + ": cannot read the value " + m.str(2);
  if (what.empty()) return error.get_name();
  return what;
}

std::string version_line() { return std::string("taco ") + TACO_VERSION + " (commit " + kGitCommit + ")"; }

std::vector<std::string> command_path(const CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> path;
  const CLI::App* cmd = walk(app, args, nullptr, [](const CLI::App*, const std::string&, const CLI::Option*) { return true; });
  for (; cmd && cmd->get_parent(); cmd = cmd->get_parent()) path.insert(path.begin(), cmd->get_name());
  return path;
}

std::string unknown_word_problem(const CLI::App& app, const std::vector<std::string>& args) {
  std::string problem;
  std::string unknown_command;
  const CLI::App* cmd = walk(app, args, &unknown_command, [&](const CLI::App* at, const std::string& name, const CLI::Option* opt) {
    if (opt) return true;
    std::vector<std::string> flags = long_flags(at);
    const std::string near = nearest_word(name, flags);
    problem = "unknown flag " + name + " for '" + command_name(at) + "'" + (near.empty() ? "" : "; did you mean " + near + "?");
    return false;
  });
  if (!problem.empty() || unknown_command.empty()) return problem;
  std::vector<std::string> names;
  for (const CLI::App* sub : cmd->get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
  const std::string near = nearest_word(unknown_command, names);
  return "unknown command '" + unknown_command + "' for '" + command_name(cmd) + "'" +
         (near.empty() ? "" : "; did you mean '" + near + "'?");
}

std::vector<std::string> with_config_file(const CLI::App& app, std::vector<std::string> args) {
  const std::string path = take_config_path(args);
  if (path.empty()) return args;
  const Json config = read_config(path);
  if (!config.is_object()) throw Error(path + ": the config must be an object of flag values");
  Commands commands;
  collect_commands(app, "", commands);
  const std::vector<std::string> run = command_path(app, args);
  std::string run_name;
  for (const auto& w : run) run_name += (run_name.empty() ? "" : " ") + w;
  const CLI::App* leaf = &app;
  for (const auto& w : run) leaf = find_subcommand(*leaf, w);

  // Every key must be some command's flag (top level) or a flag of the section's command or
  // one under it; the values for this command, the most specific section winning.
  std::map<std::string, std::pair<int, Json>> values;  // flag -> (depth of its section, value)
  auto check_keys = [&](const Json& section, const std::string& section_name, int depth) {
    std::vector<std::string> all_flags;
    bool applies = run_name == section_name || run_name.rfind(section_name + " ", 0) == 0 || section_name.empty();
    for (const auto& [name, cmd] : commands) {
      if (!section_name.empty() && name != section_name && name.rfind(section_name + " ", 0) != 0) continue;
      for (const auto& f : long_flags(cmd)) all_flags.push_back(f);
    }
    for (const auto& [key, value] : section.items()) {
      if (value.is_object()) throw Error(path + ": " + key + ": sections nest one level, e.g. [eval.run]");
      const std::string flag = "--" + flag_key(key);
      if (std::find(all_flags.begin(), all_flags.end(), flag) == all_flags.end()) {
        const std::string near = nearest_word(flag, all_flags);
        throw Error(path + ": " + (section_name.empty() ? "" : "[" + section_name + "] ") + "no taco command" +
                    (section_name.empty() ? "" : " under '" + section_name + "'") + " has a flag " + flag +
                    (near.empty() ? "" : "; did you mean " + near.substr(2) + "?"));
      }
      if (applies && find_flag(leaf, flag)) {
        auto& slot = values[flag];
        if (slot.second.is_null() || slot.first <= depth) slot = {depth, value};
      }
    }
  };
  Json top = Json::object();
  for (const auto& [key, value] : config.items()) {
    if (!value.is_object()) {
      top[key] = value;
      continue;
    }
    std::string section = key;
    std::replace(section.begin(), section.end(), '.', ' ');
    const bool known = std::any_of(commands.begin(), commands.end(), [&](const auto& c) { return !c.first.empty() && c.first == section; });
    if (!known) {
      std::vector<std::string> names;
      for (const auto& c : commands) names.push_back(c.first);
      const std::string near = nearest_word(section, names);
      throw Error(path + ": [" + key + "] names no taco command" + (near.empty() ? "" : "; did you mean [" + near + "]?"));
    }
    check_keys(value, section, static_cast<int>(std::count(section.begin(), section.end(), ' ')) + 1);
  }
  check_keys(top, "", 0);

  const std::string config_dir = parent_dir(std::filesystem::absolute(path).string());
  for (const auto& [flag, entry] : values) {
    const CLI::Option* opt = find_flag(leaf, flag);
    if (flag == "--config" || given(*opt, args)) continue;
    if (opt->get_type_size_max() == 0) {  // a switch: true turns it on
      if (!entry.second.is_boolean()) throw Error(path + ": " + flag.substr(2) + " is a switch: true or false");
      if (entry.second.get<bool>()) args.push_back(flag);
      continue;
    }
    std::vector<std::string> words = value_words(path, flag.substr(2), entry.second, *opt);
    for (auto& w : words) w = from_config_folder(flag, w, config_dir);
    if (words.size() == 1) {
      args.push_back(flag + "=" + words[0]);  // "=" keeps a value like "-1" a value
      continue;
    }
    args.push_back(flag);
    args.insert(args.end(), words.begin(), words.end());
  }
  return args;
}

std::string bash_completion(const CLI::App& app) {
  Commands commands;
  collect_commands(app, "", commands);
  std::string steps, words;
  for (const auto& [path, cmd] : commands) {
    std::string list;
    for (const CLI::App* sub : cmd->get_subcommands([](const CLI::App*) { return true; })) {
      list += sub->get_name() + " ";
      steps += "      \"" + path + ":" + sub->get_name() + "\") path=\"" + (path.empty() ? "" : path + " ") + sub->get_name() + "\";;\n";
    }
    for (const auto& f : long_flags(cmd)) list += f + " ";
    if (path.empty()) list += "--config";
    words += "    \"" + path + "\") words=\"" + list + "\";;\n";
  }
  return "# bash completion for taco (made by `taco completion bash`)\n"
         "_taco() {\n"
         "  local cur=${COMP_WORDS[COMP_CWORD]} path=\"\" words=\"\" i\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    case \"$path:${COMP_WORDS[i]}\" in\n" +
         steps +
         "    esac\n"
         "  done\n"
         "  case \"$path\" in\n" +
         words +
         "  esac\n"
         "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
         "}\n"
         "complete -o default -F _taco taco\n";
}

std::string man_page(const CLI::App& app) {
  Commands commands;
  collect_commands(app, "", commands);
  auto roff = [](std::string text) {
    std::string out;
    for (char c : text) {
      if (c == '\\') out += "\\e";
      else out += c;
    }
    // A line starting with . or ' would be a roff request.
    std::string safe;
    size_t start = 0;
    while (start < out.size()) {
      size_t end = out.find('\n', start);
      if (end == std::string::npos) end = out.size();
      std::string line = out.substr(start, end - start);
      if (!line.empty() && (line[0] == '.' || line[0] == '\'')) line = "\\&" + line;
      safe += line + "\n";
      start = end + 1;
    }
    return safe;
  };
  std::string page = ".TH TACO 1 \"\" \"" + version_line() + "\" \"taco manual\"\n"
                     ".SH NAME\ntaco \\- " + app.get_description().substr(app.get_description().find(':') + 2) + "\n"
                     ".SH SYNOPSIS\n.B taco\nCOMMAND [SUBCOMMAND] [FLAGS]\n"
                     ".SH DESCRIPTION\nEach command below with its flags, as its \\fB\\-\\-help\\fR prints them. "
                     "docs/cli.md in the source describes the config file and the TACO_ARG_* variables.\n";
  for (const auto& [path, cmd] : commands) {
    if (path.empty()) continue;
    const std::string parent = command_name(cmd->get_parent());
    page += ".SH \"TACO " + to_upper_ascii(path) + "\"\n.nf\n" + roff(cmd->help(parent)) + ".fi\n";
  }
  return page;
}

void print_help_without_subcommand(CLI::App& group) {
  group.require_subcommand(0, 1);
  CLI::App* g = &group;
  group.callback([g] {
    if (g->get_subcommands().empty()) std::fputs(g->help(g->get_parent() ? command_name(g->get_parent()) : "").c_str(), stdout);
  });
}

void set_environment_names(CLI::App& app) {
  // What llama.cpp gives an LLAMA_ARG_* variable: the model and how it is reached and sampled,
  // serving, threads; not the inputs and outputs of one run.
  static const std::set<std::string> kFromEnvironment = {
      "model", "endpoint", "api-key-env", "temperature", "top-p", "max-tokens", "seed", "timeout", "retries",
      "prompt", "prompt-template", "max-replies", "max-pixels", "protocol", "tools-config", "jobs", "threads",
      "device", "host", "port", "max-concurrency", "timeout-s", "work-dir", "judge", "judge-endpoint",
      "judge-api-key-env", "judge-cache", "data-dir", "allowed-root", "keep-episodes", "max-body-mb"};
  Commands commands;
  collect_commands(app, "", commands);
  for (const auto& entry : commands) {
    CLI::App* cmd = const_cast<CLI::App*>(entry.second);
    for (CLI::Option* opt : cmd->get_options()) {
      if (opt->get_lnames().empty() || !opt->get_envname().empty()) continue;
      const std::string name = opt->get_lnames().front();
      if (!kFromEnvironment.count(name)) continue;
      std::string env = "TACO_ARG_" + to_upper_ascii(name);
      std::replace(env.begin(), env.end(), '-', '_');
      opt->envname(env);
    }
  }
}

}  // namespace taco::cli
