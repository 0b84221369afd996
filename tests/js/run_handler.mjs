// node -r ./moto_preload.cjs run_handler.mjs MODULE HANDLER EVENTS.json ROUNDS
// Calls the handler on every event, ROUNDS times over, in one warm module; prints what each call
// returned (or raised) and how many SDK clients each call built, as JSON.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [modulePath, handlerName, eventsFile, rounds] = process.argv.slice(2);
const module = await import(pathToFileURL(modulePath).href);
const handler = module[handlerName] ?? module.default?.[handlerName];
if (typeof handler !== 'function') throw new Error(`${modulePath} exports no function ${handlerName}`);
const events = JSON.parse(readFileSync(eventsFile, 'utf8'));

function invoke(event, context) {
  if (handler.length < 3) return handler(event, context);
  return new Promise((resolve, reject) => {
    const returned = handler(event, context, (error, value) => (error ? reject(error) : resolve(value)));
    if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
  });
}

const results = [];
const clientsBuilt = [];
for (let round = 0; round < Number(rounds); round += 1) {
  for (const event of events) {
    const n = results.length;
    const context = {
      functionName: 'behaviour-test',
      awsRequestId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => 30000,
    };
    const before = globalThis.__clientsBuilt;
    try {
      const value = await invoke(structuredClone(event), context);
      results.push(value === undefined ? null : value);
    } catch (error) {
      results.push({ raised: error.name || 'Error', code: error.code ?? null, message: String(error.message) });
    }
    clientsBuilt.push(globalThis.__clientsBuilt - before);
  }
}
process.stdout.write(JSON.stringify({ results, clientsBuilt }));
