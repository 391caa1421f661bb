// `caudal bench-lis`: time and peak memory of TADA's LIS solve (in-place
// Cholesky) against a general dense inverse of the same matrix (the official
// code's way), each measured in a fresh child process so that peak memory is
// the solver's own.
#pragma once

#include <string>

namespace caudal {

// Parent: runs `self bench-lis --solver S` for each solver and prints a table.
int run_lis_benchmark(const std::string& self, const std::string& data, int threads);
// Child: solves with one solver and prints one JSON line with its timing.
int run_lis_solver(const std::string& data, const std::string& solver, int threads);

}  // namespace caudal
