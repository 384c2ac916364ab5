// SPEC §10/§11: a file feed's document, parsed and mapped, takes at most 32 MB + 3x its size,
// however it is built. Each case runs in a child process (fork), which generates its document,
// loads it into the mapper and maps every record in slices, as FeedSource does, and reports
// through a pipe how far its peak resident set (getrusage) grew beyond what it had at the fork
// (the test binary's own pages). Deterministic: the bound is on memory, not time. A hostile
// document may be refused (a permanent error) instead of mapped; it may not take more memory
// either way. Real-looking documents must be mapped.

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <string>

#include "connectors/feed/mapper.hpp"
#include "core/errors.hpp"

namespace erpsync::connectors::feed {
namespace {

using core::Field;

constexpr std::size_t kDocument = std::size_t{16} << 20;  // 16 MiB: bound 80 MiB
constexpr std::size_t kBound = (std::size_t{32} << 20) + 3 * kDocument;

enum Outcome { mapped = 10, refused = 11, failed = 12 };

struct Peak {
  int outcome = failed;
  std::size_t growth = 0;  // bytes of peak resident set beyond the one at the fork
};

std::size_t max_rss_bytes() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::size_t>(usage.ru_maxrss) * 1024;
}

connectors::feed::FeedConfig feed(connectors::feed::FeedFormat format, const std::string& records, const std::string& id,
                        const std::string& code, const std::string& name) {
  connectors::feed::FeedConfig f;
  f.format = format;
  f.records = records;
  f.fields[static_cast<std::size_t>(Field::remote_id)] = connectors::feed::FieldPath{id, {}};
  f.fields[static_cast<std::size_t>(Field::external_code)] = connectors::feed::FieldPath{code, {}};
  f.fields[static_cast<std::size_t>(Field::name)] = connectors::feed::FieldPath{name, {}};
  return f;
}

// Runs load + map of the document `make` builds, in a child process: load_in_place (a file), or
// with `by_copy` load (an HTTP page, whose body the caller keeps).
Peak run_in_child(const connectors::feed::FeedConfig& cfg, const std::function<std::string()>& make, bool by_copy = false) {
  std::fflush(nullptr);
  int fds[2];
  if (::pipe(fds) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const std::size_t at_fork = max_rss_bytes();
    int outcome = failed;
    try {
      std::string doc = make();
      auto mapper = make_mapper(cfg, ParseLimits{});
      const std::size_t n = by_copy ? mapper->load(doc, "feed test") : mapper->load_in_place(std::move(doc), "feed test");
      for (std::size_t at = 0; at < n; at += 2000) mapper->map(at, at + 2000);
      outcome = n > 0 ? mapped : failed;
    } catch (const core::SyncError& e) {
      outcome = e.kind() == core::SyncError::Kind::permanent ? refused : failed;
    } catch (...) {
    }
    const std::size_t growth = max_rss_bytes() - at_fork;
    const bool written = ::write(fds[1], &growth, sizeof growth) == static_cast<ssize_t>(sizeof growth);
    ::_exit(written ? outcome : failed);
  }
  ::close(fds[1]);
  Peak peak;
  std::size_t growth = 0;
  const bool got = pid > 0 && ::read(fds[0], &growth, sizeof growth) == static_cast<ssize_t>(sizeof growth);
  ::close(fds[0]);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || !got) return peak;
  peak.outcome = WEXITSTATUS(status);
  peak.growth = growth;
  return peak;
}

std::string repeat_until(std::string head, const std::string& item, const std::string& separator,
                         const std::string& tail) {
  std::string doc = std::move(head);
  doc.reserve(kDocument + item.size() + tail.size());
  for (bool first = true; doc.size() + item.size() + tail.size() < kDocument; first = false) {
    if (!first) doc += separator;
    doc += item;
  }
  doc += tail;
  return doc;
}

std::string numbered_records(const std::string& head, const std::string& tail, const std::string& separator,
                             const std::function<std::string(std::size_t)>& record) {
  std::string doc = head;
  doc.reserve(kDocument + 256);
  for (std::size_t i = 0; doc.size() + 256 < kDocument; ++i) {
    if (i > 0) doc += separator;
    doc += record(i);
  }
  doc += tail;
  return doc;
}

void expect_bounded(const Peak& p, bool must_map) {
  EXPECT_LE(p.growth, kBound) << "peak growth " << (p.growth >> 20) << " MiB, bound " << (kBound >> 20)
                              << " MiB, outcome " << p.outcome;
  if (must_map) EXPECT_EQ(p.outcome, mapped);
  else EXPECT_TRUE(p.outcome == mapped || p.outcome == refused) << p.outcome;
}

