#include "caudal/run/run_dir.h"

#include <ATen/Context.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <nlohmann/json.hpp>
#include <vector>
#include <zip.h>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"

namespace caudal {

RunDirectory RunDirectory::create(std::string path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw Error("cannot create run directory " + path + ": " + ec.message());
  return RunDirectory(std::move(path));
}

RunDirectory RunDirectory::create_new(std::string path, bool overwrite) {
  auto run = create(std::move(path));
  const auto& p = run.path();
  if (!overwrite && run.has_resume_state())
    throw Error(p + " holds an unfinished training (resume.pt): continue it with `caudal resume --run " + p +
                "`, choose another --out, or give --overwrite to start afresh");
  for (const char* finished : {"metrics.json", "model.pt"})
    if (!overwrite && std::filesystem::exists(run.file(finished)))
      throw Error(p + " holds a trained run (" + finished + "); give --overwrite to replace it, or choose another --out");
  // Every file a run directory can hold (written by the trainer, eval,
  // inspect-fusion and TADA's candidate cache).
  for (const char* name : {"config.json", "model.pt", "resume.pt", "metrics.json", "eval.json", "history.jsonl",
                           "fusion.json", "tada_candidates.json", "train.log"}) {
    std::error_code ec;
    std::filesystem::remove(run.file(name), ec);
    if (ec) throw Error("cannot remove " + run.file(name) + " to overwrite the run: " + ec.message());
  }
  return run;
}

RunDirectory RunDirectory::open(std::string path) {
  if (!std::filesystem::is_directory(path)) throw Error(path + ": no such run directory");
  return RunDirectory(std::move(path));
}

void RunDirectory::write_json(const std::string& name, const nlohmann::json& json) const {
  write_file_atomically(file(name), json.dump(2) + "\n");
}

std::vector<nlohmann::json> RunDirectory::read_history() const {
  const std::string path = file("history.jsonl");
  std::vector<nlohmann::json> records;
  if (!std::filesystem::exists(path)) return records;
  const std::string text = read_file(path);
  size_t start = 0;
  int64_t line = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++line;
    auto record = nlohmann::json::parse(text.begin() + static_cast<std::ptrdiff_t>(start),
                                        text.begin() + static_cast<std::ptrdiff_t>(end), nullptr, false);
    if (record.is_discarded() || !record.is_object() || !record.contains("epoch") || !record["epoch"].is_number_integer())
      throw input_error(path, line, "not an epoch record (a JSON object with an integer \"epoch\")");
    const int64_t previous = records.empty() ? 0 : records.back()["epoch"].get<int64_t>();
    if (record["epoch"].get<int64_t>() <= previous)
      throw input_error(path, line, "epoch " + record["epoch"].dump() + " after epoch " + std::to_string(previous) +
                                        ": epochs must count up from 1");
    // Every number a reader (the ETA, the report) takes from a record.
    auto check_numbers = [&](const nlohmann::json& value, const std::string& field) {
      for (const auto& [key, number] : value.items())
        if (!number.is_number() || !std::isfinite(number.get<double>()))
          throw input_error(path, line, "\"" + field + "\": \"" + key + "\" is not a finite number");
    };
    for (const char* field : {"losses", "valid"})
      if (record.contains(field)) {
        if (!record[field].is_object()) throw input_error(path, line, std::string("\"") + field + "\" is not an object");
        check_numbers(record[field], field);
      }
    check_numbers(nlohmann::json::object({{"train_seconds", record.value("train_seconds", nlohmann::json(0.0))},
                                          {"valid_seconds", record.value("valid_seconds", nlohmann::json(0.0))}}),
                  "seconds");
    records.push_back(std::move(record));
    start = end + 1;
  }
  return records;
}

void RunDirectory::write_history(const std::vector<nlohmann::json>& records) const {
  std::string text;
  for (const auto& r : records) text += r.dump() + "\n";
  write_file_atomically(file("history.jsonl"), text);
}

