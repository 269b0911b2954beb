// Encoders of the small value types shared by the model's entries, for the
// crdt encode/decode helpers. Internal to model/*.cc.
#pragma once

#include <string>

#include "model/permission.h"
#include "util/codec.h"

namespace garage::model::codec {

inline void put_string(encoder& e, const std::string& s) { e.bytes(s); }
inline std::string get_string(decoder& d) { return d.bytes(); }
inline void put_bool(encoder& e, bool b) { e.boolean(b); }
inline bool get_bool(decoder& d) { return d.boolean(); }
inline void put_permission(encoder& e, const bucket_permission& p) { p.encode(e); }
inline bucket_permission get_permission(decoder& d) { return bucket_permission::decode(d); }

}  // namespace garage::model::codec
