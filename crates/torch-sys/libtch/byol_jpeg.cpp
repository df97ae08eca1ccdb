// Implementation of byol_jpeg.h. libjpeg reports errors through a callback that must not return:
// it long-jumps back here (no C++ objects with destructors live between setjmp and the decode).
#include "byol_jpeg.h"
#include "internal.h"

#ifdef BYOL_WITH_JPEG
#include <csetjmp>
#include <cstdio>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int warnings;
};

[[noreturn]] void on_error(j_common_ptr info) {
  auto *e = reinterpret_cast<ErrorManager *>(info->err);
  (*info->err->format_message)(info, e->message);
  std::longjmp(e->jump, 1);
}

// Level -1 is corrupt data that libjpeg decodes around (a truncated file is filled with grey):
// sharp is called with failOn 'warning' for the same images, so this is an error too.
void on_message(j_common_ptr info, int level) {
  auto *e = reinterpret_cast<ErrorManager *>(info->err);
  if (level < 0 && e->warnings++ == 0) (*info->err->format_message)(info, e->message);
}

bool has_icc_profile(j_decompress_ptr d) {
  for (jpeg_saved_marker_ptr m = d->marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 2 && m->data_length >= 12 && std::memcmp(m->data, "ICC_PROFILE", 12) == 0) return true;
  }
  return false;
}

// Returns NULL or an error message; plain C data only, since on_error long-jumps into here.
const char *decode(const uint8_t *data, size_t len, int64_t height, int64_t width, uint8_t *out, int *decoded,
                   ErrorManager *e) {
  jpeg_decompress_struct d;
  d.err = jpeg_std_error(&e->pub);
  e->pub.error_exit = on_error;
  e->pub.emit_message = on_message;
  e->warnings = 0;
  e->message[0] = 0;
  if (setjmp(e->jump)) {
    jpeg_destroy_decompress(&d);
    return e->message;
  }
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, data, static_cast<unsigned long>(len));
  jpeg_save_markers(&d, JPEG_APP0 + 2, 0xFFFF);
  jpeg_read_header(&d, TRUE);
  bool plain = (d.num_components == 1 && d.jpeg_color_space == JCS_GRAYSCALE) ||
               (d.num_components == 3 && (d.jpeg_color_space == JCS_YCbCr || d.jpeg_color_space == JCS_RGB));
  if (!plain || d.image_height != height || d.image_width != width || has_icc_profile(&d) || e->warnings) {
    const char *result = e->warnings ? e->message : nullptr;
    jpeg_destroy_decompress(&d);
    return result;
  }
  d.out_color_space = JCS_RGB;
  jpeg_start_decompress(&d);
  while (d.output_scanline < d.output_height) {
    JSAMPROW row = out + static_cast<size_t>(d.output_scanline) * d.output_width * 3;
    jpeg_read_scanlines(&d, &row, 1);
  }
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  if (e->warnings) return e->message;
  *decoded = 1;
  return nullptr;
}

}  // namespace

int bt_jpeg_available(void) { return 1; }

bt_error bt_jpeg_decode_rgb(const uint8_t *data, size_t len, int64_t height, int64_t width, uint8_t *out,
                            size_t out_len, int *decoded) {
  *decoded = 0;
  if (height < 1 || width < 1 || out_len != static_cast<size_t>(height * width * 3))
    return bt::dup_message("bt_jpeg_decode_rgb: the output must hold height * width * 3 bytes");
  ErrorManager e;
  const char *message = decode(data, len, height, width, out, decoded, &e);
  if (!message) return nullptr;
  *decoded = 0;
  return bt::dup_message(message);
}

#else

int bt_jpeg_available(void) { return 0; }

bt_error bt_jpeg_decode_rgb(const uint8_t *, size_t, int64_t, int64_t, uint8_t *, size_t, int *decoded) {
  *decoded = 0;
  return nullptr;
}

#endif