nlohmann::json RunDirectory::read_json(const std::string& name) const {
  const std::string path = file(name);
  if (!std::filesystem::exists(path)) throw Error(path + ": not found (is " + path_ + " a caudal run directory?)");
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {  // a syntax error, or a number out of range (1e400)
    throw Error(path + ": not valid JSON: " + e.what());
  }
}

namespace {

constexpr const char* kResumeFile = "resume.pt";

// Checkpoints are a flat archive of every parameter and buffer under its
// dotted name. LibTorch's Module::load would silently adopt a tensor of
// another shape (a checkpoint of another dataset or width); reading names
// ourselves lets us check each one and say which does not match. Tensors are
// stored on the CPU and copied onto the model's device when read, so a model
// trained on a GPU loads in a CPU-only build (and the other way round).
void write_module(torch::serialize::OutputArchive& archive, torch::nn::Module& module) {
  for (const auto& p : module.named_parameters(/*recurse=*/true)) archive.write(p.key(), p.value().to(at::kCPU));
  for (const auto& b : module.named_buffers(/*recurse=*/true)) archive.write(b.key(), b.value().to(at::kCPU), /*is_buffer=*/true);
}

void read_module(torch::serialize::InputArchive& archive, torch::nn::Module& module, const std::string& path) {
  auto restore = [&](const std::string& key, at::Tensor& target, bool is_buffer) {
    at::Tensor stored;
    if (!archive.try_read(key, stored, is_buffer)) throw Error(path + ": checkpoint has no tensor '" + key + "'");
    if (stored.sizes() != target.sizes())
      throw Error(path + ": '" + key + "' has shape " + c10::str(stored.sizes()) + " in the checkpoint but " +
                  c10::str(target.sizes()) + " in the model (another dataset or model size?)");
    torch::NoGradGuard no_grad;
    target.copy_(stored);
  };
  for (auto& p : module.named_parameters(true)) restore(p.key(), p.value(), false);
  for (auto& b : module.named_buffers(true)) restore(b.key(), b.value(), true);
}

// LibTorch's reader (miniz, built without its CRC checks) loads a checkpoint
// whose tensor bytes were changed without a word. libzip reads every entry
// once and compares it with the CRC-32 the archive recorded for it.
void verify_zip_checksums(const std::string& path) {
  const std::string damaged = path + ": checkpoint is damaged, truncated or not a caudal checkpoint: ";
  int code = 0;
  zip_t* zip = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!zip) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    const std::string reason = zip_error_strerror(&error);
    zip_error_fini(&error);
    throw Error(damaged + reason);
  }
  std::vector<char> buffer(1 << 16);
  std::string problem;
  const zip_int64_t entries = zip_get_num_entries(zip, 0);
  for (zip_int64_t i = 0; i < entries && problem.empty(); ++i) {
    zip_file_t* entry = zip_fopen_index(zip, static_cast<zip_uint64_t>(i), 0);
    if (!entry) {
      problem = zip_strerror(zip);
      break;
    }
    zip_int64_t got = 0;
    while ((got = zip_fread(entry, buffer.data(), buffer.size())) > 0) {
    }
    if (got < 0) problem = std::string(zip_get_name(zip, static_cast<zip_uint64_t>(i), 0)) + ": " + zip_file_strerror(entry);
    zip_fclose(entry);
  }
  zip_discard(zip);
  if (!problem.empty()) throw Error(damaged + problem);
}

