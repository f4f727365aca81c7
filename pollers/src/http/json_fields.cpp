#include "json_fields.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

namespace edgepoll::pollers::json_fields {
namespace {

using nlohmann::json;

// Where the parser is: one entry per open container; an array's entry counts
// its elements, an object's holds the key of the member being read.
struct Step {
  bool array = false;
  std::size_t index = 0;
  std::string key;
};

// Whether token `t` of a pointer (still escaped) names `step`: an object's key
// after unescaping ~1 and ~0, or an array's index written canonically (no sign,
// no leading zero, no "-"), which is what json_pointer::contains accepts.
bool token_names(std::string_view t, const Step& step) {
  if (step.array) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, step.index).ptr;
    return t == std::string_view(digits, static_cast<std::size_t>(end - digits));
  }
  std::size_t k = 0;
  for (std::size_t i = 0; i < t.size(); ++i, ++k) {
    char c = t[i];
    if (c == '~') c = t[++i] == '1' ? '/' : '~';  // well-formed: checked by resolves_itself
    if (k >= step.key.size() || step.key[k] != c) return false;
  }
  return k == step.key.size();
}

// Whether `pointer`'s first `steps` tokens name path[0..steps), and, when
// `whole`, the pointer has no more tokens.
bool pointer_names(std::string_view pointer, const std::vector<Step>& path, std::size_t steps,
                   bool whole) {
  std::size_t pos = 0;
  for (std::size_t s = 0; s < steps; ++s) {
    if (pos >= pointer.size()) return false;  // pointer[pos] == '/': well-formed
    const auto end = std::min(pointer.find('/', pos + 1), pointer.size());
    if (!token_names(pointer.substr(pos + 1, end - pos - 1), path[s])) return false;
    pos = end;
  }
  return !whole || pos == pointer.size();
}

class Extractor {
 public:
  Extractor(const std::vector<MetricMapping>& mapping, std::size_t max_depth,
            std::vector<Captured>& out)
      : mapping_(mapping), max_depth_(max_depth), out_(out) {
    out_.assign(mapping.size(), Captured{});
  }

  std::optional<ParseFailure> failure;

  bool null() {
    return scalar([](Captured& c) { c.kind = Captured::Kind::null; });
  }
  bool boolean(bool v) {
    return scalar([v](Captured& c) {
      c.kind = Captured::Kind::boolean;
      c.boolean = v;
    });
  }
  bool number_integer(json::number_integer_t v) {
    return scalar([v](Captured& c) {
      c.kind = Captured::Kind::integer;
      c.integer = v;
    });
  }
  bool number_unsigned(json::number_unsigned_t v) {
    return scalar([v](Captured& c) {
      c.kind = Captured::Kind::unsigned_integer;
      c.unsigned_integer = v;
    });
  }
  bool number_float(json::number_float_t v, const json::string_t&) {
    return scalar([v](Captured& c) {
      c.kind = Captured::Kind::floating;
      c.floating = v;
    });
  }
  bool string(json::string_t& v) {
    return scalar([&v](Captured& c) {
      c.kind = Captured::Kind::string;
      c.text = v;
    });
  }
  bool binary(json::binary_t&) { return true; }  // JSON text has none
  bool start_object(std::size_t) { return open(Captured::Kind::object); }
  bool start_array(std::size_t) { return open(Captured::Kind::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& k) {
    if (too_deep()) return false;
    path_.back().key = k;
    // A key seen again replaces its earlier value, as in the document: what
    // was captured under it is gone.
    for (std::size_t i = 0; i < mapping_.size(); ++i) {
      if (out_[i].kind != Captured::Kind::none &&
          pointer_names(mapping_[i].pointer, path_, path_.size(), false))
        out_[i] = Captured{};
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    if (const auto* p = dynamic_cast<const json::parse_error*>(&e))
      failure = ParseFailure{ParseFailure::Kind::parse_error, p->byte, p->what()};
    else
      failure = ParseFailure{ParseFailure::Kind::other, 0, e.what()};
    return false;
  }

 private:
  // nlohmann's parser callback sees a value, a key or a container's start at
  // the depth of the containers open around it; above max_depth is too deep.
  bool too_deep() {
    if (path_.size() <= max_depth_) return false;
    failure = ParseFailure{ParseFailure::Kind::too_deep, 0, {}};
    return true;
  }
  template <typename Fill>
  bool scalar(Fill fill) {
    if (too_deep()) return false;
    capture(fill);
    next_element();
    return true;
  }
  bool open(Captured::Kind kind) {
    if (too_deep()) return false;
    capture([kind](Captured& c) { c.kind = kind; });
    path_.push_back(Step{kind == Captured::Kind::array, 0, {}});
    return true;
  }
  bool close() {
    path_.pop_back();
    next_element();
    return true;
  }
  template <typename Fill>
  void capture(Fill fill) {
    for (std::size_t i = 0; i < mapping_.size(); ++i) {
      if (pointer_names(mapping_[i].pointer, path_, path_.size(), true)) {
        out_[i] = Captured{};
        fill(out_[i]);
      }
    }
  }
  void next_element() {
    if (!path_.empty() && path_.back().array) ++path_.back().index;
  }

  const std::vector<MetricMapping>& mapping_;
  std::size_t max_depth_;
  std::vector<Captured>& out_;
  std::vector<Step> path_;
};

}  // namespace

bool resolves_itself(std::string_view pointer) {
  if (!pointer.empty() && pointer[0] != '/') return false;
  // Tokens nlohmann may throw for when they meet an array: an empty one, and
  // digits enough to overflow an index.
  std::size_t length = 0;
  bool all_digits = true;
  for (std::size_t i = 0; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      if (i > 0 && (length == 0 || (all_digits && length >= 20))) return false;
      length = 0;
      all_digits = true;
      continue;
    }
    if (pointer[i] == '~' &&
        (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')))
      return false;
    all_digits = all_digits && pointer[i] >= '0' && pointer[i] <= '9';
    ++length;
  }
  return true;
}

std::optional<ParseFailure> extract(std::string_view body,
                                    const std::vector<MetricMapping>& mapping,
                                    std::size_t max_depth, std::vector<Captured>& out) {
  Extractor x(mapping, max_depth, out);
  try {
    if (json::sax_parse(body.begin(), body.end(), &x, json::input_format_t::json, /*strict=*/true))
      return std::nullopt;
  } catch (const std::exception& e) {  // nlohmann's own, should its parser throw past the SAX
    return ParseFailure{ParseFailure::Kind::other, 0, e.what()};
  }
  if (!x.failure) return ParseFailure{ParseFailure::Kind::other, 0, "the JSON parser stopped"};
  return x.failure;
}

}  // namespace edgepoll::pollers::json_fields
