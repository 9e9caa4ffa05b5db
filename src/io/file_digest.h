#pragma once
// sha256 of a local file for provenance and resume keys, remembered between runs: hashing a 14 GB
// checkpoint takes half a minute, and `run` needs the digest of every weight file every time.
// Entries are keyed by the file's canonical path and its stat identity (device, inode, size,
// modification and status-change times in nanoseconds); any write, copy over, rename onto or
// chmod changes the status-change time, so a changed file is always hashed again. The cache is
// one JSON file ($ENTROSCOPE_CACHE_DIR, else $XDG_CACHE_HOME/entroscope, else
// ~/.cache/entroscope: file-digests.json), written atomically; when it cannot be read or written
// the digest is simply computed, never wrong.
#include <filesystem>
#include <string>

namespace entroscope::io {

std::string file_sha256(const std::filesystem::path& path);

// Where the cache lives (tests point ENTROSCOPE_CACHE_DIR elsewhere).
std::filesystem::path file_digest_cache_path();

}  // namespace entroscope::io
