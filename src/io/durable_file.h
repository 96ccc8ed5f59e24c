// Durable file writes: on disk, data and name, when the call returns. Every file kmchain writes
// outside SQLite goes through here (identity keys and configs from `init`, credentials, a
// device's state and counters, the consensus WAL's compaction).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace kmchain::io {

// Writes all of `data` to `fd`, retrying interrupted and partial writes.
bool write_all(int fd, ByteView data);
// Makes a rename or a creation in the directory of `path` durable.
bool sync_directory_of(const std::filesystem::path& path);

// Creates `path` with `mode` (never replacing a file that exists), writes `text`, syncs it and
// its directory. The error names the file and the cause.
Status<std::string> write_new_file(const std::filesystem::path& path, std::string_view text,
                                   mode_t mode);
// Replaces `path` atomically with `text`: a temporary beside it is written and synced, renamed
// over it, and the directory synced; a crash leaves the old file or the new one, never a part.
Status<std::string> replace_file(const std::filesystem::path& path, std::string_view text,
                                 mode_t mode);

}  // namespace kmchain::io
