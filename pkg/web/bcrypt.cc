#include "pkg/web/bcrypt.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <memory>

namespace kiln::web {

namespace {

constexpr size_t kHashLen = 60;  // "$2b$10$" + 22 salt + 31 hash characters

bool IsBcryptAlphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '/';
}

}  // namespace

Status CheckBcryptHash(std::string_view hash) {
  if (hash.size() < kHashLen - 1) {
    return Status::BadData("hashedSecret too short to be a bcrypted password");
  }
  if (hash[0] != '$') {
    return Status::BadData(std::string("bcrypt hashes must start with '$', but hashedSecret "
                                       "started with '") +
                           hash[0] + "'");
  }
  if (hash.size() != kHashLen || hash[1] != '2' ||
      (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') || hash[3] != '$' || hash[6] != '$') {
    return Status::BadData(
        "not a bcrypt hash: want \"$2a$\", \"$2b$\" or \"$2y$\", a two-digit "
        "cost, \"$\" and 53 characters");
  }
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') {
    return Status::BadData("bcrypt cost is not a number");
  }
  int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) {
    return Status::BadData("cost " + std::to_string(cost) + " is outside allowed range (4,31)");
  }
  for (char c : hash.substr(7)) {
    if (!IsBcryptAlphabet(c)) return Status::BadData("bcrypt hash has an invalid character");
  }
  return Status::OK();
}

bool BcryptMatches(std::string_view hash, std::string_view password) {
  if (!CheckBcryptHash(hash).ok()) return false;
  // crypt() takes NUL-terminated strings: a password with a NUL in it cannot be what was hashed.
  if (password.find('\0') != std::string_view::npos) return false;
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: keep it off the stack
  const std::string pw(password), setting(hash);
  const char* out = crypt_r(pw.c_str(), setting.c_str(), data.get());
  if (out == nullptr || out[0] == '*') return false;  // libxcrypt's failure token starts with '*'
  std::string_view got(out);
  return got.size() == hash.size() && CRYPTO_memcmp(got.data(), hash.data(), hash.size()) == 0;
}

Result<std::string> BcryptHash(std::string_view password, int cost) {
  auto data = std::make_unique<crypt_data>();
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", cost, nullptr, 0, setting, sizeof setting) == nullptr) {
    return Status::Internal("crypt_gensalt_rn failed for bcrypt cost " + std::to_string(cost));
  }
  const std::string pw(password);
  const char* out = crypt_r(pw.c_str(), setting, data.get());
  if (out == nullptr || out[0] == '*') return Status::Internal("crypt_r failed");
  return std::string(out);
}

}  // namespace kiln::web
