#include "util/checksum.h"

#include <array>
#include <cstring>

namespace garage {

namespace {

// Reflected polynomials.
constexpr uint64_t kCrc32Poly = 0xEDB88320u;
constexpr uint64_t kCrc32cPoly = 0x82F63B78u;
constexpr uint64_t kCrc64NvmePoly = 0x9A6C9329AC4BC9B5ull;

// Slicing-by-8 tables of a reflected CRC: t[0] is the classic byte table,
// t[k][i] the effect of byte i followed by k zero bytes.
struct crc_tables {
  std::array<std::array<uint64_t, 256>, 8> t{};
  explicit constexpr crc_tables(uint64_t poly) {
    for (uint64_t i = 0; i < 256; ++i) {
      uint64_t c = i;
      for (int b = 0; b < 8; ++b) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
      t[0][i] = c;
    }
    for (size_t k = 1; k < 8; ++k) {
      for (size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    }
  }
};

constexpr crc_tables kCrc32Tables(kCrc32Poly);
constexpr crc_tables kCrc32cTables(kCrc32cPoly);
constexpr crc_tables kCrc64NvmeTables(kCrc64NvmePoly);

uint64_t load_le64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Runs the register `reg` (already pre-inverted) over `data`. Works for 32-
// and 64-bit reflected CRCs: the register occupies the low bytes of the
// 8-byte word it is xored into.
uint64_t crc_update(const crc_tables& tb, uint64_t reg, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  const auto& t = tb.t;
  while (n >= 8) {
    uint64_t v = load_le64(p) ^ reg;
    reg = t[7][v & 0xff] ^ t[6][(v >> 8) & 0xff] ^ t[5][(v >> 16) & 0xff] ^ t[4][(v >> 24) & 0xff] ^
          t[3][(v >> 32) & 0xff] ^ t[2][(v >> 40) & 0xff] ^ t[1][(v >> 48) & 0xff] ^ t[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) reg = (reg >> 8) ^ t[0][(reg ^ *p++) & 0xff];
  return reg;
}

// GF(2) matrices over a register of up to 64 bits (column n: image of bit n).
using gf2_matrix = std::array<uint64_t, 64>;

uint64_t matrix_times(const gf2_matrix& m, uint64_t v) {
  uint64_t sum = 0;
  for (size_t i = 0; v; ++i, v >>= 1) {
    if (v & 1) sum ^= m[i];
  }
  return sum;
}

gf2_matrix matrix_square(const gf2_matrix& m, int width) {
  gf2_matrix sq{};
  for (int n = 0; n < width; ++n) sq[n] = matrix_times(m, m[n]);
  return sq;
}

// zlib's crc32_combine, for any reflected CRC whose initial value equals its
// final xor (all three here): crc(A||B) = crc(A) * x^(8|B|) + crc(B).
uint64_t crc_combine(uint64_t poly, int width, uint64_t crc_a, uint64_t crc_b, uint64_t len_b) {
  if (len_b == 0) return crc_a;
  gf2_matrix odd{};  // one zero bit
  odd[0] = poly;
  for (int n = 1; n < width; ++n) odd[n] = uint64_t{1} << (n - 1);
  gf2_matrix even = matrix_square(odd, width);  // two zero bits
  odd = matrix_square(even, width);             // four zero bits
  do {
    even = matrix_square(odd, width);  // first pass: one zero byte
    if (len_b & 1) crc_a = matrix_times(even, crc_a);
    len_b >>= 1;
    if (len_b == 0) break;
    odd = matrix_square(even, width);
    if (len_b & 1) crc_a = matrix_times(odd, crc_a);
    len_b >>= 1;
  } while (len_b != 0);
  return crc_a ^ crc_b;
}

std::string to_big_endian(uint64_t v, size_t bytes) {
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) out[bytes - 1 - i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

uint64_t from_big_endian(std::string_view s) {
  uint64_t v = 0;
  for (unsigned char c : s) v = (v << 8) | c;
  return v;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

uint32_t crc32(std::string_view data, uint32_t crc) {
  return static_cast<uint32_t>(~crc_update(kCrc32Tables, ~crc & 0xffffffffu, data));
}

uint32_t crc32c(std::string_view data, uint32_t crc) {
  return static_cast<uint32_t>(~crc_update(kCrc32cTables, ~crc & 0xffffffffu, data));
}

uint64_t crc64nvme(std::string_view data, uint64_t crc) {
  return ~crc_update(kCrc64NvmeTables, ~crc, data);
}

std::string_view checksum_name(checksum_algorithm a) {
  switch (a) {
    case checksum_algorithm::crc32:
      return "CRC32";
    case checksum_algorithm::crc32c:
      return "CRC32C";
    case checksum_algorithm::crc64nvme:
      return "CRC64NVME";
    case checksum_algorithm::sha1:
      return "SHA1";
    case checksum_algorithm::sha256:
      return "SHA256";
  }
  return "";
}

std::optional<checksum_algorithm> parse_checksum_name(std::string_view name) {
  for (auto a :
       {checksum_algorithm::crc32, checksum_algorithm::crc32c, checksum_algorithm::crc64nvme,
        checksum_algorithm::sha1, checksum_algorithm::sha256}) {
    if (iequals(name, checksum_name(a))) return a;
  }
  return std::nullopt;
}

size_t checksum_size(checksum_algorithm a) {
  switch (a) {
    case checksum_algorithm::crc32:
    case checksum_algorithm::crc32c:
      return 4;
    case checksum_algorithm::crc64nvme:
      return 8;
    case checksum_algorithm::sha1:
      return 20;
    case checksum_algorithm::sha256:
      return 32;
  }
  return 0;
}

bool checksum_is_crc(checksum_algorithm a) {
  return a == checksum_algorithm::crc32 || a == checksum_algorithm::crc32c ||
         a == checksum_algorithm::crc64nvme;
}

std::string checksum_combine(checksum_algorithm a, std::string_view crc_a, std::string_view crc_b,
                             uint64_t length_b) {
  if (!checksum_is_crc(a)) return {};
  size_t size = checksum_size(a);
  if (crc_a.size() != size || crc_b.size() != size) return {};
  uint64_t poly = a == checksum_algorithm::crc32    ? kCrc32Poly
                  : a == checksum_algorithm::crc32c ? kCrc32cPoly
                                                    : kCrc64NvmePoly;
  uint64_t c = crc_combine(poly, static_cast<int>(size * 8), from_big_endian(crc_a),
                           from_big_endian(crc_b), length_b);
  return to_big_endian(c, size);
}

checksum_hasher::checksum_hasher(checksum_algorithm a) : algorithm_(a) {
  if (a == checksum_algorithm::sha1) digest_ = std::make_unique<digest_hasher>("SHA1");
  if (a == checksum_algorithm::sha256) digest_ = std::make_unique<digest_hasher>("SHA256");
}

checksum_hasher::~checksum_hasher() = default;
checksum_hasher::checksum_hasher(checksum_hasher&&) noexcept = default;
checksum_hasher& checksum_hasher::operator=(checksum_hasher&&) noexcept = default;

void checksum_hasher::update(std::string_view data) {
  switch (algorithm_) {
    case checksum_algorithm::crc32:
      crc_ = crc32(data, static_cast<uint32_t>(crc_));
      break;
    case checksum_algorithm::crc32c:
      crc_ = crc32c(data, static_cast<uint32_t>(crc_));
      break;
    case checksum_algorithm::crc64nvme:
      crc_ = crc64nvme(data, crc_);
      break;
    case checksum_algorithm::sha1:
    case checksum_algorithm::sha256:
      digest_->update(data);
      break;
  }
}

std::string checksum_hasher::finish() {
  if (digest_) return digest_->finish();
  std::string out = to_big_endian(crc_, checksum_size(algorithm_));
  crc_ = 0;
  return out;
}

std::string compute_checksum(checksum_algorithm a, std::string_view data) {
  checksum_hasher h(a);
  h.update(data);
  return h.finish();
}

}  // namespace garage
