// `disc describe`: what a running server serves.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "connection_options.hpp"
#include "disc/edge_client.hpp"

namespace disc::cli {
namespace {

const CommandRegistration describe_command{{
    "describe", "list a server's models, their cuts and its codecs",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        ConnectionOptions connection;
        bool json = false;
      };
      auto o = std::make_shared<Opts>();
      o->connection.add_to(app);
      app.add_flag("--json", o->json, "machine-readable output");
      return [o] {
        auto client = EdgeClient::connect(o->connection.client_options());
        if (!client.ok()) return fail(client.error());
        auto description = (*client)->describe();
        if (!description.ok()) return fail(description.error());
        if (o->json) {
          nlohmann::ordered_json models = nlohmann::ordered_json::array();
          for (const RemoteModel& m : description->models) {
            nlohmann::ordered_json cuts = nlohmann::ordered_json::array();
            for (const RemoteCut& c : m.cuts)
              cuts.push_back({{"tensor", c.tensor}, {"node", c.node}, {"op_type", c.op_type}, {"shape", c.shape},
                              {"fp32_bytes", c.fp32_bytes}});
            models.push_back({{"name", m.name}, {"sha256", m.sha256}, {"dataset", m.dataset}, {"input_shape", m.input_shape},
                              {"classes", m.classes}, {"cuts", cuts}});
          }
          nlohmann::ordered_json codecs = nlohmann::ordered_json::array();
          for (const RemoteCodec& c : description->codecs)
            codecs.push_back({{"id", c.id}, {"name", c.name}, {"lossless", c.lossless}});
          std::cout << nlohmann::ordered_json{{"models", models},
                                              {"codecs", codecs},
                                              {"max_message_bytes", description->max_message_bytes}}
                           .dump(2)
                    << "\n";
          return 0;
        }
        for (const RemoteModel& m : description->models) {
          std::cout << fmt::format("{} ({}, input {}, {} classes, sha256 {})\n", m.name, m.dataset,
                                   shape_to_string(m.input_shape), m.classes, m.sha256);
          for (const RemoteCut& c : m.cuts)
            std::cout << fmt::format("  {:<40} {:<14} {:<16} {:>10} B\n", c.tensor, c.op_type, shape_to_string(c.shape),
                                     c.fp32_bytes);
        }
        std::cout << "codecs:";
        for (const RemoteCodec& c : description->codecs) std::cout << " " << c.name;
        std::cout << fmt::format("\nmax message: {} bytes\n", description->max_message_bytes);
        return 0;
      };
    }}};

}  // namespace
}  // namespace disc::cli
