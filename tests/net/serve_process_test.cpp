// The `disc serve` and `disc edge` processes (DISC_CLI).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "disc/edge_client.hpp"
#include "disc/timing.hpp"
#include "shell.hpp"

namespace {

// `disc serve` as a child process whose stdout we read.
class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> extra) {
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      std::vector<std::string> args = {DISC_CLI, "--assets", DISC_TEST_ASSETS_DIR, "serve", "--listen",
                                       "127.0.0.1:0", "--model", "resnet20_cifar10"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(DISC_CLI, argv.data());
      _exit(127);
    }
    close(out[1]);
    stdout_ = fdopen(out[0], "r");
  }
  ~ServeProcess() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stdout_) fclose(stdout_);
  }

  // The address from the "listening on HOST:PORT" line, or "" if the server died.
  std::string address() {
    char line[256];
    if (!fgets(line, sizeof line, stdout_)) return "";
    std::string text(line);
    const auto at = text.find("listening on ");
    if (at == std::string::npos) return "";
    text = text.substr(at + 13);
    return text.substr(0, text.find_first_of("\r\n"));
  }

  // Exit status after `signal`, or -1 if the process does not exit within `timeout` seconds.
  int stop(int signal, double timeout) {
    kill(pid_, signal);
    const disc::Stopwatch waited;
    while (waited.seconds() < timeout) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
  bool reaped_ = false;
};

std::unique_ptr<disc::EdgeClient> client_for(const std::string& address) {
  disc::ClientOptions options;
  options.servers = {address};
  return std::move(disc::EdgeClient::connect(options)).value();
}

using disc::testing::disc_cli;
using disc::testing::run_shell;

TEST(ServeProcessTest, ExitsCleanlyOnSigterm) {
  ServeProcess serve({"--workers", "2", "--max-queued", "4", "--max-connection-age-ms", "60000"});
  const std::string address = serve.address();
  ASSERT_FALSE(address.empty());
  auto described = client_for(address)->describe();
  ASSERT_TRUE(described.ok()) << described.error().message();
  EXPECT_EQ(described->models.at(0).name, "resnet20_cifar10");
  EXPECT_EQ(serve.stop(SIGTERM, 30), 0);
}

TEST(ServeProcessTest, ExitsCleanlyOnSigint) {
  ServeProcess serve({});
  ASSERT_FALSE(serve.address().empty());
  EXPECT_EQ(serve.stop(SIGINT, 30), 0);
}

TEST(ServeProcessTest, EdgeCommandClassifiesThroughTheServer) {
  ServeProcess serve({"--token", "t0ken"});
  const std::string address = serve.address();
  ASSERT_FALSE(address.empty());
  auto description = client_for(address)->describe();
  ASSERT_FALSE(description.ok());  // no token
  const auto [output, status] = run_shell(disc_cli() + " edge --server " + address +
                                          " --token t0ken --model resnet20_cifar10 --server-only --dataset-images 4" +
                                          " --check-local --json");
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("\"local_agreement\": 1.0"), std::string::npos) << output;
  EXPECT_NE(output.find("\"images\": 4"), std::string::npos) << output;
  EXPECT_EQ(serve.stop(SIGTERM, 30), 0);
}

// Output and exit status of a `disc -q edge --edge-only` run on resnet20_cifar10's data set.
std::pair<std::string, int> run_edge_only(const std::string& args) {
  return run_shell(disc_cli() + " edge --model resnet20_cifar10 --edge-only --json " + args);
}

TEST(ServeProcessTest, EdgeFirstImageSelectsASliceOfTheDataSet) {
  const auto [all, all_status] = run_edge_only("--dataset-images 7");
  ASSERT_EQ(all_status, 0) << all;
  const auto [slice, slice_status] = run_edge_only("--dataset-images 2 --first-image 5");
  ASSERT_EQ(slice_status, 0) << slice;
  const auto paths = [](const std::string& json) {
    std::vector<std::string> out;
    for (size_t at = json.find("\"path\": \""); at != std::string::npos; at = json.find("\"path\": \"", at + 1)) {
      const size_t begin = at + 9;
      out.push_back(json.substr(begin, json.find('"', begin) - begin));
    }
    return out;
  };
  const auto every = paths(all), some = paths(slice);
  ASSERT_EQ(every.size(), 7u) << all;
  EXPECT_EQ(some, (std::vector<std::string>{every[5], every[6]}));
  const auto [past, past_status] = run_edge_only("--dataset-images 2 --first-image 9999");
  EXPECT_NE(past_status, 0);
  EXPECT_NE(past.find("--first-image 9999 --dataset-images 2: data set"), std::string::npos) << past;
}

