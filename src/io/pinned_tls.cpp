#include "io/pinned_tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

namespace kmchain::io {

namespace {

// The Ed25519 key of a certificate whose self-signature verifies.
std::optional<crypto::Ed25519PublicKey> self_signed_key(X509* cert) {
  if (cert == nullptr) return std::nullopt;
  EVP_PKEY* pkey = X509_get0_pubkey(cert);
  if (pkey == nullptr || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 ||
      X509_verify(cert, pkey) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  crypto::Ed25519PublicKey key{};
  std::size_t len = key.size();
  if (EVP_PKEY_get_raw_public_key(pkey, key.data(), &len) != 1 || len != key.size()) {
    ERR_clear_error();
    return std::nullopt;
  }
  return key;
}

}  // namespace

asio::ssl::context make_gateway_tls_context(std::string_view certificate_pem,
                                            std::string_view private_key_pem) {
  asio::ssl::context ctx(asio::ssl::context::tls);
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION);
  ctx.use_certificate(asio::buffer(certificate_pem.data(), certificate_pem.size()),
                      asio::ssl::context::pem);
  ctx.use_private_key(asio::buffer(private_key_pem.data(), private_key_pem.size()),
                      asio::ssl::context::pem);
  ctx.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  // Until a link pins it, no peer is accepted.
  ctx.set_verify_callback([](bool, asio::ssl::verify_context&) { return false; });
  return ctx;
}

std::function<bool(bool, asio::ssl::verify_context&)> pin_to(
    std::vector<crypto::Ed25519PublicKey> allowed) {
  return [allowed = std::move(allowed)](bool, asio::ssl::verify_context& vc) {
    X509_STORE_CTX* store = vc.native_handle();
    // OpenSSL calls back per certificate of the chain, root first; a self-signed leaf is the
    // whole chain (depth 0). Its own verdict ("self-signed certificate") is replaced by ours.
    if (X509_STORE_CTX_get_error_depth(store) != 0) return false;
    const auto key = self_signed_key(X509_STORE_CTX_get_current_cert(store));
    if (!key || std::find(allowed.begin(), allowed.end(), *key) == allowed.end()) return false;
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return true;
  };
}

std::vector<crypto::Ed25519PublicKey> validator_keys(const ledger::Genesis& genesis) {
  std::vector<crypto::Ed25519PublicKey> keys;
  for (const ledger::Validator& v : genesis.validators)
    keys.push_back(v.public_key);
  return keys;
}

std::optional<crypto::Ed25519PublicKey> peer_key(SSL* ssl) {
  std::unique_ptr<X509, void (*)(X509*)> cert(SSL_get1_peer_certificate(ssl), X509_free);
  return self_signed_key(cert.get());
}

std::optional<GatewayId> peer_gateway(SSL* ssl, const ledger::Genesis& genesis) {
  const auto key = peer_key(ssl);
  if (!key) return std::nullopt;
  for (const ledger::Validator& v : genesis.validators) {
    if (v.public_key == *key) return v.index;
  }
  return std::nullopt;
}

}  // namespace kmchain::io
