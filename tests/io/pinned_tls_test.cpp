// Gateway links over real TCP on loopback: TLS 1.3 with both ends pinned to the genesis. A
// gateway of the genesis is accepted and identified; a gateway whose certificate is not in the
// genesis, one without a certificate, and one presenting another gateway's place are refused
// inside the handshake.
#include "io/pinned_tls.h"

#include <gtest/gtest.h>

#include <array>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include "crypto/random.h"
#include "crypto/x509.h"
#include "io/asio.h"

namespace kmchain::io {
namespace {

using asio::ip::tcp;
using Stream = asio::ssl::stream<tcp::socket>;

struct Identity {
  crypto::Ed25519KeyPair key;
  std::string certificate;
  crypto::SecretPem private_key;
};

Identity identity(std::uint64_t seed) {
  crypto::DeterministicRng rng(seed);
  crypto::Ed25519KeyPair key = crypto::Ed25519KeyPair::generate(rng);
  std::string cert = crypto::self_signed_certificate_pem(key, "gateway", 1'700'000'000, 3650);
  crypto::SecretPem pem = crypto::private_key_pem(key);
  return Identity{std::move(key), std::move(cert), std::move(pem)};
}

struct ServerResult {
  asio::error_code handshake;
  std::optional<GatewayId> peer;
  std::string received;
};

class PinnedTlsTest : public ::testing::Test {
 protected:
  PinnedTlsTest() : gateways_{identity(1), identity(2), identity(3)} {
    for (std::uint16_t i = 0; i < 3; ++i)
      genesis_.validators.push_back(
          ledger::Validator{GatewayId{i}, gateways_[i].key.public_key(), 1});
    genesis_.name = "tls";
  }

  // Gateway 0 accepts one connection on loopback, pinned to every validator key; if the
  // handshake passes, it reads 5 bytes and answers "pong".
  std::future<ServerResult> serve(tcp::acceptor& acceptor, const Identity& server) {
    return std::async(std::launch::async, [&acceptor, &server, this] {
      ServerResult r;
      asio::ssl::context ctx =
          make_gateway_tls_context(server.certificate, server.private_key.view());
      tcp::socket socket = acceptor.accept();
      Stream stream(std::move(socket), ctx);
      stream.set_verify_callback(pin_to(validator_keys(genesis_)));
      stream.handshake(asio::ssl::stream_base::server, r.handshake);
      if (r.handshake) return r;
      r.peer = peer_gateway(stream.native_handle(), genesis_);
      std::array<char, 5> buf{};
      asio::error_code ec;
      asio::read(stream, asio::buffer(buf), ec);
      if (!ec) {
        r.received.assign(buf.begin(), buf.end());
        asio::write(stream, asio::buffer(std::string("pong")), ec);
      }
      return r;
    });
  }

  struct ClientResult {
    asio::error_code handshake;
    asio::error_code exchange;
    std::string answer;
  };

  // Dials gateway 0 with `ctx`, pinned to `expected`, sends "hello" and reads the answer.
  static ClientResult dial(std::uint16_t port, asio::ssl::context& ctx,
                           const crypto::Ed25519PublicKey& expected) {
    ClientResult r;
    asio::io_context io;
    Stream stream(io, ctx);
    stream.set_verify_callback(pin_to({expected}));
    stream.next_layer().connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    stream.handshake(asio::ssl::stream_base::client, r.handshake);
    if (r.handshake) return r;
    asio::write(stream, asio::buffer(std::string("hello")), r.exchange);
    std::array<char, 4> buf{};
    if (!r.exchange) asio::read(stream, asio::buffer(buf), r.exchange);
    if (!r.exchange) r.answer.assign(buf.begin(), buf.end());
    return r;
  }

  asio::io_context io_;
  tcp::acceptor acceptor_{io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::array<Identity, 3> gateways_;
  ledger::Genesis genesis_;
};

TEST_F(PinnedTlsTest, GenesisGatewaysConnectAndAreIdentified) {
  auto server = serve(acceptor_, gateways_[0]);
  asio::ssl::context ctx =
      make_gateway_tls_context(gateways_[2].certificate, gateways_[2].private_key.view());
  const ClientResult c = dial(port(), ctx, gateways_[0].key.public_key());
  const ServerResult s = server.get();
  ASSERT_FALSE(c.handshake) << c.handshake.message();
  ASSERT_FALSE(s.handshake) << s.handshake.message();
  EXPECT_EQ(s.peer, GatewayId{2});
  EXPECT_EQ(s.received, "hello");
  EXPECT_FALSE(c.exchange) << c.exchange.message();
  EXPECT_EQ(c.answer, "pong");
}

TEST_F(PinnedTlsTest, GatewayNotInTheGenesisCannotJoin) {
  auto server = serve(acceptor_, gateways_[0]);
  const Identity rogue = identity(99);
  asio::ssl::context ctx = make_gateway_tls_context(rogue.certificate, rogue.private_key.view());
  const ClientResult c = dial(port(), ctx, gateways_[0].key.public_key());
  const ServerResult s = server.get();
  // The server refuses in its handshake; the TLS 1.3 client learns it on its first read.
  EXPECT_TRUE(s.handshake);
  EXPECT_FALSE(s.peer.has_value());
  EXPECT_TRUE(c.handshake || c.exchange);
  EXPECT_TRUE(c.answer.empty());
}

TEST_F(PinnedTlsTest, ClientWithoutACertificateIsRefused) {
  auto server = serve(acceptor_, gateways_[0]);
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  const ClientResult c = dial(port(), ctx, gateways_[0].key.public_key());
  const ServerResult s = server.get();
  EXPECT_TRUE(s.handshake);
  EXPECT_TRUE(c.handshake || c.exchange);
  EXPECT_TRUE(c.answer.empty());
}

TEST_F(PinnedTlsTest, ServerInAnotherGatewaysPlaceIsRefusedByTheClient) {
  // Gateway 1 answers where the client dialled gateway 0: its key is in the genesis, but it is
  // not the key of the gateway dialled.
  auto server = serve(acceptor_, gateways_[1]);
  asio::ssl::context ctx =
      make_gateway_tls_context(gateways_[2].certificate, gateways_[2].private_key.view());
  const ClientResult c = dial(port(), ctx, gateways_[0].key.public_key());
  const ServerResult s = server.get();
  EXPECT_TRUE(c.handshake);
  EXPECT_TRUE(s.handshake || s.received.empty());
}

TEST_F(PinnedTlsTest, CertificateOfAnotherKeyThanThePrivateKeyIsRefused) {
  // A certificate copied from gateway 1, presented with a key of our own: the handshake's
  // signature cannot match the pinned key (OpenSSL refuses the pair already when loading).
  const Identity thief = identity(77);
  EXPECT_ANY_THROW(make_gateway_tls_context(gateways_[1].certificate, thief.private_key.view()));
}

}  // namespace
}  // namespace kmchain::io
