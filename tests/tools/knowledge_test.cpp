#include "tools/knowledge.h"

#include <gtest/gtest.h>

#include "test_support.h"
#include "tools/builtin.h"
#include "tools/image_store.h"
#include "tools/registry.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

TEST(KnowledgeTest, ImportsJsonlAndRanksByBm25) {
  test::TempDir dir;
  size_t n = import_knowledge(std::string(TACO_SOURCE_DIR) + "/data/kb/sample.jsonl", dir.file("kb.sqlite")).added;
  EXPECT_GE(n, 40u);
  KnowledgeBase kb(dir.file("kb.sqlite"));
  EXPECT_EQ(kb.size(), n);
  auto hits = kb.search("who painted the Mona Lisa", 3);
  ASSERT_FALSE(hits.empty());
  EXPECT_TRUE(hits[0].title == "Mona Lisa" || hits[0].title == "Leonardo da Vinci") << hits[0].title;
  EXPECT_EQ(kb.search("Paris", 1)[0].title, "Paris");  // the exact title wins over mentions
  EXPECT_EQ(kb.search("gravitation laws of motion", 1)[0].title, "Isaac Newton");
  EXPECT_TRUE(kb.search("zzzqqq", 1).empty());
  EXPECT_TRUE(kb.search("!!!", 1).empty());
}

TEST(KnowledgeTest, ImportingAgainAddsNothingAndUpdatesChangedTexts) {
  test::TempDir dir;
  write_file(dir.file("a.jsonl"), "{\"title\": \"Zebra\", \"text\": \"Zebras are striped.\"}\n"
                                  "{\"title\": \"Okapi\", \"text\": \"Okapis live in forests.\"}\n");
  ImportCounts first = import_knowledge(dir.file("a.jsonl"), dir.file("kb.sqlite"));
  EXPECT_EQ(first.added, 2u);
  ImportCounts again = import_knowledge(dir.file("a.jsonl"), dir.file("kb.sqlite"));
  EXPECT_EQ(again.added, 0u);
  EXPECT_EQ(again.unchanged, 2u);
  write_file(dir.file("b.jsonl"), "{\"title\": \"Zebra\", \"text\": \"Zebras are black and white.\"}\n"
                                  "{\"title\": \"Giraffe\", \"text\": \"Giraffes are tall.\"}\n");
  ImportCounts newer = import_knowledge(dir.file("b.jsonl"), dir.file("kb.sqlite"));
  EXPECT_EQ(newer.added, 1u);
  EXPECT_EQ(newer.updated, 1u);
  KnowledgeBase kb(dir.file("kb.sqlite"));
  EXPECT_EQ(kb.size(), 3u);
  auto hits = kb.search("zebra", 5);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].text, "Zebras are black and white.");

  write_file(dir.file("not-a-db.sqlite"), "this is not a database, just text long enough to have a header");
  try {
    import_knowledge(dir.file("a.jsonl"), dir.file("not-a-db.sqlite"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(dir.file("not-a-db.sqlite") + ": ", 0), 0u) << e.what();
  }
}

// A text over the limit is kept cut, and the import says how many were; a line over the
// record limit is refused with its file and line, never held whole.
TEST(KnowledgeTest, ATextOverTheLimitIsCutAndCounted) {
  test::TempDir dir;
  write_file(dir.file("big.jsonl"), "{\"title\": \"Long\", \"text\": \"" + std::string(3 << 20, 'w') + "\"}\n"
                                    "{\"title\": \"Short\", \"text\": \"Short.\"}\n");
  ImportCounts n = import_knowledge(dir.file("big.jsonl"), dir.file("kb.sqlite"));
  EXPECT_EQ(n.added, 2u);
  EXPECT_EQ(n.cut, 1u);
  KnowledgeBase kb(dir.file("kb.sqlite"));
  auto hits = kb.search("long", 5);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].text.size(), kMaxKnowledgeTextBytes);
}

