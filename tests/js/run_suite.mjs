// node -r ./moto_preload.cjs run_suite.mjs SUITE.json
// A tiny jest-like suite around one handler, the way real suites are written: the module is imported
// first, with no AWS variables and none of the function's settings; then each test's beforeEach sets
// process.env (and, with `mock`, replaces a v2 service class on the SDK as aws-sdk-mock does), the test
// invokes the handler on its events, and afterEach takes it all back. Prints, as JSON, whether the import
// raised, what each invocation returned (or raised) and how many SDK clients each built.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const suite = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const requireHere = createRequire(suite.module);

function outcome(error) {
  return { raised: error.name || 'Error', code: error.code ?? null, message: String(error.message) };
}

let handler = null;
let imported = null;
try {
  const module = await import(pathToFileURL(suite.module).href);
  handler = module[suite.handler] ?? module.default?.[suite.handler];
} catch (error) {
  imported = outcome(error);
}

const results = [];
const clientsBuilt = [];
for (const test of suite.tests) {
  // beforeEach
  Object.assign(process.env, test.env);
  let restore = () => {};
  if (test.mock) {
    const AWS = requireHere('aws-sdk');
    const real = AWS[test.mock.service];
    AWS[test.mock.service] = function Mocked() {
      return { [test.mock.method]: () => ({ promise: async () => test.mock.returns }) };
    };
    restore = () => { AWS[test.mock.service] = real; };
  }
  for (const event of test.events) {
    const before = globalThis.__clientsBuilt;
    try {
      if (handler === null) throw new Error('the module did not import');
      const value = await handler(structuredClone(event), { functionName: 'suite' });
      results.push(value === undefined ? null : value);
    } catch (error) {
      results.push(outcome(error));
    }
    clientsBuilt.push(globalThis.__clientsBuilt - before);
  }
  // afterEach
  restore();
  for (const name of Object.keys(test.env)) delete process.env[name];
}
process.stdout.write(JSON.stringify({ imported, results, clientsBuilt }));