// The table tells images apart: CIFAR-10's class folders all hold 0000.jpg.
TEST(ServeProcessTest, EdgeTableNamesImagesByFolderWhereFileNamesRepeat) {
  const auto [table, status] = run_shell(disc_cli() + " edge --model resnet20_cifar10 --edge-only --dataset-images 2");
  ASSERT_EQ(status, 0) << table;
  EXPECT_NE(table.find("\nairplane/0000.jpg [0] "), std::string::npos) << table;
  EXPECT_NE(table.find("\nautomobile/0000.jpg [1] "), std::string::npos) << table;
}

// Options of one mode given outside it are refused, not silently ignored (bad-input audit),
// before anything runs: no server is needed to see the message.
TEST(ServeProcessTest, EdgeRefusesOptionsOfAModeItDoesNotRun) {
  for (const std::string option : {"--profile p.json", "--table t.json", "--loss estimate", "--loss labels",
                                   "--budget 2", "--edge-speed 0.5", "--rtt-ms 3", "--initial-bandwidth 5Mbit",
                                   "--burst 100", "--compute-alpha 0.5", "--min-sample-bytes 10", "--probe-every 2"}) {
    const std::string name = option.substr(0, option.find(' '));
    const std::string expected = "disc: " + name + " steers AGLOP: it applies with --auto (or an auto plan of --compare)";
    const auto [alone, alone_status] = run_edge_only("--dataset-images 1 " + option);
    EXPECT_NE(alone_status, 0) << option;
    EXPECT_EQ(alone.rfind(expected, 0), 0u) << option << "\n" << alone;
    EXPECT_EQ(std::count(alone.begin(), alone.end(), '\n'), 1) << option << "\n" << alone;
    // --compare without an `auto` plan does not run AGLOP either.
    const auto [compared, compared_status] =
        run_shell(disc_cli() + " edge --model resnet20_cifar10 --dataset-images 1 --compare edge-only " + option);
    EXPECT_NE(compared_status, 0) << option;
    EXPECT_EQ(compared.rfind(expected, 0), 0u) << option << "\n" << compared;
  }
  const auto [cut, cut_status] = run_edge_only("--dataset-images 1 --cut /layer1/layer1.0/Relu_1_output_0");
  EXPECT_NE(cut_status, 0);
  EXPECT_EQ(cut, "disc: --cut names a split: not with --edge-only or --server-only\n");
  const auto [codec, codec_status] = run_edge_only("--dataset-images 1 --codec disc:bits=3");
  EXPECT_NE(codec_status, 0);
  EXPECT_EQ(codec.rfind("disc: --codec applies to a split given with --cut only", 0), 0u) << codec;
  // --codec and --chunks are defaults for --compare's splits: refused when it lists none.
  for (const std::string option : {"--codec disc:bits=3", "--chunks 2"}) {
    const auto [defaults, defaults_status] = run_shell(
        disc_cli() + " edge --model resnet20_cifar10 --dataset-images 1 --compare 'edge-only;server-only' " + option);
    EXPECT_NE(defaults_status, 0) << option;
    EXPECT_EQ(defaults.rfind("disc: --codec and --chunks are defaults for the splits of --compare, and it lists none", 0),
              0u)
        << option << "\n" << defaults;
  }
  // CLI11's ranges compare, and NaN fails no comparison: each number must be finite as well.
  for (const std::string option : {"--rtt-ms nan", "--burst nan", "--compute-alpha nan"}) {
    const auto [nan, nan_status] = run_edge_only("--dataset-images 1 --auto " + option);
    EXPECT_NE(nan_status, 0) << option;
    EXPECT_EQ(nan, "disc: " + option.substr(0, option.find(' ')) + ": must be finite and not negative\n") << option;
  }
  const auto [seed, seed_status] = run_edge_only("--dataset-images 1 --seed 3");
  EXPECT_NE(seed_status, 0);
  EXPECT_EQ(seed.rfind("disc: --seed orders the plans of --compare; not without it", 0), 0u) << seed;
  const auto [first, first_status] =
      run_edge_only("--first-image 2 " + std::string(DISC_TEST_ASSETS_DIR) + "/data/cifar10-test/cat/0000.jpg");
  EXPECT_NE(first_status, 0);
  EXPECT_EQ(first.rfind("disc: --first-image selects data set images: give --dataset-images N too", 0), 0u) << first;
  // Options of the connection are refused when no plan connects; --server is not (scripts pass
  // it to every mode).
  for (const std::string option : {"--tls-ca ca.pem", "--deadline-ms 5", "--retries 2"})
    for (const std::string plans : {"--edge-only", "--compare edge-only"}) {
      const auto [link, link_status] = run_shell(disc_cli() + " edge --model resnet20_cifar10 --dataset-images 1 " +
                                                 plans + " " + option);
      EXPECT_NE(link_status, 0) << option;
      EXPECT_EQ(link, "disc: " + option.substr(0, option.find(' ')) +
                          " shapes the connection to a server, and every plan here is edge-only\n")
          << plans << " " << option;
    }
  const auto [with_server, with_server_status] = run_edge_only("--dataset-images 1 --server 127.0.0.1:1");
  EXPECT_EQ(with_server_status, 0) << with_server;
}

