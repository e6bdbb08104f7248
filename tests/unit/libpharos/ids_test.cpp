// Identifier rules: accepted and refused names, one per line.
#include "pharos/ids.h"

#include <doctest/doctest.h>

using pharos::IdKind;
using pharos::isValidId;

TEST_CASE("accepts ordinary identifiers") {
  for (const char* id : {"a", "0", "line-1", "cell_2", "press.07",
                         "a23456789012345678901234567890123456789012345678901234567890123"}) {
    CAPTURE(id);
    CHECK(isValidId(IdKind::kNode, id));
  }
}

TEST_CASE("refuses malformed identifiers") {
  for (const char* id : {"", "A", "-a", "_a", ".a", "a b", "a/b", "a+", "a#", "Ä", "a\n",
                         "a234567890123456789012345678901234567890123456789012345678901234"}) {
    CAPTURE(id);
    CHECK_FALSE(isValidId(IdKind::kNode, id));
  }
}

TEST_CASE("app names exclude dots, other kinds allow them") {
  CHECK(isValidId(IdKind::kGroup, "hall.1"));
  CHECK_FALSE(isValidId(IdKind::kApp, "web.v2"));
}

TEST_CASE("the error names the field and the reason") {
  auto st = pharos::validateId(IdKind::kNode, "Bad!", "target.node");
  CHECK(st.code() == pharos::Code::kInvalidArgument);
  CHECK(st.message().find("target.node") == 0);
  CHECK(st.message().find("'Bad!'") != std::string::npos);
}
