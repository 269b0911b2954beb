#include "util/aes_gcm.h"

#include <openssl/evp.h>

#include <memory>

#include "util/random.h"

namespace garage {
namespace {

constexpr uint8_t kSealedVersion = 1;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;

using ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes(std::string& s, size_t at) {
  return reinterpret_cast<unsigned char*>(s.data()) + at;
}

}  // namespace

result<std::string> aes256gcm_seal(std::string_view key, std::string_view plain) {
  if (key.size() != kAesGcmKeySize) return error(errc::invalid_argument, "AES-256 key size");
  std::string nonce = random_bytes(kNonceSize);
  std::string out(kAesGcmOverhead + plain.size(), '\0');
  out[0] = static_cast<char>(kSealedVersion);
  out.replace(1, kNonceSize, nonce);
  ctx_ptr c(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  size_t body = 1 + kNonceSize;
  if (!c || EVP_EncryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) != 1 ||
      EVP_EncryptInit_ex(c.get(), nullptr, nullptr, bytes(key), bytes(nonce)) != 1) {
    return error(errc::internal, "AES-GCM: cannot initialise");
  }
  // EVP lengths are int: feed large inputs in pieces.
  size_t done = 0;
  while (done < plain.size()) {
    int n = static_cast<int>(std::min<size_t>(plain.size() - done, 1 << 30));
    if (EVP_EncryptUpdate(c.get(), bytes(out, body + done), &len, bytes(plain) + done, n) != 1) {
      return error(errc::internal, "AES-GCM: encryption failed");
    }
    done += static_cast<size_t>(len);
  }
  if (EVP_EncryptFinal_ex(c.get(), bytes(out, body + done), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, kTagSize,
                          bytes(out, body + plain.size())) != 1) {
    return error(errc::internal, "AES-GCM: encryption failed");
  }
  return out;
}

result<std::string> aes256gcm_open(std::string_view key, std::string_view sealed) {
  if (key.size() != kAesGcmKeySize) return error(errc::invalid_argument, "AES-256 key size");
  if (sealed.size() < kAesGcmOverhead || static_cast<uint8_t>(sealed[0]) != kSealedVersion) {
    return error(errc::corrupted, "not an AES-GCM sealed value");
  }
  std::string_view nonce = sealed.substr(1, kNonceSize);
  std::string_view cipher = sealed.substr(1 + kNonceSize, sealed.size() - kAesGcmOverhead);
  std::string tag(sealed.substr(sealed.size() - kTagSize));
  std::string out(cipher.size(), '\0');
  ctx_ptr c(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  if (!c || EVP_DecryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) != 1 ||
      EVP_DecryptInit_ex(c.get(), nullptr, nullptr, bytes(key), bytes(nonce)) != 1) {
    return error(errc::internal, "AES-GCM: cannot initialise");
  }
  size_t done = 0;
  while (done < cipher.size()) {
    int n = static_cast<int>(std::min<size_t>(cipher.size() - done, 1 << 30));
    if (EVP_DecryptUpdate(c.get(), bytes(out, done), &len, bytes(cipher) + done, n) != 1) {
      return error(errc::internal, "AES-GCM: decryption failed");
    }
    done += static_cast<size_t>(len);
  }
  if (EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) != 1) {
    return error(errc::internal, "AES-GCM: cannot set the tag");
  }
  if (EVP_DecryptFinal_ex(c.get(), bytes(out, done), &len) != 1) {
    return error(errc::permission_denied, "AES-GCM: the data does not verify with this key");
  }
  return out;
}

}  // namespace garage
