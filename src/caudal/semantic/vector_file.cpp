// The .npy reader and writer are written here: Debian has no C++ library for
// the format (cnpy is not packaged), and it is a small header plus raw data.
#include "caudal/semantic/vector_file.h"

#include <ATen/ATen.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"

namespace caudal {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Row 0 zero, rows 1..N the items; validated.
at::Tensor as_item_table(const at::Tensor& rows, const std::string& path, int64_t expected_items, bool has_padding_row) {
  auto matrix = rows.to(at::kFloat).contiguous();
  if (has_padding_row) {
    if (matrix[0].abs().sum().item<double>() != 0.0)
      throw Error(path + ": has " + std::to_string(matrix.size(0)) + " rows for " + std::to_string(expected_items) +
                  " items, but row 0 (the padding row) is not zero");
    matrix = matrix.narrow(0, 1, matrix.size(0) - 1);
  }
  const int64_t n = matrix.size(0), d = matrix.size(1);
  if (d == 0) throw Error(path + ": vectors have no dimensions");
  const float* data = matrix.data_ptr<float>();
  for (int64_t r = 0; r < n; ++r) {
    const float* row = data + r * d;
    bool constant = true;
    for (int64_t c = 0; c < d; ++c) {
      if (!std::isfinite(row[c]))
        throw Error(path + ": item " + std::to_string(r + 1) + " (row " + std::to_string(r + (has_padding_row ? 1 : 0)) +
                    ") has a non-finite value (" + std::to_string(row[c]) + ") in dimension " + std::to_string(c));
      constant = constant && row[c] == row[0];
    }
    if (constant && d > 1)
      throw Error(path + ": item " + std::to_string(r + 1) + " has a constant vector (all " + std::to_string(row[0]) +
                  "): no information, often an item without text");
  }
  auto table = at::zeros({n + 1, d}, at::kFloat);
  table.narrow(0, 1, n).copy_(matrix);
  return table;
}

at::Tensor load_text_vectors(const std::string& path, int64_t expected_items) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open vector file " + path);
  std::vector<std::pair<int64_t, std::vector<float>>> rows;
  std::string line;
  int64_t line_no = 0;
  int64_t dim = -1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream fields(line);
    std::string token;
    fields >> token;
    char* end = nullptr;
    const long long id = std::strtoll(token.c_str(), &end, 10);
    if (*end != '\0' || id <= 0) throw input_error(path, line_no, "item id must be a positive integer, got '" + token + "'");
    std::vector<float> values;
    while (fields >> token) {
      const float v = std::strtof(token.c_str(), &end);
      if (*end != '\0') throw input_error(path, line_no, "not a number: '" + token + "'");
      values.push_back(v);
    }
    if (dim < 0) dim = static_cast<int64_t>(values.size());
    if (static_cast<int64_t>(values.size()) != dim || dim == 0)
      throw input_error(path, line_no, "expected " + std::to_string(dim) + " values, found " + std::to_string(values.size()));
    rows.emplace_back(id, std::move(values));
  }
  if (rows.empty()) throw Error(path + ": no vectors");
  int64_t n = expected_items;
  if (n == 0) {
    for (auto& r : rows) n = std::max<int64_t>(n, r.first);
    // Each id of 1..n needs a line of its own: an id beyond the number of
    // lines leaves one without, found here before n rows are allocated.
    if (n > static_cast<int64_t>(rows.size()))
      throw Error(path + ": item " + std::to_string(n) + " but only " + std::to_string(rows.size()) +
                  " vectors: ids must run from 1 to the number of items");
  }
  auto matrix = at::zeros({n, dim}, at::kFloat);
  std::vector<char> seen(n + 1, 0);
  for (auto& [id, values] : rows) {
    if (id > n) throw Error(path + ": item " + std::to_string(id) + " is outside the catalogue 1.." + std::to_string(n));
    if (seen[id]) throw Error(path + ": item " + std::to_string(id) + " appears twice");
    seen[id] = 1;
    std::memcpy(matrix[id - 1].data_ptr<float>(), values.data(), sizeof(float) * dim);
  }
  for (int64_t id = 1; id <= n; ++id)
    if (!seen[id]) throw Error(path + ": no vector for item " + std::to_string(id));
  return as_item_table(matrix, path, n, false);
}

}  // namespace

