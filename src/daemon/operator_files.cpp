#include "daemon/operator_files.h"

#include <fmt/format.h>

#include "config/genesis_file.h"
#include "io/durable_file.h"
#include "io/gateway_files.h"

namespace kmchain::daemon {

Result<std::string, std::string> check_gateway_config(const std::string& config_path) {
  auto files = io::load_gateway_files(config_path);
  if (!files) return Err{config_path + ": " + to_string(files.error())};
  const auto& c = files->config;
  const auto& g = files->genesis.genesis;
  return fmt::format(
      "{}: gateway {} of \"{}\" ({} gateways), chain id {}\n"
      "  identity {}, links {}, devices {}, admin {}, {} mode, data in {}\n",
      config_path, c.index, g.name, g.validators.size(), to_hex(g.chain_id()),
      to_hex(files->identity.public_key()), to_string(c.listen_gateway), to_string(c.listen_device),
      to_string(c.listen_admin), to_string(c.submission_mode), files->data_dir.string());
}

Result<OperatorCredentials, std::string> load_operator_credentials(
    const std::string& key_path, const std::string& genesis_path) {
  auto key = io::load_private_key_file(key_path, "operator key");
  if (!key) return Err{to_string(key.error())};
  auto text = io::read_config_file(genesis_path, "genesis");
  if (!text) return Err{to_string(text.error())};
  auto genesis = config::parse_genesis_file(*text);
  if (!genesis) return Err{genesis_path + ": " + to_string(genesis.error())};
  OperatorCredentials credentials{std::move(key).value(), {}};
  for (const ledger::Validator& v : genesis->genesis.validators)
    credentials.gateway_keys.push_back(v.public_key);
  return credentials;
}

Status<std::string> write_credential_file(const std::string& path,
                                          const enroll::DeviceCredential& credential) {
  const auto text = enroll::render_credential_file(credential);
  return io::write_new_file(path, text.view(), 0600);
}

}  // namespace kmchain::daemon
