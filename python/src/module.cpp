// entroscope._entroscope: the C++ library behind `import entroscope` (python/entroscope/). Thin:
// every number comes from the same functions the CLI calls (score's table rows, the forward,
// the experiment runner, doctor); this file converts arguments and results and maps errors.
// The GIL is released during compute; scoring checks for Ctrl-C (and reports progress) between
// texts.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cmath>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cli/model_arg.h"
#include "common/error.h"
#include "doctor/doctor.h"
#include "entroscope_version.h"
#include "experiment/checked_output.h"
#include "experiment/experiment_runner.h"
#include "experiment/report_page.h"
#include "experiment/score_table.h"
#include "experiment/word_units.h"
#include "io/model_locator.h"
#include "kernels/threads.h"
#include "metrics/scorer.h"
#include "model/forward.h"
#include "model/memory_plan.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace py = pybind11;
using namespace entroscope;

namespace {

constexpr std::size_t kBatchTokens = 4096;  // as `entroscope score`

// JSON cell -> Python: null stays None (the DataFrame layer turns it into NaN in numeric columns).
py::object to_python(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
    case nlohmann::json::value_t::string: return py::str(j.get<std::string>());
    default: return py::module_::import("json").attr("loads")(j.dump());
  }
}

nlohmann::json to_json(const py::handle& o) {
  return nlohmann::json::parse(py::module_::import("json").attr("dumps")(o).cast<std::string>());
}

// Raises the package's exception for a C++ failure (entroscope/errors.py defines the classes).
[[noreturn]] void raise_as_python(const char* cls, const std::string& message, const model::NonFiniteLocation* where) {
  py::object type = py::module_::import("entroscope.errors").attr(cls);
  py::object e = type(message);
  if (where) {
    e.attr("model") = where->model;
    e.attr("layer") = where->layer;
    e.attr("step") = where->step;
    e.attr("position") = where->position;
    e.attr("batch_row") = where->batch_row;
    e.attr("channel") = where->channel;
    e.attr("value") = where->value;
  }
  PyErr_SetObject(type.ptr(), e.ptr());
  throw py::error_already_set();
}

// Runs f with the GIL released, translating entroscope's exceptions.
template <typename F>
auto released(F&& f) {
  try {
    py::gil_scoped_release release;
    return f();
  } catch (const model::NonFiniteError& e) {
    raise_as_python("NonFiniteError", e.what(), &e.where());
  } catch (const NumericError& e) {
    raise_as_python("NumericError", e.what(), nullptr);
  } catch (const Error& e) {
    raise_as_python("InputError", e.what(), nullptr);
  }
}

// A model held for scoring: weights mapped, tokenizer loaded, one Scorer (one caller at a time).
class PyModel {
 public:
  PyModel(const std::string& spec, bool offline, const std::string& device) {
    device_ = kernels::parse_device(device, "device=");
    if (device_ == kernels::Device::kCuda) kernels::require_cuda(spec);
    resolved_ = io::resolve_or_fetch_model(spec, offline);
    const model::ModelConfig config = model::load_config(resolved_.dir);
    const model::MemoryPlan plan = model::plan_checkpoint_memory(resolved_.dir, config, spec, kBatchTokens, 0);
    batch_tokens_ = plan.batch_tokens;
    model_ = std::make_unique<model::Model>(model::load_model(resolved_.dir, spec));
    try {
      tok_.emplace(tokenizer::Tokenizer::load(resolved_.dir));
    } catch (const Error&) {
      // A checkpoint without tokenizer files still runs forward(ids); score() says what is missing.
      tokenizer_error_ = std::current_exception();
    }
    spec_ = spec;
  }

  const model::Model& model() const { return *model_; }
  const tokenizer::Tokenizer& tok() const {
    if (!tok_) std::rethrow_exception(tokenizer_error_);
    return *tok_;
  }
  std::string revision() const { return resolved_.pinned_revision(); }
  kernels::Device device() const { return device_; }
  const io::ResolvedModel& resolved() const { return resolved_; }

