// SolveMathEquation with GiNaC, in place of TACO's WolframAlpha: linear systems, polynomial
// equations in one variable (exact roots where factoring or the quadratic formula gives them,
// numeric roots otherwise), evaluation and simplification of expressions. It reads queries the
// way models write them: "x^2 + 2x + 1 = 0, what is x?", "Solve 3y - 4 = 11", "2 + 2 = ?".
#include <ginac/ginac.h>

#include <algorithm>
#include <cctype>
#include <complex>
#include <regex>
#include <set>
#include <sstream>

#include "tools/builtin.h"
#include "tools/catalog.h"

namespace taco {
namespace {

const std::set<std::string>& function_names() {
  static const std::set<std::string> f = {"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
                                          "exp", "log", "sqrt", "abs", "Pi", "pi"};
  return f;
}

[[noreturn]] void cannot(const std::string& why) { throw ToolError(ToolFailure::kValueError, why); }

// Limits on what a model may send: std::regex matches recursively (a 60 KB query overflowed
// the stack) and so does GiNaC's parser (20,000 nested parentheses did). Real queries are a
// line or two.
constexpr size_t kMaxQueryChars = 2000;
constexpr int kMaxNesting = 100;

void check_size(const std::string& q) {
  if (q.size() > kMaxQueryChars)
    cannot("the query is " + std::to_string(q.size()) + " characters long; at most " + std::to_string(kMaxQueryChars) + " are read");
  int depth = 0, deepest = 0;
  for (char c : q) {
    if (c == '(' || c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if (c == ')' || c == ']' || c == '}') --depth;
  }
  if (deepest > kMaxNesting)
    cannot("the query nests brackets " + std::to_string(deepest) + " deep; at most " + std::to_string(kMaxNesting) + " are read");
}

// GiNaC factors polynomials over the rationals only: with a constant such as Pi among the
// coefficients its gcd throws, and the polynomial is then taken as it stands.
GiNaC::ex factor_over_rationals(const GiNaC::ex& e) {
  try {
    return GiNaC::factor(e);
  } catch (const std::exception&) {
    return e;
  }
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n.?!:");
  size_t e = s.find_last_not_of(" \t\n.?!:");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Removes English words around the mathematics ("Solve", "what is", "for x"); returns "" when
// the clause is prose rather than math.
std::string strip_words(const std::string& clause) {
  std::string out;
  size_t i = 0;
  while (i < clause.size()) {
    if (std::isalpha(static_cast<unsigned char>(clause[i]))) {
      size_t j = i;
      while (j < clause.size() && std::isalpha(static_cast<unsigned char>(clause[j]))) ++j;
      std::string word = clause.substr(i, j - i);
      if (word.size() == 1 || function_names().count(word)) out += word;
      else out += ' ';
      i = j;
    } else {
      out += clause[i++];
    }
  }
  out = trim(out);
  bool has_math = out.find_first_of("0123456789=+-*/^()") != std::string::npos;
  return has_math ? out : "";
}

// "2x" -> "2*x", ")(" -> ")*(", "3(" -> "3*(", "x y" stays for the parser to reject.
std::string insert_multiplication(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!out.empty()) {
      char p = out.back();
      bool prev_number = std::isdigit(static_cast<unsigned char>(p)) || p == '.';
      bool prev_close = p == ')';
      bool starts_term = std::isalpha(static_cast<unsigned char>(c)) || c == '(';
      // A digit right after a letter is part of a name (x2); after ')' it multiplies.
      if ((prev_number && starts_term) || (prev_close && (starts_term || std::isdigit(static_cast<unsigned char>(c)))))
        out += '*';
    }
    out += c;
  }
  return out;
}

// "0.1" -> "(1/10)": a decimal in a query means that exact number, and GiNaC's polynomial
// algorithms (normal, gcd, factor) work over the rationals only; floats made them throw.
std::string exact_decimals(const std::string& s) {
  std::string out;
  size_t i = 0;
  auto digit = [&](size_t k) { return k < s.size() && std::isdigit(static_cast<unsigned char>(s[k])); };
  while (i < s.size()) {
    const bool in_name = i > 0 && (std::isalnum(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '_');
    if ((digit(i) || (s[i] == '.' && digit(i + 1))) && !in_name) {
      size_t j = i;
      while (digit(j)) ++j;
      if (j < s.size() && s[j] == '.' && digit(j + 1)) {
        std::string whole = s.substr(i, j - i), fraction;
        size_t k = j + 1;
        while (digit(k)) fraction += s[k++];
        std::string numerator = whole + fraction;
        numerator.erase(0, std::min(numerator.find_first_not_of('0'), numerator.size() - 1));
        out += "(" + numerator + "/1" + std::string(fraction.size(), '0') + ")";
        i = k;
        continue;
      }
      out += s.substr(i, j - i);
      i = j;
      continue;
    }
    out += s[i++];
  }
  return out;
}

std::string print(const GiNaC::ex& e) {
  std::ostringstream os;
  os << e;
  return os.str();
}

// Prints a/b rather than GiNaC's a*b^(-1).
std::string show(const GiNaC::ex& e) {
  if (GiNaC::is_a<GiNaC::numeric>(e)) return print(e);
  GiNaC::ex nd = GiNaC::numer_denom(GiNaC::normal(e));
  GiNaC::ex n = nd.op(0), d = nd.op(1);
  if (d.is_equal(1)) return print(n);
  if (print(n)[0] == '-') return "-" + show(GiNaC::expand(-n) / d);
  auto wrap = [](const GiNaC::ex& x) {
    bool simple = GiNaC::is_a<GiNaC::symbol>(x) || GiNaC::is_a<GiNaC::constant>(x) || GiNaC::is_a<GiNaC::numeric>(x) ||
                  GiNaC::is_a<GiNaC::function>(x) ||
                  GiNaC::is_a<GiNaC::power>(x);
    return simple ? print(x) : "(" + print(x) + ")";
  };
  return wrap(n) + "/" + wrap(d);
}

// sqrt(n) with the largest square factor taken out (sqrt(8) -> 2*sqrt(2)) for rational n.
GiNaC::ex exact_sqrt(const GiNaC::ex& disc) {
  if (!GiNaC::is_a<GiNaC::numeric>(disc)) return GiNaC::sqrt(disc);
  GiNaC::numeric v = GiNaC::ex_to<GiNaC::numeric>(disc);
  if (!v.is_rational()) return GiNaC::sqrt(disc);
  bool negative = v.is_negative();
  if (negative) v = -v;
  auto split = [](GiNaC::numeric n, GiNaC::numeric& outside) {
    outside = 1;
    if (n > GiNaC::numeric(1000000000)) return n;  // too large to factor by trial division here
    for (GiNaC::numeric k = 2; k * k <= n; k = k + 1)
      while (GiNaC::irem(n, k * k).is_zero()) {
        n = n / (k * k);
        outside = outside * k;
      }
    return n;
  };
  GiNaC::numeric out_num, out_den;
  GiNaC::numeric in_num = split(v.numer(), out_num), in_den = split(v.denom(), out_den);
  // sqrt(p/q) = sqrt(p*q)/q keeps the root in the numerator.
  GiNaC::ex root = GiNaC::ex(out_num) / (out_den * in_den) * GiNaC::sqrt(GiNaC::ex(in_num * in_den));
  return negative ? root * GiNaC::I : root;
}

std::string numeric_text(std::complex<double> z) {
  auto fmt = [](double d) {
    std::ostringstream os;
    os.precision(10);
    os << (std::fabs(d) < 1e-12 ? 0.0 : d);
    return os.str();
  };
  if (std::fabs(z.imag()) < 1e-9) return fmt(z.real());
  return fmt(z.real()) + (z.imag() < 0 ? " - " : " + ") + fmt(std::fabs(z.imag())) + "*I";
}

// "x = 1/2 (~ 0.5)" style: the exact value, plus a decimal when the exact form is not one.
std::string show_value(const GiNaC::ex& v) {
  std::string exact = show(v);
  GiNaC::ex approx = GiNaC::evalf(v);
  if (!GiNaC::is_a<GiNaC::numeric>(approx)) return exact;
  const GiNaC::numeric& a = GiNaC::ex_to<GiNaC::numeric>(approx);
  bool plain_number = GiNaC::is_a<GiNaC::numeric>(v) && GiNaC::ex_to<GiNaC::numeric>(v).is_integer();
  bool complex_exact = GiNaC::is_a<GiNaC::numeric>(v) && !GiNaC::ex_to<GiNaC::numeric>(v).is_real();
  if (plain_number || complex_exact) return exact;
  return exact + " (~ " + numeric_text({GiNaC::real(a).to_double(), GiNaC::imag(a).to_double()}) + ")";
}

// All roots of a polynomial with numeric coefficients (highest degree first), Durand-Kerner.
std::vector<std::complex<double>> numeric_roots(std::vector<std::complex<double>> c) {
  const size_t n = c.size() - 1;
  for (auto& k : c) k /= c[0];
  std::vector<std::complex<double>> z(n);
  for (size_t i = 0; i < n; ++i) z[i] = std::pow(std::complex<double>(0.4, 0.9), static_cast<double>(i));
  for (int iter = 0; iter < 500; ++iter) {
    double change = 0;
    for (size_t i = 0; i < n; ++i) {
      std::complex<double> num = 1, den = 1;
      num = c[0];
      for (size_t k = 1; k <= n; ++k) num = num * z[i] + c[k];
      for (size_t j = 0; j < n; ++j)
        if (j != i) den *= z[i] - z[j];
      std::complex<double> step = num / den;
      z[i] -= step;
      change = std::max(change, std::abs(step));
    }
    if (change < 1e-14) break;
  }
  std::sort(z.begin(), z.end(), [](auto a, auto b) { return a.real() < b.real() || (a.real() == b.real() && a.imag() < b.imag()); });
  return z;
}

std::vector<std::string> solve_univariate(const GiNaC::ex& equation_zero, const GiNaC::symbol& x) {
  GiNaC::ex rational = GiNaC::normal(equation_zero);
  GiNaC::ex p = GiNaC::expand(GiNaC::numer(rational));
  GiNaC::ex den = GiNaC::denom(rational);
  if (!p.is_polynomial(x))
    cannot("cannot solve " + show(equation_zero) + " = 0 for " + show(x) +
           ": only polynomial (and rational) equations in one variable and linear systems are supported");
  if (p.degree(x) < 1) {
    if (p.is_zero()) return {"every " + show(x) + " is a solution"};
    return {"no solution"};
  }
  std::vector<std::pair<double, std::string>> roots;  // sorted by value where the value is real
  auto order = [](const GiNaC::ex& r) {
    GiNaC::ex v = GiNaC::evalf(r);
    if (!GiNaC::is_a<GiNaC::numeric>(v) || !GiNaC::ex_to<GiNaC::numeric>(v).is_real()) return 1e300;
    return GiNaC::ex_to<GiNaC::numeric>(v).to_double();
  };
  auto accept = [&](const GiNaC::ex& r) {
    GiNaC::ex d = GiNaC::normal(den.subs(x == r));
    if (d.is_zero()) return;  // a root of the denominator is not a solution
    GiNaC::ex value = GiNaC::normal(r);
    roots.emplace_back(order(value), show(x) + " = " + show_value(value));
  };
  GiNaC::ex factored = factor_over_rationals(p);
  GiNaC::exvector factors;
  if (GiNaC::is_a<GiNaC::mul>(factored)) {
    for (size_t i = 0; i < factored.nops(); ++i) factors.push_back(factored.op(i));
  } else {
    factors.push_back(factored);
  }
  std::set<std::string> seen;
  for (GiNaC::ex f : factors) {
    if (GiNaC::is_a<GiNaC::power>(f)) f = f.op(0);  // (x+1)^2 has the root of x+1
    f = GiNaC::expand(f);
    if (!f.has(x)) continue;
    int deg = f.degree(x);
    if (deg == 1) {
      accept(-f.coeff(x, 0) / f.coeff(x, 1));
    } else if (deg == 2) {
      GiNaC::ex a = f.coeff(x, 2), b = f.coeff(x, 1), c = f.coeff(x, 0);
      GiNaC::ex disc = GiNaC::expand(b * b - 4 * a * c);
      accept((-b + exact_sqrt(disc)) / (2 * a));
      accept((-b - exact_sqrt(disc)) / (2 * a));
    } else {
      std::vector<std::complex<double>> coeffs;
      for (int k = deg; k >= 0; --k) {
        GiNaC::ex ck = GiNaC::evalf(f.coeff(x, k));
        if (!GiNaC::is_a<GiNaC::numeric>(ck))
          cannot("cannot solve a degree-" + std::to_string(deg) + " equation with symbolic coefficients");
        const GiNaC::numeric& n = GiNaC::ex_to<GiNaC::numeric>(ck);
        coeffs.emplace_back(GiNaC::real(n).to_double(), GiNaC::imag(n).to_double());
      }
      for (auto z : numeric_roots(coeffs))
        roots.emplace_back(std::fabs(z.imag()) < 1e-9 ? z.real() : 1e300, show(x) + " ~ " + numeric_text(z));
    }
  }
  std::stable_sort(roots.begin(), roots.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> unique;
  for (auto& [value, text] : roots)
    if (seen.insert(text).second) unique.push_back(text);
  if (unique.empty()) return {"no solution"};
  return unique;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

}  // namespace

std::string solve_math_query(const std::string& raw_query) {
  check_size(raw_query);
  std::string q = raw_query;
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\xc3\x97", "*"}, {"\xc3\xb7", "/"}, {"\xe2\x88\x92", "-"}, {"\xc2\xb2", "^2"}, {"\xc2\xb3", "^3"},
           {"**", "^"}, {"==", "="}, {"\xe2\x80\x93", "-"}})
    q = replace_all(q, from, to);

  // Which variables the question asks for: "what is x", "solve for x and y", "find y".
  std::vector<std::string> targets;
  static const std::regex ask(R"((?:what is|what's|what are|find|solve for|for|value of)\s+([A-Za-z](?:\s*(?:,|and)\s*[A-Za-z])*)\b)",
                              std::regex::icase);
  std::smatch m;
  if (std::regex_search(q, m, ask)) {
    std::istringstream names(std::regex_replace(m[1].str(), std::regex("[^A-Za-z]+"), " "));
    for (std::string name; names >> name;)
      if (name.size() == 1) targets.push_back(name);
    q = m.prefix().str() + " , " + m.suffix().str();
  }

  std::vector<std::string> equations, expressions;
  std::string clause;
  std::istringstream in(replace_all(replace_all(q, ";", ","), "\n", ","));
  while (std::getline(in, clause, ',')) {
    std::string math = strip_words(clause);
    if (math.empty()) continue;
    size_t eq = math.find('=');
    if (eq != std::string::npos && trim(math.substr(eq + 1)).empty()) math = math.substr(0, eq);  // "2 + 2 = ?"
    (math.find('=') != std::string::npos ? equations : expressions).push_back(insert_multiplication(math));
  }
  if (equations.empty() && expressions.empty()) cannot("no equation or expression found in the query");

  GiNaC::symtab table;
  for (const auto& t : targets) table[t] = GiNaC::symbol(t);
  GiNaC::parser reader(table);
  auto parse = [&](const std::string& text) {
    try {
      return reader(exact_decimals(text));
    } catch (const std::exception& e) {
      cannot("cannot read '" + text + "' as mathematics");
    }
  };

  if (equations.empty()) {
    GiNaC::ex e = parse(expressions.front());
    GiNaC::ex v = GiNaC::evalf(e);
    if (GiNaC::is_a<GiNaC::numeric>(GiNaC::normal(e)) || GiNaC::is_a<GiNaC::numeric>(v)) {
      GiNaC::ex exact = GiNaC::normal(e);
      return show_value(exact);
    }
    GiNaC::ex simplified = factor_over_rationals(GiNaC::normal(e));
    return expressions.front() + " = " + show(simplified);
  }

  GiNaC::lst eqs;
  std::set<std::string> names;
  for (const auto& text : equations) {
    size_t at = text.find('=');
    if (text.find('=', at + 1) != std::string::npos) cannot("'" + text + "' has more than one '='");
    GiNaC::ex lhs = parse(text.substr(0, at)), rhs = parse(text.substr(at + 1));
    eqs.append(lhs == rhs);
  }
  for (const auto& [name, sym] : reader.get_syms())
    if (GiNaC::is_a<GiNaC::symbol>(sym) && name != "Pi" && name != "I") {
      bool used = false;
      for (const auto& e : eqs) used = used || e.has(sym);
      if (used) names.insert(name);
    }
  std::vector<std::string> unknowns = targets.empty() ? std::vector<std::string>(names.begin(), names.end()) : targets;
  if (unknowns.empty()) {
    // No unknowns: check the equation instead.
    GiNaC::ex diff = GiNaC::normal(eqs.op(0).lhs() - eqs.op(0).rhs());
    return diff.is_zero() ? "True" : "False";
  }
  GiNaC::symtab syms = reader.get_syms();
  if (eqs.nops() == 1 && unknowns.size() == 1) {
    const GiNaC::ex& e = eqs.op(0);
    return join(solve_univariate(e.lhs() - e.rhs(), GiNaC::ex_to<GiNaC::symbol>(syms[unknowns[0]])), ", ");
  }
  GiNaC::lst vars;
  for (const auto& u : unknowns) vars.append(syms[u]);
  GiNaC::ex solution;
  try {
    solution = GiNaC::lsolve(eqs, vars);
  } catch (const std::exception& e) {
    cannot(std::string("cannot solve this system: ") + e.what() + " (only linear systems are supported)");
  }
  if (solution.nops() == 0) return "no solution";
  std::vector<std::string> parts;
  for (const auto& s : solution) parts.push_back(show(s.lhs()) + " = " + show_value(s.rhs()));
  return join(parts, ", ");
}

namespace {

class SolveTool : public Tool {
 public:
  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "SolveMathEquation",
        "Solves a math problem: an equation or a system of linear equations, or evaluates or simplifies an expression.",
        {{"query", ArgType::kString, "the problem, e.g. an equation and the variable to find."}},
        {{"result", "the solution."}},
        {Json{{"name", "SolveMathEquation"}, {"arguments", {{"query", "2x + 3 = 11, what is x?"}}}},
         Json{{"name", "SolveMathEquation"}, {"arguments", {{"query", "x + y = 10, x - y = 2"}}}}}};
    return s;
  }
  std::string backend() const override { return "ginac"; }
  Json call(const Json& args, ToolContext&) const override {
    try {
      return Json{{"result", solve_math_query(args.at("query").get<std::string>())}};
    } catch (const ToolError&) {
      throw;
    } catch (const std::exception& e) {  // GiNaC's own refusals (division by zero, ...)
      cannot(std::string("cannot solve this: ") + e.what());
    }
  }
};

}  // namespace

std::unique_ptr<Tool> make_solve_tool() { return std::make_unique<SolveTool>(); }

namespace {

const ToolRegistration kSolve({"SolveMathEquation", 16, false, true, false, [](const ToolMaking&) { return make_solve_tool(); }});

}  // namespace

}  // namespace taco
