#include <grpc/support/log.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "command.hpp"

namespace disc::cli {
namespace {
GlobalOptions g_options;
}

const GlobalOptions& globals() { return g_options; }

std::vector<Command>& command_registry() {
  static std::vector<Command> commands;
  return commands;
}

Status check_not_same_file(const std::string& input, const std::string& output, const std::string& what) {
  std::error_code input_error, output_error, link_error;
  const auto in = std::filesystem::weakly_canonical(input, input_error);
  const auto out = std::filesystem::weakly_canonical(output, output_error);
  // Other paths may still be one file: a hard link (writing truncates the file in place).
  const bool same = (!input_error && !output_error && in == out) ||
                    std::filesystem::equivalent(input, output, link_error);
  if (!same) return {};
  return Error(what + " name the same file '" + output + "': writing one would overwrite the other");
}

int fail(const Error& error) {
  std::cerr << "disc: " << error.message() << "\n";
  return 1;
}

}  // namespace disc::cli

int main(int argc, char** argv) {
  using namespace disc::cli;
  CLI::App app{"DISC: split CNN inference with training-free feature-map compression"};
  app.require_subcommand(1);
  const char* env_assets = std::getenv("DISC_ASSETS");
  g_options.assets_dir = env_assets ? env_assets : DISC_DEFAULT_ASSETS_DIR;
  app.add_option("--assets", g_options.assets_dir, "assets directory with models/ and data/ (env DISC_ASSETS)")
      ->capture_default_str();
  app.add_flag("-q,--quiet", g_options.quiet, "no progress output");

  auto& commands = command_registry();
  std::sort(commands.begin(), commands.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, std::function<int()>>> actions;
  for (const Command& c : commands) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    actions.emplace_back(sub, c.setup(*sub));
  }
  // CLI11 would answer an unknown subcommand with "A subcommand is required".
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--assets") ++i;  // its value
    if (word.empty() || word[0] == '-') continue;
    if (std::none_of(commands.begin(), commands.end(), [&](const Command& c) { return c.name == word; }))
      return fail(disc::Error("unknown subcommand '" + word + "' (`disc --help` lists them)"));
    break;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {  // bad arguments: the same one-line form as every other error
    std::string message = e.what();
    // CLI11 takes a global option after the subcommand for one of the subcommand's extras.
    for (const auto& [sub, action] : actions)
      if (sub->parsed())
        for (const std::string& extra : sub->remaining()) {
          const std::string option = extra.substr(0, extra.find('='));
          if (option == "--assets" || option == "-q" || option == "--quiet")
            message += " (" + option + " goes before the subcommand: disc " + option +
                       (option == "--assets" ? " DIR " : " ") + sub->get_name() + " ...)";
        }
    return fail(disc::Error(message));
  }
  for (auto& [sub, action] : actions)
    if (sub->parsed()) {
      // A client's gRPC log lines (resolver, TLS) would come before the one-line error that
      // says the same in the user's terms; a server keeps them (handshake failures of its
      // peers are its operator's business). GRPC_VERBOSITY set brings them back everywhere.
      if (sub->get_name() != "serve" && !std::getenv("GRPC_VERBOSITY"))
        gpr_set_log_function([](gpr_log_func_args*) {});
      try {
        return action();
      } catch (const std::exception& e) {  // third-party code (OpenCV, protobuf) may throw
        return fail(disc::Error(e.what()));
      }
    }
  return 1;
}
