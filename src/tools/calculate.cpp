// Calculate: a safe evaluator for the Python arithmetic TACO's models write (TACO itself calls
// eval()). Integers stay integers (7, not 7.0) until an operation makes a float, as in Python.
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <string>
#include <variant>
#include <vector>

#include "tools/builtin.h"
#include "tools/catalog.h"

namespace taco {
namespace {

constexpr size_t kMaxExpressionLength = 10000;
constexpr int kMaxDepth = 200;

using Value = std::variant<int64_t, double>;

bool is_int(const Value& v) { return std::holds_alternative<int64_t>(v); }
double as_double(const Value& v) { return is_int(v) ? static_cast<double>(std::get<int64_t>(v)) : std::get<double>(v); }

[[noreturn]] void fail(ToolFailure kind, const std::string& message) { throw ToolError(kind, message); }

Value checked(double d) {
  if (std::isnan(d)) fail(ToolFailure::kValueError, "math domain error");
  if (std::isinf(d)) fail(ToolFailure::kOverflowError, "numerical result out of range");
  return d;
}

// Floor division and modulo with Python's signs. The one quotient past int64 (the smallest
// int64 over -1, which traps in C++) becomes a float, as other overflows do.
Value floor_div(int64_t a, int64_t b) {
  if (a == std::numeric_limits<int64_t>::min() && b == -1) return -static_cast<double>(a);
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t py_mod(int64_t a, int64_t b) {
  if (b == -1) return 0;  // also where a % b would trap
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
double py_fmod(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

Value power(const Value& base, const Value& exp) {
  if (is_int(base) && is_int(exp) && std::get<int64_t>(exp) >= 0) {
    int64_t b = std::get<int64_t>(base), e = std::get<int64_t>(exp), r = 1;
    bool overflow = false;
    while (e > 0 && !overflow) {
      if (e & 1) overflow = __builtin_mul_overflow(r, b, &r);
      e >>= 1;
      if (e > 0 && !overflow) overflow = __builtin_mul_overflow(b, b, &b);
    }
    if (!overflow) return r;
    // Python would make a big integer; a float is the closest taco keeps.
    return checked(std::pow(as_double(base), as_double(exp)));
  }
  double b = as_double(base), e = as_double(exp);
  if (b == 0 && e < 0) fail(ToolFailure::kZeroDivisionError, "0.0 cannot be raised to a negative power");
  if (b < 0 && std::floor(e) != e) fail(ToolFailure::kValueError, "a negative number to a fractional power is complex");
  return checked(std::pow(b, e));
}

Value add(const Value& a, const Value& b, int sign) {
  if (is_int(a) && is_int(b)) {
    int64_t r;
    bool overflow = sign > 0 ? __builtin_add_overflow(std::get<int64_t>(a), std::get<int64_t>(b), &r)
                             : __builtin_sub_overflow(std::get<int64_t>(a), std::get<int64_t>(b), &r);
    if (!overflow) return r;
  }
  return checked(sign > 0 ? as_double(a) + as_double(b) : as_double(a) - as_double(b));
}

Value multiply(const Value& a, const Value& b) {
  if (is_int(a) && is_int(b)) {
    int64_t r;
    if (!__builtin_mul_overflow(std::get<int64_t>(a), std::get<int64_t>(b), &r)) return r;
  }
  return checked(as_double(a) * as_double(b));
}

// Python's round(): half to even; round(x) is an int, round(x, n) keeps x's type.
Value py_round(const Value& x, const Value* ndigits) {
  if (!ndigits) {
    if (is_int(x)) return x;
    double r = std::nearbyint(std::get<double>(x));  // default rounding mode is half-to-even
    if (std::fabs(r) > 9.2e18) fail(ToolFailure::kOverflowError, "cannot convert float to integer");
    return static_cast<int64_t>(r);
  }
  if (!is_int(*ndigits)) fail(ToolFailure::kTypeError, "round() ndigits must be an integer");
  int64_t n = std::get<int64_t>(*ndigits);
  if (is_int(x)) {
    if (n >= 0) return x;
    // Exactly, half to even, in 128 bits; a result past int64 becomes a float.
    __extension__ using Int128 = __int128;
    const Int128 v = std::get<int64_t>(x);
    if (n < -19) return int64_t{0};  // |x| < 10^19: a tenth of the scale at most
    Int128 scale = 1;
    for (int64_t k = 0; k < -n; ++k) scale *= 10;
    Int128 q = v / scale, r = v % scale;
    if (r < 0) r += scale, --q;  // floor
    if (2 * r > scale || (2 * r == scale && (q & 1) != 0)) ++q;
    const Int128 rounded = q * scale;
    if (rounded > std::numeric_limits<int64_t>::max() || rounded < std::numeric_limits<int64_t>::min())
      return static_cast<double>(rounded);
    return static_cast<int64_t>(rounded);
  }
  double v = std::get<double>(x);
  if (n > 300 || !std::isfinite(v)) return v;
  // Round through the shortest decimal text so 2.675 rounds as Python shows it.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, static_cast<int>(std::max<int64_t>(n, 0)));
  if (n >= 0) {
    double r = 0;
    std::from_chars(buf, res.ptr, r);
    return r;
  }
  double scale = std::pow(10.0, static_cast<double>(-n));
  if (std::isinf(scale)) return std::copysign(0.0, v);  // past any double: Python gives 0.0
  return std::nearbyint(v / scale) * scale;
}

class Evaluator {
 public:
  explicit Evaluator(std::string_view s) : s_(s) {}

  Value run() {
    Value v = expr(0);
    skip();
    if (i_ < s_.size()) syntax("unexpected '" + std::string(1, s_[i_]) + "'");
    return v;
  }

 private:
  [[noreturn]] void syntax(const std::string& what) {
    fail(ToolFailure::kSyntaxError, what + " at position " + std::to_string(i_) + " of the expression");
  }
  void skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(std::string_view tok) {
    skip();
    if (s_.substr(i_, tok.size()) == tok) {
      i_ += tok.size();
      return true;
    }
    return false;
  }
  bool peek(std::string_view tok) {
    skip();
    return s_.substr(i_, tok.size()) == tok;
  }

  Value expr(int depth) {
    Value v = term(depth);
    for (;;) {
      if (eat("+")) v = add(v, term(depth), +1);
      else if (peek("-")) ++i_, v = add(v, term(depth), -1);
      else return v;
    }
  }

  Value term(int depth) {
    Value v = unary(depth);
    for (;;) {
      if (peek("**")) return v;  // handled in power()
      if (eat("*")) {
        v = multiply(v, unary(depth));
      } else if (eat("//")) {
        Value r = unary(depth);
        if (as_double(r) == 0) fail(ToolFailure::kZeroDivisionError, "integer division or modulo by zero");
        if (is_int(v) && is_int(r)) v = floor_div(std::get<int64_t>(v), std::get<int64_t>(r));
        else v = checked(std::floor(as_double(v) / as_double(r)));
      } else if (eat("/")) {
        Value r = unary(depth);
        if (as_double(r) == 0) fail(ToolFailure::kZeroDivisionError, "division by zero");
        v = checked(as_double(v) / as_double(r));
      } else if (eat("%")) {
        Value r = unary(depth);
        if (as_double(r) == 0) fail(ToolFailure::kZeroDivisionError, "integer division or modulo by zero");
        if (is_int(v) && is_int(r)) v = py_mod(std::get<int64_t>(v), std::get<int64_t>(r));
        else v = checked(py_fmod(as_double(v), as_double(r)));
      } else {
        return v;
      }
    }
  }

  Value unary(int depth) {
    if (depth > kMaxDepth) fail(ToolFailure::kRecursionError, "the expression is nested too deeply");
    if (eat("-")) {
      Value v = unary(depth + 1);
      if (is_int(v)) {
        if (std::get<int64_t>(v) == std::numeric_limits<int64_t>::min()) return -as_double(v);
        return -std::get<int64_t>(v);
      }
      return -std::get<double>(v);
    }
    if (eat("+")) return unary(depth + 1);
    return power(depth);
  }

  Value power(int depth) {
    Value base = primary(depth);
    if (eat("**") || eat("^")) return taco::power(base, unary(depth + 1));  // right-associative
    return base;
  }

  Value primary(int depth) {
    skip();
    if (i_ >= s_.size()) syntax("unexpected end");
    char c = s_[i_];
    if (c == '(') {
      ++i_;
      Value v = expr(depth + 1);
      if (!eat(")")) syntax("expected ')'");
      return v;
    }
    if ((c >= '0' && c <= '9') || c == '.') return number();
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return name(depth);
    syntax("unexpected '" + std::string(1, c) + "'");
  }

  Value number() {
    size_t start = i_;
    bool is_float = false;
    auto digits = [&] {
      size_t n = 0;
      while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '_')) ++i_, ++n;
      return n;
    };
    size_t n = digits();
    if (i_ < s_.size() && s_[i_] == '.') {
      is_float = true;
      ++i_;
      n += digits();
    }
    if (n == 0) syntax("invalid number");
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      is_float = true;
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (digits() == 0) syntax("invalid number");
    }
    // "1,000" is a thousands separator, which Python would read as a tuple: refuse it clearly.
    auto digit_at = [&](size_t k) { return k < s_.size() && s_[k] >= '0' && s_[k] <= '9'; };
    if (depth_of_call_ == 0 && i_ < s_.size() && s_[i_] == ',' && digit_at(i_ + 1) && digit_at(i_ + 2) &&
        digit_at(i_ + 3) && !digit_at(i_ + 4))
      fail(ToolFailure::kSyntaxError, "numbers with thousands separators are not supported: write " +
                              std::string(s_.substr(start, i_ - start)) + std::string(s_.substr(i_ + 1, 3)) +
                              " instead of " + std::string(s_.substr(start, i_ + 4 - start)));
    std::string text;
    for (size_t k = start; k < i_; ++k)
      if (s_[k] != '_') text += s_[k];
    if (!is_float) {
      int64_t v;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && p == text.data() + text.size()) return v;
    }
    double d = 0;
    std::from_chars(text.data(), text.data() + text.size(), d);
    return checked(d);
  }

