// Atomic file output: the content goes to a temporary file in the same
// directory, is flushed to disk, then renamed over the destination. A reader
// (or a crash) sees either the old file or the whole new one, never a part.
#pragma once

#include <functional>
#include <string>

namespace caudal {

// Calls write(tmp_path), which must create tmp_path, then renames it to path.
// On any failure the temporary file is removed and the destination untouched.
void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write);

// Convenience for text and small binary content.
void write_file_atomically(const std::string& path, const std::string& content);

// Whole-file read with an error that names the file.
std::string read_file(const std::string& path);

}  // namespace caudal
