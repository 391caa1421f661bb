#include "caudal/data/python_literal.h"

#include <cctype>
#include <algorithm>
#include <cstdlib>

#include "caudal/core/error.h"

namespace caudal {
namespace {

void append_utf8(std::string& out, uint32_t code) {
  if (code >= 0xD800 && code <= 0xDFFF) code = 0xFFFD;  // a lone surrogate is no character
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

bool valid_utf8(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t extra = 0;
    if (c >= 0x80) {
      if ((c >> 5) == 0x6) extra = 1;
      else if ((c >> 4) == 0xE) extra = 2;
      else if ((c >> 3) == 0x1E) extra = 3;
      else return false;
    }
    if (extra > text.size() - i - 1) return false;
    for (size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    i += extra + 1;
  }
  return true;
}

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  nlohmann::json parse() {
    auto value = parse_value();
    skip_space();
    if (at_ != text_.size()) fail("end of the literal");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& expected) const {
    throw Error("not a Python literal: expected " + expected + " at character " + std::to_string(at_ + 1));
  }
  void skip_space() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }
  bool take(char c) {
    skip_space();
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  bool take_word(const char* word) {
    const std::string w(word);
    if (text_.compare(at_, w.size(), w) != 0) return false;
    const size_t end = at_ + w.size();
    if (end < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_')) return false;
    at_ = end;
    return true;
  }

  nlohmann::json parse_value() {
    if (++depth_ > 512) fail("less nesting");
    skip_space();
    if (at_ >= text_.size()) fail("a value");
    nlohmann::json value;
    const char c = text_[at_];
    if (c == '{') {
      value = parse_dict();
    } else if (c == '[' || c == '(') {
      value = parse_list(c == '[' ? ']' : ')');
    } else if (c == '\'' || c == '"' || ((c == 'u' || c == 'b' || c == 'U' || c == 'B') && at_ + 1 < text_.size() &&
                                           (text_[at_ + 1] == '\'' || text_[at_ + 1] == '"'))) {
      value = parse_string();
    } else if (take_word("True")) {
      value = true;
    } else if (take_word("False")) {
      value = false;
    } else if (take_word("None")) {
      value = nullptr;
    } else {
      value = parse_number();
    }
    --depth_;
    return value;
  }

  nlohmann::json parse_dict() {
    ++at_;
    auto dict = nlohmann::json::object();
    if (take('}')) return dict;
    while (true) {
      skip_space();
      auto key = parse_value();
      std::string name = key.is_string() ? key.get<std::string>() : key.dump();
      if (!take(':')) fail("':'");
      dict[name] = parse_value();
      if (take('}')) return dict;
      if (!take(',')) fail("',' or '}'");
      if (take('}')) return dict;  // a trailing comma
    }
  }

  nlohmann::json parse_list(char close) {
    ++at_;
    auto list = nlohmann::json::array();
    if (take(close)) return list;
    while (true) {
      list.push_back(parse_value());
      if (take(close)) return list;
      if (!take(',')) fail(std::string("',' or '") + close + "'");
      if (take(close)) return list;
    }
  }

  unsigned hex_digits(size_t count) {
    if (at_ + count > text_.size()) fail("hex digits");
    unsigned value = 0;
    for (size_t k = 0; k < count; ++k) {
      const char h = text_[at_++];
      if (!std::isxdigit(static_cast<unsigned char>(h))) fail("a hex digit");
      value = value * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : std::tolower(h) - 'a' + 10);
    }
    return value;
  }

  nlohmann::json parse_string() {
    if (text_[at_] != '\'' && text_[at_] != '"') ++at_;  // u or b prefix
    const char quote = text_[at_];
    const bool triple = text_.compare(at_, 3, std::string(3, quote)) == 0;
    at_ += triple ? 3 : 1;
    std::string out;
    while (true) {
      if (at_ >= text_.size()) fail(std::string("the closing ") + quote);
      const char c = text_[at_];
      if (c == quote && (!triple || text_.compare(at_, 3, std::string(3, quote)) == 0)) {
        at_ += triple ? 3 : 1;
        break;
      }
      ++at_;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) fail("an escape");
      const char e = text_[at_++];
      switch (e) {
        case '\\': case '\'': case '"': out += e; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case 'a': out += '\a'; break;
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
          unsigned value = static_cast<unsigned>(e - '0');
          for (int k = 0; k < 2 && at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '7'; ++k)
            value = value * 8 + static_cast<unsigned>(text_[at_++] - '0');
          out += static_cast<char>(value & 0xFF);
          break;
        }
        case 'x': out += static_cast<char>(hex_digits(2)); break;
        case 'u': append_utf8(out, hex_digits(4)); break;
        case 'U': {
          const unsigned code = hex_digits(8);
          if (code > 0x10FFFF) fail("a code point up to U+10FFFF");
          append_utf8(out, code);
          break;
        }
        case '\n': break;  // a continued line
        default: out += '\\'; out += e;  // Python keeps unknown escapes as written
      }
    }
    return as_utf8(out);
  }

  nlohmann::json parse_number() {
    const char* start = text_.c_str() + at_;
    const char* digits_start = start + (*start == '-' || *start == '+');
    // strtod also reads "nan", "inf" and hex floats, which no Python literal is.
    if (!std::isdigit(static_cast<unsigned char>(*digits_start)) && *digits_start != '.')
      fail("a value (dict, list, string, number, True, False or None)");
    if (digits_start[0] == '0' && (digits_start[1] == 'x' || digits_start[1] == 'X')) fail("a decimal number");
    char* end = nullptr;
    const double value = std::strtod(start, &end);
    if (end == start) fail("a value (dict, list, string, number, True, False or None)");
    const std::string digits(start, static_cast<const char*>(end));
    at_ += digits.size();
    if (digits.find_first_of(".eEnN") == std::string::npos) {
      const long long whole = std::strtoll(digits.c_str(), nullptr, 10);
      if (static_cast<double>(whole) == value) return whole;
    }
    return value;
  }

  const std::string& text_;
  size_t at_ = 0;
  int depth_ = 0;
};

}  // namespace

std::string as_utf8(const std::string& text) {
  if (valid_utf8(text)) return text;
  std::string out;
  for (char c : text) append_utf8(out, static_cast<unsigned char>(c));
  return out;
}

nlohmann::json parse_python_literal(const std::string& text) { return Parser(text).parse(); }

int nesting_depth(const std::string& text) {
  int depth = 0, deepest = 0;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{' || c == '(') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}' || c == ')') {
      --depth;
    }
  }
  return deepest;
}

nlohmann::json parse_object_line(const std::string& line, const std::string& path, int64_t line_number) {
  if (nesting_depth(line) > kMaxNesting)
    throw input_error(path, line_number, "nested deeper than " + std::to_string(kMaxNesting) + " levels");
  auto value = nlohmann::json::parse(line, nullptr, false);
  if (value.is_discarded()) {
    try {
      value = parse_python_literal(line);
    } catch (const Error& e) {
      throw input_error(path, line_number, std::string("not a JSON object (nor a Python dict): ") + e.what());
    }
  }
  if (!value.is_object()) throw input_error(path, line_number, "expected one JSON object per line");
  return value;
}

std::string shortened(const std::string& text, size_t limit) {
  return text.size() <= limit ? text : text.substr(0, limit) + "...";
}

}  // namespace caudal
