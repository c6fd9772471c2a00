// Module hooks that let a sandboxed child process import the project's
// TypeScript sources. tsx cannot be used there: it compiles through an
// esbuild service process, and a sandboxed child may not start processes.
// These hooks compile in-thread with TypeScript's transpileModule (types
// are erased, nothing is checked) and map a `.js` import to its `.ts`
// file, as NodeNext imports are written. Compiled (dist/) installs never
// load them.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

let ts;

async function compiler() {
  ts ??= (await import('typescript')).default;
  return ts;
}

const TS_FILE = /\.(?:c|m)?ts$/;

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const fromTs = context.parentURL && TS_FILE.test(context.parentURL);
    const relative = /^\.{1,2}\/|^file:|^\//.test(specifier);
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !fromTs || !relative) {
      throw error;
    }
    const swapped = specifier.replace(/\.(c|m)?js$/, '.$1ts');
    if (swapped === specifier) throw error;
    return nextResolve(swapped, context);
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !TS_FILE.test(url)) {
    return nextLoad(url, context);
  }
  const typescript = await compiler();
  const text = await readFile(fileURLToPath(url), 'utf8');
  const out = typescript.transpileModule(text, {
    fileName: fileURLToPath(url),
    compilerOptions: {
      module: typescript.ModuleKind.ESNext,
      target: typescript.ScriptTarget.ES2022,
      sourceMap: false,
      inlineSourceMap: true,
      verbatimModuleSyntax: false,
    },
  });
  const format = url.endsWith('.cts') ? 'commonjs' : 'module';
  return { format, source: out.outputText, shortCircuit: true };
}