TEST(KnowledgeTest, ImportsWikipediaAbstracts) {
  test::TempDir dir;
  write_file(dir.file("enwiki-latest-abstract.xml"),
             "<feed>\n<doc>\n<title>Wikipedia: Anarchism</title>\n<url>https://en.wikipedia.org/wiki/Anarchism</url>\n"
             "<abstract>Anarchism is a political philosophy &amp; movement. It is sceptical of authority.</abstract>\n"
             "<links>\n<sublink linktype=\"nav\"><anchor>History</anchor></sublink>\n</links>\n</doc>\n"
             "<doc>\n<title>Wikipedia: Table thing</title>\n<url>https://en.wikipedia.org/wiki/T</url>\n"
             "<abstract>| col1 | col2</abstract>\n</doc>\n</feed>\n");
  EXPECT_EQ(import_knowledge(dir.file("enwiki-latest-abstract.xml"), dir.file("kb.sqlite")).added, 1u);
  KnowledgeBase kb(dir.file("kb.sqlite"));
  auto hits = kb.search("anarchism", 1);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].title, "Anarchism");
  EXPECT_EQ(hits[0].text, "Anarchism is a political philosophy & movement. It is sceptical of authority.");
}

TEST(KnowledgeTest, ToolReturnsTitleUrlAndFirstSentences) {
  test::TempDir dir;
  import_knowledge(std::string(TACO_SOURCE_DIR) + "/data/kb/sample.jsonl", dir.file("kb.sqlite"));
  ToolRegistry tools;
  tools.add(make_knowledge_tool(Json{{"database", dir.file("kb.sqlite")}}));
  ImageStore store;
  auto ctx = store.context_for("t");
  Json r = tools.execute(Action{"QueryKnowledgeBase", Json{{"query", "Eiffel Tower"}}}, ctx);
  EXPECT_EQ(r["title"], "Eiffel Tower");
  EXPECT_EQ(r["url"], "https://en.wikipedia.org/wiki/Eiffel_Tower");
  EXPECT_EQ(r["summary"],
            "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was designed by "
            "the engineering company of Gustave Eiffel and completed in 1889 for the World's Fair.");
  EXPECT_THROW(tools.execute(Action{"QueryKnowledgeBase", Json{{"query", "qqqzzz"}}}, ctx), ToolError);
}

TEST(KnowledgeTest, MissingDatabaseMakesTheToolUnavailable) {
  auto tool = make_knowledge_tool(Json{{"database", "/nonexistent/kb.sqlite"}});
  EXPECT_NE(tool->unavailable_reason().find("no such knowledge base"), std::string::npos);
}

TEST(KnowledgeTest, FirstSentences) {
  EXPECT_EQ(first_sentences("A b. C d. E f.", 2), "A b. C d.");
  EXPECT_EQ(first_sentences("Dr. Smith lives in St. Louis. He is 3.5 m tall. Yes.", 2),
            "Dr. Smith lives in St. Louis. He is 3.5 m tall.");
  EXPECT_EQ(first_sentences("No end", 2), "No end");
}

TEST(KnowledgeTest, BadInputIsAClearError) {
  test::TempDir dir;
  write_file(dir.file("bad.jsonl"), "{\"title\": \"x\"}\n");
  EXPECT_THROW(import_knowledge(dir.file("bad.jsonl"), dir.file("kb.sqlite")), Error);
  EXPECT_THROW(import_knowledge(dir.file("missing.jsonl"), dir.file("kb2.sqlite")), Error);
  // Once an internal JSON type error instead of a line naming the input.
  write_file(dir.file("numbers.jsonl"), "{\"title\": \"ok\", \"text\": \"fine\"}\n{\"title\": 5, \"text\": \"abc\"}\n");
  try {
    import_knowledge(dir.file("numbers.jsonl"), dir.file("kb3.sqlite"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("numbers.jsonl:2: \"title\", \"text\" and \"url\" must be strings"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace taco
