// The operator's requests parsed into types: what is accepted, with its defaults, and that
// every field of the wrong type or range is refused by name.
#include "daemon/admin_request.h"

#include <gtest/gtest.h>

namespace kmchain::daemon {
namespace {

TEST(AdminRequest, AcceptsEachOpWithItsFieldsAndDefaults) {
  auto chain = parse_admin_request(std::string_view(R"({"op":"chain"})"));
  ASSERT_TRUE(chain) << chain.error();
  EXPECT_EQ(std::get<ChainRequest>(*chain).from, 1u);
  EXPECT_EQ(std::get<ChainRequest>(*chain).count, 100u);
  chain = parse_admin_request(
      std::string_view(R"({"op":"chain","from":9007199254740991,"count":1000})"));
  ASSERT_TRUE(chain) << chain.error();
  EXPECT_EQ(std::get<ChainRequest>(*chain).from, kChainFromMax);

  auto evict = parse_admin_request(std::string_view(R"({"op":"evict","node":4294967295})"));
  ASSERT_TRUE(evict) << evict.error();
  EXPECT_EQ(std::get<EvictRequest>(*evict).node, NodeId{0xffffffffu});

  const std::string psk(64, 'a');
  auto admit = parse_admin_request(std::string_view(
      R"({"op":"admit","credential_id":"00112233445566778899AABBCCDDEEFF","psk":")" + psk +
      R"("})"));
  ASSERT_TRUE(admit) << admit.error();
  const auto& credential = std::get<AdmitRequest>(*admit).credential;
  EXPECT_EQ(credential.id[0], 0x00);
  EXPECT_EQ(credential.id[15], 0xff);
  EXPECT_EQ(credential.psk.view()[31], 0xaa);

  for (const char* op : {"status", "members"}) {
    auto r = parse_admin_request(nlohmann::json{{"op", op}});
    ASSERT_TRUE(r) << r.error();
    EXPECT_STREQ(op_name(*r), op);
  }
}

TEST(AdminRequest, RefusesWrongTypesAndRangesNamingTheField) {
  const std::pair<nlohmann::json, const char*> wrong[] = {
      {{{"op", "chain"}, {"from", "x"}}, "\"from\""},
      {{{"op", "chain"}, {"from", nullptr}}, "\"from\""},
      {{{"op", "chain"}, {"from", 0}}, "\"from\""},
      {{{"op", "chain"}, {"from", kChainFromMax + 1}}, "\"from\""},
      {{{"op", "chain"}, {"count", "x"}}, "\"count\""},
      {{{"op", "chain"}, {"count", -5}}, "\"count\""},
      {{{"op", "chain"}, {"count", true}}, "\"count\""},
      {{{"op", "evict"}, {"node", 4294967296ull}}, "\"node\""},
      {{{"op", "evict"}, {"node", 4294967297ull}}, "\"node\""},
      {{{"op", "evict"}, {"node", 2.0}}, "\"node\""},
      {{{"op", "evict"}, {"node", nlohmann::json::array({1})}}, "\"node\""},
      {{{"op", "admit"}, {"credential_id", 1}, {"psk", 2}}, "\"credential_id\""},
      {{{"op", "admit"}, {"credential_id", std::string(32, '0')}, {"psk", 2}}, "\"psk\""},
      {{{"op", "admit"}, {"credential_id", std::string(32, 'z')}, {"psk", std::string(64, '0')}},
       "\"credential_id\""},
      {{{"op", "admit"}, {"credential_id", std::string(34, '0')}, {"psk", std::string(64, '0')}},
       "\"credential_id\""},
      {{{"op", "status"}, {"verbose", true}}, "\"verbose\""},
      {{{"op", nullptr}}, "\"op\""},
      {{{"node", 1}}, "\"op\""},
      {nlohmann::json("status"), "object"},
  };
  for (const auto& [request, field] : wrong) {
    auto r = parse_admin_request(request);
    ASSERT_FALSE(r) << request.dump();
    EXPECT_NE(r.error().find(field), std::string::npos) << request.dump() << " -> " << r.error();
  }
  EXPECT_FALSE(parse_admin_request(std::string_view("{\"op\":\"status\"")));
  EXPECT_FALSE(parse_admin_request(std::string_view("")));
}

}  // namespace
}  // namespace kmchain::daemon
