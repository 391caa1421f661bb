// Several training processes (ranks) on one or more hosts, on LibTorch's c10d:
// a TCPStore for the rendezvous and small shared values, a Gloo process group
// for the collectives. Rank 0 is the leader: it validates, decides early
// stopping and writes the run directory (train/trainer.h). The trainer asks
// the cluster to share, broadcast and sum; the cluster knows nothing of
// training.
//
// A rank that fails or is killed closes its connections, and every other
// rank's next collective throws caudal::Error; a rank that hangs makes the
// others throw after `timeout_seconds`. Either way no rank waits forever.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace caudal {

struct ClusterOptions {
  int world_size = 1;  // 1: a single process, no cluster
  int rank = 0;        // 0 .. world_size - 1
  std::string master_host = "127.0.0.1";  // where rank 0 listens (its TCPStore)
  int master_port = 29500;
  // Longest wait for the other ranks: in a collective (rank 0 validates
  // meanwhile) and at the start (rank 0 prepares TADA's candidates).
  double timeout_seconds = 600;
  int64_t bucket_bytes = 16 << 20;  // gradients summed together (GradientSum)
};

// The torchrun-style variables WORLD_SIZE, RANK, MASTER_ADDR and MASTER_PORT,
// for each field the command line left unset (`from_command_line` says
// which were set: "world_size", "rank", "master"). Throws caudal::Error
// naming the variable when one is malformed or out of range.
ClusterOptions cluster_options_from_environment(ClusterOptions options, const std::vector<std::string>& from_command_line);

// "host:port" -> host and port; throws caudal::Error naming `what`.
void parse_host_port(const std::string& text, const std::string& what, std::string& host, int& port);

// A port on 127.0.0.1 that nothing listens on now (the kernel's choice; it
// may be taken again before it is used). Throws caudal::Error if none.
int free_local_port();

// Whether this build has a process-group backend (Gloo headers were found).
bool distributed_training_available();

class Cluster {
 public:
  // Joins the cluster: rank 0 starts the TCPStore at master_host:master_port,
  // the others connect to it; returns when all world_size ranks are there.
  // Throws caudal::Error when the options are invalid, the port is taken or
  // the others do not arrive within the timeout.
  static std::unique_ptr<Cluster> join(const ClusterOptions& options);
  virtual ~Cluster() = default;

  int rank() const { return options_.rank; }
  int size() const { return options_.world_size; }
  bool leader() const { return options_.rank == 0; }
  const ClusterOptions& options() const { return options_; }

  // Bytes that rank 0 has (`value` there; ignored elsewhere) for every rank.
  virtual std::string share(const std::string& key, const std::string& value) = 0;
  // Rank 0's values of `tensors` copied into every rank's, in place.
  virtual void broadcast(std::vector<at::Tensor>& tensors) = 0;
  // Element-wise sum over the ranks, in place.
  virtual void sum(at::Tensor& tensor) = 0;
  // Starts summing `tensor` in place over the ranks; wait() finishes it.
  class PendingSum {
   public:
    virtual ~PendingSum() = default;
    virtual void wait() = 0;
  };
  virtual std::unique_ptr<PendingSum> start_sum(at::Tensor& tensor) = 0;

 protected:
  explicit Cluster(ClusterOptions options) : options_(std::move(options)) {}
  ClusterOptions options_;
};

// Sums the gradients of `parameters` over the ranks after each backward pass,
// in buckets of at most `bucket_bytes` (not one collective per parameter).
// Buckets are filled from the last parameter to the first, the order in which
// backward produces gradients. A bucket's sum starts as soon
// as the backward pass has produced all of its gradients (hooks on the
// parameters), overlapping the rest of the backward pass; buckets start in a
// fixed order on every rank, as Gloo pairs the ranks' collectives by order.
// A parameter that no rank reached keeps the gradient it had (undefined, or
// zeroed by the optimiser), as in one process; one a rank did not reach
// counts as zeros there. The sum, not the mean: the trainer weights each
// rank's loss by its share of the global batch, so that the sum is the
// gradient of the global batch's loss.
class GradientSum {
 public:
  GradientSum(Cluster& cluster, std::vector<at::Tensor> parameters, int64_t bucket_bytes = 16 << 20);
  ~GradientSum();
  GradientSum(const GradientSum&) = delete;
  GradientSum& operator=(const GradientSum&) = delete;

  // Before the backward pass of a step (or, for a rank with nothing to
  // compute in this step, right before finish()).
  void begin();
  // After the backward pass: starts the buckets left, waits for all, and
  // leaves the sums in the parameters' .grad.
  void finish();

  // Seconds spent in finish() waiting for sums since construction: the
  // communication that did not overlap computation.
  double wait_seconds() const { return wait_seconds_; }

 private:
  struct Bucket;
  void on_gradient(size_t parameter, const at::TensorBase& gradient);
  void start_ready_buckets();

  Cluster& cluster_;
  std::vector<at::Tensor> parameters_;
  std::vector<Bucket> buckets_;
  std::vector<std::pair<size_t, size_t>> place_;  // parameter -> (bucket, slot)
  std::vector<unsigned> hooks_;
  std::vector<bool> seen_;  // the parameters whose gradients this step has copied
  size_t next_bucket_ = 0;
  bool armed_ = false;
  double wait_seconds_ = 0;
};

}  // namespace caudal
