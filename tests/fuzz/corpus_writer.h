// Shared by the seed corpus generators (make_corpus, make_ledger_corpus, make_consensus_corpus
// and fuzz_d2d_record built as make_d2d_corpus): their command line and the files they write.
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "fuzz_assert.h"

namespace kmchain::fuzz {

// The corpus directory, the one argument; nullopt, after a usage line, for anything else.
inline std::optional<std::filesystem::path> corpus_root(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return std::nullopt;
  }
  return std::filesystem::path(argv[1]);
}

// Writes `bytes` as dir/name, creating dir.
inline void write_file(const std::filesystem::path& dir, const std::string& name, ByteView bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  KMCHAIN_FUZZ_ASSERT(out.good());
}

// Seeds written by write_seed so far.
inline std::size_t seeds_written = 0;

// write_file, listing the seed as "  <target>/<name> (<size> bytes)".
inline void write_seed(const std::filesystem::path& dir, const std::string& name, ByteView bytes) {
  write_file(dir, name, bytes);
  std::printf("  %s/%s (%zu bytes)\n", dir.filename().c_str(), name.c_str(), bytes.size());
  ++seeds_written;
}

}  // namespace kmchain::fuzz
