// The packages the prebuilt extension takes from its JupyterLab host
// (scripts/core.js): the build refuses a singleton the panel imports
// without declaring it, which would be bundled as a second copy.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const core = require('../scripts/core.js');

describe('bareImports', () => {
  it('finds the packages of import, export-from, dynamic import and require, not relative paths', () => {
    const code = [
      "import { Widget } from '@lumino/widgets';",
      "import * as React from 'react';",
      "export { x } from '@jupyterlab/coreutils/lib/url';",
      "const m = await import('@jupyterlab/notebook');",
      "const d = require('@dagrejs/dagre');",
      "import { y } from './local';",
      "import '../style/index.js';"
    ].join('\n');
    expect([...core.bareImports(code)].sort()).toEqual(
      ['@dagrejs/dagre', '@jupyterlab/coreutils', '@jupyterlab/notebook', '@lumino/widgets', 'react'].sort()
    );
  });
});

describe('shared singletons', () => {
  it('are the declared dependencies JupyterLab provides, at their installed versions', () => {
    const shared = core.sharedSingletons();
    const deps = Object.keys(JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).dependencies);
    expect(Object.keys(shared).sort()).toEqual(deps.filter((d: string) => d !== '@dagrejs/dagre').sort());
    expect(shared['@jupyterlab/application']).toMatch(/^4\.\d+\.\d+/);
    const meta = core.coreMetadata();
    expect(meta.jupyterlab.singletonPackages).toEqual(Object.keys(shared));
    expect(meta.dependencies['@lumino/widgets']).toBe(`^${shared['@lumino/widgets']}`);
  });

  it('an undeclared singleton import is reported with its file; a declared one and a bundled one are not', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'di-core-'));
    try {
      fs.mkdirSync(path.join(dir, 'dag'));
      fs.writeFileSync(path.join(dir, 'a.js'), "import { Widget } from '@lumino/widgets';\nimport x from 'left-pad';\n");
      fs.writeFileSync(path.join(dir, 'dag', 'b.js'), "import { ArrayExt } from '@lumino/algorithm';\n");
      const missing = core.undeclaredSingletons(dir);
      expect([...missing.keys()]).toEqual(['@lumino/algorithm']);
      expect(missing.get('@lumino/algorithm')).toMatch(/dag[\\/]b\.js$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the compiled panel imports none', () => {
    expect([...core.undeclaredSingletons().keys()]).toEqual([]);
  });
});
