// Python literals as JSON. Amazon's 2014 metadata dumps (meta_*.json) hold
// one Python dict per line, written with repr() rather than as JSON (single
// quotes, True/False/None, tuples): the dataset's own instructions say to
// read them with eval(). No C++ library reads Python literals, so this small
// parser does, turning each into the JSON value it denotes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace caudal {

// Parses one literal: dict, list, tuple (as a list), str (single, double or
// triple quotes; u/b prefixes; the escapes of repr()), int, float, True,
// False, None. Throws caudal::Error saying what was expected at which
// character. "\xhh" escapes are bytes, as Python 2's repr() wrote UTF-8 text;
// a string whose bytes are not UTF-8 is read as Latin-1 (Python 3's repr()).
nlohmann::json parse_python_literal(const std::string& text);

// The deepest nesting of brackets and braces outside strings (JSON or Python).
int nesting_depth(const std::string& text);
constexpr int kMaxNesting = 64;

// One line of a JSON-lines dump as an object: JSON, or a Python dict
// literal (Amazon 2014). Errors name file and line: nesting deeper than
// kMaxNesting (real records are a few levels deep; deeper ones would only
// exhaust the stack of whatever walks them), malformed text, not an object.
nlohmann::json parse_object_line(const std::string& line, const std::string& path, int64_t line_number);

// For messages: at most `limit` bytes of `text`, "..." when cut.
std::string shortened(const std::string& text, size_t limit = 60);

// `text` itself when it is valid UTF-8, else `text` read as Latin-1 (which
// older MovieLens and Amazon files use) and converted to UTF-8.
std::string as_utf8(const std::string& text);

}  // namespace caudal
