'use strict';
// V8's syntax check of many JavaScript sources in one Node process (rewriter/node_syntax.py).
//
// Each request on stdin: one byte, `c` (CommonJS) or `m` (ES module), a 4-byte big-endian length, the source bytes.
// Each answer on stdout: one byte, `1` when V8 compiles the source, `0` when it refuses it.
//
// This is what `node --check` does with a file: a module is compiled as a module record (the ModuleWrap that
// vm.SourceTextModule makes), anything else as the body of the CommonJS wrapper function (exports, require,
// module, __filename, __dirname), as Node's loader compiles it. Compiling runs nothing: no module is linked or
// evaluated, no function is called, nothing is read from disk.
const vm = require('vm');

const WRAPPER = ['exports', 'require', 'module', '__filename', '__dirname'];

function compiles(kind, source) {
  try {
    if (kind === 0x6d) {
      new vm.SourceTextModule(source, { identifier: 'check.mjs' });
    } else {
      vm.compileFunction(source, WRAPPER, { filename: 'check.cjs' });
    }
    return true;
  } catch (error) {
    return false;
  }
}

let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  const answers = [];
  while (pending.length >= 5) {
    const size = pending.readUInt32BE(1);
    if (pending.length < 5 + size) break;
    // As `node --check` reads a file: UTF-8, any byte that is not UTF-8 read as U+FFFD.
    const source = pending.toString('utf8', 5, 5 + size);
    answers.push(compiles(pending[0], source) ? 0x31 : 0x30);
    pending = pending.subarray(5 + size);
  }
  if (answers.length) process.stdout.write(Buffer.from(answers));
});
process.stdin.on('end', () => process.exit(0));
