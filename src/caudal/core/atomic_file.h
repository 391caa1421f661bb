// Atomic file output: the content goes to a temporary file in the same
// directory, is flushed to disk, then renamed over the destination. A reader
// (or a crash) sees either the old file or the whole new one, never a part.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace caudal {

// Calls write(tmp_path), which must create tmp_path, then renames it to path.
// On any failure the temporary file is removed and the destination untouched.
void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write);

// Convenience for text and small binary content.
void write_file_atomically(const std::string& path, const std::string& content);

// Several files that belong together (path, content): every temporary file
// is written and flushed first, and only when all succeeded are they renamed
// into place, so a failure (a full disk) leaves the previous set untouched.
void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& files);

// Whole-file read with an error that names the file.
std::string read_file(const std::string& path);

}  // namespace caudal