  // Columns and rows of `entroscope score --format jsonl` for these texts.
  py::dict score(const std::vector<experiment::ScoreInput>& inputs, const std::string& unit_name, const std::string& bos,
                 const py::object& progress) {
    const experiment::ScoreUnit unit = released([&] { return experiment::parse_score_unit(unit_name, "unit="); });
    experiment::ScoreTable table{experiment::score_columns(inputs, unit), {}};
    std::size_t done = 0;
    released([&] {
      std::lock_guard<std::mutex> lock(mutex_);
      const tokenizer::Tokenizer& t = tok();
      metrics::Scorer& scorer = scorer_for(unit);
      const experiment::ScoringModel m{spec_,  revision(), *model_, t, experiment::resolve_bos(bos, *model_, t),
                                       scorer, unit == experiment::ScoreUnit::kWord ? &classes_ : nullptr};
      // Between texts: Ctrl-C and progress, with the GIL.
      experiment::append_score_rows(table, inputs, unit, m, [&](const experiment::ScoreInput&, const experiment::TextScores&) {
        ++done;
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        if (!progress.is_none()) progress(done, inputs.size());
      });
      return 0;
    });
    py::dict out;
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      py::list values(table.rows.size());
      for (std::size_t r = 0; r < table.rows.size(); ++r) values[r] = to_python(table.rows[r][c]);
      out[py::str(table.columns[c])] = values;
    }
    return out;
  }

  // logits [B, T, V] float32 in a buffer the array owns (no copy); hidden states [B, T, width] each.
  py::tuple forward(const py::array& ids_in, bool hidden_states) {
    const char kind = ids_in.dtype().kind();
    if (kind != 'i' && kind != 'u')
      raise_as_python("InputError", "forward: ids must be an integer array (int64 [B, T]), got dtype " +
                                        py::str(ids_in.dtype()).cast<std::string>(), nullptr);
    if (ids_in.ndim() != 2) raise_as_python("InputError", "forward: ids must be 2-D [B, T], got " + std::to_string(ids_in.ndim()) + "-D", nullptr);
    const auto ids64 = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(ids_in);
    const int B = static_cast<int>(ids64.shape(0)), T = static_cast<int>(ids64.shape(1));
    if (B == 0 || T == 0) raise_as_python("InputError", "forward: ids are empty (batch " + std::to_string(B) + ", length " + std::to_string(T) + ")", nullptr);
    const int V = model_->config.vocab_size;
    std::vector<std::int32_t> ids(static_cast<std::size_t>(B) * T);
    const std::int64_t* src = ids64.data();
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (src[i] < 0 || src[i] >= V)
        raise_as_python("InputError",
                        model_->name + ": token id " + std::to_string(src[i]) + " at batch row " + std::to_string(i / T) +
                            ", position " + std::to_string(i % T) + " is outside the vocabulary [0, " + std::to_string(V) + ")",
                        nullptr);
      ids[i] = static_cast<std::int32_t>(src[i]);
    }
    auto logits = std::make_unique<std::vector<float>>(static_cast<std::size_t>(B) * T * V);
    auto hidden = std::make_unique<std::vector<std::vector<float>>>();
    released([&] {
      std::lock_guard<std::mutex> lock(mutex_);
      if (device_ == kernels::Device::kCuda) {
        if (!device_weights_) device_weights_ = std::make_unique<model::DeviceWeights>(model::upload_weights(*model_));
        model::forward_on_device(*model_, *device_weights_, ids, B, T, logits->data(), hidden_states ? hidden.get() : nullptr);
      } else {
        model::Activations act;
        model::forward(*model_, ids, B, T, act, {logits->data(), hidden_states ? hidden.get() : nullptr});
      }
      return 0;
    });
    py::tuple out(2);
    out[0] = owned_array(std::move(logits), {B, T, V});
    py::list layers;
    for (auto& h : *hidden) {
      const int width = static_cast<int>(h.size() / (static_cast<std::size_t>(B) * T));
      layers.append(owned_array(std::make_unique<std::vector<float>>(std::move(h)), {B, T, width}));
    }
    out[1] = hidden_states ? py::object(layers) : py::object(py::none());
    return out;
  }

 private:
  // A numpy array over a vector's buffer, which the array keeps alive (a capsule owns it).
  static py::array owned_array(std::unique_ptr<std::vector<float>> buffer, std::vector<py::ssize_t> shape) {
    std::vector<float>* raw = buffer.release();
    py::capsule owner(raw, [](void* p) { delete static_cast<std::vector<float>*>(p); });
    return py::array_t<float>(shape, raw->data(), owner);
  }

  metrics::Scorer& scorer_for(experiment::ScoreUnit unit) {
    switch (unit) {
      case experiment::ScoreUnit::kToken:
        if (!token_scorer_) token_scorer_ = std::make_unique<metrics::Scorer>(*model_, batch_tokens_, device_);
        return *token_scorer_;
      case experiment::ScoreUnit::kWord:
        if (!word_scorer_) {
          classes_ = experiment::word_token_classes(tok(), model_->config.vocab_size, experiment::resolve_eos(*model_, tok()));
          word_scorer_ = std::make_unique<metrics::Scorer>(*model_, batch_tokens_, device_);
          word_scorer_->set_token_classes(classes_.masks, experiment::kWordClassCount);
        }
        return *word_scorer_;
    }
    throw Error("unreachable");
  }

  std::string spec_;
  io::ResolvedModel resolved_;
  std::unique_ptr<model::Model> model_;
  std::optional<tokenizer::Tokenizer> tok_;
  std::exception_ptr tokenizer_error_;
  std::size_t batch_tokens_ = kBatchTokens;
  std::mutex mutex_;
  std::unique_ptr<metrics::Scorer> token_scorer_, word_scorer_;
  experiment::WordTokenClasses classes_;
  kernels::Device device_ = kernels::Device::kCpu;
  std::unique_ptr<model::DeviceWeights> device_weights_;  // forward() on the GPU: uploaded at its first call
};

}  // namespace

