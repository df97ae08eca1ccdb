/* JPEG decoding with the system's libjpeg (libjpeg-turbo), for services that embed uploaded
 * images: a 32x32 JPEG decodes here in about 10 us, against about 1 ms of sharp's per-call
 * pipeline. The pixels are the same as sharp's (both are libjpeg-turbo's decoder with its
 * defaults: the accurate integer IDCT and fancy upsampling), so only images that sharp would
 * decode without colour management or resizing are decoded here; the caller decodes the rest.
 *
 * Same conventions as byol_torch.h. Built with BYOL_WITH_JPEG where jpeglib.h is found
 * (Debian: libjpeg-dev); otherwise bt_jpeg_available reports 0 and nothing is decoded here.
 * The Rust side declares these in crates/torch-sys/src/jpeg.rs.
 */
#ifndef BYOL_JPEG_H
#define BYOL_JPEG_H

#include "byol_torch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when the shim was built with libjpeg. */
int bt_jpeg_available(void);

/* Decodes a JPEG into `out`, RGB uint8 [height, width, 3] (out_len = height * width * 3 bytes),
 * when it is exactly height x width, has one (grey) or three (YCbCr or RGB) components and no
 * embedded ICC profile: then *decoded = 1. Otherwise *decoded = 0 and `out` is untouched: the
 * caller decodes it another way. Damaged or truncated data, including what libjpeg only warns
 * about, is an error (*decoded = 0, and `out` may hold part of the image). */
bt_error bt_jpeg_decode_rgb(const uint8_t *data, size_t len, int64_t height, int64_t width, uint8_t *out,
                            size_t out_len, int *decoded);

#ifdef __cplusplus
}
#endif

#endif
