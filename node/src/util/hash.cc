#include "util/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <cstring>
#include <stdexcept>

#include "util/encoding.h"

namespace garage {
namespace {

struct sodium_init_once {
  sodium_init_once() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  }
};
void ensure_sodium() { static sodium_init_once once; }

std::string evp_digest(const char* name, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_get_digestbyname(name), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

std::string hash256::hex() const { return hex_encode(view()); }

bool hash256::from_hex(std::string_view hex, hash256& out) {
  if (hex.size() != 64) return false;
  auto raw = hex_decode(hex);
  if (!raw) return false;
  std::memcpy(out.bytes.data(), raw->data(), 32);
  return true;
}

hash256 hash256::from_raw(std::string_view raw32) {
  hash256 h;
  std::memcpy(h.bytes.data(), raw32.data(), std::min<size_t>(raw32.size(), 32));
  return h;
}

hash256 blake2b_256(std::string_view data) {
  ensure_sodium();
  hash256 h;
  crypto_generichash(h.bytes.data(), 32, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), nullptr, 0);
  return h;
}

std::string sha256(std::string_view data) { return evp_digest("SHA256", data); }
std::string md5(std::string_view data) { return evp_digest("MD5", data); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

struct blake2b_256_hasher::rep {
  crypto_generichash_state state;
};

blake2b_256_hasher::blake2b_256_hasher() : rep_(std::make_unique<rep>()) {
  ensure_sodium();
  crypto_generichash_init(&rep_->state, nullptr, 0, 32);
}
blake2b_256_hasher::~blake2b_256_hasher() = default;

void blake2b_256_hasher::update(std::string_view data) {
  crypto_generichash_update(&rep_->state, reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
}

hash256 blake2b_256_hasher::finish() {
  hash256 h;
  crypto_generichash_final(&rep_->state, h.bytes.data(), 32);
  crypto_generichash_init(&rep_->state, nullptr, 0, 32);
  return h;
}

struct digest_hasher::rep {
  EVP_MD_CTX* ctx = nullptr;
  const EVP_MD* md = nullptr;
  ~rep() { EVP_MD_CTX_free(ctx); }
};

digest_hasher::digest_hasher(const char* kind) : rep_(std::make_unique<rep>()) {
  rep_->md = EVP_get_digestbyname(kind);
  if (!rep_->md) throw std::invalid_argument(std::string("unknown digest ") + kind);
  rep_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(rep_->ctx, rep_->md, nullptr);
}
digest_hasher::~digest_hasher() = default;
digest_hasher::digest_hasher(digest_hasher&&) noexcept = default;
digest_hasher& digest_hasher::operator=(digest_hasher&&) noexcept = default;

void digest_hasher::update(std::string_view data) {
  EVP_DigestUpdate(rep_->ctx, data.data(), data.size());
}

std::string digest_hasher::finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(rep_->ctx, out, &len);
  EVP_DigestInit_ex(rep_->ctx, rep_->md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace garage
