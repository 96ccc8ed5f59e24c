// The gateway's authenticated answers to a device: join refusals (enroll/join_refusal.h) and
// status replies (enroll/status_reply.h). Each opens only for the hello or request it answers,
// under the keys of that device; every truncation and single-byte change is refused.
#include <gtest/gtest.h>

#include <string>

#include "enroll/join_refusal.h"
#include "enroll/key_schedule.h"
#include "enroll/status_reply.h"
#include "enroll_fixture.h"

namespace kmchain::enroll {
namespace {

namespace fx = fixture;

crypto::Key128 a_node_key() {
  return crypto::Key128(kmchain::testing::counting<16>(0x50));
}

Bytes a_hello() {
  JoinInitiator device(fx::credential(), commitment_of(fx::code()), fx::kReplyPort, fx::context(),
                       fx::alice(), fx::nonce());
  return device.hello();
}

TEST(JoinRefusal, OpensForItsHelloUnderItsPskOnly) {
  const Bytes hello = a_hello();
  const auto psk = fx::credential().psk;
  for (RefusalReason reason : {RefusalReason::kCommitmentUsed, RefusalReason::kCredentialUsed,
                               RefusalReason::kUnavailable, RefusalReason::kRefused}) {
    const Bytes wire = encode_refusal(reason, hello, psk, fx::context());
    ASSERT_EQ(wire.size(), kRefusalBytes);
    auto opened = open_refusal(wire, hello, psk, fx::context());
    ASSERT_TRUE(opened.ok()) << to_string(reason);
    EXPECT_EQ(*opened, reason);
  }
  const Bytes wire = encode_refusal(RefusalReason::kCommitmentUsed, hello, psk, fx::context());
  Bytes other_hello = hello;
  ASSERT_GT(other_hello.size(), 40u);
  other_hello.at(40) ^= 1;
  EXPECT_EQ(open_refusal(wire, other_hello, psk, fx::context()).error(), JoinError::kAuthFailed);
  crypto::Secret256 other_psk = psk;
  other_psk.mutable_view()[0] ^= 1;
  EXPECT_EQ(open_refusal(wire, hello, other_psk, fx::context()).error(), JoinError::kAuthFailed);
  auto other_context = fx::context();
  other_context[0] ^= 1;
  EXPECT_EQ(open_refusal(wire, hello, psk, other_context).error(), JoinError::kAuthFailed);
}

TEST(JoinRefusal, EveryChangeAndTruncationIsRefused) {
  const Bytes hello = a_hello();
  const auto psk = fx::credential().psk;
  const Bytes wire = encode_refusal(RefusalReason::kUnavailable, hello, psk, fx::context());
  for (std::size_t n = 0; n < wire.size(); ++n)
    EXPECT_FALSE(open_refusal(ByteView(wire).first(n), hello, psk, fx::context()).ok()) << n;
  for (std::size_t i = 0; i < wire.size(); ++i) {
    Bytes changed = wire;
    changed[i] ^= 0x01;
    EXPECT_FALSE(open_refusal(changed, hello, psk, fx::context()).ok()) << i;
  }
  Bytes text(18, 'x');  // what an unauthenticated refusal would look like
  EXPECT_FALSE(open_refusal(text, hello, psk, fx::context()).ok());
}

TEST(StatusReply, OpensForItsRequestOnly) {
  const auto key = reply_key(a_node_key(), fx::context(), fx::kNode);
  const StatusReply failed{JoinStatus::kFailed, fx::kNode, 7, "commitment already used"};
  const Bytes wire = encode_status_reply(failed, key);
  auto opened = open_status_reply(wire, fx::kNode, 7, key);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->status, JoinStatus::kFailed);
  EXPECT_EQ(opened->reason, "commitment already used");
  // An older request's reply, another device's, or one under the request key: refused.
  EXPECT_EQ(open_status_reply(wire, fx::kNode, 8, key).error(), ReplyError::kWrongRequest);
  EXPECT_EQ(open_status_reply(wire, NodeId{fx::kNode.value() + 1}, 7, key).error(),
            ReplyError::kWrongRequest);
  const auto request = request_key(a_node_key(), fx::context(), fx::kNode);
  EXPECT_EQ(open_status_reply(wire, fx::kNode, 7, request).error(), ReplyError::kAuthFailed);
  for (std::size_t i = 0; i < wire.size(); ++i) {
    Bytes changed = wire;
    changed[i] ^= 0x80;
    EXPECT_FALSE(open_status_reply(changed, fx::kNode, 7, key).ok()) << i;
  }
  for (std::size_t n = 0; n < wire.size(); ++n)
    EXPECT_FALSE(open_status_reply(ByteView(wire).first(n), fx::kNode, 7, key).ok()) << n;
}

TEST(StatusReply, ALongReasonIsCutAndAMemberHasNone) {
  const auto key = reply_key(a_node_key(), fx::context(), fx::kNode);
  const StatusReply longer{JoinStatus::kFailed, fx::kNode, 1, std::string(200, 'r')};
  auto opened = open_status_reply(encode_status_reply(longer, key), fx::kNode, 1, key);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->reason.size(), kReplyReasonBytesMax);
  const StatusReply member{JoinStatus::kMember, fx::kNode, 2, {}};
  const Bytes wire = encode_status_reply(member, key);
  EXPECT_EQ(wire.size(), kReplyBytesMin);
  EXPECT_EQ(open_status_reply(wire, fx::kNode, 2, key)->status, JoinStatus::kMember);
}

}  // namespace
}  // namespace kmchain::enroll
