#include "edgepoll/supervision/message.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace edgepoll::supervision {

namespace {
constexpr std::size_t kExcerpt = 120;

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

// Printable ASCII only; everything else as \xNN, so that a device's or a
// broker's bytes can never break a log line or a terminal.
std::string escape(std::string_view text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < kExcerpt; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xf]);
    }
  }
  if (text.size() > kExcerpt) out += "...(" + std::to_string(text.size()) + " bytes)";
  return out;
}
}  // namespace

std::string describe_message(const Message& message) {
  try {
    if (!message.has_value()) return "<empty message>";
    std::string out = demangle(message.type().name());
    if (const auto* s = std::any_cast<std::string>(&message)) {
      out += " \"" + escape(*s) + "\"";
    } else if (const auto* c = std::any_cast<const char*>(&message); c && *c) {
      out += " \"" + escape(*c) + "\"";
    } else if (const auto* e = std::any_cast<ExitSignal>(&message)) {
      out += " from " + (e->from ? e->from.path() : std::string("<outside>")) + " reason " +
             escape(e->reason.to_string());
    } else if (const auto* d = std::any_cast<Down>(&message)) {
      out += " ref " + std::to_string(d->ref) + " reason " + escape(d->reason.to_string());
    }
    return out;
  } catch (...) {
    return "<undescribable message>";
  }
}

}  // namespace edgepoll::supervision
