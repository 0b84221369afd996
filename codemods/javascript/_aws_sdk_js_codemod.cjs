// Runs aws-sdk-js-codemod's v2-to-v3 transform on the sources read from stdin as a JSON list of
// {"path", "source"} and prints the list of results (JSON strings) on stdout. It reads nothing but stdin
// and the tool's own package: starting Node and jscodeshift costs far more than a file, so files come in batches.
"use strict";
const path = require("node:path");

const [tool] = process.argv.slice(2);
const fromTool = (name) => require(require.resolve(name, { paths: [tool] }));

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const files = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const transformer = require(path.join(tool, "dist", "transforms", "v2-to-v3", "transformer.js"));
  const jscodeshift = fromTool("jscodeshift");
  const j = jscodeshift.withParser(transformer.parser || "babylon");
  const api = { jscodeshift: j, j, stats: () => {}, report: () => {} };
  const results = [];
  for (const file of files) {
    const result = await transformer.default(file, api, {});
    results.push(typeof result === "string" ? result : file.source);
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  process.stderr.write(String((error && error.message) || error).split("\n")[0]);
  process.exit(1);
});
