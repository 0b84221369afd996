// The TypeScript compiler's diagnostics for some files of one project, before and after their rewrite.
//
// Run by rewriter/typecheck.py as `node typecheck.js` with a JSON request on stdin:
//   {"typescript": "<path of the user's typescript.js>", "config": "<tsconfig.json>",
//    "files": {"<absolute path>": "<rewritten text>", ...}}
// and answers on stdout {"before": {path: [diagnostic...]}, "after": {...}}, each diagnostic
// [code, category, message, line]. The rewritten text is served from memory: nothing is written, nothing
// is emitted, and only the given files are checked (with what they import).
'use strict';

const path = require('path');

function main(request) {
  const ts = require(request.typescript);
  const configPath = path.resolve(request.config);
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) {
    return { error: ts.flattenDiagnosticMessageText(read.error.messageText, '\n') };
  }
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(configPath), undefined, configPath);
  const options = { ...parsed.options, noEmit: true, incremental: false, composite: false, tsBuildInfoFile: undefined };
  const rewritten = new Map(Object.entries(request.files).map(([file, text]) => [path.resolve(file), text]));
  const roots = [...new Set([...parsed.fileNames.map((f) => path.resolve(f)), ...rewritten.keys()])];

  let previous;
  function diagnose(overlay) {
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const getSourceFile = host.getSourceFile.bind(host);
    host.readFile = (file) => (overlay.has(path.resolve(file)) ? overlay.get(path.resolve(file)) : readFile(file));
    host.getSourceFile = (file, language, onError, create) => {
      const text = overlay.get(path.resolve(file));
      return text === undefined ? getSourceFile(file, language, onError, create) : ts.createSourceFile(file, text, language);
    };
    const program = ts.createProgram({ rootNames: roots, options, host, oldProgram: previous });
    previous = program;
    const found = {};
    for (const file of rewritten.keys()) {
      const source = program.getSourceFile(file);
      if (source === undefined) {
        found[file] = null;
        continue;
      }
      const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
      found[file] = diagnostics.map((d) => [
        d.code,
        ts.DiagnosticCategory[d.category].toLowerCase(),
        ts.flattenDiagnosticMessageText(d.messageText, ' '),
        d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0,
      ]);
    }
    return found;
  }

  const before = diagnose(new Map());
  const after = diagnose(rewritten);
  return { before, after };
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  let answer;
  try {
    answer = main(JSON.parse(input));
  } catch (error) {
    answer = { error: String(error && error.message ? error.message : error) };
  }
  process.stdout.write(JSON.stringify(answer));
});
