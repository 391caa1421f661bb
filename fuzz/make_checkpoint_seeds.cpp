// Writes the seeds of fuzz_checkpoint into the directory given: "model" (a
// model.pt) and "resume" (a resume.pt after one Adam step, so the optimiser
// state is not empty), each behind the byte that makes the target read it
// as such. Run by hand when the checkpoint layout changes:
//   build-fuzz/fuzz/make_checkpoint_seeds fuzz/corpus/checkpoint
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "caudal/core/atomic_file.h"
#include "caudal/run/run_dir.h"
#include "checkpoint_model.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_checkpoint_seeds CORPUS_DIR\n";
    return 2;
  }
  const std::string corpus = argv[1];
  const std::string run_path = corpus + "/.run";
  const auto run = caudal::RunDirectory::create(run_path);
  auto model = caudal::fuzz::checkpoint_model();
  auto optimizer = caudal::fuzz::checkpoint_optimizer(*model);
  torch::Tensor loss = torch::zeros({});
  for (const auto& parameter : model->parameters()) loss = loss + parameter.pow(2).sum();
  loss.backward();
  optimizer.step();
  run.save_checkpoint(*model);
  run.save_resume_state(*model, optimizer, caudal::TrainProgress{1, 1, 0.05, 0, 1.5}, c10::Device(c10::kCPU));
  for (const auto& [seed, file, selector] : {std::tuple{"model", "model.pt", '\0'}, std::tuple{"resume", "resume.pt", '\1'}})
    std::ofstream(corpus + "/" + seed, std::ios::binary) << selector << caudal::read_file(run.file(file));
  std::filesystem::remove_all(run_path);
  return 0;
}
