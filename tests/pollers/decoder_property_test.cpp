// Property: the one-pass decoder (Decoder::decode, nlohmann's SAX parser and a
// path matcher) answers every body and mapping exactly as the whole document
// does (Decoder::decode_through_dom, nlohmann's DOM and json_pointer): the
// same readings, the same field errors, the same body errors with the same
// messages. Bodies are random JSON with duplicate keys, keys that need
// escaping in a pointer, deep nesting, numbers at the edges of int64, uint64
// and double, cut short or spoiled; pointers are random tokens, canonical
// array indexes or not.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "edgepoll/pollers/decoder.hpp"
#include "pollers/decoder_agreement.hpp"

namespace edgepoll::pollers {
namespace {

const std::vector<std::string> kKeys = {"a", "b", "0", "1", "~", "/", "a/b", "", "x~1"};
const std::vector<std::string> kScalars = {"0",
                                           "1",
                                           "-1",
                                           "2.5",
                                           "-0.0",
                                           "1e3",
                                           "1e400",
                                           "9223372036854775807",
                                           "9223372036854775808",
                                           "-9223372036854775808",
                                           "18446744073709551615",
                                           "18446744073709551616",
                                           "true",
                                           "false",
                                           "null",
                                           "\"s\"",
                                           "\"\\u00e9\\n\"",
                                           "\"\""};
const std::vector<std::string> kTokens = {"a", "b",  "0",  "1",    "2",    "01",
                                          "-", "~0", "~1", "a~1b", "x~01", "z"};
const std::vector<std::string> kLeftToTheDocument = {"a", "/a/", "/~2",
                                                     "/0/99999999999999999999999"};

// RapidCheck's inRange leans to its low end while the size is small; every
// choice here is uniform, so that small runs reach deep bodies too.
template <typename T = int>
T pick(T low, T high) {
  return *rc::gen::resize(100, rc::gen::inRange<T>(low, high));
}

// A random JSON value: objects may repeat a key, as a device's may.
struct Node {
  std::string scalar;  // when neither an object nor an array
  std::vector<std::pair<std::string, Node>> members;
  std::vector<Node> items;
  bool object = false;
  bool array = false;

