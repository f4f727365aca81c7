#pragma once
// What "the one-pass decoder answers as the whole document does" means, for
// the property test and the json_decoder fuzzer alike: the same body error
// (code and message), or the same readings (metric, unit, value of the same
// type) and the same field errors (code and message), in the same order.
#include <string>

#include "edgepoll/pollers/decoder.hpp"

namespace edgepoll::testing {

// The first difference between the two answers, in words; empty when there is none.
inline std::string decoder_disagreement(const Result<pollers::DecodeOutcome>& fast,
                                        const Result<pollers::DecodeOutcome>& dom) {
  if (fast.ok() != dom.ok()) return "one decoder refused the body and the other did not";
  if (!dom.ok()) {
    if (fast.error().code != dom.error().code || fast.error().message != dom.error().message)
      return "body errors differ: " + fast.error().describe() + " / " + dom.error().describe();
    return {};
  }
  if (fast->readings.size() != dom->readings.size()) return "a different number of readings";
  for (std::size_t i = 0; i < dom->readings.size(); ++i) {
    const auto& a = fast->readings[i];
    const auto& b = dom->readings[i];
    if (a.metric != b.metric || a.unit != b.unit || a.value != b.value)
      return "reading " + b.metric + " differs";
  }
  if (fast->field_errors.size() != dom->field_errors.size())
    return "a different number of field errors";
  for (std::size_t i = 0; i < dom->field_errors.size(); ++i) {
    const auto& a = fast->field_errors[i];
    const auto& b = dom->field_errors[i];
    if (a.code != b.code || a.message != b.message)
      return "field errors differ: " + a.describe() + " / " + b.describe();
  }
  return {};
}

}  // namespace edgepoll::testing