PYBIND11_MODULE(_entroscope, m) {
  m.doc() = "entroscope's C++ library (use the `entroscope` package, not this module)";
  m.attr("__version__") = ENTROSCOPE_VERSION;
  m.attr("git_hash") = ENTROSCOPE_GIT_HASH;
  m.attr("cuda_built") = kernels::cuda_built();

  m.def("set_threads", [](int threads) { released([&] { kernels::set_thread_count(threads); return 0; }); },
        py::arg("threads"));
  m.def("thread_count", [] { return kernels::thread_count(); });

  py::class_<PyModel>(m, "Model")
      .def(py::init([](const std::string& spec, bool offline, const std::string& device) {
             return released([&] { return std::make_unique<PyModel>(spec, offline, device); });
           }),
           py::arg("spec"), py::arg("offline") = false, py::arg("device") = "cpu")
      .def_property_readonly("device", [](const PyModel& p) { return std::string(kernels::device_name(p.device())); })
      .def_property_readonly("name", [](const PyModel& p) { return p.model().name; })
      .def_property_readonly("path", [](const PyModel& p) { return p.model().dir.string(); })
      .def_property_readonly("family", [](const PyModel& p) { return std::string(model::family_name(p.model().config.arch)); })
      .def_property_readonly("model_type",
                             [](const PyModel& p) { return std::string(model::architecture_name(p.model().config.arch)); })
      .def_property_readonly("parameters", [](const PyModel& p) { return p.model().config.parameter_count(); })
      .def_property_readonly("vocab_size", [](const PyModel& p) { return p.model().config.vocab_size; })
      .def_property_readonly("context_length", [](const PyModel& p) { return p.model().config.max_positions; })
      .def_property_readonly("revision", [](const PyModel& p) { return p.revision(); })
      .def_property_readonly("dtype", [](const PyModel& p) {
        return model::weight_memory(p.model().config, *p.model().checkpoint).matrix_dtype;
      })
      .def_property_readonly("resident_weight_bytes", [](const PyModel& p) {
        return model::weight_memory(p.model().config, *p.model().checkpoint).resident_bytes();
      })
      .def("metadata", [](const PyModel& p) { return cli::model_metadata(p.model()); })
      .def(
          "score",
          [](PyModel& p, const py::list& texts, const std::string& unit, const std::string& bos, const py::object& progress) {
            std::vector<experiment::ScoreInput> inputs;
            for (std::size_t i = 0; i < texts.size(); ++i) {
              py::handle t = texts[i];
              if (py::isinstance<py::str>(t)) {
                inputs.push_back({nlohmann::json(i), t.cast<std::string>(), nlohmann::json::object()});
              } else if (py::isinstance<py::dict>(t)) {
                py::dict d = t.cast<py::dict>();
                if (!d.contains("text") || !py::isinstance<py::str>(d["text"]))
                  raise_as_python("InputError", "score: text " + std::to_string(i) + " is a dict without a \"text\" string", nullptr);
                experiment::ScoreInput in{d.contains("id") ? to_json(d["id"]) : nlohmann::json(i),
                                          d["text"].cast<std::string>(), nlohmann::json::object()};
                for (auto item : d) {
                  const std::string key = py::str(item.first);
                  if (key != "id" && key != "text") in.extra[key] = to_json(item.second);
                }
                inputs.push_back(std::move(in));
              } else {
                raise_as_python("InputError",
                                "score: text " + std::to_string(i) + " is a " +
                                    py::str(py::type::of(t).attr("__name__")).cast<std::string>() +
                                    ", expected a str or a dict with \"text\"",
                                nullptr);
              }
            }
            return p.score(inputs, unit, bos, progress);
          },
          py::arg("texts"), py::arg("unit") = "token", py::arg("bos") = "auto", py::arg("progress") = py::none())
      .def("forward", &PyModel::forward, py::arg("ids"), py::arg("hidden_states") = false)
      .def("encode",
           [](const PyModel& p, const std::string& text) {
             return released([&] { return p.tok().encode(text, false); });
           },
           py::arg("text"))
      .def("decode",
           [](const PyModel& p, const std::vector<std::int64_t>& ids) {
             return released([&] {
               std::vector<std::int32_t> v;
               for (std::int64_t id : ids) {
                 if (id < 0 || id >= p.model().config.vocab_size || !p.tok().is_valid_id(static_cast<std::int32_t>(id)))
                   fail("{}: token id {} is not in the tokenizer's vocabulary", p.model().name, id);
                 v.push_back(static_cast<std::int32_t>(id));
               }
               return py::bytes(p.tok().decode_bytes(v));
             });
           },
           py::arg("ids"))
      .def("token_text",
           [](const PyModel& p, std::int64_t id) {
             return released([&] {
               if (id < 0 || !p.tok().is_valid_id(static_cast<std::int32_t>(id)))
                 fail("{}: token id {} is not in the tokenizer's vocabulary", p.model().name, id);
               return experiment::printable_bytes(p.tok().token_bytes(static_cast<std::int32_t>(id)));
             });
           },
           py::arg("id"));

  m.def(
      "run",
      [](const std::string& spec_path, const std::string& out, bool force, bool offline, bool report) {
        return released([&] {
          experiment::RunSettings settings;
          settings.out_dir = out;
          settings.force = force;
          settings.fetch = !offline;
          settings.report = report;
          settings.progress = experiment::ProgressStyle::kLines;
          const experiment::ExperimentOutcome outcome = experiment::run_experiment(spec_path, settings);
          std::vector<std::string> failed;
          for (const auto& mo : outcome.models)
            if (mo.status == experiment::ModelStatus::kFailed) failed.push_back(mo.failure);
          std::vector<std::string> files;
          for (const auto& f : outcome.summary_files) files.push_back(f.string());
          return std::make_pair(files, failed);
        });
      },
      py::arg("spec_path"), py::arg("out"), py::arg("force") = false, py::arg("offline") = false,
      py::arg("report") = true);

  m.def(
      "report",
      [](const std::string& results_dir, const std::string& out) {
        return released([&] { return experiment::write_report(results_dir, out).string(); });
      },
      py::arg("results_dir"), py::arg("out") = "");

  m.def(
      "doctor",
      [](const std::string& spec, std::optional<std::string> text, int max_tokens) {
        const std::string report = released([&] {
          doctor::DoctorOptions o;
          o.model_dir = io::resolve_model(spec).dir;
          o.model_name = spec;
          o.text = text;
          o.max_tokens = max_tokens;
          return doctor::render_json(doctor::run_doctor(o)).dump();
        });
        return py::module_::import("json").attr("loads")(report);
      },
      py::arg("model"), py::arg("text") = py::none(), py::arg("max_tokens") = 128);
}
