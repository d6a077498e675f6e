// Internal: an owning TurboJPEG handle, shared by the jpeg codec and image loading.
#pragma once

#include <turbojpeg.h>

#include <memory>
#include <string>

#include "disc/status.hpp"

namespace disc {

struct TjDestroy {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjDestroy>;

// "what: <TurboJPEG's message for the last failure on handle>".
inline Error tj_error(const char* what, void* handle) {
  return Error(std::string(what) + ": " + tjGetErrorStr2(handle));
}

}  // namespace disc
