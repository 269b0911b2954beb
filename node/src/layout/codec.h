// Binary encoding of layout values, for persistence and gossip.
//
// Every encoding starts with a format version byte (currently 1) and decoders
// accept every format they know. Decoding validates the structure (see
// layout_version::from_parts) so that a corrupted or hostile input can never
// produce a layout that routes to out-of-range nodes. Errors: corrupted (bad
// bytes, trailing bytes, invalid content), not_implemented (a newer format).
#pragma once

#include <string>
#include <string_view>

#include "layout/history.h"
#include "layout/staging.h"
#include "layout/version.h"
#include "util/result.h"

namespace garage::layout {

std::string encode_layout_version(const layout_version& v);
result<layout_version> decode_layout_version(std::string_view bytes);

std::string encode_layout_staging(const layout_staging& s);
result<layout_staging> decode_layout_staging(std::string_view bytes);

std::string encode_layout_history(const layout_history& h);
result<layout_history> decode_layout_history(std::string_view bytes);

}  // namespace garage::layout
