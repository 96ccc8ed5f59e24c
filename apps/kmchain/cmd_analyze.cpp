#include "kmchain/commands.h"

namespace kmchain::app {
void add_analyze_command(CLI::App& app, int& exit_code) {
  (void)app;
  (void)exit_code;
}
}  // namespace kmchain::app