void open_archive(torch::serialize::InputArchive& archive, const std::string& path, const c10::Device& device) {
  if (!std::filesystem::exists(path)) throw Error(path + ": checkpoint not found");
  verify_zip_checksums(path);
  // LibTorch's message is long and internal; keep its first line that says
  // something (the TorchScript importer's begin with a line break).
  auto damaged = [&](const std::string& what) {
    const size_t start = std::min(what.find_first_not_of(" \n"), what.size());
    return Error(path + ": checkpoint is damaged, truncated or not a caudal checkpoint: " +
                 what.substr(start, what.find('\n', start) - start));
  };
  try {
    archive.load_from(path, device);
  } catch (const c10::Error& e) {
    throw damaged(e.what_without_backtrace());
  } catch (const std::exception& e) {
    // The TorchScript importer under load_from reports a damaged data.pkl
    // or code/ entry with other exceptions: torch::jit::ErrorReport,
    // std::runtime_error, std::out_of_range.
    throw damaged(e.what());
  }
}

// The archive's bytes, written by our atomic writer rather than by
// LibTorch's file writer: that one reports a failed write (a full disk) by
// throwing from its destructor, which ends the process, and leaves its file
// behind. In memory first, a full disk is an ordinary error and the previous
// checkpoint stays.
void save_archive(torch::serialize::OutputArchive& archive, const std::string& path) {
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomically(path, bytes.str());
}

}  // namespace

void RunDirectory::save_checkpoint(torch::nn::Module& module, const std::string& name) const {
  torch::serialize::OutputArchive archive;
  write_module(archive, module);
  save_archive(archive, file(name));
}

void RunDirectory::load_checkpoint(torch::nn::Module& module, const std::string& name) const {
  const std::string path = file(name);
  torch::serialize::InputArchive archive;
  open_archive(archive, path, at::kCPU);
  read_module(archive, module, path);
}

void RunDirectory::save_resume_state(torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                                     const TrainProgress& progress, const c10::Device& device) const {
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  write_module(model_archive, model);
  archive.write("model", model_archive);
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("generator", at::globalContext().defaultGenerator(device).get_state());
  archive.write("next_epoch", c10::IValue(progress.next_epoch));
  archive.write("best_epoch", c10::IValue(progress.best_epoch));
  archive.write("best_score", c10::IValue(progress.best_score));
  archive.write("since_best", c10::IValue(progress.since_best));
  archive.write("train_seconds", c10::IValue(progress.train_seconds));
  save_archive(archive, file(kResumeFile));
}

TrainProgress RunDirectory::load_resume_state(torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                                              const c10::Device& device) const {
  const std::string path = file(kResumeFile);
  if (!std::filesystem::exists(path))
    throw Error(path + ": not found; a run has it from its first epoch until it finishes (metrics.json)");
  torch::serialize::InputArchive archive, model_archive, optimizer_archive;
  open_archive(archive, path, device);
  auto read_value = [&](const char* key) {
    c10::IValue value;
    if (!archive.try_read(key, value)) throw Error(path + ": resume state has no '" + std::string(key) + "'");
    return value;
  };
  TrainProgress progress;
  at::Tensor generator_state;
  try {
    if (!archive.try_read("model", model_archive)) throw Error(path + ": resume state has no model");
    read_module(model_archive, model, path);
    if (!archive.try_read("optimizer", optimizer_archive)) throw Error(path + ": resume state has no optimiser");
    optimizer.load(optimizer_archive);
    if (!archive.try_read("generator", generator_state)) throw Error(path + ": resume state has no generator state");
    progress.next_epoch = read_value("next_epoch").toInt();
    progress.best_epoch = read_value("best_epoch").toInt();
    progress.best_score = read_value("best_score").toDouble();
    progress.since_best = read_value("since_best").toInt();
    progress.train_seconds = read_value("train_seconds").toDouble();
    at::Generator generator = at::globalContext().defaultGenerator(device);  // a handle to the global one
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(generator_state.to(at::kCPU));
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw Error(path + ": resume state does not fit this run: " + what.substr(0, what.find('\n')));
  }
  return progress;
}

bool RunDirectory::has_resume_state() const { return std::filesystem::exists(file(kResumeFile)); }

void RunDirectory::remove_resume_state() const {
  std::error_code ignored;  // already gone is fine
  std::filesystem::remove(file(kResumeFile), ignored);
}

}  // namespace caudal
