// Capture analyses (sim/capture_analysis.h): node capture equals Proposition 1 exactly when the
// network is k sets of k; gateway capture, over histories with joins through random gateways,
// leaves, evictions and moves, stays within Proposition 3 and far below the naive design where
// any gateway admits into any set, and no key a gateway dropped still opens a current link; one
// gateway alone sees everything.
#include "sim/capture_analysis.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>

namespace kmchain::sim {
namespace {

TEST(NodeCapture, AtASquareTheMeasurementIsTheFormula) {
  const CaptureResult r = analyze_capture(CaptureConfig{100, 20, 3, 1});
  EXPECT_EQ(r.sets, 10u);
  EXPECT_NEAR(r.measured, r.formula, 1e-12);
  EXPECT_NEAR(r.formula, 2.0 * 101 / (11.0 * 100), 1e-12);
}

TEST(GatewayCapture, FormulaIsPropositionThree) {
  // (2np - n - p) / ((n - 1) p^2)
  EXPECT_NEAR(gateway_capture_formula(400, 4), 2796.0 / 6384.0, 1e-15);
  EXPECT_NEAR(gateway_capture_formula(100, 1), 1.0, 1e-15);
  EXPECT_NEAR(gateway_capture_formula(10, 10), (200.0 - 20.0) / 900.0, 1e-15);
}

struct Size {
  std::size_t devices;
  std::size_t gateways;
};

class GatewayCaptureSizes : public ::testing::TestWithParam<Size> {};

TEST_P(GatewayCaptureSizes, StaysWithinTheBoundAndFarBelowTheNaiveDesign) {
  const Size size = GetParam();
  const GatewayCaptureResult r =
      analyze_gateway_capture(GatewayCaptureConfig{size.devices, size.gateways, 6, 11});
  EXPECT_LE(r.measured, r.formula + 1e-12);
  // Below only by the unevenness of random joins: a gateway's exposure is the links of its own
  // devices, m(2n - m - 1)/2 for m of them.
  EXPECT_GT(r.measured, 0.9 * r.formula);
  EXPECT_LT(r.formula, r.naive);
  EXPECT_LE(r.measured_min, r.measured);
  EXPECT_GE(r.measured_max, r.measured);
  EXPECT_GT(r.moves, 0u);
  // n joins, then n/2 changes, each a move or a removal with its replacing join.
  EXPECT_GE(r.operations, size.devices + size.devices / 2);
  EXPECT_LE(r.operations, size.devices + 2 * (size.devices / 2));
  EXPECT_EQ(r.exposed_by_dropped_keys, 0u);
}

INSTANTIATE_TEST_SUITE_P(Sizes, GatewayCaptureSizes,
                         ::testing::Values(Size{60, 2}, Size{100, 4}, Size{150, 7}),
                         [](const ::testing::TestParamInfo<Size>& p) {
                           return "Devices" + std::to_string(p.param.devices) + "Gateways" +
                                  std::to_string(p.param.gateways);
                         });

TEST(GatewayCapture, SeveralGatewaysTogetherStayWithinPropositionFour) {
  for (std::size_t c : {std::size_t{2}, std::size_t{3}, std::size_t{7}}) {
    GatewayCaptureConfig config{120, 7, 3, 4};
    config.captured_gateways = c;
    const GatewayCaptureResult r = analyze_gateway_capture(config);
    EXPECT_NEAR(r.formula, gateway_capture_formula(120, 7, c), 1e-15);
    EXPECT_LE(r.measured, r.formula + 1e-12) << c;
    EXPECT_GT(r.measured, 0.9 * r.formula) << c;
    EXPECT_EQ(r.exposed_by_dropped_keys, 0u);
  }
  // All of them: everything.
  EXPECT_NEAR(gateway_capture_formula(120, 7, 7), 1.0, 1e-12);
}

TEST(NodeCapture, WithSeveralGatewaysStaysNearPropositionOne) {
  // More gateways mean more, smaller sets (each owner fills its own): a captured device holds
  // fewer links than with one gateway, never more than a set of cap + slack allows.
  const GatewayCaptureResult one = analyze_gateway_capture(GatewayCaptureConfig{100, 1, 3, 9});
  EXPECT_NEAR(one.node_measured, one.node_formula, 0.02);
  const GatewayCaptureResult four = analyze_gateway_capture(GatewayCaptureConfig{100, 4, 3, 9});
  EXPECT_GT(four.node_measured, 0.0);
  EXPECT_LT(four.node_measured, four.node_formula * 1.2);
}

TEST(Figure4, OneRowPerConsortiumSize) {
  const auto rows = figure4(40, 3, 2, 1);
  ASSERT_EQ(rows.size(), 3u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].gateways, i + 1);
    EXPECT_NEAR(rows[i].gateway_formula, gateway_capture_formula(40, i + 1), 1e-15);
    EXPECT_LE(rows[i].gateway_measured, rows[i].gateway_formula + 1e-12);
    EXPECT_GT(rows[i].node_measured, 0.0);
  }
}

TEST(GatewayCapture, OneGatewaySeesEverything) {
  const GatewayCaptureResult r = analyze_gateway_capture(GatewayCaptureConfig{50, 1, 3, 2});
  EXPECT_NEAR(r.measured, 1.0, 1e-12);
  EXPECT_NEAR(r.formula, 1.0, 1e-12);
  EXPECT_NEAR(r.naive, 1.0, 1e-12);
  EXPECT_EQ(r.moves, 0u);  // nowhere to move to
}

}  // namespace
}  // namespace kmchain::sim
