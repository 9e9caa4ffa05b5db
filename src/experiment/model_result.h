#pragma once
// Everything one model's run produces, as written to experiment_results_<model>_<time>.json and read
// back when a finished model is reused: provenance (model, weights, tokenizer, data, software,
// run), the summaries and every item's values.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiment/measures.h"
#include "experiment/model_summary.h"

namespace entroscope::experiment {

inline constexpr const char* kResultsFormat = "entroscope-experiment-results";
inline constexpr int kResultsFormatVersion = 1;

struct FileDigest {
  std::string file;  // name inside the model directory (or the path, for the data file)
  std::uint64_t bytes = 0;
  std::string sha256;
};

struct ModelProvenance {
  std::string name;    // label used in file names and tables
  std::string spec;    // as written in the experiment file
  std::string family;  // series in the scaling plot
  std::string source;  // "directory" | "demo" | "hf-cache"
  std::string path;    // absolute model directory
  std::string repo_id, revision, commit;  // Hub provenance when from the cache
  std::string arch;    // "gpt2" | "gpt_neox"
  long long parameters = 0;
  long long non_embedding_parameters = 0;
  int context = 0;
  int vocab_size = 0;
  std::string storage_dtype;  // config.json torch_dtype
  nlohmann::json config;      // config.json as read
  FileDigest config_file;
  std::vector<FileDigest> weight_files;
  std::vector<FileDigest> tokenizer_files;
  std::map<std::string, std::int32_t> special_tokens;  // special segment -> id, as resolved
};

struct RunInfo {
  std::string entroscope_version;
  std::string git_hash;
  std::string blas;         // the BLAS linked (used only by doctor's float64 path)
  std::string gemm_kernel;  // the fp32 GEMM micro-kernel (avx512/avx2/portable; all give the same bits)
  int threads = 0;
  std::string device = "cpu";  // where the forward ran: cpu or cuda
  std::string device_name;     // cuda: the GPU, runtime and driver
  std::size_t batch_tokens = 0;
  std::string started_utc;
  std::string finished_utc;
  double wall_seconds = 0;
};

struct WindowInfo {
  std::size_t length = 0;            // tokens per window used for this model
  std::size_t stride_setting = 0;    // as configured (0: half the room after the window prefix)
  std::map<std::string, std::size_t> stride_by_condition;  // the stride each condition used
  std::size_t sequences_windowed = 0;  // item x condition sequences longer than one window
  std::size_t max_windows = 1;
};

struct ModelResult {
  std::string resume_key;
  std::string experiment_name;
  std::string experiment_file;
  nlohmann::json spec;  // ExperimentSpec::canonical()
  FileDigest data;
  std::size_t n_items = 0;
  ModelProvenance model;
  RunInfo run;
  WindowInfo window;
  std::string per_token_file;  // file name in the output folder; empty when not requested
  ModelSummary summary;
  std::vector<ItemScores> items;
};

// The "run" block of results and work-unit files (`seed`: the spec's, in results files). The reader
// throws nlohmann's exceptions; callers name the file.
nlohmann::ordered_json run_info_json(const RunInfo& run, const nlohmann::json* seed = nullptr);
RunInfo run_info_from(const nlohmann::json& run);

nlohmann::ordered_json result_to_json(const ModelResult& result);
// Throws Error("<label>: ...") when the document is not a results file this version can read.
ModelResult result_from_json(const nlohmann::json& doc, const std::string& label);

}  // namespace entroscope::experiment
