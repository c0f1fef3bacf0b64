// The `telltale` executable: a thin CLI11 shell over the component commands
// registered through cli_command.h.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <vector>

#include "cli/cli_command.h"

namespace telltale::cli {
namespace {
std::vector<std::pair<int, SetupFn>>& Registry() {
  static std::vector<std::pair<int, SetupFn>> registry;
  return registry;
}
}  // namespace

CliRegistration::CliRegistration(int order, SetupFn fn) { Registry().emplace_back(order, fn); }

void PrintError(const Status& status) {
  std::fprintf(stderr, "telltale: error: %s\n", status.message().c_str());
}

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

void RunCommand(RunResult& result, const std::function<StatusOr<int>()>& body) {
  StatusOr<int> r = body();
  if (!r.ok()) {
    PrintError(r.status());
    result.exit_code = kExitError;
  } else {
    result.exit_code = *r;
  }
  if (std::fflush(stdout) != 0 && result.exit_code != kExitError) {
    std::fprintf(stderr, "telltale: error: writing to stdout failed\n");
    result.exit_code = kExitError;
  }
}

}  // namespace telltale::cli

int main(int argc, char** argv) {
  using namespace telltale::cli;
  // Broken pipes end the process quietly (as `telltale detect | head` should).
  std::signal(SIGPIPE, SIG_DFL);
  CLI::App app{"telltale: keyed watermarks for language-model output, exact detection, provenance"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "telltale 0.1.0");
  RunResult result;
  auto& registry = Registry();
  std::stable_sort(registry.begin(), registry.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, fn] : registry) fn(app, result);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "telltale: error: %s\nRun 'telltale --help' for usage.\n", e.what());
    return kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "telltale: error: %s\n", e.what());
    return kExitError;
  }
  return result.exit_code;
}
