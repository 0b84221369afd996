// Runs aws-sdk-js-codemod's v2-to-v3 transform on one source text read from stdin and prints
// {"source": ...} (the result) on stdout. It reads nothing but stdin and the tool's own package.
"use strict";
const path = require("node:path");

const [tool, filename] = process.argv.slice(2);
const fromTool = (name) => require(require.resolve(name, { paths: [tool] }));

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const source = Buffer.concat(chunks).toString("utf8");
  const transformer = require(path.join(tool, "dist", "transforms", "v2-to-v3", "transformer.js"));
  const jscodeshift = fromTool("jscodeshift");
  const j = jscodeshift.withParser(transformer.parser || "babylon");
  const api = { jscodeshift: j, j, stats: () => {}, report: () => {} };
  const result = await transformer.default({ path: filename, source }, api, {});
  process.stdout.write(JSON.stringify({ source: typeof result === "string" ? result : source }));
}

main().catch((error) => {
  process.stderr.write(String((error && error.message) || error).split("\n")[0]);
  process.exit(1);
});
