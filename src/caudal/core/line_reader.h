// Line-by-line reading of text files, plain or gzip-compressed (detected from
// the content, not the name), in constant memory: the way every raw log and
// side file enters caudal, so a multi-GB `.json.gz` dump streams like a small
// text file. Lines are returned without their "\n" or "\r\n".
#pragma once

#include <cstdint>
#include <string>

namespace caudal {

class LineReader {
 public:
  // Throws caudal::Error naming the file when it cannot be opened.
  explicit LineReader(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Reads the next line into `line`; false at the end of the file. A UTF-8
  // byte order mark before the first line is dropped. A damaged or truncated
  // gzip stream, or a line longer than kMaxLineBytes (a binary file, or one
  // without line breaks), is an error naming the file and line.
  bool next(std::string& line);

  static constexpr size_t kMaxLineBytes = size_t{64} << 20;

  int64_t line_number() const { return line_number_; }  // of the last line read, from 1
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  void* file_;  // a zlib gzFile, kept opaque so that users need no zlib header
  std::string buffer_;
  size_t position_ = 0, end_ = 0;  // unread part of buffer_
  int64_t line_number_ = 0;
};

}  // namespace caudal
