// TLS 1.3 for the gateway links, authenticated by pinning to the genesis. Each gateway presents
// the self-signed certificate of its Ed25519 identity (crypto/x509.h); a peer is accepted when
// that certificate's self-signature verifies and its key is the genesis key it must be: for an
// outgoing link, the key of the gateway dialled; for an incoming one, any validator's key, and
// the key then names the peer. No certificate authority is trusted, so none can be abused.
//
// The check runs in OpenSSL's verify callback, so a peer that fails it is refused inside the
// handshake with an alert. TLS 1.3 caveat (ECOSYSTEM.md): the client's handshake completes
// before the server has judged the client's certificate, so a refused client learns it on its
// first read; only the server's accept result says that the client is authenticated.
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "base/ids.h"
#include "crypto/sign.h"
#include "io/asio.h"
#include "ledger/genesis.h"

namespace kmchain::io {

// A context for both ends of gateway links: TLS 1.3 only, this gateway's certificate and key,
// peer certificates required. Asio reports a bad PEM as an exception here, at startup.
asio::ssl::context make_gateway_tls_context(std::string_view certificate_pem,
                                            std::string_view private_key_pem);

// A verify callback that accepts exactly a self-signed Ed25519 leaf certificate of one of
// `allowed` keys (and nothing at other depths: chains are not used).
std::function<bool(bool, asio::ssl::verify_context&)> pin_to(
    std::vector<crypto::Ed25519PublicKey> allowed);

// Every validator's key: what an acceptor pins to.
std::vector<crypto::Ed25519PublicKey> validator_keys(const ledger::Genesis& genesis);

// After a handshake: the key of the peer's self-signed certificate.
std::optional<crypto::Ed25519PublicKey> peer_key(SSL* ssl);

// After a handshake: the gateway the peer's certificate names, if its key is in the genesis.
std::optional<GatewayId> peer_gateway(SSL* ssl, const ledger::Genesis& genesis);

}  // namespace kmchain::io