at::Tensor read_npy(const std::string& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw Error(path + ": not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw Error(path + ": truncated .npy header");
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    throw Error(path + ": unsupported .npy version " + std::to_string(major));
  }
  if (bytes.size() < offset + header_len) throw Error(path + ": truncated .npy header");
  const std::string header = bytes.substr(offset, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']*)'"))) throw Error(path + ": .npy header has no descr");
  const std::string descr = m[1];
  if (!std::regex_search(header, m, std::regex("'fortran_order':\\s*(True|False)")))
    throw Error(path + ": .npy header has no fortran_order");
  if (m[1] == "True") throw Error(path + ": Fortran-order arrays are not supported; save with numpy.ascontiguousarray");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(\\s*(\\d+)\\s*,\\s*(\\d+)\\s*,?\\s*\\)")))
    throw Error(path + ": expected a 2-D array (shape (items, dims)) in the .npy header: " + header);
  int64_t rows = 0, cols = 0;
  for (auto [group, value] : {std::pair<int, int64_t*>{1, &rows}, {2, &cols}}) {
    const std::string digits = m[group];
    if (std::from_chars(digits.data(), digits.data() + digits.size(), *value).ec != std::errc())
      throw Error(path + ": .npy shape (" + std::string(m[1]) + ", " + std::string(m[2]) + ") is out of range");
  }
  at::ScalarType type;
  size_t width;
  if (descr == "<f4" || descr == "=f4") {
    type = at::kFloat, width = 4;
  } else if (descr == "<f8" || descr == "=f8") {
    type = at::kDouble, width = 8;
  } else if (descr == "<f2" || descr == "=f2") {
    type = at::kHalf, width = 2;
  } else {
    throw Error(path + ": unsupported dtype '" + descr + "' (float16, float32 or float64, little-endian)");
  }
  const size_t data_offset = offset + header_len;
  const size_t found = bytes.size() - data_offset;
  // Compared by division first: rows * cols * width of a forged header can overflow.
  const bool fits = rows == 0 || cols == 0 || static_cast<size_t>(cols) <= found / width / static_cast<size_t>(rows);
  const size_t expected = fits ? static_cast<size_t>(rows) * static_cast<size_t>(cols) * width : SIZE_MAX;
  if (found != expected)
    throw Error(path + ": expected " + std::to_string(expected) + " bytes of data for shape (" + std::to_string(rows) + ", " +
                std::to_string(cols) + "), found " + std::to_string(found) + " (truncated?)");
  auto out = at::empty({rows, cols}, type);
  if (found > 0) std::memcpy(out.data_ptr(), bytes.data() + data_offset, found);  // an empty tensor's data is null
  return out;
}

void write_npy(const std::string& path, const at::Tensor& matrix_in) {
  auto matrix = matrix_in.to(at::kFloat).contiguous().cpu();
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(matrix.size(0)) + ", " +
                       std::to_string(matrix.size(1)) + "), }";
  // Pad so that the data starts on a 64-byte boundary, newline-terminated.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>((header.size() >> 8) & 0xff);
  bytes += header;
  bytes.append(static_cast<const char*>(matrix.data_ptr()), matrix.numel() * sizeof(float));
  write_file_atomically(path, bytes);
}

at::Tensor load_item_vectors(const std::string& path, int64_t expected_items) {
  if (!ends_with(path, ".npy")) return load_text_vectors(path, expected_items);
  auto matrix = read_npy(path);
  const int64_t rows = matrix.size(0);
  if (rows == 0) throw Error(path + ": no vectors");
  if (expected_items > 0 && rows != expected_items && rows != expected_items + 1)
    throw Error(path + ": has " + std::to_string(rows) + " rows but the data has " + std::to_string(expected_items) +
                " items (expected " + std::to_string(expected_items) + " rows, or " + std::to_string(expected_items + 1) +
                " with a zero padding row first)");
  return as_item_table(matrix, path, expected_items, expected_items > 0 && rows == expected_items + 1);
}

void save_item_vectors(const std::string& path, const at::Tensor& table) {
  auto items = table.narrow(0, 1, table.size(0) - 1).to(at::kFloat).contiguous().cpu();
  // A table that a later load would refuse is not written.
  const auto finite_rows = at::isfinite(items).all(1);
  if (!finite_rows.all().item<bool>())
    throw Error("cannot write " + path + ": item " + std::to_string(at::argmin(finite_rows.to(at::kInt)).item<int64_t>() + 1) +
                " has non-finite values (NaN or beyond the float range)");
  if (ends_with(path, ".npy")) return write_npy(path, items);
  std::ostringstream out;
  out.precision(9);
  const float* data = items.data_ptr<float>();
  for (int64_t r = 0; r < items.size(0); ++r) {
    out << r + 1;
    for (int64_t c = 0; c < items.size(1); ++c) out << ' ' << data[r * items.size(1) + c];
    out << '\n';
  }
  write_file_atomically(path, out.str());
}

}  // namespace caudal
