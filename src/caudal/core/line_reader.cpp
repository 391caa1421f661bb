#include "caudal/core/line_reader.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "caudal/core/error.h"

namespace caudal {

// zlib reads a file that is not gzip data as it is, so one reader serves both.
LineReader::LineReader(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")), buffer_(1 << 17, '\0') {
  if (!file_) throw Error("cannot open " + path + ": " + std::strerror(errno));
}

LineReader::~LineReader() { gzclose(static_cast<gzFile>(file_)); }

// Buffered by hand rather than with gzgets, which cannot report a NUL byte
// inside a line: such a line is then read whole and rejected by its parser.
bool LineReader::next(std::string& line) {
  auto* file = static_cast<gzFile>(file_);
  line.clear();
  bool any = false;
  while (true) {
    if (position_ < end_) {
      any = true;
      const char* start = buffer_.data() + position_;
      const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - position_));
      if (newline) {
        line.append(start, newline);
        position_ += static_cast<size_t>(newline - start) + 1;
        break;
      }
      line.append(start, end_ - position_);
      position_ = end_;
      if (line.size() > kMaxLineBytes)
        throw input_error(path_, line_number_ + 1, "line longer than 64 MiB: not a text file of records?");
    }
    const int got = gzread(file, buffer_.data(), static_cast<unsigned>(buffer_.size()));
    int code = Z_OK;
    const char* message = gzerror(file, &code);
    if (got < 0 || (code != Z_OK && code != Z_STREAM_END))
      throw input_error(path_, line_number_ + 1,
                        std::string("cannot read (damaged or truncated?): ") + (code == Z_ERRNO ? std::strerror(errno) : message));
    if (got == 0) break;
    position_ = 0;
    end_ = static_cast<size_t>(got);
  }
  if (!any) return false;
  ++line_number_;
  if (line_number_ == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

}  // namespace caudal
