// `disc serve`: the inference server, until SIGTERM or SIGINT.
#include <fmt/format.h>

#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "command.hpp"
#include "disc/model.hpp"
#include "disc/server.hpp"

namespace disc::cli {
namespace {

const CommandRegistration serve_command{{
    "serve", "serve model tails to edge devices over gRPC (stops cleanly on SIGTERM/SIGINT)",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        ServerOptions server;
        int threads = 0;
        int grace_ms = 5000;
      };
      auto o = std::make_shared<Opts>();
      o->server.listen = "127.0.0.1:50051";
      app.add_option("-m,--model", o->server.models, "a models.json model to serve (repeatable)")->required();
      app.add_option("-l,--listen", o->server.listen, "host:port to listen on; port 0 picks a free one")
          ->capture_default_str();
      app.add_option("--workers", o->server.workers, "requests computed at once")
          ->check(CLI::Range(1, 256))
          ->capture_default_str();
      app.add_option("--max-queued", o->server.max_queued,
                     "requests waiting for a worker; more are refused at once (UNAVAILABLE, \"server busy\"). "
                     "0: max(64, 8 x workers)")
          ->check(CLI::Range(size_t{0}, size_t{1} << 20))
          ->capture_default_str();
      app.add_option("--threads", o->threads, "OpenCV threads per network (0 = OpenCV default)")
          ->check(CLI::Range(0, 256))
          ->capture_default_str();
      app.add_option("--max-message-bytes", o->server.max_message_bytes,
                     "largest gRPC message accepted: a whole request, or one chunk of a chunked one "
                     "(RESOURCE_EXHAUSTED beyond)")
          ->check(CLI::Range(size_t{1}, size_t{INT32_MAX}))
          ->capture_default_str();
      app.add_option("--chunked-timeout-ms", o->server.chunked_timeout_ms,
                     "a chunked request whose chunks have not all arrived this long after it started is cancelled")
          ->check(CLI::Range(1, 3600000))
          ->capture_default_str();
      app.add_option("--max-connection-age-ms", o->server.max_connection_age_ms,
                     "connections are closed after about this long (clients reconnect), with "
                     "--chunked-timeout-ms for their calls to finish: bounds how long a stalled upload holds memory")
          ->check(CLI::Range(1, INT32_MAX))
          ->capture_default_str();
      app.add_option("--tls-cert", o->server.tls_cert_file, "PEM certificate chain (TLS on with --tls-key)");
      app.add_option("--tls-key", o->server.tls_key_file, "PEM private key");
      CLI::Option* token =
          app.add_option("--token", o->server.token, "require this bearer token (env DISC_TOKEN)")->envname("DISC_TOKEN");
      app.add_option("--grace-ms", o->grace_ms, "on SIGTERM/SIGINT, time in-flight requests get to finish")
          ->check(CLI::Range(0, 600000))
          ->capture_default_str();
      return [o, token] {
        // An empty token turns authentication off: when one was asked for (a script expanding an
        // unset variable), that would open the server without a word.
        if (o->server.token.empty() && (token->count() > 0 || std::getenv("DISC_TOKEN")))
          return fail(Error("the bearer token is empty (--token or DISC_TOKEN): give one, or neither to serve "
                            "without authentication"));
        // Every thread the server starts inherits this mask, so only sigwait() sees the signals.
        sigset_t stop_signals;
        sigemptyset(&stop_signals);
        sigaddset(&stop_signals, SIGTERM);
        sigaddset(&stop_signals, SIGINT);
        pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

        // gRPC 1.51's listener was seen to stop accepting for good after one accept() failed
        // for want of descriptors (doc/FORMAT.md, "Limits of the server"): take every one the
        // hard limit allows.
        if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
          files.rlim_cur = files.rlim_max;
          setrlimit(RLIMIT_NOFILE, &files);
        }
        o->server.assets_dir = globals().assets_dir;
        set_inference_threads(o->threads);
        auto server = InferenceServer::start(o->server);
        if (!server.ok()) return fail(server.error());
        const auto colon = o->server.listen.rfind(':');
        std::cout << fmt::format("disc serve: listening on {}:{}", o->server.listen.substr(0, colon),
                                 (*server)->port())
                  << std::endl;
        int signal = 0;
        sigwait(&stop_signals, &signal);
        if (!globals().quiet) std::cerr << fmt::format("disc serve: {}, shutting down\n", strsignal(signal));
        (*server)->shutdown(std::chrono::milliseconds(o->grace_ms));
        (*server)->wait();
        return 0;
      };
    }}};

}  // namespace
}  // namespace disc::cli
