// decode_certificate on arbitrary bytes, then verify_certificate against the fixed consortium
// (ledger_fuzz_fixture.h): never crashes; an accepted encoding round-trips; a certificate that
// verifies has sorted, known signers holding more than 2/3 of the power (recounted here).
// The same bytes also go through decode_genesis, the other decoder a certificate depends on:
// an accepted genesis round-trips and passes validate_genesis.
#include <cstddef>
#include <cstdint>

#include "ledger/certificate.h"
#include "ledger/genesis.h"
#include "ledger_fuzz_fixture.h"

using namespace kmchain;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  const auto& f = fuzz::ledger_fixture();

  auto certificate = ledger::decode_certificate(input);
  if (certificate) {
    KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(ledger::encode(*certificate), input));
    auto verified = ledger::verify_certificate(f.genesis, f.chain_id, *certificate);
    if (verified) {
      std::uint64_t power = 0;
      for (std::size_t i = 0; i < certificate->precommits.size(); ++i) {
        const GatewayId validator = certificate->precommits[i].first;
        if (i > 0) KMCHAIN_FUZZ_ASSERT(certificate->precommits[i - 1].first < validator);
        const ledger::Validator* v = f.genesis.find(validator);
        KMCHAIN_FUZZ_ASSERT(v != nullptr);
        power += v->power;
      }
      KMCHAIN_FUZZ_ASSERT(3 * power > 2 * f.genesis.total_power());
    }
  } else if (size < ledger::kCertificateFixedBytes) {
    KMCHAIN_FUZZ_ASSERT(certificate.error().code == ledger::CertificateErrorCode::kTruncated);
  }

  auto genesis = ledger::decode_genesis(input);
  if (genesis) {
    KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(ledger::encode(*genesis), input));
    KMCHAIN_FUZZ_ASSERT(ledger::validate_genesis(*genesis).ok());
    KMCHAIN_FUZZ_ASSERT(genesis->total_power() <= limits::kTotalVotingPowerMax);
    (void)genesis->chain_id();
  }
  return 0;
}