  Value name(int depth) {
    size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '.')) ++i_;
    std::string id(s_.substr(start, i_ - start));
    if (id.rfind("math.", 0) == 0) id = id.substr(5);
    if (!peek("(")) {
      if (id == "pi") return std::numbers::pi;
      if (id == "e") return std::numbers::e;
      if (id == "tau") return 2 * std::numbers::pi;
      fail(ToolFailure::kNameError, "name '" + id + "' is not defined");
    }
    eat("(");
    std::vector<Value> args;
    ++depth_of_call_;
    if (!eat(")")) {
      do {
        args.push_back(expr(depth + 1));
      } while (eat(","));
      if (!eat(")")) syntax("expected ')'");
    }
    --depth_of_call_;
    return call(id, args);
  }

  Value call(const std::string& f, const std::vector<Value>& a) {
    auto arity = [&](size_t lo, size_t hi) {
      if (a.size() < lo || a.size() > hi)
        fail(ToolFailure::kTypeError, f + "() takes " + (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                              " arguments (" + std::to_string(a.size()) + " given)");
    };
    auto unary_math = [&](double (*fn)(double)) {
      arity(1, 1);
      return checked(fn(as_double(a[0])));
    };
    if (f == "sqrt") {
      arity(1, 1);
      if (as_double(a[0]) < 0) fail(ToolFailure::kValueError, "math domain error");
      return checked(std::sqrt(as_double(a[0])));
    }
    if (f == "abs") {
      arity(1, 1);
      if (is_int(a[0]) && std::get<int64_t>(a[0]) != std::numeric_limits<int64_t>::min())
        return std::abs(std::get<int64_t>(a[0]));
      return std::fabs(as_double(a[0]));
    }
    if (f == "round") {
      arity(1, 2);
      return py_round(a[0], a.size() == 2 ? &a[1] : nullptr);
    }
    if (f == "min" || f == "max") {
      if (a.empty()) fail(ToolFailure::kTypeError, f + " expected at least 1 argument, got 0");
      Value best = a[0];
      for (const auto& v : a)
        if (f == "min" ? as_double(v) < as_double(best) : as_double(v) > as_double(best)) best = v;
      return best;
    }
    if (f == "log") {
      arity(1, 2);
      double x = as_double(a[0]);
      if (x <= 0) fail(ToolFailure::kValueError, "math domain error");
      if (a.size() == 1) return checked(std::log(x));
      double base = as_double(a[1]);
      if (base <= 0 || base == 1) fail(ToolFailure::kValueError, "math domain error");
      return checked(std::log(x) / std::log(base));
    }
    if (f == "log10" || f == "log2") {
      arity(1, 1);
      if (as_double(a[0]) <= 0) fail(ToolFailure::kValueError, "math domain error");
      return checked(f == "log10" ? std::log10(as_double(a[0])) : std::log2(as_double(a[0])));
    }
    if (f == "exp") return unary_math(std::exp);
    if (f == "sin") return unary_math(std::sin);
    if (f == "cos") return unary_math(std::cos);
    if (f == "tan") return unary_math(std::tan);
    if (f == "floor" || f == "ceil") {
      arity(1, 1);
      if (is_int(a[0])) return a[0];
      double r = f == "floor" ? std::floor(std::get<double>(a[0])) : std::ceil(std::get<double>(a[0]));
      if (std::fabs(r) > 9.2e18) fail(ToolFailure::kOverflowError, "cannot convert float to integer");
      return static_cast<int64_t>(r);
    }
    if (f == "pow") {
      arity(2, 2);
      return taco::power(a[0], a[1]);
    }
    fail(ToolFailure::kNameError, "name '" + f + "' is not defined");
  }

  std::string_view s_;
  size_t i_ = 0;
  int depth_of_call_ = 0;
};

