#include "model/jpeg_integrity.hpp"

// clang-format off
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <csetjmp>
#include <string>

namespace disc {
namespace {

constexpr int kEndOfImageMarker = 0xd9;

// libjpeg calls these through the jpeg_error_mgr it holds, which is `base`, the first member.
struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf fatal;
  bool lost_pixels = false;
  char message[JMSG_LENGTH_MAX] = {};  // of the fatal error, or of the first lost-pixels warning
};

bool means_lost_pixels(const jpeg_error_mgr& err) {
  switch (err.msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_MUST_RESYNC:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
      return true;
    case JWRN_EXTRANEOUS_DATA:  // "%u extraneous bytes before marker 0x%02x"
      return err.msg_parm.i[1] != kEndOfImageMarker;
    default:
      return false;
  }
}

void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace output; -1 is a warning
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (!err->lost_pixels && means_lost_pixels(err->base)) {
    err->lost_pixels = true;
    err->base.format_message(cinfo, err->message);
  }
}

[[noreturn]] void on_fatal(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  err->base.format_message(cinfo, err->message);
  std::longjmp(err->fatal, 1);
}

}  // namespace

Status check_jpeg_integrity(const uint8_t* data, size_t size) {
  if (size < 3 || data[0] != 0xff || data[1] != 0xd8 || data[2] != 0xff) return Status();
  // Only trivially destructible objects live across setjmp: longjmp skips no destructor.
  ErrorManager err;
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.emit_message = on_message;
  err.base.error_exit = on_fatal;
  if (setjmp(err.fatal)) {
    jpeg_destroy_decompress(&cinfo);
    return Error(std::string("corrupt JPEG: ") + err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.scale_num = 1;
  cinfo.scale_denom = 8;
  jpeg_start_decompress(&cinfo);
  JSAMPARRAY row = cinfo.mem->alloc_sarray(reinterpret_cast<j_common_ptr>(&cinfo), JPOOL_IMAGE,
                                           cinfo.output_width * cinfo.output_components, 1);
  while (cinfo.output_scanline < cinfo.output_height) jpeg_read_scanlines(&cinfo, row, 1);
  jpeg_finish_decompress(&cinfo);  // reads on to the end of image: warnings about the tail come here
  jpeg_destroy_decompress(&cinfo);
  if (err.lost_pixels) return Error(std::string("corrupt JPEG: ") + err.message);
  return Status();
}

}  // namespace disc
