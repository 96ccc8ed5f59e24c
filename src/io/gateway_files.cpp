#include "io/gateway_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "config/gateway_pair_key.h"
#include "crypto/x509.h"

namespace kmchain::io {

namespace {

namespace fs = std::filesystem;
using config::ConfigError;

// Files this big are not configuration: refuse rather than read them whole.
constexpr std::uintmax_t kConfigFileBytesMax = 1 << 20;

}  // namespace

Result<std::string, ConfigError> read_config_file(const fs::path& path, const std::string& field) {
  const auto cannot = [&](int error) {
    return Err{ConfigError{field, "cannot read " + path.string() + ": " + std::strerror(error)}};
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cannot(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    return cannot(error);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Err{ConfigError{field, path.string() + " is not a regular file"}};
  }
  if (static_cast<std::uintmax_t>(st.st_size) > kConfigFileBytesMax) {
    ::close(fd);
    return Err{ConfigError{field, path.string() + " is larger than 1 MiB"}};
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::read(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const int error = errno;
  ::close(fd);
  if (done != text.size()) return cannot(error != 0 ? error : EIO);
  return text;
}

Result<crypto::Ed25519KeyPair, ConfigError> load_private_key_file(const fs::path& path,
                                                                  const std::string& field) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    std::ostringstream mode;
    mode << std::oct << (st.st_mode & 0777);
    return Err{ConfigError{
        field, path.string() + " is readable by others (mode " + mode.str() + "); chmod 600 it"}};
  }
  auto text = read_config_file(path, field);
  if (!text) return Err{text.error()};
  auto key = crypto::parse_private_key_pem(*text);
  // The text held a private key: wipe it now that it is parsed.
  crypto::SecretPem wipe(std::move(*text));
  if (!key) return Err{ConfigError{field, path.string() + ": " + crypto::to_string(key.error())}};
  return std::move(key).value();
}

Result<GatewayFiles, ConfigError> load_gateway_files(const fs::path& config_path) {
  auto text = read_config_file(config_path, "");
  if (!text) return Err{ConfigError{"", text.error().message}};
  auto parsed = config::parse_gateway_config(*text);
  if (!parsed) return Err{parsed.error()};
  const config::GatewayConfig& c = *parsed;
  const fs::path base = config_path.parent_path();
  auto resolve = [&](const std::string& p) {
    return fs::path(p).is_absolute() ? fs::path(p) : base / p;
  };

  auto genesis_text = read_config_file(resolve(c.genesis), "gateway.genesis");
  if (!genesis_text) return Err{genesis_text.error()};
  auto genesis = config::parse_genesis_file(*genesis_text);
  if (!genesis) {
    const ConfigError& e = genesis.error();
    return Err{ConfigError{"gateway.genesis", c.genesis + ": " + to_string(e)}};
  }
  const auto& validators = genesis->genesis.validators;
  if (c.index >= validators.size()) {
    return Err{ConfigError{"gateway.index", "the genesis has gateways 0.." +
                                                std::to_string(validators.size() - 1) + ", not " +
                                                std::to_string(c.index)}};
  }

  auto identity = load_private_key_file(resolve(c.identity_key), "gateway.identity_key");
  if (!identity) return Err{identity.error()};
  if (identity->public_key() != validators[c.index].public_key) {
    return Err{ConfigError{"gateway.identity_key",
                           "not the genesis key of gateway " + std::to_string(c.index)}};
  }

  auto cert_text = read_config_file(resolve(c.certificate), "gateway.certificate");
  if (!cert_text) return Err{cert_text.error()};
  auto pinned = crypto::certificate_public_key(*cert_text);
  if (!pinned) return Err{ConfigError{"gateway.certificate", crypto::to_string(pinned.error())}};
  if (*pinned != identity->public_key())
    return Err{ConfigError{"gateway.certificate", "not a certificate of the identity key"}};

  if (config::gateway_pair_key(*identity).public_key() != genesis->pair_keys[c.index]) {
    return Err{ConfigError{"gateway.identity_key",
                           "its pair key is not the genesis pair key of "
                           "gateway " +
                               std::to_string(c.index)}};
  }

  const config::GatewayAddresses& listed = genesis->addresses[c.index];
  if (c.listen_gateway != listed.gateway) {
    return Err{ConfigError{"listen.gateway",
                           "the genesis lists " + to_string(listed.gateway) + " for this gateway"}};
  }
  if (c.listen_device != listed.device) {
    return Err{ConfigError{"listen.device",
                           "the genesis lists " + to_string(listed.device) + " for this gateway"}};
  }
  const fs::path data_dir = resolve(c.data_dir);
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec))
    return Err{ConfigError{"gateway.data_dir", data_dir.string() + " is not a directory"}};

  return GatewayFiles{config_path,
                      c,
                      std::move(genesis).value(),
                      std::move(identity).value(),
                      std::move(cert_text).value(),
                      data_dir};
}

}  // namespace kmchain::io
