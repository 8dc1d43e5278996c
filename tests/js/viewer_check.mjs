// Debian's chromium, driven by playwright-core, through `taco view` (tests/serve/viewer_browser_test.cpp
// starts it): the table lists the episodes, an episode shows its steps and every image loads,
// the report draws its charts. Screenshots of the three pages go to OUT_DIR. Prints one JSON object of what it saw.
// With POISON_N, episode POISON_N is one that failed and names an image "constructor" outside
// the allowed roots: the page shows the failure and the refusal where the image would be.
// With VIEWER_KEY set (taco serve --api-key), it only checks that the page asks for the key,
// refuses a wrong one, and lists the episodes with the right one.
//   node viewer_check.mjs URL OUT_DIR [POISON_N]
import { chromium } from "playwright-core";

const [url, outDir, poison] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
const seen = { failed_requests: [] };
page.on("requestfailed", (r) => seen.failed_requests.push(r.url()));
page.on("response", (r) => { if (r.status() >= 400) seen.failed_requests.push(r.url()); });

if (process.env.VIEWER_KEY) {
  await page.goto(url);
  await page.waitForSelector("#key");
  seen.asked_for_key = true;
  await page.fill("#key", "not-" + process.env.VIEWER_KEY);
  await page.press("#key", "Enter");
  await page.waitForSelector(".keyform .error");
  seen.wrong_key_refused = (await page.locator(".keyform .error").textContent()).trim();
  await page.fill("#key", process.env.VIEWER_KEY);
  await page.press("#key", "Enter");
  await page.waitForSelector("tr.row");
  seen.rows = await page.locator("tr.row").count();
  await page.locator("tr.row").first().click();
  await page.waitForSelector(".answer");
  await page.waitForFunction(() => [...document.querySelectorAll("figure img")].every((i) => i.src && i.complete), null, { timeout: 20000 }).catch(() => {});
  seen.images_loaded = await page.locator("figure img").evaluateAll((imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length);
  await page.screenshot({ path: `${outDir}/viewer-key.png`, fullPage: true });
  // The wrong key's 401s are the point of the check, not failures of the page.
  seen.failed_requests = seen.failed_requests.filter((u) => !u.includes("/api/"));
  await browser.close();
  console.log(JSON.stringify(seen));
  process.exit(0);
}

await page.goto(url);
await page.waitForSelector("tr.row");
seen.rows = await page.locator("tr.row").count();
seen.header = await page.locator("#file").textContent();
await page.screenshot({ path: `${outDir}/viewer-list.png`, fullPage: true });

await page.locator("tr.row").first().click();
await page.waitForSelector(".step");
// The page changed by its hash: the load state reached "networkidle" long ago, so wait for the
// images themselves (a slow server, a sanitizer build, must not read as images not loading).
await page.waitForFunction(() => [...document.querySelectorAll("figure img")].every((i) => i.src && i.complete), null, { timeout: 20000 }).catch(() => {});
seen.steps = await page.locator(".step").count();
seen.actions = await page.locator(".action").allTextContents();
seen.answer = await page.locator(".answer").textContent();
seen.verdict = (await page.locator(".verdict").textContent()).replace(/\s+/g, " ").trim();
seen.images = await page.locator("figure img").count();
seen.images_loaded = await page.locator("figure img").evaluateAll((imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length);
await page.screenshot({ path: `${outDir}/viewer-episode.png`, fullPage: true });

if (poison !== undefined) {
  await page.goto(`${url}#/episode/${poison}`);
  await page.waitForSelector(".answer");
  await page.waitForFunction(() => document.querySelectorAll("figure .error").length > 0, null, { timeout: 5000 }).catch(() => {});
  seen.poison_errors = await page.locator(".episode .error").allTextContents();
  seen.poison_images = await page.locator("figure img").count();
  await page.screenshot({ path: `${outDir}/viewer-poison.png`, fullPage: true });
  // The refused image's 404 is expected here, not a failure of the page.
  seen.failed_requests = seen.failed_requests.filter((u) => !u.includes(`/api/episodes/${poison}/images/`));
  await page.goto(url);
  await page.waitForSelector("tr.row");
  await page.locator("tr.row").first().click();
  await page.waitForSelector(".step");
}

await page.goBack();
// Typed, not submitted: the table follows the search as one types.
await page.waitForSelector("#q");
await page.locator("#q").pressSequentially("zebra", { delay: 30 });
await page.waitForFunction(() => document.querySelectorAll("tr.row").length === 1, null, { timeout: 10000 }).catch(() => {});
seen.search_rows = await page.locator("tr.row").count();
seen.search_kept_focus = await page.evaluate(() => document.activeElement?.id === "q" && document.activeElement.value === "zebra");

await page.click("#nav-report");
await page.waitForSelector(".report svg");
seen.report_charts = await page.locator(".report svg").count();
seen.report_bars = await page.locator(".report svg rect").count();
seen.report_differences = await page.locator(".report svg circle").count();
seen.report_headline = await page.locator(".report .headline").first().textContent();
await page.screenshot({ path: `${outDir}/viewer-report.png`, fullPage: true });
await browser.close();
console.log(JSON.stringify(seen));