// A self-signed certificate for 127.0.0.1 in `dir`: dir/NAME.pem and dir/NAME.key.
void make_certificate(const std::string& dir, const std::string& name) {
  const auto [output, status] = run_shell("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=disc-test"
                                          " -addext subjectAltName=IP:127.0.0.1 -keyout " + dir + "/" + name +
                                          ".key -out " + dir + "/" + name + ".pem");
  ASSERT_EQ(status, 0) << output;
}

TEST(ServeProcessTest, TlsServerAnswersOnlyClientsThatTrustItsCertificate) {
  char dir_template[] = "/tmp/disc_tls_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  make_certificate(dir, "server");
  make_certificate(dir, "other");
  ServeProcess serve({"--tls-cert", dir + "/server.pem", "--tls-key", dir + "/server.key"});
  const std::string address = serve.address();
  ASSERT_FALSE(address.empty());
  const std::string edge = disc_cli() + " edge --server " + address +
                           " --model resnet20_cifar10 --server-only --dataset-images 2 --retries 0 ";

  const auto [trusted, trusted_status] = run_shell(edge + "--check-local --json --tls-ca " + dir + "/server.pem");
  EXPECT_EQ(trusted_status, 0) << trusted;
  EXPECT_NE(trusted.find("\"local_agreement\": 1.0"), std::string::npos) << trusted;
  const auto [plain, plain_status] = run_shell(edge + "--deadline-ms 3000");
  EXPECT_NE(plain_status, 0) << plain;
  const auto [untrusted, untrusted_status] = run_shell(edge + "--deadline-ms 3000 --tls-ca " + dir + "/other.pem");
  EXPECT_NE(untrusted_status, 0) << untrusted;
  EXPECT_EQ(serve.stop(SIGTERM, 30), 0);
  std::filesystem::remove_all(dir);
}

// An empty token would serve without authentication: refused, whether given as an option or
// through the environment, before anything listens (a server that starts is stopped by timeout).
TEST(ServeProcessTest, AnEmptyTokenIsRefused) {
  for (const std::string how : {" --token ''", ""}) {
    const std::string env = how.empty() ? "DISC_TOKEN= " : "";
    const auto [output, status] =
        run_shell(env + "timeout 20 " + disc_cli() + " serve --model resnet20_cifar10 --listen 127.0.0.1:0" + how);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << how << ": " << output;
    EXPECT_NE(output.find("bearer token is empty"), std::string::npos) << how << ": " << output;
  }
}

TEST(ServeProcessTest, EdgeReportsAnUnreachableServerInOneLine) {
  ServeProcess serve({});
  const std::string address = serve.address();
  ASSERT_EQ(serve.stop(SIGTERM, 30), 0);
  const std::string command = disc_cli() + " edge --server " + address +
                              " --retries 1 --model resnet20_cifar10 --server-only --dataset-images 1 2>&1";
  FILE* edge = popen(command.c_str(), "r");
  ASSERT_NE(edge, nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, edge)) output.append(buffer, n);
  EXPECT_NE(pclose(edge), 0);
  EXPECT_NE(output.find("UNAVAILABLE"), std::string::npos) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
}

}  // namespace
