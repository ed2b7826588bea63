#include "hal/cpu/executable.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace moert::hal::cpu {
namespace {

#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
#else
constexpr uint16_t kHostMachine = EM_NONE;
#endif

std::string Errno(int err) { return std::strerror(err); }

std::string DlError() {
  const char* message = dlerror();
  return message ? message : "unknown dlopen error";
}

// Refuses what is certainly not a shared object for this host before anything
// is written, with a clearer message than the dynamic loader's.
Status CheckElfHeader(const std::string& name, const uint8_t* data, uint64_t size) {
  if (size < sizeof(Elf64_Ehdr) || std::memcmp(data, ELFMAG, SELFMAG) != 0) {
    std::string head;
    for (uint64_t i = 0; i < size && i < 4; ++i) {
      head += StrCat(i ? " " : "", std::hex, static_cast<int>(data[i]));
    }
    return InvalidArgument(name, ": not an ELF shared object (", size,
                           " bytes, starting with [", head, "])");
  }
  if (data[EI_CLASS] != ELFCLASS64 || data[EI_DATA] != ELFDATA2LSB) {
    return InvalidArgument(name, ": not a 64-bit little-endian ELF object");
  }
  Elf64_Ehdr header;
  std::memcpy(&header, data, sizeof(header));
  if (header.e_type != ET_DYN) {
    return InvalidArgument(name, ": ELF type ", header.e_type,
                           " is not a shared object (ET_DYN = ", ET_DYN, ")");
  }
  if (kHostMachine != EM_NONE && header.e_machine != kHostMachine) {
    return InvalidArgument(name, ": ELF machine ", header.e_machine,
                           " does not match this host's (", kHostMachine, ")");
  }
  return Status::Ok();
}

Status WriteAll(int fd, const uint8_t* data, uint64_t size, const std::string& what) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable("writing ", what, ": ", Errno(errno));
    }
    data += n;
    size -= static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

}  // namespace

void RunKernel(KernelFn kernel, void* const* bindings, const uint32_t* constants,
               uint32_t workgroups_x, uint32_t workgroups_y, uint32_t workgroups_z,
               ThreadPool& pool) {
  const size_t wx = workgroups_x;
  const size_t wxy = wx * workgroups_y;
  const size_t total = wxy * workgroups_z;
  if (total == 1) {
    kernel(bindings, constants, 0, 0, 0);
    return;
  }
  pool.ParallelFor(total, [&](size_t i) {
    const size_t z = i / wxy;
    const size_t rest = i - z * wxy;
    const size_t y = rest / wx;
    const size_t x = rest - y * wx;
    kernel(bindings, constants, static_cast<uint32_t>(x), static_cast<uint32_t>(y),
           static_cast<uint32_t>(z));
  });
}

Result<std::unique_ptr<Executable>> Executable::Load(std::string name, const uint8_t* data,
                                                     uint64_t size,
                                                     const std::vector<std::string>& symbols,
                                                     const LoadOptions& options) {
  MOERT_RETURN_IF_ERROR(CheckElfHeader(name, data, size));
  std::unique_ptr<Executable> executable(new Executable());
  executable->name_ = std::move(name);
  const std::string& image = executable->name_;

  // 1. An anonymous memfd, opened by the loader through /proc/self/fd.
  std::string memfd_error;
  if (!options.force_temp_file) {
    int fd = memfd_create("moert-image", MFD_CLOEXEC);
    if (fd < 0) {
      memfd_error = StrCat("memfd_create: ", Errno(errno));
    } else {
      executable->fd_ = fd;
      MOERT_RETURN_IF_ERROR(WriteAll(fd, data, size, StrCat(image, " to a memfd")));
      std::string path = StrCat("/proc/self/fd/", fd);
      executable->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!executable->handle_) {
        memfd_error = StrCat("dlopen(", path, "): ", DlError());
        close(fd);
        executable->fd_ = -1;
      }
    }
  }

  // 2. A private temporary file, unlinked as soon as it is loaded.
  if (!executable->handle_) {
    const char* dir = getenv("TMPDIR");
    std::string path = StrCat(dir && *dir ? dir : "/tmp", "/moert-image-XXXXXX");
    int fd = mkstemp(path.data());
    if (fd < 0) {
      return Unavailable(image, ": cannot create a temporary file ", path, ": ",
                         Errno(errno),
                         memfd_error.empty() ? "" : StrCat(" (after ", memfd_error, ")"));
    }
    Status written = WriteAll(fd, data, size, StrCat(image, " to ", path));
    close(fd);
    if (written.ok()) {
      executable->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    }
    std::string dl_error = executable->handle_ || !written.ok() ? "" : DlError();
    unlink(path.c_str());
    MOERT_RETURN_IF_ERROR(written);
    if (!executable->handle_) {
      return Unavailable(image, ": dlopen failed: ", dl_error,
                         memfd_error.empty() ? "" : StrCat(" (after ", memfd_error, ")"));
    }
    executable->from_temp_file_ = true;
  }

  executable->kernels_.reserve(symbols.size());
  for (size_t i = 0; i < symbols.size(); ++i) {
    dlerror();
    void* symbol = dlsym(executable->handle_, symbols[i].c_str());
    if (!symbol) {
      return NotFound(image, ": kernel ", i, " symbol '", symbols[i],
                      "' not found: ", DlError());
    }
    executable->kernels_.push_back(reinterpret_cast<KernelFn>(symbol));
  }
  return executable;
}

Executable::~Executable() {
  if (handle_) dlclose(handle_);
  if (fd_ >= 0) close(fd_);
}

}  // namespace moert::hal::cpu