const auto kXml = connectors::feed::FeedFormat::xml;
const auto kJson = connectors::feed::FeedFormat::json;

// Peak RSS is what these tests measure: under AddressSanitizer it counts the shadow memory and
// the quarantine, not the parse, so the sanitizer tree skips them (the release tree runs them).
class FeedMemory : public ::testing::Test {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "peak RSS under AddressSanitizer measures the sanitizer's own memory";
#endif
  }
};

TEST_F(FeedMemory, AnOrdinaryXmlExportIsMappedWithinTheBound) {
  expect_bounded(run_in_child(feed(kXml, "/E/C", "@id", "@code", "N"), [] {
                   return numbered_records("<E>\n", "</E>\n", "\n", [](std::size_t i) {
                     const std::string n = std::to_string(i);
                     return "<C id=\"" + n + "\" code=\"A-" + n + "\"><N>Company " + n + "</N><R>alice</R></C>";
                   });
                 }),
                 true);
}

TEST_F(FeedMemory, AnOrdinaryXmlPageLoadedByCopyIsMappedWithinTheBound) {
  expect_bounded(run_in_child(
                     feed(kXml, "/E/C", "@id", "@code", "N"),
                     [] {
                       return numbered_records("<E>\n", "</E>\n", "\n", [](std::size_t i) {
                         const std::string n = std::to_string(i);
                         return "<C id=\"" + n + "\" code=\"A-" + n + "\"><N>Company " + n + "</N><R>alice</R></C>";
                       });
                     },
                     /*by_copy=*/true),
                 true);
}

TEST_F(FeedMemory, AnOrdinaryJsonExportIsMappedWithinTheBound) {
  expect_bounded(run_in_child(feed(kJson, "/items", "/id", "/code", "/name"), [] {
                   return numbered_records("{\"items\":[\n", "]}\n", ",\n", [](std::size_t i) {
                     const std::string n = std::to_string(i);
                     return "{\"id\":\"" + n + "\",\"code\":\"A-" + n + "\",\"name\":\"Company " + n +
                            "\",\"owner\":\"alice\",\"active\":true}";
                   });
                 }),
                 true);
}

TEST_F(FeedMemory, XmlOfManyTinyElementsInOneRecordStaysWithinTheBound) {
  expect_bounded(run_in_child(feed(kXml, "/E/C", "@id", "@code", "N"),
                              [] { return repeat_until("<E><C id=\"1\" code=\"A-1\"><N>x</N>", "<a/>", "", "</C></E>"); }),
                 false);
}

TEST_F(FeedMemory, XmlOfManyTinyElementsOutsideTheRecordsStaysWithinTheBound) {
  expect_bounded(run_in_child(feed(kXml, "/E/C", "@id", "@code", "N"),
                              [] { return repeat_until("<E><C id=\"1\" code=\"A-1\"><N>x</N></C>", "<j/>", "", "</E>"); }),
                 false);
}

TEST_F(FeedMemory, XmlOfManyAttributesParsedWholeStaysWithinTheBound) {
  // A records path with a predicate: parsed whole.
  expect_bounded(run_in_child(feed(kXml, "/E/C[@id]", "@id", "@code", "N"), [] {
                   std::size_t i = 0;
                   std::string doc = "<E><C id=\"1\" code=\"A-1\"><N>x</N></C><Z";
                   doc.reserve(kDocument);
                   while (doc.size() < kDocument - 32) doc += " a" + std::to_string(i++) + "=''";
                   doc += "/></E>";
                   return doc;
                 }),
                 false);
}

TEST_F(FeedMemory, JsonOfManyTinyValuesInOneRecordStaysWithinTheBound) {
  expect_bounded(run_in_child(feed(kJson, "/items", "/id", "/code", "/name"),
                              [] { return repeat_until(R"({"items":[{"id":"1","code":"A-1","x":[)", "1", ",", "]}]}"); }),
                 false);
}

TEST_F(FeedMemory, JsonOfManyTinyRecordsStaysWithinTheBound) {
  expect_bounded(run_in_child(feed(kJson, "/items", "/id", "/code", "/name"),
                              [] { return repeat_until(R"({"items":[)", "{}", ",", "]}"); }),
                 false);
}

TEST_F(FeedMemory, JsonOfManyEmptyContainersOutsideTheRecordsStaysWithinTheBound) {
  expect_bounded(run_in_child(feed(kJson, "/items", "/id", "/code", "/name"), [] {
                   return repeat_until(R"({"items":[{"id":"1","code":"A-1"}],"junk":[)", "[]", ",", "]}");
                 }),
                 false);
}

}  // namespace
}  // namespace erpsync::connectors::feed
