#include "ledger/certificate.h"

#include "base/check.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"
#include "ledger/vote.h"

namespace kmchain::ledger {

bool has_quorum(std::uint64_t power, std::uint64_t total) {
  KMCHAIN_CHECK(total <= limits::kTotalVotingPowerMax);
  KMCHAIN_CHECK(power <= total);
  return 3 * power > 2 * total;
}

const char* to_string(CertificateErrorCode code) {
  switch (code) {
    case CertificateErrorCode::kTruncated:
      return "truncated";
    case CertificateErrorCode::kBadVersion:
      return "bad version";
    case CertificateErrorCode::kTooManyPrecommits:
      return "too many precommits";
    case CertificateErrorCode::kTrailingBytes:
      return "trailing bytes";
    case CertificateErrorCode::kUnsorted:
      return "precommits unsorted or duplicated";
    case CertificateErrorCode::kUnknownValidator:
      return "unknown validator";
    case CertificateErrorCode::kBadSignature:
      return "bad signature";
    case CertificateErrorCode::kInsufficientPower:
      return "insufficient power";
    case CertificateErrorCode::kWrongBlock:
      return "certificate for another block";
  }
  return "unknown certificate error";
}

std::string to_string(const CertificateError& e) {
  switch (e.code) {
    case CertificateErrorCode::kUnsorted:
    case CertificateErrorCode::kUnknownValidator:
    case CertificateErrorCode::kBadSignature:
      return std::string(to_string(e.code)) + " (validator " + std::to_string(e.validator.value()) +
             ")";
    default:
      return to_string(e.code);
  }
}

namespace {

// The first precommit whose validator is not above its predecessor's.
Status<CertificateError> check_sorted(const CommitCertificate& c) {
  for (std::size_t i = 1; i < c.precommits.size(); ++i) {
    if (!(c.precommits[i - 1].first < c.precommits[i].first)) {
      return Err{CertificateError{CertificateErrorCode::kUnsorted, c.precommits[i].first}};
    }
  }
  return {};
}

}  // namespace

Bytes encode(const CommitCertificate& c) {
  KMCHAIN_CHECK(c.precommits.size() <= limits::kValidatorsMax);
  Bytes out;
  out.reserve(kCertificateFixedBytes + c.precommits.size() * kPrecommitBytes);
  codec::ByteWriter w(out);
  w.u8(kCertificateVersion);
  w.u64(c.height.value());
  w.u32(c.round.value());
  w.raw(c.block);
  w.u16(static_cast<std::uint16_t>(c.precommits.size()));
  for (const auto& [validator, signature] : c.precommits) {
    w.u16(validator.value());
    w.raw(signature);
  }
  return out;
}

Result<CommitCertificate, CertificateError> decode_certificate(ByteView bytes) {
  using Code = CertificateErrorCode;
  if (bytes.size() < kCertificateFixedBytes) return Err{CertificateError{Code::kTruncated}};
  codec::ByteReader r(bytes);
  if (r.u8() != kCertificateVersion) return Err{CertificateError{Code::kBadVersion}};
  CommitCertificate c{Height{r.u64()}, Round{r.u32()}, {}, {}};
  r.raw(c.block);
  const std::size_t count = r.u16();
  KMCHAIN_CHECK(r.ok());
  // Lengths before contents: nothing is allocated for a count the bytes cannot hold.
  if (count > limits::kValidatorsMax) return Err{CertificateError{Code::kTooManyPrecommits}};
  if (r.remaining() < count * kPrecommitBytes) return Err{CertificateError{Code::kTruncated}};
  if (r.remaining() > count * kPrecommitBytes) return Err{CertificateError{Code::kTrailingBytes}};
  c.precommits.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const GatewayId validator{r.u16()};
    crypto::Ed25519Signature signature{};
    r.raw(signature);
    c.precommits.emplace_back(validator, signature);
  }
  KMCHAIN_CHECK(r.at_end());
  KMCHAIN_TRY(check_sorted(c));
  return c;
}

Status<CertificateError> verify_certificate(const Genesis& genesis, const Hash256& chain_id,
                                            const CommitCertificate& c) {
  using Code = CertificateErrorCode;
  KMCHAIN_TRY(check_sorted(c));
  // Distinct known validators, so their powers sum to at most the genesis' total.
  std::uint64_t power = 0;
  for (const auto& [validator, signature] : c.precommits) {
    const Validator* v = genesis.find(validator);
    if (v == nullptr) return Err{CertificateError{Code::kUnknownValidator, validator}};
    power += v->power;
  }
  if (!has_quorum(power, genesis.total_power())) {
    return Err{CertificateError{Code::kInsufficientPower}};
  }
  // Every signature, not just a quorum of them: a certificate carries no passengers.
  for (const auto& [validator, signature] : c.precommits) {
    const Validator* v = genesis.find(validator);
    KMCHAIN_CHECK(v != nullptr);  // found in the loop above
    const Vote precommit{VoteType::kPrecommit, c.height, c.round, c.block, validator, signature};
    if (!verify_vote(v->public_key, chain_id, precommit)) {
      return Err{CertificateError{Code::kBadSignature, validator}};
    }
  }
  return {};
}

Status<CertificateError> verify_certificate(const Genesis& genesis, const CommitCertificate& c) {
  return verify_certificate(genesis, genesis.chain_id(), c);
}

Status<CertificateError> verify_commit(const Genesis& genesis, const Block& block,
                                       const CommitCertificate& c) {
  if (c.height != block.header.height || c.block != block_hash(block)) {
    return Err{CertificateError{CertificateErrorCode::kWrongBlock}};
  }
  return verify_certificate(genesis, c);
}

}  // namespace kmchain::ledger