class CalculateTool : public Tool {
 public:
  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "Calculate",
        "Evaluates an arithmetic expression written in Python syntax (+, -, *, /, //, %, ** and functions such "
        "as sqrt, round, min, max, log) and returns its value.",
        {{"expression", ArgType::kString, "the arithmetic expression to evaluate."}},
        {{"result", "the value of the expression."}},
        {Json{{"name", "Calculate"}, {"arguments", {{"expression", "3 * (12.5 + 4)"}}}},
         Json{{"name", "Calculate"}, {"arguments", {{"expression", "round(100 / 7, 2)"}}}}}};
    return s;
  }
  Json call(const Json& args, ToolContext&) const override {
    return Json{{"result", evaluate_expression(args.at("expression").get<std::string>())}};
  }
};

}  // namespace

Json evaluate_expression(std::string_view expression) {
  if (expression.size() > kMaxExpressionLength)
    throw ToolError(ToolFailure::kValueError, "the expression is longer than " + std::to_string(kMaxExpressionLength) + " characters");
  // Models often end an expression with "=" or wrap it in backticks.
  while (!expression.empty() && (expression.back() == '=' || expression.back() == ' ' || expression.back() == '`'))
    expression.remove_suffix(1);
  while (!expression.empty() && (expression.front() == '`' || expression.front() == ' ')) expression.remove_prefix(1);
  if (expression.empty()) throw ToolError(ToolFailure::kSyntaxError, "the expression is empty");
  Value v = Evaluator(expression).run();
  if (is_int(v)) return std::get<int64_t>(v);
  return std::get<double>(v);
}

std::unique_ptr<Tool> make_calculate_tool() { return std::make_unique<CalculateTool>(); }

namespace {

const ToolRegistration kCalculate({"Calculate", 15, false, true, true, [](const ToolMaking&) { return make_calculate_tool(); }});

}  // namespace

}  // namespace taco
