#include "cota/prompt.h"

#include <gtest/gtest.h>

#include "test_support.h"
#include "tools/registry.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

TEST(PromptTest, CotaSystemPromptHasTacoStructure) {
  ToolRegistry tools = make_builtin_registry();
  std::string p = PromptTemplate::defaults().cota_system(tools.action_docs());
  for (const char* marker : {"[BEGIN OF GOAL]", "[END OF GOAL]", "[BEGIN OF ACTIONS]", "[END OF ACTIONS]",
                             "[BEGIN OF TASK INSTRUCTIONS]", "[BEGIN OF FORMAT INSTRUCTIONS]", "[BEGIN OF EXAMPLES]",
                             "# USER REQUEST #"})
    EXPECT_NE(p.find(marker), std::string::npos) << marker;
  // Every registered tool is listed with its spec, in registry order.
  size_t last = 0;
  for (const Tool* t : tools.tools()) {
    size_t at = p.find("Name: " + t->spec().name + "\n");
    ASSERT_NE(at, std::string::npos) << t->spec().name;
    EXPECT_GT(at, last);
    last = at;
    EXPECT_NE(p.find("Description: " + t->spec().description), std::string::npos);
  }
  EXPECT_NE(p.find("Arguments: {\"expression\": "), std::string::npos);
  EXPECT_NE(p.find("Returns: {\"result\": "), std::string::npos);
  // The format instruction shows the step JSON with thought before actions.
  size_t format = p.find("[BEGIN OF FORMAT INSTRUCTIONS]");
  ASSERT_NE(format, std::string::npos);
  EXPECT_LT(p.find("{\"thought\": ", format), p.find("\"actions\": [{\"name\"", format));
  // Demos only use registered tools: OCR is not registered here, so its demo is left out.
  EXPECT_EQ(p.find("\"name\": \"OCR\""), std::string::npos);
  EXPECT_NE(p.find("\"name\": \"Terminate\""), std::string::npos);
}

TEST(PromptTest, UserRequestHasImageLinesThenQuestion) {
  auto t = PromptTemplate::defaults();
  std::string u = t.user_request("What is x?", {"image-0", "image-1"}, true);
  EXPECT_EQ(u.find("\n# USER REQUEST #:\nimage-0: <image>\nimage-1: <image>\nWhat is x?\n"), 0u) << u;
  std::string d = t.user_request("What is x?", {"image-0"}, false);
  EXPECT_EQ(d, "\n# USER REQUEST #:\nimage-0: <image>\nWhat is x?\n");
}

TEST(PromptTest, ObservationAndErrors) {
  auto t = PromptTemplate::defaults();
  EXPECT_EQ(t.observation("{'result': 7}").rfind("OBSERVATION:\n{'result': 7}\n", 0), 0u);
  EXPECT_EQ(t.execution_error("Execution failed with <class 'ValueError'>: bad.").rfind("Execution failed with", 0), 0u);
  std::string json_fb = t.parse_error(ParseErrorKind::kJson, "Expecting ',': line 1 column 5 (char 4).");
  EXPECT_EQ(json_fb.rfind("OBSERVATION:\nExpecting ','", 0), 0u);
  EXPECT_NE(json_fb.find("json.loads"), std::string::npos);
  EXPECT_NE(t.parse_error(ParseErrorKind::kSchema, "x"), json_fb);
}

TEST(PromptTest, TemplateFileReproducesAGivenTextExactly) {
  test::TempDir dir;
  const std::string exact_system = "SYSTEM TEXT as a checkpoint saw it.\nNo placeholders {here}.\n";
  Json tmpl{{"cota_system", exact_system},
            {"cota_user", "\n# USER REQUEST #:\n{{images}}{{question}}\nNow please generate your response:\n"},
            {"observation", "OBSERVATION:\n{{observation}}\nThe OBSERVATION can be incomplete."}};
  write_file(dir.file("t.json"), tmpl.dump());
  auto t = PromptTemplate::from_file(dir.file("t.json"));
  ToolRegistry tools = make_builtin_registry();
  EXPECT_EQ(t.cota_system(tools.action_docs()), exact_system);
  EXPECT_EQ(t.user_request("How many gallons?", {"image-0"}, true),
            "\n# USER REQUEST #:\nimage-0: <image>\nHow many gallons?\nNow please generate your response:\n");
  EXPECT_EQ(t.observation("{'result': 13.7}"), "OBSERVATION:\n{'result': 13.7}\nThe OBSERVATION can be incomplete.");
  // Keys not in the file keep taco's defaults.
  EXPECT_EQ(t.direct_system(), PromptTemplate::defaults().direct_system());
}

TEST(PromptTest, TemplateFileErrorsAreClear) {
  test::TempDir dir;
  write_file(dir.file("bad.json"), "{\"cota_sytem\": \"typo\"}");
  try {
    PromptTemplate::from_file(dir.file("bad.json"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown template key 'cota_sytem'"), std::string::npos) << e.what();
  }
  write_file(dir.file("notjson.json"), "{oops");
  EXPECT_THROW(PromptTemplate::from_file(dir.file("notjson.json")), Error);
  EXPECT_THROW(PromptTemplate::from_file(dir.file("missing.json")), Error);
}

TEST(PromptTest, PlaceholdersFillOnlyKnownNames) {
  EXPECT_EQ(fill_placeholders("a {{x}} b {{y}} {c}", {{"x", "1"}}), "a 1 b {{y}} {c}");
  EXPECT_EQ(fill_placeholders("{{x}}", {{"x", "{{x}}"}}), "{{x}}");
}

}  // namespace
}  // namespace taco
