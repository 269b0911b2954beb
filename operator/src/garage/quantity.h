// Kubernetes resource quantities ("10Gi", "500M", "1.5Gi", "1e9", "100") as
// a number of bytes, for the storage sizes of a GarageCluster (a data
// volume's size is the node's capacity in the layout).
#pragma once

#include <cstdint>
#include <string_view>

#include "util/result.h"

namespace garage::op::admin {

// The grammar of Kubernetes' resource.Quantity: an optional "+", a decimal
// number ("12", "1.5", "1.", ".5"), then one of: nothing; a binary suffix
// Ki Mi Gi Ti Pi Ei (powers of 1024); a decimal suffix n u m k M G T P E
// (powers of 1000); or a decimal exponent e/E with an optional sign
// ("1e9", "5E-1"). A fractional number of bytes is rounded up, as
// Quantity.Value() does ("1.5" -> 2, "500m" -> 1).
//
// Errors (invalid_argument, naming the text): empty, a negative value,
// spaces or anything else outside the grammar, an unknown suffix, a value
// over 2^64 - 1, more than 30 digits or a fraction finer than 10^-38.
result<uint64_t> parse_quantity(std::string_view text);

}  // namespace garage::op::admin
