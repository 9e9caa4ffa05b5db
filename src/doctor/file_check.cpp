#include "doctor/file_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/error.h"
#include "common/json_file.h"
#include "io/safetensors.h"

namespace entroscope::doctor {

namespace fs = std::filesystem;

namespace {

void check_one_file(const fs::path& path, Report& report, nlohmann::ordered_json& files_json, int& misaligned_total,
                    int& tensors_total) {
  nlohmann::ordered_json fj;
  fj["file"] = path.filename().string();
  std::unique_ptr<io::SafetensorsFile> file;
  try {
    file = std::make_unique<io::SafetensorsFile>(path);
  } catch (const Error& e) {
    fj["error"] = e.what();
    files_json.push_back(fj);
    report.add(Severity::kProblem, "files", e.what());
    return;
  }
  const auto& h = file->header();
  fj["size_bytes"] = file->file_size();
  fj["header_bytes"] = h.header_length;
  fj["data_section_offset"] = h.data_section_offset;
  fj["data_section_offset_mod"] = {{"4", h.data_section_offset % 4}, {"16", h.data_section_offset % 16},
                                   {"64", h.data_section_offset % 64}};
  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  int misaligned = 0;
  std::uint64_t expected_next = 0, gap_bytes = 0;
  int gaps = 0;
  for (const auto& t : h.tensors) {  // sorted by data offset
    bool aligned = t.file_offset % io::dtype_size(t.dtype) == 0;
    if (!aligned) ++misaligned;
    if (t.data_begin > expected_next) {
      ++gaps;
      gap_bytes += t.data_begin - expected_next;
    }
    expected_next = std::max(expected_next, t.data_end);
    tensors.push_back({{"name", t.name},
                       {"dtype", std::string(io::dtype_name(t.dtype))},
                       {"shape", t.shape},
                       {"bytes", t.num_bytes()},
                       {"file_offset", t.file_offset},
                       {"offset_mod_4", t.file_offset % 4},
                       {"offset_mod_16", t.file_offset % 16},
                       {"offset_mod_64", t.file_offset % 64},
                       {"aligned_for_dtype", aligned}});
  }
  std::uint64_t trailing = h.data_section_size - expected_next;
  fj["tensors"] = std::move(tensors);
  fj["misaligned_for_dtype"] = misaligned;
  fj["gaps"] = gaps;
  fj["gap_bytes"] = gap_bytes;
  fj["trailing_bytes"] = trailing;
  files_json.push_back(std::move(fj));
  misaligned_total += misaligned;
  tensors_total += static_cast<int>(h.tensors.size());

  const std::string name = path.filename().string();
  if (misaligned > 0) {
    report.add(Severity::kWarning, "files",
               fmt::format("{}: {} of {} tensors sit at file offsets not aligned for their dtype (data section at offset "
                           "{}, mod 4 = {}). A zero-copy loader hands misaligned fp32 to BLAS: this is a known cause of "
                           "NaN/garbage on some CPUs; entroscope copies these tensors and is unaffected",
                           name, misaligned, h.tensors.size(), h.data_section_offset, h.data_section_offset % 4));
  }
  // Gaps between tensors larger than alignment padding (< 64 bytes) mean unaccounted bytes.
  if (gap_bytes >= 64 || trailing > 0)
    report.add(Severity::kWarning, "files",
               fmt::format("{}: {} bytes between tensors and {} bytes after the last one are not part of any tensor",
                           name, gap_bytes, trailing));
}

}  // namespace

void check_files(const fs::path& dir, Report& report) {
  nlohmann::ordered_json files_json = nlohmann::ordered_json::array();
  int misaligned = 0, tensors = 0;
  fs::path single = dir / "model.safetensors";
  fs::path index = dir / "model.safetensors.index.json";
  std::vector<fs::path> paths;
  if (fs::exists(single)) {
    paths.push_back(single);
  } else if (fs::exists(index)) {
    try {
      auto doc = read_json_file(index);
      std::set<std::string> shards;
      if (doc.contains("weight_map") && doc["weight_map"].is_object())
        for (const auto& v : doc["weight_map"])
          if (v.is_string()) shards.insert(v.get<std::string>());
      if (shards.empty()) report.add(Severity::kProblem, "files", fmt::format("{}: no weight_map entries", index.string()));
      for (const auto& s : shards) {
        if (fs::exists(dir / s))
          paths.push_back(dir / s);
        else
          report.add(Severity::kProblem, "files",
                     fmt::format("{}: shard '{}' is listed in the index but the file is missing", index.string(), s));
      }
    } catch (const Error& e) {
      report.add(Severity::kProblem, "files", e.what());
    }
  } else {
    report.add(Severity::kProblem, "files",
               fmt::format("{}: no model.safetensors or model.safetensors.index.json{}", dir.string(),
                           fs::exists(dir / "pytorch_model.bin") ? " (only pytorch_model.bin: not read)" : ""));
  }
  for (const auto& p : paths) check_one_file(p, report, files_json, misaligned, tensors);
  if (misaligned == 0 && !paths.empty())
    report.add(Severity::kOk, "files",
               fmt::format("{} tensors in {} file(s): every tensor is aligned for its dtype", tensors, paths.size()));
  report.sections["files"] = std::move(files_json);
}

}  // namespace entroscope::doctor
