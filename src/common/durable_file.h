#pragma once
// The one way entroscope writes an output file: the content goes to a temporary file in the same
// folder (<name>.tmp.<pid>), is flushed to disk (fsync), and is renamed over the final name, so a
// reader, a kill or a power cut never leaves a partial file under the final name. A failure (disk
// full, read-only or missing folder) is one Error naming the file and the system's reason; the
// temporary file is removed and nothing else changes.
#include <filesystem>
#include <string>
#include <string_view>

namespace entroscope {

void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// Whether `name` is a temporary file of write_file_atomic ("<name>.tmp.<digits>").
bool is_atomic_write_leftover(const std::string& name);

// Removes the temporary files a killed writer left in `dir` (call it only while no other writer
// uses the folder, e.g. under its DirectoryLock). Returns how many were removed.
std::size_t remove_atomic_write_leftovers(const std::filesystem::path& dir);

}  // namespace entroscope
