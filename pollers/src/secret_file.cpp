#include "edgepoll/pollers/secret_file.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace edgepoll::pollers {

Result<std::string> read_secret_file(const std::string& path, const std::string& device_id) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error("pollers.config.secret_unreadable",
                      fmt::format("device \"{}\": cannot read secret file \"{}\"", device_id, path),
                      false, "check the path and that the edgepoll user may read it");
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string secret = buf.str();
  // Files written by `echo` end with a newline that is not part of the secret.
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty())
    return make_error("pollers.config.secret_empty",
                      fmt::format("device \"{}\": secret file \"{}\" is empty", device_id, path),
                      false);
  return secret;
}

}  // namespace edgepoll::pollers
