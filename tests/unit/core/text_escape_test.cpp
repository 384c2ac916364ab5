// Control characters in remote text (SPEC §10): escaped so a value can neither end a line,
// forge another, nor drive a terminal; and cut without splitting a UTF-8 character.

#include "core/text_escape.hpp"

#include <gtest/gtest.h>

#include "core/sync_report.hpp"

namespace erpsync::core {
namespace {

TEST(TextEscape, EscapesEveryControlCharacterAndKeepsTheRest) {
  EXPECT_EQ(escape_controls("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(escape_controls(std::string("\x1b[2J\x07\x7f") + '\0'), std::string("\\x1b[2J\\x07\\x7f\\x00"));
  // C1 controls as UTF-8 (U+009B is a CSI for some terminals); other UTF-8 untouched.
  EXPECT_EQ(escape_controls("x\xc2\x9b" "31m \xc3\xa9\xe2\x82\xac"), "x\\u009b31m \xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(escape_controls("\xc2\xa0"), "\xc2\xa0");  // U+00A0 is not a control
  EXPECT_EQ(escape_controls("plain \"text\" \\"), "plain \"text\" \\");
  EXPECT_TRUE(has_controls("a\rb"));
  EXPECT_TRUE(has_controls("\xc2\x85"));
  EXPECT_FALSE(has_controls("caf\xc3\xa9 \"q\""));
}

TEST(TextEscape, QuotedModeEscapesQuotesAndBackslashesToo) {
  std::string out;
  append_escaped(out, "say \"hi\"\\\r", /*quotes=*/true);
  EXPECT_EQ(out, "say \\\"hi\\\"\\\\\\r");
}

TEST(TextEscape, ShortenCutsAfterCharactersNotInsideOne) {
  EXPECT_EQ(shorten("abcdef", 6), "abcdef");
  EXPECT_EQ(shorten("abcdef", 3), "abc...");
  // Three two-byte characters: cut after two of them, never between their bytes.
  EXPECT_EQ(shorten("\xc3\xa9\xc3\xa9\xc3\xa9", 2), "\xc3\xa9\xc3\xa9...");
  EXPECT_EQ(shorten(std::string(10'000, 'X'), 200), std::string(200, 'X') + "...");
}

TEST(TextEscape, TheReportLineCarriesRemoteControlCharactersEscaped) {
  SyncReport r;
  r.connector = "erp";
  r.stream = "accounts";
  r.status = RunStatus::error;
  r.cursor = "2026-01-01\r2026-12-07 sync connector=erp status=ok\x1b[8m";
  r.message = "bad\rline";
  const std::string line = r.to_line();
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  EXPECT_NE(line.find("cursor=\"2026-01-01\\r2026-12-07 sync connector=erp status=ok\\x1b[8m\""), std::string::npos) << line;
  EXPECT_NE(line.find("error=\"bad\\rline\""), std::string::npos) << line;
  EXPECT_EQ(quote_if_needed("A\x1b" "B"), "\"A\\x1bB\"");
}

TEST(TextEscape, AValueInItsShownFormIsQuotedWithoutEscapingItsEscapesAgain) {
  // A rejection row's code as fit_column() stores it: its backslashes are escapes already.
  EXPECT_EQ(quote_shown_if_needed("E-1\\x1b[31m\\r sync"), "\"E-1\\x1b[31m\\r sync\"");
  EXPECT_EQ(quote_shown_if_needed("E-1\\r"), "E-1\\r");
  EXPECT_EQ(quote_if_needed("E-1\\r"), "\"E-1\\\\r\"") << "a raw value's backslash is escaped";
  EXPECT_EQ(quote_shown_if_needed("C-1"), "C-1");
  EXPECT_EQ(quote_shown_if_needed("say \"hi\"\r"), "\"say \\\"hi\\\"\\r\"") << "quotes and raw controls still escaped";
}

}  // namespace
}  // namespace erpsync::core
