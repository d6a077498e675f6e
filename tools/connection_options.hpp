// How a client subcommand reaches servers: addresses, deadline, retries, TLS, token.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "disc/edge_client.hpp"

namespace disc::cli {

class ConnectionOptions {
 public:
  // `server_required`: false for commands that can also run without a server.
  void add_to(CLI::App& app, bool server_required = true) {
    app.add_option("-s,--server", options_.servers, "server host:port; several (comma-separated) balance round robin")
        ->delimiter(',')
        ->required(server_required);
    link_options_ = {
        app.add_option("--deadline-ms", options_.deadline_ms, "deadline of each attempt")
            ->check(CLI::Range(1, 3600000))
            ->capture_default_str(),
        app.add_option("--retries", options_.retries,
                       "further attempts when no server answers (none after a \"server busy\" refusal)")
            ->check(CLI::Range(0, 100))
            ->capture_default_str(),
        app.add_option("--tls-ca", options_.tls_ca_file, "PEM roots to verify the server with (TLS on)"),
    };
    app.add_option("--token", options_.token, "bearer token (env DISC_TOKEN)")->envname("DISC_TOKEN");
  }
  const ClientOptions& client_options() const { return options_; }

  // The first of --deadline-ms, --retries and --tls-ca given, which only shape a connection;
  // empty if none. (--server and --token, which scripts and the environment pass to every
  // mode alike, are not among them.)
  std::string link_option_given() const {
    for (const CLI::Option* option : link_options_)
      if (option->count() > 0) return option->get_name();
    return "";
  }

 private:
  ClientOptions options_;
  std::vector<const CLI::Option*> link_options_;
};

}  // namespace disc::cli