  std::string text() const {
    if (!object && !array) return scalar;
    std::string out(1, object ? '{' : '[');
    if (object) {
      for (std::size_t i = 0; i < members.size(); ++i)
        out += (i ? ",\"" : "\"") + members[i].first + "\":" + members[i].second.text();
    } else {
      for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i].text();
    }
    return out + (object ? '}' : ']');
  }
};

Node random_node(int depth) {
  Node n;
  const int kind = depth == 0 ? 0 : pick(0, 3);
  if (kind == 0) {
    n.scalar = *rc::gen::elementOf(kScalars);
  } else if (kind == 1) {
    n.object = true;
    const auto count = pick(0, 4);
    for (int i = 0; i < count; ++i)
      n.members.emplace_back(*rc::gen::elementOf(kKeys), random_node(depth - 1));
  } else {
    n.array = true;
    const auto count = pick(0, 4);
    for (int i = 0; i < count; ++i) n.items.push_back(random_node(depth - 1));
  }
  return n;
}

std::string escaped(const std::string& key) {
  std::string out;
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

// A pointer that mostly walks the body (a key of an object, an index of an
// array, now and then written as json_pointer refuses it: "01", "-"), and
// may go on past a leaf or take a token from nowhere.
// `at`: the value it names, when it names one.
std::string pointer_into(const Node& body, const Node*& at) {
  std::string out;
  at = &body;
  for (;;) {
    const bool container = at && (at->object || at->array);
    // Mostly stop at a leaf, now and then at a container or past a leaf.
    if (pick(0, container ? 6 : 4) == 0 || (!container && pick(0, 3) != 0)) break;
    if (at && at->object && !at->members.empty() && pick(0, 5) != 0) {
      const auto& m = at->members[pick<std::size_t>(0, at->members.size())];
      out += "/" + escaped(m.first);
      at = &m.second;
    } else if (at && at->array && !at->items.empty() && pick(0, 5) != 0) {
      const auto i = pick<std::size_t>(0, at->items.size() + 1);
      const int form = pick(0, 6);
      out += "/" + (form == 0   ? "0" + std::to_string(i)
                    : form == 1 ? std::string("-")
                                : std::to_string(i));
      at = i < at->items.size() ? &at->items[i] : nullptr;
    } else {
      out += "/" + *rc::gen::elementOf(kTokens);
      at = nullptr;
    }
  }
  return out;
}

// The type that reads `named`, when it is a scalar; else `otherwise`.
MetricType fitting(const Node* named, MetricType otherwise) {
  if (!named || named->object || named->array || named->scalar == "null") return otherwise;
  if (named->scalar == "true" || named->scalar == "false") return MetricType::boolean;
  if (named->scalar[0] == '"') return MetricType::text;
  return named->scalar.find_first_of(".e") == std::string::npos ? MetricType::integer
                                                                : MetricType::number;
}

RC_GTEST_PROP(DecoderProperty, OnePassAnswersAsTheWholeDocumentDoes, ()) {
  // Twenty bodies a case: each is cheap, and the differences are rare.
  for (int round = 0; round < 20; ++round) {
    const Node tree = random_node(4);
    std::string body = tree.text();
    // Sometimes cut short or spoiled: the same parse error either way.
    const int damage = pick(0, 4);
    if (damage == 1 && !body.empty()) body.resize(pick<std::size_t>(0, body.size()));
    if (damage == 2)
      body.insert(pick<std::size_t>(0, body.size() + 1), 1,
                  *rc::gen::elementOf(std::string("x]}:,\"")));
    std::vector<MetricMapping> mapping;
    const auto fields = pick(1, 7);
    for (int i = 0; i < fields; ++i) {
      const auto type = *rc::gen::element(MetricType::number, MetricType::integer,
                                          MetricType::boolean, MetricType::text);
      // Now and then a pointer the one-pass reader leaves to the document.
      const Node* named = nullptr;
      const std::string p =
          pick(0, 20) == 0 ? *rc::gen::elementOf(kLeftToTheDocument) : pointer_into(tree, named);
      mapping.push_back(
          {p, "m" + std::to_string(i), pick(0, 2) ? fitting(named, type) : type, i % 2 ? "u" : ""});
    }
    // Mostly room enough; sometimes a limit the body may pass.
    const std::size_t max_depth = pick(0, 4) == 0 ? pick<std::size_t>(0, 5) : 64;
    const Decoder d("dev", mapping, DecoderLimits{1 << 20, max_depth});
    const auto dom = d.decode_through_dom(body);
    RC_ASSERT(testing::decoder_disagreement(d.decode(body), dom) == std::string());
  }
}

// The cases the property must reach, spelled out.
TEST(DecoderOnePass, TheLastOfDuplicateKeysWinsAsInTheDocument) {
  const Decoder d("dev",
                  {{"/a/b", "ab", MetricType::integer, ""}, {"/a", "a", MetricType::integer, ""}});
  const auto out = d.decode(R"({"a": {"b": 1}, "a": 2})");
  ASSERT_TRUE(out.ok()) << out.error().describe();
  ASSERT_EQ(out->readings.size(), 1u);
  EXPECT_EQ(out->readings[0].metric, "a");
  ASSERT_EQ(out->field_errors.size(), 1u);
  EXPECT_EQ(out->field_errors[0].code, "pollers.decode.missing_field");
}

TEST(DecoderOnePass, EscapedTokensAndCanonicalIndexesOnly) {
  const Decoder d("dev", {{"/a~1b/~0", "escaped", MetricType::integer, ""},
                          {"/list/1", "second", MetricType::integer, ""},
                          {"/list/01", "leading_zero", MetricType::integer, ""},
                          {"/list/-", "dash", MetricType::integer, ""}});
  const auto out = d.decode(R"({"a/b": {"~": 7}, "list": [10, 11]})");
  ASSERT_TRUE(out.ok()) << out.error().describe();
  ASSERT_EQ(out->readings.size(), 2u);
  EXPECT_EQ(std::get<std::int64_t>(out->readings[0].value), 7);
  EXPECT_EQ(std::get<std::int64_t>(out->readings[1].value), 11);
  EXPECT_EQ(out->field_errors.size(), 2u);
}

TEST(DecoderOnePass, APointerNlohmannRefusesIsABadPointerFieldError) {
  const Decoder d("dev", {{"no-slash", "bad", MetricType::integer, ""},
                          {"/ok", "ok", MetricType::integer, ""}});
  const auto out = d.decode(R"({"ok": 1})");
  ASSERT_TRUE(out.ok()) << out.error().describe();
  ASSERT_EQ(out->field_errors.size(), 1u);
  EXPECT_EQ(out->field_errors[0].code, "pollers.decode.bad_pointer");
}

}  // namespace
}  // namespace edgepoll::pollers
