#include "pkg/tsdb/block/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "pkg/tsdb/chunks/file_util.h"

namespace kiln::tsdb::block {

Result<std::string> ReadWholeFile(const std::string& path) {
  chunks::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Status::NotFound("open " + path);
    return Status::FromErrno("open " + path, errno);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("read " + path, errno);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  {
    KILN_ASSIGN_OR_RETURN(chunks::UniqueFd fd, chunks::CreateFile(tmp));
    KILN_RETURN_IF_ERROR(chunks::WriteAll(fd.get(), data, tmp));
    KILN_RETURN_IF_ERROR(chunks::SyncFd(fd.get(), tmp));
    KILN_RETURN_IF_ERROR(fd.Close());
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::FromErrno("rename " + tmp, errno);
  }
  return chunks::SyncDir(std::filesystem::path(path).parent_path().string());
}

}  // namespace kiln::tsdb::block
