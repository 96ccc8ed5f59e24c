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

TEST(GatewayCapture, OneGatewaySeesEverything) {
  const GatewayCaptureResult r = analyze_gateway_capture(GatewayCaptureConfig{50, 1, 3, 2});
  EXPECT_NEAR(r.measured, 1.0, 1e-12);
  EXPECT_NEAR(r.formula, 1.0, 1e-12);
  EXPECT_NEAR(r.naive, 1.0, 1e-12);
  EXPECT_EQ(r.moves, 0u);  // nowhere to move to
}

}  // namespace
}  // namespace kmchain::sim
