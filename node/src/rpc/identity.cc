#include "rpc/identity.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/random.h"

namespace garage::rpc {
namespace {

namespace fs = std::filesystem;

struct pkey_free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct bio_free {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct x509_free {
  void operator()(X509* x) const { X509_free(x); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;

result<layout::node_id> raw_public_key(EVP_PKEY* k) {
  if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) return error(errc::corrupted, "not an Ed25519 key");
  unsigned char raw[32];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(k, raw, &len) != 1 || len != 32) {
    return error(errc::corrupted, "cannot extract the Ed25519 public key");
  }
  return layout::node_id::from_raw(std::string_view(reinterpret_cast<char*>(raw), 32));
}

result<std::string> key_to_pem(EVP_PKEY* k) {
  bio_ptr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return error(errc::internal, "cannot encode the node key");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

pkey_ptr key_from_pem(const std::string& pem) {
  bio_ptr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!b) return nullptr;
  return pkey_ptr(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
}

result<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return error(errc::io_error, "cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes through a temporary file and a rename, so a crash leaves either no
// file or a whole one.
result<void> write_file(const fs::path& p, std::string_view data, mode_t mode) {
  fs::path tmp = p;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return error(errc::io_error, "cannot write " + tmp.string());
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      ::close(fd);
      return error(errc::io_error, "cannot write " + tmp.string());
    }
    off += static_cast<size_t>(n);
  }
  ::fchmod(fd, mode);
  ::fsync(fd);
  ::close(fd);
  std::error_code ec;
  fs::rename(tmp, p, ec);
  if (ec) return error(errc::io_error, "cannot rename " + tmp.string() + ": " + ec.message());
  return ok();
}

result<pkey_ptr> new_key() {
  pkey_ptr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!k) return error(errc::internal, "Ed25519 key generation failed");
  return k;
}

}  // namespace

result<node_identity> node_identity::generate() {
  GARAGE_ASSIGN_OR_RETURN(auto k, new_key());
  node_identity out;
  GARAGE_ASSIGN_OR_RETURN(out.id_, raw_public_key(k.get()));
  GARAGE_ASSIGN_OR_RETURN(out.key_pem_, key_to_pem(k.get()));
  return out;
}

result<node_identity> node_identity::load_or_create(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return error(errc::io_error, "cannot create " + dir + ": " + ec.message());
  fs::path key_path = fs::path(dir) / "node_key";
  fs::path pub_path = fs::path(dir) / "node_key.pub";
  node_identity out;
  if (!fs::exists(key_path)) {
    GARAGE_ASSIGN_OR_RETURN(out, generate());
    GARAGE_TRY(write_file(key_path, out.key_pem_, 0600));
    GARAGE_TRY(write_file(pub_path, out.id_.view(), 0644));
    return out;
  }
  GARAGE_ASSIGN_OR_RETURN(out.key_pem_, read_file(key_path));
  pkey_ptr k = key_from_pem(out.key_pem_);
  if (!k) return error(errc::corrupted, key_path.string() + ": not a PEM private key");
  auto id = raw_public_key(k.get());
  if (!id) return error(errc::corrupted, key_path.string() + ": " + id.error().message);
  out.id_ = *id;
  if (fs::exists(pub_path)) {
    GARAGE_ASSIGN_OR_RETURN(auto pub, read_file(pub_path));
    if (pub != out.id_.view()) {
      return error(errc::corrupted,
                   pub_path.string() + " does not match the private key in " + key_path.string());
    }
  } else {
    GARAGE_TRY(write_file(pub_path, out.id_.view(), 0644));
  }
  return out;
}

result<std::string> node_identity::make_certificate_pem() const {
  pkey_ptr k = key_from_pem(key_pem_);
  if (!k) return error(errc::internal, "node key unreadable");
  x509_ptr x(X509_new());
  if (!x) return error(errc::internal, "X509_new failed");
  X509_set_version(x.get(), 2);
  // A random serial: two certificates of one node never look alike to a peer
  // that caches sessions.
  std::string serial = random_bytes(8);
  uint64_t s = 0;
  for (char c : serial) s = (s << 8) | static_cast<unsigned char>(c);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(x.get()), s >> 1);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 100L * 365 * 24 * 3600);
  X509_set_pubkey(x.get(), k.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  std::string cn = id_.hex();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  if (X509_sign(x.get(), k.get(), nullptr) <= 0) return error(errc::internal, "X509_sign failed");
  bio_ptr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_X509(b.get(), x.get()) != 1) {
    return error(errc::internal, "cannot encode the certificate");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

result<layout::node_id> ed25519_key_of_certificate_der(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  x509_ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) return error(errc::corrupted, "unreadable certificate");
  EVP_PKEY* k = X509_get0_pubkey(x.get());
  if (!k) return error(errc::corrupted, "certificate without a public key");
  return raw_public_key(k);
}

}  // namespace garage::rpc
