// The run directory (--out DIR): config.json, train.log, model.pt (the best
// checkpoint), history.jsonl (one record per epoch), metrics.json, and while
// training is unfinished resume.pt (the state after the latest epoch). Every file is written atomically, so an
// interrupted run never leaves a half-written checkpoint or metrics file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace torch::nn {
class Module;
}
namespace torch::optim {
class Optimizer;
}
namespace c10 {
struct Device;
}

namespace caudal {

// Where a training stands after an epoch: enough, with the model, the
// optimiser and the random generator, to continue it as if never stopped.
struct TrainProgress {
  int64_t next_epoch = 0;   // 0-based index of the epoch to run next
  int64_t best_epoch = -1;  // 1-based; -1 before the first validation
  double best_score = -1;   // validation NDCG@20 of best_epoch
  int64_t since_best = 0;   // validations without improvement
  double train_seconds = 0;  // training time so far, validation excluded
};

class RunDirectory {
 public:
  // For writing a run: creates the directory (and its parents) if needed.
  static RunDirectory create(std::string path);
  // For writing a new run (train, import, an evaluated baseline): like
  // create, but a directory that holds a trained or finished run (model.pt
  // or metrics.json) or an unfinished training (resume.pt) is an error
  // naming it, unless `overwrite`: then that run's files are removed first,
  // so that no new config.json is ever paired with an old model. Files that
  // are not a run's are left alone.
  static RunDirectory create_new(std::string path, bool overwrite);
  // For reading a run: throws caudal::Error naming the path when it is not a directory.
  static RunDirectory open(std::string path);

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  void write_json(const std::string& name, const nlohmann::json& json) const;
  // Throws caudal::Error naming the file if it is missing or not valid JSON.
  nlohmann::json read_json(const std::string& name) const;

  void save_checkpoint(torch::nn::Module& module, const std::string& name = "model.pt") const;
  // Throws caudal::Error naming the file if it is missing, truncated or does
  // not match the module's parameters.
  void load_checkpoint(torch::nn::Module& module, const std::string& name = "model.pt") const;

  // resume.pt: the model, the optimiser's state, the random generator of
  // `device` (dropout masks; every other random choice is drawn per epoch
  // from the seed) and the progress, in one file so they always agree.
  void save_resume_state(torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                         const TrainProgress& progress, const c10::Device& device) const;
  // Restores what save_resume_state wrote; throws caudal::Error naming the
  // file if it is missing, damaged or does not match the model.
  TrainProgress load_resume_state(torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                                  const c10::Device& device) const;
  bool has_resume_state() const;

  // history.jsonl: one JSON object per epoch, oldest first ({"epoch": N,
  // ...}; the trainer documents the fields). Rewritten whole and atomically
  // after each epoch, before resume.pt, so it never holds a torn line; a
  // resumed run drops the records after its resume point (see trainer.cpp).
  // Reading a run without one gives no records; a damaged line is an error
  // naming file and line.
  std::vector<nlohmann::json> read_history() const;
  void write_history(const std::vector<nlohmann::json>& records) const;
  void remove_resume_state() const;

 private:
  explicit RunDirectory(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace caudal
