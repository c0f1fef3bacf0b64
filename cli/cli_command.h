// How a component adds subcommands to the `telltale` executable.
//
// A component lists its CLI source files in the global CMake property
// TELLTALE_CLI_SOURCES (and its libraries in TELLTALE_CLI_LIBS); each such
// file registers a setup function at static-initialization time:
//
//   TELLTALE_REGISTER_CLI(30, SetupKeyCommands);
//
// Setup functions run in `order`, add their CLI11 subcommands to the root
// app, and install callbacks that return an exit code through RunResult.
//
// Exit codes (ripgrep-style): 0 success / something found, 1 nothing found,
// 2 error. An error is printed once, as "telltale: error: <message>".
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "common/status.h"

namespace telltale::cli {

inline constexpr int kExitFound = 0;
inline constexpr int kExitNotFound = 1;
inline constexpr int kExitError = 2;

// Holds the exit code chosen by whichever subcommand ran.
struct RunResult {
  int exit_code = 0;
};

using SetupFn = void (*)(CLI::App& root, RunResult& result);

struct CliRegistration {
  CliRegistration(int order, SetupFn fn);
};

// Runs `body`; a non-OK status is printed to stderr and becomes exit code 2.
// Use it as the body of every subcommand callback.
void RunCommand(RunResult& result, const std::function<StatusOr<int>()>& body);

// Prints "telltale: error: ..." to stderr.
void PrintError(const Status& status);

// True when stderr is an interactive terminal (progress output allowed).
bool StderrIsTerminal();

}  // namespace telltale::cli

#define TELLTALE_REGISTER_CLI(order, fn) \
  static ::telltale::cli::CliRegistration TT_STATUS_CONCAT(tt_cli_registration_, __LINE__)(order, fn)
