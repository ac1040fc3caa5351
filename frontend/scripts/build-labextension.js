// Builds the prebuilt JupyterLab extension into dist/labextension with
// JupyterLab's own builder (@jupyterlab/builder, the one `jupyter
// labextension build` runs), from the compiled panel in lib/. Then copies
// it beside the Python package (kernelgw/python/labextension), whose
// install puts it where JupyterLab looks: share/jupyter/labextensions.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const core = require('./core.js');

const frontend = path.join(__dirname, '..');
const out = path.join(frontend, 'dist', 'labextension');
const pythonCopy = path.join(frontend, '..', 'kernelgw', 'python', 'labextension');

const undeclared = core.undeclaredSingletons();
if (undeclared.size) {
  for (const [name, file] of undeclared) {
    console.error(`build-labextension: ${file} imports ${name}, which is not in package.json's dependencies: add it there, or the extension bundles a second copy of a package JupyterLab shares`);
  }
  process.exit(1);
}

const coreDir = fs.mkdtempSync(path.join(os.tmpdir(), 'di-core-'));
try {
  fs.writeFileSync(path.join(coreDir, 'package.json'), JSON.stringify(core.coreMetadata(), null, 2));
  const builder = require.resolve('@jupyterlab/builder/lib/build-labextension.js', { paths: [frontend] });
  execFileSync(process.execPath, [builder, '--core-path', coreDir, frontend], {
    cwd: frontend,
    stdio: ['ignore', 'ignore', 'inherit']
  });
} finally {
  fs.rmSync(coreDir, { recursive: true, force: true });
}

const meta = JSON.parse(fs.readFileSync(path.join(out, 'package.json'), 'utf8'));
if (!meta.jupyterlab || !meta.jupyterlab._build || !fs.existsSync(path.join(out, meta.jupyterlab._build.load))) {
  console.error(`build-labextension: ${out}/package.json names no remote entry that exists`);
  process.exit(1);
}
fs.rmSync(pythonCopy, { recursive: true, force: true });
fs.cpSync(out, pythonCopy, { recursive: true });
console.log(`build-labextension: ${path.relative(frontend, out)} (entry ${meta.jupyterlab._build.load}), copied to ${path.relative(path.join(frontend, '..'), pythonCopy)}`);
