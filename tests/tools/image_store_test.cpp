#include "tools/image_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "test_support.h"
#include "util/error.h"

namespace taco {
namespace {

// The episodes of a run share each decoded input file (the oracle then hashes its pixels once):
// the same pixels and data URL while the file's bytes stay the same, a fresh decode once they change,
// and the gray picture for the model kept apart from the real one.
TEST(InputImageCacheTest, EpisodesShareADecodedFileUntilItChanges) {
  test::TempDir dir;
  const std::string path = test::write_test_image(dir.file("scene.png"), 64, 48);
  InputImageCache cache;
  ImageStore a("", kDefaultMaxPixels, &cache), b("", kDefaultMaxPixels, &cache), alone;
  a.add_input(path);
  b.add_input(path);
  alone.add_input(path);
  const ImageStore::Entry &x = a.entries()[0], &y = b.entries()[0], &z = alone.entries()[0];
  EXPECT_EQ(x.image.impl(), y.image.impl());
  EXPECT_EQ(x.data_url, y.data_url);
  EXPECT_NE(x.image.impl(), z.image.impl());
  EXPECT_EQ(*x.data_url, *z.data_url);  // the same bytes as without the cache
  EXPECT_EQ(x.path, path);
  EXPECT_EQ(y.name, "image-0");

  ImageStore gray("", kDefaultMaxPixels, &cache);
  gray.add_input(path, /*blank_for_model=*/true);
  EXPECT_NE(*gray.entries()[0].data_url, *x.data_url);
  EXPECT_EQ(gray.entries()[0].image.width(), 64);

  // Rewritten in place with other pixels of the same size: decoded again, not served stale.
  test::write_test_image(path, 64, 48, "changed");
  ImageStore rewritten("", kDefaultMaxPixels, &cache);
  rewritten.add_input(path);
  EXPECT_NE(rewritten.entries()[0].image.impl(), x.image.impl());
  EXPECT_NE(*rewritten.entries()[0].data_url, *x.data_url);

  // Rewritten with another size: decoded again.
  std::filesystem::remove(path);
  test::write_test_image(path, 80, 60);
  ImageStore later("", kDefaultMaxPixels, &cache);
  later.add_input(path);
  EXPECT_EQ(later.entries()[0].image.width(), 80);
  EXPECT_NE(*later.entries()[0].data_url, *x.data_url);

  // A missing file fails as it does without the cache.
  ImageStore missing("", kDefaultMaxPixels, &cache);
  EXPECT_THROW(missing.add_input(dir.file("nope.png")), Error);
}

// Past its budget the cache lets the least recently used pictures go, and threads that ask for
// the same file at once get one picture each, all alike.
TEST(InputImageCacheTest, KeepsTheMostRecentlyUsedWithinItsBudgetAndServesThreads) {
  test::TempDir dir;
  std::vector<std::string> paths;
  for (int i = 0; i < 6; ++i) paths.push_back(test::write_test_image(dir.file("s" + std::to_string(i) + ".png"), 64, 48));
  ImageStore probe;
  probe.add_input(paths[0]);
  const int64_t each = 64 * 48 * 3 + static_cast<int64_t>(probe.entries()[0].data_url->size()) +
                       static_cast<int64_t>(std::filesystem::file_size(paths[0])) + 64;
  InputImageCache cache(4 * each + each / 2);  // room for four
  auto load = [&](size_t i) {
    ImageStore s("", kDefaultMaxPixels, &cache);
    s.add_input(paths[i]);
    return s.entries()[0].image.impl();
  };
  std::vector<std::shared_ptr<const Image::Impl>> first;
  for (size_t i = 0; i < 4; ++i) first.push_back(load(i));
  EXPECT_EQ(load(0), first[0]);  // kept, and now the most recently used
  load(4);
  load(5);  // two more: s1 and s2 go, s0 stays
  EXPECT_EQ(load(0), first[0]);
  EXPECT_EQ(load(3), first[3]);
  EXPECT_NE(load(1), first[1]);

  std::vector<std::unique_ptr<ImageStore>> stores;
  for (int i = 0; i < 8; ++i) stores.push_back(std::make_unique<ImageStore>("", kDefaultMaxPixels, &cache));
  std::vector<std::thread> threads;
  for (auto& s : stores) threads.emplace_back([&s, &paths] { s->add_input(paths[5]); });
  for (auto& t : threads) t.join();
  for (auto& s : stores) EXPECT_EQ(*s->entries()[0].data_url, *stores[0]->entries()[0].data_url);
}

}  // namespace
}  // namespace taco
