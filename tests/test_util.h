// Small helpers shared by tests and benchmarks.
#pragma once

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace infoflyt::testing {

// The whole file, or "" if it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `command` with the shell; its stdout is appended to *out. The exit status, or -1.
inline int RunCommand(const std::string& command, std::string* out) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) out->append(buf, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// What a shell command prints on stdout, without its last newline.
inline std::string CommandOutput(const std::string& command) {
  std::string out;
  RunCommand(command, &out);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// The sample of `series` (its name and labels exactly) in Prometheus text format, or -1.
inline double MetricValue(const std::string& metrics, const std::string& series) {
  const size_t at = ("\n" + metrics).find("\n" + series + " ");
  return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + series.size() + 1));
}

// How often `needle` occurs in `text` (overlapping occurrences counted).
inline int CountOccurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The SHA-256 fingerprint of the certificate in `pem_file`, as OpenSSL prints it (AB:CD:...).
inline std::string FingerprintOf(const std::string& pem_file) {
  return CommandOutput("openssl x509 -noout -fingerprint -sha256 -in " + pem_file +
                       " | sed 's/.*=//'");
}

// The same as the daemon writes it (lower-case hex, no colons), computed by `openssl`.
inline std::string FingerprintHex(const std::string& pem_file) {
  return CommandOutput("openssl x509 -noout -fingerprint -sha256 -in " + pem_file +
                       " | sed 's/.*=//; s/://g' | tr A-F a-f");
}

// The log line that holds all of `parts`, or "".
inline std::string LineWith(const std::string& log, const std::vector<std::string>& parts) {
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (std::all_of(parts.begin(), parts.end(),
                    [&](const std::string& p) { return line.find(p) != std::string::npos; })) {
      return line;
    }
  }
  return "";
}

// Polls `done` every 20 ms until it holds or `limit` passes; whether it held.
template <typename Done>
bool Eventually(Done done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// A file of the source tree, e.g. "deploy/parties.toml".
inline std::string ReadSourceFile(const std::string& relative) {
  return ReadFile(std::string(INFOFLYT_SOURCE_DIR) + "/" + relative);
}

}  // namespace infoflyt::testing
