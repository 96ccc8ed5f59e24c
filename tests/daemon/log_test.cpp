// Structured log lines (daemon/log.h): values that need it are quoted so every line splits back
// into the same pairs, and LogRate bounds the lines a peer can cause.
#include "daemon/log.h"

#include <gtest/gtest.h>

namespace kmchain::daemon {
namespace {

TEST(LogLine, PlainValuesStayBareAndOthersAreQuoted) {
  EXPECT_EQ(render_log_line("T", LogLevel::kWarn, "gw=1", "device_refused",
                            {{"path", "join"}, {"held_back", 3}, {"ok", true}}),
            "ts=T level=warn gw=1 event=device_refused path=join held_back=3 ok=true");
  EXPECT_EQ(render_log_line("T", LogLevel::kInfo, "", "e",
                            {{"reason", "a b"}, {"q", "say \"x=1\""}, {"empty", ""}}),
            R"(ts=T level=info event=e reason="a b" q="say \"x=1\"" empty="")");
  // A line break or other control byte cannot start a forged line.
  EXPECT_EQ(render_log_line("T", LogLevel::kInfo, "", "e", {{"v", "a\nlevel=error\tb"}}),
            R"(ts=T level=info event=e v="a\nlevel=error b")");
}

TEST(LogLevels, ParseWhatTheyPrint) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError})
    EXPECT_EQ(parse_log_level(to_string(l)), l);
  EXPECT_FALSE(parse_log_level("loud").has_value());
}

TEST(LogRate, AtMostSoManyPerWindowAndTheRestCounted) {
  LogRate rate(3, 1000);
  std::uint64_t held_back = 99;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(rate.allow(10, held_back));
    EXPECT_EQ(held_back, 0u);
  }
  for (int i = 0; i < 5; ++i)
    EXPECT_FALSE(rate.allow(500, held_back));
  // The next window: the first line says how many were held back.
  ASSERT_TRUE(rate.allow(1010, held_back));
  EXPECT_EQ(held_back, 5u);
  ASSERT_TRUE(rate.allow(1011, held_back));
  EXPECT_EQ(held_back, 0u);
  // A clock that goes back starts a new window rather than stalling.
  ASSERT_TRUE(rate.allow(3, held_back));
}

}  // namespace
}  // namespace kmchain::daemon
