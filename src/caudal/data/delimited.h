// Records of delimited text files (CSV with RFC 4180 quoting, TSV, "::"),
// read through a LineReader so that gzip input works the same.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caudal/core/line_reader.h"

namespace caudal {

// Reads one CSV record into `fields`: comma-separated, a field in double
// quotes may hold commas, doubled quotes and line breaks (RFC 4180), so a
// record can span lines. Returns false at the end of the file; `first_line`
// is the line the record starts on (for messages). An unterminated quote is
// an error naming that line. Written by hand: Debian's CSV library (libcsv)
// reports no line numbers, and messages must name the line.
bool read_csv_record(LineReader& in, std::vector<std::string>& fields, int64_t& first_line);

// Splits a line at every occurrence of `separator` (no quoting): "a::b" with
// "::" gives {"a", "b"}; a trailing separator gives a last empty field.
std::vector<std::string> split_fields(const std::string& line, const std::string& separator);

// Parses a whole field as a finite decimal number (no locale, no NaN or
// infinity); false when it is not one.
bool parse_finite_number(const std::string& text, double& value);
// The same for timestamps, in long double so that 64-bit integer times
// (nanoseconds since 1970 are 19 digits) keep their order exactly.
bool parse_finite_number(const std::string& text, long double& value);

}  // namespace caudal
